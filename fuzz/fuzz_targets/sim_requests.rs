//! The simulator's request handling, in process (its router, no sockets): arbitrary methods,
//! paths, query strings, headers and bodies on every route. A bad request must be answered
//! with a 4xx, never a 5xx, and nothing may panic.
//!
//! Input: up to 4 requests separated by a line `---`. Each is a first line
//! `METHOD AUTH PATH[?QUERY]` followed by the body (the rest, any bytes). In the path,
//! `{p}` is the simulator's project id and `{0}`..`{9}` the ids found so far in answers
//! (so a sequence can create a resource and then act on it). AUTH is `T` (a valid token),
//! `S` (a valid AK/SK signature over the request), `I` (the IES token), `-` (none) or any
//! other word (sent as a token). The state is reset before each input.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::Router;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use vpn_operator::cloud::signer;
use vpn_operator::sim::config::{DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY};
use vpn_operator::sim::ies::{self, IesState};
use vpn_operator::sim::{server, Clock, Delays, SimConfig, SimState};

const TOKEN: &str = "fuzz-token";
const HOST: &str = "sim.fuzz";

struct Fixture {
    rt: tokio::runtime::Runtime,
    sim: Arc<SimState>,
    ies: Arc<IesState>,
    app: Router,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let clock = Clock::manual(chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000));
        let mut cfg = SimConfig::default()
            .with_delays(Delays::zero())
            .with_clock(clock.clone());
        cfg.projects[0] = cfg.projects[0].clone().with_token(TOKEN);
        let sim = Arc::new(SimState::new(cfg));
        let ies = Arc::new(
            IesState::new(ies::config::IesConfig::default().with_clock(clock)).expect("IES config"),
        );
        let app = server::app(sim.clone()).merge(ies::router(ies.clone()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        Fixture { rt, sim, ies, app }
    })
}

fn split_requests(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = find(rest, b"\n---\n") {
        out.push(&rest[..at]);
        rest = &rest[at + 5..];
    }
    out.push(rest);
    out.truncate(4);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// String values of keys ending in `id`, anywhere in a JSON answer.
fn collect_ids(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v {
                    serde_json::Value::String(s) if k.ends_with("id") && out.len() < 10 => {
                        out.push(s.clone())
                    }
                    _ => collect_ids(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

fn build(line: &str, body: &[u8], ids: &[String]) -> Option<http::Request<Body>> {
    let mut words = line.splitn(3, ' ');
    let (method, auth, target) = (words.next()?, words.next()?, words.next()?);
    let mut target = target.replace("{p}", DEFAULT_PROJECT_ID);
    for (i, id) in ids.iter().enumerate() {
        target = target.replace(&format!("{{{i}}}"), id);
    }
    let method = http::Method::from_bytes(method.as_bytes()).ok()?;
    let uri: http::Uri = target.parse().ok()?;
    // The admin API (`/_sim/...`) injects faults and 5xx on purpose: not an API under test.
    if uri.path().starts_with("/_sim") || uri.path_and_query().is_none() {
        return None;
    }
    let mut req = http::Request::builder()
        .method(method.clone())
        .uri(uri.clone())
        .header("host", HOST)
        .header("content-type", "application/json");
    match auth {
        "-" => {}
        "T" => req = req.header("x-auth-token", TOKEN),
        "I" => req = req.header("x-auth-token", ies::config::DEFAULT_AUTH_TOKEN),
        "S" => {
            let now = chrono::Utc::now();
            let date = signer::format_sdk_date(now);
            let headers = vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("host".to_string(), HOST.to_string()),
                (signer::SDK_DATE_HEADER.to_string(), date.clone()),
            ];
            let query = vpn_operator::sim::auth::query_pairs(uri.query());
            let signed = signer::sign(
                &signer::SignableRequest {
                    method: method.as_str(),
                    path: uri.path(),
                    query: &query,
                    headers: &headers,
                    body,
                },
                DEFAULT_ACCESS_KEY,
                DEFAULT_SECRET_KEY,
                now,
            );
            req = req
                .header(signer::SDK_DATE_HEADER, date)
                .header("authorization", signed.authorization);
        }
        other => req = req.header("x-auth-token", other),
    }
    req.body(Body::from(body.to_vec())).ok()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    f.sim.reset();
    f.ies.reset();
    let mut ids: Vec<String> = Vec::new();
    for raw in split_requests(data) {
        let (line, body) = match find(raw, b"\n") {
            Some(at) => (&raw[..at], &raw[at + 1..]),
            None => (raw, &[][..]),
        };
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let Some(req) = build(line.trim_end_matches('\r'), body, &ids) else {
            continue;
        };
        let summary = format!("{} {}", req.method(), req.uri());
        let (status, answer) = f.rt.block_on(async {
            let resp = f
                .app
                .clone()
                .oneshot(req)
                .await
                .expect("the router is infallible");
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("answers are in memory");
            (status, bytes)
        });
        assert!(
            !status.is_server_error(),
            "{summary} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&answer) {
            collect_ids(&v, &mut ids);
        }
    }
});
