//! The IES admin API under `/_sim/ies`: what tests and demos use to look behind the cloud's
//! back. Not authenticated. Answers are JSON; errors are `{"error": "..."}` with 400 or 404.
//!
//! | Call | Does |
//! |---|---|
//! | `GET /_sim/ies/state` | now, catalog, every service (with its pending operation and bandwidth history), profiles, delays |
//! | `POST /_sim/ies/reset` | back to the starting configuration |
//! | `GET`/`PUT /_sim/ies/catalog` | read / replace the service definitions (`[DefinitionConfig]`) |
//! | `GET`/`PUT /_sim/ies/delays` | read / change operation delays (given fields only: `{"create": "2s"}`) |
//! | `GET`/`PUT /_sim/ies/traffic` | read / replace the traffic defaults (`TrafficConfig`) |
//! | `GET`/`PUT`/`DELETE /_sim/ies/traffic/{CloudVpnName}` | read (with the demand now) / set (origin = now) / remove a line's load profile |
//! | `POST /_sim/ies/services` | add a `Completed` service at once (`PresetService`) |
//! | `GET`/`PATCH`/`DELETE /_sim/ies/services/{id}` | read / change behind the API's back (`ServicePatch`: status, active_status, description, parameters) / remove at once |
//! | `GET`/`PUT /_sim/ies/fail-next` | operations scripted to fail with rollback (`{"create": 0, "update": 1, "delete": 0}`) |
//! | `GET`/`PUT`/`POST`/`DELETE /_sim/ies/faults` | read / replace (`{seed, rules}`) / add one rule / clear (operation names as in `cloud::ies::ops`) |
//! | `GET`/`DELETE /_sim/ies/counters` | calls per operation / reset them |
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::config::{check_catalog, DefinitionConfig, PresetService, TrafficConfig};
use super::services::{FailNext, ServicePatch};
use super::traffic::{ActiveProfile, LineModel, LoadProfile};
use super::IesSim;
use crate::sim::clock::api_time;
use crate::sim::faults::{FaultConfig, FaultRule};
use crate::sim::server::lock;

/// An admin error: `{"error": "..."}`.
pub struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type AdminResult = Result<Json<Value>, AdminError>;

fn bad(msg: impl Into<String>) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, msg.into())
}

fn missing(msg: impl Into<String>) -> AdminError {
    AdminError(StatusCode::NOT_FOUND, msg.into())
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn from_value<T: DeserializeOwned>(v: Value, what: &str) -> Result<T, AdminError> {
    serde_json::from_value(v).map_err(|e| bad(format!("invalid {what}: {e}")))
}

/// The admin routes (state still to be given).
pub fn router() -> Router<IesSim> {
    Router::new()
        .route("/state", get(state))
        .route("/reset", post(reset))
        .route("/catalog", get(get_catalog).put(put_catalog))
        .route("/delays", get(get_delays).put(put_delays))
        .route("/traffic", get(get_traffic).put(put_traffic))
        .route(
            "/traffic/{name}",
            get(get_profile).put(put_profile).delete(delete_profile),
        )
        .route("/services", post(add_service))
        .route(
            "/services/{id}",
            get(get_service).patch(patch_service).delete(remove_service),
        )
        .route("/fail-next", get(get_fail_next).put(put_fail_next))
        .route(
            "/faults",
            get(get_faults)
                .put(put_faults)
                .post(add_fault)
                .delete(clear_faults),
        )
        .route("/counters", get(get_counters).delete(clear_counters))
}

async fn state(State(sim): State<IesSim>) -> Json<Value> {
    sim.with_world(|w, now| {
        let services: Vec<Value> = w
            .store
            .services
            .values()
            .map(|s| {
                json!({
                    "service": s.view(&w.tenant, true),
                    "pending": s.pending,
                    "created": api_time(s.created),
                    "bandwidth_history": s.bandwidth_history.iter()
                        .map(|(t, b)| json!({"at": api_time(*t), "bandwidth": b}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        Json(json!({
            "now": api_time(now),
            "tenant": w.tenant,
            "catalog": w.catalog,
            "services": services,
            "profiles": w.profiles,
            "delays": w.delays,
            "traffic": w.traffic,
            "fail_next": w.store.fail_next,
            "answers": w.answers,
        }))
    })
}

async fn reset(State(sim): State<IesSim>) -> Json<Value> {
    sim.reset();
    Json(json!({"reset": true}))
}

async fn get_catalog(State(sim): State<IesSim>) -> Json<Value> {
    sim.with_world(|w, _| Json(to_value(&w.catalog)))
}

async fn put_catalog(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    let catalog: Vec<DefinitionConfig> = from_value(body, "catalog")?;
    check_catalog(&catalog).map_err(bad)?;
    sim.with_world(|w, _| {
        w.catalog = catalog;
        Ok(Json(to_value(&w.catalog)))
    })
}

async fn get_delays(State(sim): State<IesSim>) -> Json<Value> {
    sim.with_world(|w, _| Json(to_value(&w.delays)))
}

async fn put_delays(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    sim.with_world(|w, _| {
        let mut current = to_value(&w.delays);
        crate::sim::admin::merge_patch(&mut current, &body);
        w.delays = from_value(current, "delays")?;
        Ok(Json(to_value(&w.delays)))
    })
}

async fn get_traffic(State(sim): State<IesSim>) -> Json<Value> {
    sim.with_world(|w, _| Json(to_value(&w.traffic)))
}

async fn put_traffic(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    let t: TrafficConfig = from_value(body, "traffic settings")?;
    t.check().map_err(bad)?;
    sim.with_world(|w, _| {
        w.traffic = t;
        Ok(Json(to_value(&w.traffic)))
    })
}

async fn get_profile(State(sim): State<IesSim>, Path(name): Path<String>) -> AdminResult {
    sim.with_world(|w, now| {
        let profile = w.profiles.get(&name);
        let line = w.store.by_connection(&name);
        if profile.is_none() && line.is_none() {
            return Err(missing(format!("no load profile and no line named {name}")));
        }
        let demand_mbps = line.map(|s| {
            LineModel {
                service: s,
                profile,
                cfg: &w.traffic,
            }
            .demand_bps(now)
                / 1.0e6
        });
        Ok(Json(json!({
            "profile": profile,
            "demand_mbps_now": demand_mbps,
            "bandwidth": line.map(|s| s.bandwidth()),
        })))
    })
}

async fn put_profile(
    State(sim): State<IesSim>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> AdminResult {
    let profile: LoadProfile = from_value(body, "load profile")?;
    profile.check().map_err(bad)?;
    sim.with_world(|w, now| {
        let active = ActiveProfile {
            profile,
            origin: now,
        };
        let v = to_value(&active);
        w.profiles.insert(name, active);
        Ok(Json(v))
    })
}

async fn delete_profile(State(sim): State<IesSim>, Path(name): Path<String>) -> AdminResult {
    sim.with_world(|w, _| match w.profiles.remove(&name) {
        Some(_) => Ok(Json(json!({"deleted": name}))),
        None => Err(missing(format!("no load profile for {name}"))),
    })
}

async fn add_service(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    let preset: PresetService = from_value(body, "service")?;
    sim.with_world(|w, now| {
        w.store.add_preset(&preset, now).map_err(bad)?;
        let s = w
            .store
            .get(&preset.service_id)
            .map_err(|e| missing(e.message))?;
        Ok(Json(json!({"service": s.view(&w.tenant, true)})))
    })
}

async fn get_service(State(sim): State<IesSim>, Path(id): Path<String>) -> AdminResult {
    sim.with_world(|w, _| {
        let s = w.store.get(&id).map_err(|e| missing(e.message))?;
        Ok(Json(json!({
            "service": s.view(&w.tenant, true),
            "pending": s.pending,
            "bandwidth_history": s.bandwidth_history.iter()
                .map(|(t, b)| json!({"at": api_time(*t), "bandwidth": b}))
                .collect::<Vec<_>>(),
        })))
    })
}

async fn patch_service(
    State(sim): State<IesSim>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> AdminResult {
    let patch: ServicePatch = from_value(body, "service patch")?;
    sim.with_world(|w, now| {
        w.store
            .patch(&id, &patch, now)
            .map_err(|e| missing(e.message))?;
        let s = w.store.get(&id).map_err(|e| missing(e.message))?;
        Ok(Json(json!({"service": s.view(&w.tenant, true)})))
    })
}

async fn remove_service(State(sim): State<IesSim>, Path(id): Path<String>) -> AdminResult {
    sim.with_world(|w, _| match w.store.services.remove(&id) {
        Some(_) => Ok(Json(json!({"deleted": id}))),
        None => Err(missing(format!("service {id} does not exist"))),
    })
}

async fn get_fail_next(State(sim): State<IesSim>) -> Json<Value> {
    sim.with_world(|w, _| Json(to_value(&w.store.fail_next)))
}

async fn put_fail_next(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    let f: FailNext = from_value(body, "fail-next counts")?;
    sim.with_world(|w, _| {
        w.store.fail_next = f;
        Ok(Json(to_value(&w.store.fail_next)))
    })
}

async fn get_faults(State(sim): State<IesSim>) -> Json<Value> {
    Json(to_value(&lock(&sim.faults).snapshot()))
}

async fn put_faults(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    let cfg: FaultConfig = from_value(body, "fault setup")?;
    for r in &cfg.rules {
        r.check().map_err(bad)?;
    }
    let mut f = lock(&sim.faults);
    f.reset(&cfg);
    Ok(Json(to_value(&f.snapshot())))
}

async fn add_fault(State(sim): State<IesSim>, Json(body): Json<Value>) -> AdminResult {
    let rule: FaultRule = from_value(body, "fault rule")?;
    rule.check().map_err(bad)?;
    let mut f = lock(&sim.faults);
    f.add(rule);
    Ok(Json(to_value(&f.snapshot())))
}

async fn clear_faults(State(sim): State<IesSim>) -> Json<Value> {
    let mut f = lock(&sim.faults);
    let seed = f.snapshot().seed;
    f.reset(&FaultConfig {
        seed,
        rules: Vec::new(),
    });
    Json(to_value(&f.snapshot()))
}

async fn get_counters(State(sim): State<IesSim>) -> Json<Value> {
    Json(to_value(&*lock(&sim.counters)))
}

async fn clear_counters(State(sim): State<IesSim>) -> Json<Value> {
    *lock(&sim.counters) = Default::default();
    Json(json!({"cleared": true}))
}
