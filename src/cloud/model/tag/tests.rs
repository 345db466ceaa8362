//! Tag API models against the tag JSON examples.
use serde_json::json;

use super::*;
use crate::cloud::model::test_support::{decode, round_trip};

#[test]
fn documented_filter_request_with_string_boolean_decodes() {
    let request: FilterResourcesRequest = decode("tags_filter_request");
    assert_eq!(request.without_any_tag, Some(false));
    let tags = request.tags.as_deref().unwrap_or_default();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[0].values, ["value1", "value2"]);
    assert_eq!(
        request.matches.as_deref().unwrap_or_default()[0].key,
        "resource_name"
    );
    // Re-encoded as the documented Boolean type.
    assert_eq!(
        serde_json::to_value(&request).unwrap()["without_any_tag"],
        json!(false)
    );
}

#[test]
fn filter_boolean_accepts_real_booleans_and_rejects_nonsense() {
    let yes: FilterResourcesRequest =
        serde_json::from_value(json!({"without_any_tag": true})).unwrap();
    assert_eq!(yes.without_any_tag, Some(true));
    let absent: FilterResourcesRequest = serde_json::from_value(json!({})).unwrap();
    assert_eq!(absent.without_any_tag, None);
    assert!(
        serde_json::from_value::<FilterResourcesRequest>(json!({"without_any_tag": "maybe"}))
            .is_err()
    );
}

#[test]
fn documented_filter_response_round_trips() {
    let resp: FilterResourcesResponse = round_trip("tags_filter_response");
    assert_eq!(resp.total_count, Some(1000));
    assert_eq!(
        resp.resources.as_deref().unwrap_or_default()[0]
            .resource_name
            .as_deref(),
        Some("resource1")
    );
}

#[test]
fn tag_bodies_have_the_documented_shape() {
    let body = TagsRequest {
        tags: vec![VpnResourceTag::new("key1", "value1")],
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"tags": [{"key": "key1", "value": "value1"}]})
    );
    let project: ProjectTagsResponse =
        serde_json::from_value(json!({"tags": [{"key": "key1", "values": ["value1"]}]})).unwrap();
    assert_eq!(project.tags[0].values, ["value1"]);
    assert_eq!(TagResourceType::VpnConnection.as_str(), "vpn-connection");
}
