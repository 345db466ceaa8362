//! Bounded exponential backoff with jitter, honouring `Retry-After`. (cloud-core)
use std::time::Duration;

/// How retryable errors are retried inside one call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retry).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}
