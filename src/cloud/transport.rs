//! The signed, rate-limited, retrying HTTP executor shared by every cloud API
//! (VPN v5, IES, IAM).
//!
//! CONTRACT: `vpn.rs` (and later the IES client) build [`ApiRequest`]s and call
//! [`ApiClient::json`] / [`ApiClient::no_content`]. The body of this file is
//! owned by the cloud-core work; keep these public names.
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::credentials::Credentials;
use super::error::CloudError;
use super::retry::RetryPolicy;

/// Whether an operation reads or mutates; picks the limiter bucket and retry rules
/// (writes are not retried after a timeout unless the caller says the operation is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    Read,
    Write,
}

/// A named API operation, e.g. `Operation::write("CreateVpnGateway")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    pub name: &'static str,
    pub kind: OpKind,
    /// True when repeating the request cannot create a second resource (PUT, DELETE, GET).
    pub idempotent: bool,
}

impl Operation {
    pub const fn read(name: &'static str) -> Self {
        Self {
            name,
            kind: OpKind::Read,
            idempotent: true,
        }
    }
    /// An idempotent mutation (PUT / DELETE).
    pub const fn write(name: &'static str) -> Self {
        Self {
            name,
            kind: OpKind::Write,
            idempotent: true,
        }
    }
    /// A create (POST): retried only when the request surely did not reach the server.
    pub const fn create(name: &'static str) -> Self {
        Self {
            name,
            kind: OpKind::Write,
            idempotent: false,
        }
    }
}

/// One request: the path is relative to the endpoint and already contains the project id.
#[derive(Clone)]
pub struct ApiRequest {
    pub op: Operation,
    pub method: http::Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Serialized JSON body. Never logged (may contain a PSK).
    pub body: Option<Vec<u8>>,
    /// Extra headers (e.g. IES `Accept-Language`).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("op", &self.op.name)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    pub fn new(op: Operation, method: http::Method, path: impl Into<String>) -> Self {
        Self {
            op,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }
    pub fn get(op: Operation, path: impl Into<String>) -> Self {
        Self::new(op, http::Method::GET, path)
    }
    /// Adds a query pair when `value` is `Some`.
    pub fn query_opt(mut self, key: &str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.query.push((key.to_string(), v.to_string()));
        }
        self
    }
    pub fn query(self, key: &str, value: impl ToString) -> Self {
        self.query_opt(key, Some(value))
    }
    pub fn json_body<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("request models always serialize"));
        self
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// A raw response.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// Client-side rate limits: token buckets per (endpoint, project), reads and writes apart.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub read_per_sec: f64,
    pub read_burst: u32,
    pub write_per_sec: f64,
    pub write_burst: u32,
}

/// Called for every HTTP attempt, so the operator can count cloud calls by
/// operation and outcome (metrics) without this module knowing about Prometheus.
pub trait CallObserver: Send + Sync {
    /// `outcome` is `"ok"` or the `ErrorKind` name; `attempt` starts at 1.
    fn on_attempt(&self, op: &Operation, outcome: &str, attempt: u32, elapsed: Duration);
}

/// Everything needed to build an [`ApiClient`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://vpn.cn-north-4.myhuaweicloud.com` or `http://127.0.0.1:8080`.
    pub endpoint: url::Url,
    pub project_id: String,
    pub credentials: Credentials,
    pub limits: RateLimits,
    pub retry: RetryPolicy,
    /// Per attempt.
    pub timeout: Duration,
    pub observer: Option<Arc<dyn CallObserver>>,
}

/// The executor. Cheap to clone (shares its HTTP pool, limiter and token cache).
#[derive(Clone)]
pub struct ApiClient {
    // Filled in by the cloud-core work.
    _cfg: Arc<ClientConfig>,
}

impl ApiClient {
    pub fn new(_cfg: ClientConfig) -> Result<Self, CloudError> {
        todo!("cloud-core")
    }
    pub fn project_id(&self) -> &str {
        todo!("cloud-core")
    }
    /// Sends with signing, limiting and retries; returns any 2xx response, or the classified error.
    pub async fn execute(&self, _req: ApiRequest) -> Result<ApiResponse, CloudError> {
        todo!("cloud-core")
    }
    /// [`execute`](Self::execute) and decode the JSON body.
    pub async fn json<R: DeserializeOwned>(&self, _req: ApiRequest) -> Result<R, CloudError> {
        todo!("cloud-core")
    }
    /// [`execute`](Self::execute) and ignore the body (204 and friends).
    pub async fn no_content(&self, _req: ApiRequest) -> Result<(), CloudError> {
        todo!("cloud-core")
    }
}
