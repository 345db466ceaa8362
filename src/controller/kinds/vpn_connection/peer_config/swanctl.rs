//! `swanctl.conf`: a complete strongSwan (5.9) configuration of the on-premises side, loadable
//! as is with `swanctl --load-all`: one connection, one child per traffic selector pair, and
//! the pre-shared key.
//!
//! What strongSwan cannot express is never approximated: with a GM algorithm or the GM digital
//! envelope, or AES-GCM for an IKEv1 IKE SA, the file defines nothing and says why
//! ([`proposals`]). The DPD retransmission timeout and payload order have no per-connection
//! strongSwan setting; the file names them in a comment.
use std::fmt::Write as _;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use super::algorithms::{lookup, Algorithm, Kind};
use super::effective::{Effective, Identity};

/// The strongSwan proposals of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposals {
    /// `proposals` (IKE SA).
    pub ike: String,
    /// `esp_proposals` (CHILD SAs).
    pub esp: String,
}

fn keyword(
    kind: Kind,
    what: &str,
    huawei: &str,
    missing: &mut Vec<String>,
) -> Option<&'static Algorithm> {
    match lookup(kind, huawei) {
        Some(a) if a.strongswan.is_some() => Some(a),
        Some(_) => {
            missing.push(format!("{what} {huawei} has no strongSwan equivalent"));
            None
        }
        None => {
            missing.push(format!(
                "{what} {huawei} is not a value this operator knows"
            ));
            None
        }
    }
}

/// The IKE and ESP proposals, or every effective value strongSwan cannot express.
///
/// - IKE: `encryption-integrity-dh`; with AEAD (AES-GCM) encryption `encryption-prf-dh`, the
///   PRF of the authentication algorithm (IKEv2 only: IKEv1 has no AEAD IKE SA).
/// - ESP: `encryption-integrity[-pfs]`; with AEAD `encryption[-pfs]`; PFS `disable` adds no
///   group.
pub fn proposals(e: &Effective) -> Result<Proposals, Vec<String>> {
    let mut missing = Vec::new();
    if e.ike.authentication_method != "pre-share" {
        missing.push(format!(
            "IKE authentication method {} (GM digital envelope) has no strongSwan equivalent",
            e.ike.authentication_method
        ));
    }
    let ike_enc = keyword(
        Kind::Encryption,
        "IKE encryption",
        &e.ike.encryption,
        &mut missing,
    );
    let ike_auth = keyword(
        Kind::Authentication,
        "IKE authentication",
        &e.ike.authentication,
        &mut missing,
    );
    let ike_dh = match &e.ike.dh_group {
        Some(g) => keyword(Kind::DhGroup, "IKE DH group", g, &mut missing),
        None => {
            missing.push("the IKE policy has no DH group (GM gateway)".into());
            None
        }
    };
    let esp_enc = keyword(
        Kind::Encryption,
        "IPsec encryption",
        &e.ipsec.encryption,
        &mut missing,
    );
    let esp_auth = keyword(
        Kind::Authentication,
        "IPsec authentication",
        &e.ipsec.authentication,
        &mut missing,
    );
    let pfs = match e.ipsec.pfs.as_str() {
        "disable" => None,
        g => keyword(Kind::DhGroup, "IPsec PFS group", g, &mut missing),
    };
    if ike_enc.is_some_and(|a| a.aead) && e.ike.version == "v1" {
        missing.push(format!(
            "IKE encryption {} with IKEv1: IKEv1 has no AEAD (GCM) IKE SA",
            e.ike.encryption
        ));
    }
    let (Some(ie), Some(ia), Some(id), Some(ee), Some(ea)) =
        (ike_enc, ike_auth, ike_dh, esp_enc, esp_auth)
    else {
        return Err(missing);
    };
    if !missing.is_empty() {
        return Err(missing);
    }
    let kw = |a: &Algorithm| a.strongswan.unwrap_or_default().to_string();
    let ike_integrity = match ie.aead {
        true => ia.prf_strongswan.unwrap_or_default().to_string(),
        false => kw(ia),
    };
    let ike = format!("{}-{ike_integrity}-{}", kw(ie), kw(id));
    let mut esp = kw(ee);
    if !ee.aead {
        esp = format!("{esp}-{}", kw(ea));
    }
    if let Some(g) = pfs {
        esp = format!("{esp}-{}", kw(g));
    }
    Ok(Proposals { ike, esp })
}

/// The connection's name in swanctl.conf: the object's name with characters swanctl section
/// names cannot hold (`.`) replaced.
pub fn section_name(object_name: &str) -> String {
    object_name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '-',
        })
        .collect()
}

/// A swanctl identity: an IP address as is, a name with the `fqdn:` prefix.
fn swanctl_id(id: &Identity) -> String {
    let is_ip = id.value.parse::<IpAddr>().is_ok();
    match (id.kind.as_str(), is_ip) {
        ("ip", _) | ("any", true) => id.value.clone(),
        _ => format!("fqdn:{}", id.value),
    }
}

/// A quoted swanctl string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The XFRM interface id of a route-based connection: derived from its cloud id, so that
/// several connections on one device do not collide.
pub fn if_id(connection_id: &str) -> u32 {
    let h = Sha256::digest(connection_id.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % 0xFFFF + 1
}

fn header(e: &Effective, out: &mut String) {
    let (ns, name) = &e.object;
    let _ = writeln!(
        out,
        "# strongSwan swanctl.conf of the on-premises side of Huawei Cloud VPN connection \
         {ns}/{name}\n# (cloud id {}), written by vpn-operator from the settings the cloud \
         reports. Load it with\n# `swanctl --load-all` (as /etc/swanctl/swanctl.conf or under \
         /etc/swanctl/conf.d/), then\n# `swanctl --initiate --child {}-1`; add \
         `start_action = start` to a child to bring it up on load.",
        e.connection_id,
        section_name(name)
    );
}

/// The file for `e`, or, when strongSwan cannot express it, a file that defines nothing and
/// says why (and those reasons).
pub fn render(e: &Effective) -> (String, Vec<String>) {
    let mut out = String::new();
    header(e, &mut out);
    let p = match proposals(e) {
        Ok(p) => p,
        Err(missing) => {
            out.push_str(
                "#\n# NOT USABLE: strongSwan cannot express this connection's settings, so \
                 nothing is defined:\n",
            );
            for m in &missing {
                let _ = writeln!(out, "# - {m}");
            }
            out.push_str("# peer-config.json (format json) holds every parameter.\n");
            let notes = missing
                .into_iter()
                .map(|m| format!("swanctl.conf defines no connection: {m}"))
                .collect();
            return (out, notes);
        }
    };
    connection(e, &p, &mut out);
    (out, Vec::new())
}

fn connection(e: &Effective, p: &Proposals, out: &mut String) {
    let name = section_name(&e.object.1);
    let ike_rekey = e.ike.lifetime_seconds * 9 / 10;
    let _ = writeln!(out, "connections {{\n  {name} {{");
    let v = if e.ike.version == "v1" { 1 } else { 2 };
    let _ = writeln!(out, "    version = {v}");
    if e.ike.negotiation_mode.as_deref() == Some("aggressive") && v == 1 {
        out.push_str(
            "    # IKEv1 aggressive mode with a pre-shared key: strongSwan also needs\n    # \
             charon.i_dont_care_about_security_and_use_aggressive_mode_psk = yes in \
             strongswan.conf.\n    aggressive = yes\n",
        );
    }
    match &e.on_premises_address {
        Some(a) => {
            out.push_str(
                "    # The customer gateway's address; behind NAT, use the device's own \
                 address (or remove it).\n",
            );
            let _ = writeln!(out, "    local_addrs = {a}");
        }
        None => out.push_str(
            "    # The customer gateway has no fixed address (FQDN identity): this device \
             initiates.\n",
        ),
    }
    let _ = writeln!(out, "    remote_addrs = {}", e.cloud_address);
    let _ = writeln!(out, "    proposals = {}", p.ike);
    let _ = writeln!(
        out,
        "    # The cloud's IKE SA lifetime is {} s: rekey before it ends.\n    rekey_time = \
         {ike_rekey}s\n    over_time = {}s",
        e.ike.lifetime_seconds,
        e.ike.lifetime_seconds - ike_rekey
    );
    if let Some(d) = e.ike.dpd_interval_seconds {
        let _ = writeln!(out, "    dpd_delay = {d}s");
    }
    if e.ike.dpd_timeout_seconds.is_some() || e.ike.dpd_msg.is_some() {
        let _ = writeln!(
            out,
            "    # DPD retransmission interval {} s and payload order {}: no per-connection \
             strongSwan setting.",
            e.ike
                .dpd_timeout_seconds
                .map_or("-".to_string(), |t| t.to_string()),
            e.ike.dpd_msg.as_deref().unwrap_or("-")
        );
    }
    let _ = writeln!(
        out,
        "    local {{\n      auth = psk\n      id = {}\n    }}\n    remote {{\n      auth = \
         psk\n      id = {}\n    }}",
        swanctl_id(&e.on_premises_id),
        swanctl_id(&e.cloud_id)
    );
    children(e, p, &name, out);
    out.push_str("  }\n}\n");
    let _ = writeln!(
        out,
        "secrets {{\n  ike-{name} {{\n    id-1 = {}\n    id-2 = {}\n    secret = {}\n  }}\n}}",
        swanctl_id(&e.on_premises_id),
        swanctl_id(&e.cloud_id),
        quoted(e.psk.as_ref().map(|k| k.expose().as_str()).unwrap_or(""))
    );
}

fn children(e: &Effective, p: &Proposals, name: &str, out: &mut String) {
    let life = e.ipsec.lifetime_seconds;
    if e.route_based {
        let id = if_id(&e.connection_id);
        let _ = writeln!(
            out,
            "    # Route-based ({}): any-to-any selectors on an XFRM interface with if_id {id}:\n\
             \x20   #   ip link add xfrm-{id} type xfrm if_id {id} && ip link set xfrm-{id} up",
            e.style
        );
        if let Some((cloud, on_prem)) = &e.tunnel {
            let _ = writeln!(
                out,
                "    #   ip addr add {on_prem} dev xfrm-{id}   (the cloud end is {cloud})"
            );
        }
        if let Some(b) = &e.bgp {
            let _ = writeln!(
                out,
                "    # BGP: local AS {}, neighbour {} remote AS {}, over xfrm-{id}.",
                b.on_premises_asn.map_or("-".into(), |a| a.to_string()),
                b.cloud_address.as_deref().unwrap_or("-"),
                b.cloud_asn.map_or("-".into(), |a| a.to_string()),
            );
        } else {
            let _ = writeln!(
                out,
                "    #   then route the cloud's subnets into xfrm-{id}."
            );
        }
    }
    out.push_str("    children {\n");
    for (i, s) in e.selectors.iter().enumerate() {
        let _ = writeln!(
            out,
            "      {name}-{} {{\n        local_ts = {}\n        remote_ts = {}\n        \
             esp_proposals = {}\n        mode = tunnel\n        rekey_time = {}s\n        \
             life_time = {life}s\n        dpd_action = restart",
            i + 1,
            s.on_premises,
            s.cloud,
            p.esp,
            life * 9 / 10,
        );
        if e.route_based {
            let id = if_id(&e.connection_id);
            let _ = writeln!(out, "        if_id_in = {id}\n        if_id_out = {id}");
        }
        out.push_str("      }\n");
    }
    out.push_str("    }\n");
}
