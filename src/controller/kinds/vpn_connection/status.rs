//! The connection's new status, Events and what it waits for: pure functions of what was
//! observed and done (the conditions themselves: [`super::conditions`]).
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::connection::{ConnectionStatus, ResponseVpnConnection};
use crate::cloud::model::monitor::ConnectionMonitorInfo;
use crate::controller::runtime::contract::{Reconciled, Watch};
use crate::controller::runtime::events::{
    actions, Note, CREATED, DELETED, DELETE_REQUESTED, PSK_ROTATED, UPDATED,
};
use crate::controller::runtime::lookup::{not_deleted_note, recreating_note};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::reconcile::deleting_for;
use crate::controller::runtime::requeue::Next;
use crate::controller::runtime::status::{drift_note, set, Cond, FieldDiff};
use crate::crd::common::{find_condition, reasons, types, ManagementPolicy};
use crate::crd::{VpnConnection, VpnConnectionStatus};

use super::conditions::{build_status, state_conditions, synced_condition, Known, Seen};
use super::drift::drift;
use super::plan::{refs, waiting_for, waiting_since, MonitorChange, Refs};
use super::{observed_tags, reset, Acted, Inputs, Observed, Plan};

const NOUN: &str = VpnConnection::NOUN;

/// The outcome of a connection reconcile, the reset request answered.
pub fn reconciled(
    obj: &VpnConnection,
    inputs: &Inputs,
    observed: &Observed,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<VpnConnectionStatus> {
    if obj.metadata.deletion_timestamp.is_some() {
        let prev = obj.status.clone().unwrap_or_default();
        return deletion(obj, prev, plan, acted, now);
    }
    let failed = match &acted {
        Acted::Reset { failed } => Some(failed.clone()),
        _ => None,
    };
    let mut r = outcome(obj, inputs, observed, plan, acted, now);
    let decision = match (plan, failed.is_some()) {
        (Plan::Reset { requested, .. }, true) => reset::Decision::Reset {
            requested: requested.clone(),
        },
        _ => {
            let state = observed
                .found
                .resource()
                .map(|c| c.status.clone().unwrap_or(ConnectionStatus::PendingCreate));
            let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
            let prev = obj.status.as_ref().and_then(|s| s.last_reset.as_ref());
            match reset::decide(reset::requested(obj), prev, state.as_ref(), observe_only) {
                // A request the plan did not act on is refused (or waits for nothing).
                d @ reset::Decision::Refuse { .. } => d,
                _ => reset::Decision::None,
            }
        }
    };
    let id = r.status.cloud_id.clone().unwrap_or_default();
    if let Some((s, note)) = reset::record(&decision, failed.flatten().as_deref(), &id, now) {
        r.status.last_reset = Some(s);
        r.notes.push(note);
    }
    r
}

/// The outcome of a reconcile of a connection that is not being deleted.
fn outcome(
    obj: &VpnConnection,
    inputs: &Inputs,
    observed: &Observed,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<VpnConnectionStatus> {
    let prev = obj.status.clone().unwrap_or_default();
    let gen = obj.metadata.generation;
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    match (plan, acted) {
        (Plan::Missing { id }, _) => {
            let synced = match observe_only {
                true => synced_condition(true, &[], None, false),
                false => Cond::no(
                    reasons::NOT_FOUND,
                    "the connection named by spec.cloudId does not exist; the operator does not \
                     create one for an adopted id (delete this object, or recreate it without \
                     cloudId)",
                ),
            };
            let known = Known {
                gateway: None,
                psk_sha256: prev.psk_sha256.clone(),
            };
            let seen = Seen::Missing(id.as_deref());
            let status = build_status(&prev, seen, known, &[], synced, gen, now);
            Reconciled::new(status, Next::Resync)
        }
        (
            Plan::Create {
                gateway,
                replaces,
                body,
                ..
            },
            Acted::Created(c),
        ) => {
            let mut notes: Vec<Note> = replaces
                .iter()
                .map(|old| recreating_note(NOUN, old))
                .collect();
            notes.push(Note::normal(
                CREATED,
                actions::CREATE,
                format!(
                    "created connection {} ({}) on gateway {} address {}; waiting for it to be \
                     provisioned",
                    c.id,
                    body.name.as_deref().unwrap_or_default(),
                    gateway.id,
                    gateway.vgw_ip
                ),
            ));
            let known = Known {
                gateway: Some(gateway),
                psk_sha256: inputs.psk.clone().ok().flatten().map(|p| p.sha256),
            };
            let synced = synced_condition(false, &[], None, true);
            let mut status =
                build_status(&prev, Seen::Exists(&c, &[]), known, &[], synced, gen, now);
            if let Some(old) = replaces {
                let why = format!(
                    "connection {old} no longer exists in the cloud; created {} to replace it",
                    c.id
                );
                set(
                    &mut status.conditions,
                    now,
                    types::READY,
                    Cond::no(reasons::CREATING, why),
                    gen,
                );
            }
            let next = pending(&status, &c, now);
            Reconciled::new(status, next.0)
                .with_notes(notes)
                .watching(next.1)
        }
        (_, acted) => existing(obj, inputs, observed, plan, acted, prev, now),
    }
}

/// What a connection in `status` waits for after a reconcile that changed nothing: a pending
/// connection is watched (woken when its state changes).
fn pending(
    status: &VpnConnectionStatus,
    c: &ResponseVpnConnection,
    now: &Time,
) -> (Next, Option<Watch>) {
    let state = c.status.clone().unwrap_or(ConnectionStatus::PendingCreate);
    if !state_conditions(Some(&state)).pending {
        return (Next::Resync, None);
    }
    let since = waiting_since(status, now);
    let next = Next::Pending {
        since,
        watched: false,
    };
    (next, Some(Watch::new(c.id.clone(), state.as_str())))
}

/// The outcome for a connection that exists: reported, waited for, or brought in line.
fn existing(
    obj: &VpnConnection,
    inputs: &Inputs,
    observed: &Observed,
    plan: &Plan,
    acted: Acted,
    prev: VpnConnectionStatus,
    now: &Time,
) -> Reconciled<VpnConnectionStatus> {
    let Some(before) = observed.found.resource() else {
        // Unreachable: the plan deals with a missing connection.
        return Reconciled::new(prev, Next::Soon);
    };
    let gen = obj.metadata.generation;
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let mut notes = observed.found.notes(NOUN, |c| c.id.clone(), observe_only);
    let r = refs(&prev, &observed.gateway, &inputs.customer_gateway);
    // Drift is judged on what was observed, before acting: a correction made in this
    // reconcile must still be reported.
    let diffs = drift(
        &obj.spec,
        &inputs.name,
        r.gateway.as_ref(),
        r.cgw_id,
        &inputs.tags,
        before,
        observed_tags(before),
    );
    let spec_unchanged = gen.is_some() && gen == prev.observed_generation;
    notes.extend(drift_note(
        NOUN,
        &prev.drift,
        &diffs,
        observe_only,
        spec_unchanged,
    ));
    let after = after_sync(plan, acted, before, &observed.monitors);
    notes.extend(after.notes);
    let psk_sha256 = match after.psk_sent {
        true => inputs.psk.clone().ok().flatten().map(|p| p.sha256),
        false => prev.psk_sha256.clone(),
    };
    // Updatable differences were just corrected (or are being); the rest remain.
    let remaining: Vec<FieldDiff> = match plan {
        Plan::Sync { .. } => diffs.into_iter().filter(|d| !d.updatable).collect(),
        _ => diffs,
    };
    let dependency = r.waiting.as_ref().map(|(why, _)| why.as_str());
    let synced = synced_condition(observe_only, &remaining, dependency, after.changed);
    let known = Known {
        gateway: r.gateway.as_ref(),
        psk_sha256,
    };
    let seen = Seen::Exists(&after.connection, &after.monitors);
    let status = build_status(&prev, seen, known, &remaining, synced, gen, now);
    let (next, watch) = existing_next(&status, &after.connection, &r, after.changed, now);
    Reconciled::new(status, next)
        .with_notes(notes)
        .watching(watch)
}

/// What an existing connection waits for: confirmation soon after a change; the pending watch
/// while the connection is pending (and nothing else is); a poll while its health check is;
/// the object it names; else the resync.
fn existing_next(
    status: &VpnConnectionStatus,
    c: &ResponseVpnConnection,
    r: &Refs<'_>,
    changed: bool,
    now: &Time,
) -> (Next, Option<Watch>) {
    let monitor_pending = monitor_pending(status);
    let since = waiting_since(status, now);
    let poll = Next::Pending {
        since,
        watched: false,
    };
    match pending(status, c, now) {
        _ if changed => (Next::Soon, None),
        (next, Some(w)) if !monitor_pending && r.waiting.is_none() => (next, Some(w)),
        (_, Some(_)) => (poll, None),
        _ if monitor_pending => (poll, None),
        _ => match &r.waiting {
            Some((_, watched)) => (waiting_for(*watched, since), None),
            None => (Next::Resync, None),
        },
    }
}

/// Whether the health check is being created or deleted.
pub fn monitor_pending(status: &VpnConnectionStatus) -> bool {
    status
        .monitor_state
        .as_deref()
        .is_some_and(|s| s.starts_with("PENDING"))
}

/// The connection and its monitors after acting, and what that means.
struct After {
    connection: ResponseVpnConnection,
    monitors: Vec<ConnectionMonitorInfo>,
    notes: Vec<Note>,
    /// Anything was changed in the cloud.
    changed: bool,
    /// A new pre-shared key was accepted.
    psk_sent: bool,
}

fn after_sync(
    plan: &Plan,
    acted: Acted,
    before: &ResponseVpnConnection,
    monitors: &[ConnectionMonitorInfo],
) -> After {
    let mut out = After {
        connection: before.clone(),
        monitors: monitors.to_vec(),
        notes: Vec::new(),
        changed: false,
        psk_sent: false,
    };
    if let (Plan::Reset { .. }, Acted::Reset { failed: None }) = (plan, &acted) {
        // Negotiated again: the reset connection is PENDING_UPDATE until it settles.
        out.connection.status = Some(ConnectionStatus::PendingUpdate);
        out.changed = true;
        return out;
    }
    let (
        Plan::Sync {
            id,
            tags,
            update,
            monitor,
            ..
        },
        Acted::Synced { updated, monitors },
    ) = (plan, acted)
    else {
        return out;
    };
    let mut fields: Vec<String> = Vec::new();
    if !tags.is_empty() {
        fields.push("tags".into());
    }
    if let (Some(u), Some(c)) = (update, updated) {
        out.connection = after_update(c, before);
        out.psk_sent = u.rotates_psk;
        fields.extend(u.fields.iter().filter(|f| *f != "pskSecretRef").cloned());
    }
    if !fields.is_empty() {
        let msg = format!("updated connection {id}: {}", fields.join(", "));
        out.notes.push(Note::normal(UPDATED, actions::UPDATE, msg));
    }
    if out.psk_sent {
        let msg = format!("sent the pre-shared key from the Secret to connection {id}");
        out.notes
            .push(Note::normal(PSK_ROTATED, actions::UPDATE, msg));
    }
    let msg = match (monitor, &monitors) {
        (Some(MonitorChange::Create), Some(m)) => m.first().map(|m| {
            format!(
                "created health check (connection monitor {}) for connection {id}",
                m.id
            )
        }),
        (Some(MonitorChange::Delete(ids)), Some(_)) => Some(format!(
            "deleted the health check of connection {id} ({})",
            ids.join(", ")
        )),
        _ => None,
    };
    out.notes
        .extend(msg.map(|m| Note::normal(UPDATED, actions::UPDATE, m)));
    if let Some(m) = monitors {
        out.monitors = m;
    }
    out.changed = !fields.is_empty() || out.psk_sent || monitor.is_some();
    out
}

/// The connection after a PUT: the answer has no `status` (it is `PENDING_UPDATE` now) and
/// may lack read-only parts, which are kept from before.
fn after_update(
    mut c: ResponseVpnConnection,
    before: &ResponseVpnConnection,
) -> ResponseVpnConnection {
    c.status = Some(ConnectionStatus::PendingUpdate);
    c.bgp_peer = c.bgp_peer.or_else(|| before.bgp_peer.clone());
    c.tags = c.tags.or_else(|| before.tags.clone());
    c.vgw_id = c.vgw_id.or_else(|| before.vgw_id.clone());
    c.vgw_ip = c.vgw_ip.or_else(|| before.vgw_ip.clone());
    c.created_at = c.created_at.or_else(|| before.created_at.clone());
    c.connection_monitor_id = c
        .connection_monitor_id
        .or_else(|| before.connection_monitor_id.clone());
    c
}

/// The outcome while the object is being deleted: the previous status with `Ready` saying
/// what deletion waits for, or released when the cloud side is finished.
fn deletion(
    obj: &VpnConnection,
    mut status: VpnConnectionStatus,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<VpnConnectionStatus> {
    let gen = obj.metadata.generation;
    let deleting_already = find_condition(&status.conditions, types::READY)
        .is_some_and(|c| c.reason == reasons::DELETING);
    let mut waiting = |message: String, id: &str, state: &str| {
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
        let since = deleting_for(obj, now);
        let next = Next::Pending {
            since,
            watched: false,
        };
        Reconciled::new(status.clone(), next).watching(Some(Watch::new(id, state)))
    };
    let gone = |id: &str| {
        let msg = format!("connection {id} is gone from the cloud");
        vec![Note::normal(DELETED, actions::DELETE, msg)]
    };
    let done = |notes: Vec<Note>| {
        Reconciled::new(VpnConnectionStatus::default(), Next::Resync)
            .with_notes(notes)
            .released()
    };
    match (plan, acted) {
        (Plan::LeaveForeign { id, owner }, _) => done(vec![not_deleted_note(NOUN, id, owner)]),
        (Plan::AwaitDeletion { id, state, .. }, _) => {
            let msg = match state {
                ConnectionStatus::PendingDelete => {
                    format!("connection {id} is being deleted (PENDING_DELETE)")
                }
                s => format!("connection {id} is {s}; it is deleted when that operation finishes"),
            };
            waiting(msg, id, state.as_str())
        }
        (Plan::Delete { id, .. }, Acted::Deleted { gone: true }) => done(gone(id)),
        (Plan::Delete { id, .. }, _) => {
            let msg = format!("connection {id} is being deleted");
            let pending = ConnectionStatus::PendingDelete;
            let out = waiting(msg, id, pending.as_str());
            match deleting_already {
                true => out,
                false => out.with_notes(vec![Note::normal(
                    DELETE_REQUESTED,
                    actions::DELETE,
                    format!(
                        "deleting connection {id} (and its health check); waiting until it is gone"
                    ),
                )]),
            }
        }
        (Plan::Gone { id: Some(id) }, _) => done(gone(id)),
        // Nothing was ever made, or nothing is left.
        _ => done(Vec::new()),
    }
}

/// The status to keep after carrying out `plan` failed with an unknown outcome (see
/// `Managed::unsure_status`): after a create, the digest of the key it sent. Should no
/// connection have been made, the next create records its own; should the Secret change
/// meanwhile, the recorded digest differs from the new key's and the key is sent.
pub fn after_unsure_write(plan: &Plan, mut status: VpnConnectionStatus) -> VpnConnectionStatus {
    if let Plan::Create {
        psk_sha256: Some(sent),
        ..
    } = plan
    {
        status.psk_sha256 = Some(sent.clone());
    }
    status
}
