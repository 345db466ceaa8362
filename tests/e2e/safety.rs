//! Safety and day-2 operations (issue 4), proven end to end: the real operator binary against
//! the simulator (with its fault injection and admin API) and a Kubernetes API, driven with
//! real `kubectl`. Every scenario checks the cloud through the simulator's admin API and
//! Kubernetes through `kubectl`, and prints a `FIGURES` line from the simulator's counters.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{condition, reason, wait_until, Env, PROJECT, SK};

/// Generous: the machine is shared.
const TIMEOUT: Duration = Duration::from_secs(120);
const API: &str = "vpn.hwcloud.dev/v1alpha1";
const VPC: &str = "a0000000-0000-4000-8000-000000000001";
const SUBNET: &str = "b0000000-0000-4000-8000-000000000001";
const PSK: &str = "Safety-Psk-2026a";

/// Short state-machine delays: pending states are seen, scenarios stay short.
const FAST: &[&str] = &["--delay", "1s"];
/// A restarted operator starts at once (no Lease left behind by a killed one to wait for);
/// only one operator runs at a time in these scenarios.
const NO_LEASE: &[&str] = &["--leader-election=false"];

fn eip(n: u32) -> String {
    format!("e0000000-0000-4000-8000-{n:012}")
}

fn gateway(name: &str, eips: [u32; 2]) -> Value {
    json!({
        "apiVersion": API, "kind": "VpnGateway", "metadata": {"name": name},
        "spec": {
            "name": name, "attachmentType": "vpc", "networkType": "public",
            "vpcId": VPC, "connectSubnet": SUBNET, "localSubnets": ["192.168.0.0/24"],
            "flavor": "Professional1", "haMode": "active-active",
            "eip1": {"id": eip(eips[0])}, "eip2": {"id": eip(eips[1])}
        }
    })
}

fn customer_gateway(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": API, "kind": "CustomerGateway", "metadata": {"name": name},
        "spec": {"name": name, "idType": "ip", "idValue": ip, "bgpAsn": 65000}
    })
}

fn connection(name: &str, gw: &str, cgw: &str, psk_secret: &str) -> Value {
    json!({
        "apiVersion": API, "kind": "VpnConnection", "metadata": {"name": name},
        "spec": {
            "name": name, "vpnGatewayRef": {"name": gw}, "gatewayIp": "eip1",
            "customerGatewayRef": {"name": cgw}, "style": "static",
            "peerSubnets": ["172.16.0.0/16"],
            "pskSecretRef": {"name": psk_secret, "key": "psk"},
            "ikePolicy": {"ikeVersion": "v2", "lifetimeSeconds": 86400},
            "ipsecPolicy": {"lifetimeSeconds": 3600}
        }
    })
}

/// `obj` with `patch` merged into its spec.
fn with_spec(mut obj: Value, patch: Value) -> Value {
    if let (Some(spec), Some(p)) = (obj["spec"].as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            spec.insert(k.clone(), v.clone());
        }
    }
    obj
}

fn apply(env: &Env, obj: &Value) {
    env.apply(&obj.to_string());
}

fn ready(env: &Env, kind: &str, name: &str) -> Value {
    env.wait_condition(kind, name, "Ready", "True", TIMEOUT)
}

fn cloud_id(obj: &Value) -> String {
    obj["status"]["cloudId"].as_str().unwrap_or("").to_string()
}

fn has_event(env: &Env, name: &str, reason: &str) -> bool {
    env.events(name).iter().any(|(r, _)| r == reason)
}

fn kinds_of(obj: &str) -> (&'static str, &'static str) {
    match obj {
        "vpngateway" => ("vpn_gateways", "vpn-gateways"),
        "customergateway" => ("customer_gateways", "customer-gateways"),
        _ => ("vpn_connections", "vpn-connections"),
    }
}

/// Asserts that exactly one cloud resource carries the owner tag of `kind/name`, and that it
/// is the one recorded in status.
fn exactly_one(env: &Env, kind: &str, name: &str) {
    let obj = env.get(kind, name).expect("object exists");
    let uid = obj["metadata"]["uid"].as_str().unwrap();
    let owned = env.owned(kinds_of(kind).0, uid);
    assert_eq!(
        owned.len(),
        1,
        "{kind}/{name}: exactly one cloud resource with its owner tag: {owned:?}"
    );
    assert_eq!(owned[0]["id"], obj["status"]["cloudId"], "{kind}/{name}");
}

/// A gateway, a customer gateway and a connection with the given suffix.
fn trio(env: &Env, suffix: &str, eips: [u32; 2], peer_ip: &str) -> [(&'static str, String); 3] {
    let (gw, cgw, conn) = (
        format!("gw-{suffix}"),
        format!("cgw-{suffix}"),
        format!("conn-{suffix}"),
    );
    apply(env, &gateway(&gw, eips));
    apply(env, &customer_gateway(&cgw, peer_ip));
    apply(env, &connection(&conn, &gw, &cgw, "psk"));
    [
        ("vpngateway", gw),
        ("customergateway", cgw),
        ("vpnconnection", conn),
    ]
}

// ----- 1. no duplicates --------------------------------------------------------------------

pub fn lost_create_responses_and_kills_never_duplicate() {
    let mut env = Env::start_with("no-duplicates", FAST, NO_LEASE);
    env.apply_secret("psk", &[("psk", PSK)]);

    // (a) Every create is carried out but its response is lost.
    env.set_faults(json!([{
        "ops": ["CreateVgw", "CreateCgw", "CreateVpnConnection"],
        "fault": {"kind": "drop_response"}, "trigger": {"next": 3}
    }]));
    let a = trio(&env, "a", [1, 2], "203.0.113.10");
    for (kind, name) in &a {
        ready(&env, kind, name);
        exactly_one(&env, kind, name);
        assert!(
            has_event(&env, name, "Recovered"),
            "{kind}/{name} found its resource by the owner tag"
        );
    }
    let dropped = env.sim_admin("/_sim/counters");
    for op in ["CreateVgw", "CreateCgw", "CreateVpnConnection"] {
        let c = &dropped["operations"][op];
        assert_eq!(c["calls"], 1, "{op}: one create, never repeated: {c}");
        assert_eq!(c["by_status"]["dropped"], 1, "{op}: {c}");
    }

    // (b) The operator is killed (SIGKILL) after the cloud has the resource and before status
    // records its id; a new process takes over. One kind at a time: the list before the create
    // passes, the create's response is lost, and the lists after it (the operator looking for
    // what it made) are held, so status cannot get the id before the kill.
    let b = [
        (
            "vpngateway",
            "gw-b",
            "CreateVgw",
            "ListVgws",
            gateway("gw-b", [3, 4]),
        ),
        (
            "customergateway",
            "cgw-b",
            "CreateCgw",
            "ListCgws",
            customer_gateway("cgw-b", "203.0.113.11"),
        ),
        (
            "vpnconnection",
            "conn-b",
            "CreateVpnConnection",
            "ListVpnConnections",
            connection("conn-b", "gw-b", "cgw-b", "psk"),
        ),
    ];
    for (kind, name, create, list, obj) in &b {
        env.set_faults(json!([
            {"ops": [list], "fault": {"kind": "latency", "ms": 1}, "trigger": {"next": 1}},
            {"ops": [create], "fault": {"kind": "drop_response"}, "trigger": {"next": 1}},
            {"ops": [list], "fault": {"kind": "latency", "ms": 30000}, "trigger": "always"}
        ]));
        apply(&env, obj);
        let uid = env.uid(kind, name);
        wait_until(&format!("the cloud holds {kind}/{name}"), TIMEOUT, || {
            (!env.owned(kinds_of(kind).0, &uid).is_empty()).then_some(())
        });
        let obj = env.get(kind, name).unwrap();
        assert_eq!(cloud_id(&obj), "", "{kind}/{name}: status has no id yet");
        env.kill_operator_hard();
        env.set_faults(json!([]));
        env.restart_operator();
        ready(&env, kind, name);
        exactly_one(&env, kind, name);
    }

    // (c) Kills at random moments while a third set converges.
    let c = trio(&env, "c", [5, 6], "203.0.113.12");
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(rand::random::<u64>() % 2500));
        env.kill_operator_hard();
        env.restart_operator();
    }
    for (kind, name) in &c {
        ready(&env, kind, name);
        exactly_one(&env, kind, name);
    }
    for (state_kind, n) in [
        ("vpn_gateways", 3),
        ("customer_gateways", 3),
        ("vpn_connections", 3),
    ] {
        assert_eq!(env.cloud_resources(state_kind).len(), n, "{state_kind}");
    }
    env.figures("no-duplicates");
}

// ----- 2. adoption -------------------------------------------------------------------------

// ----- 3. deletionPolicy -------------------------------------------------------------------

// ----- 4. pause and observe-only ----------------------------------------------------------

// ----- 5. drift ----------------------------------------------------------------------------

// ----- 6. PSK rotation ---------------------------------------------------------------------

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The simulator's hash of the key a connection holds.
fn cloud_psk_sha256(env: &Env) -> String {
    env.cloud_entries("vpn_connections")[0]["psk_sha256"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub fn psk_rotation_follows_the_secret_without_a_spec_change() {
    let env = Env::start("psk-rotation", FAST);
    env.apply_secret("psk", &[("psk", PSK)]);
    trio(&env, "k", [1, 2], "203.0.113.10");
    let conn = ready(&env, "vpnconnection", "conn-k");
    assert_eq!(conn["status"]["pskSha256"], sha256_hex(PSK));
    assert_eq!(cloud_psk_sha256(&env), sha256_hex(PSK));

    let new_psk = "Rotated#Key-2026-b";
    let rotated_at = Instant::now();
    env.apply_secret("psk", &[("psk", new_psk)]);
    let took = wait_until("the cloud holds the new key", TIMEOUT, || {
        (cloud_psk_sha256(&env) == sha256_hex(new_psk)).then(|| rotated_at.elapsed())
    });
    let conn = wait_until("status.pskSha256 follows", TIMEOUT, || {
        let c = env.get("vpnconnection", "conn-k")?;
        (c["status"]["pskSha256"] == sha256_hex(new_psk)).then_some(c)
    });
    assert_eq!(
        conn["metadata"]["generation"], 1,
        "the connection was not edited"
    );
    assert!(has_event(&env, "conn-k", "PskRotated"));
    let conn = ready(&env, "vpnconnection", "conn-k");
    assert_eq!(reason(&conn, "TunnelUp"), "TunnelActive");

    // The key itself is nowhere: operator log, events, status of any object.
    let events = env.kubectl_ok(&["get", "events", "-o", "json"]);
    let objects = env.kubectl_ok(&[
        "get",
        "vpngateways,customergateways,vpnconnections",
        "-o",
        "json",
    ]);
    let log = env.operator_log();
    assert!(
        log.contains("UpdateVpnConnection"),
        "the log is the operator's"
    );
    for key in [PSK, new_psk] {
        assert!(!log.contains(key), "a PSK is in the operator log");
        assert!(!events.contains(key), "a PSK is in an event");
        assert!(!objects.contains(key), "a PSK is in a status");
    }
    println!(
        "FIGURES psk-rotation: new key in the cloud {:.1}s after the Secret changed",
        took.as_secs_f64()
    );
    env.figures("psk-rotation");
}

// ----- 7. busy gateways and error classes --------------------------------------------------

/// A credentials Secret fixed after the cloud refused it: the objects recover without an edit
/// (the operator watches the Secret). How seldom refused credentials are retried meanwhile is
/// proven on a simulated clock in `src/controller/scenarios.rs`.
pub fn a_fixed_credentials_secret_is_enough() {
    let env = Env::start("credentials", FAST);
    let credentials = |sk: &str| {
        env.apply_secret(
            "hwcloud-credentials",
            &[("accessKey", crate::harness::AK), ("secretKey", sk)],
        )
    };
    credentials("a-wrong-secret-key-000000000001");
    apply(&env, &gateway("gw", [1, 2]));
    apply(&env, &customer_gateway("cgw", "203.0.113.10"));
    for (kind, name) in [("vpngateway", "gw"), ("customergateway", "cgw")] {
        let obj = env.wait_reason(kind, name, "Synced", "AuthFailed", TIMEOUT);
        assert_eq!(reason(&obj, "Ready"), "AuthFailed", "Ready says why too");
        let msg = condition(&obj, "Synced").unwrap()["message"].to_string();
        assert!(
            !msg.contains("a-wrong-secret"),
            "the SK is never shown: {msg}"
        );
    }
    let fixed_at = Instant::now();
    credentials(SK);
    for (kind, name) in [("vpngateway", "gw"), ("customergateway", "cgw")] {
        let obj = ready(&env, kind, name);
        assert_eq!(obj["metadata"]["generation"], 1);
    }
    println!(
        "FIGURES credentials: Ready {:.1}s after the Secret was fixed",
        fixed_at.elapsed().as_secs_f64()
    );
    env.figures("credentials");
}

// ----- 8. connection health check ----------------------------------------------------------

// ----- 9. per-resource cloud settings -----------------------------------------------------

const PROJECT2: &str = "0e2e0000000000000000000000000002";
const AK2: &str = "E2EACCESSKEY0000002";
const SK2: &str = "e2e-secret-key-never-logged-0002";

/// Ids of the resources of `kind` in one project of the simulator.
fn ids_in(env: &Env, project: &str, kind: &str) -> Vec<String> {
    let inner = kind.trim_end_matches('s');
    env.sim_admin(&format!("/_sim/projects/{project}"))[kind]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r[inner]["id"].as_str().map(String::from))
        .collect()
}

pub fn per_object_cloud_settings_reach_another_project() {
    let project2 = format!("{PROJECT2}:{AK2}:{SK2}");
    let env = Env::start("multi-project", &["--delay", "1s", "--project", &project2]);
    env.apply_secret("psk", &[("psk", PSK)]);
    env.apply_secret(
        "project2-credentials",
        &[("accessKey", AK2), ("secretKey", SK2)],
    );
    let elsewhere = json!({"cloud": {
        "projectId": PROJECT2, "credentialsSecretRef": {"name": "project2-credentials"}
    }});
    // The default project: no spec.cloud.
    apply(&env, &gateway("gw-default", [1, 2]));
    // Project 2: a gateway, a customer gateway and a connection between them.
    apply(
        &env,
        &with_spec(gateway("gw-two", [1, 2]), elsewhere.clone()),
    );
    apply(
        &env,
        &with_spec(
            customer_gateway("cgw-two", "203.0.113.10"),
            elsewhere.clone(),
        ),
    );
    apply(
        &env,
        &with_spec(
            connection("conn-two", "gw-two", "cgw-two", "psk"),
            elsewhere.clone(),
        ),
    );
    let mut ids = Vec::new();
    for (kind, name) in [
        ("vpngateway", "gw-default"),
        ("vpngateway", "gw-two"),
        ("customergateway", "cgw-two"),
        ("vpnconnection", "conn-two"),
    ] {
        ids.push(cloud_id(&ready(&env, kind, name)));
    }
    assert_eq!(ids_in(&env, PROJECT, "vpn_gateways"), vec![ids[0].clone()]);
    assert_eq!(ids_in(&env, PROJECT2, "vpn_gateways"), vec![ids[1].clone()]);
    assert_eq!(
        ids_in(&env, PROJECT2, "customer_gateways"),
        vec![ids[2].clone()]
    );
    assert_eq!(
        ids_in(&env, PROJECT2, "vpn_connections"),
        vec![ids[3].clone()]
    );
    assert!(ids_in(&env, PROJECT, "customer_gateways").is_empty());
    assert!(ids_in(&env, PROJECT, "vpn_connections").is_empty());
    let gw_two = env.get("vpngateway", "gw-two").unwrap();
    assert_eq!(
        gw_two["status"]["eip1"]["ipAddress"], "198.51.100.11",
        "project 2's own EIP"
    );

    // Deletion goes to the right project too.
    for (kind, name) in [
        ("vpnconnection", "conn-two"),
        ("customergateway", "cgw-two"),
        ("vpngateway", "gw-two"),
    ] {
        env.kubectl_ok(&["delete", kind, name, "--wait=false"]);
    }
    for (kind, name) in [
        ("vpnconnection", "conn-two"),
        ("customergateway", "cgw-two"),
        ("vpngateway", "gw-two"),
    ] {
        env.wait_gone(kind, name, TIMEOUT);
    }
    for kind in ["vpn_gateways", "customer_gateways", "vpn_connections"] {
        assert!(
            ids_in(&env, PROJECT2, kind).is_empty(),
            "{kind} left in project 2"
        );
    }
    assert_eq!(ids_in(&env, PROJECT, "vpn_gateways"), vec![ids[0].clone()]);
    ready(&env, "vpngateway", "gw-default");
    env.figures("multi-project");
}

// ----- 10. a cloud account per namespace ------------------------------------------------

const PROJECT3: &str = "0e2e0000000000000000000000000003";
const AK3: &str = "E2EACCESSKEY0000003";
const SK3: &str = "e2e-secret-key-never-logged-0003";

/// Binds the scenario's namespace to `project` with its account Secret.
fn bind_namespace(env: &Env, project: &str, ak: &str, sk: &str) {
    env.apply_secret(
        "vpn-operator-account",
        &[
            ("region", "cn-north-4"),
            ("projectId", project),
            ("endpoint", &env.sim_url),
            ("accessKey", ak),
            ("secretKey", sk),
        ],
    );
}

/// The namespace's account Secret puts its objects in its project, and a change of that Secret
/// (seen through the Secret watch: a Ready object is otherwise not looked at for 10 minutes)
/// moves nothing: the object reports AccountChanged and stays where it was made.
pub fn a_namespace_account_binds_its_objects_and_keeps_them_when_it_changes() {
    let (p2, p3) = (
        format!("{PROJECT2}:{AK2}:{SK2}"),
        format!("{PROJECT3}:{AK3}:{SK3}"),
    );
    let env = Env::start("namespace-account", &["--project", &p2, "--project", &p3]);
    bind_namespace(&env, PROJECT2, AK2, SK2);
    apply(&env, &customer_gateway("cgw-team", "203.0.113.20"));
    let obj = ready(&env, "customergateway", "cgw-team");
    let id = cloud_id(&obj);
    assert_eq!(
        ids_in(&env, PROJECT2, "customer_gateways"),
        vec![id.clone()]
    );
    assert!(ids_in(&env, PROJECT, "customer_gateways").is_empty());
    let account = &obj["status"]["account"];
    assert_eq!(account["source"], "Namespace", "{account}");
    assert_eq!(account["projectId"], PROJECT2, "{account}");
    assert_eq!(
        account["secret"],
        format!("{}/vpn-operator-account", env.namespace)
    );

    // The team's Secret now names project 3.
    bind_namespace(&env, PROJECT3, AK3, SK3);
    let changed = wait_until("AccountChanged", TIMEOUT, || {
        let o = env.get("customergateway", "cgw-team")?;
        (reason(&o, "Synced") == "AccountChanged").then_some(o)
    });
    assert_eq!(changed["status"]["account"]["projectId"], PROJECT2);
    assert_eq!(cloud_id(&changed), id);
    assert_eq!(reason(&changed, "Ready"), "Available");
    assert!(has_event(&env, "cgw-team", "AccountChanged"));
    assert!(ids_in(&env, PROJECT3, "customer_gateways").is_empty());
    assert_eq!(
        ids_in(&env, PROJECT2, "customer_gateways"),
        vec![id.clone()]
    );

    // Restored: Synced again by itself.
    bind_namespace(&env, PROJECT2, AK2, SK2);
    env.wait_condition("customergateway", "cgw-team", "Synced", "True", TIMEOUT);
    env.kubectl_ok(&["delete", "customergateway", "cgw-team", "--wait=false"]);
    env.wait_gone("customergateway", "cgw-team", TIMEOUT);
    assert!(ids_in(&env, PROJECT2, "customer_gateways").is_empty());
    assert!(!env.operator_log().contains(SK3) && !env.operator_log().contains(SK2));
    env.figures("namespace-account");
}
