//! Whole reconciles of the gateway's day-2 operations without a cluster: upgrades (an upgrade
//! started in the console, the annotation, `Auto`, deletion while waiting for confirmation),
//! GM certificates and the connections that wait for them, the routes of BGP gateways, and
//! the quota check before a create.
use std::time::Duration;

use serde_json::json;

use crate::controller::runtime::testing::{cond, condition, World, PROJECT};
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::vpn_gateway::UpgradePhase;
use crate::crd::{CustomerGateway, VpnConnection, VpnGateway, UPGRADE_ANNOTATION};

const EXAMPLE: &str = include_str!("../../../../examples/vpngateway.yaml");
const CUSTOMER_GATEWAY: &str = include_str!("../../../../examples/customergateway.yaml");
const CONNECTION: &str = include_str!("../../../../examples/vpnconnection.yaml");
const NAME: &str = "edge-gateway";
const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----";

fn no(reason: &str) -> (String, String) {
    ("False".into(), reason.into())
}

fn yes(reason: &str) -> (String, String) {
    ("True".into(), reason.into())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn id_of(g: &VpnGateway) -> String {
    g.status
        .as_ref()
        .and_then(|s| s.cloud_id.clone())
        .expect("an id")
}

fn count(w: &World, reason: &str) -> usize {
    w.event_reasons::<VpnGateway>(NAME)
        .iter()
        .filter(|r| *r == reason)
        .count()
}

/// The example gateway with `edit` applied, reconciled until Ready.
async fn ready_gateway(w: &World, edit: impl FnOnce(&mut VpnGateway)) -> VpnGateway {
    let mut g: VpnGateway = serde_yaml::from_str(EXAMPLE).expect("the example");
    edit(&mut g);
    w.apply(g);
    w.ready::<VpnGateway>(NAME).await
}

fn annotate(w: &World, key: &str, value: Option<&str>) {
    let mut g = w.get::<VpnGateway>(NAME);
    let a = g.metadata.annotations.get_or_insert_with(Default::default);
    match value {
        Some(v) => a.insert(key.into(), v.into()),
        None => a.remove(key),
    };
    w.apply(g);
}

async fn force(w: &World, kind: &str, id: &str, status: &str) {
    let path = format!("/projects/{PROJECT}/{kind}/{id}/status");
    w.admin("POST", &path, json!({ "status": status })).await;
}

fn upgrade_phase(g: &VpnGateway) -> Option<UpgradePhase> {
    g.status.as_ref()?.upgrade.as_ref()?.phase
}

/// The example customer gateway and connection on the gateway, Ready; the connection's id.
async fn connection_on_gateway(w: &World) -> String {
    w.put_secret("office-psk", &[("psk", "Example-Psk-2026")]);
    w.apply_yaml::<CustomerGateway>(CUSTOMER_GATEWAY);
    w.ready::<CustomerGateway>("office-router").await;
    w.apply_yaml::<VpnConnection>(CONNECTION);
    let c = w.ready::<VpnConnection>("office-link").await;
    c.status.and_then(|s| s.cloud_id).expect("a connection id")
}

#[tokio::test]
async fn an_upgrade_started_in_the_console_waits_for_a_person_then_finishes_once() {
    let w = World::start().await;
    let id = id_of(&ready_gateway(&w, |_| {}).await);
    force(&w, "vpn-gateways", &id, "PENDING_UPGRADE_CONFIRM").await;
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, READY), no("UpgradePendingConfirm"));
    assert_eq!(cond(&g, SYNCED), yes("ReconcileSuccess"));
    let ready = condition(&g, READY).unwrap();
    assert!(
        ready.message.contains("vpn.hwcloud.dev/upgrade=finish"),
        "{}",
        ready.message
    );
    assert_eq!(upgrade_phase(&g), Some(UpgradePhase::PendingConfirm));
    assert!(g
        .status
        .as_ref()
        .unwrap()
        .upgrade
        .as_ref()
        .unwrap()
        .job_id
        .is_some());
    assert_eq!(count(&w, "UpgradeAwaitsConfirmation"), 1);
    // Manual: nothing is decided for the person, and a spec change waits (no refused PUT).
    let mut changed = w.get::<VpnGateway>(NAME);
    changed.spec.local_subnets.push("192.168.1.0/24".into());
    w.apply(changed);
    for _ in 0..3 {
        w.advance(secs(60));
        w.reconcile::<VpnGateway>(NAME).await;
    }
    assert_eq!(w.calls("UpgradeVgw") + w.calls("UpdateVgw"), 0);
    assert_eq!(count(&w, "UpgradeAwaitsConfirmation"), 1, "said once");
    // The person confirms: one call, the gateway is ACTIVE, and the waiting change follows.
    annotate(&w, UPGRADE_ANNOTATION, Some("finish"));
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpgradeVgw"), 1);
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(upgrade_phase(&g), Some(UpgradePhase::Succeeded));
    assert_eq!(
        g.status
            .as_ref()
            .unwrap()
            .upgrade
            .as_ref()
            .unwrap()
            .requested
            .as_deref(),
        Some("finish")
    );
    assert_eq!(count(&w, "UpgradeFinished"), 1);
    w.ready::<VpnGateway>(NAME).await;
    assert_eq!(
        w.calls("UpdateVgw"),
        1,
        "the spec change applied after the upgrade"
    );
    w.ready::<VpnGateway>(NAME).await;
    // The same value again: nothing more.
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpgradeVgw"), 1);
    // A step the gateway cannot take: refused once, with a reason, nothing called.
    annotate(&w, UPGRADE_ANNOTATION, Some("rollback"));
    w.reconcile::<VpnGateway>(NAME).await;
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpgradeVgw"), 1);
    assert_eq!(count(&w, "UpgradeRefused"), 1);
}

#[tokio::test]
async fn auto_starts_on_request_and_finishes_when_the_connections_are_active() {
    let w = World::start().await;
    ready_gateway(&w, |g| {
        g.spec.upgrade = Some(serde_json::from_value(json!({"policy": "Auto"})).unwrap());
    })
    .await;
    let conn = connection_on_gateway(&w).await;
    annotate(&w, UPGRADE_ANNOTATION, Some("start"));
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(w.calls("UpgradeVgw"), 1);
    assert_eq!(cond(&g, READY), no("Upgrading"));
    let u = g.status.as_ref().unwrap().upgrade.clone().unwrap();
    assert_eq!(u.phase, Some(UpgradePhase::Upgrading));
    assert_eq!(u.required_connections, [conn]);
    assert_eq!(count(&w, "UpgradeStarted"), 1);
    // The upgrade takes a second; the connections are ACTIVE: finished without a person.
    let g = w
        .until::<VpnGateway>(NAME, secs(1), 10, |g| {
            upgrade_phase(g) == Some(UpgradePhase::Succeeded)
        })
        .await;
    assert_eq!(w.calls("UpgradeVgw"), 2);
    assert_eq!(count(&w, "UpgradeFinished"), 1);
    let u = g.status.unwrap().upgrade.unwrap();
    assert_eq!(u.last_action.as_deref(), Some("finish"));
    let g = w.ready::<VpnGateway>(NAME).await;
    assert_eq!(g.status.unwrap().cloud_state.as_deref(), Some("ACTIVE"));
}

#[tokio::test]
async fn auto_rolls_back_when_a_connection_stays_down_past_the_window() {
    let w = World::start().await;
    ready_gateway(&w, |g| {
        g.spec.upgrade = Some(
            serde_json::from_value(json!({"policy": "Auto", "confirmWindowSeconds": 120})).unwrap(),
        );
    })
    .await;
    let conn = connection_on_gateway(&w).await;
    annotate(&w, UPGRADE_ANNOTATION, Some("start"));
    w.reconcile::<VpnGateway>(NAME).await;
    // The tunnel does not come back after the upgrade.
    force(&w, "vpn-connections", &conn, "DOWN").await;
    w.until::<VpnGateway>(NAME, secs(1), 10, |g| {
        upgrade_phase(g) == Some(UpgradePhase::PendingConfirm)
    })
    .await;
    let g = w.get::<VpnGateway>(NAME);
    let ready = condition(&g, READY).unwrap();
    assert!(
        ready.message.contains("rolls it back in"),
        "{}",
        ready.message
    );
    assert_eq!(w.calls("UpgradeVgw"), 1, "inside the window: waiting");
    let g = w
        .until::<VpnGateway>(NAME, secs(30), 10, |g| {
            upgrade_phase(g) == Some(UpgradePhase::RollingBack)
        })
        .await;
    assert_eq!(w.calls("UpgradeVgw"), 2);
    assert_eq!(cond(&g, READY), no("UpgradeRollingBack"));
    let events = w.events::<VpnGateway>(NAME);
    let rollback = events
        .iter()
        .find(|n| n.reason == "UpgradeRollbackStarted")
        .expect("the rollback is an Event");
    assert!(rollback.message.contains(&conn), "{}", rollback.message);
    let g = w
        .until::<VpnGateway>(NAME, secs(1), 10, |g| {
            upgrade_phase(g) == Some(UpgradePhase::RolledBack)
        })
        .await;
    assert_eq!(g.status.unwrap().cloud_state.as_deref(), Some("ACTIVE"));
    assert_eq!(count(&w, "UpgradeRolledBack"), 1);
}

#[tokio::test]
async fn deleting_a_gateway_that_waits_for_confirmation_finishes_the_upgrade_first() {
    let w = World::start().await;
    let id = id_of(&ready_gateway(&w, |_| {}).await);
    force(&w, "vpn-gateways", &id, "PENDING_UPGRADE_CONFIRM").await;
    w.reconcile::<VpnGateway>(NAME).await;
    w.delete::<VpnGateway>(NAME);
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpgradeVgw"), 1, "finish, as the documents require");
    assert_eq!(w.calls("DeleteVgw"), 0);
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, READY), no("Deleting"));
    for _ in 0..5 {
        w.advance(secs(2));
        w.reconcile::<VpnGateway>(NAME).await;
        if w.try_get::<VpnGateway>(NAME).is_none() {
            break;
        }
    }
    assert!(
        w.try_get::<VpnGateway>(NAME).is_none(),
        "deleted, no endless retry"
    );
    assert_eq!(w.calls("DeleteVgw"), 1);
    assert!(w.cloud("vpn_gateways").await.is_empty());
    assert!(
        w.cloud("jobs").await.is_empty(),
        "its finished job was cleaned up"
    );
}

fn gm_secret(w: &World, enc: &str) {
    w.put_secret(
        "gm-certs",
        &[
            ("certificate", PEM),
            ("privateKey", KEY),
            ("encCertificate", enc),
            ("encPrivateKey", KEY),
            ("certificateChain", PEM),
        ],
    );
}

#[tokio::test]
async fn a_gm_gateway_imports_its_certificate_and_connections_wait_until_it_is_bound() {
    let w = World::start().await;
    gm_secret(&w, PEM);
    let g = ready_gateway(&w, |g| {
        g.spec.flavor = crate::crd::vpn_gateway::Flavor::Gm;
        g.spec.certificate = Some(
            serde_json::from_value(json!({"secretRef": {"name": "gm-certs"}, "name": "cert-gm"}))
                .unwrap(),
        );
    })
    .await;
    // Ready (ACTIVE) and the certificate imported right away: binding.
    assert_eq!(w.calls("CreateVgwCertificate"), 1);
    let c = g.status.unwrap().certificate.unwrap();
    assert_eq!(c.status.as_deref(), Some("BINDING"));
    assert!(c.id.is_some() && c.expires_at.is_some() && c.secret_sha256.is_some());
    assert!(!serde_json::to_string(&c).unwrap().contains("PRIVATE KEY"));
    // A connection on it waits while the certificate binds.
    w.apply_yaml::<CustomerGateway>(CUSTOMER_GATEWAY);
    let mut cgw = w.get::<CustomerGateway>("office-router");
    cgw.spec.ca_certificate = Some(crate::crd::customer_gateway::CaCertificateSpec {
        id: None,
        content: Some(PEM.into()),
    });
    w.apply(cgw);
    w.ready::<CustomerGateway>("office-router").await;
    let mut conn: VpnConnection = serde_yaml::from_str(CONNECTION).unwrap();
    conn.spec.psk_secret_ref = None;
    conn.spec.ike_policy = Some(
        serde_json::from_value(
            json!({"ikeVersion": "v1", "authenticationMethod": "digital-envelope-v2",
            "encryptionAlgorithm": "sm4", "authenticationAlgorithm": "sm3"}),
        )
        .unwrap(),
    );
    conn.spec.ipsec_policy = Some(
        serde_json::from_value(
            json!({"encryptionAlgorithm": "sm4", "authenticationAlgorithm": "sm3"}),
        )
        .unwrap(),
    );
    w.apply(conn);
    w.reconcile::<VpnConnection>("office-link").await;
    w.reconcile::<VpnConnection>("office-link").await;
    let c = w.get::<VpnConnection>("office-link");
    assert_eq!(cond(&c, READY), no("DependencyNotReady"));
    assert!(condition(&c, READY).unwrap().message.contains("not BOUND"));
    assert_eq!(w.calls("CreateVpnConnection"), 0);
    // Bound: the Event, and the connection is made.
    let g = w
        .until::<VpnGateway>(NAME, secs(1), 10, |g| {
            g.status
                .as_ref()
                .and_then(|s| s.certificate.as_ref())
                .and_then(|c| c.status.as_deref())
                == Some("BOUND")
        })
        .await;
    assert_eq!(count(&w, "CertificateBound"), 1);
    assert_eq!(cond(&g, READY), yes("Available"));
    w.ready::<VpnConnection>("office-link").await;
    assert_eq!(w.calls("CreateVpnConnection"), 1);
    // The Secret changes: one update, and it binds again; nothing more when unchanged.
    gm_secret(&w, &PEM.replace("MIIB", "MIIC"));
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpdateVgwCertificate"), 1);
    assert_eq!(count(&w, "CertificateUpdated"), 1);
    w.until::<VpnGateway>(NAME, secs(1), 10, |g| {
        g.status
            .as_ref()
            .and_then(|s| s.certificate.as_ref())
            .and_then(|c| c.status.as_deref())
            == Some("BOUND")
    })
    .await;
    w.reconcile::<VpnGateway>(NAME).await;
    assert_eq!(w.calls("UpdateVgwCertificate"), 1);
    assert_eq!(w.calls("CreateVgwCertificate"), 1, "never imported twice");
}

#[tokio::test]
async fn a_missing_certificate_secret_is_reported_not_guessed() {
    let w = World::start().await;
    let mut g: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    g.spec.flavor = crate::crd::vpn_gateway::Flavor::Gm;
    g.spec.certificate =
        Some(serde_json::from_value(json!({"secretRef": {"name": "nowhere"}})).unwrap());
    w.apply(g);
    w.reconcile::<VpnGateway>(NAME).await;
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    assert_eq!(cond(&g, SYNCED), no("SecretNotReady"));
    let msg = condition(&g, SYNCED).unwrap().message;
    assert!(
        msg.contains("nowhere") && msg.contains("encPrivateKey"),
        "{msg}"
    );
    assert_eq!(
        w.calls("CreateVgw"),
        0,
        "not made before its certificates can be read"
    );
    // The Secret appears: the gateway is made and its certificate imported.
    let mut g = w.get::<VpnGateway>(NAME);
    g.spec.certificate =
        Some(serde_json::from_value(json!({"secretRef": {"name": "gm-certs"}})).unwrap());
    w.apply(g);
    gm_secret(&w, PEM);
    w.ready::<VpnGateway>(NAME).await;
    assert_eq!(
        (w.calls("CreateVgw"), w.calls("CreateVgwCertificate")),
        (1, 1)
    );
}

#[tokio::test]
async fn a_bgp_gateway_reports_its_routes_and_their_count() {
    let w = World::start().await;
    ready_gateway(&w, |_| {}).await;
    w.put_secret("office-psk", &[("psk", "Example-Psk-2026")]);
    w.apply_yaml::<CustomerGateway>(CUSTOMER_GATEWAY);
    w.ready::<CustomerGateway>("office-router").await;
    let mut conn: VpnConnection = serde_yaml::from_str(CONNECTION).unwrap();
    conn.spec.style = serde_json::from_value(json!("bgp")).unwrap();
    conn.spec.tunnel_local_address = Some("169.254.70.1/30".into());
    conn.spec.tunnel_peer_address = Some("169.254.70.2/30".into());
    w.apply(conn);
    w.ready::<VpnConnection>("office-link").await;
    // The next resync of the gateway reads its routing table.
    w.advance(secs(600));
    w.reconcile::<VpnGateway>(NAME).await;
    let g = w.get::<VpnGateway>(NAME);
    let routes = g.status.unwrap().routes.expect("routes of a BGP gateway");
    assert_eq!(routes.count, 1);
    assert_eq!(routes.routes[0].destination, "172.16.0.0/16");
    assert_eq!(routes.routes[0].nexthop.as_deref(), Some("169.254.70.2"));
    assert_eq!(w.calls("ShowVgwRoutingTable"), 1);
    let text = w.ctx.metrics.encode_text();
    assert!(
        text.contains(r#"vpn_operator_gateway_routes{namespace="team-a",name="edge-gateway"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_full_gateway_quota_is_reported_without_a_create_call() {
    let w = World::start().await;
    let mut world = w
        .admin("GET", &format!("/projects/{PROJECT}/world"), json!(null))
        .await;
    world["quotas"]["vpn_gateway"] = json!(1);
    w.admin("PUT", &format!("/projects/{PROJECT}/world"), world)
        .await;
    ready_gateway(&w, |_| {}).await;
    let mut second: VpnGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    second.metadata.name = Some("second".into());
    second.spec.name = Some("second".into());
    second.spec.eip1 = Some(
        serde_json::from_value(json!({"id": "e0000000-0000-4000-8000-000000000003"})).unwrap(),
    );
    second.spec.eip2 = Some(
        serde_json::from_value(json!({"id": "e0000000-0000-4000-8000-000000000004"})).unwrap(),
    );
    w.apply(second);
    w.reconcile::<VpnGateway>("second").await;
    w.reconcile::<VpnGateway>("second").await;
    let g = w.get::<VpnGateway>("second");
    assert_eq!(cond(&g, SYNCED), no("QuotaExceeded"));
    assert_eq!(cond(&g, READY), no("QuotaExceeded"));
    let msg = condition(&g, SYNCED).unwrap().message;
    assert!(msg.contains("used 1 of 1"), "{msg}");
    assert_eq!(
        w.calls("CreateVgw"),
        1,
        "only the first gateway was created"
    );
}

#[tokio::test]
async fn the_gm_example_works_as_written_against_the_simulator() {
    let w = World::start().await;
    let text = include_str!("../../../../examples/vpngateway-gm.yaml");
    let (secret, gateway) = text
        .split_once("\n---\n")
        .expect("a Secret and a VpnGateway");
    let secret: k8s_openapi::api::core::v1::Secret = serde_yaml::from_str(secret).unwrap();
    let data: Vec<(String, String)> = secret.string_data.unwrap().into_iter().collect();
    let pairs: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    w.put_secret("gm-certs", &pairs);
    w.apply_yaml::<VpnGateway>(gateway);
    let g = w
        .until::<VpnGateway>("gm-gateway", secs(1), 15, |g| {
            g.status
                .as_ref()
                .and_then(|s| s.certificate.as_ref())
                .and_then(|c| c.status.as_deref())
                == Some("BOUND")
        })
        .await;
    assert_eq!(cond(&g, READY), yes("Available"));
    assert_eq!(
        g.status.unwrap().certificate.unwrap().name.as_deref(),
        Some("cert-gm-gateway")
    );
}
