//! The controllers: one kube-runtime controller per kind.
//!
//! - [`runtime`]: everything the kinds share, written once (the reconcile contract, the
//!   reconcile itself, requeue, lookup, status, Events, Kubernetes and cloud access, caches).
//!   It knows no kind.
//! - [`kinds`]: one folder per kind, each implementing the contract's five phases (inputs,
//!   observe, plan, act, status).
//! - [`run`]: the four controllers and which objects wake which.
//!
//! `docs/ARCHITECTURE.md` walks through the flow of one object.
pub mod kinds;
pub mod run;
pub mod runtime;

#[cfg(test)]
mod account_scenarios;
#[cfg(test)]
mod scenarios;

pub use run::{run_all, CONTROLLERS};
pub use runtime::context::{Context, Settings};
pub use runtime::controllers::RunOptions;
pub use runtime::scope::Namespaces;
