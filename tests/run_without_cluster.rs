//! `vpn-operator run` where there is no Kubernetes cluster: one sentence saying what to do
//! (not kube's error chain, which repeats itself), a failing exit code, and text logs without
//! ANSI colour codes since they go to a pipe.
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_vpn-operator");

/// Runs the operator with only `HOME` (and `KUBECONFIG` when given) in its environment.
fn run_operator(home: &Path, kubeconfig: Option<&Path>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--cloud", "sim", "--leader-election=false"])
        .args(["--metrics-addr", "127.0.0.1:0", "--log-format", "text"])
        .args(["--log-level", "debug"])
        .env_clear()
        .env("HOME", home);
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    cmd.output().expect("run vpn-operator")
}

fn check(out: &Output, sentence: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("error: {sentence}"),
        "the whole of stderr"
    );
    // kube's own error is logged at debug level; the text logs went to the pipe, plain.
    assert!(
        stdout.contains("DEBUG vpn_operator: no Kubernetes client configuration error="),
        "stdout: {stdout}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "ANSI codes in piped logs: {stdout:?}"
    );
}

#[test]
fn without_any_kubeconfig_it_says_what_to_do_once() {
    let home = tempfile::tempdir().unwrap();
    let out = run_operator(home.path(), None);
    check(
        &out,
        &format!(
            "no Kubernetes cluster to talk to: no kubeconfig was found (KUBECONFIG unset, \
             {}/.kube/config missing), and this is not a pod in a cluster; point KUBECONFIG at \
             a cluster's kubeconfig, or run inside a cluster",
            home.path().display()
        ),
    );
}

#[test]
fn a_kubeconfig_variable_naming_a_missing_file_is_named_once() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nowhere").join("kubeconfig");
    let out = run_operator(home.path(), Some(&missing));
    check(
        &out,
        &format!(
            "no Kubernetes cluster to talk to: KUBECONFIG names {}, which does not exist, and \
             this is not a pod in a cluster; point KUBECONFIG at a cluster's kubeconfig, or run \
             inside a cluster",
            missing.display()
        ),
    );
}
