//! The bandwidth a line should have: the spec's, a manual change, a change made in IES, or the
//! autoscaler's decision on the line's traffic. Pure functions; the traffic is read by
//! [`super::observe`].
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::autoscaler::{self, Action, Change, Decision, Policy, Sample};
use crate::controller::runtime::clock::{epoch_seconds, from_epoch_seconds};
use crate::controller::runtime::events::{actions, Note, EXTERNAL_CHANGE, MANUAL_CHANGE};
use crate::crd::cloud_vpn_service::{
    CloudVpnServiceSpec, CloudVpnServiceStatus, ScalingDecision, TrafficSample,
};
use crate::crd::common::reasons;

/// Traffic window read for `status.traffic` when autoscaling is off.
pub const TRAFFIC_WINDOW: i64 = 600;
/// Most entries kept in `status.scalingHistory`.
pub const MAX_HISTORY: usize = 10;

/// Merged traffic: per time, the inbound and outbound rates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub time: i64,
    pub inbound: Option<f64>,
    pub outbound: Option<f64>,
}

impl Point {
    /// The higher direction.
    pub fn rate(&self) -> f64 {
        self.inbound
            .unwrap_or(0.0)
            .max(self.outbound.unwrap_or(0.0))
    }
}

/// Joins the two directions by time (sorted).
pub fn merge_directions(
    inbound: &[crate::cloud::model::ies::Sample],
    outbound: &[crate::cloud::model::ies::Sample],
) -> Vec<Point> {
    let mut map = std::collections::BTreeMap::<i64, Point>::new();
    let empty = |time| Point {
        time,
        inbound: None,
        outbound: None,
    };
    for s in inbound {
        map.entry(s.time).or_insert_with(|| empty(s.time)).inbound = Some(s.value);
    }
    for s in outbound {
        map.entry(s.time).or_insert_with(|| empty(s.time)).outbound = Some(s.value);
    }
    map.into_values().collect()
}

/// `status.traffic` from the newest point.
pub fn traffic_status(
    points: &[Point],
    bandwidth: Option<i64>,
    now: &Time,
) -> Option<TrafficSample> {
    let p = points.last()?;
    Some(TrafficSample {
        inbound_rate: p.inbound,
        outbound_rate: p.outbound,
        utilization_percent: bandwidth.map(|b| round1(autoscaler::utilization(p.rate(), b))),
        sample_time: Some(from_epoch_seconds(p.time, now)),
    })
}

/// `v` to one decimal.
pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The history as autoscaler changes (newest first in status; order does not matter).
pub fn history_changes(history: &[ScalingDecision]) -> Vec<Change> {
    history
        .iter()
        .map(|h| Change {
            time: epoch_seconds(&h.time),
            from: h.from_bandwidth,
            to: h.to_bandwidth,
        })
        .collect()
}

/// Adds a decision at the front and keeps [`MAX_HISTORY`].
pub fn record(history: &mut Vec<ScalingDecision>, entry: ScalingDecision) {
    history.insert(0, entry);
    history.truncate(MAX_HISTORY);
}

/// Why the bandwidth should change, if it should.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// `spec.bandwidth` changed (no autoscaling) or a manual change (with autoscaling).
    Spec,
    /// The bandwidth was changed in IES and autoscaling is off: put it back.
    Drift,
    /// The autoscaler decided.
    Autoscale(Decision),
}

/// The bandwidth plan of an idle instance.
#[derive(Clone, Debug, PartialEq)]
pub struct BandwidthPlan {
    /// The bandwidth to have.
    pub desired: i64,
    pub cause: Option<Cause>,
    /// History entries of changes the operator follows (manual, external).
    pub followed: Vec<ScalingDecision>,
    /// The autoscaler's decision (also when it holds).
    pub decision: Option<Decision>,
    pub notes: Vec<Note>,
}

/// Pure bandwidth planning. `current` is what IES shows, `ours` whether it results from the
/// operator's last update (so it is not an external change), `samples` the merged traffic
/// (`None`: unreadable).
pub fn plan_bandwidth(
    spec: &CloudVpnServiceSpec,
    prev: &CloudVpnServiceStatus,
    current: i64,
    ours: bool,
    samples: Option<&[Sample]>,
    now: &Time,
) -> BandwidthPlan {
    let manual = prev.spec_bandwidth != Some(spec.bandwidth);
    let mut plan = BandwidthPlan {
        desired: current,
        cause: None,
        followed: Vec::new(),
        decision: None,
        notes: Vec::new(),
    };
    let Some(auto) = &spec.autoscaling else {
        if current != spec.bandwidth {
            plan.desired = spec.bandwidth;
            plan.cause = Some(if manual { Cause::Spec } else { Cause::Drift });
        }
        return plan;
    };
    let policy = Policy::from_spec(auto);
    let entry = |reason: &str, from: i64, to: i64, message: String| ScalingDecision {
        time: now.clone(),
        from_bandwidth: from,
        to_bandwidth: to,
        utilization_percent: None,
        reason: reason.to_string(),
        message,
    };
    if manual {
        let to = spec.bandwidth.clamp(
            policy.min_bandwidth,
            policy.max_bandwidth.max(policy.min_bandwidth),
        );
        if to != current {
            let msg = format!(
                "spec.bandwidth changed to {}: applying {to} (the autoscaler resumes after its \
                 cooldown)",
                spec.bandwidth
            );
            plan.followed
                .push(entry(MANUAL_CHANGE, current, to, msg.clone()));
            plan.notes
                .push(Note::normal(MANUAL_CHANGE, actions::AUTOSCALE, msg));
            plan.desired = to;
            plan.cause = Some(Cause::Spec);
        }
        return plan;
    }
    if let Some(before) = prev.current_bandwidth.filter(|b| *b != current && !ours) {
        let msg = format!(
            "the bandwidth was changed in IES from {before} to {current}; the autoscaler adopts it"
        );
        plan.followed
            .push(entry(EXTERNAL_CHANGE, before, current, msg.clone()));
        plan.notes
            .push(Note::normal(EXTERNAL_CHANGE, actions::OBSERVE, msg));
    }
    let mut history = history_changes(&prev.scaling_history);
    history.extend(history_changes(&plan.followed));
    let decision = match samples {
        Some(s) => autoscaler::decide(&policy, current, s, &history, epoch_seconds(now)),
        None => Decision {
            action: Action::Hold,
            reason: reasons::METRICS_UNAVAILABLE,
            message: "the traffic of the line could not be read".into(),
            utilization: None,
        },
    };
    if let Some(to) = decision.target() {
        plan.desired = to;
        plan.cause = Some(Cause::Autoscale(decision.clone()));
    }
    plan.decision = Some(decision);
    plan
}

/// How often an autoscaled line is evaluated: a sixth of the window, 10-60 s.
pub fn autoscale_interval(window_seconds: i64) -> Duration {
    Duration::from_secs((window_seconds / 6).clamp(10, 60) as u64)
}
