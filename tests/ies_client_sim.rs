//! `IesClient` against the simulated IES over real HTTP on 127.0.0.1: the catalog flow, the
//! asynchronous service life cycle, traffic from a load profile, authentication, every
//! documented answer wrapper, and faults (retried throttling, a lost create answer that must
//! not lead to a duplicate).
//!
//! The simulator runs on a manual clock, so asynchronous operations complete when the test
//! moves the clock, never by waiting.
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use vpn_operator::cloud::ies::{IesClient, IesClientOptions, IesCredentials};
use vpn_operator::cloud::model::ies::{
    param, ActiveStatus, Direction, Indicator, Metric, OnFailure, ParameterAction, ParameterSet,
    ServiceParameters, ServiceRequest, ServiceRequestBody, ServiceStatus, TimeDimension,
    TopologyList, TrafficQuery,
};
use vpn_operator::cloud::retry::{Jitter, RetryPolicy};
use vpn_operator::cloud::transport::RateLimits;
use vpn_operator::cloud::ErrorKind;
use vpn_operator::sim::clock::Clock;
use vpn_operator::sim::ies::config::{
    DEFAULT_AUTH_TOKEN, DEFAULT_SERVICE_DEF_ID, DEFAULT_SERVICE_DEF_NAME, DEFAULT_TEMPLATE_ID,
};
use vpn_operator::sim::ies::{self, AnswerStyle, IesConfig, IesDelays, IesHandle};

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn delays() -> IesDelays {
    IesDelays {
        create: Duration::from_secs(600),
        update: Duration::from_secs(60),
        delete: Duration::from_secs(30),
    }
}

async fn sim(cfg: IesConfig) -> (IesHandle, Clock) {
    let clock = Clock::manual(start_time());
    let h = ies::spawn(cfg.with_clock(clock.clone()).with_delays(delays()))
        .await
        .unwrap();
    (h, clock)
}

fn options() -> IesClientOptions {
    IesClientOptions {
        limits: RateLimits::unlimited(),
        retry: RetryPolicy::new(3, Duration::from_millis(1), Duration::from_millis(5))
            .with_jitter(Jitter::Fixed(1.0)),
        timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        observer: None,
    }
}

fn client(h: &IesHandle, creds: IesCredentials) -> IesClient {
    IesClient::connect(h.endpoint().parse().unwrap(), creds, options()).unwrap()
}

fn default_client(h: &IesHandle) -> IesClient {
    client(h, IesCredentials::token(DEFAULT_AUTH_TOKEN))
}

fn line(pairs: &[(&str, &str)]) -> ParameterSet {
    let mut p = ParameterSet::default();
    for (k, v) in pairs {
        p.set(k, *v);
    }
    p
}

fn create_body(name: &str, vpn: &str, bandwidth: i64) -> ServiceRequest {
    ServiceRequest {
        onfailure: Some(OnFailure::Rollback),
        service: ServiceRequestBody {
            name: Some(name.into()),
            description: Some(String::new()),
            service_definition_id: Some(DEFAULT_SERVICE_DEF_ID.into()),
            template_id: Some(DEFAULT_TEMPLATE_ID.into()),
            parameters: Some(ServiceParameters::single(
                &TopologyList::Site2Dc,
                line(&[
                    (param::CLOUD_VPN_NAME, vpn),
                    (param::BANDWIDTH, &bandwidth.to_string()),
                    (param::VPC_ID, "db79cd8b-91e2-43f8-9791-54b8b2181a70"),
                    (param::ACTION, ParameterAction::Create.as_str()),
                ]),
            )),
            nsd_script: None,
        },
    }
}

fn update_body(name: &str, vpn: &str, bandwidth: i64) -> ServiceRequest {
    ServiceRequest {
        onfailure: Some(OnFailure::Rollback),
        service: ServiceRequestBody {
            name: Some(name.into()),
            description: Some(String::new()),
            service_definition_id: Some(DEFAULT_SERVICE_DEF_ID.into()),
            template_id: Some(DEFAULT_TEMPLATE_ID.into()),
            parameters: Some(ServiceParameters::single(
                &TopologyList::Site2Dc,
                line(&[
                    (param::CLOUD_VPN_NAME, vpn),
                    (param::BANDWIDTH, &bandwidth.to_string()),
                    (param::ACTION, ParameterAction::Update.as_str()),
                ]),
            )),
            nsd_script: None,
        },
    }
}

async fn admin(h: &IesHandle, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}/_sim/ies{path}", h.base_url());
    let mut req = reqwest::Client::new().request(method.clone(), &url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

async fn calls(h: &IesHandle, op: &str) -> u64 {
    let c = admin(h, reqwest::Method::GET, "/counters", None).await;
    c["operations"][op]["calls"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn catalog_gives_definition_and_template() {
    let (h, _) = sim(IesConfig::default()).await;
    let c = default_client(&h);
    let defs = c.list_service_definitions().await.unwrap();
    assert_eq!(defs.data.len(), 1);
    assert_eq!(defs.total_num, Some(1));
    let d = &defs.data[0];
    assert_eq!(d.service_def_id, DEFAULT_SERVICE_DEF_ID);
    assert_eq!(d.name.as_deref(), Some(DEFAULT_SERVICE_DEF_NAME));
    assert_eq!(d.templates, None, "the list has no templates");
    let details = c.get_service_definition(&d.service_def_id).await.unwrap();
    let templates = details.templates.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].id, DEFAULT_TEMPLATE_ID);
    let e = c.get_service_definition("0000").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn service_life_cycle_is_asynchronous() {
    let (h, clock) = sim(IesConfig::default()).await;
    let c = default_client(&h);

    let created = c
        .create_service(&create_body("team-a_vpn1_0001", "0S2DC0001", 30000))
        .await
        .unwrap();
    let id = created.service_id.clone().unwrap();
    assert_eq!(id.len(), 22);
    assert!(created.operation_id.is_some());
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/rest/servicemanager/v1/services/{id}").as_str())
    );

    let s = c.get_service(&id).await.unwrap();
    assert_eq!(s.status, Some(ServiceStatus::Processing));
    assert_eq!(s.active_status, Some(ActiveStatus::Deactive));
    assert_eq!(s.bandwidth(), Some(30000));
    assert_eq!(s.cloud_vpn_name(), Some("0S2DC0001"));
    let (list, l) = s.line().unwrap();
    assert_eq!(list, TopologyList::Site2Dc);
    assert_eq!(l.get(param::ACTION), None, "GET never returns action");

    clock.advance(Duration::from_secs(600));
    let s = c.get_service(&id).await.unwrap();
    assert_eq!(s.status, Some(ServiceStatus::Completed));
    assert_eq!(s.active_status, Some(ActiveStatus::Active));

    let listed = c.list_services().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].parameters, None, "the list has no parameters");
    assert_eq!(
        c.find_services_by_name("team-a_vpn1_0001")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(c.find_services_by_name("other").await.unwrap().is_empty());

    let upd = c
        .update_service(&id, &update_body("team-a_vpn1_0001", "0S2DC0001", 60000))
        .await
        .unwrap();
    assert!(upd.operation_id.is_some());
    let s = c.get_service(&id).await.unwrap();
    assert_eq!(s.status, Some(ServiceStatus::Processing));
    assert_eq!(
        s.bandwidth(),
        Some(30000),
        "old value while the update runs"
    );
    // A second change while the first runs is refused.
    let e = c
        .update_service(&id, &update_body("team-a_vpn1_0001", "0S2DC0001", 90000))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    clock.advance(Duration::from_secs(60));
    let s = c.get_service(&id).await.unwrap();
    assert_eq!(
        (s.status.clone(), s.bandwidth()),
        (Some(ServiceStatus::Completed), Some(60000))
    );

    // A missing parameter is refused with a message naming it.
    let mut bad = create_body("x", "0S2DC0002", 1);
    if let Some(p) = bad.service.parameters.as_mut() {
        p.0.values_mut().for_each(|v| {
            v[0].0.remove(param::BANDWIDTH);
        });
    }
    let e = c.create_service(&bad).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("Bandwidth"), "{e}");

    let del = c.delete_service(&id).await.unwrap();
    assert!(del.operation_id.is_some());
    assert_eq!(
        c.get_service(&id).await.unwrap().status,
        Some(ServiceStatus::Deleting)
    );
    clock.advance(Duration::from_secs(30));
    let e = c.get_service(&id).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(c.delete_service(&id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn traffic_follows_the_load_profile() {
    let (h, clock) = sim(IesConfig::default()).await;
    let c = default_client(&h);
    admin(
        &h,
        reqwest::Method::PUT,
        "/traffic/0S2DC0003",
        Some(json!({
            "steps": [{"at_seconds": 0, "mbps": 5}, {"at_seconds": 1200, "mbps": 50}],
            "sample_interval_seconds": 60,
            "noise_percent": 0
        })),
    )
    .await;
    let id = c
        .create_service(&create_body("svc3", "0S2DC0003", 10_000))
        .await
        .unwrap()
        .service_id
        .unwrap();
    clock.advance(Duration::from_secs(600));
    assert_eq!(
        c.get_service(&id).await.unwrap().status,
        Some(ServiceStatus::Completed)
    );
    clock.advance(Duration::from_secs(1200));
    let now = clock.now().timestamp();
    let query = |direction| TrafficQuery {
        direction,
        timedim: TimeDimension::Minute,
        starttime: now - 1800,
        endtime: now,
        indicator: Some(Indicator::Max),
    };
    let out = c
        .traffic(
            "0S2DC0003",
            &Metric::TrafficRate,
            &query(Direction::Outbound),
        )
        .await
        .unwrap();
    let samples = out.samples();
    // The line came up at +600 s; points every minute until now (+1800 s).
    assert_eq!(samples.len(), 21);
    assert!(samples.windows(2).all(|w| w[0].time < w[1].time));
    assert_eq!(samples[0].value, 5.0e6, "5 Mbit/s before the step");
    let last = samples.last().unwrap().value;
    assert!(
        (9.7e6..=10.0e6).contains(&last),
        "50 Mbit/s of demand saturates the 10 Mbit/s line: {last}"
    );
    // The raw values are long decimal strings.
    assert!(out.metric.datas.iter().all(|p| p.value.0.len() > 60));
    let inbound = c
        .traffic(
            "0S2DC0003",
            &Metric::TrafficRate,
            &query(Direction::Inbound),
        )
        .await
        .unwrap()
        .samples();
    assert!(
        (inbound[0].value - 3.0e6).abs() < 1.0,
        "inbound is 60 % of outbound"
    );
    let util = c
        .traffic(
            "0S2DC0003",
            &Metric::BandwidthUtilization,
            &query(Direction::Outbound),
        )
        .await
        .unwrap()
        .samples();
    assert!((util[0].value - 50.0).abs() < 1e-9);
    // Unknown line: an empty series; unknown metric: refused.
    let none = c
        .traffic("nobody", &Metric::TrafficRate, &query(Direction::Outbound))
        .await
        .unwrap();
    assert!(none.samples().is_empty());
    let e = c
        .traffic(
            "0S2DC0003",
            &Metric::Other("packet-loss".into()),
            &query(Direction::Outbound),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn tokens_are_checked_and_auth_failures_not_retried() {
    let (h, _) = sim(IesConfig::default().with_bearer("app-bearer-uuid")).await;
    let wrong = client(
        &h,
        IesCredentials::token("expired").with_bearer("app-bearer-uuid"),
    );
    let e = wrong.list_services().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert_eq!(calls(&h, "ListServices").await, 1, "401 is not retried");
    let no_bearer = default_client(&h);
    assert_eq!(
        no_bearer.list_services().await.unwrap_err().kind,
        ErrorKind::AuthFailed
    );
    let both = client(
        &h,
        IesCredentials::token(DEFAULT_AUTH_TOKEN).with_bearer("app-bearer-uuid"),
    );
    assert!(both.list_services().await.unwrap().is_empty());
}

#[tokio::test]
async fn schema_wrappers_and_empty_update_answers_decode() {
    let cfg = IesConfig {
        answers: AnswerStyle::Schemas,
        ..IesConfig::default()
    };
    let (h, clock) = sim(cfg).await;
    let c = default_client(&h);
    let created = c
        .create_service(&create_body("svc4", "0S2DC0004", 1000))
        .await
        .unwrap();
    let id = created.service_id.unwrap();
    assert!(created.operation_id.is_some());
    clock.advance(Duration::from_secs(600));
    let upd = c
        .update_service(&id, &update_body("svc4", "0S2DC0004", 2000))
        .await
        .unwrap();
    assert_eq!(upd.operation_id, None, "the schema's empty update answer");
    clock.advance(Duration::from_secs(60));
    let del = c.delete_service(&id).await.unwrap();
    assert!(del.operation_id.is_some(), "deleteServiceResponse wrapper");
}

#[tokio::test]
async fn throttling_is_retried_and_a_lost_create_answer_is_not() {
    let (h, _) = sim(IesConfig::default()).await;
    let c = default_client(&h);
    admin(
        &h,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"ops": ["ListServices"], "fault": {"kind": "throttle", "retry_after_secs": 0}, "trigger": {"next": 1}})),
    )
    .await;
    assert!(c.list_services().await.unwrap().is_empty());
    assert_eq!(
        calls(&h, "ListServices").await,
        2,
        "one throttled, one retried"
    );

    // The create is carried out but its answer is lost: the client reports a transport error
    // and does not send the create again (no duplicate); the instance is found by name.
    admin(
        &h,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"ops": ["CreateService"], "fault": {"kind": "drop_response"}, "trigger": {"next": 1}})),
    )
    .await;
    let e = c
        .create_service(&create_body("svc5", "0S2DC0005", 1000))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Transport | ErrorKind::Timeout),
        "{e}"
    );
    assert_eq!(
        calls(&h, "CreateService").await,
        1,
        "creates are not retried"
    );
    let found = c.find_services_by_name("svc5").await.unwrap();
    assert_eq!(found.len(), 1);
    let s = c.get_service(&found[0].service_id).await.unwrap();
    assert_eq!(s.cloud_vpn_name(), Some("0S2DC0005"));

    // A 500 on create is not retried either (it may have been applied).
    admin(
        &h,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"ops": ["CreateService"], "fault": {"kind": "server_error"}, "trigger": {"next": 1}})),
    )
    .await;
    let e = c
        .create_service(&create_body("svc6", "0S2DC0006", 1000))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServerError);
    assert_eq!(calls(&h, "CreateService").await, 2);
}

/// How the lead mounts the IES router beside the VPN simulator: merged into the VPN app, sharing
/// its clock. Both APIs and both admin APIs answer on one port.
#[tokio::test]
async fn mounts_beside_the_vpn_simulator() {
    use std::sync::Arc;
    use vpn_operator::sim::{server, SimConfig, SimState};

    let vpn = Arc::new(SimState::new(SimConfig::default()));
    let state =
        Arc::new(ies::IesState::new(IesConfig::default().with_clock(vpn.clock.clone())).unwrap());
    let app = server::app(vpn).merge(ies::router(state));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            server::SimListener(listener),
            app.into_make_service_with_connect_info::<server::ConnKill>(),
        )
        .await
    });
    let base = format!("http://{addr}");
    let c = IesClient::connect(
        format!("{base}/rest").parse().unwrap(),
        IesCredentials::token(DEFAULT_AUTH_TOKEN),
        options(),
    )
    .unwrap();
    assert_eq!(c.list_service_definitions().await.unwrap().data.len(), 1);
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    assert_eq!(
        get("/_sim/health").await,
        200,
        "the VPN admin API still answers"
    );
    assert_eq!(get("/_sim/ies/state").await, 200);
    assert_eq!(get("/rest/unknown/api").await, 404);
    task.abort();
}
