//! Scenarios across kinds, without a cluster: the objects run as their controllers would run
//! them ([`World::run`]: each reconciled when its requeue is due, on a simulated clock), against
//! the simulator with its fault injection. What these prove used to need minutes of real time
//! (backoff, cooldowns); here the clock jumps.
use std::time::Duration;

use serde_json::json;

use crate::controller::runtime::testing::{cond, scheduled, World};
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::{CustomerGateway, VpnConnection, VpnGateway};
use crate::sim::faults::{FaultConfig, FaultKind, FaultRule, Trigger};

const GATEWAY: &str = include_str!("../../examples/vpngateway.yaml");
const CUSTOMER_GATEWAY: &str = include_str!("../../examples/customergateway.yaml");
const CONNECTION: &str = include_str!("../../examples/vpnconnection.yaml");
const PSK: &str = "Example-Psk-2026";

/// A gateway, a customer gateway and a connection between them, named with `suffix`, on the
/// default world's EIPs `eips` and peer address `peer`.
fn trio(
    w: &World,
    suffix: &str,
    eips: [u32; 2],
    peer: &str,
) -> Vec<crate::controller::runtime::testing::Scheduled> {
    let mut gw: VpnGateway = serde_yaml::from_str(GATEWAY).unwrap();
    gw.metadata.name = Some(format!("gw-{suffix}"));
    gw.spec.name = None;
    gw.spec.eip1.as_mut().unwrap().id =
        Some(format!("e0000000-0000-4000-8000-00000000000{}", eips[0]));
    gw.spec.eip2.as_mut().unwrap().id =
        Some(format!("e0000000-0000-4000-8000-00000000000{}", eips[1]));
    let mut cgw: CustomerGateway = serde_yaml::from_str(CUSTOMER_GATEWAY).unwrap();
    cgw.metadata.name = Some(format!("cgw-{suffix}"));
    cgw.spec.name = None;
    cgw.spec.id_value = peer.into();
    let mut conn: VpnConnection = serde_yaml::from_str(CONNECTION).unwrap();
    conn.metadata.name = Some(format!("conn-{suffix}"));
    conn.spec.name = None;
    conn.spec.vpn_gateway_ref.name = Some(format!("gw-{suffix}"));
    conn.spec.customer_gateway_ref.name = Some(format!("cgw-{suffix}"));
    w.apply(gw);
    w.apply(cgw);
    w.apply(conn);
    vec![
        scheduled::<VpnGateway>(&format!("gw-{suffix}")),
        scheduled::<CustomerGateway>(&format!("cgw-{suffix}")),
        scheduled::<VpnConnection>(&format!("conn-{suffix}")),
    ]
}

fn all_ready(w: &World) -> bool {
    ["f1", "f2"].iter().all(|s| {
        cond(&w.get::<VpnGateway>(&format!("gw-{s}")), READY).0 == "True"
            && cond(&w.get::<CustomerGateway>(&format!("cgw-{s}")), READY).0 == "True"
            && cond(&w.get::<VpnConnection>(&format!("conn-{s}")), READY).0 == "True"
    })
}

#[tokio::test]
async fn random_faults_converge_without_a_retry_storm() {
    // One call in five fails: 429, 5xx, "busy", a timeout, or a response lost after the commit.
    let w = World::with(|c| {
        c.with_faults(FaultConfig {
            seed: 42,
            rules: vec![
                FaultRule::new(FaultKind::ServerError, Trigger::Probability(0.05)),
                FaultRule::new(FaultKind::Busy, Trigger::Probability(0.05)),
                FaultRule::new(
                    FaultKind::Throttle {
                        retry_after_secs: 1,
                    },
                    Trigger::Probability(0.05),
                ),
                FaultRule::new(FaultKind::CommitThen504, Trigger::Probability(0.05)),
            ],
        })
    })
    .await;
    w.put_secret("office-psk", &[("psk", PSK)]);
    let mut objects = trio(&w, "f1", [1, 2], "203.0.113.10");
    objects.extend(trio(&w, "f2", [3, 4], "203.0.113.11"));
    let reconciles = w.run(&objects, Duration::from_secs(600)).await;
    assert!(all_ready(&w), "every object converges");
    for s in ["f1", "f2"] {
        assert_eq!(
            cond(&w.get::<VpnGateway>(&format!("gw-{s}")), SYNCED),
            ("True".into(), "ReconcileSuccess".into())
        );
    }
    for kind in ["vpn_gateways", "customer_gateways", "vpn_connections"] {
        assert_eq!(
            w.cloud(kind).await.len(),
            2,
            "one {kind} per object, no duplicate"
        );
    }
    let calls = w.all_calls();
    let faults = w.faults_injected();
    let per_object = calls as f64 / objects.len() as f64;
    println!(
        "6 objects under faults: {reconciles} reconciles, {calls} calls, {faults} faults, \
         {per_object:.1} calls per object"
    );
    assert!(faults > 0, "faults were injected");
    // Without faults an object takes a handful of calls; a storm (retrying without backoff)
    // would make hundreds.
    assert!(per_object <= 25.0, "{per_object:.1} calls per object");
}

#[tokio::test]
async fn a_gateway_that_stays_busy_is_retried_with_growing_backoff() {
    let w = World::start().await;
    w.apply_yaml::<VpnGateway>(GATEWAY);
    let g = w.ready::<VpnGateway>("edge-gateway").await;
    w.fault(json!({"ops": ["UpdateVgw"], "fault": {"kind": "busy"}, "trigger": "always"}))
        .await;
    let mut changed = g.clone();
    changed.spec.local_subnets.push("192.168.6.0/24".into());
    w.apply(changed);
    let objects = [scheduled::<VpnGateway>("edge-gateway")];
    // A minute in which a retry loop without backoff would call hundreds of times.
    w.run(&objects, Duration::from_secs(60)).await;
    let busy = w.calls("UpdateVgw");
    assert_eq!(
        cond(&w.get::<VpnGateway>("edge-gateway"), SYNCED),
        ("False".into(), "CloudBusy".into())
    );
    assert!(
        (3..=8).contains(&busy),
        "backoff 1, 2, 4, 8, ... s: {busy} calls in a minute"
    );
    w.admin("DELETE", "/faults", json!(null)).await;
    w.run(&objects, Duration::from_secs(120)).await;
    let g = w.get::<VpnGateway>("edge-gateway");
    assert_eq!(cond(&g, READY), ("True".into(), "Available".into()));
    assert_eq!(cond(&g, SYNCED), ("True".into(), "ReconcileSuccess".into()));
}

#[tokio::test]
async fn refused_credentials_and_invalid_specs_wait_for_a_fix_without_a_retry_loop() {
    let w = World::start().await;
    w.put_secret(
        "creds",
        &[
            ("accessKey", crate::controller::runtime::testing::AK),
            ("secretKey", "a-wrong-secret-key"),
        ],
    );
    let creds = json!({"credentialsSecretRef": {"name": "creds"}});
    let mut gw: VpnGateway = serde_yaml::from_str(GATEWAY).unwrap();
    gw.spec.cloud = Some(serde_json::from_value(creds.clone()).unwrap());
    let mut cgw: CustomerGateway = serde_yaml::from_str(CUSTOMER_GATEWAY).unwrap();
    cgw.spec.cloud = Some(serde_json::from_value(creds).unwrap());
    w.apply(gw);
    w.apply(cgw);
    let objects = [
        scheduled::<VpnGateway>("edge-gateway"),
        scheduled::<CustomerGateway>("office-router"),
    ];
    // Two minutes: refused credentials are retried only slowly (a spec or Secret change, or
    // the terminal interval, brings the object back).
    w.run(&objects, Duration::from_secs(120)).await;
    assert!(
        w.all_calls() <= 2,
        "{} calls with refused credentials",
        w.all_calls()
    );
    for (obj, reason) in [
        (
            cond(&w.get::<VpnGateway>("edge-gateway"), SYNCED),
            "AuthFailed",
        ),
        (
            cond(&w.get::<CustomerGateway>("office-router"), READY),
            "AuthFailed",
        ),
    ] {
        assert_eq!(obj, ("False".into(), reason.into()));
    }
    let message = crate::controller::runtime::testing::condition(
        &w.get::<VpnGateway>("edge-gateway"),
        SYNCED,
    )
    .unwrap()
    .message;
    assert!(
        !message.contains("a-wrong-secret"),
        "the SK is never shown: {message}"
    );

    // An invalid request (a VPC that does not exist) is terminal too, until the spec changes.
    let mut bad: VpnGateway = serde_yaml::from_str(GATEWAY).unwrap();
    bad.metadata.name = Some("gw-bad".into());
    bad.spec.vpc_id = Some("a0000000-0000-4000-8000-00000000dead".into());
    bad.spec.eip1.as_mut().unwrap().id = Some("e0000000-0000-4000-8000-000000000003".into());
    bad.spec.eip2.as_mut().unwrap().id = Some("e0000000-0000-4000-8000-000000000004".into());
    w.apply(bad.clone());
    let bad_only = [scheduled::<VpnGateway>("gw-bad")];
    w.run(&bad_only, Duration::from_secs(120)).await;
    assert_eq!(w.calls("CreateVgw"), 1, "one create, not repeated");
    let g = w.get::<VpnGateway>("gw-bad");
    assert_eq!(cond(&g, SYNCED), ("False".into(), "InvalidSpec".into()));
    assert_eq!(cond(&g, READY), ("False".into(), "InvalidSpec".into()));
    bad.spec.vpc_id = Some("a0000000-0000-4000-8000-000000000001".into());
    w.apply(bad);
    w.run(&bad_only, Duration::from_secs(60)).await;
    let g = w.get::<VpnGateway>("gw-bad");
    assert_eq!(cond(&g, READY), ("True".into(), "Available".into()));
    assert_eq!(g.status.unwrap().observed_generation, Some(2));
}

/// Gateway `name` of the example, on the default world's EIPs `eips`.
fn gateway(w: &World, name: &str, eips: [u32; 2]) {
    let mut gw: VpnGateway = serde_yaml::from_str(GATEWAY).unwrap();
    gw.metadata.name = Some(name.into());
    gw.spec.name = None;
    gw.spec.eip1.as_mut().unwrap().id =
        Some(format!("e0000000-0000-4000-8000-00000000000{}", eips[0]));
    gw.spec.eip2.as_mut().unwrap().id =
        Some(format!("e0000000-0000-4000-8000-00000000000{}", eips[1]));
    w.apply(gw);
}

/// Waits (real time, at most `limit`) until the simulator has received `n` calls of `op`.
async fn calls_received(w: &World, op: &str, n: u64, limit: Duration) {
    let until = tokio::time::Instant::now() + limit;
    while w.calls(op) < n {
        assert!(
            tokio::time::Instant::now() < until,
            "{op}: {} calls, expected {n}",
            w.calls(op)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_hung_list_holds_up_no_other_gateway() {
    let w = World::start().await;
    gateway(&w, "gw-a", [1, 2]);
    gateway(&w, "gw-b", [3, 4]);
    for name in ["gw-a", "gw-b"] {
        w.until::<VpnGateway>(name, Duration::ZERO, 5, |g| {
            g.status.as_ref().is_some_and(|s| s.cloud_id.is_some())
        })
        .await;
    }
    // Both gateways turn ACTIVE in the cloud; then the next gateway list hangs for a minute
    // (past the operator's 10 s read timeout in this world).
    w.advance(Duration::from_secs(2));
    w.fault(
        json!({"ops": ["ListVgws"], "fault": {"kind": "timeout", "ms": 60_000},
                   "trigger": {"next": 1}}),
    )
    .await;
    let lists = w.calls("ListVgws");
    let started = tokio::time::Instant::now();
    // gw-a's reconcile makes the list that hangs; gw-b's comes while it hangs.
    let a = async {
        w.reconcile::<VpnGateway>("gw-a").await;
        started.elapsed()
    };
    let b = async {
        calls_received(&w, "ListVgws", lists + 1, Duration::from_secs(5)).await;
        w.reconcile::<VpnGateway>("gw-b").await;
        started.elapsed()
    };
    let (a, b) = tokio::join!(a, b);
    // Before: both waited for the hung list to time out (10 s here, 30 s in the operator).
    // Now: after about a second (4 times the usual list, at least 1 s) a second list starts
    // beside it, and its answer serves both.
    for (name, took) in [("gw-a", a), ("gw-b", b)] {
        assert!(took < Duration::from_secs(3), "{name} took {took:?}");
        assert_eq!(
            cond(&w.get::<VpnGateway>(name), READY),
            ("True".into(), "Available".into()),
            "{name}"
        );
    }
    assert_eq!(w.calls("ListVgws"), lists + 2, "the hung list and one more");
}

/// Calls of cloud operation `op` in the world's project (the simulator's counters by project).
fn project_calls(w: &World, op: &str) -> u64 {
    crate::sim::server::lock(&w.sim.state().counters)
        .project_calls(crate::controller::runtime::testing::PROJECT, op)
}

/// The `unobserved_objects` gauge of `kind` on the context's metrics page.
fn unobserved(w: &World, kind: &str) -> Option<i64> {
    let prefix = format!("vpn_operator_unobserved_objects{{kind=\"{kind}\"}} ");
    w.ctx
        .metrics
        .encode_text()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
}

/// A restart at rest: the new process re-observes every object from one list per kind and
/// writes nothing, neither to the cloud nor to Kubernetes. The two trios name the same
/// peer-config Secret, so `conn-f2` reports `PeerConfigConflict`: a condition reported before
/// keeps its transition time (a status rewritten with a new time on every reconcile was one of
/// the writes this test found). A gateway's connection count changes after its last
/// reconcile, so the old process re-observes once first (its resync at rest).
#[tokio::test]
async fn a_new_process_over_ready_objects_writes_nothing_and_lists_each_kind_once() {
    let mut w = World::start().await;
    w.put_secret("office-psk", &[("psk", PSK)]);
    let mut objects = trio(&w, "f1", [1, 2], "203.0.113.10");
    objects.extend(trio(&w, "f2", [3, 4], "203.0.113.11"));
    w.run(&objects, Duration::from_secs(600)).await;
    assert!(all_ready(&w), "every object converges before the restart");
    let conflict = w.get::<VpnConnection>("conn-f2").status.and_then(|s| {
        crate::crd::common::find_condition(&s.conditions, "Synced").map(|c| c.reason.clone())
    });
    assert_eq!(conflict.as_deref(), Some("PeerConfigConflict"));
    // At rest the old process re-observes everything once (its resync): the gateways learn
    // their connection count, which changed after their last reconcile.
    w.advance(Duration::from_secs(60));
    for s in ["f1", "f2"] {
        w.reconcile::<VpnGateway>(&format!("gw-{s}")).await;
        w.reconcile::<CustomerGateway>(&format!("cgw-{s}")).await;
        w.reconcile::<VpnConnection>(&format!("conn-{s}")).await;
    }
    // The old process dies some time after its last reconcile.
    w.advance(Duration::from_secs(120));

    w.restart();
    // The new process shares its list snapshots between reconciles, as the operator does.
    w.keep_snapshots
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (kube_writes, cloud_writes) = (w.kube().writes(), w.writes());
    let lists = ["ListVgws", "ListCgws", "ListVpnConnections"];
    let lists_before: Vec<u64> = lists.iter().map(|op| project_calls(&w, op)).collect();
    let gets_before: u64 = ["ShowVgw", "ShowCgw", "ShowVpnConnection"]
        .iter()
        .map(|op| w.calls(op))
        .sum();
    let versions = |w: &World| {
        ["f1", "f2"]
            .iter()
            .map(|s| {
                w.get::<VpnConnection>(&format!("conn-{s}"))
                    .status
                    .map(|st| serde_json::to_value(st).unwrap())
            })
            .collect::<Vec<_>>()
    };
    let statuses = versions(&w);

    // The controllers' initial lists are in: every object is to be re-observed.
    let names = |prefix: &str| ["f1", "f2"].map(|s| format!("team-a/{prefix}-{s}"));
    let m = &w.ctx.metrics;
    m.expect_observation("VpnGateway", names("gw"));
    m.expect_observation("CustomerGateway", names("cgw"));
    m.expect_observation("VpnConnection", names("conn"));
    assert_eq!(unobserved(&w, "VpnConnection"), Some(2));
    for s in ["f1", "f2"] {
        w.reconcile::<VpnGateway>(&format!("gw-{s}")).await;
        w.reconcile::<CustomerGateway>(&format!("cgw-{s}")).await;
    }
    w.reconcile::<VpnConnection>("conn-f1").await;
    assert_eq!(unobserved(&w, "VpnGateway"), Some(0));
    assert_eq!(
        unobserved(&w, "VpnConnection"),
        Some(1),
        "one connection not reconciled yet"
    );
    w.reconcile::<VpnConnection>("conn-f2").await;
    assert_eq!(unobserved(&w, "VpnConnection"), Some(0));

    assert!(all_ready(&w), "still Ready");
    assert_eq!(w.writes(), cloud_writes, "no cloud write");
    assert_eq!(
        w.kube().writes(),
        kube_writes,
        "no status or finalizer write"
    );
    assert_eq!(versions(&w), statuses, "status unchanged");
    for (op, before) in lists.iter().zip(lists_before) {
        assert_eq!(
            project_calls(&w, op) - before,
            1,
            "{op}: one list per kind for the account, shared by its objects"
        );
    }
    let gets: u64 = ["ShowVgw", "ShowCgw", "ShowVpnConnection"]
        .iter()
        .map(|op| w.calls(op))
        .sum();
    assert_eq!(gets, gets_before, "no per-object GET");
}

/// The controllers' caches are filled by the watch, which can bring the operator's own status
/// write back seconds late on a busy API server; a wake from the pending watch can come first.
/// A reconcile handed the object as it was before that write waits for the watch instead of
/// acting on it: it neither defers the connection as one that has not tried the cloud yet,
/// nor misses the pre-shared key's fingerprint and sends the key to the cloud again.
#[tokio::test]
async fn a_reconcile_handed_the_object_from_before_its_last_write_waits_for_the_watch() {
    let w = World::start().await;
    w.put_secret("office-psk", &[("psk", PSK)]);
    trio(&w, "s1", [1, 2], "203.0.113.10");
    w.ready::<VpnGateway>("gw-s1").await;
    w.ready::<CustomerGateway>("cgw-s1").await;
    w.reconcile::<VpnConnection>("conn-s1").await;
    let before_create = w.get::<VpnConnection>("conn-s1");
    assert!(
        before_create.status.is_none(),
        "the finalizer first, nothing written to status yet"
    );
    w.reconcile::<VpnConnection>("conn-s1").await;
    let created = w.get::<VpnConnection>("conn-s1");
    assert!(
        created
            .status
            .as_ref()
            .is_some_and(|s| s.cloud_id.is_some()),
        "created, its cloud id written"
    );
    let (cloud_writes, kube_writes) = (w.writes(), w.kube().writes());
    // The connection becomes ACTIVE; the wake comes with the cache still as before the create.
    w.advance(Duration::from_secs(2));
    let action = w.reconcile_stale(before_create).await;
    assert_eq!(
        w.writes(),
        cloud_writes,
        "no cloud write: the key not sent again"
    );
    assert_eq!(
        w.kube().writes(),
        kube_writes,
        "no status written from the old copy"
    );
    assert_eq!(
        action,
        kube::runtime::controller::Action::requeue(crate::controller::runtime::kube::unseen::RETRY),
        "looks again shortly"
    );
    // The watch has caught up: the next reconcile finds the connection Ready.
    w.reconcile_stale(w.get::<VpnConnection>("conn-s1")).await;
    let after = w.get::<VpnConnection>("conn-s1");
    assert_eq!(cond(&after, READY).0, "True", "Ready: {:?}", after.status);
    assert_eq!(w.writes(), cloud_writes, "nothing created or sent again");
}
