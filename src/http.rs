//! The operator's HTTP endpoints and the process-wide shutdown signal.
//!
//! - `GET /healthz`: liveness; 200 while the process serves HTTP.
//! - `GET /readyz`: readiness (see [`evaluate`]); 200 or 503, with one `[+]`/`[-]` line per check.
//! - `GET /metrics`: [`Metrics::encode`] in OpenMetrics text when the client accepts it (as
//!   Prometheus does), else [`Metrics::encode_text`] in the classic text format.
//!
//! Readiness, like controller-runtime: a replica that stands by for the leader Lease is
//! *ready* (it is healthy and will take over when needed) but runs no controllers. A leader,
//! or any replica when leader election is off, is ready once every controller reported
//! started. A replica that has not yet read the Lease, cannot reach it, or has lost or
//! released it is not ready.
//!
//! Shutdown uses a [`tokio::sync::watch`] channel wrapped in [`Shutdown`] (no extra crate).
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::leader::LeaderState;
use crate::metrics::{Metrics, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// How leadership affects readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leadership {
    /// Leader election is off: this replica always reconciles.
    Disabled,
    /// The elector's last published state.
    Elected(LeaderState),
}

/// The result of a readiness evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    /// `(check name, passed, detail)`, in a stable order.
    pub checks: Vec<(String, bool, String)>,
}

impl Readiness {
    /// The `/readyz` body: `[+]name detail` / `[-]name detail` lines and a verdict.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, ok, detail) in &self.checks {
            out.push_str(&format!(
                "[{}]{name} {detail}\n",
                if *ok { '+' } else { '-' }
            ));
        }
        out.push_str(if self.ready {
            "readyz check passed\n"
        } else {
            "readyz check failed\n"
        });
        out
    }
}

/// The readiness rule (pure; see the module docs).
pub fn evaluate(components: &BTreeMap<String, bool>, leadership: &Leadership) -> Readiness {
    let mut checks = Vec::new();
    let needs_controllers = match leadership {
        Leadership::Disabled => {
            checks.push(("leader-election".to_string(), true, "disabled".to_string()));
            true
        }
        Leadership::Elected(state) => {
            let (ok, detail, controllers) = match state {
                LeaderState::Leading => (true, "leading", true),
                LeaderState::Standby => (true, "standing by", false),
                LeaderState::Starting => (false, "not yet read the Lease", false),
                LeaderState::Unreachable => (false, "cannot read or write the Lease", false),
                LeaderState::Lost => (false, "lost the Lease", false),
                LeaderState::Stopped => (false, "stopped", false),
            };
            checks.push(("leader-election".to_string(), ok, detail.to_string()));
            controllers
        }
    };
    if needs_controllers {
        for (name, started) in components {
            let detail = if *started { "started" } else { "not started" };
            checks.push((format!("controller/{name}"), *started, detail.to_string()));
        }
    }
    let ready = checks.iter().all(|(_, ok, _)| *ok);
    Readiness { ready, checks }
}

#[derive(Debug)]
struct HealthState {
    components: BTreeMap<String, bool>,
    leadership: Leadership,
}

/// Shared readiness state. Cheap to clone; clones share state.
#[derive(Debug, Clone)]
pub struct Health {
    inner: Arc<Mutex<HealthState>>,
}

impl Health {
    /// Readiness waits for every one of `components` (e.g. the controllers) to report started.
    /// With `leader_election`, the elector's state also counts (starting as not yet read).
    pub fn new<S: Into<String>>(
        components: impl IntoIterator<Item = S>,
        leader_election: bool,
    ) -> Self {
        let components = components.into_iter().map(|c| (c.into(), false)).collect();
        let leadership = if leader_election {
            Leadership::Elected(LeaderState::Starting)
        } else {
            Leadership::Disabled
        };
        Self {
            inner: Arc::new(Mutex::new(HealthState {
                components,
                leadership,
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HealthState) -> R) -> R {
        // A panic while holding this lock cannot leave the maps half-updated; keep serving.
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Reports whether `component` is started (an unknown name is added to the checks).
    pub fn set_ready(&self, component: &str, ready: bool) {
        self.with(|s| s.components.insert(component.to_string(), ready));
    }

    /// Records the leader elector's state (ignored when leader election is disabled).
    pub fn set_leader_state(&self, state: LeaderState) {
        self.with(|s| {
            if let Leadership::Elected(current) = &mut s.leadership {
                *current = state;
            }
        });
    }

    /// Mirrors the elector's state channel into this handle until the elector is dropped.
    pub async fn follow_leader(self, mut state: watch::Receiver<LeaderState>) {
        loop {
            let current = state.borrow_and_update().clone();
            self.set_leader_state(current);
            if state.changed().await.is_err() {
                return;
            }
        }
    }

    /// Evaluates readiness now.
    pub fn readiness(&self) -> Readiness {
        self.with(|s| evaluate(&s.components, &s.leadership))
    }
}

/// The process-wide shutdown signal. Cheap to clone; any clone can trigger it.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    /// Fires the signal (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// A future that resolves once the signal fires (immediately if it already has).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // Err only if every sender is gone, which cannot happen while `rx`'s Shutdown lives;
            // resolving then is the safe choice anyway.
            let _ = rx.wait_for(|fired| *fired).await;
        }
    }

    /// Fires the signal on SIGTERM or Ctrl-C (SIGINT). Spawn this once in `main`.
    pub async fn trigger_on_os_signal(self) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
                        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C will stop the operator");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        self.trigger();
    }
}

/// The HTTP server could not start or failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr} for /healthz, /readyz and /metrics: {source}; choose another --metrics-addr")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server on {addr} failed: {source}")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
struct AppState {
    health: Health,
    metrics: Metrics,
}

/// The routes, for embedding or testing.
pub fn router(health: Health, metrics: Metrics) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_handler))
        .with_state(AppState { health, metrics })
}

async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let readiness = app.health.readiness();
    let code = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, readiness.render())
}

/// OpenMetrics for clients that ask for it (Prometheus does); the classic text format 0.0.4
/// for the others (`promtool check metrics`, `curl`), as the Prometheus client libraries do.
async fn metrics_handler(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
) -> impl IntoResponse {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    match openmetrics {
        true => (
            [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
            app.metrics.encode(),
        ),
        false => (
            [(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)],
            app.metrics.encode_text(),
        ),
    }
}

/// Binds `addr` (separate from [`serve`] so that a busy port fails before anything starts).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, HttpError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })
}

/// Serves the routes on `listener` until `shutdown` resolves, then finishes open requests.
pub async fn serve(
    listener: TcpListener,
    health: Health,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    let addr = listener.local_addr().map_err(|source| HttpError::Serve {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
    axum::serve(listener, router(health, metrics))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| HttpError::Serve { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn readiness_table() {
        use LeaderState::*;
        let all = comps(&[("VpnGateway", true), ("VpnConnection", true)]);
        let some = comps(&[("VpnGateway", true), ("VpnConnection", false)]);
        let rows: Vec<(&str, &BTreeMap<String, bool>, Leadership, bool)> = vec![
            ("no election, all started", &all, Leadership::Disabled, true),
            (
                "no election, one not started",
                &some,
                Leadership::Disabled,
                false,
            ),
            (
                "leader, all started",
                &all,
                Leadership::Elected(Leading),
                true,
            ),
            (
                "leader, one not started",
                &some,
                Leadership::Elected(Leading),
                false,
            ),
            (
                "standby needs no controllers",
                &some,
                Leadership::Elected(Standby),
                true,
            ),
            (
                "not yet read the Lease",
                &all,
                Leadership::Elected(Starting),
                false,
            ),
            (
                "cannot reach the Lease",
                &all,
                Leadership::Elected(Unreachable),
                false,
            ),
            ("lost", &all, Leadership::Elected(Lost), false),
            ("stopped", &all, Leadership::Elected(Stopped), false),
        ];
        for (about, components, leadership, want) in rows {
            assert_eq!(evaluate(components, &leadership).ready, want, "{about}");
        }
    }

    #[test]
    fn readyz_body_names_what_is_missing() {
        let health = Health::new(["VpnGateway", "VpnConnection"], false);
        health.set_ready("VpnGateway", true);
        let body = health.readiness().render();
        assert!(body.contains("[+]controller/VpnGateway started"), "{body}");
        assert!(
            body.contains("[-]controller/VpnConnection not started"),
            "{body}"
        );
        assert!(body.ends_with("readyz check failed\n"));
    }

    #[test]
    fn leader_state_is_ignored_without_election() {
        let health = Health::new(["A"], false);
        health.set_ready("A", true);
        health.set_leader_state(LeaderState::Lost);
        assert!(health.readiness().ready);
    }

    #[tokio::test]
    async fn follow_leader_mirrors_the_channel() {
        let health = Health::new(["A"], true);
        let (tx, rx) = watch::channel(LeaderState::Starting);
        let follower = tokio::spawn(health.clone().follow_leader(rx));
        tx.send(LeaderState::Standby).unwrap();
        drop(tx);
        follower.await.unwrap();
        assert!(
            health.readiness().ready,
            "standby is ready: {:?}",
            health.readiness()
        );
    }

    #[tokio::test]
    async fn shutdown_wakes_every_waiter_including_late_ones() {
        let shutdown = Shutdown::new();
        let early = tokio::spawn(shutdown.wait());
        assert!(!shutdown.is_triggered());
        shutdown.clone().trigger();
        early.await.unwrap();
        assert!(shutdown.is_triggered());
        shutdown.wait().await; // already fired: resolves at once
    }

    #[tokio::test]
    async fn server_serves_the_three_endpoints_and_stops_on_shutdown() {
        let health = Health::new(["VpnGateway"], true);
        let metrics = Metrics::new();
        metrics.reconcile_finished("VpnGateway", std::time::Duration::from_millis(1), None);
        let shutdown = Shutdown::new();
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, health.clone(), metrics, shutdown.wait()));
        let http = reqwest::Client::new();
        let get = |path: &'static str| {
            let http = http.clone();
            async move {
                let resp = http
                    .get(format!("http://{addr}{path}"))
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let ctype = resp
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_string());
                (status, ctype, resp.text().await.unwrap())
            }
        };

        assert_eq!(get("/healthz").await.0, 200);
        let (status, _, body) = get("/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert!(
            body.contains("[-]leader-election not yet read the Lease"),
            "{body}"
        );

        health.set_leader_state(LeaderState::Leading);
        assert_eq!(
            get("/readyz").await.0,
            503,
            "leader without started controllers is not ready"
        );
        health.set_ready("VpnGateway", true);
        assert_eq!(get("/readyz").await.0, 200);

        // Without asking for OpenMetrics: the classic text format (promtool, curl).
        let (status, ctype, body) = get("/metrics").await;
        assert_eq!(status, 200);
        assert_eq!(ctype.as_deref(), Some(TEXT_CONTENT_TYPE));
        assert!(
            body.contains(r#"vpn_operator_reconciles_total{kind="VpnGateway"} 1"#),
            "{body}"
        );
        assert!(!body.contains("# EOF"));
        // Prometheus asks for OpenMetrics and gets it.
        let resp = http
            .get(format!("http://{addr}/metrics"))
            .header(
                "accept",
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            OPENMETRICS_CONTENT_TYPE
        );
        assert!(resp.text().await.unwrap().ends_with("# EOF\n"));

        shutdown.trigger();
        server.await.unwrap().unwrap();
        assert!(
            http.get(format!("http://{addr}/healthz"))
                .send()
                .await
                .is_err(),
            "server still listening"
        );
    }

    #[tokio::test]
    async fn busy_port_is_a_bind_error_naming_the_flag() {
        let taken = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let err = bind(taken.local_addr().unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("--metrics-addr"), "{err}");
    }
}
