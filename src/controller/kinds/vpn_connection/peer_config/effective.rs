//! The effective parameters of the on-premises side: what the cloud reports for the
//! connection (server defaults filled in), its gateway and its customer gateway, plus the
//! pre-shared key the cloud holds. Pure; nothing is assumed that the cloud did not say.
use std::fmt;

use crate::cloud::model::common::{DhGroup, Redacted};
use crate::cloud::model::connection::{
    IkeIdType, IkePolicy, PolicyRule, ResponseConnectionStyle, ResponseVpnConnection,
    UpdateVpnConnectionRequestBody,
};
use crate::cloud::model::customer_gateway::{IdType, ResponseCustomerGateway};
use crate::cloud::model::gateway::ResponseVpnGateway;

/// An IKE identity: `ip`, `fqdn` (or, for the on-premises side, `any`) and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub kind: String,
    pub value: String,
}

/// One traffic selector pair, seen from the on-premises device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// The on-premises side (local) CIDR.
    pub on_premises: String,
    /// The cloud side (remote) CIDR.
    pub cloud: String,
}

/// The IKE (phase 1) policy, as the cloud holds it (Huawei values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ike {
    /// `v1` or `v2`.
    pub version: String,
    /// `main` or `aggressive` (IKEv1).
    pub negotiation_mode: Option<String>,
    /// `pre-share` or `digital-envelope-v2`.
    pub authentication_method: String,
    pub encryption: String,
    pub authentication: String,
    /// `None` on GM gateways.
    pub dh_group: Option<String>,
    pub lifetime_seconds: u32,
    pub dpd_interval_seconds: Option<u32>,
    pub dpd_timeout_seconds: Option<u32>,
    pub dpd_msg: Option<String>,
}

/// The IPsec (phase 2) policy, as the cloud holds it (Huawei values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipsec {
    pub encryption: String,
    pub authentication: String,
    /// A DH group, or `disable`.
    pub pfs: String,
    pub lifetime_seconds: u32,
    pub transform_protocol: String,
    pub encapsulation_mode: String,
}

/// BGP, for style `bgp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bgp {
    pub cloud_asn: Option<u64>,
    pub on_premises_asn: Option<u64>,
    /// The cloud's neighbour address (its tunnel inside address).
    pub cloud_address: Option<String>,
    /// The on-premises neighbour address.
    pub on_premises_address: Option<String>,
}

/// Everything the on-premises device needs. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Effective {
    /// `namespace/name` of the VpnConnection.
    pub object: (String, String),
    pub connection_id: String,
    pub connection_name: Option<String>,
    /// `static`, `policy`, `bgp` or `policy-template`.
    pub style: String,
    pub ha_role: Option<String>,
    pub gateway_id: String,
    /// The cloud gateway's address of this tunnel (EIP address or private IP).
    pub cloud_address: String,
    pub cloud_id: Identity,
    /// The gateway's local subnets (IPv4 and IPv6).
    pub cloud_subnets: Vec<String>,
    pub customer_gateway_id: String,
    /// The device's address, when the customer gateway is identified by IP.
    pub on_premises_address: Option<String>,
    pub on_premises_id: Identity,
    /// The connection's peer subnets (IPv4 and IPv6).
    pub peer_subnets: Vec<String>,
    /// The policy rules (IPv4 and IPv6), style `policy` / `policy-template`.
    pub policy_rules: Vec<PolicyRule>,
    pub ike: Ike,
    pub ipsec: Ipsec,
    /// The traffic selectors both sides negotiate (see [`selectors`]).
    pub selectors: Vec<Selector>,
    /// Route-based: any-to-any selectors, traffic routed into a tunnel interface.
    pub route_based: bool,
    /// Tunnel interface addresses `(cloud, on-premises)`, CIDR notation.
    pub tunnel: Option<(String, String)>,
    pub bgp: Option<Bgp>,
    /// The key the cloud holds (`None`: certificate authentication).
    pub psk: Option<Redacted<String>>,
}

impl fmt::Debug for Effective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Effective")
            .field("object", &self.object)
            .field("connection_id", &self.connection_id)
            .field("style", &self.style)
            .field("cloud_address", &self.cloud_address)
            .field("ike", &self.ike)
            .field("ipsec", &self.ipsec)
            .field("selectors", &self.selectors)
            .field("psk", &self.psk)
            .finish_non_exhaustive()
    }
}

/// What the cloud reported, read for the export: the connection (as it is, or as it will be
/// after this reconcile's PUT), its gateway and its customer gateway.
#[derive(Clone, Copy, Debug)]
pub struct Reported<'a> {
    pub connection: &'a ResponseVpnConnection,
    pub gateway: &'a ResponseVpnGateway,
    pub customer_gateway: &'a ResponseCustomerGateway,
}

/// The connection as the cloud will hold it after `body` is PUT: the body's fields over the
/// observed ones (the body carries the complete IKE and IPsec policies).
pub fn after_put(
    conn: &ResponseVpnConnection,
    body: &UpdateVpnConnectionRequestBody,
) -> ResponseVpnConnection {
    let mut c = conn.clone();
    macro_rules! take {
        ($($f:ident),+) => { $( if body.$f.is_some() { c.$f = body.$f.clone(); } )+ };
    }
    take!(
        name,
        cgw_id,
        peer_subnets,
        peer_subnets_v6,
        tunnel_local_address,
        tunnel_peer_address,
        enable_hub,
        policy_rules,
        policy_rules_v6,
        ipsecpolicy
    );
    if let Some(u) = &body.ikepolicy {
        let method = conn
            .ikepolicy
            .as_ref()
            .and_then(|p| p.authentication_method.clone());
        c.ikepolicy = Some(IkePolicy {
            ike_version: u.ike_version.clone(),
            phase1_negotiation_mode: u.phase1_negotiation_mode.clone(),
            authentication_algorithm: u.authentication_algorithm.clone(),
            encryption_algorithm: u.encryption_algorithm.clone(),
            dh_group: u.dh_group.clone(),
            authentication_method: method,
            lifetime_seconds: u.lifetime_seconds,
            local_id_type: u.local_id_type.clone(),
            local_id: u.local_id.clone(),
            peer_id_type: u.peer_id_type.clone(),
            peer_id: u.peer_id.clone(),
            dpd: u.dpd.clone(),
        });
    }
    c
}

/// The address behind the connection's `vgw_ip`: the EIP's address (public gateway) or the
/// private IP itself.
fn gateway_address(gw: &ResponseVpnGateway, vgw_ip: &str) -> Option<String> {
    for eip in [&gw.eip1, &gw.eip2].into_iter().flatten() {
        if eip.id.as_deref() == Some(vgw_ip) {
            return eip.ip_address.clone();
        }
    }
    [&gw.access_private_ip_1, &gw.access_private_ip_2]
        .into_iter()
        .flatten()
        .find(|ip| ip.as_str() == vgw_ip)
        .cloned()
}

fn both<T: Clone>(a: &Option<Vec<T>>, b: &Option<Vec<T>>) -> Vec<T> {
    a.iter().chain(b.iter()).flatten().cloned().collect()
}

fn is_v6(cidr: &str) -> bool {
    cidr.contains(':')
}

/// The traffic selectors of a connection, and whether it is route-based.
///
/// - `policy`, `policy-template`: one pair per rule and destination (the rule's source is the
///   cloud side). One CHILD SA per pair negotiates whichever side starts.
/// - `static`: every peer subnet with every gateway local subnet of the same IP version (the
///   "full mesh" the cloud documents as its interesting traffic).
/// - `bgp`, and any style that yields no pair (e.g. `static` on a gateway with no local
///   subnets: an Enterprise Router attachment): route-based, any-to-any; the routes (or BGP)
///   decide what enters the tunnel.
pub fn selectors(
    style: &str,
    peer_subnets: &[String],
    cloud_subnets: &[String],
    rules: &[PolicyRule],
) -> (Vec<Selector>, bool) {
    let pair = |on_premises: &str, cloud: &str| Selector {
        on_premises: on_premises.to_string(),
        cloud: cloud.to_string(),
    };
    let mut out = Vec::new();
    match style {
        "policy" | "policy-template" => {
            for r in rules {
                let Some(src) = &r.source else { continue };
                for dst in r.destination.iter().flatten() {
                    out.push(pair(dst, src));
                }
            }
        }
        "static" => {
            for p in peer_subnets {
                for c in cloud_subnets.iter().filter(|c| is_v6(c) == is_v6(p)) {
                    out.push(pair(p, c));
                }
            }
        }
        _ => {}
    }
    if !out.is_empty() {
        return (out, false);
    }
    let v6 = cloud_subnets.iter().chain(peer_subnets).any(|c| is_v6(c));
    out.push(pair("0.0.0.0/0", "0.0.0.0/0"));
    if v6 {
        out.push(pair("::/0", "::/0"));
    }
    (out, true)
}

fn required<T: Clone>(v: &Option<T>, what: &str) -> Result<T, String> {
    v.clone()
        .ok_or_else(|| format!("the cloud does not report the connection's {what} yet"))
}

fn enum_text<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(|x| x.to_string())
}

/// The identity of one end: the one configured, else its address (`ip`).
fn identity(kind: &Option<IkeIdType>, value: &Option<String>, fallback: Option<&str>) -> Identity {
    let kind = enum_text(kind).unwrap_or_else(|| "ip".into());
    let value = value
        .clone()
        .or_else(|| fallback.map(str::to_string))
        .unwrap_or_default();
    Identity { kind, value }
}

/// The effective parameters, or what the cloud has not reported yet.
pub fn effective(
    object: (&str, &str),
    r: Reported<'_>,
    psk: Option<&Redacted<String>>,
) -> Result<Effective, String> {
    let (c, gw, cgw) = (r.connection, r.gateway, r.customer_gateway);
    let vgw_ip = required(&c.vgw_ip, "gateway address (vgw_ip)")?;
    let cloud_address = gateway_address(gw, &vgw_ip).ok_or_else(|| {
        format!(
            "the gateway {} does not report the address of {vgw_ip} yet",
            gw.id
        )
    })?;
    let ike = required(&c.ikepolicy, "IKE policy")?;
    let ipsec = required(&c.ipsecpolicy, "IPsec policy")?;
    let style = match &c.style {
        Some(ResponseConnectionStyle::Other(s)) => s.to_lowercase(),
        Some(s) => s.as_str().to_lowercase(),
        None => return Err("the cloud does not report the connection's style yet".into()),
    };
    let device_ip = cgw
        .id_value
        .clone()
        .filter(|_| cgw.id_type == Some(IdType::Ip));
    let cloud_subnets = both(&gw.local_subnets, &gw.local_subnets_v6);
    let peer_subnets = both(&c.peer_subnets, &c.peer_subnets_v6);
    let policy_rules = both(&c.policy_rules, &c.policy_rules_v6);
    let (selectors, route_based) = selectors(&style, &peer_subnets, &cloud_subnets, &policy_rules);
    let tunnel = match (&c.tunnel_local_address, &c.tunnel_peer_address) {
        (Some(l), Some(p)) if style == "static" || style == "bgp" => Some((l.clone(), p.clone())),
        _ => None,
    };
    let host = |cidr: &String| cidr.split('/').next().unwrap_or(cidr).to_string();
    let bgp = (style == "bgp").then(|| Bgp {
        cloud_asn: gw.bgp_asn,
        on_premises_asn: cgw.bgp_asn,
        cloud_address: tunnel.as_ref().map(|t| host(&t.0)),
        on_premises_address: tunnel.as_ref().map(|t| host(&t.1)),
    });
    let dpd = ike.dpd.clone().unwrap_or_default();
    let effective = Effective {
        object: (object.0.to_string(), object.1.to_string()),
        connection_id: c.id.clone(),
        connection_name: c.name.clone(),
        style,
        ha_role: enum_text(&c.ha_role),
        gateway_id: gw.id.clone(),
        cloud_id: identity(&ike.local_id_type, &ike.local_id, Some(&cloud_address)),
        cloud_address,
        cloud_subnets,
        customer_gateway_id: cgw.id.clone(),
        on_premises_id: identity(&ike.peer_id_type, &ike.peer_id, cgw.id_value.as_deref()),
        on_premises_address: device_ip,
        peer_subnets,
        policy_rules,
        ike: Ike {
            version: enum_text(&ike.ike_version).ok_or("the cloud reports no IKE version")?,
            negotiation_mode: enum_text(&ike.phase1_negotiation_mode),
            authentication_method: enum_text(&ike.authentication_method)
                .unwrap_or_else(|| "pre-share".into()),
            encryption: enum_text(&ike.encryption_algorithm)
                .ok_or("the cloud reports no IKE encryption algorithm")?,
            authentication: enum_text(&ike.authentication_algorithm)
                .ok_or("the cloud reports no IKE authentication algorithm")?,
            dh_group: enum_text(&ike.dh_group),
            lifetime_seconds: required(&ike.lifetime_seconds, "IKE lifetime")?,
            dpd_interval_seconds: dpd.interval,
            dpd_timeout_seconds: dpd.timeout,
            dpd_msg: enum_text(&dpd.msg),
        },
        ipsec: Ipsec {
            encryption: enum_text(&ipsec.encryption_algorithm)
                .ok_or("the cloud reports no IPsec encryption algorithm")?,
            authentication: enum_text(&ipsec.authentication_algorithm)
                .ok_or("the cloud reports no IPsec authentication algorithm")?,
            pfs: enum_text(&ipsec.pfs).unwrap_or_else(|| DhGroup::Disable.to_string()),
            lifetime_seconds: required(&ipsec.lifetime_seconds, "IPsec lifetime")?,
            transform_protocol: enum_text(&ipsec.transform_protocol)
                .unwrap_or_else(|| "esp".into()),
            encapsulation_mode: enum_text(&ipsec.encapsulation_mode)
                .unwrap_or_else(|| "tunnel".into()),
        },
        selectors,
        route_based,
        tunnel,
        bgp,
        psk: psk.cloned(),
    };
    Ok(effective)
}
