//! Whole reconciles of a VpnConnection with spec.peerConfig, without a cluster: the Secret is
//! written through the in-memory Kubernetes, kept current in the reconcile that changes the
//! cloud, never taken from another owner, and deleted when the spec stops naming it.
use std::time::Duration;

use serde_json::{json, Value};

use crate::controller::runtime::events::{PEER_CONFIG_DELETED, PEER_CONFIG_WRITTEN, PSK_ROTATED};
use crate::controller::runtime::secrets::StoredSecret;
use crate::controller::runtime::testing::{cond, World, NS, PROJECT};
use crate::crd::common::reasons;
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::vpn_connection::{EncryptionAlgorithm, PeerConfig, PeerConfigFormat};
use crate::crd::{CustomerGateway, VpnConnection, VpnGateway};

use super::{content_sha256, ANNOTATION_SHA256, LABEL_CONNECTION};

const GATEWAY: &str = include_str!("../../../../../examples/vpngateway.yaml");
const CUSTOMER_GATEWAY: &str = include_str!("../../../../../examples/customergateway.yaml");
const CONNECTION: &str = include_str!("../../../../../examples/vpnconnection.yaml");
const NAME: &str = "office-link";
const PEER: &str = "office-link-peer";
const KEY: &str = "Example-Psk-2026";
const NEW_KEY: &str = "Rotated-Psk-2027";

fn peer_config(name: &str, formats: &[PeerConfigFormat]) -> PeerConfig {
    PeerConfig {
        secret_name: name.into(),
        formats: formats.to_vec(),
    }
}

/// The example connection with spec.peerConfig (all formats), changed by `edit`.
fn connection(edit: impl FnOnce(&mut VpnConnection)) -> VpnConnection {
    let mut c: VpnConnection = serde_yaml::from_str(CONNECTION).expect("the example");
    c.spec.peer_config = Some(peer_config(PEER, &PeerConfigFormat::ALL));
    edit(&mut c);
    c
}

/// The example gateway and customer gateway, Ready, and the key's Secret.
async fn references(w: &World) {
    w.put_secret("office-psk", &[("psk", KEY)]);
    w.apply_yaml::<VpnGateway>(GATEWAY);
    w.ready::<VpnGateway>("edge-gateway").await;
    w.apply_yaml::<CustomerGateway>(CUSTOMER_GATEWAY);
    w.ready::<CustomerGateway>("office-router").await;
}

/// The example connection with peerConfig, Ready.
async fn ready(w: &World) -> VpnConnection {
    references(w).await;
    w.apply(connection(|_| {}));
    w.ready::<VpnConnection>(NAME).await
}

fn secret(w: &World, name: &str) -> Option<StoredSecret> {
    w.kube().secret_object(NS, name)
}

fn text(s: &StoredSecret, key: &str) -> String {
    String::from_utf8(s.data.get(key).cloned().unwrap_or_default()).expect("UTF-8")
}

fn json_of(s: &StoredSecret) -> Value {
    serde_json::from_str(&text(s, "peer-config.json")).expect("valid JSON")
}

fn count(w: &World, reason: &str) -> usize {
    w.events::<VpnConnection>(NAME)
        .iter()
        .filter(|n| n.reason == reason)
        .count()
}

/// Everything a user or a log can see besides the Secret's data: status, Events, metrics.
fn visible(w: &World) -> String {
    let c = w.get::<VpnConnection>(NAME);
    let events: Vec<String> = w
        .kube()
        .events()
        .iter()
        .map(|e| format!("{} {}", e.note.reason, e.note.message))
        .collect();
    format!(
        "{}\n{}\n{}",
        serde_json::to_string(&c.status).unwrap_or_default(),
        events.join("\n"),
        w.ctx.metrics.encode()
    )
}

fn psk_in_cloud(c: &Value) -> String {
    c["psk_sha256"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_secret_is_written_once_the_cloud_reports_the_connection_and_owned_by_it() {
    let w = World::start().await;
    let c = ready(&w).await;
    let s = secret(&w, PEER).expect("the peer Secret");
    let uid = c.metadata.uid.clone().unwrap();
    assert!(s.owned_by(&uid), "owned by the connection: {s:?}");
    let owner = &s.owners[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("VpnConnection", NAME, Some(true))
    );
    assert_eq!(
        s.labels.get(LABEL_CONNECTION).map(String::as_str),
        Some(NAME)
    );
    let keys: Vec<&str> = s.data.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["peer-config.json", "peer-config.txt", "swanctl.conf"]
    );
    let status = c
        .status
        .clone()
        .unwrap()
        .peer_config
        .expect("status.peerConfig");
    assert_eq!(status.secret_name.as_deref(), Some(PEER));
    assert_eq!(
        status.sha256.as_deref(),
        Some(content_sha256(&s.data).as_str())
    );
    assert_eq!(s.annotations.get(ANNOTATION_SHA256), status.sha256.as_ref());
    assert!(status.notes.is_empty(), "{:?}", status.notes);

    // The effective values: the EIP's address, the customer gateway, the policies and key.
    let conf = text(&s, "swanctl.conf");
    for line in [
        "remote_addrs = 198.51.100.11",
        "local_addrs = 203.0.113.10",
        "proposals = aes256-sha256-modp3072",
        "esp_proposals = aes256-sha256-modp3072",
        "local_ts = 172.16.0.0/16",
        "remote_ts = 192.168.0.0/24",
        "secret = \"Example-Psk-2026\"",
    ] {
        assert!(conf.contains(line), "{line} missing from:\n{conf}");
    }
    let j = json_of(&s);
    assert_eq!(j["remote"]["address"], "198.51.100.11");
    assert_eq!(j["ike"]["encryption"]["strongswan"], "aes256");
    assert_eq!(j["ike"]["dhGroup"]["iana"], "3072-bit MODP Group (15)");
    // The cloud's defaults are part of the effective values.
    assert_eq!(j["ike"]["dpd"]["intervalSeconds"], 30);
    assert_eq!(j["preSharedKey"], KEY);
    assert_eq!(count(&w, PEER_CONFIG_WRITTEN), 1);
    assert!(
        !visible(&w).contains(KEY),
        "the key is shown: {}",
        visible(&w)
    );

    // Settled: reconciling again writes nothing.
    let writes = w.kube().writes();
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.kube().writes(), writes);
    assert_eq!(count(&w, PEER_CONFIG_WRITTEN), 1);
}

#[tokio::test]
async fn a_rotated_key_reaches_the_secret_in_the_reconcile_that_sends_it() {
    let w = World::start().await;
    let before = ready(&w).await;
    let old_sha = before.status.unwrap().peer_config.unwrap().sha256;
    w.put_secret("office-psk", &[("psk", NEW_KEY)]);
    w.reconcile::<VpnConnection>(NAME).await;
    let cloud = w.cloud("vpn_connections").await;
    assert_eq!(
        psk_in_cloud(&cloud[0]),
        super::super::psk::psk_sha256(NEW_KEY)
    );
    let s = secret(&w, PEER).unwrap();
    assert!(text(&s, "swanctl.conf").contains(NEW_KEY));
    assert_eq!(json_of(&s)["preSharedKey"], NEW_KEY);
    let c = w.get::<VpnConnection>(NAME);
    let sha = c.status.unwrap().peer_config.unwrap().sha256;
    assert_ne!(sha, old_sha, "status shows the change");
    assert_eq!(count(&w, PSK_ROTATED), 1);
    assert_eq!(count(&w, PEER_CONFIG_WRITTEN), 2);
    let v = visible(&w);
    assert!(!v.contains(KEY) && !v.contains(NEW_KEY), "{v}");
}

#[tokio::test]
async fn a_new_key_the_cloud_has_not_taken_yet_is_not_exported() {
    let w = World::start().await;
    ready(&w).await;
    // The connection is busy in the cloud: the key cannot be sent now.
    let id = w
        .get::<VpnConnection>(NAME)
        .status
        .unwrap()
        .cloud_id
        .unwrap();
    let path = format!("/projects/{PROJECT}/vpn-connections/{id}/status");
    w.admin("POST", &path, json!({"status": "PENDING_UPDATE"}))
        .await;
    w.put_secret("office-psk", &[("psk", NEW_KEY)]);
    w.reconcile::<VpnConnection>(NAME).await;
    let s = secret(&w, PEER).unwrap();
    assert!(
        text(&s, "swanctl.conf").contains(KEY),
        "the Secret keeps the key the cloud holds"
    );
    assert_eq!(count(&w, PEER_CONFIG_WRITTEN), 1);
}

#[tokio::test]
async fn a_policy_change_and_a_new_gateway_address_are_exported_when_they_happen() {
    let w = World::start().await;
    let c = ready(&w).await;
    let mut changed = c.clone();
    let ipsec = changed.spec.ipsec_policy.as_mut().unwrap();
    ipsec.encryption_algorithm = Some(EncryptionAlgorithm::Aes128Gcm16);
    changed.spec.peer_subnets = vec!["172.16.0.0/16".into(), "10.20.0.0/16".into()];
    w.apply(changed);
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(w.calls("UpdateVpnConnection"), 1);
    let conf = text(&secret(&w, PEER).unwrap(), "swanctl.conf");
    assert!(
        conf.contains("esp_proposals = aes128gcm16-modp3072"),
        "{conf}"
    );
    assert!(conf.contains("local_ts = 10.20.0.0/16"), "{conf}");

    // The gateway's EIP gets another address in the cloud: the next look exports it.
    let eip = "e0000000-0000-4000-8000-000000000001";
    let path = format!("/projects/{PROJECT}/world/eips/{eip}");
    w.admin("PATCH", &path, json!({"address": "198.51.100.99"}))
        .await;
    w.advance(Duration::from_secs(5));
    w.until::<VpnConnection>(NAME, Duration::from_secs(1), 5, |_| true)
        .await;
    let conf = text(&secret(&w, PEER).unwrap(), "swanctl.conf");
    assert!(conf.contains("remote_addrs = 198.51.100.99"), "{conf}");
    assert_eq!(count(&w, PEER_CONFIG_WRITTEN), 3);
}

#[tokio::test]
async fn another_owners_secret_is_never_touched() {
    let w = World::start().await;
    references(&w).await;
    w.put_secret(PEER, &[("mine", "do not touch")]);
    w.apply(connection(|_| {}));
    let c = w.ready::<VpnConnection>(NAME).await;
    w.reconcile::<VpnConnection>(NAME).await;
    let c2 = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c2, READY), ("True".into(), "Available".into()));
    assert_eq!(
        cond(&c2, SYNCED),
        ("False".into(), reasons::PEER_CONFIG_CONFLICT.into())
    );
    let s = secret(&w, PEER).unwrap();
    assert_eq!(text(&s, "mine"), "do not touch");
    assert_eq!(s.data.len(), 1);
    assert!(s.owners.is_empty());
    assert_eq!(
        count(&w, reasons::PEER_CONFIG_CONFLICT),
        1,
        "one Warning, not one per reconcile"
    );
    assert!(c.status.unwrap().peer_config.is_none());

    // The user deletes theirs: the operator's own is written at once.
    w.kube().remove_secret(NS, PEER);
    w.ctx.kube.forget_secret(NS, PEER);
    w.reconcile::<VpnConnection>(NAME).await;
    let c = w.get::<VpnConnection>(NAME);
    assert_eq!(cond(&c, SYNCED), ("True".into(), "ReconcileSuccess".into()));
    assert!(secret(&w, PEER).unwrap().owned_by(&c.metadata.uid.unwrap()));
}

#[tokio::test]
async fn an_edited_secret_is_rewritten_and_a_removed_spec_deletes_it() {
    let w = World::start().await;
    let c = ready(&w).await;
    let uid = c.metadata.uid.clone().unwrap();
    // Someone edits the data of the operator's Secret (its owner reference stays).
    w.put_secret(PEER, &[("swanctl.conf", "edited")]);
    w.reconcile::<VpnConnection>(NAME).await;
    let s = secret(&w, PEER).unwrap();
    assert!(text(&s, "swanctl.conf").contains("remote_addrs"));
    assert_eq!(s.data.len(), 3);

    // Renamed: the new one is written, the old one deleted.
    w.apply(connection(|c| {
        c.spec.peer_config = Some(peer_config("office-peer-2", &[PeerConfigFormat::Json]));
    }));
    w.reconcile::<VpnConnection>(NAME).await;
    assert!(secret(&w, PEER).is_none(), "the old Secret is gone");
    let s2 = secret(&w, "office-peer-2").unwrap();
    assert!(s2.owned_by(&uid));
    assert_eq!(s2.data.keys().collect::<Vec<_>>(), ["peer-config.json"]);

    // Removed: deleted, and status forgets it.
    w.apply(connection(|c| c.spec.peer_config = None));
    w.reconcile::<VpnConnection>(NAME).await;
    assert!(secret(&w, "office-peer-2").is_none());
    let c = w.get::<VpnConnection>(NAME);
    assert!(c.status.unwrap().peer_config.is_none());
    assert_eq!(count(&w, PEER_CONFIG_DELETED), 2);
    assert_eq!(w.kube().secret_names(NS), ["office-psk"]);
}

#[tokio::test]
async fn a_secret_someone_else_took_over_is_not_deleted_when_the_spec_drops_it() {
    let w = World::start().await;
    ready(&w).await;
    // The operator's Secret is replaced by someone's own (no owner reference).
    w.kube().remove_secret(NS, PEER);
    w.put_secret(PEER, &[("theirs", "x")]);
    w.apply(connection(|c| c.spec.peer_config = None));
    w.reconcile::<VpnConnection>(NAME).await;
    assert_eq!(text(&secret(&w, PEER).unwrap(), "theirs"), "x");
    assert_eq!(count(&w, PEER_CONFIG_DELETED), 0);
}
