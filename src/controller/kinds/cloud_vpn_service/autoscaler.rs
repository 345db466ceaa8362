//! Bandwidth autoscaling of a `CloudVpnService`: a pure decision function, [`decide`], that
//! behaves like a careful HorizontalPodAutoscaler. No I/O and no clock: the controller passes
//! the traffic samples, the history of changes and `now`.
//!
//! **Utilisation** of a sample is its traffic rate (the higher of inbound and outbound) as a
//! percentage of the *current* bandwidth (units: see
//! [`TRAFFIC_RATE_PER_BANDWIDTH_UNIT`]).
//!
//! **Rules**, in order:
//! 1. A bandwidth outside `[minBandwidth, maxBandwidth]` (e.g. after the limits were changed)
//!    is brought inside at once, cooldowns or not: the bandwidth is never left outside.
//! 2. Only samples inside the window *and* newer than the last change count: older ones were
//!    measured against another capacity (a saturated line cannot show more than 100 %). With
//!    fewer than `min_samples` of them there is no decision (`MetricsUnavailable`).
//! 3. **Scale up** when the *median* utilisation is above `target × (1 + tolerance)`: half the
//!    samples must be high, so a single spike never scales up. The new bandwidth is
//!    `ceil(current × median / target)`, rounded up to a multiple of `step`, at least one
//!    step (or 1) above the current, at most `maxBandwidth`. Because a saturated line reads
//!    at most ~100 %, each increase is at most about `100 / target` times the bandwidth: a
//!    heavy load is followed step by step, each step after the scale-up cooldown.
//! 4. **Scale down** when even the *highest* sample is below `target × (1 - tolerance)`:
//!    the whole window must be quiet, so a dip never scales down and a single spike blocks it.
//!    The new bandwidth is `ceil(current × peak / target)`, rounded up to a multiple of `step`,
//!    at least `minBandwidth`; a rounding that gives no decrease means no change.
//! 5. A wanted change waits for its cooldown since the **last change of any kind** (scale-up
//!    cooldown before an increase, scale-down cooldown before a decrease) → `CoolingDown`;
//!    a change that the limits forbid → `AtLimit`; otherwise `Stable`.
//!
//! **Manual changes win, and the autoscaler resumes from them.** With autoscaling on,
//! `spec.bandwidth` is the starting bandwidth. When a user changes `spec.bandwidth`, the
//! controller applies it (it is within the limits: the CRD checks that) and records it in the
//! history as a change with reason `ManualChange`; a bandwidth changed in IES by someone else
//! is adopted the same way (`ExternalChange`), never reverted. Since cooldowns count from the
//! last change of any kind, the autoscaler leaves a manual value alone for at least the
//! cooldown, and only moves it later if the traffic calls for it. To pin a bandwidth, set
//! `minBandwidth = maxBandwidth` or remove `autoscaling`.
use crate::cloud::model::ies::TRAFFIC_RATE_PER_BANDWIDTH_UNIT;
use crate::crd::cloud_vpn_service::Autoscaling;
use crate::crd::common::reasons;

/// The autoscaling policy, from `spec.autoscaling` plus fixed tuning.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub min_bandwidth: i64,
    pub max_bandwidth: i64,
    /// Target utilisation in percent (1-100).
    pub target_percent: f64,
    /// Changes are rounded up to a multiple of this.
    pub step: Option<i64>,
    /// Seconds after any change before an increase.
    pub scale_up_cooldown: i64,
    /// Seconds after any change before a decrease.
    pub scale_down_cooldown: i64,
    /// Seconds of traffic the decision looks at.
    pub window: i64,
    /// Relative band around the target with no change (0.1 = ±10 %, as the HPA).
    pub tolerance: f64,
    /// Fewest usable samples for a decision.
    pub min_samples: usize,
}

impl Policy {
    /// Default tolerance (the HPA's).
    pub const TOLERANCE: f64 = 0.1;
    /// Default fewest samples.
    pub const MIN_SAMPLES: usize = 3;

    /// The policy of `spec.autoscaling`.
    pub fn from_spec(a: &Autoscaling) -> Self {
        Self {
            min_bandwidth: a.min_bandwidth,
            max_bandwidth: a.max_bandwidth,
            target_percent: a.target_utilization_percent.clamp(1, 100) as f64,
            step: a.step.filter(|s| *s > 0),
            scale_up_cooldown: a.scale_up_cooldown_seconds.max(0),
            scale_down_cooldown: a.scale_down_cooldown_seconds.max(0),
            window: a.window_seconds.max(1),
            tolerance: Self::TOLERANCE,
            min_samples: Self::MIN_SAMPLES,
        }
    }
}

/// One traffic sample: epoch seconds and rate (the higher direction), in traffic-rate units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub time: i64,
    pub rate: f64,
}

/// A past bandwidth change (by the autoscaler, a user or someone in IES).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// Epoch seconds.
    pub time: i64,
    pub from: i64,
    pub to: i64,
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Change the bandwidth to this value.
    Scale { to: i64 },
    /// Leave it.
    Hold,
}

/// The decision with its condition reason (`ScalingUp`, `ScalingDown`, `Stable`,
/// `CoolingDown`, `AtLimit`, `MetricsUnavailable`) and an explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub reason: &'static str,
    pub message: String,
    /// The utilisation the decision rests on (median for increases, peak for decreases).
    pub utilization: Option<f64>,
}

impl Decision {
    fn hold(reason: &'static str, message: String, utilization: Option<f64>) -> Self {
        Self {
            action: Action::Hold,
            reason,
            message,
            utilization,
        }
    }

    fn scale(to: i64, reason: &'static str, message: String, utilization: Option<f64>) -> Self {
        Self {
            action: Action::Scale { to },
            reason,
            message,
            utilization,
        }
    }

    /// The new bandwidth, if the decision changes it.
    pub fn target(&self) -> Option<i64> {
        match self.action {
            Action::Scale { to } => Some(to),
            Action::Hold => None,
        }
    }
}

/// Utilisation in percent of a rate on a line of `bandwidth`.
pub fn utilization(rate: f64, bandwidth: i64) -> f64 {
    if bandwidth <= 0 {
        return 0.0;
    }
    rate / (bandwidth as f64 * TRAFFIC_RATE_PER_BANDWIDTH_UNIT) * 100.0
}

fn round_up(value: i64, step: Option<i64>) -> i64 {
    match step {
        Some(s) if s > 0 => value.div_euclid(s) * s + if value.rem_euclid(s) == 0 { 0 } else { s },
        _ => value,
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// `ceil(current × utilisation / target)` without overflow.
fn proportional(current: i64, util: f64, target: f64) -> i64 {
    let v = (current as f64 * util / target).ceil();
    if v.is_finite() {
        v.clamp(0.0, i64::MAX as f64 / 2.0) as i64
    } else {
        i64::MAX / 2
    }
}

/// Decides whether to change the bandwidth (see the module documentation for the rules).
pub fn decide(
    policy: &Policy,
    current: i64,
    samples: &[Sample],
    history: &[Change],
    now: i64,
) -> Decision {
    let (min, max) = (
        policy.min_bandwidth,
        policy.max_bandwidth.max(policy.min_bandwidth),
    );
    if current < min {
        return Decision::scale(
            min,
            reasons::SCALING_UP,
            format!("bandwidth {current} is below minBandwidth {min}"),
            None,
        );
    }
    if current > max {
        return Decision::scale(
            max,
            reasons::SCALING_DOWN,
            format!("bandwidth {current} is above maxBandwidth {max}"),
            None,
        );
    }

    let last_change = history.iter().map(|c| c.time).max();
    let from = now - policy.window;
    let mut utils: Vec<f64> = samples
        .iter()
        .filter(|s| s.time > from && s.time <= now)
        .filter(|s| last_change.is_none_or(|c| s.time > c))
        .filter(|s| s.rate.is_finite() && s.rate >= 0.0)
        .map(|s| utilization(s.rate, current))
        .collect();
    if utils.len() < policy.min_samples {
        let since = if last_change.is_some_and(|c| c > from) {
            "since the last change"
        } else {
            "in the window"
        };
        return Decision::hold(
            reasons::METRICS_UNAVAILABLE,
            format!(
                "{} traffic samples {since} ({} s); at least {} are needed for a decision",
                utils.len(),
                policy.window,
                policy.min_samples
            ),
            None,
        );
    }
    utils.sort_by(f64::total_cmp);
    let typical = median(&utils);
    let peak = utils[utils.len() - 1];
    let target = policy.target_percent;
    let since_change = last_change.map_or(i64::MAX, |c| now.saturating_sub(c));

    if typical > target * (1.0 + policy.tolerance) {
        return scale_up(policy, current, typical, since_change);
    }
    if peak < target * (1.0 - policy.tolerance) {
        return scale_down(policy, current, peak, since_change);
    }
    Decision::hold(
        reasons::STABLE,
        format!(
            "utilisation (median {typical:.1}%, peak {peak:.1}%) is within {:.0}% of the target {target:.0}%",
            policy.tolerance * 100.0
        ),
        Some(typical),
    )
}

/// Rule 3 (with 5): the median utilisation `typical` is above the target band.
fn scale_up(policy: &Policy, current: i64, typical: f64, since_change: i64) -> Decision {
    let max = policy.max_bandwidth.max(policy.min_bandwidth);
    let target = policy.target_percent;
    let what = format!("median utilisation {typical:.1}% is above the target {target:.0}%");
    if current >= max {
        return Decision::hold(
            reasons::AT_LIMIT,
            format!("{what}, but the bandwidth is at maxBandwidth {max}"),
            Some(typical),
        );
    }
    if since_change < policy.scale_up_cooldown {
        return Decision::hold(
            reasons::COOLING_DOWN,
            format!(
                "{what}; waiting {} s more (scale-up cooldown {} s since the last change)",
                policy.scale_up_cooldown - since_change,
                policy.scale_up_cooldown
            ),
            Some(typical),
        );
    }
    let wanted = round_up(proportional(current, typical, target), policy.step);
    let at_least = round_up(current + 1, policy.step);
    let to = wanted.max(at_least).min(max);
    Decision::scale(
        to,
        reasons::SCALING_UP,
        format!("{what}: bandwidth {current} → {to}"),
        Some(typical),
    )
}

/// Rule 4 (with 5): even the highest utilisation `peak` is below the target band.
fn scale_down(policy: &Policy, current: i64, peak: f64, since_change: i64) -> Decision {
    let (min, max) = (
        policy.min_bandwidth,
        policy.max_bandwidth.max(policy.min_bandwidth),
    );
    let target = policy.target_percent;
    let what = format!("peak utilisation {peak:.1}% is below the target {target:.0}%");
    if current <= min {
        return Decision::hold(
            reasons::AT_LIMIT,
            format!("{what}, but the bandwidth is at minBandwidth {min}"),
            Some(peak),
        );
    }
    if since_change < policy.scale_down_cooldown {
        return Decision::hold(
            reasons::COOLING_DOWN,
            format!(
                "{what}; waiting {} s more (scale-down cooldown {} s since the last change)",
                policy.scale_down_cooldown - since_change,
                policy.scale_down_cooldown
            ),
            Some(peak),
        );
    }
    let to = round_up(proportional(current, peak, target), policy.step)
        .max(min)
        .min(max);
    if to >= current {
        return Decision::hold(
            reasons::STABLE,
            format!(
                "{what}, but a step of {} leaves no smaller bandwidth",
                policy.step.unwrap_or(1)
            ),
            Some(peak),
        );
    }
    Decision::scale(
        to,
        reasons::SCALING_DOWN,
        format!("{what}: bandwidth {current} → {to}"),
        Some(peak),
    )
}

#[cfg(test)]
#[path = "autoscaler_tests.rs"]
mod tests;
