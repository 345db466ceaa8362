//! `VpnClient` against a scripted HTTP server on 127.0.0.1: the method, path, query
//! and body of every operation as documented, decoding of the documented answers,
//! paging, and the local refusals (bad IDs, looping markers).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::*;
use crate::cloud::credentials::Credentials;
use crate::cloud::model::test_support::fixture;
use crate::cloud::model::{
    ConnectionStatus, ConnectionStyle, GatewayStatus, IdType, QuotaType, TagResourceType,
};
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::ClientConfig;

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    /// Sorted `(name, value)` pairs, decoded.
    query: Vec<(String, String)>,
    body: Value,
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<(u16, Value)>>,
    seen: Mutex<Vec<Seen>>,
}

async fn handle(State(script): State<Arc<Script>>, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let mut query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    query.sort();
    let bytes = to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    script.seen.lock().unwrap().push(Seen {
        method,
        path,
        query,
        body,
    });
    let (status, reply) = script.replies.lock().unwrap().pop_front().unwrap_or((
        500,
        json!({"error_code": "TEST.0000", "error_msg": "no scripted reply"}),
    ));
    let text = if reply.is_null() {
        String::new()
    } else {
        reply.to_string()
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(text))
        .unwrap()
}

/// A client talking to a fresh scripted server that answers `replies` in order.
async fn client_with(replies: Vec<(u16, Value)>) -> (VpnClient, Arc<Script>) {
    let script = Arc::new(Script {
        replies: Mutex::new(replies.into()),
        ..Default::default()
    });
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let endpoint = url::Url::parse(&format!("http://{addr}")).unwrap();
    let mut cfg = ClientConfig::new(endpoint, PROJECT, Credentials::Token("test-token".into()));
    cfg.retry = RetryPolicy::none();
    let api = ApiClient::new(cfg).expect("client config is valid");
    (VpnClient::new(api), script)
}

fn seen(script: &Script) -> Vec<Seen> {
    script.seen.lock().unwrap().clone()
}

fn req(method: &str, path: &str, query: &[(&str, &str)], body: Value) -> Seen {
    let mut query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    query.sort();
    Seen {
        method: method.into(),
        path: format!("/v5/{PROJECT}{path}"),
        query,
        body,
    }
}

fn no_content() -> (u16, Value) {
    (204, Value::Null)
}

#[tokio::test]
async fn gateway_operations_use_the_documented_methods_paths_and_bodies() {
    let get = fixture("gateway_get_response_a_er_public");
    let (vpn, script) = client_with(vec![
        (201, fixture("gateway_create_response_a")),
        (200, get.clone()),
        (200, fixture("gateway_update_response_a")),
        (200, fixture("gateway_update_response_a")),
        no_content(),
    ])
    .await;

    let create: CreateVpnGatewayRequest =
        serde_json::from_value(fixture("gateway_create_request_a_existing_eips")).unwrap();
    let created = vpn
        .create_gateway(&create.vpn_gateway)
        .await
        .expect("create");
    assert_eq!(created.id, "134f9fb1-demo-a8df-va86-2040a5c13325");
    let got = vpn
        .get_gateway("66ddeacb-demo-a8df-va86-9a414b5bd7d5")
        .await
        .expect("get");
    assert_eq!(got.status, Some(GatewayStatus::Active));
    let update = UpdateVpnGatewayRequestBody {
        name: Some("vpngw-4321".into()),
        ..Default::default()
    };
    vpn.update_gateway("g1", &update).await.expect("update");
    vpn.update_gateway_specification("g1", &GatewayFlavor::Basic)
        .await
        .expect("resize");
    vpn.delete_gateway("g1").await.expect("delete");

    assert_eq!(
        seen(&script),
        [
            req(
                "POST",
                "/vpn-gateways",
                &[],
                fixture("gateway_create_request_a_existing_eips")
            ),
            req(
                "GET",
                "/vpn-gateways/66ddeacb-demo-a8df-va86-9a414b5bd7d5",
                &[],
                Value::Null
            ),
            req(
                "PUT",
                "/vpn-gateways/g1",
                &[],
                json!({"vpn_gateway": {"name": "vpngw-4321"}})
            ),
            req(
                "POST",
                "/vpn-gateways/g1/update-specification",
                &[],
                fixture("gateway_update_specification_request")
            ),
            req("DELETE", "/vpn-gateways/g1", &[], Value::Null),
        ]
    );
}

#[tokio::test]
async fn gateway_list_zones_and_jobs_use_their_paths_and_filters() {
    let (vpn, script) = client_with(vec![
        (200, fixture("gateway_list_response_a")),
        (200, fixture("gateway_availability_zones_v5_response")),
        (200, fixture("gateway_availability_zones_v51_response")),
        (200, fixture("gateway_jobs_list_response")),
        no_content(),
    ])
    .await;

    let query = ListVpnGatewaysQuery {
        enterprise_project_id: vec!["0".into(), "ep2".into()],
        vgw_id: None,
    };
    assert_eq!(vpn.list_gateways(&query).await.expect("list").len(), 3);
    let zones = vpn.list_availability_zones().await.expect("azs");
    assert_eq!(
        zones.zones_for(&GatewayFlavor::Gm, &crate::cloud::model::AttachmentType::Er),
        ["cn-south-1f"]
    );
    assert_eq!(
        vpn.list_extended_availability_zones()
            .await
            .expect("azs v5.1")
            .len(),
        1
    );
    let jobs = vpn
        .list_jobs(Some("b3eb2b86-2a6d-41f2-835f-879021764b84"))
        .await
        .expect("jobs");
    assert_eq!(jobs[0].sub_jobs.as_ref().map(Vec::len), Some(3));
    vpn.delete_job("e3be04c3-0b62-45d8-b1dc-f4785c96412c")
        .await
        .expect("delete job");

    let seen = seen(&script);
    assert_eq!(
        seen[0],
        req(
            "GET",
            "/vpn-gateways",
            &[
                ("enterprise_project_id", "0"),
                ("enterprise_project_id", "ep2")
            ],
            Value::Null
        )
    );
    assert_eq!(
        seen[1],
        req("GET", "/vpn-gateways/availability-zones", &[], Value::Null)
    );
    assert_eq!(
        seen[2].path,
        format!("/v5.1/{PROJECT}/vpn-gateways/availability-zones")
    );
    assert_eq!(
        seen[3],
        req(
            "GET",
            "/vpn-gateways/jobs",
            &[("resource_id", "b3eb2b86-2a6d-41f2-835f-879021764b84")],
            Value::Null
        )
    );
    assert_eq!(
        seen[4],
        req(
            "DELETE",
            "/vpn-gateways/jobs/e3be04c3-0b62-45d8-b1dc-f4785c96412c",
            &[],
            Value::Null
        )
    );
}

#[tokio::test]
async fn customer_gateway_operations_use_the_documented_paths() {
    let (vpn, script) = client_with(vec![
        (201, fixture("customer_gateway_create_response")),
        (200, fixture("customer_gateway_get_response")),
        (200, fixture("customer_gateway_update_response")),
        no_content(),
    ])
    .await;
    let create: CreateCustomerGatewayRequest =
        serde_json::from_value(fixture("customer_gateway_create_request")).unwrap();
    let created = vpn
        .create_customer_gateway(&create.customer_gateway)
        .await
        .expect("create");
    assert_eq!(created.id_type, Some(IdType::Ip));
    vpn.get_customer_gateway("c1").await.expect("get");
    let update: UpdateCustomerGatewayRequest =
        serde_json::from_value(fixture("customer_gateway_update_request")).unwrap();
    vpn.update_customer_gateway("c1", &update.customer_gateway)
        .await
        .expect("update");
    vpn.delete_customer_gateway("c1").await.expect("delete");

    assert_eq!(
        seen(&script),
        [
            req(
                "POST",
                "/customer-gateways",
                &[],
                fixture("customer_gateway_create_request")
            ),
            req("GET", "/customer-gateways/c1", &[], Value::Null),
            req(
                "PUT",
                "/customer-gateways/c1",
                &[],
                fixture("customer_gateway_update_request")
            ),
            req("DELETE", "/customer-gateways/c1", &[], Value::Null),
        ]
    );
}

#[tokio::test]
async fn a_short_customer_gateway_page_has_no_next_marker() {
    let (vpn, script) = client_with(vec![(200, fixture("customer_gateway_list_response"))]).await;
    let page = vpn
        .list_customer_gateways(&ListCustomerGatewaysQuery {
            limit: Some(10),
            marker: None,
        })
        .await
        .expect("list");
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        page.next_marker, None,
        "2 of limit 10 is the last page despite the marker"
    );
    assert_eq!(page.total_count, Some(2));
    assert_eq!(
        seen(&script)[0].query,
        [("limit".to_string(), "10".to_string())]
    );
}

fn cgw_page(ids: &[&str], marker: &str) -> Value {
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "id_type": "ip"}))
        .collect();
    json!({
        "customer_gateways": items,
        "total_count": 3,
        "page_info": {"next_marker": marker, "current_count": ids.len()},
        "request_id": "r"
    })
}

#[tokio::test]
async fn list_all_customer_gateways_follows_markers_to_the_last_page() {
    let (vpn, script) = client_with(vec![
        (200, cgw_page(&["a", "b"], "2025-01-01T00:00:02.000Z")),
        (200, cgw_page(&["c"], "2025-01-01T00:00:03.000Z")),
    ])
    .await;
    let all = vpn
        .list_all_customer_gateways(Some(2))
        .await
        .expect("list all");
    let ids: Vec<_> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let seen = seen(&script);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].query, [("limit".to_string(), "2".to_string())]);
    assert_eq!(
        seen[1].query,
        [
            ("limit".to_string(), "2".to_string()),
            ("marker".to_string(), "2025-01-01T00:00:02.000Z".to_string())
        ]
    );
}

#[tokio::test]
async fn list_all_stops_with_an_error_when_the_marker_repeats() {
    let (vpn, script) = client_with(vec![
        (200, cgw_page(&["a", "b"], "m1")),
        (200, cgw_page(&["a", "b"], "m1")),
        (200, cgw_page(&["a", "b"], "m1")),
    ])
    .await;
    let err = vpn
        .list_all_customer_gateways(Some(2))
        .await
        .expect_err("loop detected");
    assert_eq!(err.kind, ErrorKind::Decode);
    assert!(err.to_string().contains("m1"), "{err}");
    assert_eq!(seen(&script).len(), 2, "stops at the first repeat");
}

#[tokio::test]
async fn connection_operations_use_the_singular_paths() {
    let (vpn, script) = client_with(vec![
        (201, fixture("connection_create_response_b_policy")),
        (201, fixture("connection_batch_create_response_i_static")),
        (200, fixture("connection_get_response")),
        (200, fixture("connection_update_response_a")),
        no_content(),
        (200, fixture("connection_logs_response")),
    ])
    .await;
    let create: CreateVpnConnectionRequest =
        serde_json::from_value(fixture("connection_create_request_b_policy")).unwrap();
    let created = vpn
        .create_connection(&create.vpn_connection)
        .await
        .expect("create");
    assert_eq!(created.status, None);
    let batch: BatchCreateVpnConnectionsRequest =
        serde_json::from_value(fixture("connection_batch_create_request_a_static")).unwrap();
    assert_eq!(
        vpn.batch_create_connections(&batch.vpn_connections)
            .await
            .expect("batch")
            .len(),
        2
    );
    let got = vpn.get_connection("c1").await.expect("get");
    assert_eq!(got.status, Some(ConnectionStatus::Down));
    let update = UpdateVpnConnectionRequestBody {
        peer_subnets: Some(vec!["192.168.1.0/24".into()]),
        ..Default::default()
    };
    vpn.update_connection("c1", &update).await.expect("update");
    vpn.delete_connection("c1").await.expect("delete");
    assert_eq!(
        vpn.list_connection_logs("c1").await.expect("logs")[0].time,
        Some(1735024112)
    );

    assert_eq!(
        seen(&script),
        [
            req(
                "POST",
                "/vpn-connection",
                &[],
                fixture("connection_create_request_b_policy")
            ),
            req(
                "POST",
                "/vpn-connections/batch-create",
                &[],
                fixture("connection_batch_create_request_a_static")
            ),
            req("GET", "/vpn-connection/c1", &[], Value::Null),
            req(
                "PUT",
                "/vpn-connection/c1",
                &[],
                fixture("connection_update_request_a_peer_subnets")
            ),
            req("DELETE", "/vpn-connection/c1", &[], Value::Null),
            req("GET", "/vpn-connection/c1/log", &[], Value::Null),
        ]
    );
}

#[tokio::test]
async fn the_psk_reaches_the_api_body() {
    let (vpn, script) =
        client_with(vec![(201, fixture("connection_create_response_a_static"))]).await;
    let body = CreateVpnConnectionRequestBody {
        vgw_id: "g".into(),
        vgw_ip: "e".into(),
        cgw_id: "c".into(),
        style: Some(ConnectionStyle::Static),
        psk: Some("Sup3r-Secret!key".into()),
        ..Default::default()
    };
    vpn.create_connection(&body).await.expect("create");
    assert_eq!(
        seen(&script)[0].body["vpn_connection"]["psk"],
        "Sup3r-Secret!key"
    );
}

#[tokio::test]
async fn connection_list_sends_every_filter_and_follows_pages() {
    let page = |ids: &[&str], marker: &str| {
        let items: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "status": "ACTIVE"}))
            .collect();
        json!({"vpn_connections": items, "page_info": {"next_marker": marker, "current_count": ids.len()}, "total_count": 3})
    };
    let (vpn, script) = client_with(vec![
        (200, page(&["a", "b"], "m1")),
        (200, page(&["c"], "m2")),
    ])
    .await;
    let query = ListVpnConnectionsQuery {
        vgw_ip: Some("eip-1".into()),
        vgw_id: Some("g1".into()),
        enterprise_project_id: vec!["0".into()],
        limit: Some(2),
        marker: None,
    };
    let all = vpn.list_all_connections(&query).await.expect("list all");
    assert_eq!(all.len(), 3);
    let seen = seen(&script);
    assert_eq!(
        seen[0],
        req(
            "GET",
            "/vpn-connection",
            &[
                ("vgw_ip", "eip-1"),
                ("vgw_id", "g1"),
                ("enterprise_project_id", "0"),
                ("limit", "2")
            ],
            Value::Null
        )
    );
    assert!(seen[1]
        .query
        .contains(&("marker".to_string(), "m1".to_string())));
}

#[tokio::test]
async fn connection_list_defaults_to_the_documented_page_size() {
    let (vpn, _script) = client_with(vec![(200, fixture("connection_list_response_a"))]).await;
    let page = vpn
        .list_connections(&ListVpnConnectionsQuery::default())
        .await
        .expect("list");
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_marker, None, "2 < default limit 2000");
}

#[tokio::test]
async fn monitor_quota_and_tag_operations_use_their_paths() {
    let (vpn, script) = client_with(vec![
        (201, fixture("monitor_create_response")),
        (200, fixture("monitor_get_response")),
        (200, fixture("monitor_list_response_b_filtered")),
        no_content(),
        (200, fixture("quotas_show_response")),
        no_content(),
        no_content(),
        (200, json!({"tags": [{"key": "owner", "value": "op"}]})),
        (200, fixture("tags_filter_response")),
    ])
    .await;
    let conn = "cae286f2-demo-a8df-va86-e22416ca1220";
    let monitor = vpn
        .create_connection_monitor(conn)
        .await
        .expect("create monitor");
    assert_eq!(monitor.id, "76f64229-demo-a8df-va86-3907e2815b6d");
    vpn.get_connection_monitor(&monitor.id)
        .await
        .expect("get monitor");
    let query = ListConnectionMonitorsQuery {
        vpn_connection_id: Some(conn.into()),
        enterprise_project_id: vec![],
    };
    assert_eq!(
        vpn.list_connection_monitors(&query)
            .await
            .expect("list monitors")
            .len(),
        1
    );
    vpn.delete_connection_monitor(&monitor.id)
        .await
        .expect("delete monitor");
    let quotas = vpn.get_quotas().await.expect("quotas");
    assert_eq!(
        quotas
            .find(&QuotaType::CustomerGateway)
            .and_then(|q| q.used),
        Some(13)
    );
    let tag = [VpnResourceTag::new("owner", "op")];
    vpn.add_tags(&TagResourceType::VpnConnection, conn, &tag)
        .await
        .expect("add tags");
    vpn.remove_tags(&TagResourceType::VpnConnection, conn, &tag)
        .await
        .expect("remove tags");
    assert_eq!(
        vpn.list_tags(&TagResourceType::VpnGateway, "g1")
            .await
            .expect("tags"),
        tag
    );
    let filter = FilterResourcesRequest {
        without_any_tag: Some(false),
        ..Default::default()
    };
    vpn.filter_resources_by_tags(&TagResourceType::CustomerGateway, &filter, Some(100), None)
        .await
        .expect("filter");

    let tags_body = json!({"tags": [{"key": "owner", "value": "op"}]});
    assert_eq!(
        seen(&script),
        [
            req(
                "POST",
                "/connection-monitors",
                &[],
                fixture("monitor_create_request")
            ),
            req(
                "GET",
                "/connection-monitors/76f64229-demo-a8df-va86-3907e2815b6d",
                &[],
                Value::Null
            ),
            req(
                "GET",
                "/connection-monitors",
                &[("vpn_connection_id", conn)],
                Value::Null
            ),
            req(
                "DELETE",
                "/connection-monitors/76f64229-demo-a8df-va86-3907e2815b6d",
                &[],
                Value::Null
            ),
            req("GET", "/vpn/quotas", &[], Value::Null),
            req(
                "POST",
                &format!("/vpn-connection/{conn}/tags/create"),
                &[],
                tags_body.clone()
            ),
            req(
                "POST",
                &format!("/vpn-connection/{conn}/tags/delete"),
                &[],
                tags_body
            ),
            req("GET", "/vpn-gateway/g1/tags", &[], Value::Null),
            req(
                "POST",
                "/customer-gateway/resource-instances/filter",
                &[("limit", "100")],
                json!({"without_any_tag": false})
            ),
        ]
    );
}

#[tokio::test]
async fn blank_or_dot_ids_are_refused_before_any_request() {
    let (vpn, script) = client_with(vec![]).await;
    for bad in ["", "  ", ".", ".."] {
        let err = vpn.delete_gateway(bad).await.expect_err("refused");
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert_eq!(err.operation, "DeleteVgw");
        assert!(err.to_string().contains("resource ID"), "{err}");
    }
    assert!(vpn.get_connection("").await.is_err());
    assert!(vpn.create_connection_monitor("").await.is_err());
    assert!(seen(&script).is_empty(), "nothing was sent");
}

#[tokio::test]
async fn ids_are_percent_encoded_as_one_path_segment() {
    let (vpn, script) = client_with(vec![no_content()]).await;
    vpn.delete_connection("a/b?c").await.expect("delete");
    assert_eq!(
        seen(&script)[0].path,
        format!("/v5/{PROJECT}/vpn-connection/a%2Fb%3Fc")
    );
}

#[tokio::test]
async fn a_missing_resource_is_a_not_found_error_for_the_caller_to_judge() {
    let (vpn, _script) = client_with(vec![(
        404,
        json!({"error_code": "VPN.0509", "error_msg": "The gateway does not exist.", "request_id": "r1"}),
    )])
    .await;
    let err = vpn
        .delete_gateway("gone")
        .await
        .expect_err("404 is an error");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code.as_deref(), Some("VPN.0509"));
}
