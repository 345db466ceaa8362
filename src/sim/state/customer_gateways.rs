//! Customer gateways: synchronous create, get, list (marker paging), update, delete.
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sha2::{Digest, Sha256};

use super::{new_id, page, short_suffix, ts, Ctx, Project};
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};
use crate::sim::validate as v;

/// A stored customer gateway.
#[derive(Debug, Clone)]
pub struct CustomerGatewayRec {
    pub cgw: m::ResponseCustomerGateway,
    pub created: DateTime<Utc>,
}

/// Checks a CA certificate request and describes it. Real certificates are not parsed: a PEM
/// block is accepted and given a stable synthetic serial number (VPN.0074 otherwise).
///
/// `id` alone names an existing certificate (`CaCertificateRequest.id`, §3.8): the certificate
/// of that id on another customer gateway of the project is used, or, for an id the simulator
/// has never seen, a certificate described with that id (assumption: the certificate store
/// behind the id is not modelled).
fn ca_certificate(
    req: &m::CaCertificateRequest,
    known: Option<&m::CaCertificate>,
    now: DateTime<Utc>,
) -> ApiResult<m::CaCertificate> {
    if let (Some(id), None) = (&req.id, &req.content) {
        if id.trim().is_empty() || id.chars().count() > 64 {
            return Err(ApiError::invalid(
                "ca_certificate.id must be a certificate id",
            ));
        }
        return Ok(known.cloned().unwrap_or_else(|| m::CaCertificate {
            id: Some(id.clone()),
            serial_number: Some(id.chars().filter(char::is_ascii_digit).collect()),
            signature_algorithm: Some("SHA256WITHRSA".into()),
            issuer: Some("C=CN,O=vpn-operator-simulator,CN=Simulated CA".into()),
            subject: Some("C=CN,O=vpn-operator-simulator,CN=Simulated CA".into()),
            expire_time: Some(ts(now + ChronoDuration::days(365))),
            is_updatable: Some(true),
        }));
    }
    let content = req.content.as_deref().unwrap_or_default();
    let len = content.chars().count();
    if !(1..=8192).contains(&len) {
        return Err(ApiError::invalid(format!(
            "ca_certificate.content must be 1-8192 characters, got {len}"
        )));
    }
    let pem = content.trim();
    if !pem.starts_with("-----BEGIN CERTIFICATE-----")
        || !pem.ends_with("-----END CERTIFICATE-----")
    {
        return Err(ApiError::certificate_format("ca_certificate.content"));
    }
    let digest = Sha256::digest(pem.as_bytes());
    let serial: u64 = digest[..8]
        .iter()
        .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    Ok(m::CaCertificate {
        id: Some(req.id.clone().unwrap_or_else(new_id)),
        serial_number: Some(serial.to_string()),
        signature_algorithm: Some("SHA256WITHRSA".into()),
        issuer: Some("C=CN,O=vpn-operator-simulator,CN=Simulated CA".into()),
        subject: Some("C=CN,O=vpn-operator-simulator,CN=Simulated CA".into()),
        expire_time: Some(ts(now + ChronoDuration::days(365))),
        is_updatable: Some(true),
    })
}

impl Project {
    /// The CA certificate with the id `req` names, on any customer gateway of the project.
    fn known_ca(&self, req: &m::CaCertificateRequest) -> Option<&m::CaCertificate> {
        let id = req.id.as_deref()?;
        self.customer_gateways
            .values()
            .filter_map(|c| c.cgw.ca_certificate.as_ref())
            .find(|ca| ca.id.as_deref() == Some(id))
    }

    fn customer_gateway(&self, id: &str) -> ApiResult<&CustomerGatewayRec> {
        self.customer_gateways
            .get(id)
            .ok_or_else(ApiError::not_found)
    }

    fn render_cgw(c: &CustomerGatewayRec) -> m::ResponseCustomerGateway {
        let mut out = c.cgw.clone();
        out.tags.get_or_insert_with(Vec::new);
        out
    }

    /// `POST /v5/{project_id}/customer-gateways`.
    pub fn create_customer_gateway(
        &mut self,
        req: m::CreateCustomerGatewayRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseCustomerGateway> {
        if let Some(n) = &req.name {
            v::name("name", n)?;
        }
        let id_type = req.id_type.clone().unwrap_or(m::IdType::Ip);
        v::known("id_type", &id_type)?;
        match id_type {
            m::IdType::Ip => {
                v::ipv4("id_value", &req.id_value)?;
            }
            _ => v::fqdn("id_value", &req.id_value, 128)?,
        }
        if let Some(asn) = req.bgp_asn {
            if id_type != m::IdType::Ip {
                return Err(ApiError::invalid(
                    "bgp_asn is only allowed when id_type is ip",
                ));
            }
            v::bgp_asn("bgp_asn", asn)?;
        }
        let ca = match &req.ca_certificate {
            Some(c) => Some(ca_certificate(c, self.known_ca(c), ctx.now)?),
            None => None,
        };
        if let Some(t) = &req.tags {
            v::tags(t)?;
        }
        let quota = self.world.quotas.customer_gateway;
        if self.customer_gateways.len() >= quota as usize {
            return Err(ApiError::quota("customer_gateway", quota));
        }
        let created = self.creation_time(ctx.now);
        let id = new_id();
        let rec = CustomerGatewayRec {
            cgw: m::ResponseCustomerGateway {
                id: id.clone(),
                name: Some(
                    req.name
                        .unwrap_or_else(|| format!("cgw-{}", short_suffix())),
                ),
                id_type: Some(id_type),
                id_value: Some(req.id_value),
                bgp_asn: req.bgp_asn,
                ca_certificate: ca,
                created_at: Some(ts(created)),
                updated_at: Some(ts(created)),
                tags: req.tags,
            },
            created,
        };
        self.customer_gateways.insert(id.clone(), rec);
        Ok(Self::render_cgw(&self.customer_gateways[&id]))
    }

    /// `GET /v5/{project_id}/customer-gateways/{id}`.
    pub fn get_customer_gateway(&self, id: &str) -> ApiResult<m::ResponseCustomerGateway> {
        Ok(Self::render_cgw(self.customer_gateway(id)?))
    }

    /// `GET /v5/{project_id}/customer-gateways`: newest first, marker = creation time of the
    /// last record of the previous page. Returns the page, next marker and total count.
    pub fn list_customer_gateways(
        &self,
        q: &m::ListCustomerGatewaysQuery,
    ) -> ApiResult<(Vec<m::ResponseCustomerGateway>, Option<String>, u64)> {
        let all: Vec<(DateTime<Utc>, &CustomerGatewayRec)> = self
            .customer_gateways
            .values()
            .map(|c| (c.created, c))
            .collect();
        let total = all.len() as u64;
        let (items, next) = page(
            all,
            q.limit,
            q.marker.as_deref(),
            m::ListCustomerGatewaysQuery::DEFAULT_LIMIT,
            m::ListCustomerGatewaysQuery::MAX_LIMIT,
        )?;
        Ok((
            items.into_iter().map(Self::render_cgw).collect(),
            next,
            total,
        ))
    }

    /// `PUT /v5/{project_id}/customer-gateways/{id}`: name and CA certificate only.
    pub fn update_customer_gateway(
        &mut self,
        id: &str,
        req: m::UpdateCustomerGatewayRequestBody,
        ctx: Ctx,
    ) -> ApiResult<m::ResponseCustomerGateway> {
        self.customer_gateway(id)?;
        if let Some(n) = &req.name {
            v::name("name", n)?;
        }
        let ca = match &req.ca_certificate {
            Some(c) => Some(ca_certificate(c, self.known_ca(c), ctx.now)?),
            None => None,
        };
        let c = self.customer_gateways.get_mut(id).expect("checked above");
        if let Some(n) = req.name {
            c.cgw.name = Some(n);
        }
        if ca.is_some() {
            c.cgw.ca_certificate = ca;
        }
        c.cgw.updated_at = Some(ts(ctx.now));
        Ok(Self::render_cgw(c))
    }

    /// `DELETE /v5/{project_id}/customer-gateways/{id}`: refused with the documented VPN.0001
    /// "invalid request: customer gateway <id> has connection" while connections use it.
    pub fn delete_customer_gateway(&mut self, id: &str) -> ApiResult<()> {
        self.customer_gateway(id)?;
        if self
            .connections
            .values()
            .any(|c| c.conn.cgw_id.as_deref() == Some(id))
        {
            return Err(ApiError::invalid(format!(
                "customer gateway {id} has connection"
            )));
        }
        self.customer_gateways.remove(id);
        Ok(())
    }
}
