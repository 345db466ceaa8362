//! vpn-operator: a Kubernetes operator that manages Huawei Cloud VPN (v5) and
//! CloudOpera IES CloudVPN services declaratively.
//!
//! Module layout (dependencies point one way, top to bottom):
//! - [`crd`]: the Kubernetes API types (spec, status, conditions). Pure data.
//! - [`cloud`]: the vendor REST clients: wire models, signer, errors, retry,
//!   rate limiter. Knows nothing of Kubernetes.
//! - [`sim`]: the simulated cloud (same wire models), served over real HTTP.
//!   Knows nothing of Kubernetes.
//! - [`controller`]: one reconciler per kind plus the shared machinery.
//! - [`config`], [`telemetry`], [`metrics`], [`http`], [`leader`]: the runtime plumbing of
//!   `vpn-operator run` (flags, logging, Prometheus metrics, health endpoints, leader election).
//! - [`cli`]: `plan` and `doctor`, the commands a user runs by hand or in CI.
//! - `main.rs`: the command line; the only place that picks real vs simulated cloud (and
//!   `cli::cloud` for `plan` and `doctor`).
pub mod cli;
pub mod cloud;
pub mod config;
pub mod controller;
pub mod crd;
pub mod http;
pub mod leader;
pub mod memory;
pub mod metrics;
pub mod sim;
pub mod telemetry;
