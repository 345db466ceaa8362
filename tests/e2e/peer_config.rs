//! `spec.peerConfig` end to end: the real operator writes the on-premises configuration to a
//! Secret of the Kubernetes API, owned by the connection; the README's `kubectl get secret ...
//! -o jsonpath` reads it; a rotated key reaches it; another owner's Secret is refused and left
//! alone; removing peerConfig deletes the Secret; deleting the connection takes its Secret
//! with it (garbage collection); no key in logs, Events or status.
//! (Negotiating the exported file with a real strongSwan peer: the interop test, tests/interop.)
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{condition, reason, wait_until, Env};

const TIMEOUT: Duration = Duration::from_secs(120);
const API: &str = "vpn.hwcloud.dev/v1alpha1";
const PSK: &str = "Peer-Config-Psk-1";
const NEW_PSK: &str = "Peer-Config-Psk-2";

fn apply(env: &Env, obj: Value) {
    env.apply(&obj.to_string());
}

fn connection(peer_config: Value) -> Value {
    let mut spec = json!({
        "vpnGatewayRef": {"name": "gw"}, "gatewayIp": "eip1",
        "customerGatewayRef": {"name": "cgw"}, "style": "static",
        "peerSubnets": ["172.16.0.0/16"],
        "pskSecretRef": {"name": "psk", "key": "psk"},
        "ikePolicy": {"ikeVersion": "v2", "encryptionAlgorithm": "aes-256", "dhGroup": "group19"}
    });
    if !peer_config.is_null() {
        spec["peerConfig"] = peer_config;
    }
    json!({"apiVersion": API, "kind": "VpnConnection", "metadata": {"name": "conn"}, "spec": spec})
}

/// `kubectl get secret NAME -o jsonpath='{.data.KEY}' | base64 -d`, as the README shows it.
fn secret_key(env: &Env, name: &str, key: &str) -> Option<String> {
    let escaped = key.replace('.', "\\.");
    let script = format!(
        "kubectl -n {} get secret {name} -o jsonpath='{{.data.{escaped}}}' | base64 -d",
        env.namespace
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env("KUBECONFIG", &env.kubeconfig)
        .env("KUBECACHEDIR", env.dir.path().join("kubecache"))
        .output()
        .expect("sh runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

pub fn peer_config_secret_follows_the_connection_and_never_takes_another_owners() {
    let env = Env::start("peer-config", &["--delay", "1s"]);
    env.apply_secret("psk", &[("psk", PSK)]);
    // Someone's own Secret (`data`, not `stringData`: the API stand-in keeps stringData as
    // written, and the README's command reads `.data`).
    env.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: not-ours\n  namespace: {}\ndata:\n  keep: bWU=\n",
        env.namespace
    ));
    apply(
        &env,
        json!({"apiVersion": API, "kind": "VpnGateway", "metadata": {"name": "gw"}, "spec": {
            "attachmentType": "vpc", "networkType": "public",
            "vpcId": "a0000000-0000-4000-8000-000000000001",
            "connectSubnet": "b0000000-0000-4000-8000-000000000001",
            "localSubnets": ["192.168.0.0/24"], "flavor": "Professional1",
            "eip1": {"id": "e0000000-0000-4000-8000-000000000001"},
            "eip2": {"id": "e0000000-0000-4000-8000-000000000002"}}}),
    );
    apply(
        &env,
        json!({"apiVersion": API, "kind": "CustomerGateway", "metadata": {"name": "cgw"},
            "spec": {"idType": "ip", "idValue": "203.0.113.10", "bgpAsn": 65000}}),
    );
    let peer = json!({"secretName": "conn-peer", "formats": ["json", "strongswan", "text"]});
    apply(&env, connection(peer));
    let conn = env.wait_condition("vpnconnection", "conn", "Ready", "True", TIMEOUT);
    let uid = conn["metadata"]["uid"].as_str().unwrap().to_string();

    // Written, owned by the connection, readable with the README's command.
    let conf = wait_until("the peer Secret", TIMEOUT, || {
        secret_key(&env, "conn-peer", "swanctl.conf")
    });
    for line in [
        "remote_addrs = 198.51.100.11",
        "local_addrs = 203.0.113.10",
        "proposals = aes256-sha256-ecp256",
        PSK,
    ] {
        assert!(conf.contains(line), "{line} missing:\n{conf}");
    }
    let json_doc: Value =
        serde_json::from_str(&secret_key(&env, "conn-peer", "peer-config.json").unwrap()).unwrap();
    assert_eq!(
        json_doc["ike"]["dhGroup"]["iana"],
        "256-bit random ECP Group (19)"
    );
    assert!(secret_key(&env, "conn-peer", "peer-config.txt").is_some());
    let secret = env.get("secret", "conn-peer").unwrap();
    let owner = &secret["metadata"]["ownerReferences"][0];
    assert_eq!(
        (owner["uid"].as_str(), owner["kind"].as_str()),
        (Some(uid.as_str()), Some("VpnConnection"))
    );
    assert_eq!(
        secret["metadata"]["labels"]["vpn.hwcloud.dev/connection"],
        "conn"
    );
    let sha = |c: &Value| {
        c["status"]["peerConfig"]["sha256"]
            .as_str()
            .map(str::to_string)
    };
    let conn = env.get("vpnconnection", "conn").unwrap();
    assert_eq!(
        sha(&conn).as_deref(),
        secret["metadata"]["annotations"]["vpn.hwcloud.dev/peer-config-sha256"].as_str()
    );

    // A rotated key reaches the device's configuration (and the status hash changes).
    env.apply_secret("psk", &[("psk", NEW_PSK)]);
    wait_until("the new key in the peer Secret", TIMEOUT, || {
        secret_key(&env, "conn-peer", "swanctl.conf").filter(|c| c.contains(NEW_PSK))
    });
    wait_until("status.peerConfig follows", TIMEOUT, || {
        let c = env.get("vpnconnection", "conn")?;
        (sha(&c).is_some() && sha(&c) != sha(&conn)).then_some(())
    });

    env.wait_condition("vpnconnection", "conn", "Ready", "True", TIMEOUT);

    // Another owner's Secret: refused, untouched; the operator's own stays.
    let mut taken = connection(json!({"secretName": "not-ours"}));
    taken["metadata"]["name"] = json!("conn");
    apply(&env, taken);
    let c = env.wait_reason(
        "vpnconnection",
        "conn",
        "Synced",
        "PeerConfigConflict",
        TIMEOUT,
    );
    assert_eq!(reason(&c, "Ready"), "Available", "the cloud side is fine");
    let msg = condition(&c, "Synced").unwrap()["message"].to_string();
    assert!(msg.contains("not-ours"), "{msg}");
    assert_eq!(secret_key(&env, "not-ours", "keep").as_deref(), Some("me"));
    assert!(env.get("secret", "not-ours").unwrap()["metadata"]["ownerReferences"].is_null());

    // peerConfig removed: the operator's Secret goes; the other stays.
    apply(&env, connection(Value::Null));
    env.wait_gone("secret", "conn-peer", TIMEOUT);
    let c = env.wait_condition("vpnconnection", "conn", "Synced", "True", TIMEOUT);
    assert!(c["status"]["peerConfig"].is_null());
    assert!(env.get("secret", "not-ours").is_some());
    let reasons = env.event_reasons("conn");
    for r in [
        "PeerConfigWritten",
        "PeerConfigConflict",
        "PeerConfigDeleted",
    ] {
        assert!(reasons.iter().any(|x| x == r), "no {r} Event: {reasons:?}");
    }

    // Written again, then the connection is deleted: its Secret goes with it.
    apply(&env, connection(json!({"secretName": "conn-peer"})));
    wait_until("the peer Secret again", TIMEOUT, || {
        secret_key(&env, "conn-peer", "swanctl.conf")
    });
    env.kubectl_ok(&["delete", "vpnconnection", "conn", "--wait=false"]);
    env.wait_gone("vpnconnection", "conn", TIMEOUT);
    env.wait_gone("secret", "conn-peer", TIMEOUT);

    // The key itself is nowhere but in the Secrets.
    let events = env.kubectl_ok(&["get", "events", "-o", "json"]);
    let objects = env.kubectl_ok(&[
        "get",
        "vpnconnections,vpngateways,customergateways",
        "-o",
        "json",
    ]);
    let log = env.operator_log();
    for key in [PSK, NEW_PSK] {
        assert!(!log.contains(key), "a key is in the operator log");
        assert!(!events.contains(key), "a key is in an Event");
        assert!(!objects.contains(key), "a key is in a status");
    }
}
