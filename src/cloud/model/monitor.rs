//! Connection monitor (NQA health check) wire models (`/v5/{project_id}/connection-monitors...`).
//! Monitors have no update: delete and recreate. Reference: huawei-vpn-v5-connections.md §6.
use serde::{Deserialize, Serialize};

use super::common::{push_all, push_opt, InvalidQuery, QueryParams};

wire_enum! {
    /// Monitor status (GET and list only).
    pub enum MonitorStatus {
        Active = "ACTIVE",
        PendingCreate = "PENDING_CREATE",
        PendingDelete = "PENDING_DELETE",
    }
}

wire_enum! {
    /// Monitor type; only `gateway` (probes from the VPN gateway).
    pub enum MonitorType {
        Gateway = "gateway",
    }
}

wire_enum! {
    /// NQA probe protocol; only `icmp`.
    pub enum MonitorProtoType {
        Icmp = "icmp",
    }
}

/// `POST /v5/{project_id}/connection-monitors` body: `{"connection_monitor": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConnectionMonitorRequest {
    /// The monitor to create (required).
    pub connection_monitor: CreateConnectionMonitorRequestBody,
}

/// `CreateConnectionMonitorRequestBodyContent`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConnectionMonitorRequestBody {
    /// ID (UUID) of the connection to monitor. Required. At most one monitor per connection (inferred).
    pub vpn_connection_id: String,
}

/// A monitor (`ConnectionMonitorInfo`). Probe addresses are chosen by the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionMonitorInfo {
    /// Monitor ID (UUID).
    pub id: String,
    /// GET / list only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<MonitorStatus>,
    /// Monitored connection ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpn_connection_id: Option<String>,
    /// `gateway`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub monitor_type: Option<MonitorType>,
    /// Probe source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// Probe destination address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_ip: Option<String>,
    /// `icmp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto_type: Option<MonitorProtoType>,
}

/// Response of create (201) and get (200).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionMonitorResponse {
    /// The monitor.
    pub connection_monitor: ConnectionMonitorInfo,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `GET /v5/{project_id}/connection-monitors` response. Not paged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListConnectionMonitorsResponse {
    /// Matching monitors.
    #[serde(default)]
    pub connection_monitors: Vec<ConnectionMonitorInfo>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Query of `GET /v5/{project_id}/connection-monitors`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListConnectionMonitorsQuery {
    /// Only the monitors of this connection.
    pub vpn_connection_id: Option<String>,
    /// Only these enterprise projects (repeated parameter).
    pub enterprise_project_id: Vec<String>,
}

impl QueryParams for ListConnectionMonitorsQuery {
    fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        push_opt(
            &mut pairs,
            "vpn_connection_id",
            self.vpn_connection_id.as_ref(),
        );
        push_all(
            &mut pairs,
            "enterprise_project_id",
            &self.enterprise_project_id,
        );
        pairs
    }

    fn from_pairs<'a, I>(pairs: I) -> Result<Self, InvalidQuery>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut query = Self::default();
        for (name, value) in pairs {
            match name {
                "vpn_connection_id" => query.vpn_connection_id = Some(value.to_owned()),
                "enterprise_project_id" => query.enterprise_project_id.push(value.to_owned()),
                _ => {}
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests;
