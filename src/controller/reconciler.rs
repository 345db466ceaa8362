//! The reconcile wrapper shared by every kind: pause, finalizer, status write, events,
//! metrics and requeue policy. Each kind only implements [`Managed::apply`] (observe →
//! plan → act → status) and [`Managed::cleanup`].
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::NamespaceResourceScope;
use kube::core::object::{HasSpec, HasStatus};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{finalizer, Error as FinalizerError, Event as FinalizerEvent};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use super::cached::{Cached, Links};
use super::clouds::CloudOverride;
use super::context::{Context, Note};
use super::error::{Error, Result};
use super::ownership::{release, TAG_OWNER, TAG_UID};
use super::status::write_status;
use crate::cloud::limiter::{QueueKey, WRITE_QUEUE};
use crate::cloud::model::tag::TagResourceType;
use crate::crd::common::{
    find_condition, reasons, set_condition, types, CloudSettings, Condition, ConditionStatus,
    DeletionPolicy, ManagedSpec, ManagedStatus, ManagementPolicy,
};
use crate::crd::{FINALIZER, PAUSED_ANNOTATION};

/// What a successful `apply` produced.
#[derive(Debug)]
pub struct Outcome<S> {
    /// The complete new status (conditions included; `observedGeneration` is set by the wrapper).
    pub status: S,
    /// When to look again.
    pub requeue: Duration,
    /// Events to publish (cloud mutations, notable observations).
    pub notes: Vec<Note>,
}

/// A kind the operator manages in the cloud. The spec and status accessors come from
/// the CRD types ([`ManagedSpec`], [`ManagedStatus`]); each kind adds its cloud logic.
pub trait Managed:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasSpec<Spec = <Self as Managed>::Spec>
    + HasStatus<Status = <Self as Managed>::Status>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Kind name for logs and metrics, e.g. `VpnGateway`.
    const KIND: &'static str;
    type Spec: ManagedSpec + Send + Sync;
    type Status: ManagedStatus + Clone + Default + Debug + Serialize + Send + Sync;

    /// Per-object cloud settings (`spec.cloud`), if any.
    fn cloud_settings(&self) -> Option<&CloudSettings>;

    /// Observe the cloud, plan, act, and return the new status.
    fn apply(
        obj: Arc<Self>,
        ctx: Arc<Context>,
    ) -> impl Future<Output = Result<Outcome<<Self as Managed>::Status>>> + Send;

    /// Delete in the cloud. `Ok` removes the finalizer; `Err(Error::Waiting)` keeps it and
    /// requeues. Not called for `deletionPolicy: Orphan` or `managementPolicy: Observe`.
    fn cleanup(obj: Arc<Self>, ctx: Arc<Context>)
        -> impl Future<Output = Result<Vec<Note>>> + Send;

    /// The tag-API type and id of the cloud resource this object manages (recorded in status),
    /// whose owner tags `deletionPolicy: Orphan` takes off. `None`: nothing to release.
    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        None
    }

    /// Whether reconciling this object now would start new cloud work (it has no cloud
    /// resource yet), which yields to objects whose pending operation just finished (see
    /// [`super::pending::PendingWatches::transitions_waiting`]).
    fn starts_new_work(&self) -> bool {
        false
    }

    /// The objects this one names, kept beside it in the controller's cache for the watch
    /// mappers (see [`super::cached`]). Every kind can name a credentials Secret.
    fn links(&self) -> Links {
        Links {
            credentials_secret: Links::credentials_secret_of(self.cloud_settings()),
            ..Links::default()
        }
    }

    /// The cloud an object talks to, from `spec.cloud` (credentials Secret in its namespace).
    fn cloud_override(&self) -> CloudOverride {
        let ns = self.namespace().unwrap_or_default();
        match self.cloud_settings() {
            None => CloudOverride::default(),
            Some(c) => CloudOverride {
                region: c.region.clone(),
                project_id: c.project_id.clone(),
                endpoint: c.endpoint.clone(),
                credentials_secret: c
                    .credentials_secret_ref
                    .as_ref()
                    .map(|r| (ns, r.name.clone())),
            },
        }
    }
}

/// Whether an object with `status` has yet to start on the cloud (see
/// [`Managed::starts_new_work`]): no cloud id, and its last reconcile did not fail. A create
/// that failed may still have made the resource (its response lost, a timeout after the
/// commit): such an object must go and find it now, not wait behind others while its resource
/// is ACTIVE. (Under 20% faults, those waits made the gateway ACTIVE → Ready p99 27 s.)
pub fn not_started<S: ManagedStatus>(status: Option<&S>) -> bool {
    status.is_none_or(|s| {
        s.cloud_id().is_none()
            && find_condition(s.conditions(), types::SYNCED)
                .is_none_or(|c| c.status != ConditionStatus::False)
    })
}

/// `Kind/namespace/name`, the key of per-object backoff.
pub fn object_key<K: Managed>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::KIND,
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

pub fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// Whether the pause annotation is set to a true value.
pub fn is_paused<K: Resource>(obj: &K) -> bool {
    obj.meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSED_ANNOTATION))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The reconcile entry point handed to kube-runtime's `Controller::run`: decodes the cached
/// object (see [`super::cached`]) and reconciles it.
pub async fn reconcile_cached<K: Managed>(
    obj: Arc<Cached<K>>,
    ctx: Arc<Context>,
) -> Result<Action> {
    let o = obj.decoded().inspect_err(|e| {
        tracing::error!(kind = K::KIND, object = ?obj, error = %e, "cannot decode the cached object");
    })?;
    reconcile(o, ctx).await
}

/// Reconciles one object. It never returns an
/// error: failures are written to status and events, and turned into a requeue here, with
/// per-object exponential backoff (reset on success).
pub async fn reconcile<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let span = tracing::info_span!(
        "reconcile",
        kind = K::KIND,
        namespace = %obj.namespace().unwrap_or_default(),
        name = %obj.name_any()
    );
    // A write that would wait long for the client-side write budget is queued instead of
    // holding this worker (see `cloud::limiter::WRITE_QUEUE`); the object keeps its place.
    let queue = QueueKey {
        key: obj.uid().unwrap_or_else(|| object_key(&*obj)),
        max_wait: WRITE_WAIT_IN_WORKER,
    };
    WRITE_QUEUE
        .scope(queue, reconcile_inner(obj, ctx).instrument(span))
        .await
}

/// How long a reconcile worker may wait for a cloud write token before the object is
/// requeued for when its (reserved) token is due.
const WRITE_WAIT_IN_WORKER: Duration = Duration::from_millis(500);

async fn reconcile_inner<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let ns = obj.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(ctx.kube.clone(), &ns);

    if is_paused(&*obj) {
        let mut status = HasStatus::status(&*obj).cloned().unwrap_or_default();
        let gen = obj.meta().generation;
        set_condition(
            status.conditions_mut(),
            Condition::new(
                types::SYNCED,
                ConditionStatus::False,
                reasons::PAUSED,
                format!("{PAUSED_ANNOTATION} is set: no cloud calls are made for this object until it is removed"),
                gen,
            ),
            now(),
        );
        status.set_observed_generation(gen);
        write_status(&api, &obj.name_any(), HasStatus::status(&*obj), &status).await?;
        ctx.metrics
            .reconcile_finished(K::KIND, started.elapsed(), Some(reasons::PAUSED));
        return Ok(Action::await_change());
    }

    // Objects whose cloud operation just finished go first: a new object's first steps
    // (finalizer, create, status, Event) wait a moment while any is queued. During a creation
    // storm those first steps fill the queue and the API server, and a gateway that became
    // ACTIVE otherwise waited behind all of them to be marked Ready.
    ctx.pending.started(K::KIND, &ns, &obj.name_any());
    if obj.starts_new_work()
        && obj.meta().deletion_timestamp.is_none()
        && ctx.pending.transitions_waiting()
    {
        tracing::debug!(kind = K::KIND, object = %object_key(&*obj), "deferred behind finished cloud operations");
        ctx.metrics.reconcile_deferred(K::KIND);
        return Ok(Action::requeue(ctx.settings.pending_requeue / 2));
    }

    let c = ctx.clone();
    let result = finalizer(&api, FINALIZER, obj.clone(), |event| async move {
        match event {
            FinalizerEvent::Apply(o) => {
                let outcome = K::apply(o.clone(), c.clone()).await?;
                let mut status = outcome.status;
                status.set_observed_generation(o.meta().generation);
                write_status(
                    &api_of::<K>(&c, &o),
                    &o.name_any(),
                    HasStatus::status(&*o),
                    &status,
                )
                .await?;
                for n in &outcome.notes {
                    c.publish(&*o, n).await;
                }
                c.backoff.reset(&object_key(&*o));
                Ok(settled_or_requeue(outcome.requeue, &c.settings))
            }
            FinalizerEvent::Cleanup(o) => {
                let spec = o.spec();
                let notes = if spec.deletion_policy() == DeletionPolicy::Orphan {
                    vec![orphan(&*o, &c).await?]
                } else if spec.management_policy() == ManagementPolicy::Observe {
                    vec![Note::normal(
                        reasons::OBSERVE_ONLY,
                        "Orphan",
                        "managementPolicy is Observe: the cloud resource was left in place",
                    )]
                } else {
                    K::cleanup(o.clone(), c.clone()).await?
                };
                for n in &notes {
                    c.publish(&*o, n).await;
                }
                c.backoff.reset(&object_key(&*o));
                Ok(Action::await_change())
            }
        }
    })
    .await;

    match result {
        Ok(action) => {
            ctx.metrics
                .reconcile_finished(K::KIND, started.elapsed(), None);
            Ok(action)
        }
        Err(e) => {
            let (err, deleting) = match e {
                FinalizerError::ApplyFailed(e) => (e, false),
                FinalizerError::CleanupFailed(e) => (e, true),
                FinalizerError::AddFinalizer(e) | FinalizerError::RemoveFinalizer(e) => {
                    (Error::Kube(e), false)
                }
                FinalizerError::UnnamedObject => {
                    (Error::InvalidSpec("object has no name".into()), false)
                }
                FinalizerError::InvalidFinalizer => {
                    (Error::InvalidSpec("invalid finalizer name".into()), false)
                }
            };
            if err.object_gone() {
                // The object went away under us (its last finalizer was removed and the cache
                // had not caught up): nothing left to reconcile or report.
                ctx.metrics
                    .reconcile_finished(K::KIND, started.elapsed(), None);
                return Ok(Action::await_change());
            }
            let action = report_failure(&*obj, &api, &ctx, &err, deleting).await;
            ctx.metrics
                .reconcile_finished(K::KIND, started.elapsed(), Some(err.reason()));
            Ok(action)
        }
    }
}

/// `deletionPolicy: Orphan`: the cloud resource stays, without this object's owner tags (so it
/// can be adopted again). Terminal failures to remove the tags (credentials, permissions) do not
/// hold the deletion up: the event says which tags to remove by hand; others are retried.
async fn orphan<K: Managed>(obj: &K, ctx: &Context) -> Result<Note> {
    let left = "deletionPolicy is Orphan: the cloud resource was left in place";
    if obj.spec().management_policy() == ManagementPolicy::Observe {
        // Observing never tagged it: nothing of ours to take off.
        return Ok(Note::normal(reasons::ORPHANED, "Orphan", left));
    }
    let Some((kind, id)) = obj.released_resource() else {
        return Ok(Note::normal(reasons::ORPHANED, "Orphan", left));
    };
    let uid = obj.uid().unwrap_or_default();
    let released = match ctx.clouds.vpn(&obj.cloud_override()).await {
        Ok(cloud) => release(&cloud, &kind, &id, &uid).await,
        Err(e) => Err(e),
    };
    match released {
        Ok(true) => Ok(Note::normal(
            reasons::ORPHANED,
            "Orphan",
            format!(
                "{left} ({id}); its {TAG_UID} and {TAG_OWNER} tags were removed, so another \
                 object can adopt it with spec.cloudId"
            ),
        )),
        Ok(false) => Ok(Note::normal(reasons::ORPHANED, "Orphan", left)),
        Err(e) if e.is_terminal() => Ok(Note::warning(
            reasons::ORPHANED,
            "Orphan",
            format!(
                "{left} ({id}), but its owner tags could not be removed ({e}); remove the \
                 {TAG_UID} and {TAG_OWNER} tags by hand before adopting it with another object"
            ),
        )),
        Err(e) => Err(e),
    }
}

fn api_of<K: Managed>(ctx: &Context, obj: &K) -> Api<K> {
    Api::namespaced(ctx.kube.clone(), &obj.namespace().unwrap_or_default())
}

/// Writes a failed or waiting reconcile into status and events; returns the requeue.
async fn report_failure<K: Managed>(
    obj: &K,
    api: &Api<K>,
    ctx: &Context,
    err: &Error,
    deleting: bool,
) -> Action {
    let key = object_key(obj);
    let gen = obj.meta().generation;
    let mut status = HasStatus::status(obj).cloned().unwrap_or_default();
    let conds = status.conditions_mut();
    let t = now();
    let message = err.to_string();
    if let Error::Cloud(e) = err {
        if e.kind == crate::cloud::ErrorKind::AuthFailed {
            ctx.clouds.invalidate(&obj.cloud_override());
        }
    }

    let requeue = if err.is_waiting() {
        // A wait is not a failure: Ready says why, Synced stays True.
        set_condition(
            conds,
            Condition::new(
                types::READY,
                ConditionStatus::False,
                err.reason(),
                &message,
                gen,
            ),
            t.clone(),
        );
        set_condition(
            conds,
            Condition::new(
                types::SYNCED,
                ConditionStatus::True,
                reasons::RECONCILE_SUCCESS,
                "",
                gen,
            ),
            t,
        );
        ctx.backoff.reset(&key);
        err.retry_after().unwrap_or(ctx.settings.pending_requeue)
    } else {
        let hint = match err {
            Error::Cloud(e) => format!(" ({})", e.hint()),
            _ => String::new(),
        };
        set_condition(
            conds,
            Condition::new(
                types::SYNCED,
                ConditionStatus::False,
                err.reason(),
                format!("{message}{hint}"),
                gen,
            ),
            t.clone(),
        );
        if deleting {
            set_condition(
                conds,
                Condition::new(
                    types::READY,
                    ConditionStatus::False,
                    reasons::DELETING,
                    "deletion is being retried",
                    gen,
                ),
                t,
            );
        }
        tracing::warn!(kind = K::KIND, object = %key, reason = err.reason(), error = %message, "reconcile failed");
        ctx.publish(
            obj,
            &Note::warning(
                err.reason(),
                if deleting { "Delete" } else { "Reconcile" },
                format!("{message}{hint}"),
            ),
        )
        .await;
        let backoff = ctx.backoff.failure(&key);
        if err.is_terminal() {
            ctx.settings.terminal_retry
        } else {
            err.retry_after().map_or(backoff, |r| r.max(backoff))
        }
    };
    status.set_observed_generation(gen);
    if let Err(e) = write_status(api, &obj.name_any(), HasStatus::status(obj), &status).await {
        tracing::warn!(object = %key, error = %e, "could not write status");
    }
    Action::requeue(requeue)
}

/// kube-runtime's error policy; [`reconcile`] reports its own failures, so this only runs
/// for errors outside it.
pub fn error_policy<O>(_obj: Arc<O>, err: &Error, ctx: Arc<Context>) -> Action {
    Action::requeue(err.retry_after().unwrap_or(ctx.settings.pending_requeue))
}

/// Sets condition `type_` on `conds` at the current time (keeps `lastTransitionTime` when the
/// status does not change).
pub fn mark(
    conds: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    set_condition(
        conds,
        Condition::new(type_, status, reason, message, generation),
        now(),
    );
}

/// Whether `obj` is settled: its spec was observed and the cloud is not in the middle of
/// something for it. Unsettled objects are observed with fresh (sub-second) list snapshots.
pub fn is_settled<K: Managed>(obj: &K) -> bool {
    if obj.meta().deletion_timestamp.is_some() {
        return false;
    }
    let Some(status) = HasStatus::status(obj) else {
        return false;
    };
    match find_condition(status.conditions(), types::READY) {
        None => false,
        Some(c) => {
            c.observed_generation == obj.meta().generation
                && !matches!(
                    c.reason.as_str(),
                    reasons::CREATING
                        | reasons::UPDATING
                        | reasons::DELETING
                        | reasons::DEPENDENCY_NOT_READY
                )
        }
    }
}

/// The action after a successful reconcile that asked to be looked at again in `requeue`.
/// An object asking for no sooner than the resync interval waits for the next resync of its
/// whole kind (`Controller::reconcile_all_on`, see `controller::resync_ticks`) rather than
/// keeping its own entry in the controller's queue: about 0.9 KiB per object, kept as long as
/// the object exists.
pub fn settled_or_requeue(requeue: Duration, settings: &super::context::Settings) -> Action {
    if requeue >= settings.resync_interval {
        Action::await_change()
    } else {
        Action::requeue(requeue)
    }
}

/// How old a list observation of `obj` may be: half the pending requeue while it is
/// unsettled, half the resync interval when it is settled. At rest every object of a kind is
/// reconciled once per resync interval, all at once, and one list call per kind and account
/// serves them all; the snapshot of the previous resync is always too old to be reused.
pub fn observation_age<K: Managed>(obj: &K, ctx: &Context) -> Duration {
    if is_settled(obj) {
        ctx.settings.resync_interval / 2
    } else {
        ctx.settings.pending_requeue / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::VpnGatewayStatus;

    fn with(cloud_id: Option<&str>, synced: Option<(ConditionStatus, &str)>) -> VpnGatewayStatus {
        let mut s = VpnGatewayStatus {
            cloud_id: cloud_id.map(Into::into),
            ..Default::default()
        };
        if let Some((status, reason)) = synced {
            set_condition(
                &mut s.conditions,
                Condition::new(types::SYNCED, status, reason, "", Some(1)),
                now(),
            );
        }
        s
    }

    #[test]
    fn only_objects_that_have_not_tried_the_cloud_yet_yield_to_finished_operations() {
        // Brand new, or queued for a write token (a wait: Synced stays True): new work.
        assert!(not_started::<VpnGatewayStatus>(None));
        assert!(not_started(Some(&with(None, None))));
        assert!(not_started(Some(&with(
            None,
            Some((ConditionStatus::True, reasons::RECONCILE_SUCCESS))
        ))));
        // A create that failed (its response may be lost while the gateway provisions): it
        // looks for its resource at once.
        assert!(!not_started(Some(&with(
            None,
            Some((ConditionStatus::False, "ServerError"))
        ))));
        // Has its cloud resource.
        assert!(!not_started(Some(&with(Some("g-1"), None))));
    }
}
