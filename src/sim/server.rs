//! The HTTP side: shared state, the request pipeline (request id, authentication, fault
//! injection, counters), the listener whose connections can be dropped on purpose, and the
//! router that puts the API families and the admin API together.
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::auth::{self, SignedParts, TokenStore};
use super::clock::Clock;
use super::config::{Delays, ProjectConfig, SimConfig};
use super::counters::Counters;
use super::errors::{ApiError, ApiResult, ErrorBody};
use super::faults::{FaultEngine, FaultKind};
use super::state::{Ctx, Project, Store};

/// Largest request body accepted (the documented AK/SK limit, 12 MB).
pub const MAX_BODY: usize = 12 * 1024 * 1024;

/// Locks a mutex, recovering from poisoning (a panicking test must not wedge the simulator).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Everything the simulator knows, shared by all requests.
pub struct SimState {
    /// The configuration it started with (admin reset goes back to it).
    pub initial: SimConfig,
    pub projects: Vec<ProjectConfig>,
    pub store: Mutex<Store>,
    pub delays: Mutex<Delays>,
    pub faults: Mutex<FaultEngine>,
    pub counters: Mutex<Counters>,
    pub tokens: Mutex<TokenStore>,
    pub clock: Clock,
    /// See [`SimConfig::wall_clock_skew`]; changed through the admin API.
    pub wall_skew: Mutex<chrono::Duration>,
}

impl SimState {
    pub fn new(cfg: SimConfig) -> Self {
        let store = Self::initial_store(&cfg);
        Self {
            projects: cfg.projects.clone(),
            store: Mutex::new(store),
            delays: Mutex::new(cfg.delays),
            faults: Mutex::new(FaultEngine::new(&cfg.faults)),
            counters: Mutex::new(Counters::default()),
            tokens: Mutex::new(TokenStore::default()),
            clock: cfg.clock.clone(),
            wall_skew: Mutex::new(cfg.wall_clock_skew),
            initial: cfg,
        }
    }

    fn initial_store(cfg: &SimConfig) -> Store {
        let mut store = Store::default();
        for p in &cfg.projects {
            store
                .projects
                .insert(p.id.clone(), Project::new(&p.id, cfg.world_for(p)));
        }
        store
    }

    /// Back to the starting configuration: resources, worlds, delays, faults, counters, tokens.
    pub fn reset(&self) {
        *lock(&self.store) = Self::initial_store(&self.initial);
        *lock(&self.delays) = self.initial.delays;
        lock(&self.faults).reset(&self.initial.faults);
        *lock(&self.counters) = Counters::default();
        *lock(&self.tokens) = TokenStore::default();
        *lock(&self.wall_skew) = self.initial.wall_clock_skew;
    }

    /// The server's wall clock: the machine's, moved by the configured skew (signatures are
    /// checked against it and every answer's `Date` header shows it).
    pub fn wall_now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *lock(&self.wall_skew)
    }

    /// Time and delays for an operation.
    pub fn ctx(&self) -> Ctx {
        Ctx {
            now: self.clock.now(),
            delays: *lock(&self.delays),
        }
    }

    /// Runs `f` on a project brought up to date.
    pub fn with_project<R>(
        &self,
        project: &str,
        f: impl FnOnce(&mut Project, Ctx) -> ApiResult<R>,
    ) -> ApiResult<R> {
        let ctx = self.ctx();
        let mut store = lock(&self.store);
        let p = store.project(project, ctx.now)?;
        f(p, ctx)
    }
}

/// The shared state handle used by handlers.
pub type Sim = Arc<SimState>;

/// The request id of the current request (set by [`finish`]).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A JSON success answer; [`finish`] adds `request_id` to its top-level object.
#[derive(Debug, Clone)]
pub(crate) struct JsonReply(pub Value);

/// A successful answer of the simulated API.
pub struct Reply {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Reply {
    /// A JSON answer (`request_id` is added).
    pub fn json(status: StatusCode, body: &impl Serialize) -> Self {
        Self {
            status,
            body: Some(serde_json::to_value(body).unwrap_or(Value::Null)),
            headers: Vec::new(),
        }
    }

    /// `204 No Content`.
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        if let Some(b) = self.body {
            resp.extensions_mut().insert(JsonReply(b));
        }
        resp
    }
}

/// Decodes a JSON request body as a wire model; VPN.0001 with the reason otherwise. Values
/// quoted by the decoder are removed from the message (they could be secrets).
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        let keep = msg.starts_with("missing field") || msg.starts_with("unknown field");
        let msg = if keep { msg } else { redact_quoted(&msg) };
        ApiError::invalid(format!("the request body is not valid: {msg}"))
    })
}

fn redact_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

/// Every answer's `Date` header shows the server's wall clock ([`SimState::wall_now`]), as a
/// real server's does: clients measure their clock skew with it.
async fn server_date(State(sim): State<Sim>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let date = sim
        .wall_now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, v);
    }
    resp
}

/// Outermost layer: request id, `X-Request-Id`, and the JSON bodies of errors and replies.
pub async fn finish(mut req: Request, next: Next) -> Response {
    let rid = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(RequestId(rid.clone()));
    let mut resp = next.run(req).await;
    let body = if let Some(err) = resp.extensions_mut().remove::<ErrorBody>() {
        Some(err.json(&rid))
    } else if let Some(JsonReply(mut v)) = resp.extensions_mut().remove::<JsonReply>() {
        if let Value::Object(o) = &mut v {
            if o.get("request_id").is_none_or(Value::is_null) {
                o.insert("request_id".into(), Value::String(rid.clone()));
            }
        }
        Some(v)
    } else {
        None
    };
    if let Some(b) = body {
        *resp.body_mut() = Body::from(serde_json::to_vec(&b).unwrap_or_default());
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=utf8"),
        );
        resp.headers_mut().remove(header::CONTENT_LENGTH);
    }
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The state of one API route: the simulator plus the operation name and whether calls are
/// authenticated (everything but the IAM token API).
#[derive(Clone)]
pub struct OpState {
    pub sim: Sim,
    pub op: &'static str,
    pub authenticated: bool,
}

/// Per-operation pipeline: count, authenticate, inject faults, run, count the answer.
pub async fn pipeline(State(st): State<OpState>, req: Request, next: Next) -> Response {
    let OpState {
        sim,
        op,
        authenticated,
    } = st;
    // `/v5/{project_id}/...` and `/v5.1/{project_id}/...`.
    let path = req.uri().path().to_string();
    let project = path.split('/').nth(2).unwrap_or_default().to_string();
    // The IAM token API has no project in its path: counted in the totals only.
    lock(&sim.counters).project_call(if authenticated { &project } else { "" }, op);
    let count = |resp: Response| {
        lock(&sim.counters).status(op, resp.status().as_str());
        resp
    };
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return count(
                ApiError::invalid(format!("the request body is larger than {MAX_BODY} bytes"))
                    .into_response(),
            )
        }
    };
    if authenticated {
        let checked = auth::authenticate(
            &SignedParts {
                method: parts.method.as_str(),
                path: &path,
                raw_query: parts.uri.query(),
                headers: &parts.headers,
                body: &bytes,
            },
            &project,
            &sim.projects,
            &lock(&sim.tokens),
            sim.clock.now(),
            sim.wall_now(),
        );
        if let Err(e) = checked {
            return count(e.into_response());
        }
    }
    let fault = lock(&sim.faults).decide(op, &project);
    if let Some(f) = fault {
        lock(&sim.counters).fault(op, f.name());
        tracing::debug!(op, fault = f.name(), "injecting fault");
        match f {
            FaultKind::Throttle { retry_after_secs } => {
                return count(ApiError::throttled(retry_after_secs).into_response())
            }
            FaultKind::ServerError => {
                return count(ApiError::server_error("injected fault").into_response())
            }
            FaultKind::Busy => return count(ApiError::busy().into_response()),
            FaultKind::Latency { ms } | FaultKind::Timeout { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await
            }
            FaultKind::DropResponse | FaultKind::CommitThen504 => {}
        }
    }
    let kill = parts
        .extensions
        .get::<ConnectInfo<ConnKill>>()
        .map(|c| c.0.clone());
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    match fault {
        Some(FaultKind::DropResponse) => {
            lock(&sim.counters).status(op, "dropped");
            if let Some(k) = kill {
                k.kill();
            }
            resp
        }
        Some(FaultKind::CommitThen504) => count(StatusCode::GATEWAY_TIMEOUT.into_response()),
        _ => count(resp),
    }
}

/// Wraps a method router in the pipeline of operation `op`.
pub fn op(sim: &Sim, op: &'static str, route: MethodRouter<Sim>) -> MethodRouter<Sim> {
    route.layer(middleware::from_fn_with_state(
        OpState {
            sim: sim.clone(),
            op,
            authenticated: true,
        },
        pipeline,
    ))
}

/// Like [`op`] for calls that need no credentials (the IAM token API).
pub fn open_op(sim: &Sim, op: &'static str, route: MethodRouter<Sim>) -> MethodRouter<Sim> {
    route.layer(middleware::from_fn_with_state(
        OpState {
            sim: sim.clone(),
            op,
            authenticated: false,
        },
        pipeline,
    ))
}

// ---------------------------------------------------------------------------------------
// Listener whose connections can be closed by a handler ("commit then drop the response").

/// Lets a request close its own connection before the response is written.
#[derive(Clone, Debug, Default)]
pub struct ConnKill(Arc<AtomicBool>);

impl ConnKill {
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn killed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP stream that fails every write once killed, so the response never leaves.
pub struct KillableStream {
    inner: TcpStream,
    kill: ConnKill,
}

fn killed_err() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "response dropped by fault injection",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.kill.killed() {
            return Poll::Ready(Err(killed_err()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.kill.killed() {
            return Poll::Ready(Err(killed_err()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.kill.killed() {
            return Poll::Ready(Err(killed_err()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The simulator's listener: a TCP listener handing out [`KillableStream`]s.
pub struct SimListener(pub TcpListener);

impl axum::serve::Listener for SimListener {
    type Io = KillableStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        {
            loop {
                match self.0.accept().await {
                    Ok((inner, addr)) => {
                        let _ = inner.set_nodelay(true);
                        return (
                            KillableStream {
                                inner,
                                kill: ConnKill::default(),
                            },
                            addr,
                        );
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, SimListener>>
    for ConnKill
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, SimListener>) -> Self {
        stream.io().kill.clone()
    }
}

/// The whole application: API families, admin API, fallback, request ids.
pub fn app(sim: Sim) -> Router {
    Router::new()
        .merge(super::routes::router(&sim))
        .nest("/_sim", super::admin::router())
        .fallback(|| async { ApiError::no_such_api() })
        .with_state(sim.clone())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(finish))
        .layer(middleware::from_fn_with_state(sim, server_date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_fields_but_not_values() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct B {
            n: u32,
        }
        let e = parse_body::<B>(br#"{"n": "Secret-PSK-123"}"#).unwrap_err();
        assert!(!e.message.contains("Secret-PSK-123"), "{}", e.message);
        let e = parse_body::<B>(br#"{}"#).unwrap_err();
        assert!(e.message.contains("missing field `n`"), "{}", e.message);
    }
}
