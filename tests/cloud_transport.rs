//! `ApiClient` against a scripted HTTP server on 127.0.0.1: signing as the cloud
//! verifies it, retries, timeouts, and IAM token auth.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use vpn_operator::cloud::credentials::{PasswordAuth, ProjectScope};
use vpn_operator::cloud::retry::{Jitter, RetryPolicy};
use vpn_operator::cloud::signer::{self, SignableRequest};
use vpn_operator::cloud::transport::{
    ApiClient, ApiRequest, CallObserver, ClientConfig, Operation, RateLimits,
};
use vpn_operator::cloud::{Credentials, ErrorKind};

const AK: &str = "TESTACCESSKEY0000001";
const SK: &str = "test-secret-key-never-logged";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const PATH: &str = "/v5/0123456789abcdef0123456789abcdef/vpn-gateways";

const LIST: Operation = Operation::read("ListVpnGateways");
const CREATE: Operation = Operation::create("CreateVpnGateway");
const DELETE: Operation = Operation::write("DeleteVpnGateway");

/// A scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// Never answer (the client must time out).
    hang: bool,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
        hang: false,
    }
}

fn vpn_error(status: u16, code: &str, msg: &str) -> Reply {
    reply(
        status,
        &serde_json::json!({"error_code": code, "error_msg": msg, "request_id": "req-1"})
            .to_string(),
    )
}

fn hang() -> Reply {
    Reply {
        hang: true,
        ..reply(200, "")
    }
}

/// What the server saw of one API request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: http::HeaderMap,
    body: Vec<u8>,
    /// `Some(valid)` when the request carried an SDK-HMAC-SHA256 Authorization.
    signature_valid: Option<bool>,
    signed_headers: Vec<String>,
}

#[derive(Default)]
struct ServerState {
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
    token_calls: AtomicUsize,
    token_bodies: Mutex<Vec<serde_json::Value>>,
}

struct TestServer {
    url: url::Url,
    state: Arc<ServerState>,
}

impl TestServer {
    async fn start(script: Vec<Reply>) -> Self {
        let state = Arc::new(ServerState {
            script: Mutex::new(script.into()),
            ..Default::default()
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}").parse().unwrap(),
            state,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn token_calls(&self) -> usize {
        self.state.token_calls.load(Ordering::SeqCst)
    }
}

/// Recomputes the signature exactly as the cloud does, from what arrived on the wire.
fn verify_signature(
    method: &str,
    uri: &http::Uri,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Option<(bool, Vec<String>)> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let parsed = signer::parse_authorization(auth)?;
    let signed: Vec<(String, String)> = parsed
        .signed_headers
        .iter()
        .map(|name| {
            let value = headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            (name.clone(), value.to_string())
        })
        .collect();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let canonical = signer::canonical_request(&SignableRequest {
        method,
        path: uri.path(),
        query: &query,
        headers: &signed,
        body,
    });
    let date = headers.get("x-sdk-date")?.to_str().ok()?;
    let expected = signer::signature(SK, &signer::string_to_sign(&canonical, date));
    Some((
        parsed.access_key == AK && expected == parsed.signature,
        parsed.signed_headers,
    ))
}

async fn handle(State(state): State<Arc<ServerState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec();
    if parts.uri.path() == "/v3/auth/tokens" {
        let n = state.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
        state
            .token_bodies
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap_or_default());
        let now = chrono::Utc::now();
        let token = serde_json::json!({"token": {
            "issued_at": now.to_rfc3339(),
            "expires_at": (now + chrono::Duration::hours(24)).to_rfc3339(),
            "methods": ["password"],
        }});
        return Response::builder()
            .status(201)
            .header("X-Subject-Token", format!("tok-{n}"))
            .header("content-type", "application/json")
            .body(Body::from(token.to_string()))
            .unwrap();
    }
    let sig = verify_signature(parts.method.as_str(), &parts.uri, &parts.headers, &body);
    state.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        headers: parts.headers.clone(),
        body,
        signature_valid: sig.as_ref().map(|s| s.0),
        signed_headers: sig.map(|s| s.1).unwrap_or_default(),
    });
    let next = state.script.lock().unwrap().pop_front();
    let r = next.unwrap_or_else(|| reply(200, r#"{"vpn_gateways":[]}"#));
    if r.hang {
        std::future::pending::<()>().await;
    }
    let mut b = Response::builder()
        .status(r.status)
        .header("content-type", "application/json")
        .header("X-Request-Id", "hdr-request-id");
    for (k, v) in &r.headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(r.body)).unwrap()
}

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(String, String, u32)>>,
}

impl CallObserver for Recorder {
    fn on_attempt(&self, op: &Operation, outcome: &str, attempt: u32, _elapsed: Duration) {
        self.calls
            .lock()
            .unwrap()
            .push((op.name.to_string(), outcome.to_string(), attempt));
    }
}

impl Recorder {
    fn outcomes(&self) -> Vec<(String, u32)> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, o, a)| (o.clone(), *a))
            .collect()
    }
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        throttle_min_delay: Duration::ZERO,
        ..RetryPolicy::new(
            max_attempts,
            Duration::from_millis(1),
            Duration::from_millis(300),
        )
        .with_jitter(Jitter::Fixed(1.0))
    }
}

fn config(server: &TestServer, credentials: Credentials) -> (ClientConfig, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let mut cfg = ClientConfig::new(server.url.clone(), PROJECT, credentials);
    cfg.limits = RateLimits::unlimited();
    cfg.retry = fast_retry(4);
    cfg.timeout = Duration::from_secs(5);
    cfg.observer = Some(recorder.clone());
    (cfg, recorder)
}

fn aksk_client(server: &TestServer) -> (ApiClient, Arc<Recorder>) {
    let (cfg, rec) = config(server, Credentials::temporary(AK, SK, "security-token-1"));
    (ApiClient::new(cfg).unwrap(), rec)
}

#[tokio::test]
async fn signed_get_and_post_verify_like_the_cloud() {
    let server = TestServer::start(vec![
        reply(200, r#"{"vpn_gateways":[]}"#),
        reply(201, r#"{"vpn_gateway":{"id":"g1"}}"#),
    ])
    .await;
    let (client, rec) = aksk_client(&server);

    let list: serde_json::Value = client
        .json(
            ApiRequest::get(LIST, PATH)
                .query("limit", 2)
                .query("name", "a b*"),
        )
        .await
        .unwrap();
    assert_eq!(list, serde_json::json!({"vpn_gateways": []}));

    let created: serde_json::Value = client
        .json(
            ApiRequest::post(CREATE, PATH)
                .json_body(&serde_json::json!({"vpn_gateway": {"name": "gw"}})),
        )
        .await
        .unwrap();
    assert_eq!(created["vpn_gateway"]["id"], "g1");

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.signature_valid, Some(true), "{} {}", s.method, s.path);
        for h in [
            "content-type",
            "host",
            "x-project-id",
            "x-sdk-date",
            "x-security-token",
        ] {
            assert!(
                s.signed_headers.iter().any(|x| x == h),
                "{h} not signed: {:?}",
                s.signed_headers
            );
        }
        assert_eq!(s.headers["x-project-id"], PROJECT);
        assert_eq!(s.headers["x-security-token"], "security-token-1");
        assert_eq!(s.headers["content-type"], "application/json");
        assert_eq!(s.headers["host"], server.url.authority());
        assert!(s.headers.get("x-auth-token").is_none());
    }
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", PATH)
    );
    assert_eq!(
        seen[0].query,
        [
            ("limit".to_string(), "2".to_string()),
            ("name".to_string(), "a b*".to_string())
        ]
    );
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].body, br#"{"vpn_gateway":{"name":"gw"}}"#);
    assert_eq!(rec.outcomes(), [("ok".into(), 1), ("ok".into(), 1)]);
}

#[tokio::test]
async fn wrong_secret_key_fails_verification() {
    let server = TestServer::start(vec![]).await;
    let (cfg, _) = config(&server, Credentials::aksk(AK, "another-secret"));
    ApiClient::new(cfg)
        .unwrap()
        .no_content(ApiRequest::get(LIST, PATH))
        .await
        .unwrap();
    assert_eq!(server.seen()[0].signature_valid, Some(false));
}

#[tokio::test]
async fn throttled_create_waits_retry_after_then_succeeds() {
    let mut throttled = vpn_error(
        429,
        "APIGW.0308",
        "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 minute",
    );
    throttled.headers.push(("Retry-After", "1".into()));
    let server = TestServer::start(vec![
        throttled,
        reply(201, r#"{"vpn_gateway":{"id":"g2"}}"#),
    ])
    .await;
    let (client, rec) = aksk_client(&server);

    let started = std::time::Instant::now();
    let created: serde_json::Value = client
        .json(ApiRequest::post(CREATE, PATH).json_body(&serde_json::json!({})))
        .await
        .unwrap();
    let elapsed = started.elapsed();

    assert_eq!(created["vpn_gateway"]["id"], "g2");
    assert_eq!(server.seen().len(), 2);
    assert_eq!(rec.outcomes(), [("Throttled".into(), 1), ("ok".into(), 2)]);
    // Retry-After (1 s) capped at the policy's 300 ms max, instead of the 1 ms backoff.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(rec
        .calls
        .lock()
        .unwrap()
        .iter()
        .all(|(op, _, _)| op == "CreateVpnGateway"));
}

#[tokio::test]
async fn server_errors_give_up_after_max_attempts() {
    let server = TestServer::start(vec![vpn_error(500, "VPN.0002", "server error: db"); 10]).await;
    let (client, rec) = aksk_client(&server);
    let err = client
        .no_content(ApiRequest::get(LIST, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ServerError);
    assert_eq!(err.code.as_deref(), Some("VPN.0002"));
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
    assert_eq!(server.seen().len(), 4);
    let attempts: Vec<u32> = rec.outcomes().iter().map(|o| o.1).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
    assert!(rec.outcomes().iter().all(|o| o.0 == "ServerError"));
}

#[tokio::test]
async fn a_500_on_create_is_not_repeated() {
    // The create may have been applied: no duplicate gateway.
    let server = TestServer::start(vec![vpn_error(500, "VPN.0002", "server error")]).await;
    let (client, _) = aksk_client(&server);
    let err = client
        .no_content(ApiRequest::post(CREATE, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ServerError);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn invalid_request_is_not_retried_but_busy_is() {
    let server = TestServer::start(vec![
        vpn_error(400, "VPN.0001", "invalid request: bad name"),
        vpn_error(400, "VPN.0030", "The system is busy, please try later."),
    ])
    .await;
    let (client, rec) = aksk_client(&server);
    let err = client
        .no_content(ApiRequest::put(DELETE, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("invalid request: bad name"));
    assert_eq!(server.seen().len(), 1);

    client
        .no_content(ApiRequest::delete(DELETE, PATH))
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 3);
    assert_eq!(
        rec.outcomes(),
        [
            ("InvalidRequest".into(), 1),
            ("Busy".into(), 1),
            ("ok".into(), 2)
        ]
    );
}

#[tokio::test]
async fn not_ready_goes_back_to_the_caller() {
    let server = TestServer::start(vec![vpn_error(
        403,
        "VPN.0003",
        "resource (type=GATEWAY, ID=g1) is not ready, currently CREATING",
    )])
    .await;
    let (client, _) = aksk_client(&server);
    let err = client
        .no_content(ApiRequest::delete(DELETE, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotReady);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn timeout_on_create_is_not_retried_but_on_read_is() {
    let server = TestServer::start(vec![hang(), hang()]).await;
    let (mut cfg, rec) = config(&server, Credentials::aksk(AK, SK));
    cfg.timeout = Duration::from_millis(200);
    cfg.read_timeout = Duration::from_millis(200);
    let client = ApiClient::new(cfg).unwrap();

    let err = client
        .no_content(ApiRequest::post(CREATE, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(server.seen().len(), 1);
    assert_eq!(rec.outcomes(), [("Timeout".into(), 1)]);

    // A read that times out is repeated (the second hang, then the default 200).
    client
        .no_content(ApiRequest::get(LIST, PATH))
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 3);
    assert_eq!(
        rec.outcomes(),
        [
            ("Timeout".into(), 1),
            ("Timeout".into(), 1),
            ("ok".into(), 2)
        ]
    );
}

#[tokio::test]
async fn refused_connection_is_retried_even_for_creates() {
    // Nothing listens there: the request surely never reached a server.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let recorder = Arc::new(Recorder::default());
    let mut cfg = ClientConfig::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        PROJECT,
        Credentials::aksk(AK, SK),
    );
    cfg.limits = RateLimits::unlimited();
    cfg.retry = fast_retry(3);
    cfg.observer = Some(recorder.clone());
    let err = ApiClient::new(cfg)
        .unwrap()
        .no_content(ApiRequest::post(CREATE, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(!err.to_string().contains(SK));
    assert_eq!(
        recorder.outcomes(),
        [
            ("Transport".into(), 1),
            ("Transport".into(), 2),
            ("Transport".into(), 3)
        ]
    );
}

#[tokio::test]
async fn json_rejects_empty_body_and_no_content_accepts_any_2xx() {
    let server = TestServer::start(vec![
        reply(200, ""),
        reply(204, ""),
        reply(202, r#"{"job_id":"j"}"#),
    ])
    .await;
    let (client, _) = aksk_client(&server);
    let err = client
        .json::<serde_json::Value>(ApiRequest::get(LIST, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode);
    assert_eq!(err.request_id.as_deref(), Some("hdr-request-id"));
    client
        .no_content(ApiRequest::delete(DELETE, PATH))
        .await
        .unwrap();
    client
        .no_content(ApiRequest::post(CREATE, PATH))
        .await
        .unwrap();
}

#[tokio::test]
async fn static_token_is_sent_unsigned() {
    let server = TestServer::start(vec![]).await;
    let (cfg, _) = config(&server, Credentials::token("static-token"));
    ApiClient::new(cfg)
        .unwrap()
        .no_content(ApiRequest::get(LIST, PATH))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].headers["x-auth-token"], "static-token");
    assert_eq!(seen[0].signature_valid, None);
    assert_eq!(server.token_calls(), 0);
}

fn password(server: &TestServer) -> Credentials {
    Credentials::Password(PasswordAuth {
        user: "ops".into(),
        password: "iam-password".into(),
        domain: "acme".into(),
        project: ProjectScope::Id(PROJECT.into()),
        iam_endpoint: server.url.clone(),
    })
}

#[tokio::test]
async fn iam_token_is_fetched_once_and_reused() {
    let server = TestServer::start(vec![]).await;
    let (cfg, _) = config(&server, password(&server));
    let client = ApiClient::new(cfg).unwrap();
    // Concurrent first calls still fetch a single token.
    let calls = (0..3).map(|_| {
        let c = client.clone();
        async move { c.no_content(ApiRequest::get(LIST, PATH)).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    client
        .no_content(ApiRequest::get(LIST, PATH))
        .await
        .unwrap();

    assert_eq!(server.token_calls(), 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    for s in &seen {
        assert_eq!(s.headers["x-auth-token"], "tok-1");
        assert!(s.headers.get("authorization").is_none());
    }
    let body = &server.state.token_bodies.lock().unwrap()[0];
    assert_eq!(body["auth"]["identity"]["password"]["user"]["name"], "ops");
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["domain"]["name"],
        "acme"
    );
    assert_eq!(body["auth"]["scope"]["project"]["id"], PROJECT);
}

#[tokio::test]
async fn a_401_drops_the_token_and_fetches_a_new_one() {
    let server = TestServer::start(vec![vpn_error(
        401,
        "APIGW.0307",
        "The token must be updated.",
    )])
    .await;
    let (cfg, rec) = config(&server, password(&server));
    let client = ApiClient::new(cfg).unwrap();
    // A create: the 401 means it was rejected, so the immediate retry is safe.
    client
        .no_content(ApiRequest::post(CREATE, PATH))
        .await
        .unwrap();

    assert_eq!(server.token_calls(), 2);
    let seen = server.seen();
    assert_eq!(seen[0].headers["x-auth-token"], "tok-1");
    assert_eq!(seen[1].headers["x-auth-token"], "tok-2");
    assert_eq!(rec.outcomes(), [("AuthFailed".into(), 1), ("ok".into(), 2)]);
}

#[tokio::test]
async fn persistent_401_is_reported_not_looped() {
    let server = TestServer::start(vec![
        vpn_error(
            401,
            "APIGW.0301",
            "Incorrect IAM authentication information"
        );
        5
    ])
    .await;
    let (cfg, _) = config(&server, password(&server));
    let err = ApiClient::new(cfg)
        .unwrap()
        .no_content(ApiRequest::get(LIST, PATH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AuthFailed);
    assert!(!err.to_string().contains("iam-password"));
    assert_eq!(server.seen().len(), 2);
    assert_eq!(server.token_calls(), 2);
}
