//! What every reconcile can reach: Kubernetes (through [`Kube`]), the clouds, metrics,
//! per-object backoff, the locks that serialise mutations per gateway, the pending watches,
//! the clock and the settings.
use std::sync::Arc;
use std::time::Duration;

use super::backoff::PerObjectBackoff;
use super::clock::Clock;
use super::clouds::Clouds;
use super::kube::Kube;
use super::locks::KeyedLocks;
use super::pending::PendingWatches;
pub use super::settings::Settings;
use crate::metrics::Metrics;

/// Shared by all reconciles of all controllers.
pub struct Context {
    pub kube: Kube,
    pub clouds: Clouds,
    pub metrics: Metrics,
    pub backoff: PerObjectBackoff,
    pub settings: Settings,
    /// One mutating cloud operation at a time per gateway (keyed by gateway cloud id).
    pub gateway_locks: KeyedLocks,
    /// Gateways and connections waiting on a pending cloud operation, woken when it changes.
    pub pending: PendingWatches,
    /// "Now" for every decision of a reconcile.
    pub clock: Clock,
}

/// How often the Event cache starts over (see [`Kube::renew_recorder`]).
pub const EVENT_CACHE_RENEWAL: Duration = Duration::from_secs(60);

impl Context {
    pub fn new(kube: Kube, clouds: Clouds, metrics: Metrics, settings: Settings) -> Arc<Self> {
        Arc::new(Self {
            kube,
            clouds,
            metrics,
            backoff: PerObjectBackoff::new(Duration::from_secs(1), Duration::from_secs(300)),
            settings,
            gateway_locks: KeyedLocks::default(),
            pending: PendingWatches::default(),
            clock: Clock::system(),
        })
    }

    /// The same context reading "now" from `clock` (tests share a manual clock with the
    /// simulator).
    pub fn with_clock(mut self: Arc<Self>, clock: Clock) -> Arc<Self> {
        Arc::get_mut(&mut self)
            .expect("with_clock is called before the context is shared")
            .clock = clock;
        self
    }
}
