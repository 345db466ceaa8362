//! Quota models against the quota JSON example.
use serde_json::json;

use super::*;
use crate::cloud::model::test_support::round_trip;

#[test]
fn documented_quota_example_round_trips_and_is_searchable() {
    let resp: QuotasResponse = round_trip("quotas_show_response");
    let connections = resp
        .quotas
        .find(&QuotaType::VpnConnection)
        .expect("vpn_connection quota");
    assert_eq!(connections.quota, Some(5000));
    assert_eq!(connections.used, Some(306));
    assert_eq!(connections.remaining(), Some(4694));
    assert_eq!(
        resp.quotas
            .find(&QuotaType::VpnGateway)
            .and_then(QuotaInfo::remaining),
        Some(27)
    );
    assert!(resp.quotas.find(&QuotaType::Vpngw).is_none());
}

#[test]
fn unknown_quota_types_are_kept_and_remaining_never_goes_negative() {
    let raw =
        json!({"quotas": {"resources": [{"type": "p2c_vpn_gateway", "quota": 1, "used": 3}]}});
    let resp: QuotasResponse = serde_json::from_value(raw.clone()).expect("decodes");
    let other = QuotaType::Other("p2c_vpn_gateway".into());
    assert_eq!(
        resp.quotas.find(&other).and_then(QuotaInfo::remaining),
        Some(0)
    );
    assert_eq!(serde_json::to_value(&resp).unwrap(), raw);
}
