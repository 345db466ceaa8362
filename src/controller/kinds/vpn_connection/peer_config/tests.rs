//! Tables of the pure parts of the export: the effective values, the algorithm table, the
//! three formats, and what to do with the Secret.
use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::CustomResourceExt;

use super::algorithms::{self, lookup, Kind, TABLE};
use super::effective::{
    after_put, effective, selectors, Effective, Identity, Ike, Ipsec, Reported, Selector,
};
use super::secret::{plan, PeerInputs, Step};
use super::swanctl::{if_id, proposals, section_name};
use super::{content_sha256, render, Rendered};
use crate::cloud::model::common::{
    AuthenticationAlgorithm as A, DhGroup as G, EncryptionAlgorithm as E, Redacted,
};
use crate::cloud::model::connection::{
    IkeIdType, IkePolicy, IpsecPolicy, PolicyRule, ResponseConnectionStyle, ResponseVpnConnection,
    UpdateIkePolicy, UpdateVpnConnectionRequestBody,
};
use crate::cloud::model::customer_gateway::{IdType, ResponseCustomerGateway};
use crate::cloud::model::gateway::{ResponseEip, ResponseVpnGateway};
use crate::controller::runtime::secrets::StoredSecret;
use crate::crd::vpn_connection::{PeerConfig, PeerConfigFormat, PeerConfigStatus};
use crate::crd::{VpnConnection, VpnConnectionStatus};

const KEY: &str = "Example-Psk-2026";
const UID: &str = "8d3f3c1e-0000-4000-8000-000000000001";

fn cidrs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A static connection on 198.51.100.11 to 203.0.113.10 with the cloud's defaults.
fn base() -> Effective {
    Effective {
        object: ("team-a".into(), "office-link".into()),
        connection_id: "conn-1".into(),
        connection_name: Some("office-link".into()),
        style: "static".into(),
        ha_role: Some("master".into()),
        gateway_id: "vgw-1".into(),
        cloud_address: "198.51.100.11".into(),
        cloud_id: Identity {
            kind: "ip".into(),
            value: "198.51.100.11".into(),
        },
        cloud_subnets: cidrs(&["192.168.0.0/24"]),
        customer_gateway_id: "cgw-1".into(),
        on_premises_address: Some("203.0.113.10".into()),
        on_premises_id: Identity {
            kind: "ip".into(),
            value: "203.0.113.10".into(),
        },
        peer_subnets: cidrs(&["172.16.0.0/16"]),
        policy_rules: vec![],
        ike: Ike {
            version: "v2".into(),
            negotiation_mode: None,
            authentication_method: "pre-share".into(),
            encryption: "aes-128".into(),
            authentication: "sha2-256".into(),
            dh_group: Some("group15".into()),
            lifetime_seconds: 86400,
            dpd_interval_seconds: Some(30),
            dpd_timeout_seconds: Some(15),
            dpd_msg: Some("seq-hash-notify".into()),
        },
        ipsec: Ipsec {
            encryption: "aes-128".into(),
            authentication: "sha2-256".into(),
            pfs: "group15".into(),
            lifetime_seconds: 3600,
            transform_protocol: "esp".into(),
            encapsulation_mode: "tunnel".into(),
        },
        selectors: vec![Selector {
            on_premises: "172.16.0.0/16".into(),
            cloud: "192.168.0.0/24".into(),
        }],
        route_based: false,
        tunnel: Some(("169.254.70.1/30".into(), "169.254.70.2/30".into())),
        bgp: None,
        psk: Some(Redacted::new(KEY.to_string())),
    }
}

/// `base()` with other algorithms: (IKE version, IKE enc, IKE auth, DH, ESP enc, ESP auth, PFS).
fn with(algs: (&str, &str, &str, &str, &str, &str, &str)) -> Effective {
    let mut e = base();
    let (v, ie, ia, dh, ee, ea, pfs) = algs;
    e.ike.version = v.into();
    e.ike.encryption = ie.into();
    e.ike.authentication = ia.into();
    e.ike.dh_group = (!dh.is_empty()).then(|| dh.into());
    e.ipsec.encryption = ee.into();
    e.ipsec.authentication = ea.into();
    e.ipsec.pfs = pfs.into();
    e
}

// ----- the algorithm table -----------------------------------------------------------------

/// The enum values of a property of the VpnConnection CRD (`path` from spec).
fn crd_enum(path: &[&str]) -> Vec<String> {
    let crd = serde_json::to_value(VpnConnection::crd()).expect("the CRD serialises");
    let mut v = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    for p in path {
        v = &v["properties"][p];
    }
    v["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{path:?} has no enum"))
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_algorithm_and_group_the_crd_accepts_has_a_row() {
    let cases = [
        (&["ikePolicy", "encryptionAlgorithm"][..], Kind::Encryption),
        (
            &["ipsecPolicy", "encryptionAlgorithm"][..],
            Kind::Encryption,
        ),
        (
            &["ikePolicy", "authenticationAlgorithm"][..],
            Kind::Authentication,
        ),
        (
            &["ipsecPolicy", "authenticationAlgorithm"][..],
            Kind::Authentication,
        ),
        (&["ikePolicy", "dhGroup"][..], Kind::DhGroup),
        (&["ipsecPolicy", "pfs"][..], Kind::DhGroup),
    ];
    for (path, kind) in cases {
        for value in crd_enum(path) {
            if value == "disable" {
                continue; // PFS off: no group at all
            }
            let row = lookup(kind, &value).unwrap_or_else(|| panic!("{path:?} {value}: no row"));
            assert!(!row.iana.is_empty());
            let gm = value == "sm3" || value == "sm4";
            assert_eq!(
                row.strongswan.is_none(),
                gm,
                "{value}: only GM lacks strongSwan"
            );
        }
    }
    assert_eq!(TABLE.len(), 7 + 6 + 9);
}

#[test]
fn the_documented_table_is_the_code_table() {
    let doc = include_str!("../../../../../docs/PEER-CONFIG.md");
    assert!(
        doc.contains(&algorithms::markdown()),
        "docs/PEER-CONFIG.md must hold algorithms::markdown() verbatim:\n{}",
        algorithms::markdown()
    );
}

// ----- proposals ---------------------------------------------------------------------------

#[test]
fn proposals_name_every_value_in_strongswan_terms() {
    type Algs = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );
    let ok: &[(Algs, &str, &str)] = &[
        (
            (
                "v2", "aes-128", "sha2-256", "group15", "aes-128", "sha2-256", "group15",
            ),
            "aes128-sha256-modp3072",
            "aes128-sha256-modp3072",
        ),
        (
            ("v1", "3des", "md5", "group1", "3des", "md5", "group2"),
            "3des-md5-modp768",
            "3des-md5-modp1024",
        ),
        (
            (
                "v2", "aes-192", "sha1", "group5", "aes-192", "sha2-384", "group16",
            ),
            "aes192-sha1-modp1536",
            "aes192-sha384-modp4096",
        ),
        // AEAD: the IKE SA takes the PRF of the authentication algorithm; ESP has no integrity.
        (
            (
                "v2",
                "aes-256-gcm-16",
                "sha2-512",
                "group21",
                "aes-128-gcm-16",
                "sha1",
                "group19",
            ),
            "aes256gcm16-prfsha512-ecp521",
            "aes128gcm16-ecp256",
        ),
        // No PFS: no group in ESP. IKEv1 with GCM for ESP only is fine.
        (
            (
                "v1",
                "aes-256",
                "sha2-384",
                "group20",
                "aes-256-gcm-16",
                "sha2-256",
                "disable",
            ),
            "aes256-sha384-ecp384",
            "aes256gcm16",
        ),
        (
            (
                "v2",
                "aes-128-gcm-16",
                "sha2-256",
                "group14",
                "aes-256",
                "sha2-512",
                "group14",
            ),
            "aes128gcm16-prfsha256-modp2048",
            "aes256-sha512-modp2048",
        ),
    ];
    for (algs, ike, esp) in ok {
        let p = proposals(&with(*algs)).unwrap_or_else(|e| panic!("{algs:?}: {e:?}"));
        assert_eq!((p.ike.as_str(), p.esp.as_str()), (*ike, *esp), "{algs:?}");
    }
    let unsupported: &[(Algs, &str)] = &[
        (
            ("v1", "sm4", "sm3", "", "sm4", "sm3", "disable"),
            "IKE encryption sm4 has no strongSwan equivalent",
        ),
        (
            (
                "v1",
                "aes-128-gcm-16",
                "sha2-256",
                "group14",
                "aes-128",
                "sha2-256",
                "group14",
            ),
            "IKEv1 has no AEAD (GCM) IKE SA",
        ),
        (
            (
                "v2", "aes-128", "sm3", "group14", "aes-128", "sha2-256", "group14",
            ),
            "IKE authentication sm3 has no strongSwan equivalent",
        ),
        (
            (
                "v2", "aes-128", "sha2-256", "group14", "aes-128", "sha2-256", "group99",
            ),
            "IPsec PFS group group99 is not a value this operator knows",
        ),
    ];
    for (algs, why) in unsupported {
        let missing = proposals(&with(*algs)).expect_err("not expressible");
        assert!(
            missing.iter().any(|m| m.contains(why)),
            "{algs:?}: {missing:?}"
        );
    }
    let mut gm = with(("v1", "sm4", "sm3", "", "sm4", "sm3", "disable"));
    gm.ike.authentication_method = "digital-envelope-v2".into();
    let missing = proposals(&gm).expect_err("GM");
    assert!(missing.iter().any(|m| m.contains("digital-envelope-v2")));
}

// ----- traffic selectors -------------------------------------------------------------------

fn rule(src: &str, dst: &[&str]) -> PolicyRule {
    PolicyRule {
        rule_index: None,
        source: Some(src.into()),
        destination: Some(cidrs(dst)),
    }
}

fn pairs(v: &[Selector]) -> Vec<(String, String)> {
    v.iter()
        .map(|s| (s.on_premises.clone(), s.cloud.clone()))
        .collect()
}

#[test]
fn selectors_follow_the_style() {
    let p = |a: &str, b: &str| (a.to_string(), b.to_string());
    let any = vec![p("0.0.0.0/0", "0.0.0.0/0")];
    let rules = [
        rule("192.168.0.0/24", &["172.16.1.0/24", "172.16.2.0/24"]),
        rule("192.168.1.0/24", &["172.16.3.0/24"]),
    ];
    /// (style, peer subnets, cloud subnets, rules, selector pairs, route-based)
    type Row<'a> = (
        &'a str,
        Vec<String>,
        Vec<String>,
        &'a [PolicyRule],
        Vec<(String, String)>,
        bool,
    );
    let table: Vec<Row> = vec![
        // Policy: one pair per rule and destination, the rule's source on the cloud side.
        (
            "policy",
            vec![],
            cidrs(&["192.168.0.0/16"]),
            &rules,
            vec![
                p("172.16.1.0/24", "192.168.0.0/24"),
                p("172.16.2.0/24", "192.168.0.0/24"),
                p("172.16.3.0/24", "192.168.1.0/24"),
            ],
            false,
        ),
        // Static: every peer subnet with every local subnet of the same IP version.
        (
            "static",
            cidrs(&["172.16.0.0/16", "10.20.0.0/16", "fd00:1::/64"]),
            cidrs(&["192.168.0.0/24", "fd00:2::/64"]),
            &[],
            vec![
                p("172.16.0.0/16", "192.168.0.0/24"),
                p("10.20.0.0/16", "192.168.0.0/24"),
                p("fd00:1::/64", "fd00:2::/64"),
            ],
            false,
        ),
        // BGP, and static on a gateway without local subnets: route-based, any to any.
        (
            "bgp",
            vec![],
            cidrs(&["192.168.0.0/24"]),
            &[],
            any.clone(),
            true,
        ),
        (
            "static",
            cidrs(&["172.16.0.0/16"]),
            vec![],
            &[],
            any.clone(),
            true,
        ),
        // No pair of the same IP version: route-based too, never an empty configuration.
        (
            "static",
            cidrs(&["fd00:1::/64"]),
            cidrs(&["192.168.0.0/24"]),
            &[],
            vec![p("0.0.0.0/0", "0.0.0.0/0"), p("::/0", "::/0")],
            true,
        ),
        ("policy", vec![], cidrs(&["192.168.0.0/24"]), &[], any, true),
        (
            "bgp",
            vec![],
            cidrs(&["fd00:2::/64"]),
            &[],
            vec![p("0.0.0.0/0", "0.0.0.0/0"), p("::/0", "::/0")],
            true,
        ),
    ];
    for (style, peer, cloud, rules, want, route_based) in table {
        let (got, rb) = selectors(style, &peer, &cloud, rules);
        assert_eq!(
            (pairs(&got), rb),
            (want, route_based),
            "{style} {peer:?} {cloud:?}"
        );
    }
}

// ----- effective values --------------------------------------------------------------------

fn reported_connection() -> ResponseVpnConnection {
    ResponseVpnConnection {
        id: "conn-1".into(),
        name: Some("office-link".into()),
        vgw_id: Some("vgw-1".into()),
        vgw_ip: Some("eip-2".into()),
        style: Some(ResponseConnectionStyle::Bgp),
        cgw_id: Some("cgw-1".into()),
        tunnel_local_address: Some("169.254.70.1/30".into()),
        tunnel_peer_address: Some("169.254.70.2/30".into()),
        ikepolicy: Some(IkePolicy {
            ike_version: Some(crate::cloud::model::connection::IkeVersion::V2),
            authentication_algorithm: Some(A::Sha2_256),
            encryption_algorithm: Some(E::Aes128),
            dh_group: Some(G::Group15),
            lifetime_seconds: Some(86400),
            local_id_type: Some(IkeIdType::Ip),
            peer_id_type: Some(IkeIdType::Ip),
            ..Default::default()
        }),
        ipsecpolicy: Some(IpsecPolicy {
            authentication_algorithm: Some(A::Sha2_256),
            encryption_algorithm: Some(E::Aes128),
            pfs: Some(G::Group15),
            lifetime_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn eip(id: &str, address: &str) -> Option<ResponseEip> {
    Some(ResponseEip {
        id: Some(id.into()),
        ip_address: Some(address.into()),
        ..Default::default()
    })
}

fn gateway() -> ResponseVpnGateway {
    ResponseVpnGateway {
        id: "vgw-1".into(),
        eip1: eip("eip-1", "198.51.100.11"),
        eip2: eip("eip-2", "198.51.100.12"),
        local_subnets: Some(cidrs(&["192.168.0.0/24"])),
        bgp_asn: Some(64512),
        ..Default::default()
    }
}

fn customer_gateway() -> ResponseCustomerGateway {
    ResponseCustomerGateway {
        id: "cgw-1".into(),
        id_type: Some(IdType::Ip),
        id_value: Some("203.0.113.10".into()),
        bgp_asn: Some(65000),
        ..Default::default()
    }
}

#[test]
fn effective_values_come_from_what_the_cloud_reports() {
    let (conn, gw, cgw) = (reported_connection(), gateway(), customer_gateway());
    let r = Reported {
        connection: &conn,
        gateway: &gw,
        customer_gateway: &cgw,
    };
    let key = Redacted::new(KEY.to_string());
    let e = effective(("ns", "office-link"), r, Some(&key)).expect("complete");
    // The address of the EIP the connection uses (the second one here).
    assert_eq!(e.cloud_address, "198.51.100.12");
    // Identities the cloud left unset are the two addresses.
    assert_eq!(
        (e.cloud_id.kind.as_str(), e.cloud_id.value.as_str()),
        ("ip", "198.51.100.12")
    );
    assert_eq!(e.on_premises_id.value, "203.0.113.10");
    assert_eq!(e.on_premises_address.as_deref(), Some("203.0.113.10"));
    let bgp = e.bgp.clone().expect("bgp");
    assert_eq!(
        (bgp.cloud_asn, bgp.on_premises_asn),
        (Some(64512), Some(65000))
    );
    assert_eq!(bgp.cloud_address.as_deref(), Some("169.254.70.1"));
    assert!(e.route_based);
    assert!(!format!("{e:?}").contains(KEY), "Debug shows the key");

    // What is not reported yet is waited for, never guessed.
    let mut unknown = gw.clone();
    unknown.eip2 = None;
    let r = Reported {
        gateway: &unknown,
        ..r
    };
    let why = effective(("ns", "office-link"), r, Some(&key)).expect_err("no address");
    assert!(
        why.contains("does not report the address of eip-2"),
        "{why}"
    );
    let mut no_policy = conn.clone();
    no_policy.ipsecpolicy = None;
    let r = Reported {
        connection: &no_policy,
        gateway: &gw,
        customer_gateway: &cgw,
    };
    assert!(effective(("ns", "x"), r, None).is_err());

    // An FQDN customer gateway has no address: the device initiates.
    let fqdn = ResponseCustomerGateway {
        id_type: Some(IdType::Fqdn),
        id_value: Some("branch.example.com".into()),
        ..cgw.clone()
    };
    let r = Reported {
        connection: &conn,
        gateway: &gw,
        customer_gateway: &fqdn,
    };
    let e = effective(("ns", "x"), r, None).expect("complete");
    assert_eq!(e.on_premises_address, None);
}

#[test]
fn after_a_put_the_body_is_what_the_cloud_holds() {
    let conn = reported_connection();
    let body = UpdateVpnConnectionRequestBody {
        peer_subnets: Some(cidrs(&["10.0.0.0/8"])),
        cgw_id: Some("cgw-2".into()),
        ikepolicy: Some(UpdateIkePolicy {
            ike_version: Some(crate::cloud::model::connection::IkeVersion::V1),
            encryption_algorithm: Some(E::Aes256),
            // The old customer gateway's address is not carried over.
            peer_id: None,
            ..Default::default()
        }),
        ..Default::default()
    };
    let after = after_put(&conn, &body);
    assert_eq!(after.peer_subnets, Some(cidrs(&["10.0.0.0/8"])));
    assert_eq!(after.cgw_id.as_deref(), Some("cgw-2"));
    let ike = after.ikepolicy.expect("ike");
    assert_eq!(ike.encryption_algorithm, Some(E::Aes256));
    assert_eq!(ike.peer_id, None);
    // What the body leaves out stays.
    assert_eq!(after.tunnel_local_address, conn.tunnel_local_address);
    assert_eq!(after.ipsecpolicy, conn.ipsecpolicy);
}

// ----- the formats -------------------------------------------------------------------------

#[test]
fn the_strongswan_file_of_the_example_connection() {
    let (conf, notes) = super::swanctl::render(&base());
    assert!(notes.is_empty());
    let body = conf.split_once("connections {").expect("a connection").1;
    let want = r#"
  office-link {
    version = 2
    # The customer gateway's address; behind NAT, use the device's own address (or remove it).
    local_addrs = 203.0.113.10
    remote_addrs = 198.51.100.11
    proposals = aes128-sha256-modp3072
    # The cloud's IKE SA lifetime is 86400 s: rekey before it ends.
    rekey_time = 77760s
    over_time = 8640s
    dpd_delay = 30s
    # DPD retransmission interval 15 s and payload order seq-hash-notify: no per-connection strongSwan setting.
    local {
      auth = psk
      id = 203.0.113.10
    }
    remote {
      auth = psk
      id = 198.51.100.11
    }
    children {
      office-link-1 {
        local_ts = 172.16.0.0/16
        remote_ts = 192.168.0.0/24
        esp_proposals = aes128-sha256-modp3072
        mode = tunnel
        rekey_time = 3240s
        life_time = 3600s
        dpd_action = restart
      }
    }
  }
}
secrets {
  ike-office-link {
    id-1 = 203.0.113.10
    id-2 = 198.51.100.11
    secret = "Example-Psk-2026"
  }
}
"#;
    assert_eq!(body, want);
}

#[test]
fn route_based_aggressive_and_fqdn_settings_are_spelled_out() {
    let mut e = base();
    e.style = "bgp".into();
    e.route_based = true;
    e.selectors = vec![Selector {
        on_premises: "0.0.0.0/0".into(),
        cloud: "0.0.0.0/0".into(),
    }];
    e.ike.version = "v1".into();
    e.ike.negotiation_mode = Some("aggressive".into());
    e.cloud_id = Identity {
        kind: "fqdn".into(),
        value: "cloud.example.com".into(),
    };
    e.on_premises_address = None;
    e.object.1 = "branch.link".into();
    let (conf, _) = super::swanctl::render(&e);
    let id = if_id("conn-1");
    for line in [
        "  branch-link {".to_string(),
        "    version = 1".into(),
        "    aggressive = yes".into(),
        "      id = fqdn:cloud.example.com".into(),
        "    id-2 = fqdn:cloud.example.com".into(),
        format!("        if_id_in = {id}"),
        format!("        if_id_out = {id}"),
        "        local_ts = 0.0.0.0/0".into(),
    ] {
        assert!(conf.contains(&line), "{line:?} missing:\n{conf}");
    }
    assert!(!conf.contains("local_addrs"), "{conf}");
    assert_eq!(section_name("a.b_c"), "a-b_c");
    assert!(if_id("conn-1") >= 1 && if_id("conn-1") <= 0xFFFF);
    assert_ne!(if_id("conn-1"), if_id("conn-2"));
}

#[test]
fn what_strongswan_cannot_express_is_said_and_never_approximated() {
    let mut gm = with(("v1", "sm4", "sm3", "", "sm4", "sm3", "disable"));
    gm.ike.authentication_method = "digital-envelope-v2".into();
    gm.psk = None;
    let r = render(&gm, &PeerConfigFormat::ALL);
    let conf = &r.data["swanctl.conf"];
    assert!(conf.contains("NOT USABLE"), "{conf}");
    assert!(!conf.contains("connections {"), "{conf}");
    assert!(
        r.notes.iter().any(|n| n.contains("sm4")),
        "status notes: {:?}",
        r.notes
    );
    let json: serde_json::Value = serde_json::from_str(&r.data["peer-config.json"]).unwrap();
    assert_eq!(
        json["ike"]["encryption"]["strongswan"],
        serde_json::Value::Null
    );
    assert_eq!(json["ike"]["encryption"]["huawei"], "sm4");
    assert!(json["notes"].as_array().is_some_and(|n| !n.is_empty()));
    assert!(r.data["peer-config.txt"].contains("[Notes]"));
}

#[test]
fn each_format_is_one_key_and_the_hash_covers_every_byte() {
    let e = base();
    let only_json = render(&e, &[PeerConfigFormat::Json]);
    assert_eq!(
        only_json.data.keys().collect::<Vec<_>>(),
        ["peer-config.json"]
    );
    let all = render(&e, &PeerConfigFormat::ALL);
    assert_eq!(all.data.len(), 3);
    for text in all.data.values() {
        assert!(text.contains(KEY), "every format carries the key");
    }
    let j: serde_json::Value = serde_json::from_str(&all.data["peer-config.json"]).unwrap();
    assert_eq!(j["format"], "vpn.hwcloud.dev/peer-config/v1");
    assert_eq!(j["local"]["address"], "203.0.113.10");
    assert_eq!(j["remote"]["tunnelAddress"], "169.254.70.1/30");
    assert_eq!(j["ipsec"]["pfs"]["strongswan"], "modp3072");
    assert_eq!(j["ike"]["authentication"]["prf"]["strongswan"], "prfsha256");
    assert_eq!(j["trafficSelectors"][0]["local"], "172.16.0.0/16");
    assert!(!format!("{all:?}").contains(KEY), "Debug shows the key");

    let sha = content_sha256(&all.data);
    let mut other = all.data.clone();
    other.insert(
        "swanctl.conf".into(),
        all.data["swanctl.conf"].replace("2026", "2027"),
    );
    assert_ne!(content_sha256(&other), sha);
    // Moving a byte between key and value changes it too.
    let a = BTreeMap::from([("ab".to_string(), "c".to_string())]);
    let b = BTreeMap::from([("a".to_string(), "bc".to_string())]);
    assert_ne!(content_sha256(&a), content_sha256(&b));
}

// ----- the Secret --------------------------------------------------------------------------

fn obj(peer: Option<&str>, recorded: Option<&str>) -> VpnConnection {
    let spec: crate::crd::VpnConnectionSpec = serde_json::from_value(serde_json::json!({
        "vpnGatewayRef": {"name": "gw"},
        "gatewayIp": "eip1",
        "customerGatewayRef": {"name": "cgw"},
        "pskSecretRef": {"name": "psk", "key": "psk"},
    }))
    .expect("a spec");
    let mut c = VpnConnection::new("office-link", spec);
    c.spec.peer_config = peer.map(|n| PeerConfig {
        secret_name: n.into(),
        formats: vec![PeerConfigFormat::Json],
    });
    c.metadata.namespace = Some("team-a".into());
    c.metadata.uid = Some(UID.into());
    c.status = Some(VpnConnectionStatus {
        peer_config: recorded.map(|n| PeerConfigStatus {
            secret_name: Some(n.into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    c
}

fn content() -> Rendered {
    Rendered {
        data: BTreeMap::from([("peer-config.json".into(), "{}".into())]),
        notes: vec![],
    }
}

fn stored(owner: Option<&str>, data: &str, version: &str) -> Arc<StoredSecret> {
    Arc::new(StoredSecret {
        uid: Some("secret-uid".into()),
        resource_version: Some(version.into()),
        labels: BTreeMap::from([("vpn.hwcloud.dev/connection".into(), "office-link".into())]),
        annotations: BTreeMap::from([(
            "vpn.hwcloud.dev/peer-config-sha256".into(),
            content_sha256(&BTreeMap::from([("peer-config.json".to_string(), data)])),
        )]),
        owners: owner
            .map(|uid| OwnerReference {
                uid: uid.into(),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        data: BTreeMap::from([("peer-config.json".into(), data.as_bytes().to_vec())]),
    })
}

/// A plan's steps in short: `create NAME`, `replace NAME@VERSION`, `delete NAME`.
fn steps(s: &[Step]) -> Vec<String> {
    s.iter()
        .map(|s| match s {
            Step::Create(w) => format!("create {}", w.name),
            Step::Replace {
                write,
                resource_version,
            } => format!("replace {}@{resource_version}", write.name),
            Step::Delete { name, .. } => format!("delete {name}"),
        })
        .collect()
}

#[test]
fn the_secret_plan_creates_replaces_deletes_and_never_takes_another_owners() {
    let ours = |data, v| Some(stored(Some(UID), data, v));
    let theirs = Some(stored(None, "{}", "7"));
    let inputs = |target, previous| PeerInputs { target, previous };
    type Row = (
        &'static str,
        VpnConnection,
        PeerInputs,
        Result<Rendered, String>,
        Vec<&'static str>,
        bool,
        Option<&'static str>,
    );
    let table: Vec<Row> = vec![
        (
            "missing: create",
            obj(Some("peer"), None),
            inputs(None, None),
            Ok(content()),
            vec!["create peer"],
            false,
            Some("peer"),
        ),
        (
            "same content: nothing",
            obj(Some("peer"), Some("peer")),
            inputs(ours("{}", "3"), None),
            Ok(content()),
            vec![],
            false,
            Some("peer"),
        ),
        (
            "edited: replace at the version read",
            obj(Some("peer"), Some("peer")),
            inputs(ours("{\"x\":1}", "4"), None),
            Ok(content()),
            vec!["replace peer@4"],
            false,
            Some("peer"),
        ),
        (
            "another owner's: refuse",
            obj(Some("peer"), None),
            inputs(theirs.clone(), None),
            Ok(content()),
            vec![],
            true,
            None,
        ),
        (
            "another owner's, even without content",
            obj(Some("peer"), None),
            inputs(theirs.clone(), None),
            Err("waiting".into()),
            vec![],
            true,
            None,
        ),
        (
            "nothing to write yet: keep what is there",
            obj(Some("peer"), Some("peer")),
            inputs(ours("{}", "3"), None),
            Err("waiting".into()),
            vec![],
            false,
            Some("peer"),
        ),
        (
            "renamed: write the new, delete the old",
            obj(Some("new"), Some("peer")),
            inputs(None, Some(("peer".into(), ours("{}", "3")))),
            Ok(content()),
            vec!["create new", "delete peer"],
            false,
            Some("new"),
        ),
        (
            "removed: delete ours",
            obj(None, Some("peer")),
            inputs(None, Some(("peer".into(), ours("{}", "3")))),
            Err("no spec".into()),
            vec!["delete peer"],
            false,
            None,
        ),
        (
            "removed, taken over by someone: leave it",
            obj(None, Some("peer")),
            inputs(None, Some(("peer".into(), theirs.clone()))),
            Err("no spec".into()),
            vec![],
            false,
            None,
        ),
        (
            "removed, already gone",
            obj(None, Some("peer")),
            inputs(None, Some(("peer".into(), None))),
            Err("no spec".into()),
            vec![],
            false,
            None,
        ),
    ];
    for (name, o, peer, c, want, conflict, status) in table {
        let p = plan(&o, &peer, c);
        assert_eq!(steps(&p.steps), want, "{name}");
        assert_eq!(p.conflict.is_some(), conflict, "{name}");
        assert_eq!(
            p.status.as_ref().and_then(|s| s.secret_name.as_deref()),
            status,
            "{name}"
        );
    }
    // What is written: owned by the connection, labelled, the content hash annotated.
    let p = plan(
        &obj(Some("peer"), None),
        &PeerInputs::default(),
        Ok(content()),
    );
    let Step::Create(w) = &p.steps[0] else {
        panic!("a create")
    };
    assert_eq!(w.owner.uid, UID);
    assert_eq!(w.owner.controller, Some(true));
    assert_eq!(w.labels["vpn.hwcloud.dev/connection"], "office-link");
    let sha = p.status.clone().unwrap().sha256.unwrap();
    assert_eq!(w.annotations["vpn.hwcloud.dev/peer-config-sha256"], sha);
    let msg = plan(
        &obj(Some("peer"), None),
        &inputs(theirs, None),
        Ok(content()),
    )
    .conflict
    .unwrap();
    assert!(
        msg.contains("Secret peer") && msg.contains("never changes or deletes"),
        "{msg}"
    );
}
