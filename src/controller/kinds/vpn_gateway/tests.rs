//! The gateway's pure decisions, as tables.
use super::plan::{changes, desired_create, drift, fields, policy_template, Plan};
use super::status::observed_status;
use super::*;
use crate::cloud::model::gateway::{
    GatewayFlavor, GatewayStatus, NetworkType as WireNetworkType, ResponseEip,
};
use crate::controller::runtime::lookup::{Found, How};
use crate::controller::runtime::ownership::TAG_UID;
use crate::controller::runtime::status::synced;
use crate::crd::common::{find_condition, types, ConditionStatus};
use crate::crd::vpn_gateway::{Flavor, NetworkType};

fn at() -> Time {
    Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

fn object(spec: VpnGatewaySpec) -> VpnGateway {
    let mut g = VpnGateway::new("gw", spec);
    g.metadata.namespace = Some("ns".into());
    g.metadata.uid = Some("u1".into());
    g
}

fn inputs() -> Inputs {
    Inputs {
        name: "gw".into(),
        tags: tags(),
        dependants: Vec::new(),
        certificate: None,
    }
}

/// What the cloud holds: `found`, and nothing else read.
fn obs(found: Found<ResponseVpnGateway>) -> Observed {
    Observed {
        found,
        ..Observed::default()
    }
}

/// The plan for `obj` given `found` (panics on a refused plan).
fn plan(obj: &VpnGateway, inputs: &Inputs, found: &Found<ResponseVpnGateway>) -> Plan {
    super::plan::plan(obj, inputs, &obs(found.clone()), &at()).expect("a plan")
}

fn spec() -> VpnGatewaySpec {
    serde_json::from_value(serde_json::json!({
        "vpcId": "vpc-1", "connectSubnet": "sub-1", "localSubnets": ["192.168.0.0/24"],
        "eip1": {"type": "5_bgp", "bandwidthSize": 10}, "eip2": {"type": "5_bgp", "bandwidthSize": 10}
    }))
    .unwrap()
}

fn tags() -> Vec<VpnResourceTag> {
    vec![VpnResourceTag::new(TAG_UID, "u1")]
}

fn active(spec: &VpnGatewaySpec) -> ResponseVpnGateway {
    let body = desired_create(spec, "gw", &tags());
    ResponseVpnGateway {
        id: "g1".into(),
        name: body.name,
        status: Some(GatewayStatus::Active),
        network_type: body.network_type,
        attachment_type: body.attachment_type,
        vpc_id: body.vpc_id,
        connect_subnet: body.connect_subnet,
        local_subnets: body.local_subnets,
        flavor: body.flavor,
        bgp_asn: body.bgp_asn,
        ha_mode: body.ha_mode,
        tags: body.tags,
        eip1: Some(ResponseEip {
            id: Some("e1".into()),
            ip_address: Some("1.2.3.4".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn no_gateway_means_create_with_documented_defaults() {
    let Plan::Create { body, replaces } = plan(&object(spec()), &inputs(), &Found::default())
    else {
        panic!("expected create")
    };
    assert_eq!(replaces, None);
    assert_eq!(body.flavor, Some(GatewayFlavor::Professional1));
    assert_eq!(body.bgp_asn, Some(64512));
    assert_eq!(
        body.attachment_type.as_ref().map(|a| a.as_str()),
        Some("vpc")
    );
    assert_eq!(body.eip1.unwrap().bandwidth_size, Some(10));
    assert_eq!(body.tags.unwrap(), tags());
}

#[test]
fn a_recorded_gateway_that_is_gone_is_recreated_once_no_copy_was_found() {
    let gone = Found {
        gone: Some("g-old".into()),
        ..Found::default()
    };
    let Plan::Create { replaces, .. } = plan(&object(spec()), &inputs(), &gone) else {
        panic!("expected create")
    };
    assert_eq!(replaces.as_deref(), Some("g-old"));
}

#[test]
fn adoption_or_observe_of_a_missing_gateway_never_creates() {
    let mut s = spec();
    s.cloud_id = Some("gone".into());
    let gone = Found {
        gone: Some("gone".into()),
        ..Found::default()
    };
    assert_eq!(
        plan(&object(s), &inputs(), &gone),
        Plan::Missing {
            id: Some("gone".into())
        }
    );
    let mut s = spec();
    s.management_policy = ManagementPolicy::Observe;
    assert_eq!(
        plan(&object(s.clone()), &inputs(), &Found::default()),
        Plan::Missing { id: None }
    );
    let found = Found::exists(active(&s), How::Recorded);
    assert_eq!(plan(&object(s), &inputs(), &found), Plan::Report);
}

#[test]
fn pending_and_broken_gateways_are_left_alone() {
    let s = spec();
    for (state, want) in [
        (GatewayStatus::PendingCreate, Plan::Wait),
        (GatewayStatus::PendingUpdate, Plan::Wait),
        (GatewayStatus::Upgrading, Plan::Wait),
        (GatewayStatus::Fault, Plan::Broken),
        (GatewayStatus::Freezed, Plan::Broken),
    ] {
        let mut gw = active(&s);
        gw.status = Some(state.clone());
        let got = changes(
            &object(s.clone()),
            &inputs(),
            &Observed::default(),
            &gw,
            &at(),
        );
        assert_eq!(got.unwrap(), want, "{state}");
    }
}

#[test]
fn in_sync_gateway_needs_nothing() {
    let s = spec();
    assert_eq!(fields(&s, "gw", &tags(), &active(&s)), Plan::InSync);
}

#[test]
fn changed_updatable_fields_become_one_put() {
    let s = spec();
    let gw = active(&s);
    let mut s2 = s.clone();
    s2.local_subnets = vec!["192.168.0.0/24".into(), "192.168.1.0/24".into()];
    let Plan::Update { id, body, fields } = fields(&s2, "gw2", &tags(), &gw) else {
        panic!()
    };
    assert_eq!(id, "g1");
    assert_eq!(fields, ["name", "localSubnets"]);
    assert_eq!(body.name.as_deref(), Some("gw2"));
    assert_eq!(body.local_subnets.unwrap().len(), 2);
    assert!(body.eip_id_1.is_none(), "unchanged fields are not sent");
}

#[test]
fn subnet_order_is_not_a_change() {
    let mut s = spec();
    s.local_subnets = vec!["10.0.0.0/24".into(), "10.0.1.0/24".into()];
    let mut gw = active(&s);
    gw.local_subnets = Some(vec!["10.0.1.0/24".into(), "10.0.0.0/24".into()]);
    assert_eq!(fields(&s, "gw", &tags(), &gw), Plan::InSync);
}

#[test]
fn flavor_change_uses_update_specification_after_put_fields() {
    let s = spec();
    let gw = active(&s);
    let mut s2 = s.clone();
    s2.flavor = Flavor::Professional2;
    assert_eq!(
        fields(&s2, "gw", &tags(), &gw),
        Plan::Resize {
            id: "g1".into(),
            flavor: GatewayFlavor::Professional2
        }
    );
}

#[test]
fn tags_are_aligned_but_only_when_different() {
    let s = spec();
    let mut gw = active(&s);
    gw.tags = Some(vec![VpnResourceTag::new("stale", "x")]);
    let Plan::Retag { diff, .. } = fields(&s, "gw", &tags(), &gw) else {
        panic!()
    };
    assert_eq!(diff.add, tags());
    assert_eq!(diff.remove, vec![VpnResourceTag::new("stale", "x")]);
}

#[test]
fn deletion_waits_for_dependants_then_for_the_cloud_then_deletes() {
    let mut obj = object(spec());
    obj.metadata.deletion_timestamp = Some(at());
    let gw = active(&obj.spec);
    let found = Found::exists(gw.clone(), How::Recorded);
    let waiting = Inputs {
        dependants: vec!["link".into()],
        ..inputs()
    };
    assert_eq!(
        plan(&obj, &waiting, &found),
        Plan::WaitForDependents(vec!["link".into()])
    );
    assert_eq!(
        plan(&obj, &inputs(), &found),
        Plan::Delete { id: "g1".into() }
    );
    let mut busy = gw.clone();
    busy.status = Some(GatewayStatus::PendingUpdate);
    assert_eq!(
        plan(&obj, &inputs(), &Found::exists(busy, How::Recorded)),
        Plan::AwaitDeletion {
            id: "g1".into(),
            state: GatewayStatus::PendingUpdate
        }
    );
    assert_eq!(plan(&obj, &inputs(), &Found::default()), Plan::Gone);
    let foreign = Found {
        foreign: Some("c:ns:other".into()),
        ..found
    };
    assert_eq!(
        plan(&obj, &inputs(), &foreign),
        Plan::LeaveForeign {
            id: "g1".into(),
            owner: "c:ns:other".into()
        }
    );
}

#[test]
fn status_reports_eips_and_ready_per_cloud_state() {
    let s = spec();
    let gw = active(&s);
    let st = observed_status(&VpnGatewayStatus::default(), &gw, vec![], Some(3), &at());
    assert_eq!(st.cloud_id.as_deref(), Some("g1"));
    assert_eq!(
        st.eip1.as_ref().unwrap().ip_address.as_deref(),
        Some("1.2.3.4")
    );
    let ready = find_condition(&st.conditions, types::READY).unwrap();
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::True, "Available")
    );
    for (state, reason) in [
        (GatewayStatus::PendingCreate, "Creating"),
        (GatewayStatus::PendingUpdate, "Updating"),
        (GatewayStatus::PendingDelete, "Deleting"),
        (GatewayStatus::Fault, "CloudFault"),
        (GatewayStatus::Freezed, "Frozen"),
    ] {
        let mut g = gw.clone();
        g.status = Some(state);
        let st = observed_status(&VpnGatewayStatus::default(), &g, vec![], Some(3), &at());
        let ready = find_condition(&st.conditions, types::READY).unwrap();
        assert_eq!(
            (ready.status, ready.reason.as_str()),
            (ConditionStatus::False, reason)
        );
    }
}

#[test]
fn immutable_drift_is_reported_not_fixed() {
    let s = spec();
    let mut gw = active(&s);
    gw.network_type = Some(WireNetworkType::parse("private"));
    let d = drift(&s, "gw", &tags(), &gw);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (
            d[0].field.as_str(),
            d[0].desired.as_str(),
            d[0].observed.as_str()
        ),
        ("networkType", "public", "private")
    );
    assert_eq!(
        fields(&s, "gw", &tags(), &gw),
        Plan::InSync,
        "networkType cannot be changed in the cloud"
    );
    assert!(!d[0].updatable);
    let c = synced("VPN gateway", false, &d, "");
    assert_eq!(
        (c.status, c.reason),
        (ConditionStatus::False, "ImmutableFieldDrift")
    );
    assert_eq!(NetworkType::Public, s.network_type);
}

#[test]
fn policy_template_maps_to_wire_names() {
    let mut s = spec();
    s.flavor = Flavor::Professional1NonFixedIp;
    s.policy_template = Some(
        serde_json::from_value(serde_json::json!({
            "ikePolicy": {"encryptionAlgorithm": "aes-256", "lifetimeSeconds": 3600}
        }))
        .unwrap(),
    );
    let t = policy_template(&s).unwrap();
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(v["ike_policy"]["encryption_algorithm"], "aes-256");
    assert_eq!(v["ike_policy"]["lifetime_seconds"], 3600);
}

// ----- upgrades ------------------------------------------------------------------------------

mod upgrades {
    use std::time::Duration;

    use super::*;
    use crate::cloud::model::connection::ConnectionStatus;
    use crate::cloud::model::gateway::{Job, JobStatus, UpgradeAction};
    use crate::controller::kinds::vpn_gateway::upgrade::{
        decide, next_status, Called, ConnectionSeen, Facts, Step, Why,
    };
    use crate::crd::vpn_gateway::{UpgradePhase, UpgradePolicy, UpgradeStatus};

    fn conn(id: &str, status: ConnectionStatus) -> ConnectionSeen {
        ConnectionSeen {
            id: id.into(),
            status: Some(status),
            bgp: false,
        }
    }

    fn job(id: &str, status: JobStatus) -> Job {
        Job {
            id: id.into(),
            status: Some(status),
            ..Default::default()
        }
    }

    fn facts<'a>(
        policy: UpgradePolicy,
        annotation: Option<&'a str>,
        prev: Option<&'a UpgradeStatus>,
        state: &'a GatewayStatus,
        connections: &'a [ConnectionSeen],
        now: &'a Time,
    ) -> Facts<'a> {
        Facts {
            policy,
            window: Duration::from_secs(600),
            annotation,
            prev,
            state,
            job: None,
            connections: Some(connections),
            now,
        }
    }

    fn call(action: UpgradeAction, why: Why) -> Step {
        Step::Call { action, why }
    }

    fn refused(s: &Step) -> bool {
        matches!(s, Step::Refuse { .. })
    }

    #[test]
    fn the_annotation_asks_for_one_step_per_value_in_the_states_that_allow_it() {
        use GatewayStatus as S;
        let now = at();
        let handled = UpgradeStatus {
            requested: Some("start".into()),
            ..Default::default()
        };
        let ann = |v: &str| Why::Annotation(v.into());
        // (annotation, handled before, state) -> step; None = refused.
        let table: Vec<(&str, Option<&UpgradeStatus>, S, Option<Step>)> = vec![
            (
                "start",
                None,
                S::Active,
                Some(call(UpgradeAction::Start, ann("start"))),
            ),
            ("start", Some(&handled), S::Active, Some(Step::None)),
            ("start", None, S::PendingUpdate, Some(Step::None)),
            ("start", None, S::PendingCreate, Some(Step::None)),
            ("start", None, S::Upgrading, None),
            ("start", None, S::PendingUpgradeConfirm, None),
            ("start", None, S::Fault, None),
            (
                "finish",
                Some(&handled),
                S::PendingUpgradeConfirm,
                Some(call(UpgradeAction::Finish, ann("finish"))),
            ),
            (
                "rollback",
                Some(&handled),
                S::PendingUpgradeConfirm,
                Some(call(UpgradeAction::Rollback, ann("rollback"))),
            ),
            ("finish", None, S::Upgrading, Some(Step::None)),
            ("finish", None, S::Active, None),
            ("rollback", None, S::RollingBack, None),
            ("sideways", None, S::Active, None),
        ];
        for (value, prev, state, want) in table {
            for policy in [UpgradePolicy::Manual, UpgradePolicy::Auto] {
                let got = decide(&facts(policy, Some(value), prev, &state, &[], &now));
                match &want {
                    Some(w) => assert_eq!(&got, w, "{value} {state} {policy:?}"),
                    None => assert!(refused(&got), "{value} {state}: {got:?}"),
                }
            }
        }
        // Manual without an annotation: the upgrade waits for a person.
        let s = S::PendingUpgradeConfirm;
        assert_eq!(
            decide(&facts(UpgradePolicy::Manual, None, None, &s, &[], &now)),
            Step::None
        );
    }

    #[test]
    fn auto_finishes_when_the_connections_are_back_and_rolls_back_after_the_window() {
        use ConnectionStatus as C;
        let s = GatewayStatus::PendingUpgradeConfirm;
        let t0 = at();
        let later = |secs: i64| Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap());
        let waiting = UpgradeStatus {
            pending_confirm_since: Some(t0.0.to_string()),
            required_connections: vec!["c1".into(), "c2".into()],
            ..Default::default()
        };
        let up = [
            conn("c1", C::Active),
            conn("c2", C::Active),
            conn("c3", C::Down),
        ];
        let half = [conn("c1", C::Active), conn("c2", C::Down)];
        let auto = UpgradePolicy::Auto;
        // c3 was not ACTIVE before the upgrade: it is not waited for.
        let now = later(10);
        let f = facts(auto, None, Some(&waiting), &s, &up, &now);
        assert_eq!(decide(&f), call(UpgradeAction::Finish, Why::Healthy));
        let f = facts(auto, None, Some(&waiting), &s, &half, &now);
        assert_eq!(decide(&f), Step::None, "inside the window: wait");
        let now = later(600);
        let f = facts(auto, None, Some(&waiting), &s, &half, &now);
        assert_eq!(
            decide(&f),
            call(
                UpgradeAction::Rollback,
                Why::WindowExpired(vec!["c2".into()])
            )
        );
        // Started elsewhere (nothing recorded): every connection counts; no connection at all
        // means nothing to wait for.
        let f = facts(auto, None, None, &s, &half, &now);
        assert_eq!(decide(&f), Step::None, "the window starts when first seen");
        assert_eq!(
            decide(&facts(auto, None, None, &s, &[], &now)),
            call(UpgradeAction::Finish, Why::Healthy)
        );
        // Once the operator decided for this job, it does not decide again.
        let decided = UpgradeStatus {
            job_id: Some("j1".into()),
            last_action: Some("finish".into()),
            ..waiting.clone()
        };
        let j = job("j1", JobStatus::PendingUpgradeConfirm);
        let mut f = facts(auto, None, Some(&decided), &s, &up, &now);
        f.job = Some(&j);
        assert_eq!(decide(&f), Step::None);
        // A manual annotation still wins.
        let f = facts(auto, Some("rollback"), Some(&waiting), &s, &up, &now);
        assert_eq!(
            decide(&f),
            call(UpgradeAction::Rollback, Why::Annotation("rollback".into()))
        );
    }

    #[test]
    fn status_follows_the_job_and_records_every_step() {
        use ConnectionStatus as C;
        let now = at();
        let active = GatewayStatus::Active;
        let conns = [conn("c1", C::Active), conn("c2", C::Down)];
        let f = facts(
            UpgradePolicy::Manual,
            Some("start"),
            None,
            &active,
            &conns,
            &now,
        );
        let step = decide(&f);
        let why = Why::Annotation("start".into());
        let called = Called {
            action: &UpgradeAction::Start,
            why: &why,
            job_id: Some("j1"),
        };
        let (s, notes) = next_status(&f, &step, Some(called), "g1");
        let s = s.unwrap();
        assert_eq!(s.phase, Some(UpgradePhase::Upgrading));
        assert_eq!(s.job_id.as_deref(), Some("j1"));
        assert_eq!(s.requested.as_deref(), Some("start"));
        assert_eq!(s.required_connections, ["c1"], "only the ACTIVE ones");
        assert_eq!(notes[0].reason, "UpgradeStarted");
        // The job reaches pending_upgrade_confirm: phase, since, and an Event once.
        let pending = GatewayStatus::PendingUpgradeConfirm;
        let j = job("j1", JobStatus::PendingUpgradeConfirm);
        let mut f2 = facts(
            UpgradePolicy::Manual,
            Some("start"),
            Some(&s),
            &pending,
            &conns,
            &now,
        );
        f2.job = Some(&j);
        let (s2, notes) = next_status(&f2, &Step::None, None, "g1");
        let s2 = s2.unwrap();
        assert_eq!(s2.phase, Some(UpgradePhase::PendingConfirm));
        assert!(s2.pending_confirm_since.is_some());
        assert_eq!(notes[0].reason, "UpgradeAwaitsConfirmation");
        assert!(notes[0].message.contains("vpn.hwcloud.dev/upgrade=finish"));
        let mut f3 = f2.clone();
        f3.prev = Some(&s2);
        assert!(
            next_status(&f3, &Step::None, None, "g1").1.is_empty(),
            "once"
        );
        // The annotation removed: `requested` is cleared so the same step can be asked again.
        f3.annotation = None;
        assert_eq!(
            next_status(&f3, &Step::None, None, "g1")
                .0
                .unwrap()
                .requested,
            None
        );
        // A refusal is recorded as handled, with a warning.
        let refuse = Step::Refuse {
            value: "sideways".into(),
            message: "nope".into(),
        };
        let (s4, notes) = next_status(&f3, &refuse, None, "g1");
        assert_eq!(s4.unwrap().requested.as_deref(), Some("sideways"));
        assert!(notes[0].warning && notes[0].reason == "UpgradeRefused");
        // An upgrade rolled back in the console: observed, with its Event.
        let rolled = job("j1", JobStatus::RollbackSuccess);
        let mut f5 = f3.clone();
        f5.job = Some(&rolled);
        let (s5, notes) = next_status(&f5, &Step::None, None, "g1");
        let s5 = s5.unwrap();
        assert_eq!(s5.phase, Some(UpgradePhase::RolledBack));
        assert!(s5.finished_at.is_some());
        assert_eq!(notes[0].reason, "UpgradeRolledBack");
    }

    #[test]
    fn a_gateway_waiting_for_confirmation_is_confirmed_before_its_delete() {
        let mut obj = object(spec());
        obj.metadata.deletion_timestamp = Some(at());
        let mut gw = active(&obj.spec);
        gw.status = Some(GatewayStatus::PendingUpgradeConfirm);
        let found = Found::exists(gw.clone(), How::Recorded);
        assert_eq!(
            plan(&obj, &inputs(), &found),
            Plan::Upgrade {
                id: "g1".into(),
                action: UpgradeAction::Finish,
                why: Why::Deleting
            }
        );
        for busy in [GatewayStatus::Upgrading, GatewayStatus::RollingBack] {
            gw.status = Some(busy.clone());
            let found = Found::exists(gw.clone(), How::Recorded);
            assert_eq!(
                plan(&obj, &inputs(), &found),
                Plan::AwaitDeletion {
                    id: "g1".into(),
                    state: busy
                }
            );
        }
    }

    #[test]
    fn upgrade_states_have_their_own_ready_reasons() {
        let s = spec();
        for (state, reason) in [
            (GatewayStatus::Upgrading, "Upgrading"),
            (
                GatewayStatus::PendingUpgradeConfirm,
                "UpgradePendingConfirm",
            ),
            (GatewayStatus::RollingBack, "UpgradeRollingBack"),
        ] {
            let mut g = active(&s);
            g.status = Some(state);
            let st = observed_status(&VpnGatewayStatus::default(), &g, vec![], Some(3), &at());
            let ready = find_condition(&st.conditions, types::READY).unwrap();
            assert_eq!(
                (ready.status, ready.reason.as_str()),
                (ConditionStatus::False, reason)
            );
        }
    }

    #[test]
    fn a_start_waits_for_the_spec_changes_and_a_finish_comes_first() {
        let s = spec();
        let mut obj = object(s.clone());
        obj.metadata.annotations =
            Some([("vpn.hwcloud.dev/upgrade".to_string(), "start".to_string())].into());
        let gw = active(&s);
        let observed = Observed::default();
        let got = changes(&obj, &inputs(), &observed, &gw, &at()).unwrap();
        assert!(
            matches!(
                got,
                Plan::Upgrade {
                    action: UpgradeAction::Start,
                    ..
                }
            ),
            "{got:?}"
        );
        // A rename is made first.
        let renamed = Inputs {
            name: "other".into(),
            ..inputs()
        };
        let got = changes(&obj, &renamed, &observed, &gw, &at()).unwrap();
        assert!(matches!(got, Plan::Update { .. }), "{got:?}");
        // Waiting for confirmation: finish at once, whatever else differs.
        obj.metadata.annotations =
            Some([("vpn.hwcloud.dev/upgrade".to_string(), "finish".to_string())].into());
        let mut pending = gw.clone();
        pending.status = Some(GatewayStatus::PendingUpgradeConfirm);
        let got = changes(&obj, &renamed, &observed, &pending, &at()).unwrap();
        assert!(
            matches!(
                got,
                Plan::Upgrade {
                    action: UpgradeAction::Finish,
                    ..
                }
            ),
            "{got:?}"
        );
    }
}

// ----- GM certificates, routes, quota --------------------------------------------------------

mod day_two {
    use super::*;
    use crate::cloud::model::gateway::{
        CertificateStatus, Route, RoutingTableResponse, VpnGatewayCertificate,
    };
    use crate::cloud::model::quota::{QuotaInfo, QuotaType};
    use crate::controller::kinds::vpn_gateway::certificate::{self, material, Step};
    use crate::controller::kinds::vpn_gateway::routes;
    use crate::controller::runtime::secrets::SecretData;

    const KEY: &str =
        "-----BEGIN EC PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END EC PRIVATE KEY-----";

    fn data() -> SecretData {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        [
            ("certificate", pem),
            ("privateKey", KEY),
            ("encCertificate", pem),
            ("encPrivateKey", KEY),
            ("certificateChain", pem),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
    }

    #[test]
    fn the_secret_gives_the_material_its_hash_and_never_shows_a_key() {
        let m = material(&data(), Some("cert-1")).unwrap();
        assert_eq!(m.sha256.len(), 64);
        assert!(!format!("{m:?}").contains("SECRETKEYMATERIAL"));
        assert_ne!(
            material(&data(), None).unwrap().sha256,
            m.sha256,
            "the name counts"
        );
        let mut changed = data();
        changed.insert(
            "encPrivateKey".into(),
            b"-----BEGIN EC PRIVATE KEY-----\nOTHER\n-----END EC PRIVATE KEY-----".to_vec(),
        );
        assert_ne!(material(&changed, Some("cert-1")).unwrap().sha256, m.sha256);
        let mut missing = data();
        missing.remove("certificateChain");
        let e = material(&missing, None).unwrap_err();
        assert!(e.contains("certificateChain"), "{e}");
        let mut empty = data();
        empty.insert("certificate".into(), Vec::new());
        assert!(material(&empty, None).is_err());
    }

    #[test]
    fn certificates_are_imported_once_and_updated_when_the_secret_changes() {
        let m = Ok(material(&data(), None).unwrap());
        let sha = m.as_ref().unwrap().sha256.clone();
        let cloud = VpnGatewayCertificate {
            id: Some("cert-1".into()),
            status: Some(CertificateStatus::Bound),
            ..Default::default()
        };
        let (step, s) = certificate::plan(Some(&m), None, None).unwrap().unwrap();
        assert!(matches!(step, Step::Import(_)));
        assert_eq!(s, sha);
        assert_eq!(
            certificate::plan(Some(&m), Some(&cloud), Some(&sha)).unwrap(),
            None
        );
        let (step, _) = certificate::plan(Some(&m), Some(&cloud), Some("old"))
            .unwrap()
            .unwrap();
        assert!(
            matches!(step, Step::Update { ref certificate_id, .. } if certificate_id == "cert-1")
        );
        // Nothing wanted: nothing done; a Secret that cannot be used stops the reconcile.
        assert_eq!(certificate::plan(None, None, None).unwrap(), None);
        let broken = Err(crate::controller::runtime::secrets::SecretProblem {
            namespace: "ns".into(),
            name: "gm".into(),
            problem: "not found".into(),
        });
        let e = certificate::plan(Some(&broken), None, None).unwrap_err();
        assert_eq!(e.reason(), "SecretNotReady");
    }

    #[test]
    fn certificate_status_and_events_follow_the_binding() {
        let cert = |st: CertificateStatus| VpnGatewayCertificate {
            id: Some("cert-1".into()),
            status: Some(st),
            ..Default::default()
        };
        let binding = cert(CertificateStatus::Binding);
        let (s, notes) = certificate::next_status(None, Some(&binding), None, "g1");
        assert_eq!(s.unwrap().status.as_deref(), Some("BINDING"));
        assert!(notes.is_empty());
        let prev = crate::crd::vpn_gateway::GatewayCertificateStatus {
            status: Some("BINDING".into()),
            secret_sha256: Some("abc".into()),
            ..Default::default()
        };
        let bound = cert(CertificateStatus::Bound);
        let (s, notes) = certificate::next_status(Some(&prev), Some(&bound), None, "g1");
        let s = s.unwrap();
        assert_eq!(
            (s.status.as_deref(), s.secret_sha256.as_deref()),
            (Some("BOUND"), Some("abc"))
        );
        assert_eq!(notes[0].reason, "CertificateBound");
        let fault = cert(CertificateStatus::Fault);
        let (_, notes) = certificate::next_status(Some(&prev), Some(&fault), None, "g1");
        assert!(notes[0].warning && notes[0].reason == "CertificateFault");
    }

    #[test]
    fn routes_show_the_count_and_the_first_twenty() {
        let table = RoutingTableResponse {
            routing_table: (0..25)
                .map(|i| Route {
                    destination: Some(format!("10.{i}.0.0/16")),
                    nexthop: Some("169.254.1.2".into()),
                    ..Default::default()
                })
                .collect(),
            total_count: Some(25),
            ..Default::default()
        };
        let s = routes::status(Some(&table), Some(true), None, &at()).unwrap();
        assert_eq!((s.count, s.routes.len()), (25, 20));
        assert_eq!(s.routes[0].destination, "10.0.0.0/16");
        assert_eq!(s.routes[0].nexthop.as_deref(), Some("169.254.1.2"));
        // Not read this time: kept; no BGP connection any more: cleared.
        assert_eq!(routes::status(None, None, Some(&s), &at()), Some(s.clone()));
        assert_eq!(routes::status(None, Some(false), Some(&s), &at()), None);
    }

    #[test]
    fn a_full_gateway_quota_refuses_the_create() {
        let full = Observed {
            quota: Some(QuotaInfo {
                quota_type: QuotaType::VpnGateway,
                quota: Some(2),
                used: Some(2),
            }),
            ..Observed::default()
        };
        let e = super::super::plan::plan(&object(spec()), &inputs(), &full, &at()).unwrap_err();
        assert_eq!(e.reason(), "QuotaExceeded");
        assert!(e.to_string().contains("used 2 of 2"), "{e}");
        let room = Observed {
            quota: Some(QuotaInfo {
                used: Some(1),
                ..full.quota.clone().unwrap()
            }),
            ..Observed::default()
        };
        let got = super::super::plan::plan(&object(spec()), &inputs(), &room, &at()).unwrap();
        assert!(matches!(got, Plan::Create { .. }));
    }
}
