//! The admin API under `/_sim`: what tests and demos use to look behind the cloud's back.
//!
//! It is not signature-checked, and no API path routes here (API paths start with `/v5`,
//! `/v5.1` or `/v3`). Answers are JSON; errors are `{"error": "..."}` with 400 or 404.
//!
//! | Call | Does |
//! |---|---|
//! | `GET /_sim/health` | `{"status":"ok"}` |
//! | `POST /_sim/reset` | back to the starting configuration (resources, worlds, delays, faults, counters, tokens) |
//! | `GET /_sim/state` | every project: world and all resources, with pending transitions and PSK hashes (leak checks) |
//! | `GET /_sim/projects/{p}` | the same for one project |
//! | `PUT /_sim/world` | load a world into every project: a world, or `{default, projects}` as in `--world` |
//! | `GET`/`PUT /_sim/projects/{p}/world` | read / replace a project's world (resources are kept) |
//! | `PATCH /_sim/projects/{p}/world/eips/{id}` | JSON merge patch of one EIP (e.g. `{"frozen": true}`) |
//! | `PATCH /_sim/projects/{p}/{kind}/{id}` | JSON merge patch of a resource's stored wire model (drift) |
//! | `DELETE /_sim/projects/{p}/{kind}/{id}` | remove a resource at once (drift) |
//! | `POST /_sim/projects/{p}/{kind}/{id}/status` | `{"status": "ERROR"}`: force a state (pending transition dropped; a gateway's upgrade job follows its upgrade states) |
//! | `GET`/`DELETE /_sim/counters` | call counters per operation (`operations`) and per project and operation (`by_project`) / reset them |
//! | `GET`/`PUT /_sim/wall-clock` | the server's wall clock / move it off the machine's: `{"skew_seconds": 1200}` |
//! | `GET`/`PUT`/`POST`/`DELETE /_sim/faults` | read / replace (`{seed, rules}`) / add one rule / clear |
//! | `GET`/`PUT /_sim/delays` | read / change delays (given fields only, e.g. `{"gateway_create": "10s"}`) |
//! | `GET /_sim/clock`, `POST /_sim/clock/advance` | read the simulated time / move a manual clock (`{"by": "30s"}`) |
//! | `POST /_sim/tokens/expire` | make every issued IAM token expire |
//!
//! `{kind}` is one of `vpn-gateways`, `customer-gateways`, `vpn-connections`,
//! `connection-monitors`, `jobs`.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::clock::api_time;
use super::config::{parse_duration, Delays};
use super::faults::{FaultConfig, FaultRule};
use super::server::{lock, Sim};
use super::state::Project;
use super::world::{Eip, World, WorldFile};
use crate::cloud::model as m;

/// An admin API error: `{"error": "..."}`.
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

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("made an object above");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The admin view of one project.
fn project_view(p: &Project) -> Value {
    let gateways: Vec<Value> = p
        .gateways
        .values()
        .map(|g| {
            json!({
                "vpn_gateway": g.gw,
                "eip_ids": g.eip_ids,
                "activated": g.activated,
                "created": api_time(g.created),
                "pending": g.pending,
            })
        })
        .collect();
    let connections: Vec<Value> = p
        .connections
        .values()
        .map(|c| {
            json!({
                "vpn_connection": c.conn,
                "psk_sha256": c.psk_sha256(),
                "created": api_time(c.created),
                "pending": c.pending,
            })
        })
        .collect();
    let cgws: Vec<Value> = p
        .customer_gateways
        .values()
        .map(|c| json!({"customer_gateway": c.cgw, "created": api_time(c.created)}))
        .collect();
    let monitors: Vec<Value> = p
        .monitors
        .values()
        .map(|mo| json!({"connection_monitor": mo.monitor, "pending": mo.pending}))
        .collect();
    let jobs: Vec<Value> = p.jobs.values().map(|j| json!({"job": j.job})).collect();
    json!({
        "project_id": p.id,
        "vpn_gateways": gateways,
        "customer_gateways": cgws,
        "vpn_connections": connections,
        "connection_monitors": monitors,
        "jobs": jobs,
        "world": p.world,
    })
}

fn with_project<R>(
    sim: &Sim,
    id: &str,
    f: impl FnOnce(&mut Project) -> Result<R, AdminError>,
) -> Result<R, AdminError> {
    let now = sim.clock.now();
    let mut store = lock(&sim.store);
    let p = store
        .projects
        .get_mut(id)
        .ok_or_else(|| missing(format!("project {id} is not served by this simulator")))?;
    p.advance(now);
    f(p)
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn reset(State(sim): State<Sim>) -> Json<Value> {
    sim.reset();
    Json(json!({"reset": true}))
}

async fn state(State(sim): State<Sim>) -> Json<Value> {
    let now = sim.clock.now();
    let mut store = lock(&sim.store);
    let projects: Vec<Value> = store
        .projects
        .values_mut()
        .map(|p| {
            p.advance(now);
            project_view(p)
        })
        .collect();
    Json(json!({ "now": api_time(now), "projects": projects }))
}

async fn project(State(sim): State<Sim>, Path(p): Path<String>) -> AdminResult {
    with_project(&sim, &p, |proj| Ok(Json(project_view(proj))))
}

async fn get_world(State(sim): State<Sim>, Path(p): Path<String>) -> AdminResult {
    with_project(&sim, &p, |proj| Ok(Json(to_value(&proj.world))))
}

async fn put_world(
    State(sim): State<Sim>,
    Path(p): Path<String>,
    Json(body): Json<Value>,
) -> AdminResult {
    let world: World = from_value(body, "world")?;
    world.check().map_err(|e| bad(e.to_string()))?;
    with_project(&sim, &p, |proj| {
        proj.world = world;
        Ok(Json(to_value(&proj.world)))
    })
}

async fn put_all_worlds(State(sim): State<Sim>, Json(body): Json<Value>) -> AdminResult {
    let text = serde_json::to_string(&body).unwrap_or_default();
    let file = WorldFile::parse(&text, "request.json").map_err(|e| bad(e.to_string()))?;
    let now = sim.clock.now();
    let mut store = lock(&sim.store);
    let mut loaded = Vec::new();
    for (id, p) in store.projects.iter_mut() {
        p.advance(now);
        if let Some(w) = file.projects.get(id).or(file.default.as_ref()) {
            p.world = w.clone();
            loaded.push(id.clone());
        }
    }
    Ok(Json(json!({ "loaded": loaded })))
}

async fn patch_eip(
    State(sim): State<Sim>,
    Path((p, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> AdminResult {
    with_project(&sim, &p, |proj| {
        let mut e = proj
            .world
            .eip_mut(&id)
            .ok_or_else(|| missing(format!("EIP {id} not found")))?;
        let mut v = to_value(&*e);
        merge_patch(&mut v, &body);
        let new: Eip = from_value(v, "EIP")?;
        if new.id != id {
            return Err(bad("the id of an EIP cannot change"));
        }
        *e = new;
        Ok(Json(to_value(&*e)))
    })
}

fn patched<T: Serialize + DeserializeOwned>(
    cur: &T,
    patch: &Value,
    id: &str,
    what: &str,
) -> Result<T, AdminError> {
    let mut v = to_value(cur);
    merge_patch(&mut v, patch);
    if v.get("id").and_then(Value::as_str) != Some(id) {
        return Err(bad(format!("the id of a {what} cannot change")));
    }
    from_value(v, what)
}

async fn patch_resource(
    State(sim): State<Sim>,
    Path((p, kind, id)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> AdminResult {
    with_project(&sim, &p, |proj| {
        let nf = || missing(format!("{kind} {id} not found"));
        let out = match kind.as_str() {
            "vpn-gateways" => {
                let g = proj.gateways.get_mut(&id).ok_or_else(nf)?;
                g.gw = patched(&g.gw, &body, &id, "vpn gateway")?;
                to_value(&g.gw)
            }
            "customer-gateways" => {
                let c = proj.customer_gateways.get_mut(&id).ok_or_else(nf)?;
                c.cgw = patched(&c.cgw, &body, &id, "customer gateway")?;
                to_value(&c.cgw)
            }
            "vpn-connections" => {
                let c = proj.connections.get_mut(&id).ok_or_else(nf)?;
                c.conn = patched(&c.conn, &body, &id, "vpn connection")?;
                to_value(&c.conn)
            }
            "connection-monitors" => {
                let mo = proj.monitors.get_mut(&id).ok_or_else(nf)?;
                mo.monitor = patched(&mo.monitor, &body, &id, "connection monitor")?;
                to_value(&mo.monitor)
            }
            "jobs" => {
                let j = proj.jobs.get_mut(&id).ok_or_else(nf)?;
                j.job = patched(&j.job, &body, &id, "job")?;
                to_value(&j.job)
            }
            other => return Err(missing(format!("unknown kind {other}"))),
        };
        Ok(Json(out))
    })
}

async fn delete_resource(
    State(sim): State<Sim>,
    Path((p, kind, id)): Path<(String, String, String)>,
) -> AdminResult {
    with_project(&sim, &p, |proj| {
        let found = match kind.as_str() {
            "vpn-gateways" => {
                let had = proj.gateways.contains_key(&id);
                proj.remove_gateway(&id);
                had
            }
            "customer-gateways" => proj.customer_gateways.remove(&id).is_some(),
            "vpn-connections" => {
                let had = proj.connections.remove(&id).is_some();
                proj.monitors
                    .retain(|_, mo| mo.monitor.vpn_connection_id.as_deref() != Some(id.as_str()));
                had
            }
            "connection-monitors" => proj.monitors.remove(&id).is_some(),
            "jobs" => proj.jobs.remove(&id).is_some(),
            other => return Err(missing(format!("unknown kind {other}"))),
        };
        if found {
            Ok(Json(json!({"deleted": id})))
        } else {
            Err(missing(format!("{kind} {id} not found")))
        }
    })
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn force_status(
    State(sim): State<Sim>,
    Path((p, kind, id)): Path<(String, String, String)>,
    Json(body): Json<StatusBody>,
) -> AdminResult {
    let now = sim.clock.now();
    with_project(&sim, &p, |proj| {
        let nf = || missing(format!("{kind} {id} not found"));
        let s = body.status.as_str();
        let unknown =
            |known: &[&str]| bad(format!("status {s:?} is not one of {}", known.join(", ")));
        match kind.as_str() {
            "vpn-gateways" => {
                let st = m::GatewayStatus::parse(s);
                if !st.is_known() {
                    return Err(unknown(m::GatewayStatus::KNOWN));
                }
                let g = proj.gateways.get_mut(&id).ok_or_else(nf)?;
                if st == m::GatewayStatus::Active {
                    g.activated = true;
                }
                g.gw.status = Some(st.clone());
                g.pending = None;
                proj.align_upgrade_job(&id, &st, now);
            }
            "vpn-connections" => {
                let st = m::ConnectionStatus::parse(s);
                if !st.is_known() {
                    return Err(unknown(m::ConnectionStatus::KNOWN));
                }
                let c = proj.connections.get_mut(&id).ok_or_else(nf)?;
                c.conn.status = Some(st);
                c.pending = None;
                c.state_since = now;
            }
            "connection-monitors" => {
                let st = m::MonitorStatus::parse(s);
                if !st.is_known() {
                    return Err(unknown(m::MonitorStatus::KNOWN));
                }
                let mo = proj.monitors.get_mut(&id).ok_or_else(nf)?;
                mo.monitor.status = Some(st);
                mo.pending = None;
            }
            "jobs" => {
                let st = m::JobStatus::parse(s);
                if !st.is_known() {
                    return Err(unknown(m::JobStatus::KNOWN));
                }
                proj.jobs.get_mut(&id).ok_or_else(nf)?.job.status = Some(st);
            }
            other => return Err(missing(format!("kind {other} has no status"))),
        }
        Ok(Json(json!({"id": id, "status": s})))
    })
}

async fn counters(State(sim): State<Sim>) -> Json<Value> {
    Json(to_value(&*lock(&sim.counters)))
}

async fn reset_counters(State(sim): State<Sim>) -> Json<Value> {
    *lock(&sim.counters) = Default::default();
    Json(json!({"reset": true}))
}

async fn get_faults(State(sim): State<Sim>) -> Json<Value> {
    Json(to_value(&lock(&sim.faults).snapshot()))
}

async fn put_faults(State(sim): State<Sim>, Json(body): Json<Value>) -> AdminResult {
    let cfg: FaultConfig = from_value(body, "fault configuration")?;
    for r in &cfg.rules {
        r.check().map_err(bad)?;
    }
    lock(&sim.faults).reset(&cfg);
    Ok(Json(to_value(&cfg)))
}

async fn add_fault(State(sim): State<Sim>, Json(body): Json<Value>) -> AdminResult {
    let rule: FaultRule = from_value(body, "fault rule")?;
    rule.check().map_err(bad)?;
    let mut f = lock(&sim.faults);
    f.add(rule);
    Ok(Json(to_value(&f.snapshot())))
}

async fn clear_faults(State(sim): State<Sim>) -> Json<Value> {
    let mut f = lock(&sim.faults);
    let seed = f.snapshot().seed;
    f.reset(&FaultConfig {
        seed,
        rules: Vec::new(),
    });
    Json(to_value(&f.snapshot()))
}

async fn get_delays(State(sim): State<Sim>) -> Json<Value> {
    Json(to_value(&*lock(&sim.delays)))
}

async fn put_delays(State(sim): State<Sim>, Json(body): Json<Value>) -> AdminResult {
    let mut d = lock(&sim.delays);
    let mut v = to_value(&*d);
    merge_patch(&mut v, &body);
    let new: Delays = from_value(v, "delays")?;
    *d = new;
    Ok(Json(to_value(&new)))
}

async fn clock(State(sim): State<Sim>) -> Json<Value> {
    Json(json!({"now": api_time(sim.clock.now()), "manual": sim.clock.is_manual()}))
}

#[derive(Deserialize)]
struct Advance {
    by: String,
}

async fn advance(State(sim): State<Sim>, Json(body): Json<Advance>) -> AdminResult {
    let by = parse_duration(&body.by).map_err(bad)?;
    if !sim.clock.advance(by) {
        return Err(bad(
            "the clock is not manual; start the simulator with a manual clock to move time",
        ));
    }
    Ok(Json(json!({"now": api_time(sim.clock.now())})))
}

/// The server's wall clock and how far it is off the machine's.
async fn wall_clock(State(sim): State<Sim>) -> Json<Value> {
    let skew = lock(&sim.wall_skew).num_seconds();
    Json(json!({"now": api_time(sim.wall_now()), "skew_seconds": skew}))
}

#[derive(Deserialize)]
struct WallClock {
    skew_seconds: i64,
}

/// Moves the server's wall clock off the machine's (negative: behind).
async fn put_wall_clock(State(sim): State<Sim>, Json(body): Json<WallClock>) -> AdminResult {
    let skew = chrono::Duration::try_seconds(body.skew_seconds)
        .ok_or_else(|| bad("skew_seconds is out of range"))?;
    *lock(&sim.wall_skew) = skew;
    Ok(wall_clock(State(sim)).await)
}

async fn expire_tokens(State(sim): State<Sim>) -> Json<Value> {
    lock(&sim.tokens).expire_all(sim.clock.now());
    Json(json!({"expired": true}))
}

/// The admin routes (nested under `/_sim`).
pub fn router() -> Router<Sim> {
    Router::new()
        .route("/health", get(health))
        .route("/reset", post(reset))
        .route("/state", get(state))
        .route("/world", axum::routing::put(put_all_worlds))
        .route("/projects/{project_id}", get(project))
        .route(
            "/projects/{project_id}/world",
            get(get_world).put(put_world),
        )
        .route(
            "/projects/{project_id}/world/eips/{eip_id}",
            patch(patch_eip),
        )
        .route(
            "/projects/{project_id}/{kind}/{id}",
            patch(patch_resource).delete(delete_resource),
        )
        .route(
            "/projects/{project_id}/{kind}/{id}/status",
            post(force_status),
        )
        .route("/counters", get(counters).delete(reset_counters))
        .route(
            "/faults",
            get(get_faults)
                .put(put_faults)
                .post(add_fault)
                .delete(clear_faults),
        )
        .route("/delays", get(get_delays).put(put_delays))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/tokens/expire", post(expire_tokens))
        .route("/wall-clock", get(wall_clock).put(put_wall_clock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }
}
