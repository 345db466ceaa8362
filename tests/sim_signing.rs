//! A client written independently of this crate's signer (only the published SDK-HMAC-SHA256
//! algorithm, in `sim_support::independent`) drives the whole lifecycle over raw HTTP; plus
//! the gateway-level behaviour every client sees: clock skew, error bodies and request ids,
//! unknown APIs, the admin API's separation, and the upgrade API.
mod sim_support;

use chrono::{Duration as ChronoDuration, Utc};
use serde_json::{json, Value};
use sim_support::*;

fn date(offset_minutes: i64) -> String {
    (Utc::now() + ChronoDuration::minutes(offset_minutes))
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

#[tokio::test]
async fn an_independent_client_drives_the_lifecycle() {
    let (sim, _) = start().await;
    let p = format!("/v5/{PROJECT}");
    let (s, gw) = signed(
        &sim,
        "POST",
        &format!("{p}/vpn-gateways"),
        &[],
        Some(json!({"vpn_gateway": {
            "vpc_id": VPC,
            "local_subnets": ["192.168.0.0/24", "192.168.1.0/24"],
            "connect_subnet": SUBNET_A,
            "eip1": {"id": EIP[0]},
            "eip2": {"id": EIP[1]}
        }})),
    )
    .await;
    assert_eq!(s, 201, "{gw}");
    let gw_id = gw["vpn_gateway"]["id"].as_str().unwrap().to_string();
    assert!(gw["vpn_gateway"].get("status").is_none());
    assert_eq!(
        gw["vpn_gateway"]["flavor"], "Professional1",
        "documented default"
    );
    assert_eq!(gw["vpn_gateway"]["bgp_asn"], 64512, "documented default");
    assert!(gw["request_id"].is_string());

    let (s, got) = signed(&sim, "GET", &format!("{p}/vpn-gateways/{gw_id}"), &[], None).await;
    assert_eq!(s, 200);
    assert_eq!(got["vpn_gateway"]["status"], "ACTIVE");
    assert_eq!(got["vpn_gateway"]["eip1"]["id"], EIP[0]);

    let (s, cgw) = signed(
        &sim,
        "POST",
        &format!("{p}/customer-gateways"),
        &[],
        Some(json!({"customer_gateway": {"name": "cgw-3ebf", "id_type": "ip", "id_value": "203.0.113.21"}})),
    )
    .await;
    assert_eq!(s, 201, "{cgw}");
    let cgw_id = cgw["customer_gateway"]["id"].as_str().unwrap().to_string();

    let (s, conns) = signed(
        &sim,
        "POST",
        &format!("{p}/vpn-connections/batch-create"),
        &[],
        Some(json!({"vpn_connections": [
            {"vgw_id": gw_id, "vgw_ip": EIP[0], "cgw_id": cgw_id, "peer_subnets": ["192.168.44.0/24"], "psk": "Abcd-1234"},
            {"vgw_id": gw_id, "vgw_ip": EIP[1], "cgw_id": cgw_id, "peer_subnets": ["192.168.44.0/24"], "psk": "Abcd-1234"}
        ]})),
    )
    .await;
    assert_eq!(s, 201, "{conns}");
    let conn_ids: Vec<String> = conns["vpn_connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let first = &conns["vpn_connections"][0];
    assert_eq!(first["style"], "STATIC", "responses use upper case");
    assert_eq!(
        first["ikepolicy"]["dh_group"], "group15",
        "server defaults filled in"
    );
    assert!(first.get("psk").is_none());

    // Paging the connections with a query string (signed too).
    let (s, page) = signed(
        &sim,
        "GET",
        &format!("{p}/vpn-connection"),
        &[("limit", "1"), ("vgw_id", &gw_id)],
        None,
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["vpn_connections"].as_array().unwrap().len(), 1);
    assert_eq!(page["total_count"], 2);
    let marker = page["page_info"]["next_marker"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, page2) = signed(
        &sim,
        "GET",
        &format!("{p}/vpn-connection"),
        &[("limit", "1"), ("marker", &marker)],
        None,
    )
    .await;
    assert_eq!(page2["vpn_connections"].as_array().unwrap().len(), 1);
    assert_ne!(
        page2["vpn_connections"][0]["id"],
        page["vpn_connections"][0]["id"]
    );

    let (s, mon) = signed(
        &sim,
        "POST",
        &format!("{p}/connection-monitors"),
        &[],
        Some(json!({"connection_monitor": {"vpn_connection_id": conn_ids[0]}})),
    )
    .await;
    assert_eq!(s, 201, "{mon}");
    let mon_id = mon["connection_monitor"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(mon["connection_monitor"]["proto_type"], "icmp");

    let (s, _) = signed(
        &sim,
        "POST",
        &format!("{p}/vpn-connection/{}/reset", conn_ids[1]),
        &[],
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = signed(
        &sim,
        "DELETE",
        &format!("{p}/connection-monitors/{mon_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, 204);
    for id in &conn_ids {
        let (s, body) = signed(
            &sim,
            "DELETE",
            &format!("{p}/vpn-connection/{id}"),
            &[],
            None,
        )
        .await;
        assert_eq!(s, 204, "{body}");
    }
    let (s, _) = signed(
        &sim,
        "DELETE",
        &format!("{p}/customer-gateways/{cgw_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = signed(
        &sim,
        "DELETE",
        &format!("{p}/vpn-gateways/{gw_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, gone) = signed(&sim, "GET", &format!("{p}/vpn-gateways/{gw_id}"), &[], None).await;
    // An error only the appendix documents: its `{code, message}` body.
    assert_eq!((s, gone["code"].as_str()), (404, Some("VPN.0509")));
    assert_eq!(gone["message"], "The gateway does not exist.");
}

#[tokio::test]
async fn clock_skew_over_15_minutes_is_refused() {
    let (sim, _) = start().await;
    let path = format!("/v5/{PROJECT}/vpn-gateways");
    for (offset, ok) in [(-14, true), (14, true), (-16, false), (16, false)] {
        let (s, _, body) = signed_at(&sim, "GET", &path, &[], None, (AK, SK), &date(offset)).await;
        if ok {
            assert_eq!(s, 200, "offset {offset}: {body}");
        } else {
            assert_eq!(s, 401, "offset {offset}");
            assert_eq!(body["error_code"], "APIGW.0301");
            assert!(
                body["error_msg"]
                    .as_str()
                    .unwrap()
                    .contains("signature expired"),
                "{body}"
            );
        }
    }
}

/// Every answer carries `X-Request-Id`; bodies with a `request_id` (replies, and the errors of
/// the documented examples) carry the same one. Errors only the appendix documents have its
/// `{code, message}` body.
#[tokio::test]
async fn every_answer_has_a_request_id_in_header_and_body() {
    let (sim, _) = start().await;
    let path = format!("/v5/{PROJECT}/vpn-gateways");
    // Bad signature: the API gateway's 401 body.
    let (s, headers, body) =
        signed_at(&sim, "GET", &path, &[], None, (AK, "wrong"), &date(0)).await;
    assert_eq!(s, 401);
    assert_eq!(body["error_code"], "APIGW.0301");
    assert_eq!(
        body["error_msg"],
        "Incorrect IAM authentication information: verify aksk signature fail"
    );
    assert_eq!(
        headers["x-request-id"].to_str().unwrap(),
        body["request_id"].as_str().unwrap()
    );
    // Success.
    let (s, headers, body) = signed_at(&sim, "GET", &path, &[], None, (AK, SK), &date(0)).await;
    assert_eq!(s, 200);
    assert_eq!(
        headers["x-request-id"].to_str().unwrap(),
        body["request_id"].as_str().unwrap()
    );
    // No credentials at all.
    let resp = reqwest::get(format!("{}{path}", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error_msg"],
        "Incorrect IAM authentication information: x-auth-token not found"
    );
    // A bad body is a VPN.0001 with the reason.
    let (s, body) = signed(
        &sim,
        "POST",
        &path,
        &[],
        Some(json!({"vpn_gateway": {"bgp_asn": "many"}})),
    )
    .await;
    assert_eq!((s, body["code"].as_str()), (400, Some("VPN.0001")));
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("invalid request:")));
    assert!(body.get("request_id").is_none() && body.get("error_code").is_none());
}

#[tokio::test]
async fn unknown_apis_and_the_admin_api_are_apart() {
    let (sim, _) = start().await;
    let (s, body) = signed(
        &sim,
        "GET",
        &format!("/v5/{PROJECT}/no-such-api"),
        &[],
        None,
    )
    .await;
    assert_eq!((s, body["error_code"].as_str()), (404, Some("APIGW.0101")));
    // API-looking paths never reach the admin API.
    let (s, body) = signed(&sim, "GET", &format!("/v5/{PROJECT}/_sim/state"), &[], None).await;
    assert_eq!((s, body["error_code"].as_str()), (404, Some("APIGW.0101")));
    // The admin API needs no signature.
    let resp = reqwest::get(format!("{}/_sim/health", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn gateway_upgrade_start_then_rollback_on_a_manual_clock() {
    let mut cfg = with_token_and_user(config());
    cfg.clock = vpn_operator::sim::Clock::manual(Utc::now());
    cfg.delays.gateway_upgrade = std::time::Duration::from_secs(3600);
    let sim = vpn_operator::sim::spawn(cfg).await.unwrap();
    let c = client(&sim);
    let admin = Admin::new(&sim);
    let gw = c
        .create_gateway(&gateway_body(EIP[0], EIP[1]))
        .await
        .unwrap()
        .id;
    let up = format!("/v5/{PROJECT}/vpn-gateways/{gw}/upgrade");
    let status =
        |g: vpn_operator::cloud::model::ResponseVpnGateway| g.status.unwrap().as_str().to_string();
    let (s, start) = signed_post(&sim, &up, json!({"action": "start"})).await;
    assert_eq!(s, 202, "{start}");
    assert!(start["job_id"].is_string() && start["request_id"].is_string());
    assert_eq!(status(c.get_gateway(&gw).await.unwrap()), "UPGRADING");
    let (s, body) = signed_post(&sim, &up, json!({"action": "rollback"})).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (500, Some("VPN.0511")),
        "still upgrading: the gateway is not ready"
    );

    admin.post("/clock/advance", json!({"by": "59m"})).await;
    assert_eq!(status(c.get_gateway(&gw).await.unwrap()), "UPGRADING");
    admin.post("/clock/advance", json!({"by": "1m"})).await;
    assert_eq!(
        status(c.get_gateway(&gw).await.unwrap()),
        "PENDING_UPGRADE_CONFIRM"
    );
    assert_eq!(
        c.list_jobs(Some(&gw)).await.unwrap()[0]
            .status
            .as_ref()
            .unwrap()
            .as_str(),
        "pending_upgrade_confirm"
    );

    let (s, body) = signed_post(&sim, &up, json!({"action": "rollback"})).await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["job_id"], start["job_id"]);
    assert_eq!(status(c.get_gateway(&gw).await.unwrap()), "ROLLING_BACK");
    admin.post("/clock/advance", json!({"by": "1h"})).await;
    assert_eq!(status(c.get_gateway(&gw).await.unwrap()), "ACTIVE");
    assert_eq!(
        c.list_jobs(Some(&gw)).await.unwrap()[0]
            .status
            .as_ref()
            .unwrap()
            .as_str(),
        "rollback_success"
    );
    let (s, body) = signed_post(&sim, &up, json!({"action": "sideways"})).await;
    assert_eq!((s, body["code"].as_str()), (400, Some("VPN.0001")));
}
