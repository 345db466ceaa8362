//! Reading the gateway: the shared lookup over the account's gateways, then what the plan needs
//! besides: its upgrade jobs, connections, GM certificate and routing table when they matter,
//! and the gateway quota before a create.
use kube::ResourceExt;

use crate::cloud::model::connection::{ResponseConnectionStyle, ResponseVpnConnection};
use crate::cloud::model::gateway::{GatewayFlavor, GatewayStatus, ResponseVpnGateway};
use crate::cloud::model::quota::QuotaType;
use crate::cloud::VpnClient;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::{self, Lookup, Search};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::ownership::{ownership, Ownership};
use crate::controller::runtime::quota::{self, best_effort};
use crate::crd::common::ManagementPolicy;
use crate::crd::vpn_gateway::VpnGateway;

use super::upgrade::ConnectionSeen;
use super::Observed;

/// The gateways of one account, for the shared lookup.
pub struct Gateways<'a>(pub &'a VpnClient);

impl Lookup for Gateways<'_> {
    type Resource = ResponseVpnGateway;

    async fn get(&self, id: &str) -> Result<Option<ResponseVpnGateway>> {
        Ok(self.0.observe_gateway(id).await?)
    }

    async fn find_owned(&self, uid: &str) -> Result<Option<ResponseVpnGateway>> {
        let all = self.0.search_gateways(uid).await?;
        Ok(all
            .values()
            .filter(|g| ownership(g.tags.as_deref(), uid) == Ownership::Ours)
            .min_by_key(|g| (g.created_at.as_ref().and_then(|t| t.to_utc()), &g.id))
            .cloned())
    }

    fn owner(&self, g: &ResponseVpnGateway, uid: &str) -> Ownership {
        ownership(g.tags.as_deref(), uid)
    }

    fn id(g: &ResponseVpnGateway) -> &str {
        &g.id
    }
}

/// Finds the object's gateway (recorded id, `spec.cloudId`, owner tag), and reads what the
/// plan decides from besides.
pub async fn observe(cloud: &VpnClient, obj: &VpnGateway) -> Result<Observed> {
    let uid = obj.uid().unwrap_or_default();
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let deleting = obj.metadata.deletion_timestamp.is_some();
    let search = Search {
        recorded: obj.status.as_ref().and_then(|s| s.cloud_id.as_deref()),
        adopt: obj.spec.cloud_id.as_deref(),
        uid: &uid,
        observe_only,
        deleting,
    };
    let found = lookup::find(&Gateways(cloud), VpnGateway::NOUN, &search).await?;
    let mut o = Observed {
        found,
        ..Observed::default()
    };
    let Some(gw) = o.gateway().cloned() else {
        // A create may follow: the quota is checked first.
        if !deleting && !observe_only && obj.spec.cloud_id.is_none() {
            o.quota = quota::read(cloud, &QuotaType::VpnGateway).await?;
        }
        return Ok(o);
    };
    let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    let unfinished = obj
        .status
        .as_ref()
        .and_then(|s| s.upgrade.as_ref())
        .and_then(|u| u.phase)
        .is_some_and(|p| !p.is_final());
    if upgrading(&state) || unfinished {
        o.jobs = Some(cloud.list_jobs(Some(&gw.id)).await?);
    }
    if deleting
        || !matches!(
            state,
            GatewayStatus::Active | GatewayStatus::PendingUpgradeConfirm
        )
    {
        return Ok(o);
    }
    let connections = cloud.observe_connections_of(&gw.id).await?;
    let seen: Vec<ConnectionSeen> = connections.iter().map(seen).collect();
    let bgp = seen.iter().any(|c| c.bgp);
    o.connections = Some(seen);
    if state != GatewayStatus::Active {
        return Ok(o);
    }
    if gw.flavor == Some(GatewayFlavor::Gm) {
        o.certificate = Some(cloud.observe_gateway_certificate(&gw.id).await?);
    }
    if bgp {
        o.routes = best_effort("the routing table", cloud.routing_table(&gw.id).await)?;
    }
    Ok(o)
}

/// The states of an upgrade.
pub fn upgrading(state: &GatewayStatus) -> bool {
    matches!(
        state,
        GatewayStatus::Upgrading
            | GatewayStatus::PendingUpgradeConfirm
            | GatewayStatus::RollingBack
    )
}

fn seen(c: &ResponseVpnConnection) -> ConnectionSeen {
    ConnectionSeen {
        id: c.id.clone(),
        status: c.status.clone(),
        bgp: c.style == Some(ResponseConnectionStyle::Bgp),
    }
}
