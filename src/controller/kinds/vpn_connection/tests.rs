use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use serde_json::json;

use super::*;
use crate::cloud::model::common::{
    AuthenticationAlgorithm as WireAuthAlg, DhGroup as WireDhGroup, Redacted, Timestamp as WireTime,
};
use crate::cloud::model::connection::{
    BgpPeer, ConnectionStyle as WireStyle, Dpd as WireDpd, HaRole as WireHaRole,
    IkePolicy as WireIke, IkeVersion, IpsecPolicy as WireIpsec, PolicyRule as WireRule,
    ResponseConnectionStyle, ResponseVpnConnection,
};
use crate::cloud::model::gateway::{GatewayStatus, NetworkType, ResponseEip, ResponseVpnGateway};
use crate::cloud::model::monitor::{ConnectionMonitorInfo, MonitorStatus};
use crate::controller::ownership::{TAG_OWNER, TAG_UID};
use crate::controller::reconciler::mark;
use crate::controller::status::drift_entries;
use crate::crd::common::is_condition_true;
use crate::crd::customer_gateway::{CustomerGatewaySpec, CustomerGatewayStatus};
use crate::crd::vpn_connection::GatewayIp;
use crate::crd::vpn_gateway::{ObservedEip, VpnGatewaySpec, VpnGatewayStatus};
use crate::crd::{CustomerGateway, VpnGateway};

const UID: &str = "conn-uid";
const KEY: &str = "Str0ng-Key.2024";
const RETRY: Duration = Duration::from_secs(7);

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

fn found(c: ResponseVpnConnection) -> Observation {
    Observation {
        tags: c.tags.clone().unwrap_or_default(),
        found: Some((c, How::Recorded)),
        gone: None,
        monitors: vec![],
    }
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
        ("Abcdef12*", false),        // '*' is not allowed
        ("Ünïcödé123", false),       // not ASCII
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

fn gateway_cr(public: bool, ready: Option<(ConditionStatus, &str)>) -> VpnGateway {
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
        mark(&mut status.conditions, types::READY, s, reason, "", Some(1));
    }
    g.status = Some(status);
    g
}

fn waiting_reason(r: &Result<ResolvedGateway>) -> Option<(&'static str, String)> {
    match r {
        Err(e) if e.is_waiting() => Some((e.reason(), e.to_string())),
        _ => None,
    }
}

#[test]
fn gateway_reference_resolves_only_when_ready_and_addressed() {
    use ConditionStatus::{False, True};
    let ready = Some((True, reasons::AVAILABLE));
    let creating = Some((False, reasons::CREATING));

    let ok = gateway_from_cr(
        "vgw",
        Some(&gateway_cr(true, ready)),
        GatewayIp::Eip2,
        RETRY,
    );
    assert_eq!(
        ok.ok(),
        Some(ResolvedGateway {
            id: "vgw-1".into(),
            vgw_ip: "eip-2".into(),
            address: Some("198.51.100.11".into()),
        })
    );
    let private = gateway_from_cr(
        "vgw",
        Some(&gateway_cr(false, ready)),
        GatewayIp::AccessPrivateIp1,
        RETRY,
    );
    assert_eq!(
        private.ok().map(|g| (g.vgw_ip, g.address)),
        Some(("10.0.0.5".into(), Some("10.0.0.5".into())))
    );

    // Waits, with the reason in the message and the requested retry.
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
        let r = gateway_from_cr("vgw", cr.as_ref(), GatewayIp::Eip1, RETRY);
        let (reason, message) =
            waiting_reason(&r).unwrap_or_else(|| panic!("expected a wait, got {r:?}"));
        assert_eq!(reason, reasons::DEPENDENCY_NOT_READY);
        assert!(message.contains(want), "{message} should contain {want}");
        assert_eq!(r.err().and_then(|e| e.retry_after()), Some(RETRY));
    }

    // The wrong kind of address is a spec error, not a wait.
    let wrong = gateway_from_cr(
        "vgw",
        Some(&gateway_cr(false, ready)),
        GatewayIp::Eip1,
        RETRY,
    );
    assert!(
        matches!(&wrong, Err(Error::InvalidSpec(m)) if m.contains("accessPrivateIp1 or accessPrivateIp2")),
        "{wrong:?}"
    );
}

#[test]
fn gateway_cloud_id_reference_needs_an_active_gateway() {
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
        gateway_from_cloud(&active, GatewayIp::Eip1, RETRY).ok(),
        Some(ResolvedGateway {
            id: "vgw-9".into(),
            vgw_ip: "eip-9".into(),
            address: Some("192.0.2.9".into()),
        })
    );
    let pending = ResponseVpnGateway {
        status: Some(GatewayStatus::PendingCreate),
        ..active.clone()
    };
    let r = gateway_from_cloud(&pending, GatewayIp::Eip1, RETRY);
    assert!(
        waiting_reason(&r).is_some_and(|(_, m)| m.contains("not ACTIVE yet (PENDING_CREATE)")),
        "{r:?}"
    );
    let missing_eip2 = gateway_from_cloud(&active, GatewayIp::Eip2, RETRY);
    assert!(waiting_reason(&missing_eip2).is_some(), "{missing_eip2:?}");
    let wrong = gateway_from_cloud(&active, GatewayIp::AccessPrivateIp2, RETRY);
    assert!(matches!(wrong, Err(Error::InvalidSpec(_))), "{wrong:?}");
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
            mark(&mut s.conditions, types::READY, r, reason, "", None);
        }
        c.status = Some(s);
        c
    };
    let ok = customer_gateway_from_cr(
        "office",
        Some(&cgw(Some("cgw-1"), Some(ConditionStatus::True))),
        RETRY,
    );
    assert_eq!(ok.ok().as_deref(), Some("cgw-1"));
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
        let r = customer_gateway_from_cr("office", c.as_ref(), RETRY);
        let msg = r.as_ref().err().map(|e| (e.reason(), e.to_string()));
        assert!(
            msg.as_ref().is_some_and(
                |(reason, m)| *reason == reasons::DEPENDENCY_NOT_READY && m.contains(want)
            ),
            "{msg:?} should contain {want}"
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
        .map(|c| Arc::new(crate::controller::cached::Cached::new((**c).clone()).unwrap()))
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

    let cgw = referenced_customer_gateway(&items[0]).map(|r| (r.name, r.namespace));
    assert_eq!(cgw, Some(("office".into(), Some("ns".into()))));
    assert_eq!(referenced_customer_gateway(&items[3]), None);
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

fn input<'a>(
    s: &'a VpnConnectionSpec,
    obs: &'a Observation,
    psk: Option<&'a Psk>,
    recorded: Option<&'a str>,
    tags: &'a [VpnResourceTag],
    g: &'a ResolvedGateway,
) -> PlanInput<'a> {
    PlanInput {
        spec: s,
        name: "conn",
        tags,
        gateway: Some(g),
        cgw_id: Some("cgw-1"),
        psk,
        recorded_psk_sha256: recorded,
        observation: obs,
    }
}

#[test]
fn plan_when_nothing_is_found() {
    let tags = our_tags();
    let g = gw();
    let none = Observation::default();
    let gone = Observation {
        gone: Some("old".into()),
        ..Default::default()
    };
    let managed = spec(json!({}));
    let adopting = spec(json!({"cloudId": "given"}));
    let observing = spec(json!({"cloudId": "given", "managementPolicy": "Observe"}));
    let p = |s, o| plan(&input(s, o, None, None, &tags, &g));
    assert_eq!(p(&managed, &none), Plan::Create);
    assert_eq!(
        p(&managed, &gone),
        Plan::Recreate {
            gone_id: "old".into()
        }
    );
    assert_eq!(p(&adopting, &gone), Plan::Missing { id: "old".into() });
    assert_eq!(p(&observing, &gone), Plan::Missing { id: "old".into() });
    assert_eq!(p(&observing, &none), Plan::Missing { id: "given".into() });
}

#[test]
fn plan_by_cloud_state() {
    let tags = our_tags();
    let g = gw();
    let psk = Psk::new(KEY.into());
    let s = spec(json!({}));
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
        let got = plan(&input(&s, &obs, Some(&psk), Some(&psk.sha256), &tags, &g));
        match want {
            Some(w) => assert_eq!(got, w, "{state}"),
            None => assert_eq!(
                got,
                Plan::Sync {
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
    assert_eq!(
        plan(&input(&observing, &obs, None, None, &tags, &g)),
        Plan::Report
    );
}

fn sync_parts(p: Plan) -> (TagDiff, Option<Box<Update>>, Option<MonitorChange>) {
    match p {
        Plan::Sync {
            tags,
            update,
            monitor,
        } => (tags, update, monitor),
        other => panic!("expected Sync, got {other:?}"),
    }
}

#[test]
fn plan_updates_changed_fields_and_rotates_the_key() {
    let tags = our_tags();
    let g = gw();
    let psk = Psk::new(KEY.into());
    let obs = found(cloud(ConnectionStatus::Active));

    // A spec change: one PUT naming the fields, no key.
    let s = spec(json!({"name": "renamed", "ikePolicy": {"lifetimeSeconds": 3600}}));
    let mut inp = input(&s, &obs, Some(&psk), Some(&psk.sha256), &tags, &g);
    inp.name = "renamed";
    let (_, update, _) = sync_parts(plan(&inp));
    let u = update.expect("an update");
    assert_eq!(u.fields, ["name", "ikePolicy.lifetimeSeconds"]);
    assert!(!u.rotates_psk && u.body.psk.is_none());

    // The Secret changed: PUT the key alone.
    let plain = spec(json!({}));
    let (_, update, _) = sync_parts(plan(&input(
        &plain,
        &obs,
        Some(&psk),
        Some("old-hash"),
        &tags,
        &g,
    )));
    let u = update.expect("a rotation");
    assert_eq!(u.fields, ["pskSecretRef"]);
    assert!(u.rotates_psk);
    assert_eq!(u.body.psk.as_ref().map(|p| p.expose().as_str()), Some(KEY));

    // Tags go through the tag API, not the PUT.
    let mut other_tags = tags.clone();
    other_tags[0] = tag("env", "dev");
    let (tag_changes, update, _) = sync_parts(plan(&input(
        &plain,
        &obs,
        Some(&psk),
        Some(&psk.sha256),
        &other_tags,
        &g,
    )));
    assert_eq!(update, None);
    assert_eq!(tag_changes.add, vec![tag("env", "dev")]);
}

#[test]
fn plan_turns_the_health_check_on_and_off_but_not_during_an_update() {
    let tags = our_tags();
    let g = gw();
    let on = spec(json!({"healthCheck": {"enabled": true}}));
    let off = spec(json!({"healthCheck": {"enabled": false}}));
    let unset = spec(json!({}));
    let without = found(cloud(ConnectionStatus::Active));
    let mut with = found(cloud(ConnectionStatus::Active));
    with.monitors = vec![monitor("m-1", MonitorStatus::Active)];
    let m = |s, o| sync_parts(plan(&input(s, o, None, None, &tags, &g))).2;
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
    let mut inp = input(&renamed, &without, None, None, &tags, &g);
    inp.name = "new";
    let (_, update, monitor) = sync_parts(plan(&inp));
    assert!(
        update.is_some() && monitor.is_none(),
        "the monitor waits for the update to finish"
    );
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
        Seen::Missing("conn-1"),
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
fn drift_keeps_detection_time_and_notes_only_news() {
    let diffs = [FieldDiff::new("style", "static", "BGP", false)];
    let prev = VpnConnectionStatus::default();
    let notes = drift_notes(&prev, &diffs, false, false);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].warning && notes[0].message.contains("style (spec static, cloud BGP)"),
        "{:?}",
        notes[0]
    );
    let seen = VpnConnectionStatus {
        drift: drift_entries(&[], &diffs, &at(1)),
        ..Default::default()
    };
    assert!(drift_notes(&seen, &diffs, false, false).is_empty());
    let updatable = [FieldDiff::new("name", "a", "b", true)];
    assert!(
        drift_notes(&prev, &updatable, false, false).is_empty(),
        "a spec edit is not drift"
    );
    assert_eq!(
        drift_notes(&prev, &updatable, false, true).len(),
        1,
        "the cloud changed behind our back"
    );
}

#[test]
fn lookup_and_owner_tag_search() {
    assert_eq!(
        lookup(Some("s"), Some("a"), false),
        Lookup::Recorded("s".into())
    );
    assert_eq!(lookup(None, Some("a"), true), Lookup::Adopt("a".into()));
    assert_eq!(lookup(None, None, false), Lookup::ByOwnerTag);
    assert_eq!(lookup(None, None, true), Lookup::Nothing);
    let mut foreign = cloud(ConnectionStatus::Active);
    foreign.id = "theirs".into();
    foreign.tags = Some(vec![tag(TAG_UID, "other")]);
    let mut newer = cloud(ConnectionStatus::Active);
    newer.id = "newer".into();
    newer.created_at = Some(WireTime::new("2026-01-01T00:00:00Z"));
    let items = vec![foreign.clone(), newer, cloud(ConnectionStatus::Active)];
    assert_eq!(
        find_owned(&items, UID).map(|c| c.id).as_deref(),
        Some("conn-1")
    );
    assert_eq!(find_owned(&[foreign], UID), None);
}
