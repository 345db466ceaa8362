//! Watching a list of namespaces (`--watch-namespaces`): objects in a watched namespace are
//! reconciled, objects elsewhere are left alone (no finalizer, no status, no cloud resource).
//! The stand-in does not enforce RBAC; the Roles of this mode are proven by `tests/rbac.rs` and
//! `tests/delivery/run.sh` on the rendered objects.
use std::time::Duration;

use serde_json::Value;

use crate::harness::{wait_until, Env};

fn customer_gateway(ns: &str, name: &str, ip: &str) -> String {
    format!(
        "apiVersion: vpn.hwcloud.dev/v1alpha1\nkind: CustomerGateway\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  name: {name}\n  idType: ip\n  idValue: {ip}\n  bgpAsn: 65000\n"
    )
}

fn get_in(env: &Env, ns: &str, name: &str) -> Value {
    let out = env.kubectl_in(ns, &["get", "customergateway", name, "-o", "json"]);
    assert!(out.status.success(), "customergateway {ns}/{name} exists");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn apply_in(env: &Env, ns: &str, yaml: &str) {
    let path = env.dir.path().join(format!("{ns}.yaml"));
    std::fs::write(&path, yaml).unwrap();
    let out = env.kubectl_in(ns, &["apply", "-f", &path.to_string_lossy()]);
    assert!(
        out.status.success(),
        "kubectl apply in {ns}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn only_the_watched_namespaces_are_reconciled() {
    let mut env = Env::start("namespaces", &[]);
    // The scenario's own namespace (--namespace) plus `watched` (--watch-namespaces); `outside`
    // exists but is not in the list.
    let watched = format!("{}-watched", env.namespace);
    let outside = format!("{}-outside", env.namespace);
    for ns in [&watched, &outside] {
        env.apply(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
        ));
    }
    env.start_operator(&["--watch-namespaces", &watched]);

    // The unwatched object first: were it watched, it would be reconciled before the other.
    apply_in(
        &env,
        &outside,
        &customer_gateway(&outside, "ignored", "203.0.113.21"),
    );
    apply_in(
        &env,
        &watched,
        &customer_gateway(&watched, "served", "203.0.113.20"),
    );

    let served = wait_until("the watched object Ready", Duration::from_secs(60), || {
        let o = get_in(&env, &watched, "served");
        let ready = o["status"]["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        ready.then_some(o)
    });
    assert_eq!(
        served["metadata"]["finalizers"][0],
        "vpn.hwcloud.dev/cleanup"
    );

    let ignored = get_in(&env, &outside, "ignored");
    assert!(
        ignored["metadata"]["finalizers"].is_null(),
        "an object outside the watched namespaces got a finalizer: {ignored}"
    );
    assert!(
        ignored["status"].is_null(),
        "an object outside the watched namespaces got a status: {ignored}"
    );
    let names: Vec<String> = env
        .cloud_resources("customer_gateways")
        .iter()
        .filter_map(|g| g["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        names,
        ["served"],
        "only the watched object reached the cloud"
    );
}
