//! The reconciler error: every way a reconcile can fail or has to wait, with a stable
//! condition reason, a message for the user, and how soon to try again.
use std::time::Duration;

use super::requeue::Next;
use crate::cloud::{CloudError, ErrorKind};
use crate::crd::common::reasons;

/// Why a reconcile did not finish. `Display` is shown to users (conditions, events):
/// it never contains secret values.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A cloud API call failed.
    #[error("{0}")]
    Cloud(#[from] CloudError),

    /// A Kubernetes API call failed.
    #[error("Kubernetes API error: {0}")]
    Kube(#[from] kube::Error),

    /// The spec cannot be turned into a valid cloud request; the user must change it.
    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    /// A referenced Secret or key is missing or unusable.
    #[error("secret {namespace}/{name}: {problem}")]
    Secret {
        namespace: String,
        name: String,
        problem: String,
    },

    /// Cloud credentials could not be built from configuration.
    #[error("cloud credentials: {0}")]
    Credentials(String),

    /// The object has no usable cloud account (its namespace's account Secret is missing or
    /// malformed): reason `AccountMissing` or `AccountInvalid`.
    #[error("{message}")]
    Account {
        reason: &'static str,
        message: String,
    },

    /// The cloud resource is owned by another object or cluster; adoption refused.
    #[error("{0}")]
    OwnershipConflict(String),

    /// The quota check before a create found the quota full: nothing was created.
    #[error("{0}")]
    QuotaExceeded(String),

    /// Not a failure: the object has to wait (a dependency, the cloud busy with another
    /// operation). Carries the `Ready` reason, a message, and what it waits for.
    #[error("{message}")]
    Waiting {
        reason: &'static str,
        message: String,
        next: Next,
    },
}

impl Error {
    pub fn waiting(reason: &'static str, message: impl Into<String>, next: Next) -> Self {
        Error::Waiting {
            reason,
            message: message.into(),
            next,
        }
    }

    /// A stable CamelCase reason for the `Synced` condition and events.
    pub fn reason(&self) -> &'static str {
        match self {
            // The cloud layer names its own reasons (it knows nothing of Kubernetes); every one
            // of them is documented in `crd::common::reasons` (checked by a test below).
            Error::Cloud(e) => e.reason(),
            Error::Kube(_) => reasons::KUBERNETES_ERROR,
            Error::InvalidSpec(_) => reasons::INVALID_SPEC,
            Error::Secret { .. } => reasons::SECRET_NOT_READY,
            Error::Credentials(_) => reasons::AUTH_FAILED,
            Error::OwnershipConflict(_) => reasons::OWNERSHIP_CONFLICT,
            Error::QuotaExceeded(_) => reasons::QUOTA_EXCEEDED,
            Error::Waiting { reason, .. } => reason,
            Error::Account { reason, .. } => reason,
        }
    }

    /// Terminal errors need a change by the user (spec, credentials, quota): retrying soon
    /// would only hammer the API, so they are retried on a long interval or on change.
    pub fn is_terminal(&self) -> bool {
        match self {
            Error::Cloud(e) => matches!(
                e.kind,
                ErrorKind::InvalidRequest
                    | ErrorKind::AuthFailed
                    | ErrorKind::QuotaExceeded
                    | ErrorKind::Abnormal
                    | ErrorKind::Decode
            ),
            Error::InvalidSpec(_)
            | Error::Credentials(_)
            | Error::OwnershipConflict(_)
            | Error::QuotaExceeded(_) => true,
            // A fixed Secret wakes the object through the Secret watch.
            Error::Secret { .. } | Error::Account { .. } => false,
            Error::Kube(_) | Error::Waiting { .. } => false,
        }
    }

    /// True for waits, which are reported but are not failures (no Warning event, no backoff).
    pub fn is_waiting(&self) -> bool {
        self.wait().is_some()
    }

    /// What a wait waits for: its own [`Next`], or for a write queued behind the operator's own
    /// write budget (nothing failed), the moment its reserved token is due.
    pub fn wait(&self) -> Option<Next> {
        match self {
            Error::Waiting { next, .. } => Some(next.clone()),
            Error::Cloud(e) if e.kind == ErrorKind::Queued => {
                Some(e.retry_after.map_or(Next::Soon, Next::After))
            }
            _ => None,
        }
    }

    /// Whether the object cannot be used until the user changes something (the spec, a Secret,
    /// the credentials, a quota): `Ready` then says so too, with the same reason and message.
    pub fn blocks_readiness(&self) -> bool {
        self.is_terminal() || matches!(self, Error::Secret { .. } | Error::Account { .. })
    }

    /// The Kubernetes object itself no longer exists (HTTP 404 from the API server).
    pub fn object_gone(&self) -> bool {
        matches!(self, Error::Kube(kube::Error::Api(s)) if s.is_not_found())
    }

    /// Whether a cloud write that failed with this error may still have been carried out: the
    /// answer was lost (timeout, a closed connection) or the server failed after the request
    /// reached it (5xx). A refusal (4xx, busy, throttled) or a write never sent is known not to
    /// have happened.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Cloud(e) if matches!(
            e.kind,
            ErrorKind::ServerError | ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Decode
        ))
    }

    /// The cloud's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Cloud(e) => e.retry_after,
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_a_failure_can_report_is_documented() {
        let documented: Vec<&str> = reasons::ALL.iter().map(|(r, _)| *r).collect();
        for kind in ErrorKind::ALL {
            let e = Error::Cloud(CloudError::new(kind, "Op", "m"));
            assert!(
                documented.contains(&e.reason()),
                "{kind:?} -> {} is not in reasons::ALL",
                e.reason()
            );
        }
        for e in [
            Error::InvalidSpec("x".into()),
            Error::Secret {
                namespace: "n".into(),
                name: "s".into(),
                problem: "p".into(),
            },
            Error::Credentials("c".into()),
            Error::OwnershipConflict("o".into()),
            Error::QuotaExceeded("q".into()),
            Error::Account {
                reason: reasons::ACCOUNT_MISSING,
                message: "m".into(),
            },
            Error::Account {
                reason: reasons::ACCOUNT_INVALID,
                message: "m".into(),
            },
        ] {
            assert!(
                documented.contains(&e.reason()),
                "{} is not in reasons::ALL",
                e.reason()
            );
        }
    }
}
