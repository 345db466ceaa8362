//! The injectable clock that drives the simulated state machines.
//!
//! Resource states advance lazily: a transition is stored with the time it is due, and every
//! API or admin call first applies the transitions whose time has come (see
//! [`crate::sim::state`]). So a test never sleeps: it uses delays of zero, a [`Clock::manual`]
//! clock it advances itself (also through `POST /_sim/clock/advance`), or [`Clock::tokio`]
//! under `tokio::time::pause()`.
//!
//! Signature-time checks (clock skew) do not use this clock but the machine's wall clock, so a
//! manual or paused clock never makes real clients' signatures look expired.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration as ChronoDuration, Utc};

/// Where "now" comes from.
#[derive(Clone)]
pub struct Clock(Arc<Inner>);

enum Inner {
    System,
    Manual(Mutex<DateTime<Utc>>),
    Tokio {
        start_wall: DateTime<Utc>,
        start: tokio::time::Instant,
    },
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &*self.0 {
            Inner::System => "system",
            Inner::Manual(_) => "manual",
            Inner::Tokio { .. } => "tokio",
        };
        write!(f, "Clock({kind}, now={})", self.now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The machine's UTC clock.
    pub fn system() -> Self {
        Self(Arc::new(Inner::System))
    }

    /// A clock that only moves when [`advance`](Self::advance)d.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Inner::Manual(Mutex::new(start))))
    }

    /// Wall time at creation plus tokio's (pausable) elapsed time: tests can use
    /// `tokio::time::pause()` and `tokio::time::advance()`. Must be created inside a runtime.
    pub fn tokio() -> Self {
        Self(Arc::new(Inner::Tokio {
            start_wall: Utc::now(),
            start: tokio::time::Instant::now(),
        }))
    }

    /// The current simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Inner::System => Utc::now(),
            Inner::Manual(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
            Inner::Tokio { start_wall, start } => {
                let elapsed = start.elapsed();
                *start_wall
                    + ChronoDuration::from_std(elapsed).unwrap_or_else(|_| ChronoDuration::zero())
            }
        }
    }

    /// True for a [`Clock::manual`] clock.
    pub fn is_manual(&self) -> bool {
        matches!(&*self.0, Inner::Manual(_))
    }

    /// Moves a manual clock forward; returns false (and does nothing) for other clocks.
    pub fn advance(&self, by: std::time::Duration) -> bool {
        match &*self.0 {
            Inner::Manual(t) => {
                let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
                *t += ChronoDuration::from_std(by).unwrap_or_else(|_| ChronoDuration::zero());
                true
            }
            _ => false,
        }
    }
}

/// Formats a time the way the API documents it: UTC `yyyy-MM-ddTHH:mm:ss.SSSZ`.
pub fn api_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses a marker / timestamp given back by a client (any RFC 3339 form).
pub fn parse_api_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let start = parse_api_time("2025-06-28T02:22:27.240Z").unwrap();
        let c = Clock::manual(start);
        assert_eq!(c.now(), start);
        assert!(c.advance(std::time::Duration::from_millis(1500)));
        assert_eq!(api_time(c.now()), "2025-06-28T02:22:28.740Z");
        assert!(!Clock::system().advance(std::time::Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let c = Clock::tokio();
        let t0 = c.now();
        tokio::time::advance(std::time::Duration::from_secs(90)).await;
        assert_eq!((c.now() - t0).num_seconds(), 90);
    }

    #[tokio::test]
    async fn tokio_clock_starts_at_wall_time() {
        let c = Clock::tokio();
        let drift = (c.now() - Utc::now()).num_seconds().abs();
        assert!(drift < 5, "drift {drift}s");
        assert!(!c.is_manual());
    }

    #[test]
    fn api_time_round_trips() {
        let t = parse_api_time("2025-06-11T13:59:59.633Z").unwrap();
        assert_eq!(api_time(t), "2025-06-11T13:59:59.633Z");
        assert!(parse_api_time("2021-12-21T16:49:28.108+08:00").is_some());
        assert!(parse_api_time("yesterday").is_none());
    }
}
