//! Safety and day-2 operations (issue 4), proven end to end: the real operator binary against
//! the simulator (with its fault injection and admin API) and a Kubernetes API, driven with
//! real `kubectl`. Every scenario checks the cloud through the simulator's admin API and
//! Kubernetes through `kubectl`, and prints a `FIGURES` line from the simulator's counters.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use vpn_operator::cloud::{ApiClient, ClientConfig, Credentials, VpnClient};

use crate::harness::{
    condition, delta, reason, tag, wait_until, writes, Env, AK, OWNER_UID_TAG, PROJECT, SK,
};

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

/// A client of the simulated cloud that is not the operator: resources it makes carry no
/// owner tag.
fn raw_client(env: &Env) -> (tokio::runtime::Runtime, VpnClient) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cfg = ClientConfig::new(
        env.sim_url.parse().unwrap(),
        PROJECT,
        Credentials::aksk(AK, SK),
    );
    let api = ApiClient::new(cfg).expect("client");
    (rt, VpnClient::new(api))
}

pub fn adoption_by_cloud_id_and_refusal_of_foreign_resources() {
    let env = Env::start("adoption", FAST);
    env.apply_secret("psk", &[("psk", PSK)]);

    // Untagged resources made with a raw API client are adopted through spec.cloudId.
    let (rt, raw) = raw_client(&env);
    let gw_body = serde_json::from_value(json!({
        "name": "raw-gw", "vpc_id": VPC, "connect_subnet": SUBNET,
        "local_subnets": ["192.168.0.0/24"], "flavor": "Professional1",
        "attachment_type": "vpc", "network_type": "public", "ha_mode": "active-active",
        "bgp_asn": 64512, "eip1": {"id": eip(3)}, "eip2": {"id": eip(4)}
    }))
    .unwrap();
    let raw_gw = rt
        .block_on(raw.create_gateway(&gw_body))
        .expect("raw create");
    let cgw_body = serde_json::from_value(json!({
        "name": "raw-cgw", "id_type": "ip", "id_value": "203.0.113.20", "bgp_asn": 65000
    }))
    .unwrap();
    let raw_cgw = rt
        .block_on(raw.create_customer_gateway(&cgw_body))
        .expect("raw create");
    assert!(env.cloud_resources("vpn_gateways")[0]["tags"]
        .as_array()
        .is_none_or(|t| t.is_empty()));

    apply(
        &env,
        &with_spec(
            gateway("adopted-gw", [3, 4]),
            json!({"name": "raw-gw", "cloudId": raw_gw.id}),
        ),
    );
    apply(
        &env,
        &with_spec(
            customer_gateway("adopted-cgw", "203.0.113.20"),
            json!({"name": "raw-cgw", "cloudId": raw_cgw.id}),
        ),
    );
    for (kind, name, id) in [
        ("vpngateway", "adopted-gw", &raw_gw.id),
        ("customergateway", "adopted-cgw", &raw_cgw.id),
    ] {
        let obj = ready(&env, kind, name);
        assert_eq!(&cloud_id(&obj), id, "{kind}/{name} adopted, not created");
        assert!(has_event(&env, name, "Adopted"), "{kind}/{name}");
        let uid = obj["metadata"]["uid"].as_str().unwrap().to_string();
        wait_until(&format!("{kind}/{name} tagged as owner"), TIMEOUT, || {
            (env.owned(kinds_of(kind).0, &uid).len() == 1).then_some(())
        });
    }
    assert_eq!(
        env.cloud_resources("vpn_gateways").len(),
        1,
        "nothing created"
    );
    assert_eq!(env.cloud_resources("customer_gateways").len(), 1);

    // ... and then managed through the CR.
    env.patch(
        "vpngateway",
        "adopted-gw",
        &json!({"spec": {"localSubnets": ["192.168.0.0/24", "192.168.9.0/24"]}}),
    );
    env.patch(
        "customergateway",
        "adopted-cgw",
        &json!({"spec": {"name": "office-renamed"}}),
    );
    wait_until("the adopted resources follow their CRs", TIMEOUT, || {
        let gw = &env.cloud_resources("vpn_gateways")[0];
        let cgw = &env.cloud_resources("customer_gateways")[0];
        (gw["local_subnets"].as_array()?.len() == 2 && cgw["name"] == "office-renamed")
            .then_some(())
    });
    ready(&env, "vpngateway", "adopted-gw");
    ready(&env, "customergateway", "adopted-cgw");

    // Resources owned by other objects are refused, and deleting the refused objects leaves
    // the owners' resources alone.
    let owners = trio(&env, "owner", [1, 2], "203.0.113.10");
    let mut ids = Vec::new();
    for (kind, name) in &owners {
        ids.push(cloud_id(&ready(&env, kind, name)));
    }
    let before = env.calls_by_op();
    apply(
        &env,
        &with_spec(gateway("thief-gw", [1, 2]), json!({"cloudId": ids[0]})),
    );
    apply(
        &env,
        &with_spec(
            customer_gateway("thief-cgw", "203.0.113.10"),
            json!({"cloudId": ids[1]}),
        ),
    );
    apply(
        &env,
        &with_spec(
            connection("thief-conn", "gw-owner", "cgw-owner", "psk"),
            json!({"cloudId": ids[2]}),
        ),
    );
    for (kind, name, owner) in [
        ("vpngateway", "thief-gw", "gw-owner"),
        ("customergateway", "thief-cgw", "cgw-owner"),
        ("vpnconnection", "thief-conn", "conn-owner"),
    ] {
        let obj = env.wait_reason(kind, name, "Synced", "OwnershipConflict", TIMEOUT);
        let msg = condition(&obj, "Synced").unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains(owner) && msg.contains("refusing to adopt"),
            "{kind}/{name}: {msg}"
        );
        assert_eq!(cloud_id(&obj), "", "{kind}/{name} records nothing");
    }
    assert_eq!(
        writes(&delta(&env.calls_by_op(), &before)),
        Default::default(),
        "refused adoptions change nothing in the cloud"
    );
    for (kind, name) in [
        ("vpnconnection", "thief-conn"),
        ("customergateway", "thief-cgw"),
        ("vpngateway", "thief-gw"),
    ] {
        env.kubectl_ok(&["delete", kind, name, "--wait=false"]);
        env.wait_gone(kind, name, TIMEOUT);
    }
    assert_eq!(
        writes(&delta(&env.calls_by_op(), &before)),
        Default::default(),
        "deleting a refused object deletes nothing in the cloud"
    );
    for name in ["thief-gw", "thief-cgw", "thief-conn"] {
        assert!(has_event(&env, name, "NotDeleted"), "{name}");
    }
    for ((kind, name), id) in owners.iter().zip(&ids) {
        let obj = ready(&env, kind, name);
        assert_eq!(&cloud_id(&obj), id);
        exactly_one(&env, kind, name);
    }
    env.figures("adoption");
}

// ----- 3. deletionPolicy -------------------------------------------------------------------

pub fn orphan_leaves_every_kind_in_the_cloud() {
    let env = Env::start("orphan", FAST);
    env.apply_secret("psk", &[("psk", PSK)]);
    let orphan = json!({"deletionPolicy": "Orphan"});
    apply(&env, &with_spec(gateway("gw", [1, 2]), orphan.clone()));
    apply(
        &env,
        &with_spec(customer_gateway("cgw", "203.0.113.10"), orphan.clone()),
    );
    apply(
        &env,
        &with_spec(connection("conn", "gw", "cgw", "psk"), orphan.clone()),
    );
    let objects = [
        ("vpnconnection", "conn"),
        ("customergateway", "cgw"),
        ("vpngateway", "gw"),
    ];
    let mut ids = Vec::new();
    for (kind, name) in objects {
        let obj = ready(&env, kind, name);
        assert_eq!(obj["spec"]["deletionPolicy"], "Orphan");
        ids.push(cloud_id(&obj));
    }

    // The gateway is deleted first: with Orphan it does not wait for its connection.
    let before = env.calls_by_op();
    for (kind, name) in objects.iter().rev() {
        env.kubectl_ok(&["delete", kind, name, "--wait=false"]);
    }
    for (kind, name) in objects {
        env.wait_gone(kind, name, TIMEOUT);
        assert!(has_event(&env, name, "Orphaned"), "{kind}/{name}");
    }
    let orphaning = writes(&delta(&env.calls_by_op(), &before));
    assert_eq!(
        orphaning,
        [("BatchDeleteResourceTags".to_string(), 3)].into(),
        "orphaning only takes the owner tags off"
    );
    for ((kind, _), id) in objects.iter().zip(&ids) {
        let left = env.cloud_resources(kinds_of(kind).0);
        assert_eq!(left.len(), 1, "{kind}: {left:?}");
        assert_eq!(&left[0]["id"], id, "{kind} left in place");
        assert_eq!(tag(&left[0], OWNER_UID_TAG), None, "{kind} released");
    }
    let conn = &env.cloud_resources("vpn_connections")[0];
    assert_eq!(
        conn["status"], "ACTIVE",
        "the orphaned tunnel keeps running"
    );

    // Released, an orphan can be adopted again; with the default policy (Delete) deleting the
    // new object deletes it in the cloud.
    let again = with_spec(
        connection("conn-again", "unused", "unused", "psk"),
        json!({
            "name": "conn", "cloudId": ids[0],
            "vpnGatewayRef": {"cloudId": ids[2]}, "customerGatewayRef": {"cloudId": ids[1]}
        }),
    );
    apply(&env, &again);
    let obj = ready(&env, "vpnconnection", "conn-again");
    assert_eq!(cloud_id(&obj), ids[0]);
    assert_eq!(obj["spec"]["deletionPolicy"], "Delete");
    assert!(has_event(&env, "conn-again", "Adopted"));
    exactly_one(&env, "vpnconnection", "conn-again");
    env.kubectl_ok(&["delete", "vpnconnection", "conn-again", "--wait=false"]);
    env.wait_gone("vpnconnection", "conn-again", TIMEOUT);
    assert!(env.cloud_resources("vpn_connections").is_empty());
    assert_eq!(env.cloud_resources("vpn_gateways").len(), 1);
    env.figures("orphan");
}

// ----- 4. pause and observe-only ----------------------------------------------------------

/// Resync often, so that an operator that ignored the pause would be seen calling the cloud.
const RESYNC: &[&str] = &["--resync-interval", "3s"];

fn set_paused(env: &Env, kind: &str, name: &str, paused: bool) {
    let value = if paused {
        "vpn.hwcloud.dev/paused=true"
    } else {
        "vpn.hwcloud.dev/paused-"
    };
    env.kubectl_ok(&["annotate", "--overwrite", kind, name, value]);
}

pub fn pause_stops_every_cloud_call() {
    let env = Env::start_with("pause", FAST, RESYNC);
    env.apply_secret("psk", &[("psk", PSK)]);
    let objects = trio(&env, "p", [1, 2], "203.0.113.10");
    for (kind, name) in &objects {
        ready(&env, kind, name);
    }
    for (kind, name) in &objects {
        set_paused(&env, kind, name, true);
    }
    for (kind, name) in &objects {
        let obj = env.wait_reason(kind, name, "Synced", "Paused", TIMEOUT);
        assert_eq!(condition(&obj, "Synced").unwrap()["status"], "False");
    }
    let before = env.calls_by_op();

    // Spec changes, a new PSK and a deletion while paused: the status says Paused for the new
    // generation, and nothing reaches the cloud.
    env.patch(
        "vpngateway",
        "gw-p",
        &json!({"spec": {"localSubnets": ["192.168.0.0/24", "192.168.5.0/24"]}}),
    );
    env.patch(
        "customergateway",
        "cgw-p",
        &json!({"spec": {"name": "renamed"}}),
    );
    env.apply_secret("psk", &[("psk", "Rotated-Psk-2026b")]);
    env.kubectl_ok(&["delete", "vpnconnection", "conn-p", "--wait=false"]);
    for (kind, name) in &objects[..2] {
        let obj = env.wait_condition(kind, name, "Synced", "False", TIMEOUT);
        assert_eq!(reason(&obj, "Synced"), "Paused");
        assert_eq!(obj["metadata"]["generation"], 2);
    }
    // Absence of calls needs a window: two resync intervals, in which an operator that ignored
    // the pause would have observed (and changed) everything.
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(
        delta(&env.calls_by_op(), &before),
        Default::default(),
        "no cloud call at all while paused"
    );
    let conn = env
        .get("vpnconnection", "conn-p")
        .expect("kept while paused");
    assert!(conn["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(env.cloud_resources("vpn_connections").len(), 1);
    assert_eq!(
        env.cloud_resources("customer_gateways")[0]["name"],
        "cgw-p",
        "not renamed while paused"
    );

    // Unpaused: everything catches up.
    for (kind, name) in &objects {
        set_paused(&env, kind, name, false);
    }
    env.wait_gone("vpnconnection", "conn-p", TIMEOUT);
    ready(&env, "vpngateway", "gw-p");
    ready(&env, "customergateway", "cgw-p");
    wait_until("the cloud catches up", TIMEOUT, || {
        let gw = &env.cloud_resources("vpn_gateways")[0];
        let cgw = &env.cloud_resources("customer_gateways")[0];
        (gw["local_subnets"].as_array()?.len() == 2
            && cgw["name"] == "renamed"
            && env.cloud_resources("vpn_connections").is_empty())
        .then_some(())
    });
    for (kind, name) in &objects[..2] {
        let obj = env.get(kind, name).unwrap();
        assert_eq!(reason(&obj, "Synced"), "ReconcileSuccess", "{kind}/{name}");
    }
    env.figures("pause");
}

pub fn observe_only_reads_and_reports_but_never_writes() {
    let env = Env::start_with("observe", FAST, RESYNC);
    env.apply_secret("psk", &[("psk", PSK)]);
    let owners = trio(&env, "owner", [1, 2], "203.0.113.10");
    let mut ids = Vec::new();
    for (kind, name) in &owners {
        ids.push(cloud_id(&ready(&env, kind, name)));
    }
    let before = env.calls_by_op();

    // Observers of the same resources, with specs that differ from the cloud.
    let observe = |id: &str| json!({"managementPolicy": "Observe", "cloudId": id});
    let mut gw = with_spec(gateway("watch-gw", [1, 2]), observe(&ids[0]));
    gw["spec"]["localSubnets"] = json!(["192.168.0.0/24", "192.168.8.0/24"]);
    let mut cgw = with_spec(
        customer_gateway("watch-cgw", "203.0.113.10"),
        observe(&ids[1]),
    );
    cgw["spec"]["name"] = json!("another-name");
    let mut conn = with_spec(
        connection("watch-conn", "gw-owner", "cgw-owner", "psk"),
        observe(&ids[2]),
    );
    conn["spec"]["ipsecPolicy"]["lifetimeSeconds"] = json!(7200);
    for o in [&gw, &cgw, &conn] {
        apply(&env, o);
    }
    let watchers = [
        ("vpngateway", "watch-gw", "localSubnets"),
        ("customergateway", "watch-cgw", "name"),
        ("vpnconnection", "watch-conn", "ipsecPolicy.lifetimeSeconds"),
    ];
    for ((kind, name, field), id) in watchers.iter().zip(&ids) {
        let obj = env.wait_condition(kind, name, "Synced", "True", TIMEOUT);
        assert_eq!(
            reason(&obj, "Synced"),
            "ObserveOnly",
            "{kind}/{name}: {obj}"
        );
        assert_eq!(
            &cloud_id(&obj),
            id,
            "{kind}/{name} reports the cloud resource"
        );
        let drift: Vec<&str> = obj["status"]["drift"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["field"].as_str())
            .collect();
        assert!(
            drift.contains(field),
            "{kind}/{name} reports drift in {field}: {drift:?}"
        );
    }
    // A spec change is read and reported, not applied.
    env.patch(
        "customergateway",
        "watch-cgw",
        &json!({"spec": {"name": "third-name"}}),
    );
    let obj = env.wait_condition("customergateway", "watch-cgw", "Synced", "True", TIMEOUT);
    assert_eq!(obj["status"]["observedGeneration"], 2);
    wait_until("drift shows the new desired name", TIMEOUT, || {
        let obj = env.get("customergateway", "watch-cgw")?;
        obj["status"]["drift"]
            .as_array()?
            .iter()
            .any(|d| d["field"] == "name" && d["desired"] == "third-name")
            .then_some(())
    });
    // Deleting observers leaves the resources alone.
    for (kind, name, _) in watchers {
        env.kubectl_ok(&["delete", kind, name, "--wait=false"]);
        env.wait_gone(kind, name, TIMEOUT);
    }
    let observed_calls = delta(&env.calls_by_op(), &before);
    assert_eq!(
        writes(&observed_calls),
        Default::default(),
        "{observed_calls:?}"
    );
    assert!(!observed_calls.is_empty(), "observers do read the cloud");
    for ((kind, name), id) in owners.iter().zip(&ids) {
        assert_eq!(&cloud_id(&ready(&env, kind, name)), id);
        exactly_one(&env, kind, name);
    }
    let cgw = &env.cloud_resources("customer_gateways")[0];
    assert_eq!(cgw["name"], "cgw-owner", "never renamed by the observer");
    println!("FIGURES observe: calls while the observers existed (owners resyncing included): {observed_calls:?}");
    env.figures("observe");
}

// ----- 5. drift ----------------------------------------------------------------------------

/// The `DriftDetected` event messages of an object.
fn drift_events(env: &Env, name: &str) -> Vec<String> {
    env.events(name)
        .into_iter()
        .filter(|(r, _)| r == "DriftDetected")
        .map(|(_, m)| m)
        .collect()
}

fn drift_fields(obj: &Value) -> Vec<String> {
    obj["status"]["drift"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["field"].as_str().map(String::from))
        .collect()
}

pub fn drift_is_detected_corrected_and_reported() {
    let env = Env::start_with("drift", FAST, RESYNC);
    env.apply_secret("psk", &[("psk", PSK)]);
    let objects = trio(&env, "d", [1, 2], "203.0.113.10");
    let mut ids = Vec::new();
    for (kind, name) in &objects {
        ids.push(cloud_id(&ready(&env, kind, name)));
    }
    // Observed only: resources made outside the operator.
    let (rt, raw) = raw_client(&env);
    let raw_cgw = rt
        .block_on(
            raw.create_customer_gateway(
                &serde_json::from_value(json!({
                    "name": "watched", "id_type": "ip", "id_value": "203.0.113.30", "bgp_asn": 65000
                }))
                .unwrap(),
            ),
        )
        .unwrap();
    apply(
        &env,
        &with_spec(
            customer_gateway("watched", "203.0.113.30"),
            json!({"managementPolicy": "Observe", "cloudId": raw_cgw.id}),
        ),
    );
    let watched = env.wait_condition("customergateway", "watched", "Synced", "True", TIMEOUT);
    assert!(drift_fields(&watched).is_empty(), "{watched}");

    // Out-of-band changes through the admin API.
    let p = format!("/_sim/projects/{PROJECT}");
    let changed_at = Instant::now();
    env.sim_patch(
        &format!("{p}/vpn-gateways/{}", ids[0]),
        &json!({"name": "tampered", "local_subnets": ["192.168.0.0/24", "10.99.0.0/24"]}),
    );
    env.sim_patch(
        &format!("{p}/customer-gateways/{}", ids[1]),
        &json!({"name": "tampered-cgw"}),
    );
    env.sim_patch(
        &format!("{p}/vpn-connections/{}", ids[2]),
        &json!({"ikepolicy": {"lifetime_seconds": 7200}}),
    );
    env.sim_patch(
        &format!("{p}/customer-gateways/{}", raw_cgw.id),
        &json!({"name": "changed-by-hand"}),
    );

    // Managed resources are corrected ...
    let corrected = wait_until("the cloud is corrected", TIMEOUT, || {
        let gw = &env.cloud_resources("vpn_gateways")[0];
        let cgw = env
            .cloud_resources("customer_gateways")
            .into_iter()
            .find(|c| c["id"] == ids[1].as_str())?;
        let conn = &env.cloud_resources("vpn_connections")[0];
        (gw["name"] == "gw-d"
            && gw["local_subnets"] == json!(["192.168.0.0/24"])
            && cgw["name"] == "cgw-d"
            && conn["ikepolicy"]["lifetime_seconds"] == 86400)
            .then(|| changed_at.elapsed())
    });
    // ... and reported: an event naming the fields.
    for ((kind, name), fields) in objects.iter().zip([
        &["name", "localSubnets"][..],
        &["name"][..],
        &["ikePolicy.lifetimeSeconds"][..],
    ]) {
        let events = wait_until(&format!("DriftDetected on {kind}/{name}"), TIMEOUT, || {
            let e = drift_events(&env, name);
            (!e.is_empty()).then_some(e)
        });
        for f in fields {
            assert!(
                events.iter().any(|m| m.contains(f)),
                "{kind}/{name}: the event names {f}: {events:?}"
            );
        }
        let obj = ready(&env, kind, name);
        assert_eq!(reason(&obj, "Synced"), "ReconcileSuccess", "{kind}/{name}");
        assert!(drift_fields(&obj).is_empty(), "corrected: {obj}");
    }
    // Observed only: reported in status.drift and an event, never corrected.
    let watched = wait_until(
        "status.drift of the observed customer gateway",
        TIMEOUT,
        || {
            let obj = env.get("customergateway", "watched")?;
            drift_fields(&obj)
                .contains(&"name".to_string())
                .then_some(obj)
        },
    );
    assert_eq!(reason(&watched, "Synced"), "ObserveOnly");
    let drift = &watched["status"]["drift"][0];
    assert_eq!(
        (&drift["desired"], &drift["observed"]),
        (&json!("watched"), &json!("changed-by-hand"))
    );
    assert!(drift_events(&env, "watched")
        .iter()
        .any(|m| m.contains("name")));
    let raw_now = env
        .cloud_resources("customer_gateways")
        .into_iter()
        .find(|c| c["id"] == raw_cgw.id.as_str())
        .unwrap();
    assert_eq!(
        raw_now["name"], "changed-by-hand",
        "observe-only never corrects"
    );
    println!(
        "FIGURES drift: corrected {:.1}s after the out-of-band change (resync 3s)",
        corrected.as_secs_f64()
    );
    env.figures("drift");
}

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

pub fn random_faults_converge_without_a_retry_storm() {
    let env = Env::start(
        "faults",
        &[
            "--delay",
            "1s",
            "--fault-probability",
            "0.2",
            "--fault-seed",
            "42",
        ],
    );
    env.apply_secret("psk", &[("psk", PSK)]);
    let mut objects = Vec::new();
    objects.extend(trio(&env, "f1", [1, 2], "203.0.113.10"));
    objects.extend(trio(&env, "f2", [3, 4], "203.0.113.11"));
    let mut ready_at = Vec::new();
    for (kind, name) in &objects {
        let obj = ready(&env, kind, name);
        assert_eq!(reason(&obj, "Synced"), "ReconcileSuccess", "{kind}/{name}");
        exactly_one(&env, kind, name);
        ready_at.push(env.elapsed());
    }
    let counters = env.sim_admin("/_sim/counters");
    let faults: u64 = counters["operations"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|o| o["faults"].as_object().into_iter().flatten())
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    let total = env.total_calls();
    let per_object = total as f64 / objects.len() as f64;
    let warnings: Vec<String> = objects
        .iter()
        .flat_map(|(_, name)| env.events(name))
        .map(|(r, _)| r)
        .filter(|r| ["Throttled", "CloudBusy", "CloudServerError"].contains(&r.as_str()))
        .collect();
    println!(
        "FIGURES faults: 6 objects Ready after {:.1}s; {total} calls, {faults} faults injected, \
         {per_object:.1} calls per object; retried reconciles reported as {warnings:?}",
        ready_at.iter().max().unwrap().as_secs_f64()
    );
    assert!(faults > 0, "faults were injected");
    // Without faults an object takes about 6 calls to converge; with one call in five failing
    // (each retried inside the call, then with per-object backoff) it stays within a few times
    // that. A storm (retrying without backoff) would make hundreds.
    assert!(per_object <= 25.0, "{per_object:.1} calls per object");

    // A gateway that stays busy (VPN.0030 on every update): Synced=False CloudBusy, retried
    // with growing per-object backoff, then converges when the cloud is free again.
    env.set_faults(json!([{
        "ops": ["UpdateVgw"], "fault": {"kind": "busy"}, "trigger": "always"
    }]));
    env.patch(
        "vpngateway",
        "gw-f1",
        &json!({"spec": {"localSubnets": ["192.168.0.0/24", "192.168.6.0/24"]}}),
    );
    let obj = env.wait_reason("vpngateway", "gw-f1", "Synced", "CloudBusy", TIMEOUT);
    assert_eq!(condition(&obj, "Synced").unwrap()["status"], "False");
    let busy_from = env.calls_by_op();
    let window = Duration::from_secs(15);
    // A window long enough for a retry loop without backoff to make a hundred calls.
    std::thread::sleep(window);
    let busy_calls = delta(&env.calls_by_op(), &busy_from)
        .get("UpdateVgw")
        .copied()
        .unwrap_or(0);
    env.set_faults(json!([]));
    let obj = env.wait_condition("vpngateway", "gw-f1", "Synced", "True", TIMEOUT);
    assert_eq!(reason(&obj, "Synced"), "ReconcileSuccess");
    ready(&env, "vpngateway", "gw-f1");
    println!(
        "FIGURES faults: busy gateway: {busy_calls} UpdateVgw calls in {}s (4 attempts per \
         reconcile, per-object backoff 1s, 2s, 4s, ... between reconciles)",
        window.as_secs()
    );
    assert!(busy_calls <= 24, "{busy_calls} calls while busy");
    env.figures("faults");
}

pub fn auth_failures_and_invalid_specs_wait_for_a_fix() {
    let env = Env::start("terminal", FAST);
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
        let msg = condition(&obj, "Synced").unwrap()["message"].to_string();
        assert!(
            !msg.contains("a-wrong-secret"),
            "the SK is never shown: {msg}"
        );
    }
    let first = env.calls_by_op();
    // A window in which an operator that retried auth failures would call again and again.
    std::thread::sleep(Duration::from_secs(8));
    let idle = delta(&env.calls_by_op(), &first);
    assert!(
        idle.values().sum::<u64>() <= 2,
        "auth failures are not retried in a loop: {idle:?}"
    );
    let auth_calls: u64 = env.total_calls();
    assert!(auth_calls <= 6, "{auth_calls} calls with wrong credentials");

    // Fixing the Secret is enough: no edit of the objects.
    let fixed_at = Instant::now();
    credentials(SK);
    for (kind, name) in [("vpngateway", "gw"), ("customergateway", "cgw")] {
        let obj = ready(&env, kind, name);
        assert_eq!(obj["metadata"]["generation"], 1);
    }
    let auth_recovery = fixed_at.elapsed();

    // An invalid request (a VPC that does not exist) is terminal too, until the spec changes.
    let before = env.calls_by_op();
    apply(
        &env,
        &with_spec(
            gateway("gw-bad", [3, 4]),
            json!({"vpcId": "a0000000-0000-4000-8000-00000000dead"}),
        ),
    );
    let obj = env.wait_reason("vpngateway", "gw-bad", "Synced", "InvalidSpec", TIMEOUT);
    let msg = condition(&obj, "Synced").unwrap()["message"].to_string();
    assert!(msg.to_lowercase().contains("vpc"), "{msg}");
    std::thread::sleep(Duration::from_secs(8));
    let bad_calls = delta(&env.calls_by_op(), &before);
    assert!(
        bad_calls.get("CreateVgw").copied().unwrap_or(0) == 1,
        "one create, not repeated: {bad_calls:?}"
    );
    env.patch("vpngateway", "gw-bad", &json!({"spec": {"vpcId": VPC}}));
    let obj = ready(&env, "vpngateway", "gw-bad");
    assert_eq!(obj["status"]["observedGeneration"], 2);
    exactly_one(&env, "vpngateway", "gw-bad");
    println!(
        "FIGURES terminal: {auth_calls} calls with wrong credentials (2 objects), Ready {:.1}s after \
         the Secret was fixed; invalid spec: {bad_calls:?} until fixed",
        auth_recovery.as_secs_f64()
    );
    env.figures("terminal");
}

// ----- 8. connection health check ----------------------------------------------------------

pub fn health_check_creates_and_deletes_the_connection_monitor() {
    let env = Env::start("health-check", FAST);
    env.apply_secret("psk", &[("psk", PSK)]);
    trio(&env, "h", [1, 2], "203.0.113.10");
    let conn = ready(&env, "vpnconnection", "conn-h");
    assert!(conn["status"]["monitorId"].is_null());
    assert!(env.cloud_resources("connection_monitors").is_empty());

    env.patch(
        "vpnconnection",
        "conn-h",
        &json!({"spec": {"healthCheck": {"enabled": true}}}),
    );
    let conn = wait_until("the monitor is ACTIVE in status", TIMEOUT, || {
        let c = env.get("vpnconnection", "conn-h")?;
        (c["status"]["monitorState"] == "ACTIVE"
            && c["status"]["observedGeneration"] == c["metadata"]["generation"])
            .then_some(c)
    });
    let monitors = env.cloud_resources("connection_monitors");
    assert_eq!(monitors.len(), 1, "{monitors:?}");
    assert_eq!(monitors[0]["id"], conn["status"]["monitorId"]);
    assert_eq!(monitors[0]["vpn_connection_id"], conn["status"]["cloudId"]);

    env.patch(
        "vpnconnection",
        "conn-h",
        &json!({"spec": {"healthCheck": {"enabled": false}}}),
    );
    wait_until("the monitor is gone", TIMEOUT, || {
        let c = env.get("vpnconnection", "conn-h")?;
        (c["status"]["monitorId"].is_null()
            && c["status"]["observedGeneration"] == c["metadata"]["generation"]
            && env.cloud_resources("connection_monitors").is_empty())
        .then_some(())
    });
    let conn = ready(&env, "vpnconnection", "conn-h");
    assert_eq!(reason(&conn, "Synced"), "ReconcileSuccess");

    // Enabled again, then the connection is deleted: its monitor goes with it.
    env.patch(
        "vpnconnection",
        "conn-h",
        &json!({"spec": {"healthCheck": {"enabled": true}}}),
    );
    wait_until("a monitor again", TIMEOUT, || {
        (env.cloud_resources("connection_monitors").len() == 1).then_some(())
    });
    env.kubectl_ok(&["delete", "vpnconnection", "conn-h", "--wait=false"]);
    env.wait_gone("vpnconnection", "conn-h", TIMEOUT);
    assert!(env.cloud_resources("connection_monitors").is_empty());
    assert!(env.cloud_resources("vpn_connections").is_empty());
    let calls = env.calls_by_op();
    assert_eq!(calls.get("CreateConnectionMonitor"), Some(&2), "{calls:?}");
    assert_eq!(
        calls.get("DeleteConnectionMonitor"),
        Some(&2),
        "each monitor deleted once: {calls:?}"
    );
    env.figures("health-check");
}

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
