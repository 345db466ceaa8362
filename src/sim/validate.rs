//! Field rules of the VPN v5 reference, as small pure checks that answer with the documented
//! error (`VPN.0001 invalid request: ...` unless a more specific code exists).
//!
//! Messages name the field and the rule so a user can fix the request; they never echo a
//! pre-shared key.
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::errors::{ApiError, ApiResult};
use crate::cloud::model as m;

/// The documented value sets, for enum checks.
pub trait WireEnum {
    fn known(&self) -> bool;
    fn text(&self) -> &str;
    fn allowed() -> &'static [&'static str];
}

macro_rules! wire {
    ($($t:ty),* $(,)?) => {$(
        impl WireEnum for $t {
            fn known(&self) -> bool { self.is_known() }
            fn text(&self) -> &str { self.as_str() }
            fn allowed() -> &'static [&'static str] { <$t>::KNOWN }
        }
    )*};
}

wire!(
    m::NetworkType,
    m::AttachmentType,
    m::IpVersion,
    m::GatewayFlavor,
    m::HaMode,
    m::EipType,
    m::ChargeMode,
    m::IdType,
    m::ConnectionStyle,
    m::IkeVersion,
    m::Phase1NegotiationMode,
    m::AuthenticationAlgorithm,
    m::EncryptionAlgorithm,
    m::DhGroup,
    m::AuthenticationMethod,
    m::IkeIdType,
    m::DpdMsg,
    m::TransformProtocol,
    m::EncapsulationMode,
    m::HaRole,
    m::UpgradeAction,
);

/// `field` must hold one of the documented values.
pub fn known<E: WireEnum>(field: &str, v: &E) -> ApiResult<()> {
    if v.known() {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{field} {:?} is not one of {}",
            v.text(),
            E::allowed().join(", ")
        )))
    }
}

/// `field` must be one of `allowed` (a documented subset).
pub fn one_of<E: WireEnum + PartialEq>(field: &str, v: &E, allowed: &[E]) -> ApiResult<()> {
    known(field, v)?;
    if allowed.contains(v) {
        Ok(())
    } else {
        let names: Vec<&str> = allowed.iter().map(|a| a.text()).collect();
        Err(ApiError::invalid(format!(
            "{field} {:?} is not allowed here; use one of {}",
            v.text(),
            names.join(", ")
        )))
    }
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '-' | '.')
        || ('\u{4e00}'..='\u{9fa5}').contains(&c)
}

/// Names of gateways, customer gateways, connections, bandwidths: 1-64 characters of digits,
/// letters, Chinese characters, `_`, `-`, `.` (reference §3.1).
pub fn name(field: &str, v: &str) -> ApiResult<()> {
    let len = v.chars().count();
    if !(1..=64).contains(&len) || !v.chars().all(name_char) {
        return Err(ApiError::invalid(format!(
            "{field} {v:?} must be 1-64 characters of letters, digits, Chinese characters, '_', '-' and '.'"
        )));
    }
    Ok(())
}

/// An IPv4 CIDR written with its network address, e.g. `192.168.0.0/24`.
pub fn cidr_v4(field: &str, v: &str) -> ApiResult<Ipv4Net> {
    match v.parse::<Ipv4Net>() {
        Ok(n) if n.network() == n.addr() => Ok(n),
        _ => Err(ApiError::invalid(format!(
            "{field} {v:?} is not an IPv4 CIDR such as 192.168.52.0/24"
        ))),
    }
}

/// An IPv6 CIDR written with its network address, e.g. `16af:cacc:1097::/48`.
pub fn cidr_v6(field: &str, v: &str) -> ApiResult<Ipv6Net> {
    match v.parse::<Ipv6Net>() {
        Ok(n) if n.network() == n.addr() => Ok(n),
        _ => Err(ApiError::invalid(format!(
            "{field} {v:?} is not an IPv6 CIDR such as 16af:cacc:1097::/48"
        ))),
    }
}

/// A list of CIDRs of one IP version: 1..=`max` entries, no duplicates.
pub fn cidr_list(field: &str, v: &[String], ipv6: bool, max: usize) -> ApiResult<Vec<IpNet>> {
    if v.is_empty() || v.len() > max {
        return Err(ApiError::invalid(format!(
            "{field} must hold 1 to {max} CIDRs, got {}",
            v.len()
        )));
    }
    let mut out: Vec<IpNet> = Vec::with_capacity(v.len());
    for c in v {
        let n: IpNet = if ipv6 {
            cidr_v6(field, c)?.into()
        } else {
            cidr_v4(field, c)?.into()
        };
        if out.contains(&n) {
            return Err(ApiError::invalid(format!("{field} lists {c} twice")));
        }
        out.push(n);
    }
    Ok(out)
}

/// True when two networks share addresses.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A dotted-decimal IPv4 address.
pub fn ipv4(field: &str, v: &str) -> ApiResult<Ipv4Addr> {
    v.parse().map_err(|_| {
        ApiError::invalid(format!(
            "{field} {v:?} is not a dotted-decimal IPv4 address such as 192.168.45.7"
        ))
    })
}

/// BGP ASN: 1-4294967295.
pub fn bgp_asn(field: &str, v: u64) -> ApiResult<()> {
    if (1..=4_294_967_295).contains(&v) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{field} {v} must be between 1 and 4294967295"
        )))
    }
}

/// An integer within documented bounds.
pub fn range(field: &str, v: u32, lo: u32, hi: u32) -> ApiResult<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{field} {v} must be between {lo} and {hi}"
        )))
    }
}

/// `enterprise_project_id`: `"0"` or an id (at most 36 characters).
pub fn enterprise_project_id(v: &str) -> ApiResult<()> {
    if v == "0"
        || (1..=36).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "enterprise_project_id {v:?} must be \"0\" or an enterprise project UUID"
        )))
    }
}

/// Tags: at most 20, key 1-128 and value 0-255 characters of letters, digits, spaces and
/// `_ . : = + - @`, keys unique (reference §3.2).
pub fn tags(v: &[m::VpnResourceTag]) -> ApiResult<()> {
    if v.len() > 20 {
        return Err(ApiError::invalid(format!(
            "tags holds {} tags; at most 20 are allowed",
            v.len()
        )));
    }
    let ok = |c: char| c.is_alphanumeric() || c == ' ' || "_.:=+-@".contains(c);
    for (i, t) in v.iter().enumerate() {
        let klen = t.key.chars().count();
        if !(1..=128).contains(&klen) || !t.key.chars().all(ok) {
            return Err(ApiError::invalid(format!(
                "tag key {:?} must be 1-128 letters, digits, spaces or _ . : = + - @",
                t.key
            )));
        }
        if t.value.chars().count() > 255 || !t.value.chars().all(ok) {
            return Err(ApiError::invalid(format!(
                "tag value of {:?} must be 0-255 letters, digits, spaces or _ . : = + - @",
                t.key
            )));
        }
        if v[..i].iter().any(|o| o.key == t.key) {
            return Err(ApiError::invalid(format!(
                "tag key {:?} is given twice",
                t.key
            )));
        }
    }
    Ok(())
}

/// Pre-shared key: 8-128 characters of letters, digits and the specials of
/// [`m::PSK_SPECIALS`] (every documented table's, which differ: the simulator accepts what any
/// of them allows), with at least three of the four character classes (connections reference
/// §1.4). The message never contains the key.
pub fn psk(v: &str) -> ApiResult<()> {
    const SPECIAL: &str = m::PSK_SPECIALS;
    let len = v.chars().count();
    let allowed = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || SPECIAL.contains(c));
    let classes = [
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| SPECIAL.contains(c)),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if !(8..=128).contains(&len) || !allowed || classes < 3 {
        return Err(ApiError::invalid(format!(
            "psk must be 8-128 characters of letters, digits and {SPECIAL} and contain at least three of: upper-case letters, lower-case letters, digits, special characters (the given psk has {len} characters)"
        )));
    }
    Ok(())
}

/// FQDN identifiers (customer gateway `id_value`, IKE `local_id`/`peer_id`): no spaces and
/// none of `& < > [ ] \ ?`, 1..=`max` characters.
pub fn fqdn(field: &str, v: &str, max: usize) -> ApiResult<()> {
    let len = v.chars().count();
    if !(1..=max).contains(&len)
        || v.chars()
            .any(|c| c.is_whitespace() || "&<>[]\\?".contains(c))
    {
        return Err(ApiError::invalid(format!(
            "{field} {v:?} must be 1-{max} characters without spaces or any of & < > [ ] \\ ?"
        )));
    }
    Ok(())
}

/// Tunnel interface addresses: `169.254.x.x/30`, not in `169.254.195.0/24`, usable host
/// addresses, both in the same /30 and different (connections reference §3.1).
pub fn tunnel_pair(local: &str, peer: &str) -> ApiResult<()> {
    let parse = |field: &str, v: &str| -> ApiResult<Ipv4Net> {
        let bad = || {
            ApiError::invalid(format!(
                "{field} {v:?} must be a 169.254.x.x/30 host address outside 169.254.195.0/24, e.g. 169.254.76.1/30"
            ))
        };
        let n: Ipv4Net = v.parse().map_err(|_| bad())?;
        let o = n.addr().octets();
        if n.prefix_len() != 30
            || o[0] != 169
            || o[1] != 254
            || o[2] == 195
            || n.addr() == n.network()
            || n.addr() == n.broadcast()
        {
            return Err(bad());
        }
        Ok(n)
    };
    let l = parse("tunnel_local_address", local)?;
    let p = parse("tunnel_peer_address", peer)?;
    if l.network() != p.network() || l.addr() == p.addr() {
        return Err(ApiError::invalid(format!(
            "tunnel_local_address {local} and tunnel_peer_address {peer} must be different addresses of the same /30"
        )));
    }
    Ok(())
}

/// The IKE or IPsec `lifetime_seconds` bounds.
pub const IKE_LIFETIME: (u32, u32) = (60, 604_800);
pub const IPSEC_LIFETIME: (u32, u32) = (30, 604_800);

/// A policy template (non-fixed-IP gateways): reference §3.5.
pub fn policy_template(t: &m::PolicyTemplate) -> ApiResult<()> {
    use m::{AuthenticationAlgorithm as A, DhGroup as D, EncryptionAlgorithm as E};
    let auth = [A::Sha2_512, A::Sha2_384, A::Sha2_256];
    let enc = [
        E::Aes256Gcm16,
        E::Aes128Gcm16,
        E::Aes256,
        E::Aes192,
        E::Aes128,
    ];
    let dh = [
        D::Group14,
        D::Group15,
        D::Group16,
        D::Group19,
        D::Group20,
        D::Group21,
        D::Disable,
    ];
    if let Some(ike) = &t.ike_policy {
        if let Some(v) = &ike.encryption_algorithm {
            one_of("policy_template.ike_policy.encryption_algorithm", v, &enc)?;
        }
        if let Some(v) = &ike.dh_group {
            one_of("policy_template.ike_policy.dh_group", v, &dh)?;
        }
        if let Some(v) = &ike.authentication_algorithm {
            one_of(
                "policy_template.ike_policy.authentication_algorithm",
                v,
                &auth,
            )?;
        }
        if let Some(v) = ike.lifetime_seconds {
            range(
                "policy_template.ike_policy.lifetime_seconds",
                v,
                IKE_LIFETIME.0,
                IKE_LIFETIME.1,
            )?;
        }
    }
    if let Some(ipsec) = &t.ipsec_policy {
        if let Some(v) = &ipsec.authentication_algorithm {
            one_of(
                "policy_template.ipsec_policy.authentication_algorithm",
                v,
                &auth,
            )?;
        }
        if let Some(v) = &ipsec.encryption_algorithm {
            one_of("policy_template.ipsec_policy.encryption_algorithm", v, &enc)?;
        }
        if let Some(v) = &ipsec.pfs {
            one_of("policy_template.ipsec_policy.pfs", v, &dh)?;
        }
        if let Some(v) = ipsec.lifetime_seconds {
            range(
                "policy_template.ipsec_policy.lifetime_seconds",
                v,
                IPSEC_LIFETIME.0,
                IPSEC_LIFETIME.1,
            )?;
        }
    }
    Ok(())
}

/// Whether an address is inside a network.
pub fn contains(net: &str, addr: &str) -> bool {
    match (net.parse::<IpNet>(), addr.parse::<IpAddr>()) {
        (Ok(n), Ok(a)) => n.contains(&a),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_rule() {
        assert!(name("name", "vpngw-3caf").is_ok());
        assert!(name("name", "vpn_connection_name").is_ok());
        assert!(name("name", "网关.1").is_ok());
        assert!(name("name", "").is_err());
        assert!(name("name", &"a".repeat(65)).is_err());
        let e = name("name", "has space").unwrap_err();
        assert_eq!(e.code, "VPN.0001");
        assert!(e.message.starts_with("invalid request: name"));
    }

    #[test]
    fn psk_needs_three_classes_and_never_echoes_the_key() {
        assert!(psk("Abcdef12").is_ok());
        assert!(psk("abcdef1!").is_ok());
        assert!(psk("abcdefgh1").is_err()); // two classes
        assert!(psk("Ab1!").is_err()); // too short
                                       // '*' is in the batch-create and update tables, ':' in the SDK's, '!' in single create.
        assert!(psk("Abcdef12*").is_ok());
        assert!(psk("abcdef1:").is_ok());
        assert!(psk("Abcdef12&").is_err()); // '&' is in no table
        let e = psk("onlylowercaseSecret").unwrap_err();
        assert!(!e.message.contains("onlylowercaseSecret"));
    }

    #[test]
    fn tunnel_addresses_follow_the_rules() {
        assert!(tunnel_pair("169.254.56.225/30", "169.254.56.226/30").is_ok());
        assert!(tunnel_pair("169.254.56.225/29", "169.254.56.226/29").is_err());
        assert!(tunnel_pair("169.254.195.1/30", "169.254.195.2/30").is_err());
        assert!(tunnel_pair("169.254.56.225/30", "169.254.56.230/30").is_err());
        assert!(tunnel_pair("169.254.56.224/30", "169.254.56.225/30").is_err());
        assert!(tunnel_pair("10.0.0.1/30", "10.0.0.2/30").is_err());
    }

    #[test]
    fn cidrs_and_enums() {
        assert!(cidr_v4("local_subnets", "192.168.0.0/24").is_ok());
        assert!(cidr_v4("local_subnets", "192.168.0.1/24").is_err());
        assert!(cidr_v4("local_subnets", "192.168.0.0").is_err());
        assert!(cidr_list(
            "peer_subnets",
            &["10.0.0.0/8".into(), "10.0.0.0/8".into()],
            false,
            50
        )
        .is_err());
        let e = known("network_type", &m::NetworkType::parse("public-ish")).unwrap_err();
        assert!(e.message.contains("public, private"), "{}", e.message);
    }

    #[test]
    fn tags_rules() {
        let t = |k: &str, v: &str| m::VpnResourceTag::new(k, v);
        assert!(tags(&[t("owner", "team-a"), t("k8s:uid", "1234")]).is_ok());
        assert!(tags(&[t("", "x")]).is_err());
        assert!(tags(&[t("a", "x"), t("a", "y")]).is_err());
        assert!(tags(&(0..21).map(|i| t(&format!("k{i}"), "")).collect::<Vec<_>>()).is_err());
        assert!(tags(&[t("bad/key", "x")]).is_err());
    }
}
