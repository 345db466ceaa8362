//! `GET /v5/{project_id}/vpn/quotas`.
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::sim::errors::ApiResult;
use crate::sim::server::{Reply, Sim};

pub async fn show(State(sim): State<Sim>, Path(p): Path<String>) -> ApiResult<Reply> {
    let q = sim.with_project(&p, |proj, _| Ok(proj.quotas()))?;
    Ok(Reply::json(StatusCode::OK, &q))
}
