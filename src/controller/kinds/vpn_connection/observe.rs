//! Reading the cloud: a gateway named by cloud id, the connection (the shared lookup over the
//! account's connections), its tags and its health check monitors.
use kube::ResourceExt;

use crate::cloud::model::connection::ResponseVpnConnection;
use crate::cloud::model::monitor::ConnectionMonitorInfo;
use crate::cloud::model::quota::QuotaType;
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::VpnClient;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::{self, Lookup, Search};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::ownership::{ownership, Ownership};
use crate::controller::runtime::quota;
use crate::crd::common::ManagementPolicy;
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
    let monitors = match found.resource() {
        Some(c) => monitors_of(cloud, &c.id).await?,
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
