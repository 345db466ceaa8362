//! Connection monitor models against every monitor JSON example.
use serde_json::json;

use super::*;
use crate::cloud::model::test_support::{decode, fixture, round_trip};

#[test]
fn every_documented_monitor_example_round_trips() {
    round_trip::<CreateConnectionMonitorRequest>("monitor_create_request");
    round_trip::<ConnectionMonitorResponse>("monitor_create_response");
    round_trip::<ConnectionMonitorResponse>("monitor_get_response");
    round_trip::<ListConnectionMonitorsResponse>("monitor_list_response_a");
    round_trip::<ListConnectionMonitorsResponse>("monitor_list_response_b_filtered");
}

#[test]
fn create_request_built_in_code_matches_documented_json() {
    let request = CreateConnectionMonitorRequest {
        connection_monitor: CreateConnectionMonitorRequestBody {
            vpn_connection_id: "cae286f2-demo-a8df-va86-e22416ca1220".into(),
        },
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        fixture("monitor_create_request")
    );
}

#[test]
fn create_response_has_no_status_and_get_has_one() {
    let created: ConnectionMonitorResponse = decode("monitor_create_response");
    assert_eq!(created.connection_monitor.status, None);
    assert_eq!(
        created.connection_monitor.monitor_type,
        Some(MonitorType::Gateway)
    );
    assert_eq!(
        created.connection_monitor.proto_type,
        Some(MonitorProtoType::Icmp)
    );
    let got: ConnectionMonitorResponse = decode("monitor_get_response");
    assert_eq!(got.connection_monitor.status, Some(MonitorStatus::Active));
}

#[test]
fn list_keeps_ids_that_are_not_uuids() {
    let list: ListConnectionMonitorsResponse = decode("monitor_list_response_a");
    assert_eq!(
        list.connection_monitors[1].id,
        "85t53318-demo-a8df-va86-zq9312525f6t"
    );
}

#[test]
fn unknown_monitor_values_round_trip() {
    let raw = json!({"connection_monitor": {"id": "m1", "status": "PENDING_UPDATE", "type": "peer", "proto_type": "udp"}});
    let resp: ConnectionMonitorResponse = serde_json::from_value(raw.clone()).expect("decodes");
    assert_eq!(
        resp.connection_monitor.status,
        Some(MonitorStatus::Other("PENDING_UPDATE".into()))
    );
    assert_eq!(serde_json::to_value(&resp).unwrap(), raw);
}

#[test]
fn list_query_pairs() {
    let query = ListConnectionMonitorsQuery {
        vpn_connection_id: Some("c1".into()),
        enterprise_project_id: vec![],
    };
    assert_eq!(
        query.to_pairs(),
        [("vpn_connection_id".to_string(), "c1".to_string())]
    );
    assert_eq!(
        ListConnectionMonitorsQuery::from_pairs([("vpn_connection_id", "c1"), ("other", "x")]),
        Ok(query)
    );
}
