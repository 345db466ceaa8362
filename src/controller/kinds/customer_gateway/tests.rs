//! The customer gateway's pure decisions, as tables.
use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;

use super::observe::find_owned;
use super::plan::{dependents, desired_create, desired_update, drift, plan, sha256_hex};
use super::status::{build_status, conditions, Described};
use super::*;
use crate::cloud::model::{CaCertificate, Timestamp as WireTime};
use crate::controller::runtime::lookup::{Found, How};
use crate::controller::runtime::ownership::{check_tags, TAG_OWNER, TAG_UID};
use crate::controller::runtime::status::FieldDiff;
use crate::crd::common::{find_condition, reasons, types, ConditionStatus, ResourceRef};
use crate::crd::customer_gateway::{CaCertificateSpec, IdType};
use crate::crd::vpn_connection::{GatewayIp, VpnConnectionSpec};
use crate::crd::VpnConnectionStatus;

const UID: &str = "uid-1";
const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";

fn spec() -> CustomerGatewaySpec {
    CustomerGatewaySpec {
        name: None,
        id_type: IdType::Ip,
        id_value: "203.0.113.7".into(),
        bgp_asn: Some(65000),
        ca_certificate: None,
        tags: BTreeMap::from([("env".to_string(), "prod".to_string())]),
        cloud_id: None,
        deletion_policy: Default::default(),
        management_policy: ManagementPolicy::Default,
        cloud: None,
    }
}

fn tag(k: &str, v: &str) -> VpnResourceTag {
    VpnResourceTag::new(k, v)
}

/// The desired tags of an object with uid [`UID`]: the user's plus the owner tags.
fn our_tags() -> Vec<VpnResourceTag> {
    vec![
        tag("env", "prod"),
        tag(TAG_OWNER, "c:ns:cgw"),
        tag(TAG_UID, UID),
    ]
}

fn cloud(id: &str) -> ResponseCustomerGateway {
    ResponseCustomerGateway {
        id: id.into(),
        name: Some("cgw".into()),
        id_type: Some(crate::cloud::model::IdType::Ip),
        id_value: Some("203.0.113.7".into()),
        bgp_asn: Some(65000),
        ca_certificate: None,
        created_at: Some(WireTime::new("2025-06-28T07:36:24.923Z")),
        updated_at: Some(WireTime::new("2025-06-28T07:36:24.923Z")),
        tags: Some(our_tags()),
    }
}

fn at(seconds: i64) -> Time {
    Time(Timestamp::from_second(seconds).unwrap_or_default())
}

fn found(c: ResponseCustomerGateway, how: How) -> Lookup {
    let tags = c.tags.clone().unwrap_or_default();
    Found::exists(Seen { cgw: c, tags }, how)
}

fn object(spec: CustomerGatewaySpec) -> CustomerGateway {
    let mut c = CustomerGateway::new("cgw", spec);
    c.metadata.namespace = Some("ns".into());
    c.metadata.uid = Some(UID.into());
    c
}

fn inputs() -> Inputs {
    Inputs {
        name: "cgw".into(),
        tags: our_tags(),
        dependants: Vec::new(),
    }
}

#[test]
fn owner_tag_lookup_finds_only_ours_and_the_oldest_of_duplicates() {
    let mut newer = cloud("newer");
    newer.created_at = Some(WireTime::new("2025-07-01T00:00:00Z"));
    let mut foreign = cloud("foreign");
    foreign.tags = Some(vec![tag(TAG_UID, "someone-else")]);
    let mut untagged = cloud("untagged");
    untagged.tags = None;
    let items = vec![foreign.clone(), newer.clone(), cloud("older"), untagged];
    assert_eq!(find_owned(&items, UID).map(|c| c.id), Some("older".into()));
    assert_eq!(find_owned(&[foreign], UID), None);
}

#[test]
fn create_body_carries_the_whole_spec_and_owner_tags() {
    let mut s = spec();
    s.ca_certificate = Some(CaCertificateSpec {
        id: None,
        content: Some(CERT.into()),
    });
    let body = desired_create(&s, "edge", our_tags());
    assert_eq!(body.name.as_deref(), Some("edge"));
    assert_eq!(body.id_type, Some(crate::cloud::model::IdType::Ip));
    assert_eq!(body.id_value, "203.0.113.7");
    assert_eq!(body.bgp_asn, Some(65000));
    assert_eq!(
        body.ca_certificate.and_then(|c| c.content).as_deref(),
        Some(CERT)
    );
    assert_eq!(body.tags, Some(our_tags()));

    let mut fqdn = spec();
    fqdn.id_type = IdType::Fqdn;
    fqdn.id_value = "vpn.example.com".into();
    fqdn.bgp_asn = None;
    let json = serde_json::to_value(desired_create(&fqdn, "x", Vec::new())).unwrap_or_default();
    assert_eq!(json["id_type"], "fqdn");
    assert!(
        json.get("bgp_asn").is_none() && json.get("tags").is_none(),
        "{json}"
    );
}

#[test]
fn update_is_needed_only_for_name_or_certificate_changes() {
    let with_content = |content: &str| {
        let mut s = spec();
        s.ca_certificate = Some(CaCertificateSpec {
            id: None,
            content: Some(content.into()),
        });
        s
    };
    let with_cert = |mut c: ResponseCustomerGateway| {
        c.ca_certificate = Some(CaCertificate {
            id: Some("cert-1".into()),
            serial_number: Some("42".into()),
            ..Default::default()
        });
        c
    };
    let sent = sha256_hex(CERT);
    // (spec, cloud name, cloud, recorded hash, expected fields)
    type Case<'a> = (
        CustomerGatewaySpec,
        &'a str,
        ResponseCustomerGateway,
        Option<&'a str>,
        Vec<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (spec(), "cgw", cloud("a"), None, vec![]),
        (spec(), "renamed", cloud("a"), None, vec!["name"]),
        // Content sent before and unchanged: nothing to do.
        (
            with_content(CERT),
            "cgw",
            with_cert(cloud("a")),
            Some(&sent),
            vec![],
        ),
        // Content changed in the spec since the last upload.
        (
            with_content("other"),
            "cgw",
            with_cert(cloud("a")),
            Some(&sent),
            vec!["caCertificate"],
        ),
        // Adopted: the cloud's content is unknown, so send it once.
        (
            with_content(CERT),
            "cgw",
            with_cert(cloud("a")),
            None,
            vec!["caCertificate"],
        ),
        // The cloud has no certificate at all.
        (
            with_content(CERT),
            "cgw",
            cloud("a"),
            Some(&sent),
            vec!["caCertificate"],
        ),
        (
            CustomerGatewaySpec {
                ca_certificate: Some(CaCertificateSpec {
                    id: Some("cert-2".into()),
                    content: None,
                }),
                ..spec()
            },
            "cgw",
            with_cert(cloud("a")),
            None,
            vec!["caCertificate"],
        ),
    ];
    for (i, (s, name, c, hash, want)) in cases.into_iter().enumerate() {
        let got = desired_update(&s, name, &c, hash);
        let fields = got.as_ref().map(|u| u.fields.clone()).unwrap_or_default();
        assert_eq!(fields, want, "case {i}");
        if let Some(u) = got {
            assert_eq!(u.body.name.is_some(), want.contains(&"name"), "case {i}");
            assert_eq!(
                u.body.ca_certificate.is_some(),
                want.contains(&"caCertificate"),
                "case {i}"
            );
        }
    }
}

#[test]
fn drift_reports_changed_fields_and_ignores_unset_ones_and_owner_tags() {
    let s = spec();
    let clean = cloud("a");
    assert_eq!(drift(&s, "cgw", &our_tags(), &clean, &our_tags()), vec![]);

    let mut other = cloud("a");
    other.name = Some("console-name".into());
    other.id_value = Some("198.51.100.1".into());
    other.bgp_asn = Some(64512);
    other.ca_certificate = Some(CaCertificate {
        serial_number: Some("42".into()),
        ..Default::default()
    });
    // Owner tags differ (another cluster name) but are not user-visible drift.
    let seen_tags = vec![
        tag("env", "dev"),
        tag(TAG_OWNER, "other:ns:cgw"),
        tag(TAG_UID, UID),
    ];
    let got = drift(&s, "cgw", &our_tags(), &other, &seen_tags);
    let summary: Vec<(&str, &str, &str, bool)> = got
        .iter()
        .map(|d| {
            (
                d.field.as_str(),
                d.desired.as_str(),
                d.observed.as_str(),
                d.updatable,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("name", "cgw", "console-name", true),
            ("idValue", "203.0.113.7", "198.51.100.1", false),
            ("bgpAsn", "65000", "64512", false),
            ("caCertificate", "<none>", "serial 42", false),
            ("tags", "env=prod", "env=dev", true),
        ]
    );

    // bgpAsn unset in the spec: the cloud's value is not drift.
    let no_asn = CustomerGatewaySpec {
        bgp_asn: None,
        ..spec()
    };
    assert!(drift(&no_asn, "cgw", &our_tags(), &other, &our_tags())
        .iter()
        .all(|d| d.field != "bgpAsn"));
}

#[test]
fn plan_covers_every_observation() {
    let s = spec();
    let observe = CustomerGatewaySpec {
        management_policy: ManagementPolicy::Observe,
        cloud_id: Some("given".into()),
        ..spec()
    };
    let adopting = CustomerGatewaySpec {
        cloud_id: Some("given".into()),
        ..spec()
    };
    let gone = |id: &str| Found {
        gone: Some(id.into()),
        ..Found::default()
    };
    let p = |s: &CustomerGatewaySpec, o: &Lookup| plan(&object(s.clone()), &inputs(), o);

    assert!(matches!(
        p(&s, &Found::default()),
        Plan::Create { replaces: None, .. }
    ));
    assert!(matches!(
        p(&s, &gone("old")),
        Plan::Create { replaces: Some(old), .. } if old == "old"
    ));
    assert_eq!(
        p(&adopting, &gone("given")),
        Plan::Missing { id: "given".into() }
    );
    assert_eq!(
        p(&observe, &gone("given")),
        Plan::Missing { id: "given".into() }
    );
    assert_eq!(
        p(&observe, &Found::default()),
        Plan::Missing { id: "given".into() }
    );
    assert_eq!(
        p(&observe, &found(cloud("given"), How::Adopted)),
        Plan::Report
    );
    match p(&s, &found(cloud("a"), How::Recorded)) {
        Plan::Sync { id, update, tags } => {
            assert_eq!(id, "a");
            assert_eq!(update, None);
            assert!(tags.is_empty());
        }
        other => panic!("expected Sync, got {other:?}"),
    }
    // Adopting an untagged customer gateway: the owner tags are added.
    let mut untagged = cloud("given");
    untagged.tags = Some(vec![]);
    match p(&adopting, &found(untagged, How::Adopted)) {
        Plan::Sync { tags, .. } => assert_eq!(tags.add, our_tags()),
        other => panic!("expected Sync, got {other:?}"),
    }
}

#[test]
fn deletion_waits_for_connections_then_deletes_what_is_ours() {
    let mut obj = object(spec());
    obj.metadata.deletion_timestamp = Some(at(0));
    let waiting = Inputs {
        dependants: vec!["link".into()],
        ..inputs()
    };
    let here = found(cloud("cg-1"), How::Recorded);
    assert_eq!(
        plan(&obj, &waiting, &here),
        Plan::WaitForDependents(vec!["link".into()])
    );
    assert_eq!(
        plan(&obj, &inputs(), &here),
        Plan::Delete { id: "cg-1".into() }
    );
    let gone = Found {
        gone: Some("cg-1".into()),
        ..Found::default()
    };
    assert_eq!(
        plan(&obj, &inputs(), &gone),
        Plan::Gone(Some("cg-1".into()))
    );
    let theirs = Found {
        foreign: Some("c:ns:other".into()),
        ..here
    };
    assert_eq!(
        plan(&obj, &inputs(), &theirs),
        Plan::LeaveForeign {
            id: "cg-1".into(),
            owner: "c:ns:other".into()
        }
    );
}

#[test]
fn conditions_for_each_situation() {
    let immutable = [FieldDiff::new("idValue", "a", "b", false)];
    let updatable = [FieldDiff::new("name", "a", "b", true)];
    // (exists, observe, remaining, ready, ready reason, synced, synced reason)
    type Row<'a> = (
        bool,
        bool,
        &'a [FieldDiff],
        ConditionStatus,
        &'a str,
        ConditionStatus,
        &'a str,
    );
    let cases: [Row; 6] = [
        (
            true,
            false,
            &[],
            ConditionStatus::True,
            reasons::AVAILABLE,
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
        ),
        (
            true,
            false,
            &immutable,
            ConditionStatus::True,
            reasons::AVAILABLE,
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
        ),
        (
            true,
            true,
            &updatable,
            ConditionStatus::True,
            reasons::AVAILABLE,
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
        ),
        (
            true,
            true,
            &immutable,
            ConditionStatus::True,
            reasons::AVAILABLE,
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
        ),
        (
            false,
            true,
            &[],
            ConditionStatus::False,
            reasons::NOT_FOUND,
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
        ),
        (
            false,
            false,
            &[],
            ConditionStatus::False,
            reasons::NOT_FOUND,
            ConditionStatus::False,
            reasons::NOT_FOUND,
        ),
    ];
    for (i, (exists, observe, remaining, rs, rr, ss, sr)) in cases.into_iter().enumerate() {
        let (ready, synced) = conditions(exists, Some("id-1"), observe, remaining);
        assert_eq!((ready.status, ready.reason), (rs, rr), "case {i} ready");
        assert_eq!((synced.status, synced.reason), (ss, sr), "case {i} synced");
    }
    let (_, synced) = conditions(true, None, false, &immutable);
    assert!(synced.message.contains("idValue"), "{}", synced.message);
    let (_, observed) = conditions(true, None, true, &updatable);
    assert!(observed.message.contains("name"), "{}", observed.message);
}

#[test]
fn status_reports_the_cloud_and_keeps_condition_history() {
    let mut c = cloud("cgw-1");
    c.ca_certificate = Some(CaCertificate {
        serial_number: Some("42".into()),
        expire_time: Some(WireTime::new("2030-01-01T00:00:00Z")),
        ..Default::default()
    });
    let prev = CustomerGatewayStatus::default();
    let conds = conditions(true, None, false, &[]);
    let s = build_status(
        &prev,
        Described::Exists(&c),
        Some("abc".into()),
        &[],
        conds,
        Some(3),
        &at(10),
    );
    assert_eq!(s.cloud_id.as_deref(), Some("cgw-1"));
    assert_eq!(s.cloud_state.as_deref(), Some(STATE_ACTIVE));
    assert_eq!(s.id_type.as_deref(), Some("ip"));
    assert_eq!(s.id_value.as_deref(), Some("203.0.113.7"));
    assert_eq!(s.bgp_asn, Some(65000));
    assert_eq!(s.created_at.as_deref(), Some("2025-06-28T07:36:24.923Z"));
    assert_eq!(s.ca_certificate_sha256.as_deref(), Some("abc"));
    let ca = s.ca_certificate.clone().unwrap_or_default();
    assert_eq!(ca.serial_number.as_deref(), Some("42"));
    assert_eq!(ca.expire_time.as_deref(), Some("2030-01-01T00:00:00Z"));
    let ready = find_condition(&s.conditions, types::READY).cloned();
    assert_eq!(
        ready.map(|r| (r.status, r.observed_generation)),
        Some((ConditionStatus::True, Some(3)))
    );

    // Gone: the id stays visible, the observed fields go.
    let conds = conditions(false, Some("cgw-1"), false, &[]);
    let missing = build_status(
        &s,
        Described::Missing("cgw-1"),
        None,
        &[],
        conds,
        Some(3),
        &at(20),
    );
    assert_eq!(missing.cloud_id.as_deref(), Some("cgw-1"));
    assert_eq!(missing.cloud_state, None);
    assert_eq!(missing.id_value, None);
    assert!(!is_true(&missing, types::READY));
}

fn is_true(s: &CustomerGatewayStatus, t: &str) -> bool {
    crate::crd::common::is_condition_true(&s.conditions, t)
}

#[test]
fn too_many_tags_are_refused_before_any_call() {
    let twenty: Vec<VpnResourceTag> = (0..20).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert!(check_tags(&twenty).is_ok());
    let mut more = twenty;
    more.push(tag("one", "more"));
    let err = check_tags(&more)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("at most 18 tags"), "{err}");
}

fn connection(name: &str, cgw: ResourceRef, recorded_cgw: Option<&str>) -> VpnConnection {
    let mut c = VpnConnection::new(
        name,
        VpnConnectionSpec {
            name: None,
            vpn_gateway_ref: ResourceRef {
                name: Some("vgw".into()),
                cloud_id: None,
            },
            gateway_ip: GatewayIp::Eip1,
            customer_gateway_ref: cgw,
            style: Default::default(),
            peer_subnets: vec![],
            peer_subnets_v6: vec![],
            tunnel_local_address: None,
            tunnel_peer_address: None,
            enable_nqa: None,
            enable_hub: None,
            psk_secret_ref: None,
            policy_rules: vec![],
            policy_rules_v6: vec![],
            ike_policy: None,
            ipsec_policy: None,
            ha_role: Default::default(),
            health_check: None,
            tags: BTreeMap::new(),
            cloud_id: None,
            deletion_policy: Default::default(),
            management_policy: Default::default(),
            cloud: None,
            peer_config: None,
        },
    );
    c.metadata = ObjectMeta {
        name: Some(name.into()),
        namespace: Some("ns".into()),
        ..Default::default()
    };
    c.status = recorded_cgw.map(|id| VpnConnectionStatus {
        customer_gateway_id: Some(id.into()),
        ..Default::default()
    });
    c
}

#[test]
fn deletion_waits_for_connections_using_the_customer_gateway() {
    let by_name = |n: &str| ResourceRef {
        name: Some(n.into()),
        cloud_id: None,
    };
    let by_id = |id: &str| ResourceRef {
        name: None,
        cloud_id: Some(id.into()),
    };
    let conns = vec![
        connection("b-by-name", by_name("office"), None),
        connection("a-by-id", by_id("cgw-1"), None),
        connection("moving-away", by_name("new-office"), Some("cgw-1")),
        connection("unrelated", by_name("other"), Some("cgw-9")),
    ];
    assert_eq!(
        dependents(&conns, "office", Some("cgw-1")),
        vec!["a-by-id", "b-by-name", "moving-away"]
    );
    assert_eq!(dependents(&conns, "office", None), vec!["b-by-name"]);
    assert!(dependents(&conns, "nobody", Some("cgw-0")).is_empty());
}

#[test]
fn certificate_hash_is_hex_sha256() {
    assert_eq!(
        sha256_hex("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
