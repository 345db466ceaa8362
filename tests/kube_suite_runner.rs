//! The runner of the suites that need a Kubernetes API (`tests/kube_suite/`): without a
//! kubeconfig their scenarios are reported as ignored (never as passed), a panicking scenario
//! fails alone, and scenarios run one after another.
mod kube_suite;

use std::cell::RefCell;
use std::ffi::OsStr;

use kube_suite::{mode, run, scenario, Mode, Scenario};
use libtest_mimic::{Arguments, Conclusion};

thread_local! {
    /// What the scenarios did, in order. Scenarios run on the thread that calls `run`.
    static CALLS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn record(what: &'static str) {
    CALLS.with(|c| c.borrow_mut().push(what));
}

fn calls() -> Vec<&'static str> {
    CALLS.with(|c| c.take())
}

mod scenarios {
    pub fn a_first() {
        super::record("first");
    }

    pub fn b_panics() {
        super::record("panics");
        panic!("the cluster said no");
    }

    pub async fn c_asynchronous() {
        tokio::task::yield_now().await;
        super::record("asynchronous");
    }
}

fn z_last() {
    record("last");
}

/// Registered out of order: they run in name order.
fn suite() -> Vec<Scenario> {
    vec![
        scenario!(z_last),
        scenario!(scenarios::b_panics),
        scenario!(async scenarios::c_asynchronous),
        scenario!(scenarios::a_first),
    ]
}

/// Runs the suite with `args` (plus a log file) and returns the conclusion and libtest's report,
/// with the padding that aligns the outcomes (`test a_first   ... ok`) taken out.
fn run_suite(args: Arguments, mode: &Mode) -> (Conclusion, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("report.txt");
    let args = Arguments {
        logfile: Some(log.to_string_lossy().into_owned()),
        ..args
    };
    let conclusion = run(args, mode, suite());
    let report = std::fs::read_to_string(log).unwrap();
    let unpadded: Vec<String> = report
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    (conclusion, unpadded.join("\n"))
}

fn counts(c: &Conclusion) -> (u64, u64, u64, u64) {
    (
        c.num_passed,
        c.num_failed,
        c.num_ignored,
        c.num_filtered_out,
    )
}

#[test]
fn the_mode_follows_the_environment() {
    let os = |s| Some(OsStr::new(s));
    assert_eq!(mode(os("/k/config"), None), Mode::Run);
    assert_eq!(mode(os("/k/config"), os("1")), Mode::Run);
    assert!(matches!(mode(None, None), Mode::Ignore(r) if r.contains("VPN_E2E_KUBECONFIG")));
    assert!(matches!(mode(os(""), os("0")), Mode::Ignore(_)));
    let Mode::Fail(message) = mode(os(""), os("1")) else {
        panic!("VPN_E2E_REQUIRED=1 without a kubeconfig must fail");
    };
    assert!(message.contains("VPN_E2E_KUBECONFIG"), "{message}");
}

#[test]
fn without_a_kubeconfig_every_scenario_is_ignored_and_none_runs() {
    let ignore = mode(None, None);
    let (conclusion, report) = run_suite(Arguments::default(), &ignore);
    assert_eq!(counts(&conclusion), (0, 0, 4, 0), "{report}");
    assert!(!conclusion.has_failed());
    assert!(
        report.contains(
            "test scenarios::a_first ... ignored (set VPN_E2E_KUBECONFIG to run)\n\
             test scenarios::b_panics ... ignored"
        ),
        "{report}"
    );
    assert!(
        report.contains("test result: ok. 0 passed; 0 failed; 4 ignored;"),
        "{report}"
    );
    assert_eq!(calls(), Vec::<&str>::new());

    // Asking for ignored tests does not make them run (or pass) without a cluster.
    let args = Arguments {
        include_ignored: true,
        ..Arguments::default()
    };
    let (conclusion, report) = run_suite(args, &ignore);
    assert_eq!(counts(&conclusion), (0, 0, 4, 0), "{report}");
    assert_eq!(calls(), Vec::<&str>::new());
}

#[test]
fn with_a_kubeconfig_scenarios_run_in_name_order_and_a_panic_fails_only_its_own() {
    // More threads asked for: the scenarios still run one after another, on this thread (the
    // thread-local record would miss any that ran elsewhere).
    let args = Arguments {
        test_threads: Some(4),
        ..Arguments::default()
    };
    let (conclusion, report) = run_suite(args, &Mode::Run);
    assert_eq!(counts(&conclusion), (3, 1, 0, 0), "{report}");
    assert_eq!(calls(), ["first", "panics", "asynchronous", "last"]);
    assert!(
        report.contains("test scenarios::a_first ... ok"),
        "{report}"
    );
    assert!(
        report.contains("test scenarios::b_panics ... FAILED"),
        "{report}"
    );
    assert!(
        report.contains("test scenarios::c_asynchronous ... ok"),
        "{report}"
    );
    assert!(report.contains("test z_last ... ok"), "{report}");
    assert!(
        report.contains("---- scenarios::b_panics ----\ntest panicked: the cluster said no"),
        "{report}"
    );
    assert!(
        report.contains("test result: FAILED. 3 passed; 1 failed; 0 ignored;"),
        "{report}"
    );
    assert_eq!(conclusion.exit_code(), std::process::ExitCode::from(101));
}

#[test]
fn a_required_cluster_that_is_missing_fails_every_scenario() {
    let (conclusion, report) = run_suite(Arguments::default(), &mode(None, Some("1".as_ref())));
    assert_eq!(counts(&conclusion), (0, 4, 0, 0), "{report}");
    assert_eq!(calls(), Vec::<&str>::new());
    assert!(
        report.contains("VPN_E2E_REQUIRED=1 but VPN_E2E_KUBECONFIG is not set"),
        "{report}"
    );
}

#[test]
fn name_filters_select_scenarios() {
    let args = Arguments {
        filter: Some("scenarios::".into()),
        skip: vec!["panics".into()],
        ..Arguments::default()
    };
    let (conclusion, report) = run_suite(args, &Mode::Run);
    assert_eq!(counts(&conclusion), (2, 0, 0, 2), "{report}");
    assert_eq!(calls(), ["first", "asynchronous"]);

    let args = Arguments {
        filter: Some("z_last".into()),
        exact: true,
        ..Arguments::default()
    };
    let (conclusion, _) = run_suite(args, &Mode::Run);
    assert_eq!(counts(&conclusion), (1, 0, 0, 3));
    assert_eq!(calls(), ["last"]);
}
