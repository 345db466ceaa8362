//! `GET /v5/{project_id}/vpn/quotas`: the world's quotas with live usage.
use super::Project;
use crate::cloud::model as m;

impl Project {
    /// The three documented quota types, in the order of the documented example.
    pub fn quotas(&self) -> m::QuotasResponse {
        let (gws, cgws, conns) = self.usage();
        let q = self.world.quotas;
        let info = |t: m::QuotaType, quota: u32, used: usize| m::QuotaInfo {
            quota_type: t,
            quota: Some(i64::from(quota)),
            used: Some(used as i64),
        };
        m::QuotasResponse {
            quotas: m::Quotas {
                resources: vec![
                    info(m::QuotaType::CustomerGateway, q.customer_gateway, cgws),
                    info(m::QuotaType::VpnConnection, q.vpn_connection, conns),
                    info(m::QuotaType::VpnGateway, q.vpn_gateway, gws),
                ],
            },
            request_id: None,
        }
    }
}
