//! The CloudVpnService's pure decisions, as tables: names and request bodies, drift, the life
//! cycle phases, the bandwidth plan, the plan and what each outcome waits for.
use std::time::Duration;

use serde_json::json;

use super::autoscaler::Sample;
use super::bandwidth::*;
use super::desired::*;
use super::plan::{phase, plan, Phase, UPDATE_CONFIRM_GRACE};
use super::status::reconciled;
use super::*;
use crate::cloud::model::ies::{GetServiceResponse, Sample as WireSample, ServiceStatus};
use crate::controller::runtime::clock::from_epoch_seconds;
use crate::controller::runtime::events::{
    DELETED, DELETE_REQUESTED, DRIFT_DETECTED, EXTERNAL_CHANGE, MANUAL_CHANGE, RECREATING,
};
use crate::controller::runtime::lookup::How;
use crate::controller::runtime::requeue::Next;
use crate::crd::cloud_vpn_service::{ScalingDecision, ServiceKind};
use crate::crd::common::{find_condition, reasons, types, ConditionStatus, ManagementPolicy};
use crate::sim::ies::config::{
    DEFAULT_AUTH_TOKEN, DEFAULT_SERVICE_DEF_ID, DEFAULT_SERVICE_DEF_NAME, DEFAULT_TEMPLATE_ID,
};

const NOW: i64 = 2_000_000_000;

fn at(secs: i64) -> Time {
    from_epoch_seconds(secs, &Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH))
}

fn now() -> Time {
    at(NOW)
}

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

/// The deck's service in state `status` with bandwidth `bw`.
fn service(status: &str, bw: &str) -> ServiceInstance {
    let mut s = deck_service();
    s.status = Some(status.into());
    if let Some(p) = s.parameters.as_mut() {
        p.0.values_mut().for_each(|v| v[0].set("Bandwidth", bw));
    }
    s
}

fn object(spec: CloudVpnServiceSpec) -> CloudVpnService {
    let mut o = CloudVpnService::new("vpn1", spec);
    o.metadata.namespace = Some("team-a".into());
    o.metadata.uid = Some("1234abcd-0000-4000-8000-000000000001".into());
    o.metadata.generation = Some(1);
    o
}

fn inputs() -> Inputs {
    Inputs {
        name: "team-a_vpn1_1234abcd".into(),
        now: now(),
    }
}

fn observed(found: Found<ServiceInstance>) -> Observed {
    Observed {
        found,
        definition: Some((DEFAULT_SERVICE_DEF_ID.into(), DEFAULT_TEMPLATE_ID.into())),
        traffic: Traffic::NotRead,
    }
}

fn recorded(svc: ServiceInstance) -> Observed {
    observed(Found::exists(svc, How::Recorded))
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
fn drift_lists_only_unchangeable_fields_the_cloud_shows_by_their_spec_names() {
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
    s.cpe_a.as_mut().unwrap().type_ = Some("AR651".into());
    let d: Vec<(String, String, String, bool)> = immutable_drift(&s, &svc)
        .into_iter()
        .map(|d| (d.field, d.desired, d.observed, d.updatable))
        .collect();
    let row = |f: &str, w: &str, h: &str| (f.to_string(), w.to_string(), h.to_string(), false);
    assert_eq!(
        d,
        [
            row("kind", "Site2DC", "Site2Site"),
            row("cpeA.type", "AR651", "AR169FGW-L"),
            row("vni", "9", "1236"),
            row("templateId", "other", DEFAULT_TEMPLATE_ID),
        ]
    );
    let fields = [
        ("CPE_Z_ESN", "cpeZ.esn"),
        ("CPE_A_POP", "cpeA.pop"),
        ("VPC_ID", "vpcId"),
        ("cidrBlockSize", "cidrBlockSize"),
        ("QoS", "extraParameters.QoS"),
    ];
    for (param, field) in fields {
        assert_eq!(spec_field(param), field);
    }
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
    let with = service;
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
        assert_eq!(
            super::plan::is_idle(&svc, &prev),
            want == Phase::Idle,
            "{want:?}"
        );
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
    let prev = |spec_bw: Option<i64>, current: Option<i64>| CloudVpnServiceStatus {
        spec_bandwidth: spec_bw,
        current_bandwidth: current,
        ..Default::default()
    };
    let now = now();
    let mut plain = s2s();
    plain.bandwidth = 60000;
    // No autoscaling: the spec wins, a new spec value is a Spec change, an old one is drift.
    let p = plan_bandwidth(
        &plain,
        &prev(Some(30000), Some(30000)),
        30000,
        false,
        None,
        &now,
    );
    assert_eq!((p.desired, p.cause), (60000, Some(Cause::Spec)));
    let p = plan_bandwidth(
        &plain,
        &prev(Some(60000), Some(60000)),
        45000,
        false,
        None,
        &now,
    );
    assert_eq!((p.desired, p.cause), (60000, Some(Cause::Drift)));
    let p = plan_bandwidth(
        &plain,
        &prev(Some(60000), Some(60000)),
        60000,
        false,
        None,
        &now,
    );
    assert_eq!((p.desired, p.cause), (60000, None));

    // Autoscaling: a manual change is applied once and recorded; it starts the cooldowns.
    let busy = saturated(20000, NOW);
    let p = plan_bandwidth(
        &autoscaled(30000),
        &prev(Some(10000), Some(20000)),
        20000,
        false,
        Some(&busy),
        &now,
    );
    assert_eq!((p.desired, p.cause.clone()), (30000, Some(Cause::Spec)));
    assert_eq!(p.followed[0].reason, MANUAL_CHANGE);
    assert_eq!(p.followed[0].time, now);
    assert_eq!(
        (p.followed[0].from_bandwidth, p.followed[0].to_bandwidth),
        (20000, 30000)
    );
    assert_eq!(p.notes[0].reason, MANUAL_CHANGE);
    // Unchanged spec: the autoscaler's value stays (no fight with spec.bandwidth).
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(30000)),
        30000,
        true,
        Some(&[]),
        &now,
    );
    assert_eq!((p.desired, p.cause), (30000, None));
    assert_eq!(p.decision.unwrap().reason, reasons::METRICS_UNAVAILABLE);
    // Saturated: scale up one step.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        20000,
        false,
        Some(&busy),
        &now,
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
        &now,
    );
    assert_eq!((p.desired, p.cause.clone()), (30000, None));
    assert_eq!(p.followed[0].reason, EXTERNAL_CHANGE);
    assert_eq!(p.notes[0].reason, EXTERNAL_CHANGE);
    // Samples older than the change measured another capacity: none count yet.
    assert_eq!(p.decision.unwrap().reason, reasons::METRICS_UNAVAILABLE);
    // ... but our own completed change is not external.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        30000,
        true,
        Some(&[]),
        &now,
    );
    assert!(p.followed.is_empty());
    // Traffic unreadable: no decision.
    let p = plan_bandwidth(
        &autoscaled(10000),
        &prev(Some(10000), Some(20000)),
        20000,
        false,
        None,
        &now,
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
    assert_eq!(points[0].outbound, None);
    let t = traffic_status(&points, Some(10_000), &now()).unwrap();
    assert_eq!(
        (t.inbound_rate, t.outbound_rate, t.utilization_percent),
        (None, Some(7.0e6), Some(70.0))
    );
    assert_eq!(t.sample_time.unwrap(), at(180));
    assert!(traffic_status(&[], Some(1), &now()).is_none());

    let mut h = Vec::new();
    for i in 0..12 {
        record(
            &mut h,
            ScalingDecision {
                time: at(i),
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
    assert_eq!(history_changes(&h)[0].time, 11);
    assert_eq!(autoscale_interval(60), Duration::from_secs(10));
    assert_eq!(autoscale_interval(600), Duration::from_secs(60));
}

fn deleting(mut o: CloudVpnService) -> CloudVpnService {
    o.metadata.deletion_timestamp = Some(at(NOW - 30));
    o
}

#[test]
fn deletion_waits_while_ies_works_then_deletes_and_is_done_when_gone() {
    let obj = deleting(object(s2s()));
    let id = "8hiqoNgCSZmrlD1MyROJbg".to_string();
    let cases = [
        (
            "Processing",
            Plan::AwaitDeletion {
                id: id.clone(),
                state: "Processing".into(),
            },
        ),
        (
            "Deleting",
            Plan::AwaitDeletion {
                id: id.clone(),
                state: ServiceStatus::Deleting,
            },
        ),
        ("Completed", Plan::Delete { id: id.clone() }),
        ("Failed", Plan::Delete { id: id.clone() }),
    ];
    for (state, want) in cases {
        let got = plan(&obj, &inputs(), &recorded(service(state, "1")), &now()).unwrap();
        assert_eq!(got, want, "{state}");
    }
    let gone = Found {
        gone: Some("old".into()),
        ..Found::default()
    };
    let got = plan(&obj, &inputs(), &observed(gone), &now()).unwrap();
    assert_eq!(got, Plan::Gone { id: "old".into() });
    let got = plan(&obj, &inputs(), &observed(Found::default()), &now()).unwrap();
    assert_eq!(
        got,
        Plan::Gone { id: inputs().name },
        "nothing found by name"
    );

    // What each waits for, and when the object is released.
    let accepted = Acted::Accepted {
        service_id: None,
        operation_id: Some("op-1".into()),
        at: now(),
    };
    let out = reconciled(
        &obj,
        &inputs(),
        &recorded(service("Completed", "1")),
        &Plan::Delete { id: id.clone() },
        accepted,
        &now(),
    );
    let pending = Next::Pending {
        since: Duration::from_secs(30),
        watched: false,
    };
    assert_eq!((out.next.clone(), out.released), (pending.clone(), false));
    assert_eq!(out.notes[0].reason, DELETE_REQUESTED);
    let st = &out.status;
    assert_eq!(st.last_operation.as_deref(), Some("delete"));
    let ready = find_condition(&st.conditions, types::READY).unwrap();
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, reasons::DELETING)
    );
    let synced = find_condition(&st.conditions, types::SYNCED).unwrap();
    assert_eq!(
        (synced.status, synced.reason.as_str()),
        (ConditionStatus::True, reasons::RECONCILE_SUCCESS)
    );
    let waiting = Plan::AwaitDeletion {
        id: id.clone(),
        state: "Processing".into(),
    };
    let out = reconciled(
        &obj,
        &inputs(),
        &recorded(service("Processing", "1")),
        &waiting,
        Acted::Nothing,
        &now(),
    );
    assert_eq!((out.next, out.released), (pending, false));
    let msg = &find_condition(&out.status.conditions, types::READY)
        .unwrap()
        .message;
    assert!(
        msg.contains("it will be deleted when that operation finishes"),
        "{msg}"
    );
    let out = reconciled(
        &obj,
        &inputs(),
        &recorded(service("Completed", "1")),
        &Plan::Delete { id },
        Acted::AlreadyGone,
        &now(),
    );
    assert!(out.released);
    assert_eq!(out.notes[0].reason, DELETED);
}

#[test]
fn no_service_means_create_recreate_or_missing() {
    let plain = object(s2s());
    let p = plan(&plain, &inputs(), &observed(Found::default()), &now()).unwrap();
    let Plan::Create {
        request,
        replaces: None,
    } = p
    else {
        panic!("{p:?}")
    };
    assert_eq!(
        request.service.name.as_deref(),
        Some("team-a_vpn1_1234abcd")
    );
    assert_eq!(
        request.service.template_id.as_deref(),
        Some(DEFAULT_TEMPLATE_ID)
    );

    let gone = || Found {
        gone: Some("old".into()),
        ..Found::default()
    };
    let p = plan(&plain, &inputs(), &observed(gone()), &now()).unwrap();
    assert!(
        matches!(p, Plan::Create { replaces: Some(ref old), .. } if old == "old"),
        "{p:?}"
    );
    let accepted = Acted::Accepted {
        service_id: Some("new".into()),
        operation_id: Some("op-1".into()),
        at: now(),
    };
    let out = reconciled(&plain, &inputs(), &observed(gone()), &p, accepted, &now());
    let reasons_: Vec<&str> = out.notes.iter().map(|n| n.reason.as_str()).collect();
    assert_eq!(reasons_, [RECREATING, "Created"]);
    assert!(out.notes[0].warning && out.notes[0].message.contains("old"));
    assert_eq!(out.next, Next::Soon);
    let st = out.status;
    assert_eq!(
        (st.cloud_id.as_deref(), st.target_bandwidth),
        (Some("new"), Some(30000))
    );
    assert_eq!(st.last_operation_time, Some(now()));

    // Adopting an id that is gone, or observing: nothing is created.
    let mut adopt = s2s();
    adopt.cloud_id = Some("old".into());
    let p = plan(&object(adopt), &inputs(), &observed(gone()), &now()).unwrap();
    assert_eq!(
        p,
        Plan::Missing {
            id: Some("old".into())
        }
    );
    let mut observe = s2s();
    observe.management_policy = ManagementPolicy::Observe;
    let p = plan(
        &object(observe.clone()),
        &inputs(),
        &observed(Found::default()),
        &now(),
    )
    .unwrap();
    assert_eq!(p, Plan::Missing { id: None });
    let out = reconciled(
        &object(observe),
        &inputs(),
        &observed(Found::default()),
        &p,
        Acted::Nothing,
        &now(),
    );
    let ready = find_condition(&out.status.conditions, types::READY).unwrap();
    assert_eq!(ready.reason, reasons::NOT_FOUND);
}

fn with_target(mut o: CloudVpnService, target: Option<i64>, op_ago: i64) -> CloudVpnService {
    o.status = Some(CloudVpnServiceStatus {
        cloud_id: Some("8hiqoNgCSZmrlD1MyROJbg".into()),
        target_bandwidth: target,
        spec_bandwidth: Some(o.spec.bandwidth),
        current_bandwidth: Some(30000),
        last_operation: Some("update".into()),
        last_operation_time: Some(at(NOW - op_ago)),
        observed_generation: Some(1),
        ..Default::default()
    });
    o
}

#[test]
fn each_outcome_says_what_it_waits_for() {
    let secs = Duration::from_secs;
    let plain = with_target(object(s2s()), None, 100);
    let auto = with_target(object(autoscaled(30000)), None, 100);
    let mut more = plain.clone();
    more.spec.bandwidth = 60000;
    more.metadata.generation = Some(2);
    let table: Vec<(&str, CloudVpnService, ServiceInstance, Next)> = vec![
        (
            "in sync",
            plain.clone(),
            service("Completed", "30000"),
            Next::Resync,
        ),
        (
            "autoscaled",
            auto,
            service("Completed", "30000"),
            Next::After(secs(10)),
        ),
        (
            "update sent",
            more,
            service("Completed", "30000"),
            Next::Soon,
        ),
        (
            "busy since the operation",
            plain.clone(),
            service("Processing", "30000"),
            Next::Pending {
                since: secs(100),
                watched: false,
            },
        ),
        (
            "change not shown yet",
            with_target(object(s2s()), Some(60000), 10),
            service("Completed", "30000"),
            Next::Pending {
                since: secs(10),
                watched: false,
            },
        ),
        (
            "rolled back",
            with_target(
                object(s2s()),
                Some(60000),
                UPDATE_CONFIRM_GRACE.as_secs() as i64 + 1,
            ),
            service("Completed", "30000"),
            Next::Later,
        ),
        ("failed", plain, service("Failed", "30000"), Next::Resync),
    ];
    for (name, obj, svc, want) in table {
        let seen = recorded(svc);
        let p = plan(&obj, &inputs(), &seen, &now()).unwrap();
        let acted = match p {
            Plan::Change { .. } => Acted::Accepted {
                service_id: None,
                operation_id: Some("op".into()),
                at: now(),
            },
            _ => Acted::Nothing,
        };
        let out = reconciled(&obj, &inputs(), &seen, &p, acted, &now());
        assert_eq!(out.next, want, "{name}: {p:?}");
        assert!(
            find_condition(&out.status.conditions, types::READY).is_some(),
            "{name}"
        );
        assert!(
            find_condition(&out.status.conditions, types::SYNCED).is_some(),
            "{name}"
        );
    }
}

#[test]
fn immutable_drift_is_reported_once_with_the_shared_rule() {
    let obj = with_target(object(s2s()), None, 100);
    let mut svc = service("Completed", "30000");
    svc.parameters
        .as_mut()
        .unwrap()
        .0
        .values_mut()
        .for_each(|v| v[0].set("VNI", "7"));
    let seen = recorded(svc);
    let p = plan(&obj, &inputs(), &seen, &now()).unwrap();
    assert!(
        matches!(p, Plan::Steady(_)),
        "nothing IES can change: {p:?}"
    );
    let out = reconciled(&obj, &inputs(), &seen, &p, Acted::Nothing, &now());
    let synced = find_condition(&out.status.conditions, types::SYNCED).unwrap();
    assert_eq!(
        (synced.status, synced.reason.as_str()),
        (ConditionStatus::False, reasons::IMMUTABLE_FIELD_DRIFT)
    );
    assert!(
        synced.message.contains("cannot change vni"),
        "{}",
        synced.message
    );
    let drift = &out.notes[0];
    assert_eq!(drift.reason, DRIFT_DETECTED);
    assert_eq!(
        drift.message,
        "CloudVPN service differs from the spec: vni (spec 1236, cloud 7) (the cloud cannot \
         change these fields; they are left alone)"
    );
    assert_eq!(out.status.drift[0].field, "vni");
    // The next reconcile knows it: no second Event, the detection time stays.
    let mut again = obj.clone();
    again.status = Some(out.status.clone());
    let later = at(NOW + 60);
    let out2 = reconciled(&again, &inputs(), &seen, &p, Acted::Nothing, &later);
    assert!(out2.notes.is_empty(), "{:?}", out2.notes);
    assert_eq!(out2.status.drift, out.status.drift);
}

#[test]
fn an_observed_service_is_reported_never_changed() {
    let mut s = s2s();
    s.management_policy = ManagementPolicy::Observe;
    s.cloud_id = Some("8hiqoNgCSZmrlD1MyROJbg".into());
    s.bandwidth = 90000;
    let obj = object(s);
    let seen = observed(Found::exists(service("Completed", "30000"), How::Adopted));
    let p = plan(&obj, &inputs(), &seen, &now()).unwrap();
    assert_eq!(p, Plan::Report);
    let out = reconciled(&obj, &inputs(), &seen, &p, Acted::Nothing, &now());
    assert!(
        out.notes.is_empty(),
        "observing adopts nothing: {:?}",
        out.notes
    );
    let synced = find_condition(&out.status.conditions, types::SYNCED).unwrap();
    assert_eq!(synced.reason, reasons::OBSERVE_ONLY);
    let ready = find_condition(&out.status.conditions, types::READY).unwrap();
    assert_eq!(ready.reason, reasons::AVAILABLE);
    assert_eq!(out.status.current_bandwidth, Some(30000));
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
        match obj.account() {
            Account::Ies(t) => assert_eq!(
                t.credentials_secret,
                Some((String::new(), "ies-credentials".into()))
            ),
            other => panic!("{other:?}"),
        }
        seen += 1;
    }
    let secret = std::fs::read_to_string(dir.join("cloudvpnservice-credentials.yaml")).unwrap();
    assert!(secret.contains(&format!("authToken: {DEFAULT_AUTH_TOKEN}")));
    assert_eq!(seen, 2);
}
