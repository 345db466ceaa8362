//! `CloudVpnService` reconciler: a CloudVPN service instance of CloudOpera IES, with optional
//! bandwidth autoscaling ([`autoscaler`](super::autoscaler)).
//!
//! IES operations are asynchronous (reference `cloudopera-ies-api.md` §7.4): create, update and
//! delete answer 202 with an `operation_id`, and no operation API exists. So the reconciler:
//! - **creates** once: it looks the instance up by the id in status, else the id to adopt in
//!   spec, else by name (list, then GET each match and compare `CloudVpnName`), so a lost
//!   create answer or a crash before the status write never makes a duplicate; the service id
//!   is recorded in status right after the 202;
//! - **waits** by polling GET until `status == Completed` *and* the line shows the bandwidth it
//!   asked for (`status.targetBandwidth`): right after a PUT the status may still read
//!   `Completed`, so a mismatch is only called a failed (rolled back) update after a grace
//!   period; any other status value counts as in progress (the failure values are
//!   undocumented; values reading like a failure are reported as `CloudFault`);
//! - **changes** the bandwidth (and description) with a PUT (`action: update`) when the spec,
//!   a manual change, drift or the autoscaler asks for it; one change at a time;
//! - **reports drift** of fields IES cannot change (they are immutable in the CRD too) as
//!   `Synced=False ImmutableFieldDrift`; a bandwidth changed in IES is corrected (without
//!   autoscaling) or adopted as an external change (with autoscaling);
//! - **deletes** through the finalizer and waits until GET answers 404.
//!
//! Conditions: `Ready` (the line is provisioned: `Completed`), `Synced` (the last reconcile
//! did what the spec asks, or is waiting for IES), `Scaling` (a bandwidth change runs, or why
//! not: `Stable`, `CoolingDown`, `AtLimit`, `MetricsUnavailable`).
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use super::autoscaler::{self, Action, Change, Decision, Policy, Sample};
use super::backoff::pending_requeue;
use super::clouds::IesTarget;
use super::context::{Context, Note};
use super::error::{Error, Result};
use super::events;
use super::reconciler::{mark, now, Managed, Outcome};
use crate::cloud::ies::IesClient;
use crate::cloud::model::ies::{
    param, Direction, Indicator, Metric, OnFailure, ParameterAction, ParameterSet, ServiceInstance,
    ServiceParameters, ServiceRequest, ServiceRequestBody, ServiceStatus, TimeDimension,
    TopologyList, TrafficQuery,
};
use crate::cloud::{CloudError, ErrorKind};
use crate::crd::cloud_vpn_service::{
    CloudVpnService, CloudVpnServiceSpec, CloudVpnServiceStatus, Cpe, ScalingDecision, ServiceKind,
    TrafficSample,
};
use crate::crd::common::{reasons, types, CloudSettings, ConditionStatus, ManagementPolicy};

/// How long IES may take for one operation before the condition message says so (the deck:
/// about 10 minutes for a create).
pub const OPERATION_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// How long after a PUT a `Completed` status with the old bandwidth is still taken for "not
/// started yet" rather than "rolled back".
pub const UPDATE_CONFIRM_GRACE: Duration = Duration::from_secs(60);
/// Traffic window read for `status.traffic` when autoscaling is off.
pub const TRAFFIC_WINDOW: i64 = 600;
/// Most entries kept in `status.scalingHistory`.
pub const MAX_HISTORY: usize = 10;
/// Event reason: IES finished an update but the line does not show it (the Synced condition
/// then reads `ReconcileError` with the same message).
pub const UPDATE_NOT_APPLIED: &str = "UpdateNotApplied";
/// Event reason: a bandwidth changed in IES was put back (autoscaling off).
pub const DRIFT_CORRECTED: &str = "DriftCorrected";
/// History and event reason: the user changed `spec.bandwidth`.
pub const MANUAL_CHANGE: &str = "ManualChange";
/// History reason: the bandwidth was changed in IES by someone else.
pub const EXTERNAL_CHANGE: &str = "ExternalChange";

impl Managed for CloudVpnService {
    const KIND: &'static str = "CloudVpnService";
    type Spec = CloudVpnServiceSpec;
    type Status = CloudVpnServiceStatus;

    /// IES settings are not VPN settings: the IES client comes from [`ies_target`].
    fn cloud_settings(&self) -> Option<&CloudSettings> {
        None
    }

    async fn apply(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Outcome<CloudVpnServiceStatus>> {
        let target = ies_target(&obj);
        let cloud = ctx.clouds.ies(&target).await?;
        let result = reconcile(&cloud, &obj, &ctx, chrono::Utc::now().timestamp()).await;
        forget_on_auth_failure(&ctx, &target, result.as_ref().err());
        result
    }

    async fn cleanup(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Vec<Note>> {
        let target = ies_target(&obj);
        let cloud = ctx.clouds.ies(&target).await?;
        let result = delete(&cloud, &obj, &ctx).await;
        forget_on_auth_failure(&ctx, &target, result.as_ref().err());
        result
    }
}

/// The IES endpoint and credentials Secret of an object (`spec.cloud`).
pub fn ies_target(obj: &CloudVpnService) -> IesTarget {
    let ns = obj.namespace().unwrap_or_default();
    match &obj.spec.cloud {
        None => IesTarget::default(),
        Some(c) => IesTarget {
            endpoint: c.endpoint.clone(),
            credentials_secret: c
                .credentials_secret_ref
                .as_ref()
                .map(|r| (ns, r.name.clone())),
        },
    }
}

fn forget_on_auth_failure(ctx: &Context, target: &IesTarget, err: Option<&Error>) {
    if let Some(Error::Cloud(e)) = err {
        if e.kind == ErrorKind::AuthFailed {
            ctx.clouds.invalidate_ies(target);
        }
    }
}

/// A 409 from IES means another operation on the instance runs: wait, do not fail.
fn busy_to_wait(e: CloudError, ctx: &Context) -> Error {
    if e.kind == ErrorKind::Conflict {
        Error::waiting(
            reasons::CLOUD_BUSY,
            format!(
                "IES is busy with another operation on this service: {}",
                e.message
            ),
            ctx.settings.pending_requeue.max(Duration::from_secs(5)),
        )
    } else {
        e.into()
    }
}

// ----- pure helpers ------------------------------------------------------------------------

/// The default service instance name: `{namespace}_{name}_{uid[..8]}` with `.` turned into
/// `-`, at most 128 characters (collision-resistant, so lookup by name is safe).
pub fn default_service_name(namespace: &str, name: &str, uid: Option<&str>) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let suffix = uid
        .map(|u| {
            u.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(8)
                .collect::<String>()
        })
        .filter(|u| !u.is_empty())
        .map(|u| format!("_{u}"))
        .unwrap_or_default();
    let head: String = format!("{}_{}", clean(namespace), clean(name))
        .chars()
        .take(128 - suffix.len())
        .collect();
    format!("{head}{suffix}")
}

/// The service name to use: recorded in status, else `spec.serviceName`, else the default.
pub fn service_name(obj: &CloudVpnService) -> String {
    obj.status
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .or_else(|| obj.spec.service_name.clone())
        .unwrap_or_else(|| {
            default_service_name(
                &obj.namespace().unwrap_or_default(),
                &obj.name_any(),
                obj.uid().as_deref(),
            )
        })
}

/// The topology list of a kind.
pub fn topology(kind: ServiceKind) -> TopologyList {
    match kind {
        ServiceKind::Site2Site => TopologyList::Site2Site,
        ServiceKind::Site2Dc => TopologyList::Site2Dc,
    }
}

/// Every parameter the spec sends, without `action` (values as strings, reference §7.2).
pub fn desired_parameters(spec: &CloudVpnServiceSpec, bandwidth: i64) -> ParameterSet {
    let mut p = ParameterSet::default();
    p.set(param::CLOUD_VPN_NAME, spec.cloud_vpn_name.clone());
    p.set(param::BANDWIDTH, bandwidth.to_string());
    if let Some(v) = spec.vni {
        p.set(param::VNI, v.to_string());
    }
    if let Some(v) = &spec.vpc_id {
        p.set(param::VPC_ID, v.clone());
    }
    let mut cpe = |prefix: &str, c: &Option<Cpe>| {
        let Some(c) = c else { return };
        for (key, value) in [
            ("Site", &c.site),
            ("Type", &c.type_),
            ("ESN", &c.esn),
            ("Position", &c.position),
            ("POP", &c.pop),
        ] {
            if let Some(v) = value {
                p.set(&format!("{prefix}_{key}"), v.clone());
            }
        }
    };
    cpe("CPE_A", &spec.cpe_a);
    cpe("CPE_Z", &spec.cpe_z);
    if let Some(v) = &spec.cidr {
        p.set(param::CIDR, v.clone());
    }
    if let Some(v) = spec.cidr_block_size {
        p.set(param::CIDR_BLOCK_SIZE, v.to_string());
    }
    for (k, v) in &spec.extra_parameters {
        p.set(k, v.clone());
    }
    p
}

/// The create body (example shape, `action: create`).
pub fn create_request(
    spec: &CloudVpnServiceSpec,
    name: &str,
    definition_id: &str,
    template_id: &str,
) -> ServiceRequest {
    let mut line = desired_parameters(spec, spec.bandwidth);
    line.set(param::ACTION, ParameterAction::Create.as_str());
    ServiceRequest {
        onfailure: Some(OnFailure::Rollback),
        service: ServiceRequestBody {
            name: Some(name.to_string()),
            description: Some(spec.description.clone().unwrap_or_default()),
            service_definition_id: Some(definition_id.to_string()),
            template_id: Some(template_id.to_string()),
            parameters: Some(ServiceParameters::single(&topology(spec.kind), line)),
            nsd_script: None,
        },
    }
}

/// The update body of the deck's bandwidth example: the service's own name, ids and list, and
/// a partial element with `CloudVpnName`, the new `Bandwidth` and `action: update`.
pub fn update_request(
    svc: &ServiceInstance,
    spec: &CloudVpnServiceSpec,
    bandwidth: i64,
    description: &str,
) -> ServiceRequest {
    let list = svc
        .line()
        .map(|(l, _)| l)
        .unwrap_or_else(|| topology(spec.kind));
    let vpn_name = svc
        .cloud_vpn_name()
        .unwrap_or(&spec.cloud_vpn_name)
        .to_string();
    let mut line = ParameterSet::default();
    line.set(param::CLOUD_VPN_NAME, vpn_name);
    line.set(param::BANDWIDTH, bandwidth.to_string());
    line.set(param::ACTION, ParameterAction::Update.as_str());
    ServiceRequest {
        onfailure: Some(OnFailure::Rollback),
        service: ServiceRequestBody {
            name: svc.name.clone(),
            description: Some(description.to_string()),
            service_definition_id: svc.service_definition_id.clone(),
            template_id: svc.template_id.clone(),
            parameters: Some(ServiceParameters::single(&list, line)),
            nsd_script: None,
        },
    }
}

/// Fields IES cannot change that differ between the spec and the instance, as
/// `"name: spec → cloud"`. A parameter the instance does not show is not compared (IES may
/// not echo every template parameter).
pub fn immutable_drift(spec: &CloudVpnServiceSpec, svc: &ServiceInstance) -> Vec<String> {
    let mut out = Vec::new();
    let want_list = topology(spec.kind);
    match svc.line() {
        None => out.push("parameters: the instance shows no Site2SiteList or Site2DCList".into()),
        Some((list, line)) => {
            if list != want_list {
                out.push(format!("kind: {want_list} → {list}"));
            }
            for (k, v) in &desired_parameters(spec, spec.bandwidth).0 {
                if k == param::BANDWIDTH {
                    continue;
                }
                if let Some(have) = line.get(k) {
                    if have != v {
                        out.push(format!("{k}: {v} → {have}"));
                    }
                }
            }
        }
    }
    if let (Some(want), Some(have)) = (&spec.service_definition.id, &svc.service_definition_id) {
        if want != have {
            out.push(format!("serviceDefinition.id: {want} → {have}"));
        }
    }
    if let (Some(want), Some(have)) = (&spec.template_id, &svc.template_id) {
        if want != have {
            out.push(format!("templateId: {want} → {have}"));
        }
    }
    out
}

/// Where the instance is in its life cycle.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// `Completed` and nothing of ours pending.
    Idle,
    /// An operation runs (or a just-sent update has not shown yet): Ready reason and message.
    Busy(&'static str, String),
    /// The status reads like a failure.
    Failed(String),
    /// IES finished our update but the line shows another bandwidth (rolled back).
    NotApplied { wanted: i64, have: Option<i64> },
}

/// Classifies an observed instance against what the last operation wanted.
pub fn phase(svc: &ServiceInstance, prev: &CloudVpnServiceStatus, since_op: Duration) -> Phase {
    let raw = svc
        .status
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "unknown".into());
    let status = svc.status.clone().unwrap_or_else(|| "unknown".into());
    if status.is_failed() {
        return Phase::Failed(raw);
    }
    let running_reason = match prev.last_operation.as_deref() {
        Some("create") => reasons::CREATING,
        Some("delete") => reasons::DELETING,
        _ => reasons::UPDATING,
    };
    if !status.is_completed() {
        let late = if since_op > OPERATION_DEADLINE && since_op != Duration::MAX {
            format!(
                "; not Completed {} minutes after the operation was sent: check the service in IES",
                since_op.as_secs() / 60
            )
        } else {
            String::new()
        };
        return Phase::Busy(
            running_reason,
            format!("IES reports status {raw}; waiting for Completed{late}"),
        );
    }
    if let Some(wanted) = prev.target_bandwidth {
        let have = svc.bandwidth();
        if have != Some(wanted) {
            if since_op < UPDATE_CONFIRM_GRACE {
                return Phase::Busy(
                    running_reason,
                    format!("waiting for IES to show bandwidth {wanted}"),
                );
            }
            return Phase::NotApplied { wanted, have };
        }
    }
    Phase::Idle
}

/// Merged traffic: per time, the inbound and outbound rates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub time: i64,
    pub inbound: Option<f64>,
    pub outbound: Option<f64>,
}

impl Point {
    /// The higher direction.
    pub fn rate(&self) -> f64 {
        self.inbound
            .unwrap_or(0.0)
            .max(self.outbound.unwrap_or(0.0))
    }
}

/// Joins the two directions by time (sorted).
pub fn merge_directions(
    inbound: &[crate::cloud::model::ies::Sample],
    outbound: &[crate::cloud::model::ies::Sample],
) -> Vec<Point> {
    let mut map = std::collections::BTreeMap::<i64, Point>::new();
    for s in inbound {
        map.entry(s.time)
            .or_insert(Point {
                time: s.time,
                inbound: None,
                outbound: None,
            })
            .inbound = Some(s.value);
    }
    for s in outbound {
        map.entry(s.time)
            .or_insert(Point {
                time: s.time,
                inbound: None,
                outbound: None,
            })
            .outbound = Some(s.value);
    }
    map.into_values().collect()
}

fn time_of(secs: i64) -> Time {
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .map(Time)
        .unwrap_or_else(|_| now())
}

/// `status.traffic` from the newest point.
pub fn traffic_status(points: &[Point], bandwidth: Option<i64>) -> Option<TrafficSample> {
    let p = points.last()?;
    Some(TrafficSample {
        inbound_rate: p.inbound,
        outbound_rate: p.outbound,
        utilization_percent: bandwidth.map(|b| round1(autoscaler::utilization(p.rate(), b))),
        sample_time: Some(time_of(p.time)),
    })
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The history as autoscaler changes (newest first in status; order does not matter).
pub fn history_changes(history: &[ScalingDecision]) -> Vec<Change> {
    history
        .iter()
        .map(|h| Change {
            time: h.time.0.as_second(),
            from: h.from_bandwidth,
            to: h.to_bandwidth,
        })
        .collect()
}

/// Adds a decision at the front and keeps [`MAX_HISTORY`].
pub fn record(history: &mut Vec<ScalingDecision>, entry: ScalingDecision) {
    history.insert(0, entry);
    history.truncate(MAX_HISTORY);
}

/// Why the bandwidth should change, if it should.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// `spec.bandwidth` changed (no autoscaling) or a manual change (with autoscaling).
    Spec,
    /// The bandwidth was changed in IES and autoscaling is off: put it back.
    Drift,
    /// The autoscaler decided.
    Autoscale(Decision),
}

/// The bandwidth plan of an idle instance.
#[derive(Clone, Debug, PartialEq)]
pub struct BandwidthPlan {
    /// The bandwidth to have.
    pub desired: i64,
    pub cause: Option<Cause>,
    /// History entries of changes the operator follows (manual, external).
    pub followed: Vec<ScalingDecision>,
    /// The autoscaler's decision (also when it holds).
    pub decision: Option<Decision>,
    pub notes: Vec<Note>,
}

/// Pure bandwidth planning. `current` is what IES shows, `ours` whether it results from the
/// operator's last update (so it is not an external change), `samples` the merged traffic.
pub fn plan_bandwidth(
    spec: &CloudVpnServiceSpec,
    prev: &CloudVpnServiceStatus,
    current: i64,
    ours: bool,
    samples: Option<&[Sample]>,
    now_secs: i64,
) -> BandwidthPlan {
    let manual = prev.spec_bandwidth != Some(spec.bandwidth);
    let mut plan = BandwidthPlan {
        desired: current,
        cause: None,
        followed: Vec::new(),
        decision: None,
        notes: Vec::new(),
    };
    let Some(auto) = &spec.autoscaling else {
        if current != spec.bandwidth {
            plan.desired = spec.bandwidth;
            plan.cause = Some(if manual { Cause::Spec } else { Cause::Drift });
        }
        return plan;
    };
    let policy = Policy::from_spec(auto);
    let entry = |reason: &str, from: i64, to: i64, message: String| ScalingDecision {
        time: time_of(now_secs),
        from_bandwidth: from,
        to_bandwidth: to,
        utilization_percent: None,
        reason: reason.to_string(),
        message,
    };
    if manual {
        let to = spec.bandwidth.clamp(
            policy.min_bandwidth,
            policy.max_bandwidth.max(policy.min_bandwidth),
        );
        if to != current {
            let msg = format!(
                "spec.bandwidth changed to {}: applying {to} (the autoscaler resumes after its cooldown)",
                spec.bandwidth
            );
            plan.followed
                .push(entry(MANUAL_CHANGE, current, to, msg.clone()));
            plan.notes
                .push(Note::normal(MANUAL_CHANGE, "Autoscale", msg));
            plan.desired = to;
            plan.cause = Some(Cause::Spec);
        }
        return plan;
    }
    if let Some(before) = prev.current_bandwidth.filter(|b| *b != current && !ours) {
        let msg = format!(
            "the bandwidth was changed in IES from {before} to {current}; the autoscaler adopts it"
        );
        plan.followed
            .push(entry(EXTERNAL_CHANGE, before, current, msg.clone()));
        plan.notes
            .push(Note::normal(EXTERNAL_CHANGE, "Observe", msg));
    }
    let mut history = history_changes(&prev.scaling_history);
    history.extend(history_changes(&plan.followed));
    let decision = match samples {
        Some(s) => autoscaler::decide(&policy, current, s, &history, now_secs),
        None => Decision {
            action: Action::Hold,
            reason: reasons::METRICS_UNAVAILABLE,
            message: "the traffic of the line could not be read".into(),
            utilization: None,
        },
    };
    if let Some(to) = decision.target() {
        plan.desired = to;
        plan.cause = Some(Cause::Autoscale(decision.clone()));
    }
    plan.decision = Some(decision);
    plan
}

/// How often an autoscaled line is evaluated: a sixth of the window, 10-60 s.
pub fn autoscale_interval(window_seconds: i64) -> Duration {
    Duration::from_secs((window_seconds / 6).clamp(10, 60) as u64)
}

// ----- observation -------------------------------------------------------------------------

/// What observation found.
#[derive(Debug, Default)]
struct Found {
    service: Option<ServiceInstance>,
    notes: Vec<Note>,
    /// Found by name: this object created it, but its status never recorded the create.
    recovered: bool,
}

/// Finds the instance: by the id in status, else the id to adopt, else by name.
async fn observe(cloud: &IesClient, obj: &CloudVpnService, name: &str) -> Result<Found> {
    let recorded = obj.status.as_ref().and_then(|s| s.cloud_id.clone());
    let adopt = obj.spec.cloud_id.clone();
    if let Some(id) = recorded.clone().or(adopt) {
        return match cloud.get_service(&id).await {
            Ok(svc) => {
                let notes = if recorded.is_none() {
                    vec![Note::normal(
                        events::ADOPTED,
                        "Adopt",
                        format!("adopted existing CloudVPN service {id}"),
                    )]
                } else {
                    Vec::new()
                };
                Ok(Found {
                    service: Some(svc),
                    notes,
                    recovered: false,
                })
            }
            Err(e) if e.is_not_found() => Ok(Found::default()),
            Err(e) => Err(e.into()),
        };
    }
    match by_name(cloud, name, &obj.spec.cloud_vpn_name).await? {
        ByName::Ours(svc) => Ok(Found {
            notes: vec![Note::normal(
                events::RECOVERED,
                "Observe",
                format!(
                    "found CloudVPN service {} ({name}) created for this object earlier; using it instead of creating another",
                    svc.service_id
                ),
            )],
            service: Some(*svc),
            recovered: true,
        }),
        ByName::Foreign { id, vpn_name } => Err(Error::OwnershipConflict(format!(
            "an IES service named {name} exists ({id}) with CloudVpnName {vpn_name}, not {}; set spec.serviceName to another name or adopt it with spec.cloudId",
            obj.spec.cloud_vpn_name
        ))),
        ByName::None => Ok(Found::default()),
    }
}

enum ByName {
    Ours(Box<ServiceInstance>),
    Foreign { id: String, vpn_name: String },
    None,
}

/// Lists instances named `name` and GETs them (the list has no parameters) to find the one
/// whose `CloudVpnName` is ours.
async fn by_name(cloud: &IesClient, name: &str, vpn_name: &str) -> Result<ByName> {
    let mut foreign = None;
    for candidate in cloud.find_services_by_name(name).await? {
        let svc = match cloud.get_service(&candidate.service_id).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        };
        match svc.cloud_vpn_name() {
            Some(n) if n == vpn_name => return Ok(ByName::Ours(Box::new(svc))),
            other => {
                foreign = Some((svc.service_id.clone(), other.unwrap_or("").to_string()));
            }
        }
    }
    Ok(match foreign {
        Some((id, vpn_name)) => ByName::Foreign { id, vpn_name },
        None => ByName::None,
    })
}

/// The definition id and template id to create with (status, then spec, then the catalog).
async fn resolve_definition(
    cloud: &IesClient,
    spec: &CloudVpnServiceSpec,
    prev: &CloudVpnServiceStatus,
) -> Result<(String, String)> {
    if let (Some(d), Some(t)) = (&prev.service_definition_id, &prev.template_id) {
        return Ok((d.clone(), t.clone()));
    }
    let def_id = match (&spec.service_definition.id, &spec.service_definition.name) {
        (Some(id), _) => id.clone(),
        (None, Some(name)) => {
            let defs = cloud.list_service_definitions().await?.data;
            let matching: Vec<&str> = defs
                .iter()
                .filter(|d| d.name.as_deref() == Some(name.as_str()))
                .map(|d| d.service_def_id.as_str())
                .collect();
            match matching.as_slice() {
                [one] => one.to_string(),
                [] => {
                    let names: Vec<&str> = defs.iter().filter_map(|d| d.name.as_deref()).collect();
                    return Err(Error::InvalidSpec(format!(
                        "no IES service definition is named {name:?}; available: {}",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    )));
                }
                many => {
                    return Err(Error::InvalidSpec(format!(
                    "{} IES service definitions are named {name:?} ({}); set serviceDefinition.id",
                    many.len(),
                    many.join(", ")
                )))
                }
            }
        }
        (None, None) => {
            return Err(Error::InvalidSpec(
                "set serviceDefinition.id or serviceDefinition.name".into(),
            ))
        }
    };
    if let Some(t) = &spec.template_id {
        return Ok((def_id, t.clone()));
    }
    let def = cloud.get_service_definition(&def_id).await.map_err(|e| {
        if e.is_not_found() {
            Error::InvalidSpec(format!("IES service definition {def_id} does not exist"))
        } else {
            e.into()
        }
    })?;
    let templates = def.templates.unwrap_or_default();
    match templates.as_slice() {
        [one] => Ok((def_id, one.id.clone())),
        [] => Err(Error::InvalidSpec(format!(
            "IES service definition {def_id} has no template; set templateId"
        ))),
        many => Err(Error::InvalidSpec(format!(
            "IES service definition {def_id} has {} templates ({}); set templateId",
            many.len(),
            many.iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Reads both directions of the line's traffic for the last `window` seconds.
async fn read_traffic(
    cloud: &IesClient,
    vpn_name: &str,
    window: i64,
    now_secs: i64,
) -> std::result::Result<Vec<Point>, CloudError> {
    let query = |direction| TrafficQuery {
        direction,
        timedim: TimeDimension::Minute,
        starttime: now_secs - window,
        endtime: now_secs,
        indicator: Some(Indicator::Max),
    };
    let out = cloud
        .traffic(vpn_name, &Metric::TrafficRate, &query(Direction::Outbound))
        .await?
        .samples();
    let inb = cloud
        .traffic(vpn_name, &Metric::TrafficRate, &query(Direction::Inbound))
        .await?
        .samples();
    Ok(merge_directions(&inb, &out))
}

// ----- reconcile ---------------------------------------------------------------------------

fn secs_since(t: Option<&Time>, now_secs: i64) -> Duration {
    t.map(|t| Duration::from_secs(now_secs.saturating_sub(t.0.as_second()).max(0) as u64))
        .unwrap_or(Duration::MAX)
}

/// One reconcile of an object at `now_secs` (epoch seconds; injected for tests).
pub async fn reconcile(
    cloud: &IesClient,
    obj: &CloudVpnService,
    ctx: &Context,
    now_secs: i64,
) -> Result<Outcome<CloudVpnServiceStatus>> {
    let spec = &obj.spec;
    let prev = obj.status.clone().unwrap_or_default();
    let gen = obj.metadata.generation;
    let name = service_name(obj);
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let found = observe(cloud, obj, &name).await?;
    let mut prev = prev;
    if found.recovered {
        // This object created it with the spec's bandwidth; the status write was lost.
        prev.last_operation.get_or_insert_with(|| "create".into());
        prev.spec_bandwidth.get_or_insert(spec.bandwidth);
    }
    let mut notes = found.notes;
    let mut status = prev.clone();

    let Some(svc) = found.service else {
        if observe_only || spec.cloud_id.is_some() {
            let msg = match (&spec.cloud_id, &prev.cloud_id) {
                (Some(id), _) | (None, Some(id)) => {
                    format!("CloudVPN service {id} does not exist in IES")
                }
                (None, None) => "managementPolicy is Observe but spec.cloudId is not set".into(),
            };
            mark(
                &mut status.conditions,
                types::READY,
                ConditionStatus::False,
                reasons::NOT_FOUND,
                &msg,
                gen,
            );
            mark(
                &mut status.conditions,
                types::SYNCED,
                ConditionStatus::False,
                reasons::NOT_FOUND,
                &msg,
                gen,
            );
            status.cloud_state = None;
            status.active_status = None;
            return Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            });
        }
        if let Some(old) = &prev.cloud_id {
            notes.push(Note::warning(
                events::RECREATING,
                "CreateService",
                format!("CloudVPN service {old} recorded in status is gone from IES; creating a new one"),
            ));
        }
        let (def_id, template_id) = resolve_definition(cloud, spec, &prev).await?;
        let accepted = cloud
            .create_service(&create_request(spec, &name, &def_id, &template_id))
            .await?;
        let id = accepted.service_id.clone().unwrap_or_default();
        status.cloud_id = Some(id.clone());
        status.service_name = Some(name.clone());
        status.service_definition_id = Some(def_id);
        status.template_id = Some(template_id);
        status.last_operation = Some("create".into());
        status.last_operation_id = accepted.operation_id.clone();
        status.last_operation_time = Some(time_of(now_secs));
        status.target_bandwidth = Some(spec.bandwidth);
        status.spec_bandwidth = Some(spec.bandwidth);
        status.current_bandwidth = None;
        status.cloud_state = None;
        status.active_status = None;
        status.traffic = None;
        let msg = format!(
            "create of CloudVPN service {id} requested (operation {}); provisioning takes about 10 minutes",
            accepted.operation_id.as_deref().unwrap_or("unknown")
        );
        mark(
            &mut status.conditions,
            types::READY,
            ConditionStatus::False,
            reasons::CREATING,
            &msg,
            gen,
        );
        mark(
            &mut status.conditions,
            types::SYNCED,
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
            "create requested",
            gen,
        );
        mark(
            &mut status.conditions,
            types::SCALING,
            ConditionStatus::False,
            reasons::STABLE,
            "the service is being created",
            gen,
        );
        notes.push(Note::normal(
            events::CREATED,
            "CreateService",
            format!("created CloudVPN service {id} ({name}, CloudVpnName {}, bandwidth {}); waiting for Completed", spec.cloud_vpn_name, spec.bandwidth),
        ));
        return Ok(Outcome {
            status,
            requeue: ctx.settings.pending_requeue,
            notes,
        });
    };

    // The instance exists: report it.
    status.cloud_id = Some(svc.service_id.clone());
    status.service_name = svc.name.clone().or(Some(name));
    status.service_definition_id = svc
        .service_definition_id
        .clone()
        .or(prev.service_definition_id.clone());
    status.template_id = svc.template_id.clone().or(prev.template_id.clone());
    status.cloud_state = svc.status.as_ref().map(|s| s.to_string());
    status.active_status = svc.active_status.as_ref().map(|s| s.to_string());
    status.current_bandwidth = svc.bandwidth();

    let since_op = secs_since(prev.last_operation_time.as_ref(), now_secs);
    let phase = phase(&svc, &prev, since_op);
    let autoscaling = spec.autoscaling.as_ref().filter(|_| !observe_only);
    match phase {
        Phase::Busy(reason, msg) => {
            mark(
                &mut status.conditions,
                types::READY,
                ConditionStatus::False,
                reason,
                &msg,
                gen,
            );
            mark(
                &mut status.conditions,
                types::SYNCED,
                ConditionStatus::True,
                reasons::RECONCILE_SUCCESS,
                "waiting for IES to finish an operation",
                gen,
            );
            return Ok(Outcome {
                status,
                requeue: pending_requeue(
                    ctx.settings.pending_requeue,
                    since_op.min(OPERATION_DEADLINE),
                ),
                notes,
            });
        }
        Phase::Failed(raw) => {
            let msg = format!("IES reports status {raw} for CloudVPN service {}; check it in IES, or delete and recreate this object", svc.service_id);
            mark(
                &mut status.conditions,
                types::READY,
                ConditionStatus::False,
                reasons::CLOUD_FAULT,
                &msg,
                gen,
            );
            mark(
                &mut status.conditions,
                types::SYNCED,
                ConditionStatus::True,
                reasons::RECONCILE_SUCCESS,
                "",
                gen,
            );
            status.target_bandwidth = None;
            return Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            });
        }
        Phase::NotApplied { wanted, have } => {
            let have = have.map_or("none".to_string(), |h| h.to_string());
            let msg = format!("IES finished the change to bandwidth {wanted} but the line shows {have} (rolled back?); the operator tries again later");
            notes.push(Note::warning(UPDATE_NOT_APPLIED, "UpdateService", &msg));
            status.target_bandwidth = None;
            // A spec (or manual) change that did not take is applied again later as such.
            let from_spec = spec.autoscaling.is_none()
                || prev
                    .scaling_history
                    .first()
                    .is_some_and(|h| h.reason == MANUAL_CHANGE && h.to_bandwidth == wanted);
            if from_spec {
                status.spec_bandwidth = None;
            }
            ready_available(&mut status, &svc, gen);
            mark(
                &mut status.conditions,
                types::SYNCED,
                ConditionStatus::False,
                reasons::RECONCILE_ERROR,
                &msg,
                gen,
            );
            mark(
                &mut status.conditions,
                types::SCALING,
                ConditionStatus::False,
                reasons::STABLE,
                &msg,
                gen,
            );
            return Ok(Outcome {
                status,
                requeue: ctx.settings.terminal_retry,
                notes,
            });
        }
        Phase::Idle => {}
    }
    let ours = prev.target_bandwidth.is_some() && prev.target_bandwidth == svc.bandwidth();
    status.target_bandwidth = None;

    // Traffic (for status and the autoscaler).
    let vpn_name = svc
        .cloud_vpn_name()
        .unwrap_or(&spec.cloud_vpn_name)
        .to_string();
    let window = autoscaling.map_or(TRAFFIC_WINDOW, |a| a.window_seconds);
    let traffic = read_traffic(cloud, &vpn_name, window, now_secs).await;
    let samples: Option<Vec<Sample>> = match &traffic {
        Ok(points) => {
            if let Some(t) = traffic_status(points, svc.bandwidth()) {
                status.traffic = Some(t);
            }
            Some(
                points
                    .iter()
                    .map(|p| Sample {
                        time: p.time,
                        rate: p.rate(),
                    })
                    .collect(),
            )
        }
        Err(e) => {
            tracing::debug!(error = %e, "could not read CloudVPN traffic");
            None
        }
    };

    ready_available(&mut status, &svc, gen);
    let drift = immutable_drift(spec, &svc);
    let synced_drift = (!drift.is_empty()).then(|| {
        format!(
            "these fields differ in IES and cannot be changed there: {}",
            drift.join("; ")
        )
    });
    if let Some(msg) = &synced_drift {
        let before = crate::crd::common::find_condition(&prev.conditions, types::SYNCED)
            .map(|c| c.message.clone());
        if before.as_deref() != Some(msg.as_str()) {
            notes.push(Note::warning(
                events::DRIFT_DETECTED,
                "Observe",
                msg.clone(),
            ));
        }
    }

    if observe_only {
        mark(
            &mut status.conditions,
            types::SYNCED,
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
            "managementPolicy is Observe: the service is only read",
            gen,
        );
        mark(
            &mut status.conditions,
            types::SCALING,
            ConditionStatus::False,
            reasons::STABLE,
            "autoscaling is off",
            gen,
        );
        return Ok(Outcome {
            status,
            requeue: ctx.settings.resync_interval,
            notes,
        });
    }

    let Some(current) = svc.bandwidth() else {
        return Err(CloudError::decode(
            "ShowService",
            200,
            format!(
                "CloudVPN service {} shows no numeric Bandwidth in its parameters",
                svc.service_id
            ),
        )
        .into());
    };
    let plan = plan_bandwidth(spec, &prev, current, ours, samples.as_deref(), now_secs);
    notes.extend(plan.notes.iter().cloned());
    for f in plan.followed.iter().rev() {
        record(&mut status.scaling_history, f.clone());
    }
    status.spec_bandwidth = Some(spec.bandwidth);
    let want_description = spec.description.clone().unwrap_or_default();
    let description_differs = svc.description.clone().unwrap_or_default() != want_description;

    if plan.desired != current || description_differs {
        let accepted = cloud
            .update_service(
                &svc.service_id,
                &update_request(&svc, spec, plan.desired, &want_description),
            )
            .await
            .map_err(|e| busy_to_wait(e, ctx))?;
        status.last_operation = Some("update".into());
        status.last_operation_id = accepted.operation_id.clone();
        status.last_operation_time = Some(time_of(now_secs));
        status.target_bandwidth = Some(plan.desired);
        let (from, to) = (current, plan.desired);
        let what = if from != to {
            format!("bandwidth {from} → {to}")
        } else {
            "description".to_string()
        };
        mark(
            &mut status.conditions,
            types::READY,
            ConditionStatus::False,
            reasons::UPDATING,
            format!("changing {what}"),
            gen,
        );
        match &plan.cause {
            Some(Cause::Autoscale(d)) => {
                record(
                    &mut status.scaling_history,
                    ScalingDecision {
                        time: time_of(now_secs),
                        from_bandwidth: from,
                        to_bandwidth: to,
                        utilization_percent: d.utilization.map(round1),
                        reason: d.reason.to_string(),
                        message: d.message.clone(),
                    },
                );
                notes.push(Note::normal(d.reason, "Autoscale", d.message.clone()));
            }
            Some(Cause::Drift) => notes.push(Note::normal(
                DRIFT_CORRECTED,
                "UpdateService",
                format!("the bandwidth was changed in IES to {from}; setting it back to {to}"),
            )),
            Some(Cause::Spec) | None => notes.push(Note::normal(
                events::UPDATED,
                "UpdateService",
                format!("changing {what} of CloudVPN service {}", svc.service_id),
            )),
        }
        if from != to {
            let reason = if to > from {
                reasons::SCALING_UP
            } else {
                reasons::SCALING_DOWN
            };
            let msg = match &plan.cause {
                Some(Cause::Autoscale(d)) => d.message.clone(),
                _ => format!("changing bandwidth {from} → {to}"),
            };
            mark(
                &mut status.conditions,
                types::SCALING,
                ConditionStatus::True,
                reason,
                msg,
                gen,
            );
        }
        mark(
            &mut status.conditions,
            types::SYNCED,
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
            "update requested",
            gen,
        );
        return Ok(Outcome {
            status,
            requeue: ctx.settings.pending_requeue,
            notes,
        });
    }

    match &synced_drift {
        Some(msg) => mark(
            &mut status.conditions,
            types::SYNCED,
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
            msg,
            gen,
        ),
        None => mark(
            &mut status.conditions,
            types::SYNCED,
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
            "",
            gen,
        ),
    }
    let (reason, msg) = match (&plan.decision, autoscaling) {
        (Some(d), _) => (d.reason, d.message.clone()),
        (None, Some(_)) => (reasons::STABLE, String::new()),
        (None, None) => (reasons::STABLE, "autoscaling is off".to_string()),
    };
    mark(
        &mut status.conditions,
        types::SCALING,
        ConditionStatus::False,
        reason,
        msg,
        gen,
    );
    let requeue = match autoscaling {
        Some(a) => autoscale_interval(a.window_seconds).min(ctx.settings.resync_interval),
        None => ctx.settings.resync_interval,
    };
    Ok(Outcome {
        status,
        requeue,
        notes,
    })
}

fn ready_available(status: &mut CloudVpnServiceStatus, svc: &ServiceInstance, gen: Option<i64>) {
    let active = svc
        .active_status
        .as_ref()
        .map_or("unknown".to_string(), |a| a.to_string());
    let bw = svc
        .bandwidth()
        .map_or("unknown".to_string(), |b| b.to_string());
    mark(
        &mut status.conditions,
        types::READY,
        ConditionStatus::True,
        reasons::AVAILABLE,
        format!("the CloudVPN service is Completed (active_status {active}, bandwidth {bw})"),
        gen,
    );
}

// ----- delete ------------------------------------------------------------------------------

/// Deletes the instance (finalizer): `Ok` when it is gone, `Err(Waiting)` while IES works.
pub async fn delete(cloud: &IesClient, obj: &CloudVpnService, ctx: &Context) -> Result<Vec<Note>> {
    let gone = |id: &str| {
        vec![Note::normal(
            events::DELETED,
            "DeleteService",
            format!("CloudVPN service {id} is gone from IES"),
        )]
    };
    let name = service_name(obj);
    let recorded = obj
        .status
        .as_ref()
        .and_then(|s| s.cloud_id.clone())
        .or_else(|| obj.spec.cloud_id.clone());
    let svc = match recorded {
        Some(id) => match cloud.get_service(&id).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => return Ok(gone(&id)),
            Err(e) => return Err(e.into()),
        },
        // No id recorded: a create whose answer was lost may still have made one.
        None => match by_name(cloud, &name, &obj.spec.cloud_vpn_name).await? {
            ByName::Ours(s) => *s,
            _ => return Ok(gone(&name)),
        },
    };
    let id = svc.service_id.clone();
    let wait = |msg: String| Error::waiting(reasons::DELETING, msg, ctx.settings.pending_requeue);
    let status = svc.status.clone().unwrap_or_else(|| "unknown".into());
    if status == ServiceStatus::Deleting {
        return Err(wait(format!("CloudVPN service {id} is being deleted")));
    }
    if !status.is_completed() && !status.is_failed() {
        return Err(wait(format!(
            "CloudVPN service {id} is {status}; it will be deleted when that operation finishes"
        )));
    }
    match cloud.delete_service(&id).await {
        Ok(a) => {
            let note = Note::normal(
                events::DELETE_REQUESTED,
                "DeleteService",
                format!(
                    "deleting CloudVPN service {id} (operation {}); waiting until it is gone",
                    a.operation_id.as_deref().unwrap_or("unknown")
                ),
            );
            ctx.publish(obj, &note).await;
            Err(wait(format!("CloudVPN service {id} is being deleted")))
        }
        Err(e) if e.is_not_found() => Ok(gone(&id)),
        Err(e) => Err(busy_to_wait(e, ctx)),
    }
}

#[cfg(test)]
mod tests;
