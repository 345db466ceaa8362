//! The test runner of the suites that need a Kubernetes API (`tests/e2e/`,
//! `tests/runtime_leader.rs`; both are `harness = false` targets). It replaces libtest so that
//! a suite without `VPN_E2E_KUBECONFIG` reports its scenarios as *ignored*, not as passed:
//!
//! ```text
//! test vpn::apply_update_and_delete_with_kubectl ... ignored (set VPN_E2E_KUBECONFIG to run)
//! test result: ok. 0 passed; 0 failed; 16 ignored; 0 measured; 0 filtered out; finished in 0.00s
//! ```
//!
//! With `VPN_E2E_KUBECONFIG` every scenario runs; without it but with `VPN_E2E_REQUIRED=1` (set
//! by `.ci/run`) every scenario fails. Output and flags are libtest's (through
//! `libtest-mimic`): a name filter (one; libtest takes several), `--exact`, `--skip`, `--list`,
//! `--nocapture` (a no-op: output is never captured); names are padded so that outcomes align.
//! Scenarios run one after another on the main thread whatever `--test-threads` says, since they
//! start processes, in name order as with libtest. A panicking scenario is reported as FAILED
//! with its panic message, and the next one still runs.
//!
//! A suite registers each scenario function with one line:
//! `kube_suite::main(vec![scenario!(vpn::apply_update_and_delete_with_kubectl), ...])`, or
//! `scenario!(async name)` for an `async fn` (run on a current-thread tokio runtime, as
//! `#[tokio::test]` did).
//! This module's own tests are in `tests/kube_suite_runner.rs`.
use std::ffi::OsStr;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

/// The environment variable naming the kubeconfig of the cluster the suites run against.
pub const KUBECONFIG_VAR: &str = "VPN_E2E_KUBECONFIG";
/// With `1`, a missing kubeconfig fails every scenario instead of ignoring it (CI sets it).
pub const REQUIRED_VAR: &str = "VPN_E2E_REQUIRED";

/// One scenario: its name (what filters match) and its function.
#[derive(Clone)]
pub struct Scenario {
    pub name: String,
    pub run: fn(),
}

impl Scenario {
    /// A scenario named `path` as written in `scenario!` (`vpn::lifecycle`).
    pub fn new(path: &str, run: fn()) -> Scenario {
        Scenario {
            // `stringify!` spells a path with spaces around `::`.
            name: path.replace(' ', ""),
            run,
        }
    }
}

/// `scenario!(module::function)` registers a `fn()`; `scenario!(async function)` an `async fn()`.
macro_rules! scenario {
    (async $($path:ident)::+) => {
        $crate::kube_suite::Scenario::new(stringify!($($path)::+), || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on($($path)::+())
        })
    };
    ($($path:ident)::+) => {
        $crate::kube_suite::Scenario::new(stringify!($($path)::+), $($path)::+)
    };
}
pub(crate) use scenario;

/// What the suite does here, decided once from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A kubeconfig is given: run every scenario.
    Run,
    /// No kubeconfig: report every scenario as ignored, with this reason.
    Ignore(String),
    /// No kubeconfig although one is required: fail every scenario with this message.
    Fail(String),
}

/// The mode for the values of `VPN_E2E_KUBECONFIG` (an empty value counts as unset) and
/// `VPN_E2E_REQUIRED`.
pub fn mode(kubeconfig: Option<&OsStr>, required: Option<&OsStr>) -> Mode {
    if kubeconfig.is_some_and(|k| !k.is_empty()) {
        Mode::Run
    } else if required == Some(OsStr::new("1")) {
        Mode::Fail(format!(
            "{REQUIRED_VAR}=1 but {KUBECONFIG_VAR} is not set: point it at the kubeconfig of \
             the cluster (or kube stand-in) to test against"
        ))
    } else {
        Mode::Ignore(format!("set {KUBECONFIG_VAR} to run"))
    }
}

/// Runs `scenarios` in `mode` with libtest's command-line `args`, one after another in name
/// order (as libtest orders tests), and prints libtest's report (to `args.logfile` when set).
pub fn run(mut args: Arguments, mode: &Mode, mut scenarios: Vec<Scenario>) -> Conclusion {
    args.test_threads = Some(1);
    scenarios.sort_by(|a, b| a.name.cmp(&b.name));
    let trials = scenarios
        .into_iter()
        .map(|s| {
            let mode = mode.clone();
            Trial::ignorable_test(s.name, move || match mode {
                Mode::Run => {
                    // A panic is caught by libtest-mimic and reported as FAILED with its message.
                    (s.run)();
                    Ok(Completion::Completed)
                }
                Mode::Ignore(reason) => Ok(Completion::ignored_with(reason)),
                Mode::Fail(message) => Err(Failed::from(message)),
            })
        })
        .collect();
    libtest_mimic::run(&args, trials)
}

/// The `main` of a suite: reads the command line and the environment, runs, and returns exit
/// code 101 when a scenario failed (as libtest does).
#[cfg_attr(test, allow(dead_code))] // tests/kube_suite_runner.rs tests `run` and `mode`
pub fn main(scenarios: Vec<Scenario>) -> ExitCode {
    let mode = mode(
        std::env::var_os(KUBECONFIG_VAR).as_deref(),
        std::env::var_os(REQUIRED_VAR).as_deref(),
    );
    run(Arguments::from_args(), &mode, scenarios).exit_code()
}
