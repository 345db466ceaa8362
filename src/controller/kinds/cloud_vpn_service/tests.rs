//! The CloudVpnService reconciler: its pure parts as tables, and whole reconciles against the
//! simulated IES on a manual clock (the status each reconcile returns is fed to the next, as the
//! reconcile wrapper does after writing it).
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::cloud::ies::{IesClientOptions, IesCredentials};
use crate::cloud::model::ies::{ActiveStatus, GetServiceResponse, Sample as WireSample};
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::RateLimits;
use crate::cloud::Credentials;
use crate::controller::clouds::{CloudDefaults, Clouds, CredentialSource};
use crate::controller::context::Settings;
use crate::crd::common::find_condition;
use crate::metrics::Metrics;
use crate::sim::clock::Clock;
use crate::sim::ies::config::{
    DEFAULT_AUTH_TOKEN, DEFAULT_SERVICE_DEF_ID, DEFAULT_SERVICE_DEF_NAME, DEFAULT_TEMPLATE_ID,
};
use crate::sim::ies::{self, IesConfig, IesDelays, IesHandle};

// ----- pure parts ----------------------------------------------------------------------------

fn spec(v: serde_json::Value) -> CloudVpnServiceSpec {
    serde_json::from_value(v).unwrap()
}

fn s2dc() -> CloudVpnServiceSpec {
    spec(json!({
        "serviceDefinition": {"id": DEFAULT_SERVICE_DEF_ID},
        "kind": "Site2DC",
        "cloudVpnName": "0S2DC4201705071158",
        "bandwidth": 60000,
        "vpcId": "db79cd8b-91e2-43f8-9791-54b8b2181a70",
        "vni": 2236,
        "cpeA": {"site": "siteDC201705071132", "type": "AR169FGW-L", "esn": "21500102003GG3000704",
                 "position": "siteDC201705071132", "pop": "Manager_VPC"},
        "cidr": "163.113.12.1",
        "cidrBlockSize": 24
    }))
}

#[test]
fn default_names_are_unique_per_object_and_bounded() {
    let table = [
        (
            "team-a",
            "vpn1",
            Some("1234abcd-5678"),
            "team-a_vpn1_1234abcd",
        ),
        ("ns", "a.b", None, "ns_a-b"),
        ("ns", "x", Some("--"), "ns_x"),
    ];
    for (ns, name, uid, want) in table {
        assert_eq!(default_service_name(ns, name, uid), want);
    }
    let long = default_service_name(&"n".repeat(63), &"x".repeat(253), Some("abcdef0123"));
    assert_eq!(long.chars().count(), 128);
    assert!(
        long.ends_with("_abcdef01"),
        "the uid suffix survives: {long}"
    );
}

#[test]
fn create_request_is_the_decks_example() {
    let req = create_request(
        &s2dc(),
        "site2dc4_201705071158",
        DEFAULT_SERVICE_DEF_ID,
        DEFAULT_TEMPLATE_ID,
    );
    let want = json!({
      "onfailure": "rollback",
      "service": {
        "name": "site2dc4_201705071158",
        "description": "",
        "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
        "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
        "parameters": {"Site2DCList": [{
            "VPC_ID": "db79cd8b-91e2-43f8-9791-54b8b2181a70",
            "CloudVpnName": "0S2DC4201705071158",
            "VNI": "2236",
            "CPE_A_Site": "siteDC201705071132",
            "CPE_A_Type": "AR169FGW-L",
            "CPE_A_ESN": "21500102003GG3000704",
            "CPE_A_Position": "siteDC201705071132",
            "CPE_A_POP": "Manager_VPC",
            "Bandwidth": "60000",
            "cidr": "163.113.12.1",
            "cidrBlockSize": "24",
            "action": "create"
        }]}
      }
    });
    assert_eq!(serde_json::to_value(&req).unwrap(), want);
    let mut s = s2dc();
    s.extra_parameters.insert("QoS".into(), "gold".into());
    let req = create_request(&s, "n", "d", "t");
    let line = req.service.parameters.unwrap().line().unwrap().1.clone();
    assert_eq!(line.get("QoS"), Some("gold"));
}

/// The deck's GET example (reference §3.3).
fn deck_service() -> ServiceInstance {
    let v = json!({"service": {
        "active_status": "Deactive", "created_at": 1494052819361u64, "creator": "nbitest_11",
        "description": "", "name": "s2s_201705061433", "nfv_tag": null,
        "parameters": {"Site2SiteList": [{
            "Bandwidth": "30000", "CPE_A_ESN": "21500102003GG3000630", "CPE_A_Position": "siteA201705061433",
            "CPE_A_Site": "siteA201705061433", "CPE_A_Type": "AR169FGW-L", "CPE_Z_ESN": "21500102003GG3000674",
            "CPE_Z_Position": "siteZ201705061433", "CPE_Z_Site": "siteZ201705061433", "CPE_Z_Type": "AR169FGW-L",
            "CloudVpnName": "VPNS2S201705061433", "VNI": "1236"}]},
        "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab", "service_id": "8hiqoNgCSZmrlD1MyROJbg",
        "status": "Completed", "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8", "tenant_id": null}});
    serde_json::from_value::<GetServiceResponse>(v)
        .unwrap()
        .service
}

fn s2s() -> CloudVpnServiceSpec {
    spec(json!({
        "serviceDefinition": {"name": DEFAULT_SERVICE_DEF_NAME},
        "kind": "Site2Site",
        "cloudVpnName": "VPNS2S201705061433",
        "bandwidth": 30000,
        "vni": 1236,
        "cpeA": {"site": "siteA201705061433", "type": "AR169FGW-L"},
        "cpeZ": {"site": "siteZ201705061433"}
    }))
}

#[test]
fn update_request_is_the_decks_example() {
    let req = update_request(&deck_service(), &s2s(), 30000, "");
    let want = json!({
      "onfailure": "rollback",
      "service": {
        "name": "s2s_201705061433",
        "description": "",
        "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
        "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
        "parameters": {"Site2SiteList": [
            {"Bandwidth": "30000", "CloudVpnName": "VPNS2S201705061433", "action": "update"}
        ]}
      }
    });
    assert_eq!(serde_json::to_value(&req).unwrap(), want);
}

#[test]
fn drift_lists_only_unchangeable_fields_the_cloud_shows() {
    let svc = deck_service();
    assert!(
        immutable_drift(&s2s(), &svc).is_empty(),
        "bandwidth is not immutable drift"
    );
    let mut s = s2s();
    s.bandwidth = 1;
    s.vni = Some(9);
    s.vpc_id = Some("not-shown-by-the-cloud".into());
    s.kind = ServiceKind::Site2Dc;
    s.template_id = Some("other".into());
    let d = immutable_drift(&s, &svc);
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(d.iter().any(|x| x == "kind: Site2DCList → Site2SiteList"));
    assert!(d.iter().any(|x| x == "VNI: 9 → 1236"));
    assert!(d.iter().any(|x| x.starts_with("templateId:")));
}

fn status_with(target: Option<i64>, op: &str) -> CloudVpnServiceStatus {
    CloudVpnServiceStatus {
        target_bandwidth: target,
        last_operation: Some(op.into()),
        ..Default::default()
    }
}

#[test]
fn phases() {
    let with = |st: &str, bw: &str| {
        let mut s = deck_service();
        s.status = Some(st.into());
        if let Some(p) = s.parameters.as_mut() {
            p.0.values_mut().for_each(|v| v[0].set("Bandwidth", bw));
        }
        s
    };
    let secs = Duration::from_secs;
    let cases: Vec<(ServiceInstance, CloudVpnServiceStatus, Duration, Phase)> = vec![
        (
            with("Completed", "30000"),
            status_with(None, "create"),
            secs(1),
            Phase::Idle,
        ),
        (
            with("Completed", "30000"),
            status_with(Some(30000), "update"),
            secs(1),
            Phase::Idle,
        ),
        (
            with("Processing", "30000"),
            status_with(Some(30000), "create"),
            secs(5),
            Phase::Busy(
                reasons::CREATING,
                "IES reports status Processing; waiting for Completed".into(),
            ),
        ),
        (
            with("Completed", "30000"),
            status_with(Some(60000), "update"),
            secs(5),
            Phase::Busy(
                reasons::UPDATING,
                "waiting for IES to show bandwidth 60000".into(),
            ),
        ),
        (
            with("Completed", "30000"),
            status_with(Some(60000), "update"),
            secs(61),
            Phase::NotApplied {
                wanted: 60000,
                have: Some(30000),
            },
        ),
        (
            with("Failed", "30000"),
            status_with(None, "create"),
            secs(1),
            Phase::Failed("Failed".into()),
        ),
        (
            with("CREATE_ERROR", "1"),
            status_with(None, "create"),
            secs(1),
            Phase::Failed("CREATE_ERROR".into()),
        ),
        (
            with("Deleting", "1"),
            status_with(None, "delete"),
            secs(1),
            Phase::Busy(
                reasons::DELETING,
                "IES reports status Deleting; waiting for Completed".into(),
            ),
        ),
    ];
    for (svc, prev, since, want) in cases {
        assert_eq!(phase(&svc, &prev, since), want);
    }
    let Phase::Busy(_, msg) = phase(
        &with("Provisioning", "1"),
        &status_with(None, "create"),
        secs(3600),
    ) else {
        panic!()
    };
    assert!(msg.contains("not Completed 60 minutes"), "{msg}");
}

fn autoscaled(bandwidth: i64) -> CloudVpnServiceSpec {
    spec(json!({
        "serviceDefinition": {"id": DEFAULT_SERVICE_DEF_ID},
        "kind": "Site2Site",
        "cloudVpnName": "v1",
        "bandwidth": bandwidth,
        "autoscaling": {"minBandwidth": 10000, "maxBandwidth": 40000, "step": 10000,
                        "scaleUpCooldownSeconds": 20, "scaleDownCooldownSeconds": 30, "windowSeconds": 60}
    }))
}

fn saturated(bw: i64, now: i64) -> Vec<Sample> {
    (0..6)
        .map(|i| Sample {
            time: now - i * 5,
            rate: bw as f64 * 1000.0,
        })
        .collect()
}

#[test]
fn bandwidth_plans() {
    const NOW: i64 = 2_000_000;
    let prev = |spec_bw: Option<i64>, current: Option<i64>| CloudVpnServiceStatus {
        spec_bandwidth: spec_bw,
        current_bandwidth: current,
        ..Default::default()
    };
    let mut plain = s2s();
    plain.bandwidth = 60000;
    // No autoscaling: the spec wins, a new spec value is a Spec change, an old one is drift.
    let p = plan_bandwidth(
        &plain,
        &prev(Some(30000), Some(30000)),
        30000,
        false,
        None,
        NOW,
    );
    assert_eq!((p.desired, p.cause), (60000, Some(Cause::Spec)));
    let p = plan_bandwidth(
        &plain,
        &prev(Some(60000), Some(60000)),
        45000,
        false,
        None,
        NOW,
    );
    assert_eq!((p.desired, p.cause), (60000, Some(Cause::Drift)));
    let p = plan_bandwidth(
        &plain,
        &prev(Some(60000), Some(60000)),
        60000,
        false,
        None,
        NOW,
    );
    assert_eq!((p.desired, p.cause), (60000, None));

    // Autoscaling: a manual change is applied once and recorded; it starts the cooldowns.
    let p = plan_bandwidth(
        &autoscaled(30000),
        &prev(Some(10000), Some(20000)),
        20000,
        false,
        Some(&saturated(20000, NOW)),
        NOW,
    );
    assert_eq!((p.desired, p.cause.clone()), (30000, Some(Cause::Spec)));
    assert_eq!(p.followed[0].reason, MANUAL_CHANGE);
    assert_eq!(
        (p.followed[0].from_bandwidth, p.followed[0].to_bandwidth),
        (20000, 30000)
    );
    // Unchanged spec: the autoscaler's value stays (no fight with spec.bandwidth).
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(30000)),
        30000,
        true,
        Some(&[]),
        NOW,
    );
    assert_eq!((p.desired, p.cause), (30000, None));
    assert_eq!(p.decision.unwrap().reason, reasons::METRICS_UNAVAILABLE);
    // Saturated: scale up one step.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        20000,
        false,
        Some(&saturated(20000, NOW)),
        NOW,
    );
    assert_eq!(p.desired, 30000);
    assert!(matches!(p.cause, Some(Cause::Autoscale(ref d)) if d.reason == reasons::SCALING_UP));
    // Changed in IES by someone else: adopted, recorded, and cooling down.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        30000,
        false,
        Some(&saturated(30000, NOW)),
        NOW,
    );
    assert_eq!((p.desired, p.cause.clone()), (30000, None));
    assert_eq!(p.followed[0].reason, EXTERNAL_CHANGE);
    assert_eq!(p.notes[0].reason, EXTERNAL_CHANGE);
    // ... but our own completed change is not external.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        30000,
        true,
        Some(&[]),
        NOW,
    );
    assert!(p.followed.is_empty());
    // Traffic unreadable: no decision.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        20000,
        false,
        None,
        NOW,
    );
    assert_eq!(p.decision.unwrap().reason, reasons::METRICS_UNAVAILABLE);
}

#[test]
fn traffic_merge_status_and_history() {
    let s = |time, value| WireSample { time, value };
    let points = merge_directions(
        &[s(60, 1.0e6), s(120, 2.0e6)],
        &[s(120, 5.0e6), s(180, 7.0e6)],
    );
    assert_eq!(points.len(), 3);
    assert_eq!(points[1].rate(), 5.0e6);
    let t = traffic_status(&points, Some(10_000)).unwrap();
    assert_eq!(
        (t.inbound_rate, t.outbound_rate, t.utilization_percent),
        (None, Some(7.0e6), Some(70.0))
    );
    assert_eq!(t.sample_time.unwrap().0.as_second(), 180);
    assert!(traffic_status(&[], Some(1)).is_none());

    let mut h = Vec::new();
    for i in 0..12 {
        record(
            &mut h,
            ScalingDecision {
                time: time_of(i),
                from_bandwidth: i,
                to_bandwidth: i + 1,
                utilization_percent: None,
                reason: "ScalingUp".into(),
                message: String::new(),
            },
        );
    }
    assert_eq!(h.len(), MAX_HISTORY);
    assert_eq!(h[0].from_bandwidth, 11, "newest first");
    assert_eq!(autoscale_interval(60), Duration::from_secs(10));
    assert_eq!(autoscale_interval(600), Duration::from_secs(60));
}

// ----- whole reconciles against the simulator ----------------------------------------------

struct Rig {
    sim: IesHandle,
    clock: Clock,
    cloud: IesClient,
    ctx: Arc<Context>,
}

async fn rig() -> Rig {
    let start = chrono::DateTime::parse_from_rfc3339("2025-06-01T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = Clock::manual(start);
    let cfg = IesConfig::default()
        .with_clock(clock.clone())
        .with_delays(IesDelays {
            create: Duration::from_secs(10),
            update: Duration::from_secs(2),
            delete: Duration::from_secs(2),
        });
    let sim = ies::spawn(cfg).await.unwrap();
    let cloud = IesClient::connect(
        sim.endpoint().parse().unwrap(),
        IesCredentials::token(DEFAULT_AUTH_TOKEN),
        IesClientOptions {
            limits: RateLimits::unlimited(),
            retry: RetryPolicy::none(),
            timeout: Duration::from_secs(5),
            observer: None,
        },
    )
    .unwrap();
    // A Kubernetes client that is never reached (events fail and are only logged).
    let kube =
        kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
    let clouds = Clouds::new(
        kube.clone(),
        CloudDefaults {
            region: "r".into(),
            project_id: "p".into(),
            vpn_endpoint: None,
            credentials: CredentialSource::Static(Credentials::token("t")),
            limits: RateLimits::unlimited(),
            retry: RetryPolicy::none(),
            timeout: Duration::from_secs(5),
            observer: None,
        },
    );
    let ctx = Context::new(kube, clouds, Metrics::new(), Settings::default(), None);
    Rig {
        sim,
        clock,
        cloud,
        ctx,
    }
}

fn object(spec: CloudVpnServiceSpec) -> CloudVpnService {
    let mut o = CloudVpnService::new("vpn1", spec);
    o.metadata.namespace = Some("team-a".into());
    o.metadata.uid = Some("1234abcd-0000-4000-8000-000000000001".into());
    o.metadata.generation = Some(1);
    o
}

impl Rig {
    /// One reconcile at the simulator's time; its status becomes the object's.
    async fn step(&self, obj: &mut CloudVpnService) -> Outcome<CloudVpnServiceStatus> {
        let out = reconcile(&self.cloud, obj, &self.ctx, self.clock.now().timestamp())
            .await
            .unwrap();
        obj.status = Some(out.status.clone());
        out
    }

    async fn services(&self) -> Vec<ServiceInstance> {
        self.cloud.list_services().await.unwrap()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: serde_json::Value) {
        let r = reqwest::Client::new()
            .request(method, format!("{}/_sim/ies{path}", self.sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap_or_default()
        );
    }
}

fn cond(obj: &CloudVpnService, t: &str) -> (ConditionStatus, String) {
    let c = find_condition(&obj.status.as_ref().unwrap().conditions, t).unwrap();
    (c.status, c.reason.clone())
}

fn reasons_of(out: &Outcome<CloudVpnServiceStatus>) -> Vec<String> {
    out.notes.iter().map(|n| n.reason.clone()).collect()
}

#[tokio::test]
async fn create_wait_update_drift_and_delete() {
    let r = rig().await;
    let mut obj = object(s2s());
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["Created"]);
    let st = obj.status.clone().unwrap();
    let id = st.cloud_id.clone().unwrap();
    assert_eq!(st.service_name.as_deref(), Some("team-a_vpn1_1234abcd"));
    assert_eq!(
        st.template_id.as_deref(),
        Some(DEFAULT_TEMPLATE_ID),
        "resolved from the catalog by name"
    );
    assert_eq!(st.last_operation.as_deref(), Some("create"));
    assert!(st.last_operation_id.is_some());
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::False, "Creating".into())
    );

    // Still provisioning.
    r.clock.advance(Duration::from_secs(5));
    r.step(&mut obj).await;
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::False, "Creating".into())
    );
    assert_eq!(
        obj.status.as_ref().unwrap().cloud_state.as_deref(),
        Some("Processing")
    );

    r.clock.advance(Duration::from_secs(5));
    let out = r.step(&mut obj).await;
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::True, "Available".into())
    );
    assert_eq!(
        cond(&obj, types::SYNCED),
        (ConditionStatus::True, "ReconcileSuccess".into())
    );
    assert_eq!(
        cond(&obj, types::SCALING),
        (ConditionStatus::False, "Stable".into())
    );
    let st = obj.status.clone().unwrap();
    assert_eq!(
        (st.current_bandwidth, st.target_bandwidth),
        (Some(30000), None)
    );
    assert_eq!(
        st.active_status.as_deref(),
        Some(ActiveStatus::Active.as_str())
    );
    assert_eq!(out.requeue, r.ctx.settings.resync_interval);
    assert!(
        st.traffic.is_none(),
        "no traffic point yet (one per minute)"
    );
    r.clock.advance(Duration::from_secs(60));
    r.step(&mut obj).await;
    let t = obj.status.clone().unwrap().traffic.unwrap();
    let u = t.utilization_percent.unwrap();
    assert!(
        (27.0..=33.0).contains(&u),
        "the simulator's default load is 30 %: {u}"
    );
    assert!(t.outbound_rate.unwrap() > t.inbound_rate.unwrap());

    // spec.bandwidth changes: one PUT, then Completed with the new value.
    obj.spec.bandwidth = 60000;
    obj.metadata.generation = Some(2);
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["Updated"]);
    assert_eq!(obj.status.as_ref().unwrap().target_bandwidth, Some(60000));
    assert_eq!(
        cond(&obj, types::SCALING),
        (ConditionStatus::True, "ScalingUp".into())
    );
    r.clock.advance(Duration::from_secs(2));
    r.step(&mut obj).await;
    assert_eq!(obj.status.as_ref().unwrap().current_bandwidth, Some(60000));
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::True, "Available".into())
    );
    assert_eq!(
        cond(&obj, types::SCALING),
        (ConditionStatus::False, "Stable".into())
    );

    // Someone changes the bandwidth in IES: it is put back.
    r.admin(
        reqwest::Method::PATCH,
        &format!("/services/{id}"),
        json!({"parameters": {"Bandwidth": "45000"}}),
    )
    .await;
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["DriftCorrected"]);
    r.clock.advance(Duration::from_secs(2));
    r.step(&mut obj).await;
    assert_eq!(obj.status.as_ref().unwrap().current_bandwidth, Some(60000));

    // An immutable field changed in IES is reported, not "fixed".
    r.admin(
        reqwest::Method::PATCH,
        &format!("/services/{id}"),
        json!({"parameters": {"VNI": "7"}}),
    )
    .await;
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["DriftDetected"]);
    assert_eq!(
        cond(&obj, types::SYNCED),
        (ConditionStatus::False, "ImmutableFieldDrift".into())
    );
    assert!(r.step(&mut obj).await.notes.is_empty(), "reported once");

    // Delete: requested, waited for, gone.
    let e = delete(&r.cloud, &obj, &r.ctx).await.unwrap_err();
    assert!(e.is_waiting(), "{e}");
    let e = delete(&r.cloud, &obj, &r.ctx).await.unwrap_err();
    assert!(e.to_string().contains("being deleted"), "{e}");
    r.clock.advance(Duration::from_secs(2));
    let notes = delete(&r.cloud, &obj, &r.ctx).await.unwrap();
    assert_eq!(notes[0].reason, "Deleted");
    assert!(r.services().await.is_empty());
}

#[tokio::test]
async fn lost_status_write_or_create_answer_never_duplicates() {
    let r = rig().await;
    let mut obj = object(s2s());
    r.step(&mut obj).await;
    // The status write after the create was lost (operator crash): nothing in status.
    obj.status = None;
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["Recovered"]);
    assert_eq!(r.services().await.len(), 1);
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::False, "Creating".into())
    );
    assert_eq!(obj.status.as_ref().unwrap().spec_bandwidth, Some(30000));

    // The create answer itself is lost: the next reconcile finds the instance by name.
    let mut other = object(s2dc());
    other.metadata.name = Some("vpn2".into());
    other.metadata.uid = Some("99999999-0000".into());
    r.admin(
        reqwest::Method::POST,
        "/faults",
        json!({"ops": ["CreateService"], "fault": {"kind": "drop_response"}, "trigger": {"next": 1}}),
    )
    .await;
    let e = reconcile(&r.cloud, &other, &r.ctx, r.clock.now().timestamp())
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "CloudUnreachable", "{e}");
    let out = r.step(&mut other).await;
    assert_eq!(reasons_of(&out), ["Recovered"]);
    assert_eq!(r.services().await.len(), 2);

    // Deleting an object whose status never got the id still deletes its instance.
    let mut third = object(s2dc());
    third.spec.cloud_vpn_name = "third".into();
    third.metadata.name = Some("vpn3".into());
    third.metadata.uid = Some("33333333".into());
    r.step(&mut third).await;
    r.clock.advance(Duration::from_secs(10));
    third.status = None;
    assert!(delete(&r.cloud, &third, &r.ctx)
        .await
        .unwrap_err()
        .is_waiting());
    r.clock.advance(Duration::from_secs(2));
    assert_eq!(r.services().await.len(), 2);
}

#[tokio::test]
async fn adoption_observe_and_bad_definitions() {
    let r = rig().await;
    r.admin(
        reqwest::Method::POST,
        "/services",
        json!({"service_id": "8hiqoNgCSZmrlD1MyROJbg", "name": "s2s_201705061433", "topology": "Site2SiteList",
               "parameters": {"CloudVpnName": "VPNS2S201705061433", "Bandwidth": "30000", "VNI": "1236"},
               "active_status": "Deactive"}),
    )
    .await;
    let mut s = s2s();
    s.cloud_id = Some("8hiqoNgCSZmrlD1MyROJbg".into());
    s.management_policy = ManagementPolicy::Observe;
    let mut obj = object(s);
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["Adopted"]);
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::True, "Available".into())
    );
    assert_eq!(
        cond(&obj, types::SYNCED),
        (ConditionStatus::True, "ObserveOnly".into())
    );
    assert_eq!(
        obj.status.as_ref().unwrap().active_status.as_deref(),
        Some("Deactive")
    );

    // Observe never writes, even when the spec differs.
    obj.spec.bandwidth = 90000;
    r.step(&mut obj).await;
    assert_eq!(
        r.cloud
            .get_service("8hiqoNgCSZmrlD1MyROJbg")
            .await
            .unwrap()
            .bandwidth(),
        Some(30000)
    );

    // A missing id to adopt: NotFound, nothing created.
    let mut s = s2s();
    s.cloud_id = Some("doesNotExist".into());
    let mut missing = object(s);
    r.step(&mut missing).await;
    assert_eq!(
        cond(&missing, types::READY),
        (ConditionStatus::False, "NotFound".into())
    );
    assert_eq!(r.services().await.len(), 1);

    // Definitions: unknown name, and a definition with two templates.
    let mut s = s2s();
    s.service_definition = serde_json::from_value(json!({"name": "nope"})).unwrap();
    let e = reconcile(&r.cloud, &object(s), &r.ctx, 0)
        .await
        .unwrap_err();
    assert!(
        e.is_terminal() && e.to_string().contains(DEFAULT_SERVICE_DEF_NAME),
        "{e}"
    );
    r.admin(
        reqwest::Method::PUT,
        "/catalog",
        json!([{"id": "d2", "name": "two", "templates": [{"id": "t1"}, {"id": "t2"}]}]),
    )
    .await;
    let mut s = s2s();
    s.service_definition = serde_json::from_value(json!({"id": "d2"})).unwrap();
    let e = reconcile(&r.cloud, &object(s), &r.ctx, 0)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("set templateId"), "{e}");
}

#[tokio::test]
async fn rolled_back_update_is_reported_not_retried_at_once() {
    let r = rig().await;
    let mut obj = object(s2s());
    r.step(&mut obj).await;
    r.clock.advance(Duration::from_secs(10));
    r.step(&mut obj).await;
    r.admin(reqwest::Method::PUT, "/fail-next", json!({"update": 1}))
        .await;
    obj.spec.bandwidth = 60000;
    r.step(&mut obj).await;
    r.clock.advance(Duration::from_secs(2));
    let out = r.step(&mut obj).await;
    assert!(
        out.notes.is_empty(),
        "within the grace period: {:?}",
        reasons_of(&out)
    );
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::False, "Updating".into())
    );
    r.clock.advance(UPDATE_CONFIRM_GRACE);
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), [UPDATE_NOT_APPLIED]);
    assert_eq!(
        cond(&obj, types::SYNCED),
        (ConditionStatus::False, "ReconcileError".into())
    );
    assert_eq!(
        cond(&obj, types::READY),
        (ConditionStatus::True, "Available".into())
    );
    assert_eq!(out.requeue, r.ctx.settings.terminal_retry);
    // The next reconcile (after the requeue) tries again, and this time it works.
    let out = r.step(&mut obj).await;
    assert_eq!(reasons_of(&out), ["Updated"]);
    r.clock.advance(Duration::from_secs(2));
    r.step(&mut obj).await;
    assert_eq!(obj.status.as_ref().unwrap().current_bandwidth, Some(60000));
}

#[tokio::test]
async fn autoscaling_follows_a_rising_then_falling_load() {
    let r = rig().await;
    let mut obj = object(autoscaled(10000));
    // 100 Mbit/s of demand: far above what maxBandwidth (40 Mbit/s) carries.
    r.admin(
        reqwest::Method::PUT,
        "/traffic/v1",
        json!({"steps": [{"at_seconds": 0, "mbps": 100}], "sample_interval_seconds": 5, "noise_percent": 2}),
    )
    .await;
    r.step(&mut obj).await;
    let mut ups = Vec::new();
    for _ in 0..60 {
        r.clock.advance(Duration::from_secs(5));
        let out = r.step(&mut obj).await;
        for n in &out.notes {
            if n.reason == "ScalingUp" {
                ups.push((
                    r.clock.now().timestamp(),
                    obj.status.as_ref().unwrap().target_bandwidth,
                ));
            }
        }
    }
    let st = obj.status.clone().unwrap();
    assert_eq!(st.current_bandwidth, Some(40000));
    let steps: Vec<Option<i64>> = ups.iter().map(|u| u.1).collect();
    assert_eq!(
        steps,
        [Some(20000), Some(30000), Some(40000)],
        "step by step"
    );
    assert!(
        ups.windows(2).all(|w| w[1].0 - w[0].0 >= 20),
        "scale-up cooldown honoured: {ups:?}"
    );
    assert_eq!(
        cond(&obj, types::SCALING),
        (ConditionStatus::False, "AtLimit".into())
    );
    assert_eq!(st.scaling_history.len(), 3);
    assert!(st
        .scaling_history
        .iter()
        .all(|h| h.reason == "ScalingUp" && h.utilization_percent.is_some()));
    assert_eq!(obj.spec.bandwidth, 10000, "the spec is never written back");

    // The load falls to 5 Mbit/s: lowered, after the scale-down cooldown.
    r.admin(
        reqwest::Method::PUT,
        "/traffic/v1",
        json!({"steps": [{"at_seconds": 0, "mbps": 5}], "sample_interval_seconds": 5}),
    )
    .await;
    let mut downs = Vec::new();
    for _ in 0..40 {
        r.clock.advance(Duration::from_secs(5));
        let out = r.step(&mut obj).await;
        if out.notes.iter().any(|n| n.reason == "ScalingDown") {
            downs.push(obj.status.as_ref().unwrap().target_bandwidth);
        }
    }
    assert_eq!(downs, [Some(10000)]);
    assert_eq!(obj.status.as_ref().unwrap().current_bandwidth, Some(10000));
    assert_eq!(
        cond(&obj, types::SCALING),
        (ConditionStatus::False, "AtLimit".into())
    );

    // A manual change wins and is recorded; the autoscaler then waits for its cooldown.
    obj.spec.bandwidth = 30000;
    let out = r.step(&mut obj).await;
    assert!(reasons_of(&out).contains(&MANUAL_CHANGE.to_string()));
    assert_eq!(
        obj.status.as_ref().unwrap().scaling_history[0].reason,
        MANUAL_CHANGE
    );
    r.clock.advance(Duration::from_secs(5));
    let out = r.step(&mut obj).await;
    assert!(out.notes.is_empty());
    assert_eq!(obj.status.as_ref().unwrap().current_bandwidth, Some(30000));
}

#[test]
fn examples_decode_and_build_valid_requests() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for name in ["cloudvpnservice.yaml", "cloudvpnservice-autoscaling.yaml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let obj: CloudVpnService = serde_yaml::from_str(&text).unwrap();
        let req = create_request(&obj.spec, "n", DEFAULT_SERVICE_DEF_ID, DEFAULT_TEMPLATE_ID);
        let (list, line) = req.service.parameters.as_ref().unwrap().line().unwrap();
        assert_eq!(list, topology(obj.spec.kind), "{name}");
        assert_eq!(line.bandwidth(), Some(obj.spec.bandwidth), "{name}");
        if let Some(a) = &obj.spec.autoscaling {
            assert!(
                (a.min_bandwidth..=a.max_bandwidth).contains(&obj.spec.bandwidth),
                "{name}"
            );
            assert!(a.window_seconds >= 60, "{name}: the CRD minimum");
        }
        assert_eq!(
            obj.spec
                .cloud
                .as_ref()
                .and_then(|c| c.credentials_secret_ref.as_ref())
                .map(|r| r.name.as_str()),
            Some("ies-credentials"),
            "{name} uses the example Secret"
        );
        seen += 1;
    }
    let secret = std::fs::read_to_string(dir.join("cloudvpnservice-credentials.yaml")).unwrap();
    assert!(secret.contains(&format!("authToken: {DEFAULT_AUTH_TOKEN}")));
    assert_eq!(seen, 2);
}
