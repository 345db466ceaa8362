//! `VpnGateway`: a VPN v5 gateway.
//!
//! Gateway operations are asynchronous (reference §1.4): create answers with an id and the
//! gateway goes `PENDING_CREATE` → `ACTIVE`; PUT and update-specification go through
//! `PENDING_UPDATE`; delete goes `PENDING_DELETE` and is finished when GET answers 404. One
//! change per reconcile, holding the gateway's lock: each leaves the gateway `PENDING_UPDATE`,
//! and a second call before `ACTIVE` would be refused.
//!
//! The phases: [`observe`] (the gateway, by the shared lookup), [`plan`] (pure), [`act`]
//! (create, PUT, update-specification, tags, delete), [`status`] (pure).
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::VpnClient;
use crate::controller::runtime::account::Account;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::contract::{Managed, Reconciled, Watch};
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::Found;
use crate::controller::runtime::object::{vpn_account, Object};
use crate::controller::runtime::ownership::{check_tag_count, cloud_name, desired_tags};
use crate::crd::common::ManagementPolicy;
use crate::crd::vpn_gateway::{VpnGateway, VpnGatewaySpec, VpnGatewayStatus};
use crate::crd::VpnConnection;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub mod act;
pub mod observe;
pub mod plan;
pub mod preview;
pub mod status;

pub use act::Acted;
pub use plan::Plan;

use crate::cloud::model::gateway::ResponseVpnGateway;

impl Object for VpnGateway {
    const KIND: &'static str = "VpnGateway";
    const NOUN: &'static str = "VPN gateway";
    type Spec = VpnGatewaySpec;
    type Status = VpnGatewayStatus;

    fn account(&self) -> Account {
        vpn_account(self, self.spec.cloud.as_ref())
    }
}

/// What a gateway reconcile reads from Kubernetes.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The gateway's name in the cloud (`spec.name`, else the object's name).
    pub name: String,
    /// The tags it should carry, owner tags included.
    pub tags: Vec<VpnResourceTag>,
    /// Being deleted: the VpnConnections that still use it.
    pub dependants: Vec<String>,
}

/// What the cloud holds for the gateway.
pub type Observed = Found<ResponseVpnGateway>;

impl Managed for VpnGateway {
    type Cloud = VpnClient;
    type Inputs = Inputs;
    type Observed = Observed;
    type Plan = Plan;
    type Acted = Acted;

    async fn inputs(&self, ctx: &Context) -> Result<Inputs> {
        let tags = desired_tags(&ctx.settings.cluster_name, self, &self.spec.tags);
        let deleting = self.metadata.deletion_timestamp.is_some();
        if !deleting && self.spec.management_policy != ManagementPolicy::Observe {
            check_tag_count(&tags)?;
        }
        let dependants = match deleting {
            true => dependent_connections(ctx, self).await?,
            false => Vec::new(),
        };
        Ok(Inputs {
            name: cloud_name(self.spec.name.as_deref(), &self.name_any()),
            tags,
            dependants,
        })
    }

    async fn observe(&self, cloud: &VpnClient, _inputs: &Inputs) -> Result<Observed> {
        observe::observe(cloud, self).await
    }

    fn plan(&self, inputs: &Inputs, observed: &Observed, _now: &Time) -> Result<Plan> {
        Ok(plan::plan(self, inputs, observed))
    }

    async fn act(&self, cloud: &VpnClient, plan: &Plan, ctx: &Context) -> Result<Acted> {
        act::act(cloud, plan, &self.uid().unwrap_or_default(), ctx).await
    }

    fn next_status(
        &self,
        inputs: &Inputs,
        observed: &Observed,
        plan: &Plan,
        acted: Acted,
        now: &Time,
    ) -> Reconciled<VpnGatewayStatus> {
        status::reconciled(self, inputs, observed, plan, acted, now)
    }

    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        let id = self.status.as_ref()?.cloud_id.clone()?;
        Some((TagResourceType::VpnGateway, id))
    }

    fn watch_pending(ctx: &Context, cloud: &VpnClient, w: &Watch, obj: ObjectRef<Self>) -> bool {
        ctx.pending.gateways.watch(cloud, &w.id, &w.state, obj);
        true
    }
}

/// VpnConnections in the gateway's namespace that refer to it (by name or by its cloud id).
async fn dependent_connections(ctx: &Context, gw: &VpnGateway) -> Result<Vec<String>> {
    let ns = gw.namespace().unwrap_or_default();
    let id = gw.status.as_ref().and_then(|s| s.cloud_id.clone());
    let name = gw.name_any();
    let conns = ctx
        .kube
        .list::<VpnConnection>(&ns, |l| l.gateway.is_to(&name, id.as_deref()))
        .await?;
    Ok(conns
        .iter()
        .filter(|c| {
            let r = &c.spec.vpn_gateway_ref;
            r.name.as_deref() == Some(name.as_str()) || (id.is_some() && r.cloud_id == id)
        })
        .map(|c| c.name_any())
        .collect())
}

/// What a connection reads of its gateway (`vpn_connection::refs::gateway_from_cr`): network
/// type, deletion, cloud id, whether Ready, and the addresses. Connections are woken only when
/// this changes.
pub fn readiness(g: &VpnGateway) -> Option<u64> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    crate::controller::runtime::wire::enum_str(&g.spec.network_type).hash(&mut h);
    g.metadata.deletion_timestamp.is_some().hash(&mut h);
    if let Some(s) = &g.status {
        s.cloud_id.hash(&mut h);
        crate::crd::common::find_condition(&s.conditions, crate::crd::common::types::READY)
            .map(|c| c.status)
            .hash(&mut h);
        for e in [&s.eip1, &s.eip2].into_iter().flatten() {
            (&e.id, &e.ip_address).hash(&mut h);
        }
        (&s.access_private_ip1, &s.access_private_ip2).hash(&mut h);
    }
    Some(h.finish())
}

impl crate::controller::runtime::preview::Preview for VpnGateway {
    fn preview(
        &self,
        inputs: &Inputs,
        observed: &Observed,
        plan: &Plan,
    ) -> crate::controller::runtime::preview::Change {
        preview::preview(self, inputs, observed, plan)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reconcile_tests;
