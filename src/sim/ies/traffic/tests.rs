//! The traffic model: profiles, capping by the bandwidth in effect, determinism, range rules.
use std::collections::BTreeMap;

use chrono::Duration as ChronoDuration;

use super::*;
use crate::cloud::model::ies::{ActiveStatus, ServiceStatus};

fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 - 1_750_000_000 % 3600, 0)
        .single()
        .unwrap()
}

fn service(history: &[(i64, i64)]) -> Service {
    Service {
        service_id: "s1".into(),
        name: "n".into(),
        description: String::new(),
        service_definition_id: "d".into(),
        template_id: "t".into(),
        topology: "Site2SiteList".into(),
        params: BTreeMap::from([
            ("CloudVpnName".into(), "vpn1".into()),
            (
                "Bandwidth".into(),
                history.last().map_or(0, |h| h.1).to_string(),
            ),
        ]),
        status: ServiceStatus::Completed,
        active_status: ActiveStatus::Active,
        created: t0(),
        pending: None,
        bandwidth_history: history
            .iter()
            .map(|(s, b)| (t0() + ChronoDuration::seconds(*s), *b))
            .collect(),
        last_operation_id: None,
    }
}

fn profile(steps: &[(f64, f64)], shape: Shape, interval: u64) -> ActiveProfile {
    ActiveProfile {
        profile: LoadProfile {
            steps: steps
                .iter()
                .map(|(at, mbps)| LoadStep {
                    at_seconds: *at,
                    mbps: *mbps,
                })
                .collect(),
            shape,
            sample_interval_seconds: Some(interval),
            noise_percent: Some(0.0),
            inbound_ratio: None,
        },
        origin: t0(),
    }
}

fn query(metric: Metric, start: i64, end: i64) -> SeriesQuery {
    SeriesQuery {
        metric,
        direction: Direction::Outbound,
        timedim: TimeDimension::Minute,
        indicator: Indicator::Max,
        start: t0().timestamp() + start,
        end: t0().timestamp() + end,
    }
}

fn sorted(mut v: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    v.sort_by_key(|p| p.0);
    v
}

#[test]
fn profiles_step_or_ramp() {
    let p = profile(&[(0.0, 10.0), (60.0, 50.0), (120.0, 5.0)], Shape::Step, 5).profile;
    let table = [
        (-5.0, 10.0),
        (0.0, 10.0),
        (59.9, 10.0),
        (60.0, 50.0),
        (119.0, 50.0),
        (500.0, 5.0),
    ];
    for (at, want) in table {
        assert_eq!(p.mbps_at(at), want, "step at {at}");
    }
    let p = LoadProfile {
        shape: Shape::Linear,
        ..p
    };
    assert_eq!(p.mbps_at(30.0), 30.0);
    assert_eq!(p.mbps_at(90.0), 27.5);
    assert!(LoadProfile {
        steps: vec![],
        ..p.clone()
    }
    .check()
    .is_err());
    let backwards = LoadProfile {
        steps: vec![
            LoadStep {
                at_seconds: 10.0,
                mbps: 1.0,
            },
            LoadStep {
                at_seconds: 5.0,
                mbps: 1.0,
            },
        ],
        ..p.clone()
    };
    assert!(backwards.check().is_err());
    let negative = LoadProfile {
        steps: vec![LoadStep {
            at_seconds: 0.0,
            mbps: -1.0,
        }],
        ..p
    };
    assert!(negative.check().is_err());
}

#[test]
fn observed_rate_follows_demand_and_saturates_at_the_bandwidth() {
    // 10000 kbit/s = 10 Mbit/s line, raised to 40 Mbit/s at 120 s.
    let svc = service(&[(0, 10_000), (120, 40_000)]);
    let prof = profile(&[(0.0, 5.0), (60.0, 25.0)], Shape::Step, 10);
    let cfg = TrafficConfig::default();
    let m = LineModel {
        service: &svc,
        profile: Some(&prof),
        cfg: &cfg,
    };
    let pts = sorted(m.series(
        &query(Metric::TrafficRate, 0, 200),
        t0() + ChronoDuration::seconds(1000),
    ));
    assert_eq!(pts.len(), 21, "every 10 s from 0 to 200 inclusive");
    let at = |s: i64| pts.iter().find(|p| p.0 == t0().timestamp() + s).unwrap().1;
    assert_eq!(at(30), 5.0e6, "5 Mbit/s demand fits a 10 Mbit/s line");
    let saturated = at(90);
    assert!(
        (9.7e6..=10.0e6).contains(&saturated),
        "25 Mbit/s demand on a 10 Mbit/s line shows 97-100 % ({saturated})"
    );
    assert_eq!(at(130), 25.0e6, "after the raise the demand fits again");

    let util = sorted(m.series(
        &query(Metric::BandwidthUtilization, 0, 200),
        t0() + ChronoDuration::seconds(1000),
    ));
    let u = |s: i64| util.iter().find(|p| p.0 == t0().timestamp() + s).unwrap().1;
    assert!((u(30) - 50.0).abs() < 1e-9);
    assert!((u(130) - 62.5).abs() < 1e-9);
}

#[test]
fn series_is_deterministic_sparse_and_never_in_the_future() {
    let svc = service(&[(120, 10_000)]);
    let cfg = TrafficConfig {
        sample_interval_seconds: 60,
        ..TrafficConfig::default()
    };
    let m = LineModel {
        service: &svc,
        profile: None,
        cfg: &cfg,
    };
    let now = t0() + ChronoDuration::seconds(600);
    let q = query(Metric::TrafficRate, -3600, 3600);
    let a = m.series(&q, now);
    assert_eq!(a, m.series(&q, now), "same inputs, same points, same order");
    let times: Vec<i64> = sorted(a.clone())
        .iter()
        .map(|p| p.0 - t0().timestamp())
        .collect();
    assert_eq!(
        times,
        [120, 180, 240, 300, 360, 420, 480, 540, 600],
        "only while up, not after now"
    );
    assert_ne!(
        a.iter().map(|p| p.0).collect::<Vec<_>>(),
        times
            .iter()
            .map(|t| t + t0().timestamp())
            .collect::<Vec<_>>(),
        "not sorted, like the real API"
    );
    // Default demand: 30 % of the first bandwidth (10 Mbit/s), +-5 % noise.
    for (_, v) in &a {
        assert!((2.85e6..=3.15e6).contains(v), "{v}");
    }
    // Another seed gives other noise.
    let cfg2 = TrafficConfig { seed: 7, ..cfg };
    let m2 = LineModel { cfg: &cfg2, ..m };
    assert_ne!(sorted(m2.series(&q, now)), sorted(a));
    // Inbound is a share of outbound.
    let inbound = SeriesQuery {
        direction: Direction::Inbound,
        ..q.clone()
    };
    let mean = |v: &[(i64, f64)]| v.iter().map(|p| p.1).sum::<f64>() / v.len() as f64;
    let ratio = mean(&m2.series(&inbound, now)) / mean(&m2.series(&q, now));
    assert!((0.55..0.65).contains(&ratio), "{ratio}");
}

#[test]
fn max_points_keeps_the_newest_and_hours_aggregate() {
    let svc = service(&[(0, 10_000)]);
    let prof = profile(&[(0.0, 1.0), (3600.0, 4.0)], Shape::Step, 60);
    let cfg = TrafficConfig {
        max_points: 5,
        ..TrafficConfig::default()
    };
    let m = LineModel {
        service: &svc,
        profile: Some(&prof),
        cfg: &cfg,
    };
    let now = t0() + ChronoDuration::seconds(7200);
    let pts = sorted(m.series(&query(Metric::TrafficRate, 0, 7200), now));
    let times: Vec<i64> = pts.iter().map(|p| p.0 - t0().timestamp()).collect();
    assert_eq!(times, [6960, 7020, 7080, 7140, 7200]);

    let hourly = SeriesQuery {
        timedim: TimeDimension::Hour,
        ..query(Metric::TrafficRate, 0, 7199)
    };
    let pts = sorted(m.series(&hourly, now));
    assert_eq!(
        pts,
        vec![(t0().timestamp(), 1.0e6), (t0().timestamp() + 3600, 4.0e6)]
    );
    let min = SeriesQuery {
        indicator: Indicator::Min,
        ..query(Metric::TrafficRate, 3000, 4000)
    };
    let min = SeriesQuery {
        timedim: TimeDimension::Hour,
        ..min
    };
    let pts = sorted(m.series(&min, now));
    assert_eq!(pts[0].1, 1.0e6);
}

#[test]
fn values_print_like_the_decks() {
    // Like the deck's: a long decimal string that parses back to the same number.
    let v = 22.826_666_666_666_668;
    let text = format_value(v);
    assert_eq!(text.split('.').nth(1).map(str::len), Some(60), "{text}");
    assert!(text.starts_with("22.82666666666666"), "{text}");
    assert_eq!(text.parse::<f64>().unwrap(), v);
    let back: f64 = format_value(2_791_180.146_666_667).parse().unwrap();
    assert_eq!(back, 2_791_180.146_666_667);
}
