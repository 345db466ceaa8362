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
//! [`drift`] turn the spec into request bodies and compare it with the cloud. [`peer_config`]:
//! the on-premises device's configuration (`spec.peerConfig`), written to a Secret the
//! connection owns; its plan, act and status parts ride along with the cloud's ([`Planned`],
//! [`Done`]).
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
use crate::controller::runtime::ownership::{check_tags, cloud_name, desired_tags};
use crate::crd::common::{ManagementPolicy, ResourceRef};
use crate::crd::{VpnConnection, VpnConnectionSpec, VpnConnectionStatus};
use crate::metrics::ObjectGauges;

pub mod act;
pub mod conditions;
pub mod desired;
pub mod drift;
pub mod observe;
pub mod peer_config;
pub mod plan;
pub mod preview;
pub mod psk;
pub mod refs;
pub mod reset;
pub mod status;

pub use act::Acted;
pub use plan::Plan;
pub use refs::{connections_referencing, Referenced};

use peer_config::{PeerActed, PeerEnds, PeerInputs, PeerPlan};
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
            secret: spec.psk_secret_ref.as_ref().map(|s| s.name.as_str().into()),
            peer_secret: spec
                .peer_config
                .as_ref()
                .map(|p| p.secret_name.as_str().into()),
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
    /// The peer configuration Secrets (spec.peerConfig).
    pub peer: PeerInputs,
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
    /// The two ends as the cloud reports them, read for spec.peerConfig (`None` without it,
    /// or without a connection).
    pub peer: Option<PeerEnds>,
    /// Before a create: the project's connection quota.
    pub quota: Option<crate::cloud::model::quota::QuotaInfo>,
}

/// What a connection reconcile decided: the cloud part and the peer configuration part.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub cloud: Plan,
    pub peer: PeerPlan,
}

/// What a connection reconcile did.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    pub cloud: Acted,
    pub peer: PeerActed,
}

/// The tags of an observed connection.
pub fn observed_tags(c: &ResponseVpnConnection) -> &[VpnResourceTag] {
    c.tags.as_deref().unwrap_or_default()
}

impl Managed for VpnConnection {
    type Cloud = VpnClient;
    type Inputs = Inputs;
    type Observed = Observed;
    type Plan = Planned;
    type Acted = Done;

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
                peer: PeerInputs::default(),
            });
        }
        if !observe_only {
            check_tags(&tags)?;
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
        let peer = match observe_only {
            true => PeerInputs::default(),
            false => peer_secrets(ctx, self).await?,
        };
        Ok(Inputs {
            name,
            tags,
            gateway,
            customer_gateway,
            psk,
            peer,
        })
    }

    async fn observe(&self, cloud: &VpnClient, inputs: &Inputs) -> Result<Observed> {
        observe::observe(cloud, self, inputs).await
    }

    fn plan(&self, inputs: &Inputs, observed: &Observed, now: &Time) -> Result<Planned> {
        let cloud = plan::plan(self, inputs, observed, now)?;
        let content = peer_config::content(self, inputs, observed, &cloud);
        let observe_only = self.spec.management_policy == ManagementPolicy::Observe;
        let peer = match self.metadata.deletion_timestamp {
            // The Secret goes with the connection (owner reference). Observing never writes
            // (and the CRD refuses peerConfig with Observe: the key is unknown).
            Some(_) => PeerPlan::default(),
            None if observe_only => PeerPlan::default(),
            None => peer_config::secret::plan(self, &inputs.peer, content),
        };
        Ok(Planned { cloud, peer })
    }

    fn writes(plan: &Planned) -> bool {
        plan.cloud.writes()
    }

    /// A create whose answer was lost may have made the connection with the key it sent; no
    /// read returns the key, so without its digest in status the connection found by its owner
    /// tag would get the same key sent again (an update and a renegotiation before `Ready`).
    fn unsure_status(plan: &Planned, status: VpnConnectionStatus) -> VpnConnectionStatus {
        status::after_unsure_write(&plan.cloud, status)
    }

    /// The cloud first: the Secret never describes a change the cloud refused.
    async fn act(&self, cloud: &VpnClient, plan: &Planned, ctx: &Context) -> Result<Done> {
        let acted = act::act(cloud, &plan.cloud, &self.uid().unwrap_or_default(), ctx).await?;
        let ns = self.namespace().unwrap_or_default();
        let peer = peer_config::write::write(ctx, &ns, &plan.peer).await?;
        Ok(Done { cloud: acted, peer })
    }

    fn next_status(
        &self,
        inputs: &Inputs,
        observed: &Observed,
        plan: &Planned,
        done: Done,
        now: &Time,
    ) -> Reconciled<VpnConnectionStatus> {
        let mut r = status::reconciled(self, inputs, observed, &plan.cloud, done.cloud, now);
        peer_config::status::apply(&mut r, self, &plan.peer, &done.peer, now);
        r
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

    /// The tunnel gauge: 1 while `TunnelUp` is True, 0 while False, none while unknown (not
    /// provisioned yet).
    fn gauges(status: &VpnConnectionStatus) -> ObjectGauges {
        use crate::crd::common::{find_condition, types, ConditionStatus};
        let up =
            find_condition(&status.conditions, types::TUNNEL_UP).and_then(|c| match c.status {
                ConditionStatus::True => Some(true),
                ConditionStatus::False => Some(false),
                ConditionStatus::Unknown => None,
            });
        ObjectGauges {
            tunnel_up: up,
            ..ObjectGauges::default()
        }
    }
}

/// Reads the Secret spec.peerConfig names, and the one status records when the spec no
/// longer names it (to delete it).
async fn peer_secrets(ctx: &Context, obj: &VpnConnection) -> Result<PeerInputs> {
    let ns = obj.namespace().unwrap_or_default();
    let wanted = obj
        .spec
        .peer_config
        .as_ref()
        .map(|p| p.secret_name.as_str());
    let recorded = obj
        .status
        .as_ref()
        .and_then(|s| s.peer_config.as_ref())
        .and_then(|p| p.secret_name.clone())
        .filter(|r| Some(r.as_str()) != wanted);
    let target = match wanted {
        Some(name) => ctx.kube.secret(&ns, name).await?,
        None => None,
    };
    let previous = match recorded {
        Some(name) => {
            let s = ctx.kube.secret(&ns, &name).await?;
            Some((name, s))
        }
        None => None,
    };
    Ok(PeerInputs { target, previous })
}

impl crate::controller::runtime::preview::Preview for VpnConnection {
    fn preview(
        &self,
        inputs: &Inputs,
        observed: &Observed,
        plan: &Planned,
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
