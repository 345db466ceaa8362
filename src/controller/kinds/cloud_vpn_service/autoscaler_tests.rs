//! Autoscaler decisions as a table.
use super::*;

const NOW: i64 = 1_000_000;

fn policy() -> Policy {
    Policy {
        min_bandwidth: 10_000,
        max_bandwidth: 40_000,
        target_percent: 70.0,
        step: Some(10_000),
        scale_up_cooldown: 60,
        scale_down_cooldown: 120,
        window: 300,
        tolerance: 0.1,
        min_samples: 3,
    }
}

/// The rate that is `percent` of `bandwidth`.
fn rate(percent: f64, bandwidth: i64) -> f64 {
    percent / 100.0 * bandwidth as f64 * TRAFFIC_RATE_PER_BANDWIDTH_UNIT
}

/// Samples every 10 s ending at NOW, oldest first, with these utilisations of `bandwidth`.
fn series(utils: &[f64], bandwidth: i64) -> Vec<Sample> {
    let n = utils.len() as i64;
    utils
        .iter()
        .enumerate()
        .map(|(i, u)| Sample {
            time: NOW - (n - 1 - i as i64) * 10,
            rate: rate(*u, bandwidth),
        })
        .collect()
}

fn flat(util: f64, count: usize, bandwidth: i64) -> Vec<Sample> {
    series(&vec![util; count], bandwidth)
}

fn changed(ago: i64) -> Vec<Change> {
    vec![Change {
        time: NOW - ago,
        from: 10_000,
        to: 20_000,
    }]
}

struct Case {
    name: &'static str,
    policy: Policy,
    current: i64,
    samples: Vec<Sample>,
    history: Vec<Change>,
    want: Action,
    reason: &'static str,
}

fn case(
    name: &'static str,
    current: i64,
    samples: Vec<Sample>,
    history: Vec<Change>,
    want: Action,
    reason: &'static str,
) -> Case {
    Case {
        name,
        policy: policy(),
        current,
        samples,
        history,
        want,
        reason,
    }
}

use Action::{Hold, Scale};

#[test]
fn decisions() {
    let no_step = Policy {
        step: None,
        ..policy()
    };
    let mut spike = vec![50.0; 9];
    spike.push(500.0);
    let mut half_high = vec![50.0; 5];
    half_high.extend([100.0; 5]);
    let mut most_high = vec![50.0; 4];
    most_high.extend([100.0; 6]);
    let mut with_bad = flat(100.0, 5, 10_000);
    with_bad.push(Sample {
        time: NOW,
        rate: f64::NAN,
    });
    with_bad.push(Sample {
        time: NOW,
        rate: -5.0,
    });
    let mut old_and_new = flat(100.0, 10, 10_000);
    for s in old_and_new.iter_mut().take(8) {
        s.time -= 200; // before the change 95 s ago
    }
    let outside_window: Vec<Sample> = flat(100.0, 10, 10_000)
        .into_iter()
        .map(|s| Sample {
            time: s.time - 400,
            ..s
        })
        .collect();

    let cases = vec![
        case(
            "below minBandwidth is raised at once",
            5_000,
            vec![],
            changed(1),
            Scale { to: 10_000 },
            "ScalingUp",
        ),
        case(
            "above maxBandwidth is lowered at once",
            50_000,
            flat(100.0, 10, 50_000),
            changed(1),
            Scale { to: 40_000 },
            "ScalingDown",
        ),
        case(
            "no samples: no decision",
            20_000,
            vec![],
            vec![],
            Hold,
            "MetricsUnavailable",
        ),
        case(
            "too few samples: no decision",
            20_000,
            flat(100.0, 2, 20_000),
            vec![],
            Hold,
            "MetricsUnavailable",
        ),
        case(
            "on target",
            20_000,
            flat(70.0, 10, 20_000),
            vec![],
            Hold,
            "Stable",
        ),
        case(
            "within tolerance above",
            20_000,
            flat(76.0, 10, 20_000),
            vec![],
            Hold,
            "Stable",
        ),
        case(
            "within tolerance below",
            20_000,
            flat(64.0, 10, 20_000),
            vec![],
            Hold,
            "Stable",
        ),
        case(
            "saturated: one step up, rounded to the step",
            10_000,
            flat(100.0, 10, 10_000),
            vec![],
            Scale { to: 20_000 },
            "ScalingUp",
        ),
        case(
            "saturated near max: capped at maxBandwidth",
            30_000,
            flat(100.0, 10, 30_000),
            vec![],
            Scale { to: 40_000 },
            "ScalingUp",
        ),
        case(
            "saturated at max",
            40_000,
            flat(100.0, 10, 40_000),
            vec![],
            Hold,
            "AtLimit",
        ),
        case(
            "a single spike neither scales up nor down",
            20_000,
            series(&spike, 20_000),
            vec![],
            Hold,
            "Stable",
        ),
        case(
            "half the window high is not sustained",
            20_000,
            series(&half_high, 20_000),
            vec![],
            Hold,
            "Stable",
        ),
        case(
            "most of the window high scales up",
            20_000,
            series(&most_high, 20_000),
            vec![],
            Scale { to: 30_000 },
            "ScalingUp",
        ),
        case(
            "scale-up cooldown since the last change",
            10_000,
            flat(100.0, 3, 10_000),
            changed(30),
            Hold,
            "CoolingDown",
        ),
        case(
            "scale-up after the cooldown",
            10_000,
            flat(100.0, 6, 10_000),
            changed(60),
            Scale { to: 20_000 },
            "ScalingUp",
        ),
        case(
            "quiet line: down to what the peak needs",
            40_000,
            flat(10.0, 10, 40_000),
            vec![],
            Scale { to: 10_000 },
            "ScalingDown",
        ),
        case(
            "quiet line: rounded up to the step",
            40_000,
            flat(30.0, 10, 40_000),
            vec![],
            Scale { to: 20_000 },
            "ScalingDown",
        ),
        case(
            "scale-down cooldown since the last change",
            40_000,
            flat(10.0, 10, 40_000),
            changed(100),
            Hold,
            "CoolingDown",
        ),
        case(
            "scale-down after the cooldown",
            40_000,
            flat(10.0, 12, 40_000),
            changed(120),
            Scale { to: 10_000 },
            "ScalingDown",
        ),
        case(
            "quiet line at minBandwidth",
            10_000,
            flat(10.0, 10, 10_000),
            vec![],
            Hold,
            "AtLimit",
        ),
        case(
            "rounding gives no decrease",
            20_000,
            flat(60.0, 10, 20_000),
            vec![],
            Hold,
            "Stable",
        ),
        case(
            "samples before the last change do not count",
            10_000,
            old_and_new,
            changed(95),
            Hold,
            "MetricsUnavailable",
        ),
        case(
            "samples outside the window do not count",
            10_000,
            outside_window,
            vec![],
            Hold,
            "MetricsUnavailable",
        ),
        case(
            "unreadable samples are skipped",
            10_000,
            with_bad,
            vec![],
            Scale { to: 20_000 },
            "ScalingUp",
        ),
        Case {
            policy: no_step.clone(),
            ..case(
                "no step: proportional",
                10_000,
                flat(100.0, 10, 10_000),
                vec![],
                Scale { to: 14_286 },
                "ScalingUp",
            )
        },
        Case {
            policy: no_step.clone(),
            ..case(
                "no step: small excess still moves by at least 1",
                10_000,
                flat(77.1, 10, 10_000),
                vec![],
                Scale { to: 11_015 },
                "ScalingUp",
            )
        },
        Case {
            policy: no_step,
            ..case(
                "no step: down proportional to the peak",
                40_000,
                flat(35.0, 10, 40_000),
                vec![],
                Scale { to: 20_000 },
                "ScalingDown",
            )
        },
    ];
    for c in cases {
        let d = decide(&c.policy, c.current, &c.samples, &c.history, NOW);
        assert_eq!(
            (d.action, d.reason),
            (c.want, c.reason),
            "{}: {}",
            c.name,
            d.message
        );
        if let Scale { to } = d.action {
            assert!(
                (c.policy.min_bandwidth..=c.policy.max_bandwidth).contains(&to),
                "{}",
                c.name
            );
            assert!(
                d.message.contains(&to.to_string()),
                "{}: {}",
                c.name,
                d.message
            );
        }
    }
}

#[test]
fn a_rising_load_is_followed_step_by_step_and_cooldowns_hold() {
    // Demand of 100 Mbit/s on a line that starts at 10 Mbit/s: every reading is saturated.
    let p = policy();
    let mut bw = 10_000;
    let mut history: Vec<Change> = Vec::new();
    let mut steps = Vec::new();
    for minute in 0..20 {
        let now = NOW + minute * 60;
        let samples: Vec<Sample> = (0..6)
            .map(|i| Sample {
                time: now - i * 10,
                rate: rate(99.0, bw),
            })
            .collect();
        let d = decide(&p, bw, &samples, &history, now);
        if let Scale { to } = d.action {
            if let Some(last) = history.last() {
                assert!(now - last.time >= p.scale_up_cooldown, "cooldown honoured");
            }
            history.push(Change {
                time: now,
                from: bw,
                to,
            });
            steps.push(to);
            bw = to;
        }
    }
    assert_eq!(steps, [20_000, 30_000, 40_000]);
}

#[test]
fn policy_from_spec_uses_the_crd_defaults() {
    let a: Autoscaling =
        serde_json::from_value(serde_json::json!({"minBandwidth": 1000, "maxBandwidth": 5000}))
            .unwrap();
    let p = Policy::from_spec(&a);
    assert_eq!(
        (
            p.target_percent,
            p.scale_up_cooldown,
            p.scale_down_cooldown,
            p.window
        ),
        (70.0, 300, 900, 600)
    );
    assert_eq!(p.step, None);
    assert!((utilization(rate(42.0, 3000), 3000) - 42.0).abs() < 1e-9);
    assert_eq!(utilization(5.0, 0), 0.0);
}
