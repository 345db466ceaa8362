//! `CloudVpnService`: a CloudVPN service instance of CloudOpera IES, with optional bandwidth
//! autoscaling ([`autoscaler`]).
//!
//! IES operations are asynchronous (reference `cloudopera-ies-api.md` §7.4): create, update and
//! delete answer 202 with an `operation_id`, and no operation API exists. So the kind:
//! - **creates** once: the service is looked up by the id in status, else the id to adopt in
//!   spec, else by name (list, then GET each match and compare `CloudVpnName`), so a lost create
//!   answer or a crash before the status write never makes a duplicate; a recorded service that
//!   answers 404 is searched for by name before another is created (`Recreating`). The service
//!   id is recorded in status right after the 202;
//! - **waits** by polling GET until `status == Completed` *and* the line shows the bandwidth it
//!   asked for (`status.targetBandwidth`): right after a PUT the status may still read
//!   `Completed`, so a mismatch is only called a failed (rolled back) update after a grace
//!   period; any other status value counts as in progress (the failure values are
//!   undocumented; values reading like a failure are reported as `CloudFault`);
//! - **changes** the bandwidth (and description) with a PUT (`action: update`) when the spec,
//!   a manual change, drift or the autoscaler asks for it; one change at a time;
//! - **reports drift** of fields IES cannot change (they are immutable in the CRD too) with the
//!   shared rule (`Synced=False ImmutableFieldDrift`, `status.drift`); a bandwidth changed in IES
//!   is corrected (without autoscaling) or adopted as an external change (with autoscaling);
//! - **deletes** through the finalizer and waits until GET answers 404.
//!
//! The phases: [`observe`] (the service by the shared lookup, the definition to create with,
//! the traffic), [`plan`] (pure; the bandwidth in [`bandwidth`]), [`act`] (create, PUT,
//! delete), [`status`] (pure).
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::ies::IesClient;
use crate::cloud::model::ies::ServiceInstance;
use crate::controller::runtime::account::Account;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::contract::{Managed, Reconciled};
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::Found;
use crate::controller::runtime::object::{ies_account, Object};
use crate::crd::cloud_vpn_service::{CloudVpnService, CloudVpnServiceSpec, CloudVpnServiceStatus};

pub mod act;
pub mod autoscaler;
pub mod bandwidth;
pub mod desired;
pub mod observe;
pub mod plan;
pub mod preview;
pub mod status;

pub use act::Acted;
pub use bandwidth::Point;
pub use plan::Plan;

impl Object for CloudVpnService {
    const KIND: &'static str = "CloudVpnService";
    const NOUN: &'static str = "CloudVPN service";
    type Spec = CloudVpnServiceSpec;
    type Status = CloudVpnServiceStatus;

    fn account(&self) -> Account {
        let cloud = self.spec.cloud.as_ref();
        ies_account(
            self,
            cloud.and_then(|c| c.endpoint.as_deref()),
            cloud
                .and_then(|c| c.credentials_secret_ref.as_ref())
                .map(|r| r.name.as_str()),
        )
    }
}

/// What a CloudVPN service reconcile starts from. It reads nothing from Kubernetes (the IES
/// credentials Secret is read by the runtime with the client).
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The service's name in IES (status, else `spec.serviceName`, else derived).
    pub name: String,
    /// When the reconcile started: the end of the traffic window read.
    pub now: Time,
}

/// The line's traffic, read while the service is idle.
#[derive(Clone, Debug, PartialEq)]
pub enum Traffic {
    /// Not read (the service is busy, missing or being deleted).
    NotRead,
    /// Both directions, merged by time.
    Read(Vec<Point>),
    /// The traffic API failed (the autoscaler then decides nothing).
    Unreadable(String),
}

/// What IES holds for the object.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The service, and how it was found.
    pub found: Found<ServiceInstance>,
    /// To create: the service definition id and template id.
    pub definition: Option<(String, String)>,
    pub traffic: Traffic,
}

impl Managed for CloudVpnService {
    type Cloud = IesClient;
    type Inputs = Inputs;
    type Observed = Observed;
    type Plan = Plan;
    type Acted = Acted;

    async fn inputs(&self, ctx: &Context) -> Result<Inputs> {
        Ok(Inputs {
            name: desired::service_name(self),
            now: ctx.clock.now(),
        })
    }

    async fn observe(&self, cloud: &IesClient, inputs: &Inputs) -> Result<Observed> {
        observe::observe(cloud, self, inputs).await
    }

    fn plan(&self, inputs: &Inputs, observed: &Observed, now: &Time) -> Result<Plan> {
        plan::plan(self, inputs, observed, now)
    }

    fn writes(plan: &Plan) -> bool {
        plan.writes()
    }

    async fn act(&self, cloud: &IesClient, plan: &Plan, ctx: &Context) -> Result<Acted> {
        act::act(cloud, plan, ctx).await
    }

    fn next_status(
        &self,
        inputs: &Inputs,
        observed: &Observed,
        plan: &Plan,
        acted: Acted,
        now: &Time,
    ) -> Reconciled<CloudVpnServiceStatus> {
        status::reconciled(self, inputs, observed, plan, acted, now)
    }
}

impl crate::controller::runtime::preview::Preview for CloudVpnService {
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
mod autoscale_tests;
