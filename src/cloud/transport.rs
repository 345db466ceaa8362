//! The signed, rate-limited, retrying HTTP executor shared by every cloud API
//! (VPN v5, IES, IAM).
//!
//! CONTRACT: `vpn.rs` (and later the IES client) build [`ApiRequest`]s and call
//! [`ApiClient::json`] / [`ApiClient::no_content`]. The body of this file is
//! owned by the cloud-core work; keep these public names.
//!
//! One call = up to `retry.max_attempts` attempts. Each attempt: take a limiter token
//! (read or write bucket of the endpoint+project), build the headers the vendor SDK sends
//! (`Content-Type`, `Host`, `X-Sdk-Date`, `X-Project-Id`, ...), authenticate (sign every
//! sent header with AK/SK, or add `X-Auth-Token`), send with a per-attempt timeout,
//! classify the answer, and let [`RetryPolicy`] decide whether to wait and go again.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use super::credentials::Credentials;
use super::error::{CloudError, ErrorKind};
use super::limiter::{self, Limiter};
use super::retry::RetryPolicy;
use super::signer::{self, SignableRequest};
use super::token::{error_chain, TokenCache};

pub use super::limiter::RateLimits;

pub use super::operation::{OpKind, Operation};

/// One request: the path is relative to the endpoint and already contains the project id.
#[derive(Clone)]
pub struct ApiRequest {
    pub op: Operation,
    pub method: http::Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Serialized JSON body. Never logged (may contain a PSK).
    pub body: Option<Vec<u8>>,
    /// Extra headers (e.g. IES `Accept-Language`). They are sent and, with AK/SK, signed;
    /// they may override `Content-Type` but not the authentication headers.
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
    /// A request without body, query or extra headers.
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
    /// `GET path`.
    pub fn get(op: Operation, path: impl Into<String>) -> Self {
        Self::new(op, http::Method::GET, path)
    }
    /// `POST path`.
    pub fn post(op: Operation, path: impl Into<String>) -> Self {
        Self::new(op, http::Method::POST, path)
    }
    /// `PUT path`.
    pub fn put(op: Operation, path: impl Into<String>) -> Self {
        Self::new(op, http::Method::PUT, path)
    }
    /// `DELETE path`.
    pub fn delete(op: Operation, path: impl Into<String>) -> Self {
        Self::new(op, http::Method::DELETE, path)
    }
    /// Adds a query pair when `value` is `Some`.
    pub fn query_opt(mut self, key: &str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.query.push((key.to_string(), v.to_string()));
        }
        self
    }
    /// Adds a query pair (repeat the key for lists).
    pub fn query(self, key: &str, value: impl ToString) -> Self {
        self.query_opt(key, Some(value))
    }
    /// Sets the JSON body.
    ///
    /// # Panics
    /// Only if `B`'s `Serialize` impl fails, which the derived wire models never do
    /// (no maps with non-string keys).
    pub fn json_body<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("request models always serialize"));
        self
    }
    /// Adds an extra header.
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

impl ApiResponse {
    /// The `X-Request-Id` header, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
    }
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
    /// A path (IES: `https://host:port/rest`) is kept in front of every request path.
    pub endpoint: url::Url,
    /// Sent as `X-Project-Id` when not empty.
    pub project_id: String,
    pub credentials: Credentials,
    pub limits: RateLimits,
    pub retry: RetryPolicy,
    /// Per attempt of a write.
    pub timeout: Duration,
    /// Per attempt of a read (GET, list page). Shorter than `timeout`: a read that hangs is
    /// retried sooner, and the shared list refresh it serves is not held up as long (a write
    /// may take the server longer, and giving up on it leaves its outcome unknown).
    pub read_timeout: Duration,
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl ClientConfig {
    /// Default per-attempt timeout of a write.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default per-attempt timeout of a read.
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

    /// A config with default limits, retry policy and timeouts (30 s per write attempt, 10 s
    /// per read attempt), no observer.
    pub fn new(
        endpoint: url::Url,
        project_id: impl Into<String>,
        credentials: Credentials,
    ) -> Self {
        Self {
            endpoint,
            project_id: project_id.into(),
            credentials,
            limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            timeout: Self::DEFAULT_TIMEOUT,
            read_timeout: Self::DEFAULT_READ_TIMEOUT,
            observer: None,
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.endpoint.as_str())
            .field("project_id", &self.project_id)
            .field("credentials", &self.credentials)
            .field("limits", &self.limits)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("read_timeout", &self.read_timeout)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// The public endpoint of `service` in `region`: `https://{service}.{region}.myhuaweicloud.com`
/// (the VPN SDK's pattern, gateways reference §2.1). Both must be DNS labels
/// (lowercase letters, digits, `-`), e.g. `("vpn", "cn-north-4")` or `("iam", "ap-southeast-1")`.
pub fn default_endpoint(service: &str, region: &str) -> Result<url::Url, CloudError> {
    let label = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && !s.starts_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !label(service) {
        return Err(CloudError::config(
            "default_endpoint",
            format!("service {service:?} is not a service name like \"vpn\""),
        ));
    }
    if !label(region) {
        return Err(CloudError::config(
            "default_endpoint",
            format!("region {region:?} is not a region name like \"cn-north-4\""),
        ));
    }
    url::Url::parse(&format!("https://{service}.{region}.myhuaweicloud.com"))
        .map_err(|e| CloudError::config("default_endpoint", e))
}

/// `override_url` if given (e.g. a private endpoint or the simulator), else
/// [`default_endpoint`]. The override must be an absolute `http`/`https` URL.
pub fn resolve_endpoint(
    override_url: Option<&str>,
    service: &str,
    region: &str,
) -> Result<url::Url, CloudError> {
    match override_url.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let url = url::Url::parse(s).map_err(|e| {
                CloudError::config("resolve_endpoint", format!("endpoint {s:?}: {e}"))
            })?;
            check_endpoint(&url)?;
            Ok(url)
        }
        None => default_endpoint(service, region),
    }
}

fn check_endpoint(url: &url::Url) -> Result<(), CloudError> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CloudError::config(
            "ApiClient",
            format!("endpoint {url} must be an http(s) URL with a host"),
        ));
    }
    Ok(())
}

/// The executor. Cheap to clone (shares its HTTP pool, limiter and token cache).
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ClientConfig,
    http: reqwest::Client,
    limiter: Arc<Limiter>,
    tokens: Option<Arc<TokenCache>>,
    /// `host[:port]` as sent in `Host` and signed.
    host: String,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("config", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

/// A failed attempt and whether the request may have reached the server.
struct AttemptError {
    err: CloudError,
    maybe_sent: bool,
    /// The IAM token the attempt used (to invalidate on 401).
    token: Option<String>,
}

impl AttemptError {
    fn unsent(err: CloudError) -> Self {
        Self {
            err,
            maybe_sent: false,
            token: None,
        }
    }
}

const USER_AGENT: &str = concat!("vpn-operator/", env!("CARGO_PKG_VERSION"));

/// The HTTP client (connection pool, TLS configuration) for these timeouts, built once and
/// shared by every account's [`ApiClient`]. Why: a client of its own per account (its TLS root
/// store and pool) was most of an account's memory at hundreds of accounts (docs/PERFORMANCE.md).
/// Sharing changes nothing on the wire: every request carries its own signature or token, and
/// accounts on one endpoint simply reuse its connections.
fn shared_http(connect: Duration, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    type Clients = Mutex<HashMap<(Duration, Duration), reqwest::Client>>;
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(c) = clients.get(&(connect, timeout)) {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(connect)
        .timeout(timeout)
        .build()?;
    clients.insert((connect, timeout), c.clone());
    Ok(c)
}

impl ApiClient {
    /// Whether a clone of this client exists besides this one (a reconcile in flight, a
    /// pending watch): the owner of the last one may drop it without cutting anyone off.
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.inner) > 1
    }

    /// Builds the client; fails on an endpoint that is not an http(s) URL with a host.
    pub fn new(cfg: ClientConfig) -> Result<Self, CloudError> {
        check_endpoint(&cfg.endpoint)?;
        let host = match (cfg.endpoint.host_str(), cfg.endpoint.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(CloudError::config("ApiClient", "endpoint has no host")),
        };
        let http = shared_http(
            cfg.timeout.min(Duration::from_secs(10)),
            cfg.timeout.max(cfg.read_timeout),
        )
        .map_err(|e| CloudError::config("ApiClient", error_chain(e)))?;
        let tokens = match &cfg.credentials {
            Credentials::Password(auth) => {
                check_endpoint(&auth.iam_endpoint)?;
                Some(Arc::new(TokenCache::new(
                    auth.clone(),
                    http.clone(),
                    cfg.timeout,
                )))
            }
            _ => None,
        };
        let limiter = limiter::shared(&cfg.endpoint, &cfg.project_id, cfg.limits);
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                http,
                limiter,
                tokens,
                host,
            }),
        })
    }

    /// The project id every path is built with.
    pub fn project_id(&self) -> &str {
        &self.inner.cfg.project_id
    }

    /// The base URL.
    pub fn endpoint(&self) -> &url::Url {
        &self.inner.cfg.endpoint
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// Sends with signing, limiting and retries; returns any 2xx response, or the classified error.
    pub async fn execute(&self, req: ApiRequest) -> Result<ApiResponse, CloudError> {
        let span = tracing::debug_span!(
            "cloud_call",
            op = req.op.name,
            method = %req.method,
            path = %req.path
        );
        self.execute_inner(&req).instrument(span).await
    }

    async fn execute_inner(&self, req: &ApiRequest) -> Result<ApiResponse, CloudError> {
        let policy = &self.inner.cfg.retry;
        let mut attempt = 0u32;
        // Attempts counted against the policy (a token refresh after 401 is free).
        let mut budget = 0u32;
        let mut refreshed_token = false;
        loop {
            attempt += 1;
            budget += 1;
            self.take_token(req, attempt).await?;
            let started = tokio::time::Instant::now();
            let result = self.attempt(req).await;
            let elapsed = started.elapsed();
            let failure = match result {
                Ok(resp) => {
                    self.observe(&req.op, "ok", attempt, elapsed);
                    tracing::debug!(
                        attempt,
                        status = resp.status,
                        request_id = resp.request_id().unwrap_or(""),
                        elapsed_ms = elapsed.as_millis() as u64,
                        "cloud call succeeded"
                    );
                    return Ok(resp);
                }
                Err(f) => f,
            };
            let err = failure.err;
            self.observe(&req.op, err.kind.as_str(), attempt, elapsed);
            tracing::debug!(
                attempt,
                kind = err.kind.as_str(),
                status = err.http_status,
                code = err.code.as_deref().unwrap_or(""),
                request_id = err.request_id.as_deref().unwrap_or(""),
                elapsed_ms = elapsed.as_millis() as u64,
                "cloud call failed"
            );
            // 401 with an IAM token: drop it; one immediate retry with a fresh token
            // (the server rejected the request, so this is safe even for creates).
            if err.http_status == Some(401) {
                if let (Some(cache), Some(token)) = (&self.inner.tokens, &failure.token) {
                    cache.invalidate(token).await;
                    if !refreshed_token {
                        refreshed_token = true;
                        budget -= 1;
                        continue;
                    }
                }
            }
            if !policy.should_retry(&req.op, &err, budget, failure.maybe_sent) {
                return Err(err);
            }
            let delay = policy.delay(budget, &err);
            tracing::debug!(
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying cloud call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Waits for a limiter token. The first attempt of a write made inside a reconcile that
    /// set [`limiter::WRITE_QUEUE`] does not wait long: it fails with `ErrorKind::Queued`
    /// (nothing was sent) and its token stays reserved for the object's next try.
    async fn take_token(&self, req: &ApiRequest, attempt: u32) -> Result<(), CloudError> {
        let queue = (attempt == 1 && req.op.kind == OpKind::Write)
            .then(|| limiter::WRITE_QUEUE.try_with(Clone::clone).ok())
            .flatten();
        let Some(queue) = queue else {
            self.inner.limiter.acquire(req.op.kind).await;
            return Ok(());
        };
        match self.inner.limiter.admit_write(&queue).await {
            Ok(()) => Ok(()),
            Err(q) => Err(CloudError {
                retry_after: Some(q.retry_after),
                ..CloudError::new(
                    ErrorKind::Queued,
                    req.op.name,
                    "waiting for the operator's client-side write budget; not sent yet",
                )
            }),
        }
    }

    fn observe(&self, op: &Operation, outcome: &str, attempt: u32, elapsed: Duration) {
        if let Some(o) = &self.inner.cfg.observer {
            o.on_attempt(op, outcome, attempt, elapsed);
        }
    }

    /// The URL of `req`: endpoint (with its base path) + path + RFC 3986 query.
    fn url_for(&self, req: &ApiRequest) -> url::Url {
        let mut url = self.inner.cfg.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        let path = if req.path.starts_with('/') {
            format!("{base}{}", req.path)
        } else {
            format!("{base}/{}", req.path)
        };
        url.set_path(&path);
        url.set_fragment(None);
        if req.query.is_empty() {
            url.set_query(None);
        } else {
            // Sent exactly as signed (sorted, RFC 3986), so no re-encoding can differ.
            url.set_query(Some(&signer::canonical_query(&req.query)));
        }
        url
    }

    /// The headers of one attempt, authenticated. Returns them and the IAM token used.
    async fn headers_for(
        &self,
        req: &ApiRequest,
        url: &url::Url,
        body: &[u8],
    ) -> Result<(Vec<(String, String)>, Option<String>), AttemptError> {
        let cfg = &self.inner.cfg;
        let mut headers: Vec<(String, String)> = vec![
            ("Content-Type".into(), "application/json".into()),
            ("Host".into(), self.inner.host.clone()),
        ];
        if !cfg.project_id.is_empty() {
            headers.push(("X-Project-Id".into(), cfg.project_id.clone()));
        }
        const PROTECTED: [&str; 5] = [
            "host",
            "x-sdk-date",
            "x-auth-token",
            "x-security-token",
            "x-project-id",
        ];
        for (name, value) in &req.headers {
            if PROTECTED.iter().any(|p| name.eq_ignore_ascii_case(p)) {
                continue;
            }
            set_header(&mut headers, name, value);
        }
        match &cfg.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                // Our Authorization replaces any the caller gave.
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
                let now = chrono::Utc::now();
                headers.push((signer::SDK_DATE_HEADER.into(), signer::format_sdk_date(now)));
                if let Some(t) = security_token {
                    headers.push(("X-Security-Token".into(), t.clone()));
                }
                let signed = signer::sign(
                    &SignableRequest {
                        method: req.method.as_str(),
                        path: url.path(),
                        query: &req.query,
                        headers: &headers,
                        body,
                    },
                    access_key,
                    secret_key,
                    now,
                );
                headers.push(("Authorization".into(), signed.authorization));
                Ok((headers, None))
            }
            Credentials::Token(token) => {
                headers.push(("X-Auth-Token".into(), token.clone()));
                Ok((headers, None))
            }
            Credentials::Password(_) => {
                let cache = self
                    .inner
                    .tokens
                    .as_ref()
                    .expect("password credentials always have a token cache");
                let token = cache.get().await.map_err(AttemptError::unsent)?;
                headers.push(("X-Auth-Token".into(), token.clone()));
                Ok((headers, Some(token)))
            }
        }
    }

    async fn attempt(&self, req: &ApiRequest) -> Result<ApiResponse, AttemptError> {
        let op = req.op.name;
        let url = self.url_for(req);
        let body = req.body.as_deref().unwrap_or_default();
        let (headers, token) = self.headers_for(req, &url, body).await?;
        let mut header_map = http::HeaderMap::with_capacity(headers.len());
        for (name, value) in &headers {
            let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                AttemptError::unsent(CloudError::config(
                    op,
                    format!("invalid header name {name:?}"),
                ))
            })?;
            let value = http::HeaderValue::from_str(value).map_err(|_| {
                // The value may be a secret: name the header only.
                AttemptError::unsent(CloudError::config(
                    op,
                    format!("invalid value for header {name}"),
                ))
            })?;
            header_map.insert(name, value);
        }
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url)
            .headers(header_map);
        if let Some(b) = &req.body {
            builder = builder.body(b.clone());
        }
        let timeout = match req.op.kind {
            OpKind::Read => self.inner.cfg.read_timeout,
            OpKind::Write => self.inner.cfg.timeout,
        };
        let send = async {
            let resp = builder.send().await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>(ApiResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        };
        let fail = |err, maybe_sent| AttemptError {
            err,
            maybe_sent,
            token: token.clone(),
        };
        let resp = match tokio::time::timeout(timeout, send).await {
            Err(_) => return Err(fail(CloudError::timeout(op, timeout), true)),
            Ok(Err(e)) if e.is_timeout() => {
                return Err(fail(CloudError::timeout(op, timeout), true))
            }
            // Connect errors (refused, DNS, TLS handshake): nothing was sent.
            Ok(Err(e)) if e.is_connect() => {
                return Err(fail(
                    CloudError::transport(op, error_chain(e.without_url())),
                    false,
                ))
            }
            Ok(Err(e)) => {
                return Err(fail(
                    CloudError::transport(op, error_chain(e.without_url())),
                    true,
                ))
            }
            Ok(Ok(resp)) => resp,
        };
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(fail(
                CloudError::from_response(op, resp.status, &resp.headers, &resp.body),
                true,
            ))
        }
    }

    /// [`execute`](Self::execute) and decode the JSON body. An empty body is a
    /// `Decode` error (the documented APIs always answer with JSON where this is used).
    pub async fn json<R: DeserializeOwned>(&self, req: ApiRequest) -> Result<R, CloudError> {
        let op = req.op.name;
        let resp = self.execute(req).await?;
        let with_id = |mut e: CloudError| {
            e.request_id = resp.request_id().map(str::to_string);
            e
        };
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Err(with_id(CloudError::decode(
                op,
                resp.status,
                "empty body where JSON was expected",
            )));
        }
        serde_json::from_slice(&resp.body)
            .map_err(|e| with_id(CloudError::decode(op, resp.status, describe_json_error(&e))))
    }

    /// [`execute`](Self::execute) and ignore the body (204 and friends).
    pub async fn no_content(&self, req: ApiRequest) -> Result<(), CloudError> {
        self.execute(req).await.map(|_| ())
    }
}

/// Replaces (case-insensitively) or appends a header.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(slot) => slot.1 = value.to_string(),
        None => headers.push((name.to_string(), value.to_string())),
    }
}

/// A serde_json error without the offending values (a body may hold a PSK):
/// "missing field `id`" is kept, "invalid type: string \"...\"" is reduced to its category.
fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let at = format!("at line {} column {}", e.line(), e.column());
    if e.is_data() && (text.starts_with("invalid type") || text.starts_with("invalid value")) {
        let what = text.split(':').next().unwrap_or("invalid data");
        format!("{what} {at}")
    } else if e.is_data() {
        text
    } else {
        format!("not valid JSON ({:?}) {at}", e.classify())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoints() {
        assert_eq!(
            default_endpoint("vpn", "cn-north-4").unwrap().as_str(),
            "https://vpn.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(
            default_endpoint("iam", "ap-southeast-1")
                .unwrap()
                .host_str(),
            Some("iam.ap-southeast-1.myhuaweicloud.com")
        );
        for bad in ["", "cn north", "CN-NORTH-4", "cn/evil", "-x", "a.b"] {
            let e = default_endpoint("vpn", bad).unwrap_err();
            assert!(e.message.contains("region"), "{bad}: {e}");
        }
        assert!(default_endpoint("", "cn-north-4").is_err());
    }

    #[test]
    fn endpoint_override() {
        let u = resolve_endpoint(Some("http://127.0.0.1:8080"), "vpn", "cn-north-4").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/");
        let u = resolve_endpoint(Some("  "), "vpn", "cn-north-4").unwrap();
        assert_eq!(u.host_str(), Some("vpn.cn-north-4.myhuaweicloud.com"));
        assert!(resolve_endpoint(Some("ftp://x"), "vpn", "r").is_err());
        assert!(resolve_endpoint(Some("not a url"), "vpn", "r").is_err());
    }

    fn client(endpoint: &str) -> ApiClient {
        let mut cfg = ClientConfig::new(
            endpoint.parse().unwrap(),
            "p1",
            Credentials::aksk("AKEXAMPLE-ID", "SK-very-secret"),
        );
        cfg.limits = RateLimits::unlimited();
        ApiClient::new(cfg).unwrap()
    }

    #[test]
    fn urls_keep_base_path_and_encode_query() {
        let c = client("https://ies.example.com:17100/rest/");
        let req = ApiRequest::get(Operation::read("X"), "/servicemanager/v1/services")
            .query("name", "a b+c")
            .query("limit", 10);
        assert_eq!(
            c.url_for(&req).as_str(),
            "https://ies.example.com:17100/rest/servicemanager/v1/services?limit=10&name=a%20b%2Bc"
        );
        assert_eq!(c.inner.host, "ies.example.com:17100");
        let c = client("https://vpn.cn-north-4.myhuaweicloud.com");
        let req = ApiRequest::get(Operation::read("X"), "v5/p1/vpn-gateways");
        assert_eq!(c.url_for(&req).path(), "/v5/p1/vpn-gateways");
        assert_eq!(c.inner.host, "vpn.cn-north-4.myhuaweicloud.com");
    }

    #[test]
    fn bad_endpoint_is_a_config_error() {
        let cfg = ClientConfig::new("file:///tmp".parse().unwrap(), "p", Credentials::token("t"));
        let e = ApiClient::new(cfg).unwrap_err();
        assert!(e.message.contains("http(s)"), "{e}");
    }

    #[test]
    fn json_errors_hide_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct S {
            id: u32,
        }
        let e = serde_json::from_str::<S>(r#"{"id":"psk-secret"}"#).unwrap_err();
        let d = describe_json_error(&e);
        assert!(
            !d.contains("psk-secret") && d.starts_with("invalid type at line 1"),
            "{d}"
        );
        let e = serde_json::from_str::<S>("{}").unwrap_err();
        assert!(describe_json_error(&e).contains("missing field `id`"));
        let e = serde_json::from_str::<S>("{oops").unwrap_err();
        assert!(describe_json_error(&e).starts_with("not valid JSON (Syntax)"));
    }

    #[test]
    fn debug_hides_credentials() {
        let c = client("https://vpn.cn-north-4.myhuaweicloud.com");
        let shown = format!("{c:?}");
        assert!(shown.contains("vpn.cn-north-4"), "{shown}");
        assert!(
            !shown.contains("SK-very-secret") && !shown.contains("AKEXAMPLE-ID"),
            "{shown}"
        );
    }
}
