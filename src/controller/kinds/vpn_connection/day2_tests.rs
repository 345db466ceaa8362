//! Whole reconciles of a connection's day-2 operations without a cluster: resets on request
//! (once per value, refused while pending), the quota check before a create, and the tunnel
//! metric.
use std::time::Duration;

use serde_json::json;

use crate::controller::runtime::testing::{cond, World, PROJECT};
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::vpn_connection::ResetResult;
use crate::crd::{CustomerGateway, VpnConnection, VpnGateway, RESET_ANNOTATION};

const GATEWAY: &str = include_str!("../../../../examples/vpngateway.yaml");
const CUSTOMER_GATEWAY: &str = include_str!("../../../../examples/customergateway.yaml");
const CONNECTION: &str = include_str!("../../../../examples/vpnconnection.yaml");
const NAME: &str = "office-link";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn count(w: &World, reason: &str) -> usize {
    w.event_reasons::<VpnConnection>(NAME)
        .iter()
        .filter(|r| *r == reason)
        .count()
}

async fn references(w: &World) {
    w.put_secret("office-psk", &[("psk", "Example-Psk-2026")]);
    w.apply_yaml::<VpnGateway>(GATEWAY);
    w.ready::<VpnGateway>("edge-gateway").await;
    w.apply_yaml::<CustomerGateway>(CUSTOMER_GATEWAY);
    w.ready::<CustomerGateway>("office-router").await;
}

fn request_reset(w: &World, value: &str) {
    let mut c = w.get::<VpnConnection>(NAME);
    c.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(RESET_ANNOTATION.into(), value.into());
    w.apply(c);
}

fn last_reset(w: &World) -> crate::crd::vpn_connection::ResetStatus {
    w.get::<VpnConnection>(NAME)
        .status
        .and_then(|s| s.last_reset)
        .expect("a recorded reset")
}

#[tokio::test]
async fn a_reset_is_made_once_per_requested_value_and_refused_while_pending() {
    let w = World::start().await;
    references(&w).await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    let c = w.ready::<VpnConnection>(NAME).await;
    let id = c.status.and_then(|s| s.cloud_id).unwrap();
    let first = "2026-05-01T10:00:00Z";
    request_reset(&w, first);
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("ResetVpnConnection"), 1);
    let r = last_reset(&w);
    assert_eq!(
        (r.requested_at.as_str(), r.result),
        (first, ResetResult::Reset)
    );
    assert_eq!(count(&w, "ConnectionReset"), 1);
    assert_eq!(
        cond(&w.get::<VpnConnection>(NAME), READY).0,
        "False",
        "negotiating again"
    );
    // The same value, however often it is reconciled: no second call.
    w.ready::<VpnConnection>(NAME).await;
    request_reset(&w, first);
    for _ in 0..3 {
        w.advance(secs(5));
        w.reconcile::<VpnConnection>(NAME).await;
    }
    assert_eq!(w.calls("ResetVpnConnection"), 1);
    // A new value: a second call.
    request_reset(&w, "2026-05-01T11:00:00Z");
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("ResetVpnConnection"), 2);
    w.ready::<VpnConnection>(NAME).await;
    // While PENDING_*: refused with a reason, nothing called, recorded as handled.
    let path = format!("/projects/{PROJECT}/vpn-connections/{id}/status");
    w.admin("POST", &path, json!({"status": "PENDING_UPDATE"}))
        .await;
    request_reset(&w, "2026-05-01T12:00:00Z");
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("ResetVpnConnection"), 2);
    let r = last_reset(&w);
    assert_eq!(r.result, ResetResult::Refused);
    assert!(r.message.unwrap().contains("PENDING_UPDATE"));
    assert_eq!(count(&w, "ResetRefused"), 1);
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(
        cond(&c, SYNCED).0,
        "True",
        "a refused request is not a failure"
    );
}

#[tokio::test]
async fn a_full_connection_quota_is_reported_without_a_create_call() {
    let w = World::start().await;
    let mut world = w
        .admin("GET", &format!("/projects/{PROJECT}/world"), json!(null))
        .await;
    world["quotas"]["vpn_connection"] = json!(0);
    w.admin("PUT", &format!("/projects/{PROJECT}/world"), world)
        .await;
    references(&w).await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    w.reconcile::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), ("False".into(), "QuotaExceeded".into()));
    let msg = crate::controller::runtime::testing::condition(&c, SYNCED)
        .unwrap()
        .message;
    assert!(
        msg.contains("used 0 of 0") && msg.contains("vpn_connection"),
        "{msg}"
    );
    assert_eq!(w.calls("CreateVpnConnection"), 0);
}

#[tokio::test]
async fn the_tunnel_metric_follows_the_connection_and_goes_with_it() {
    let w = World::start().await;
    references(&w).await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    let c = w.ready::<VpnConnection>(NAME).await;
    let id = c.status.and_then(|s| s.cloud_id).unwrap();
    let series = r#"vpn_operator_tunnel_up{namespace="team-a",name="office-link"}"#;
    let value = |w: &World| {
        w.ctx
            .metrics
            .encode_text()
            .lines()
            .find(|l| l.starts_with(series))
            .map(|l| l.rsplit(' ').next().unwrap().to_string())
    };
    assert_eq!(value(&w).as_deref(), Some("1"));
    let path = format!("/projects/{PROJECT}/vpn-connections/{id}/status");
    w.admin("POST", &path, json!({"status": "DOWN"})).await;
    w.advance(secs(600));
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(value(&w).as_deref(), Some("0"));
    let text = w.ctx.metrics.encode_text();
    assert!(
        text.contains(r#"vpn_operator_objects{kind="VpnConnection",ready="true"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"vpn_operator_time_to_ready_seconds_count{kind="VpnConnection"} 1"#),
        "{text}"
    );
    w.delete::<VpnConnection>(NAME);
    for _ in 0..5 {
        w.advance(secs(3));
        w.reconcile::<VpnConnection>(NAME).await;
        if w.try_get::<VpnConnection>(NAME).is_none() {
            break;
        }
    }
    assert!(w.try_get::<VpnConnection>(NAME).is_none());
    assert_eq!(value(&w), None, "the series goes with the object");
    let text = w.ctx.metrics.encode_text();
    assert!(
        text.contains(r#"vpn_operator_objects{kind="VpnConnection",ready="true"} 0"#),
        "{text}"
    );
}
