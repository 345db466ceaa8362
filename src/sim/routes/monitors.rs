//! `/v5/{project_id}/connection-monitors[/{connection_monitor_id}]`.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use crate::cloud::model as m;
use crate::sim::errors::ApiResult;
use crate::sim::server::{parse_body, Reply, Sim};

fn one(c: m::ConnectionMonitorInfo) -> m::ConnectionMonitorResponse {
    m::ConnectionMonitorResponse {
        connection_monitor: c,
        request_id: None,
    }
}

pub async fn create(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    body: Bytes,
) -> ApiResult<Reply> {
    let req: m::CreateConnectionMonitorRequest = parse_body(&body)?;
    let c = sim.with_project(&p, |proj, ctx| {
        proj.create_monitor(req.connection_monitor, ctx)
    })?;
    Ok(Reply::json(StatusCode::CREATED, &one(c)))
}

pub async fn show(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    let c = sim.with_project(&p, |proj, _| proj.get_monitor(&id))?;
    Ok(Reply::json(StatusCode::OK, &one(c)))
}

pub async fn list(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Reply> {
    let q: m::ListConnectionMonitorsQuery = super::query(q.as_deref())?;
    let items = sim.with_project(&p, |proj, _| Ok(proj.list_monitors(&q)))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ListConnectionMonitorsResponse {
            connection_monitors: items,
            request_id: None,
        },
    ))
}

pub async fn delete(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
) -> ApiResult<Reply> {
    sim.with_project(&p, |proj, ctx| proj.delete_monitor(&id, ctx))?;
    Ok(Reply::no_content())
}
