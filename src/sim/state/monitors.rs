//! Connection monitors (NQA health checks): create, get, list, delete. No update.
use chrono::{DateTime, Utc};

use super::gateways::child_gate;
use super::{new_id, Ctx, Next, Pending, Project};
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};

/// A stored monitor.
#[derive(Debug, Clone)]
pub struct MonitorRec {
    /// Every field, `status` included.
    pub monitor: m::ConnectionMonitorInfo,
    pub pending: Option<Pending>,
    pub created: DateTime<Utc>,
}

impl Project {
    fn monitor(&self, id: &str) -> ApiResult<&MonitorRec> {
        self.monitors.get(id).ok_or_else(ApiError::not_found)
    }

    /// `POST /v5/{project_id}/connection-monitors`. One monitor per connection (the connection
    /// exposes a single `connection_monitor_id`; a second gets VPN.0001, assumption).
    pub fn create_monitor(
        &mut self,
        req: m::CreateConnectionMonitorRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ConnectionMonitorInfo> {
        if req.vpn_connection_id.is_empty() {
            return Err(ApiError::invalid("vpn_connection_id is required"));
        }
        let conn = self
            .connections
            .get(&req.vpn_connection_id)
            .ok_or_else(ApiError::connection_not_found)?;
        if conn.conn.status == Some(m::ConnectionStatus::PendingDelete) {
            return Err(ApiError::invalid(format!(
                "vpn connection {} is being deleted",
                req.vpn_connection_id
            )));
        }
        let g = conn
            .conn
            .vgw_id
            .as_deref()
            .and_then(|g| self.gateways.get(g))
            .ok_or_else(ApiError::gateway_not_found)?;
        child_gate(g, false)?;
        if self
            .monitors
            .values()
            .any(|m| m.monitor.vpn_connection_id.as_deref() == Some(req.vpn_connection_id.as_str()))
        {
            return Err(ApiError::invalid(format!(
                "vpn connection {} already has a connection monitor",
                req.vpn_connection_id
            )));
        }
        // Probe from the gateway's address to the customer gateway's (tunnel peer when the
        // customer gateway is identified by FQDN).
        let source = match conn.conn.vgw_ip.as_deref() {
            Some(ip) if ip.parse::<std::net::Ipv4Addr>().is_ok() => ip.to_string(),
            Some(eip) => self
                .world
                .eip(eip)
                .map(|e| e.address.clone())
                .unwrap_or_default(),
            None => String::new(),
        };
        let cgw = conn
            .conn
            .cgw_id
            .as_deref()
            .and_then(|c| self.customer_gateways.get(c));
        let destination = match cgw {
            Some(c) if c.cgw.id_type == Some(m::IdType::Ip) => {
                c.cgw.id_value.clone().unwrap_or_default()
            }
            _ => conn
                .conn
                .tunnel_peer_address
                .as_deref()
                .map(|a| a.split('/').next().unwrap_or(a).to_string())
                .unwrap_or_default(),
        };
        let id = new_id();
        let created = self.creation_time(ctx.now);
        self.monitors.insert(
            id.clone(),
            MonitorRec {
                monitor: m::ConnectionMonitorInfo {
                    id: id.clone(),
                    status: Some(m::MonitorStatus::PendingCreate),
                    vpn_connection_id: Some(req.vpn_connection_id),
                    monitor_type: Some(m::MonitorType::Gateway),
                    source_ip: Some(source),
                    destination_ip: Some(destination),
                    proto_type: Some(m::MonitorProtoType::Icmp),
                },
                pending: Some(Pending::after(
                    ctx.now,
                    ctx.delays.monitor_create,
                    Next::Activate,
                )),
                created,
            },
        );
        let mut out = self.monitors[&id].monitor.clone();
        out.status = None;
        Ok(out)
    }

    /// `GET /v5/{project_id}/connection-monitors/{id}`.
    pub fn get_monitor(&self, id: &str) -> ApiResult<m::ConnectionMonitorInfo> {
        Ok(self.monitor(id)?.monitor.clone())
    }

    /// `GET /v5/{project_id}/connection-monitors` (no paging), newest first.
    pub fn list_monitors(
        &self,
        q: &m::ListConnectionMonitorsQuery,
    ) -> Vec<m::ConnectionMonitorInfo> {
        let mut out: Vec<&MonitorRec> = self
            .monitors
            .values()
            .filter(|mo| {
                q.vpn_connection_id
                    .as_deref()
                    .is_none_or(|c| mo.monitor.vpn_connection_id.as_deref() == Some(c))
            })
            .filter(|mo| {
                q.enterprise_project_id.is_empty()
                    || mo
                        .monitor
                        .vpn_connection_id
                        .as_deref()
                        .and_then(|c| self.connections.get(c))
                        .and_then(|c| c.conn.enterprise_project_id.as_ref())
                        .is_some_and(|e| q.enterprise_project_id.contains(e))
            })
            .collect();
        out.sort_by_key(|m| std::cmp::Reverse(m.created));
        out.into_iter().map(|m| m.monitor.clone()).collect()
    }

    /// `DELETE /v5/{project_id}/connection-monitors/{id}`; a repeated delete while it is being
    /// deleted is accepted again.
    pub fn delete_monitor(&mut self, id: &str, ctx: Ctx) -> ApiResult<()> {
        let mo = self.monitor(id)?;
        // Gated by the gateway's state like every other monitor change (a FAULT gateway's
        // monitors can still be deleted, as its connections can).
        let gw = mo
            .monitor
            .vpn_connection_id
            .as_deref()
            .and_then(|c| self.connections.get(c))
            .and_then(|c| c.conn.vgw_id.as_deref())
            .and_then(|g| self.gateways.get(g));
        if let Some(g) = gw {
            child_gate(g, true)?;
        }
        let mo = self.monitors.get_mut(id).expect("checked above");
        if mo.monitor.status != Some(m::MonitorStatus::PendingDelete) {
            mo.monitor.status = Some(m::MonitorStatus::PendingDelete);
            mo.pending = Some(Pending::after(
                ctx.now,
                ctx.delays.monitor_delete,
                Next::Remove,
            ));
        }
        Ok(())
    }

    pub(super) fn monitor_transition(&mut self, id: &str, _due: DateTime<Utc>) {
        let Some(mo) = self.monitors.get_mut(id) else {
            return;
        };
        match mo.pending.take().map(|p| p.then) {
            Some(Next::Remove) => {
                self.monitors.remove(id);
            }
            Some(_) => mo.monitor.status = Some(m::MonitorStatus::Active),
            None => {}
        }
    }
}
