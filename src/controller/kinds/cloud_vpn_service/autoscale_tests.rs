//! Whole reconciles of an autoscaled CloudVpnService: the simulator's load profiles drive the
//! traffic, the manual clock moves in 5 s steps, and the cooldowns are proven by what happens
//! just before and just after they end (the e2e scenario waited for them in real time).
use std::time::Duration;

use kube::runtime::controller::Action;
use serde_json::json;

use super::reconcile_tests::{
    bandwidth_in_ies, calls, events_with, ies, no, services, status, world, yes, AUTOSCALED,
};
use crate::controller::runtime::clock::epoch_seconds;
use crate::controller::runtime::events::{actions, MANUAL_CHANGE};
use crate::controller::runtime::testing::{cond, condition, World};
use crate::crd::cloud_vpn_service::CloudVpnService;
use crate::crd::common::reasons::{COOLING_DOWN, SCALING_DOWN, SCALING_UP};
use crate::crd::common::types::{READY, SCALING};

const NAME: &str = "branch-link";
const LINE: &str = "branch-link-01";
const STEP: Duration = Duration::from_secs(5);

/// One reconcile after the clock moved `STEP`.
#[derive(Debug)]
struct Step {
    /// Seconds since the line was Ready.
    t: i64,
    /// The `Scaling` condition's reason and message.
    scaling: (String, String),
    /// The bandwidth a change made in this reconcile asks for, and the Event's reason.
    change: Option<(i64, String)>,
}

/// Sets the line's demand (a sample every 5 s).
async fn load(w: &World, mbps: u64) {
    let profile = json!({"steps": [{"at_seconds": 0, "mbps": mbps}], "sample_interval_seconds": 5, "noise_percent": 2});
    ies(w, "PUT", &format!("/traffic/{LINE}"), profile).await;
}

/// Moves the clock and reconciles until `done` holds for the last step (at most `rounds`).
async fn run(w: &World, start: i64, rounds: usize, done: impl Fn(&Step) -> bool) -> Vec<Step> {
    let mut steps = Vec::new();
    for _ in 0..rounds {
        w.advance(STEP);
        let seen = w.events::<CloudVpnService>(NAME).len();
        w.reconcile::<CloudVpnService>(NAME).await;
        let o = w.get::<CloudVpnService>(NAME);
        let change = w.events::<CloudVpnService>(NAME)[seen..]
            .iter()
            .find(|n| [SCALING_UP, SCALING_DOWN, MANUAL_CHANGE].contains(&n.reason.as_str()))
            .map(|n| {
                assert_eq!(n.action, actions::AUTOSCALE, "{n:?}");
                (
                    status(&o).target_bandwidth.expect("a change runs"),
                    n.reason.clone(),
                )
            });
        let scaling = condition(&o, SCALING).expect("a Scaling condition");
        let step = Step {
            t: epoch_seconds(&w.ctx.clock.now()) - start,
            scaling: (scaling.reason, scaling.message),
            change,
        };
        let stop = done(&step);
        steps.push(step);
        if stop {
            return steps;
        }
    }
    panic!("not there after {rounds} steps: {steps:#?}");
}

/// The changes of `steps` with their times.
fn changes(steps: &[Step]) -> Vec<(i64, i64, &str)> {
    steps
        .iter()
        .filter_map(|s| s.change.as_ref().map(|(to, why)| (s.t, *to, why.as_str())))
        .collect()
}

/// Whether a reconcile strictly between `from` and `to` held a wanted change for the cooldown.
fn cooled_down(steps: &[Step], from: i64, to: i64, which: &str) -> bool {
    steps.iter().any(|s| {
        s.t > from && s.t < to && s.scaling.0 == COOLING_DOWN && s.scaling.1.contains(which)
    })
}

#[tokio::test]
async fn autoscaling_follows_a_rising_then_falling_load_after_each_cooldown() {
    let w = world().await;
    // The example's 20 s scale-up cooldown, and a scale-down cooldown longer than its 60 s
    // window, so that the cooldown (not the window) is what holds the decrease.
    let mut obj: CloudVpnService = serde_yaml::from_str(AUTOSCALED).unwrap();
    obj.spec
        .autoscaling
        .as_mut()
        .unwrap()
        .scale_down_cooldown_seconds = 120;
    // 100 Mbit/s of demand: far above what maxBandwidth (40 Mbit/s) carries.
    load(&w, 100).await;
    w.apply(obj);
    w.ready::<CloudVpnService>(NAME).await;
    let start = epoch_seconds(&w.ctx.clock.now());

    // Raised step by step to maxBandwidth, each step exactly when the cooldown allows it.
    let steps = run(&w, start, 40, |s| s.scaling.0 == "AtLimit").await;
    let ups = changes(&steps);
    let to: Vec<i64> = ups.iter().map(|u| u.1).collect();
    assert_eq!(to, [20000, 30000, 40000], "step by step: {steps:#?}");
    assert!(ups.iter().all(|u| u.2 == SCALING_UP));
    for pair in ups.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            (20..25).contains(&gap),
            "the next step at the end of the 20 s cooldown: {steps:#?}"
        );
        assert!(
            cooled_down(&steps, pair[0].0, pair[1].0, "scale-up cooldown 20 s"),
            "the cooldown held a wanted increase: {steps:#?}"
        );
    }
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(cond(&o, READY), yes("Available"));
    assert_eq!(cond(&o, SCALING), no("AtLimit"));
    let st = status(&o);
    assert_eq!(st.current_bandwidth, Some(40000));
    assert!(
        st.traffic
            .as_ref()
            .and_then(|t| t.utilization_percent)
            .unwrap()
            > 90.0
    );
    assert_eq!(st.scaling_history.len(), 3);
    assert!(st
        .scaling_history
        .iter()
        .all(|h| h.reason == SCALING_UP && h.utilization_percent.is_some()));
    assert_eq!(o.spec.bandwidth, 10000, "the spec is never written back");
    assert_eq!(bandwidth_in_ies(&w, LINE).await, Some(40000));
    let last_up = ups[2].0;
    assert_eq!(
        w.reconcile::<CloudVpnService>(NAME).await,
        Action::requeue(Duration::from_secs(10)),
        "evaluated every sixth of the window"
    );

    // The load falls: lowered once, when the scale-down cooldown ends.
    load(&w, 5).await;
    let steps = run(&w, start, 40, |s| s.change.is_some()).await;
    let down = changes(&steps)[0];
    assert_eq!((down.1, down.2), (10000, SCALING_DOWN), "{steps:#?}");
    assert!(
        (120..125).contains(&(down.0 - last_up)),
        "at the end of the 120 s cooldown: {steps:#?}"
    );
    assert!(
        cooled_down(&steps, last_up, down.0, "scale-down cooldown 120 s"),
        "{steps:#?}"
    );
    let o = w.ready::<CloudVpnService>(NAME).await;
    assert_eq!(status(&o).current_bandwidth, Some(10000));
    assert_eq!(status(&o).scaling_history[0].reason, SCALING_DOWN);
    for reason in [SCALING_UP, SCALING_DOWN] {
        assert!(!events_with(&w, NAME, reason).is_empty(), "{reason} Event");
    }

    w.delete::<CloudVpnService>(NAME);
    w.reconcile::<CloudVpnService>(NAME).await;
    w.advance(Duration::from_secs(1));
    w.reconcile::<CloudVpnService>(NAME).await;
    assert!(w.try_get::<CloudVpnService>(NAME).is_none());
    assert!(services(&w).await.is_empty());
}

#[tokio::test]
async fn a_manual_bandwidth_change_wins_and_the_autoscaler_resumes_after_its_cooldown() {
    let w = world().await;
    // 3 Mbit/s: 30 % of the starting 10000, far below the 70 % target at 30000.
    load(&w, 3).await;
    w.apply_yaml::<CloudVpnService>(AUTOSCALED);
    w.ready::<CloudVpnService>(NAME).await;
    let start = epoch_seconds(&w.ctx.clock.now());
    run(&w, start, 10, |s| s.scaling.0 == "AtLimit").await;

    // The user raises spec.bandwidth: applied at once, recorded, announced.
    let mut obj: CloudVpnService = serde_yaml::from_str(AUTOSCALED).unwrap();
    obj.spec.bandwidth = 30000;
    w.apply(obj);
    let updates = calls(&w, "UpdateService").await;
    w.reconcile::<CloudVpnService>(NAME).await;
    let manual_at = epoch_seconds(&w.ctx.clock.now()) - start;
    let o = w.get::<CloudVpnService>(NAME);
    assert_eq!(calls(&w, "UpdateService").await, updates + 1);
    let manual = events_with(&w, NAME, MANUAL_CHANGE);
    assert_eq!(manual.len(), 1);
    assert_eq!(manual[0].action, actions::AUTOSCALE);
    let entry = &status(&o).scaling_history[0];
    assert_eq!(
        (
            entry.reason.as_str(),
            entry.from_bandwidth,
            entry.to_bandwidth
        ),
        (MANUAL_CHANGE, 10000, 30000)
    );
    assert_eq!(cond(&o, SCALING), yes(SCALING_UP));

    // The autoscaler wants less, but leaves the manual value alone for its 40 s cooldown.
    let steps = run(&w, start, 20, |s| s.change.is_some()).await;
    let down = changes(&steps)[0];
    assert_eq!((down.1, down.2), (10000, SCALING_DOWN), "{steps:#?}");
    assert!((40..45).contains(&(down.0 - manual_at)), "{steps:#?}");
    assert!(
        cooled_down(&steps, manual_at, down.0, "scale-down cooldown 40 s"),
        "{steps:#?}"
    );
    assert_eq!(calls(&w, "UpdateService").await, updates + 2);

    // The unchanged spec is not applied again over the autoscaler's value.
    run(&w, start, 10, |s| s.scaling.0 == "AtLimit").await;
    assert_eq!(bandwidth_in_ies(&w, LINE).await, Some(10000));
    assert_eq!(events_with(&w, NAME, MANUAL_CHANGE).len(), 1);
    assert_eq!(w.get::<CloudVpnService>(NAME).spec.bandwidth, 30000);
    assert_eq!(services(&w).await.len(), 1);
}
