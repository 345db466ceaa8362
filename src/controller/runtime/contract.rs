//! The contract every kind implements: five phases, each with one job, called in order by the
//! runtime ([`super::reconcile`]) for every reconcile of an object, deletion included.
//!
//! | Phase | Does | May |
//! |---|---|---|
//! | [`Managed::inputs`] | read what the object needs from Kubernetes into plain data | read through [`Context::kube`] |
//! | [`Managed::observe`] | read the cloud ([`super::lookup::find`] for the object's own resource) | read the cloud |
//! | [`Managed::plan`] | decide what to do | nothing: a pure function |
//! | [`Managed::act`] | carry out the plan, report what happened | write the cloud |
//! | [`Managed::next_status`] | the new status, the Events, what to wait for | nothing: a pure function |
//!
//! Everything else is the runtime's, once for every kind: pause, the finalizer, deletion
//! policies, deferral behind finished operations, the cloud client and the invalidation of
//! refused credentials, failure reporting and backoff, Events, metrics and the requeue
//! decision ([`super::requeue`]).
use std::fmt::Debug;
use std::future::Future;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector::ObjectRef;

use super::clouds::Cloud;
use super::context::Context;
use super::error::Result;
use super::events::Note;
use super::object::Object;
use super::requeue::Next;
use crate::cloud::model::tag::TagResourceType;
use crate::metrics::ObjectGauges;

/// A kind the operator manages in the cloud (see the module documentation).
pub trait Managed: Object {
    /// The client of the cloud the kind lives in.
    type Cloud: Cloud;
    /// What [`Managed::inputs`] read from Kubernetes.
    type Inputs: Send + Sync;
    /// What [`Managed::observe`] found in the cloud.
    type Observed: Send + Sync;
    /// What [`Managed::plan`] decided.
    type Plan: Debug + Send + Sync;
    /// What [`Managed::act`] did.
    type Acted: Send + Sync;

    /// Reads what the object needs from Kubernetes: the objects it names, their Secrets, the
    /// objects that depend on it (when it is being deleted).
    fn inputs(&self, ctx: &Context) -> impl Future<Output = Result<Self::Inputs>> + Send;

    /// Reads the cloud: the object's own resource and whatever the plan decides from.
    fn observe(
        &self,
        cloud: &Self::Cloud,
        inputs: &Self::Inputs,
    ) -> impl Future<Output = Result<Self::Observed>> + Send;

    /// Decides what to do, from the spec (and the object's previous status), the inputs, the
    /// observation and `now`. Pure. An error stops the reconcile (e.g. an invalid spec, or a
    /// wait for a dependency that a create cannot do without).
    fn plan(
        &self,
        inputs: &Self::Inputs,
        observed: &Self::Observed,
        now: &Time,
    ) -> Result<Self::Plan>;

    /// Carries out the plan in the cloud and reports what happened.
    fn act(
        &self,
        cloud: &Self::Cloud,
        plan: &Self::Plan,
        ctx: &Context,
    ) -> impl Future<Output = Result<Self::Acted>> + Send;

    /// The new status (conditions included), the Events and what to wait for, from the
    /// previous status, what was observed and what happened. Pure.
    fn next_status(
        &self,
        inputs: &Self::Inputs,
        observed: &Self::Observed,
        plan: &Self::Plan,
        acted: Self::Acted,
        now: &Time,
    ) -> Reconciled<<Self as Object>::Status>;

    /// Whether carrying out `plan` writes to the cloud. After a write whose outcome is unknown
    /// the object is observed again soon, but a plan that writes waits for the backoff
    /// ([`super::requeue::after_failure`]). The default, `true`, makes every plan wait.
    fn writes(_plan: &Self::Plan) -> bool {
        true
    }

    /// The status to write when carrying out `plan` failed in a way that leaves its outcome
    /// unknown (the cloud may have done it): `status` plus what the cloud will not tell later
    /// (e.g. the digest of a key a create sent, which no read returns), so that the resource
    /// found afterwards by its owner tag needs no second write. Pure. Default: unchanged.
    fn unsure_status(
        _plan: &Self::Plan,
        status: <Self as Object>::Status,
    ) -> <Self as Object>::Status {
        status
    }

    /// The tag-API type and id of the cloud resource whose owner tags `deletionPolicy: Orphan`
    /// takes off. `None`: nothing to release.
    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        None
    }

    /// The per-object gauges the status gives (a connection's tunnel, a gateway's routes); the
    /// runtime sets them after each status write and removes them when the object goes.
    fn gauges(_status: &<Self as Object>::Status) -> ObjectGauges {
        ObjectGauges::default()
    }

    /// Whether the object needs fresh observations although its `Ready` condition does not
    /// say the cloud is busy (e.g. a connection's health check being created).
    fn in_flux(&self) -> bool {
        false
    }

    /// Registers the object with its kind's pending watch, which wakes it when a shared list
    /// shows `watch`'s resource in another state. `false` when the kind has no pending watch.
    fn watch_pending(
        _ctx: &Context,
        _cloud: &Self::Cloud,
        _watch: &Watch,
        _obj: ObjectRef<Self>,
    ) -> bool {
        false
    }
}

/// What a reconcile decided, for the runtime to write and wait for.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconciled<S> {
    /// The complete new status (`observedGeneration` is set by the runtime).
    pub status: S,
    /// What the object waits for now.
    pub next: Next,
    /// Events to publish.
    pub notes: Vec<Note>,
    /// Deleting: the cloud side is finished (the resource is gone or left in place), so the
    /// finalizer can go.
    pub released: bool,
    /// A pending cloud resource for the pending watch.
    pub watch: Option<Watch>,
}

impl<S> Reconciled<S> {
    /// `status`, waiting for `next`.
    pub fn new(status: S, next: Next) -> Self {
        Self {
            status,
            next,
            notes: Vec::new(),
            released: false,
            watch: None,
        }
    }

    /// With these Events.
    pub fn with_notes(mut self, notes: Vec<Note>) -> Self {
        self.notes = notes;
        self
    }

    /// With the resource to watch while it is pending.
    pub fn watching(mut self, watch: Option<Watch>) -> Self {
        self.watch = watch;
        self
    }

    /// Deletion is finished.
    pub fn released(mut self) -> Self {
        self.released = true;
        self
    }
}

/// A cloud resource in a pending state: its id and the state last seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch {
    pub id: String,
    pub state: String,
}

impl Watch {
    pub fn new(id: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            state: state.into(),
        }
    }
}
