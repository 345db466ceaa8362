//! What every reconcile can reach: the Kubernetes client, the clouds, the event recorder,
//! metrics, per-object backoff and the timing settings.
use std::sync::{Arc, RwLock};
use std::time::Duration;

use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::{Resource, ResourceExt};

use super::backoff::PerObjectBackoff;
use super::clouds::Clouds;
use super::locks::KeyedLocks;
use super::pending::PendingWatches;
use super::stores::Stores;
use super::vpn_connection::PskCache;
use crate::metrics::Metrics;

/// Timing and identity settings of the controllers.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often a stable object is observed again (drift detection).
    pub resync_interval: Duration,
    /// First requeue while a cloud operation is pending; grows while it lasts.
    pub pending_requeue: Duration,
    /// Retry interval after a terminal error (invalid spec, auth): a spec change retries at once.
    pub terminal_retry: Duration,
    /// Names this cluster in the ownership tags of cloud resources.
    pub cluster_name: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resync_interval: Duration::from_secs(600),
            pending_requeue: Duration::from_secs(2),
            terminal_retry: Duration::from_secs(300),
            cluster_name: "default".into(),
        }
    }
}

/// Shared by all reconciles of all controllers.
pub struct Context {
    pub kube: kube::Client,
    pub clouds: Clouds,
    /// Publishes Events. Replaced by a fresh one every [`EVENT_CACHE_RENEWAL`] (see
    /// [`Context::renew_recorder`]).
    recorder: RwLock<Recorder>,
    reporter: Reporter,
    pub metrics: Metrics,
    pub backoff: PerObjectBackoff,
    pub settings: Settings,
    /// One mutating cloud operation at a time per gateway (keyed by gateway cloud id).
    pub gateway_locks: KeyedLocks,
    /// The controllers' caches of the objects other objects refer to.
    pub stores: Stores,
    /// Pre-shared keys read recently (forgotten when their Secret changes).
    pub psk_cache: PskCache,
    /// Gateways and connections waiting on a pending cloud operation, woken when it changes.
    pub pending: PendingWatches,
}

/// A Kubernetes Event to publish about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    /// CamelCase reason, e.g. `Created`, `Updated`, `DeleteRequested`.
    pub reason: String,
    /// CamelCase action, e.g. `CreateVpnGateway`.
    pub action: String,
    /// Human message; never contains secret values.
    pub message: String,
}

impl Note {
    pub fn normal(reason: &str, action: &str, message: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason: reason.into(),
            action: action.into(),
            message: message.into(),
        }
    }
    pub fn warning(reason: &str, action: &str, message: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason: reason.into(),
            action: action.into(),
            message: message.into(),
        }
    }
}

impl Context {
    pub fn new(
        kube: kube::Client,
        clouds: Clouds,
        metrics: Metrics,
        settings: Settings,
        instance: Option<String>,
    ) -> Arc<Self> {
        let reporter = Reporter {
            controller: "vpn-operator".into(),
            instance,
        };
        Arc::new(Self {
            recorder: RwLock::new(Recorder::new(kube.clone(), reporter.clone())),
            reporter,
            kube,
            clouds,
            metrics,
            backoff: PerObjectBackoff::new(Duration::from_secs(1), Duration::from_secs(300)),
            settings,
            gateway_locks: KeyedLocks::default(),
            stores: Stores::default(),
            psk_cache: PskCache::default(),
            pending: PendingWatches::default(),
        })
    }

    /// Publishes an Event about `obj`. Failures to publish are logged, never fatal.
    pub async fn publish<K: Resource<DynamicType = ()>>(&self, obj: &K, note: &Note) {
        let ev = KubeEvent {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.clone(),
            note: Some(truncate(&note.message, 1000)),
            action: note.action.clone(),
            secondary: None,
        };
        let recorder = self
            .recorder
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Err(e) = recorder.publish(&ev, &obj.object_ref(&())).await {
            tracing::warn!(object = %obj.name_any(), reason = %note.reason, error = %e, "could not publish event");
        }
    }
}

/// How often the Event cache starts over (see [`Context::renew_recorder`]).
pub const EVENT_CACHE_RENEWAL: Duration = Duration::from_secs(60);

impl Context {
    /// Starts over with an empty Event cache.
    ///
    /// Why: kube-runtime's recorder keeps every Event it published, to count repeats within 6
    /// minutes, and forgets old ones only when it publishes the next Event: after thousands of
    /// objects were created, a quiet operator held all their Events (about 2 KiB each) for good.
    /// Called every [`EVENT_CACHE_RENEWAL`]: a repeat just after a renewal starts a new Event
    /// instead of counting on the old one (at most one new Event per minute for a warning that
    /// keeps repeating), which is all that is lost.
    pub fn renew_recorder(&self) {
        let fresh = Recorder::new(self.kube.clone(), self.reporter.clone());
        *self.recorder.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
