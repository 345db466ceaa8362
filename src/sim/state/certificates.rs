//! GM gateway certificates: import, get, update (gateways reference §4.10-4.12). Certificates
//! are not parsed: PEM blocks are accepted and described with synthetic, stable values. A new
//! or updated certificate is `BINDING` for the gateway-update delay, then `BOUND`.
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sha2::{Digest, Sha256};

use super::gateways::self_gate;
use super::{new_id, short_suffix, ts, Ctx, Project};
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};

/// A stored gateway certificate.
#[derive(Debug, Clone)]
pub struct CertificateRec {
    pub cert: m::VpnGatewayCertificate,
    /// When binding completes.
    pub bound_at: DateTime<Utc>,
}

fn check_cert(field: &str, v: &str, max: usize) -> ApiResult<()> {
    let len = v.chars().count();
    if !(1..=max).contains(&len) {
        return Err(ApiError::invalid(format!(
            "{field} must be 1-{max} characters, got {len}"
        )));
    }
    let t = v.trim();
    if !t.starts_with("-----BEGIN CERTIFICATE-----") || !t.ends_with("-----END CERTIFICATE-----") {
        return Err(ApiError::certificate_format(field));
    }
    Ok(())
}

fn check_key(field: &str, v: &str) -> ApiResult<()> {
    let len = v.chars().count();
    let t = v.trim();
    if !(1..=4096).contains(&len)
        || !t.starts_with("-----BEGIN")
        || !t.ends_with("PRIVATE KEY-----")
    {
        // Never echo key material.
        return Err(ApiError::invalid(format!(
            "{field} must be a PEM private key of 1-4096 characters"
        )));
    }
    Ok(())
}

fn check_name(v: &str) -> ApiResult<()> {
    let len = v.chars().count();
    let ok = v.chars().all(|c| {
        c.is_ascii_alphanumeric() || "_-.".contains(c) || ('\u{4e00}'..='\u{9fa5}').contains(&c)
    });
    if !(3..=63).contains(&len) || !ok {
        return Err(ApiError::invalid(format!(
            "name {v:?} must be 3-63 characters of letters, digits, Chinese characters, '_', '-' and '.'"
        )));
    }
    Ok(())
}

fn serial(pem: &str) -> String {
    let d = Sha256::digest(pem.trim().as_bytes());
    d[..8]
        .iter()
        .fold(0u64, |acc, b| acc << 8 | u64::from(*b))
        .to_string()
}

const SUBJECT: &str = "C=CN,O=vpn-operator-simulator,OU=vpn,CN=sim-vpn-gateway";
const ISSUER: &str = "C=CN,O=vpn-operator-simulator,CN=Simulated GM Root CA";

fn describe(
    c: &mut m::VpnGatewayCertificate,
    now: DateTime<Utc>,
    sign: Option<&str>,
    chain: Option<&str>,
    enc: Option<&str>,
) {
    let expire = Some(ts(now + ChronoDuration::days(365)));
    if let Some(p) = sign {
        c.certificate_serial_number = Some(serial(p));
        c.certificate_subject = Some(SUBJECT.into());
        c.certificate_expire_time = expire.clone();
        c.issuer = Some(ISSUER.into());
        c.signature_algorithm = Some("SM3WITHSM2".into());
    }
    if let Some(p) = chain {
        c.certificate_chain_serial_number = Some(serial(p));
        c.certificate_chain_subject = Some(ISSUER.into());
        c.certificate_chain_expire_time = Some(ts(now + ChronoDuration::days(3650)));
    }
    if let Some(p) = enc {
        c.enc_certificate_serial_number = Some(serial(p));
        c.enc_certificate_subject = Some(SUBJECT.into());
        c.enc_certificate_expire_time = expire;
    }
}

impl Project {
    fn gm_gateway(&self, vgw: &str) -> ApiResult<&super::GatewayRec> {
        let g = self
            .gateways
            .get(vgw)
            .ok_or_else(ApiError::gateway_not_found)?;
        if g.gw.flavor != Some(m::GatewayFlavor::Gm) {
            return Err(ApiError::invalid(format!(
                "vpn gateway {vgw} is not a GM gateway; certificates are only for flavor GM"
            )));
        }
        Ok(g)
    }

    /// Whether a GM gateway's certificate is bound (connections need it).
    pub fn gm_certificate_bound(&self, vgw: &str, now: DateTime<Utc>) -> bool {
        self.gateways
            .get(vgw)
            .and_then(|g| g.certificate.as_ref())
            .is_some_and(|c| now >= c.bound_at)
    }

    fn render_certificate(
        c: &CertificateRec,
        now: DateTime<Utc>,
        full: bool,
    ) -> m::VpnGatewayCertificate {
        let mut out = c.cert.clone();
        if full {
            out.status = Some(if now >= c.bound_at {
                m::CertificateStatus::Bound
            } else {
                m::CertificateStatus::Binding
            });
        } else {
            out.status = None;
            out.project_id = None;
            out.updated_at = None;
        }
        out
    }

    /// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/certificate`.
    pub fn create_certificate(
        &mut self,
        vgw: &str,
        req: m::CreateVpnGatewayCertificateBody,
        ctx: Ctx,
    ) -> ApiResult<m::VpnGatewayCertificate> {
        let g = self.gm_gateway(vgw)?;
        self_gate(g, false)?;
        // A gateway has one certificate; importing another is a duplicate (VPN.0077): update
        // the one there instead.
        if let Some(c) = &g.certificate {
            let name = c
                .cert
                .name
                .as_deref()
                .or(c.cert.id.as_deref())
                .unwrap_or_default();
            return Err(ApiError::certificate_duplicate(name));
        }
        if let Some(n) = &req.name {
            check_name(n)?;
        }
        check_cert("certificate", &req.certificate, 4096)?;
        check_key("private_key", req.private_key.expose())?;
        check_cert("certificate_chain", &req.certificate_chain, 8192)?;
        check_cert("enc_certificate", &req.enc_certificate, 4096)?;
        check_key("enc_private_key", req.enc_private_key.expose())?;
        let mut cert = m::VpnGatewayCertificate {
            id: Some(new_id()),
            name: Some(
                req.name
                    .unwrap_or_else(|| format!("cert-{}", short_suffix())),
            ),
            project_id: Some(self.id.clone()),
            vgw_id: Some(vgw.to_string()),
            created_at: Some(ts(ctx.now)),
            updated_at: Some(ts(ctx.now)),
            ..Default::default()
        };
        describe(
            &mut cert,
            ctx.now,
            Some(&req.certificate),
            Some(&req.certificate_chain),
            Some(&req.enc_certificate),
        );
        let rec = CertificateRec {
            cert,
            bound_at: ctx.now
                + ChronoDuration::from_std(ctx.delays.gateway_update)
                    .unwrap_or_else(|_| ChronoDuration::zero()),
        };
        let g = self.gateways.get_mut(vgw).expect("checked above");
        g.gw.certificate_id = rec.cert.id.clone();
        let out = Self::render_certificate(&rec, ctx.now, false);
        g.certificate = Some(rec);
        Ok(out)
    }

    /// `GET /v5/{project_id}/vpn-gateways/{vgw_id}/certificate`.
    pub fn get_certificate(
        &self,
        vgw: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<m::VpnGatewayCertificate> {
        let g = self.gm_gateway(vgw)?;
        let c = g.certificate.as_ref().ok_or_else(ApiError::not_found)?;
        Ok(Self::render_certificate(c, now, true))
    }

    /// `PUT /v5/{project_id}/vpn-gateways/{vgw_id}/certificate/{certificate_id}`.
    pub fn update_certificate(
        &mut self,
        vgw: &str,
        cert_id: &str,
        req: m::UpdateVpnGatewayCertificateBody,
        ctx: Ctx,
    ) -> ApiResult<m::VpnGatewayCertificate> {
        let g = self.gm_gateway(vgw)?;
        self_gate(g, false)?;
        let c = g.certificate.as_ref().ok_or_else(ApiError::not_found)?;
        if c.cert.id.as_deref() != Some(cert_id) {
            return Err(ApiError::not_found());
        }
        if let Some(n) = &req.name {
            check_name(n)?;
        }
        if let Some(v) = &req.certificate {
            check_cert("certificate", v, 4096)?;
        }
        if let Some(v) = &req.private_key {
            check_key("private_key", v.expose())?;
        }
        if let Some(v) = &req.certificate_chain {
            check_cert("certificate_chain", v, 8192)?;
        }
        if let Some(v) = &req.enc_certificate {
            check_cert("enc_certificate", v, 4096)?;
        }
        if let Some(v) = &req.enc_private_key {
            check_key("enc_private_key", v.expose())?;
        }
        let g = self.gateways.get_mut(vgw).expect("checked above");
        let c = g.certificate.as_mut().expect("checked above");
        if let Some(n) = req.name {
            c.cert.name = Some(n);
        }
        describe(
            &mut c.cert,
            ctx.now,
            req.certificate.as_deref(),
            req.certificate_chain.as_deref(),
            req.enc_certificate.as_deref(),
        );
        c.cert.updated_at = Some(ts(ctx.now));
        c.bound_at = ctx.now
            + ChronoDuration::from_std(ctx.delays.gateway_update)
                .unwrap_or_else(|_| ChronoDuration::zero());
        Ok(Self::render_certificate(c, ctx.now, false))
    }
}
