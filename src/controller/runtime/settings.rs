//! Timing and identity settings of the controllers (from the operator's flags).
use std::time::Duration;

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
