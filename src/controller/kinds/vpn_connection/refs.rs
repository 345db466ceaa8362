//! References of a connection: the gateway (and which of its addresses) and the customer
//! gateway, resolved to cloud ids; and the reverse lookup for watches.
use std::sync::Arc;

use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use crate::cloud::model::gateway::{
    GatewayFlavor, GatewayStatus, NetworkType, ResponseEip, ResponseVpnGateway,
    VpnGatewayCertificate,
};
use crate::controller::runtime::cached::Cached;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::wire::enum_str;
use crate::crd::common::{find_condition, types, ConditionStatus};
use crate::crd::vpn_connection::GatewayIp;
use crate::crd::vpn_gateway::{Flavor, NetworkType as CrdNetworkType};
use crate::crd::{CustomerGateway, VpnConnection, VpnConnectionStatus, VpnGateway};

/// The kinds of object a connection refers to by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Referenced {
    /// `spec.vpnGatewayRef.name`.
    VpnGateway,
    /// `spec.customerGatewayRef.name`.
    CustomerGateway,
    /// `spec.pskSecretRef.name` or `spec.peerConfig.secretName` (a Secret of that name was
    /// made, changed or deleted: e.g. the one the connection writes, edited by someone).
    Secret,
}

/// The connections (among `items`, a controller cache's state) in `namespace` that refer to
/// the `kind` object `name`: the mapper for watches, so a connection is reconciled when its
/// gateway, customer gateway, PSK Secret or peer configuration Secret changes. Reads the cached references only (no
/// decoding: it runs over every connection for every change of a gateway or Secret).
pub fn connections_referencing(
    items: &[Arc<Cached<VpnConnection>>],
    kind: Referenced,
    namespace: &str,
    name: &str,
) -> Vec<ObjectRef<Cached<VpnConnection>>> {
    items
        .iter()
        .filter(|c| c.meta().namespace.as_deref() == Some(namespace))
        .filter(|c| {
            let l = c.links();
            match kind {
                Referenced::VpnGateway => l.gateway.name.as_deref() == Some(name),
                Referenced::CustomerGateway => l.customer_gateway.name.as_deref() == Some(name),
                Referenced::Secret => {
                    l.secret.as_deref() == Some(name) || l.peer_secret.as_deref() == Some(name)
                }
            }
        })
        .map(|c| ObjectRef::from_obj(&**c))
        .collect()
}

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

/// A reference, resolved as far as it can be now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved<T> {
    /// Usable.
    Ready(T),
    /// Not usable yet (it does not exist, is not Ready, ...); the message says why.
    /// `watched`: it is a Kubernetes object whose changes wake the connection; otherwise (a
    /// gateway named by cloud id) the connection polls the cloud.
    Waiting { message: String, watched: bool },
    /// The spec cannot work with what it names (e.g. an EIP of a private gateway).
    Invalid(String),
}

impl<T> Resolved<T> {
    /// The value, when usable.
    pub fn ready(&self) -> Option<&T> {
        match self {
            Resolved::Ready(v) => Some(v),
            _ => None,
        }
    }

    /// Not read: deleting needs no references.
    pub fn skipped() -> Self {
        Resolved::Waiting {
            message: "not read while deleting".into(),
            watched: false,
        }
    }

    /// Whether a watch on what it names wakes the connection when it changes.
    pub fn watched(&self) -> bool {
        !matches!(self, Resolved::Waiting { watched: false, .. })
    }

    /// Why it is not usable (`None` when it is).
    pub fn problem(&self) -> Option<&str> {
        match self {
            Resolved::Ready(_) => None,
            Resolved::Waiting { message, .. } | Resolved::Invalid(message) => Some(message),
        }
    }
}

fn waiting<T>(message: String) -> Resolved<T> {
    Resolved::Waiting {
        message,
        watched: true,
    }
}

fn is_eip(which: GatewayIp) -> bool {
    matches!(which, GatewayIp::Eip1 | GatewayIp::Eip2)
}

fn which_name(which: GatewayIp) -> String {
    enum_str(&which)
}

fn use_instead(public: bool) -> &'static str {
    if public {
        "eip1 or eip2"
    } else {
        "accessPrivateIp1 or accessPrivateIp2"
    }
}

/// Resolves `vpnGatewayRef.name` from the VpnGateway object: it must exist, be Ready with a
/// cloud id, and report the address `which` names. Waits otherwise; asking for an EIP of a
/// private gateway (or a private IP of a public one) is a spec error.
pub fn gateway_from_cr(
    name: &str,
    gw: Option<&VpnGateway>,
    which: GatewayIp,
) -> Resolved<ResolvedGateway> {
    let Some(gw) = gw else {
        return waiting(format!(
            "VpnGateway {name} does not exist in this namespace yet"
        ));
    };
    let public = gw.spec.network_type == CrdNetworkType::Public;
    if public != is_eip(which) {
        return Resolved::Invalid(format!(
            "gatewayIp is {} but VpnGateway {name} is a {} gateway: use {}",
            which_name(which),
            enum_str(&gw.spec.network_type),
            use_instead(public)
        ));
    }
    if gw.metadata.deletion_timestamp.is_some() {
        return waiting(format!("VpnGateway {name} is being deleted"));
    }
    let status = gw.status.clone().unwrap_or_default();
    let ready = find_condition(&status.conditions, types::READY);
    let (Some(id), Some(c)) = (status.cloud_id.clone(), ready) else {
        return waiting(format!("VpnGateway {name} is not Ready yet"));
    };
    if c.status != ConditionStatus::True {
        return waiting(format!("VpnGateway {name} is not Ready yet ({})", c.reason));
    }
    if gw.spec.flavor == Flavor::Gm {
        let cert = status
            .certificate
            .as_ref()
            .and_then(|c| c.status.as_deref());
        if cert != Some("BOUND") {
            return waiting(gm_waiting(&format!("VpnGateway {name}"), cert));
        }
    }
    let picked = match which {
        GatewayIp::Eip1 => status.eip1.and_then(|e| e.id.map(|id| (id, e.ip_address))),
        GatewayIp::Eip2 => status.eip2.and_then(|e| e.id.map(|id| (id, e.ip_address))),
        GatewayIp::AccessPrivateIp1 => status.access_private_ip1.map(|ip| (ip.clone(), Some(ip))),
        GatewayIp::AccessPrivateIp2 => status.access_private_ip2.map(|ip| (ip.clone(), Some(ip))),
    };
    match picked {
        Some((vgw_ip, address)) => Resolved::Ready(ResolvedGateway {
            id,
            vgw_ip,
            address,
        }),
        None => waiting(format!(
            "VpnGateway {name} does not report its {} yet",
            which_name(which)
        )),
    }
}

/// Resolves `vpnGatewayRef.cloudId` from the gateway as the cloud reports it (`None`: 404): it
/// must be ACTIVE (addresses are only reported then) and have the address `which` names.
pub fn gateway_from_cloud(
    id: &str,
    gw: Option<&ResponseVpnGateway>,
    which: GatewayIp,
) -> Resolved<ResolvedGateway> {
    let polled = |message| Resolved::Waiting {
        message,
        watched: false,
    };
    let Some(gw) = gw else {
        return polled(format!(
            "VPN gateway {id} (vpnGatewayRef.cloudId) does not exist"
        ));
    };
    let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    if let Some(net) = &gw.network_type {
        let public = *net == NetworkType::Public;
        if public != is_eip(which) {
            return Resolved::Invalid(format!(
                "gatewayIp is {} but VPN gateway {} is a {net} gateway: use {}",
                which_name(which),
                gw.id,
                use_instead(public)
            ));
        }
    }
    if state != GatewayStatus::Active {
        return polled(format!("VPN gateway {} is not ACTIVE yet ({state})", gw.id));
    }
    let eip = |e: &Option<ResponseEip>| {
        e.as_ref()
            .and_then(|e| e.id.clone().map(|id| (id, e.ip_address.clone())))
    };
    let private = |ip: &Option<String>| ip.clone().map(|ip| (ip.clone(), Some(ip)));
    let picked = match which {
        GatewayIp::Eip1 => eip(&gw.eip1),
        GatewayIp::Eip2 => eip(&gw.eip2),
        GatewayIp::AccessPrivateIp1 => private(&gw.access_private_ip_1),
        GatewayIp::AccessPrivateIp2 => private(&gw.access_private_ip_2),
    };
    match picked {
        Some((vgw_ip, address)) => Resolved::Ready(ResolvedGateway {
            id: gw.id.clone(),
            vgw_ip,
            address,
        }),
        None => polled(format!(
            "VPN gateway {} does not report its {} yet",
            gw.id,
            which_name(which)
        )),
    }
}

/// Why a connection waits for a GM gateway: its certificate is not `BOUND` (`state`: its
/// state, `None` when none was imported).
fn gm_waiting(gateway: &str, state: Option<&str>) -> String {
    match state {
        Some(s) => format!(
            "{gateway} is a GM gateway whose certificate is not BOUND yet ({s}); connections \
             wait for it"
        ),
        None => format!(
            "{gateway} is a GM gateway without a certificate (set spec.certificate on it); \
             connections wait for it to be BOUND"
        ),
    }
}

/// A GM gateway named by cloud id, given its certificate as the cloud reports it (`None`:
/// none imported): a wait until it is `BOUND`, else nothing.
pub fn gm_certificate_wait(
    id: &str,
    gw: &ResponseVpnGateway,
    cert: Option<&VpnGatewayCertificate>,
) -> Option<Resolved<ResolvedGateway>> {
    if gw.flavor != Some(GatewayFlavor::Gm) {
        return None;
    }
    let state = cert.map(|c| c.status.as_ref().map_or("BINDING", |s| s.as_str()));
    (state != Some("BOUND")).then(|| Resolved::Waiting {
        message: gm_waiting(&format!("VPN gateway {id}"), state),
        watched: false,
    })
}

/// Resolves `customerGatewayRef.name`: the CustomerGateway must exist and be Ready with a
/// cloud id.
pub fn customer_gateway_from_cr(name: &str, cgw: Option<&CustomerGateway>) -> Resolved<String> {
    let Some(cgw) = cgw else {
        return waiting(format!(
            "CustomerGateway {name} does not exist in this namespace yet"
        ));
    };
    if cgw.metadata.deletion_timestamp.is_some() {
        return waiting(format!("CustomerGateway {name} is being deleted"));
    }
    let status = cgw.status.clone().unwrap_or_default();
    match (
        status.cloud_id,
        find_condition(&status.conditions, types::READY),
    ) {
        (Some(id), Some(c)) if c.status == ConditionStatus::True => Resolved::Ready(id),
        (_, Some(c)) => waiting(format!(
            "CustomerGateway {name} is not Ready yet ({})",
            c.reason
        )),
        (_, None) => waiting(format!("CustomerGateway {name} is not Ready yet")),
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

/// `spec.vpnGatewayRef` as far as Kubernetes can tell: a named gateway is resolved from its
/// object; one named by cloud id is read from the cloud in `observe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayRef {
    /// By name: resolved from the VpnGateway object.
    Named(Resolved<ResolvedGateway>),
    /// By cloud id.
    CloudId(String),
}

/// Reads the VpnGateway a connection names (a cloud-id reference is left to `observe`). A read
/// that fails is tolerated when only observing (nothing is created or changed then).
pub async fn gateway_ref(
    ctx: &Context,
    obj: &VpnConnection,
    observe_only: bool,
) -> Result<GatewayRef> {
    let r = &obj.spec.vpn_gateway_ref;
    let name = match (&r.name, &r.cloud_id) {
        (Some(name), _) => name,
        (None, Some(id)) => return Ok(GatewayRef::CloudId(id.clone())),
        (None, None) => {
            return Ok(GatewayRef::Named(Resolved::Invalid(
                "vpnGatewayRef needs name or cloudId".into(),
            )))
        }
    };
    let ns = obj.namespace().unwrap_or_default();
    let gw = match ctx.kube.get::<VpnGateway>(&ns, name).await {
        Ok(gw) => gw,
        Err(e) if observe_only => return Ok(GatewayRef::Named(waiting(e.to_string()))),
        Err(e) => return Err(e),
    };
    Ok(GatewayRef::Named(gateway_from_cr(
        name,
        gw.as_deref(),
        obj.spec.gateway_ip,
    )))
}

/// Reads the CustomerGateway a connection names (see [`gateway_ref`]).
pub async fn customer_gateway_ref(
    ctx: &Context,
    obj: &VpnConnection,
    observe_only: bool,
) -> Result<Resolved<String>> {
    let r = &obj.spec.customer_gateway_ref;
    let name = match (&r.name, &r.cloud_id) {
        (Some(name), _) => name,
        (None, Some(id)) => return Ok(Resolved::Ready(id.clone())),
        (None, None) => {
            return Ok(Resolved::Invalid(
                "customerGatewayRef needs name or cloudId".into(),
            ))
        }
    };
    let ns = obj.namespace().unwrap_or_default();
    match ctx.kube.get::<CustomerGateway>(&ns, name).await {
        Ok(cgw) => Ok(customer_gateway_from_cr(name, cgw.as_deref())),
        Err(e) if observe_only => Ok(waiting(e.to_string())),
        Err(e) => Err(e),
    }
}
