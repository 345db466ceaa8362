//! `/v5/{project_id}/vpn-connection[/{vpn_connection_id}[/log|/reset]]` and
//! `/v5/{project_id}/vpn-connections/batch-create`.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use crate::cloud::model as m;
use crate::sim::errors::ApiResult;
use crate::sim::server::{parse_body, Reply, Sim};

fn one(c: m::ResponseVpnConnection) -> m::VpnConnectionResponse {
    m::VpnConnectionResponse {
        vpn_connection: c,
        request_id: None,
    }
}

pub async fn create(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::CreateVpnConnectionRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.create_connection(req.vpn_connection, ctx)
    })?;
    Ok(Reply::json(StatusCode::CREATED, &one(c)))
}

pub async fn batch_create(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::BatchCreateVpnConnectionsRequest = parse_body(&body)?;
    let cs = sim.with_project(&p, |proj, ctx| {
        proj.batch_create_connections(req.vpn_connections, ctx)
    })?;
    Ok(Reply::json(
        StatusCode::CREATED,
        &m::BatchCreateVpnConnectionsResponse {
            vpn_connections: cs,
            request_id: None,
        },
    ))
}

pub async fn show(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let c = sim.with_project(&p, |proj, ctx| proj.get_connection(&id, ctx.now))?;
    Ok(Reply::json(StatusCode::OK, &one(c)))
}

pub async fn list(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Reply> {
    let q: m::ListVpnConnectionsQuery = super::query(q.as_deref())?;
    let (items, next, total) = sim.with_project(&p, |proj, _| proj.list_connections(&q))?;
    let count = items.len() as u64;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ListVpnConnectionsResponse {
            vpn_connections: items,
            page_info: Some(m::PageInfo {
                next_marker: next,
                current_count: Some(count),
            }),
            request_id: None,
            total_count: Some(total),
        },
    ))
}

pub async fn update(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::UpdateVpnConnectionRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.update_connection(&id, req.vpn_connection, ctx)
    })?;
    Ok(Reply::json(StatusCode::OK, &one(c)))
}

pub async fn delete(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    sim.with_project(&p, |proj, ctx| proj.delete_connection(&id, ctx))?;
    Ok(Reply::no_content())
}

pub async fn reset(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    sim.with_project(&p, |proj, ctx| proj.reset_connection(&id, ctx))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::RequestIdResponse::default(),
    ))
}

pub async fn logs(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let logs = sim.with_project(&p, |proj, _| proj.connection_logs(&id))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ListConnectionLogsResponse {
            logs,
            request_id: None,
        },
    ))
}
