//! Per-object exponential backoff for failed reconciles (reset on success). How the backoff
//! becomes a requeue is decided in [`super::requeue`].
//!
//! After a cloud write whose outcome is unknown (a lost answer, a 5xx, a timeout: the cloud
//! may have done it), the object looks again soon, read-only, and only its *writes* wait for
//! the backoff: [`PerObjectBackoff::hold_writes`] records until when.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::SignedDuration;

/// Per-object exponential backoff with jitter, keyed by a string (kind/namespace/name).
#[derive(Debug)]
pub struct PerObjectBackoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
    /// Objects whose cloud writes wait until this time (see the module documentation).
    writes_held: Mutex<HashMap<String, Time>>,
}

impl PerObjectBackoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
            writes_held: Mutex::new(HashMap::new()),
        }
    }

    /// Records one more failure of `key` and returns how long to wait before the next try:
    /// `base * 2^(failures-1)`, capped at `max`, with up to 20% jitter taken off so objects
    /// that failed together do not come back together.
    pub fn failure(&self, key: &str) -> Duration {
        let n = {
            let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let n = map.entry(key.to_string()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let delay = exponential(self.base, self.max, n);
        let jitter = rand::random::<f64>() * 0.2;
        delay.mul_f64(1.0 - jitter)
    }

    /// Forgets the failures of `key` (called after a successful reconcile), and any hold on
    /// its writes.
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        self.writes_held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// The cloud writes of `key` wait for `delay` from `now`.
    pub fn hold_writes(&self, key: &str, now: &Time, delay: Duration) {
        let until = SignedDuration::try_from(delay)
            .ok()
            .and_then(|d| now.0.checked_add(d).ok())
            .unwrap_or(now.0);
        self.writes_held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), Time(until));
    }

    /// How much longer the cloud writes of `key` wait at `now` (`None`: they may go).
    pub fn writes_held(&self, key: &str, now: &Time) -> Option<Duration> {
        let held = self.writes_held.lock().unwrap_or_else(|e| e.into_inner());
        let left = super::clock::elapsed(now, held.get(key)?);
        (!left.is_zero()).then_some(left)
    }

    /// Number of consecutive failures recorded for `key`.
    pub fn failures(&self, key: &str) -> u32 {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Objects currently backing off (for metrics).
    pub fn len(&self) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `base * 2^(n-1)` capped at `max` (n >= 1).
pub fn exponential(base: Duration, max: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_double_until_the_cap_and_reset_on_success() {
        let b = PerObjectBackoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let d: Vec<Duration> = (0..6).map(|_| b.failure("a")).collect();
        // 1, 2, 4, 8, 10, 10 seconds, each minus at most 20% jitter.
        for (got, want) in d.iter().zip([1, 2, 4, 8, 10, 10]) {
            let want = Duration::from_secs(want);
            assert!(
                *got <= want && *got >= want.mul_f64(0.8),
                "{got:?} vs {want:?}"
            );
        }
        assert_eq!(b.failures("a"), 6);
        assert_eq!(b.failures("b"), 0, "objects back off independently");
        b.reset("a");
        assert_eq!(b.failures("a"), 0);
        assert!(b.failure("a") <= Duration::from_secs(1));
    }

    #[test]
    fn writes_wait_until_the_hold_ends_or_a_success() {
        let b = PerObjectBackoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let t0 = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        let at = |s: i64| Time(t0.0.checked_add(SignedDuration::from_secs(s)).unwrap());
        assert_eq!(b.writes_held("a", &t0), None, "nothing held at first");
        b.hold_writes("a", &t0, Duration::from_secs(4));
        assert_eq!(b.writes_held("a", &at(1)), Some(Duration::from_secs(3)));
        assert_eq!(b.writes_held("b", &at(1)), None, "objects are held apart");
        assert_eq!(b.writes_held("a", &at(4)), None, "the hold ends");
        b.hold_writes("a", &t0, Duration::from_secs(4));
        b.reset("a");
        assert_eq!(b.writes_held("a", &at(1)), None, "a success ends it");
    }
}
