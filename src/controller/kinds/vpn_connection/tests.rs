//! The connection's pure decisions, as tables.
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use serde_json::json;

use super::conditions::{build_status, state_conditions, synced_condition, Known, Seen};
use super::desired::{desired_create, desired_update, merged_ike, merged_ipsec};
use super::drift::drift;
use super::observe::oldest_owned;
use super::plan::{plan, psk_needs_put, refs, MonitorChange, Plan, Refs, Update};
use super::psk::{psk_from_data, psk_problem, psk_sha256, Psk, SecretProblem};
use super::refs::{
    connections_referencing, customer_gateway_from_cr, gateway_from_cloud, gateway_from_cr,
    recorded_gateway, GatewayRef, Referenced, Resolved, ResolvedGateway,
};
use super::status::reconciled;
use super::*;
use crate::cloud::model::common::{
    AuthenticationAlgorithm as WireAuthAlg, DhGroup as WireDhGroup, Redacted, Timestamp as WireTime,
};
use crate::cloud::model::connection::{
    BgpPeer, ConnectionStatus, ConnectionStyle as WireStyle, Dpd as WireDpd, HaRole as WireHaRole,
    IkePolicy as WireIke, IkeVersion, IpsecPolicy as WireIpsec, PolicyRule as WireRule,
    ResponseConnectionStyle,
};
use crate::cloud::model::gateway::{GatewayStatus, NetworkType, ResponseEip, ResponseVpnGateway};
use crate::cloud::model::monitor::MonitorStatus;
use crate::controller::runtime::error::Error;
use crate::controller::runtime::events::{
    actions, DELETE_REQUESTED, DRIFT_DETECTED, NOT_DELETED, PSK_ROTATED, RECREATING,
};
use crate::controller::runtime::lookup::How;
use crate::controller::runtime::ownership::{TagDiff, TAG_OWNER, TAG_UID};
use crate::controller::runtime::requeue::Next;
use crate::controller::runtime::status::{drift_entries, set, Cond, FieldDiff};
use crate::crd::common::{find_condition, is_condition_true, reasons, types, ConditionStatus};
use crate::crd::customer_gateway::{CustomerGatewaySpec, CustomerGatewayStatus};
use crate::crd::vpn_connection::GatewayIp;
use crate::crd::vpn_gateway::{ObservedEip, VpnGatewaySpec, VpnGatewayStatus};
use crate::crd::{CustomerGateway, VpnGateway};

const UID: &str = "conn-uid";
const KEY: &str = "Str0ng-Key.2024";

fn spec(extra: serde_json::Value) -> VpnConnectionSpec {
    let mut base = json!({
        "vpnGatewayRef": {"name": "vgw"},
        "gatewayIp": "eip1",
        "customerGatewayRef": {"name": "office"},
        "peerSubnets": ["10.1.0.0/16"],
        "pskSecretRef": {"name": "psk", "key": "psk"},
        "tags": {"env": "prod"}
    });
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).expect("test spec is valid")
}

fn tag(k: &str, v: &str) -> VpnResourceTag {
    VpnResourceTag::new(k, v)
}

fn our_tags() -> Vec<VpnResourceTag> {
    vec![
        tag("env", "prod"),
        tag(TAG_OWNER, "c:ns:conn"),
        tag(TAG_UID, UID),
    ]
}

fn gw() -> ResolvedGateway {
    ResolvedGateway {
        id: "vgw-1".into(),
        vgw_ip: "eip-1".into(),
        address: Some("198.51.100.10".into()),
    }
}

/// The connection the cloud reports for `spec()` created on `gw()` with all server defaults.
fn cloud(state: ConnectionStatus) -> ResponseVpnConnection {
    ResponseVpnConnection {
        id: "conn-1".into(),
        name: Some("conn".into()),
        status: Some(state),
        vgw_id: Some("vgw-1".into()),
        vgw_ip: Some("eip-1".into()),
        style: Some(ResponseConnectionStyle::Static),
        cgw_id: Some("cgw-1".into()),
        peer_subnets: Some(vec!["10.1.0.0/16".into()]),
        tunnel_local_address: Some("169.254.56.225/30".into()),
        tunnel_peer_address: Some("169.254.56.226/30".into()),
        enable_nqa: Some(false),
        ikepolicy: Some(WireIke {
            ike_version: Some(IkeVersion::V2),
            authentication_algorithm: Some(WireAuthAlg::Sha2_256),
            encryption_algorithm: Some(crate::cloud::model::common::EncryptionAlgorithm::Aes128),
            dh_group: Some(WireDhGroup::Group15),
            authentication_method: Some(
                crate::cloud::model::connection::AuthenticationMethod::PreShare,
            ),
            lifetime_seconds: Some(86400),
            local_id_type: Some(crate::cloud::model::connection::IkeIdType::Ip),
            local_id: Some("198.51.100.10".into()),
            peer_id_type: Some(crate::cloud::model::connection::IkeIdType::Ip),
            peer_id: Some("203.0.113.7".into()),
            phase1_negotiation_mode: Some(
                crate::cloud::model::connection::Phase1NegotiationMode::Main,
            ),
            dpd: Some(WireDpd {
                timeout: Some(15),
                interval: Some(30),
                msg: Some(crate::cloud::model::connection::DpdMsg::SeqHashNotify),
            }),
        }),
        ipsecpolicy: Some(WireIpsec {
            authentication_algorithm: Some(WireAuthAlg::Sha2_256),
            encryption_algorithm: Some(crate::cloud::model::common::EncryptionAlgorithm::Aes128),
            pfs: Some(WireDhGroup::Group15),
            transform_protocol: Some(crate::cloud::model::connection::TransformProtocol::Esp),
            lifetime_seconds: Some(3600),
            encapsulation_mode: Some(crate::cloud::model::connection::EncapsulationMode::Tunnel),
        }),
        ha_role: Some(WireHaRole::Master),
        created_at: Some(WireTime::new("2025-06-28T07:36:24.923Z")),
        updated_at: Some(WireTime::new("2025-06-28T07:40:00.000Z")),
        tags: Some(our_tags()),
        ..Default::default()
    }
}

fn found(c: ResponseVpnConnection) -> Observed {
    observed(Found::exists(c, How::Recorded))
}

fn observed(found: Found<ResponseVpnConnection>) -> Observed {
    Observed {
        found,
        monitors: vec![],
        gateway: Resolved::Ready(gw()),
        peer: None,
        quota: None,
    }
}

fn gone(id: &str) -> Found<ResponseVpnConnection> {
    Found {
        gone: Some(id.into()),
        ..Found::default()
    }
}

fn inputs(psk: Option<&Psk>) -> Inputs {
    Inputs {
        name: "conn".into(),
        tags: our_tags(),
        gateway: GatewayRef::Named(Resolved::Ready(gw())),
        customer_gateway: Resolved::Ready("cgw-1".into()),
        psk: Ok(psk.cloned()),
        peer: Default::default(),
    }
}

/// The object for `spec`, with a status that last sent `psk_sha256`.
fn object(spec: VpnConnectionSpec, psk_sha256: Option<&str>) -> VpnConnection {
    let mut c = VpnConnection::new("conn", spec);
    c.metadata.namespace = Some("ns".into());
    c.metadata.uid = Some(UID.into());
    c.metadata.generation = Some(1);
    c.status = Some(VpnConnectionStatus {
        psk_sha256: psk_sha256.map(str::to_string),
        observed_generation: Some(1),
        ..Default::default()
    });
    c
}

fn at(seconds: i64) -> Time {
    Time(Timestamp::from_second(seconds).unwrap_or_default())
}

fn fields(d: &[FieldDiff]) -> Vec<&str> {
    d.iter().map(|f| f.field.as_str()).collect()
}

fn monitor(id: &str, state: MonitorStatus) -> ConnectionMonitorInfo {
    ConnectionMonitorInfo {
        id: id.into(),
        status: Some(state),
        vpn_connection_id: Some("conn-1".into()),
        ..Default::default()
    }
}

// ----- pre-shared key ----------------------------------------------------------------------

#[test]
fn psk_rules_follow_the_reference_and_never_echo_the_key() {
    let cases = [
        ("Abcdef12", true),
        ("abcdef1!", true),
        ("ABC def 1", true),
        ("abcdefgh1", false),        // two classes
        ("Ab1!", false),             // too short
        (&*"Aa1".repeat(43), false), // 129 characters
        // Every special of any documented table (single create, batch create and update, the
        // SDK) is accepted: '*' (batch create, update), ':' (SDK), '!' (single create, SDK).
        ("Abcdef12*", true),
        ("abcdef1:", true),
        ("Ab~!@#$%^*()-_+={ },./:;", true),
        ("Abcdef12&", false),  // '&' is in no table
        ("Ünïcödé123", false), // not ASCII
    ];
    for (key, ok) in cases {
        let problem = psk_problem(key);
        assert_eq!(problem.is_none(), ok, "{key}: {problem:?}");
        if let Some(p) = problem {
            assert!(!p.contains(key), "the problem text shows the key: {p}");
        }
    }
}

#[test]
fn psk_is_read_from_secret_data_trimmed_and_hashed() {
    let psk = psk_from_data(Some(format!("{KEY}\n").as_bytes()), "psk").expect("valid key");
    assert_eq!(psk.value.expose(), KEY);
    assert_eq!(psk.sha256, psk_sha256(KEY));
    assert_eq!(psk.sha256.len(), 64);
    assert!(psk.sha256.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(psk_sha256(KEY), psk_sha256("Str0ng-Key.2025"));
    let shown = format!("{psk:?}");
    assert!(!shown.contains(KEY), "{shown}");

    let missing = psk_from_data(None, "psk").err().unwrap_or_default();
    assert!(missing.contains("has no key \"psk\""), "{missing}");
    let binary = psk_from_data(Some(&[0xff, 0xfe]), "psk")
        .err()
        .unwrap_or_default();
    assert!(binary.contains("not UTF-8"), "{binary}");
    let weak = psk_from_data(Some(b"password"), "psk")
        .err()
        .unwrap_or_default();
    assert!(
        weak.contains("at least three") && !weak.contains("password"),
        "{weak}"
    );
}

#[test]
fn psk_is_sent_when_it_differs_from_the_recorded_hash() {
    let psk = Psk::new(KEY.into());
    let same = psk_sha256(KEY);
    assert!(!psk_needs_put(Some(&psk), Some(&same)));
    assert!(psk_needs_put(Some(&psk), Some("0000")));
    assert!(
        psk_needs_put(Some(&psk), None),
        "adopted: the cloud's key is unknown"
    );
    assert!(
        !psk_needs_put(None, None),
        "certificate authentication has no key"
    );
}

// ----- references --------------------------------------------------------------------------

fn gateway_cr(public: bool, ready: Option<(ConditionStatus, &'static str)>) -> VpnGateway {
    let spec: VpnGatewaySpec = serde_json::from_value(if public {
        json!({"vpcId": "vpc-1", "connectSubnet": "sub-1", "localSubnets": ["192.168.0.0/24"],
               "eip1": {"type": "5_bgp", "bandwidthSize": 10}, "eip2": {"type": "5_bgp", "bandwidthSize": 10}})
    } else {
        json!({"networkType": "private", "vpcId": "vpc-1", "connectSubnet": "sub-1",
               "localSubnets": ["192.168.0.0/24"], "accessPrivateIp1": "10.0.0.5", "accessPrivateIp2": "10.0.0.6"})
    })
    .expect("test gateway spec");
    let mut g = VpnGateway::new("vgw", spec);
    let mut status = VpnGatewayStatus {
        cloud_id: Some("vgw-1".into()),
        ..Default::default()
    };
    if public {
        status.eip1 = Some(ObservedEip {
            id: Some("eip-1".into()),
            ip_address: Some("198.51.100.10".into()),
            ..Default::default()
        });
        status.eip2 = Some(ObservedEip {
            id: Some("eip-2".into()),
            ip_address: Some("198.51.100.11".into()),
            ..Default::default()
        });
    } else {
        status.access_private_ip1 = Some("10.0.0.5".into());
        status.access_private_ip2 = Some("10.0.0.6".into());
    }
    if let Some((s, reason)) = ready {
        let c = Cond::new(s, reason, "");
        set(&mut status.conditions, &at(0), types::READY, c, Some(1));
    }
    g.status = Some(status);
    g
}

/// The message of a wait, and whether a watch wakes the connection.
fn waiting_reason<T>(r: &Resolved<T>) -> Option<(String, bool)> {
    match r {
        Resolved::Waiting { message, watched } => Some((message.clone(), *watched)),
        _ => None,
    }
}

#[test]
fn gateway_reference_resolves_only_when_ready_and_addressed() {
    use ConditionStatus::{False, True};
    let ready = Some((True, reasons::AVAILABLE));
    let creating = Some((False, reasons::CREATING));

    let ok = gateway_from_cr("vgw", Some(&gateway_cr(true, ready)), GatewayIp::Eip2);
    assert_eq!(
        ok,
        Resolved::Ready(ResolvedGateway {
            id: "vgw-1".into(),
            vgw_ip: "eip-2".into(),
            address: Some("198.51.100.11".into()),
        })
    );
    let private = gateway_from_cr(
        "vgw",
        Some(&gateway_cr(false, ready)),
        GatewayIp::AccessPrivateIp1,
    );
    assert_eq!(
        private
            .ready()
            .map(|g| (g.vgw_ip.as_str(), g.address.as_deref())),
        Some(("10.0.0.5", Some("10.0.0.5")))
    );

    // Waits, with the reason in the message; the VpnGateway's changes wake the connection.
    let mut no_eips = gateway_cr(true, ready);
    if let Some(s) = no_eips.status.as_mut() {
        s.eip1 = None;
    }
    let mut deleting = gateway_cr(true, ready);
    deleting.metadata.deletion_timestamp = Some(at(5));
    let cases: Vec<(Option<VpnGateway>, &str)> = vec![
        (None, "VpnGateway vgw does not exist"),
        (
            Some(gateway_cr(true, creating)),
            "VpnGateway vgw is not Ready yet (Creating)",
        ),
        (
            Some(gateway_cr(true, None)),
            "VpnGateway vgw is not Ready yet",
        ),
        (Some(no_eips), "does not report its eip1 yet"),
        (Some(deleting), "is being deleted"),
    ];
    for (cr, want) in cases {
        let r = gateway_from_cr("vgw", cr.as_ref(), GatewayIp::Eip1);
        let (message, watched) =
            waiting_reason(&r).unwrap_or_else(|| panic!("expected a wait, got {r:?}"));
        assert!(message.contains(want), "{message} should contain {want}");
        assert!(watched, "{message}");
    }

    // The wrong kind of address is a spec error, not a wait.
    let wrong = gateway_from_cr("vgw", Some(&gateway_cr(false, ready)), GatewayIp::Eip1);
    assert!(
        matches!(&wrong, Resolved::Invalid(m) if m.contains("accessPrivateIp1 or accessPrivateIp2")),
        "{wrong:?}"
    );
}

#[test]
fn gateway_cloud_id_reference_needs_an_active_gateway_and_is_polled() {
    let active = ResponseVpnGateway {
        id: "vgw-9".into(),
        status: Some(GatewayStatus::Active),
        network_type: Some(NetworkType::Public),
        eip1: Some(ResponseEip {
            id: Some("eip-9".into()),
            ip_address: Some("192.0.2.9".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        gateway_from_cloud("vgw-9", Some(&active), GatewayIp::Eip1),
        Resolved::Ready(ResolvedGateway {
            id: "vgw-9".into(),
            vgw_ip: "eip-9".into(),
            address: Some("192.0.2.9".into()),
        })
    );
    let pending = ResponseVpnGateway {
        status: Some(GatewayStatus::PendingCreate),
        ..active.clone()
    };
    let r = gateway_from_cloud("vgw-9", Some(&pending), GatewayIp::Eip1);
    assert_eq!(
        waiting_reason(&r),
        Some((
            "VPN gateway vgw-9 is not ACTIVE yet (PENDING_CREATE)".into(),
            false
        )),
        "no watch wakes it: polled"
    );
    let missing_eip2 = gateway_from_cloud("vgw-9", Some(&active), GatewayIp::Eip2);
    assert!(waiting_reason(&missing_eip2).is_some(), "{missing_eip2:?}");
    let absent = gateway_from_cloud("vgw-0", None, GatewayIp::Eip1);
    assert!(
        waiting_reason(&absent)
            .is_some_and(|(m, _)| m.contains("vgw-0") && m.contains("does not exist")),
        "{absent:?}"
    );
    let wrong = gateway_from_cloud("vgw-9", Some(&active), GatewayIp::AccessPrivateIp2);
    assert!(matches!(wrong, Resolved::Invalid(_)), "{wrong:?}");
}

#[test]
fn customer_gateway_reference_resolves_only_when_ready() {
    let cgw = |cloud_id: Option<&str>, ready: Option<ConditionStatus>| {
        let mut c = CustomerGateway::new(
            "office",
            serde_json::from_value::<CustomerGatewaySpec>(json!({"idValue": "203.0.113.7"}))
                .expect("spec"),
        );
        let mut s = CustomerGatewayStatus {
            cloud_id: cloud_id.map(str::to_string),
            ..Default::default()
        };
        if let Some(r) = ready {
            let reason = if r == ConditionStatus::True {
                reasons::AVAILABLE
            } else {
                "CloudBusy"
            };
            set(
                &mut s.conditions,
                &at(0),
                types::READY,
                Cond::new(r, reason, ""),
                None,
            );
        }
        c.status = Some(s);
        c
    };
    let ok = customer_gateway_from_cr(
        "office",
        Some(&cgw(Some("cgw-1"), Some(ConditionStatus::True))),
    );
    assert_eq!(ok, Resolved::Ready("cgw-1".to_string()));
    for (c, want) in [
        (None, "CustomerGateway office does not exist"),
        (
            Some(cgw(None, None)),
            "CustomerGateway office is not Ready yet",
        ),
        (
            Some(cgw(Some("cgw-1"), Some(ConditionStatus::False))),
            "not Ready yet (CloudBusy)",
        ),
        (
            Some(cgw(None, Some(ConditionStatus::True))),
            "not Ready yet",
        ),
    ] {
        let r = customer_gateway_from_cr("office", c.as_ref());
        assert!(
            waiting_reason(&r).is_some_and(|(m, watched)| watched && m.contains(want)),
            "{r:?} should contain {want}"
        );
    }
}

#[test]
fn recorded_gateway_needs_id_and_address() {
    let full = VpnConnectionStatus {
        vpn_gateway_id: Some("vgw-1".into()),
        gateway_ip: Some("eip-1".into()),
        gateway_address: Some("198.51.100.10".into()),
        ..Default::default()
    };
    assert_eq!(recorded_gateway(&full), Some(gw()));
    let partial = VpnConnectionStatus {
        gateway_ip: None,
        ..full
    };
    assert_eq!(recorded_gateway(&partial), None);
}

fn conn_obj(name: &str, ns: &str, s: VpnConnectionSpec) -> Arc<VpnConnection> {
    let mut c = VpnConnection::new(name, s);
    c.metadata = ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        ..Default::default()
    };
    Arc::new(c)
}

#[test]
fn watch_mapper_finds_connections_by_referenced_object() {
    let items = [
        conn_obj("a", "ns", spec(json!({}))),
        conn_obj(
            "b",
            "ns",
            spec(
                json!({"vpnGatewayRef": {"name": "other"}, "pskSecretRef": {"name": "psk-b", "key": "k"}}),
            ),
        ),
        conn_obj("c", "elsewhere", spec(json!({}))),
        conn_obj(
            "d",
            "ns",
            spec(json!({"customerGatewayRef": {"cloudId": "cgw-x"}})),
        ),
    ];
    // The mapper reads the controller cache's compact form.
    let cached: Vec<_> = items
        .iter()
        .map(|c| Arc::new(crate::controller::runtime::cached::Cached::new((**c).clone()).unwrap()))
        .collect();
    let names = |kind, name: &str| -> Vec<String> {
        connections_referencing(&cached, kind, "ns", name)
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(names(Referenced::VpnGateway, "vgw"), ["a", "d"]);
    assert_eq!(names(Referenced::VpnGateway, "other"), ["b"]);
    assert_eq!(names(Referenced::CustomerGateway, "office"), ["a", "b"]);
    assert_eq!(names(Referenced::Secret, "psk"), ["a", "d"]);
    assert_eq!(names(Referenced::Secret, "psk-b"), ["b"]);
    assert!(names(Referenced::CustomerGateway, "nobody").is_empty());
    let refs = connections_referencing(&cached, Referenced::VpnGateway, "elsewhere", "vgw");
    assert_eq!(
        refs.first().and_then(|r| r.namespace.clone()).as_deref(),
        Some("elsewhere")
    );
}

// ----- desired bodies ----------------------------------------------------------------------

#[test]
fn create_body_carries_the_spec_references_key_and_tags() {
    let s = spec(json!({
        "name": "edge-1", "gatewayIp": "eip2", "haRole": "slave",
        "tunnelLocalAddress": "169.254.1.1/30", "tunnelPeerAddress": "169.254.1.2/30",
        "enableNqa": true,
        "ikePolicy": {"ikeVersion": "v1", "phase1NegotiationMode": "aggressive", "lifetimeSeconds": 3600,
                      "dhGroup": "group20", "dpd": {"interval": 60, "msg": "seq-notify-hash"}},
        "ipsecPolicy": {"pfs": "disable", "encryptionAlgorithm": "aes-256-gcm-16"}
    }));
    let psk = Psk::new(KEY.into());
    let body = desired_create(&s, "edge-1", &gw(), "cgw-1", Some(&psk), our_tags());
    let j = serde_json::to_value(&body).unwrap_or_default();
    assert_eq!(j["name"], "edge-1");
    assert_eq!(j["vgw_id"], "vgw-1");
    assert_eq!(j["vgw_ip"], "eip-1");
    assert_eq!(j["cgw_id"], "cgw-1");
    assert_eq!(j["style"], "static");
    assert_eq!(j["ha_role"], "slave");
    assert_eq!(j["peer_subnets"], json!(["10.1.0.0/16"]));
    assert_eq!(j["tunnel_local_address"], "169.254.1.1/30");
    assert_eq!(j["enable_nqa"], true);
    assert_eq!(j["psk"], KEY, "the key must reach the API");
    assert_eq!(
        j["ikepolicy"],
        json!({"ike_version": "v1", "phase1_negotiation_mode": "aggressive", "lifetime_seconds": 3600,
               "dh_group": "group20", "dpd": {"interval": 60, "msg": "seq-notify-hash"}})
    );
    assert_eq!(
        j["ipsecpolicy"],
        json!({"pfs": "disable", "encryption_algorithm": "aes-256-gcm-16"})
    );
    assert_eq!(j["tags"].as_array().map(Vec::len), Some(3));
    assert!(j.get("policy_rules").is_none());
    assert!(
        !format!("{body:?}").contains(KEY),
        "Debug must not show the key"
    );

    // Unset policies are left to the cloud's defaults; no key for certificate authentication.
    let bare = desired_create(&spec(json!({})), "c", &gw(), "cgw-1", None, vec![]);
    let j = serde_json::to_value(&bare).unwrap_or_default();
    for absent in [
        "ikepolicy",
        "ipsecpolicy",
        "psk",
        "tags",
        "tunnel_local_address",
        "enable_hub",
    ] {
        assert!(j.get(absent).is_none(), "{absent} in {j}");
    }
}

#[test]
fn policy_rules_are_sent_only_for_policy_style() {
    let rules =
        json!([{"source": "192.168.0.0/24", "destination": ["10.1.0.0/24", "10.2.0.0/24"]}]);
    let policy = spec(json!({"style": "policy", "policyRules": rules}));
    let body = desired_create(&policy, "c", &gw(), "cgw", None, vec![]);
    assert_eq!(body.style, Some(WireStyle::Policy));
    let r = body.policy_rules.unwrap_or_default();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].rule_index, None);
    assert_eq!(r[0].destination.as_ref().map(Vec::len), Some(2));

    let mut static_with_rules = spec(json!({}));
    static_with_rules.policy_rules = policy.policy_rules.clone();
    let body = desired_create(&static_with_rules, "c", &gw(), "cgw", None, vec![]);
    assert_eq!(body.policy_rules, None);
    assert_eq!(
        desired_update(
            &static_with_rules,
            "c",
            None,
            &cloud(ConnectionStatus::Active),
            None
        )
        .policy_rules,
        None
    );
}

#[test]
fn update_sends_complete_policies_with_spec_fields_over_the_cloud_values() {
    let s = spec(json!({
        "ikePolicy": {"lifetimeSeconds": 3600, "dpd": {"timeout": 20}},
        "ipsecPolicy": {"pfs": "group20"}
    }));
    let observed = cloud(ConnectionStatus::Active);
    let body = desired_update(&s, "conn", Some("cgw-2"), &observed, None);
    let ike = body.ikepolicy.clone().unwrap_or_default();
    assert_eq!(ike.lifetime_seconds, Some(3600), "spec wins");
    assert_eq!(ike.ike_version, Some(IkeVersion::V2), "cloud value kept");
    assert_eq!(ike.dh_group, Some(WireDhGroup::Group15));
    assert_eq!(ike.local_id, None, "a default ip identity is not pinned");
    assert_eq!(
        ike.dpd,
        Some(WireDpd {
            timeout: Some(20),
            interval: Some(30),
            msg: observed
                .ikepolicy
                .as_ref()
                .and_then(|p| p.dpd.as_ref())
                .and_then(|d| d.msg.clone())
        })
    );
    let j = serde_json::to_value(&body).unwrap_or_default();
    assert!(
        j["ikepolicy"].get("authentication_method").is_none(),
        "not updatable"
    );
    let ipsec = body.ipsecpolicy.clone().unwrap_or_default();
    assert_eq!(ipsec.pfs, Some(WireDhGroup::Group20));
    assert_eq!(ipsec.lifetime_seconds, Some(3600));
    assert_eq!(
        ipsec.encapsulation_mode,
        observed
            .ipsecpolicy
            .as_ref()
            .and_then(|p| p.encapsulation_mode.clone())
    );
    assert_eq!(body.cgw_id.as_deref(), Some("cgw-2"));
    assert_eq!(body.psk, None, "the key is sent only to rotate it");
    let rotating = desired_update(&s, "conn", None, &observed, Some(&Psk::new(KEY.into())));
    assert_eq!(rotating.psk, Some(Redacted::new(KEY.to_string())));
    assert_eq!(
        rotating.cgw_id, None,
        "unresolved customer gateway: keep the current one"
    );
}

#[test]
fn merged_policies_without_a_spec_repeat_the_cloud_except_default_ip_identities() {
    let observed = cloud(ConnectionStatus::Active);
    let ike = merged_ike(None, observed.ikepolicy.as_ref());
    let mut expected = crate::cloud::model::connection::UpdateIkePolicy::from(
        observed.ikepolicy.as_ref().unwrap_or(&WireIke::default()),
    );
    // The cloud reports the addresses as ip identities when none were configured: not sent back.
    expected.local_id = None;
    expected.peer_id = None;
    assert_eq!(ike, expected);
    assert_eq!(
        merged_ipsec(None, observed.ipsecpolicy.as_ref()),
        observed.ipsecpolicy.clone().unwrap_or_default()
    );
    assert_eq!(merged_ipsec(None, None), WireIpsec::default());

    // Configured identities are kept: fqdn ones from the cloud, any from the spec.
    let mut fqdn = observed.ikepolicy.clone().unwrap_or_default();
    fqdn.peer_id_type = Some(crate::cloud::model::connection::IkeIdType::Fqdn);
    fqdn.peer_id = Some("branch.example.com".into());
    let kept = merged_ike(None, Some(&fqdn));
    assert_eq!(kept.peer_id.as_deref(), Some("branch.example.com"));
    assert_eq!(kept.local_id, None);
    let s = spec(json!({"ikePolicy": {"localId": "198.51.100.10"}}));
    let set = merged_ike(s.ike_policy.as_ref(), observed.ikepolicy.as_ref());
    assert_eq!(set.local_id.as_deref(), Some("198.51.100.10"));
}

// ----- drift -------------------------------------------------------------------------------

#[test]
fn a_fresh_connection_with_server_defaults_has_no_drift() {
    let c = cloud(ConnectionStatus::Down);
    let d = drift(
        &spec(json!({})),
        "conn",
        Some(&gw()),
        Some("cgw-1"),
        &our_tags(),
        &c,
        &our_tags(),
    );
    assert_eq!(
        d,
        vec![],
        "server-assigned tunnel addresses and defaults are not drift"
    );
}

#[test]
fn drift_table() {
    let base = || cloud(ConnectionStatus::Active);
    let with = |f: &dyn Fn(&mut ResponseVpnConnection)| {
        let mut c = base();
        f(&mut c);
        c
    };
    // (spec extras, cloud, expected (field, updatable))
    type Case<'a> = (
        serde_json::Value,
        ResponseVpnConnection,
        Vec<(&'a str, bool)>,
    );
    let cases: Vec<Case> = vec![
        (json!({"name": "renamed"}), base(), vec![("name", true)]),
        (
            json!({}),
            with(&|c| c.peer_subnets = Some(vec!["10.9.0.0/16".into()])),
            vec![("peerSubnets", true)],
        ),
        // Same set, other order and case: no drift.
        (
            json!({"peerSubnets": ["10.2.0.0/16", "10.1.0.0/16"]}),
            with(&|c| c.peer_subnets = Some(vec!["10.1.0.0/16".into(), "10.2.0.0/16".into()])),
            vec![],
        ),
        (
            json!({"tunnelLocalAddress": "169.254.9.1/30"}),
            base(),
            vec![("tunnelLocalAddress", true)],
        ),
        (json!({"style": "bgp"}), base(), vec![("style", false)]),
        (json!({"haRole": "slave"}), base(), vec![("haRole", false)]),
        (
            json!({"enableNqa": true}),
            base(),
            vec![("enableNqa", false)],
        ),
        (
            json!({"enableHub": true}),
            base(),
            vec![("enableHub", true)],
        ),
        (json!({"enableHub": false}), base(), vec![]),
        (
            json!({}),
            with(&|c| c.cgw_id = Some("cgw-other".into())),
            vec![("customerGatewayRef", true)],
        ),
        (
            json!({}),
            with(&|c| c.vgw_ip = Some("eip-2".into())),
            vec![("gatewayIp", false)],
        ),
        (
            json!({"ikePolicy": {"lifetimeSeconds": 3600, "ikeVersion": "v2"}}),
            base(),
            vec![("ikePolicy.lifetimeSeconds", true)],
        ),
        (
            json!({"ikePolicy": {"authenticationMethod": "digital-envelope-v2"}}),
            base(),
            vec![("ikePolicy.authenticationMethod", false)],
        ),
        (
            json!({"ikePolicy": {"dpd": {"interval": 45}}}),
            base(),
            vec![("ikePolicy.dpd.interval", true)],
        ),
        (
            json!({"ipsecPolicy": {"pfs": "disable", "lifetimeSeconds": 3600}}),
            base(),
            vec![("ipsecPolicy.pfs", true)],
        ),
        (
            json!({"tags": {"env": "dev"}}),
            base(),
            vec![("tags", true)],
        ),
    ];
    for (i, (extra, c, want)) in cases.into_iter().enumerate() {
        let s = spec(extra);
        let mut tags = our_tags();
        tags[0] = tag(
            "env",
            s.tags.get("env").map(String::as_str).unwrap_or("prod"),
        );
        let name = s.name.clone().unwrap_or_else(|| "conn".into());
        let d = drift(
            &s,
            &name,
            Some(&gw()),
            Some("cgw-1"),
            &tags,
            &c,
            &our_tags(),
        );
        let got: Vec<(&str, bool)> = d.iter().map(|f| (f.field.as_str(), f.updatable)).collect();
        assert_eq!(got, want, "case {i}: {d:?}");
    }
}

#[test]
fn drift_shows_values_but_never_the_key_and_skips_unresolved_references() {
    let c = ResponseVpnConnection {
        cgw_id: Some("cgw-9".into()),
        ..cloud(ConnectionStatus::Active)
    };
    let s = spec(json!({"ikePolicy": {"lifetimeSeconds": 3600}}));
    let d = drift(&s, "conn", None, None, &our_tags(), &c, &our_tags());
    assert_eq!(
        fields(&d),
        ["ikePolicy.lifetimeSeconds"],
        "no gateway/cgw comparison without references"
    );
    assert_eq!(
        (d[0].desired.as_str(), d[0].observed.as_str()),
        ("3600", "86400")
    );
    assert!(d.iter().all(|f| !f.field.contains("psk")));
}

#[test]
fn policy_rules_drift_ignores_rule_index_and_destination_order() {
    let s = spec(json!({"style": "policy", "policyRules": [
        {"source": "192.168.0.0/24", "destination": ["10.1.0.0/24", "10.2.0.0/24"]},
        {"source": "192.168.1.0/24", "destination": ["10.3.0.0/24"]}
    ]}));
    let rule = |i, src: &str, dst: &[&str]| WireRule {
        rule_index: Some(i),
        source: Some(src.into()),
        destination: Some(dst.iter().map(|d| d.to_string()).collect()),
    };
    let mut c = cloud(ConnectionStatus::Active);
    c.style = Some(ResponseConnectionStyle::Policy);
    c.policy_rules = Some(vec![
        rule(1, "192.168.1.0/24", &["10.3.0.0/24"]),
        rule(0, "192.168.0.0/24", &["10.2.0.0/24", "10.1.0.0/24"]),
    ]);
    let d = drift(
        &s,
        "conn",
        Some(&gw()),
        Some("cgw-1"),
        &our_tags(),
        &c,
        &our_tags(),
    );
    assert_eq!(d, vec![]);
    c.policy_rules = Some(vec![rule(0, "192.168.0.0/24", &["10.1.0.0/24"])]);
    let d = drift(
        &s,
        "conn",
        Some(&gw()),
        Some("cgw-1"),
        &our_tags(),
        &c,
        &our_tags(),
    );
    assert_eq!(fields(&d), ["policyRules"]);
}

// ----- plan --------------------------------------------------------------------------------

/// The plan for `s` (whose status last sent the key hashed `recorded`) with these inputs and
/// this observation.
fn plan_for(s: VpnConnectionSpec, inputs: &Inputs, obs: &Observed, recorded: Option<&str>) -> Plan {
    plan(&object(s, recorded), inputs, obs, &at(100)).unwrap_or_else(|e| panic!("{e}"))
}

fn creates(p: &Plan) -> Option<Option<&str>> {
    match p {
        Plan::Create { replaces, body, .. } => {
            assert_eq!(
                (body.vgw_id.as_str(), body.cgw_id.as_str()),
                ("vgw-1", "cgw-1")
            );
            Some(replaces.as_deref())
        }
        _ => None,
    }
}

#[test]
fn plan_when_nothing_is_found() {
    let none = observed(Found::default());
    let gone = observed(gone("old"));
    let managed = spec(json!({}));
    let adopting = spec(json!({"cloudId": "given"}));
    let observing = spec(json!({"cloudId": "given", "managementPolicy": "Observe"}));
    let p = |s: &VpnConnectionSpec, o| plan_for(s.clone(), &inputs(None), o, None);
    assert_eq!(creates(&p(&managed, &none)), Some(None));
    assert_eq!(
        creates(&p(&managed, &gone)),
        Some(Some("old")),
        "recorded, gone, no copy: recreate"
    );
    let missing = |id: &str| Plan::Missing {
        id: Some(id.into()),
    };
    assert_eq!(p(&adopting, &gone), missing("old"));
    assert_eq!(p(&observing, &gone), missing("old"));
    assert_eq!(p(&observing, &none), missing("given"));
    let unset = spec(json!({"managementPolicy": "Observe"}));
    assert_eq!(p(&unset, &none), Plan::Missing { id: None });
}

#[test]
fn plan_by_cloud_state() {
    let psk = Psk::new(KEY.into());
    use ConnectionStatus::*;
    for (state, want) in [
        (PendingCreate, Some(Plan::Wait)),
        (PendingUpdate, Some(Plan::Wait)),
        (PendingDelete, Some(Plan::Wait)),
        (Unknown, Some(Plan::Wait)),
        (Other("REBOOTING".into()), Some(Plan::Wait)),
        (Error, Some(Plan::Hold)),
        (Freezed, Some(Plan::Hold)),
        (Active, None),
        (Down, None),
    ] {
        let obs = found(cloud(state.clone()));
        let got = plan_for(
            spec(json!({})),
            &inputs(Some(&psk)),
            &obs,
            Some(&psk.sha256),
        );
        match want {
            Some(w) => assert_eq!(got, w, "{state}"),
            None => assert_eq!(
                got,
                Plan::Sync {
                    id: "conn-1".into(),
                    lock: "vgw-1".into(),
                    tags: TagDiff::default(),
                    update: None,
                    monitor: None
                },
                "{state}"
            ),
        }
    }
    let observing = spec(json!({"cloudId": "conn-1", "managementPolicy": "Observe"}));
    let obs = found(cloud(Active));
    assert_eq!(plan_for(observing, &inputs(None), &obs, None), Plan::Report);
}

fn sync_parts(p: Plan) -> (TagDiff, Option<Box<Update>>, Option<MonitorChange>) {
    match p {
        Plan::Sync {
            tags,
            update,
            monitor,
            ..
        } => (tags, update, monitor),
        other => panic!("expected Sync, got {other:?}"),
    }
}

#[test]
fn plan_updates_changed_fields_and_rotates_the_key() {
    let psk = Psk::new(KEY.into());
    let obs = found(cloud(ConnectionStatus::Active));

    // A spec change: one PUT naming the fields, no key.
    let s = spec(json!({"name": "renamed", "ikePolicy": {"lifetimeSeconds": 3600}}));
    let mut inp = inputs(Some(&psk));
    inp.name = "renamed".into();
    let (_, update, _) = sync_parts(plan_for(s, &inp, &obs, Some(&psk.sha256)));
    let u = update.expect("an update");
    assert_eq!(u.fields, ["name", "ikePolicy.lifetimeSeconds"]);
    assert!(!u.rotates_psk && u.body.psk.is_none());

    // The Secret changed: PUT the key alone.
    let plain = spec(json!({}));
    let (_, update, _) = sync_parts(plan_for(
        plain.clone(),
        &inputs(Some(&psk)),
        &obs,
        Some("old-hash"),
    ));
    let u = update.expect("a rotation");
    assert_eq!(u.fields, ["pskSecretRef"]);
    assert!(u.rotates_psk);
    assert_eq!(u.body.psk.as_ref().map(|p| p.expose().as_str()), Some(KEY));
    assert!(
        !format!("{u:?}").contains(KEY),
        "the plan is logged: the key never shows"
    );

    // Tags go through the tag API, not the PUT.
    let mut other_tags = inputs(Some(&psk));
    other_tags.tags[0] = tag("env", "dev");
    let (tag_changes, update, _) =
        sync_parts(plan_for(plain, &other_tags, &obs, Some(&psk.sha256)));
    assert_eq!(update, None);
    assert_eq!(tag_changes.add, vec![tag("env", "dev")]);
}

#[test]
fn plan_turns_the_health_check_on_and_off_but_not_during_an_update() {
    let on = spec(json!({"healthCheck": {"enabled": true}}));
    let off = spec(json!({"healthCheck": {"enabled": false}}));
    let unset = spec(json!({}));
    let without = found(cloud(ConnectionStatus::Active));
    let mut with = found(cloud(ConnectionStatus::Active));
    with.monitors = vec![monitor("m-1", MonitorStatus::Active)];
    let m = |s: &VpnConnectionSpec, o| sync_parts(plan_for(s.clone(), &inputs(None), o, None)).2;
    assert_eq!(m(&on, &without), Some(MonitorChange::Create));
    assert_eq!(m(&on, &with), None);
    assert_eq!(
        m(&off, &with),
        Some(MonitorChange::Delete(vec!["m-1".into()]))
    );
    assert_eq!(
        m(&unset, &with),
        Some(MonitorChange::Delete(vec!["m-1".into()]))
    );
    assert_eq!(m(&off, &without), None);
    let mut leaving = found(cloud(ConnectionStatus::Active));
    leaving.monitors = vec![monitor("m-1", MonitorStatus::PendingDelete)];
    assert_eq!(
        m(&off, &leaving),
        None,
        "a monitor being deleted is not deleted again"
    );
    let renamed = spec(json!({"name": "new", "healthCheck": {"enabled": true}}));
    let mut inp = inputs(None);
    inp.name = "new".into();
    let (_, update, monitor) = sync_parts(plan_for(renamed, &inp, &without, None));
    assert!(
        update.is_some() && monitor.is_none(),
        "the monitor waits for the update to finish"
    );
}

fn waiting_gateway(watched: bool) -> Resolved<ResolvedGateway> {
    Resolved::Waiting {
        message: "VpnGateway vgw is not Ready yet (Creating)".into(),
        watched,
    }
}

#[test]
fn a_reference_that_is_not_ready_blocks_only_a_create() {
    let s = spec(json!({}));
    // Waiting for 100 s: since Ready turned False at 0 (the plan runs at 100).
    let mut obj = object(s.clone(), None);
    if let Some(st) = obj.status.as_mut() {
        let c = Cond::no(reasons::DEPENDENCY_NOT_READY, "");
        set(&mut st.conditions, &at(0), types::READY, c, Some(1));
    }
    let none = Observed {
        gateway: waiting_gateway(true),
        ..observed(Found::default())
    };
    let err = plan(&obj, &inputs(None), &none, &at(100)).unwrap_err();
    assert_eq!(err.reason(), reasons::DEPENDENCY_NOT_READY);
    assert_eq!(
        err.to_string(),
        "VpnGateway vgw is not Ready yet (Creating)"
    );
    assert_eq!(
        err.wait(),
        Some(Next::Dependency {
            since: Duration::from_secs(100)
        }),
        "the VpnGateway's changes wake it"
    );
    // A gateway named by cloud id is polled like a pending cloud resource.
    let by_id = Observed {
        gateway: waiting_gateway(false),
        ..observed(Found::default())
    };
    let err = plan(&obj, &inputs(None), &by_id, &at(100)).unwrap_err();
    assert_eq!(
        err.wait(),
        Some(Next::Pending {
            since: Duration::from_secs(100),
            watched: false
        })
    );
    // The customer gateway too.
    let mut cgw_waits = inputs(None);
    cgw_waits.customer_gateway = Resolved::Waiting {
        message: "CustomerGateway office is not Ready yet".into(),
        watched: true,
    };
    let err = plan(&obj, &cgw_waits, &observed(Found::default()), &at(100)).unwrap_err();
    assert_eq!(err.to_string(), "CustomerGateway office is not Ready yet");

    // An existing connection keeps its settings: synced without the customer gateway.
    let exists = Observed {
        gateway: waiting_gateway(true),
        ..found(cloud(ConnectionStatus::Active))
    };
    let p = plan(&obj, &cgw_waits, &exists, &at(100)).expect("a plan");
    assert!(matches!(p, Plan::Sync { update: None, .. }), "{p:?}");
}

#[test]
fn spec_errors_always_stop_but_observing_tolerates_everything() {
    let invalid = Observed {
        gateway: Resolved::Invalid(
            "gatewayIp is eip1 but VpnGateway vgw is a private gateway".into(),
        ),
        ..found(cloud(ConnectionStatus::Active))
    };
    let err = plan(
        &object(spec(json!({})), None),
        &inputs(None),
        &invalid,
        &at(0),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSpec(m) if m.contains("private gateway")),
        "{err}"
    );
    assert_eq!(err.reason(), reasons::INVALID_SPEC);

    let observing = spec(json!({"cloudId": "conn-1", "managementPolicy": "Observe"}));
    let mut bad = inputs(None);
    bad.customer_gateway = Resolved::Invalid("customerGatewayRef needs name or cloudId".into());
    bad.psk = Err(SecretProblem {
        namespace: "ns".into(),
        name: "psk".into(),
        problem: "not found".into(),
    });
    assert_eq!(
        plan(&object(observing, None), &bad, &invalid, &at(0)).ok(),
        Some(Plan::Report)
    );
}

#[test]
fn a_key_problem_is_reported_once_the_references_resolve() {
    let mut bad = inputs(None);
    bad.psk = Err(SecretProblem {
        namespace: "ns".into(),
        name: "psk".into(),
        problem: "key \"psk\": the pre-shared key must have 8-128 characters (it has 4)".into(),
    });
    let obj = object(spec(json!({})), None);
    let err = plan(&obj, &bad, &observed(Found::default()), &at(0)).unwrap_err();
    assert_eq!(err.reason(), reasons::SECRET_NOT_READY);
    assert!(err.blocks_readiness());
    assert!(
        err.to_string().starts_with("secret ns/psk: key \"psk\""),
        "{err}"
    );
    // A reference that waits is said first (as before the contract).
    let waits = Observed {
        gateway: waiting_gateway(true),
        ..observed(Found::default())
    };
    let err = plan(&obj, &bad, &waits, &at(0)).unwrap_err();
    assert_eq!(err.reason(), reasons::DEPENDENCY_NOT_READY);
}

#[test]
fn references_of_an_existing_connection_fall_back_to_the_recorded_gateway() {
    let recorded = VpnConnectionStatus {
        vpn_gateway_id: Some("vgw-1".into()),
        gateway_ip: Some("eip-1".into()),
        gateway_address: Some("198.51.100.10".into()),
        ..Default::default()
    };
    let ready_cgw = Resolved::Ready("cgw-1".to_string());
    let cgw_waits = Resolved::Waiting {
        message: "CustomerGateway office is not Ready yet".into(),
        watched: true,
    };
    let gw_ready = Resolved::Ready(gw());
    let gw_waits = waiting_gateway(false);
    let none = VpnConnectionStatus::default();
    let table: Vec<(
        &VpnConnectionStatus,
        &Resolved<ResolvedGateway>,
        &Resolved<String>,
        Refs,
    )> = vec![
        (
            &none,
            &gw_ready,
            &ready_cgw,
            Refs {
                gateway: Some(gw()),
                cgw_id: Some("cgw-1"),
                waiting: None,
            },
        ),
        // The gateway cannot change: the recorded one stands in, nothing waits.
        (
            &recorded,
            &gw_waits,
            &ready_cgw,
            Refs {
                gateway: Some(gw()),
                cgw_id: Some("cgw-1"),
                waiting: None,
            },
        ),
        (
            &none,
            &gw_waits,
            &cgw_waits,
            Refs {
                gateway: None,
                cgw_id: None,
                waiting: Some(("VpnGateway vgw is not Ready yet (Creating)".into(), false)),
            },
        ),
        (
            &recorded,
            &gw_waits,
            &cgw_waits,
            Refs {
                gateway: Some(gw()),
                cgw_id: None,
                waiting: Some(("CustomerGateway office is not Ready yet".into(), true)),
            },
        ),
    ];
    for (i, (prev, g, c, want)) in table.into_iter().enumerate() {
        assert_eq!(refs(prev, g, c), want, "case {i}");
    }
}

#[test]
fn deletion_deletes_monitors_first_waits_for_the_cloud_and_leaves_another_objects() {
    let mut deleting = object(spec(json!({})), None);
    deleting.metadata.deletion_timestamp = Some(at(0));
    let p = |o: Observed| plan(&deleting, &inputs(None), &o, &at(10)).expect("a plan");
    let with_monitors = |state| {
        let mut o = found(cloud(state));
        o.monitors = vec![
            monitor("m-1", MonitorStatus::Active),
            monitor("m-2", MonitorStatus::PendingDelete),
        ];
        o
    };
    assert_eq!(
        p(with_monitors(ConnectionStatus::Active)),
        Plan::Delete {
            id: "conn-1".into(),
            lock: "vgw-1".into(),
            monitors: vec!["m-1".into()]
        },
        "a monitor already being deleted is not deleted again"
    );
    assert_eq!(
        p(with_monitors(ConnectionStatus::PendingUpdate)),
        Plan::AwaitDeletion {
            id: "conn-1".into(),
            state: ConnectionStatus::PendingUpdate,
            monitors: vec!["m-1".into()]
        }
    );
    assert!(matches!(
        p(found(cloud(ConnectionStatus::PendingDelete))),
        Plan::AwaitDeletion { .. }
    ));
    assert!(matches!(
        p(found(cloud(ConnectionStatus::Error))),
        Plan::Delete { .. }
    ));
    assert_eq!(
        p(observed(gone("conn-1"))),
        Plan::Gone {
            id: Some("conn-1".into())
        }
    );
    assert_eq!(p(observed(Found::default())), Plan::Gone { id: None });
    let mut foreign = found(cloud(ConnectionStatus::Active));
    foreign.found.foreign = Some("c:ns:owner".into());
    assert_eq!(
        p(foreign),
        Plan::LeaveForeign {
            id: "conn-1".into(),
            owner: "c:ns:owner".into()
        }
    );
    // Deleting needs neither the references nor the key.
    let mut broken = inputs(None);
    broken.customer_gateway = Resolved::Invalid("x".into());
    broken.psk = Err(SecretProblem {
        namespace: "ns".into(),
        name: "psk".into(),
        problem: "not found".into(),
    });
    assert!(plan(
        &deleting,
        &broken,
        &found(cloud(ConnectionStatus::Active)),
        &at(10)
    )
    .is_ok());
}

// ----- status ------------------------------------------------------------------------------

#[test]
fn conditions_for_every_cloud_state() {
    use ConditionStatus::{False, True, Unknown as U};
    use ConnectionStatus::*;
    // (state, Ready, TunnelUp, tunnelState, pending)
    type Row<'a> = (
        Option<ConnectionStatus>,
        Option<(ConditionStatus, &'a str)>,
        (ConditionStatus, &'a str),
        &'a str,
        bool,
    );
    let cases: Vec<Row> = vec![
        (
            Some(Active),
            Some((True, reasons::AVAILABLE)),
            (True, reasons::TUNNEL_ACTIVE),
            "Up",
            false,
        ),
        (
            Some(Down),
            Some((True, reasons::AVAILABLE)),
            (False, reasons::TUNNEL_DOWN),
            "Down",
            false,
        ),
        (
            Some(Error),
            Some((False, reasons::CLOUD_FAULT)),
            (False, reasons::TUNNEL_DOWN),
            "Down",
            false,
        ),
        (
            Some(Freezed),
            Some((False, reasons::FROZEN)),
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            false,
        ),
        (
            Some(PendingCreate),
            Some((False, reasons::CREATING)),
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            true,
        ),
        (
            None,
            Some((False, reasons::CREATING)),
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            true,
        ),
        (
            Some(PendingUpdate),
            Some((False, reasons::UPDATING)),
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            true,
        ),
        (
            Some(PendingDelete),
            Some((False, reasons::DELETING)),
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            true,
        ),
        (
            Some(Unknown),
            None,
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            true,
        ),
        (
            Some(Other("NEW".into())),
            None,
            (U, reasons::TUNNEL_STATE_UNKNOWN),
            "Unknown",
            true,
        ),
    ];
    for (state, ready, tunnel, tunnel_state, pending) in cases {
        let c = state_conditions(state.as_ref());
        assert_eq!(c.ready.map(|r| (r.status, r.reason)), ready, "{state:?}");
        assert_eq!((c.tunnel.status, c.tunnel.reason), tunnel, "{state:?}");
        assert_eq!(
            (c.tunnel_state, c.pending),
            (tunnel_state, pending),
            "{state:?}"
        );
    }
}

#[test]
fn synced_condition_table() {
    let immutable = [FieldDiff::new("style", "static", "BGP", false)];
    let updatable = [FieldDiff::new("name", "a", "b", true)];
    type Row<'a> = (
        bool,
        &'a [FieldDiff],
        Option<&'a str>,
        bool,
        ConditionStatus,
        &'a str,
    );
    let cases: Vec<Row> = vec![
        (
            false,
            &[],
            None,
            false,
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
        ),
        (
            false,
            &[],
            None,
            true,
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
        ),
        (
            false,
            &immutable,
            None,
            false,
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
        ),
        (
            false,
            &immutable,
            Some("x"),
            false,
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
        ),
        (
            false,
            &[],
            Some("CustomerGateway office is not Ready yet"),
            false,
            ConditionStatus::False,
            reasons::DEPENDENCY_NOT_READY,
        ),
        (
            true,
            &updatable,
            None,
            false,
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
        ),
        (
            true,
            &immutable,
            None,
            false,
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
        ),
    ];
    for (i, (observe, remaining, dep, changed, status, reason)) in cases.into_iter().enumerate() {
        let c = synced_condition(observe, remaining, dep, changed);
        assert_eq!(
            (c.status, c.reason),
            (status, reason),
            "case {i}: {}",
            c.message
        );
        for d in remaining {
            assert!(c.message.contains(&d.field), "case {i}: {}", c.message);
        }
    }
}

#[test]
fn status_reports_the_connection_gateway_monitor_and_key_hash() {
    let mut c = cloud(ConnectionStatus::Active);
    c.bgp_peer = Some(BgpPeer {
        peer_ip_address: Some("169.254.56.226".into()),
        peer_asn: Some(65000),
        state: Some("established".into()),
        num_received_routes: Some(3),
        ..Default::default()
    });
    let monitors = [monitor("m-1", MonitorStatus::PendingCreate)];
    let g = gw();
    let synced = synced_condition(false, &[], None, false);
    let s = build_status(
        &VpnConnectionStatus::default(),
        Seen::Exists(&c, &monitors),
        Known {
            gateway: Some(&g),
            psk_sha256: Some("hash".into()),
        },
        &[],
        synced,
        Some(2),
        &at(100),
    );
    assert_eq!(s.cloud_id.as_deref(), Some("conn-1"));
    assert_eq!(s.cloud_state.as_deref(), Some("ACTIVE"));
    assert_eq!(s.tunnel_state.as_deref(), Some("Up"));
    assert_eq!(s.vpn_gateway_id.as_deref(), Some("vgw-1"));
    assert_eq!(s.gateway_ip.as_deref(), Some("eip-1"));
    assert_eq!(s.gateway_address.as_deref(), Some("198.51.100.10"));
    assert_eq!(s.customer_gateway_id.as_deref(), Some("cgw-1"));
    assert_eq!(s.tunnel_peer_address.as_deref(), Some("169.254.56.226/30"));
    assert_eq!(
        (s.monitor_id.as_deref(), s.monitor_state.as_deref()),
        (Some("m-1"), Some("PENDING_CREATE"))
    );
    assert_eq!(s.bgp_peer.as_ref().and_then(|b| b.peer_asn), Some(65000));
    assert_eq!(s.psk_sha256.as_deref(), Some("hash"));
    assert_eq!(s.created_at.as_deref(), Some("2025-06-28T07:36:24.923Z"));
    for t in [types::READY, types::SYNCED, types::TUNNEL_UP] {
        assert!(is_condition_true(&s.conditions, t), "{t}");
    }
    let json = serde_json::to_string(&s).unwrap_or_default();
    assert!(!json.contains(KEY));

    // A gateway address for another vgw_ip is not shown as this tunnel's.
    let other = ResolvedGateway {
        vgw_ip: "eip-2".into(),
        ..gw()
    };
    let s2 = build_status(
        &VpnConnectionStatus::default(),
        Seen::Exists(&c, &[]),
        Known {
            gateway: Some(&other),
            psk_sha256: None,
        },
        &[],
        synced_condition(false, &[], None, false),
        Some(2),
        &at(100),
    );
    assert_eq!(s2.gateway_address, None);
    assert_eq!(s2.monitor_id, None);
}

#[test]
fn unknown_state_keeps_the_last_ready_condition() {
    let synced = || synced_condition(false, &[], None, false);
    let first = build_status(
        &VpnConnectionStatus::default(),
        Seen::Exists(&cloud(ConnectionStatus::Down), &[]),
        Known::default(),
        &[],
        synced(),
        Some(1),
        &at(10),
    );
    let ready = |s: &VpnConnectionStatus| find_condition(&s.conditions, types::READY).cloned();
    let then = build_status(
        &first,
        Seen::Exists(&cloud(ConnectionStatus::Unknown), &[]),
        Known::default(),
        &[],
        synced(),
        Some(1),
        &at(20),
    );
    assert_eq!(ready(&then), ready(&first));
    assert_eq!(then.tunnel_state.as_deref(), Some("Unknown"));
    let fresh = build_status(
        &VpnConnectionStatus::default(),
        Seen::Exists(&cloud(ConnectionStatus::Unknown), &[]),
        Known::default(),
        &[],
        synced(),
        Some(1),
        &at(20),
    );
    assert_eq!(
        ready(&fresh).map(|c| c.status),
        Some(ConditionStatus::Unknown)
    );
}

#[test]
fn missing_connection_keeps_its_id_and_gateway() {
    let prev = VpnConnectionStatus {
        cloud_id: Some("conn-1".into()),
        vpn_gateway_id: Some("vgw-1".into()),
        gateway_ip: Some("eip-1".into()),
        cloud_state: Some("ACTIVE".into()),
        tunnel_local_address: Some("169.254.1.1/30".into()),
        ..Default::default()
    };
    let s = build_status(
        &prev,
        Seen::Missing(Some("conn-1")),
        Known::default(),
        &[],
        synced_condition(true, &[], None, false),
        Some(1),
        &at(5),
    );
    assert_eq!(s.cloud_id.as_deref(), Some("conn-1"));
    assert_eq!(s.vpn_gateway_id.as_deref(), Some("vgw-1"));
    assert_eq!(s.cloud_state, None);
    assert_eq!(s.tunnel_local_address, None);
    let ready = find_condition(&s.conditions, types::READY).cloned();
    assert_eq!(
        ready.map(|c| (c.status, c.reason)),
        Some((ConditionStatus::False, reasons::NOT_FOUND.to_string()))
    );
}

#[test]
fn the_monitor_list_is_read_only_when_the_connection_does_not_tell_enough() {
    use super::observe::known_monitors;
    use crate::crd::vpn_connection::VpnConnectionStatus;
    let named = |id: &str| {
        let mut c = cloud(ConnectionStatus::Active);
        c.connection_monitor_id = Some(id.into());
        c
    };
    let none = cloud(ConnectionStatus::Active);
    let recorded = |id: &str, state: &str| VpnConnectionStatus {
        monitor_id: Some(id.into()),
        monitor_state: Some(state.into()),
        ..Default::default()
    };
    let blank = VpnConnectionStatus::default();
    let active = Some(vec![monitor("mon-1", MonitorStatus::Active)]);
    // (connection, status, health check wanted, deleting) -> known monitors (None: list).
    type Case = (
        &'static str,
        ResponseVpnConnection,
        VpnConnectionStatus,
        bool,
        bool,
        Option<Vec<crate::cloud::model::monitor::ConnectionMonitorInfo>>,
    );
    let cases: Vec<Case> = vec![
        (
            "none named, none wanted",
            none.clone(),
            blank.clone(),
            false,
            false,
            Some(vec![]),
        ),
        (
            "none named, an empty id",
            named(""),
            blank.clone(),
            false,
            false,
            Some(vec![]),
        ),
        (
            "none named though one was recorded: gone",
            none.clone(),
            recorded("mon-1", "ACTIVE"),
            false,
            false,
            Some(vec![]),
        ),
        (
            "none named, one wanted: confirm before creating",
            none.clone(),
            blank.clone(),
            true,
            false,
            None,
        ),
        (
            "wanted, named and recorded ACTIVE",
            named("mon-1"),
            recorded("mon-1", "ACTIVE"),
            true,
            false,
            active,
        ),
        (
            "wanted, named, recorded pending",
            named("mon-1"),
            recorded("mon-1", "PENDING_CREATE"),
            true,
            false,
            None,
        ),
        (
            "wanted, another one named",
            named("mon-2"),
            recorded("mon-1", "ACTIVE"),
            true,
            false,
            None,
        ),
        (
            "wanted, named, nothing recorded (just made)",
            named("mon-1"),
            blank.clone(),
            true,
            false,
            None,
        ),
        (
            "named, not wanted: read to delete it",
            named("mon-1"),
            recorded("mon-1", "ACTIVE"),
            false,
            false,
            None,
        ),
        (
            "named by someone else, not wanted",
            named("mon-9"),
            blank.clone(),
            false,
            false,
            None,
        ),
        (
            "departing: always read",
            none.clone(),
            blank.clone(),
            false,
            true,
            None,
        ),
        (
            "departing with a settled monitor",
            named("mon-1"),
            recorded("mon-1", "ACTIVE"),
            true,
            true,
            None,
        ),
    ];
    for (case, conn, status, wanted, deleting, expected) in cases {
        assert_eq!(
            known_monitors(&conn, &status, wanted, deleting),
            expected,
            "{case}"
        );
    }
}

#[test]
fn the_owner_tag_search_takes_the_oldest_of_ours_on_the_gateway() {
    let mut foreign = cloud(ConnectionStatus::Active);
    foreign.id = "theirs".into();
    foreign.tags = Some(vec![tag(TAG_UID, "other")]);
    let mut newer = cloud(ConnectionStatus::Active);
    newer.id = "newer".into();
    newer.created_at = Some(WireTime::new("2026-01-01T00:00:00Z"));
    let mut elsewhere = cloud(ConnectionStatus::Active);
    elsewhere.id = "elsewhere".into();
    elsewhere.vgw_id = Some("vgw-2".into());
    elsewhere.created_at = Some(WireTime::new("2020-01-01T00:00:00Z"));
    let items = vec![
        foreign.clone(),
        newer,
        cloud(ConnectionStatus::Active),
        elsewhere,
    ];
    let id = |gw| oldest_owned(&items, UID, gw).map(|c| c.id);
    assert_eq!(id(Some("vgw-1")).as_deref(), Some("conn-1"));
    assert_eq!(
        id(None).as_deref(),
        Some("elsewhere"),
        "no gateway known: all of them"
    );
    assert_eq!(oldest_owned(&[foreign], UID, None), None);
}

// ----- next status -------------------------------------------------------------------------

/// The outcome of a reconcile of `obj` that observed `obs`, planned and did as told.
fn outcome(
    obj: &VpnConnection,
    inputs: &Inputs,
    obs: &Observed,
    acted: Acted,
) -> Reconciled<VpnConnectionStatus> {
    let p = plan(obj, inputs, obs, &at(100)).expect("a plan");
    reconciled(obj, inputs, obs, &p, acted, &at(100))
}

fn note_reasons(r: &Reconciled<VpnConnectionStatus>) -> Vec<&str> {
    r.notes.iter().map(|n| n.reason.as_str()).collect()
}

#[test]
fn drift_made_in_the_cloud_is_announced_once_and_corrected() {
    let psk = Psk::new(KEY.into());
    let mut c = cloud(ConnectionStatus::Active);
    if let Some(ike) = c.ikepolicy.as_mut() {
        ike.lifetime_seconds = Some(7200);
    }
    let s = spec(json!({"ikePolicy": {"lifetimeSeconds": 86400}}));
    let obj = object(s.clone(), Some(&psk.sha256));
    let obs = found(c.clone());
    let updated = Acted::Synced {
        updated: Some(c.clone()),
        monitors: None,
    };
    let r = outcome(&obj, &inputs(Some(&psk)), &obs, updated.clone());
    assert_eq!(note_reasons(&r), [DRIFT_DETECTED, "Updated"]);
    let drift = &r.notes[0];
    assert!(drift.warning);
    assert_eq!(drift.action, actions::OBSERVE);
    assert_eq!(
        drift.message,
        "Connection differs from the spec: ikePolicy.lifetimeSeconds (spec 86400, cloud 7200) \
         (changed outside the operator; being corrected)"
    );
    assert!(r.status.drift.is_empty(), "corrected: nothing remains");
    assert_eq!(r.next, Next::Soon, "confirm the change soon");
    assert_eq!(r.status.cloud_state.as_deref(), Some("PENDING_UPDATE"));

    // Still differing at the next look (e.g. the PUT is pending): announced only once.
    let mut seen = object(s.clone(), Some(&psk.sha256));
    seen.status = Some(VpnConnectionStatus {
        drift: drift_entries(
            &[],
            &[FieldDiff::new(
                "ikePolicy.lifetimeSeconds",
                "86400",
                "7200",
                true,
            )],
            &at(50),
        ),
        ..r.status.clone()
    });
    let again = outcome(&seen, &inputs(Some(&psk)), &obs, updated);
    assert!(
        !note_reasons(&again).contains(&DRIFT_DETECTED),
        "{:?}",
        again.notes
    );
    // A spec change is not drift.
    let mut edited = object(s, Some(&psk.sha256));
    edited.metadata.generation = Some(2);
    let r = outcome(&edited, &inputs(Some(&psk)), &obs, Acted::Nothing);
    assert!(!note_reasons(&r).contains(&DRIFT_DETECTED));
}

#[test]
fn a_rotated_key_is_recorded_only_as_its_hash() {
    let old = Psk::new("Old-Key-2024".into());
    let new = Psk::new(KEY.into());
    let obj = object(spec(json!({})), Some(&old.sha256));
    let c = cloud(ConnectionStatus::Active);
    let acted = Acted::Synced {
        updated: Some(ResponseVpnConnection {
            status: None,
            ..c.clone()
        }),
        monitors: None,
    };
    let r = outcome(&obj, &inputs(Some(&new)), &found(c), acted);
    assert_eq!(r.status.psk_sha256.as_deref(), Some(new.sha256.as_str()));
    assert_eq!(note_reasons(&r), [PSK_ROTATED]);
    assert_eq!(r.notes[0].action, actions::UPDATE);
    let everything = format!(
        "{:?}{}",
        r.notes,
        serde_json::to_string(&r.status).unwrap_or_default()
    );
    assert!(!everything.contains(KEY));
    assert_eq!(
        find_condition(&r.status.conditions, types::READY).map(|c| c.reason.as_str()),
        Some(reasons::UPDATING),
        "the PUT's answer has no state: PENDING_UPDATE"
    );
}

#[test]
fn what_an_existing_connection_waits_for() {
    let psk = Psk::new(KEY.into());
    let obj = object(spec(json!({})), Some(&psk.sha256));
    let inp = inputs(Some(&psk));
    let at_rest = outcome(
        &obj,
        &inp,
        &found(cloud(ConnectionStatus::Active)),
        Acted::Nothing,
    );
    assert_eq!(
        (at_rest.next.clone(), at_rest.watch.clone()),
        (Next::Resync, None)
    );

    let pending = outcome(
        &obj,
        &inp,
        &found(cloud(ConnectionStatus::PendingCreate)),
        Acted::Nothing,
    );
    assert!(
        matches!(pending.next, Next::Pending { watched: false, .. }),
        "{:?}",
        pending.next
    );
    assert_eq!(
        pending.watch,
        Some(Watch::new("conn-1", "PENDING_CREATE")),
        "the pending watch wakes it"
    );

    // A health check in flux is polled (the pending watch only sees connections).
    let mut monitoring = found(cloud(ConnectionStatus::Active));
    monitoring.monitors = vec![monitor("m-1", MonitorStatus::PendingCreate)];
    let on = object(
        spec(json!({"healthCheck": {"enabled": true}})),
        Some(&psk.sha256),
    );
    let polled = outcome(&on, &inp, &monitoring, Acted::Nothing);
    assert!(matches!(polled.next, Next::Pending { .. }) && polled.watch.is_none());

    // A named object that is not Ready wakes it: the connection keeps its settings.
    let mut cgw_waits = inp.clone();
    cgw_waits.customer_gateway = Resolved::Waiting {
        message: "CustomerGateway office is not Ready yet (Deleting)".into(),
        watched: true,
    };
    let r = outcome(
        &obj,
        &cgw_waits,
        &found(cloud(ConnectionStatus::Active)),
        Acted::Nothing,
    );
    assert_eq!(
        r.next,
        Next::Dependency {
            since: Duration::ZERO
        }
    );
    let synced = find_condition(&r.status.conditions, types::SYNCED).cloned();
    assert_eq!(
        synced.map(|c| (c.status, c.reason, c.message)),
        Some((
            ConditionStatus::False,
            reasons::DEPENDENCY_NOT_READY.to_string(),
            "CustomerGateway office is not Ready yet (Deleting); the connection keeps its current \
             settings until then"
                .to_string()
        ))
    );
    assert!(is_condition_true(&r.status.conditions, types::READY));
}

#[test]
fn a_connection_gone_from_the_cloud_is_replaced_with_a_warning() {
    let psk = Psk::new(KEY.into());
    let mut obj = object(spec(json!({})), Some(&psk.sha256));
    if let Some(s) = obj.status.as_mut() {
        s.cloud_id = Some("old".into());
    }
    let obs = observed(gone("old"));
    let created = ResponseVpnConnection {
        id: "new".into(),
        status: Some(ConnectionStatus::PendingCreate),
        ..cloud(ConnectionStatus::PendingCreate)
    };
    let r = outcome(&obj, &inputs(Some(&psk)), &obs, Acted::Created(created));
    assert_eq!(note_reasons(&r), [RECREATING, "Created"]);
    assert!(r.notes[0].warning && r.notes[0].message.contains("old"));
    assert!(r
        .notes
        .iter()
        .all(|n| actions::ALL.contains(&n.action.as_str())));
    let ready = find_condition(&r.status.conditions, types::READY).cloned();
    assert_eq!(
        ready.map(|c| (c.reason, c.message)),
        Some((
            reasons::CREATING.to_string(),
            "connection old no longer exists in the cloud; created new to replace it".to_string()
        ))
    );
    assert_eq!(r.status.cloud_id.as_deref(), Some("new"));
    assert_eq!(r.status.psk_sha256.as_deref(), Some(psk.sha256.as_str()));
    assert_eq!(r.watch, Some(Watch::new("new", "PENDING_CREATE")));
}

#[test]
fn deletion_is_requested_once_then_waited_for_until_gone() {
    let mut obj = object(spec(json!({})), None);
    obj.metadata.deletion_timestamp = Some(at(40));
    let active = found(cloud(ConnectionStatus::Active));
    let r = outcome(&obj, &inputs(None), &active, Acted::Deleted { gone: false });
    assert_eq!(note_reasons(&r), [DELETE_REQUESTED]);
    assert_eq!(r.notes[0].action, actions::DELETE);
    assert!(!r.released);
    assert_eq!(
        r.next,
        Next::Pending {
            since: Duration::from_secs(60),
            watched: false
        }
    );
    assert_eq!(r.watch, Some(Watch::new("conn-1", "PENDING_DELETE")));
    let ready = find_condition(&r.status.conditions, types::READY).map(|c| c.reason.clone());
    assert_eq!(ready.as_deref(), Some(reasons::DELETING));
    assert!(is_condition_true(&r.status.conditions, types::SYNCED));

    // Ready already says Deleting: no second Event when the delete is sent again.
    obj.status = Some(r.status.clone());
    let again = outcome(&obj, &inputs(None), &active, Acted::Deleted { gone: false });
    assert!(again.notes.is_empty());
    let waiting = outcome(
        &obj,
        &inputs(None),
        &found(cloud(ConnectionStatus::PendingDelete)),
        Acted::Nothing,
    );
    assert!(waiting.notes.is_empty() && !waiting.released);

    let gone_now = outcome(
        &obj,
        &inputs(None),
        &observed(gone("conn-1")),
        Acted::Nothing,
    );
    assert!(gone_now.released);
    assert_eq!(note_reasons(&gone_now), ["Deleted"]);
    let nothing_made = outcome(
        &obj,
        &inputs(None),
        &observed(Found::default()),
        Acted::Nothing,
    );
    assert!(nothing_made.released && nothing_made.notes.is_empty());
    let mut foreign = found(cloud(ConnectionStatus::Active));
    foreign.found.foreign = Some("c:ns:owner".into());
    let left = outcome(&obj, &inputs(None), &foreign, Acted::Nothing);
    assert!(left.released);
    assert_eq!(note_reasons(&left), [NOT_DELETED]);
}

#[test]
fn only_plans_that_change_the_cloud_wait_for_a_hold_on_writes() {
    use crate::controller::runtime::ownership::TagDiff;
    let sync = |tags: TagDiff, monitor: Option<MonitorChange>| Plan::Sync {
        id: "c".into(),
        lock: "g".into(),
        tags,
        update: None,
        monitor,
    };
    let add_tag = TagDiff {
        add: vec![tag("team", "a")],
        remove: vec![],
    };
    let table = [
        // A connection found as it should be (e.g. after a lost create answer): only looked at.
        (sync(TagDiff::default(), None), false),
        (sync(add_tag, None), true),
        (sync(TagDiff::default(), Some(MonitorChange::Create)), true),
        (Plan::Wait, false),
        (Plan::Report, false),
        (Plan::Hold, false),
        (Plan::Gone { id: None }, false),
        (
            Plan::AwaitDeletion {
                id: "c".into(),
                state: ConnectionStatus::PendingDelete,
                monitors: vec![],
            },
            false,
        ),
        (
            Plan::AwaitDeletion {
                id: "c".into(),
                state: ConnectionStatus::PendingDelete,
                monitors: vec!["m".into()],
            },
            true,
        ),
        (
            Plan::Delete {
                id: "c".into(),
                lock: "g".into(),
                monitors: vec![],
            },
            true,
        ),
    ];
    for (plan, writes) in table {
        assert_eq!(plan.writes(), writes, "{plan:?}");
    }
}
