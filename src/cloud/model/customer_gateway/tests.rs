//! Customer gateway models against every customer-gateway JSON example.
use serde_json::json;

use super::*;
use crate::cloud::model::test_support::{decode, fixture, round_trip};

#[test]
fn every_documented_customer_gateway_example_round_trips() {
    for name in [
        "customer_gateway_create_request",
        "customer_gateway_create_request_walkthrough",
    ] {
        round_trip::<CreateCustomerGatewayRequest>(name);
    }
    for name in [
        "customer_gateway_create_response",
        "customer_gateway_create_response_walkthrough",
        "customer_gateway_get_response",
        "customer_gateway_update_response",
    ] {
        round_trip::<CustomerGatewayResponse>(name);
    }
    round_trip::<ListCustomerGatewaysResponse>("customer_gateway_list_response");
    round_trip::<UpdateCustomerGatewayRequest>("customer_gateway_update_request");
}

#[test]
fn create_request_built_in_code_matches_the_walkthrough() {
    let request = CreateCustomerGatewayRequest {
        customer_gateway: CreateCustomerGatewayRequestBody {
            name: Some("cgw-3ebf".into()),
            id_type: Some(IdType::Ip),
            id_value: "10.***.***.21".into(),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        fixture("customer_gateway_create_request_walkthrough")
    );
}

#[test]
fn create_request_requires_id_value() {
    let err = serde_json::from_value::<CreateCustomerGatewayRequest>(
        json!({"customer_gateway": {"name": "x"}}),
    )
    .expect_err("id_value is required");
    assert!(err.to_string().contains("id_value"), "{err}");
}

#[test]
fn response_carries_ca_certificate_details_and_offset_timestamps() {
    let resp: CustomerGatewayResponse = decode("customer_gateway_create_response");
    let cgw = resp.customer_gateway;
    assert_eq!(cgw.bgp_asn, Some(65000));
    let ca = cgw.ca_certificate.expect("ca certificate");
    assert_eq!(ca.is_updatable, Some(true));
    assert_eq!(ca.signature_algorithm.as_deref(), Some("SM3WITHSM2"));
    let created = cgw.created_at.expect("created_at");
    assert_eq!(created.as_str(), "2021-12-21T16:49:28.108+08:00");
    assert_eq!(
        created.to_utc().map(|t| t.to_rfc3339()),
        Some("2021-12-21T08:49:28.108+00:00".to_string())
    );
}

#[test]
fn walkthrough_response_without_name_decodes() {
    let resp: CustomerGatewayResponse = decode("customer_gateway_create_response_walkthrough");
    assert_eq!(resp.customer_gateway.name, None);
    assert_eq!(
        resp.customer_gateway.id,
        "03c0aa3d-demo-a8df-va86-9d82473765d4"
    );
}

#[test]
fn list_response_reads_fqdn_gateways_and_paging() {
    let list: ListCustomerGatewaysResponse = decode("customer_gateway_list_response");
    assert_eq!(list.customer_gateways.len(), 2);
    assert_eq!(list.customer_gateways[1].id_type, Some(IdType::Fqdn));
    assert_eq!(list.customer_gateways[0].tags, Some(vec![]));
    assert_eq!(list.total_count, Some(2));
    let info = list.page_info.expect("page_info");
    assert_eq!(
        info.next_marker.as_deref(),
        Some("2025-04-28T06:25:01.937Z")
    );
    assert_eq!(info.current_count, Some(2));
}

#[test]
fn unknown_id_type_is_kept() {
    let resp: CustomerGatewayResponse = serde_json::from_value(json!({
        "customer_gateway": {"id": "c1", "id_type": "dn", "id_value": "CN=peer"}
    }))
    .expect("decodes");
    assert_eq!(
        resp.customer_gateway.id_type,
        Some(IdType::Other("dn".into()))
    );
    assert_eq!(
        serde_json::to_value(&resp).unwrap()["customer_gateway"]["id_type"],
        "dn"
    );
}

#[test]
fn list_query_round_trips_and_rejects_a_bad_limit() {
    let query = ListCustomerGatewaysQuery {
        limit: Some(50),
        marker: Some("2025-06-28T06:25:01.937Z".into()),
    };
    let pairs = query.to_pairs();
    let back =
        ListCustomerGatewaysQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(back, Ok(query));
    let err = ListCustomerGatewaysQuery::from_pairs([("limit", "ten")]).expect_err("not a number");
    assert_eq!(err.name, "limit");
    assert!(err.to_string().contains("ten"));
}
