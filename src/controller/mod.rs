//! Reconcilers: one kube-runtime controller per kind, plus the shared machinery.
pub mod backoff;
pub mod clouds;
pub mod context;
pub mod customer_gateway;
pub mod error;
pub mod locks;
pub mod ownership;
pub mod reconciler;
pub mod status;
