//! `CustomerGateway`: the on-premises end of a tunnel, as the VPN v5 API knows it.
//!
//! Customer gateways are synchronous in the cloud: create, update and delete are final when
//! the call returns, and the API reports no state ("it answers GET" is all there is to report,
//! as `cloudState: ACTIVE`).
//!
//! The phases: [`observe`] (the customer gateway and its tags, by the shared lookup), [`plan`]
//! (pure), [`act`] (create, tags, PUT, delete), [`status`] (pure).
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use crate::cloud::model::quota::QuotaType;
use crate::cloud::model::{ResponseCustomerGateway, TagResourceType, VpnResourceTag};
use crate::cloud::VpnClient;
use crate::controller::runtime::account::Account;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::contract::{Managed, Reconciled};
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::Found;
use crate::controller::runtime::object::{vpn_account, Object};
use crate::controller::runtime::ownership::{check_tags, cloud_name, desired_tags};
use crate::controller::runtime::quota;
use crate::crd::common::ManagementPolicy;
use crate::crd::{CustomerGateway, CustomerGatewaySpec, CustomerGatewayStatus, VpnConnection};

pub mod act;
pub mod observe;
pub mod plan;
pub mod preview;
pub mod status;

pub use act::Acted;
pub use plan::Plan;

/// `cloudState` reported while the customer gateway exists: the API has no status for
/// customer gateways.
pub const STATE_ACTIVE: &str = "ACTIVE";

impl Object for CustomerGateway {
    const KIND: &'static str = "CustomerGateway";
    const NOUN: &'static str = "customer gateway";
    type Spec = CustomerGatewaySpec;
    type Status = CustomerGatewayStatus;

    fn account(&self) -> Account {
        vpn_account(self, self.spec.cloud.as_ref())
    }
}

/// What a customer gateway reconcile reads from Kubernetes.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Its name in the cloud (`spec.name`, else the object's name).
    pub name: String,
    /// The tags it should carry, owner tags included.
    pub tags: Vec<VpnResourceTag>,
    /// Being deleted: the VpnConnections that still use it.
    pub dependants: Vec<String>,
}

/// A customer gateway as read from the cloud, with its tags (from GET, or the tag API when
/// GET has none).
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub cgw: ResponseCustomerGateway,
    pub tags: Vec<VpnResourceTag>,
}

/// The customer gateway found for the object, and how.
pub type Lookup = Found<Seen>;

/// What the cloud holds for the object.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The customer gateway, and how it was found.
    pub found: Lookup,
    /// Before a create: the project's customer-gateway quota.
    pub quota: Option<crate::cloud::model::quota::QuotaInfo>,
}

impl Managed for CustomerGateway {
    type Cloud = VpnClient;
    type Inputs = Inputs;
    type Observed = Observed;
    type Plan = Plan;
    type Acted = Acted;

    async fn inputs(&self, ctx: &Context) -> Result<Inputs> {
        let tags = desired_tags(&ctx.settings.cluster_name, self, &self.spec.tags);
        let deleting = self.metadata.deletion_timestamp.is_some();
        if !deleting && self.spec.management_policy != ManagementPolicy::Observe {
            check_tags(&tags)?;
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

    async fn observe(&self, cloud: &VpnClient, inputs: &Inputs) -> Result<Observed> {
        if !inputs.dependants.is_empty() {
            // Deletion waits for its connections before anything is read from the cloud.
            return Ok(Observed::default());
        }
        let found = observe::observe(cloud, self).await?;
        // A create may follow: the quota is checked first.
        let creates = self.metadata.deletion_timestamp.is_none()
            && self.spec.management_policy != ManagementPolicy::Observe
            && self.spec.cloud_id.is_none();
        let quota = match found.resource() {
            None if creates => quota::read(cloud, &QuotaType::CustomerGateway).await?,
            _ => None,
        };
        Ok(Observed { found, quota })
    }

    fn plan(&self, inputs: &Inputs, observed: &Observed, _now: &Time) -> Result<Plan> {
        let plan = plan::plan(self, inputs, &observed.found);
        if let Plan::Create { .. } = plan {
            quota::check(observed.quota.as_ref(), "customer gateways")?;
        }
        Ok(plan)
    }

    fn writes(plan: &Plan) -> bool {
        plan.writes()
    }

    async fn act(&self, cloud: &VpnClient, plan: &Plan, _ctx: &Context) -> Result<Acted> {
        act::act(cloud, plan, &self.uid().unwrap_or_default()).await
    }

    fn next_status(
        &self,
        inputs: &Inputs,
        observed: &Observed,
        plan: &Plan,
        acted: Acted,
        now: &Time,
    ) -> Reconciled<CustomerGatewayStatus> {
        status::reconciled(self, inputs, &observed.found, plan, acted, now)
    }

    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        let id = self.status.as_ref()?.cloud_id.clone()?;
        Some((TagResourceType::CustomerGateway, id))
    }
}

/// Names of the VpnConnections in the customer gateway's namespace that still use it.
async fn dependent_connections(ctx: &Context, cgw: &CustomerGateway) -> Result<Vec<String>> {
    let ns = cgw.namespace().unwrap_or_default();
    let name = cgw.name_any();
    let id = cgw.status.as_ref().and_then(|s| s.cloud_id.as_deref());
    let connections = ctx
        .kube
        .list::<VpnConnection>(&ns, |l| l.customer_gateway.is_to(&name, id))
        .await?;
    Ok(plan::dependents(
        connections.iter().map(|c| &**c),
        &name,
        id,
    ))
}

/// What a connection reads of its customer gateway (`vpn_connection::refs`): deletion, cloud
/// id, whether Ready. Connections are woken only when this changes.
pub fn readiness(c: &CustomerGateway) -> Option<u64> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    c.metadata.deletion_timestamp.is_some().hash(&mut h);
    if let Some(s) = &c.status {
        s.cloud_id.hash(&mut h);
        crate::crd::common::find_condition(&s.conditions, crate::crd::common::types::READY)
            .map(|c| c.status)
            .hash(&mut h);
    }
    Some(h.finish())
}

impl crate::controller::runtime::preview::Preview for CustomerGateway {
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
