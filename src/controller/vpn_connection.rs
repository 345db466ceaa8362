//! The `VpnConnection` reconciler: one IPsec tunnel between a gateway address and a customer
//! gateway, plus its optional health check (connection monitor).
//!
//! Connections are asynchronous in the cloud (reference §1.3): create and PUT answer at once
//! and the connection passes through `PENDING_CREATE` / `PENDING_UPDATE` to `ACTIVE` (tunnel
//! up) or `DOWN` (provisioned, peer not connected); delete passes through `PENDING_DELETE` and
//! is finished when GET answers 404. Mutating calls on one gateway are serialised through
//! `ctx.gateway_locks`.
//!
//! The pre-shared key is read from a Secret, sent to the cloud, and otherwise only ever seen as
//! its SHA-256 (`status.pskSha256`): the cloud never returns it, so a changed hash is how a
//! rotation is detected.
//!
//! The decisions are pure functions ([`lookup`], [`gateway_from_cr`], [`gateway_from_cloud`],
//! [`customer_gateway_from_cr`], [`desired_create`], [`desired_update`], [`drift`], [`plan`],
//! [`state_conditions`], [`build_status`], [`connections_referencing`]), tested as tables;
//! [`observe`], [`act`] and [`teardown`] only talk to the cloud.
use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};
use sha2::{Digest, Sha256};

use super::backoff::pending_requeue;
use super::context::{Context, Note};
use super::error::{Error, Result};
use super::locks::KeyedLocks;
use super::ownership::{
    check_tag_count, cloud_name, desired_tags, ownership, render_tags, tag_diff, Ownership,
    TagDiff, MAX_TAGS, TAG_OWNER, TAG_UID,
};
use super::reconciler::{mark, now, Managed, Outcome};
use super::status::{drift_entries, new_drift, FieldDiff};
use super::wire::{enum_str, since_transition};
use crate::cloud::model::common::{
    AuthenticationAlgorithm as WireAuthAlg, DhGroup as WireDhGroup,
    EncryptionAlgorithm as WireEncAlg, Redacted, VpnResourceTag,
};
use crate::cloud::model::connection::{
    AuthenticationMethod as WireAuthMethod, ConnectionStatus, ConnectionStyle as WireStyle,
    CreateVpnConnectionRequestBody, Dpd as WireDpd, DpdMsg as WireDpdMsg,
    EncapsulationMode as WireEncap, HaRole as WireHaRole, IkeIdType as WireIkeIdType,
    IkePolicy as WireIke, IkeVersion as WireIkeVersion, IpsecPolicy as WireIpsec,
    ListVpnConnectionsQuery, Phase1NegotiationMode as WirePhase1, PolicyRule as WireRule,
    ResponseVpnConnection, TransformProtocol as WireTransform, UpdateIkePolicy,
    UpdateVpnConnectionRequestBody,
};
use crate::cloud::model::gateway::{GatewayStatus, NetworkType, ResponseVpnGateway};
use crate::cloud::model::monitor::{
    ConnectionMonitorInfo, ListConnectionMonitorsQuery, MonitorStatus,
};
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::{ErrorKind, VpnClient};
use crate::crd::common::{
    find_condition, reasons, types, CloudSettings, Condition, ConditionStatus, ManagementPolicy,
    SecretKeySelector,
};
use crate::crd::vpn_connection::{
    ConnectionStyle, GatewayIp, IkePolicy, IpsecPolicy, ObservedBgpPeer, PolicyRule,
};
use crate::crd::vpn_gateway::NetworkType as CrdNetworkType;
use crate::crd::{
    CustomerGateway, VpnConnection, VpnConnectionSpec, VpnConnectionStatus, VpnGateway,
};

/// Event reasons of this reconciler (the `reason` of Kubernetes Events, not of conditions).
pub mod events {
    /// The connection was created in the cloud.
    pub const CREATED: &str = "Created";
    /// Updatable fields, tags or the health check were changed in the cloud.
    pub const UPDATED: &str = "Updated";
    /// An existing connection (spec.cloudId) is now managed by this object.
    pub const ADOPTED: &str = "Adopted";
    /// A connection created earlier for this object was found by its owner tag.
    pub const RECOVERED: &str = "Recovered";
    /// The connection is gone from the cloud.
    pub const DELETED: &str = "Deleted";
    /// The connection's deletion was requested; the operator waits until it is gone.
    pub const DELETE_REQUESTED: &str = "DeleteRequested";
    /// A new pre-shared key was sent to the cloud (the value is never shown).
    pub const PSK_ROTATED: &str = "PskRotated";
    /// The cloud differs from the spec in a way the operator did not cause.
    pub const DRIFT_DETECTED: &str = "DriftDetected";
    /// The connection recorded in status is gone; a new one is created.
    pub const RECREATING: &str = "Recreating";
}

impl Managed for VpnConnection {
    const KIND: &'static str = "VpnConnection";
    type Spec = VpnConnectionSpec;
    type Status = VpnConnectionStatus;

    fn cloud_settings(&self) -> Option<&CloudSettings> {
        self.spec.cloud.as_ref()
    }

    async fn apply(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Outcome<VpnConnectionStatus>> {
        apply(obj, ctx).await
    }

    async fn cleanup(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Vec<Note>> {
        cleanup(obj, ctx).await
    }
}

// ----- watches -----------------------------------------------------------------------------

/// The kinds of object a connection refers to by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Referenced {
    /// `spec.vpnGatewayRef.name`.
    VpnGateway,
    /// `spec.customerGatewayRef.name`.
    CustomerGateway,
    /// `spec.pskSecretRef.name`.
    Secret,
}

/// The connections (among `items`, e.g. a reflector store's state) in `namespace` that refer to
/// the `kind` object `name`: the mapper for watches, so a connection is reconciled when its
/// gateway, customer gateway or PSK Secret changes.
pub fn connections_referencing<I>(
    items: I,
    kind: Referenced,
    namespace: &str,
    name: &str,
) -> Vec<ObjectRef<VpnConnection>>
where
    I: IntoIterator,
    I::Item: Borrow<VpnConnection>,
{
    items
        .into_iter()
        .filter(|c| {
            let c: &VpnConnection = c.borrow();
            let spec = &c.spec;
            c.namespace().as_deref() == Some(namespace)
                && match kind {
                    Referenced::VpnGateway => spec.vpn_gateway_ref.name.as_deref() == Some(name),
                    Referenced::CustomerGateway => {
                        spec.customer_gateway_ref.name.as_deref() == Some(name)
                    }
                    Referenced::Secret => {
                        spec.psk_secret_ref.as_ref().map(|s| s.name.as_str()) == Some(name)
                    }
                }
        })
        .map(|c| ObjectRef::from_obj(c.borrow()))
        .collect()
}

/// The CustomerGateway a connection names (for the customer gateway controller, whose deletion
/// waits for the connections that use it).
pub fn referenced_customer_gateway(c: &VpnConnection) -> Option<ObjectRef<CustomerGateway>> {
    let ns = c.namespace()?;
    let name = c.spec.customer_gateway_ref.name.as_deref()?;
    Some(ObjectRef::new(name).within(&ns))
}

// ----- references --------------------------------------------------------------------------

/// The gateway end of the tunnel, resolved to what the API wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedGateway {
    /// Gateway cloud id (`vgw_id`).
    pub id: String,
    /// `vgw_ip`: the EIP id (public gateway) or the private access IP (private gateway).
    pub vgw_ip: String,
    /// The IP address behind `vgw_ip` (the EIP's address, or the private IP itself).
    pub address: Option<String>,
}

fn is_eip(which: GatewayIp) -> bool {
    matches!(which, GatewayIp::Eip1 | GatewayIp::Eip2)
}

fn which_name(which: GatewayIp) -> String {
    enum_str(&which)
}

fn not_ready(message: String, retry: Duration) -> Error {
    Error::waiting(reasons::DEPENDENCY_NOT_READY, message, retry)
}

/// Resolves `vpnGatewayRef.name` from the VpnGateway object: it must exist, be Ready with a
/// cloud id, and report the address `which` names. Waits (DependencyNotReady) otherwise;
/// asking for an EIP of a private gateway (or a private IP of a public one) is a spec error.
pub fn gateway_from_cr(
    name: &str,
    gw: Option<&VpnGateway>,
    which: GatewayIp,
    retry: Duration,
) -> Result<ResolvedGateway> {
    let Some(gw) = gw else {
        return Err(not_ready(
            format!("VpnGateway {name} does not exist in this namespace yet"),
            retry,
        ));
    };
    let public = gw.spec.network_type == CrdNetworkType::Public;
    if public != is_eip(which) {
        return Err(Error::InvalidSpec(format!(
            "gatewayIp is {} but VpnGateway {name} is a {} gateway: use {}",
            which_name(which),
            enum_str(&gw.spec.network_type),
            if public {
                "eip1 or eip2"
            } else {
                "accessPrivateIp1 or accessPrivateIp2"
            }
        )));
    }
    if gw.metadata.deletion_timestamp.is_some() {
        return Err(not_ready(
            format!("VpnGateway {name} is being deleted"),
            retry,
        ));
    }
    let status = gw.status.clone().unwrap_or_default();
    let ready = find_condition(&status.conditions, types::READY);
    let (Some(id), Some(c)) = (status.cloud_id.clone(), ready) else {
        return Err(not_ready(
            format!("VpnGateway {name} is not Ready yet"),
            retry,
        ));
    };
    if c.status != ConditionStatus::True {
        return Err(not_ready(
            format!("VpnGateway {name} is not Ready yet ({})", c.reason),
            retry,
        ));
    }
    let picked = match which {
        GatewayIp::Eip1 => status.eip1.and_then(|e| e.id.map(|id| (id, e.ip_address))),
        GatewayIp::Eip2 => status.eip2.and_then(|e| e.id.map(|id| (id, e.ip_address))),
        GatewayIp::AccessPrivateIp1 => status.access_private_ip1.map(|ip| (ip.clone(), Some(ip))),
        GatewayIp::AccessPrivateIp2 => status.access_private_ip2.map(|ip| (ip.clone(), Some(ip))),
    };
    match picked {
        Some((vgw_ip, address)) => Ok(ResolvedGateway {
            id,
            vgw_ip,
            address,
        }),
        None => Err(not_ready(
            format!(
                "VpnGateway {name} does not report its {} yet",
                which_name(which)
            ),
            retry,
        )),
    }
}

/// Resolves `vpnGatewayRef.cloudId` from the gateway as the cloud reports it: it must be
/// ACTIVE (addresses are only reported then) and have the address `which` names.
pub fn gateway_from_cloud(
    gw: &ResponseVpnGateway,
    which: GatewayIp,
    retry: Duration,
) -> Result<ResolvedGateway> {
    let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    if let Some(net) = &gw.network_type {
        let public = *net == NetworkType::Public;
        if public != is_eip(which) {
            return Err(Error::InvalidSpec(format!(
                "gatewayIp is {} but VPN gateway {} is a {net} gateway: use {}",
                which_name(which),
                gw.id,
                if public {
                    "eip1 or eip2"
                } else {
                    "accessPrivateIp1 or accessPrivateIp2"
                }
            )));
        }
    }
    if state != GatewayStatus::Active {
        return Err(not_ready(
            format!("VPN gateway {} is not ACTIVE yet ({state})", gw.id),
            retry,
        ));
    }
    let eip = |e: &Option<crate::cloud::model::gateway::ResponseEip>| {
        e.as_ref()
            .and_then(|e| e.id.clone().map(|id| (id, e.ip_address.clone())))
    };
    let picked = match which {
        GatewayIp::Eip1 => eip(&gw.eip1),
        GatewayIp::Eip2 => eip(&gw.eip2),
        GatewayIp::AccessPrivateIp1 => gw
            .access_private_ip_1
            .clone()
            .map(|ip| (ip.clone(), Some(ip))),
        GatewayIp::AccessPrivateIp2 => gw
            .access_private_ip_2
            .clone()
            .map(|ip| (ip.clone(), Some(ip))),
    };
    picked
        .map(|(vgw_ip, address)| ResolvedGateway {
            id: gw.id.clone(),
            vgw_ip,
            address,
        })
        .ok_or_else(|| {
            not_ready(
                format!(
                    "VPN gateway {} does not report its {} yet",
                    gw.id,
                    which_name(which)
                ),
                retry,
            )
        })
}

/// Resolves `customerGatewayRef.name`: the CustomerGateway must exist and be Ready with a
/// cloud id.
pub fn customer_gateway_from_cr(
    name: &str,
    cgw: Option<&CustomerGateway>,
    retry: Duration,
) -> Result<String> {
    let Some(cgw) = cgw else {
        return Err(not_ready(
            format!("CustomerGateway {name} does not exist in this namespace yet"),
            retry,
        ));
    };
    if cgw.metadata.deletion_timestamp.is_some() {
        return Err(not_ready(
            format!("CustomerGateway {name} is being deleted"),
            retry,
        ));
    }
    let status = cgw.status.clone().unwrap_or_default();
    match (
        status.cloud_id,
        find_condition(&status.conditions, types::READY),
    ) {
        (Some(id), Some(c)) if c.status == ConditionStatus::True => Ok(id),
        (_, Some(c)) => Err(not_ready(
            format!("CustomerGateway {name} is not Ready yet ({})", c.reason),
            retry,
        )),
        (_, None) => Err(not_ready(
            format!("CustomerGateway {name} is not Ready yet"),
            retry,
        )),
    }
}

/// The gateway recorded in status by an earlier reconcile (the gateway and its address are
/// immutable, so they stay valid while the gateway object is briefly not Ready).
pub fn recorded_gateway(status: &VpnConnectionStatus) -> Option<ResolvedGateway> {
    Some(ResolvedGateway {
        id: status.vpn_gateway_id.clone()?,
        vgw_ip: status.gateway_ip.clone()?,
        address: status.gateway_address.clone(),
    })
}

async fn resolve_gateway(
    ctx: &Context,
    vpn: &VpnClient,
    obj: &VpnConnection,
    retry: Duration,
) -> Result<ResolvedGateway> {
    let r = &obj.spec.vpn_gateway_ref;
    let which = obj.spec.gateway_ip;
    match (&r.name, &r.cloud_id) {
        (Some(name), _) => {
            let ns = obj.namespace().unwrap_or_default();
            let gw = Api::<VpnGateway>::namespaced(ctx.kube.clone(), &ns)
                .get_opt(name)
                .await?;
            gateway_from_cr(name, gw.as_ref(), which, retry)
        }
        (None, Some(id)) => match vpn.get_gateway(id).await {
            Ok(gw) => gateway_from_cloud(&gw, which, retry),
            Err(e) if e.is_not_found() => Err(not_ready(
                format!("VPN gateway {id} (vpnGatewayRef.cloudId) does not exist"),
                retry,
            )),
            Err(e) => Err(e.into()),
        },
        (None, None) => Err(Error::InvalidSpec(
            "vpnGatewayRef needs name or cloudId".into(),
        )),
    }
}

async fn resolve_customer_gateway(
    ctx: &Context,
    obj: &VpnConnection,
    retry: Duration,
) -> Result<String> {
    let r = &obj.spec.customer_gateway_ref;
    match (&r.name, &r.cloud_id) {
        (Some(name), _) => {
            let ns = obj.namespace().unwrap_or_default();
            let cgw = Api::<CustomerGateway>::namespaced(ctx.kube.clone(), &ns)
                .get_opt(name)
                .await?;
            customer_gateway_from_cr(name, cgw.as_ref(), retry)
        }
        (None, Some(id)) => Ok(id.clone()),
        (None, None) => Err(Error::InvalidSpec(
            "customerGatewayRef needs name or cloudId".into(),
        )),
    }
}

// ----- pre-shared key ----------------------------------------------------------------------

/// A pre-shared key read from its Secret. `Debug` never shows the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Psk {
    /// The key, to send to the cloud only.
    pub value: Redacted<String>,
    /// Its hex SHA-256, the only form that is stored or compared.
    pub sha256: String,
}

impl Psk {
    /// Wraps a key read from a Secret.
    pub fn new(value: String) -> Self {
        let sha256 = psk_sha256(&value);
        Self {
            value: Redacted::new(value),
            sha256,
        }
    }
}

/// Hex SHA-256 of a pre-shared key.
pub fn psk_sha256(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The special characters the API allows in a pre-shared key (reference §1.4).
pub const PSK_SPECIALS: &str = "~!@#$%^()-_+={ },./:;";

/// What is wrong with a pre-shared key, if anything (8-128 characters of letters, digits and
/// [`PSK_SPECIALS`], with at least three of: upper case, lower case, digits, specials). The
/// answer never contains the key or any of its characters.
pub fn psk_problem(value: &str) -> Option<String> {
    let len = value.chars().count();
    if !(8..=128).contains(&len) {
        return Some(format!(
            "the pre-shared key must have 8-128 characters (it has {len})"
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || PSK_SPECIALS.contains(c))
    {
        return Some(format!(
            "the pre-shared key may only contain letters, digits and {PSK_SPECIALS}"
        ));
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| PSK_SPECIALS.contains(c)),
    ];
    if classes.iter().filter(|b| **b).count() < 3 {
        return Some(
            "the pre-shared key must contain at least three of: upper-case letters, lower-case \
             letters, digits, special characters"
                .into(),
        );
    }
    None
}

/// The key from a Secret's data: UTF-8, a trailing line break removed (files made with `echo`
/// end with one; a line break is never part of a valid key), then checked with [`psk_problem`].
/// Errors are `problem` texts for [`Error::Secret`]; they never contain the value.
pub fn psk_from_data(data: Option<&[u8]>, key: &str) -> std::result::Result<Psk, String> {
    let bytes =
        data.ok_or_else(|| format!("has no key {key:?}; add the pre-shared key under it"))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| format!("key {key:?} is not UTF-8 text"))?
        .trim_end_matches(['\n', '\r']);
    if let Some(problem) = psk_problem(text) {
        return Err(format!("key {key:?}: {problem}"));
    }
    Ok(Psk::new(text.to_string()))
}

async fn read_psk(ctx: &Context, namespace: &str, sel: &SecretKeySelector) -> Result<Psk> {
    let err = |problem: String| Error::Secret {
        namespace: namespace.to_string(),
        name: sel.name.clone(),
        problem,
    };
    let secret = Api::<Secret>::namespaced(ctx.kube.clone(), namespace)
        .get_opt(&sel.name)
        .await?
        .ok_or_else(|| {
            err(format!(
                "not found; create it with the pre-shared key under key {:?}",
                sel.key
            ))
        })?;
    let data = secret.data.unwrap_or_default();
    psk_from_data(data.get(&sel.key).map(|b| b.0.as_slice()), &sel.key).map_err(err)
}

// ----- desired -----------------------------------------------------------------------------

fn wire<W: for<'a> From<&'a str>>(v: &impl serde::Serialize) -> W {
    W::from(enum_str(v).as_str())
}

fn non_empty<T: Clone>(v: &[T]) -> Option<Vec<T>> {
    (!v.is_empty()).then(|| v.to_vec())
}

fn seconds(v: Option<i64>) -> Option<u32> {
    v.and_then(|s| u32::try_from(s).ok())
}

/// The wire IKE policy for the fields the spec sets (the cloud fills in the rest).
pub fn wire_ike(p: &IkePolicy) -> WireIke {
    WireIke {
        ike_version: p.ike_version.map(|v| wire::<WireIkeVersion>(&v)),
        phase1_negotiation_mode: p.phase1_negotiation_mode.map(|v| wire::<WirePhase1>(&v)),
        authentication_algorithm: p.authentication_algorithm.map(|v| wire::<WireAuthAlg>(&v)),
        encryption_algorithm: p.encryption_algorithm.map(|v| wire::<WireEncAlg>(&v)),
        dh_group: p.dh_group.map(|v| wire::<WireDhGroup>(&v)),
        authentication_method: p.authentication_method.map(|v| wire::<WireAuthMethod>(&v)),
        lifetime_seconds: seconds(p.lifetime_seconds),
        local_id_type: p.local_id_type.map(|v| wire::<WireIkeIdType>(&v)),
        local_id: p.local_id.clone(),
        peer_id_type: p.peer_id_type.map(|v| wire::<WireIkeIdType>(&v)),
        peer_id: p.peer_id.clone(),
        dpd: p.dpd.as_ref().map(|d| WireDpd {
            timeout: seconds(d.timeout),
            interval: seconds(d.interval),
            msg: d.msg.map(|m| wire::<WireDpdMsg>(&m)),
        }),
    }
}

/// The wire IPsec policy for the fields the spec sets.
pub fn wire_ipsec(p: &IpsecPolicy) -> WireIpsec {
    WireIpsec {
        authentication_algorithm: p.authentication_algorithm.map(|v| wire::<WireAuthAlg>(&v)),
        encryption_algorithm: p.encryption_algorithm.map(|v| wire::<WireEncAlg>(&v)),
        pfs: p.pfs.map(|v| wire::<WireDhGroup>(&v)),
        transform_protocol: p.transform_protocol.map(|v| wire::<WireTransform>(&v)),
        lifetime_seconds: seconds(p.lifetime_seconds),
        encapsulation_mode: p.encapsulation_mode.map(|v| wire::<WireEncap>(&v)),
    }
}

fn wire_rules(rules: &[PolicyRule]) -> Option<Vec<WireRule>> {
    (!rules.is_empty()).then(|| {
        rules
            .iter()
            .map(|r| WireRule {
                rule_index: None,
                source: r.source.clone(),
                destination: non_empty(&r.destination),
            })
            .collect()
    })
}

/// The create body: everything the spec says (policy rules only for style `policy`), the
/// resolved gateway and customer gateway, the key, and the tags (owner tags included).
pub fn desired_create(
    spec: &VpnConnectionSpec,
    name: &str,
    gw: &ResolvedGateway,
    cgw_id: &str,
    psk: Option<&Psk>,
    tags: Vec<VpnResourceTag>,
) -> CreateVpnConnectionRequestBody {
    let policy = spec.style == ConnectionStyle::Policy;
    CreateVpnConnectionRequestBody {
        name: Some(name.to_string()),
        vgw_id: gw.id.clone(),
        vgw_ip: gw.vgw_ip.clone(),
        style: Some(wire::<WireStyle>(&spec.style)),
        cgw_id: cgw_id.to_string(),
        peer_subnets: non_empty(&spec.peer_subnets),
        peer_subnets_v6: non_empty(&spec.peer_subnets_v6),
        tunnel_local_address: spec.tunnel_local_address.clone(),
        tunnel_peer_address: spec.tunnel_peer_address.clone(),
        enable_nqa: spec.enable_nqa,
        enable_hub: spec.enable_hub,
        psk: psk.map(|p| p.value.clone()),
        policy_rules: if policy {
            wire_rules(&spec.policy_rules)
        } else {
            None
        },
        policy_rules_v6: if policy {
            wire_rules(&spec.policy_rules_v6)
        } else {
            None
        },
        ikepolicy: spec.ike_policy.as_ref().map(wire_ike),
        ipsecpolicy: spec.ipsec_policy.as_ref().map(wire_ipsec),
        ha_role: Some(wire::<WireHaRole>(&spec.ha_role)),
        tags: (!tags.is_empty()).then_some(tags),
    }
}

/// The complete IKE policy to PUT: the cloud's current policy with the spec's fields on top
/// (PUT semantics are undocumented, so nothing is left out; `authenticationMethod` cannot change).
pub fn merged_ike(spec: Option<&IkePolicy>, observed: Option<&WireIke>) -> UpdateIkePolicy {
    let mut out = observed.map(UpdateIkePolicy::from).unwrap_or_default();
    let Some(p) = spec.map(wire_ike) else {
        return out;
    };
    macro_rules! over {
        ($($f:ident),+) => { $( if p.$f.is_some() { out.$f = p.$f.clone(); } )+ };
    }
    over!(
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
    if let Some(d) = p.dpd {
        let mut dpd = out.dpd.take().unwrap_or_default();
        dpd.timeout = d.timeout.or(dpd.timeout);
        dpd.interval = d.interval.or(dpd.interval);
        dpd.msg = d.msg.or(dpd.msg);
        out.dpd = Some(dpd);
    }
    out
}

/// The complete IPsec policy to PUT: the cloud's current policy with the spec's fields on top.
pub fn merged_ipsec(spec: Option<&IpsecPolicy>, observed: Option<&WireIpsec>) -> WireIpsec {
    let mut out = observed.cloned().unwrap_or_default();
    if let Some(p) = spec.map(wire_ipsec) {
        out.authentication_algorithm = p.authentication_algorithm.or(out.authentication_algorithm);
        out.encryption_algorithm = p.encryption_algorithm.or(out.encryption_algorithm);
        out.pfs = p.pfs.or(out.pfs);
        out.transform_protocol = p.transform_protocol.or(out.transform_protocol);
        out.lifetime_seconds = p.lifetime_seconds.or(out.lifetime_seconds);
        out.encapsulation_mode = p.encapsulation_mode.or(out.encapsulation_mode);
    }
    out
}

/// The PUT body: every updatable field the spec sets, the complete IKE and IPsec policies,
/// and the key only when it is to be rotated. `cgw_id` is `None` when the customer gateway
/// reference cannot be resolved now (the connection keeps its current one).
pub fn desired_update(
    spec: &VpnConnectionSpec,
    name: &str,
    cgw_id: Option<&str>,
    observed: &ResponseVpnConnection,
    psk: Option<&Psk>,
) -> UpdateVpnConnectionRequestBody {
    let policy = spec.style == ConnectionStyle::Policy;
    UpdateVpnConnectionRequestBody {
        name: Some(name.to_string()),
        cgw_id: cgw_id.map(str::to_string),
        peer_subnets: non_empty(&spec.peer_subnets),
        peer_subnets_v6: non_empty(&spec.peer_subnets_v6),
        tunnel_local_address: spec.tunnel_local_address.clone(),
        tunnel_peer_address: spec.tunnel_peer_address.clone(),
        enable_hub: spec.enable_hub,
        psk: psk.map(|p| p.value.clone()),
        policy_rules: if policy {
            wire_rules(&spec.policy_rules)
        } else {
            None
        },
        policy_rules_v6: if policy {
            wire_rules(&spec.policy_rules_v6)
        } else {
            None
        },
        ikepolicy: Some(merged_ike(
            spec.ike_policy.as_ref(),
            observed.ikepolicy.as_ref(),
        )),
        ipsecpolicy: Some(merged_ipsec(
            spec.ipsec_policy.as_ref(),
            observed.ipsecpolicy.as_ref(),
        )),
    }
}

// ----- drift -------------------------------------------------------------------------------

const NONE: &str = "<none>";

fn user_tags(tags: &[VpnResourceTag]) -> Vec<VpnResourceTag> {
    tags.iter()
        .filter(|t| t.key != TAG_UID && t.key != TAG_OWNER)
        .cloned()
        .collect()
}

fn as_set(v: &[String]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

fn render_list(v: &[String]) -> String {
    if v.is_empty() {
        NONE.into()
    } else {
        v.join(",")
    }
}

fn render_rules(rules: &[WireRule]) -> String {
    if rules.is_empty() {
        return NONE.into();
    }
    rules
        .iter()
        .map(|r| {
            format!(
                "{}->{}",
                r.source.as_deref().unwrap_or(""),
                r.destination.clone().unwrap_or_default().join("+")
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Rules compared by source and destination set, in rule order (`rule_index` when reported).
fn same_rules(want: &[WireRule], have: &[WireRule]) -> bool {
    let mut have = have.to_vec();
    have.sort_by_key(|r| r.rule_index);
    let key = |r: &WireRule| {
        (
            r.source.clone().unwrap_or_default().to_ascii_lowercase(),
            as_set(&r.destination.clone().unwrap_or_default()),
        )
    };
    want.iter().map(key).collect::<Vec<_>>() == have.iter().map(key).collect::<Vec<_>>()
}

/// Collects differences: a field is compared only when the spec sets it.
struct Diffs(Vec<FieldDiff>);

impl Diffs {
    fn text(&mut self, field: &str, want: Option<String>, have: Option<String>, updatable: bool) {
        let Some(want) = want else { return };
        if !have
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(&want))
        {
            self.0.push(FieldDiff::new(
                field,
                want,
                have.unwrap_or_else(|| NONE.to_string()),
                updatable,
            ));
        }
    }
}

fn s<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// Fields whose cloud value differs from the spec, with whether the cloud can change them.
/// Unset optional fields are not compared (the cloud's defaults are not drift), `style` is
/// compared case-insensitively, tunnel addresses only when the spec sets them, lists as sets,
/// and the pre-shared key never (the cloud cannot report it). `gw` / `cgw_id` are `None` when
/// the references cannot be resolved now; those fields are then not compared.
pub fn drift(
    spec: &VpnConnectionSpec,
    name: &str,
    gw: Option<&ResolvedGateway>,
    cgw_id: Option<&str>,
    tags: &[VpnResourceTag],
    observed: &ResponseVpnConnection,
    observed_tags: &[VpnResourceTag],
) -> Vec<FieldDiff> {
    let o = observed;
    let mut d = Diffs(Vec::new());
    d.text("name", Some(name.to_string()), o.name.clone(), true);
    if let Some(gw) = gw {
        d.text(
            "vpnGatewayRef",
            Some(gw.id.clone()),
            o.vgw_id.clone(),
            false,
        );
        d.text(
            "gatewayIp",
            Some(gw.vgw_ip.clone()),
            o.vgw_ip.clone(),
            false,
        );
    }
    d.text("customerGatewayRef", s(cgw_id), o.cgw_id.clone(), true);
    if o.style.is_some() {
        d.text(
            "style",
            Some(enum_str(&spec.style)),
            s(o.style.as_ref()),
            false,
        );
    }
    if o.ha_role.is_some() {
        d.text(
            "haRole",
            Some(enum_str(&spec.ha_role)),
            s(o.ha_role.as_ref()),
            false,
        );
    }
    if o.enable_nqa.is_some() {
        d.text("enableNqa", s(spec.enable_nqa), s(o.enable_nqa), false);
    }
    for (field, want, have) in [
        ("peerSubnets", &spec.peer_subnets, &o.peer_subnets),
        ("peerSubnetsV6", &spec.peer_subnets_v6, &o.peer_subnets_v6),
    ] {
        let have = have.clone().unwrap_or_default();
        if !want.is_empty() && as_set(want) != as_set(&have) {
            d.0.push(FieldDiff::new(
                field,
                render_list(want),
                render_list(&have),
                true,
            ));
        }
    }
    d.text(
        "tunnelLocalAddress",
        spec.tunnel_local_address.clone(),
        o.tunnel_local_address.clone(),
        true,
    );
    d.text(
        "tunnelPeerAddress",
        spec.tunnel_peer_address.clone(),
        o.tunnel_peer_address.clone(),
        true,
    );
    d.text(
        "enableHub",
        s(spec.enable_hub),
        s(Some(o.enable_hub.unwrap_or(false))),
        true,
    );
    if spec.style == ConnectionStyle::Policy {
        for (field, want, have) in [
            ("policyRules", &spec.policy_rules, &o.policy_rules),
            ("policyRulesV6", &spec.policy_rules_v6, &o.policy_rules_v6),
        ] {
            let want = wire_rules(want).unwrap_or_default();
            let have = have.clone().unwrap_or_default();
            if !want.is_empty() && !same_rules(&want, &have) {
                d.0.push(FieldDiff::new(
                    field,
                    render_rules(&want),
                    render_rules(&have),
                    true,
                ));
            }
        }
    }
    if let Some(p) = spec.ike_policy.as_ref() {
        let w = wire_ike(p);
        let h = o.ikepolicy.clone().unwrap_or_default();
        d.text(
            "ikePolicy.authenticationMethod",
            s(w.authentication_method.as_ref()),
            s(h.authentication_method.as_ref()),
            false,
        );
        d.text(
            "ikePolicy.ikeVersion",
            s(w.ike_version.as_ref()),
            s(h.ike_version.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.phase1NegotiationMode",
            s(w.phase1_negotiation_mode.as_ref()),
            s(h.phase1_negotiation_mode.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.authenticationAlgorithm",
            s(w.authentication_algorithm.as_ref()),
            s(h.authentication_algorithm.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.encryptionAlgorithm",
            s(w.encryption_algorithm.as_ref()),
            s(h.encryption_algorithm.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.dhGroup",
            s(w.dh_group.as_ref()),
            s(h.dh_group.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.lifetimeSeconds",
            s(w.lifetime_seconds),
            s(h.lifetime_seconds),
            true,
        );
        d.text(
            "ikePolicy.localIdType",
            s(w.local_id_type.as_ref()),
            s(h.local_id_type.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.localId",
            w.local_id.clone(),
            h.local_id.clone(),
            true,
        );
        d.text(
            "ikePolicy.peerIdType",
            s(w.peer_id_type.as_ref()),
            s(h.peer_id_type.as_ref()),
            true,
        );
        d.text(
            "ikePolicy.peerId",
            w.peer_id.clone(),
            h.peer_id.clone(),
            true,
        );
        if let Some(wd) = w.dpd {
            let hd = h.dpd.unwrap_or_default();
            d.text("ikePolicy.dpd.timeout", s(wd.timeout), s(hd.timeout), true);
            d.text(
                "ikePolicy.dpd.interval",
                s(wd.interval),
                s(hd.interval),
                true,
            );
            d.text(
                "ikePolicy.dpd.msg",
                s(wd.msg.as_ref()),
                s(hd.msg.as_ref()),
                true,
            );
        }
    }
    if let Some(p) = spec.ipsec_policy.as_ref() {
        let w = wire_ipsec(p);
        let h = o.ipsecpolicy.clone().unwrap_or_default();
        d.text(
            "ipsecPolicy.authenticationAlgorithm",
            s(w.authentication_algorithm.as_ref()),
            s(h.authentication_algorithm.as_ref()),
            true,
        );
        d.text(
            "ipsecPolicy.encryptionAlgorithm",
            s(w.encryption_algorithm.as_ref()),
            s(h.encryption_algorithm.as_ref()),
            true,
        );
        d.text(
            "ipsecPolicy.pfs",
            s(w.pfs.as_ref()),
            s(h.pfs.as_ref()),
            true,
        );
        d.text(
            "ipsecPolicy.transformProtocol",
            s(w.transform_protocol.as_ref()),
            s(h.transform_protocol.as_ref()),
            true,
        );
        d.text(
            "ipsecPolicy.lifetimeSeconds",
            s(w.lifetime_seconds),
            s(h.lifetime_seconds),
            true,
        );
        d.text(
            "ipsecPolicy.encapsulationMode",
            s(w.encapsulation_mode.as_ref()),
            s(h.encapsulation_mode.as_ref()),
            true,
        );
    }
    let (want, have) = (user_tags(tags), user_tags(observed_tags));
    if !tag_diff(&want, &have).is_empty() {
        let show = |t: &[VpnResourceTag]| {
            if t.is_empty() {
                NONE.to_string()
            } else {
                render_tags(t)
            }
        };
        d.0.push(FieldDiff::new("tags", show(&want), show(&have), true));
    }
    d.0
}

// ----- observe -----------------------------------------------------------------------------

/// Where to find the connection of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// By the id recorded in `status.cloudId`.
    Recorded(String),
    /// By `spec.cloudId` (adoption, or the connection to observe).
    Adopt(String),
    /// By the owner tag: finds a connection this object created whose id never reached status.
    ByOwnerTag,
    /// Nowhere: observe-only without a cloud id (the CRD's rules prevent this).
    Nothing,
}

/// Picks the lookup: status first, then `spec.cloudId`, then (only when the operator may
/// create) the owner tag.
pub fn lookup(status_id: Option<&str>, spec_id: Option<&str>, observe_only: bool) -> Lookup {
    match (status_id, spec_id) {
        (Some(id), _) => Lookup::Recorded(id.to_string()),
        (None, Some(id)) => Lookup::Adopt(id.to_string()),
        (None, None) if observe_only => Lookup::Nothing,
        (None, None) => Lookup::ByOwnerTag,
    }
}

/// How an existing connection was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Its id was in status.
    Recorded,
    /// It is the connection named by `spec.cloudId`, seen for the first time.
    Adopted,
    /// It carries this object's owner tag.
    Recovered,
}

/// What the cloud holds for an object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The connection, if one was found.
    pub found: Option<(ResponseVpnConnection, How)>,
    /// An id (recorded or from `spec.cloudId`) that answered 404.
    pub gone: Option<String>,
    /// The connection's tags (from GET, or the tag API when GET has none).
    pub tags: Vec<VpnResourceTag>,
    /// The connection's monitors.
    pub monitors: Vec<ConnectionMonitorInfo>,
}

/// The connection carrying `uid` in its owner tag (the oldest, should there be several).
pub fn find_owned(items: Vec<ResponseVpnConnection>, uid: &str) -> Option<ResponseVpnConnection> {
    let mut owned: Vec<ResponseVpnConnection> = items
        .into_iter()
        .filter(|c| ownership(c.tags.as_deref(), uid) == Ownership::Ours)
        .collect();
    owned.sort_by_key(|c| c.created_at.as_ref().and_then(|t| t.to_utc()));
    owned.into_iter().next()
}

/// Reads the connection (see [`lookup`]), its tags and its monitors. `gateway_hint` narrows the
/// owner-tag search to one gateway's connections. `may_create`: when the recorded connection is
/// gone, also search by owner tag (a copy may exist) before anything is created.
pub async fn observe(
    vpn: &VpnClient,
    step: Lookup,
    uid: &str,
    may_create: bool,
    gateway_hint: Option<&str>,
) -> Result<Observation> {
    let by_tag = || async {
        let query = ListVpnConnectionsQuery {
            vgw_id: gateway_hint.map(str::to_string),
            ..Default::default()
        };
        let all = vpn.list_all_connections(&query).await?;
        Ok::<_, Error>(find_owned(all, uid).map(|c| (c, How::Recovered)))
    };
    let get = |id: String| async move {
        match vpn.get_connection(&id).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(Error::from(e)),
        }
    };
    let (found, gone) = match step {
        Lookup::Recorded(id) => match get(id.clone()).await? {
            Some(c) => (Some((c, How::Recorded)), None),
            None if may_create => (by_tag().await?, Some(id)),
            None => (None, Some(id)),
        },
        Lookup::Adopt(id) => match get(id.clone()).await? {
            Some(c) => (Some((c, How::Adopted)), None),
            None => (None, Some(id)),
        },
        Lookup::ByOwnerTag => (by_tag().await?, None),
        Lookup::Nothing => (None, None),
    };
    let (tags, monitors) = match &found {
        Some((c, _)) => {
            let tags = match &c.tags {
                Some(t) => t.clone(),
                None => {
                    vpn.list_tags(&TagResourceType::VpnConnection, &c.id)
                        .await?
                }
            };
            (tags, monitors_of(vpn, &c.id).await?)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Observation {
        found,
        gone,
        tags,
        monitors,
    })
}

async fn monitors_of(vpn: &VpnClient, connection_id: &str) -> Result<Vec<ConnectionMonitorInfo>> {
    let query = ListConnectionMonitorsQuery {
        vpn_connection_id: Some(connection_id.to_string()),
        ..Default::default()
    };
    // The filter is applied again here, in case a server ignores it.
    Ok(vpn
        .list_connection_monitors(&query)
        .await?
        .into_iter()
        .filter(|m| {
            m.vpn_connection_id
                .as_deref()
                .is_none_or(|c| c == connection_id)
        })
        .collect())
}

// ----- plan --------------------------------------------------------------------------------

/// A PUT that makes the updatable fields match.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The body (the key inside is redacted in `Debug`).
    pub body: UpdateVpnConnectionRequestBody,
    /// The spec fields that differ (for the event); `pskSecretRef` when the key rotates.
    pub fields: Vec<String>,
    /// Whether the body carries a new pre-shared key.
    pub rotates_psk: bool,
}

/// What to do about the health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorChange {
    /// Create a connection monitor.
    Create,
    /// Delete these monitors.
    Delete(Vec<String>),
}

/// What one reconcile does in the cloud.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing exists: create.
    Create,
    /// The connection recorded in status is gone (404): create a new one.
    Recreate { gone_id: String },
    /// The connection named by `spec.cloudId` does not exist, and the operator must not create one.
    Missing { id: String },
    /// Observe only: report, change nothing.
    Report,
    /// The connection is changing state (`PENDING_*`, `UNKNOWN`): look again soon.
    Wait,
    /// `ERROR` or `FREEZED`: nothing the operator can change; report.
    Hold,
    /// Provisioned (`ACTIVE` / `DOWN`): make it match. An update comes alone: the connection is
    /// `PENDING_UPDATE` afterwards, and the health check waits for the next reconcile.
    Sync {
        tags: TagDiff,
        update: Option<Box<Update>>,
        monitor: Option<MonitorChange>,
    },
}

/// Everything [`plan`] decides from.
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    pub spec: &'a VpnConnectionSpec,
    /// Cloud name of the connection.
    pub name: &'a str,
    /// Desired tags, owner tags included.
    pub tags: &'a [VpnResourceTag],
    /// The gateway, when resolvable now.
    pub gateway: Option<&'a ResolvedGateway>,
    /// The customer gateway id, when resolvable now.
    pub cgw_id: Option<&'a str>,
    /// The key from the Secret (`None` for certificate authentication).
    pub psk: Option<&'a Psk>,
    /// `status.pskSha256`: the hash of the key last sent.
    pub recorded_psk_sha256: Option<&'a str>,
    pub observation: &'a Observation,
}

/// Whether the key must be sent: the Secret's key is not the one last sent (or none was ever
/// recorded, e.g. after adoption: the cloud cannot tell which key it holds).
pub fn psk_needs_put(psk: Option<&Psk>, recorded: Option<&str>) -> bool {
    psk.is_some_and(|p| recorded != Some(p.sha256.as_str()))
}

/// Decides what to do. Pure.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let spec = input.spec;
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let obs = input.observation;
    let Some((conn, _)) = &obs.found else {
        return match &obs.gone {
            Some(id) if observe_only || spec.cloud_id.is_some() => Plan::Missing { id: id.clone() },
            Some(id) => Plan::Recreate {
                gone_id: id.clone(),
            },
            None if observe_only => Plan::Missing {
                id: spec.cloud_id.clone().unwrap_or_default(),
            },
            None => Plan::Create,
        };
    };
    if observe_only {
        return Plan::Report;
    }
    match conn
        .status
        .clone()
        .unwrap_or(ConnectionStatus::PendingCreate)
    {
        ConnectionStatus::Active | ConnectionStatus::Down => {}
        ConnectionStatus::Error | ConnectionStatus::Freezed => return Plan::Hold,
        _ => return Plan::Wait,
    }
    let diffs = drift(
        spec,
        input.name,
        input.gateway,
        input.cgw_id,
        input.tags,
        conn,
        &obs.tags,
    );
    let mut fields: Vec<String> = diffs
        .iter()
        .filter(|d| d.updatable && d.field != "tags")
        .map(|d| d.field.clone())
        .collect();
    let rotates_psk = psk_needs_put(input.psk, input.recorded_psk_sha256);
    if rotates_psk {
        fields.push("pskSecretRef".into());
    }
    let update = (!fields.is_empty()).then(|| {
        Box::new(Update {
            body: desired_update(
                spec,
                input.name,
                input.cgw_id,
                conn,
                input.psk.filter(|_| rotates_psk),
            ),
            fields,
            rotates_psk,
        })
    });
    let wants_monitor = spec.health_check.is_some_and(|h| h.enabled);
    let monitor = match (wants_monitor, obs.monitors.is_empty()) {
        _ if update.is_some() => None,
        (true, true) => Some(MonitorChange::Create),
        (false, false) => Some(MonitorChange::Delete(
            obs.monitors.iter().map(|m| m.id.clone()).collect(),
        )),
        _ => None,
    };
    Plan::Sync {
        tags: tag_diff(input.tags, &obs.tags),
        update,
        monitor,
    }
}

// ----- act ---------------------------------------------------------------------------------

/// What acting on a [`Plan::Sync`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Acted {
    /// Events to publish.
    pub notes: Vec<Note>,
    /// The connection after the changes (`PENDING_UPDATE` after a PUT).
    pub connection: Option<ResponseVpnConnection>,
    /// The monitors after the changes.
    pub monitors: Vec<ConnectionMonitorInfo>,
    /// Whether anything was changed in the cloud (look again soon).
    pub changed: bool,
    /// Whether the key in the update was accepted.
    pub psk_sent: bool,
}

/// Runs the changes of a [`Plan::Sync`] on `conn`. Mutations of the connection and its monitor
/// hold the gateway's lock.
pub async fn act(
    vpn: &VpnClient,
    locks: &KeyedLocks,
    conn: &ResponseVpnConnection,
    monitors: &[ConnectionMonitorInfo],
    tags: &TagDiff,
    update: Option<&Update>,
    monitor: Option<&MonitorChange>,
) -> Result<Acted> {
    let mut out = Acted {
        connection: Some(conn.clone()),
        monitors: monitors.to_vec(),
        ..Default::default()
    };
    let lock_key = conn.vgw_id.clone().unwrap_or_else(|| conn.id.clone());
    let mut changed: Vec<String> = Vec::new();
    if !tags.is_empty() {
        let kind = TagResourceType::VpnConnection;
        for chunk in tags.remove.chunks(MAX_TAGS) {
            vpn.remove_tags(&kind, &conn.id, chunk).await?;
        }
        for chunk in tags.add.chunks(MAX_TAGS) {
            vpn.add_tags(&kind, &conn.id, chunk).await?;
        }
        changed.push("tags".into());
    }
    if let Some(u) = update {
        let updated = {
            let _lock = locks.lock(&lock_key).await;
            vpn.update_connection(&conn.id, &u.body).await?
        };
        out.connection = Some(after_update(updated, conn));
        out.psk_sent = u.rotates_psk;
        changed.extend(u.fields.iter().filter(|f| *f != "pskSecretRef").cloned());
        if u.rotates_psk {
            out.notes.push(Note::normal(
                events::PSK_ROTATED,
                "UpdateVpnConnection",
                format!(
                    "sent the pre-shared key from the Secret to connection {}",
                    conn.id
                ),
            ));
        }
    }
    match monitor {
        Some(MonitorChange::Create) => {
            let mut m = {
                let _lock = locks.lock(&lock_key).await;
                vpn.create_connection_monitor(&conn.id).await?
            };
            m.status.get_or_insert(MonitorStatus::PendingCreate);
            m.vpn_connection_id.get_or_insert_with(|| conn.id.clone());
            out.notes.push(Note::normal(
                events::UPDATED,
                "CreateConnectionMonitor",
                format!(
                    "created health check (connection monitor {}) for connection {}",
                    m.id, conn.id
                ),
            ));
            out.monitors = vec![m];
        }
        Some(MonitorChange::Delete(ids)) => {
            for id in ids {
                let _lock = locks.lock(&lock_key).await;
                match vpn.delete_connection_monitor(id).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            out.notes.push(Note::normal(
                events::UPDATED,
                "DeleteConnectionMonitor",
                format!(
                    "deleted the health check of connection {} ({})",
                    conn.id,
                    ids.join(", ")
                ),
            ));
            out.monitors.clear();
        }
        None => {}
    }
    if !changed.is_empty() {
        out.notes.insert(
            0,
            Note::normal(
                events::UPDATED,
                "UpdateVpnConnection",
                format!("updated connection {}: {}", conn.id, changed.join(", ")),
            ),
        );
    }
    out.changed = !changed.is_empty() || monitor.is_some() || out.psk_sent;
    Ok(out)
}

/// The connection after a PUT: the answer has no `status` (it is `PENDING_UPDATE` now) and
/// may lack read-only parts, which are kept from before.
fn after_update(
    mut c: ResponseVpnConnection,
    before: &ResponseVpnConnection,
) -> ResponseVpnConnection {
    c.status = Some(ConnectionStatus::PendingUpdate);
    c.bgp_peer = c.bgp_peer.or_else(|| before.bgp_peer.clone());
    c.tags = c.tags.or_else(|| before.tags.clone());
    c.vgw_id = c.vgw_id.or_else(|| before.vgw_id.clone());
    c.vgw_ip = c.vgw_ip.or_else(|| before.vgw_ip.clone());
    c.created_at = c.created_at.or_else(|| before.created_at.clone());
    c.connection_monitor_id = c
        .connection_monitor_id
        .or_else(|| before.connection_monitor_id.clone());
    c
}

/// Creates the connection (holding the gateway's lock). The answer has no `status`: it is
/// reported as `PENDING_CREATE`.
pub async fn create(
    vpn: &VpnClient,
    locks: &KeyedLocks,
    body: &CreateVpnConnectionRequestBody,
) -> Result<ResponseVpnConnection> {
    let mut c = {
        let _lock = locks.lock(&body.vgw_id).await;
        vpn.create_connection(body).await?
    };
    c.status.get_or_insert(ConnectionStatus::PendingCreate);
    Ok(c)
}

/// Where deleting a connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// GET answers 404: done.
    Gone,
    /// DELETE was just accepted.
    Requested,
    /// The cloud is deleting it (`PENDING_DELETE`).
    Deleting,
    /// Another operation is running (`PENDING_CREATE` / `PENDING_UPDATE`); delete afterwards.
    Busy(String),
}

/// One step of deleting connection `id`: its monitors first, then the connection, then
/// waiting for 404. A monitor delete answered with 400 is taken as "already gone" (the
/// provider's own tooling does the same).
pub async fn teardown(vpn: &VpnClient, locks: &KeyedLocks, id: &str) -> Result<Teardown> {
    for m in monitors_of(vpn, id).await? {
        match vpn.delete_connection_monitor(&m.id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() || e.kind == ErrorKind::InvalidRequest => {}
            Err(e) => return Err(e.into()),
        }
    }
    let conn = match vpn.get_connection(id).await {
        Ok(c) => c,
        Err(e) if e.is_not_found() => return Ok(Teardown::Gone),
        Err(e) => return Err(e.into()),
    };
    match conn.status.clone() {
        Some(ConnectionStatus::PendingDelete) => return Ok(Teardown::Deleting),
        Some(s @ (ConnectionStatus::PendingCreate | ConnectionStatus::PendingUpdate)) => {
            return Ok(Teardown::Busy(s.to_string()))
        }
        _ => {}
    }
    let key = conn.vgw_id.clone().unwrap_or_else(|| id.to_string());
    let _lock = locks.lock(&key).await;
    match vpn.delete_connection(id).await {
        Ok(()) => Ok(Teardown::Requested),
        Err(e) if e.is_not_found() => Ok(Teardown::Gone),
        Err(e) => Err(e.into()),
    }
}

// ----- status ------------------------------------------------------------------------------

/// One condition to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    pub status: ConditionStatus,
    pub reason: &'static str,
    pub message: String,
}

impl Cond {
    fn new(status: ConditionStatus, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }
}

/// `Ready` and `TunnelUp` for a connection state, `status.tunnelState`, and whether the state
/// is in flux (poll soon). `Ready` is `None` for `UNKNOWN` and undocumented states: the
/// previous value stands while the cloud cannot tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConds {
    pub ready: Option<Cond>,
    pub tunnel: Cond,
    pub tunnel_state: &'static str,
    pub pending: bool,
}

/// Maps a connection state (`None`: just created, not reported yet) to conditions.
pub fn state_conditions(state: Option<&ConnectionStatus>) -> StateConds {
    use ConditionStatus::{False, True, Unknown};
    let state = state.cloned().unwrap_or(ConnectionStatus::PendingCreate);
    let unknown_tunnel = Cond::new(
        Unknown,
        reasons::TUNNEL_STATE_UNKNOWN,
        format!("the connection is {state}"),
    );
    let (ready, tunnel, tunnel_state, pending) = match &state {
        ConnectionStatus::Active => (
            Some(Cond::new(
                True,
                reasons::AVAILABLE,
                "the connection is provisioned (ACTIVE)",
            )),
            Cond::new(
                True,
                reasons::TUNNEL_ACTIVE,
                "the IPsec tunnel is up (ACTIVE)",
            ),
            "Up",
            false,
        ),
        ConnectionStatus::Down => (
            Some(Cond::new(
                True,
                reasons::AVAILABLE,
                "the connection is provisioned; the tunnel is not connected (DOWN)",
            )),
            Cond::new(
                False,
                reasons::TUNNEL_DOWN,
                "the tunnel is not connected (DOWN): configure the customer device with the \
                 gateway address, the pre-shared key and matching IKE/IPsec policies",
            ),
            "Down",
            false,
        ),
        ConnectionStatus::Error => (
            Some(Cond::new(
                False,
                reasons::CLOUD_FAULT,
                "the cloud reports the connection as ERROR; check its logs in the console, or \
                 delete and recreate it",
            )),
            Cond::new(False, reasons::TUNNEL_DOWN, "the connection is in ERROR"),
            "Down",
            false,
        ),
        ConnectionStatus::Freezed => (
            Some(Cond::new(
                False,
                reasons::FROZEN,
                "the cloud reports the connection as FREEZED (frozen, usually for billing)",
            )),
            unknown_tunnel,
            "Unknown",
            false,
        ),
        ConnectionStatus::PendingCreate => (
            Some(Cond::new(
                False,
                reasons::CREATING,
                "the connection is being created (PENDING_CREATE)",
            )),
            unknown_tunnel,
            "Unknown",
            true,
        ),
        ConnectionStatus::PendingUpdate => (
            Some(Cond::new(
                False,
                reasons::UPDATING,
                "the connection is being updated (PENDING_UPDATE)",
            )),
            unknown_tunnel,
            "Unknown",
            true,
        ),
        ConnectionStatus::PendingDelete => (
            Some(Cond::new(
                False,
                reasons::DELETING,
                "the connection is being deleted (PENDING_DELETE)",
            )),
            unknown_tunnel,
            "Unknown",
            true,
        ),
        ConnectionStatus::Unknown | ConnectionStatus::Other(_) => {
            (None, unknown_tunnel, "Unknown", true)
        }
    };
    StateConds {
        ready,
        tunnel,
        tunnel_state,
        pending,
    }
}

/// `Synced` from what this reconcile found and did.
pub fn synced_condition(
    observe_only: bool,
    remaining: &[FieldDiff],
    dependency: Option<&str>,
    changed: bool,
) -> Cond {
    let fields = |d: &[&FieldDiff]| {
        d.iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if observe_only {
        let mut m =
            "managementPolicy is Observe: the operator only reads this connection".to_string();
        if !remaining.is_empty() {
            let all: Vec<&FieldDiff> = remaining.iter().collect();
            m.push_str(&format!(
                "; differs from the spec in: {} (see status.drift)",
                fields(&all)
            ));
        }
        return Cond::new(ConditionStatus::True, reasons::OBSERVE_ONLY, m);
    }
    let immutable: Vec<&FieldDiff> = remaining.iter().filter(|d| !d.updatable).collect();
    if !immutable.is_empty() {
        return Cond::new(
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
            format!(
                "the cloud cannot change {} and they differ from the spec (see status.drift); \
                 the operator leaves them alone: change the spec to match, or delete and \
                 recreate the connection",
                fields(&immutable)
            ),
        );
    }
    if let Some(why) = dependency {
        return Cond::new(
            ConditionStatus::False,
            reasons::DEPENDENCY_NOT_READY,
            format!("{why}; the connection keeps its current settings until then"),
        );
    }
    let message = if changed {
        "changes requested; waiting for the cloud to apply them"
    } else {
        ""
    };
    Cond::new(ConditionStatus::True, reasons::RECONCILE_SUCCESS, message)
}

/// What the new status describes.
#[derive(Clone, Debug)]
pub enum Seen<'a> {
    /// An existing connection (after this reconcile's changes) and its monitors.
    Exists(&'a ResponseVpnConnection, &'a [ConnectionMonitorInfo]),
    /// The id of a connection that does not exist.
    Missing(&'a str),
}

fn observed_bgp_peer(p: &crate::cloud::model::connection::BgpPeer) -> ObservedBgpPeer {
    ObservedBgpPeer {
        peer_ip_address: p.peer_ip_address.clone(),
        peer_asn: p.peer_asn.and_then(|a| i64::try_from(a).ok()),
        state: p.state.clone(),
        state_duration: p.state_duration.clone(),
        num_received_routes: p.num_received_routes.and_then(|n| i64::try_from(n).ok()),
    }
}

/// What the operator knows besides the cloud's answer.
#[derive(Clone, Debug, Default)]
pub struct Known<'a> {
    /// The resolved gateway (for `gatewayAddress`).
    pub gateway: Option<&'a ResolvedGateway>,
    /// Hash of the key the cloud holds, as far as the operator knows.
    pub psk_sha256: Option<String>,
}

/// The new status. Observed fields come from the connection; the gateway address from the
/// resolved gateway when it matches the connection's `vgw_ip` (else from `prev`).
pub fn build_status(
    prev: &VpnConnectionStatus,
    seen: Seen<'_>,
    known: Known<'_>,
    remaining: &[FieldDiff],
    synced: Cond,
    generation: Option<i64>,
    at: &Time,
) -> VpnConnectionStatus {
    let gateway = known.gateway;
    let mut s = VpnConnectionStatus {
        observed_generation: prev.observed_generation,
        conditions: prev.conditions.clone(),
        psk_sha256: known.psk_sha256,
        drift: drift_entries(&prev.drift, remaining, at),
        ..Default::default()
    };
    let conds = match seen {
        Seen::Exists(c, monitors) => {
            let address = match gateway {
                Some(g) if Some(&g.vgw_ip) == c.vgw_ip.as_ref() => g.address.clone(),
                _ => prev
                    .gateway_address
                    .clone()
                    .filter(|_| prev.gateway_ip == c.vgw_ip),
            };
            let monitor = monitors.first();
            s.cloud_id = Some(c.id.clone());
            s.cloud_state = Some(
                c.status
                    .clone()
                    .unwrap_or(ConnectionStatus::PendingCreate)
                    .to_string(),
            );
            s.name = c.name.clone();
            s.vpn_gateway_id = c.vgw_id.clone().or_else(|| gateway.map(|g| g.id.clone()));
            s.gateway_ip = c
                .vgw_ip
                .clone()
                .or_else(|| gateway.map(|g| g.vgw_ip.clone()));
            s.gateway_address = address;
            s.customer_gateway_id = c.cgw_id.clone();
            s.tunnel_local_address = c.tunnel_local_address.clone();
            s.tunnel_peer_address = c.tunnel_peer_address.clone();
            s.monitor_id = monitor.map(|m| m.id.clone());
            s.monitor_state = monitor
                .and_then(|m| m.status.as_ref())
                .map(|st| st.to_string());
            s.bgp_peer = c.bgp_peer.as_ref().map(observed_bgp_peer);
            s.created_at = c.created_at.as_ref().map(|t| t.to_string());
            s.updated_at = c.updated_at.as_ref().map(|t| t.to_string());
            state_conditions(c.status.as_ref())
        }
        Seen::Missing(id) => {
            s.cloud_id = Some(id.to_string());
            s.vpn_gateway_id = prev.vpn_gateway_id.clone();
            s.gateway_ip = prev.gateway_ip.clone();
            s.gateway_address = prev.gateway_address.clone();
            StateConds {
                ready: Some(Cond::new(
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    format!("connection {id} does not exist in the cloud"),
                )),
                tunnel: Cond::new(
                    ConditionStatus::Unknown,
                    reasons::TUNNEL_STATE_UNKNOWN,
                    "the connection does not exist",
                ),
                tunnel_state: "Unknown",
                pending: false,
            }
        }
    };
    s.tunnel_state = Some(conds.tunnel_state.to_string());
    // UNKNOWN (`ready` is None): keep what was known, if anything.
    match conds.ready {
        Some(r) => mark(
            &mut s.conditions,
            types::READY,
            r.status,
            r.reason,
            r.message,
            generation,
        ),
        None if find_condition(&prev.conditions, types::READY).is_some() => {}
        None => mark(
            &mut s.conditions,
            types::READY,
            ConditionStatus::Unknown,
            reasons::TUNNEL_STATE_UNKNOWN,
            "the cloud reports the connection state as UNKNOWN",
            generation,
        ),
    }
    mark(
        &mut s.conditions,
        types::TUNNEL_UP,
        conds.tunnel.status,
        conds.tunnel.reason,
        conds.tunnel.message,
        generation,
    );
    mark(
        &mut s.conditions,
        types::SYNCED,
        synced.status,
        synced.reason,
        synced.message,
        generation,
    );
    s
}

// ----- reconcile ---------------------------------------------------------------------------

fn ready_condition(status: &VpnConnectionStatus) -> Option<&Condition> {
    find_condition(&status.conditions, types::READY)
}

/// Poll interval while waiting: grows with how long `Ready` has been False.
fn waiting_requeue(ctx: &Context, status: &VpnConnectionStatus) -> Duration {
    let since = ready_condition(status)
        .filter(|c| c.status != ConditionStatus::True)
        .map(since_transition)
        .unwrap_or_default();
    pending_requeue(ctx.settings.pending_requeue, since)
}

/// Notes about drift the operator did not cause (new immutable drift; observing: any new
/// difference; updatable fields changed in the cloud while the spec stayed the same).
fn drift_notes(
    prev: &VpnConnectionStatus,
    diffs: &[FieldDiff],
    observe_only: bool,
    spec_unchanged: bool,
) -> Vec<Note> {
    let fresh: Vec<&FieldDiff> = new_drift(&prev.drift, diffs)
        .into_iter()
        .filter(|d| observe_only || !d.updatable || spec_unchanged)
        .collect();
    if fresh.is_empty() {
        return Vec::new();
    }
    let list = fresh
        .iter()
        .map(|d| format!("{} (spec {}, cloud {})", d.field, d.desired, d.observed))
        .collect::<Vec<_>>()
        .join("; ");
    let tail = if observe_only {
        "not corrected: managementPolicy is Observe"
    } else if fresh.iter().all(|d| d.updatable) {
        "changed outside the operator; being corrected"
    } else {
        "the cloud cannot change these fields; left alone"
    };
    vec![Note::warning(
        events::DRIFT_DETECTED,
        "ObserveVpnConnection",
        format!("connection differs from the spec: {list} ({tail})"),
    )]
}

async fn apply(obj: Arc<VpnConnection>, ctx: Arc<Context>) -> Result<Outcome<VpnConnectionStatus>> {
    let spec = &obj.spec;
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let uid = obj.uid().unwrap_or_default();
    let ns = obj.namespace().unwrap_or_default();
    let name = cloud_name(spec.name.as_deref(), &obj.name_any());
    let tags = desired_tags(&ctx.settings.cluster_name, &*obj, &spec.tags);
    if !observe_only {
        check_tag_count(&tags)?;
    }
    let vpn = ctx.clouds.vpn(&obj.cloud_override()).await?;
    let retry = waiting_requeue(&ctx, &prev);

    // References: resolved now, but only required when creating (see below).
    let gateway_ref = resolve_gateway(&ctx, &vpn, &obj, retry).await;
    let cgw_ref = resolve_customer_gateway(&ctx, &obj, retry).await;
    let recorded = recorded_gateway(&prev);
    let hint = gateway_ref
        .as_ref()
        .ok()
        .or(recorded.as_ref())
        .map(|g| g.id.clone());

    let step = lookup(
        prev.cloud_id.as_deref(),
        spec.cloud_id.as_deref(),
        observe_only,
    );
    let observation = observe(
        &vpn,
        step,
        &uid,
        !observe_only && spec.cloud_id.is_none(),
        hint.as_deref(),
    )
    .await?;
    let exists = observation.found.is_some();
    if let Some((c, How::Adopted)) = &observation.found {
        if !observe_only {
            if let Ownership::Foreign(owner) = ownership(c.tags.as_deref(), &uid) {
                return Err(Error::OwnershipConflict(format!(
                    "connection {} is managed by {owner} (its {TAG_UID} tag names another object); \
                     refusing to adopt it. Use managementPolicy Observe to only read it",
                    c.id
                )));
            }
        }
    }

    // A reference that waits only blocks creation; an existing connection keeps its settings.
    // Other failures (spec errors, API errors) stop the reconcile, except when observing.
    let tolerate = |e: &Error| observe_only || (exists && e.is_waiting());
    let mut dependency: Option<String> = None;
    let gateway = match gateway_ref {
        Ok(g) => Some(g),
        Err(e) if tolerate(&e) => recorded.or_else(|| {
            dependency = Some(e.to_string());
            None
        }),
        Err(e) => return Err(e),
    };
    let cgw_id = match cgw_ref {
        Ok(id) => Some(id),
        Err(e) if tolerate(&e) => {
            dependency.get_or_insert(e.to_string());
            None
        }
        Err(e) => return Err(e),
    };
    let psk = match (&spec.psk_secret_ref, observe_only) {
        (Some(sel), false) => Some(read_psk(&ctx, &ns, sel).await?),
        _ => None,
    };

    let input = PlanInput {
        spec,
        name: &name,
        tags: &tags,
        gateway: gateway.as_ref(),
        cgw_id: cgw_id.as_deref(),
        psk: psk.as_ref(),
        recorded_psk_sha256: prev.psk_sha256.as_deref(),
        observation: &observation,
    };
    let planned = plan(&input);
    let at = now();
    let mut notes = Vec::new();
    let spec_unchanged = generation.is_some() && generation == prev.observed_generation;

    match planned {
        Plan::Create | Plan::Recreate { .. } => {
            let (Some(gw), Some(cgw)) = (gateway.as_ref(), cgw_id.as_deref()) else {
                // Unreachable: without a connection, unresolved references returned above.
                return Err(not_ready(
                    "waiting for the references to resolve".into(),
                    retry,
                ));
            };
            if let Some(gone) = &observation.gone {
                notes.push(Note::warning(
                    events::RECREATING,
                    "CreateVpnConnection",
                    format!("connection {gone} recorded in status no longer exists (NotFound); creating a new one"),
                ));
            }
            let body = desired_create(spec, &name, gw, cgw, psk.as_ref(), tags.clone());
            let created = create(&vpn, &ctx.gateway_locks, &body).await?;
            notes.push(Note::normal(
                events::CREATED,
                "CreateVpnConnection",
                format!(
                    "created connection {} ({name}) on gateway {} address {}; waiting for it to be provisioned",
                    created.id, gw.id, gw.vgw_ip
                ),
            ));
            let synced = synced_condition(false, &[], None, true);
            let status = build_status(
                &prev,
                Seen::Exists(&created, &[]),
                Known {
                    gateway: Some(gw),
                    psk_sha256: psk.as_ref().map(|p| p.sha256.clone()),
                },
                &[],
                synced,
                generation,
                &at,
            );
            Ok(Outcome {
                status,
                requeue: ctx.settings.pending_requeue,
                notes,
            })
        }
        Plan::Missing { id } => {
            let synced = if observe_only {
                synced_condition(true, &[], None, false)
            } else {
                Cond::new(
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    "the connection named by spec.cloudId does not exist; the operator does not \
                     create one for an adopted id (delete this object, or recreate it without cloudId)",
                )
            };
            let status = build_status(
                &prev,
                Seen::Missing(&id),
                Known {
                    gateway: None,
                    psk_sha256: prev.psk_sha256.clone(),
                },
                &[],
                synced,
                generation,
                &at,
            );
            Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            })
        }
        Plan::Report | Plan::Wait | Plan::Hold | Plan::Sync { .. } => {
            let Some((conn, how)) = observation.found.clone() else {
                return Err(not_ready(
                    "the connection disappeared while reconciling".into(),
                    retry,
                ));
            };
            match how {
                How::Adopted if !observe_only => notes.push(Note::normal(
                    events::ADOPTED,
                    "AdoptVpnConnection",
                    format!("adopted connection {} (spec.cloudId)", conn.id),
                )),
                How::Recovered => notes.push(Note::normal(
                    events::RECOVERED,
                    "ObserveVpnConnection",
                    format!("found connection {} created for this object earlier; using it instead of creating another", conn.id),
                )),
                _ => {}
            }
            let diffs = drift(
                spec,
                &name,
                gateway.as_ref(),
                cgw_id.as_deref(),
                &tags,
                &conn,
                &observation.tags,
            );
            let mut current = conn.clone();
            let mut monitors = observation.monitors.clone();
            let mut psk_sha = prev.psk_sha256.clone();
            let mut changed = false;
            if let Plan::Sync {
                tags: tag_changes,
                update,
                monitor,
            } = &planned
            {
                notes.extend(drift_notes(&prev, &diffs, false, spec_unchanged));
                let acted = act(
                    &vpn,
                    &ctx.gateway_locks,
                    &conn,
                    &observation.monitors,
                    tag_changes,
                    update.as_deref(),
                    monitor.as_ref(),
                )
                .await?;
                notes.extend(acted.notes);
                if acted.psk_sent {
                    psk_sha = psk.as_ref().map(|p| p.sha256.clone());
                }
                current = acted.connection.unwrap_or(current);
                monitors = acted.monitors;
                changed = acted.changed;
            } else {
                notes.extend(drift_notes(&prev, &diffs, observe_only, spec_unchanged));
            }
            // Updatable differences were just corrected (or are being); the rest remain.
            let remaining: Vec<FieldDiff> = if observe_only || !matches!(planned, Plan::Sync { .. })
            {
                diffs
            } else {
                diffs.into_iter().filter(|d| !d.updatable).collect()
            };
            let synced = synced_condition(observe_only, &remaining, dependency.as_deref(), changed);
            let status = build_status(
                &prev,
                Seen::Exists(&current, &monitors),
                Known {
                    gateway: gateway.as_ref(),
                    psk_sha256: psk_sha,
                },
                &remaining,
                synced,
                generation,
                &at,
            );
            let monitor_pending = status
                .monitor_state
                .as_deref()
                .is_some_and(|s| s.starts_with("PENDING"));
            let requeue = if changed {
                ctx.settings.pending_requeue
            } else if state_conditions(current.status.as_ref()).pending
                || monitor_pending
                || dependency.is_some()
            {
                waiting_requeue(&ctx, &status)
            } else {
                ctx.settings.resync_interval
            };
            Ok(Outcome {
                status,
                requeue,
                notes,
            })
        }
    }
}

// ----- cleanup -----------------------------------------------------------------------------

async fn cleanup(obj: Arc<VpnConnection>, ctx: Arc<Context>) -> Result<Vec<Note>> {
    let status = obj.status.clone().unwrap_or_default();
    let vpn = ctx.clouds.vpn(&obj.cloud_override()).await?;
    let since = obj
        .metadata
        .deletion_timestamp
        .as_ref()
        .and_then(|t| Duration::try_from(now().0.duration_since(t.0)).ok())
        .unwrap_or_default();
    let wait = pending_requeue(ctx.settings.pending_requeue, since);
    let id = match status
        .cloud_id
        .clone()
        .or_else(|| obj.spec.cloud_id.clone())
    {
        Some(id) => id,
        None => {
            let uid = obj.uid().unwrap_or_default();
            let observation = observe(
                &vpn,
                Lookup::ByOwnerTag,
                &uid,
                true,
                status.vpn_gateway_id.as_deref(),
            )
            .await?;
            match observation.found {
                Some((c, _)) => c.id,
                None => return Ok(Vec::new()),
            }
        }
    };
    match teardown(&vpn, &ctx.gateway_locks, &id).await? {
        Teardown::Gone => Ok(vec![Note::normal(
            events::DELETED,
            "DeleteVpnConnection",
            format!("connection {id} is gone from the cloud"),
        )]),
        Teardown::Requested => {
            let already = ready_condition(&status).is_some_and(|c| c.reason == reasons::DELETING);
            if !already {
                let note = Note::normal(
                    events::DELETE_REQUESTED,
                    "DeleteVpnConnection",
                    format!(
                        "deleting connection {id} (and its health check); waiting until it is gone"
                    ),
                );
                ctx.publish(&*obj, &note).await;
            }
            Err(Error::waiting(
                reasons::DELETING,
                format!("connection {id} is being deleted"),
                wait,
            ))
        }
        Teardown::Deleting => Err(Error::waiting(
            reasons::DELETING,
            format!("connection {id} is being deleted (PENDING_DELETE)"),
            wait,
        )),
        Teardown::Busy(state) => Err(Error::waiting(
            reasons::DELETING,
            format!("connection {id} is {state}; it is deleted when that operation finishes"),
            wait,
        )),
    }
}

#[cfg(test)]
mod tests;
