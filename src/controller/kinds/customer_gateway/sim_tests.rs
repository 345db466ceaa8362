//! The cloud side of the reconciler ([`observe`], [`plan`], [`sync`], [`delete`]) against the
//! in-process simulator.
use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::cloud::model::connection::CreateVpnConnectionRequestBody;
use crate::cloud::model::gateway::{CreateRequestEip, CreateVpnGatewayRequestBody};
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::{ApiClient, ClientConfig};
use crate::cloud::Credentials;
use crate::sim::{self, Delays, SimConfig, SimHandle};

const PROJECT: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f9";
const AK: &str = "CTLTESTACCESSKEY0002";
const SK: &str = "ctl-test-secret-key";
const UID: &str = "5e1d7c00-0000-4000-8000-0000000000c9";

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
    (sim, VpnClient::new(ApiClient::new(cfg).expect("client")))
}

fn spec() -> CustomerGatewaySpec {
    CustomerGatewaySpec {
        name: Some("office".into()),
        id_type: IdType::Ip,
        id_value: "203.0.113.10".into(),
        bgp_asn: Some(65010),
        ca_certificate: None,
        tags: BTreeMap::from([("env".to_string(), "prod".to_string())]),
        cloud_id: None,
        deletion_policy: Default::default(),
        management_policy: ManagementPolicy::Default,
        cloud: None,
    }
}

fn tags(env: &str) -> Vec<VpnResourceTag> {
    vec![
        VpnResourceTag::new("env", env),
        VpnResourceTag::new(TAG_OWNER, "test:ns:office"),
        VpnResourceTag::new(TAG_UID, UID),
    ]
}

fn sorted(mut t: Vec<VpnResourceTag>) -> Vec<VpnResourceTag> {
    t.sort_by(|a, b| a.key.cmp(&b.key));
    t
}

#[tokio::test]
async fn create_recover_update_and_delete_once_no_connection_uses_it() {
    let (_sim, vpn) = start().await;
    let s = spec();
    let created = vpn
        .create_customer_gateway(&desired_create(&s, "office", tags("dev")))
        .await
        .expect("create");

    // The recorded id is gone, but the owner tag finds the one this object created.
    let obs = observe(
        &vpn,
        Lookup::Recorded("0dead000-0000-4000-8000-000000000000".into()),
        UID,
        true,
    )
    .await
    .expect("observe");
    assert_eq!(
        obs.gone.as_deref(),
        Some("0dead000-0000-4000-8000-000000000000")
    );
    let (found, how) = obs.found.clone().expect("found by owner tag");
    assert_eq!(
        (found.id.as_str(), how),
        (created.id.as_str(), How::Recovered)
    );

    // Rename and retag in one reconcile.
    let observed_tags = observed_tags(&vpn, &found).await.expect("tags");
    let want = tags("prod");
    let Plan::Sync {
        cgw,
        update,
        tags: tag_changes,
        ..
    } = plan(&s, "office-2", &want, &obs, &observed_tags, None)
    else {
        panic!("expected Sync");
    };
    let (after, changed) = sync(&vpn, cgw, update.as_ref(), &tag_changes)
        .await
        .expect("sync");
    assert_eq!(changed, ["tags", "name"]);
    assert_eq!(after.name.as_deref(), Some("office-2"));
    let read = vpn.get_customer_gateway(&created.id).await.expect("get");
    assert_eq!(read.name.as_deref(), Some("office-2"));
    let cloud_tags = vpn
        .list_tags(&TagResourceType::CustomerGateway, &created.id)
        .await
        .expect("tags");
    assert_eq!(sorted(cloud_tags.clone()), sorted(want.clone()));
    assert_eq!(drift(&s, "office-2", &want, &read, &cloud_tags), vec![]);

    // A connection uses it: the cloud refuses the delete, which the reconciler waits out.
    let gw = vpn
        .create_gateway(&CreateVpnGatewayRequestBody {
            name: Some("gw".into()),
            vpc_id: Some("a0000000-0000-4000-8000-000000000001".into()),
            local_subnets: Some(vec!["192.168.0.0/24".into()]),
            connect_subnet: Some("b0000000-0000-4000-8000-000000000001".into()),
            eip1: Some(CreateRequestEip {
                id: Some("e0000000-0000-4000-8000-000000000001".into()),
                ..Default::default()
            }),
            eip2: Some(CreateRequestEip {
                id: Some("e0000000-0000-4000-8000-000000000002".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("gateway");
    let conn = vpn
        .create_connection(&CreateVpnConnectionRequestBody {
            vgw_id: gw.id.clone(),
            vgw_ip: "e0000000-0000-4000-8000-000000000001".into(),
            cgw_id: created.id.clone(),
            peer_subnets: Some(vec!["172.16.0.0/24".into()]),
            psk: Some("Test-Psk-12345".into()),
            ..Default::default()
        })
        .await
        .expect("connection");
    assert_eq!(
        delete(&vpn, &created.id).await.expect("delete"),
        Deletion::InUse
    );
    vpn.delete_connection(&conn.id)
        .await
        .expect("delete connection");
    // Zero delays: the connection is gone at the next read.
    assert!(vpn.get_connection(&conn.id).await.is_err());
    assert_eq!(
        delete(&vpn, &created.id).await.expect("delete"),
        Deletion::Deleted
    );
    assert_eq!(
        delete(&vpn, &created.id).await.expect("delete"),
        Deletion::AlreadyGone
    );
}

#[tokio::test]
async fn adopting_reports_immutable_drift_and_sends_the_certificate_once() {
    let (_sim, vpn) = start().await;
    // Made outside the operator, with another ASN and no tags.
    let mut outside = desired_create(&spec(), "console-made", Vec::new());
    outside.bgp_asn = Some(64999);
    let existing = vpn.create_customer_gateway(&outside).await.expect("create");
    let mut s = spec();
    s.cloud_id = Some(existing.id.clone());
    s.ca_certificate = Some(crate::crd::customer_gateway::CaCertificateSpec {
        id: None,
        content: Some("-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----".into()),
    });
    let obs = observe(&vpn, Lookup::Adopt(existing.id.clone()), UID, false)
        .await
        .expect("observe");
    let (cgw, how) = obs.found.clone().expect("adopted");
    assert_eq!(how, How::Adopted);
    assert_eq!(ownership(cgw.tags.as_deref(), UID), Ownership::Unowned);
    let observed = observed_tags(&vpn, &cgw).await.expect("tags");
    let want = tags("prod");
    let diffs = drift(&s, "office", &want, &cgw, &observed);
    let immutable: Vec<&str> = diffs
        .iter()
        .filter(|d| !d.updatable)
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(immutable, ["bgpAsn"]);
    let Plan::Sync {
        cgw,
        update,
        tags: tag_changes,
        ..
    } = plan(&s, "office", &want, &obs, &observed, None)
    else {
        panic!("expected Sync");
    };
    let fields = update
        .as_ref()
        .map(|u| u.fields.clone())
        .unwrap_or_default();
    assert_eq!(fields, ["name", "caCertificate"]);
    assert_eq!(tag_changes.add.len(), 3, "owner tags are added on adoption");
    let (after, _) = sync(&vpn, cgw, update.as_ref(), &tag_changes)
        .await
        .expect("sync");
    assert!(
        after.ca_certificate.is_some(),
        "the cloud now holds a certificate"
    );
    assert_eq!(
        after.bgp_asn,
        Some(64999),
        "immutable fields are left alone"
    );
    let tagged = vpn
        .list_tags(&TagResourceType::CustomerGateway, &existing.id)
        .await
        .expect("tags");
    assert_eq!(ownership(Some(&tagged), UID), Ownership::Ours);
    // With the hash recorded, the certificate is not sent again.
    let obs = observe(&vpn, Lookup::Recorded(existing.id.clone()), UID, true)
        .await
        .expect("observe");
    let sent = s
        .ca_certificate
        .as_ref()
        .and_then(|c| c.content.as_deref())
        .map(sha256_hex);
    match plan(&s, "office", &want, &obs, &tagged, sent.as_deref()) {
        Plan::Sync { update, tags, .. } => {
            assert_eq!(update, None);
            assert!(tags.is_empty());
        }
        other => panic!("expected Sync, got {other:?}"),
    }
}

#[tokio::test]
async fn orphan_release_takes_only_our_owner_tags_off() {
    use crate::controller::ownership::release;
    let (_sim, vpn) = start().await;
    let kind = TagResourceType::CustomerGateway;
    let ours = vpn
        .create_customer_gateway(&desired_create(&spec(), "office", tags("prod")))
        .await
        .expect("create");
    assert!(release(&vpn, &kind, &ours.id, UID).await.expect("release"));
    let left = vpn.list_tags(&kind, &ours.id).await.expect("tags");
    assert_eq!(
        left,
        vec![VpnResourceTag::new("env", "prod")],
        "user tags stay"
    );
    assert!(
        !release(&vpn, &kind, &ours.id, UID).await.expect("again"),
        "nothing left to release"
    );

    let mut theirs = spec();
    theirs.id_value = "203.0.113.11".into();
    let foreign = vpn
        .create_customer_gateway(&desired_create(&theirs, "other", tags("prod")))
        .await
        .expect("create");
    let other_uid = "00000000-0000-4000-8000-00000000beef";
    assert!(!release(&vpn, &kind, &foreign.id, other_uid)
        .await
        .expect("release"));
    assert_eq!(
        sorted(vpn.list_tags(&kind, &foreign.id).await.expect("tags")),
        sorted(tags("prod")),
        "another object's tags are never removed"
    );
    assert!(
        !release(&vpn, &kind, "00000000-0000-4000-8000-000000000404", UID)
            .await
            .expect("a missing resource is nothing to do")
    );
}
