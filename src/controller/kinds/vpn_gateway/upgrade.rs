//! Gateway software upgrades (reference §4.13-4.15): what the `vpn.hwcloud.dev/upgrade`
//! annotation and `spec.upgrade.policy: Auto` ask for ([`decide`]), and the `status.upgrade`
//! and Events that follow ([`next_status`]). Pure.
//!
//! The flow the documents give: `start` → `UPGRADING` → `PENDING_UPGRADE_CONFIRM`, where the
//! gateway accepts no other change until `finish` (keep the new software) or `rollback`
//! (`ROLLING_BACK` → `ACTIVE`). The annotation is acted on once per value; `Auto` finishes an
//! upgrade waiting for confirmation when every connection that was ACTIVE before it is ACTIVE
//! again, and rolls it back when that has not happened within `confirmWindowSeconds`.
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::connection::ConnectionStatus;
use crate::cloud::model::gateway::{GatewayStatus, Job, JobStatus, UpgradeAction};
use crate::controller::runtime::clock::elapsed;
use crate::controller::runtime::events::{
    actions, Note, UPGRADE_AWAITS_CONFIRMATION, UPGRADE_FAILED, UPGRADE_FINISHED, UPGRADE_REFUSED,
    UPGRADE_ROLLBACK_STARTED, UPGRADE_ROLLED_BACK, UPGRADE_STARTED, UPGRADE_SUCCEEDED,
};
use crate::crd::vpn_gateway::{UpgradePhase, UpgradePolicy, UpgradeStatus};
use crate::crd::UPGRADE_ANNOTATION;

/// A connection of the gateway, as the upgrade gate and the route refresh read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionSeen {
    pub id: String,
    pub status: Option<ConnectionStatus>,
    /// BGP style (routes are learned).
    pub bgp: bool,
}

/// Why the operator calls the upgrade API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// The annotation asked for it (its value).
    Annotation(String),
    /// `Auto`: every required connection is ACTIVE again.
    Healthy,
    /// `Auto`: the window passed with these connections not ACTIVE.
    WindowExpired(Vec<String>),
    /// The gateway is being deleted and a pending upgrade must be confirmed first.
    Deleting,
}

impl Why {
    fn describe(&self) -> String {
        match self {
            Why::Annotation(v) => format!("as {UPGRADE_ANNOTATION}={v} asked"),
            Why::Healthy => {
                "spec.upgrade.policy Auto: every connection of the gateway is ACTIVE again".into()
            }
            Why::WindowExpired(ids) => format!(
                "spec.upgrade.policy Auto: connections {} were not ACTIVE again within the \
                 confirm window",
                ids.join(", ")
            ),
            Why::Deleting => {
                "the gateway is being deleted, and an upgrade waiting for confirmation must be \
                 finished before a delete"
                    .into()
            }
        }
    }
}

/// What to do about upgrades in this reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing (no request, or a request that waits for the gateway to settle).
    None,
    /// Call the upgrade API.
    Call { action: UpgradeAction, why: Why },
    /// The annotation asks for something the gateway cannot do now: record it as handled and
    /// say why; nothing is called.
    Refuse { value: String, message: String },
}

/// What [`decide`] decides from.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    pub policy: UpgradePolicy,
    /// `Auto`: how long the connections may take after `PENDING_UPGRADE_CONFIRM`.
    pub window: Duration,
    /// The annotation's value.
    pub annotation: Option<&'a str>,
    /// `status.upgrade` before this reconcile.
    pub prev: Option<&'a UpgradeStatus>,
    /// The gateway's state.
    pub state: &'a GatewayStatus,
    /// The gateway's newest upgrade job, when read.
    pub job: Option<&'a Job>,
    /// The gateway's connections, when read.
    pub connections: Option<&'a [ConnectionSeen]>,
    pub now: &'a Time,
}

fn parse(value: &str) -> Option<UpgradeAction> {
    match value.trim() {
        "start" => Some(UpgradeAction::Start),
        "finish" => Some(UpgradeAction::Finish),
        "rollback" => Some(UpgradeAction::Rollback),
        _ => None,
    }
}

/// Decides the upgrade step: the annotation first (once per value, with either policy), then
/// `Auto`'s gate for an upgrade waiting for confirmation.
pub fn decide(f: &Facts) -> Step {
    let handled = f.prev.and_then(|p| p.requested.as_deref());
    if let Some(value) = f.annotation.filter(|v| Some(*v) != handled) {
        return requested(value, f.state);
    }
    if f.policy == UpgradePolicy::Auto && *f.state == GatewayStatus::PendingUpgradeConfirm {
        return auto_gate(f);
    }
    Step::None
}

/// What the annotation's value asks for in the gateway's state.
fn requested(value: &str, state: &GatewayStatus) -> Step {
    use GatewayStatus as S;
    let refuse = |why: String| Step::Refuse {
        value: value.to_string(),
        message: format!("{UPGRADE_ANNOTATION}={value} was not acted on: {why}"),
    };
    let call = |action| Step::Call {
        action,
        why: Why::Annotation(value.to_string()),
    };
    let Some(action) = parse(value) else {
        return refuse("the value must be start, finish or rollback".into());
    };
    match (action, state) {
        (UpgradeAction::Start, S::Active) => call(UpgradeAction::Start),
        // The gateway is busy with another operation: the request waits for it.
        (_, S::PendingCreate | S::PendingUpdate | S::PendingDelete) => Step::None,
        (UpgradeAction::Start, S::Upgrading | S::PendingUpgradeConfirm | S::RollingBack) => {
            refuse(format!("an upgrade is already in progress ({state})"))
        }
        (a, S::PendingUpgradeConfirm) => call(a),
        // finish / rollback come after the upgrade itself.
        (_, S::Upgrading) => Step::None,
        (_, S::RollingBack) => refuse("the upgrade is already being rolled back".into()),
        (UpgradeAction::Start, s) => refuse(format!("the gateway is {s}, not ACTIVE")),
        (_, s) => refuse(format!(
            "no upgrade waits for confirmation (the gateway is {s})"
        )),
    }
}

/// `Auto`: finish when every required connection is ACTIVE, roll back when the window has
/// passed, else wait. An upgrade the operator already finished or rolled back is not decided
/// again while the cloud catches up.
fn auto_gate(f: &Facts) -> Step {
    if let (Some(p), Some(job)) = (f.prev, f.job) {
        let decided = matches!(p.last_action.as_deref(), Some("finish" | "rollback"));
        if decided && p.job_id.as_deref() == Some(job.id.as_str()) {
            return Step::None;
        }
    }
    let Some(connections) = f.connections else {
        return Step::None;
    };
    let required: &[String] = f.prev.map_or(&[], |p| &p.required_connections);
    let down: Vec<String> = connections
        .iter()
        .filter(|c| required.is_empty() || required.contains(&c.id))
        .filter(|c| c.status != Some(ConnectionStatus::Active))
        .map(|c| c.id.clone())
        .collect();
    if down.is_empty() {
        return Step::Call {
            action: UpgradeAction::Finish,
            why: Why::Healthy,
        };
    }
    if waited(f.prev, f.now) >= f.window {
        return Step::Call {
            action: UpgradeAction::Rollback,
            why: Why::WindowExpired(down),
        };
    }
    Step::None
}

/// How long the upgrade has waited for confirmation (zero when not recorded yet).
pub fn waited(prev: Option<&UpgradeStatus>, now: &Time) -> Duration {
    prev.and_then(|p| p.pending_confirm_since.as_deref())
        .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .map(|t| elapsed(&Time(t), now))
        .unwrap_or_default()
}

fn phase_of(job: &Job) -> Option<UpgradePhase> {
    Some(match job.status.as_ref()? {
        JobStatus::Upgrading => UpgradePhase::Upgrading,
        JobStatus::PendingUpgradeConfirm => UpgradePhase::PendingConfirm,
        JobStatus::RollingBack => UpgradePhase::RollingBack,
        JobStatus::Success => UpgradePhase::Succeeded,
        JobStatus::RollbackSuccess => UpgradePhase::RolledBack,
        JobStatus::Fail => UpgradePhase::Failed,
        JobStatus::Other(_) => return None,
    })
}

/// The newest of the gateway's jobs.
pub fn newest(jobs: &[Job]) -> Option<&Job> {
    jobs.iter()
        .max_by_key(|j| (j.created_at.as_ref().and_then(|t| t.to_utc()), &j.id))
}

/// What acting did about upgrades.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Called<'a> {
    pub action: &'a UpgradeAction,
    pub why: &'a Why,
    /// The job the answer named.
    pub job_id: Option<&'a str>,
}

/// The new `status.upgrade` and the Events of this reconcile.
pub fn next_status(
    f: &Facts,
    step: &Step,
    called: Option<Called>,
    gateway: &str,
) -> (Option<UpgradeStatus>, Vec<Note>) {
    let now = f.now.0.to_string();
    let mut s = f.prev.cloned();
    let mut notes = Vec::new();
    if f.annotation.is_none() {
        if let Some(s) = &mut s {
            s.requested = None;
        }
    }
    if let Some(c) = called {
        let (s, note) = after_call(s.unwrap_or_default(), f, &c, gateway, &now);
        notes.push(note);
        return (Some(s), notes);
    }
    if let Step::Refuse { value, message } = step {
        let u = s.get_or_insert_with(Default::default);
        u.requested = Some(value.clone());
        u.message = Some(message.clone());
        notes.push(Note::warning(UPGRADE_REFUSED, actions::UPDATE, message));
    }
    if let Some(job) = f.job {
        follow_job(&mut s, job, f, gateway, &now, &mut notes);
    }
    (s, notes)
}

/// The status after an upgrade call, and its Event.
fn after_call(
    mut s: UpgradeStatus,
    f: &Facts,
    c: &Called,
    gateway: &str,
    now: &str,
) -> (UpgradeStatus, Note) {
    let why = c.why.describe();
    if let Why::Annotation(v) = c.why {
        s.requested = Some(v.clone());
    }
    s.last_action = Some(c.action.to_string());
    let job = c.job_id.map(str::to_string).or(s.job_id.clone());
    let (reason, message) = match c.action {
        UpgradeAction::Start => {
            let active = f
                .connections
                .unwrap_or_default()
                .iter()
                .filter(|c| c.status == Some(ConnectionStatus::Active))
                .map(|c| c.id.clone())
                .collect();
            s = UpgradeStatus {
                requested: s.requested,
                last_action: s.last_action,
                started_at: Some(now.to_string()),
                required_connections: active,
                ..Default::default()
            };
            s.phase = Some(UpgradePhase::Upgrading);
            (
                UPGRADE_STARTED,
                format!("started the upgrade of VPN gateway {gateway}"),
            )
        }
        UpgradeAction::Finish => {
            s.phase = Some(UpgradePhase::Succeeded);
            s.finished_at = Some(now.to_string());
            (
                UPGRADE_FINISHED,
                format!("finished the upgrade of VPN gateway {gateway}: the new software is kept"),
            )
        }
        _ => {
            s.phase = Some(UpgradePhase::RollingBack);
            (
                UPGRADE_ROLLBACK_STARTED,
                format!("rolling back the upgrade of VPN gateway {gateway}"),
            )
        }
    };
    s.job_id = job.clone();
    let job = job.map(|j| format!(" (job {j})")).unwrap_or_default();
    let message = format!("{message}{job}, {why}");
    s.message = Some(message.clone());
    (s, Note::normal(reason, actions::UPDATE, message))
}

/// Follows the gateway's newest job (also one started in the console): its phase, when it
/// started waiting for confirmation, when it ended, and an Event for each change.
fn follow_job(
    s: &mut Option<UpgradeStatus>,
    job: &Job,
    f: &Facts,
    gateway: &str,
    now: &str,
    notes: &mut Vec<Note>,
) {
    let Some(phase) = phase_of(job) else { return };
    // The job recorded, or the one an unfinished upgrade whose answer named no job runs as.
    let same_job = s.as_ref().is_some_and(|u| match u.job_id.as_deref() {
        Some(id) => id == job.id,
        None => u.phase.is_some_and(|p| !p.is_final()),
    });
    if !same_job {
        // An upgrade the operator did not start (or its first sight of it).
        let requested = s.as_ref().and_then(|u| u.requested.clone());
        *s = Some(UpgradeStatus {
            job_id: Some(job.id.clone()),
            requested,
            started_at: job.created_at.as_ref().map(|t| t.to_string()),
            ..Default::default()
        });
    }
    let u = s.as_mut().expect("set above");
    u.job_id = Some(job.id.clone());
    let before = u.phase.filter(|_| same_job);
    if before == Some(phase) {
        return;
    }
    u.phase = Some(phase);
    let job_note = |reason: &str, warning: bool, text: String| {
        let message = format!("{text} (job {})", job.id);
        match warning {
            true => Note::warning(reason, actions::OBSERVE, message),
            false => Note::normal(reason, actions::OBSERVE, message),
        }
    };
    let note = match phase {
        UpgradePhase::PendingConfirm => {
            u.pending_confirm_since = Some(now.to_string());
            let how = match f.policy {
                UpgradePolicy::Manual => format!(
                    "annotate it with {UPGRADE_ANNOTATION}=finish to keep the new software or \
                     {UPGRADE_ANNOTATION}=rollback to undo it"
                ),
                UpgradePolicy::Auto => format!(
                    "spec.upgrade.policy Auto finishes it when its connections are ACTIVE, or \
                     rolls it back after {} s",
                    f.window.as_secs()
                ),
            };
            Some(job_note(
                UPGRADE_AWAITS_CONFIRMATION,
                false,
                format!("the upgrade of VPN gateway {gateway} waits for confirmation: {how}"),
            ))
        }
        UpgradePhase::Succeeded if u.last_action.as_deref() != Some("finish") => Some(job_note(
            UPGRADE_SUCCEEDED,
            false,
            format!("the upgrade of VPN gateway {gateway} finished"),
        )),
        UpgradePhase::RolledBack => Some(job_note(
            UPGRADE_ROLLED_BACK,
            false,
            format!("the upgrade of VPN gateway {gateway} was rolled back"),
        )),
        UpgradePhase::Failed => Some(job_note(
            UPGRADE_FAILED,
            true,
            format!(
                "the upgrade of VPN gateway {gateway} failed: {}",
                job.error_message
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .unwrap_or("no reason given")
            ),
        )),
        _ => None,
    };
    if phase.is_final() {
        u.finished_at = job
            .finished_at
            .as_ref()
            .map(|t| t.to_string())
            .or(Some(now.to_string()));
    }
    if let Some(n) = note {
        u.message = Some(n.message.clone());
        notes.push(n);
    }
}
