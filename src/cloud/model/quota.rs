//! Quota wire models (`GET /v5/{project_id}/vpn/quotas`). Reference: huawei-vpn-v5-gateways.md §2.9.
use serde::{Deserialize, Serialize};

wire_enum! {
    /// The resource a quota counts.
    pub enum QuotaType {
        /// Customer gateways.
        CustomerGateway = "customer_gateway",
        /// Enterprise-edition VPN connections.
        VpnConnection = "vpn_connection",
        /// Enterprise-edition VPN gateways.
        VpnGateway = "vpn_gateway",
        /// Classic-edition VPN gateways (uncertain label).
        Vpngw = "vpngw",
        /// Classic-edition VPN connections (uncertain label).
        Vpn = "vpn",
    }
}

/// One quota (`QuotaInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaInfo {
    /// What is counted.
    #[serde(rename = "type")]
    pub quota_type: QuotaType,
    /// Upper limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    /// Amount in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<i64>,
}

impl QuotaInfo {
    /// `quota - used` when both are known (never below zero).
    pub fn remaining(&self) -> Option<i64> {
        Some((self.quota? - self.used?).max(0))
    }
}

/// The `quotas` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    /// One entry per resource type.
    #[serde(default)]
    pub resources: Vec<QuotaInfo>,
}

/// `GET /v5/{project_id}/vpn/quotas` response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotasResponse {
    /// The quotas.
    #[serde(default)]
    pub quotas: Quotas,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Quotas {
    /// The quota of one resource type, if reported.
    pub fn find(&self, quota_type: &QuotaType) -> Option<&QuotaInfo> {
        self.resources.iter().find(|q| &q.quota_type == quota_type)
    }
}

#[cfg(test)]
mod tests;
