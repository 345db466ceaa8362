//! Reading the cloud: a gateway named by cloud id, the connection (the shared lookup over the
//! account's connections), its tags and its health check monitors.
use kube::ResourceExt;

use crate::cloud::model::connection::ResponseVpnConnection;
use crate::cloud::model::monitor::{ConnectionMonitorInfo, MonitorStatus};
use crate::cloud::model::quota::QuotaType;
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::VpnClient;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::{self, Lookup, Search};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::ownership::{ownership, Ownership};
use crate::controller::runtime::quota;
use crate::crd::common::ManagementPolicy;
use crate::crd::vpn_connection::VpnConnectionStatus;
use crate::crd::VpnConnection;

use super::peer_config::PeerEnds;
use super::refs::{
    gateway_from_cloud, gm_certificate_wait, recorded_gateway, GatewayRef, Resolved,
};
use super::{Inputs, Observed};
use crate::cloud::model::gateway::GatewayFlavor;

/// The connections of one account, for the shared lookup. `gateway`: the owner-tag search
/// looks only at this gateway's connections when it is known.
pub struct Connections<'a> {
    pub cloud: &'a VpnClient,
    pub gateway: Option<&'a str>,
}

impl Lookup for Connections<'_> {
    /// The connection, its `tags` always filled in (from the tag API when GET has none).
    type Resource = ResponseVpnConnection;

    async fn get(&self, id: &str) -> Result<Option<ResponseVpnConnection>> {
        let Some(mut c) = self.cloud.observe_connection(id).await? else {
            return Ok(None);
        };
        if c.tags.is_none() {
            let kind = TagResourceType::VpnConnection;
            c.tags = Some(self.cloud.list_tags(&kind, &c.id).await?);
        }
        Ok(Some(c))
    }

    async fn find_owned(&self, uid: &str) -> Result<Option<ResponseVpnConnection>> {
        let all = self.cloud.search_connections(uid).await?;
        Ok(oldest_owned(all.values(), uid, self.gateway))
    }

    fn owner(&self, c: &ResponseVpnConnection, uid: &str) -> Ownership {
        ownership(Some(c.tags.as_deref().unwrap_or_default()), uid)
    }

    fn id(c: &ResponseVpnConnection) -> &str {
        &c.id
    }
}

/// The connection among `items` tagged as created for the object with `uid` (the oldest,
/// should there be several), looking only at `gateway`'s connections when it is known.
pub fn oldest_owned<'a>(
    items: impl IntoIterator<Item = &'a ResponseVpnConnection>,
    uid: &str,
    gateway: Option<&str>,
) -> Option<ResponseVpnConnection> {
    items
        .into_iter()
        .filter(|c| gateway.is_none_or(|g| c.vgw_id.as_deref() == Some(g)))
        .filter(|c| ownership(c.tags.as_deref(), uid) == Ownership::Ours)
        .min_by_key(|c| (c.created_at.as_ref().and_then(|t| t.to_utc()), &c.id))
        .cloned()
}

/// Reads what the plan needs: the gateway when it is named by cloud id, the connection (by
/// recorded id, `spec.cloudId` or owner tag) and its monitors.
pub async fn observe(cloud: &VpnClient, obj: &VpnConnection, inputs: &Inputs) -> Result<Observed> {
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let deleting = obj.metadata.deletion_timestamp.is_some();
    let status = obj.status.clone().unwrap_or_default();
    let gateway = match &inputs.gateway {
        GatewayRef::Named(r) => r.clone(),
        GatewayRef::CloudId(_) if deleting => Resolved::skipped(),
        GatewayRef::CloudId(id) => match cloud.observe_gateway(id).await {
            Ok(gw) => {
                let r = gateway_from_cloud(id, gw.as_ref(), obj.spec.gateway_ip);
                // A connection to a GM gateway is created once its certificate is BOUND.
                match (&r, gw, status.cloud_id.is_none()) {
                    (Resolved::Ready(_), Some(g), true) if g.flavor == Some(GatewayFlavor::Gm) => {
                        let cert = cloud.observe_gateway_certificate(id).await?;
                        gm_certificate_wait(id, &g, cert.as_ref()).unwrap_or(r)
                    }
                    _ => r,
                }
            }
            Err(e) if observe_only => Resolved::Waiting {
                message: e.to_string(),
                watched: false,
            },
            Err(e) => return Err(e.into()),
        },
    };
    // The owner-tag search looks at one gateway's connections when the gateway is known.
    let hint = match deleting {
        true => status.vpn_gateway_id.clone(),
        false => gateway
            .ready()
            .cloned()
            .or_else(|| recorded_gateway(&status))
            .map(|g| g.id),
    };
    let uid = obj.uid().unwrap_or_default();
    let search = Search {
        recorded: status.cloud_id.as_deref(),
        adopt: obj.spec.cloud_id.as_deref(),
        uid: &uid,
        observe_only,
        deleting,
    };
    let view = Connections {
        cloud,
        gateway: hint.as_deref(),
    };
    let found = lookup::find(&view, VpnConnection::NOUN, &search).await?;
    let wants_monitor = obj.spec.health_check.is_some_and(|h| h.enabled);
    let monitors = match found.resource() {
        Some(c) => match known_monitors(c, &status, wants_monitor, deleting) {
            Some(known) => known,
            None => monitors_of(cloud, &c.id).await?,
        },
        None => Vec::new(),
    };
    let peer = match found.resource() {
        Some(c) if obj.spec.peer_config.is_some() && !deleting && !observe_only => {
            let cgw = inputs
                .customer_gateway
                .ready()
                .cloned()
                .or(c.cgw_id.clone());
            Some(peer_ends(cloud, c.vgw_id.as_deref(), cgw.as_deref()).await?)
        }
        _ => None,
    };
    // A create may follow once the references resolve: the quota is checked first.
    let creates = !deleting && !observe_only && obj.spec.cloud_id.is_none();
    let quota = match found.resource() {
        None if creates && gateway.ready().is_some() => {
            quota::read(cloud, &QuotaType::VpnConnection).await?
        }
        _ => None,
    };
    Ok(Observed {
        found,
        monitors,
        gateway,
        peer,
        quota,
    })
}

/// The gateway and the customer gateway as the cloud reports them, for the export (from the
/// shared list snapshots: no extra call per connection).
async fn peer_ends(
    cloud: &VpnClient,
    gateway: Option<&str>,
    customer_gateway: Option<&str>,
) -> Result<PeerEnds> {
    let gateway = match gateway {
        Some(id) => cloud.observe_gateway(id).await?,
        None => None,
    };
    let customer_gateway = match customer_gateway {
        Some(id) => cloud.observe_customer_gateway(id).await?,
        None => None,
    };
    Ok(PeerEnds {
        gateway,
        customer_gateway,
    })
}

/// The connection's monitors when the connection itself tells enough, so that the account's
/// monitor list is not read (`None`: read it). The cloud lists each connection with its
/// monitor's id (`connection_monitor_id`, reference: connections, list response), so:
/// - no monitor id and none wanted: no monitor, and nothing to do;
/// - a monitor wanted, and the one named is the one recorded in status as `ACTIVE`: that
///   monitor, unchanged (a monitor leaves `ACTIVE` only to be deleted, and the connection then
///   stops naming it).
///
/// Everything else reads the list: a monitor wanted and not named (confirm before creating
/// one), one named and not wanted (to delete it; the list also tells one already being
/// deleted), one pending or not the recorded one (its state is only in the list), and a
/// departing connection (its monitors go first). Why: at rest, an account whose connections have no
/// health check, or a settled one, costs one list fewer per resync.
pub fn known_monitors(
    conn: &ResponseVpnConnection,
    status: &VpnConnectionStatus,
    wanted: bool,
    deleting: bool,
) -> Option<Vec<ConnectionMonitorInfo>> {
    if deleting {
        return None;
    }
    match conn
        .connection_monitor_id
        .as_deref()
        .filter(|id| !id.is_empty())
    {
        None if wanted => None,
        None => Some(Vec::new()),
        Some(id)
            if wanted
                && status.monitor_id.as_deref() == Some(id)
                && status.monitor_state.as_deref() == Some(MonitorStatus::Active.as_str()) =>
        {
            Some(vec![ConnectionMonitorInfo {
                id: id.to_string(),
                status: Some(MonitorStatus::Active),
                vpn_connection_id: Some(conn.id.clone()),
                ..Default::default()
            }])
        }
        Some(_) => None,
    }
}

async fn monitors_of(cloud: &VpnClient, connection_id: &str) -> Result<Vec<ConnectionMonitorInfo>> {
    // The filter is applied again here, in case a server ignores it.
    Ok(cloud
        .observe_monitors_of(connection_id)
        .await?
        .into_iter()
        .filter(|m| {
            m.vpn_connection_id
                .as_deref()
                .is_none_or(|c| c == connection_id)
        })
        .collect())
}
