//! The service's new status, Events and what it waits for: pure functions of the previous
//! status, what was observed and what was done.
//!
//! Conditions: `Ready` (the line is provisioned: `Completed`), `Synced` (the shared rule: the
//! last reconcile did what the spec asks, or only fields IES cannot change differ), `Scaling`
//! (a bandwidth change runs, or why not: `Stable`, `CoolingDown`, `AtLimit`,
//! `MetricsUnavailable`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::bandwidth::{autoscale_interval, record, round1, traffic_status, BandwidthPlan, Cause};
use super::desired::immutable_drift;
use super::plan::previous;
use super::{Acted, Inputs, Observed, Plan, Traffic};
use crate::cloud::model::ies::{ServiceInstance, ServiceRequest, ServiceStatus};
use crate::controller::runtime::contract::Reconciled;
use crate::controller::runtime::events::{
    actions, Note, CREATED, DELETED, DELETE_REQUESTED, DRIFT_CORRECTED, UPDATED, UPDATE_NOT_APPLIED,
};
use crate::controller::runtime::lookup::recreating_note;
use crate::controller::runtime::object::Object;
use crate::controller::runtime::reconcile::deleting_for;
use crate::controller::runtime::requeue::Next;
use crate::controller::runtime::status::{drift_entries, drift_note, set, synced, Cond};
use crate::crd::cloud_vpn_service::{CloudVpnService, CloudVpnServiceStatus, ScalingDecision};
use crate::crd::common::{reasons, types, ManagementPolicy};

const NOUN: &str = CloudVpnService::NOUN;

/// The outcome of a CloudVPN service reconcile.
pub fn reconciled(
    obj: &CloudVpnService,
    inputs: &Inputs,
    observed: &Observed,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<CloudVpnServiceStatus> {
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let found = &observed.found;
    let notes = found.notes(NOUN, |s| s.service_id.clone(), observe_only);
    let prev = previous(obj, found);
    let gen = obj.metadata.generation;
    match (plan, found.resource()) {
        (Plan::Gone { .. } | Plan::AwaitDeletion { .. } | Plan::Delete { .. }, _) => {
            deletion(obj, prev, plan, acted, notes, now)
        }
        (Plan::Create { request, replaces }, _) => {
            created(obj, prev, request, replaces.as_deref(), acted, notes, now)
        }
        (_, Some(svc)) => {
            let seen = Seen {
                obj,
                svc,
                traffic: &observed.traffic,
                gen,
                now,
            };
            with_service(&seen, inputs, prev, plan, acted, notes)
        }
        // Missing, or (never planned) a plan for a service that was not found.
        (plan, None) => {
            let id = match plan {
                Plan::Missing { id } => id.clone(),
                _ => obj.spec.cloud_id.clone(),
            };
            missing(prev, id, notes, gen, now)
        }
    }
}

/// The service as observed, and what the status of its reconcile is written against.
struct Seen<'a> {
    obj: &'a CloudVpnService,
    svc: &'a ServiceInstance,
    traffic: &'a Traffic,
    gen: Option<i64>,
    now: &'a Time,
}

impl Seen<'_> {
    fn set(&self, status: &mut CloudVpnServiceStatus, type_: &str, c: Cond) {
        set(&mut status.conditions, self.now, type_, c, self.gen);
    }

    /// `Ready=True`: the service is `Completed`.
    fn available(&self, status: &mut CloudVpnServiceStatus) {
        let active = self
            .svc
            .active_status
            .as_ref()
            .map_or("unknown".to_string(), |a| a.to_string());
        let bw = self
            .svc
            .bandwidth()
            .map_or("unknown".to_string(), |b| b.to_string());
        let message =
            format!("the CloudVPN service is Completed (active_status {active}, bandwidth {bw})");
        self.set(status, types::READY, Cond::yes(reasons::AVAILABLE, message));
    }

    /// The newest traffic point, when the traffic was read.
    fn traffic(&self, status: &mut CloudVpnServiceStatus) {
        if let Traffic::Read(points) = self.traffic {
            if let Some(t) = traffic_status(points, self.svc.bandwidth(), self.now) {
                status.traffic = Some(t);
            }
        }
    }
}

/// The status fields IES reports, over the previous status.
fn reported(
    prev: CloudVpnServiceStatus,
    svc: &ServiceInstance,
    name: &str,
) -> CloudVpnServiceStatus {
    CloudVpnServiceStatus {
        cloud_id: Some(svc.service_id.clone()),
        service_name: svc.name.clone().or(Some(name.to_string())),
        service_definition_id: svc
            .service_definition_id
            .clone()
            .or(prev.service_definition_id.clone()),
        template_id: svc.template_id.clone().or(prev.template_id.clone()),
        cloud_state: svc.status.as_ref().map(|s| s.to_string()),
        active_status: svc.active_status.as_ref().map(|s| s.to_string()),
        current_bandwidth: svc.bandwidth(),
        ..prev
    }
}

/// The outcome for an existing service.
fn with_service(
    seen: &Seen,
    inputs: &Inputs,
    prev: CloudVpnServiceStatus,
    plan: &Plan,
    acted: Acted,
    mut notes: Vec<Note>,
) -> Reconciled<CloudVpnServiceStatus> {
    let obj = seen.obj;
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let diffs = immutable_drift(&obj.spec, seen.svc);
    let spec_unchanged = seen.gen.is_some() && seen.gen == prev.observed_generation;
    notes.extend(drift_note(
        NOUN,
        &prev.drift,
        &diffs,
        observe_only,
        spec_unchanged,
    ));
    let mut status = reported(prev, seen.svc, &inputs.name);
    status.drift = drift_entries(&status.drift, &diffs, seen.now);
    let synced_as = |success: &str| synced(NOUN, observe_only, &diffs, success);
    let next = match plan {
        Plan::Wait {
            reason,
            message,
            since,
        } => {
            seen.set(&mut status, types::READY, Cond::no(reason, message));
            let waiting = synced_as("waiting for IES to finish an operation");
            seen.set(&mut status, types::SYNCED, waiting);
            Next::Pending {
                since: *since,
                watched: false,
            }
        }
        Plan::Failed { state } => {
            let message = format!(
                "IES reports status {state} for CloudVPN service {}; check it in IES, or delete \
                 and recreate this object",
                seen.svc.service_id
            );
            status.target_bandwidth = None;
            seen.set(
                &mut status,
                types::READY,
                Cond::no(reasons::CLOUD_FAULT, message),
            );
            seen.set(&mut status, types::SYNCED, synced_as(""));
            Next::Resync
        }
        Plan::NotApplied { wanted, have } => {
            not_applied(seen, &mut status, *wanted, *have, &mut notes);
            Next::Later
        }
        Plan::Change {
            from, bandwidth, ..
        } => {
            status.target_bandwidth = None;
            seen.traffic(&mut status);
            followed(&mut status, bandwidth, &mut notes, obj.spec.bandwidth);
            changed(seen, &mut status, *from, bandwidth, acted, &mut notes);
            seen.set(&mut status, types::SYNCED, synced_as("update requested"));
            Next::Soon
        }
        Plan::Steady(bandwidth) => {
            status.target_bandwidth = None;
            seen.traffic(&mut status);
            followed(&mut status, bandwidth, &mut notes, obj.spec.bandwidth);
            seen.available(&mut status);
            seen.set(&mut status, types::SYNCED, synced_as(""));
            seen.set(&mut status, types::SCALING, scaling(seen.obj, bandwidth));
            match &obj.spec.autoscaling {
                Some(a) => Next::After(autoscale_interval(a.window_seconds)),
                None => Next::Resync,
            }
        }
        // Report (observe only), and plans for no service that never come here.
        _ => {
            status.target_bandwidth = None;
            seen.traffic(&mut status);
            seen.available(&mut status);
            seen.set(&mut status, types::SYNCED, synced_as(""));
            let off = Cond::no(reasons::STABLE, "autoscaling is off");
            seen.set(&mut status, types::SCALING, off);
            Next::Resync
        }
    };
    Reconciled::new(status, next).with_notes(notes)
}

/// The changes the operator follows (manual, made in IES) go into the history, and the applied
/// `spec.bandwidth` is remembered (a later different one is a manual change).
fn followed(
    status: &mut CloudVpnServiceStatus,
    bandwidth: &BandwidthPlan,
    notes: &mut Vec<Note>,
    spec_bandwidth: i64,
) {
    notes.extend(bandwidth.notes.iter().cloned());
    for f in bandwidth.followed.iter().rev() {
        record(&mut status.scaling_history, f.clone());
    }
    status.spec_bandwidth = Some(spec_bandwidth);
}

/// `Scaling=False` when nothing changes: the autoscaler's decision, or why there is none.
fn scaling(obj: &CloudVpnService, bandwidth: &BandwidthPlan) -> Cond {
    match (&bandwidth.decision, &obj.spec.autoscaling) {
        (Some(d), _) => Cond::no(d.reason, d.message.clone()),
        (None, Some(_)) => Cond::no(reasons::STABLE, ""),
        (None, None) => Cond::no(reasons::STABLE, "autoscaling is off"),
    }
}

/// A PUT was accepted: the change runs; its cause is recorded and announced.
fn changed(
    seen: &Seen,
    status: &mut CloudVpnServiceStatus,
    from: i64,
    bandwidth: &BandwidthPlan,
    acted: Acted,
    notes: &mut Vec<Note>,
) {
    let to = bandwidth.desired;
    if let Acted::Accepted {
        operation_id, at, ..
    } = acted
    {
        status.last_operation = Some("update".into());
        status.last_operation_id = operation_id;
        status.last_operation_time = Some(at);
    }
    status.target_bandwidth = Some(to);
    let what = match from != to {
        true => format!("bandwidth {from} → {to}"),
        false => "description".to_string(),
    };
    let updating = Cond::no(reasons::UPDATING, format!("changing {what}"));
    seen.set(status, types::READY, updating);
    let id = &seen.svc.service_id;
    match &bandwidth.cause {
        Some(Cause::Autoscale(d)) => {
            let entry = ScalingDecision {
                time: seen.now.clone(),
                from_bandwidth: from,
                to_bandwidth: to,
                utilization_percent: d.utilization.map(round1),
                reason: d.reason.to_string(),
                message: d.message.clone(),
            };
            record(&mut status.scaling_history, entry);
            notes.push(Note::normal(
                d.reason,
                actions::AUTOSCALE,
                d.message.clone(),
            ));
        }
        Some(Cause::Drift) => notes.push(Note::normal(
            DRIFT_CORRECTED,
            actions::UPDATE,
            format!("the bandwidth was changed in IES to {from}; setting it back to {to}"),
        )),
        Some(Cause::Spec) | None => notes.push(Note::normal(
            UPDATED,
            actions::UPDATE,
            format!("changing {what} of {NOUN} {id}"),
        )),
    }
    if from != to {
        let reason = match to > from {
            true => reasons::SCALING_UP,
            false => reasons::SCALING_DOWN,
        };
        let message = match &bandwidth.cause {
            Some(Cause::Autoscale(d)) => d.message.clone(),
            _ => format!("changing bandwidth {from} → {to}"),
        };
        seen.set(status, types::SCALING, Cond::yes(reason, message));
    }
}

/// IES finished the operator's change but the line shows another bandwidth: reported, and
/// tried again later (a change from the spec as such).
fn not_applied(
    seen: &Seen,
    status: &mut CloudVpnServiceStatus,
    wanted: i64,
    have: Option<i64>,
    notes: &mut Vec<Note>,
) {
    let have = have.map_or("none".to_string(), |h| h.to_string());
    let message = format!(
        "IES finished the change to bandwidth {wanted} but the line shows {have} (rolled back?); \
         the operator tries again later"
    );
    notes.push(Note::warning(UPDATE_NOT_APPLIED, actions::UPDATE, &message));
    let from_spec = seen.obj.spec.autoscaling.is_none()
        || status.scaling_history.first().is_some_and(|h| {
            h.reason == crate::controller::runtime::events::MANUAL_CHANGE
                && h.to_bandwidth == wanted
        });
    status.target_bandwidth = None;
    if from_spec {
        status.spec_bandwidth = None;
    }
    seen.available(status);
    let failed = Cond::no(reasons::RECONCILE_ERROR, &message);
    seen.set(status, types::SYNCED, failed);
    seen.set(status, types::SCALING, Cond::no(reasons::STABLE, message));
}

/// A create was accepted: the id is recorded at once, so a lost status write is the only way
/// to lose it (and the name search finds it then).
fn created(
    obj: &CloudVpnService,
    prev: CloudVpnServiceStatus,
    request: &ServiceRequest,
    replaces: Option<&str>,
    acted: Acted,
    mut notes: Vec<Note>,
    now: &Time,
) -> Reconciled<CloudVpnServiceStatus> {
    let spec = &obj.spec;
    let gen = obj.metadata.generation;
    let Acted::Accepted {
        service_id,
        operation_id,
        at,
    } = acted
    else {
        return Reconciled::new(prev, Next::Soon).with_notes(notes);
    };
    let id = service_id.unwrap_or_default();
    let body = &request.service;
    let name = body.name.clone().unwrap_or_default();
    let operation = operation_id.clone().unwrap_or_else(|| "unknown".into());
    let mut status = CloudVpnServiceStatus {
        cloud_id: Some(id.clone()),
        service_name: Some(name.clone()),
        service_definition_id: body.service_definition_id.clone(),
        template_id: body.template_id.clone(),
        last_operation: Some("create".into()),
        last_operation_id: operation_id,
        last_operation_time: Some(at),
        target_bandwidth: Some(spec.bandwidth),
        spec_bandwidth: Some(spec.bandwidth),
        current_bandwidth: None,
        cloud_state: None,
        active_status: None,
        traffic: None,
        drift: Vec::new(),
        ..prev
    };
    let conds = &mut status.conditions;
    let creating = format!(
        "create of {NOUN} {id} requested (operation {operation}); provisioning takes about 10 \
         minutes"
    );
    set(
        conds,
        now,
        types::READY,
        Cond::no(reasons::CREATING, creating),
        gen,
    );
    let requested = Cond::yes(reasons::RECONCILE_SUCCESS, "create requested");
    set(conds, now, types::SYNCED, requested, gen);
    let stable = Cond::no(reasons::STABLE, "the service is being created");
    set(conds, now, types::SCALING, stable, gen);
    notes.extend(replaces.map(|old| recreating_note(NOUN, old)));
    notes.push(Note::normal(
        CREATED,
        actions::CREATE,
        format!(
            "created {NOUN} {id} ({name}, CloudVpnName {}, bandwidth {}); waiting for Completed",
            spec.cloud_vpn_name, spec.bandwidth
        ),
    ));
    Reconciled::new(status, Next::Soon).with_notes(notes)
}

/// The service the object points at does not exist; none is created.
fn missing(
    mut status: CloudVpnServiceStatus,
    id: Option<String>,
    notes: Vec<Note>,
    gen: Option<i64>,
    now: &Time,
) -> Reconciled<CloudVpnServiceStatus> {
    let message = match id {
        Some(id) => format!("{NOUN} {id} does not exist in IES"),
        None => "managementPolicy is Observe but spec.cloudId is not set".to_string(),
    };
    let conds = &mut status.conditions;
    set(
        conds,
        now,
        types::READY,
        Cond::no(reasons::NOT_FOUND, &message),
        gen,
    );
    set(
        conds,
        now,
        types::SYNCED,
        Cond::no(reasons::NOT_FOUND, message),
        gen,
    );
    status.cloud_state = None;
    status.active_status = None;
    Reconciled::new(status, Next::Resync).with_notes(notes)
}

/// Deleting: waits while IES works, then the object is released once the service is gone.
fn deletion(
    obj: &CloudVpnService,
    mut status: CloudVpnServiceStatus,
    plan: &Plan,
    acted: Acted,
    mut notes: Vec<Note>,
    now: &Time,
) -> Reconciled<CloudVpnServiceStatus> {
    let gen = obj.metadata.generation;
    let since = deleting_for(obj, now);
    let waiting = |status: &mut CloudVpnServiceStatus, message: String| {
        let conds = &mut status.conditions;
        set(
            conds,
            now,
            types::READY,
            Cond::no(reasons::DELETING, message),
            gen,
        );
        set(
            conds,
            now,
            types::SYNCED,
            Cond::yes(reasons::RECONCILE_SUCCESS, ""),
            gen,
        );
    };
    let gone = |id: &str, mut notes: Vec<Note>, status| {
        let message = format!("{NOUN} {id} is gone from IES");
        notes.push(Note::normal(DELETED, actions::DELETE, message));
        Reconciled::new(status, Next::Resync)
            .with_notes(notes)
            .released()
    };
    let pending = Next::Pending {
        since,
        watched: false,
    };
    match (plan, acted) {
        (Plan::AwaitDeletion { id, state }, _) => {
            let message = match state {
                ServiceStatus::Deleting => format!("{NOUN} {id} is being deleted"),
                s => format!("{NOUN} {id} is {s}; it will be deleted when that operation finishes"),
            };
            status.cloud_state = Some(state.to_string());
            waiting(&mut status, message);
            Reconciled::new(status, pending).with_notes(notes)
        }
        (
            Plan::Delete { id },
            Acted::Accepted {
                operation_id, at, ..
            },
        ) => {
            notes.push(Note::normal(
                DELETE_REQUESTED,
                actions::DELETE,
                format!(
                    "deleting {NOUN} {id} (operation {}); waiting until it is gone",
                    operation_id.as_deref().unwrap_or("unknown")
                ),
            ));
            status.last_operation = Some("delete".into());
            status.last_operation_id = operation_id;
            status.last_operation_time = Some(at);
            waiting(&mut status, format!("{NOUN} {id} is being deleted"));
            Reconciled::new(status, pending).with_notes(notes)
        }
        (Plan::Delete { id } | Plan::Gone { id }, _) => gone(id, notes, status),
        // Never planned while deleting.
        _ => Reconciled::new(status, pending).with_notes(notes),
    }
}
