//! References of a connection: the gateway (and which of its addresses) and the customer
//! gateway, resolved to cloud ids; and the reverse lookup for watches.
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use crate::cloud::model::gateway::{GatewayStatus, NetworkType, ResponseEip, ResponseVpnGateway};
use crate::cloud::VpnClient;
use crate::controller::cached::Cached;
use crate::controller::context::Context;
use crate::controller::error::{Error, Result};
use crate::controller::pending::fallback_requeue;
use crate::controller::wire::enum_str;
use crate::crd::common::{find_condition, reasons, types, ConditionStatus};
use crate::crd::vpn_connection::GatewayIp;
use crate::crd::vpn_gateway::NetworkType as CrdNetworkType;
use crate::crd::{CustomerGateway, VpnConnection, VpnConnectionStatus, VpnGateway};

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

/// The connections (among `items`, a controller cache's state) in `namespace` that refer to
/// the `kind` object `name`: the mapper for watches, so a connection is reconciled when its
/// gateway, customer gateway or PSK Secret changes. Reads the cached references only (no
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
                Referenced::Secret => l.psk_secret.as_deref() == Some(name),
            }
        })
        .map(|c| ObjectRef::from_obj(&**c))
        .collect()
}

/// The CustomerGateway a connection names (for the customer gateway controller, whose deletion
/// waits for the connections that use it).
pub fn referenced_customer_gateway(c: &VpnConnection) -> Option<ObjectRef<CustomerGateway>> {
    let ns = c.namespace()?;
    let name = c.spec.customer_gateway_ref.name.as_deref()?;
    Some(ObjectRef::new(name).within(&ns))
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

fn is_eip(which: GatewayIp) -> bool {
    matches!(which, GatewayIp::Eip1 | GatewayIp::Eip2)
}

fn which_name(which: GatewayIp) -> String {
    enum_str(&which)
}

pub(super) fn not_ready(message: String, retry: Duration) -> Error {
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
    let eip = |e: &Option<ResponseEip>| {
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

/// How soon to look again at a connection waiting for an object it names: the controller
/// wakes it when that object's readiness changes (`controller::dependency_changes`), so the
/// requeue is only a slow fallback. Polling every second instead made a thousand waiting
/// connections cost a thousand reconciles a second during a creation storm.
fn by_name_retry(ctx: &Context, retry: Duration) -> Duration {
    fallback_requeue(ctx.settings.pending_requeue, retry)
}

pub(super) async fn resolve_gateway(
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
            let gw = ctx.stores.gateway(&ctx.kube, &ns, name).await?;
            gateway_from_cr(name, gw.as_deref(), which, by_name_retry(ctx, retry))
        }
        (None, Some(id)) => match vpn.observe_gateway(id).await? {
            Some(gw) => gateway_from_cloud(&gw, which, retry),
            None => Err(not_ready(
                format!("VPN gateway {id} (vpnGatewayRef.cloudId) does not exist"),
                retry,
            )),
        },
        (None, None) => Err(Error::InvalidSpec(
            "vpnGatewayRef needs name or cloudId".into(),
        )),
    }
}

pub(super) async fn resolve_customer_gateway(
    ctx: &Context,
    obj: &VpnConnection,
    retry: Duration,
) -> Result<String> {
    let r = &obj.spec.customer_gateway_ref;
    match (&r.name, &r.cloud_id) {
        (Some(name), _) => {
            let ns = obj.namespace().unwrap_or_default();
            let cgw = ctx.stores.customer_gateway(&ctx.kube, &ns, name).await?;
            customer_gateway_from_cr(name, cgw.as_deref(), by_name_retry(ctx, retry))
        }
        (None, Some(id)) => Ok(id.clone()),
        (None, None) => Err(Error::InvalidSpec(
            "customerGatewayRef needs name or cloudId".into(),
        )),
    }
}
