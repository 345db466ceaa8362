//! `/v5/{project_id}/customer-gateways[/{customer_gateway_id}]`.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use crate::cloud::model as m;
use crate::sim::errors::ApiResult;
use crate::sim::server::{parse_body, Reply, Sim};

fn one(c: m::ResponseCustomerGateway) -> m::CustomerGatewayResponse {
    m::CustomerGatewayResponse {
        customer_gateway: c,
        request_id: None,
    }
}

pub async fn create(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::CreateCustomerGatewayRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.create_customer_gateway(req.customer_gateway, ctx)
    })?;
    Ok(Reply::json(StatusCode::CREATED, &one(c)))
}

pub async fn show(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let c = sim.with_project(&p, |proj, _| proj.get_customer_gateway(&id))?;
    Ok(Reply::json(StatusCode::OK, &one(c)))
}

pub async fn list(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Reply> {
    let q: m::ListCustomerGatewaysQuery = super::query(q.as_deref())?;
    let (items, next, total) = sim.with_project(&p, |proj, _| proj.list_customer_gateways(&q))?;
    let count = items.len() as u64;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ListCustomerGatewaysResponse {
            customer_gateways: items,
            total_count: Some(total),
            page_info: Some(m::PageInfo {
                next_marker: next,
                current_count: Some(count),
            }),
            request_id: None,
        },
    ))
}

pub async fn update(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::UpdateCustomerGatewayRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.update_customer_gateway(&id, req.customer_gateway, ctx)
    })?;
    Ok(Reply::json(StatusCode::OK, &one(c)))
}

pub async fn delete(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    sim.with_project(&p, |proj, _| proj.delete_customer_gateway(&id))?;
    Ok(Reply::no_content())
}
