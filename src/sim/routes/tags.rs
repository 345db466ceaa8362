//! The tag APIs, routed for `vpn-gateway`, `customer-gateway` and `vpn-connection`.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::cloud::model as m;
use crate::sim::auth::query_pairs;
use crate::sim::errors::{ApiError, ApiResult};
use crate::sim::server::{op, parse_body, Reply, Sim};
use crate::sim::state::tags::TagKind;

async fn create(sim: Sim, kind: TagKind, p: String, id: String, body: Bytes) -> ApiResult<Reply> {
    let req: m::TagsRequest = parse_body(&body)?;
    sim.with_project(&p, |proj, _| proj.add_tags(kind, &id, req.tags))?;
    Ok(Reply::no_content())
}

async fn remove(sim: Sim, kind: TagKind, p: String, id: String, body: Bytes) -> ApiResult<Reply> {
    let req: m::TagsRequest = parse_body(&body)?;
    sim.with_project(&p, |proj, _| proj.remove_tags(kind, &id, req.tags))?;
    Ok(Reply::no_content())
}

async fn of_resource(sim: Sim, kind: TagKind, p: String, id: String) -> ApiResult<Reply> {
    let tags = sim.with_project(&p, |proj, _| proj.resource_tags(kind, &id))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ResourceTagsResponse {
            tags,
            request_id: None,
        },
    ))
}

async fn of_project(sim: Sim, kind: TagKind, p: String) -> ApiResult<Reply> {
    let tags = sim.with_project(&p, |proj, _| Ok(proj.project_tags(kind)))?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::ProjectTagsResponse {
            tags,
            request_id: None,
        },
    ))
}

async fn filter(
    sim: Sim,
    kind: TagKind,
    p: String,
    q: Option<String>,
    body: Bytes,
    count: bool,
) -> ApiResult<Reply> {
    let req: m::FilterResourcesRequest = parse_body(&body)?;
    let mut limit = 1000usize;
    let mut offset = 0usize;
    for (k, v) in query_pairs(q.as_deref()) {
        let n: usize = v.parse().map_err(|_| {
            ApiError::invalid(format!("query parameter {k} {v:?} must be an integer"))
        })?;
        match k.as_str() {
            "limit" if (1..=1000).contains(&n) => limit = n,
            "limit" => {
                return Err(ApiError::invalid(format!(
                    "limit {n} must be between 1 and 1000"
                )))
            }
            "offset" => offset = n,
            _ => {}
        }
    }
    let (resources, total) = sim.with_project(&p, |proj, _| {
        Ok(proj.filter_resources(kind, &req, limit, offset))
    })?;
    Ok(Reply::json(
        StatusCode::OK,
        &m::FilterResourcesResponse {
            resources: (!count).then_some(resources),
            total_count: Some(total),
            request_id: None,
        },
    ))
}

/// Routes for one resource type; `param` is the id parameter name the type's own routes use.
fn routes_for(s: &Sim, rt: &str, param: &str, kind: TagKind) -> Router<Sim> {
    let base = format!("/v5/{{project_id}}/{rt}");
    Router::new()
        .route(
            &format!("{base}/{{{param}}}/tags/create"),
            op(
                s,
                "BatchCreateResourceTags",
                post(
                    move |State(sim): State<Sim>,
                          Path((p, id)): Path<(String, String)>,
                          b: Bytes| create(sim, kind, p, id, b),
                ),
            ),
        )
        .route(
            &format!("{base}/{{{param}}}/tags/delete"),
            op(
                s,
                "BatchDeleteResourceTags",
                post(
                    move |State(sim): State<Sim>,
                          Path((p, id)): Path<(String, String)>,
                          b: Bytes| remove(sim, kind, p, id, b),
                ),
            ),
        )
        .route(
            &format!("{base}/{{{param}}}/tags"),
            op(
                s,
                "ShowResourceTags",
                get(
                    move |State(sim): State<Sim>, Path((p, id)): Path<(String, String)>| {
                        of_resource(sim, kind, p, id)
                    },
                ),
            ),
        )
        .route(
            &format!("{base}/tags"),
            op(
                s,
                "ListProjectTags",
                get(move |State(sim): State<Sim>, Path(p): Path<String>| of_project(sim, kind, p)),
            ),
        )
        .route(
            &format!("{base}/resource-instances/filter"),
            op(
                s,
                "ListResourcesByTags",
                post(
                    move |State(sim): State<Sim>,
                          Path(p): Path<String>,
                          RawQuery(q): RawQuery,
                          b: Bytes| filter(sim, kind, p, q, b, false),
                ),
            ),
        )
        .route(
            &format!("{base}/resource-instances/count"),
            op(
                s,
                "CountResourcesByTags",
                post(
                    move |State(sim): State<Sim>,
                          Path(p): Path<String>,
                          RawQuery(q): RawQuery,
                          b: Bytes| filter(sim, kind, p, q, b, true),
                ),
            ),
        )
}

/// Tag routes of the three resource types.
pub fn router(s: &Sim) -> Router<Sim> {
    Router::new()
        .merge(routes_for(s, "vpn-gateway", "vgw_id", TagKind::Gateway))
        .merge(routes_for(
            s,
            "customer-gateway",
            "customer_gateway_id",
            TagKind::CustomerGateway,
        ))
        .merge(routes_for(
            s,
            "vpn-connection",
            "vpn_connection_id",
            TagKind::Connection,
        ))
}
