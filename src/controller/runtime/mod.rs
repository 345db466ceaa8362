//! The machinery every kind shares, written once. Nothing here knows a kind: the kinds
//! (`super::kinds`) implement [`contract::Managed`] and the runtime drives them.
//!
//! - [`contract`]: the five phases a kind implements; [`reconcile`]: one reconcile of one
//!   object (pause, finalizer, deletion policies, phases, status, Events, failures);
//!   [`requeue`]: when to look again; [`preview`]: the phases up to `plan` and a kind's view of
//!   its plan, for `vpn-operator plan`.
//! - [`lookup`]: finding an object's cloud resource (recorded id, adoption, owner tag) and
//!   refusing another object's; [`ownership`]: the owner tags and cloud names.
//! - [`status`]: conditions, drift, the `Synced` rule and the `DriftDetected` Event;
//!   [`events`]: the Event vocabulary.
//! - [`kube`]: the one door to Kubernetes (live API server, or in memory for tests);
//!   [`cached`], [`changes`]: the controllers' compact caches and watch filters;
//!   [`controllers`]: building a kind's kube-runtime controller and the shared background tasks;
//!   [`scope`]: the watched namespaces (one watcher per namespace, merged).
//! - [`clouds`], [`account`]: which cloud account an object talks to, as a ready client;
//!   [`pending`]: waking objects whose cloud operation finished; [`locks`]: one mutation at a
//!   time per gateway.
//! - [`context`], [`settings`], [`clock`], [`backoff`], [`error`], [`object`], [`secrets`],
//!   [`wire`]: what a reconcile can reach, and small shared pieces.
pub mod account;
pub mod account_use;
pub mod backoff;
pub mod cached;
pub mod changes;
pub mod clock;
pub mod clouds;
pub mod context;
pub mod contract;
pub mod controllers;
pub mod error;
pub mod events;
pub mod freshness;
pub mod kube;
pub mod locks;
pub mod lookup;
pub mod object;
pub mod ownership;
pub mod pending;
pub mod preview;
pub mod quota;
pub mod reconcile;
pub mod requeue;
pub mod scope;
pub mod secrets;
pub mod settings;
pub mod status;
pub mod wire;

#[cfg(test)]
pub mod testing;
