//! When to look at an object again: the one place that turns what a reconcile found ([`Next`])
//! or how it failed into a kube-runtime [`Action`]. The kinds say *what* they wait for; this
//! module says *how soon*.
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;

use super::clock::elapsed;
use super::settings::Settings;
use crate::crd::common::Condition;

/// What an object waits for after a reconcile. The kinds decide this; [`action`] decides the
/// timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing: the object is looked at again with the resync of its whole kind.
    Resync,
    /// The operator just changed the cloud (or created something): confirm soon.
    Soon,
    /// The cloud is working on the resource (e.g. `PENDING_CREATE`) and has been for `since`.
    /// `watched`: the pending watch wakes the object when the state changes, so the requeue is
    /// only a slow fallback.
    Pending { since: Duration, watched: bool },
    /// Waiting for an object this one needs (a referenced gateway), which wakes this object
    /// through a watch when it changes; `since`: how long it has waited.
    Dependency { since: Duration },
    /// Being deleted, waiting for the objects that use this one to go; `since`: how long it has
    /// waited. Their departure wakes it, but the cache it reads them from may lag a moment
    /// behind that wake-up, so it also looks again at the pending pace.
    Dependents { since: Duration },
    /// The cloud refused for now (busy with another operation): try again in a few seconds.
    Busy,
    /// Look again after this long (e.g. the autoscaler's evaluation interval), or at the resync
    /// of the kind if that comes first.
    After(Duration),
    /// Something only time or a person can fix (e.g. a change the cloud rolled back): try
    /// again on the slow interval of terminal errors, or at once on a spec change.
    Later,
}

/// The pending watch lists each kind once a tick; an object registered with it is requeued
/// only as a fallback, at ten ticks.
const WATCHED_FALLBACK_TICKS: u32 = 10;

/// The least wait after the cloud answered "busy".
const BUSY_RETRY: Duration = Duration::from_secs(5);

/// When to look again: after this long, or (`None`) when something changes or the resync of
/// the kind comes.
pub type Requeue = Option<Duration>;

/// The kube-runtime action for a requeue.
pub fn to_action(r: Requeue) -> Action {
    r.map_or_else(Action::await_change, Action::requeue)
}

/// The requeue for `next`.
pub fn action(next: &Next, settings: &Settings) -> Action {
    to_action(after(next, settings))
}

/// How long until `next` is looked at again.
pub fn after(next: &Next, settings: &Settings) -> Requeue {
    let tick = settings.pending_requeue;
    let after = match next {
        Next::Resync => return None,
        Next::Soon => tick,
        Next::Pending { since, watched } => {
            let poll = pending_poll(tick, *since);
            if *watched {
                fallback(tick, poll)
            } else {
                poll
            }
        }
        Next::Dependency { since } => fallback(tick, pending_poll(tick, *since)),
        Next::Dependents { since } => pending_poll(tick, *since),
        Next::Busy => tick.max(BUSY_RETRY),
        Next::After(d) => *d,
        Next::Later => settings.terminal_retry,
    };
    settled_or_requeue(after, settings)
}

/// After a failed reconcile: when to look again, and how long the object's cloud writes wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    pub after: Requeue,
    /// `Some`: writes wait this long, while reads may come sooner (see [`after_failure`]).
    pub hold_writes: Option<Duration>,
}

/// The retry after a failed reconcile: the per-object backoff (`backoff`, already counting
/// this failure), stretched to the cloud's `Retry-After`; `terminal` errors (only the user can
/// fix them) are retried on the slow terminal interval.
///
/// `unsure_write`: a cloud write failed in a way that leaves its outcome unknown (the cloud may
/// have done it: a lost answer, a 5xx, a timeout). Waiting out the backoff before looking would
/// leave a resource the cloud made (a create whose answer was lost) unreported for that long;
/// instead the object looks again at the pending pace, and only its writes wait for the backoff
/// ([`writes_wait`]), so a failing cloud still sees no more writes than before.
pub fn after_failure(
    terminal: bool,
    retry_after: Option<Duration>,
    backoff: Duration,
    unsure_write: bool,
    settings: &Settings,
) -> Retry {
    if terminal {
        return Retry {
            after: Some(settings.terminal_retry),
            hold_writes: None,
        };
    }
    let wait = retry_after.map_or(backoff, |r| r.max(backoff));
    if unsure_write {
        return Retry {
            after: Some(settings.pending_requeue.min(wait)),
            hold_writes: Some(wait),
        };
    }
    Retry {
        after: Some(wait),
        hold_writes: None,
    }
}

/// Whether a reconcile may carry out its plan now: `None` yes; `Some(left)`: the plan writes to
/// the cloud while the object's writes are held for `left` more, so it looks again then.
pub fn writes_wait(plan_writes: bool, held: Option<Duration>) -> Option<Duration> {
    held.filter(|_| plan_writes)
}

/// The requeue of a new object deferred behind objects whose cloud operation just finished.
pub fn deferred(settings: &Settings) -> Requeue {
    Some(settings.pending_requeue / 2)
}

/// An object asking for no sooner than the resync interval waits for the next resync of its
/// whole kind (`Controller::reconcile_all_on`) rather than keeping its own entry in the
/// controller's queue for as long as it exists.
pub fn settled_or_requeue(after: Duration, settings: &Settings) -> Requeue {
    (after < settings.resync_interval).then_some(after)
}

/// How soon to look again at an object whose cloud state is pending: every `tick` for the first
/// two minutes (observations come from a list shared by all objects of a kind, so polling costs
/// no extra cloud call), then less often the longer it lasts: a twentieth of the time it has
/// been pending, at most 30 s.
pub fn pending_poll(tick: Duration, pending_for: Duration) -> Duration {
    if pending_for < Duration::from_secs(120) {
        tick
    } else {
        (pending_for / 20).clamp(tick, Duration::from_secs(30).max(tick))
    }
}

/// The requeue of an object another mechanism wakes (the pending watch, a watch on the object
/// it depends on): the usual poll, but never sooner than ten ticks.
pub fn fallback(tick: Duration, poll: Duration) -> Duration {
    poll.max(tick * WATCHED_FALLBACK_TICKS)
}

/// How long a pending cloud operation has lasted: since `Ready` last changed or since the cloud
/// last changed the resource (`cloud_changed`: its `updated_at`, else `created_at`), whichever
/// is shorter. An object that waited before its operation began (queued behind other writes, or
/// for a dependency) is therefore polled quickly again once the operation starts. A cloud clock
/// ahead of ours reads as 0.
pub fn pending_for(ready: Option<&Condition>, cloud_changed: Option<&str>, now: &Time) -> Duration {
    let by_condition = ready.map(|c| elapsed(&c.last_transition_time, now));
    let by_cloud = cloud_changed
        .and_then(|t| crate::cloud::model::common::Timestamp::new(t).to_utc())
        .and_then(|t| k8s_openapi::jiff::Timestamp::from_second(t.timestamp()).ok())
        .map(|t| elapsed(&Time(t), now));
    match (by_condition, by_cloud) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::common::ConditionStatus;

    fn settings() -> Settings {
        Settings {
            pending_requeue: Duration::from_secs(1),
            resync_interval: Duration::from_secs(600),
            terminal_retry: Duration::from_secs(300),
            ..Settings::default()
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn what_an_object_waits_for_decides_how_soon_it_is_looked_at() {
        let s = settings();
        let table = [
            (Next::Resync, Action::await_change()),
            (Next::Soon, Action::requeue(secs(1))),
            (
                Next::Pending {
                    since: secs(10),
                    watched: false,
                },
                Action::requeue(secs(1)),
            ),
            (
                Next::Pending {
                    since: secs(10),
                    watched: true,
                },
                Action::requeue(secs(10)),
            ),
            (
                Next::Pending {
                    since: secs(600),
                    watched: false,
                },
                Action::requeue(secs(30)),
            ),
            (
                Next::Dependency { since: secs(5) },
                Action::requeue(secs(10)),
            ),
            (
                Next::Dependents { since: secs(5) },
                Action::requeue(secs(1)),
            ),
            (Next::Busy, Action::requeue(secs(5))),
            (Next::After(secs(20)), Action::requeue(secs(20))),
            (Next::After(secs(600)), Action::await_change()),
            (Next::Later, Action::requeue(secs(300))),
        ];
        for (next, want) in table {
            assert_eq!(action(&next, &s), want, "{next:?}");
        }
    }

    #[test]
    fn pending_objects_are_polled_less_often_the_longer_they_wait() {
        let tick = secs(1);
        assert_eq!(pending_poll(tick, Duration::ZERO), tick);
        assert_eq!(pending_poll(tick, secs(100)), tick);
        assert_eq!(pending_poll(tick, secs(300)), secs(15));
        assert_eq!(pending_poll(tick, secs(3600)), secs(30));
        assert_eq!(fallback(tick, tick), secs(10));
        assert_eq!(fallback(tick, secs(30)), secs(30));
    }

    #[test]
    fn failures_back_off_terminal_ones_wait_for_a_fix() {
        let s = settings();
        let retry = |after: u64, hold: Option<u64>| Retry {
            after: Some(secs(after)),
            hold_writes: hold.map(secs),
        };
        // (terminal, Retry-After, backoff, unsure write) -> retry
        let table = [
            ((false, None, 4, false), retry(4, None)),
            // Retry-After stretches the backoff, never shortens it.
            ((false, Some(9), 4, false), retry(9, None)),
            ((false, Some(1), 4, false), retry(4, None)),
            ((true, None, 4, false), retry(300, None)),
            ((true, None, 4, true), retry(300, None)),
            // A write that may have happened: look again at the pending pace (1 s here),
            // writes wait for the whole backoff (stretched by Retry-After).
            ((false, None, 4, true), retry(1, Some(4))),
            ((false, Some(9), 4, true), retry(1, Some(9))),
            ((false, None, 1, true), retry(1, Some(1))),
        ];
        for ((terminal, retry_after, backoff, unsure), want) in table {
            assert_eq!(
                after_failure(
                    terminal,
                    retry_after.map(secs),
                    secs(backoff),
                    unsure,
                    &s
                ),
                want,
                "terminal {terminal}, Retry-After {retry_after:?}, backoff {backoff}, unsure {unsure}"
            );
        }
        assert_eq!(deferred(&s), Some(Duration::from_millis(500)));
    }

    #[test]
    fn only_writes_wait_for_a_hold() {
        assert_eq!(writes_wait(true, Some(secs(3))), Some(secs(3)));
        assert_eq!(writes_wait(false, Some(secs(3))), None, "a look goes ahead");
        assert_eq!(writes_wait(true, None), None);
        assert_eq!(writes_wait(false, None), None);
    }

    #[test]
    fn pending_time_counts_from_the_latest_cloud_change() {
        let now = Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap());
        let ago =
            |s: i64| Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 - s).unwrap());
        let mut ready = Condition::new("Ready", ConditionStatus::False, "Creating", "", None);
        ready.last_transition_time = ago(300);
        let cloud = |s: i64| {
            let t = chrono::DateTime::from_timestamp(1_800_000_000 - s, 0).unwrap();
            crate::cloud::model::common::Timestamp::from_datetime(t).to_string()
        };
        // Queued for 5 minutes, created in the cloud 10 s ago: pending for about 10 s.
        assert_eq!(pending_for(Some(&ready), Some(&cloud(10)), &now), secs(10));
        // Without (or with an unreadable) cloud time, the condition's age counts.
        assert_eq!(pending_for(Some(&ready), None, &now), secs(300));
        assert_eq!(pending_for(Some(&ready), Some("garbage"), &now), secs(300));
        // A cloud change older than the condition does not stretch it.
        assert_eq!(
            pending_for(Some(&ready), Some(&cloud(900)), &now),
            secs(300)
        );
        assert_eq!(pending_for(None, None, &now), Duration::ZERO);
    }
}
