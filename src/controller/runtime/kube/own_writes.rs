//! The statuses this operator wrote and its caches have not shown yet.
//!
//! A reconcile reads its object from the controller's cache, which the watch fills. After a
//! status write the next reconcile can come before the watch brings that write back (a wake
//! from the pending watch, a requeue): on a busy API server, seconds before. A reconcile that
//! read the older status then took a created connection for one that had not tried the cloud
//! yet (and deferred it), or found no pre-shared-key fingerprint and rotated the key again.
//!
//! Only the leader writes status, so the status it last wrote is the newest there is. Until
//! the cache shows it, a reconcile sees the object with that status (see [`view`]). An entry
//! goes when the cache shows the write, and in any case after [`KEEP`]: then the cache is
//! trusted again, as before.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How long a written status is preferred to the cache: far longer than the watch takes to
/// bring a write back, even on a loaded API server, and short enough that entries for objects
/// not reconciled again (most, once Ready) do not pile up.
pub const KEEP: Duration = Duration::from_secs(15);

/// One written status.
struct Entry {
    /// The object's `resourceVersion` after the write, when the API server said.
    version: Option<String>,
    /// The status as written (JSON).
    status: Box<[u8]>,
    at: Instant,
}

/// What a reconcile should see of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The cached object: nothing written, or the cache already shows the write (the entry
    /// can go).
    Cached { forget: bool },
    /// The cached object with the status last written: the cache has not shown it yet.
    Written,
}

/// What a reconcile sees of an object whose cache holds `cached_version` and `cached_status`,
/// after this operator wrote `written_status` (answered with `written_version`) `age` ago.
pub fn view(
    written_version: Option<&str>,
    written_status: &[u8],
    age: Duration,
    cached_version: Option<&str>,
    cached_status: &[u8],
) -> View {
    let shown = written_version.is_some() && written_version == cached_version;
    if shown || cached_status == written_status || age >= KEEP {
        View::Cached { forget: true }
    } else {
        View::Written
    }
}

/// The statuses written and not yet seen in the cache, by object uid.
#[derive(Default)]
pub struct OwnWrites {
    entries: Mutex<HashMap<String, Entry>>,
    swept: Mutex<Option<Instant>>,
}

impl OwnWrites {
    /// Remembers that `status` was written to object `uid`, now at `version`.
    pub fn record(&self, uid: &str, version: Option<String>, status: Box<[u8]>) {
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        entries.insert(
            uid.to_string(),
            Entry {
                version,
                status,
                at: now,
            },
        );
        // Objects that are not reconciled again would keep their entry: drop old ones now and
        // then, so the map holds only the last moments' writes.
        let mut swept = lock(&self.swept);
        if swept.is_none_or(|t| now.duration_since(t) >= KEEP) {
            entries.retain(|_, e| now.duration_since(e.at) < KEEP);
            *swept = Some(now);
        }
    }

    /// The status written to `uid` that a reconcile should see instead of `cached_status`
    /// (JSON), if any.
    pub fn newer(
        &self,
        uid: &str,
        cached_version: Option<&str>,
        cached_status: &[u8],
    ) -> Option<Box<[u8]>> {
        let mut entries = lock(&self.entries);
        let e = entries.get(uid)?;
        match view(
            e.version.as_deref(),
            &e.status,
            e.at.elapsed(),
            cached_version,
            cached_status,
        ) {
            View::Written => Some(e.status.clone()),
            View::Cached { forget } => {
                if forget {
                    entries.remove(uid);
                }
                None
            }
        }
    }

    /// Drops entries older than [`KEEP`] (housekeeping: at rest no write comes to sweep them)
    /// and gives back the map's room once it is empty. Returns how many went.
    pub fn forget_old(&self) -> usize {
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        let before = entries.len();
        entries.retain(|_, e| now.duration_since(e.at) < KEEP);
        if entries.is_empty() {
            entries.shrink_to_fit();
        }
        before - entries.len()
    }

    /// Whether a status written to `uid` may not have been shown yet.
    pub fn holds(&self, uid: &str) -> bool {
        lock(&self.entries).contains_key(uid)
    }

    /// Entries held (tests).
    pub fn held(&self) -> usize {
        lock(&self.entries).len()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_reconcile_sees_the_written_status_until_the_cache_shows_it() {
        let (old, new) = (&br#"{"cloudId":null}"#[..], &br#"{"cloudId":"c1"}"#[..]);
        // (written version, age, cached version, cached status) -> view
        type Row<'a> = (Option<&'a str>, Duration, Option<&'a str>, &'a [u8], View);
        let rows: &[Row] = &[
            // The cache still holds the object as it was before the write.
            (Some("8"), S, Some("7"), old, View::Written),
            // ... also when a spec change made between read and write is all it shows.
            (Some("9"), S, Some("8"), old, View::Written),
            // The cache shows the write.
            (Some("8"), S, Some("8"), new, View::Cached { forget: true }),
            // A later change (a new spec) that carries the written status.
            (Some("8"), S, Some("12"), new, View::Cached { forget: true }),
            // No version from the API server: the status itself says the write arrived.
            (None, S, Some("8"), new, View::Cached { forget: true }),
            (None, S, Some("7"), old, View::Written),
            // Not shown after KEEP: the cache is trusted again.
            (
                Some("8"),
                KEEP,
                Some("7"),
                old,
                View::Cached { forget: true },
            ),
        ];
        for (i, (wv, age, cv, cs, want)) in rows.iter().enumerate() {
            assert_eq!(view(*wv, new, *age, *cv, cs), *want, "row {i}");
        }
    }

    #[test]
    fn an_entry_goes_once_the_cache_shows_the_write() {
        let w = OwnWrites::default();
        w.record("u1", Some("8".into()), b"new".to_vec().into());
        assert_eq!(
            w.newer("u1", Some("7"), b"old").as_deref(),
            Some(&b"new"[..])
        );
        assert_eq!(w.held(), 1, "kept until the cache shows it");
        assert_eq!(w.newer("u1", Some("8"), b"new"), None);
        assert_eq!(w.held(), 0, "forgotten once shown");
        assert_eq!(w.newer("u2", Some("1"), b"x"), None, "never written");
    }

    #[tokio::test(start_paused = true)]
    async fn entries_of_objects_not_reconciled_again_do_not_pile_up() {
        let w = OwnWrites::default();
        for i in 0..100 {
            w.record(&format!("u{i}"), Some("1".into()), b"s".to_vec().into());
        }
        tokio::time::advance(KEEP).await;
        w.record("last", Some("2".into()), b"s".to_vec().into());
        assert_eq!(w.held(), 1, "only the write of the last moments is kept");
        // At rest no write comes: housekeeping sweeps.
        assert_eq!(w.forget_old(), 0, "the last write is still young");
        tokio::time::advance(KEEP).await;
        assert_eq!(w.forget_old(), 1);
        assert_eq!(w.held(), 0);
    }
}
