//! `VpnConnection`: one IPsec tunnel between a gateway address and a customer gateway, plus
//! its optional health check (connection monitor).
//!
//! Connections are asynchronous in the cloud (reference §1.3): create and PUT answer at once
//! and the connection passes through `PENDING_CREATE` / `PENDING_UPDATE` to `ACTIVE` (tunnel
//! up) or `DOWN` (provisioned, peer not connected); delete passes through `PENDING_DELETE` and
//! is finished when GET answers 404. Creates and mutations on one gateway are serialised
//! through `ctx.gateway_locks`.
//!
//! The pre-shared key is read from a Secret, sent to the cloud, and otherwise only ever seen as
//! its SHA-256 (`status.pskSha256`): the cloud never returns it, so a changed hash is how a
//! rotation is detected.
//!
//! The phases: inputs (the named gateway and customer gateway, the key: [`refs`], [`psk`]),
//! [`observe`] (a gateway named by cloud id, the connection by the shared lookup, its
//! monitors), [`plan`] (pure), [`act`], [`status`] (pure; [`conditions`]). [`desired`] and
//! [`drift`] turn the spec into request bodies and compare it with the cloud.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::connection::ResponseVpnConnection;
use crate::cloud::model::monitor::ConnectionMonitorInfo;
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::VpnClient;
use crate::controller::runtime::account::Account;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::contract::{Managed, Reconciled, Watch};
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::Found;
use crate::controller::runtime::object::{vpn_account, Link, Links, Object};
use crate::controller::runtime::ownership::{check_tag_count, cloud_name, desired_tags};
use crate::crd::common::{ManagementPolicy, ResourceRef};
use crate::crd::{VpnConnection, VpnConnectionSpec, VpnConnectionStatus};

pub mod act;
pub mod conditions;
pub mod desired;
pub mod drift;
pub mod observe;
pub mod plan;
pub mod preview;
pub mod psk;
pub mod refs;
pub mod status;

pub use act::Acted;
pub use plan::Plan;
pub use refs::{connections_referencing, Referenced};

use psk::{Psk, SecretProblem};
use refs::{GatewayRef, Resolved, ResolvedGateway};

impl Object for VpnConnection {
    const KIND: &'static str = "VpnConnection";
    const NOUN: &'static str = "connection";
    type Spec = VpnConnectionSpec;
    type Status = VpnConnectionStatus;

    fn account(&self) -> Account {
        vpn_account(self, self.spec.cloud.as_ref())
    }

    fn links(&self) -> Links {
        let spec = &self.spec;
        let status = self.status.as_ref();
        let link = |r: &ResourceRef, resolved: Option<&String>| {
            Link::new(
                r.name.as_deref(),
                r.cloud_id.as_deref(),
                resolved.map(String::as_str),
            )
        };
        Links {
            credentials_secret: self.account().credentials_secret_name(),
            gateway: link(
                &spec.vpn_gateway_ref,
                status.and_then(|s| s.vpn_gateway_id.as_ref()),
            ),
            customer_gateway: link(
                &spec.customer_gateway_ref,
                status.and_then(|s| s.customer_gateway_id.as_ref()),
            ),
            psk_secret: spec.psk_secret_ref.as_ref().map(|s| s.name.as_str().into()),
        }
    }
}

/// What a connection reconcile reads from Kubernetes.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The connection's name in the cloud (`spec.name`, else the object's name).
    pub name: String,
    /// The tags it should carry, owner tags included.
    pub tags: Vec<VpnResourceTag>,
    /// `spec.vpnGatewayRef`, resolved when named (a cloud id is read in `observe`).
    pub gateway: GatewayRef,
    /// `spec.customerGatewayRef`, resolved.
    pub customer_gateway: Resolved<String>,
    /// The pre-shared key (`None`: certificate authentication, or not read because only
    /// observing or deleting), or why it cannot be used.
    pub psk: std::result::Result<Option<Psk>, SecretProblem>,
}

/// What the cloud holds for the connection.
#[derive(Clone, Debug)]
pub struct Observed {
    /// The connection (its `tags` filled in), and how it was found.
    pub found: Found<ResponseVpnConnection>,
    /// Its monitors.
    pub monitors: Vec<ConnectionMonitorInfo>,
    /// The gateway, resolved from its object or (by cloud id) from the cloud.
    pub gateway: Resolved<ResolvedGateway>,
}

/// The tags of an observed connection.
pub fn observed_tags(c: &ResponseVpnConnection) -> &[VpnResourceTag] {
    c.tags.as_deref().unwrap_or_default()
}

impl Managed for VpnConnection {
    type Cloud = VpnClient;
    type Inputs = Inputs;
    type Observed = Observed;
    type Plan = Plan;
    type Acted = Acted;

    async fn inputs(&self, ctx: &Context) -> Result<Inputs> {
        let spec = &self.spec;
        let observe_only = spec.management_policy == ManagementPolicy::Observe;
        let deleting = self.metadata.deletion_timestamp.is_some();
        let tags = desired_tags(&ctx.settings.cluster_name, self, &spec.tags);
        let name = cloud_name(spec.name.as_deref(), &self.name_any());
        if deleting {
            // Deletion needs neither the references nor the key.
            return Ok(Inputs {
                name,
                tags,
                gateway: GatewayRef::Named(Resolved::skipped()),
                customer_gateway: Resolved::skipped(),
                psk: Ok(None),
            });
        }
        if !observe_only {
            check_tag_count(&tags)?;
        }
        let gateway = refs::gateway_ref(ctx, self, observe_only).await?;
        let customer_gateway = refs::customer_gateway_ref(ctx, self, observe_only).await?;
        let psk = match (&spec.psk_secret_ref, observe_only) {
            (Some(sel), false) => {
                let ns = self.namespace().unwrap_or_default();
                psk::read_psk(ctx, &ns, sel).await?.map(Some)
            }
            _ => Ok(None),
        };
        Ok(Inputs {
            name,
            tags,
            gateway,
            customer_gateway,
            psk,
        })
    }

    async fn observe(&self, cloud: &VpnClient, inputs: &Inputs) -> Result<Observed> {
        observe::observe(cloud, self, inputs).await
    }

    fn plan(&self, inputs: &Inputs, observed: &Observed, now: &Time) -> Result<Plan> {
        plan::plan(self, inputs, observed, now)
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
    ) -> Reconciled<VpnConnectionStatus> {
        status::reconciled(self, inputs, observed, plan, acted, now)
    }

    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        let id = self.status.as_ref()?.cloud_id.clone()?;
        Some((TagResourceType::VpnConnection, id))
    }

    /// A health check being created or deleted does not show in `Ready`, but is waited for
    /// all the same: it needs fresh observations, not a settled object's resync-old snapshot.
    fn in_flux(&self) -> bool {
        self.status.as_ref().is_some_and(status::monitor_pending)
    }

    fn watch_pending(ctx: &Context, cloud: &VpnClient, w: &Watch, obj: ObjectRef<Self>) -> bool {
        ctx.pending.connections.watch(cloud, &w.id, &w.state, obj);
        true
    }
}

impl crate::controller::runtime::preview::Preview for VpnConnection {
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
