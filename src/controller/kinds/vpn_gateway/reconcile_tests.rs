//! Whole reconciles of a VpnGateway without a cluster: the runtime as the operator runs it,
//! the simulator in-process and Kubernetes in memory, on one manual clock.
use std::time::Duration;

use kube::runtime::controller::Action;
use serde_json::json;

use crate::cloud::model::gateway::CreateVpnGatewayRequestBody;
use crate::controller::runtime::events::{
    actions, ADOPTED, CREATED, DELETE_REQUESTED, DRIFT_DETECTED, RECOVERED, RECREATING, UPDATED,
};
use crate::controller::runtime::ownership::{TAG_OWNER, TAG_UID};
use crate::controller::runtime::testing::{cond, World, NS, PROJECT};
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::{VpnConnection, VpnGateway, PAUSED_ANNOTATION};

const EXAMPLE: &str = include_str!("../../../../examples/vpngateway.yaml");
const NAME: &str = "edge-gateway";

fn yes(reason: &str) -> (String, String) {
    ("True".into(), reason.into())
}

fn no(reason: &str) -> (String, String) {
    ("False".into(), reason.into())
}

async fn ready_gateway(w: &World) -> VpnGateway {
    w.apply_yaml::<VpnGateway>(EXAMPLE);
    w.ready::<VpnGateway>(NAME).await
}

fn cloud_id(g: &VpnGateway) -> String {
    g.status
        .as_ref()
        .and_then(|s| s.cloud_id.clone())
        .expect("a cloud id")
}

async fn gateways_in_cloud(w: &World) -> Vec<serde_json::Value> {
    w.cloud("vpn_gateways").await
}

#[tokio::test]
async fn create_update_and_delete() {
    let w = World::start().await;
    w.apply_yaml::<VpnGateway>(EXAMPLE);
    // First the finalizer, then the create.
    assert_eq!(
        w.reconcile::<VpnGateway>(NAME).await,
        Action::await_change()
    );
    assert_eq!(w.calls("CreateVgw"), 0);
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(w.calls("CreateVgw"), 1);
    assert_eq!(cond(&g, READY), no("Creating"));
    assert_eq!(cond(&g, SYNCED), yes("ReconcileSuccess"));
    assert_eq!(g.status.as_ref().unwrap().observed_generation, Some(1));
    let created = &w.events::<VpnGateway>(NAME)[0];
    assert_eq!(
        (created.reason.as_str(), created.action.as_str()),
        (CREATED, actions::CREATE)
    );

    // The cloud finishes; the next reconcile reports it, EIPs included.
    w.advance(Duration::from_secs(2));
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, READY), yes("Available"));
    let status = g.status.clone().unwrap();
    assert_eq!(status.cloud_state.as_deref(), Some("ACTIVE"));
    assert!(status.eip1.and_then(|e| e.ip_address).is_some());

    // A spec change: one PUT, PENDING_UPDATE, then Ready again.
    let mut changed = g.clone();
    changed.spec.local_subnets.push("192.168.1.0/24".into());
    w.apply(changed);
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(w.calls("UpdateVgw"), 1);
    assert_eq!(cond(&g, READY), no("Updating"));
    assert_eq!(g.status.as_ref().unwrap().observed_generation, Some(2));
    assert!(w
        .event_reasons::<VpnGateway>(NAME)
        .contains(&UPDATED.to_string()));
    let g = w.ready::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpdateVgw"), 1, "nothing more to change");
    let cloud = gateways_in_cloud(&w).await;
    assert_eq!(
        cloud[0]["vpn_gateway"]["local_subnets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Delete: the cloud deletes, the operator waits for 404, then lets the object go.
    let id = cloud_id(&g);
    w.delete::<VpnGateway>(NAME);
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("DeleteVgw"), 1);
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, READY), no("Deleting"));
    assert!(w
        .event_reasons::<VpnGateway>(NAME)
        .contains(&DELETE_REQUESTED.to_string()));
    w.advance(Duration::from_secs(2));
    w.reconcile::<VpnGateway>(NAME).await;
    assert!(w.try_get::<VpnGateway>(NAME).is_none(), "finalizer removed");
    assert!(
        gateways_in_cloud(&w).await.is_empty(),
        "{id} is gone from the cloud"
    );
}

#[tokio::test]
async fn deletion_waits_for_the_connections_that_use_the_gateway() {
    let w = World::start().await;
    ready_gateway(&w).await;
    w.apply_yaml::<VpnConnection>(include_str!("../../../../examples/vpnconnection.yaml"));
    w.delete::<VpnGateway>(NAME);
    let action = w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, READY), no("WaitingForDependents"));
    assert_eq!(cond(&g, SYNCED), yes("ReconcileSuccess"));
    let ready = crate::controller::runtime::testing::condition(&g, READY).unwrap();
    assert!(ready.message.contains("office-link"), "{}", ready.message);
    assert_eq!(w.calls("DeleteVgw"), 0);
    assert_ne!(action, Action::await_change(), "it looks again");
    // The connection goes: the gateway is deleted.
    w.delete::<VpnConnection>("office-link");
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("DeleteVgw"), 1);
}

#[tokio::test]
async fn drift_is_reported_once_and_corrected() {
    let w = World::start().await;
    let g = ready_gateway(&w).await;
    let id = cloud_id(&g);
    // Someone renames the gateway in the console.
    w.admin(
        "PATCH",
        &format!("/projects/{PROJECT}/vpn-gateways/{id}"),
        json!({"name": "renamed"}),
    )
    .await;
    w.reconcile::<VpnGateway>(NAME).await;
    let drift: Vec<_> = w
        .events::<VpnGateway>(NAME)
        .into_iter()
        .filter(|n| n.reason == DRIFT_DETECTED)
        .collect();
    assert_eq!(drift.len(), 1);
    assert!(drift[0].warning);
    assert_eq!(
        drift[0].message,
        "VPN gateway differs from the spec: name (spec edge-gateway, cloud renamed) (changed \
         outside the operator; being corrected)"
    );
    assert_eq!(w.calls("UpdateVgw"), 1);
    let g = w.ready::<VpnGateway>(NAME).await;
    assert!(g.status.unwrap().drift.is_empty());
    assert_eq!(
        gateways_in_cloud(&w).await[0]["vpn_gateway"]["name"],
        "edge-gateway"
    );

    // A field the cloud cannot change: reported, never touched.
    w.admin(
        "PATCH",
        &format!("/projects/{PROJECT}/vpn-gateways/{id}"),
        json!({"bgp_asn": 65001}),
    )
    .await;
    let writes = w.writes();
    w.reconcile::<VpnGateway>(NAME).await;
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("ImmutableFieldDrift"));
    assert_eq!(cond(&g, READY), yes("Available"));
    assert_eq!(g.status.unwrap().drift[0].field, "bgpAsn");
    assert_eq!(w.writes(), writes);
    let reported = w
        .event_reasons::<VpnGateway>(NAME)
        .iter()
        .filter(|r| *r == DRIFT_DETECTED)
        .count();
    assert_eq!(reported, 2, "once per new difference, not per reconcile");
}

fn unowned_body(name: &str) -> CreateVpnGatewayRequestBody {
    CreateVpnGatewayRequestBody {
        name: Some(name.into()),
        vpc_id: Some("a0000000-0000-4000-8000-000000000001".into()),
        connect_subnet: Some("b0000000-0000-4000-8000-000000000001".into()),
        local_subnets: Some(vec!["192.168.0.0/24".into()]),
        eip1: Some(crate::cloud::model::gateway::CreateRequestEip {
            id: Some("e0000000-0000-4000-8000-000000000001".into()),
            ..Default::default()
        }),
        eip2: Some(crate::cloud::model::gateway::CreateRequestEip {
            id: Some("e0000000-0000-4000-8000-000000000002".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn adoption_takes_an_unowned_gateway_and_refuses_another_objects() {
    let w = World::start().await;
    let console = w.console();
    let made = console
        .create_gateway(&unowned_body("edge-gateway"))
        .await
        .unwrap();
    w.advance(Duration::from_secs(2));
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.spec.cloud_id = Some(made.id.clone());
    w.apply(obj);
    let g = w.ready::<VpnGateway>(NAME).await;
    assert_eq!(cloud_id(&g), made.id);
    let events = w.events::<VpnGateway>(NAME);
    let adopted = events
        .iter()
        .find(|n| n.reason == ADOPTED)
        .expect("Adopted");
    assert_eq!(adopted.action, actions::ADOPT);
    assert_eq!(w.calls("CreateVgw"), 1, "only the console's create");
    // The owner tags are added: the gateway is now this object's.
    let g = w
        .until::<VpnGateway>(NAME, Duration::from_secs(1), 5, |g| {
            cond(g, READY) == yes("Available") && g.status.as_ref().unwrap().drift.is_empty()
        })
        .await;
    let tags = &gateways_in_cloud(&w).await[0]["vpn_gateway"]["tags"];
    assert!(tags.to_string().contains(TAG_UID), "{tags}");
    assert!(g.metadata.uid.is_some());

    // A second object pointing at the same gateway is refused, and nothing is written.
    let writes = w.writes();
    let mut other: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    other.metadata.name = Some("intruder".into());
    other.spec.cloud_id = Some(made.id.clone());
    w.apply(other);
    w.reconcile::<VpnGateway>("intruder").await;
    w.reconcile::<VpnGateway>("intruder").await;
    let o = w.get::<VpnGateway>("intruder");
    assert_eq!(cond(&o, SYNCED), no("OwnershipConflict"));
    assert_eq!(
        cond(&o, READY),
        no("OwnershipConflict"),
        "Ready says why too"
    );
    assert_eq!(w.writes(), writes);
    // Deleting the intruder leaves the gateway in place.
    w.delete::<VpnGateway>("intruder");
    w.reconcile::<VpnGateway>("intruder").await;
    assert!(w.try_get::<VpnGateway>("intruder").is_none());
    assert_eq!(gateways_in_cloud(&w).await.len(), 1);
    assert!(w
        .event_reasons::<VpnGateway>("intruder")
        .contains(&"NotDeleted".to_string()));
}

#[tokio::test]
async fn a_lost_create_response_never_makes_a_second_gateway() {
    let w = World::start().await;
    w.fault(
        json!({"ops": ["CreateVgw"], "fault": {"kind": "commit_then_504"}, "trigger": {"next": 1}}),
    )
    .await;
    w.apply_yaml::<VpnGateway>(EXAMPLE);
    w.reconcile::<VpnGateway>(NAME).await;
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("CloudServerError"));
    assert_eq!(
        cond(&g, READY),
        no("CloudServerError"),
        "no Ready yet: it says why"
    );
    assert_eq!(
        gateways_in_cloud(&w).await.len(),
        1,
        "the create was committed"
    );
    let g = w.ready::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("CreateVgw"), 1);
    assert_eq!(gateways_in_cloud(&w).await.len(), 1);
    assert!(w
        .event_reasons::<VpnGateway>(NAME)
        .contains(&RECOVERED.to_string()));
    assert_eq!(
        cloud_id(&g),
        gateways_in_cloud(&w).await[0]["vpn_gateway"]["id"]
    );
}

#[tokio::test]
async fn a_search_after_a_lost_create_never_trusts_a_list_from_before_it() {
    // As in the operator: list snapshots are shared and reused while they are young.
    let w = World::start().await;
    w.keep_snapshots
        .store(true, std::sync::atomic::Ordering::Relaxed);
    w.apply_yaml::<VpnGateway>(EXAMPLE);
    w.reconcile::<VpnGateway>(NAME).await; // finalizer
                                           // Another object's search fills the gateway snapshot before this one's create.
    let mut other: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    other.metadata.name = Some("other".into());
    other.spec.eip1.as_mut().unwrap().id = Some("e0000000-0000-4000-8000-000000000003".into());
    other.spec.eip2.as_mut().unwrap().id = Some("e0000000-0000-4000-8000-000000000004".into());
    w.apply(other);
    w.reconcile::<VpnGateway>("other").await;
    w.fault(
        json!({"ops": ["CreateVgw"], "fault": {"kind": "drop_response"}, "trigger": {"next": 1}}),
    )
    .await;
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(gateways_in_cloud(&w).await.len(), 1, "created, answer lost");
    // At once, while the earlier snapshot is still young: it does not show the new gateway and
    // must not be believed.
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("CreateVgw"), 1, "no second create");
    assert!(w
        .event_reasons::<VpnGateway>(NAME)
        .contains(&RECOVERED.to_string()));
}

#[tokio::test]
async fn a_gateway_gone_from_the_cloud_is_searched_for_then_recreated_with_a_warning() {
    let w = World::start().await;
    // EIPs the cloud makes with the gateway (bound ones are released with it).
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.spec.eip1 =
        Some(serde_json::from_value(json!({"type": "5_bgp", "bandwidthSize": 10})).unwrap());
    obj.spec.eip2 =
        Some(serde_json::from_value(json!({"type": "5_bgp", "bandwidthSize": 10})).unwrap());
    w.apply(obj);
    let g = w.ready::<VpnGateway>(NAME).await;
    let old = cloud_id(&g);
    w.admin(
        "DELETE",
        &format!("/projects/{PROJECT}/vpn-gateways/{old}"),
        json!(null),
    )
    .await;
    let lists = w.calls("ListVgws");
    w.reconcile::<VpnGateway>(NAME).await;
    assert!(w.calls("ListVgws") > lists, "searched by owner tag first");
    let recreating = w
        .events::<VpnGateway>(NAME)
        .into_iter()
        .find(|n| n.reason == RECREATING)
        .unwrap_or_else(|| panic!("a Recreating warning: {:#?}", w.events::<VpnGateway>(NAME)));
    assert!(recreating.warning && recreating.message.contains(&old));
    let g = w.get::<VpnGateway>(NAME);
    assert_ne!(cloud_id(&g), old);
    assert_eq!(cond(&g, READY), no("Creating"));
    w.ready::<VpnGateway>(NAME).await;
    assert_eq!(gateways_in_cloud(&w).await.len(), 1);
}

#[tokio::test]
async fn busy_and_throttled_calls_are_retried_with_backoff() {
    let w = World::start().await;
    let g = ready_gateway(&w).await;
    w.fault(json!({"ops": ["UpdateVgw"], "fault": {"kind": "busy"}, "trigger": {"next": 1}}))
        .await;
    let mut changed = g.clone();
    changed.spec.local_subnets.push("192.168.1.0/24".into());
    w.apply(changed);
    let first = w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("CloudBusy"));
    assert_eq!(
        cond(&g, READY),
        yes("Available"),
        "still usable while the change waits"
    );
    let warning = w.events::<VpnGateway>(NAME).pop().unwrap();
    assert!(
        warning.warning && warning.reason == "CloudBusy" && warning.action == actions::RECONCILE
    );
    let second = w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpdateVgw"), 2);
    assert_ne!(first, second);
    assert_eq!(
        cond(&w.get::<VpnGateway>(NAME), SYNCED),
        yes("ReconcileSuccess")
    );

    // 429 with Retry-After: the object waits at least that long.
    w.fault(json!({"ops": ["ListVgws", "ShowVgw"], "fault": {"kind": "throttle", "retry_after_secs": 42}, "trigger": {"next": 2}}))
        .await;
    let action = w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(cond(&w.get::<VpnGateway>(NAME), SYNCED), no("Throttled"));
    assert_eq!(action, Action::requeue(Duration::from_secs(42)));
}

#[tokio::test]
async fn refused_credentials_are_read_again_once_the_secret_is_fixed() {
    let w = World::start().await;
    w.put_secret(
        "team-creds",
        &[
            ("accessKey", crate::controller::runtime::testing::AK),
            ("secretKey", "wrong"),
        ],
    );
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.spec.cloud = Some(
        serde_json::from_value(json!({"credentialsSecretRef": {"name": "team-creds"}})).unwrap(),
    );
    w.apply(obj);
    w.reconcile::<VpnGateway>(NAME).await;
    let action = w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("AuthFailed"));
    assert_eq!(cond(&g, READY), no("AuthFailed"));
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(300)),
        "terminal: slow retry"
    );
    w.put_secret(
        "team-creds",
        &[
            ("accessKey", crate::controller::runtime::testing::AK),
            ("secretKey", crate::controller::runtime::testing::SK),
        ],
    );
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("CreateVgw"), 1, "the fixed Secret is used at once");
    w.ready::<VpnGateway>(NAME).await;

    // A missing Secret is a Secret problem, on both conditions.
    let mut other: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    other.metadata.name = Some("no-secret".into());
    other.spec.cloud =
        Some(serde_json::from_value(json!({"credentialsSecretRef": {"name": "absent"}})).unwrap());
    w.apply(other);
    w.reconcile::<VpnGateway>("no-secret").await;
    w.reconcile::<VpnGateway>("no-secret").await;
    let o = w.get::<VpnGateway>("no-secret");
    assert_eq!(cond(&o, SYNCED), no("SecretNotReady"));
    assert_eq!(cond(&o, READY), no("SecretNotReady"));
}

#[tokio::test]
async fn an_invalid_spec_sets_ready_false_with_the_same_reason() {
    let w = World::start().await;
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.spec.tags = (0..20)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    w.apply(obj);
    w.reconcile::<VpnGateway>(NAME).await;
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("InvalidSpec"));
    assert_eq!(cond(&g, READY), no("InvalidSpec"));
    let (ready, synced) = (
        crate::controller::runtime::testing::condition(&g, READY).unwrap(),
        crate::controller::runtime::testing::condition(&g, SYNCED).unwrap(),
    );
    assert_eq!(ready.message, synced.message);
    assert!(ready.message.contains("spec.tags"), "{}", ready.message);
    assert_eq!(w.calls("CreateVgw"), 0);
}

#[tokio::test]
async fn observe_only_reads_reports_drift_and_never_writes() {
    let w = World::start().await;
    let made = w
        .console()
        .create_gateway(&unowned_body("legacy"))
        .await
        .unwrap();
    w.advance(Duration::from_secs(2));
    let writes = w.writes();
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.spec.cloud_id = Some(made.id.clone());
    obj.spec.management_policy = crate::crd::common::ManagementPolicy::Observe;
    w.apply(obj);
    let g = w.ready::<VpnGateway>(NAME).await;
    assert_eq!(cond(&g, SYNCED), yes("ObserveOnly"));
    assert_eq!(g.status.as_ref().unwrap().drift[0].field, "name");
    let drift = w
        .events::<VpnGateway>(NAME)
        .into_iter()
        .find(|n| n.reason == DRIFT_DETECTED)
        .unwrap();
    assert!(
        drift
            .message
            .ends_with("(not corrected: managementPolicy is Observe)"),
        "{}",
        drift.message
    );
    assert_eq!(w.writes(), writes, "observing never writes");
    w.delete::<VpnGateway>(NAME);
    w.reconcile::<VpnGateway>(NAME).await;
    assert!(w.try_get::<VpnGateway>(NAME).is_none());
    assert_eq!(gateways_in_cloud(&w).await.len(), 1, "left in place");
    assert_eq!(w.writes(), writes);
}

#[tokio::test]
async fn pause_stops_every_cloud_call_deletion_included() {
    let w = World::start().await;
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(PAUSED_ANNOTATION.into(), "true".into());
    w.apply(obj.clone());
    assert_eq!(
        w.reconcile::<VpnGateway>(NAME).await,
        Action::await_change()
    );
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("Paused"));
    assert_eq!(
        cond(&g, READY),
        no("Paused"),
        "nothing was made: Ready says why"
    );
    assert_eq!(w.all_calls(), 0);

    // Resumed: created; paused again: a spec change and a delete wait.
    obj.metadata
        .annotations
        .as_mut()
        .unwrap()
        .remove(PAUSED_ANNOTATION);
    w.apply(obj);
    let g = w.ready::<VpnGateway>(NAME).await;
    let mut paused = g.clone();
    paused
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(PAUSED_ANNOTATION.into(), "true".into());
    paused.spec.local_subnets.push("192.168.1.0/24".into());
    w.apply(paused);
    w.delete::<VpnGateway>(NAME);
    let calls = w.all_calls();
    w.reconcile::<VpnGateway>(NAME).await;
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.all_calls(), calls);
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("Paused"));
    assert_eq!(
        cond(&g, READY),
        yes("Available"),
        "the gateway is still there and usable"
    );
    assert!(g.metadata.deletion_timestamp.is_some());
}

#[tokio::test]
async fn orphan_leaves_the_gateway_without_this_objects_owner_tags() {
    let w = World::start().await;
    let mut obj: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    obj.spec.deletion_policy = crate::crd::common::DeletionPolicy::Orphan;
    w.apply(obj);
    w.ready::<VpnGateway>(NAME).await;
    w.delete::<VpnGateway>(NAME);
    w.reconcile::<VpnGateway>(NAME).await;
    assert!(w.try_get::<VpnGateway>(NAME).is_none());
    let left = gateways_in_cloud(&w).await;
    assert_eq!(left.len(), 1);
    let tags = left[0]["vpn_gateway"]["tags"].to_string();
    assert!(
        !tags.contains(TAG_UID) && !tags.contains(TAG_OWNER),
        "{tags}"
    );
    assert!(tags.contains("team"), "the user's tags stay: {tags}");
    assert_eq!(w.calls("DeleteVgw"), 0);
    assert_eq!(
        w.event_reasons::<VpnGateway>(NAME).last().unwrap(),
        "Orphaned"
    );
    let _ = NS;
}
