//! `VpnGateway`: a VPN v5 gateway.
//!
//! Gateway operations are asynchronous (reference §1.4): create answers with an id and the
//! gateway goes `PENDING_CREATE` → `ACTIVE`; PUT and update-specification go through
//! `PENDING_UPDATE`; delete goes `PENDING_DELETE` and is finished when GET answers 404. One
//! change per reconcile, holding the gateway's lock: each leaves the gateway `PENDING_UPDATE`,
//! and a second call before `ACTIVE` would be refused.
//!
//! Day-2 operations are decisions of this kind too: software upgrades ([`upgrade`]: the
//! `vpn.hwcloud.dev/upgrade` annotation, `spec.upgrade.policy: Auto`), GM certificates
//! ([`certificate`]), the routing table of BGP gateways ([`routes`]), and the quota check before
//! a create.
//!
//! The phases: [`observe`] (the gateway, by the shared lookup; its jobs, connections,
//! certificate and routes when they matter; the quota before a create), [`plan`] (pure),
//! [`act`] (create, PUT, update-specification, upgrade, certificate, tags, delete), [`status`]
//! (pure).
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
use crate::controller::runtime::ownership::{check_tags, cloud_name, desired_tags};
use crate::crd::common::ManagementPolicy;
use crate::crd::vpn_gateway::{VpnGateway, VpnGatewaySpec, VpnGatewayStatus};
use crate::crd::VpnConnection;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub mod act;
pub mod certificate;
pub mod day2;
pub mod observe;
pub mod plan;
pub mod preview;
pub mod routes;
pub mod status;
pub mod upgrade;

pub use act::Acted;
pub use plan::Plan;

use crate::cloud::model::gateway::{
    Job, ResponseVpnGateway, RoutingTableResponse, VpnGatewayCertificate,
};
use crate::cloud::model::quota::QuotaInfo;
use crate::controller::runtime::object::Links;
use crate::controller::runtime::secrets::SecretProblem;
use crate::metrics::ObjectGauges;

impl Object for VpnGateway {
    const KIND: &'static str = "VpnGateway";
    const NOUN: &'static str = "VPN gateway";
    type Spec = VpnGatewaySpec;
    type Status = VpnGatewayStatus;

    fn account(&self) -> Account {
        vpn_account(self, self.spec.cloud.as_ref())
    }

    fn links(&self) -> Links {
        Links {
            credentials_secret: self.account().credentials_secret_name(),
            secret: self
                .spec
                .certificate
                .as_ref()
                .map(|c| c.secret_ref.name.as_str().into()),
            ..Links::default()
        }
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
    /// GM gateways with `spec.certificate`: its Secret's certificates and keys, or why they
    /// cannot be used (`None`: no certificate wanted, or observing or deleting).
    pub certificate: Option<std::result::Result<certificate::Material, SecretProblem>>,
}

/// What the cloud holds for the gateway.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The gateway, and how it was found.
    pub found: Found<ResponseVpnGateway>,
    /// Its upgrade jobs, read while an upgrade runs or was last seen unfinished.
    pub jobs: Option<Vec<Job>>,
    /// Its connections, read while it is ACTIVE or waits for an upgrade's confirmation.
    pub connections: Option<Vec<upgrade::ConnectionSeen>>,
    /// GM gateways, read while ACTIVE: its certificate (`Some(None)`: none imported).
    pub certificate: Option<Option<VpnGatewayCertificate>>,
    /// Gateways with BGP connections, read while ACTIVE: the routing table.
    pub routes: Option<RoutingTableResponse>,
    /// Before a create: the project's gateway quota.
    pub quota: Option<QuotaInfo>,
}

impl Observed {
    /// The gateway, when one was found.
    pub fn gateway(&self) -> Option<&ResponseVpnGateway> {
        self.found.resource()
    }
}

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
            check_tags(&tags)?;
        }
        let dependants = match deleting {
            true => dependent_connections(ctx, self).await?,
            false => Vec::new(),
        };
        let observe_only = self.spec.management_policy == ManagementPolicy::Observe;
        let certificate = match (&self.spec.certificate, deleting || observe_only) {
            (Some(spec), false) => {
                let ns = self.namespace().unwrap_or_default();
                Some(certificate::read(ctx, &ns, spec).await?)
            }
            _ => None,
        };
        Ok(Inputs {
            name: cloud_name(self.spec.name.as_deref(), &self.name_any()),
            tags,
            dependants,
            certificate,
        })
    }

    async fn observe(&self, cloud: &VpnClient, _inputs: &Inputs) -> Result<Observed> {
        observe::observe(cloud, self).await
    }

    fn plan(&self, inputs: &Inputs, observed: &Observed, now: &Time) -> Result<Plan> {
        plan::plan(self, inputs, observed, now)
    }

    fn writes(plan: &Plan) -> bool {
        plan.writes()
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

    fn gauges(status: &VpnGatewayStatus) -> ObjectGauges {
        ObjectGauges {
            routes: status.routes.as_ref().map(|r| r.count),
            ..ObjectGauges::default()
        }
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
        // GM gateways: connections wait for a BOUND certificate.
        s.certificate.as_ref().map(|c| &c.status).hash(&mut h);
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

#[cfg(test)]
mod day2_tests;
