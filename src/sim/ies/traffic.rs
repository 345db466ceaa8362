//! The traffic model behind `GET /cloudvpnwatch/v1/traffic/connections/{name}/{metric}`.
//!
//! Each line has a *demand* (what its users want to send), from a load profile set through the
//! admin API (`PUT /_sim/ies/traffic/{CloudVpnName}`), or else a flat share of the bandwidth it
//! was created with. The *observed* rate is the demand, with seeded deterministic noise, capped
//! by the bandwidth in effect at that moment (a saturated line shows 97-100 % of its
//! capacity). So the series depends only on the seed, the profile, the line's bandwidth
//! history and the clock: the same inputs always give the same points.
//!
//! Units (ASSUMPTIONS; the deck documents neither): `Bandwidth` in kbit/s, `traffic-rate` in
//! bit/s (fits the deck's values being multiples of 1/75); profiles are written in Mbit/s.
//! `bandwidth-utilization` (a metric name the deck does not give) answers in percent.
//!
//! Points exist only while the line is up (from the end of its create), at multiples of the
//! sample interval, never in the future, at most `max_points` (the newest). They come back in a
//! deterministic shuffled order, because the real API does not sort them. Values are decimal
//! strings with 60 decimals, like the deck's. `timedim=minute` answers one point per sample
//! interval (60 s unless a profile sets less); `timedim=hour` aggregates the samples of each
//! hour with the `indicator` (`max` default, `min`, `avg`).
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::config::TrafficConfig;
use super::services::Service;
use crate::cloud::model::ies::{Direction, Indicator, Metric, TimeDimension};

/// Bit/s of traffic per unit of `Bandwidth` (kbit/s → bit/s), the client's assumption.
pub const BPS_PER_BANDWIDTH_UNIT: f64 = crate::cloud::model::ies::TRAFFIC_RATE_PER_BANDWIDTH_UNIT;

/// How demand moves between profile points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Each point holds until the next one.
    #[default]
    Step,
    /// Straight lines between points (rise / fall ramps).
    Linear,
}

/// One point of a load profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadStep {
    /// Seconds after the profile was set.
    pub at_seconds: f64,
    /// Demand in Mbit/s (outbound; inbound is `inbound_ratio` of it).
    pub mbps: f64,
}

/// The demand of one line over time, e.g.
/// `{"steps": [{"at_seconds": 0, "mbps": 5}, {"at_seconds": 60, "mbps": 50}], "shape": "linear"}`.
/// Before the first point the demand is the first point's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadProfile {
    pub steps: Vec<LoadStep>,
    #[serde(default)]
    pub shape: Shape,
    /// Overrides the configured sample interval for this line (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_interval_seconds: Option<u64>,
    /// Overrides the configured noise (percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_percent: Option<f64>,
    /// Overrides the configured inbound ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_ratio: Option<f64>,
}

impl LoadProfile {
    /// Checks the values a user typed.
    pub fn check(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("a load profile needs at least one step".into());
        }
        let mut last = f64::NEG_INFINITY;
        for s in &self.steps {
            if !s.at_seconds.is_finite() || s.at_seconds < 0.0 || s.at_seconds < last {
                return Err("steps[].at_seconds must be zero or more and not decreasing".into());
            }
            if !s.mbps.is_finite() || s.mbps < 0.0 || s.mbps > 1.0e7 {
                return Err("steps[].mbps must be between 0 and 10000000".into());
            }
            last = s.at_seconds;
        }
        if let Some(i) = self.sample_interval_seconds {
            if i == 0 || i > 3600 {
                return Err("sample_interval_seconds must be 1-3600".into());
            }
        }
        if let Some(n) = self.noise_percent {
            if !(0.0..=50.0).contains(&n) {
                return Err("noise_percent must be 0-50".into());
            }
        }
        if let Some(r) = self.inbound_ratio {
            if !(0.0..=1.0).contains(&r) {
                return Err("inbound_ratio must be 0-1".into());
            }
        }
        Ok(())
    }

    /// Demand in Mbit/s `elapsed` seconds after the profile was set.
    pub fn mbps_at(&self, elapsed: f64) -> f64 {
        let Some(first) = self.steps.first() else {
            return 0.0;
        };
        if elapsed <= first.at_seconds {
            return first.mbps;
        }
        for pair in self.steps.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if elapsed < b.at_seconds {
                return match self.shape {
                    Shape::Step => a.mbps,
                    Shape::Linear => {
                        let span = b.at_seconds - a.at_seconds;
                        if span <= 0.0 {
                            b.mbps
                        } else {
                            a.mbps + (b.mbps - a.mbps) * (elapsed - a.at_seconds) / span
                        }
                    }
                };
            }
        }
        self.steps.last().map_or(0.0, |s| s.mbps)
    }
}

/// A profile with the moment it was set (its time origin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveProfile {
    pub profile: LoadProfile,
    pub origin: DateTime<Utc>,
}

/// A query, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesQuery {
    pub metric: Metric,
    pub direction: Direction,
    pub timedim: TimeDimension,
    pub indicator: Indicator,
    pub start: i64,
    pub end: i64,
}

/// SplitMix64: a fast, well-mixed 64-bit hash step.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// A deterministic number in [0, 1) for (seed, line, time, stream).
fn unit(seed: u64, line: u64, t: i64, stream: u64) -> f64 {
    let h = mix(seed ^ mix(line ^ mix(t as u64 ^ mix(stream))));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The traffic model of one line.
pub struct LineModel<'a> {
    pub service: &'a Service,
    pub profile: Option<&'a ActiveProfile>,
    pub cfg: &'a TrafficConfig,
}

impl LineModel<'_> {
    /// Seconds between points.
    pub fn interval(&self) -> i64 {
        let i = self
            .profile
            .and_then(|p| p.profile.sample_interval_seconds)
            .unwrap_or(self.cfg.sample_interval_seconds);
        i.clamp(1, 3600) as i64
    }

    /// Outbound demand in bit/s at `t`.
    pub fn demand_bps(&self, t: DateTime<Utc>) -> f64 {
        match self.profile {
            Some(p) => {
                let elapsed = (t - p.origin).num_milliseconds() as f64 / 1000.0;
                p.profile.mbps_at(elapsed) * 1.0e6
            }
            None => {
                let first = self
                    .service
                    .bandwidth_history
                    .first()
                    .map_or(0, |(_, b)| *b);
                first as f64 * BPS_PER_BANDWIDTH_UNIT * self.cfg.default_utilization_percent / 100.0
            }
        }
    }

    /// The observed rate (bit/s) of one sample at epoch second `t`, or `None` when the line
    /// was not up.
    pub fn rate_at(&self, t: i64, direction: &Direction) -> Option<(f64, f64)> {
        let at = Utc.timestamp_opt(t, 0).single()?;
        let capacity = self.service.bandwidth_at(at)? as f64 * BPS_PER_BANDWIDTH_UNIT;
        let noise = self
            .profile
            .and_then(|p| p.profile.noise_percent)
            .unwrap_or(self.cfg.noise_percent)
            / 100.0;
        let (ratio, stream) = match direction {
            Direction::Inbound => (
                self.profile
                    .and_then(|p| p.profile.inbound_ratio)
                    .unwrap_or(self.cfg.inbound_ratio),
                1,
            ),
            _ => (1.0, 2),
        };
        let line = fnv(self.service.cloud_vpn_name());
        let u = unit(self.cfg.seed, line, t, stream) * 2.0 - 1.0;
        let wanted = (self.demand_bps(at) * ratio * (1.0 + noise * u)).max(0.0);
        let saturated = capacity * (0.97 + 0.03 * unit(self.cfg.seed, line, t, stream + 10));
        Some((wanted.min(saturated), capacity))
    }

    /// The points of a query as (epoch seconds, value), in the order the API sends them.
    pub fn series(&self, q: &SeriesQuery, now: DateTime<Utc>) -> Vec<(i64, f64)> {
        let step = self.interval();
        let end = q.end.min(now.timestamp());
        let up = self
            .service
            .bandwidth_history
            .first()
            .map(|(t, _)| t.timestamp());
        let Some(up) = up else {
            return Vec::new();
        };
        let start = q.start.max(up);
        if start > end {
            return Vec::new();
        }
        let value = |t: i64| {
            self.rate_at(t, &q.direction)
                .map(|(rate, cap)| match q.metric {
                    Metric::BandwidthUtilization => rate / cap * 100.0,
                    _ => rate,
                })
        };
        // `minute` is the base resolution: one point per sample interval (a profile may set a
        // shorter interval than a minute to speed tests up).
        let slot = match q.timedim {
            TimeDimension::Hour => 3600.max(step),
            _ => step,
        };
        let first = if start.rem_euclid(step) == 0 {
            start
        } else {
            start.div_euclid(step) * step + step
        };
        let max_points = self.cfg.max_points as i64;
        let mut points: Vec<(i64, f64)> = if slot == step {
            let count = (end - first).div_euclid(step) + 1;
            let skip = (count - max_points).max(0);
            (skip..count.max(0))
                .filter_map(|i| {
                    let t = first + i * step;
                    value(t).map(|v| (t, v))
                })
                .collect()
        } else {
            // Aggregate the samples of each slot with the indicator.
            let first_slot = start.div_euclid(slot) * slot;
            let slots = (end - first_slot).div_euclid(slot) + 1;
            let skip = (slots - max_points).max(0);
            (skip..slots.max(0))
                .filter_map(|i| {
                    let s0 = first_slot + i * slot;
                    let vals: Vec<f64> = (0..slot / step)
                        .map(|k| s0 + k * step)
                        .filter(|t| (start..=end).contains(t))
                        .filter_map(value)
                        .collect();
                    aggregate(&vals, &q.indicator).map(|v| (s0, v))
                })
                .collect()
        };
        // The real API does not sort; shuffle deterministically.
        let seed = self.cfg.seed;
        points.sort_by_key(|(t, _)| mix(seed ^ (*t as u64)));
        points
    }
}

fn aggregate(vals: &[f64], indicator: &Indicator) -> Option<f64> {
    if vals.is_empty() {
        return None;
    }
    Some(match indicator {
        Indicator::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
        Indicator::Avg => vals.iter().sum::<f64>() / vals.len() as f64,
        _ => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// A value as the deck prints them: a decimal string with 60 decimals (the exact binary
/// expansion, e.g. `22.826666666666667760560160971294862974900752305984497070312500`).
pub fn format_value(v: f64) -> String {
    format!("{v:.60}")
}

#[cfg(test)]
mod tests;
