//! One reconcile of one object, the same for every kind: pause, deferral, the finalizer,
//! deletion policies, the five phases of [`Managed`], the status write, Events, metrics, backoff
//! and the requeue. The kinds only implement the phases.
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use super::cached::Cached;
use super::clouds::{Account, Cloud};
use super::context::Context;
use super::contract::{Managed, Reconciled};
use super::error::{Error, Result};
use super::events::{actions, Note};
use super::kube::unseen;
use super::object::{object_key, Object};
use super::ownership::{release, TAG_OWNER, TAG_UID};
use super::requeue::{self, Next, Requeue};
use super::status::{set, Cond};
use crate::cloud::limiter::{QueueKey, WRITE_QUEUE};
use crate::crd::common::{
    find_condition, reasons, types, ConditionStatus, DeletionPolicy, ManagedSpec, ManagedStatus,
    ManagementPolicy,
};
use crate::crd::{FINALIZER, PAUSED_ANNOTATION};

/// How long a reconcile worker may wait for a cloud write token before the object is
/// requeued for when its (reserved) token is due.
const WRITE_WAIT_IN_WORKER: Duration = Duration::from_millis(500);

/// The reconcile entry point handed to kube-runtime's `Controller::run`: decodes the cached
/// object (see [`super::cached`]) and reconciles it, unless the cache has not shown the
/// operator's last write to it yet (a wake or requeue can beat the watch: [`unseen`]).
pub async fn reconcile_cached<K: Managed>(
    obj: Arc<Cached<K>>,
    ctx: Arc<Context>,
) -> Result<Action> {
    if ctx.kube.judge_copy(obj.meta()) == unseen::Staleness::Behind {
        tracing::debug!(kind = K::KIND, object = ?obj, "the cache is behind the last write");
        return Ok(Action::requeue(unseen::RETRY));
    }
    let o = obj.decoded().inspect_err(|e| {
        tracing::error!(kind = K::KIND, object = ?obj, error = %e, "cannot decode the cached object");
    })?;
    reconcile(o, ctx).await
}

/// kube-runtime's error policy; [`reconcile`] reports its own failures, so this only runs
/// for errors outside it (a cached object that cannot be decoded).
pub fn error_policy<O>(_obj: Arc<O>, _err: &Error, ctx: Arc<Context>) -> Action {
    Action::requeue(ctx.settings.pending_requeue)
}

/// Reconciles one object. It never returns an error: failures are written to status and
/// Events and turned into a requeue with per-object backoff (reset on success).
pub async fn reconcile<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    Ok(requeue::to_action(reconcile_requeue(obj, ctx).await))
}

/// [`reconcile`], answering when to look again.
pub async fn reconcile_requeue<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Requeue {
    // `object`, not `name`: JSON logs put the span's own name under `name`, and a second
    // `name` key was dropped by log parsers, losing which object a line was about.
    let span = tracing::info_span!(
        "reconcile",
        kind = K::KIND,
        namespace = %obj.namespace().unwrap_or_default(),
        object = %format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
    );
    // A write that would wait long for the client-side write budget is queued instead of
    // holding this worker (see `cloud::limiter::WRITE_QUEUE`); the object keeps its place.
    let queue = QueueKey {
        key: obj.uid().unwrap_or_else(|| object_key(&*obj)),
        max_wait: WRITE_WAIT_IN_WORKER,
    };
    WRITE_QUEUE
        .scope(queue, timed(obj, ctx).instrument(span))
        .await
}

async fn timed<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Requeue {
    let started = Instant::now();
    let (after, failed) = if is_paused(&*obj) {
        // A pause is not a failure.
        match pause(&*obj, &ctx).await {
            Ok(()) => (None, None),
            Err(e) => {
                tracing::warn!(kind = K::KIND, object = %object_key(&*obj), error = %e, "could not write status");
                (Some(ctx.settings.pending_requeue), None)
            }
        }
    } else {
        match step(&*obj, &ctx).await {
            Ok(after) => (after, None),
            // The object went away under us (its last finalizer was removed and the cache had
            // not caught up): nothing left to reconcile or report.
            Err(f) if f.error.object_gone() => (None, None),
            Err(f) => {
                // A wait (a dependency, a queued write) is not a failure either.
                let failed = (!f.error.is_waiting()).then(|| f.error.reason());
                (report_failure(&*obj, &ctx, f).await, failed)
            }
        }
    };
    ctx.metrics
        .reconcile_finished(K::KIND, started.elapsed(), failed);
    ctx.metrics
        .observed(K::KIND, &super::object::observation_key(&*obj));
    after
}

/// What the finalizer asks of this reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Add the finalizer first (the change wakes the object again).
    AddFinalizer,
    /// Make the cloud match the spec.
    Apply,
    /// The object is being deleted: take the cloud side down.
    Cleanup,
    /// Deleted and no longer ours to finish.
    Done,
}

fn stage<K: Resource>(obj: &K) -> Stage {
    let ours = obj
        .meta()
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == FINALIZER);
    match (obj.meta().deletion_timestamp.is_some(), ours) {
        (false, false) => Stage::AddFinalizer,
        (false, true) => Stage::Apply,
        (true, true) => Stage::Cleanup,
        (true, false) => Stage::Done,
    }
}

/// A failed reconcile.
struct Failed<S> {
    error: Error,
    /// The object was being deleted.
    deleting: bool,
    /// After a cloud write of unknown outcome: the status to keep ([`Managed::unsure_status`]).
    unsure_write: Option<S>,
}

/// How [`phases`] failed: the error, and the status to keep after an unsure write.
type PhaseError<S> = (Error, Option<S>);

/// What [`phases`] came to.
enum Phased<S> {
    /// It ran. `keep_backoff`: it only read while the writes were held; the backoff stands.
    Done {
        done: Reconciled<S>,
        keep_backoff: bool,
    },
    /// The plan writes to the cloud but the object's writes are held this much longer.
    Held(Duration),
}

/// Runs one reconcile.
async fn step<K: Managed>(
    obj: &K,
    ctx: &Context,
) -> std::result::Result<Requeue, Failed<<K as Object>::Status>> {
    // Objects whose cloud operation just finished go first: a new object's first steps
    // (finalizer, create, status, Event) wait a moment while any is queued. During a creation
    // storm those first steps fill the queue and the API server, and a gateway that became
    // ACTIVE otherwise waited behind all of them to be marked Ready.
    let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let woken = ctx.pending.started(K::KIND, &ns, &name);
    tracing::debug!(?woken, "reconcile starts");
    let stage = stage(obj);
    let new_work = matches!(stage, Stage::AddFinalizer | Stage::Apply) && starts_new_work(obj);
    if new_work && ctx.pending.transitions_waiting() {
        tracing::debug!(kind = K::KIND, object = %object_key(obj), "deferred behind finished cloud operations");
        ctx.metrics.reconcile_deferred(K::KIND);
        return Ok(requeue::deferred(&ctx.settings));
    }
    let deleting = stage == Stage::Cleanup;
    let fail = |error: Error| Failed {
        error,
        deleting,
        unsure_write: None,
    };
    match stage {
        Stage::AddFinalizer => {
            ctx.kube.add_finalizer(obj, FINALIZER).await.map_err(fail)?;
            return Ok(None);
        }
        Stage::Done => return Ok(None),
        Stage::Cleanup => {
            if let Some(note) = let_go(obj, ctx).await.map_err(fail)? {
                return finish_deletion(obj, ctx, &[note]).await.map_err(fail);
            }
        }
        Stage::Apply => {}
    }
    let (done, keep_backoff) = match phases(obj, ctx, woken).await {
        Ok(Phased::Done { done, keep_backoff }) => (done, keep_backoff),
        // Nothing changed: the status stays as the failure left it.
        Ok(Phased::Held(left)) => return Ok(Some(left)),
        Err((error, unsure_write)) => {
            return Err(Failed {
                error,
                deleting,
                unsure_write,
            })
        }
    };
    if deleting && done.released {
        return finish_deletion(obj, ctx, &done.notes).await.map_err(fail);
    }
    let mut status = done.status;
    status.set_observed_generation(obj.meta().generation);
    ctx.kube.write_status(obj, &status).await.map_err(fail)?;
    tracing::debug!("status written");
    record_metrics(obj, &status, ctx);
    for n in &done.notes {
        ctx.kube.publish(obj, n).await;
    }
    if !keep_backoff {
        ctx.backoff.reset(&object_key(obj));
    }
    Ok(requeue::after(&done.next, &ctx.settings))
}

/// The five phases of the kind, with the pending watch registered and refused credentials
/// forgotten; a plan that writes waits while the object's writes are held. An error comes with
/// whether it was a cloud write of unknown outcome.
async fn phases<K: Managed>(
    obj: &K,
    ctx: &Context,
    woken: Option<Duration>,
) -> std::result::Result<Phased<<K as Object>::Status>, PhaseError<<K as Object>::Status>> {
    let sure = |e: Error| (e, None);
    let in_use = super::account_use::in_use(obj, ctx).await.map_err(sure)?;
    let account = in_use.account.clone();
    let result = async {
        let inputs = obj.inputs(ctx).await.map_err(sure)?;
        let age = super::freshness::observation_age(obj, &ctx.settings, woken);
        let cloud = K::Cloud::connect(&ctx.clouds, &account, age)
            .await
            .map_err(sure)?;
        let observed = obj.observe(&cloud, &inputs).await.map_err(sure)?;
        let plan = obj
            .plan(&inputs, &observed, &ctx.clock.now())
            .map_err(sure)?;
        tracing::debug!(?plan, "planned");
        let writes = K::writes(&plan);
        let held = ctx.backoff.writes_held(&object_key(obj), &ctx.clock.now());
        if let Some(left) = requeue::writes_wait(writes, held) {
            tracing::debug!(
                ?left,
                "the plan writes: held after a write of unknown outcome"
            );
            return Ok(Phased::Held(left));
        }
        let acted = obj.act(&cloud, &plan, ctx).await.map_err(|e| {
            let unsure = (writes && e.outcome_unknown()).then(|| {
                K::unsure_status(&plan, HasStatus::status(obj).cloned().unwrap_or_default())
            });
            (e, unsure)
        })?;
        let now = ctx.clock.now();
        let mut done = obj.next_status(&inputs, &observed, &plan, acted, &now);
        let gen = obj.meta().generation;
        if let Some(note) = super::account_use::record(
            &mut done.status,
            HasStatus::status(obj),
            &in_use,
            K::NOUN,
            &now,
            gen,
        ) {
            done.notes.push(note);
        }
        if let Some(w) = &done.watch {
            if K::watch_pending(ctx, &cloud, w, ObjectRef::from_obj(obj)) {
                if let Next::Pending { watched, .. } = &mut done.next {
                    *watched = true;
                }
            }
        }
        Ok(Phased::Done {
            done,
            keep_backoff: held.is_some(),
        })
    }
    .await;
    forget_refused_credentials(ctx, &account, result.as_ref().err().map(|(e, _)| e));
    result
}

/// After the cloud refused the credentials, the next reconcile reads them again (a fixed
/// Secret takes effect at once).
fn forget_refused_credentials(ctx: &Context, account: &Account, err: Option<&Error>) {
    if let Some(Error::Cloud(e)) = err {
        if e.kind == crate::cloud::ErrorKind::AuthFailed {
            ctx.clouds.invalidate_account(account);
        }
    }
}

/// Publishes the last Events and removes the finalizer: the object goes.
async fn finish_deletion<K: Managed>(obj: &K, ctx: &Context, notes: &[Note]) -> Result<Requeue> {
    for n in notes {
        ctx.kube.publish(obj, n).await;
    }
    ctx.kube.remove_finalizer(obj, FINALIZER).await?;
    ctx.backoff.reset(&object_key(obj));
    ctx.metrics.object_ready(K::KIND, &object_key(obj), None);
    let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    ctx.metrics
        .object_gauges(&ns, &name, crate::metrics::ObjectGauges::default());
    Ok(None)
}

/// Keeps the object's metrics in step with the status just written: its readiness, the time
/// to its first `Ready`, and its own gauges.
fn record_metrics<K: Managed>(obj: &K, status: &<K as Object>::Status, ctx: &Context) {
    let ready = |c: &[crate::crd::common::Condition]| {
        find_condition(c, types::READY)
            .map(|c| (c.status == ConditionStatus::True, c.reason.clone()))
    };
    let now_ready = ready(status.conditions()).is_some_and(|(r, _)| r);
    ctx.metrics
        .object_ready(K::KIND, &object_key(obj), Some(now_ready));
    let prev = HasStatus::status(obj);
    let before = prev.and_then(|s| ready(s.conditions()));
    let had_resource = prev.is_some_and(|s| s.cloud_id().is_some());
    let before = before.as_ref().map(|(r, reason)| (*r, reason.as_str()));
    if now_ready && first_ready(before, had_resource) {
        if let Some(created) = &obj.meta().creation_timestamp {
            let took = super::clock::elapsed(created, &ctx.clock.now());
            ctx.metrics.ready_after(K::KIND, took);
        }
    }
    let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    ctx.metrics.object_gauges(&ns, &name, K::gauges(status));
}

/// Whether an object that is Ready now becomes Ready for the first time, from its `Ready`
/// before (status, reason) and whether it had a cloud resource: it had none yet, or it was
/// being created. A `Ready` that comes back after an update or a failure is not a first.
fn first_ready(before: Option<(bool, &str)>, had_resource: bool) -> bool {
    match before {
        Some((true, _)) => false,
        _ if !had_resource => true,
        None => true,
        Some((false, reason)) => reason == reasons::CREATING,
    }
}

/// Deletion by policy rather than by deleting the cloud resource: `deletionPolicy: Orphan` and
/// `managementPolicy: Observe` leave it in place. `None`: delete it.
async fn let_go<K: Managed>(obj: &K, ctx: &Context) -> Result<Option<Note>> {
    let spec = obj.spec();
    if spec.deletion_policy() == DeletionPolicy::Orphan {
        return orphan(obj, ctx).await.map(Some);
    }
    if spec.management_policy() == ManagementPolicy::Observe {
        return Ok(Some(Note::normal(
            reasons::OBSERVE_ONLY,
            actions::ORPHAN,
            "managementPolicy is Observe: the cloud resource was left in place",
        )));
    }
    Ok(None)
}

/// `deletionPolicy: Orphan`: the cloud resource stays, without this object's owner tags (so it
/// can be adopted again). Terminal failures to remove the tags (credentials, permissions) do not
/// hold the deletion up: the Event says which tags to remove by hand; others are retried.
async fn orphan<K: Managed>(obj: &K, ctx: &Context) -> Result<Note> {
    let left = "deletionPolicy is Orphan: the cloud resource was left in place";
    let note = |msg: String| Note::normal(reasons::ORPHANED, actions::ORPHAN, msg);
    if obj.spec().management_policy() == ManagementPolicy::Observe {
        // Observing never tagged it: nothing of ours to take off.
        return Ok(note(left.into()));
    }
    let Some((kind, id)) = obj.released_resource() else {
        return Ok(note(left.into()));
    };
    let Account::Vpn(account) = super::account_use::in_use(obj, ctx).await?.account else {
        return Ok(note(left.into()));
    };
    let uid = obj.uid().unwrap_or_default();
    let released = match ctx.clouds.vpn(&account).await {
        Ok(cloud) => release(&cloud, &kind, &id, &uid).await,
        Err(e) => Err(e),
    };
    match released {
        Ok(true) => Ok(note(format!(
            "{left} ({id}); its {TAG_UID} and {TAG_OWNER} tags were removed, so another object \
             can adopt it with spec.cloudId"
        ))),
        Ok(false) => Ok(note(left.into())),
        Err(e) if e.is_terminal() => Ok(Note::warning(
            reasons::ORPHANED,
            actions::ORPHAN,
            format!(
                "{left} ({id}), but its owner tags could not be removed ({e}); remove the \
                 {TAG_UID} and {TAG_OWNER} tags by hand before adopting it with another object"
            ),
        )),
        Err(e) => Err(e),
    }
}

/// The pause annotation: no cloud calls, deletion included, until it is removed.
async fn pause<K: Managed>(obj: &K, ctx: &Context) -> Result<()> {
    let now = ctx.clock.now();
    let mut status = HasStatus::status(obj).cloned().unwrap_or_default();
    let gen = obj.meta().generation;
    let why = Cond::no(
        reasons::PAUSED,
        format!(
            "{PAUSED_ANNOTATION} is set: no cloud calls are made for this object until it is \
             removed"
        ),
    );
    let conds = status.conditions_mut();
    if find_condition(conds, types::READY).is_none() {
        // Nothing was made yet: the object is not usable, and says why.
        set(conds, &now, types::READY, why.clone(), gen);
    }
    set(conds, &now, types::SYNCED, why, gen);
    status.set_observed_generation(gen);
    ctx.kube.write_status(obj, &status).await?;
    record_metrics(obj, &status, ctx);
    Ok(())
}

/// Writes a failed or waiting reconcile into status and Events; returns the requeue.
///
/// - A wait is not a failure: `Ready` says why, `Synced` stays True, no Event, no backoff.
/// - A failure sets `Synced=False` with its reason; `Ready` too when only the user can fix it
///   (spec, Secret, credentials, quota) or when the object has no `Ready` yet, so both
///   conditions are always there.
async fn report_failure<K: Managed>(
    obj: &K,
    ctx: &Context,
    f: Failed<<K as Object>::Status>,
) -> Requeue {
    let (err, deleting) = (&f.error, f.deleting);
    let key = object_key(obj);
    let gen = obj.meta().generation;
    let now = ctx.clock.now();
    let unsure_write = f.unsure_write.is_some();
    let mut status = f
        .unsure_write
        .unwrap_or_else(|| HasStatus::status(obj).cloned().unwrap_or_default());
    let (conditions, retry, note) = failure(
        status.conditions(),
        (err, deleting, unsure_write),
        || ctx.backoff.failure(&key),
        &ctx.settings,
    );
    if let Some(hold) = retry.hold_writes {
        ctx.backoff.hold_writes(&key, &now, hold);
    }
    let after = retry.after;
    if note.is_none() {
        ctx.backoff.reset(&key);
    } else {
        tracing::warn!(kind = K::KIND, object = %key, reason = err.reason(), error = %err, "reconcile failed");
    }
    for (type_, c) in conditions {
        set(status.conditions_mut(), &now, type_, c, gen);
    }
    status.set_observed_generation(gen);
    if let Some(n) = &note {
        ctx.kube.publish(obj, n).await;
    }
    match ctx.kube.write_status(obj, &status).await {
        Ok(_) => record_metrics(obj, &status, ctx),
        Err(e) => tracing::warn!(object = %key, error = %e, "could not write status"),
    }
    after
}

/// Pure: the conditions to set, the requeue and the Warning Event for a failed or waiting
/// reconcile. `backoff` counts the failure and returns its delay (only called for failures).
fn failure(
    previous: &[crate::crd::common::Condition],
    (err, deleting, unsure_write): (&Error, bool, bool),
    backoff: impl FnOnce() -> Duration,
    settings: &crate::controller::runtime::settings::Settings,
) -> (Vec<(&'static str, Cond)>, requeue::Retry, Option<Note>) {
    let message = err.to_string();
    if let Some(next) = err.wait() {
        let conds = vec![
            (types::READY, Cond::no(err.reason(), message)),
            (types::SYNCED, Cond::yes(reasons::RECONCILE_SUCCESS, "")),
        ];
        let retry = requeue::Retry {
            after: requeue::after(&next, settings),
            hold_writes: None,
        };
        return (conds, retry, None);
    }
    let hint = match err {
        Error::Cloud(e) => format!(" ({})", e.hint()),
        _ => String::new(),
    };
    let failed = Cond::no(err.reason(), format!("{message}{hint}"));
    let mut conds = vec![(types::SYNCED, failed.clone())];
    if deleting {
        conds.push((
            types::READY,
            Cond::no(reasons::DELETING, "deletion is being retried"),
        ));
    } else if err.blocks_readiness() || find_condition(previous, types::READY).is_none() {
        conds.push((types::READY, failed.clone()));
    }
    let action_word = if deleting {
        actions::DELETE
    } else {
        actions::RECONCILE
    };
    let note = Note::warning(err.reason(), action_word, failed.message);
    let retry = requeue::after_failure(
        err.is_terminal(),
        err.retry_after(),
        backoff(),
        unsure_write,
        settings,
    );
    (conds, retry, Some(note))
}

/// Whether the pause annotation is set to a true value.
pub fn is_paused<K: Resource>(obj: &K) -> bool {
    obj.meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSED_ANNOTATION))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Whether reconciling this object now would start new cloud work: it has no cloud resource
/// yet, and its last reconcile did not fail. A create that failed may still have made the
/// resource (its response lost, a timeout after the commit): such an object must go and find
/// it now, not wait behind others while its resource is ACTIVE.
pub fn starts_new_work<K: Object>(obj: &K) -> bool {
    not_started(HasStatus::status(obj))
}

fn not_started<S: ManagedStatus>(status: Option<&S>) -> bool {
    status.is_none_or(|s| {
        s.cloud_id().is_none()
            && find_condition(s.conditions(), types::SYNCED)
                .is_none_or(|c| c.status != ConditionStatus::False)
    })
}

/// How long the object has been waiting to be deleted (zero when it is not being deleted).
pub fn deleting_for<K: Resource>(obj: &K, now: &Time) -> Duration {
    obj.meta()
        .deletion_timestamp
        .as_ref()
        .map(|t| super::clock::elapsed(t, now))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{CloudError, ErrorKind};
    use crate::controller::runtime::settings::Settings;
    use crate::crd::common::{set_condition, Condition};
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
                Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
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

    fn reasons_of(conds: &[(&str, Cond)]) -> Vec<(String, ConditionStatus, String)> {
        conds
            .iter()
            .map(|(t, c)| (t.to_string(), c.status, c.reason.to_string()))
            .collect()
    }

    fn row(t: &str, s: ConditionStatus, r: &str) -> (String, ConditionStatus, String) {
        (t.to_string(), s, r.to_string())
    }

    #[test]
    fn a_failure_always_leaves_ready_and_synced_and_says_what_blocks_readiness() {
        use ConditionStatus::{False, True};
        let s = Settings::default();
        let ready = [Condition::new(
            types::READY,
            True,
            reasons::AVAILABLE,
            "",
            Some(1),
        )];
        let invalid = Error::InvalidSpec("gatewayIp is eip1 but ...".into());
        let secret = Error::Secret {
            namespace: "ns".into(),
            name: "psk".into(),
            problem: "not found".into(),
        };
        let transient = Error::Cloud(CloudError::new(ErrorKind::ServerError, "Op", "boom"));
        let table: [(&[Condition], &Error, bool, Vec<_>); 6] = [
            // A spec or Secret problem: Ready says the same as Synced, even when it was True.
            (
                &ready,
                &invalid,
                false,
                vec![
                    row("Synced", False, "InvalidSpec"),
                    row("Ready", False, "InvalidSpec"),
                ],
            ),
            (
                &[],
                &secret,
                false,
                vec![
                    row("Synced", False, "SecretNotReady"),
                    row("Ready", False, "SecretNotReady"),
                ],
            ),
            // A passing failure keeps a Ready it had...
            (
                &ready,
                &transient,
                false,
                vec![row("Synced", False, "CloudServerError")],
            ),
            // ...and sets one when it had none.
            (
                &[],
                &transient,
                false,
                vec![
                    row("Synced", False, "CloudServerError"),
                    row("Ready", False, "CloudServerError"),
                ],
            ),
            // During deletion Ready says so.
            (
                &ready,
                &transient,
                true,
                vec![
                    row("Synced", False, "CloudServerError"),
                    row("Ready", False, "Deleting"),
                ],
            ),
            (
                &[],
                &invalid,
                true,
                vec![
                    row("Synced", False, "InvalidSpec"),
                    row("Ready", False, "Deleting"),
                ],
            ),
        ];
        for (previous, err, deleting, want) in table {
            let f = (err, deleting, false);
            let (conds, _, note) = failure(previous, f, || Duration::from_secs(1), &s);
            assert_eq!(reasons_of(&conds), want, "{err}");
            let note = note.expect("a failure is an Event");
            assert!(note.warning);
            assert_eq!(note.reason, err.reason());
        }
        let (conds, _, _) = failure(&ready, (&invalid, false, false), || Duration::ZERO, &s);
        assert_eq!(
            conds[0].1.message, conds[1].1.message,
            "same message in Ready and Synced"
        );
    }

    #[test]
    fn only_a_first_ready_counts_towards_time_to_ready() {
        // No Ready before, or no resource yet (adopted, a synchronous create, a create that
        // failed once).
        assert!(first_ready(None, false));
        assert!(first_ready(Some((false, "CloudServerError")), false));
        assert!(first_ready(Some((false, reasons::CREATING)), true));
        assert!(!first_ready(Some((true, reasons::AVAILABLE)), true));
        assert!(!first_ready(Some((false, reasons::UPDATING)), true));
        assert!(!first_ready(
            Some((false, reasons::UPGRADE_PENDING_CONFIRM)),
            true
        ));
        assert!(!first_ready(Some((false, "CloudServerError")), true));
    }

    #[test]
    fn a_wait_is_not_a_failure() {
        use ConditionStatus::{False, True};
        let s = Settings::default();
        let wait = Error::waiting(
            reasons::DEPENDENCY_NOT_READY,
            "VpnGateway gw is not Ready yet",
            Next::Dependency {
                since: Duration::ZERO,
            },
        );
        let (conds, retry, note) = failure(
            &[],
            (&wait, false, false),
            || panic!("no backoff for a wait"),
            &s,
        );
        assert_eq!(
            reasons_of(&conds),
            vec![
                row("Ready", False, "DependencyNotReady"),
                row("Synced", True, "ReconcileSuccess")
            ]
        );
        assert_eq!(note, None);
        assert_eq!(retry.hold_writes, None);
        assert_eq!(
            retry.after,
            requeue::after(
                &Next::Dependency {
                    since: Duration::ZERO
                },
                &s
            )
        );
    }
}
