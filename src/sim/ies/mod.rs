//! The simulated CloudOpera IES: service catalog, service manager (asynchronous create, update
//! and delete) and the CloudVPN traffic monitor, plus its admin API. Knows nothing of
//! Kubernetes; uses the same wire models as the client (`cloud::model::ies`).
//!
//! - [`config`]: [`IesConfig`] (tokens, catalog, delays, faults, traffic defaults, presets);
//! - [`services`]: instances and their state machine; [`traffic`]: the load model;
//! - [`routes`]: the API under `/rest/...` with authentication, fault injection (the VPN
//!   simulator's [`faults`](crate::sim::faults) engine, operation names as in
//!   `cloud::ies::ops`) and call counters; [`admin`]: `/_sim/ies/...`; [`errors`]: error bodies.
//!
//! Mount it beside the VPN simulator, sharing its clock:
//!
//! ```no_run
//! # fn demo(vpn: vpn_operator::sim::Sim) -> Result<axum::Router, String> {
//! use std::sync::Arc;
//! use vpn_operator::sim::ies::{self, IesConfig, IesState};
//! let state = Arc::new(IesState::new(IesConfig::default().with_clock(vpn.clock.clone()))?);
//! let app = vpn_operator::sim::server::app(vpn).merge(ies::router(state));
//! # Ok(app) }
//! ```
//!
//! Clients authenticate with `X-Auth-Token: simulator-ies-token` by default
//! ([`config::DEFAULT_AUTH_TOKEN`]) and use the endpoint `http://host:port/rest`.
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod admin;
pub mod config;
pub mod errors;
pub mod routes;
pub mod services;
pub mod traffic;

pub use config::{
    AnswerStyle, DefinitionConfig, IesConfig, IesDelays, TemplateConfig, TrafficConfig,
};
pub use services::{Service, ServiceStore};
pub use traffic::{ActiveProfile, LoadProfile, LoadStep, Shape};

use crate::sim::clock::Clock;
use crate::sim::counters::Counters;
use crate::sim::faults::FaultEngine;
use crate::sim::server::{lock, ConnKill, SimListener};

/// The mutable world of the simulated tenant.
#[derive(Debug, Clone)]
pub struct IesWorld {
    pub tenant: String,
    pub catalog: Vec<DefinitionConfig>,
    pub store: ServiceStore,
    pub delays: IesDelays,
    pub traffic: TrafficConfig,
    /// Load profiles by `CloudVpnName` (may be set before the line exists).
    pub profiles: BTreeMap<String, ActiveProfile>,
    pub answers: AnswerStyle,
}

/// Everything the simulated IES knows, shared by all requests.
pub struct IesState {
    /// The configuration it started with (admin reset goes back to it).
    pub initial: IesConfig,
    pub world: Mutex<IesWorld>,
    pub faults: Mutex<FaultEngine>,
    pub counters: Mutex<Counters>,
    pub clock: Clock,
}

/// The shared state handle.
pub type IesSim = Arc<IesState>;

impl IesState {
    /// Builds the state; fails on an invalid catalog, traffic setting or preset.
    pub fn new(cfg: IesConfig) -> Result<Self, String> {
        cfg.check()?;
        let world = Self::initial_world(&cfg)?;
        Ok(Self {
            world: Mutex::new(world),
            faults: Mutex::new(FaultEngine::new(&cfg.faults)),
            counters: Mutex::new(Counters::default()),
            clock: cfg.clock.clone(),
            initial: cfg,
        })
    }

    fn initial_world(cfg: &IesConfig) -> Result<IesWorld, String> {
        Ok(IesWorld {
            tenant: cfg.tenant.clone(),
            catalog: cfg.catalog.clone(),
            store: ServiceStore::with_presets(&cfg.presets, cfg.clock.now())?,
            delays: cfg.delays,
            traffic: cfg.traffic,
            profiles: BTreeMap::new(),
            answers: cfg.answers,
        })
    }

    /// Back to the starting configuration (services, catalog, profiles, delays, faults, counters).
    pub fn reset(&self) {
        // The configuration was checked in `new`; presets can only fail the same way again.
        if let Ok(w) = Self::initial_world(&self.initial) {
            *lock(&self.world) = w;
        }
        lock(&self.faults).reset(&self.initial.faults);
        *lock(&self.counters) = Counters::default();
    }

    /// Runs `f` on the world with every due transition applied.
    pub fn with_world<R>(
        &self,
        f: impl FnOnce(&mut IesWorld, chrono::DateTime<chrono::Utc>) -> R,
    ) -> R {
        let now = self.clock.now();
        let mut w = lock(&self.world);
        w.store.advance(now);
        f(&mut w, now)
    }
}

/// The IES API under `/rest/...` and its admin API under `/_sim/ies/...`. Has no fallback, so it
/// can be merged into the VPN simulator's router.
pub fn router(state: IesSim) -> Router {
    Router::new()
        .merge(routes::router(&state))
        .nest("/_sim/ies", admin::router())
        .with_state(state)
}

/// Serves the IES router alone on `listener` until `shutdown` completes (connections can be
/// dropped by the `drop_response` fault).
pub async fn serve(
    listener: TcpListener,
    state: IesSim,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        SimListener(listener),
        router(state).into_make_service_with_connect_info::<ConnKill>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A simulated IES running in this process (see [`spawn`]). Dropping it stops the server.
pub struct IesHandle {
    addr: SocketAddr,
    state: IesSim,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl IesHandle {
    /// `http://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:port/rest`: the endpoint to give the IES client.
    pub fn endpoint(&self) -> String {
        format!("{}/rest", self.base_url())
    }

    /// The live state.
    pub fn state(&self) -> &IesSim {
        &self.state
    }
}

impl Drop for IesHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Starts the IES simulator alone on `127.0.0.1:0` in the background.
pub async fn spawn(cfg: IesConfig) -> anyhow::Result<IesHandle> {
    let state = Arc::new(IesState::new(cfg).map_err(anyhow::Error::msg)?);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(IesHandle {
        addr,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}
