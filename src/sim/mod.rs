//! The simulated cloud: a real HTTP server that speaks the documented Huawei Cloud VPN v5 API
//! (and the IAM token API), used as the test double of the operator and as the "try it
//! without an account" default. Knows nothing of Kubernetes.
//!
//! - [`config`]: [`SimConfig`] (projects with AK/SK, tokens and users; delays; faults; world; clock);
//! - [`world`]: VPCs, subnets, EIPs, enterprise routers, AZs, flavors, quotas (and the
//!   documented default world with fixed ids);
//! - [`state`]: the per-project store and the state machines (lazy, driven by [`clock`]);
//! - [`validate`]: the reference's field rules; [`errors`]: the documented error bodies;
//! - [`auth`]: SDK-HMAC-SHA256 verification, tokens, `POST /v3/auth/tokens`;
//! - [`faults`]: fault injection; [`counters`]: call counters;
//! - [`server`]: pipeline, listener, router; [`routes`]: one module per API area;
//! - [`admin`]: the `/_sim` admin API; [`cli`]: `vpn-operator sim`;
//! - [`ies`]: the simulated CloudOpera IES (own router and state, mounted beside the VPN API).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use vpn_operator::sim::{spawn, Delays, SimConfig};
//! let sim = spawn(SimConfig::single("p1", "AK", "SK").with_delays(Delays::zero())).await?;
//! println!("simulated cloud at {}", sim.base_url());
//! # Ok(()) }
//! ```
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod admin;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod counters;
pub mod errors;
pub mod faults;
pub mod ies;
pub mod routes;
pub mod server;
pub mod state;
pub mod validate;
pub mod world;

pub use cli::SimArgs;
pub use clock::Clock;
pub use config::{Delays, ProjectConfig, SimConfig};
pub use faults::{FaultConfig, FaultKind, FaultRule, Trigger};
pub use server::{Sim, SimState};
pub use world::World;

/// Serves the simulator on `listener` until the process ends.
pub async fn serve(listener: TcpListener, cfg: SimConfig) -> std::io::Result<()> {
    serve_state(
        listener,
        Arc::new(SimState::new(cfg)),
        std::future::pending(),
    )
    .await
}

/// Serves an existing simulator state until `shutdown` completes (graceful: requests in
/// flight finish).
pub async fn serve_state(
    listener: TcpListener,
    sim: Sim,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The simulated IES (`/rest/...`, `/_sim/ies/...`) beside the VPN API, on the same clock.
    let ies_state = Arc::new(
        ies::IesState::new(ies::IesConfig::default().with_clock(sim.clock.clone()))
            .map_err(std::io::Error::other)?,
    );
    let app = server::app(sim).merge(ies::router(ies_state));
    axum::serve(
        server::SimListener(listener),
        app.into_make_service_with_connect_info::<server::ConnKill>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A simulator running in this process (see [`spawn`]). Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    state: Sim,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimHandle {
    /// The bound address (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port`: the endpoint to give API clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The live state, for in-process inspection (tests may also use the admin API).
    pub fn state(&self) -> &Sim {
        &self.state
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        Ok(())
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Starts a simulator on `127.0.0.1:0` in the background and returns its handle.
pub async fn spawn(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(SimState::new(cfg));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_state(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(SimHandle {
        addr,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

/// `vpn-operator sim`: serves until ctrl-c or SIGTERM.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    let projects: Vec<&str> = cfg.projects.iter().map(|p| p.id.as_str()).collect();
    println!(
        "vpn-operator simulator listening on http://{addr} (projects: {}; admin API: http://{addr}/_sim)",
        projects.join(", ")
    );
    tracing::info!(%addr, projects = ?projects, "simulator listening");
    serve_state(listener, Arc::new(SimState::new(cfg)), shutdown_signal()).await?;
    tracing::info!("simulator stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
