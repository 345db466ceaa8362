//! The cloud side of the reconciler ([`observe`], [`plan`], [`act`], [`create`], [`teardown`])
//! against the in-process simulator, with zero state-machine delays (every pending state is
//! over at the next read, so no test waits).
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::customer_gateway::{CreateCustomerGatewayRequestBody, IdType};
use crate::cloud::model::gateway::{CreateRequestEip, CreateVpnGatewayRequestBody};
use crate::cloud::model::monitor::MonitorStatus;
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::{ApiClient, ClientConfig};
use crate::cloud::{Credentials, VpnClient};
use crate::controller::locks::KeyedLocks;
use crate::controller::ownership::{TAG_OWNER, TAG_UID};
use crate::crd::vpn_connection::GatewayIp;
use crate::sim::{self, Delays, SimConfig, SimHandle};

const PROJECT: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f9";
const AK: &str = "CTLTESTACCESSKEY0001";
const SK: &str = "ctl-test-secret-key";
// The simulator's documented default world (src/sim/world.rs).
const VPC: &str = "a0000000-0000-4000-8000-000000000001";
const SUBNET: &str = "b0000000-0000-4000-8000-000000000001";
const EIP1: &str = "e0000000-0000-4000-8000-000000000001";
const EIP2: &str = "e0000000-0000-4000-8000-000000000002";
const UID: &str = "7f3c1a52-0000-4000-8000-00000000c0de";
const KEY1: &str = "First-Key-2024";
const KEY2: &str = "Second-Key-2025";

async fn start() -> (SimHandle, VpnClient) {
    let sim = sim::spawn(SimConfig::single(PROJECT, AK, SK).with_delays(Delays::zero()))
        .await
        .expect("simulator starts");
    let mut cfg = ClientConfig::new(
        sim.base_url().parse().expect("url"),
        PROJECT,
        Credentials::aksk(AK, SK),
    );
    cfg.retry = RetryPolicy::none();
    cfg.timeout = Duration::from_secs(5);
    let vpn = VpnClient::new(ApiClient::new(cfg).expect("client"));
    (sim, vpn)
}

/// An ACTIVE public gateway (resolved the way a `cloudId` reference is) and a customer gateway.
async fn gateway_and_customer_gateway(vpn: &VpnClient) -> (ResolvedGateway, String) {
    let body = CreateVpnGatewayRequestBody {
        name: Some("gw".into()),
        vpc_id: Some(VPC.into()),
        local_subnets: Some(vec!["192.168.0.0/24".into()]),
        connect_subnet: Some(SUBNET.into()),
        eip1: Some(CreateRequestEip {
            id: Some(EIP1.into()),
            ..Default::default()
        }),
        eip2: Some(CreateRequestEip {
            id: Some(EIP2.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = vpn.create_gateway(&body).await.expect("gateway").id;
    let gw = vpn.get_gateway(&id).await.expect("get gateway");
    let resolved = gateway_from_cloud(&gw, GatewayIp::Eip1, Duration::from_secs(1))
        .expect("an ACTIVE gateway resolves");
    let cgw = vpn
        .create_customer_gateway(&CreateCustomerGatewayRequestBody {
            name: Some("office".into()),
            id_type: Some(IdType::Ip),
            id_value: "203.0.113.10".into(),
            ..Default::default()
        })
        .await
        .expect("customer gateway");
    (resolved, cgw.id)
}

fn spec(extra: serde_json::Value) -> VpnConnectionSpec {
    let mut base = json!({
        "vpnGatewayRef": {"cloudId": "set-by-test"},
        "gatewayIp": "eip1",
        "customerGatewayRef": {"cloudId": "set-by-test"},
        "peerSubnets": ["172.16.0.0/24"],
        "pskSecretRef": {"name": "psk", "key": "psk"},
        "tags": {"env": "prod"}
    });
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).expect("test spec")
}

fn tags(env: &str) -> Vec<VpnResourceTag> {
    vec![
        VpnResourceTag::new("env", env),
        VpnResourceTag::new(TAG_OWNER, "test:ns:conn"),
        VpnResourceTag::new(TAG_UID, UID),
    ]
}

async fn psk_hash_in_the_cloud(sim: &SimHandle) -> Option<String> {
    let state: serde_json::Value = reqwest::get(format!("{}/_sim/state", sim.base_url()))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    state["projects"][0]["vpn_connections"][0]["psk_sha256"]
        .as_str()
        .map(str::to_string)
}

fn input<'a>(
    spec: &'a VpnConnectionSpec,
    tags: &'a [VpnResourceTag],
    gw: &'a ResolvedGateway,
    cgw: &'a str,
    psk: &'a Psk,
    recorded: &'a str,
    obs: &'a Observation,
) -> PlanInput<'a> {
    PlanInput {
        spec,
        name: "conn",
        tags,
        gateway: Some(gw),
        cgw_id: Some(cgw),
        psk: Some(psk),
        recorded_psk_sha256: Some(recorded),
        observation: obs,
    }
}

async fn sync(vpn: &VpnClient, locks: &KeyedLocks, obs: &Observation, planned: Plan) -> Acted {
    let Plan::Sync {
        tags,
        update,
        monitor,
    } = planned
    else {
        panic!("expected a Sync plan, got {planned:?}");
    };
    let (conn, _) = obs.found.as_ref().expect("a connection");
    act(
        vpn,
        locks,
        conn,
        &obs.monitors,
        &tags,
        update.as_deref(),
        monitor.as_ref(),
    )
    .await
    .expect("act")
}

#[tokio::test]
async fn a_lost_create_response_is_recovered_then_driven_to_the_spec_and_deleted() {
    let (sim, vpn) = start().await;
    let locks = KeyedLocks::default();
    let (gw, cgw) = gateway_and_customer_gateway(&vpn).await;
    let key1 = Psk::new(KEY1.into());
    let s = spec(json!({"healthCheck": {"enabled": true}}));

    // Create; pretend the answer was lost: only the owner tag can find it again.
    let body = desired_create(&s, "conn", &gw, &cgw, Some(&key1), tags("prod"));
    let created = create(&vpn, &locks, &body, UID).await.expect("create");
    assert_eq!(created.status, Some(ConnectionStatus::PendingCreate));
    let obs = observe(&vpn, Lookup::ByOwnerTag, UID, true, Some(&gw.id))
        .await
        .expect("observe");
    let (found, how) = obs.found.clone().expect("found by owner tag");
    assert_eq!(
        (found.id.as_str(), how),
        (created.id.as_str(), How::Recovered)
    );
    assert_eq!(psk_hash_in_the_cloud(&sim).await, Some(key1.sha256.clone()));

    // Provisioned now: the only difference is the missing health check.
    let t = tags("prod");
    let planned = plan(&input(&s, &t, &gw, &cgw, &key1, &key1.sha256, &obs));
    assert_eq!(
        planned,
        Plan::Sync {
            tags: TagDiff::default(),
            update: None,
            monitor: Some(MonitorChange::Create)
        }
    );
    let acted = sync(&vpn, &locks, &obs, planned).await;
    assert_eq!(acted.monitors.len(), 1);
    assert!(acted.changed);
    let obs = observe(&vpn, Lookup::Recorded(created.id.clone()), UID, true, None)
        .await
        .expect("observe");
    assert_eq!(obs.monitors[0].status, Some(MonitorStatus::Active));
    let (conn, _) = obs.found.clone().expect("connection");
    let status = build_status(
        &VpnConnectionStatus::default(),
        Seen::Exists(&conn, &obs.monitors),
        Known {
            gateway: Some(&gw),
            psk_sha256: Some(key1.sha256.clone()),
        },
        &[],
        synced_condition(false, &[], None, false),
        Some(1),
        &now(),
    );
    assert_eq!(status.cloud_state.as_deref(), Some("ACTIVE"));
    assert_eq!(status.tunnel_state.as_deref(), Some("Up"));
    assert_eq!(status.gateway_address.as_deref(), Some("198.51.100.11"));
    assert_eq!(status.monitor_state.as_deref(), Some("ACTIVE"));
    assert!(status.tunnel_local_address.is_some(), "server-assigned");
    assert_eq!(
        plan(&input(&s, &t, &gw, &cgw, &key1, &key1.sha256, &obs)),
        Plan::Sync {
            tags: TagDiff::default(),
            update: None,
            monitor: None
        },
        "in sync: nothing to do"
    );

    // The Secret changed: the new key is PUT, and the cloud holds it.
    let key2 = Psk::new(KEY2.into());
    let planned = plan(&input(&s, &t, &gw, &cgw, &key2, &key1.sha256, &obs));
    let acted = sync(&vpn, &locks, &obs, planned).await;
    assert!(acted.psk_sent);
    assert!(acted.notes.iter().any(|n| n.reason == events::PSK_ROTATED));
    assert!(acted.notes.iter().all(|n| !n.message.contains(KEY2)));
    assert_eq!(
        acted.connection.and_then(|c| c.status),
        Some(ConnectionStatus::PendingUpdate)
    );
    assert_eq!(psk_hash_in_the_cloud(&sim).await, Some(key2.sha256.clone()));

    // A spec change: one PUT with the complete policies; afterwards no drift is left.
    let changed = spec(
        json!({"healthCheck": {"enabled": true}, "ikePolicy": {"lifetimeSeconds": 3600}, "peerSubnets": ["172.16.0.0/24", "172.17.0.0/24"]}),
    );
    let obs = observe(&vpn, Lookup::Recorded(created.id.clone()), UID, true, None)
        .await
        .expect("observe");
    let planned = plan(&input(&changed, &t, &gw, &cgw, &key2, &key2.sha256, &obs));
    let acted = sync(&vpn, &locks, &obs, planned).await;
    let updated = acted
        .notes
        .iter()
        .find(|n| n.reason == events::UPDATED)
        .map(|n| n.message.clone())
        .unwrap_or_default();
    assert!(
        updated.contains("peerSubnets") && updated.contains("ikePolicy.lifetimeSeconds"),
        "{updated}"
    );
    let obs = observe(&vpn, Lookup::Recorded(created.id.clone()), UID, true, None)
        .await
        .expect("observe");
    let (conn, _) = obs.found.clone().expect("connection");
    assert_eq!(
        drift(
            &changed,
            "conn",
            Some(&gw),
            Some(&cgw),
            &t,
            &conn,
            &obs.tags
        ),
        vec![]
    );
    assert_eq!(
        conn.ikepolicy
            .and_then(|p| p.dh_group)
            .map(|g| g.to_string()),
        Some("group15".into()),
        "fields the spec leaves out keep their values"
    );

    // Delete: the monitor goes first, then the connection; done when GET answers 404.
    assert_eq!(
        teardown(&vpn, &locks, &created.id, UID)
            .await
            .expect("teardown"),
        Teardown::Requested
    );
    let monitors = vpn
        .list_connection_monitors(&Default::default())
        .await
        .expect("monitors");
    assert!(monitors.is_empty(), "{monitors:?}");
    assert_eq!(
        teardown(&vpn, &locks, &created.id, UID)
            .await
            .expect("teardown"),
        Teardown::Gone
    );
}

#[tokio::test]
async fn a_gone_connection_is_recreated_only_when_the_operator_created_it() {
    let (_sim, vpn) = start().await;
    let (gw, cgw) = gateway_and_customer_gateway(&vpn).await;
    let key = Psk::new(KEY1.into());
    let t = tags("prod");
    let gone = observe(
        &vpn,
        Lookup::Recorded("0dead000-0000-4000-8000-000000000000".into()),
        UID,
        true,
        Some(&gw.id),
    )
    .await
    .expect("observe");
    assert!(gone.found.is_none());
    let managed = spec(json!({}));
    assert_eq!(
        plan(&input(&managed, &t, &gw, &cgw, &key, &key.sha256, &gone)),
        Plan::Recreate {
            gone_id: "0dead000-0000-4000-8000-000000000000".into()
        }
    );
    let adopted = spec(json!({"cloudId": "0dead000-0000-4000-8000-000000000000"}));
    let missing = observe(
        &vpn,
        Lookup::Adopt("0dead000-0000-4000-8000-000000000000".into()),
        UID,
        false,
        None,
    )
    .await
    .expect("observe");
    assert!(matches!(
        plan(&input(&adopted, &t, &gw, &cgw, &key, &key.sha256, &missing)),
        Plan::Missing { .. }
    ));
}

#[tokio::test]
async fn tags_are_reconciled_through_the_tag_api_keeping_owner_tags() {
    let (_sim, vpn) = start().await;
    let locks = KeyedLocks::default();
    let (gw, cgw) = gateway_and_customer_gateway(&vpn).await;
    let key = Psk::new(KEY1.into());
    let s = spec(json!({}));
    let mut old = tags("dev");
    old.push(VpnResourceTag::new("stale", "x"));
    let created = create(
        &vpn,
        &locks,
        &desired_create(&s, "conn", &gw, &cgw, Some(&key), old),
        UID,
    )
    .await
    .expect("create");
    let obs = observe(&vpn, Lookup::Recorded(created.id.clone()), UID, true, None)
        .await
        .expect("observe");
    let want = tags("prod");
    let planned = plan(&input(&s, &want, &gw, &cgw, &key, &key.sha256, &obs));
    sync(&vpn, &locks, &obs, planned).await;
    let mut now_tags = vpn
        .list_tags(&TagResourceType::VpnConnection, &created.id)
        .await
        .expect("tags");
    now_tags.sort_by(|a, b| a.key.cmp(&b.key));
    let mut want_sorted = want.clone();
    want_sorted.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(now_tags, want_sorted);
}
