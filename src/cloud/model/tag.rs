//! Resource tag API wire models (`/v5/{project_id}/{resource_type}/...tags...`). Tags cannot
//! change through the resources' PUT bodies; these calls are the only way.
//! Reference: huawei-vpn-v5-gateways.md §2.10.
use serde::{Deserialize, Deserializer, Serialize};

use super::common::VpnResourceTag;

wire_enum! {
    /// `{resource_type}` path segment of the tag APIs.
    pub enum TagResourceType {
        VpnGateway = "vpn-gateway",
        CustomerGateway = "customer-gateway",
        VpnConnection = "vpn-connection",
        P2cVpnGateway = "p2c-vpn-gateways",
    }
}

/// Body of `POST .../{resource_id}/tags/create` and `.../tags/delete` (both 204).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsRequest {
    /// At most 20 tags.
    pub tags: Vec<VpnResourceTag>,
}

/// `GET .../{resource_id}/tags` response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceTagsResponse {
    /// The resource's tags.
    #[serde(default)]
    pub tags: Vec<VpnResourceTag>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A tag key with all its values in the project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTag {
    /// Tag key.
    pub key: String,
    /// Values used with the key.
    #[serde(default)]
    pub values: Vec<String>,
}

/// `GET /v5/{project_id}/{resource_type}/tags` response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTagsResponse {
    /// Keys and values.
    #[serde(default)]
    pub tags: Vec<ProjectTag>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Tag condition of a filter: `key` with any of `values` (empty = any value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    /// Tag key.
    pub key: String,
    /// Accepted values; empty means any value.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Name condition of a filter; `key` is `resource_name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagMatch {
    /// `resource_name`.
    pub key: String,
    /// The value to match.
    pub value: String,
}

/// Body of `POST .../resource-instances/filter` (query `limit` 1-1000, `offset`) and `.../count`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterResourcesRequest {
    /// At most 20 tag conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagFilter>>,
    /// Name conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<TagMatch>>,
    /// True: only resources without tags (`tags`/`matches` then ignored (uncertain)).
    /// Documented as Boolean; the source example sends the string `"false"`, so both decode.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool"
    )]
    pub without_any_tag: Option<bool>,
}

fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrText {
        Bool(bool),
        Text(String),
    }
    match Option::<BoolOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(BoolOrText::Bool(b)) => Ok(Some(b)),
        Some(BoolOrText::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!(
                "without_any_tag: expected true or false, got {t:?}"
            ))),
        },
    }
}

/// A resource matched by a tag filter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaggedResource {
    /// Resource ID.
    pub resource_id: String,
    /// Resource details (shape not documented).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_detail: Option<serde_json::Value>,
    /// The resource's tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
    /// Resource name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

/// Filter response (`resources`, `total_count`); count responses carry only `total_count`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterResourcesResponse {
    /// Matching resources (absent in count responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<TaggedResource>>,
    /// All matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests;
