//! The declarative lifecycle of VpnGateway, CustomerGateway and VpnConnection, as a user sees it.
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{condition, repo_path, wait_until, Env, PROJECT};

const READY_TIMEOUT: Duration = Duration::from_secs(90);
const KINDS: [(&str, &str); 3] = [
    ("vpngateway", "edge-gateway"),
    ("customergateway", "office-router"),
    ("vpnconnection", "office-link"),
];

/// Simulator delays short enough for CI, long enough that pending states are seen.
const SIM_ARGS: &[&str] = &[
    "--gateway-create-delay",
    "2s",
    "--gateway-update-delay",
    "1s",
    "--gateway-delete-delay",
    "1s",
    "--connection-create-delay",
    "1s",
    "--connection-update-delay",
    "1s",
    "--connection-delete-delay",
    "1s",
];

fn project(env: &Env) -> Value {
    env.sim_admin(&format!("/_sim/projects/{PROJECT}"))
}

fn count(project: &Value, kind: &str) -> usize {
    project[kind].as_array().map_or(0, Vec::len)
}

fn total_calls(env: &Env) -> u64 {
    let c = env.sim_admin("/_sim/counters");
    c["operations"].as_object().map_or(0, |ops| {
        ops.values().filter_map(|o| o["calls"].as_u64()).sum()
    })
}

fn reason(obj: &Value, type_: &str) -> String {
    condition(obj, type_)
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("")
        .to_string()
}

pub fn apply_update_and_delete_with_kubectl() {
    let env = Env::start("lifecycle", SIM_ARGS);
    let started = Instant::now();
    env.apply_file(&repo_path("examples/psk-secret.yaml"));
    env.apply_file(&repo_path("examples/vpngateway.yaml"));
    env.apply_file(&repo_path("examples/customergateway.yaml"));
    env.apply_file(&repo_path("examples/vpnconnection.yaml"));

    // Everything becomes Ready, with cloud ids and a current observedGeneration.
    let mut ready_at = Vec::new();
    for (kind, name) in KINDS {
        let obj = env.wait_condition(kind, name, "Ready", "True", READY_TIMEOUT);
        assert!(
            obj["status"]["cloudId"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{kind} has a cloud id"
        );
        assert_eq!(obj["metadata"]["finalizers"][0], "vpn.hwcloud.dev/cleanup");
        ready_at.push(started.elapsed());
    }
    // The README's `kubectl get hwvpn`: the category lists every kind of the operator.
    let listed = env.kubectl_ok(&["get", "hwvpn", "-o", "name"]);
    for (_, name) in KINDS {
        assert!(
            listed.contains(name),
            "kubectl get hwvpn lists {name}: {listed}"
        );
    }
    let conn = env.get("vpnconnection", "office-link").unwrap();
    assert_eq!(reason(&conn, "TunnelUp"), "TunnelActive", "{conn}");
    assert!(conn["status"]["pskSha256"]
        .as_str()
        .is_some_and(|h| h.len() == 64));
    let gw = env.get("vpngateway", "edge-gateway").unwrap();
    assert_eq!(gw["status"]["eip1"]["ipAddress"], "198.51.100.11");

    // Exactly one cloud resource per object, owned by it.
    let p = project(&env);
    assert_eq!(
        (
            count(&p, "vpn_gateways"),
            count(&p, "customer_gateways"),
            count(&p, "vpn_connections")
        ),
        (1, 1, 1)
    );
    let cloud_gw = &p["vpn_gateways"][0]["vpn_gateway"];
    assert_eq!(cloud_gw["id"], gw["status"]["cloudId"]);
    let uid = gw["metadata"]["uid"].as_str().unwrap();
    assert!(cloud_gw["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["key"] == "vpn.hwcloud.dev:uid" && t["value"] == uid));
    let converge_calls = total_calls(&env);
    println!(
        "FIGURES lifecycle: all Ready in {:.1}s (gateway {:.1}s, cgw {:.1}s, connection {:.1}s); {} cloud calls for 3 objects ({:.1} per object)",
        ready_at[2].as_secs_f64(),
        ready_at[0].as_secs_f64(),
        ready_at[1].as_secs_f64(),
        ready_at[2].as_secs_f64(),
        converge_calls,
        converge_calls as f64 / 3.0
    );

    // An updatable field: the cloud follows and status reports the new generation.
    env.kubectl_ok(&[
        "patch",
        "vpngateway",
        "edge-gateway",
        "--type=merge",
        "-p",
        r#"{"spec":{"localSubnets":["192.168.0.0/24","192.168.7.0/24"]}}"#,
    ]);
    let gw = env.wait_condition("vpngateway", "edge-gateway", "Ready", "True", READY_TIMEOUT);
    assert_eq!(gw["status"]["observedGeneration"], 2);
    wait_until(
        "cloud gateway has both local subnets",
        Duration::from_secs(30),
        || {
            let p = project(&env);
            let subnets = p["vpn_gateways"][0]["vpn_gateway"]["local_subnets"]
                .as_array()?
                .len();
            (subnets == 2).then_some(())
        },
    );
    assert!(env
        .event_reasons("edge-gateway")
        .iter()
        .any(|r| r == "Updated"));

    // Deleting the gateway first: it waits for the connection that uses it.
    env.kubectl_ok(&["delete", "vpngateway", "edge-gateway", "--wait=false"]);
    wait_until(
        "gateway waits for its connection",
        Duration::from_secs(30),
        || {
            let gw = env.get("vpngateway", "edge-gateway")?;
            (reason(&gw, "Ready") == "WaitingForDependents").then_some(())
        },
    );
    assert_eq!(
        count(&project(&env), "vpn_gateways"),
        1,
        "the gateway is still in the cloud"
    );

    // Delete the rest: everything goes, in the cloud and in Kubernetes.
    env.kubectl_ok(&["delete", "vpnconnection", "office-link", "--wait=false"]);
    env.kubectl_ok(&["delete", "customergateway", "office-router", "--wait=false"]);
    for (kind, name) in KINDS {
        env.wait_gone(kind, name, READY_TIMEOUT);
    }
    let p = project(&env);
    assert_eq!(
        (
            count(&p, "vpn_gateways"),
            count(&p, "customer_gateways"),
            count(&p, "vpn_connections")
        ),
        (0, 0, 0),
        "nothing is left in the cloud: {p}"
    );
    println!(
        "FIGURES lifecycle: scenario took {:.1}s, {} cloud calls in all",
        env.elapsed().as_secs_f64(),
        total_calls(&env)
    );
}

pub fn connection_applied_before_its_gateway_waits_then_converges() {
    let env = Env::start("dependency", SIM_ARGS);
    env.apply_file(&repo_path("examples/psk-secret.yaml"));
    env.apply_file(&repo_path("examples/customergateway.yaml"));
    env.apply_file(&repo_path("examples/vpnconnection.yaml"));
    let conn = wait_until(
        "connection waits for its gateway",
        Duration::from_secs(30),
        || {
            let c = env.get("vpnconnection", "office-link")?;
            (reason(&c, "Ready") == "DependencyNotReady").then_some(c)
        },
    );
    assert!(
        conn["status"]["cloudId"].is_null(),
        "nothing created before the gateway exists"
    );
    assert_eq!(count(&project(&env), "vpn_connections"), 0);

    // The gateway arrives; the connection converges without any edit.
    let applied = Instant::now();
    env.apply_file(&repo_path("examples/vpngateway.yaml"));
    env.wait_condition("vpngateway", "edge-gateway", "Ready", "True", READY_TIMEOUT);
    let gw_ready = applied.elapsed();
    let conn = env.wait_condition(
        "vpnconnection",
        "office-link",
        "Ready",
        "True",
        READY_TIMEOUT,
    );
    assert_eq!(
        conn["metadata"]["generation"], 1,
        "the user never edited the connection"
    );
    println!(
        "FIGURES dependency: gateway Ready {:.1}s after apply, connection Ready {:.1}s after apply",
        gw_ready.as_secs_f64(),
        applied.elapsed().as_secs_f64()
    );

    for (kind, name) in [KINDS[2], KINDS[0], KINDS[1]] {
        env.kubectl_ok(&["delete", kind, name, "--wait=false"]);
    }
    for (kind, name) in KINDS {
        env.wait_gone(kind, name, READY_TIMEOUT);
    }
    assert_eq!(count(&project(&env), "vpn_gateways"), 0);
}
