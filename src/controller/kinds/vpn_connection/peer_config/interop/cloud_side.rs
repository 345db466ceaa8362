//! The cloud half of a tunnel as a strongSwan configuration, built from what the simulator
//! holds (its admin API's JSON) by code that shares nothing with the exporter: its own reading
//! of the wire JSON and its own spelling of every algorithm. Only the model of which traffic
//! selectors a connection style negotiates (policy rules; the full mesh of local and peer
//! subnets; any-to-any for route-based styles) is the same, because it is a model of the cloud.
use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The strongSwan keyword of a Huawei encryption value, and whether it is an AEAD cipher.
fn cipher(v: &str) -> (&'static str, bool) {
    match v {
        "aes-128" => ("aes128", false),
        "aes-192" => ("aes192", false),
        "aes-256" => ("aes256", false),
        "3des" => ("3des", false),
        "aes-128-gcm-16" => ("aes128gcm16", true),
        "aes-256-gcm-16" => ("aes256gcm16", true),
        other => panic!("the cloud side has no strongSwan cipher for {other}"),
    }
}

/// The hash behind a Huawei authentication value (integrity `X`, PRF `prfX`).
fn hash(v: &str) -> &'static str {
    match v {
        "md5" => "md5",
        "sha1" => "sha1",
        "sha2-256" => "sha256",
        "sha2-384" => "sha384",
        "sha2-512" => "sha512",
        other => panic!("the cloud side has no strongSwan hash for {other}"),
    }
}

/// A Huawei DH group as strongSwan names it.
fn group(v: &str) -> &'static str {
    match v {
        "group1" => "modp768",
        "group2" => "modp1024",
        "group5" => "modp1536",
        "group14" => "modp2048",
        "group15" => "modp3072",
        "group16" => "modp4096",
        "group19" => "ecp256",
        "group20" => "ecp384",
        "group21" => "ecp521",
        other => panic!("the cloud side has no strongSwan group for {other}"),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// What the cloud side is built from: the connection, its gateway and its customer gateway
/// in the admin API's project view, and the world's EIPs.
pub struct CloudView<'a> {
    pub project: &'a Value,
    pub connection_id: &'a str,
}

impl CloudView<'_> {
    fn find(&self, list: &str, field: &str, id: &str) -> Value {
        self.project[list]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| &x[field])
            .find(|x| s(x, "id") == id)
            .cloned()
            .unwrap_or_else(|| panic!("{list} has no {id}"))
    }

    /// The stored connection (wire model).
    pub fn connection(&self) -> Value {
        self.find("vpn_connections", "vpn_connection", self.connection_id)
    }

    /// The hash of the key the simulator holds for the connection.
    pub fn psk_sha256(&self) -> String {
        self.project["vpn_connections"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| s(&x["vpn_connection"], "id") == self.connection_id)
            .map(|x| s(x, "psk_sha256").to_string())
            .unwrap_or_default()
    }

    /// The gateway's address the connection uses: its `vgw_ip` is an EIP id; the world says
    /// which address that EIP has.
    pub fn gateway_address(&self) -> String {
        let vgw_ip = s(&self.connection(), "vgw_ip").to_string();
        self.project["world"]["eips"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| s(e, "id") == vgw_ip)
            .map(|e| s(e, "address").to_string())
            .unwrap_or(vgw_ip)
    }
}

/// The one key among `candidates` whose SHA-256 the simulator holds (it never shows keys).
pub fn key_held<'a>(view: &CloudView<'_>, candidates: &[&'a str]) -> &'a str {
    let held = view.psk_sha256();
    candidates
        .iter()
        .find(|k| hex::encode(Sha256::digest(k.as_bytes())) == held)
        .unwrap_or_else(|| panic!("the simulator holds none of the test's keys ({held})"))
}

/// The cloud's traffic selectors (cloud CIDR, customer CIDR) and whether it is route-based.
pub fn selectors(conn: &Value, gateway: &Value) -> (Vec<(String, String)>, bool) {
    let mut out = Vec::new();
    match s(conn, "style").to_lowercase().as_str() {
        "policy" | "policy-template" => {
            for r in conn["policy_rules"].as_array().into_iter().flatten() {
                for d in strings(&r["destination"]) {
                    out.push((s(r, "source").to_string(), d));
                }
            }
            (out, false)
        }
        "static" => {
            for p in strings(&conn["peer_subnets"]) {
                for l in strings(&gateway["local_subnets"]) {
                    out.push((l, p.clone()));
                }
            }
            if out.is_empty() {
                out.push(("0.0.0.0/0".into(), "0.0.0.0/0".into()));
                return (out, true);
            }
            (out, false)
        }
        _ => (vec![("0.0.0.0/0".into(), "0.0.0.0/0".into())], true),
    }
}

/// A swanctl identity: `fqdn:` for names.
fn id(kind: &str, value: &str) -> String {
    match kind {
        "fqdn" => format!("fqdn:{value}"),
        _ => value.to_string(),
    }
}

/// The cloud side's swanctl.conf for the connection, with key `psk`. Connection `cloud`,
/// children `cloud-1`, `cloud-2`, ...
pub fn swanctl_conf(view: &CloudView<'_>, psk: &str) -> String {
    let conn = view.connection();
    let gateway = view.find("vpn_gateways", "vpn_gateway", s(&conn, "vgw_id"));
    let cgw = view.find("customer_gateways", "customer_gateway", s(&conn, "cgw_id"));
    let (ike, ipsec) = (&conn["ikepolicy"], &conn["ipsecpolicy"]);
    let address = view.gateway_address();
    let (enc, aead) = cipher(s(ike, "encryption_algorithm"));
    let h = hash(s(ike, "authentication_algorithm"));
    let proposal = match aead {
        true => format!("{enc}-prf{h}-{}", group(s(ike, "dh_group"))),
        false => format!("{enc}-{h}-{}", group(s(ike, "dh_group"))),
    };
    let (esp_enc, esp_aead) = cipher(s(ipsec, "encryption_algorithm"));
    let mut esp = esp_enc.to_string();
    if !esp_aead {
        esp = format!("{esp}-{}", hash(s(ipsec, "authentication_algorithm")));
    }
    if s(ipsec, "pfs") != "disable" && !s(ipsec, "pfs").is_empty() {
        esp = format!("{esp}-{}", group(s(ipsec, "pfs")));
    }
    let local_id = match s(ike, "local_id") {
        "" => address.clone(),
        v => v.to_string(),
    };
    let peer_id = match s(ike, "peer_id") {
        "" => s(&cgw, "id_value").to_string(),
        v => v.to_string(),
    };
    let remote_addrs = match s(&cgw, "id_type") {
        "ip" => s(&cgw, "id_value").to_string(),
        _ => "%any".into(),
    };
    let version = if s(ike, "ike_version") == "v1" { 1 } else { 2 };
    let aggressive = s(ike, "phase1_negotiation_mode") == "aggressive";
    let mut o = String::new();
    let _ = writeln!(o, "connections {{\n  cloud {{\n    version = {version}");
    if aggressive {
        o.push_str("    aggressive = yes\n");
    }
    let _ = writeln!(
        o,
        "    local_addrs = {address}\n    remote_addrs = {remote_addrs}\n    proposals = \
         {proposal}\n    local {{\n      auth = psk\n      id = {}\n    }}\n    remote {{\n      \
         auth = psk\n      id = {}\n    }}\n    children {{",
        id(s(ike, "local_id_type"), &local_id),
        id(s(ike, "peer_id_type"), &peer_id),
    );
    let (pairs, _) = selectors(&conn, &gateway);
    for (i, (local, remote)) in pairs.iter().enumerate() {
        let _ = writeln!(
            o,
            "      cloud-{} {{\n        local_ts = {local}\n        remote_ts = {remote}\n        \
             esp_proposals = {esp}\n      }}",
            i + 1
        );
    }
    let _ = writeln!(
        o,
        "    }}\n  }}\n}}\nsecrets {{\n  ike-cloud {{\n    id-1 = {}\n    id-2 = {}\n    \
         secret = 0x{}\n  }}\n}}",
        id(s(ike, "local_id_type"), &local_id),
        id(s(ike, "peer_id_type"), &peer_id),
        hex::encode(psk.as_bytes())
    );
    o
}
