//! `peer-config.txt`: the parameter sheet an engineer configures any device from.
use std::fmt::Write as _;

use super::algorithms::{lookup, Kind};
use super::effective::Effective;

/// `huawei (IANA name; strongSwan keyword)`.
fn named(kind: Kind, huawei: &str) -> String {
    match lookup(kind, huawei) {
        Some(a) => format!(
            "{huawei} ({}; strongSwan {})",
            a.iana,
            a.strongswan.unwrap_or("none")
        ),
        None => huawei.to_string(),
    }
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The sheet for `e`; `notes`: what a format could not express.
pub fn render(e: &Effective, notes: &[String]) -> String {
    let mut o = String::new();
    let (ns, name) = &e.object;
    let _ = writeln!(
        o,
        "On-premises side of Huawei Cloud VPN connection {ns}/{name} ({})",
        e.connection_id
    );
    let _ = writeln!(o, "Style: {} (route-based: {})", e.style, e.route_based);
    let _ = writeln!(o, "\n[Cloud gateway (remote)]");
    let _ = writeln!(o, "Address: {}", e.cloud_address);
    let _ = writeln!(o, "Identity: {} {}", e.cloud_id.kind, e.cloud_id.value);
    let _ = writeln!(o, "Subnets: {}", e.cloud_subnets.join(", "));
    let _ = writeln!(o, "\n[This device (local)]");
    let _ = writeln!(o, "Address: {}", or_dash(e.on_premises_address.as_ref()));
    let _ = writeln!(
        o,
        "Identity: {} {}",
        e.on_premises_id.kind, e.on_premises_id.value
    );
    let _ = writeln!(o, "Subnets: {}", e.peer_subnets.join(", "));
    if let Some((cloud, local)) = &e.tunnel {
        let _ = writeln!(o, "\n[Tunnel interface]\nLocal: {local}\nRemote: {cloud}");
    }
    if let Some(b) = &e.bgp {
        let _ = writeln!(
            o,
            "\n[BGP]\nLocal AS: {}\nRemote AS: {}\nNeighbour: {}",
            or_dash(b.on_premises_asn),
            or_dash(b.cloud_asn),
            or_dash(b.cloud_address.as_ref())
        );
    }
    let i = &e.ike;
    let _ = writeln!(o, "\n[IKE (phase 1)]");
    let _ = writeln!(o, "Version: {}", i.version);
    let _ = writeln!(
        o,
        "Negotiation mode: {}",
        or_dash(i.negotiation_mode.as_ref())
    );
    let _ = writeln!(o, "Authentication method: {}", i.authentication_method);
    let _ = writeln!(o, "Encryption: {}", named(Kind::Encryption, &i.encryption));
    let _ = writeln!(
        o,
        "Authentication: {}",
        named(Kind::Authentication, &i.authentication)
    );
    let _ = writeln!(
        o,
        "DH group: {}",
        i.dh_group
            .as_deref()
            .map_or("-".into(), |g| named(Kind::DhGroup, g))
    );
    let _ = writeln!(o, "Lifetime: {} s", i.lifetime_seconds);
    let _ = writeln!(
        o,
        "DPD: interval {} s, retransmission {} s, payload order {}",
        or_dash(i.dpd_interval_seconds),
        or_dash(i.dpd_timeout_seconds),
        or_dash(i.dpd_msg.as_ref())
    );
    let p = &e.ipsec;
    let _ = writeln!(o, "\n[IPsec (phase 2)]");
    let _ = writeln!(o, "Encryption: {}", named(Kind::Encryption, &p.encryption));
    let _ = writeln!(
        o,
        "Authentication: {}",
        named(Kind::Authentication, &p.authentication)
    );
    let pfs = match p.pfs.as_str() {
        "disable" => "disable (no PFS)".to_string(),
        g => named(Kind::DhGroup, g),
    };
    let _ = writeln!(o, "PFS: {pfs}");
    let _ = writeln!(o, "Lifetime: {} s", p.lifetime_seconds);
    let _ = writeln!(
        o,
        "Protocol: {}, mode {}",
        p.transform_protocol, p.encapsulation_mode
    );
    let _ = writeln!(o, "\n[Traffic selectors (local === remote)]");
    for s in &e.selectors {
        let _ = writeln!(o, "{} === {}", s.on_premises, s.cloud);
    }
    let _ = writeln!(
        o,
        "\n[Pre-shared key]\n{}",
        e.psk.as_ref().map_or("-", |k| k.expose().as_str())
    );
    if !notes.is_empty() {
        let _ = writeln!(o, "\n[Notes]");
        for n in notes {
            let _ = writeln!(o, "- {n}");
        }
    }
    o
}
