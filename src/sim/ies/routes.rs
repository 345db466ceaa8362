//! The IES API routes (paths as in every capture, under `/rest`) and their pipeline:
//! count the call, check the tokens, inject faults, run.
//!
//! | Route | Operation name | Answer |
//! |---|---|---|
//! | `GET /rest/catalog/v1/servicedefs` | `ListServiceDefinitions` | 200 `{currentPage, pageSize, totalNum, totalPageNum, data}` |
//! | `GET /rest/catalog/v1/servicedefs/{id}/details` | `ShowServiceDefinitionDetails` | 200 definition + `templates`; 404 |
//! | `POST /rest/servicemanager/v1/services` | `CreateService` | 202 `{"service": {service_id, operation_id}}` |
//! | `GET /rest/servicemanager/v1/services` | `ListServices` | 200 `{"services": [...]}` (no parameters) |
//! | `GET /rest/servicemanager/v1/services/{id}` | `ShowService` | 200 `{"service": {...}}`; 404 |
//! | `PUT /rest/servicemanager/v1/services/{id}` | `UpdateService` | 202 `{"operation_id"}`; 404; 409 while an operation runs |
//! | `DELETE /rest/servicemanager/v1/services/{id}` | `DeleteService` | 202 `{"operation_id"}`; 404 |
//! | `GET /rest/cloudvpnwatch/v1/traffic/connections/{name}/{metric}` | `ShowConnectionTraffic` | 200 `{"metric": {"datas": [...]}}` |
//!
//! With [`AnswerStyle::Schemas`] the create and delete answers use the schema wrappers and the
//! update answers `{}`. 202 answers carry `Location: /rest/servicemanager/v1/services/{id}`
//! (ASSUMPTION: the deck says `Location` names the task but documents no task API, so the
//! simulator points at the instance, which is what a client polls). A connection with no live
//! line answers an empty series (ASSUMPTION).
use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::config::{AnswerStyle, DefinitionConfig};
use super::errors::{IesError, IesResult};
use super::traffic::{format_value, LineModel, SeriesQuery};
use super::IesSim;
use crate::cloud::ies::ops;
use crate::cloud::model::ies::{
    Direction, Indicator, Metric, OperationAccepted, ServiceDefinition, ServiceRequest,
    ServiceTemplate, TemplateType, TimeDimension,
};
use crate::sim::faults::FaultKind;
use crate::sim::server::{lock, ConnKill, MAX_BODY};

/// The project label fault rules match for IES calls.
pub const FAULT_PROJECT: &str = "ies";

#[derive(Clone)]
struct OpState {
    sim: IesSim,
    op: &'static str,
}

/// Whether the request carries an accepted `X-Auth-Token` (and bearer token, when required).
fn authenticate(sim: &IesSim, headers: &HeaderMap) -> IesResult<()> {
    let cfg = &sim.initial;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if !cfg.auth_tokens.is_empty() {
        match header("x-auth-token") {
            None | Some("") => {
                return Err(IesError::unauthorized(
                    "X-Auth-Token is missing: send the tenant token",
                ))
            }
            Some(t) if cfg.auth_tokens.iter().any(|a| a.expose() == t) => {}
            Some(_) => {
                return Err(IesError::unauthorized(
                    "the X-Auth-Token is not valid or has expired",
                ))
            }
        }
    }
    if !cfg.bearer_tokens.is_empty() {
        let bearer = header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        match bearer {
            Some(b) if cfg.bearer_tokens.iter().any(|a| a.expose() == b) => {}
            _ => {
                return Err(IesError::unauthorized(
                    "Authorization: Bearer is missing or not valid",
                ))
            }
        }
    }
    Ok(())
}

async fn pipeline(State(st): State<OpState>, req: Request, next: Next) -> Response {
    let OpState { sim, op } = st;
    lock(&sim.counters).call(op);
    let count = |resp: Response| {
        lock(&sim.counters).status(op, resp.status().as_str());
        resp
    };
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return count(
                IesError::invalid(format!("the request body is larger than {MAX_BODY} bytes"))
                    .into_response(),
            )
        }
    };
    if let Err(e) = authenticate(&sim, &parts.headers) {
        return count(e.into_response());
    }
    let fault = lock(&sim.faults).decide(op, FAULT_PROJECT);
    if let Some(f) = fault {
        lock(&sim.counters).fault(op, f.name());
        tracing::debug!(op, fault = f.name(), "injecting IES fault");
        match f {
            FaultKind::Throttle { retry_after_secs } => {
                return count(IesError::throttled(retry_after_secs).into_response())
            }
            FaultKind::ServerError => {
                return count(IesError::server_error("injected fault").into_response())
            }
            FaultKind::Busy => return count(IesError::busy().into_response()),
            FaultKind::Latency { ms } | FaultKind::Timeout { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await
            }
            FaultKind::DropResponse | FaultKind::CommitThen504 => {}
        }
    }
    let kill = parts
        .extensions
        .get::<ConnectInfo<ConnKill>>()
        .map(|c| c.0.clone());
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    match fault {
        Some(FaultKind::DropResponse) => {
            lock(&sim.counters).status(op, "dropped");
            if let Some(k) = kill {
                k.kill();
            }
            resp
        }
        Some(FaultKind::CommitThen504) => count(StatusCode::GATEWAY_TIMEOUT.into_response()),
        _ => count(resp),
    }
}

fn op(sim: &IesSim, op: &'static str, route: MethodRouter<IesSim>) -> MethodRouter<IesSim> {
    route.layer(middleware::from_fn_with_state(
        OpState {
            sim: sim.clone(),
            op,
        },
        pipeline,
    ))
}

/// The API routes (state still to be given).
pub fn router(sim: &IesSim) -> Router<IesSim> {
    Router::new()
        .route(
            "/rest/catalog/v1/servicedefs",
            op(
                sim,
                ops::LIST_SERVICE_DEFINITIONS.name,
                get(list_definitions),
            ),
        )
        .route(
            "/rest/catalog/v1/servicedefs/{id}/details",
            op(
                sim,
                ops::SHOW_SERVICE_DEFINITION.name,
                get(definition_details),
            ),
        )
        .route(
            "/rest/servicemanager/v1/services",
            op(sim, ops::LIST_SERVICES.name, get(list_services)).merge(op(
                sim,
                ops::CREATE_SERVICE.name,
                axum::routing::post(create_service),
            )),
        )
        .route(
            "/rest/servicemanager/v1/services/{id}",
            op(sim, ops::SHOW_SERVICE.name, get(show_service))
                .merge(op(
                    sim,
                    ops::UPDATE_SERVICE.name,
                    axum::routing::put(update_service),
                ))
                .merge(op(
                    sim,
                    ops::DELETE_SERVICE.name,
                    axum::routing::delete(delete_service),
                )),
        )
        .route(
            "/rest/cloudvpnwatch/v1/traffic/connections/{name}/{metric}",
            op(sim, ops::SHOW_TRAFFIC.name, get(traffic)),
        )
        .route("/rest/{*rest}", any(|| async { IesError::no_such_api() }))
}

/// The wire view of a catalog entry; `details` adds the package and templates (and `[]`
/// categories, as the deck's details call shows; the list shows `null`).
pub fn definition_view(d: &DefinitionConfig, details: bool) -> ServiceDefinition {
    let mut v = ServiceDefinition::new(d.id.clone());
    v.name = Some(d.name.clone());
    v.description = Some(d.description.clone());
    v.categories = details.then(Vec::new);
    v.created_at = Some(1_493_948_644_546);
    v.creator = Some("om_team".into());
    v.domain = Some("stack".into());
    v.format = Some("JSON".into());
    v.format_version = Some("2017-05-5".into());
    v.offline_at = Some(0);
    v.online_at = Some(0);
    v.publish_tenant_type = Some(vec!["om_team".into(), "op_tenant".into()]);
    v.ref_count = Some(0);
    v.service_type = Some("service".into());
    v.status = Some("active".into());
    v.system_def = Some(false);
    v.version = Some(d.version.clone());
    if details {
        v.pkg_file_name = Some(format!("{}_{}.zip", d.name, d.version.to_uppercase()));
        v.templates = Some(
            d.templates
                .iter()
                .map(|t| ServiceTemplate {
                    id: t.id.clone(),
                    name: Some(t.name.clone()),
                    type_: Some(TemplateType::parse(&t.type_)),
                    url: Some(format!(
                        "/rest/catalog/v1/servicedefs/{}/templates/{}",
                        d.id, t.id
                    )),
                })
                .collect(),
        );
    }
    v
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn list_definitions(State(sim): State<IesSim>) -> Response {
    let defs: Vec<ServiceDefinition> = sim.with_world(|w, _| {
        w.catalog
            .iter()
            .map(|d| definition_view(d, false))
            .collect()
    });
    let mut data = to_json(&defs);
    // The deck's list shows `"categories": null`.
    if let Value::Array(items) = &mut data {
        for i in items {
            if let Value::Object(o) = i {
                o.insert("categories".into(), Value::Null);
            }
        }
    }
    let n = defs.len();
    Json(json!({
        "currentPage": 0,
        "pageSize": n.max(1),
        "totalNum": n,
        "totalPageNum": 1,
        "data": data,
    }))
    .into_response()
}

async fn definition_details(
    State(sim): State<IesSim>,
    Path(id): Path<String>,
) -> IesResult<Json<Value>> {
    sim.with_world(|w, _| {
        w.catalog
            .iter()
            .find(|d| d.id == id)
            .map(|d| Json(to_json(&definition_view(d, true))))
            .ok_or_else(|| IesError::definition_not_found(&id))
    })
}

fn parse_request(body: &Bytes) -> IesResult<ServiceRequest> {
    serde_json::from_slice(body).map_err(|e| {
        // Serde's messages may quote values; keep only the category and position.
        let what = if e.is_syntax() || e.is_eof() {
            "not valid JSON"
        } else {
            "not a service request"
        };
        IesError::invalid(format!(
            "the request body is {what} (line {} column {}): send {{\"onfailure\": \"rollback\", \"service\": {{...}}}}",
            e.line(),
            e.column()
        ))
    })
}

fn accepted(style: AnswerStyle, kind: &str, a: &OperationAccepted, service_id: &str) -> Response {
    let body = match (style, kind) {
        (AnswerStyle::Examples, "create") => json!({"service": a}),
        (AnswerStyle::Schemas, "create") => json!({"createServiceResponse": a}),
        (AnswerStyle::Schemas, "delete") => json!({"deleteServiceResponse": a}),
        (AnswerStyle::Schemas, _) => json!({}),
        (AnswerStyle::Examples, _) => to_json(a),
    };
    let mut resp = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/rest/servicemanager/v1/services/{service_id}"))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn create_service(State(sim): State<IesSim>, body: Bytes) -> IesResult<Response> {
    let req = parse_request(&body)?;
    sim.with_world(|w, now| {
        let a = w.store.create(&req, &w.catalog, &w.delays, now)?;
        let id = a.service_id.clone().unwrap_or_default();
        Ok(accepted(w.answers, "create", &a, &id))
    })
}

async fn list_services(State(sim): State<IesSim>) -> Json<Value> {
    sim.with_world(|w, _| {
        let list: Vec<Value> = w
            .store
            .services
            .values()
            .map(|s| to_json(&s.view(&w.tenant, false)))
            .collect();
        Json(json!({ "services": list }))
    })
}

async fn show_service(State(sim): State<IesSim>, Path(id): Path<String>) -> IesResult<Json<Value>> {
    sim.with_world(|w, _| {
        let s = w.store.get(&id)?;
        Ok(Json(json!({"service": s.view(&w.tenant, true)})))
    })
}

async fn update_service(
    State(sim): State<IesSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> IesResult<Response> {
    let req = parse_request(&body)?;
    sim.with_world(|w, now| {
        let a = w.store.update(&id, &req, &w.catalog, &w.delays, now)?;
        Ok(accepted(w.answers, "update", &a, &id))
    })
}

async fn delete_service(State(sim): State<IesSim>, Path(id): Path<String>) -> IesResult<Response> {
    sim.with_world(|w, now| {
        let a = w.store.delete(&id, &w.delays, now)?;
        Ok(accepted(w.answers, "delete", &a, &id))
    })
}

fn required<'a>(q: &'a BTreeMap<String, String>, key: &str) -> IesResult<&'a str> {
    q.get(key)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| IesError::invalid(format!("query parameter {key} is required")))
}

fn epoch(q: &BTreeMap<String, String>, key: &str) -> IesResult<i64> {
    required(q, key)?
        .trim()
        .parse::<i64>()
        .map_err(|_| IesError::invalid(format!("{key} must be UTC epoch seconds")))
}

fn series_query(metric: &str, q: &BTreeMap<String, String>) -> IesResult<SeriesQuery> {
    let metric = Metric::parse(metric);
    if !metric.is_known() {
        return Err(IesError::invalid(format!(
            "unknown metric {metric}; use traffic-rate or bandwidth-utilization"
        )));
    }
    let direction = Direction::parse(required(q, "direction")?);
    if !direction.is_known() {
        return Err(IesError::invalid("direction must be inbound or outbound"));
    }
    let timedim = TimeDimension::parse(required(q, "timedim")?);
    if !timedim.is_known() {
        return Err(IesError::invalid("timedim must be minute or hour"));
    }
    let indicator = match q.get("indicator") {
        None => Indicator::Max,
        Some(i) => {
            let i = Indicator::parse(i);
            if !i.is_known() {
                return Err(IesError::invalid("indicator must be max, min or avg"));
            }
            i
        }
    };
    let start = epoch(q, "starttime")?;
    let end = epoch(q, "endtime")?;
    if start > end {
        return Err(IesError::invalid("starttime must not be after endtime"));
    }
    Ok(SeriesQuery {
        metric,
        direction,
        timedim,
        indicator,
        start,
        end,
    })
}

async fn traffic(
    State(sim): State<IesSim>,
    Path((name, metric)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> IesResult<Json<Value>> {
    let query = series_query(&metric, &q)?;
    sim.with_world(|w, now| {
        let points = match w.store.by_connection(&name) {
            None => Vec::new(),
            Some(service) => LineModel {
                service,
                profile: w.profiles.get(&name),
                cfg: &w.traffic,
            }
            .series(&query, now),
        };
        let datas: Vec<Value> = points
            .into_iter()
            .map(|(t, v)| json!({"time": t, "value": format_value(v)}))
            .collect();
        Ok(Json(json!({"metric": {"datas": datas}})))
    })
}
