//! Whole reconciles of a CloudVpnService without a cluster: the runtime as the operator runs it,
//! the simulated IES in-process (under `/rest`, admin under `/_sim/ies`) and Kubernetes in
//! memory, on one manual clock. The autoscaler's reconciles are in `autoscale_tests.rs`.
use std::time::Duration;

use kube::runtime::controller::Action;
use serde_json::{json, Value};

use super::desired::update_request;
use crate::cloud::ies::{IesClientOptions, IesCredentials};
use crate::cloud::retry::RetryPolicy;
use crate::cloud::IesClient;
use crate::controller::runtime::events::{
    actions, ADOPTED, CREATED, DELETED, DELETE_REQUESTED, DRIFT_CORRECTED, DRIFT_DETECTED,
    EXTERNAL_CHANGE, RECOVERED, RECREATING, UPDATED, UPDATE_NOT_APPLIED,
};
use crate::controller::runtime::testing::{cond, condition, World};
use crate::crd::cloud_vpn_service::{CloudVpnService, CloudVpnServiceStatus};
use crate::crd::common::types::{READY, SCALING, SYNCED};
use crate::crd::PAUSED_ANNOTATION;
use crate::sim::ies::config::{DEFAULT_AUTH_TOKEN, DEFAULT_SERVICE_DEF_NAME, DEFAULT_TEMPLATE_ID};

pub const FIXED: &str = include_str!("../../../../examples/cloudvpnservice.yaml");
pub const AUTOSCALED: &str = include_str!("../../../../examples/cloudvpnservice-autoscaling.yaml");
const NAME: &str = "dc-link";

pub fn yes(reason: &str) -> (String, String) {
    ("True".into(), reason.into())
}

pub fn no(reason: &str) -> (String, String) {
    ("False".into(), reason.into())
}

/// A world with the examples' credentials Secret and short IES delays (create 2 s, update and
/// delete 1 s).
pub async fn world() -> World {
    let w = World::start().await;
    w.put_secret("ies-credentials", &[("authToken", DEFAULT_AUTH_TOKEN)]);
    let delays = json!({"create": "2s", "update": "1s", "delete": "1s"});
    ies(&w, "PUT", "/delays", delays).await;
    w
}

/// The simulated IES's admin API.
pub async fn ies(w: &World, method: &str, path: &str, body: Value) -> Value {
    w.admin(method, &format!("/ies{path}"), body).await
}

/// How many calls of IES operation `op` were served.
pub async fn calls(w: &World, op: &str) -> u64 {
    let counters = ies(w, "GET", "/counters", Value::Null).await;
    counters["operations"][op]["calls"].as_u64().unwrap_or(0)
}

/// Every IES call served, and the writes among them.
pub async fn all_calls(w: &World) -> (u64, u64) {
    let counters = ies(w, "GET", "/counters", Value::Null).await;
    let ops = counters["operations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let count = |write: bool| {
        ops.iter()
            .filter(|(op, _)| {
                !write || ["CreateService", "UpdateService", "DeleteService"].contains(&op.as_str())
            })
            .map(|(_, c)| c["calls"].as_u64().unwrap_or(0))
            .sum()
    };
    (count(false), count(true))
}

/// The services IES holds (the admin view: `service`, `pending`, ...).
pub async fn services(w: &World) -> Vec<Value> {
    let state = ies(w, "GET", "/state", Value::Null).await;
    state["services"].as_array().cloned().unwrap_or_default()
}

/// The bandwidth IES holds for the line `vpn_name`.
pub async fn bandwidth_in_ies(w: &World, vpn_name: &str) -> Option<i64> {
    services(w).await.iter().find_map(|s| {
        let line = &s["service"]["parameters"]
            .as_object()?
            .values()
            .next()?
            .as_array()?[0];
        (line["CloudVpnName"] == vpn_name).then(|| line["Bandwidth"].as_str()?.parse().ok())?
    })
}

pub fn status(o: &CloudVpnService) -> CloudVpnServiceStatus {
    o.status.clone().unwrap_or_default()
}

pub fn cloud_id(o: &CloudVpnService) -> String {
    status(o).cloud_id.expect("a service id")
}

/// The Events about `name` with `reason`.
pub fn events_with(
    w: &World,
    name: &str,
    reason: &str,
) -> Vec<crate::controller::runtime::events::Note> {
    w.events::<CloudVpnService>(name)
        .into_iter()
        .filter(|n| n.reason == reason)
        .collect()
}

async fn ready_line(w: &World) -> CloudVpnService {
    w.apply_yaml::<CloudVpnService>(FIXED);
    w.ready::<CloudVpnService>(NAME).await
}

fn with_spec(yaml: &str, change: impl FnOnce(&mut CloudVpnService)) -> CloudVpnService {
    let mut o: CloudVpnService = serde_yaml::from_str(yaml).unwrap();
    change(&mut o);
    o
}

/// An IES client that is not the operator's ("the IES console").
fn console(w: &World) -> IesClient {
    let url = format!("{}/rest", w.sim.base_url()).parse().unwrap();
    let options = IesClientOptions {
        retry: RetryPolicy::none(),
        ..IesClientOptions::default()
    };
    IesClient::connect(url, IesCredentials::token(DEFAULT_AUTH_TOKEN), options).unwrap()
}

#[tokio::test]
async fn create_wait_resize_and_delete() {
    let w = world().await;
    w.apply_yaml::<CloudVpnService>(FIXED);
    // First the finalizer, then the create.
    assert_eq!(
        w.reconcile::<CloudVpnService>(NAME).await,
        Action::await_change()
    );
    assert_eq!(calls(&w, "CreateService").await, 0);
    let action = w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(1)),
        "confirm soon"
    );
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(calls(&w, "CreateService").await, 1);
    assert_eq!(cond(&o, READY), no("Creating"));
    assert_eq!(cond(&o, SYNCED), yes("ReconcileSuccess"));
    assert_eq!(cond(&o, SCALING), no("Stable"));
    let st = status(&o);
    assert_eq!(
        st.template_id.as_deref(),
        Some(DEFAULT_TEMPLATE_ID),
        "resolved from the catalog by name"
    );
    assert_eq!(st.last_operation.as_deref(), Some("create"));
    assert_eq!(st.last_operation_time, Some(w.ctx.clock.now()));
    assert!(st.last_operation_id.is_some());
    let created = &w.events::<CloudVpnService>(NAME)[0];
    assert_eq!(
        (created.reason.as_str(), created.action.as_str()),
        (CREATED, actions::CREATE)
    );

    // Still provisioning, then Completed.
    w.advance(Duration::from_secs(1));
    w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, READY), no("Creating"));
    assert_eq!(status(&o).cloud_state.as_deref(), Some("Processing"));
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(cond(&o, SYNCED), yes("ReconcileSuccess"));
    let st = status(&o);
    assert_eq!(
        (st.current_bandwidth, st.target_bandwidth),
        (Some(30000), None)
    );
    assert_eq!(st.active_status.as_deref(), Some("Active"));
    assert_eq!(
        w.reconcile::<CloudVpnService>(NAME).await,
        Action::await_change(),
        "settled"
    );
    // The traffic (one point a minute by default) shows in status.
    w.advance(Duration::from_secs(60));
    w.reconcile::<CloudVpnService>(NAME).await;
    let t = status(&w.get::<CloudVpnService>(NAME))
        .traffic
        .expect("traffic in status");
    let u = t.utilization_percent.unwrap();
    assert!(
        (27.0..=33.0).contains(&u),
        "the simulator's default load is 30 %: {u}"
    );

    // Resize: one PUT, Updating, then Completed with the new bandwidth.
    w.apply(with_spec(FIXED, |o| o.spec.bandwidth = 60000));
    w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(calls(&w, "UpdateService").await, 1);
    assert_eq!(cond(&o, READY), no("Updating"));
    assert_eq!(cond(&o, SCALING), yes("ScalingUp"));
    assert_eq!(status(&o).target_bandwidth, Some(60000));
    assert_eq!(status(&o).observed_generation, Some(2));
    let updated = w.events::<CloudVpnService>(NAME).pop().unwrap();
    assert_eq!(
        (updated.reason.as_str(), updated.action.as_str()),
        (UPDATED, actions::UPDATE)
    );
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(status(&o).current_bandwidth, Some(60000));
    assert_eq!(cond(&o, SCALING), no("Stable"));
    assert_eq!(
        calls(&w, "UpdateService").await,
        1,
        "nothing more to change"
    );
    assert_eq!(bandwidth_in_ies(&w, "dc-link-01").await, Some(60000));
    assert_eq!(cloud_id(&o).len(), 22, "resized in place");

    // Delete: requested once, waited for while IES deletes, then the object goes.
    w.delete::<CloudVpnService>(NAME);
    w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(calls(&w, "DeleteService").await, 1);
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, READY), no("Deleting"));
    assert_eq!(cond(&o, SYNCED), yes("ReconcileSuccess"));
    assert_eq!(events_with(&w, NAME, DELETE_REQUESTED).len(), 1);
    w.reconcile::<CloudVpnService>(NAME).await;
    let ready = condition(&w.get::<CloudVpnService>(NAME), READY).unwrap();
    assert!(
        ready.message.ends_with("is being deleted"),
        "{}",
        ready.message
    );
    assert_eq!(
        calls(&w, "DeleteService").await,
        1,
        "one delete, then waiting"
    );
    w.advance(Duration::from_secs(1));
    w.reconcile::<CloudVpnService>(NAME).await;
    assert!(
        w.try_get::<CloudVpnService>(NAME).is_none(),
        "finalizer removed"
    );
    assert!(services(&w).await.is_empty());
    let deleted = w.events::<CloudVpnService>(NAME).pop().unwrap();
    assert_eq!(
        (deleted.reason.as_str(), deleted.action.as_str()),
        (DELETED, actions::DELETE)
    );
}

#[tokio::test]
async fn a_bandwidth_changed_in_ies_is_put_back_without_autoscaling_and_adopted_with_it() {
    let w = world().await;
    let o = ready_line(&w).await;
    let id = cloud_id(&o);
    ies(
        &w,
        "PATCH",
        &format!("/services/{id}"),
        json!({"parameters": {"Bandwidth": "45000"}}),
    )
    .await;
    w.reconcile::<CloudVpnService>(NAME).await;
    let corrected = events_with(&w, NAME, DRIFT_CORRECTED);
    assert_eq!(corrected.len(), 1);
    assert_eq!(corrected[0].action, actions::UPDATE);
    assert!(
        corrected[0].message.contains("45000"),
        "{}",
        corrected[0].message
    );
    assert!(
        events_with(&w, NAME, DRIFT_DETECTED).is_empty(),
        "one Event for one happening"
    );
    w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(bandwidth_in_ies(&w, "dc-link-01").await, Some(30000));

    // With autoscaling the change is the new starting point: recorded, never reverted.
    w.apply_yaml::<CloudVpnService>(AUTOSCALED);
    let a = w.ready::<CloudVpnService>("branch-link").await;
    let id = cloud_id(&a);
    let updates = calls(&w, "UpdateService").await;
    ies(
        &w,
        "PATCH",
        &format!("/services/{id}"),
        json!({"parameters": {"Bandwidth": "20000"}}),
    )
    .await;
    w.reconcile::<CloudVpnService>("branch-link").await;
    let a = w.get::<CloudVpnService>("branch-link");
    let external = events_with(&w, "branch-link", EXTERNAL_CHANGE);
    assert_eq!(external.len(), 1);
    assert_eq!(external[0].action, actions::OBSERVE);
    assert_eq!(status(&a).scaling_history[0].reason, EXTERNAL_CHANGE);
    assert_eq!(status(&a).current_bandwidth, Some(20000));
    assert_eq!(calls(&w, "UpdateService").await, updates, "not reverted");
    assert_eq!(bandwidth_in_ies(&w, "branch-link-01").await, Some(20000));
}

#[tokio::test]
async fn a_field_ies_cannot_change_is_reported_once_and_left_alone() {
    let w = world().await;
    let o = ready_line(&w).await;
    let id = cloud_id(&o);
    ies(
        &w,
        "PATCH",
        &format!("/services/{id}"),
        json!({"parameters": {"VNI": "7"}}),
    )
    .await;
    let (_, writes) = all_calls(&w).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, SYNCED), no("ImmutableFieldDrift"));
    assert_eq!(cond(&o, READY), yes("Available"), "still usable");
    let drift = status(&o).drift;
    assert_eq!(
        (drift[0].field.as_str(), drift[0].observed.as_str()),
        ("vni", "7")
    );
    let reported = events_with(&w, NAME, DRIFT_DETECTED);
    assert_eq!(
        reported.len(),
        1,
        "once per new difference, not per reconcile"
    );
    assert!(reported[0].warning);
    assert_eq!(reported[0].action, actions::OBSERVE);
    assert_eq!(
        reported[0].message,
        "CloudVPN service differs from the spec: vni (spec 2236, cloud 7) (the cloud cannot \
         change these fields; they are left alone)"
    );
    assert_eq!(all_calls(&w).await.1, writes);
}

#[tokio::test]
async fn ies_busy_with_another_operation_is_a_wait_not_a_failure() {
    let w = world().await;
    let o = ready_line(&w).await;
    let id = cloud_id(&o);
    // Someone else changes the service in IES; it stays busy for 30 s, although its status
    // already reads Completed.
    ies(&w, "PUT", "/delays", json!({"update": "30s"})).await;
    let svc = console(&w).get_service(&id).await.unwrap();
    let change = update_request(&svc, &o.spec, 30000, "changed in the console");
    console(&w).update_service(&id, &change).await.unwrap();
    ies(
        &w,
        "PATCH",
        &format!("/services/{id}"),
        json!({"status": "Completed"}),
    )
    .await;
    w.apply(with_spec(FIXED, |o| o.spec.bandwidth = 60000));
    let action = w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, READY), no("CloudBusy"));
    assert_eq!(
        cond(&o, SYNCED),
        yes("ReconcileSuccess"),
        "a wait, not a failure"
    );
    assert_eq!(action, Action::requeue(Duration::from_secs(5)));
    assert!(
        w.events::<CloudVpnService>(NAME).iter().all(|n| !n.warning),
        "no Warning"
    );
    // IES is done: the change goes through.
    w.advance(Duration::from_secs(30));
    ies(&w, "PUT", "/delays", json!({"update": "1s"})).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(
        calls(&w, "UpdateService").await,
        3,
        "the console's, the refused, this one"
    );
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(status(&o).current_bandwidth, Some(60000));
}

#[tokio::test]
async fn a_lost_create_answer_never_makes_a_second_service() {
    let w = world().await;
    let fault = json!({"ops": ["CreateService"], "fault": {"kind": "drop_response"}, "trigger": {"next": 1}});
    ies(&w, "POST", "/faults", fault.clone()).await;
    w.apply_yaml::<CloudVpnService>(FIXED);
    w.reconcile::<CloudVpnService>(NAME).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, SYNCED), no("CloudUnreachable"));
    assert_eq!(
        cond(&o, READY),
        no("CloudUnreachable"),
        "no Ready yet: it says why"
    );
    assert_eq!(services(&w).await.len(), 1, "the create was carried out");
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(calls(&w, "CreateService").await, 1);
    assert_eq!(services(&w).await.len(), 1);
    let recovered = events_with(&w, NAME, RECOVERED);
    assert_eq!(recovered[0].action, actions::ADOPT);
    assert_eq!(cloud_id(&o), services(&w).await[0]["service"]["service_id"]);

    // Deleting an object whose status never got the id still deletes its service, once IES
    // has finished creating it.
    ies(&w, "POST", "/faults", fault).await;
    let mut second = with_spec(FIXED, |o| o.spec.cloud_vpn_name = "dc-link-02".into());
    second.metadata.name = Some("second".into());
    w.apply(second);
    w.reconcile::<CloudVpnService>("second").await;
    w.reconcile::<CloudVpnService>("second").await;
    assert_eq!(status(&w.get::<CloudVpnService>("second")).cloud_id, None);
    w.delete::<CloudVpnService>("second");
    w.reconcile::<CloudVpnService>("second").await;
    let s = w.get::<CloudVpnService>("second");
    assert_eq!(cond(&s, READY), no("Deleting"));
    let why = condition(&s, READY).unwrap().message;
    assert!(
        why.contains("it will be deleted when that operation finishes"),
        "{why}"
    );
    w.advance(Duration::from_secs(2));
    w.reconcile::<CloudVpnService>("second").await;
    assert_eq!(calls(&w, "DeleteService").await, 1);
    w.advance(Duration::from_secs(1));
    w.reconcile::<CloudVpnService>("second").await;
    assert!(w.try_get::<CloudVpnService>("second").is_none());
    assert_eq!(
        services(&w).await.len(),
        1,
        "only the first object's service is left"
    );
}

#[tokio::test]
async fn a_service_gone_from_ies_is_searched_for_by_name_then_recreated_with_a_warning() {
    let w = world().await;
    let old = cloud_id(&ready_line(&w).await);
    ies(&w, "DELETE", &format!("/services/{old}"), Value::Null).await;
    let lists = calls(&w, "ListServices").await;
    w.reconcile::<CloudVpnService>(NAME).await;
    assert!(
        calls(&w, "ListServices").await > lists,
        "searched by name first"
    );
    let recreating = events_with(&w, NAME, RECREATING);
    assert_eq!(recreating.len(), 1);
    assert!(recreating[0].warning && recreating[0].message.contains(&old));
    assert_eq!(recreating[0].action, actions::CREATE);
    let o = w.get::<CloudVpnService>(NAME);
    assert_ne!(cloud_id(&o), old);
    assert_eq!(cond(&o, READY), no("Creating"));
    w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(services(&w).await.len(), 1);
    assert_eq!(calls(&w, "CreateService").await, 2);
}

/// The deck's preset service, made in IES outside the operator.
async fn preset(w: &World) -> &'static str {
    let id = "8hiqoNgCSZmrlD1MyROJbg";
    let svc = json!({"service_id": id, "name": "s2s_201705061433", "topology": "Site2SiteList",
        "parameters": {"CloudVpnName": "branch-link-01", "Bandwidth": "10000", "VNI": "1236"},
        "active_status": "Deactive"});
    ies(w, "POST", "/services", svc).await;
    id
}

#[tokio::test]
async fn adoption_by_cloud_id_and_ids_or_definitions_that_do_not_exist() {
    let w = world().await;
    let id = preset(&w).await;
    w.apply(with_spec(AUTOSCALED, |o| o.spec.cloud_id = Some(id.into())));
    let o = w.ready::<CloudVpnService>("branch-link").await;
    assert_eq!(cloud_id(&o), id);
    let adopted = events_with(&w, "branch-link", ADOPTED);
    assert_eq!(adopted.len(), 1);
    assert_eq!(adopted[0].action, actions::ADOPT);
    assert!(adopted[0].message.contains(id), "{}", adopted[0].message);
    assert_eq!(status(&o).service_name.as_deref(), Some("s2s_201705061433"));
    assert_eq!(all_calls(&w).await.1, 0, "adopted as it is");

    // An id that does not exist: NotFound, nothing created.
    w.apply(with_spec(FIXED, |o| {
        o.spec.cloud_id = Some("doesNotExist".into())
    }));
    w.reconcile::<CloudVpnService>(NAME).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, READY), no("NotFound"));
    assert_eq!(cond(&o, SYNCED), no("NotFound"));
    assert_eq!(calls(&w, "CreateService").await, 0);

    // Definitions: an unknown name, and a definition with two templates.
    let mut unknown = with_spec(FIXED, |o| {
        o.spec.service_definition.name = Some("nope".into())
    });
    unknown.metadata.name = Some("unknown".into());
    w.apply(unknown);
    w.reconcile::<CloudVpnService>("unknown").await;
    w.reconcile::<CloudVpnService>("unknown").await;
    let u = w.get::<CloudVpnService>("unknown");
    assert_eq!(cond(&u, SYNCED), no("InvalidSpec"));
    assert_eq!(cond(&u, READY), no("InvalidSpec"), "Ready says why too");
    let why = condition(&u, READY).unwrap().message;
    assert!(
        why.contains(DEFAULT_SERVICE_DEF_NAME),
        "lists the available ones: {why}"
    );
    let catalog = json!([{"id": "d2", "name": "two", "templates": [{"id": "t1"}, {"id": "t2"}]}]);
    ies(&w, "PUT", "/catalog", catalog).await;
    let mut two = with_spec(FIXED, |o| {
        o.spec.service_definition = serde_json::from_value(json!({"id": "d2"})).unwrap()
    });
    two.metadata.name = Some("two".into());
    w.apply(two);
    w.reconcile::<CloudVpnService>("two").await;
    w.reconcile::<CloudVpnService>("two").await;
    let why = condition(&w.get::<CloudVpnService>("two"), SYNCED)
        .unwrap()
        .message;
    assert!(why.contains("set templateId"), "{why}");
    assert_eq!(calls(&w, "CreateService").await, 0);
}

#[tokio::test]
async fn observe_only_reads_and_never_writes_deletion_included() {
    let w = world().await;
    let id = preset(&w).await;
    let observed = with_spec(AUTOSCALED, |o| {
        o.spec.cloud_id = Some(id.into());
        o.spec.autoscaling = None;
        o.spec.bandwidth = 90000;
        o.spec.vni = Some(99);
        o.spec.management_policy = crate::crd::common::ManagementPolicy::Observe;
    });
    w.apply(observed);
    let o = w.ready::<CloudVpnService>("branch-link").await;
    assert_eq!(cond(&o, SYNCED), yes("ObserveOnly"));
    assert_eq!(status(&o).current_bandwidth, Some(10000));
    assert_eq!(status(&o).drift[0].field, "vni");
    let drift = events_with(&w, "branch-link", DRIFT_DETECTED);
    assert!(
        drift[0]
            .message
            .ends_with("(not corrected: managementPolicy is Observe)"),
        "{}",
        drift[0].message
    );
    assert!(
        events_with(&w, "branch-link", ADOPTED).is_empty(),
        "observing adopts nothing"
    );
    w.delete::<CloudVpnService>("branch-link");
    w.reconcile::<CloudVpnService>("branch-link").await;
    assert!(w.try_get::<CloudVpnService>("branch-link").is_none());
    assert_eq!(services(&w).await.len(), 1, "left in place");
    assert_eq!(all_calls(&w).await.1, 0, "observing never writes");
}

#[tokio::test]
async fn pause_stops_every_ies_call_deletion_included() {
    let w = world().await;
    let paused = |mut o: CloudVpnService| {
        o.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(PAUSED_ANNOTATION.into(), "true".into());
        o
    };
    w.apply(paused(with_spec(FIXED, |_| ())));
    assert_eq!(
        w.reconcile::<CloudVpnService>(NAME).await,
        Action::await_change()
    );
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, SYNCED), no("Paused"));
    assert_eq!(
        cond(&o, READY),
        no("Paused"),
        "nothing was made: Ready says why"
    );
    assert_eq!(all_calls(&w).await.0, 0);

    // Resumed: created; paused again: a resize and a delete wait.
    w.apply(with_spec(FIXED, |_| ()));
    w.ready::<CloudVpnService>(NAME).await;
    w.apply(paused(with_spec(FIXED, |o| o.spec.bandwidth = 60000)));
    w.delete::<CloudVpnService>(NAME);
    let before = all_calls(&w).await.0;
    w.reconcile::<CloudVpnService>(NAME).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(all_calls(&w).await.0, before);
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, SYNCED), no("Paused"));
    assert_eq!(
        cond(&o, READY),
        yes("Available"),
        "the line is still there and usable"
    );
    assert!(o.metadata.deletion_timestamp.is_some());
}

#[tokio::test]
async fn orphan_leaves_the_service_in_ies() {
    let w = world().await;
    w.apply(with_spec(FIXED, |o| {
        o.spec.deletion_policy = crate::crd::common::DeletionPolicy::Orphan
    }));
    let id = cloud_id(&w.ready::<CloudVpnService>(NAME).await);
    w.delete::<CloudVpnService>(NAME);
    w.reconcile::<CloudVpnService>(NAME).await;
    assert!(w.try_get::<CloudVpnService>(NAME).is_none());
    let left = services(&w).await;
    assert_eq!(left.len(), 1, "the line stays in IES");
    assert_eq!(left[0]["service"]["service_id"], id.as_str());
    assert_eq!(left[0]["service"]["status"], "Completed");
    assert_eq!(calls(&w, "DeleteService").await, 0);
    assert_eq!(
        w.event_reasons::<CloudVpnService>(NAME).last().unwrap(),
        "Orphaned"
    );
}

#[tokio::test]
async fn a_wrong_token_is_auth_failed_until_the_secret_is_fixed() {
    let w = world().await;
    w.put_secret("ies-credentials", &[("authToken", "wrong")]);
    w.apply_yaml::<CloudVpnService>(FIXED);
    w.reconcile::<CloudVpnService>(NAME).await;
    let action = w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, SYNCED), no("AuthFailed"));
    assert_eq!(cond(&o, READY), no("AuthFailed"));
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(300)),
        "terminal: slow retry"
    );
    // The same client would be reused for minutes; a refused one is not.
    w.put_secret("ies-credentials", &[("authToken", DEFAULT_AUTH_TOKEN)]);
    w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(
        calls(&w, "CreateService").await,
        1,
        "the fixed Secret is used at once"
    );
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(cond(&o, SYNCED), yes("ReconcileSuccess"));
}

#[tokio::test]
async fn a_rolled_back_update_is_reported_and_tried_again_later() {
    let w = world().await;
    ready_line(&w).await;
    ies(&w, "PUT", "/fail-next", json!({"update": 1})).await;
    w.apply(with_spec(FIXED, |o| o.spec.bandwidth = 60000));
    w.reconcile::<CloudVpnService>(NAME).await;
    // IES finishes, with the old bandwidth: within the grace period that is "not shown yet".
    w.advance(Duration::from_secs(2));
    let events = w.events::<CloudVpnService>(NAME).len();
    w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(w.events::<CloudVpnService>(NAME).len(), events);
    assert_eq!(cond(&w.get::<CloudVpnService>(NAME), READY), no("Updating"));
    w.advance(super::plan::UPDATE_CONFIRM_GRACE);
    let action = w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    let warning = events_with(&w, NAME, UPDATE_NOT_APPLIED);
    assert_eq!(warning.len(), 1);
    assert!(warning[0].warning);
    assert_eq!(warning[0].action, actions::UPDATE);
    assert_eq!(cond(&o, SYNCED), no("ReconcileError"));
    assert_eq!(cond(&o, READY), yes("Available"));
    assert_eq!(
        action,
        Action::requeue(std::time::Duration::from_secs(300)),
        "not at once"
    );
    // The next reconcile tries again, and this time it works.
    w.reconcile::<CloudVpnService>(NAME).await;
    assert_eq!(calls(&w, "UpdateService").await, 2);
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(status(&o).current_bandwidth, Some(60000));
}

#[tokio::test]
async fn a_same_named_service_of_another_line_is_refused_and_left_alone_on_delete() {
    let w = world().await;
    let other = json!({"service_id": "otherLine000000000000A", "name": "taken", "topology": "Site2DCList",
        "parameters": {"CloudVpnName": "someone-elses-line", "Bandwidth": "30000"}});
    ies(&w, "POST", "/services", other).await;
    w.apply(with_spec(FIXED, |o| {
        o.spec.service_name = Some("taken".into())
    }));
    w.reconcile::<CloudVpnService>(NAME).await;
    w.reconcile::<CloudVpnService>(NAME).await;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, SYNCED), no("OwnershipConflict"));
    assert_eq!(
        cond(&o, READY),
        no("OwnershipConflict"),
        "Ready says why too"
    );
    let why = condition(&o, SYNCED).unwrap().message;
    assert!(
        why.contains("someone-elses-line") && why.contains("spec.serviceName"),
        "{why}"
    );
    assert_eq!(all_calls(&w).await.1, 0);
    // Deleting the object: that service is not its own, nothing is deleted.
    w.delete::<CloudVpnService>(NAME);
    w.reconcile::<CloudVpnService>(NAME).await;
    assert!(w.try_get::<CloudVpnService>(NAME).is_none());
    assert_eq!(services(&w).await.len(), 1);
    assert_eq!(all_calls(&w).await.1, 0);
}
