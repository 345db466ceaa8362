//! `POST /v3/auth/tokens`: password authentication for configured users; the token comes back
//! in `X-Subject-Token` (reference §2.3).
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use crate::sim::auth::issue_token;
use crate::sim::errors::ApiResult;
use crate::sim::server::{lock, Reply, Sim};

pub async fn create_token(State(sim): State<Sim>, body: Bytes) -> ApiResult<Reply> {
    let grant = issue_token(&body, &sim.projects, sim.clock.now())?;
    lock(&sim.tokens).insert(grant.token.clone(), grant.issued);
    Ok(Reply::json(StatusCode::CREATED, &grant.body).header(
        axum::http::HeaderName::from_static("x-subject-token"),
        &grant.token,
    ))
}
