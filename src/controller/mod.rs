//! Reconcilers: one kube-runtime controller per kind, plus the shared machinery.
pub mod backoff;
pub mod error;
