//! `CustomerGateway`: the on-premises end of a site-to-site VPN (Huawei VPN v5
//! `customer-gateways`). Synchronous in the cloud: no pending states.
//!
//! Only `name`, `caCertificate` and `tags` can change; `idType`, `idValue` and `bgpAsn` are
//! immutable.
use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    impl_managed, AccountStatus, CloudSettings, Condition, DeletionPolicy, DriftEntry,
    ManagementPolicy,
};
use super::rules::{self, patterns};

/// Desired state of a customer gateway: the identity of the on-premises VPN device.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vpn.hwcloud.dev",
    version = "v1alpha1",
    kind = "CustomerGateway",
    plural = "customergateways",
    namespaced,
    status = "CustomerGatewayStatus",
    shortname = "cgw",
    category = "hwvpn",
    doc = "A Huawei Cloud VPN customer gateway: the on-premises device's identity (IP or FQDN), BGP ASN and optional CA certificate.",
    printcolumn = r#"{"name":"Cloud ID","type":"string","jsonPath":".status.cloudId"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".status.cloudState"}"#,
    printcolumn = r#"{"name":"ID Value","type":"string","jsonPath":".spec.idValue"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = rules::immutable(&["idType"]))]
#[x_kube(validation = rules::immutable(&["idValue"]))]
#[x_kube(validation = rules::immutable(&["bgpAsn"]))]
#[x_kube(validation = rules::immutable(&["cloudId"]))]
#[x_kube(validation = rules::immutable(&["cloud", "region"]))]
#[x_kube(validation = rules::immutable(&["cloud", "projectId"]))]
#[x_kube(validation = rules::observe_needs_cloud_id())]
#[x_kube(validation = Rule::new("!has(self.bgpAsn) || self.idType == 'ip'")
    .message("bgpAsn is only allowed when idType is ip")
    .field_path(".bgpAsn"))]
#[x_kube(validation = Rule::new(format!("self.idType != 'ip' || self.idValue.matches('{}')", patterns::IPV4))
    .message("idValue must be a dotted-decimal IPv4 address when idType is ip")
    .field_path(".idValue"))]
#[x_kube(validation = Rule::new(r"self.idType != 'fqdn' || [' ', '&', '<', '>', '[', ']', '\\', '?'].all(c, !self.idValue.contains(c))")
    .message("idValue must not contain spaces or any of & < > [ ] \\ ? when idType is fqdn")
    .field_path(".idValue"))]
pub struct CustomerGatewaySpec {
    /// Customer gateway name in the cloud: 1-64 letters, digits, Chinese characters, `_`, `-`,
    /// `.`. Defaults to the object's name (cut to 64 characters). Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_NAME))]
    pub name: Option<String>,

    /// How the device identifies itself: `ip` (default) or `fqdn`. Immutable.
    #[serde(default)]
    pub id_type: IdType,

    /// The identity: an IPv4 address such as `203.0.113.7` (idType `ip`), or a domain name of
    /// 1-128 characters without spaces and `& < > [ ] \ ?` (idType `fqdn`). Immutable.
    #[schemars(length(min = 1, max = 128))]
    pub id_value: String,

    /// BGP ASN of the device, 1-4294967295. Only with idType `ip`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4_294_967_295_i64))]
    pub bgp_asn: Option<i64>,

    /// CA certificate of the device, for certificate-authenticated (GM) connections. Can be
    /// changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<CaCertificateSpec>,

    /// Resource tags: at most 18 (the cloud allows 20; the operator adds two ownership tags
    /// with keys starting `vpn.hwcloud.dev:`, which users cannot set); keys 1-128, values
    /// 0-255 characters, both of letters, digits, Chinese characters and `_ . : = + - @` (the
    /// cloud's rule; the operator refuses other key characters before any cloud call). Can be
    /// changed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 18, "additionalProperties" = {"type": "string", "maxLength": 255, "pattern": patterns::TAG_TEXT}))]
    #[x_kube(validation = rules::tags())]
    #[x_kube(validation = rules::no_reserved_tags())]
    pub tags: BTreeMap<String, String>,

    /// Adopt an existing customer gateway with this cloud id instead of creating one. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub cloud_id: Option<String>,

    /// `Delete` (default) deletes the customer gateway in the cloud when this object is
    /// deleted; `Orphan` leaves it.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// `Default` manages the customer gateway; `Observe` only reads the one named by cloudId.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// Region, project, endpoint and credentials overriding the operator's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudSettings>,
}

/// Identity type of a customer gateway.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum IdType {
    /// An IPv4 address (default).
    #[default]
    Ip,
    /// A fully qualified domain name.
    Fqdn,
}

/// A CA certificate: an existing certificate by `id`, or PEM `content`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.id) || has(self.content)")
    .message("caCertificate needs id or content"))]
pub struct CaCertificateSpec {
    /// Id of an existing certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub id: Option<String>,
    /// PEM-encoded CA certificate, 1-8192 characters (public data, not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 8192))]
    pub content: Option<String>,
}

/// Observed state of a customer gateway.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGatewayStatus {
    /// Cloud id of the customer gateway, recorded right after creation (or adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    /// The cloud API has no status for customer gateways: the operator reports `ACTIVE` while
    /// it can read the customer gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_state: Option<String>,
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Synced` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The cloud account this object uses: where it comes from, the credentials Secret,
    /// project, region and endpoint. Fixed once the cloud resource exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountStatus>,
    /// Name in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Identity type in the cloud (`ip` or `fqdn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_type: Option<String>,
    /// Identity value in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_value: Option<String>,
    /// BGP ASN in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<i64>,
    /// The CA certificate the cloud holds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<ObservedCaCertificate>,
    /// Hex SHA-256 of the `caCertificate.content` last sent to the cloud. The cloud never
    /// returns the content, so this is how a change of the spec's certificate is detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate_sha256: Option<String>,
    /// Creation time reported by the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time reported by the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Fields whose cloud value differs from the spec (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub drift: Vec<DriftEntry>,
}

/// A CA certificate as the cloud reports it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedCaCertificate {
    /// Certificate id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Signature algorithm, e.g. `SM3WITHSM2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Expiry time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    /// Whether the certificate can be updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_updatable: Option<bool>,
}

impl_managed!(CustomerGatewaySpec, CustomerGatewayStatus);
