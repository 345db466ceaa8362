//! VPN connections: create, batch-create, get, list, update, delete, reset, logs.
//!
//! Visibility (connections reference §4.1): create, batch-create and update responses have no
//! `status`; `connection_monitor_id` appears in get, list and update; `bgp_peer` in get only
//! (BGP-style connections). `psk` is write-only and never rendered. Server-side defaults are
//! filled in full (IKE v2, sha2-256, aes-128, group15, pre-share, 86400 s; IPsec sha2-256,
//! aes-128, pfs group15, esp, 3600 s, tunnel; DPD 15/30/seq-hash-notify), and tunnel addresses
//! are assigned when not given.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ipnet::{IpNet, Ipv4Net};
use sha2::{Digest, Sha256};

use super::gateways::child_gate;
use super::{new_id, page, short_suffix, ts, Ctx, GatewayRec, Next, Pending, Project};
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};
use crate::sim::validate as v;

/// A stored connection.
#[derive(Debug, Clone)]
pub struct ConnectionRec {
    /// Every field, `status` included.
    pub conn: m::ResponseVpnConnection,
    /// Write-only; never rendered.
    pub psk: Option<m::Redacted<String>>,
    pub pending: Option<Pending>,
    pub created: DateTime<Utc>,
    /// When the current status began (for `bgp_peer.state_duration` and logs).
    pub state_since: DateTime<Utc>,
}

impl ConnectionRec {
    /// SHA-256 of the PSK (hex), for the admin API: proves a rotation without showing the key.
    pub fn psk_sha256(&self) -> Option<String> {
        self.psk
            .as_ref()
            .map(|p| hex::encode(Sha256::digest(p.expose().as_bytes())))
    }

    fn status(&self) -> m::ConnectionStatus {
        self.conn
            .status
            .clone()
            .unwrap_or(m::ConnectionStatus::Active)
    }
}

/// Which response a connection is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Create,
    Update,
    List,
    Get,
}

fn is_gm(g: &GatewayRec) -> bool {
    g.gw.flavor == Some(m::GatewayFlavor::Gm)
}

fn is_non_fixed(g: &GatewayRec) -> bool {
    matches!(
        g.gw.flavor,
        Some(m::GatewayFlavor::Professional1NonFixedIp | m::GatewayFlavor::Professional2NonFixedIp)
    )
}

/// The documented server defaults for an IKE policy.
fn default_ike(gm: bool) -> m::IkePolicy {
    use m::*;
    if gm {
        IkePolicy {
            ike_version: Some(IkeVersion::V1),
            phase1_negotiation_mode: Some(Phase1NegotiationMode::Main),
            authentication_algorithm: Some(AuthenticationAlgorithm::Sm3),
            encryption_algorithm: Some(EncryptionAlgorithm::Sm4),
            dh_group: None,
            authentication_method: Some(AuthenticationMethod::DigitalEnvelopeV2),
            lifetime_seconds: Some(86_400),
            local_id_type: None,
            local_id: None,
            peer_id_type: None,
            peer_id: None,
            dpd: Some(default_dpd()),
        }
    } else {
        IkePolicy {
            ike_version: Some(IkeVersion::V2),
            phase1_negotiation_mode: None,
            authentication_algorithm: Some(AuthenticationAlgorithm::Sha2_256),
            encryption_algorithm: Some(EncryptionAlgorithm::Aes128),
            dh_group: Some(DhGroup::Group15),
            authentication_method: Some(AuthenticationMethod::PreShare),
            lifetime_seconds: Some(86_400),
            local_id_type: Some(IkeIdType::Ip),
            local_id: None,
            peer_id_type: Some(IkeIdType::Ip),
            peer_id: None,
            dpd: Some(default_dpd()),
        }
    }
}

fn default_dpd() -> m::Dpd {
    m::Dpd {
        timeout: Some(15),
        interval: Some(30),
        msg: Some(m::DpdMsg::SeqHashNotify),
    }
}

fn default_ipsec(gm: bool) -> m::IpsecPolicy {
    use m::*;
    IpsecPolicy {
        authentication_algorithm: Some(if gm {
            AuthenticationAlgorithm::Sm3
        } else {
            AuthenticationAlgorithm::Sha2_256
        }),
        encryption_algorithm: Some(if gm {
            EncryptionAlgorithm::Sm4
        } else {
            EncryptionAlgorithm::Aes128
        }),
        pfs: (!gm).then_some(DhGroup::Group15),
        transform_protocol: Some(TransformProtocol::Esp),
        lifetime_seconds: Some(3600),
        encapsulation_mode: Some(EncapsulationMode::Tunnel),
    }
}

/// Overlays the given IKE fields on `base` (omitted fields keep their value).
fn merge_ike(
    base: &mut m::IkePolicy,
    u: &m::UpdateIkePolicy,
    method: Option<&m::AuthenticationMethod>,
) {
    macro_rules! take {
        ($($f:ident),*) => {$( if let Some(x) = &u.$f { base.$f = Some(x.clone()); } )*};
    }
    take!(
        ike_version,
        phase1_negotiation_mode,
        authentication_algorithm,
        encryption_algorithm,
        dh_group,
        lifetime_seconds,
        local_id_type,
        local_id,
        peer_id_type,
        peer_id
    );
    if let Some(m) = method {
        base.authentication_method = Some(m.clone());
    }
    if let Some(d) = &u.dpd {
        let cur = base.dpd.get_or_insert_with(default_dpd);
        cur.timeout = d.timeout.or(cur.timeout);
        cur.interval = d.interval.or(cur.interval);
        if let Some(msg) = &d.msg {
            cur.msg = Some(msg.clone());
        }
    }
}

fn merge_ipsec(base: &mut m::IpsecPolicy, u: &m::IpsecPolicy) {
    macro_rules! take {
        ($($f:ident),*) => {$( if let Some(x) = &u.$f { base.$f = Some(x.clone()); } )*};
    }
    take!(
        authentication_algorithm,
        encryption_algorithm,
        pfs,
        transform_protocol,
        lifetime_seconds,
        encapsulation_mode
    );
}

/// IKE rules (connections reference §3.3, §3.4). `dh_given`: the request set `dh_group`.
fn check_ike(p: &m::IkePolicy, gm: bool, dh_given: bool, ids_given: bool) -> ApiResult<()> {
    use m::*;
    let f = |n: &str| format!("ikepolicy.{n}");
    if let Some(x) = &p.ike_version {
        v::known(&f("ike_version"), x)?;
        if gm && *x != IkeVersion::V1 {
            return Err(ApiError::invalid(
                "ikepolicy.ike_version must be v1 on GM gateways",
            ));
        }
    }
    if let Some(x) = &p.phase1_negotiation_mode {
        v::known(&f("phase1_negotiation_mode"), x)?;
        if gm && *x != Phase1NegotiationMode::Main {
            return Err(ApiError::invalid(
                "ikepolicy.phase1_negotiation_mode must be main on GM gateways",
            ));
        }
    }
    if let Some(x) = &p.authentication_algorithm {
        v::known(&f("authentication_algorithm"), x)?;
        if gm != (*x == AuthenticationAlgorithm::Sm3) {
            return Err(ApiError::invalid(if gm {
                "ikepolicy.authentication_algorithm must be sm3 on GM gateways"
            } else {
                "ikepolicy.authentication_algorithm sm3 is only for GM gateways"
            }));
        }
    }
    if let Some(x) = &p.encryption_algorithm {
        v::known(&f("encryption_algorithm"), x)?;
        if gm != (*x == EncryptionAlgorithm::Sm4) {
            return Err(ApiError::invalid(if gm {
                "ikepolicy.encryption_algorithm must be sm4 on GM gateways"
            } else {
                "ikepolicy.encryption_algorithm sm4 is only for GM gateways"
            }));
        }
    }
    if gm && dh_given {
        return Err(ApiError::invalid(
            "ikepolicy.dh_group is not supported on GM gateways",
        ));
    }
    if let Some(x) = &p.dh_group {
        v::known(&f("dh_group"), x)?;
        if *x == DhGroup::Disable {
            return Err(ApiError::invalid("ikepolicy.dh_group cannot be disable"));
        }
    }
    if let Some(x) = &p.authentication_method {
        let want = if gm {
            AuthenticationMethod::DigitalEnvelopeV2
        } else {
            AuthenticationMethod::PreShare
        };
        v::one_of(&f("authentication_method"), x, &[want])?;
    }
    if let Some(x) = p.lifetime_seconds {
        v::range(
            &f("lifetime_seconds"),
            x,
            v::IKE_LIFETIME.0,
            v::IKE_LIFETIME.1,
        )?;
    }
    if gm && ids_given {
        return Err(ApiError::invalid(
            "ikepolicy.local_id_type, local_id, peer_id_type and peer_id are not supported on GM gateways",
        ));
    }
    for (tf, idf, t, id, any_ok) in [
        (
            "local_id_type",
            "local_id",
            &p.local_id_type,
            &p.local_id,
            false,
        ),
        ("peer_id_type", "peer_id", &p.peer_id_type, &p.peer_id, true),
    ] {
        let Some(t) = t else { continue };
        let allowed: &[IkeIdType] = if any_ok {
            &[IkeIdType::Ip, IkeIdType::Fqdn, IkeIdType::Any]
        } else {
            &[IkeIdType::Ip, IkeIdType::Fqdn]
        };
        v::one_of(&f(tf), t, allowed)?;
        match (t, id) {
            (IkeIdType::Fqdn, None) => {
                return Err(ApiError::invalid(format!(
                    "ikepolicy.{idf} is required when ikepolicy.{tf} is fqdn"
                )))
            }
            (IkeIdType::Fqdn, Some(x)) => v::fqdn(&f(idf), x, 255)?,
            (IkeIdType::Ip, Some(x)) => {
                v::ipv4(&f(idf), x)?;
            }
            _ => {}
        }
    }
    if let Some(d) = &p.dpd {
        if let Some(x) = d.timeout {
            v::range("ikepolicy.dpd.timeout", x, 2, 60)?;
        }
        if let Some(x) = d.interval {
            v::range("ikepolicy.dpd.interval", x, 10, 3600)?;
        }
        if let Some(x) = &d.msg {
            v::known("ikepolicy.dpd.msg", x)?;
        }
    }
    Ok(())
}

/// IPsec rules (connections reference §3.5).
fn check_ipsec(p: &m::IpsecPolicy, gm: bool, pfs_given: bool) -> ApiResult<()> {
    use m::*;
    if let Some(x) = &p.authentication_algorithm {
        v::known("ipsecpolicy.authentication_algorithm", x)?;
        if gm != (*x == AuthenticationAlgorithm::Sm3) {
            return Err(ApiError::invalid(if gm {
                "ipsecpolicy.authentication_algorithm must be sm3 on GM gateways"
            } else {
                "ipsecpolicy.authentication_algorithm sm3 is only for GM gateways"
            }));
        }
    }
    if let Some(x) = &p.encryption_algorithm {
        v::known("ipsecpolicy.encryption_algorithm", x)?;
        if gm != (*x == EncryptionAlgorithm::Sm4) {
            return Err(ApiError::invalid(if gm {
                "ipsecpolicy.encryption_algorithm must be sm4 on GM gateways"
            } else {
                "ipsecpolicy.encryption_algorithm sm4 is only for GM gateways"
            }));
        }
    }
    if gm && pfs_given {
        return Err(ApiError::invalid(
            "ipsecpolicy.pfs is not supported on GM gateways",
        ));
    }
    if let Some(x) = &p.pfs {
        v::known("ipsecpolicy.pfs", x)?;
    }
    if let Some(x) = &p.transform_protocol {
        v::known("ipsecpolicy.transform_protocol", x)?;
    }
    if let Some(x) = p.lifetime_seconds {
        v::range(
            "ipsecpolicy.lifetime_seconds",
            x,
            v::IPSEC_LIFETIME.0,
            v::IPSEC_LIFETIME.1,
        )?;
    }
    if let Some(x) = &p.encapsulation_mode {
        v::known("ipsecpolicy.encapsulation_mode", x)?;
    }
    Ok(())
}

fn check_policy_rules(
    field: &str,
    rules: &[m::PolicyRule],
    ipv6: bool,
) -> ApiResult<Vec<m::PolicyRule>> {
    if rules.len() > 5 {
        return Err(ApiError::invalid(format!(
            "{field} holds {} rules; at most 5 are allowed",
            rules.len()
        )));
    }
    let mut sources = BTreeSet::new();
    let mut out = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let Some(src) = &r.source else {
            return Err(ApiError::invalid(format!(
                "{field}[{i}].source is required"
            )));
        };
        if ipv6 {
            v::cidr_v6(&format!("{field}[{i}].source"), src)?;
        } else {
            v::cidr_v4(&format!("{field}[{i}].source"), src)?;
        }
        if !sources.insert(src.clone()) {
            return Err(ApiError::invalid(format!(
                "{field}: source {src} is used by two rules"
            )));
        }
        let dest = r.destination.clone().unwrap_or_default();
        v::cidr_list(&format!("{field}[{i}].destination"), &dest, ipv6, 50)?;
        out.push(m::PolicyRule {
            rule_index: Some(i as u32 + 1),
            source: Some(src.clone()),
            destination: Some(dest),
        });
    }
    Ok(out)
}

/// The gateway address behind `vgw_ip` (EIP address or private IP) and the slot (0 = first).
fn gateway_address(p: &Project, g: &GatewayRec, vgw_ip: &str) -> Option<(usize, String)> {
    if g.gw.network_type == Some(m::NetworkType::Private) {
        [&g.gw.access_private_ip_1, &g.gw.access_private_ip_2]
            .iter()
            .position(|ip| ip.as_deref() == Some(vgw_ip))
            .map(|i| (i, vgw_ip.to_string()))
    } else {
        let slot = g
            .eip_ids
            .iter()
            .position(|e| e.as_deref() == Some(vgw_ip))?;
        let address = p
            .world
            .eip(vgw_ip)
            .map(|e| e.address.clone())
            .unwrap_or_default();
        Some((slot, address))
    }
}

/// The connection fields every style shares, after validation.
struct Planned {
    rec: ConnectionRec,
}

impl Project {
    fn connection(&self, id: &str) -> ApiResult<&ConnectionRec> {
        self.connections
            .get(id)
            .ok_or_else(ApiError::connection_not_found)
    }

    /// Tunnel /30s already used on a gateway.
    fn used_tunnels(&self, vgw_id: &str) -> BTreeSet<Ipv4Net> {
        self.connections
            .values()
            .filter(|c| c.conn.vgw_id.as_deref() == Some(vgw_id))
            .filter_map(|c| c.conn.tunnel_local_address.as_deref())
            .filter_map(|a| a.parse::<Ipv4Net>().ok())
            .map(|n| n.trunc())
            .collect()
    }

    fn free_tunnel(&self, vgw_id: &str, extra: &BTreeSet<Ipv4Net>) -> Option<(String, String)> {
        let used = self.used_tunnels(vgw_id);
        // Deterministic scan of 169.254.0.0/16 in /30 steps, skipping 169.254.195.0/24.
        for third in 1u8..=254 {
            if third == 195 {
                continue;
            }
            for fourth in (0u8..=252).step_by(4) {
                let net =
                    Ipv4Net::new(std::net::Ipv4Addr::new(169, 254, third, fourth), 30).ok()?;
                if used.contains(&net) || extra.contains(&net) {
                    continue;
                }
                let o = net.network().octets();
                return Some((
                    format!("169.254.{}.{}/30", o[2], o[3] + 1),
                    format!("169.254.{}.{}/30", o[2], o[3] + 2),
                ));
            }
        }
        None
    }

    /// Validates one create body; `taken` holds tunnels planned earlier in the same batch.
    fn plan_connection(
        &mut self,
        req: &m::CreateVpnConnectionRequestBody,
        taken: &BTreeSet<Ipv4Net>,
        ctx: Ctx,
    ) -> ApiResult<Planned> {
        use m::ConnectionStyle as St;
        if req.vgw_id.is_empty() || req.vgw_ip.is_empty() || req.cgw_id.is_empty() {
            return Err(ApiError::invalid("vgw_id, vgw_ip and cgw_id are required"));
        }
        if let Some(n) = &req.name {
            v::name("name", n)?;
        }
        let style = req.style.clone().unwrap_or(St::Static);
        v::known("style", &style)?;
        if let Some(t) = &req.tags {
            v::tags(t)?;
        }
        let g = self
            .gateways
            .get(&req.vgw_id)
            .ok_or_else(ApiError::gateway_not_found)?;
        child_gate(g, false)?;
        let (slot, local_address) = gateway_address(self, g, &req.vgw_ip).ok_or_else(|| {
            ApiError::invalid(format!(
                "vgw_ip {} is not an EIP id or private access IP of vpn gateway {}",
                req.vgw_ip, req.vgw_id
            ))
        })?;
        let cgw = self
            .customer_gateways
            .get(&req.cgw_id)
            .ok_or_else(ApiError::not_found)?;
        let gm = is_gm(g);
        let ipv6 = g.gw.ip_version == Some(m::IpVersion::Ipv6);
        let er = g.gw.attachment_type == Some(m::AttachmentType::Er);
        if gm {
            // GM prerequisites (connections reference §5.1 d [uncertain]): the gateway's
            // certificate is bound and the customer gateway has a CA certificate.
            if !self.gm_certificate_bound(&req.vgw_id, ctx.now) {
                return Err(ApiError::invalid(format!(
                    "GM vpn gateway {} has no bound certificate; import one first",
                    req.vgw_id
                )));
            }
            if cgw.cgw.ca_certificate.is_none() {
                return Err(ApiError::invalid(format!(
                    "customer gateway {} has no CA certificate, which GM connections need",
                    req.cgw_id
                )));
            }
        }
        if style == St::PolicyTemplate && !is_non_fixed(g) {
            return Err(ApiError::invalid(
                "style policy-template needs a Professional1-NonFixedIP or Professional2-NonFixedIP gateway",
            ));
        }
        if style == St::Bgp && cgw.cgw.bgp_asn.is_none() {
            // Assumption: BGP needs the peer ASN, which only the customer gateway carries.
            return Err(ApiError::invalid(format!(
                "customer gateway {} has no bgp_asn; BGP connections need one",
                req.cgw_id
            )));
        }
        // Peer subnets.
        let local: Vec<IpNet> =
            g.gw.local_subnets
                .iter()
                .chain(g.gw.local_subnets_v6.iter())
                .flatten()
                .filter_map(|c| c.parse().ok())
                .collect();
        let (pfield, given, other) = if ipv6 {
            ("peer_subnets_v6", &req.peer_subnets_v6, &req.peer_subnets)
        } else {
            ("peer_subnets", &req.peer_subnets, &req.peer_subnets_v6)
        };
        if other.is_some() {
            let o = if ipv6 {
                "peer_subnets"
            } else {
                "peer_subnets_v6"
            };
            return Err(ApiError::invalid(format!(
                "{o} is not allowed on an {} gateway",
                if ipv6 { "IPv6" } else { "IPv4" }
            )));
        }
        match given {
            Some(list) => self.check_peer_subnets(pfield, list, ipv6, &local)?,
            None if !er && matches!(style, St::Static | St::PolicyTemplate) => {
                return Err(ApiError::invalid(format!(
                    "{pfield} is required for {} connections on VPC-attached gateways",
                    style.as_str()
                )))
            }
            None => {}
        }
        // Tunnel addresses.
        let (tl, tp) = match (&req.tunnel_local_address, &req.tunnel_peer_address) {
            (Some(l), Some(p)) => {
                v::tunnel_pair(l, p)?;
                (l.clone(), p.clone())
            }
            (None, None) => self
                .free_tunnel(&req.vgw_id, taken)
                .ok_or_else(|| ApiError::invalid("no free tunnel address left on this gateway"))?,
            _ => {
                return Err(ApiError::invalid(
                    "tunnel_local_address and tunnel_peer_address must be given together",
                ))
            }
        };
        if req.enable_nqa.is_some() && style != St::Static {
            return Err(ApiError::invalid(
                "enable_nqa is only allowed for static connections",
            ));
        }
        if req.enable_hub.is_some() && style != St::Bgp {
            return Err(ApiError::invalid(
                "enable_hub is only allowed for bgp connections",
            ));
        }
        // PSK.
        if let Some(k) = &req.psk {
            if gm {
                return Err(ApiError::invalid(
                    "psk is not supported on GM gateways (they use digital-envelope-v2)",
                ));
            }
            v::psk(k.expose())?;
        }
        // Policy rules.
        let mut rules = Vec::new();
        let mut rules_v6 = Vec::new();
        for (field, given, is_v6) in [
            ("policy_rules", &req.policy_rules, false),
            ("policy_rules_v6", &req.policy_rules_v6, true),
        ] {
            let Some(list) = given else { continue };
            if style != St::Policy {
                return Err(ApiError::invalid(format!(
                    "{field} is only allowed when style is policy"
                )));
            }
            if is_v6 != ipv6 {
                return Err(ApiError::invalid(format!(
                    "{field} is not allowed on an {} gateway",
                    if ipv6 { "IPv6" } else { "IPv4" }
                )));
            }
            let checked = check_policy_rules(field, list, is_v6)?;
            if is_v6 {
                rules_v6 = checked;
            } else {
                rules = checked;
            }
        }
        // IKE / IPsec.
        let mut ike = default_ike(gm);
        let given_ike = req.ikepolicy.clone().unwrap_or_default();
        let ids_given = given_ike.local_id_type.is_some()
            || given_ike.local_id.is_some()
            || given_ike.peer_id_type.is_some()
            || given_ike.peer_id.is_some();
        merge_ike(
            &mut ike,
            &m::UpdateIkePolicy::from(&given_ike),
            given_ike.authentication_method.as_ref(),
        );
        if ike.ike_version == Some(m::IkeVersion::V1) && ike.phase1_negotiation_mode.is_none() {
            ike.phase1_negotiation_mode = Some(m::Phase1NegotiationMode::Main);
        }
        check_ike(&ike, gm, given_ike.dh_group.is_some(), ids_given)?;
        if ike.ike_version == Some(m::IkeVersion::V2) {
            ike.phase1_negotiation_mode = None;
        }
        if !gm {
            if ike.local_id_type == Some(m::IkeIdType::Ip) && ike.local_id.is_none() {
                ike.local_id = Some(local_address.clone());
            }
            if ike.peer_id.is_none() {
                match (&ike.peer_id_type, &cgw.cgw.id_type) {
                    (Some(m::IkeIdType::Ip), Some(m::IdType::Ip)) => {
                        ike.peer_id = cgw.cgw.id_value.clone()
                    }
                    (Some(m::IkeIdType::Fqdn), Some(m::IdType::Fqdn)) => {
                        ike.peer_id = cgw.cgw.id_value.clone()
                    }
                    _ => {}
                }
            }
        }
        let mut ipsec = default_ipsec(gm);
        let given_ipsec = req.ipsecpolicy.clone().unwrap_or_default();
        merge_ipsec(&mut ipsec, &given_ipsec);
        check_ipsec(&ipsec, gm, given_ipsec.pfs.is_some())?;
        // HA role.
        let ha_role = req.ha_role.clone().unwrap_or(m::HaRole::Master);
        v::known("ha_role", &ha_role)?;
        let standby = g.gw.ha_mode == Some(m::HaMode::ActiveStandby);
        let ha_role = if standby {
            let want = if slot == 0 {
                m::HaRole::Master
            } else {
                m::HaRole::Slave
            };
            if ha_role != want {
                return Err(ApiError::invalid(format!(
                    "on an active-standby gateway the connection on its {} address must have ha_role {}",
                    if slot == 0 { "first" } else { "second" },
                    want.as_str()
                )));
            }
            ha_role
        } else {
            // Active-active gateways report master.
            m::HaRole::Master
        };
        let eps = g.gw.enterprise_project_id.clone();
        let created = self.creation_time(ctx.now);
        let conn = m::ResponseVpnConnection {
            id: new_id(),
            name: Some(
                req.name
                    .clone()
                    .unwrap_or_else(|| format!("vpn-{}", short_suffix())),
            ),
            status: Some(m::ConnectionStatus::PendingCreate),
            vgw_id: Some(req.vgw_id.clone()),
            vgw_ip: Some(req.vgw_ip.clone()),
            style: Some(m::ResponseConnectionStyle::from(&style)),
            cgw_id: Some(req.cgw_id.clone()),
            peer_subnets: if ipv6 { None } else { req.peer_subnets.clone() },
            peer_subnets_v6: if ipv6 {
                req.peer_subnets_v6.clone()
            } else {
                None
            },
            tunnel_local_address: Some(tl),
            tunnel_peer_address: Some(tp),
            enable_nqa: (style == St::Static).then(|| req.enable_nqa.unwrap_or(false)),
            enable_hub: (style == St::Bgp).then(|| req.enable_hub.unwrap_or(false)),
            policy_rules: Some(rules),
            policy_rules_v6: Some(rules_v6),
            ikepolicy: Some(ike),
            ipsecpolicy: Some(ipsec),
            created_at: Some(ts(created)),
            updated_at: Some(ts(created)),
            enterprise_project_id: eps,
            connection_monitor_id: None,
            ha_role: Some(ha_role),
            tags: Some(req.tags.clone().unwrap_or_default()),
            bgp_peer: None,
        };
        let psk = if gm {
            None
        } else {
            // A missing PSK is accepted (the reference does not say what the cloud does); the
            // simulator then keeps a generated one.
            Some(req.psk.clone().unwrap_or_else(|| {
                m::Redacted::new(format!("Sim-{}", uuid::Uuid::new_v4().simple()))
            }))
        };
        Ok(Planned {
            rec: ConnectionRec {
                conn,
                psk,
                pending: Some(Pending::after(
                    ctx.now,
                    ctx.delays.connection_create,
                    Next::Settle,
                )),
                created,
                state_since: ctx.now,
            },
        })
    }

    fn check_peer_subnets(
        &self,
        field: &str,
        list: &[String],
        ipv6: bool,
        local: &[IpNet],
    ) -> ApiResult<()> {
        let nets = v::cidr_list(field, list, ipv6, 50)?;
        for n in &nets {
            for r in &self.world.reserved_peer_cidrs {
                if let Ok(rn) = r.parse::<IpNet>() {
                    if v::overlaps(n, &rn) {
                        return Err(ApiError::invalid(format!(
                            "{field} {n} overlaps the reserved range {r}"
                        )));
                    }
                }
            }
            if let Some(l) = local.iter().find(|l| v::overlaps(n, l)) {
                return Err(ApiError::invalid(format!(
                    "{field} {n} overlaps the gateway's local subnet {l}"
                )));
            }
        }
        Ok(())
    }

    /// Capacity and quota for `n` more connections on a gateway.
    fn check_connection_room(&self, vgw_id: &str, n: usize) -> ApiResult<()> {
        let g = self
            .gateways
            .get(vgw_id)
            .ok_or_else(ApiError::gateway_not_found)?;
        let flavor =
            g.gw.flavor
                .clone()
                .unwrap_or(m::GatewayFlavor::Professional1);
        let max = self
            .world
            .flavor(flavor.as_str())
            .map_or(200, |f| f.connection_number) as usize;
        let on_gateway = self
            .connections
            .values()
            .filter(|c| c.conn.vgw_id.as_deref() == Some(vgw_id))
            .count();
        if on_gateway + n > max {
            return Err(ApiError::connections_over_spec());
        }
        let quota = self.world.quotas.vpn_connection;
        if self.connections.len() + n > quota as usize {
            return Err(ApiError::quota("vpn_connection", quota));
        }
        Ok(())
    }

    /// Renders a connection for a response.
    pub fn render_connection(
        &self,
        c: &ConnectionRec,
        view: View,
        now: DateTime<Utc>,
    ) -> m::ResponseVpnConnection {
        let mut out = c.conn.clone();
        if matches!(view, View::Create | View::Update) {
            out.status = None;
        }
        if view == View::Create {
            out.connection_monitor_id = None;
        } else {
            out.connection_monitor_id = self
                .monitors
                .values()
                .find(|m| m.monitor.vpn_connection_id.as_deref() == Some(c.conn.id.as_str()))
                .map(|m| m.monitor.id.clone());
        }
        if view == View::Get && out.style == Some(m::ResponseConnectionStyle::Bgp) {
            out.bgp_peer = Some(self.bgp_peer(c, now));
        }
        out
    }

    fn bgp_peer(&self, c: &ConnectionRec, now: DateTime<Utc>) -> m::BgpPeer {
        let up = c.status() == m::ConnectionStatus::Active;
        let secs = (now - c.state_since).num_seconds().max(0) as u64;
        let peer_asn = c
            .conn
            .cgw_id
            .as_deref()
            .and_then(|id| self.customer_gateways.get(id))
            .and_then(|g| g.cgw.bgp_asn);
        m::BgpPeer {
            peer_ip_address: c
                .conn
                .tunnel_peer_address
                .as_deref()
                .map(|a| a.split('/').next().unwrap_or(a).to_string()),
            peer_asn,
            state: Some(if up { "established" } else { "idle" }.into()),
            state_duration: Some(format!(
                "{}d{:02}h{:02}m{:02}s",
                secs / 86_400,
                secs % 86_400 / 3600,
                secs % 3600 / 60,
                secs % 60
            )),
            num_received_routes: Some(if up {
                c.conn.peer_subnets.as_ref().map_or(0, |p| p.len() as u64)
            } else {
                0
            }),
            num_message_received: Some(if up { secs / 30 } else { 0 }),
            num_message_sent: Some(if up { secs / 30 } else { 0 }),
        }
    }

    /// `POST /v5/{project_id}/vpn-connection`.
    pub fn create_connection(
        &mut self,
        req: m::CreateVpnConnectionRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseVpnConnection> {
        let planned = self.plan_connection(&req, &BTreeSet::new(), ctx)?;
        self.check_connection_room(&req.vgw_id, 1)?;
        let id = planned.rec.conn.id.clone();
        self.connections.insert(id.clone(), planned.rec);
        Ok(self.render_connection(&self.connections[&id], View::Create, ctx.now))
    }

    /// `POST /v5/{project_id}/vpn-connections/batch-create`: 1-2 items, same `vgw_id`, all or
    /// nothing.
    pub fn batch_create_connections(
        &mut self,
        reqs: Vec<m::CreateVpnConnectionRequestBody>,
        ctx: Ctx,
    ) -> ApiResult<Vec<m::ResponseVpnConnection>> {
        if reqs.is_empty() || reqs.len() > 2 {
            return Err(ApiError::invalid(format!(
                "vpn_connections must hold 1 or 2 connections, got {}",
                reqs.len()
            )));
        }
        if reqs.iter().any(|r| r.vgw_id != reqs[0].vgw_id) {
            return Err(ApiError::invalid(
                "all connections of one batch must use the same vgw_id",
            ));
        }
        let mut taken = BTreeSet::new();
        let mut planned = Vec::with_capacity(reqs.len());
        let saved_last = self.last_created;
        for (i, r) in reqs.iter().enumerate() {
            let p = self.plan_connection(r, &taken, ctx).map_err(|e| {
                self.last_created = saved_last;
                ApiError {
                    message: if reqs.len() > 1 {
                        format!("{} (vpn_connections[{i}])", e.message)
                    } else {
                        e.message
                    },
                    ..e
                }
            })?;
            if let Some(n) = p
                .rec
                .conn
                .tunnel_local_address
                .as_deref()
                .and_then(|a| a.parse::<Ipv4Net>().ok())
            {
                taken.insert(n.trunc());
            }
            planned.push(p);
        }
        self.check_connection_room(&reqs[0].vgw_id, planned.len())?;
        let ids: Vec<String> = planned
            .into_iter()
            .map(|p| {
                let id = p.rec.conn.id.clone();
                self.connections.insert(id.clone(), p.rec);
                id
            })
            .collect();
        Ok(ids
            .iter()
            .map(|id| self.render_connection(&self.connections[id], View::Create, ctx.now))
            .collect())
    }

    /// `GET /v5/{project_id}/vpn-connection/{id}`.
    pub fn get_connection(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<m::ResponseVpnConnection> {
        Ok(self.render_connection(self.connection(id)?, View::Get, now))
    }

    /// `GET /v5/{project_id}/vpn-connection`: filters, then marker paging; returns the page, the
    /// next marker and the total number of matches.
    pub fn list_connections(
        &self,
        q: &m::ListVpnConnectionsQuery,
    ) -> ApiResult<(Vec<m::ResponseVpnConnection>, Option<String>, u64)> {
        let matching: Vec<(DateTime<Utc>, &ConnectionRec)> = self
            .connections
            .values()
            .filter(|c| {
                q.vgw_id
                    .as_deref()
                    .is_none_or(|x| c.conn.vgw_id.as_deref() == Some(x))
            })
            .filter(|c| {
                q.vgw_ip
                    .as_deref()
                    .is_none_or(|x| c.conn.vgw_ip.as_deref() == Some(x))
            })
            .filter(|c| {
                q.enterprise_project_id.is_empty()
                    || c.conn
                        .enterprise_project_id
                        .as_ref()
                        .is_some_and(|e| q.enterprise_project_id.contains(e))
            })
            .map(|c| (c.created, c))
            .collect();
        let total = matching.len() as u64;
        let (items, next) = page(
            matching,
            q.limit,
            q.marker.as_deref(),
            m::ListVpnConnectionsQuery::DEFAULT_LIMIT,
            m::ListVpnConnectionsQuery::MAX_LIMIT,
        )?;
        Ok((
            items
                .into_iter()
                .map(|c| self.render_connection(c, View::List, Utc::now()))
                .collect(),
            next,
            total,
        ))
    }

    /// The documented refusal for a connection in the wrong state: VPN.0001 "invalid request:
    /// ILLEGAL not allowed update vpnConnection", with the current status in place of the
    /// placeholder `ILLEGAL` (our reading of the example).
    fn connection_state_gate(&self, c: &ConnectionRec, verb: &str) -> ApiResult<()> {
        let s = c.status();
        if s.is_transitional() {
            return Err(ApiError::invalid(format!(
                "{} not allowed {verb} vpnConnection",
                s.as_str()
            )));
        }
        Ok(())
    }

    /// `PUT /v5/{project_id}/vpn-connection/{id}`.
    pub fn update_connection(
        &mut self,
        id: &str,
        req: m::UpdateVpnConnectionRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseVpnConnection> {
        use m::ResponseConnectionStyle as St;
        let c = self.connection(id)?;
        self.connection_state_gate(c, "update")?;
        let vgw_id = c.conn.vgw_id.clone().unwrap_or_default();
        let g = self
            .gateways
            .get(&vgw_id)
            .ok_or_else(ApiError::gateway_not_found)?;
        child_gate(g, false)?;
        let gm = is_gm(g);
        let ipv6 = g.gw.ip_version == Some(m::IpVersion::Ipv6);
        let style = c.conn.style.clone().unwrap_or(St::Static);
        if let Some(n) = &req.name {
            v::name("name", n)?;
        }
        let new_cgw = match &req.cgw_id {
            Some(cg) => Some(
                self.customer_gateways
                    .get(cg)
                    .ok_or_else(ApiError::not_found)?,
            ),
            None => None,
        };
        if style == St::Bgp {
            if let Some(cg) = new_cgw {
                if cg.cgw.bgp_asn.is_none() {
                    return Err(ApiError::invalid(format!(
                        "customer gateway {} has no bgp_asn; BGP connections need one",
                        cg.cgw.id
                    )));
                }
            }
        }
        let local: Vec<IpNet> =
            g.gw.local_subnets
                .iter()
                .chain(g.gw.local_subnets_v6.iter())
                .flatten()
                .filter_map(|x| x.parse().ok())
                .collect();
        if let Some(l) = &req.peer_subnets {
            if ipv6 {
                return Err(ApiError::invalid(
                    "peer_subnets is not allowed on an IPv6 gateway",
                ));
            }
            self.check_peer_subnets("peer_subnets", l, false, &local)?;
        }
        if let Some(l) = &req.peer_subnets_v6 {
            if !ipv6 {
                return Err(ApiError::invalid(
                    "peer_subnets_v6 is not allowed on an IPv4 gateway",
                ));
            }
            self.check_peer_subnets("peer_subnets_v6", l, true, &local)?;
        }
        let tunnels = match (&req.tunnel_local_address, &req.tunnel_peer_address) {
            (None, None) => None,
            (l, p) => {
                let l = l
                    .clone()
                    .or(c.conn.tunnel_local_address.clone())
                    .unwrap_or_default();
                let p = p
                    .clone()
                    .or(c.conn.tunnel_peer_address.clone())
                    .unwrap_or_default();
                v::tunnel_pair(&l, &p)?;
                Some((l, p))
            }
        };
        if req.enable_hub.is_some() && style != St::Bgp {
            return Err(ApiError::invalid(
                "enable_hub is only allowed for bgp connections",
            ));
        }
        if let Some(k) = &req.psk {
            if gm {
                return Err(ApiError::invalid("psk is not supported on GM gateways"));
            }
            v::psk(k.expose())?;
        }
        let mut rules = None;
        let mut rules_v6 = None;
        for (field, given, is_v6) in [
            ("policy_rules", &req.policy_rules, false),
            ("policy_rules_v6", &req.policy_rules_v6, true),
        ] {
            let Some(list) = given else { continue };
            if style != St::Policy {
                return Err(ApiError::invalid(format!(
                    "{field} is only allowed when style is policy"
                )));
            }
            if is_v6 != ipv6 {
                return Err(ApiError::invalid(format!(
                    "{field} is not allowed on an {} gateway",
                    if ipv6 { "IPv6" } else { "IPv4" }
                )));
            }
            let checked = check_policy_rules(field, list, is_v6)?;
            if is_v6 {
                rules_v6 = Some(checked);
            } else {
                rules = Some(checked);
            }
        }
        let mut ike = c.conn.ikepolicy.clone().unwrap_or_else(|| default_ike(gm));
        if let Some(u) = &req.ikepolicy {
            let ids_given = u.local_id_type.is_some()
                || u.local_id.is_some()
                || u.peer_id_type.is_some()
                || u.peer_id.is_some();
            merge_ike(&mut ike, u, None);
            if ike.ike_version == Some(m::IkeVersion::V1) && ike.phase1_negotiation_mode.is_none() {
                ike.phase1_negotiation_mode = Some(m::Phase1NegotiationMode::Main);
            }
            check_ike(&ike, gm, u.dh_group.is_some(), ids_given)?;
            if ike.ike_version == Some(m::IkeVersion::V2) {
                ike.phase1_negotiation_mode = None;
            }
        }
        if let (Some(cg), None) = (
            new_cgw,
            req.ikepolicy.as_ref().and_then(|i| i.peer_id.as_ref()),
        ) {
            if ike.peer_id_type == Some(m::IkeIdType::Ip) && cg.cgw.id_type == Some(m::IdType::Ip) {
                ike.peer_id = cg.cgw.id_value.clone();
            }
        }
        let mut ipsec = c
            .conn
            .ipsecpolicy
            .clone()
            .unwrap_or_else(|| default_ipsec(gm));
        if let Some(u) = &req.ipsecpolicy {
            merge_ipsec(&mut ipsec, u);
            check_ipsec(&ipsec, gm, u.pfs.is_some())?;
        }
        // --- commit ---
        let c = self.connections.get_mut(id).expect("checked above");
        let conn = &mut c.conn;
        if let Some(n) = req.name {
            conn.name = Some(n);
        }
        if let Some(cg) = req.cgw_id {
            conn.cgw_id = Some(cg);
        }
        if let Some(l) = req.peer_subnets {
            conn.peer_subnets = Some(l);
        }
        if let Some(l) = req.peer_subnets_v6 {
            conn.peer_subnets_v6 = Some(l);
        }
        if let Some((l, p)) = tunnels {
            conn.tunnel_local_address = Some(l);
            conn.tunnel_peer_address = Some(p);
        }
        if let Some(h) = req.enable_hub {
            conn.enable_hub = Some(h);
        }
        if let Some(r) = rules {
            conn.policy_rules = Some(r);
        }
        if let Some(r) = rules_v6 {
            conn.policy_rules_v6 = Some(r);
        }
        conn.ikepolicy = Some(ike);
        conn.ipsecpolicy = Some(ipsec);
        conn.updated_at = Some(ts(ctx.now));
        conn.status = Some(m::ConnectionStatus::PendingUpdate);
        if let Some(k) = req.psk {
            c.psk = Some(k);
        }
        c.state_since = ctx.now;
        c.pending = Some(Pending::after(
            ctx.now,
            ctx.delays.connection_update,
            Next::Settle,
        ));
        Ok(self.render_connection(&self.connections[id], View::Update, ctx.now))
    }

    /// `DELETE /v5/{project_id}/vpn-connection/{id}`.
    pub fn delete_connection(&mut self, id: &str, ctx: Ctx) -> ApiResult<()> {
        let c = self.connection(id)?;
        self.connection_state_gate(c, "delete")?;
        if let Some(g) = c.conn.vgw_id.as_deref().and_then(|g| self.gateways.get(g)) {
            child_gate(g, true)?;
        }
        let c = self.connections.get_mut(id).expect("checked above");
        c.conn.status = Some(m::ConnectionStatus::PendingDelete);
        c.state_since = ctx.now;
        c.pending = Some(Pending::after(
            ctx.now,
            ctx.delays.connection_delete,
            Next::Remove,
        ));
        Ok(())
    }

    /// `POST /v5/{project_id}/vpn-connection/{id}/reset`: the tunnel renegotiates (the
    /// connection goes through PENDING_UPDATE and settles again by the world's rules).
    pub fn reset_connection(&mut self, id: &str, ctx: Ctx) -> ApiResult<()> {
        let c = self.connection(id)?;
        self.connection_state_gate(c, "reset")?;
        if let Some(g) = c.conn.vgw_id.as_deref().and_then(|g| self.gateways.get(g)) {
            child_gate(g, false)?;
        }
        let c = self.connections.get_mut(id).expect("checked above");
        c.conn.status = Some(m::ConnectionStatus::PendingUpdate);
        c.state_since = ctx.now;
        c.pending = Some(Pending::after(
            ctx.now,
            ctx.delays.connection_update,
            Next::Settle,
        ));
        Ok(())
    }

    /// `GET /v5/{project_id}/vpn-connection/{id}/log`: synthetic negotiation log lines.
    pub fn connection_logs(&self, id: &str) -> ApiResult<Vec<m::ConnectionLog>> {
        let c = self.connection(id)?;
        let peer = c
            .conn
            .cgw_id
            .as_deref()
            .and_then(|g| self.customer_gateways.get(g))
            .and_then(|g| g.cgw.id_value.clone())
            .unwrap_or_default();
        let at = c.state_since;
        let line = match c.status() {
            m::ConnectionStatus::Active => format!("IPSec tunnel established. (PeerAddress=[{peer}], PeerPort=[500])"),
            m::ConnectionStatus::Down => format!(
                "IPSec tunnel negotiation fails. (PeerAddress=[{peer}], PeerPort=[500], Reason=[peer not responding])"
            ),
            m::ConnectionStatus::Error => format!(
                "IPSec tunnel negotiation fails. (PeerAddress=[{peer}], PeerPort=[500], Reason=[internal error])"
            ),
            other => format!("IPSec tunnel is {}. (PeerAddress=[{peer}])", other.as_str()),
        };
        Ok(vec![m::ConnectionLog {
            time: Some(at.timestamp()),
            raw_message: Some(format!(
                "{} sim-vpngw ipsec_ike[1]: {line}",
                at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
            )),
        }])
    }

    pub(super) fn connection_transition(&mut self, id: &str, due: DateTime<Utc>) {
        let Some(c) = self.connections.get_mut(id) else {
            return;
        };
        let Some(p) = c.pending.take() else { return };
        match p.then {
            Next::Remove => {
                self.connections.remove(id);
                self.monitors
                    .retain(|_, m| m.monitor.vpn_connection_id.as_deref() != Some(id));
            }
            _ => {
                let peer = c
                    .conn
                    .cgw_id
                    .as_deref()
                    .and_then(|g| self.customer_gateways.get(g))
                    .and_then(|g| g.cgw.id_value.clone())
                    .unwrap_or_default();
                let outcome = self.world.connection_outcome(&peer);
                let c = self.connections.get_mut(id).expect("present above");
                c.conn.status = Some(m::ConnectionStatus::parse(outcome.as_status()));
                c.state_since = due;
            }
        }
    }
}
