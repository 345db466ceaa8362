//! The operator's own writes to its objects that the controllers' caches have not shown yet.
//!
//! A reconcile reads its object from the controller's cache, which the watch fills. After the
//! operator writes an object (status, finalizer), the next reconcile can come before the watch
//! brings that write back: a wake from the pending watch or a requeue, on a busy API server
//! seconds before. Acting on the older copy went wrong: a created connection looked like one
//! that had not tried the cloud yet (and was deferred), and with no pre-shared-key fingerprint
//! in that status the reconcile sent the key to the cloud again.
//!
//! So the operator remembers the `resourceVersion` each of its writes was answered with, and a
//! reconcile handed an object at another version waits for the watch instead of acting. Only
//! versions are kept (no copies of statuses), and an entry goes as soon as the watch shows
//! the write ([`Unseen::shown`]), so at rest nothing is held. The watch can bring a write's
//! event before its answer is read; the versions it brings while a write is in flight are
//! compared with the answer, so such a write is not waited for (a later change by someone
//! else would otherwise look like an older copy). After [`KEEP`] the cache is
//! trusted again whatever it holds: a relist can skip the written version (a later one
//! replaces it), and then nothing would ever show it.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::lock;

/// How long a write may stay unseen before the cache is trusted again: far longer than a
/// loaded API server takes to bring a write back on the watch.
pub const KEEP: Duration = Duration::from_secs(15);

/// When a reconcile handed an older copy looks again. The watch event of a status write
/// wakes nobody (status-only changes are filtered out), so this requeue does.
pub const RETRY: Duration = Duration::from_millis(250);

/// Entries are swept of old ones at most this often, when writes add new ones.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// How many versions the watch may bring while a write is in flight that are kept to compare
/// with its answer (more than one reconcile's writes to one object ever make).
const SEEN_IN_FLIGHT: usize = 8;

/// One write: the version it was answered with (`None` while in flight), and when it began.
struct Written {
    version: Option<String>,
    /// The versions the watch brought while the write was in flight: its own event can come
    /// before its answer, and then must not be waited for.
    seen: Vec<String>,
    at: Instant,
}

/// Whether the copy of an object a reconcile was handed shows the operator's last write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Nothing unseen: act on it.
    Current,
    /// The cache shows the write now, or waited long enough: act on it, drop the entry.
    CaughtUp,
    /// Older than the last write: wait for the watch.
    Behind,
}

/// Judges a copy at `cached` against the last write, answered with `written`, `age` ago.
pub fn judge(written: Option<&str>, age: Duration, cached: Option<&str>) -> Staleness {
    match written {
        None => Staleness::Current,
        Some(w) if cached == Some(w) || age >= KEEP => Staleness::CaughtUp,
        Some(_) => Staleness::Behind,
    }
}

/// The unseen writes, by object uid.
#[derive(Default)]
pub struct Unseen {
    entries: Mutex<HashMap<String, Written>>,
    swept: Mutex<Option<Instant>>,
}

impl Unseen {
    /// A write to object `uid` is about to be sent.
    pub fn writing(&self, uid: &str) {
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        let w = Written {
            version: None,
            seen: Vec::new(),
            at: now,
        };
        entries.insert(uid.to_string(), w);
        // An object deleted or relisted past its write would keep its entry: sweep now and then.
        let mut swept = lock(&self.swept);
        if swept.is_none_or(|t| now.duration_since(t) >= SWEEP_EVERY) {
            *swept = Some(now);
            entries.retain(|_, w| now.duration_since(w.at) < KEEP);
            if entries.capacity() > 4 * entries.len().max(16) {
                entries.shrink_to_fit();
            }
        }
    }

    /// The write to object `uid` was answered with `version` (`None`: it failed, or the answer
    /// carried none). Nothing is kept when the watch already brought that version.
    pub fn wrote(&self, uid: &str, version: Option<String>) {
        let mut entries = lock(&self.entries);
        let Some(w) = entries.get_mut(uid) else {
            return;
        };
        match version {
            Some(v) if !w.seen.contains(&v) => {
                w.version = Some(v);
                w.seen = Vec::new();
                w.at = Instant::now();
            }
            _ => {
                entries.remove(uid);
            }
        }
    }

    /// Judges the copy of object `uid` at `version` a reconcile was handed (see [`judge`]).
    pub fn judge(&self, uid: &str, version: Option<&str>) -> Staleness {
        let mut entries = lock(&self.entries);
        let Some(w) = entries.get(uid) else {
            return Staleness::Current;
        };
        let copy = judge(w.version.as_deref(), w.at.elapsed(), version);
        if copy == Staleness::CaughtUp {
            entries.remove(uid);
        }
        copy
    }

    /// The watch brought object `uid` at `version` (`None`: it was deleted).
    pub fn shown(&self, uid: &str, version: Option<&str>) {
        let mut entries = lock(&self.entries);
        if entries.is_empty() {
            return;
        }
        let Some(w) = entries.get_mut(uid) else {
            return;
        };
        let seen = match (&w.version, version) {
            (_, None) => true,
            (Some(written), Some(v)) => written == v,
            (None, Some(v)) => {
                if w.seen.len() < SEEN_IN_FLIGHT {
                    w.seen.push(v.to_string());
                }
                false
            }
        };
        if seen {
            entries.remove(uid);
        }
    }

    /// How many writes are unseen.
    pub fn held(&self) -> usize {
        lock(&self.entries).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_behind_until_it_shows_the_version_written_or_the_wait_is_over() {
        let s = Duration::from_secs;
        let cases = [
            // (written, age, cached, judged)
            (None, s(0), Some("7"), Staleness::Current),
            (None, s(0), None, Staleness::Current),
            (Some("8"), s(0), Some("7"), Staleness::Behind),
            (Some("8"), s(0), None, Staleness::Behind),
            (Some("8"), s(14), Some("7"), Staleness::Behind),
            (Some("8"), s(0), Some("8"), Staleness::CaughtUp),
            (Some("8"), KEEP, Some("7"), Staleness::CaughtUp),
            // A later version than the one written cannot be told from an older one
            // (versions are opaque): it is trusted once the wait is over.
            (Some("8"), s(1), Some("9"), Staleness::Behind),
        ];
        for (written, age, cached, judged) in cases {
            assert_eq!(
                judge(written, age, cached),
                judged,
                "written {written:?} {age:?} ago, cached {cached:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_entry_goes_when_the_watch_shows_the_write_or_the_object_goes() {
        let u = Unseen::default();
        u.writing("a");
        u.wrote("a", Some("8".into()));
        u.writing("b");
        u.wrote("b", Some("3".into()));
        u.shown("a", Some("7"));
        assert_eq!(u.judge("a", Some("7")), Staleness::Behind, "an older event");
        u.shown("a", Some("8"));
        assert_eq!(
            u.judge("a", Some("7")),
            Staleness::Current,
            "shown: nothing held"
        );
        u.shown("b", None);
        assert_eq!(u.held(), 0, "deleted: nothing held");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconcile_that_sees_the_write_or_waited_long_enough_drops_the_entry() {
        let u = Unseen::default();
        u.writing("a");
        u.wrote("a", Some("8".into()));
        assert_eq!(u.judge("a", Some("8")), Staleness::CaughtUp);
        assert_eq!(u.held(), 0);
        u.writing("a");
        u.wrote("a", Some("9".into()));
        tokio::time::advance(KEEP).await;
        assert_eq!(u.judge("a", Some("8")), Staleness::CaughtUp);
        assert_eq!(u.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_never_shown_are_swept_when_later_writes_come() {
        let u = Unseen::default();
        u.writing("gone");
        u.wrote("gone", Some("1".into()));
        tokio::time::advance(SWEEP_EVERY).await;
        u.writing("new");
        u.wrote("new", Some("2".into()));
        assert_eq!(u.held(), 1, "only the write of the last {KEEP:?} is held");
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_whose_event_came_before_its_answer_is_not_waited_for() {
        let u = Unseen::default();
        u.writing("a");
        u.shown("a", Some("8"));
        u.wrote("a", Some("8".into()));
        assert_eq!(u.held(), 0, "the watch already showed it");
        // A later change (someone else's) must not be taken for an older copy.
        assert_eq!(u.judge("a", Some("9")), Staleness::Current);
        u.writing("a");
        u.shown("a", Some("9"));
        u.wrote("a", Some("10".into()));
        assert_eq!(
            u.judge("a", Some("9")),
            Staleness::Behind,
            "an older event in flight"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_failed_or_is_in_flight_holds_nothing_up() {
        let u = Unseen::default();
        u.writing("a");
        assert_eq!(u.judge("a", Some("7")), Staleness::Current, "in flight");
        u.wrote("a", None);
        assert_eq!(u.held(), 0, "failed: nothing kept");
    }
}
