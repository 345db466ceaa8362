//! VPN gateways: create, get, list, update, update-specification, delete, availability zones.
//!
//! Visibility (gateways reference §1.4, §3.6 and the examples):
//! - the create response has no `status`, EIPs, AZs, timestamps or `supported_*`;
//! - `eip1`/`eip2`, the private access IPs, `created_at`/`applied_at`/`updated_at`, the ER
//!   attachment and AZs that were not given at create appear once the gateway has been ACTIVE;
//! - update and update-specification responses have no `status` (as their examples);
//! - ER-attached gateways show `access_vpc_id`/`access_subnet_id`, not `vpc_id`/`connect_subnet`.
//!
//! Busy rules (documented codes; the choice between them is ours, see [`self_gate`] and
//! [`child_gate`]).
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::{new_id, short_suffix, ts, Ctx, Next, Pending, Project};
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};
use crate::sim::validate as v;
use crate::sim::world::{Billing, Eip};

/// A stored gateway.
#[derive(Debug, Clone)]
pub struct GatewayRec {
    /// Every field the gateway has, whether shown yet or not.
    pub gw: m::ResponseVpnGateway,
    /// EIP ids bound as `eip1` / `eip2`.
    pub eip_ids: [Option<String>; 2],
    /// EIPs the gateway created (from the new-EIP parameters).
    pub created_eips: Vec<String>,
    /// IPs taken from subnets, given back on delete.
    pub subnet_ips: Vec<(String, u32)>,
    pub pending: Option<Pending>,
    /// Has been ACTIVE at least once (EIPs, timestamps... are shown from then on).
    pub activated: bool,
    /// AZs came from the request (shown from the start).
    pub azs_given: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub applied: DateTime<Utc>,
    /// GM gateways: the imported certificate (see [`super::certificates`]).
    pub certificate: Option<super::certificates::CertificateRec>,
}

/// Which response a gateway is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Create,
    Full,
    Update,
}

fn status(g: &GatewayRec) -> m::GatewayStatus {
    g.gw.status.clone().unwrap_or(m::GatewayStatus::Active)
}

/// Whether a gateway accepts a mutation of itself (PUT, update-specification, upgrade
/// `start`, certificate import / update, delete).
///
/// - `PENDING_CREATE`: 403 VPN.0003 "resource (type=GATEWAY, ID=..) is not ready, currently
///   CREATING", the documented answer for exactly these calls (§1.4, source examples).
/// - `PENDING_UPDATE`: 400 VPN.0507 "The gateway is being updated, please try again later."
/// - `UPGRADING`, `ROLLING_BACK`, `PENDING_UPGRADE_CONFIRM`: 500 VPN.0511 "The gateway is not
///   ready." (an upgrade waiting for confirmation must be finished or rolled back first).
/// - `PENDING_DELETE`: 400 VPN.0508 "The gateway is being deleted."
/// - `FAULT`, `FREEZED`: 500 VPN.0510 "The gateway status is abnormal", except that delete is
///   allowed on `FAULT` so broken gateways can be cleaned up.
pub fn self_gate(g: &GatewayRec, deleting: bool) -> ApiResult<()> {
    use m::GatewayStatus as S;
    match status(g) {
        S::Active => Ok(()),
        S::PendingCreate => Err(ApiError::not_ready("GATEWAY", &g.gw.id, "CREATING")),
        S::PendingUpdate => Err(ApiError::gateway_being_updated()),
        S::Upgrading | S::RollingBack | S::PendingUpgradeConfirm => {
            Err(ApiError::gateway_not_ready())
        }
        S::PendingDelete => Err(ApiError::gateway_being_deleted()),
        S::Fault if deleting => Ok(()),
        _ => Err(ApiError::gateway_abnormal()),
    }
}

/// Whether a gateway accepts changes to its connections (and monitors): the table codes
/// VPN.0506 / 0507 / 0508 (being created / updated / deleted), VPN.0511 (not ready: upgrade in
/// progress), VPN.0510 (abnormal: FAULT, FREEZED). `deleting` lets connection deletes through
/// on a FAULT gateway.
pub fn child_gate(g: &GatewayRec, deleting: bool) -> ApiResult<()> {
    use m::GatewayStatus as S;
    match status(g) {
        S::Active => Ok(()),
        S::PendingCreate => Err(ApiError::gateway_being_created()),
        S::PendingUpdate => Err(ApiError::gateway_being_updated()),
        S::PendingDelete => Err(ApiError::gateway_being_deleted()),
        S::Upgrading | S::RollingBack | S::PendingUpgradeConfirm => {
            Err(ApiError::gateway_not_ready())
        }
        S::Fault if deleting => Ok(()),
        _ => Err(ApiError::gateway_abnormal()),
    }
}

fn default_policy_template() -> m::PolicyTemplate {
    // The values of the documented non-fixed-IP gateway example (§4.2 example c).
    m::PolicyTemplate {
        ike_policy: Some(m::TemplateIkePolicy {
            encryption_algorithm: Some(m::EncryptionAlgorithm::Aes128),
            dh_group: Some(m::DhGroup::Group20),
            authentication_algorithm: Some(m::AuthenticationAlgorithm::Sha2_256),
            lifetime_seconds: Some(86_400),
        }),
        ipsec_policy: Some(m::TemplateIpsecPolicy {
            authentication_algorithm: Some(m::AuthenticationAlgorithm::Sha2_256),
            encryption_algorithm: Some(m::EncryptionAlgorithm::Aes128),
            pfs: Some(m::DhGroup::Group20),
            lifetime_seconds: Some(3600),
        }),
    }
}

fn is_non_fixed(f: &m::GatewayFlavor) -> bool {
    matches!(
        f,
        m::GatewayFlavor::Professional1NonFixedIp | m::GatewayFlavor::Professional2NonFixedIp
    )
}

fn response_eip(e: &Eip) -> m::ResponseEip {
    m::ResponseEip {
        id: Some(e.id.clone()),
        ip_version: Some(4),
        ip_billing_info: None,
        eip_type: Some(m::EipType::parse(&e.eip_type)),
        ip_address: Some(e.address.clone()),
        charge_mode: Some(m::ChargeMode::parse(&e.charge_mode)),
        bandwidth_id: Some(e.bandwidth_id.clone()),
        bandwidth_size: Some(e.bandwidth_size),
        bandwidth_name: Some(e.bandwidth_name.clone()),
        bandwidth_billing_info: None,
        share_type: Some(m::ShareType::parse(&e.share_type)),
    }
}

/// An EIP given by id (create `eipN.id` or update `eip_id_N`): VPN.0551-0555 and the flavor's
/// bandwidth cap (VPN.0550). `owner` may already hold it.
fn check_existing_eip(p: &Project, id: &str, cap: u32, owner: Option<&str>) -> ApiResult<()> {
    let e = p.world.eip(id).ok_or_else(|| ApiError::eip_not_found(id))?;
    if e.frozen {
        return Err(ApiError::eip_frozen(id));
    }
    if e.bound_to.is_some() && e.bound_to.as_deref() != owner {
        return Err(ApiError::eip_bound(id));
    }
    if e.share_type != "PER" {
        return Err(ApiError::eip_not_exclusive(id));
    }
    if e.public_border_group != "center" {
        return Err(ApiError::eip_not_center(id));
    }
    if e.bandwidth_size > cap {
        return Err(ApiError::eip_bandwidth_over_spec());
    }
    Ok(())
}

/// A requested EIP after validation.
enum EipPlan {
    Existing(String),
    New {
        eip_type: String,
        charge_mode: String,
        /// The shared bandwidth the EIP joins (`bandwidth_id`), else a dedicated one.
        shared_bandwidth: Option<String>,
        bandwidth_size: u32,
        bandwidth_name: String,
    },
}

fn plan_eip(p: &Project, field: &str, e: &m::CreateRequestEip, cap: u32) -> ApiResult<EipPlan> {
    let new_fields = e.eip_type.is_some()
        || e.charge_mode.is_some()
        || e.bandwidth_size.is_some()
        || e.bandwidth_name.is_some()
        || e.bandwidth_id.is_some();
    if let Some(id) = &e.id {
        if new_fields {
            return Err(ApiError::eip_conflict());
        }
        check_existing_eip(p, id, cap, None)?;
        return Ok(EipPlan::Existing(id.clone()));
    }
    let (Some(t), Some(size)) = (&e.eip_type, e.bandwidth_size) else {
        return Err(ApiError::eip_incomplete());
    };
    match p.world.eip_types.iter().find(|x| x.name == t.as_str()) {
        None => return Err(ApiError::eip_type_invalid(t.as_str())),
        Some(x) if x.sold_out => return Err(ApiError::eip_type_sold_out(t.as_str())),
        Some(_) => {}
    }
    let charge = e.charge_mode.clone().unwrap_or(m::ChargeMode::Bandwidth);
    v::known(&format!("{field}.charge_mode"), &charge)?;
    v::range(&format!("{field}.bandwidth_size"), size, 1, 1000)?;
    if size > cap {
        return Err(ApiError::eip_bandwidth_over_spec());
    }
    if let Some(n) = &e.bandwidth_name {
        v::name(&format!("{field}.bandwidth_name"), n)?;
    }
    // `bandwidth_id`: the new EIP joins that existing shared bandwidth (§3.3). Shared
    // bandwidths are not modelled in the world, so any id is taken as one (assumption).
    if let Some(b) = &e.bandwidth_id {
        if b.trim().is_empty() || b.chars().count() > 64 {
            return Err(ApiError::invalid(format!(
                "{field}.bandwidth_id must be the id of a shared bandwidth"
            )));
        }
    }
    Ok(EipPlan::New {
        eip_type: t.as_str().to_string(),
        charge_mode: charge.as_str().to_string(),
        shared_bandwidth: e.bandwidth_id.clone(),
        bandwidth_size: size,
        bandwidth_name: e
            .bandwidth_name
            .clone()
            .unwrap_or_else(|| format!("vpngw-bandwidth-{}", short_suffix())),
    })
}

impl Project {
    fn gateway(&self, id: &str) -> ApiResult<&GatewayRec> {
        self.gateways
            .get(id)
            .ok_or_else(ApiError::gateway_not_found)
    }

    /// Connections of every gateway that has any: (count, distinct customer gateways), in one
    /// pass over the connections (a list renders every gateway; asking [`Self::gateway_usage`]
    /// for each scanned every connection once per gateway).
    fn gateway_usages(&self) -> HashMap<&str, (u32, u32)> {
        let mut by_gw: HashMap<&str, Vec<&super::ConnectionRec>> = HashMap::new();
        for c in self.connections.values() {
            if let Some(gw) = c.conn.vgw_id.as_deref() {
                by_gw.entry(gw).or_default().push(c);
            }
        }
        by_gw
            .into_iter()
            .map(|(gw, conns)| (gw, usage_of(conns)))
            .collect()
    }

    /// Connections of a gateway: (count, distinct customer gateways).
    fn gateway_usage(&self, id: &str) -> (u32, u32) {
        usage_of(
            self.connections
                .values()
                .filter(|c| c.conn.vgw_id.as_deref() == Some(id)),
        )
    }

    fn flavor_caps(&self, f: &m::GatewayFlavor) -> (u32, u32) {
        self.world
            .flavor(f.as_str())
            .map(|x| (x.max_bandwidth, x.connection_number))
            .unwrap_or((f.max_bandwidth_mbps().unwrap_or(300), 200))
    }

    /// Flavors an ACTIVE gateway may change to (`supported_flavors`).
    pub fn supported_flavors(&self, g: &GatewayRec) -> Vec<m::GatewayFlavor> {
        use m::GatewayFlavor as F;
        let cur = g.gw.flavor.clone().unwrap_or(F::Professional1);
        let private = g.gw.network_type == Some(m::NetworkType::Private);
        let er = g.gw.attachment_type == Some(m::AttachmentType::Er);
        let family: Vec<F> = match cur {
            F::Gm => vec![],
            F::Professional1NonFixedIp | F::Professional2NonFixedIp => {
                vec![F::Professional1NonFixedIp, F::Professional2NonFixedIp]
            }
            _ => vec![F::Basic, F::Professional1, F::Professional2],
        };
        family
            .into_iter()
            .filter(|f| *f != cur)
            .filter(|f| !(*f == F::Basic && (private || er)))
            .filter(|f| self.world.flavor(f.as_str()).is_some())
            .collect()
    }

    /// Renders a gateway for a response.
    pub fn render_gateway(&self, g: &GatewayRec, view: View) -> m::ResponseVpnGateway {
        self.render_gateway_using(g, view, self.gateway_usage(&g.gw.id))
    }

    /// [`Self::render_gateway`] with the gateway's connection usage already counted.
    fn render_gateway_using(
        &self,
        g: &GatewayRec,
        view: View,
        (used, groups): (u32, u32),
    ) -> m::ResponseVpnGateway {
        let mut out = g.gw.clone();
        let flavor = out
            .flavor
            .clone()
            .unwrap_or(m::GatewayFlavor::Professional1);
        out.connection_number = Some(self.flavor_caps(&flavor).1);
        out.used_connection_number = Some(used);
        out.used_connection_group = Some(groups);
        if out.attachment_type == Some(m::AttachmentType::Er) {
            out.vpc_id = None;
            out.connect_subnet = None;
        }
        if g.activated && view != View::Create {
            out.eip1 = g.eip_ids[0]
                .as_deref()
                .and_then(|id| self.world.eip(id))
                .map(response_eip);
            out.eip2 = g.eip_ids[1]
                .as_deref()
                .and_then(|id| self.world.eip(id))
                .map(response_eip);
            out.created_at = Some(ts(g.created));
            out.applied_at = Some(ts(g.applied));
            out.updated_at = Some(ts(g.updated));
        } else {
            out.access_private_ip_1 = None;
            out.access_private_ip_2 = None;
            out.er_attachment_id = None;
            if !g.azs_given || view == View::Create {
                out.availability_zone_ids = None;
            }
        }
        match view {
            View::Full => {
                if g.activated {
                    out.supported_flavors = Some(self.supported_flavors(g));
                    out.supported_features = Some(Vec::new());
                }
            }
            View::Create | View::Update => out.status = None,
        }
        out
    }

    /// `POST /v5/{project_id}/vpn-gateways`.
    pub fn create_gateway(
        &mut self,
        req: m::CreateVpnGatewayRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseVpnGateway> {
        use m::{AttachmentType as A, GatewayFlavor as F, IpVersion as I, NetworkType as N};
        // --- field rules ---
        if let Some(n) = &req.name {
            v::name("name", n)?;
        }
        let network = req.network_type.clone().unwrap_or(N::Public);
        v::known("network_type", &network)?;
        let attachment = req.attachment_type.clone().unwrap_or(A::Vpc);
        v::known("attachment_type", &attachment)?;
        let ip_version = req.ip_version.clone().unwrap_or(I::Ipv4);
        v::known("ip_version", &ip_version)?;
        let flavor = req.flavor.clone().unwrap_or(F::Professional1);
        if self.world.flavor(flavor.as_str()).is_none() || matches!(flavor, F::V300 | F::V1g) {
            let offered: Vec<&str> = self.world.flavors.iter().map(|f| f.name.as_str()).collect();
            return Err(ApiError::invalid(format!(
                "flavor {:?} is not one of {}",
                flavor.as_str(),
                offered.join(", ")
            )));
        }
        if flavor == F::Basic && network == N::Private {
            return Err(ApiError::invalid(
                "flavor Basic is not available for private gateways",
            ));
        }
        if flavor == F::Basic && attachment == A::Er {
            return Err(ApiError::invalid(
                "flavor Basic is not available for ER-attached gateways",
            ));
        }
        let ha_mode = req.ha_mode.clone().unwrap_or(m::HaMode::ActiveActive);
        v::known("ha_mode", &ha_mode)?;
        let bgp_asn = req.bgp_asn.unwrap_or(64512);
        v::bgp_asn("bgp_asn", bgp_asn)?;
        let eps = req
            .enterprise_project_id
            .clone()
            .unwrap_or_else(|| "0".into());
        v::enterprise_project_id(&eps)?;
        if let Some(t) = &req.tags {
            v::tags(t)?;
        }
        let ipv6 = ip_version == I::Ipv6;
        match attachment {
            A::Vpc => {
                if req.er_id.is_some() {
                    return Err(ApiError::invalid(
                        "er_id is only allowed when attachment_type is er",
                    ));
                }
                let (field, given, other) = if ipv6 {
                    (
                        "local_subnets_v6",
                        &req.local_subnets_v6,
                        &req.local_subnets,
                    )
                } else {
                    ("local_subnets", &req.local_subnets, &req.local_subnets_v6)
                };
                let Some(list) = given else {
                    return Err(ApiError::invalid(format!(
                        "{field} is required when attachment_type is vpc and ip_version is {}",
                        ip_version.as_str()
                    )));
                };
                v::cidr_list(field, list, ipv6, 50)?;
                if other.is_some() {
                    let o = if ipv6 {
                        "local_subnets"
                    } else {
                        "local_subnets_v6"
                    };
                    return Err(ApiError::invalid(format!(
                        "{o} is not allowed when ip_version is {}",
                        ip_version.as_str()
                    )));
                }
                if req.vpc_id.is_none() {
                    return Err(ApiError::invalid(
                        "vpc_id is required when attachment_type is vpc",
                    ));
                }
                if req.connect_subnet.is_none() {
                    return Err(ApiError::invalid(
                        "connect_subnet is required when attachment_type is vpc",
                    ));
                }
            }
            A::Er => {
                if req.er_id.is_none() {
                    return Err(ApiError::invalid(
                        "er_id is required when attachment_type is er",
                    ));
                }
                if req.local_subnets.is_some() || req.local_subnets_v6.is_some() {
                    return Err(ApiError::invalid(
                        "local_subnets and local_subnets_v6 are only allowed when attachment_type is vpc",
                    ));
                }
                // vpc_id / connect_subnet (or access_vpc_id / access_subnet_id) are optional
                // with er (create table, §4.1): the gateway reaches the router without them. A
                // private gateway still needs a subnet for its access IPs (assumption).
                let subnet = req.connect_subnet.is_some() || req.access_subnet_id.is_some();
                if network == N::Private && !subnet {
                    return Err(ApiError::invalid(
                        "a private gateway needs connect_subnet or access_subnet_id for its access private IPs",
                    ));
                }
                let vpc = req.vpc_id.is_some() || req.access_vpc_id.is_some();
                if vpc != subnet {
                    return Err(ApiError::invalid(
                        "with attachment_type er, give the access VPC and its subnet together (vpc_id or access_vpc_id with connect_subnet or access_subnet_id), or neither",
                    ));
                }
            }
            A::Other(_) => unreachable!("checked by known()"),
        }
        match network {
            N::Public => {
                if req.eip1.is_none() || req.eip2.is_none() {
                    return Err(ApiError::invalid(
                        "eip1 and eip2 are required when network_type is public",
                    ));
                }
                if req.access_private_ip_1.is_some() || req.access_private_ip_2.is_some() {
                    return Err(ApiError::invalid(
                        "access_private_ip_1 and access_private_ip_2 are only allowed when network_type is private",
                    ));
                }
            }
            N::Private => {
                if req.eip1.is_some() || req.eip2.is_some() {
                    return Err(ApiError::invalid(
                        "eip1 and eip2 are not allowed when network_type is private",
                    ));
                }
                if req.access_private_ip_1.is_some() != req.access_private_ip_2.is_some() {
                    return Err(ApiError::invalid(
                        "access_private_ip_1 and access_private_ip_2 must be given together",
                    ));
                }
            }
            N::Other(_) => unreachable!("checked by known()"),
        }

        // --- quota ---
        if self.gateways.len() as u32 >= self.world.quotas.vpn_gateway {
            return Err(ApiError::gateway_quota());
        }

        // --- world references ---
        let access_vpc = req
            .access_vpc_id
            .clone()
            .or(req.vpc_id.clone())
            .unwrap_or_default();
        let access_subnet = req
            .access_subnet_id
            .clone()
            .or(req.connect_subnet.clone())
            .unwrap_or_default();
        let mut ip_needs: Vec<(String, u32)> = Vec::new();
        if attachment == A::Er {
            let er = req.er_id.as_deref().unwrap_or_default();
            if self.world.er(er).is_none() {
                // No documented code for an unknown enterprise router.
                return Err(ApiError::invalid(format!(
                    "enterprise router {er} is not found"
                )));
            }
        } else {
            let vpc = req.vpc_id.as_deref().unwrap_or_default();
            if self.world.vpc(vpc).is_none() {
                return Err(ApiError::vpc_not_found(vpc));
            }
            let cs = req.connect_subnet.as_deref().unwrap_or_default();
            let (owner, _) = self
                .world
                .subnet(cs)
                .ok_or_else(|| ApiError::subnet_not_found(cs))?;
            if owner.id != vpc {
                return Err(ApiError::subnet_not_in_vpc(cs, vpc));
            }
            if access_subnet == cs {
                ip_needs.push((cs.to_string(), 4));
            } else {
                ip_needs.push((cs.to_string(), 2));
            }
        }
        // An ER gateway may have no access VPC at all (checked above: both or neither).
        let has_access = !access_vpc.is_empty();
        if has_access {
            if self.world.vpc(&access_vpc).is_none() {
                return Err(ApiError::vpc_not_found(&access_vpc));
            }
            let (owner, _) = self
                .world
                .subnet(&access_subnet)
                .ok_or_else(|| ApiError::subnet_not_found(&access_subnet))?;
            if owner.id != access_vpc {
                return Err(ApiError::subnet_not_in_vpc(&access_subnet, &access_vpc));
            }
            if !ip_needs.iter().any(|(s, _)| *s == access_subnet) {
                ip_needs.push((access_subnet.clone(), 2));
            }
        }
        for (s, n) in &ip_needs {
            let free = self.world.subnet(s).map_or(0, |(_, x)| x.available_ips);
            if free < *n {
                return Err(ApiError::subnet_no_ips(s));
            }
        }
        let mut private_ips: Option<(String, String)> = None;
        if network == N::Private {
            let taken: Vec<String> = Vec::new();
            let (ip1, ip2) = match (&req.access_private_ip_1, &req.access_private_ip_2) {
                (Some(a), Some(b)) => {
                    v::ipv4("access_private_ip_1", a)?;
                    v::ipv4("access_private_ip_2", b)?;
                    if a == b {
                        return Err(ApiError::invalid(
                            "access_private_ip_1 and access_private_ip_2 must be different",
                        ));
                    }
                    let (_, sub) = self.world.subnet(&access_subnet).expect("checked above");
                    for (f, ip) in [("access_private_ip_1", a), ("access_private_ip_2", b)] {
                        if !v::contains(&sub.cidr, ip) {
                            return Err(ApiError::invalid(format!(
                                "{f} {ip} is not in the access subnet {access_subnet} ({})",
                                sub.cidr
                            )));
                        }
                        if sub.used_ips.contains(ip) {
                            return Err(ApiError::invalid(format!("{f} {ip} is already in use")));
                        }
                    }
                    (a.clone(), b.clone())
                }
                _ => {
                    let a = self
                        .world
                        .free_ip_in(&access_subnet, &taken)
                        .ok_or_else(|| ApiError::subnet_no_ips(&access_subnet))?;
                    let b = self
                        .world
                        .free_ip_in(&access_subnet, std::slice::from_ref(&a))
                        .ok_or_else(|| ApiError::subnet_no_ips(&access_subnet))?;
                    (a, b)
                }
            };
            private_ips = Some((ip1, ip2));
        }

        // --- EIPs ---
        let (cap, _) = self.flavor_caps(&flavor);
        let mut plans: Vec<EipPlan> = Vec::new();
        if network == N::Public {
            let e1 = req.eip1.as_ref().expect("checked above");
            let e2 = req.eip2.as_ref().expect("checked above");
            let p1 = plan_eip(self, "eip1", e1, cap)?;
            let p2 = plan_eip(self, "eip2", e2, cap)?;
            if let (EipPlan::Existing(a), EipPlan::Existing(b)) = (&p1, &p2) {
                if a == b {
                    return Err(ApiError::invalid("eip1 and eip2 must be different EIPs"));
                }
            }
            let new_count = [&p1, &p2]
                .iter()
                .filter(|p| matches!(p, EipPlan::New { .. }))
                .count();
            if self.world.eips.len() + new_count > self.world.eip_quota as usize {
                return Err(ApiError::eip_quota());
            }
            plans = vec![p1, p2];
        }

        // --- AZs ---
        let offered = self
            .world
            .azs_for(flavor.as_str(), attachment.as_str(), ip_version.as_str());
        if offered.is_empty() {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "VPN.0505",
                "Gateway resources are insufficient.",
            ));
        }
        let azs_given = req.availability_zone_ids.is_some();
        let azs = match &req.availability_zone_ids {
            Some(list) => {
                let set: BTreeSet<&String> = list.iter().collect();
                if set.len() != list.len() {
                    return Err(ApiError::duplicate_azs());
                }
                for az in list {
                    if !offered.contains(az) {
                        return Err(ApiError::invalid(format!(
                            "availability zone {az} does not offer flavor {} with attachment_type {} and ip_version {}; call the availability-zones API",
                            flavor.as_str(),
                            attachment.as_str(),
                            ip_version.as_str()
                        )));
                    }
                }
                if offered.len() >= 2 && list.len() != 2 {
                    return Err(ApiError::two_azs());
                }
                if offered.len() == 1 && list.len() != 1 {
                    return Err(ApiError::invalid(format!(
                        "only one availability zone offers this gateway spec; give exactly [{}]",
                        offered[0]
                    )));
                }
                list.clone()
            }
            None => offered.iter().take(2).cloned().collect(),
        };

        // --- commit ---
        let id = new_id();
        let mut eip_ids: [Option<String>; 2] = [None, None];
        let mut created_eips = Vec::new();
        for (i, plan) in plans.into_iter().enumerate() {
            let eid = match plan {
                EipPlan::Existing(eid) => eid,
                EipPlan::New {
                    eip_type,
                    charge_mode,
                    shared_bandwidth,
                    bandwidth_size,
                    bandwidth_name,
                } => {
                    let address = self
                        .world
                        .next_eip_address()
                        .ok_or_else(ApiError::eip_quota)?;
                    let eid = new_id();
                    self.world.eips.push(Eip {
                        id: eid.clone(),
                        address,
                        eip_type,
                        charge_mode,
                        share_type: if shared_bandwidth.is_some() {
                            "WHOLE"
                        } else {
                            "PER"
                        }
                        .into(),
                        bandwidth_id: shared_bandwidth.unwrap_or_else(new_id),
                        bandwidth_name,
                        bandwidth_size,
                        public_border_group: "center".into(),
                        frozen: false,
                        bound_to: None,
                        billing: Billing::Postpaid,
                    });
                    created_eips.push(eid.clone());
                    eid
                }
            };
            if let Some(mut e) = self.world.eip_mut(&eid) {
                e.bound_to = Some(id.clone());
            }
            eip_ids[i] = Some(eid);
        }
        for (s, n) in &ip_needs {
            self.world.take_ips(s, *n);
        }
        if let Some((a, b)) = &private_ips {
            if let Some(s) = self.world.subnet_mut(&access_subnet) {
                s.used_ips.push(a.clone());
                s.used_ips.push(b.clone());
            }
        }
        let created = self.creation_time(ctx.now);
        let gw = m::ResponseVpnGateway {
            id: id.clone(),
            name: Some(
                req.name
                    .clone()
                    .unwrap_or_else(|| format!("vpngw-{}", short_suffix())),
            ),
            network_type: Some(network),
            status: Some(m::GatewayStatus::PendingCreate),
            attachment_type: Some(attachment.clone()),
            ip_version: Some(ip_version),
            certificate_id: None,
            er_id: req.er_id.clone(),
            er_attachment_id: (attachment == A::Er).then(new_id),
            vpc_id: req
                .vpc_id
                .clone()
                .or(has_access.then(|| access_vpc.clone())),
            local_subnets: req.local_subnets.clone(),
            local_subnets_v6: req.local_subnets_v6.clone(),
            connect_subnet: req
                .connect_subnet
                .clone()
                .or(has_access.then(|| access_subnet.clone())),
            bgp_asn: Some(bgp_asn),
            flavor: Some(flavor.clone()),
            availability_zone_ids: Some(azs),
            public_border_group: Some("center".into()),
            connection_number: None,
            used_connection_number: None,
            used_connection_group: None,
            enterprise_project_id: Some(eps),
            eip1: None,
            eip2: None,
            created_at: None,
            applied_at: None,
            updated_at: None,
            access_vpc_id: has_access.then_some(access_vpc),
            access_subnet_id: has_access.then(|| access_subnet.clone()),
            access_private_ip_1: private_ips.as_ref().map(|p| p.0.clone()),
            access_private_ip_2: private_ips.as_ref().map(|p| p.1.clone()),
            ha_mode: Some(ha_mode),
            policy_template: is_non_fixed(&flavor).then(default_policy_template),
            supported_flavors: None,
            supported_features: None,
            tags: req.tags.clone().filter(|t| !t.is_empty()),
        };
        let rec = GatewayRec {
            gw,
            eip_ids,
            created_eips,
            subnet_ips: ip_needs,
            pending: Some(Pending::after(
                ctx.now,
                ctx.delays.gateway_create,
                Next::Activate,
            )),
            activated: false,
            azs_given,
            created,
            updated: created,
            applied: created,
            certificate: None,
        };
        self.gateways.insert(id.clone(), rec);
        Ok(self.render_gateway(&self.gateways[&id], View::Create))
    }

    /// `GET /v5/{project_id}/vpn-gateways/{vgw_id}`.
    pub fn get_gateway(&self, id: &str) -> ApiResult<m::ResponseVpnGateway> {
        Ok(self.render_gateway(self.gateway(id)?, View::Full))
    }

    /// `GET /v5/{project_id}/vpn-gateways` (no paging), oldest first.
    pub fn list_gateways(&self, q: &m::ListVpnGatewaysQuery) -> Vec<m::ResponseVpnGateway> {
        let mut gws: Vec<&GatewayRec> = self
            .gateways
            .values()
            .filter(|g| q.vgw_id.as_deref().is_none_or(|id| g.gw.id == id))
            .filter(|g| {
                q.enterprise_project_id.is_empty()
                    || g.gw
                        .enterprise_project_id
                        .as_ref()
                        .is_some_and(|e| q.enterprise_project_id.contains(e))
            })
            .collect();
        gws.sort_by_key(|g| g.created);
        let usages = self.gateway_usages();
        gws.into_iter()
            .map(|g| {
                let usage = usages.get(g.gw.id.as_str()).copied().unwrap_or((0, 0));
                self.render_gateway_using(g, View::Full, usage)
            })
            .collect()
    }

    fn start_gateway_update(&mut self, id: &str, ctx: Ctx) {
        if let Some(g) = self.gateways.get_mut(id) {
            g.gw.status = Some(m::GatewayStatus::PendingUpdate);
            g.updated = ctx.now;
            g.pending = Some(Pending::after(
                ctx.now,
                ctx.delays.gateway_update,
                Next::Activate,
            ));
        }
    }

    /// `PUT /v5/{project_id}/vpn-gateways/{vgw_id}`.
    pub fn update_gateway(
        &mut self,
        id: &str,
        req: m::UpdateVpnGatewayRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseVpnGateway> {
        let g = self.gateway(id)?;
        self_gate(g, false)?;
        let vpc = g.gw.attachment_type == Some(m::AttachmentType::Vpc);
        let ipv6 = g.gw.ip_version == Some(m::IpVersion::Ipv6);
        let public = g.gw.network_type == Some(m::NetworkType::Public);
        let flavor =
            g.gw.flavor
                .clone()
                .unwrap_or(m::GatewayFlavor::Professional1);
        if let Some(n) = &req.name {
            v::name("name", n)?;
        }
        if let Some(l) = &req.local_subnets {
            if !vpc || ipv6 {
                return Err(ApiError::invalid(
                    "local_subnets can only change on VPC-attached IPv4 gateways",
                ));
            }
            v::cidr_list("local_subnets", l, false, 50)?;
        }
        if let Some(l) = &req.local_subnets_v6 {
            if !vpc || !ipv6 {
                return Err(ApiError::invalid(
                    "local_subnets_v6 can only change on VPC-attached IPv6 gateways",
                ));
            }
            v::cidr_list("local_subnets_v6", l, true, 50)?;
        }
        let (cap, _) = self.flavor_caps(&flavor);
        for (field, e) in [("eip_id_1", &req.eip_id_1), ("eip_id_2", &req.eip_id_2)] {
            if let Some(eid) = e {
                if !public {
                    return Err(ApiError::invalid(format!(
                        "{field} is only allowed on public gateways"
                    )));
                }
                check_existing_eip(self, eid, cap, Some(id))?;
            }
        }
        if let (Some(a), Some(b)) = (&req.eip_id_1, &req.eip_id_2) {
            if a == b {
                return Err(ApiError::invalid(
                    "eip_id_1 and eip_id_2 must be different EIPs",
                ));
            }
        }
        let requested = [&req.eip_id_1, &req.eip_id_2];
        for slot in 0..2 {
            let other = 1 - slot;
            if let Some(e) = requested[slot] {
                let held_by_other = g.eip_ids[other].as_deref() == Some(e.as_str());
                if held_by_other && requested[other].is_none() {
                    return Err(ApiError::invalid(format!(
                        "EIP {e} is already the gateway's eip{}; give both eip_id_1 and eip_id_2 to swap them",
                        other + 1
                    )));
                }
            }
        }
        if let Some(t) = &req.policy_template {
            if !is_non_fixed(&flavor) {
                return Err(ApiError::invalid(
                    "policy_template is only allowed on Professional1-NonFixedIP and Professional2-NonFixedIP gateways",
                ));
            }
            v::policy_template(t)?;
        }
        // --- commit ---
        let eip_changes: Vec<(usize, String)> = [&req.eip_id_1, &req.eip_id_2]
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e.clone())))
            .collect();
        for (slot, new_eip) in eip_changes {
            let old = self.gateways[id].eip_ids[slot].clone();
            if old.as_deref() == Some(new_eip.as_str()) {
                continue;
            }
            let still_used =
                |p: &Self, e: &str| p.gateways[id].eip_ids.iter().flatten().any(|x| x == e);

            if let Some(g) = self.gateways.get_mut(id) {
                g.eip_ids[slot] = Some(new_eip.clone());
            }
            // The replaced EIP is unbound (unless swapped into the other slot) and stays.
            if let Some(old) = old {
                if !still_used(self, &old) {
                    if let Some(mut e) = self.world.eip_mut(&old) {
                        e.bound_to = None;
                    }
                }
            }
            if let Some(mut e) = self.world.eip_mut(&new_eip) {
                e.bound_to = Some(id.to_string());
            }
        }
        if let Some(g) = self.gateways.get_mut(id) {
            if let Some(n) = req.name {
                g.gw.name = Some(n);
            }
            if let Some(l) = req.local_subnets {
                g.gw.local_subnets = Some(l);
            }
            if let Some(l) = req.local_subnets_v6 {
                g.gw.local_subnets_v6 = Some(l);
            }
            if let Some(t) = req.policy_template {
                let cur =
                    g.gw.policy_template
                        .get_or_insert_with(default_policy_template);
                if let Some(ike) = t.ike_policy {
                    let c = cur.ike_policy.get_or_insert_with(Default::default);
                    c.encryption_algorithm =
                        ike.encryption_algorithm.or(c.encryption_algorithm.take());
                    c.dh_group = ike.dh_group.or(c.dh_group.take());
                    c.authentication_algorithm = ike
                        .authentication_algorithm
                        .or(c.authentication_algorithm.take());
                    c.lifetime_seconds = ike.lifetime_seconds.or(c.lifetime_seconds);
                }
                if let Some(ipsec) = t.ipsec_policy {
                    let c = cur.ipsec_policy.get_or_insert_with(Default::default);
                    c.authentication_algorithm = ipsec
                        .authentication_algorithm
                        .or(c.authentication_algorithm.take());
                    c.encryption_algorithm =
                        ipsec.encryption_algorithm.or(c.encryption_algorithm.take());
                    c.pfs = ipsec.pfs.or(c.pfs.take());
                    c.lifetime_seconds = ipsec.lifetime_seconds.or(c.lifetime_seconds);
                }
            }
        }
        self.start_gateway_update(id, ctx);
        Ok(self.render_gateway(&self.gateways[id], View::Update))
    }

    /// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/update-specification`.
    pub fn update_gateway_specification(
        &mut self,
        id: &str,
        flavor: m::GatewayFlavor,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseVpnGateway> {
        let g = self.gateway(id)?;
        self_gate(g, false)?;
        v::known("flavor", &flavor)?;
        let supported = self.supported_flavors(g);
        if !supported.contains(&flavor) {
            let names: Vec<&str> = supported.iter().map(|f| f.as_str()).collect();
            return Err(ApiError::invalid(format!(
                "flavor {} is not in the gateway's supported_flavors [{}]",
                flavor.as_str(),
                names.join(", ")
            )));
        }
        let (cap, max_conns) = self.flavor_caps(&flavor);
        for eid in g.eip_ids.iter().flatten() {
            if self.world.eip(eid).is_some_and(|e| e.bandwidth_size > cap) {
                return Err(ApiError::eip_bandwidth_over_spec());
            }
        }
        if self.gateway_usage(id).0 > max_conns {
            return Err(ApiError::connections_over_spec());
        }
        if let Some(g) = self.gateways.get_mut(id) {
            g.gw.flavor = Some(flavor);
        }
        self.start_gateway_update(id, ctx);
        Ok(self.render_gateway(&self.gateways[id], View::Update))
    }

    /// `DELETE /v5/{project_id}/vpn-gateways/{vgw_id}`.
    ///
    /// A gateway that still has connections cannot be deleted: VPN.0001 "invalid request: vpn
    /// gateway <id> has connection". ASSUMPTION: the reference states this rule only for
    /// customer gateways; the gateway rule is modelled by analogy (connections reference §1.1).
    /// A gateway with a yearly/monthly EIP bound is refused too (§1.5, [xref]; code assumed).
    pub fn delete_gateway(&mut self, id: &str, ctx: Ctx) -> ApiResult<()> {
        let g = self.gateway(id)?;
        self_gate(g, true)?;
        if self.gateway_usage(id).0 > 0 {
            return Err(ApiError::invalid(format!(
                "vpn gateway {id} has connection"
            )));
        }
        for eid in g.eip_ids.iter().flatten() {
            if self
                .world
                .eip(eid)
                .is_some_and(|e| e.billing == Billing::Prepaid)
            {
                return Err(ApiError::invalid(format!(
                    "the yearly/monthly EIP {eid} is bound to vpn gateway {id}; unbind it first"
                )));
            }
        }
        if let Some(g) = self.gateways.get_mut(id) {
            g.gw.status = Some(m::GatewayStatus::PendingDelete);
            g.pending = Some(Pending::after(
                ctx.now,
                ctx.delays.gateway_delete,
                Next::Remove,
            ));
        }
        Ok(())
    }

    /// Removes a gateway for good, giving back IPs and releasing or unbinding its EIPs.
    pub fn remove_gateway(&mut self, id: &str) {
        let Some(g) = self.gateways.remove(id) else {
            return;
        };
        for (s, n) in &g.subnet_ips {
            self.world.give_ips(s, *n);
        }
        if let (Some(a), Some(b), Some(s)) = (
            &g.gw.access_private_ip_1,
            &g.gw.access_private_ip_2,
            &g.gw.access_subnet_id,
        ) {
            if let Some(sub) = self.world.subnet_mut(s) {
                sub.used_ips.retain(|ip| ip != a && ip != b);
            }
        }
        let release = self.world.release_eips_on_gateway_delete;
        for eid in g.eip_ids.iter().flatten() {
            let postpaid = self
                .world
                .eip(eid)
                .is_some_and(|e| e.billing == Billing::Postpaid);
            if release && postpaid {
                self.world.eips.remove(eid);
            } else if let Some(mut e) = self.world.eip_mut(eid) {
                if e.bound_to.as_deref() == Some(id) {
                    e.bound_to = None;
                }
            }
        }
    }

    pub(super) fn gateway_transition(&mut self, id: &str, due: DateTime<Utc>) {
        let Some(g) = self.gateways.get_mut(id) else {
            return;
        };
        let Some(p) = g.pending.take() else { return };
        match p.then {
            Next::Remove => self.remove_gateway(id),
            Next::Activate => {
                g.gw.status = Some(m::GatewayStatus::Active);
                if g.activated {
                    g.updated = due;
                }
                g.applied = due;
                g.activated = true;
            }
            Next::UpgradeReady => {
                g.gw.status = Some(m::GatewayStatus::PendingUpgradeConfirm);
                self.job_upgrade_ready(id, due);
            }
            Next::RollbackDone => {
                g.gw.status = Some(m::GatewayStatus::Active);
                g.updated = due;
                self.job_rollback_done(id, due);
            }
            Next::Settle => {}
        }
    }

    /// `GET /v5/{project_id}/vpn-gateways/availability-zones`.
    pub fn availability_zones(&self) -> m::ListAvailabilityZonesResponse {
        let mut out = m::ListAvailabilityZonesResponse::default();
        for f in &self.world.flavors {
            let flavor = m::GatewayFlavor::parse(&f.name);
            let entry = m::VpnGatewayAvailabilityZones {
                vpc: Some(self.world.azs_for(&f.name, "vpc", "ipv4")),
                er: Some(self.world.azs_for(&f.name, "er", "ipv4")),
            };
            out.availability_zones
                .insert(flavor.availability_zone_key(), entry);
        }
        out
    }

    /// `GET /v5.1/{project_id}/vpn-gateways/availability-zones`.
    pub fn extended_availability_zones(&self) -> m::ListExtendedAvailabilityZonesResponse {
        m::ListExtendedAvailabilityZonesResponse {
            availability_zones: self
                .world
                .availability_zones
                .iter()
                .map(|az| m::ExtendedAvailabilityZone {
                    name: Some(az.name.clone()),
                    public_border_group: Some(az.public_border_group.clone()),
                    available_specs: Some(
                        az.available_specs
                            .iter()
                            .map(|s| m::AvailableSpec {
                                flavor: Some(m::GatewayFlavor::parse(&s.flavor)),
                                attachment_type: Some(m::AttachmentType::parse(&s.attachment_type)),
                                ip_version: Some(m::IpVersion::parse(&s.ip_version)),
                            })
                            .collect(),
                    ),
                })
                .collect(),
            request_id: None,
        }
    }
}

impl Project {
    /// The routing table of a gateway: one route per peer subnet of its ACTIVE connections,
    /// through the connection's tunnel.
    pub fn routing_table(&self, id: &str) -> ApiResult<Vec<m::Route>> {
        self.gateway(id)?;
        let host = |a: &Option<String>| {
            a.as_deref()
                .map(|a| a.split('/').next().unwrap_or(a).to_string())
        };
        let mut routes = Vec::new();
        for c in self.connections.values() {
            if c.conn.vgw_id.as_deref() != Some(id)
                || c.conn.status != Some(m::ConnectionStatus::Active)
            {
                continue;
            }
            let asn = c
                .conn
                .cgw_id
                .as_deref()
                .and_then(|g| self.customer_gateways.get(g))
                .and_then(|g| g.cgw.bgp_asn)
                .map(|a| a.to_string());
            for dest in c
                .conn
                .peer_subnets
                .iter()
                .chain(c.conn.peer_subnets_v6.iter())
                .flatten()
            {
                routes.push(m::Route {
                    destination: Some(dest.clone()),
                    nexthop: host(&c.conn.tunnel_peer_address),
                    outbound_interface_ip: host(&c.conn.tunnel_local_address),
                    origin: Some(m::RouteOrigin::Igp),
                    as_path: asn.clone(),
                    med: Some(0),
                    nexthop_resource: Some(m::NexthopResource {
                        id: Some(c.conn.id.clone()),
                        resource_type: Some(m::NexthopResourceType::VpnConnection),
                    }),
                });
            }
        }
        Ok(routes)
    }
}

/// (count, distinct customer gateways) of one gateway's connections.
fn usage_of<'a>(conns: impl IntoIterator<Item = &'a super::ConnectionRec>) -> (u32, u32) {
    let mut count = 0;
    let mut groups = BTreeSet::new();
    for c in conns {
        count += 1;
        groups.extend(c.conn.cgw_id.as_deref());
    }
    (count, groups.len() as u32)
}
