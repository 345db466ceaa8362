//! CloudVpnService as a user sees it: apply, resize, autoscale under a rising then falling load,
//! delete, and orphan. Needs the simulator binary to serve IES beside the VPN API (under `/rest`
//! and `/_sim/ies`); each object points its `spec.cloud.endpoint` at it and uses the example
//! credentials Secret (the simulator's default token).
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{condition, http_request, repo_path, wait_until, Env};

const READY_TIMEOUT: Duration = Duration::from_secs(90);
const KIND: &str = "cloudvpnservice";

/// Short IES operation delays (the default create takes 10 s).
fn short_delays(env: &Env) {
    sim_ies(
        env,
        "PUT",
        "/delays",
        json!({"create": "2s", "update": "1s", "delete": "1s"}),
    );
}

/// A call to the IES admin API of the simulator.
fn sim_ies(env: &Env, method: &str, path: &str, body: Value) -> Value {
    let url = format!("{}/_sim/ies{path}", env.sim_url);
    let (status, text) =
        http_request(method, &url, Some(&body.to_string())).expect("simulator reachable");
    assert_eq!(status, 200, "{method} /_sim/ies{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The services the simulated IES holds.
fn ies_services(env: &Env) -> Vec<Value> {
    env.sim_admin("/_sim/ies/state")["services"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ies_bandwidth(env: &Env, cloud_vpn_name: &str) -> Option<i64> {
    ies_services(env).iter().find_map(|s| {
        let line = &s["service"]["parameters"]
            .as_object()?
            .values()
            .next()?
            .as_array()?[0];
        (line["CloudVpnName"] == cloud_vpn_name)
            .then(|| line["Bandwidth"].as_str()?.parse().ok())
            .flatten()
    })
}

/// Applies an example with its IES endpoint pointed at the scenario's simulator (and optional
/// spec changes).
fn apply_example(env: &Env, file: &str, spec_changes: Value) {
    let text = std::fs::read_to_string(repo_path(file)).unwrap();
    let mut obj: Value = serde_yaml::from_str(&text).unwrap();
    obj["spec"]["cloud"]["endpoint"] = json!(format!("{}/rest", env.sim_url));
    if let Value::Object(changes) = spec_changes {
        for (k, v) in changes {
            obj["spec"][k] = v;
        }
    }
    env.apply(&serde_yaml::to_string(&obj).unwrap());
}

fn status_i64(obj: &Value, field: &str) -> Option<i64> {
    obj["status"][field].as_i64()
}

/// Waits until `status.currentBandwidth` is `want` with Ready=True.
fn wait_bandwidth(env: &Env, name: &str, want: i64, timeout: Duration) -> Value {
    wait_until(&format!("{name} at bandwidth {want}"), timeout, || {
        let obj = env.get(KIND, name)?;
        let ready = condition(&obj, "Ready")?["status"] == "True";
        (ready && status_i64(&obj, "currentBandwidth") == Some(want)).then_some(obj)
    })
}

pub fn cloud_vpn_service_apply_resize_and_delete() {
    let env = Env::start("cvpn_lifecycle", &[]);
    short_delays(&env);
    env.apply_file(&repo_path("examples/cloudvpnservice-credentials.yaml"));
    let applied = Instant::now();
    apply_example(&env, "examples/cloudvpnservice.yaml", json!({}));

    let obj = env.wait_condition(KIND, "dc-link", "Ready", "True", READY_TIMEOUT);
    println!(
        "FIGURES cvpn: Ready {:.1}s after apply (simulated activation)",
        applied.elapsed().as_secs_f64()
    );
    let id = obj["status"]["cloudId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 22, "an IES service id: {obj}");
    assert_eq!(obj["status"]["cloudState"], "Completed");
    assert_eq!(status_i64(&obj, "currentBandwidth"), Some(30000));
    assert_eq!(obj["metadata"]["finalizers"][0], "vpn.hwcloud.dev/cleanup");
    assert_eq!(ies_services(&env).len(), 1, "exactly one service in IES");
    assert_eq!(ies_bandwidth(&env, "dc-link-01"), Some(30000));

    // Resize: IES follows and status reports it.
    env.kubectl_ok(&[
        "patch",
        KIND,
        "dc-link",
        "--type=merge",
        "-p",
        r#"{"spec":{"bandwidth":60000}}"#,
    ]);
    let obj = wait_bandwidth(&env, "dc-link", 60000, READY_TIMEOUT);
    assert_eq!(obj["status"]["observedGeneration"], 2);
    assert_eq!(obj["status"]["cloudId"], id.as_str(), "resized in place");
    assert_eq!(ies_bandwidth(&env, "dc-link-01"), Some(60000));
    let events = env.event_reasons("dc-link");
    assert!(events.iter().any(|r| r == "Created"), "{events:?}");
    assert!(events.iter().any(|r| r == "Updated"), "{events:?}");

    // Delete: gone from IES, then from Kubernetes.
    env.kubectl_ok(&["delete", KIND, "dc-link", "--wait=false"]);
    env.wait_gone(KIND, "dc-link", READY_TIMEOUT);
    assert!(ies_services(&env).is_empty(), "nothing left in IES");
}
