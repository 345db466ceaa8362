//! The interop table: every connection style, both IKE versions, and every IKE and IPsec
//! algorithm and DH group the CRD accepts that strongSwan supports, each at least once (the
//! GM values are left to the export's "not usable" row).
use std::sync::LazyLock;

use serde_json::{json, Value};

/// What a case must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// IKE SA and CHILD SAs up, PFS on a rekey, UDP through every child.
    Established,
    /// The cloud changed its proposal after the export: the negotiation must fail with
    /// NO_PROPOSAL_CHOSEN (the test can fail).
    NoProposalChosen,
    /// strongSwan cannot express the settings: the export says so and defines nothing.
    NotExported,
}

/// One row.
pub struct Case {
    /// Also the VpnConnection's name.
    pub name: &'static str,
    pub style: &'static str,
    /// spec.ikePolicy, spec.ipsecPolicy (unset: the cloud's defaults).
    pub ike: Value,
    pub ipsec: Value,
    /// spec.policyRules (style policy); `{i}` in a CIDR is the case's index.
    pub rules: Value,
    pub expect: Expect,
    /// The cloud side starts the negotiation (else the on-premises device).
    pub cloud_initiates: bool,
    /// A merge patch of the connection in the simulator, made after the export.
    pub cloud_change: Option<Value>,
    /// This case's key is rotated afterwards.
    pub rotate: bool,
}

impl Case {
    fn new(name: &'static str, style: &'static str, ike: Value, ipsec: Value) -> Self {
        Self {
            name,
            style,
            ike,
            ipsec,
            rules: Value::Null,
            expect: Expect::Established,
            cloud_initiates: false,
            cloud_change: None,
            rotate: false,
        }
    }

    /// The VpnConnection of case `i` (customer gateway `cgw-{i}`, key `psk-{i}`, peer
    /// configuration Secret `peer-{i}`).
    pub fn connection(&self, i: usize) -> Value {
        let mut spec = json!({
            "vpnGatewayRef": {"name": "edge-gateway"},
            "gatewayIp": "eip1",
            "customerGatewayRef": {"name": format!("cgw-{i}")},
            "style": self.style,
            "pskSecretRef": {"name": format!("psk-{i}"), "key": "psk"},
            "peerConfig": {"secretName": format!("peer-{i}"), "formats": ["json", "strongswan", "text"]},
        });
        if self.style == "static" {
            spec["peerSubnets"] = json!([format!("172.16.{i}.0/24")]);
        }
        for (field, v) in [("ikePolicy", &self.ike), ("ipsecPolicy", &self.ipsec)] {
            if !v.is_null() {
                spec[field] = v.clone();
            }
        }
        if !self.rules.is_null() {
            let text = self.rules.to_string().replace("{i}", &i.to_string());
            spec["policyRules"] = serde_json::from_str(&text).expect("rules");
        }
        json!({"metadata": {"name": self.name}, "spec": spec})
    }
}

fn ike(v: &str, enc: &str, auth: &str, dh: &str) -> Value {
    json!({"ikeVersion": v, "encryptionAlgorithm": enc, "authenticationAlgorithm": auth, "dhGroup": dh})
}

fn ipsec(enc: &str, auth: &str, pfs: &str) -> Value {
    json!({"encryptionAlgorithm": enc, "authenticationAlgorithm": auth, "pfs": pfs})
}

/// The table.
pub static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
    let two_rules = json!([
        {"source": "192.168.0.0/24", "destination": ["172.16.{i}.0/24", "172.17.{i}.0/24"]},
        {"source": "192.168.1.0/24", "destination": ["172.18.{i}.0/24"]},
    ]);
    let one_rule = json!([{"source": "192.168.0.0/24", "destination": ["172.16.{i}.0/24"]}]);
    let mut aggressive = ike("v1", "3des", "md5", "group2");
    aggressive["phase1NegotiationMode"] = json!("aggressive");
    let mut fqdn = ike("v2", "aes-128", "sha1", "group15");
    for (k, v) in [
        ("localIdType", "fqdn"),
        ("localId", "cloud.example.com"),
        ("peerIdType", "fqdn"),
        ("peerId", "office.example.com"),
    ] {
        fqdn[k] = json!(v);
    }
    vec![
        Case {
            rotate: true,
            ..Case::new("static-v2-defaults", "static", Value::Null, Value::Null)
        },
        Case::new(
            "static-v1-main",
            "static",
            ike("v1", "aes-256", "sha1", "group14"),
            ipsec("aes-256", "sha1", "group14"),
        ),
        Case::new(
            "static-v2-gcm-ike",
            "static",
            ike("v2", "aes-256-gcm-16", "sha2-512", "group21"),
            ipsec("aes-128", "sha2-512", "group21"),
        ),
        Case::new(
            "static-v1-modp768",
            "static",
            ike("v1", "aes-192", "sha2-256", "group1"),
            ipsec("aes-192", "sha2-256", "group1"),
        ),
        Case {
            rules: two_rules,
            ..Case::new(
                "policy-v2-two-rules",
                "policy",
                ike("v2", "aes-192", "sha2-384", "group16"),
                ipsec("aes-192", "sha2-384", "group16"),
            )
        },
        Case {
            rules: one_rule.clone(),
            ..Case::new(
                "policy-v1-aggressive",
                "policy",
                aggressive,
                ipsec("3des", "md5", "group2"),
            )
        },
        Case {
            rules: one_rule,
            ..Case::new(
                "policy-v2-no-pfs",
                "policy",
                ike("v2", "aes-256", "sha2-256", "group5"),
                ipsec("aes-128-gcm-16", "sha2-256", "disable"),
            )
        },
        Case::new(
            "bgp-v2-gcm",
            "bgp",
            ike("v2", "aes-128-gcm-16", "sha2-256", "group19"),
            ipsec("aes-256-gcm-16", "sha2-256", "group19"),
        ),
        Case::new(
            "bgp-v1",
            "bgp",
            ike("v1", "aes-128", "sha2-512", "group20"),
            ipsec("aes-256", "sha2-384", "group20"),
        ),
        Case {
            cloud_initiates: true,
            ..Case::new(
                "static-v2-fqdn-cloud-starts",
                "static",
                fqdn,
                ipsec("3des", "sha1", "group5"),
            )
        },
        Case {
            expect: Expect::NoProposalChosen,
            cloud_change: Some(json!({"ikepolicy": {"encryption_algorithm": "aes-256"}})),
            ..Case::new(
                "static-v2-cloud-changed",
                "static",
                Value::Null,
                Value::Null,
            )
        },
        Case {
            expect: Expect::NotExported,
            ..Case::new(
                "static-v1-gcm-ike",
                "static",
                ike("v1", "aes-128-gcm-16", "sha2-256", "group14"),
                ipsec("aes-128", "sha2-256", "group14"),
            )
        },
    ]
});
