//! `/v5/{project_id}/vpn-gateways...`: gateways, availability zones, jobs, upgrade, routing table.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use crate::cloud::model as m;
use crate::sim::auth::query_pairs;
use crate::sim::errors::ApiResult;
use crate::sim::server::{parse_body, Reply, Sim};

fn one(g: m::ResponseVpnGateway) -> m::VpnGatewayResponse {
    m::VpnGatewayResponse {
        vpn_gateway: g,
        request_id: None,
    }
}

pub async fn create(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::CreateVpnGatewayRequest = parse_body(&body)?;
    let g = sim.with_project(&p, |proj, ctx| proj.create_gateway(req.vpn_gateway, ctx))?;
    Ok(Reply::json(StatusCode::CREATED, &one(g)))
}

pub async fn show(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let g = sim.with_project(&p, |proj, _| proj.get_gateway(&id))?;
    Ok(Reply::json(StatusCode::OK, &one(g)))
}

pub async fn list(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Reply> {
    let q: m::ListVpnGatewaysQuery = super::query(q.as_deref())?;
    let items = sim.with_project(&p, |proj, _| Ok(proj.list_gateways(&q)))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ListVpnGatewaysResponse {
            vpn_gateways: items,
            request_id: None,
        },
    ))
}

pub async fn update(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::UpdateVpnGatewayRequest = parse_body(&body)?;
    let g = sim.with_project(&p, |proj, ctx| {
        proj.update_gateway(&id, req.vpn_gateway, ctx)
    })?;
    Ok(Reply::json(StatusCode::OK, &one(g)))
}

pub async fn update_specification(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::UpdateVpnGatewaySpecificationRequest = parse_body(&body)?;
    let g = sim.with_project(&p, |proj, ctx| {
        proj.update_gateway_specification(&id, req.vpn_gateway.flavor, ctx)
    })?;
    Ok(Reply::json(StatusCode::OK, &one(g)))
}

pub async fn delete(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    sim.with_project(&p, |proj, ctx| proj.delete_gateway(&id, ctx))?;
    Ok(Reply::no_content())
}

pub async fn availability_zones(State(sim): State<Sim>, Path(p): Path<String>) -> ApiResult<Reply> {
    let r = sim.with_project(&p, |proj, _| Ok(proj.availability_zones()))?;
    Ok(Reply::json(StatusCode::OK, &r))
}

pub async fn extended_availability_zones(
    State(sim): State<Sim>,
    Path(p): Path<String>,
) -> ApiResult<Reply> {
    let r = sim.with_project(&p, |proj, _| Ok(proj.extended_availability_zones()))?;
    Ok(Reply::json(StatusCode::OK, &r))
}

pub async fn upgrade(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::UpgradeVpnGatewayRequest = parse_body(&body)?;
    let job = sim.with_project(&p, |proj, ctx| proj.upgrade_gateway(&id, req.action, ctx))?;
    Ok(Reply::json(
        StatusCode::ACCEPTED,
        &m::UpgradeVpnGatewayResponse {
            job_id: Some(job),
            request_id: None,
        },
    ))
}

pub async fn list_jobs(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Reply> {
    let resource = query_pairs(q.as_deref())
        .into_iter()
        .find(|(k, _)| k == "resource_id")
        .map(|(_, v)| v);
    let jobs = sim.with_project(&p, |proj, _| Ok(proj.list_jobs(resource.as_deref())))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ListJobsResponse {
            jobs,
            request_id: None,
        },
    ))
}

pub async fn delete_job(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    sim.with_project(&p, |proj, _| proj.delete_job(&id))?;
    Ok(Reply::no_content())
}

/// The routing table: one route per peer subnet of the gateway's settled connections (static
/// style), with the connection as next hop. Not paged (the documented example has no marker).
pub async fn routing_table(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let routes = sim.with_project(&p, |proj, _| proj.routing_table(&id))?;
    let n = routes.len() as u64;
    Ok(Reply::json(
        StatusCode::OK,
        &m::RoutingTableResponse {
            routing_table: routes,
            total_count: Some(n),
            page_info: Some(m::PageInfo {
                next_marker: None,
                current_count: Some(n),
            }),
            request_id: None,
        },
    ))
}

fn cert(c: m::VpnGatewayCertificate) -> m::VpnGatewayCertificateResponse {
    m::VpnGatewayCertificateResponse {
        certificate: c,
        request_id: None,
    }
}

pub async fn create_certificate(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::CreateVpnGatewayCertificateRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.create_certificate(&id, req.certificate, ctx)
    })?;
    Ok(Reply::json(StatusCode::CREATED, &cert(c)))
}

pub async fn show_certificate(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let c = sim.with_project(&p, |proj, ctx| proj.get_certificate(&id, ctx.now))?;
    Ok(Reply::json(StatusCode::OK, &cert(c)))
}

pub async fn update_certificate(
    State(sim): State<Sim>,
    Path((p, id, cert_id)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::UpdateVpnGatewayCertificateRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.update_certificate(&id, &cert_id, req.certificate, ctx)
    })?;
    Ok(Reply::json(StatusCode::OK, &cert(c)))
}
