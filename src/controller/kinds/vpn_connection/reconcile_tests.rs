//! Whole reconciles of a VpnConnection without a cluster: the runtime as the operator runs it,
//! the simulator in-process and Kubernetes in memory, on one manual clock. The gateway is a
//! real VpnGateway reconciled by its own kind; the customer gateway is made in the cloud and
//! reported Ready by its object (until the CustomerGateway kind is ported).
use std::time::Duration;

use kube::runtime::controller::Action;
use serde_json::{json, Value};

use super::desired::desired_create;
use super::psk::{psk_sha256, Psk};
use super::refs::ResolvedGateway;
use crate::cloud::model::customer_gateway::{CreateCustomerGatewayRequestBody, IdType};
use crate::cloud::retry::RetryPolicy;
use crate::cloud::{ApiClient, ClientConfig, Credentials, VpnClient};
use crate::controller::runtime::contract::Managed;
use crate::controller::runtime::events::{
    actions, ADOPTED, CREATED, DELETED, DELETE_REQUESTED, DRIFT_DETECTED, NOT_DELETED, PSK_ROTATED,
    RECOVERED, RECREATING, UPDATED,
};
use crate::controller::runtime::ownership::{TAG_OWNER, TAG_UID};
use crate::controller::runtime::status::{set, Cond};
use crate::controller::runtime::testing::{cond, condition, World, AK, NS, PROJECT, SK};
use crate::crd::common::reasons;
use crate::crd::common::types::{READY, SYNCED, TUNNEL_UP};
use crate::crd::{
    CustomerGateway, CustomerGatewayStatus, VpnConnection, VpnGateway, PAUSED_ANNOTATION,
};

const GATEWAY: &str = include_str!("../../../../examples/vpngateway.yaml");
const CUSTOMER_GATEWAY: &str = include_str!("../../../../examples/customergateway.yaml");
const CONNECTION: &str = include_str!("../../../../examples/vpnconnection.yaml");
const NAME: &str = "office-link";
/// The key of `examples/psk-secret.yaml`.
const KEY: &str = "Example-Psk-2026";

fn yes(reason: &str) -> (String, String) {
    ("True".into(), reason.into())
}

fn no(reason: &str) -> (String, String) {
    ("False".into(), reason.into())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The example connection, changed by `edit`.
fn connection(edit: impl FnOnce(&mut VpnConnection)) -> VpnConnection {
    let mut c: VpnConnection = serde_yaml::from_str(CONNECTION).expect("the example");
    edit(&mut c);
    c
}

fn cloud_id(c: &VpnConnection) -> String {
    c.status
        .as_ref()
        .and_then(|s| s.cloud_id.clone())
        .expect("a cloud id")
}

fn message(c: &VpnConnection, type_: &str) -> String {
    condition(c, type_).map(|c| c.message).unwrap_or_default()
}

fn count(w: &World, name: &str, reason: &str) -> usize {
    w.events::<VpnConnection>(name)
        .iter()
        .filter(|n| n.reason == reason)
        .count()
}

/// The example gateway, reconciled by its kind until Ready; its cloud id.
async fn ready_gateway(w: &World) -> String {
    w.apply_yaml::<VpnGateway>(GATEWAY);
    let g = w.ready::<VpnGateway>("edge-gateway").await;
    g.status.and_then(|s| s.cloud_id).expect("a gateway id")
}

/// TEMPORARY until the CustomerGateway kind is ported: a customer gateway made in the cloud
/// and an object `name` whose status reports it Ready. Returns its cloud id.
async fn customer_gateway(w: &World, name: &str, ip: &str) -> String {
    customer_gateway_in(w, &w.console(), name, ip).await
}

/// [`customer_gateway`] in the account of `client`.
async fn customer_gateway_in(w: &World, client: &VpnClient, name: &str, ip: &str) -> String {
    let body = CreateCustomerGatewayRequestBody {
        name: Some(name.into()),
        id_type: Some(IdType::Ip),
        id_value: ip.into(),
        bgp_asn: Some(65000),
        ..Default::default()
    };
    let made = client
        .create_customer_gateway(&body)
        .await
        .expect("a customer gateway");
    let mut obj: CustomerGateway = serde_yaml::from_str(CUSTOMER_GATEWAY).expect("the example");
    obj.metadata.name = Some(name.into());
    obj.spec.id_value = ip.into();
    let mut status = CustomerGatewayStatus {
        cloud_id: Some(made.id.clone()),
        ..Default::default()
    };
    let ready = Cond::yes(reasons::AVAILABLE, "");
    set(
        &mut status.conditions,
        &w.ctx.clock.now(),
        READY,
        ready,
        Some(1),
    );
    obj.status = Some(status);
    w.apply(obj);
    made.id
}

/// Stores `obj` with the status it carries, as its own controller would write it (applying
/// keeps the stored status; an object without finalizers is deleted at once).
fn with_status(w: &World, obj: CustomerGateway) {
    let name = obj.metadata.name.clone().unwrap_or_default();
    w.kube()
        .delete::<CustomerGateway>(NS, &name, &w.ctx.clock.now());
    w.apply(obj);
}

/// The PSK Secret, the gateway and the customer gateway of the example: (gateway id, customer
/// gateway id).
async fn references(w: &World) -> (String, String) {
    w.put_secret("office-psk", &[("psk", KEY)]);
    let gw = ready_gateway(w).await;
    let cgw = customer_gateway(w, "office-router", "203.0.113.10").await;
    (gw, cgw)
}

/// The example connection, Ready.
async fn ready_connection(w: &World) -> VpnConnection {
    references(w).await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.ready::<VpnConnection>(NAME).await
}

/// The connections in the cloud: (the wire model, the hash of the key the cloud holds).
async fn connections_in_cloud(w: &World) -> Vec<(Value, String)> {
    w.cloud("vpn_connections")
        .await
        .into_iter()
        .map(|c| {
            let hash = c["psk_sha256"].as_str().unwrap_or_default().to_string();
            (c["vpn_connection"].clone(), hash)
        })
        .collect()
}

/// Reconciles the deleted object `name` until it is gone (the clock moves a second at a time).
async fn until_gone(w: &World, name: &str) {
    for _ in 0..10 {
        if w.try_get::<VpnConnection>(name).is_none() {
            return;
        }
        w.reconcile::<VpnConnection>(name).await;
        w.advance(secs(1));
    }
    assert!(
        w.try_get::<VpnConnection>(name).is_none(),
        "{name} is still there"
    );
}

async fn patch_in_cloud(w: &World, id: &str, patch: Value) {
    w.admin(
        "PATCH",
        &format!("/projects/{PROJECT}/vpn-connections/{id}"),
        patch,
    )
    .await;
}

#[tokio::test]
async fn a_connection_applied_before_its_gateway_waits_then_is_created_without_an_edit() {
    let w = World::start().await;
    w.put_secret("office-psk", &[("psk", KEY)]);
    customer_gateway(&w, "office-router", "203.0.113.10").await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    let action = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("DependencyNotReady"));
    assert_eq!(
        cond(&c, SYNCED),
        yes("ReconcileSuccess"),
        "waiting is not failing"
    );
    assert!(
        message(&c, READY).contains("VpnGateway edge-gateway does not exist"),
        "{}",
        message(&c, READY)
    );
    assert!(c.status.as_ref().unwrap().cloud_id.is_none());
    assert_eq!(w.calls("CreateVpnConnection"), 0);
    assert!(
        w.events::<VpnConnection>(NAME).is_empty(),
        "a wait is no failure"
    );
    assert_eq!(
        action,
        Action::requeue(secs(10)),
        "woken by the gateway: a slow fallback"
    );

    // Still waiting while the gateway provisions.
    w.apply_yaml::<VpnGateway>(GATEWAY);
    w.reconcile::<VpnGateway>("edge-gateway").await;
    w.reconcile::<VpnGateway>("edge-gateway").await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("DependencyNotReady"));
    assert!(message(&c, READY).contains("is not Ready yet (Creating)"));

    w.ready::<VpnGateway>("edge-gateway").await;
    let c = w.ready::<VpnConnection>(NAME).await;
    assert_eq!(c.metadata.generation, Some(1), "never edited");
    assert_eq!(w.calls("CreateVpnConnection"), 1);
    assert_eq!(connections_in_cloud(&w).await.len(), 1);
}

#[tokio::test]
async fn a_provisioned_connection_is_ready_and_reports_its_tunnel() {
    let w = World::start().await;
    let (gw, cgw) = references(&w).await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    let action = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("Creating"));
    assert_eq!(cond(&c, SYNCED), yes("ReconcileSuccess"));
    assert!(
        c.status.as_ref().unwrap().cloud_id.is_some(),
        "recorded at once"
    );
    assert_eq!(
        w.ctx.pending.connections.len(),
        1,
        "the pending watch wakes it"
    );
    assert_eq!(
        action,
        Action::requeue(secs(10)),
        "the requeue is only a fallback"
    );
    let created = &w.events::<VpnConnection>(NAME)[0];
    assert_eq!(
        (created.reason.as_str(), created.action.as_str()),
        (CREATED, actions::CREATE)
    );

    w.advance(secs(2));
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), yes("Available"));
    assert_eq!(cond(&c, TUNNEL_UP), yes("TunnelActive"));
    let s = c.status.clone().unwrap();
    assert_eq!(s.cloud_state.as_deref(), Some("ACTIVE"));
    assert_eq!(s.tunnel_state.as_deref(), Some("Up"));
    assert_eq!(s.vpn_gateway_id.as_deref(), Some(gw.as_str()));
    assert_eq!(
        s.gateway_ip.as_deref(),
        Some("e0000000-0000-4000-8000-000000000001")
    );
    assert_eq!(s.gateway_address.as_deref(), Some("198.51.100.11"));
    assert_eq!(s.customer_gateway_id.as_deref(), Some(cgw.as_str()));
    assert_eq!(s.psk_sha256.as_deref(), Some(psk_sha256(KEY).as_str()));
    assert_eq!(s.observed_generation, Some(1));
    let cloud = connections_in_cloud(&w).await;
    assert_eq!(cloud.len(), 1);
    assert_eq!(
        cloud[0].1,
        psk_sha256(KEY),
        "the cloud holds the Secret's key"
    );
    let tags = cloud[0].0["tags"].to_string();
    assert!(
        tags.contains(TAG_UID) && tags.contains(c.metadata.uid.as_deref().unwrap()),
        "{tags}"
    );
    assert_eq!(
        w.reconcile::<VpnConnection>(NAME).await,
        Action::await_change(),
        "settled"
    );

    // A customer device that does not answer: provisioned (Ready) with the tunnel down.
    customer_gateway(&w, "branch-router", "192.0.2.10").await;
    w.apply(connection(|c| {
        c.metadata.name = Some("branch-link".into());
        c.spec.customer_gateway_ref.name = Some("branch-router".into());
    }));
    let b = w.ready::<VpnConnection>("branch-link").await;
    assert_eq!(cond(&b, TUNNEL_UP), no("TunnelDown"));
    assert_eq!(b.status.unwrap().tunnel_state.as_deref(), Some("Down"));
}

#[tokio::test]
async fn a_policy_change_is_one_put_then_ready_again() {
    let w = World::start().await;
    let c = ready_connection(&w).await;
    let mut changed = c.clone();
    changed.spec.ipsec_policy.as_mut().unwrap().lifetime_seconds = Some(7200);
    w.apply(changed);
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(w.calls("UpdateVpnConnection"), 1);
    assert_eq!(cond(&c, READY), no("Updating"));
    assert_eq!(
        c.status.as_ref().unwrap().cloud_state.as_deref(),
        Some("PENDING_UPDATE")
    );
    assert_eq!(c.status.as_ref().unwrap().observed_generation, Some(2));
    let updated = w
        .events::<VpnConnection>(NAME)
        .into_iter()
        .rfind(|n| n.reason == UPDATED)
        .unwrap();
    assert_eq!(updated.action.as_str(), actions::UPDATE);
    assert!(
        updated.message.contains("ipsecPolicy.lifetimeSeconds"),
        "{}",
        updated.message
    );
    assert_eq!(
        count(&w, NAME, DRIFT_DETECTED),
        0,
        "a spec change is not drift"
    );

    let c = w.ready::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("UpdateVpnConnection"), 1, "nothing more to change");
    assert!(c.status.unwrap().drift.is_empty());
    let cloud = connections_in_cloud(&w).await;
    assert_eq!(cloud[0].0["ipsecpolicy"]["lifetime_seconds"], 7200);
    assert_eq!(
        cloud[0].0["ikepolicy"]["dh_group"], "group15",
        "other fields kept"
    );
}

#[tokio::test]
async fn a_rotated_secret_sends_the_new_key_and_shows_it_nowhere() {
    let w = World::start().await;
    let c = ready_connection(&w).await;
    let old_hash = c.status.unwrap().psk_sha256.unwrap();
    let new_key = "Rotated#Key-2026-b";
    w.put_secret("office-psk", &[("psk", new_key)]);
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("UpdateVpnConnection"), 1);
    assert_eq!(connections_in_cloud(&w).await[0].1, psk_sha256(new_key));
    let c = w.get::<VpnConnection>(NAME);
    let hash = c.status.as_ref().unwrap().psk_sha256.clone().unwrap();
    assert_eq!(hash, psk_sha256(new_key));
    assert_ne!(hash, old_hash);
    assert_eq!(
        c.metadata.generation,
        Some(1),
        "the connection was not edited"
    );
    let rotated = w
        .events::<VpnConnection>(NAME)
        .into_iter()
        .find(|n| n.reason == PSK_ROTATED)
        .expect("PskRotated");
    assert_eq!(rotated.action, actions::UPDATE);
    let c = w.ready::<VpnConnection>(NAME).await;
    assert_eq!(cond(&c, TUNNEL_UP), yes("TunnelActive"));
    assert_eq!(w.calls("UpdateVpnConnection"), 1, "sent once");

    // The keys are in no status, condition or Event.
    let everything = format!(
        "{}{:?}",
        serde_json::to_string(&c).unwrap(),
        w.kube().events()
    );
    for key in [KEY, new_key] {
        assert!(!everything.contains(key), "a key leaked: {everything}");
    }
}

#[tokio::test]
async fn the_health_check_is_created_and_deleted_and_goes_with_the_connection() {
    let w = World::start().await;
    let c = ready_connection(&w).await;
    assert!(c.status.as_ref().unwrap().monitor_id.is_none());
    let enable = |on: bool| {
        connection(|c| {
            c.spec.health_check = Some(serde_json::from_value(json!({"enabled": on})).unwrap())
        })
    };
    w.apply(enable(true));
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("CreateConnectionMonitor"), 1);
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(
        c.status.as_ref().unwrap().monitor_state.as_deref(),
        Some("PENDING_CREATE")
    );
    assert!(c.in_flux(), "observed fresh while the monitor is pending");
    let c = w
        .until::<VpnConnection>(NAME, secs(1), 10, |c| {
            c.status.as_ref().unwrap().monitor_state.as_deref() == Some("ACTIVE")
        })
        .await;
    let monitors = w.cloud("connection_monitors").await;
    assert_eq!(monitors.len(), 1);
    assert_eq!(
        monitors[0]["connection_monitor"]["id"].as_str(),
        c.status.as_ref().unwrap().monitor_id.as_deref()
    );
    assert_eq!(cond(&c, SYNCED), yes("ReconcileSuccess"));

    w.apply(enable(false));
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("DeleteConnectionMonitor"), 1);
    // The cloud takes a moment (PENDING_DELETE); the monitor is not deleted twice.
    w.reconcile::<VpnConnection>(NAME).await;
    w.advance(secs(2));
    let c = w.ready::<VpnConnection>(NAME).await;
    assert!(c.status.as_ref().unwrap().monitor_id.is_none());
    assert!(w.cloud("connection_monitors").await.is_empty());
    assert_eq!(w.calls("DeleteConnectionMonitor"), 1);

    // Enabled again, then the connection is deleted: the monitor goes first.
    w.apply(enable(true));
    w.until::<VpnConnection>(NAME, secs(1), 10, |c| {
        c.status.as_ref().unwrap().monitor_state.as_deref() == Some("ACTIVE")
    })
    .await;
    w.fault(json!({"ops": ["DeleteConnectionMonitor"], "fault": {"kind": "server_error"}, "trigger": {"next": 1}}))
        .await;
    w.delete::<VpnConnection>(NAME);
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("Deleting"));
    assert_eq!(cond(&c, SYNCED), no("CloudServerError"));
    assert_eq!(w.calls("DeleteVpnConnection"), 0, "not before its monitor");
    // A write whose outcome is unknown: the next look at once writes nothing...
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("DeleteConnectionMonitor"), 2);
    assert_eq!(w.calls("DeleteVpnConnection"), 0);
    // ...the writes wait for the backoff (1 s).
    w.advance(secs(1));
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("DeleteVpnConnection"), 1);
    until_gone(&w, NAME).await;
    assert!(w.cloud("connection_monitors").await.is_empty());
    assert!(connections_in_cloud(&w).await.is_empty());
    assert_eq!(w.calls("CreateConnectionMonitor"), 2);
    assert_eq!(
        w.calls("DeleteConnectionMonitor"),
        3,
        "the refused one, then each once"
    );
}

/// A client of the simulator's project that is not the operator's (someone else's tool).
fn outside_client(w: &World) -> VpnClient {
    let mut cfg = ClientConfig::new(
        w.sim.base_url().parse().unwrap(),
        PROJECT,
        Credentials::aksk(AK, SK),
    );
    cfg.retry = RetryPolicy::none();
    VpnClient::new(ApiClient::new(cfg).unwrap())
}

#[tokio::test]
async fn a_settled_connection_is_looked_at_without_reading_the_monitor_list() {
    let w = World::start().await;
    let health = |on: bool| {
        connection(|c| {
            c.spec.health_check = Some(serde_json::from_value(json!({"enabled": on})).unwrap())
        })
    };
    let monitor_lists = || w.calls("ListConnectionMonitors");

    // No health check, and the connection names no monitor: no monitor list.
    let before = ready_connection(&w).await;
    let lists = monitor_lists();
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(
        monitor_lists(),
        lists,
        "no health check: the list is not read"
    );
    assert_eq!(w.get::<VpnConnection>(NAME).status, before.status);

    // Turned on: the list is read to confirm before the create and while it is pending...
    w.apply(health(true));
    let on = w
        .until::<VpnConnection>(NAME, secs(1), 10, |c| {
            c.status.as_ref().unwrap().monitor_state.as_deref() == Some("ACTIVE")
        })
        .await;
    assert!(monitor_lists() > lists);
    // ...and no longer once it is ACTIVE: the status stays as the list reported it.
    let lists = monitor_lists();
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(monitor_lists(), lists, "a settled health check: not read");
    assert_eq!(w.get::<VpnConnection>(NAME).status, on.status);

    // Someone else deletes the monitor: the connection stops naming it, and it is made again.
    let id = on.status.as_ref().unwrap().monitor_id.clone().unwrap();
    outside_client(&w)
        .delete_connection_monitor(&id)
        .await
        .unwrap();
    w.advance(secs(2));
    let again = w
        .until::<VpnConnection>(NAME, secs(1), 10, |c| {
            let s = c.status.as_ref().unwrap();
            s.monitor_state.as_deref() == Some("ACTIVE") && s.monitor_id.as_deref() != Some(&id)
        })
        .await;
    assert_eq!(w.calls("CreateConnectionMonitor"), 2);
    assert_eq!(w.cloud("connection_monitors").await.len(), 1);
    assert!(again.status.as_ref().unwrap().monitor_id.is_some());
}

#[tokio::test]
async fn a_monitor_made_outside_the_operator_is_found_and_removed_without_a_health_check() {
    let w = World::start().await;
    let c = ready_connection(&w).await;
    outside_client(&w)
        .create_connection_monitor(&cloud_id(&c))
        .await
        .unwrap();
    w.advance(secs(2));
    // The connection names the monitor, so it is listed and, not being asked for, deleted.
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("DeleteConnectionMonitor"), 1);
    w.advance(secs(2));
    let c = w.ready::<VpnConnection>(NAME).await;
    assert!(c.status.as_ref().unwrap().monitor_id.is_none());
    assert!(w.cloud("connection_monitors").await.is_empty());
    // Gone: the connection names none, and the list is not read again.
    let lists = w.calls("ListConnectionMonitors");
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("ListConnectionMonitors"), lists);
}

#[tokio::test]
async fn deletion_is_requested_once_and_the_object_goes_when_the_cloud_is_done() {
    let w = World::start().await;
    ready_connection(&w).await;
    w.delete::<VpnConnection>(NAME);
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("DeleteVpnConnection"), 1);
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("Deleting"));
    assert_eq!(cond(&c, SYNCED), yes("ReconcileSuccess"));
    let requested = w.events::<VpnConnection>(NAME).pop().unwrap();
    assert_eq!(
        (requested.reason.as_str(), requested.action.as_str()),
        (DELETE_REQUESTED, actions::DELETE)
    );
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(
        w.calls("DeleteVpnConnection"),
        1,
        "PENDING_DELETE: waited for"
    );
    assert_eq!(count(&w, NAME, DELETE_REQUESTED), 1, "said once");
    w.advance(secs(2));
    w.reconcile::<VpnConnection>(NAME).await;
    assert!(
        w.try_get::<VpnConnection>(NAME).is_none(),
        "finalizer removed"
    );
    assert!(connections_in_cloud(&w).await.is_empty());
    assert_eq!(count(&w, NAME, DELETED), 1);
    // The gateway it used can go now.
    w.delete::<VpnGateway>("edge-gateway");
    w.reconcile::<VpnGateway>("edge-gateway").await;
    assert_eq!(w.calls("DeleteVgw"), 1);
}

#[tokio::test]
async fn drift_is_corrected_and_reported_once() {
    let w = World::start().await;
    let c = ready_connection(&w).await;
    let id = cloud_id(&c);
    patch_in_cloud(&w, &id, json!({"ikepolicy": {"lifetime_seconds": 7200}})).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let drift: Vec<_> = w
        .events::<VpnConnection>(NAME)
        .into_iter()
        .filter(|n| n.reason == DRIFT_DETECTED)
        .collect();
    assert_eq!(drift.len(), 1);
    assert!(drift[0].warning);
    assert_eq!(drift[0].action, actions::OBSERVE);
    assert_eq!(
        drift[0].message,
        "Connection differs from the spec: ikePolicy.lifetimeSeconds (spec 86400, cloud 7200) \
         (changed outside the operator; being corrected)"
    );
    assert_eq!(w.calls("UpdateVpnConnection"), 1);
    let c = w.ready::<VpnConnection>(NAME).await;
    assert!(c.status.unwrap().drift.is_empty());
    assert_eq!(
        cond(&w.get::<VpnConnection>(NAME), SYNCED),
        yes("ReconcileSuccess")
    );
    assert_eq!(
        connections_in_cloud(&w).await[0].0["ikepolicy"]["lifetime_seconds"],
        86400
    );
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(
        count(&w, NAME, DRIFT_DETECTED),
        1,
        "once, not per reconcile"
    );
    assert_eq!(w.calls("UpdateVpnConnection"), 1);

    // A field the cloud cannot change: reported, never touched.
    patch_in_cloud(&w, &id, json!({"ha_role": "slave"})).await;
    let writes = w.writes();
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("ImmutableFieldDrift"));
    assert_eq!(cond(&c, READY), yes("Available"));
    assert_eq!(c.status.unwrap().drift[0].field, "haRole");
    assert_eq!(w.writes(), writes);
    assert_eq!(count(&w, NAME, DRIFT_DETECTED), 2);
}

#[tokio::test]
async fn tags_change_through_the_tag_api_and_keep_the_owner_tags() {
    let w = World::start().await;
    ready_connection(&w).await;
    w.apply(connection(|c| {
        c.spec.tags = [("env".to_string(), "prod".to_string())].into();
    }));
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("UpdateVpnConnection"), 0, "tags are not in the PUT");
    let c = w.ready::<VpnConnection>(NAME).await;
    let tags = connections_in_cloud(&w).await[0].0["tags"].to_string();
    assert!(tags.contains("\"env\"") && tags.contains("prod"), "{tags}");
    assert!(tags.contains(TAG_UID) && tags.contains(TAG_OWNER), "{tags}");
    assert!(c.status.unwrap().drift.is_empty());
    let updated = w.events::<VpnConnection>(NAME).pop().unwrap();
    assert!(
        updated.reason == UPDATED && updated.message.ends_with(": tags"),
        "{updated:?}"
    );
}

/// A connection made "in the console" between the example's gateway and customer gateway.
async fn unowned_connection(w: &World, gw: &str, cgw: &str) -> String {
    let c = connection(|_| {});
    let gateway = ResolvedGateway {
        id: gw.into(),
        vgw_ip: "e0000000-0000-4000-8000-000000000001".into(),
        address: None,
    };
    let key = Psk::new(KEY.into());
    let body = desired_create(&c.spec, "legacy", &gateway, cgw, Some(&key), Vec::new());
    let made = w
        .console()
        .create_connection(&body)
        .await
        .expect("a connection");
    w.advance(secs(2));
    made.id
}

#[tokio::test]
async fn adoption_takes_an_unowned_connection_and_refuses_another_objects() {
    let w = World::start().await;
    let (gw, cgw) = references(&w).await;
    let made = unowned_connection(&w, &gw, &cgw).await;
    w.apply(connection(|c| c.spec.cloud_id = Some(made.clone())));
    let c = w
        .until::<VpnConnection>(NAME, secs(1), 10, |c| {
            cond(c, READY) == yes("Available") && c.status.as_ref().unwrap().drift.is_empty()
        })
        .await;
    assert_eq!(cloud_id(&c), made);
    let adopted = w
        .events::<VpnConnection>(NAME)
        .into_iter()
        .find(|n| n.reason == ADOPTED)
        .expect("Adopted");
    assert_eq!(adopted.action, actions::ADOPT);
    assert_eq!(
        w.calls("CreateVpnConnection"),
        1,
        "only the console's create"
    );
    let cloud = connections_in_cloud(&w).await;
    assert_eq!(cloud.len(), 1);
    assert_eq!(cloud[0].0["name"], "office-link", "renamed to the spec");
    assert!(
        cloud[0].0["tags"].to_string().contains(TAG_UID),
        "now this object's"
    );
    assert_eq!(
        c.status.unwrap().psk_sha256.as_deref(),
        Some(psk_sha256(KEY).as_str()),
        "the cloud's key is unknown after adoption: the Secret's is sent"
    );

    // A second object naming the same connection is refused, and nothing is written.
    let writes = w.writes();
    w.apply(connection(|c| {
        c.metadata.name = Some("intruder".into());
        c.spec.cloud_id = Some(made.clone());
    }));
    w.reconcile::<VpnConnection>("intruder").await;
    w.reconcile::<VpnConnection>("intruder").await;
    let o = w.get::<VpnConnection>("intruder");
    assert_eq!(cond(&o, SYNCED), no("OwnershipConflict"));
    assert_eq!(
        cond(&o, READY),
        no("OwnershipConflict"),
        "Ready says why too"
    );
    let m = message(&o, SYNCED);
    assert!(
        m.contains("office-link") && m.contains("refusing to adopt"),
        "{m}"
    );
    assert!(o.status.unwrap().cloud_id.is_none(), "records nothing");
    assert_eq!(w.writes(), writes);
    // Deleting the intruder leaves the connection in place.
    w.delete::<VpnConnection>("intruder");
    w.reconcile::<VpnConnection>("intruder").await;
    assert!(w.try_get::<VpnConnection>("intruder").is_none());
    assert_eq!(count(&w, "intruder", NOT_DELETED), 1);
    assert_eq!(w.writes(), writes);
    assert_eq!(
        cond(&w.ready::<VpnConnection>(NAME).await, READY),
        yes("Available")
    );
}

#[tokio::test]
async fn a_lost_create_response_never_makes_a_second_connection() {
    let w = World::start().await;
    references(&w).await;
    w.fault(json!({"ops": ["CreateVpnConnection"], "fault": {"kind": "commit_then_504"}, "trigger": {"next": 1}}))
        .await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("CloudServerError"));
    assert_eq!(
        cond(&c, READY),
        no("CloudServerError"),
        "no Ready yet: it says why"
    );
    assert_eq!(
        connections_in_cloud(&w).await.len(),
        1,
        "the create was committed"
    );
    let c = w.ready::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("CreateVpnConnection"), 1);
    let cloud = connections_in_cloud(&w).await;
    assert_eq!(cloud.len(), 1);
    assert_eq!(cloud[0].0["id"].as_str(), Some(cloud_id(&c).as_str()));
    assert_eq!(count(&w, NAME, RECOVERED), 1);
}

#[tokio::test]
async fn a_connection_gone_from_the_cloud_is_searched_for_then_recreated_with_a_warning() {
    let w = World::start().await;
    let c = ready_connection(&w).await;
    let old = cloud_id(&c);
    w.admin(
        "DELETE",
        &format!("/projects/{PROJECT}/vpn-connections/{old}"),
        Value::Null,
    )
    .await;
    let lists = w.calls("ListVpnConnections");
    w.reconcile::<VpnConnection>(NAME).await;
    assert!(
        w.calls("ListVpnConnections") > lists,
        "searched by owner tag first"
    );
    let recreating = w
        .events::<VpnConnection>(NAME)
        .into_iter()
        .find(|n| n.reason == RECREATING)
        .expect("a Recreating warning");
    assert!(recreating.warning && recreating.message.contains(&old));
    assert_eq!(recreating.action, actions::CREATE);
    let c = w.get::<VpnConnection>(NAME);
    let new = cloud_id(&c);
    assert_ne!(new, old);
    assert_eq!(cond(&c, READY), no("Creating"));
    assert_eq!(
        message(&c, READY),
        format!("connection {old} no longer exists in the cloud; created {new} to replace it")
    );
    w.ready::<VpnConnection>(NAME).await;
    assert_eq!(connections_in_cloud(&w).await.len(), 1);
    assert_eq!(w.calls("CreateVpnConnection"), 2);
}

#[tokio::test]
async fn a_busy_gateway_is_retried_and_throttling_waits_for_retry_after() {
    let w = World::start().await;
    references(&w).await;
    w.fault(
        json!({"ops": ["CreateVpnConnection"], "fault": {"kind": "busy"}, "trigger": {"next": 1}}),
    )
    .await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("CloudBusy"));
    let warning = w.events::<VpnConnection>(NAME).pop().unwrap();
    assert!(
        warning.warning && warning.reason == "CloudBusy" && warning.action == actions::RECONCILE
    );
    let c = w.ready::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("CreateVpnConnection"), 2);
    assert_eq!(connections_in_cloud(&w).await.len(), 1);

    w.fault(
        json!({"ops": ["UpdateVpnConnection"], "fault": {"kind": "busy"}, "trigger": {"next": 1}}),
    )
    .await;
    let mut changed = c.clone();
    changed.spec.peer_subnets.push("172.17.0.0/16".into());
    w.apply(changed);
    let first = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("CloudBusy"));
    assert_eq!(
        cond(&c, READY),
        yes("Available"),
        "still usable while the change waits"
    );
    let second = w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("UpdateVpnConnection"), 2);
    assert_ne!(first, second);
    assert_eq!(
        cond(&w.get::<VpnConnection>(NAME), SYNCED),
        yes("ReconcileSuccess")
    );
    w.ready::<VpnConnection>(NAME).await;

    // 429 with Retry-After: the object waits at least that long.
    w.fault(json!({"ops": ["ListVpnConnections", "ShowVpnConnection"], "fault": {"kind": "throttle", "retry_after_secs": 42}, "trigger": {"next": 2}}))
        .await;
    let action = w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(cond(&w.get::<VpnConnection>(NAME), SYNCED), no("Throttled"));
    assert_eq!(action, Action::requeue(secs(42)));
}

#[tokio::test]
async fn refused_credentials_are_read_again_once_the_secret_is_fixed() {
    let w = World::start().await;
    references(&w).await;
    w.put_secret("team-creds", &[("accessKey", AK), ("secretKey", "wrong")]);
    w.apply(connection(|c| {
        c.spec.cloud = Some(
            serde_json::from_value(json!({"credentialsSecretRef": {"name": "team-creds"}}))
                .unwrap(),
        );
    }));
    w.reconcile::<VpnConnection>(NAME).await;
    let action = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("AuthFailed"));
    assert_eq!(cond(&c, READY), no("AuthFailed"));
    assert!(
        !message(&c, SYNCED).contains("wrong"),
        "the SK is never shown"
    );
    assert_eq!(action, Action::requeue(secs(300)), "terminal: slow retry");
    w.put_secret("team-creds", &[("accessKey", AK), ("secretKey", SK)]);
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(
        w.calls("CreateVpnConnection"),
        1,
        "the fixed Secret is used at once"
    );
    w.ready::<VpnConnection>(NAME).await;
}

#[tokio::test]
async fn a_bad_psk_secret_blocks_the_connection_and_never_shows_the_key() {
    let w = World::start().await;
    references(&w).await;
    w.put_secret("office-psk", &[("other", KEY)]);
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("SecretNotReady"));
    assert_eq!(cond(&c, READY), no("SecretNotReady"));
    assert_eq!(message(&c, READY), message(&c, SYNCED));
    assert!(
        message(&c, SYNCED).contains("office-psk")
            && message(&c, SYNCED).contains("has no key \"psk\"")
    );
    assert_eq!(w.calls("CreateVpnConnection"), 0);

    let short = "Sh0rt!";
    w.put_secret("office-psk", &[("psk", short)]);
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("SecretNotReady"));
    assert!(
        message(&c, SYNCED).contains("8-128 characters"),
        "{}",
        message(&c, SYNCED)
    );
    let everything = format!(
        "{}{:?}",
        serde_json::to_string(&c).unwrap(),
        w.kube().events()
    );
    assert!(!everything.contains(short), "the key leaked: {everything}");
    assert_eq!(w.calls("CreateVpnConnection"), 0);

    // Fixed: created at once.
    w.put_secret("office-psk", &[("psk", KEY)]);
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("CreateVpnConnection"), 1);
    w.ready::<VpnConnection>(NAME).await;
}

#[tokio::test]
async fn the_wrong_kind_of_gateway_address_is_an_invalid_spec_on_both_conditions() {
    let w = World::start().await;
    references(&w).await;
    w.apply(connection(|c| {
        c.spec.gateway_ip = serde_json::from_value(json!("accessPrivateIp1")).unwrap()
    }));
    w.reconcile::<VpnConnection>(NAME).await;
    let action = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("InvalidSpec"));
    assert_eq!(cond(&c, READY), no("InvalidSpec"));
    assert_eq!(message(&c, READY), message(&c, SYNCED));
    assert!(
        message(&c, READY).contains("use eip1 or eip2"),
        "{}",
        message(&c, READY)
    );
    assert_eq!(action, Action::requeue(secs(300)));
    assert_eq!(w.calls("CreateVpnConnection"), 0);
}

#[tokio::test]
async fn an_existing_connection_keeps_its_settings_while_a_reference_is_not_ready() {
    let w = World::start().await;
    ready_connection(&w).await;
    // The customer gateway object stops being Ready (e.g. it is being changed).
    let mut cgw = w.get::<CustomerGateway>("office-router");
    let busy = Cond::no("CloudBusy", "");
    let status = cgw.status.as_mut().unwrap();
    set(
        &mut status.conditions,
        &w.ctx.clock.now(),
        READY,
        busy,
        Some(1),
    );
    with_status(&w, cgw);
    let writes = w.writes();
    let action = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(
        cond(&c, READY),
        yes("Available"),
        "the tunnel is still there"
    );
    assert_eq!(cond(&c, SYNCED), no("DependencyNotReady"));
    assert!(
        message(&c, SYNCED).contains("CustomerGateway office-router is not Ready yet (CloudBusy)")
    );
    assert_eq!(w.writes(), writes, "nothing changed in the cloud");
    assert_eq!(
        action,
        Action::requeue(secs(10)),
        "woken by the customer gateway"
    );
}

#[tokio::test]
async fn a_gateway_named_by_cloud_id_is_waited_for_in_the_cloud() {
    let w = World::start().await;
    w.put_secret("office-psk", &[("psk", KEY)]);
    let cgw = customer_gateway(&w, "office-router", "203.0.113.10").await;
    let body = serde_json::from_value(json!({
        "name": "console-gw", "vpc_id": "a0000000-0000-4000-8000-000000000001",
        "connect_subnet": "b0000000-0000-4000-8000-000000000001",
        "local_subnets": ["192.168.0.0/24"],
        "eip1": {"id": "e0000000-0000-4000-8000-000000000001"},
        "eip2": {"id": "e0000000-0000-4000-8000-000000000002"}
    }))
    .unwrap();
    let gw = w.console().create_gateway(&body).await.expect("a gateway");
    w.apply(connection(|c| {
        c.spec.vpn_gateway_ref = serde_json::from_value(json!({"cloudId": gw.id})).unwrap();
        c.spec.customer_gateway_ref = serde_json::from_value(json!({"cloudId": cgw})).unwrap();
    }));
    w.reconcile::<VpnConnection>(NAME).await;
    let action = w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, READY), no("DependencyNotReady"));
    assert!(
        message(&c, READY).contains("is not ACTIVE yet (PENDING_CREATE)"),
        "{}",
        message(&c, READY)
    );
    assert_eq!(
        action,
        Action::requeue(secs(1)),
        "no watch wakes it: polled"
    );
    w.advance(secs(2));
    let c = w.ready::<VpnConnection>(NAME).await;
    let s = c.status.unwrap();
    assert_eq!(s.vpn_gateway_id.as_deref(), Some(gw.id.as_str()));
    assert_eq!(s.gateway_address.as_deref(), Some("198.51.100.11"));
}

#[tokio::test]
async fn observe_only_reads_reports_drift_and_never_writes() {
    let w = World::start().await;
    let owner = ready_connection(&w).await;
    let writes = w.writes();
    w.apply(connection(|c| {
        c.metadata.name = Some("watch-conn".into());
        c.spec.cloud_id = Some(cloud_id(&owner));
        c.spec.management_policy = crate::crd::common::ManagementPolicy::Observe;
        c.spec.ipsec_policy.as_mut().unwrap().lifetime_seconds = Some(7200);
    }));
    let o = w.ready::<VpnConnection>("watch-conn").await;
    assert_eq!(cond(&o, SYNCED), yes("ObserveOnly"));
    assert_eq!(cloud_id(&o), cloud_id(&owner));
    let drift = &o.status.as_ref().unwrap().drift;
    assert!(
        drift
            .iter()
            .any(|d| d.field == "ipsecPolicy.lifetimeSeconds"),
        "{drift:?}"
    );
    let note = w
        .events::<VpnConnection>("watch-conn")
        .into_iter()
        .find(|n| n.reason == DRIFT_DETECTED)
        .expect("DriftDetected");
    assert!(
        note.message
            .ends_with("(not corrected: managementPolicy is Observe)"),
        "{}",
        note.message
    );
    assert!(
        o.status.unwrap().psk_sha256.is_none(),
        "the key is not read"
    );
    w.delete::<VpnConnection>("watch-conn");
    w.reconcile::<VpnConnection>("watch-conn").await;
    assert!(w.try_get::<VpnConnection>("watch-conn").is_none());
    assert_eq!(w.writes(), writes, "observing never writes");
    assert_eq!(connections_in_cloud(&w).await.len(), 1);
    assert_eq!(
        cond(&w.ready::<VpnConnection>(NAME).await, SYNCED),
        yes("ReconcileSuccess")
    );
}

#[tokio::test]
async fn pause_stops_every_cloud_call_deletion_included() {
    let w = World::start().await;
    references(&w).await;
    let calls = w.all_calls();
    let paused = |mut c: VpnConnection| {
        c.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(PAUSED_ANNOTATION.into(), "true".into());
        c
    };
    w.apply(paused(connection(|_| {})));
    assert_eq!(
        w.reconcile::<VpnConnection>(NAME).await,
        Action::await_change()
    );
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("Paused"));
    assert_eq!(
        cond(&c, READY),
        no("Paused"),
        "nothing was made: Ready says why"
    );
    assert_eq!(w.all_calls(), calls);

    // Resumed: created; paused again: a spec change, a new key and a delete wait.
    w.apply(connection(|_| {}));
    let c = w.ready::<VpnConnection>(NAME).await;
    let mut changed = paused(c);
    changed.spec.peer_subnets.push("172.17.0.0/16".into());
    w.apply(changed);
    w.put_secret("office-psk", &[("psk", "Rotated-Psk-2026b")]);
    w.delete::<VpnConnection>(NAME);
    let calls = w.all_calls();
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.all_calls(), calls);
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), no("Paused"));
    assert_eq!(
        cond(&c, READY),
        yes("Available"),
        "the connection is still there and usable"
    );
    assert_eq!(connections_in_cloud(&w).await[0].1, psk_sha256(KEY));
}

#[tokio::test]
async fn orphan_leaves_the_connection_and_it_can_be_adopted_again_by_cloud_ids() {
    let w = World::start().await;
    let (gw, cgw) = references(&w).await;
    w.apply(connection(|c| {
        c.spec.deletion_policy = crate::crd::common::DeletionPolicy::Orphan
    }));
    let c = w.ready::<VpnConnection>(NAME).await;
    let id = cloud_id(&c);
    w.delete::<VpnConnection>(NAME);
    w.reconcile::<VpnConnection>(NAME).await;
    assert!(w.try_get::<VpnConnection>(NAME).is_none());
    assert_eq!(w.calls("DeleteVpnConnection"), 0);
    assert_eq!(
        w.event_reasons::<VpnConnection>(NAME).last().unwrap(),
        "Orphaned"
    );
    let left = connections_in_cloud(&w).await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].0["status"], "ACTIVE",
        "the orphaned tunnel keeps running"
    );
    let tags = left[0].0["tags"].to_string();
    assert!(
        !tags.contains(TAG_UID) && !tags.contains(TAG_OWNER),
        "{tags}"
    );

    // Released: another object adopts it, naming everything by cloud id; deleting that
    // object (default policy) deletes the connection.
    w.apply(connection(|c| {
        c.metadata.name = Some("again".into());
        c.spec.cloud_id = Some(id.clone());
        c.spec.vpn_gateway_ref = serde_json::from_value(json!({"cloudId": gw})).unwrap();
        c.spec.customer_gateway_ref = serde_json::from_value(json!({"cloudId": cgw})).unwrap();
    }));
    let a = w.ready::<VpnConnection>("again").await;
    assert_eq!(cloud_id(&a), id);
    assert_eq!(count(&w, "again", ADOPTED), 1);
    assert_eq!(
        a.status.unwrap().gateway_address.as_deref(),
        Some("198.51.100.11")
    );
    w.delete::<VpnConnection>("again");
    until_gone(&w, "again").await;
    assert!(connections_in_cloud(&w).await.is_empty());
}

#[tokio::test]
async fn every_event_uses_the_shared_vocabulary() {
    let w = World::start().await;
    ready_connection(&w).await;
    w.apply(connection(|c| {
        c.spec.health_check = Some(serde_json::from_value(json!({"enabled": true})).unwrap())
    }));
    w.until::<VpnConnection>(NAME, secs(1), 10, |c| {
        c.status.as_ref().unwrap().monitor_state.as_deref() == Some("ACTIVE")
    })
    .await;
    w.delete::<VpnConnection>(NAME);
    until_gone(&w, NAME).await;
    let events = w.events::<VpnConnection>(NAME);
    assert!(events.len() >= 4, "{events:?}");
    for e in events {
        assert!(actions::ALL.contains(&e.action.as_str()), "{e:?}");
    }
}

#[tokio::test]
async fn per_object_cloud_settings_reach_another_project() {
    const P2: &str = "0c1a55f0000000000000000000000002";
    const AK2: &str = "CLUSTERFREEACCESSKEY2";
    const SK2: &str = "cluster-free-secret-key-2";
    let w = World::with(|c| c.with_project(crate::sim::ProjectConfig::new(P2, AK2, SK2))).await;
    w.put_secret("office-psk", &[("psk", KEY)]);
    w.put_secret(
        "project2-credentials",
        &[("accessKey", AK2), ("secretKey", SK2)],
    );
    let elsewhere: crate::crd::common::CloudSettings = serde_json::from_value(json!({
        "projectId": P2, "credentialsSecretRef": {"name": "project2-credentials"}
    }))
    .unwrap();
    let mut gw: VpnGateway = serde_yaml::from_str(GATEWAY).unwrap();
    gw.spec.cloud = Some(elsewhere.clone());
    w.apply(gw);
    w.ready::<VpnGateway>("edge-gateway").await;
    let mut cfg = ClientConfig::new(
        w.sim.base_url().parse().unwrap(),
        P2,
        Credentials::aksk(AK2, SK2),
    );
    cfg.retry = RetryPolicy::none();
    let project2 = VpnClient::new(ApiClient::new(cfg).unwrap());
    customer_gateway_in(&w, &project2, "office-router", "203.0.113.10").await;
    w.apply(connection(|c| c.spec.cloud = Some(elsewhere)));
    let c = w.ready::<VpnConnection>(NAME).await;
    let in_project = |p: Value| p["vpn_connections"].as_array().cloned().unwrap_or_default();
    let two = in_project(
        w.admin("GET", &format!("/projects/{P2}"), Value::Null)
            .await,
    );
    assert_eq!(two.len(), 1);
    assert_eq!(
        two[0]["vpn_connection"]["id"].as_str(),
        Some(cloud_id(&c).as_str())
    );
    assert!(
        connections_in_cloud(&w).await.is_empty(),
        "nothing in the default project"
    );

    // Deletion goes to the right project too.
    w.delete::<VpnConnection>(NAME);
    until_gone(&w, NAME).await;
    let two = in_project(
        w.admin("GET", &format!("/projects/{P2}"), Value::Null)
            .await,
    );
    assert!(two.is_empty());
}

/// The simulator with connections ACTIVE as soon as they are made, so that the time to Ready is
/// the operator's alone.
async fn instant_connections() -> World {
    World::with(|c| {
        c.with_delays(crate::sim::Delays {
            connection_create: Duration::ZERO,
            ..crate::sim::Delays::uniform(secs(1))
        })
    })
    .await
}

/// Reconciles the connection as its controller would, the clock jumping to each requeue, until
/// it is Ready; returns how much clock that took.
async fn clock_until_ready(w: &World) -> Duration {
    let start = w.ctx.clock.now();
    for _ in 0..30 {
        let after = w.reconcile_after::<VpnConnection>(NAME).await;
        if cond(&w.get::<VpnConnection>(NAME), READY).0 == "True" {
            return crate::controller::runtime::clock::elapsed(&start, &w.ctx.clock.now());
        }
        // `None`: woken by its own change (the finalizer).
        w.advance(after.unwrap_or_default());
    }
    panic!("not Ready: {:?}", w.get::<VpnConnection>(NAME).status);
}

fn create_faults(kinds: &[&str]) -> Vec<Value> {
    kinds
        .iter()
        .map(|k| json!({"ops": ["CreateVpnConnection"], "fault": {"kind": k}, "trigger": {"next": 1}}))
        .collect()
}

#[tokio::test]
async fn a_connection_whose_create_answer_was_lost_is_ready_at_the_next_look_without_a_second_write(
) {
    for lost in ["drop_response", "commit_then_504"] {
        // Two creates refused with 500 first: the backoff has grown to 4 s when the answer of
        // the third, which the cloud carried out, is lost.
        let w = instant_connections().await;
        references(&w).await;
        for f in create_faults(&["server_error", "server_error", lost]) {
            w.fault(f).await;
        }
        w.apply_yaml::<VpnConnection>(CONNECTION);
        let took = clock_until_ready(&w).await;
        // 1 s + 2 s of backoff between the creates, then one look at the pending pace (1 s):
        // the resource is not left unreported for the 4 s backoff, and the key it was made
        // with is not sent again (an update would renegotiate the connection before Ready).
        assert!(took <= secs(5), "{lost}: Ready after {took:?}");
        assert_eq!(w.calls("CreateVpnConnection"), 3, "{lost}");
        assert_eq!(
            w.calls("UpdateVpnConnection"),
            0,
            "{lost}: the key is not sent again"
        );
        let cloud = connections_in_cloud(&w).await;
        assert_eq!(cloud.len(), 1, "{lost}: exactly one connection");
        let c = w.get::<VpnConnection>(NAME);
        assert_eq!(cloud[0].0["id"].as_str(), Some(cloud_id(&c).as_str()));
        assert_eq!(
            cloud[0].1,
            psk_sha256(KEY),
            "{lost}: made with the Secret's key"
        );
        assert_eq!(
            c.status.as_ref().and_then(|s| s.psk_sha256.clone()),
            Some(psk_sha256(KEY))
        );
        assert_eq!(cond(&c, SYNCED), yes("ReconcileSuccess"), "{lost}");
    }
}

#[tokio::test]
async fn a_key_changed_after_a_lost_create_answer_is_sent_once_the_connection_is_found() {
    let w = instant_connections().await;
    references(&w).await;
    for f in create_faults(&["drop_response"]) {
        w.fault(f).await;
    }
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(cond(&w.get::<VpnConnection>(NAME), SYNCED).0, "False");
    w.put_secret("office-psk", &[("psk", "Rotated-Psk-2026")]);
    w.until::<VpnConnection>(NAME, secs(1), 20, |c| {
        c.status
            .as_ref()
            .is_some_and(|s| s.psk_sha256.as_deref() == Some(&psk_sha256("Rotated-Psk-2026")))
    })
    .await;
    assert_eq!(w.calls("CreateVpnConnection"), 1);
    assert_eq!(w.calls("UpdateVpnConnection"), 1, "the new key is sent");
    let cloud = connections_in_cloud(&w).await;
    assert_eq!(cloud.len(), 1);
    assert_eq!(cloud[0].1, psk_sha256("Rotated-Psk-2026"));
}

#[tokio::test]
async fn a_failing_cloud_sees_creates_only_as_the_backoff_allows_while_the_object_looks_sooner() {
    let w = instant_connections().await;
    references(&w).await;
    w.fault(json!({"ops": ["CreateVpnConnection"], "fault": {"kind": "server_error"}, "trigger": "always"}))
        .await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    let lists = w.calls("ListVpnConnections");
    let start = w.ctx.clock.now();
    let mut reconciles = 0;
    while crate::controller::runtime::clock::elapsed(&start, &w.ctx.clock.now()) < secs(30) {
        let after = w.reconcile_after::<VpnConnection>(NAME).await;
        reconciles += 1;
        w.advance(after.unwrap_or_default());
    }
    // Backoff 1, 2, 4, 8, 16 s (less up to 20 % jitter): at most 6 creates in 30 s.
    let creates = w.calls("CreateVpnConnection");
    assert!((4..=6).contains(&creates), "{creates} creates in 30 s");
    assert!(
        reconciles > creates as usize + 2,
        "it looks between the writes: {reconciles} reconciles"
    );
    assert!(w.calls("ListVpnConnections") > lists);
    assert!(connections_in_cloud(&w).await.is_empty());
}
