//! Where a reconcile's "now" comes from: the system clock when the operator runs, a clock the
//! test moves itself (shared with the simulator) in the cluster-free tests. Every decision that
//! depends on time (condition transition times, how long an operation has been pending,
//! cooldowns, drift detection times) reads this clock, never the system clock directly.
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// A source of the current time.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that asks `now` (e.g. a manual clock shared with the simulator).
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(now)))
    }

    /// The current time.
    pub fn now(&self) -> Time {
        Time(match &self.0 {
            None => Timestamp::now(),
            Some(f) => f(),
        })
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.0.is_some() {
            "injected"
        } else {
            "system"
        };
        write!(f, "Clock({kind})")
    }
}

/// How long from `earlier` to `now` (zero when `earlier` is in the future).
pub fn elapsed(earlier: &Time, now: &Time) -> Duration {
    Duration::try_from(now.0.duration_since(earlier.0)).unwrap_or_default()
}

/// `t` as whole epoch seconds.
pub fn epoch_seconds(t: &Time) -> i64 {
    t.0.as_second()
}

/// The time at epoch second `secs` (`fallback` when out of range).
pub fn from_epoch_seconds(secs: i64, fallback: &Time) -> Time {
    Timestamp::from_second(secs).map_or_else(|_| fallback.clone(), Time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_injected_clock_is_the_only_source_of_now() {
        let at = Timestamp::from_second(1_700_000_000).unwrap();
        let clock = Clock::from_fn(move || at);
        assert_eq!(clock.now(), Time(at));
        let later = Time(Timestamp::from_second(1_700_000_090).unwrap());
        assert_eq!(elapsed(&clock.now(), &later), Duration::from_secs(90));
        assert_eq!(
            elapsed(&later, &clock.now()),
            Duration::ZERO,
            "never negative"
        );
        assert_eq!(epoch_seconds(&later), 1_700_000_090);
        assert_eq!(from_epoch_seconds(1_700_000_090, &clock.now()), later);
    }
}
