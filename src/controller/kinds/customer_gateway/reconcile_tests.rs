//! Whole reconciles of a CustomerGateway without a cluster: the runtime as the operator runs
//! it, the simulator in-process and Kubernetes in memory, on one manual clock.
use std::time::Duration;

use kube::runtime::controller::Action;
use serde_json::json;

use super::plan::desired_create;
use crate::cloud::model::connection::CreateVpnConnectionRequestBody;
use crate::cloud::model::gateway::{CreateRequestEip, CreateVpnGatewayRequestBody};
use crate::cloud::model::{TagResourceType, VpnResourceTag};
use crate::controller::runtime::events::{
    actions, ADOPTED, CREATED, DELETED, DRIFT_DETECTED, RECOVERED, RECREATING, UPDATED,
};
use crate::controller::runtime::ownership::{ownership, Ownership, TAG_OWNER, TAG_UID};
use crate::controller::runtime::testing::{cond, condition, World, PROJECT};
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::common::{DeletionPolicy, ManagementPolicy};
use crate::crd::{CustomerGateway, VpnConnection, PAUSED_ANNOTATION};

const EXAMPLE: &str = include_str!("../../../../examples/customergateway.yaml");
const NAME: &str = "office-router";
const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----";

fn yes(reason: &str) -> (String, String) {
    ("True".into(), reason.into())
}

fn no(reason: &str) -> (String, String) {
    ("False".into(), reason.into())
}

fn example() -> CustomerGateway {
    serde_yaml::from_str(EXAMPLE).unwrap()
}

fn cloud_id(c: &CustomerGateway) -> String {
    c.status
        .as_ref()
        .and_then(|s| s.cloud_id.clone())
        .expect("a cloud id")
}

async fn in_cloud(w: &World) -> Vec<serde_json::Value> {
    w.cloud("customer_gateways").await
}

#[tokio::test]
async fn create_rename_and_delete() {
    let w = World::start().await;
    w.apply_yaml::<CustomerGateway>(EXAMPLE);
    w.reconcile::<CustomerGateway>(NAME).await; // finalizer
    let action = w.reconcile::<CustomerGateway>(NAME).await;
    let c = w.get::<CustomerGateway>(NAME);
    // Synchronous in the cloud: usable at once, confirmed by the next reconcile.
    assert_eq!(cond(&c, READY), yes("Available"));
    assert_eq!(cond(&c, SYNCED), yes("ReconcileSuccess"));
    assert_eq!(action, Action::requeue(Duration::from_secs(1)));
    let created = &w.events::<CustomerGateway>(NAME)[0];
    assert_eq!(
        (created.reason.as_str(), created.action.as_str()),
        (CREATED, actions::CREATE)
    );
    assert_eq!(
        w.reconcile::<CustomerGateway>(NAME).await,
        Action::await_change()
    );
    let status = w.get::<CustomerGateway>(NAME).status.unwrap();
    assert_eq!(status.cloud_state.as_deref(), Some("ACTIVE"));
    assert_eq!(status.bgp_asn, Some(65000));

    // Rename: one PUT.
    let mut renamed = example();
    renamed.spec.name = Some("office-router-2".into());
    w.apply(renamed);
    w.reconcile::<CustomerGateway>(NAME).await;
    assert_eq!(w.calls("UpdateCgw"), 1);
    assert_eq!(
        in_cloud(&w).await[0]["customer_gateway"]["name"],
        "office-router-2"
    );
    let updated = w.events::<CustomerGateway>(NAME).pop().unwrap();
    assert_eq!(
        (updated.reason.as_str(), updated.action.as_str()),
        (UPDATED, actions::UPDATE)
    );
    w.reconcile::<CustomerGateway>(NAME).await;
    assert_eq!(w.calls("UpdateCgw"), 1, "nothing left to change");

    w.delete::<CustomerGateway>(NAME);
    w.reconcile::<CustomerGateway>(NAME).await;
    assert!(w.try_get::<CustomerGateway>(NAME).is_none());
    assert!(in_cloud(&w).await.is_empty());
    assert_eq!(
        w.event_reasons::<CustomerGateway>(NAME).last().unwrap(),
        DELETED
    );
}

/// A gateway and a connection on customer gateway `cgw`, made outside the operator.
async fn connection_on(w: &World, cgw: &str) -> String {
    let vpn = w.console();
    let eip = |id: &str| CreateRequestEip {
        id: Some(id.into()),
        ..Default::default()
    };
    let gw = vpn
        .create_gateway(&CreateVpnGatewayRequestBody {
            name: Some("gw".into()),
            vpc_id: Some("a0000000-0000-4000-8000-000000000001".into()),
            local_subnets: Some(vec!["192.168.0.0/24".into()]),
            connect_subnet: Some("b0000000-0000-4000-8000-000000000001".into()),
            eip1: Some(eip("e0000000-0000-4000-8000-000000000001")),
            eip2: Some(eip("e0000000-0000-4000-8000-000000000002")),
            ..Default::default()
        })
        .await
        .unwrap();
    w.advance(Duration::from_secs(2));
    let conn = vpn
        .create_connection(&CreateVpnConnectionRequestBody {
            vgw_id: gw.id.clone(),
            vgw_ip: "e0000000-0000-4000-8000-000000000001".into(),
            cgw_id: cgw.into(),
            peer_subnets: Some(vec!["172.16.0.0/24".into()]),
            psk: Some("Test-Psk-12345".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    w.advance(Duration::from_secs(2));
    conn.id
}

#[tokio::test]
async fn deletion_waits_for_connections_in_the_cluster_and_in_the_cloud() {
    let w = World::start().await;
    w.apply_yaml::<CustomerGateway>(EXAMPLE);
    let c = w.ready::<CustomerGateway>(NAME).await;
    // A VpnConnection object names it: deletion waits without calling the cloud.
    w.apply_yaml::<VpnConnection>(include_str!("../../../../examples/vpnconnection.yaml"));
    w.delete::<CustomerGateway>(NAME);
    let calls = w.all_calls();
    w.reconcile::<CustomerGateway>(NAME).await;
    assert_eq!(w.all_calls(), calls);
    let waiting = w.get::<CustomerGateway>(NAME);
    assert_eq!(cond(&waiting, READY), no("WaitingForDependents"));
    assert!(condition(&waiting, READY)
        .unwrap()
        .message
        .contains("office-link"));
    w.delete::<VpnConnection>("office-link");

    // A connection the cluster does not know: the cloud refuses, the operator waits.
    let conn = connection_on(&w, &cloud_id(&c)).await;
    let action = w.reconcile::<CustomerGateway>(NAME).await;
    let waiting = w.get::<CustomerGateway>(NAME);
    assert_eq!(cond(&waiting, READY), no("WaitingForDependents"));
    assert!(condition(&waiting, READY)
        .unwrap()
        .message
        .contains("not managed in this namespace"));
    assert_eq!(action, Action::requeue(Duration::from_secs(1)));
    w.console().delete_connection(&conn).await.unwrap();
    w.advance(Duration::from_secs(2));
    w.reconcile::<CustomerGateway>(NAME).await;
    assert!(w.try_get::<CustomerGateway>(NAME).is_none());
    assert!(in_cloud(&w).await.is_empty());
}

#[tokio::test]
async fn adoption_adds_owner_tags_reports_immutable_drift_and_sends_the_certificate_once() {
    let w = World::start().await;
    let mut outside = desired_create(&example().spec, "console-made", Vec::new());
    outside.bgp_asn = Some(64999);
    let existing = w.console().create_customer_gateway(&outside).await.unwrap();
    let mut obj = example();
    obj.spec.cloud_id = Some(existing.id.clone());
    obj.spec.ca_certificate = Some(crate::crd::customer_gateway::CaCertificateSpec {
        id: None,
        content: Some(CERT.into()),
    });
    w.apply(obj);
    w.reconcile::<CustomerGateway>(NAME).await;
    w.reconcile::<CustomerGateway>(NAME).await;
    let c = w.get::<CustomerGateway>(NAME);
    assert_eq!(cond(&c, READY), yes("Available"));
    assert_eq!(cond(&c, SYNCED), no("ImmutableFieldDrift"));
    let status = c.status.clone().unwrap();
    assert_eq!(status.drift.len(), 1);
    assert_eq!(status.drift[0].field, "bgpAsn");
    assert!(
        status.ca_certificate.is_some(),
        "the cloud now holds the certificate"
    );
    let reasons = w.event_reasons::<CustomerGateway>(NAME);
    assert!(
        reasons.contains(&ADOPTED.to_string()) && reasons.contains(&DRIFT_DETECTED.to_string())
    );
    let tags = w
        .console()
        .list_tags(&TagResourceType::CustomerGateway, &existing.id)
        .await
        .unwrap();
    assert_eq!(
        ownership(Some(&tags), c.metadata.uid.as_deref().unwrap()),
        Ownership::Ours
    );
    let cloud = &in_cloud(&w).await[0]["customer_gateway"];
    assert_eq!(cloud["bgp_asn"], 64999, "immutable fields are left alone");
    assert_eq!(cloud["name"], "office-router");
    // With the hash recorded, nothing is sent again.
    let updates = w.calls("UpdateCgw");
    w.reconcile::<CustomerGateway>(NAME).await;
    assert_eq!(w.calls("UpdateCgw"), updates);
}

#[tokio::test]
async fn another_objects_customer_gateway_is_refused_and_left_alone_on_delete() {
    let w = World::start().await;
    w.apply_yaml::<CustomerGateway>(EXAMPLE);
    let owner = w.ready::<CustomerGateway>(NAME).await;
    let writes = w.writes();
    let mut intruder = example();
    intruder.metadata.name = Some("intruder".into());
    intruder.spec.cloud_id = Some(cloud_id(&owner));
    w.apply(intruder);
    w.reconcile::<CustomerGateway>("intruder").await;
    w.reconcile::<CustomerGateway>("intruder").await;
    let o = w.get::<CustomerGateway>("intruder");
    assert_eq!(cond(&o, SYNCED), no("OwnershipConflict"));
    assert_eq!(cond(&o, READY), no("OwnershipConflict"));
    w.delete::<CustomerGateway>("intruder");
    w.reconcile::<CustomerGateway>("intruder").await;
    assert!(w.try_get::<CustomerGateway>("intruder").is_none());
    assert_eq!(w.writes(), writes, "nothing was written for the intruder");
    assert_eq!(in_cloud(&w).await.len(), 1);
    assert_eq!(
        w.event_reasons::<CustomerGateway>("intruder")
            .last()
            .unwrap(),
        "NotDeleted"
    );
}

#[tokio::test]
async fn a_lost_create_response_is_recovered_by_the_owner_tag() {
    let w = World::start().await;
    w.fault(
        json!({"ops": ["CreateCgw"], "fault": {"kind": "drop_response"}, "trigger": {"next": 1}}),
    )
    .await;
    w.apply_yaml::<CustomerGateway>(EXAMPLE);
    w.reconcile::<CustomerGateway>(NAME).await;
    w.reconcile::<CustomerGateway>(NAME).await;
    assert_eq!(cond(&w.get::<CustomerGateway>(NAME), SYNCED).0, "False");
    let c = w.ready::<CustomerGateway>(NAME).await;
    assert_eq!(w.calls("CreateCgw"), 1);
    assert_eq!(in_cloud(&w).await.len(), 1);
    assert!(w
        .event_reasons::<CustomerGateway>(NAME)
        .contains(&RECOVERED.to_string()));
    assert_eq!(
        cloud_id(&c),
        in_cloud(&w).await[0]["customer_gateway"]["id"]
    );
}

#[tokio::test]
async fn a_customer_gateway_gone_from_the_cloud_is_recreated_with_a_warning() {
    let w = World::start().await;
    w.apply_yaml::<CustomerGateway>(EXAMPLE);
    let old = cloud_id(&w.ready::<CustomerGateway>(NAME).await);
    w.admin(
        "DELETE",
        &format!("/projects/{PROJECT}/customer-gateways/{old}"),
        json!(null),
    )
    .await;
    w.reconcile::<CustomerGateway>(NAME).await;
    let c = w.get::<CustomerGateway>(NAME);
    assert_ne!(cloud_id(&c), old);
    assert_eq!(cond(&c, READY), yes("Available"));
    assert!(condition(&c, READY).unwrap().message.contains(&old));
    let warning = w
        .events::<CustomerGateway>(NAME)
        .into_iter()
        .find(|n| n.reason == RECREATING)
        .expect("Recreating");
    assert!(warning.warning);
    assert_eq!(in_cloud(&w).await.len(), 1);
}

#[tokio::test]
async fn observe_only_never_writes_and_orphan_takes_only_the_owner_tags_off() {
    let w = World::start().await;
    let existing = w
        .console()
        .create_customer_gateway(&desired_create(&example().spec, "console-made", Vec::new()))
        .await
        .unwrap();
    let writes = w.writes();
    let mut obj = example();
    obj.spec.cloud_id = Some(existing.id.clone());
    obj.spec.management_policy = ManagementPolicy::Observe;
    w.apply(obj);
    let c = w.ready::<CustomerGateway>(NAME).await;
    assert_eq!(cond(&c, SYNCED), yes("ObserveOnly"));
    assert!(condition(&c, SYNCED).unwrap().message.contains("name"));
    w.delete::<CustomerGateway>(NAME);
    w.reconcile::<CustomerGateway>(NAME).await;
    assert!(w.try_get::<CustomerGateway>(NAME).is_none());
    assert_eq!(
        w.writes(),
        writes,
        "observing never writes, deletion included"
    );

    // Orphan: the user's tags stay, the owner tags go.
    let mut orphan = example();
    orphan.metadata.name = Some("kept".into());
    orphan.spec.id_value = "203.0.113.99".into();
    orphan.spec.deletion_policy = DeletionPolicy::Orphan;
    orphan.spec.tags.insert("env".into(), "prod".into());
    w.apply(orphan);
    let kept = w.ready::<CustomerGateway>("kept").await;
    w.delete::<CustomerGateway>("kept");
    w.reconcile::<CustomerGateway>("kept").await;
    assert!(w.try_get::<CustomerGateway>("kept").is_none());
    let tags = w
        .console()
        .list_tags(&TagResourceType::CustomerGateway, &cloud_id(&kept))
        .await
        .unwrap();
    assert_eq!(tags, vec![VpnResourceTag::new("env", "prod")]);
    assert!(!tags.iter().any(|t| t.key == TAG_UID || t.key == TAG_OWNER));
}

#[tokio::test]
async fn pause_and_a_broken_credentials_secret() {
    let w = World::start().await;
    let mut paused = example();
    paused
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(PAUSED_ANNOTATION.into(), "true".into());
    w.apply(paused);
    w.reconcile::<CustomerGateway>(NAME).await;
    assert_eq!(cond(&w.get::<CustomerGateway>(NAME), SYNCED), no("Paused"));
    assert_eq!(w.all_calls(), 0);

    let mut other = example();
    other.metadata.name = Some("elsewhere".into());
    other.spec.cloud =
        Some(serde_json::from_value(json!({"credentialsSecretRef": {"name": "creds"}})).unwrap());
    w.put_secret("creds", &[("accessKey", "only-half")]);
    w.apply(other);
    w.reconcile::<CustomerGateway>("elsewhere").await;
    w.reconcile::<CustomerGateway>("elsewhere").await;
    let o = w.get::<CustomerGateway>("elsewhere");
    assert_eq!(cond(&o, SYNCED), no("AuthFailed"));
    assert_eq!(cond(&o, READY), no("AuthFailed"));
    assert!(
        !condition(&o, READY).unwrap().message.contains("only-half"),
        "no secret in messages"
    );
    assert_eq!(w.all_calls(), 0);
}

#[tokio::test]
async fn a_full_customer_gateway_quota_is_reported_without_a_create_call() {
    let w = World::start().await;
    let mut world = w
        .admin("GET", &format!("/projects/{PROJECT}/world"), json!(null))
        .await;
    world["quotas"]["customer_gateway"] = json!(1);
    w.admin("PUT", &format!("/projects/{PROJECT}/world"), world)
        .await;
    w.apply(example());
    w.ready::<CustomerGateway>(NAME).await;
    let mut second = example();
    second.metadata.name = Some("second".into());
    second.spec.name = Some("second".into());
    second.spec.id_value = "203.0.113.99".into();
    w.apply(second);
    w.reconcile::<CustomerGateway>("second").await;
    w.reconcile::<CustomerGateway>("second").await;
    let c = w.get::<CustomerGateway>("second");
    assert_eq!(cond(&c, SYNCED), no("QuotaExceeded"));
    let msg = condition(&c, SYNCED).unwrap().message;
    assert!(
        msg.contains("used 1 of 1") && msg.contains("customer_gateway"),
        "{msg}"
    );
    assert_eq!(w.calls("CreateCgw"), 1, "no create for the second");
    // The quota is raised: the next attempt creates it.
    let mut world = w
        .admin("GET", &format!("/projects/{PROJECT}/world"), json!(null))
        .await;
    world["quotas"]["customer_gateway"] = json!(2);
    w.admin("PUT", &format!("/projects/{PROJECT}/world"), world)
        .await;
    w.reconcile::<CustomerGateway>("second").await;
    assert_eq!(
        cond(&w.get::<CustomerGateway>("second"), READY),
        yes("Available")
    );
}

#[tokio::test]
async fn a_ca_certificate_named_by_id_alone_is_accepted() {
    let w = World::start().await;
    let mut first = example();
    first.spec.ca_certificate = Some(crate::crd::customer_gateway::CaCertificateSpec {
        id: None,
        content: Some(CERT.into()),
    });
    w.apply(first);
    let c = w.ready::<CustomerGateway>(NAME).await;
    let ca_id = c.status.unwrap().ca_certificate.unwrap().id.expect("an id");
    let mut second = example();
    second.metadata.name = Some("second".into());
    second.spec.name = Some("second".into());
    second.spec.id_value = "203.0.113.99".into();
    second.spec.ca_certificate = Some(crate::crd::customer_gateway::CaCertificateSpec {
        id: Some(ca_id.clone()),
        content: None,
    });
    w.apply(second);
    let c = w.ready::<CustomerGateway>("second").await;
    assert_eq!(cond(&c, SYNCED), yes("ReconcileSuccess"));
    assert_eq!(c.status.unwrap().ca_certificate.unwrap().id, Some(ca_id));
}
