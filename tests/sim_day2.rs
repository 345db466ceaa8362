//! Day-2 operations of the real `VpnClient` against the simulator over HTTP (gateway upgrade,
//! connection reset, GM certificates, routing table, tag counts), every documented operation
//! the client implements driven once, and the simulator behaviours the documents fix
//! (docs/SIMULATOR.md): the busy codes, ER gateways without a VPC, shared bandwidths, tags per
//! request, certificates by id, monitor deletes gated by the gateway, the appendix error body,
//! every documented PSK character.
mod sim_support;

use serde_json::json;
use sim_support::*;
use vpn_operator::cloud::model as m;
use vpn_operator::cloud::vpn::ops;
use vpn_operator::cloud::{CloudError, ErrorKind, VpnClient};

const ER: &str = "f0000000-0000-4000-8000-000000000001";
const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----";

fn kind_and_code(e: CloudError) -> (ErrorKind, String) {
    (e.kind, e.code.unwrap_or_default())
}

async fn active_gateway(c: &VpnClient, body: m::CreateVpnGatewayRequestBody) -> String {
    let id = c.create_gateway(&body).await.unwrap().id;
    // Zero delays: the next call sees it ACTIVE.
    let gw = c.get_gateway(&id).await.unwrap();
    assert_eq!(gw.status, Some(m::GatewayStatus::Active));
    id
}

fn gm_gateway_body() -> m::CreateVpnGatewayRequestBody {
    m::CreateVpnGatewayRequestBody {
        flavor: Some(m::GatewayFlavor::Gm),
        ..gateway_body(EIP[2], EIP[3])
    }
}

fn certificate(name: &str) -> m::CreateVpnGatewayCertificateBody {
    m::CreateVpnGatewayCertificateBody {
        name: Some(name.into()),
        certificate: PEM.into(),
        private_key: KEY.to_string().into(),
        certificate_chain: PEM.into(),
        enc_certificate: PEM.replace("MIIB", "MIIC"),
        enc_private_key: KEY.to_string().into(),
    }
}

#[tokio::test]
async fn upgrade_start_then_finish_blocks_other_changes_and_leaves_a_job() {
    let (_sim, c) = start().await;
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    let job = c
        .upgrade_gateway(&gw, m::UpgradeAction::Start)
        .await
        .unwrap()
        .expect("the 202 answer names the job");
    // Zero delay: UPGRADING, then PENDING_UPGRADE_CONFIRM at the next call.
    let g = c.get_gateway(&gw).await.unwrap();
    assert_eq!(g.status, Some(m::GatewayStatus::PendingUpgradeConfirm));
    let jobs = c.list_jobs(Some(&gw)).await.unwrap();
    assert_eq!(jobs[0].id, job);
    assert_eq!(jobs[0].status, Some(m::JobStatus::PendingUpgradeConfirm));
    // Waiting for confirmation: every other mutation answers VPN.0511, delete included.
    let rename = m::UpdateVpnGatewayRequestBody {
        name: Some("renamed".into()),
        ..Default::default()
    };
    let e = c.update_gateway(&gw, &rename).await.unwrap_err();
    assert_eq!(kind_and_code(e), (ErrorKind::NotReady, "VPN.0511".into()));
    let e = c.delete_gateway(&gw).await.unwrap_err();
    assert_eq!(kind_and_code(e), (ErrorKind::NotReady, "VPN.0511".into()));
    // finish: the job succeeds and the gateway is ACTIVE again; the finished job is deletable.
    let finished = c
        .upgrade_gateway(&gw, m::UpgradeAction::Finish)
        .await
        .unwrap();
    assert_eq!(finished.as_deref(), Some(job.as_str()));
    let g = c.get_gateway(&gw).await.unwrap();
    assert_eq!(g.status, Some(m::GatewayStatus::Active));
    assert_eq!(
        c.list_jobs(Some(&gw)).await.unwrap()[0].status,
        Some(m::JobStatus::Success)
    );
    c.delete_job(&job).await.unwrap();
    assert!(c.list_jobs(Some(&gw)).await.unwrap().is_empty());
    // Nothing waits for confirmation any more: finish is refused.
    let e = c
        .upgrade_gateway(&gw, m::UpgradeAction::Finish)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn upgrade_rollback_goes_through_rolling_back() {
    let (sim, c) = start().await;
    let admin = Admin::new(&sim);
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    admin.put("/delays", json!({"gateway_upgrade": "1h"})).await;
    c.upgrade_gateway(&gw, m::UpgradeAction::Start)
        .await
        .unwrap();
    // Still upgrading: a rollback is "not ready" yet.
    let e = c
        .upgrade_gateway(&gw, m::UpgradeAction::Rollback)
        .await
        .unwrap_err();
    assert_eq!(kind_and_code(e), (ErrorKind::NotReady, "VPN.0511".into()));
    admin
        .post(
            &format!("/projects/{PROJECT}/vpn-gateways/{gw}/status"),
            json!({"status": "PENDING_UPGRADE_CONFIRM"}),
        )
        .await;
    c.upgrade_gateway(&gw, m::UpgradeAction::Rollback)
        .await
        .unwrap();
    let g = c.get_gateway(&gw).await.unwrap();
    assert_eq!(g.status, Some(m::GatewayStatus::RollingBack));
    assert_eq!(
        c.list_jobs(Some(&gw)).await.unwrap()[0].status,
        Some(m::JobStatus::RollingBack)
    );
}

/// An upgrade started outside the operator (forced through the admin API) has a job too, and
/// can be confirmed.
#[tokio::test]
async fn a_forced_pending_confirm_has_a_job_that_can_be_finished() {
    let (sim, c) = start().await;
    let admin = Admin::new(&sim);
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    admin
        .post(
            &format!("/projects/{PROJECT}/vpn-gateways/{gw}/status"),
            json!({"status": "PENDING_UPGRADE_CONFIRM"}),
        )
        .await;
    let jobs = c.list_jobs(Some(&gw)).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, Some(m::JobStatus::PendingUpgradeConfirm));
    let job = c
        .upgrade_gateway(&gw, m::UpgradeAction::Finish)
        .await
        .unwrap();
    assert_eq!(job.as_deref(), Some(jobs[0].id.as_str()));
    assert_eq!(
        c.get_gateway(&gw).await.unwrap().status,
        Some(m::GatewayStatus::Active)
    );
}

#[tokio::test]
async fn reset_renegotiates_and_is_refused_while_pending() {
    let (sim, c) = start().await;
    let admin = Admin::new(&sim);
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    let cgw = c
        .create_customer_gateway(&cgw_body("203.0.113.10"))
        .await
        .unwrap()
        .id;
    let conn = c
        .create_connection(&connection_body(&gw, EIP[0], &cgw))
        .await
        .unwrap()
        .id;
    assert_eq!(
        c.get_connection(&conn).await.unwrap().status,
        Some(m::ConnectionStatus::Active)
    );
    admin
        .put("/delays", json!({"connection_update": "1h"}))
        .await;
    c.reset_connection(&conn).await.unwrap();
    assert_eq!(
        c.get_connection(&conn).await.unwrap().status,
        Some(m::ConnectionStatus::PendingUpdate),
        "a reset negotiates again"
    );
    // While PENDING_*: the documented "not allowed" refusal.
    let e = c.reset_connection(&conn).await.unwrap_err();
    assert_eq!(kind_and_code(e), (ErrorKind::NotReady, "VPN.0001".into()));
    let (calls, by_status, _) = admin.counters("ResetVpnConnection").await;
    assert_eq!(calls, 2);
    assert_eq!(by_status["200"], 1);
}

#[tokio::test]
async fn gm_certificates_import_bind_update_and_refuse_a_second_import() {
    let (sim, c) = start().await;
    let admin = Admin::new(&sim);
    let gw = active_gateway(&c, gm_gateway_body()).await;
    assert_eq!(c.observe_gateway_certificate(&gw).await.unwrap(), None);
    admin.put("/delays", json!({"gateway_update": "1h"})).await;
    let created = c
        .create_gateway_certificate(&gw, &certificate("cert-gm1"))
        .await
        .unwrap();
    let id = created.id.clone().expect("an id");
    assert_eq!(created.vgw_id.as_deref(), Some(gw.as_str()));
    assert!(created.certificate_expire_time.is_some());
    let seen = c.get_gateway_certificate(&gw).await.unwrap();
    assert_eq!(seen.status, Some(m::CertificateStatus::Binding));
    admin.put("/delays", json!({"gateway_update": "0s"})).await;
    // A second import is a duplicate (VPN.0077): the spec error class with the cloud's words.
    let e = c
        .create_gateway_certificate(&gw, &certificate("cert-gm2"))
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("VPN.0077"));
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.starts_with("Duplicate certificate"), "{e}");
    let update = m::UpdateVpnGatewayCertificateBody {
        enc_certificate: Some(PEM.replace("MIIB", "MIID")),
        ..Default::default()
    };
    let updated = c
        .update_gateway_certificate(&gw, &id, &update)
        .await
        .unwrap();
    assert_eq!(updated.id.as_deref(), Some(id.as_str()));
    assert_ne!(
        updated.enc_certificate_serial_number,
        created.enc_certificate_serial_number
    );
    let bound = c.get_gateway_certificate(&gw).await.unwrap();
    assert_eq!(bound.status, Some(m::CertificateStatus::Bound));
    // Only GM gateways take certificates.
    let plain = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    let e = c
        .create_gateway_certificate(&plain, &certificate("cert-x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn routing_table_lists_the_peer_subnets_of_active_connections() {
    let (_sim, c) = start().await;
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    assert_eq!(c.routing_table(&gw).await.unwrap().total_count, Some(0));
    let cgw = c
        .create_customer_gateway(&cgw_body("203.0.113.10"))
        .await
        .unwrap()
        .id;
    let conn = c
        .create_connection(&connection_body(&gw, EIP[0], &cgw))
        .await
        .unwrap()
        .id;
    c.get_connection(&conn).await.unwrap();
    let table = c.routing_table(&gw).await.unwrap();
    assert_eq!(table.total_count, Some(1));
    let route = &table.routing_table[0];
    assert_eq!(route.destination.as_deref(), Some("172.16.0.0/24"));
    assert!(route.nexthop.is_some());
    assert_eq!(
        route
            .nexthop_resource
            .as_ref()
            .and_then(|r| r.id.as_deref()),
        Some(conn.as_str())
    );
    let e = c.routing_table("no-such-gateway").await.unwrap_err();
    assert_eq!(kind_and_code(e), (ErrorKind::NotFound, "VPN.0509".into()));
}

#[tokio::test]
async fn tags_are_counted_and_listed_per_project_and_limited_per_request() {
    let (_sim, c) = start().await;
    let kind = m::TagResourceType::VpnGateway;
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    let batch = |from: usize| -> Vec<m::VpnResourceTag> {
        (from..from + 20)
            .map(|i| m::VpnResourceTag::new(format!("k{i}"), "v"))
            .collect()
    };
    // 20 per request, twice: the documented limit is per request, not per resource.
    c.add_tags(&kind, &gw, &batch(0)).await.unwrap();
    c.add_tags(&kind, &gw, &batch(20)).await.unwrap();
    assert_eq!(c.list_tags(&kind, &gw).await.unwrap().len(), 40);
    let mut too_many = batch(40);
    too_many.push(m::VpnResourceTag::new("k99", "v"));
    let e = c.add_tags(&kind, &gw, &too_many).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    let filter = m::FilterResourcesRequest {
        tags: Some(vec![m::TagFilter {
            key: "k3".into(),
            values: vec!["v".into()],
        }]),
        ..Default::default()
    };
    assert_eq!(c.count_resources_by_tags(&kind, &filter).await.unwrap(), 1);
    let project = c.list_project_tags(&kind).await.unwrap();
    assert_eq!(project.len(), 40);
    assert!(project.iter().any(|t| t.key == "k39" && t.values == ["v"]));
}

#[tokio::test]
async fn an_er_gateway_needs_no_vpc_and_a_new_eip_may_use_a_shared_bandwidth() {
    let (_sim, c) = start().await;
    let shared = "d0000000-0000-4000-8000-00000000abcd";
    let new_eip = |bandwidth_id: Option<&str>| m::CreateRequestEip {
        eip_type: Some(m::EipType::parse("5_bgp")),
        bandwidth_size: Some(100),
        bandwidth_id: bandwidth_id.map(Into::into),
        ..Default::default()
    };
    let body = m::CreateVpnGatewayRequestBody {
        name: Some("gw-er".into()),
        attachment_type: Some(m::AttachmentType::Er),
        er_id: Some(ER.into()),
        flavor: Some(m::GatewayFlavor::Professional1),
        eip1: Some(new_eip(Some(shared))),
        eip2: Some(new_eip(None)),
        ..Default::default()
    };
    let gw = c
        .get_gateway(&active_gateway(&c, body).await)
        .await
        .unwrap();
    assert_eq!(gw.attachment_type, Some(m::AttachmentType::Er));
    assert_eq!(gw.vpc_id, None);
    assert_eq!(gw.access_vpc_id, None);
    let eip1 = gw.eip1.expect("eip1");
    assert_eq!(eip1.bandwidth_id.as_deref(), Some(shared));
    assert_eq!(eip1.share_type, Some(m::ShareType::parse("WHOLE")));
    assert_eq!(
        gw.eip2.expect("eip2").share_type,
        Some(m::ShareType::parse("PER"))
    );
}

#[tokio::test]
async fn a_ca_certificate_may_be_given_by_id_alone() {
    let (_sim, c) = start().await;
    let with_content = m::CreateCustomerGatewayRequestBody {
        ca_certificate: Some(m::CaCertificateRequest {
            id: None,
            content: Some(PEM.into()),
        }),
        ..cgw_body("203.0.113.30")
    };
    let first = c.create_customer_gateway(&with_content).await.unwrap();
    let ca = first.ca_certificate.expect("described");
    let by_id = m::CreateCustomerGatewayRequestBody {
        ca_certificate: Some(m::CaCertificateRequest {
            id: ca.id.clone(),
            content: None,
        }),
        ..cgw_body("203.0.113.31")
    };
    let second = c.create_customer_gateway(&by_id).await.unwrap();
    let again = second.ca_certificate.expect("the same certificate");
    assert_eq!(again.id, ca.id);
    assert_eq!(again.serial_number, ca.serial_number);
}

#[tokio::test]
async fn monitor_deletes_wait_for_the_gateway_like_other_monitor_changes() {
    let (sim, c) = start().await;
    let admin = Admin::new(&sim);
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    let cgw = c
        .create_customer_gateway(&cgw_body("203.0.113.10"))
        .await
        .unwrap()
        .id;
    let conn = c
        .create_connection(&connection_body(&gw, EIP[0], &cgw))
        .await
        .unwrap()
        .id;
    c.get_connection(&conn).await.unwrap();
    let monitor = c.create_connection_monitor(&conn).await.unwrap().id;
    admin
        .post(
            &format!("/projects/{PROJECT}/vpn-gateways/{gw}/status"),
            json!({"status": "PENDING_UPDATE"}),
        )
        .await;
    let e = c.delete_connection_monitor(&monitor).await.unwrap_err();
    assert_eq!(kind_and_code(e), (ErrorKind::NotReady, "VPN.0507".into()));
    admin
        .post(
            &format!("/projects/{PROJECT}/vpn-gateways/{gw}/status"),
            json!({"status": "ACTIVE"}),
        )
        .await;
    c.delete_connection_monitor(&monitor).await.unwrap();
}

#[tokio::test]
async fn every_documented_psk_special_is_accepted() {
    let (_sim, c) = start().await;
    let gw = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    let cgw = c
        .create_customer_gateway(&cgw_body("203.0.113.10"))
        .await
        .unwrap()
        .id;
    let mut body = connection_body(&gw, EIP[0], &cgw);
    // '*' only in the batch-create and update tables, ':' only in the SDK's, '!' in single create.
    body.psk = Some("Abc12*:!~@#$%^()-_+={ },./;".to_string().into());
    c.create_connection(&body).await.unwrap();
    body.psk = Some("Abcdef12&".to_string().into());
    let e = c.create_connection(&body).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
}

/// Errors only the appendix documents come as `{code, message}`; the client reads both shapes.
#[tokio::test]
async fn appendix_error_bodies_reach_the_client_with_code_and_message() {
    let (_sim, c) = start().await;
    let e = c.get_gateway("no-such-gateway").await.unwrap_err();
    assert_eq!(
        kind_and_code(e.clone()),
        (ErrorKind::NotFound, "VPN.0509".into())
    );
    assert_eq!(e.message, "The gateway does not exist.");
    assert!(e.request_id.is_some(), "from the X-Request-Id header");
}

/// Every documented site-to-site operation of `VpnClient` (the 39 of `ops::ALL`), called once
/// against the simulator: the counters show each was served.
#[tokio::test]
async fn every_documented_operation_of_the_client_reaches_the_simulator() {
    let (sim, c) = start().await;
    let admin = Admin::new(&sim);
    let gw_kind = m::TagResourceType::VpnGateway;
    c.list_availability_zones().await.unwrap();
    c.list_extended_availability_zones().await.unwrap();
    c.get_quotas().await.unwrap();
    let gw = active_gateway(&c, gm_gateway_body()).await;
    c.list_gateways(&Default::default()).await.unwrap();
    let rename = m::UpdateVpnGatewayRequestBody {
        name: Some("gw-renamed".into()),
        ..Default::default()
    };
    c.update_gateway(&gw, &rename).await.unwrap();
    c.get_gateway(&gw).await.unwrap();
    let cert = c
        .create_gateway_certificate(&gw, &certificate("cert-all"))
        .await
        .unwrap();
    c.get_gateway_certificate(&gw).await.unwrap();
    let rename_cert = m::UpdateVpnGatewayCertificateBody {
        name: Some("cert-all-2".into()),
        ..Default::default()
    };
    c.update_gateway_certificate(&gw, cert.id.as_deref().unwrap(), &rename_cert)
        .await
        .unwrap();
    c.get_gateway(&gw).await.unwrap();
    let job = c
        .upgrade_gateway(&gw, m::UpgradeAction::Start)
        .await
        .unwrap()
        .unwrap();
    c.get_gateway(&gw).await.unwrap();
    c.upgrade_gateway(&gw, m::UpgradeAction::Finish)
        .await
        .unwrap();
    c.list_jobs(None).await.unwrap();
    c.delete_job(&job).await.unwrap();
    let plain = active_gateway(&c, gateway_body(EIP[0], EIP[1])).await;
    c.update_gateway_specification(&plain, &m::GatewayFlavor::Professional2)
        .await
        .unwrap();
    c.get_gateway(&plain).await.unwrap();
    let cgw = c
        .create_customer_gateway(&cgw_body("203.0.113.10"))
        .await
        .unwrap()
        .id;
    c.get_customer_gateway(&cgw).await.unwrap();
    c.list_all_customer_gateways(None).await.unwrap();
    let cgw_rename = m::UpdateCustomerGatewayRequestBody {
        name: Some("cgw-renamed".into()),
        ca_certificate: None,
    };
    c.update_customer_gateway(&cgw, &cgw_rename).await.unwrap();
    let conns = c
        .batch_create_connections(&[connection_body(&plain, EIP[0], &cgw)])
        .await
        .unwrap();
    let conn = c
        .create_connection(&connection_body(&plain, EIP[1], &cgw))
        .await
        .unwrap()
        .id;
    c.get_connection(&conn).await.unwrap();
    c.list_all_connections(&Default::default()).await.unwrap();
    let conn_rename = m::UpdateVpnConnectionRequestBody {
        name: Some("conn-renamed".into()),
        ..Default::default()
    };
    c.update_connection(&conn, &conn_rename).await.unwrap();
    c.get_connection(&conn).await.unwrap();
    c.list_connection_logs(&conn).await.unwrap();
    c.reset_connection(&conn).await.unwrap();
    c.routing_table(&plain).await.unwrap();
    let monitor = c.create_connection_monitor(&conn).await.unwrap().id;
    c.get_connection_monitor(&monitor).await.unwrap();
    c.list_connection_monitors(&Default::default())
        .await
        .unwrap();
    c.delete_connection_monitor(&monitor).await.unwrap();
    let tag = [m::VpnResourceTag::new("team", "net")];
    c.add_tags(&gw_kind, &plain, &tag).await.unwrap();
    c.list_tags(&gw_kind, &plain).await.unwrap();
    c.list_project_tags(&gw_kind).await.unwrap();
    let filter = m::FilterResourcesRequest::default();
    c.filter_resources_by_tags(&gw_kind, &filter, None, None)
        .await
        .unwrap();
    c.count_resources_by_tags(&gw_kind, &filter).await.unwrap();
    c.remove_tags(&gw_kind, &plain, &tag).await.unwrap();
    c.get_connection(&conn).await.unwrap();
    c.delete_connection(&conn).await.unwrap();
    c.delete_connection(&conns[0].id).await.unwrap();
    c.get_connection(&conn).await.unwrap_err();
    c.delete_customer_gateway(&cgw).await.unwrap();
    c.delete_gateway(&gw).await.unwrap();
    let counters = admin.get("/counters").await;
    let missing: Vec<&str> = ops::ALL
        .iter()
        .map(|op| op.name)
        .filter(|name| counters["operations"][name]["calls"].as_u64().unwrap_or(0) == 0)
        .collect();
    assert!(missing.is_empty(), "never served: {missing:?}");
    assert_eq!(ops::ALL.len(), 39);
}
