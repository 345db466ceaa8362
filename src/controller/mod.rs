//! Reconcilers: one kube-runtime controller per kind, plus the shared machinery.
pub mod backoff;
pub mod error;
pub mod clouds;
pub mod context;
pub mod locks;
pub mod reconciler;
pub mod status;
