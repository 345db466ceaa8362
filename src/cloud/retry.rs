//! Bounded exponential backoff with jitter, honouring `Retry-After`. (cloud-core)
//!
//! What is retried inside one call (everything else goes back to the caller, whose
//! controller requeues; `NotReady` and `RepeatedOperation` in particular wait for the
//! cloud's state machine, and `InsufficientCapacity` (VPN.0505) for the region's capacity,
//! which take minutes, not seconds):
//!
//! | Kind | Reads / idempotent writes | Creates (POST, not idempotent) |
//! |---|---|---|
//! | `Throttled`, `Busy` | yes | yes (the gateway/service rejected it) |
//! | `ServerError` | yes | only HTTP 503 (others may have been applied) |
//! | `Transport`, `Timeout` | yes | only if the request surely never left (e.g. the IAM token could not be fetched) |
//! | anything else | no | no |
//!
//! Creates are conservative because the VPN API has no idempotency token: a repeated
//! create can make a duplicate gateway (gateways reference §2.6).
use std::time::Duration;

use super::error::{CloudError, ErrorKind};
use super::operation::Operation;

/// How the computed backoff is spread out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// "Full jitter": uniformly random in `[0, backoff]` (spreads retries of many callers).
    Full,
    /// Deterministic `backoff * fraction` (`fraction` clamped to `[0, 1]`); for tests.
    Fixed(f64),
}

/// How retryable errors are retried inside one call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retry).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Spreads the backoff; [`Jitter::Full`] by default.
    pub jitter: Jitter,
    /// Least wait after a throttling answer without `Retry-After`
    /// (Huawei advises 2-5 s after `APIGW.0308`); capped at `max_delay`.
    pub throttle_min_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 500 ms base, 20 s cap, full jitter, at least 2 s after throttling.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            jitter: Jitter::Full,
            throttle_min_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// A policy with the given bounds and the default jitter and throttle floor.
    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts,
            base_delay,
            max_delay,
            ..Self::default()
        }
    }

    /// Never retry (one attempt).
    pub fn none() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// The same policy with another jitter (e.g. `Jitter::Fixed(1.0)` in tests).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Whether the client may repeat `op` after `err` on attempt `attempt` (1-based).
    /// `maybe_sent` is false only when the request surely never reached the server
    /// (connection refused, credentials not obtained).
    pub fn should_retry(
        &self,
        op: &Operation,
        err: &CloudError,
        attempt: u32,
        maybe_sent: bool,
    ) -> bool {
        attempt < self.max_attempts.max(1) && retry_allowed(op, err, maybe_sent)
    }

    /// The exponential backoff before attempt `attempt + 1`, before jitter:
    /// `base * 2^(attempt-1)`, capped at `max_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// How long to wait after failed attempt `attempt` (1-based) with `err`.
    /// `Retry-After` wins (capped at `max_delay`); throttling waits at least
    /// `throttle_min_delay`; otherwise jittered exponential backoff.
    pub fn delay(&self, attempt: u32, err: &CloudError) -> Duration {
        self.delay_with(attempt, err, rand::random::<f64>())
    }

    /// [`delay`](Self::delay) with the random draw in `[0, 1)` given, for determinism.
    pub fn delay_with(&self, attempt: u32, err: &CloudError, random: f64) -> Duration {
        if let Some(after) = err.retry_after {
            return after.min(self.max_delay);
        }
        let fraction = match self.jitter {
            Jitter::Full => random,
            Jitter::Fixed(f) => f,
        };
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let jittered = self.backoff(attempt).mul_f64(fraction);
        if err.kind == ErrorKind::Throttled {
            jittered.max(self.throttle_min_delay).min(self.max_delay)
        } else {
            jittered
        }
    }
}

/// The retry rule of the module table, independent of attempt counts.
pub fn retry_allowed(op: &Operation, err: &CloudError, maybe_sent: bool) -> bool {
    match err.kind {
        ErrorKind::Throttled | ErrorKind::Busy => true,
        // A request that surely never left cannot have been applied: safe for creates.
        ErrorKind::ServerError => op.idempotent || !maybe_sent || err.http_status == Some(503),
        ErrorKind::Transport | ErrorKind::Timeout => op.idempotent || !maybe_sent,
        ErrorKind::NotFound
        | ErrorKind::RepeatedOperation
        | ErrorKind::NotReady
        | ErrorKind::InUse
        | ErrorKind::QuotaExceeded
        | ErrorKind::InsufficientCapacity
        | ErrorKind::Abnormal
        | ErrorKind::InvalidRequest
        | ErrorKind::AuthFailed
        | ErrorKind::Conflict
        | ErrorKind::Decode
        | ErrorKind::Queued => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: Operation = Operation::read("ShowVpnGateway");
    const WRITE: Operation = Operation::write("UpdateVpnGateway");
    const CREATE: Operation = Operation::create("CreateVpnGateway");

    fn e(kind: ErrorKind) -> CloudError {
        CloudError::new(kind, "Op", "m")
    }

    fn with_status(kind: ErrorKind, status: u16) -> CloudError {
        CloudError {
            http_status: Some(status),
            ..e(kind)
        }
    }

    #[test]
    fn default_policy() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts, 4);
        assert_eq!(p.base_delay, Duration::from_millis(500));
        assert_eq!(p.max_delay, Duration::from_secs(20));
        assert_eq!(p.jitter, Jitter::Full);
    }

    #[test]
    fn what_is_retried() {
        use ErrorKind::*;
        // (kind, status, maybe_sent) -> (read, write, create)
        let table: &[(ErrorKind, u16, bool, [bool; 3])] = &[
            (Throttled, 429, true, [true, true, true]),
            (Busy, 400, true, [true, true, true]),
            (ServerError, 500, true, [true, true, false]),
            (ServerError, 502, true, [true, true, false]),
            (ServerError, 503, true, [true, true, true]),
            (Transport, 0, true, [true, true, false]),
            (Transport, 0, false, [true, true, true]),
            (Timeout, 0, true, [true, true, false]),
            (Timeout, 0, false, [true, true, true]),
            (ServerError, 500, false, [true, true, true]),
            (NotReady, 403, true, [false, false, false]),
            (RepeatedOperation, 400, true, [false, false, false]),
            (NotFound, 404, true, [false, false, false]),
            (InUse, 400, true, [false, false, false]),
            (QuotaExceeded, 400, true, [false, false, false]),
            (InvalidRequest, 400, true, [false, false, false]),
            (AuthFailed, 403, true, [false, false, false]),
            (Conflict, 409, true, [false, false, false]),
            (Decode, 200, true, [false, false, false]),
        ];
        let p = RetryPolicy::default();
        for (kind, status, sent, want) in table {
            let err = with_status(*kind, *status);
            for (op, want) in [READ, WRITE, CREATE].iter().zip(want) {
                assert_eq!(
                    p.should_retry(op, &err, 1, *sent),
                    *want,
                    "{kind:?} {status} sent={sent} {}",
                    op.name
                );
            }
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        let err = e(ErrorKind::ServerError);
        assert!(p.should_retry(&READ, &err, 3, true));
        assert!(!p.should_retry(&READ, &err, 4, true));
        assert!(!RetryPolicy::none().should_retry(&READ, &err, 1, true));
        // max_attempts 0 behaves like 1.
        let zero = RetryPolicy {
            max_attempts: 0,
            ..p
        };
        assert!(!zero.should_retry(&READ, &err, 1, true));
    }

    #[test]
    fn exponential_backoff_is_capped() {
        let p = RetryPolicy::new(10, Duration::from_millis(500), Duration::from_secs(20))
            .with_jitter(Jitter::Fixed(1.0));
        let err = e(ErrorKind::ServerError);
        let delays: Vec<u64> = (1..=8)
            .map(|a| p.delay(a, &err).as_millis() as u64)
            .collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000]);
        // Huge attempt numbers do not overflow.
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(20));
    }

    #[test]
    fn full_jitter_stays_within_backoff() {
        let p = RetryPolicy::default();
        let err = e(ErrorKind::ServerError);
        assert_eq!(p.delay_with(3, &err, 0.0), Duration::ZERO);
        assert_eq!(p.delay_with(3, &err, 0.5), Duration::from_millis(1000));
        for _ in 0..100 {
            assert!(p.delay(3, &err) <= Duration::from_secs(2));
        }
        // Out-of-range draws are clamped.
        assert_eq!(p.delay_with(1, &err, 7.0), Duration::from_millis(500));
        assert_eq!(p.delay_with(1, &err, f64::NAN), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let p = RetryPolicy::default().with_jitter(Jitter::Fixed(0.0));
        let mut err = e(ErrorKind::Throttled);
        err.retry_after = Some(Duration::from_secs(3));
        assert_eq!(p.delay(1, &err), Duration::from_secs(3));
        err.retry_after = Some(Duration::from_secs(600));
        assert_eq!(p.delay(1, &err), Duration::from_secs(20));
    }

    #[test]
    fn throttling_waits_at_least_the_floor() {
        let p = RetryPolicy::default().with_jitter(Jitter::Fixed(0.0));
        assert_eq!(p.delay(1, &e(ErrorKind::Throttled)), Duration::from_secs(2));
        assert_eq!(p.delay(1, &e(ErrorKind::Busy)), Duration::ZERO);
        // The floor never exceeds the cap.
        let small = RetryPolicy::new(3, Duration::from_millis(1), Duration::from_millis(50))
            .with_jitter(Jitter::Fixed(0.0));
        assert_eq!(
            small.delay(1, &e(ErrorKind::Throttled)),
            Duration::from_millis(50)
        );
    }
}
