//! Customer gateway wire models (`/v5/{project_id}/customer-gateways...`).
//! Customer gateways are synchronous and have no status.
//! Reference: huawei-vpn-v5-gateways.md §3.8, §3.9, §5.
use serde::{Deserialize, Serialize};

use super::common::{
    parse_u32, push_opt, InvalidQuery, PageInfo, QueryParams, Timestamp, VpnResourceTag,
};

wire_enum! {
    /// Identifier type of the customer gateway. Default `ip`.
    pub enum IdType {
        /// `id_value` is a dotted IPv4 address.
        Ip = "ip",
        /// `id_value` is an FQDN (no spaces, none of `& < > [ ] \ ?`).
        Fqdn = "fqdn",
    }
}

/// `ca_certificate` in create / update bodies (`CaCertificateRequest`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaCertificateRequest {
    /// Existing certificate ID (UUID) (vendor SDK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// CA certificate content (PEM), 1-8192 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// `ca_certificate` in responses, present only when configured (`CaCertificate`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaCertificate {
    /// Certificate ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Signature algorithm, e.g. `SM3WITHSM2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Expiry time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<Timestamp>,
    /// Whether the certificate can be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_updatable: Option<bool>,
}

/// `POST /v5/{project_id}/customer-gateways` body: `{"customer_gateway": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateCustomerGatewayRequest {
    /// The customer gateway to create (required).
    pub customer_gateway: CreateCustomerGatewayRequestBody,
}

/// `CreateCgwRequestBodyContent`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateCustomerGatewayRequestBody {
    /// 1-64 characters (digits, letters, Chinese, `_`, `-`, `.`); default `cgw-xxxx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ip` (default) or `fqdn`. Immutable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_type: Option<IdType>,
    /// Required, 1-128 characters: an IPv4 address for `ip`, an FQDN for `fqdn`. Immutable.
    pub id_value: String,
    /// BGP ASN, 1-4294967295; only with `id_type=ip`. Immutable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// CA certificate (for certificate-authenticated / GM connections (uncertain)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<CaCertificateRequest>,
    /// At most 20 tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
}

/// The customer gateway in responses (`ResponseCustomerGateway`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseCustomerGateway {
    /// Customer gateway ID (UUID).
    pub id: String,
    /// Name (missing from one walkthrough example).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ip` or `fqdn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_type: Option<IdType>,
    /// Identifier value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_value: Option<String>,
    /// BGP ASN; only with `id_type=ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// Present only when a CA certificate is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<CaCertificate>,
    /// Creation time (documented UTC `...SSSZ`; examples use `+08:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Last update time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
}

/// Response of create (201), get and update (200).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerGatewayResponse {
    /// The customer gateway.
    pub customer_gateway: ResponseCustomerGateway,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `GET /v5/{project_id}/customer-gateways` response (marker paged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListCustomerGatewaysResponse {
    /// This page.
    #[serde(default)]
    pub customer_gateways: Vec<ResponseCustomerGateway>,
    /// Total customer gateways in the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Paging information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Query of `GET /v5/{project_id}/customer-gateways`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListCustomerGatewaysQuery {
    /// Records per page, 0-200; default 200.
    pub limit: Option<u32>,
    /// Start after this marker (the previous page's `page_info.next_marker`); use with `limit`.
    pub marker: Option<String>,
}

impl ListCustomerGatewaysQuery {
    /// Documented default page size.
    pub const DEFAULT_LIMIT: u32 = 200;
    /// Documented maximum page size.
    pub const MAX_LIMIT: u32 = 200;
}

impl QueryParams for ListCustomerGatewaysQuery {
    fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        push_opt(&mut pairs, "limit", self.limit.as_ref());
        push_opt(&mut pairs, "marker", self.marker.as_ref());
        pairs
    }

    fn from_pairs<'a, I>(pairs: I) -> Result<Self, InvalidQuery>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut query = Self::default();
        for (name, value) in pairs {
            match name {
                "limit" => query.limit = Some(parse_u32(name, value, "an integer 0-200")?),
                "marker" => query.marker = Some(value.to_owned()),
                _ => {}
            }
        }
        Ok(query)
    }
}

/// `PUT /v5/{project_id}/customer-gateways/{customer_gateway_id}` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateCustomerGatewayRequest {
    /// The changes (required).
    pub customer_gateway: UpdateCustomerGatewayRequestBody,
}

/// `UpdateCgwRequestBodyContent`: only the name and CA certificate can change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateCustomerGatewayRequestBody {
    /// 1-64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New CA certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<CaCertificateRequest>,
}

#[cfg(test)]
mod tests;
