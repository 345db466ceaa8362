//! The gateway's pure decisions, as tables.
use super::plan::{changes, desired_create, drift, plan, policy_template};
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
    }
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
        assert_eq!(changes(&s, "gw", &tags(), &gw), want, "{state}");
    }
}

#[test]
fn in_sync_gateway_needs_nothing() {
    let s = spec();
    assert_eq!(changes(&s, "gw", &tags(), &active(&s)), Plan::InSync);
}

#[test]
fn changed_updatable_fields_become_one_put() {
    let s = spec();
    let gw = active(&s);
    let mut s2 = s.clone();
    s2.local_subnets = vec!["192.168.0.0/24".into(), "192.168.1.0/24".into()];
    let Plan::Update { id, body, fields } = changes(&s2, "gw2", &tags(), &gw) else {
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
    assert_eq!(changes(&s, "gw", &tags(), &gw), Plan::InSync);
}

#[test]
fn flavor_change_uses_update_specification_after_put_fields() {
    let s = spec();
    let gw = active(&s);
    let mut s2 = s.clone();
    s2.flavor = Flavor::Professional2;
    assert_eq!(
        changes(&s2, "gw", &tags(), &gw),
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
    let Plan::Retag { diff, .. } = changes(&s, "gw", &tags(), &gw) else {
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
        changes(&s, "gw", &tags(), &gw),
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
