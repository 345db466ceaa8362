//! The leader-election loop against a minimal in-process Lease server whose failures the
//! test controls: a leader that cannot renew steps down once the renew deadline has passed.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};
use vpn_operator::config::LeaderElectionConfig;
use vpn_operator::leader::{ElectionEnd, LeaderElector, LeaderState};

#[derive(Default)]
struct FakeLeases {
    lease: Mutex<Option<Value>>,
    version: AtomicU64,
    /// When set, every request gets a 500.
    failing: AtomicBool,
}

type Reply = (StatusCode, Json<Value>);

fn status(code: StatusCode, reason: &str) -> Reply {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code.as_u16(), "reason": reason, "message": reason});
    (code, Json(body))
}

impl FakeLeases {
    fn stamp(&self, mut lease: Value) -> Value {
        let rv = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        lease["metadata"]["resourceVersion"] = json!(rv.to_string());
        lease
    }
}

async fn get_lease(
    State(s): State<Arc<FakeLeases>>,
    Path((_ns, _name)): Path<(String, String)>,
) -> Reply {
    if s.failing.load(Ordering::SeqCst) {
        return status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError");
    }
    match s.lease.lock().unwrap().clone() {
        Some(lease) => (StatusCode::OK, Json(lease)),
        None => status(StatusCode::NOT_FOUND, "NotFound"),
    }
}

async fn create_lease(
    State(s): State<Arc<FakeLeases>>,
    Path(_ns): Path<String>,
    Json(body): Json<Value>,
) -> Reply {
    if s.failing.load(Ordering::SeqCst) {
        return status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError");
    }
    let mut slot = s.lease.lock().unwrap();
    if slot.is_some() {
        return status(StatusCode::CONFLICT, "AlreadyExists");
    }
    let lease = s.stamp(body);
    *slot = Some(lease.clone());
    (StatusCode::CREATED, Json(lease))
}

async fn replace_lease(
    State(s): State<Arc<FakeLeases>>,
    Path((_ns, _name)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Reply {
    if s.failing.load(Ordering::SeqCst) {
        return status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError");
    }
    let mut slot = s.lease.lock().unwrap();
    let current = slot
        .as_ref()
        .map(|l| l["metadata"]["resourceVersion"].clone());
    if current.is_none() {
        return status(StatusCode::NOT_FOUND, "NotFound");
    }
    if current != Some(body["metadata"]["resourceVersion"].clone()) {
        return status(StatusCode::CONFLICT, "Conflict");
    }
    let lease = s.stamp(body);
    *slot = Some(lease.clone());
    (StatusCode::OK, Json(lease))
}

async fn fake_server() -> (Arc<FakeLeases>, kube::Client) {
    let state = Arc::new(FakeLeases::default());
    let app = Router::new()
        .route(
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
            post(create_lease),
        )
        .route(
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}",
            get(get_lease).put(replace_lease),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    (state, kube::Client::try_from(config).unwrap())
}

fn config() -> LeaderElectionConfig {
    LeaderElectionConfig {
        lease_name: "loop".into(),
        lease_namespace: "default".into(),
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(600),
    }
}

#[tokio::test]
async fn leader_steps_down_after_the_renew_deadline_and_does_not_release() {
    let (server, client) = fake_server().await;
    let elector = LeaderElector::new(client, &config(), "me_1".into());
    let mut state = elector.subscribe();
    let run = tokio::spawn(elector.run(std::future::pending()));
    timeout(Duration::from_secs(10), state.wait_for(|s| s.is_leading()))
        .await
        .unwrap()
        .unwrap();

    server.failing.store(true, Ordering::SeqCst);
    let failed_at = Instant::now();
    let end = timeout(Duration::from_secs(10), run)
        .await
        .expect("steps down")
        .unwrap();
    assert_eq!(end, ElectionEnd::Lost);
    assert_eq!(*state.borrow(), LeaderState::Lost);
    // It kept trying until the deadline (counted from the last renewal, at most 300ms before the failure).
    assert!(
        failed_at.elapsed() >= Duration::from_millis(300),
        "{:?}",
        failed_at.elapsed()
    );

    server.failing.store(false, Ordering::SeqCst);
    let lease = server.lease.lock().unwrap().clone().unwrap();
    assert_eq!(
        lease["spec"]["holderIdentity"], "me_1",
        "a lost leader must not touch the Lease"
    );
}

#[tokio::test]
async fn standby_that_cannot_reach_the_lease_is_unreachable_then_recovers() {
    let (server, client) = fake_server().await;
    server.failing.store(true, Ordering::SeqCst);
    let elector = LeaderElector::new(client, &config(), "me_2".into());
    let mut state = elector.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(elector.run(async move {
        let _ = stopped.await;
    }));
    timeout(
        Duration::from_secs(10),
        state.wait_for(|s| *s == LeaderState::Unreachable),
    )
    .await
    .unwrap()
    .unwrap();

    server.failing.store(false, Ordering::SeqCst);
    timeout(Duration::from_secs(10), state.wait_for(|s| s.is_leading()))
        .await
        .unwrap()
        .unwrap();
    stop.send(()).unwrap();
    assert_eq!(
        timeout(Duration::from_secs(10), run)
            .await
            .unwrap()
            .unwrap(),
        ElectionEnd::Stopped
    );
    let lease = server.lease.lock().unwrap().clone().unwrap();
    assert!(
        lease["spec"]
            .get("holderIdentity")
            .is_none_or(Value::is_null),
        "released: {lease}"
    );
}

#[tokio::test]
async fn a_held_lease_keeps_us_standing_by_until_it_expires() {
    let (server, client) = fake_server().await;
    let now = k8s_openapi::jiff::Timestamp::now();
    *server.lease.lock().unwrap() = Some(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "loop", "namespace": "default", "resourceVersion": "7"},
        "spec": {"holderIdentity": "other", "leaseDurationSeconds": 3, "renewTime": now.to_string(), "leaseTransitions": 2}
    }));
    server.version.store(7, Ordering::SeqCst);
    let elector = LeaderElector::new(client, &config(), "me_3".into());
    let mut state = elector.subscribe();
    let run = tokio::spawn(elector.run(std::future::pending()));
    timeout(
        Duration::from_secs(10),
        state.wait_for(|s| *s == LeaderState::Standby),
    )
    .await
    .unwrap()
    .unwrap();
    // The other holder stops renewing; after its 3s the Lease is ours.
    timeout(Duration::from_secs(10), state.wait_for(|s| s.is_leading()))
        .await
        .unwrap()
        .unwrap();
    let lease = server.lease.lock().unwrap().clone().unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "me_3");
    assert_eq!(lease["spec"]["leaseTransitions"], 3);
    run.abort();
}
