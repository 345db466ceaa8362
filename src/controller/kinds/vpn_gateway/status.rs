//! The gateway's new status, Events and what it waits for: pure functions of what was
//! observed and done.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::gateway::{GatewayStatus, ResponseEip, ResponseVpnGateway, UpgradeAction};
use crate::controller::runtime::contract::{Reconciled, Watch};
use crate::controller::runtime::events::{
    actions, Note, CREATED, DELETED, DELETE_REQUESTED, JOB_DELETED, UPDATED, UPGRADE_FINISHED,
};
use crate::controller::runtime::lookup::{not_deleted_note, recreating_note};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::reconcile::deleting_for;
use crate::controller::runtime::requeue::{pending_for, Next};
use crate::controller::runtime::status::{drift_entries, drift_note, set, synced, Cond};
use crate::crd::common::{
    find_condition, reasons, types, ConditionStatus, DriftEntry, ManagementPolicy,
};
use crate::crd::vpn_gateway::{ObservedEip, UpgradePolicy, VpnGateway, VpnGatewayStatus};

use super::plan::drift;
use super::{day2, Acted, Inputs, Observed, Plan};

const NOUN: &str = VpnGateway::NOUN;

/// The outcome of a gateway reconcile.
pub fn reconciled(
    obj: &VpnGateway,
    inputs: &Inputs,
    observed: &Observed,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<VpnGatewayStatus> {
    let prev = obj.status.clone().unwrap_or_default();
    let gen = obj.metadata.generation;
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let found = &observed.found;
    let mut notes = found.notes(NOUN, |g| g.id.clone(), observe_only);
    if obj.metadata.deletion_timestamp.is_some() || matches!(plan, Plan::Missing { .. }) {
        return without_gateway(obj, prev, plan, acted, notes, now);
    }
    let before = found.resource();
    let after = match (&acted, before) {
        (Acted::Created(g), _) => ResponseVpnGateway {
            status: Some(g.status.clone().unwrap_or(GatewayStatus::PendingCreate)),
            ..g.clone()
        },
        (Acted::Updated(g), _) => pending_after_update(g.clone(), before),
        (Acted::Retagged, Some(b)) => ResponseVpnGateway {
            tags: Some(inputs.tags.clone()),
            ..b.clone()
        },
        (Acted::Upgraded { .. }, Some(b)) => after_upgrade(plan, b),
        (_, Some(b)) => b.clone(),
        (_, None) => return without_gateway(obj, prev, plan, acted, notes, now),
    };
    notes.extend(acted_notes(plan, &after));
    // Drift is judged on what was observed, before acting: a correction made in this reconcile
    // must still be reported.
    if let Some(b) = before {
        let spec_unchanged = gen.is_some() && gen == prev.observed_generation;
        let seen = drift(&obj.spec, &inputs.name, &inputs.tags, b);
        notes.extend(drift_note(
            NOUN,
            &prev.drift,
            &seen,
            observe_only,
            spec_unchanged,
        ));
    }
    let diffs = drift(&obj.spec, &inputs.name, &inputs.tags, &after);
    let mut status = observed_status(
        &prev,
        &after,
        drift_entries(&prev.drift, &diffs, now),
        gen,
        now,
    );
    let success = match plan {
        Plan::Create { .. } => "create requested",
        Plan::Update { .. } | Plan::Resize { .. } | Plan::Retag { .. } => "update requested",
        Plan::Upgrade { .. } => "upgrade step requested",
        Plan::Certificate { .. } => "certificate sent",
        Plan::Wait => "waiting for the cloud to finish an operation",
        _ => "",
    };
    set(
        &mut status.conditions,
        now,
        types::SYNCED,
        synced(NOUN, observe_only, &diffs, success),
        gen,
    );
    if let Plan::Create {
        replaces: Some(old),
        ..
    } = plan
    {
        set(
            &mut status.conditions,
            now,
            types::READY,
            Cond::no(
                reasons::CREATING,
                format!(
                    "{NOUN} {old} no longer exists in the cloud; created {} to replace it",
                    after.id
                ),
            ),
            gen,
        );
    }
    notes.extend(day2::status(obj, observed, plan, &acted, &mut status, now));
    let next = next_after(obj, &status, now);
    let state = after.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    let watch = state
        .is_transitional()
        .then(|| Watch::new(after.id.clone(), state.as_str()));
    Reconciled::new(status, next)
        .with_notes(notes)
        .watching(watch)
}

/// The gateway right after an upgrade call: `start` makes it `UPGRADING`, `finish` `ACTIVE`
/// and `rollback` `ROLLING_BACK` (the call's answer has no gateway).
fn after_upgrade(plan: &Plan, before: &ResponseVpnGateway) -> ResponseVpnGateway {
    let state = match plan {
        Plan::Upgrade { action, .. } => match action {
            UpgradeAction::Start => GatewayStatus::Upgrading,
            UpgradeAction::Finish => GatewayStatus::Active,
            _ => GatewayStatus::RollingBack,
        },
        _ => before
            .status
            .clone()
            .unwrap_or(GatewayStatus::PendingCreate),
    };
    ResponseVpnGateway {
        status: Some(state),
        ..before.clone()
    }
}

/// What the gateway waits for now, from its `Ready` condition: a cloud operation (creating,
/// updating, upgrading, rolling back, deleting) is polled; an upgrade waiting for confirmation
/// is polled under `Auto` (the operator decides) and waits for the annotation under `Manual`;
/// a certificate that is binding is looked at again shortly.
fn next_after(obj: &VpnGateway, status: &VpnGatewayStatus, now: &Time) -> Next {
    let ready = find_condition(&status.conditions, types::READY);
    let changed = status
        .updated_at
        .as_deref()
        .or(status.created_at.as_deref());
    let pending = Next::Pending {
        since: pending_for(ready, changed, now),
        watched: false,
    };
    let auto = obj
        .spec
        .upgrade
        .as_ref()
        .is_some_and(|u| u.policy == UpgradePolicy::Auto);
    match ready.map(|c| c.reason.as_str()) {
        Some(
            reasons::CREATING
            | reasons::UPDATING
            | reasons::DELETING
            | reasons::UPGRADING
            | reasons::UPGRADE_ROLLING_BACK,
        ) => pending,
        Some(reasons::UPGRADE_PENDING_CONFIRM) if auto => pending,
        _ if day2::certificate_binding(status) => Next::After(day2::CERTIFICATE_POLL),
        _ => Next::Resync,
    }
}

/// The Events for what acting did to the gateway.
fn acted_notes(plan: &Plan, after: &ResponseVpnGateway) -> Vec<Note> {
    let id = &after.id;
    match plan {
        Plan::Create { body, replaces } => {
            let mut notes: Vec<Note> = replaces
                .iter()
                .map(|old| recreating_note(NOUN, old))
                .collect();
            notes.push(Note::normal(
                CREATED,
                actions::CREATE,
                format!(
                    "created {NOUN} {id} ({}); waiting for it to become ACTIVE",
                    body.name.as_deref().unwrap_or_default()
                ),
            ));
            notes
        }
        Plan::Update { fields, .. } => vec![Note::normal(
            UPDATED,
            actions::UPDATE,
            format!("updated {} of {NOUN} {id}", fields.join(", ")),
        )],
        Plan::Resize { flavor, .. } => vec![Note::normal(
            UPDATED,
            actions::UPDATE,
            format!("changed the flavor of {NOUN} {id} to {flavor}"),
        )],
        Plan::Retag { .. } => vec![Note::normal(
            UPDATED,
            actions::UPDATE,
            format!("updated the tags of {NOUN} {id}"),
        )],
        _ => Vec::new(),
    }
}

/// The outcome when there is no gateway to describe: the one the object points at is missing,
/// or the object is being deleted.
fn without_gateway(
    obj: &VpnGateway,
    mut status: VpnGatewayStatus,
    plan: &Plan,
    acted: Acted,
    notes: Vec<Note>,
    now: &Time,
) -> Reconciled<VpnGatewayStatus> {
    let gen = obj.metadata.generation;
    let Plan::Missing { id } = plan else {
        return deletion(obj, status, plan, acted, notes, now);
    };
    let msg = match id {
        Some(id) => format!("{NOUN} {id} does not exist in the cloud"),
        None => "managementPolicy is Observe but spec.cloudId is not set".to_string(),
    };
    set(
        &mut status.conditions,
        now,
        types::READY,
        Cond::no(reasons::NOT_FOUND, &msg),
        gen,
    );
    set(
        &mut status.conditions,
        now,
        types::SYNCED,
        Cond::no(reasons::NOT_FOUND, msg),
        gen,
    );
    status.cloud_state = None;
    Reconciled::new(status, Next::Resync).with_notes(notes)
}

/// The outcome of a reconcile of a gateway being deleted.
fn deletion(
    obj: &VpnGateway,
    status: VpnGatewayStatus,
    plan: &Plan,
    acted: Acted,
    mut notes: Vec<Note>,
    now: &Time,
) -> Reconciled<VpnGatewayStatus> {
    let gen = obj.metadata.generation;
    let waiting = |mut status: VpnGatewayStatus, reason, message: String, next| {
        set(
            &mut status.conditions,
            now,
            types::READY,
            Cond::no(reason, message),
            gen,
        );
        set(
            &mut status.conditions,
            now,
            types::SYNCED,
            Cond::yes(reasons::RECONCILE_SUCCESS, ""),
            gen,
        );
        Reconciled::new(status, next)
    };
    let since = deleting_for(obj, now);
    let done = |notes: Vec<Note>, status| {
        Reconciled::new(status, Next::Resync)
            .with_notes(notes)
            .released()
    };
    match (plan, acted) {
        (Plan::WaitForDependents(names), _) => waiting(
            status,
            reasons::WAITING_FOR_DEPENDENTS,
            format!(
                "waiting for VpnConnections that use this gateway to be deleted: {}",
                names.join(", ")
            ),
            Next::Dependents { since },
        ),
        (Plan::LeaveForeign { id, owner }, _) => {
            notes.push(not_deleted_note(NOUN, id, owner));
            done(notes, status)
        }
        (Plan::AwaitDeletion { id, state }, _) => {
            let msg = match state {
                GatewayStatus::PendingDelete => {
                    format!("{NOUN} {id} is being deleted (PENDING_DELETE)")
                }
                s => format!("{NOUN} {id} is {s}; it will be deleted when that operation finishes"),
            };
            waiting(
                status,
                reasons::DELETING,
                msg,
                Next::Pending {
                    since,
                    watched: false,
                },
            )
            .watching(Some(Watch::new(id.clone(), state.as_str())))
        }
        (Plan::Upgrade { id, .. }, Acted::Upgraded { job }) => {
            notes.push(confirmed_for_delete(id, job.as_deref()));
            let msg = format!("{NOUN} {id}: confirming its pending upgrade before the delete");
            let next = Next::Pending {
                since,
                watched: false,
            };
            waiting(status, reasons::DELETING, msg, next).with_notes(notes)
        }
        (Plan::Delete { id }, Acted::Deleted { jobs, gone }) => {
            notes.extend(jobs.iter().map(|j| {
                Note::normal(
                    JOB_DELETED,
                    actions::DELETE,
                    format!("deleted finished gateway job {j}"),
                )
            }));
            if gone {
                return done(notes, status);
            }
            notes.push(Note::normal(
                DELETE_REQUESTED,
                actions::DELETE,
                format!("deleting {NOUN} {id}; waiting until it is gone"),
            ));
            waiting(
                status,
                reasons::DELETING,
                format!("{NOUN} {id} is being deleted"),
                Next::Pending {
                    since,
                    watched: false,
                },
            )
            .watching(Some(Watch::new(
                id.clone(),
                GatewayStatus::PendingDelete.as_str(),
            )))
            .with_notes(notes)
        }
        // Gone, or nothing found while deleting.
        _ => {
            notes.push(Note::normal(
                DELETED,
                actions::DELETE,
                format!("the {NOUN} is gone from the cloud"),
            ));
            done(notes, status)
        }
    }
}

/// The Event of an upgrade finished because the gateway is deleted.
fn confirmed_for_delete(id: &str, job: Option<&str>) -> Note {
    let job = job.map(|j| format!(" (job {j})")).unwrap_or_default();
    Note::normal(
        UPGRADE_FINISHED,
        actions::UPDATE,
        format!(
            "finished the upgrade of {NOUN} {id}{job}: a gateway whose upgrade waits for \
             confirmation cannot be deleted; it is deleted once ACTIVE"
        ),
    )
}

/// After PUT / update-specification the cloud answers with the gateway, which then passes
/// through `PENDING_UPDATE`; the answer may not say so yet.
fn pending_after_update(
    mut gw: ResponseVpnGateway,
    before: Option<&ResponseVpnGateway>,
) -> ResponseVpnGateway {
    if gw.status.is_none() || gw.status == Some(GatewayStatus::Active) {
        gw.status = Some(GatewayStatus::PendingUpdate);
    }
    if let Some(b) = before {
        gw.eip1 = gw.eip1.or_else(|| b.eip1.clone());
        gw.eip2 = gw.eip2.or_else(|| b.eip2.clone());
    }
    gw
}

/// The status for an observed gateway, with `Ready` from its cloud state (`Synced` is set by
/// the caller).
pub fn observed_status(
    previous: &VpnGatewayStatus,
    gw: &ResponseVpnGateway,
    drift: Vec<DriftEntry>,
    generation: Option<i64>,
    now: &Time,
) -> VpnGatewayStatus {
    let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    let mut s = VpnGatewayStatus {
        cloud_id: Some(gw.id.clone()),
        cloud_state: Some(state.to_string()),
        observed_generation: generation,
        conditions: previous.conditions.clone(),
        account: previous.account.clone(),
        name: gw.name.clone(),
        flavor: gw.flavor.as_ref().map(|f| f.to_string()),
        supported_flavors: gw
            .supported_flavors
            .iter()
            .flatten()
            .map(|f| f.to_string())
            .collect(),
        availability_zone_ids: gw.availability_zone_ids.clone().unwrap_or_default(),
        eip1: gw.eip1.as_ref().map(observed_eip),
        eip2: gw.eip2.as_ref().map(observed_eip),
        access_private_ip1: gw.access_private_ip_1.clone(),
        access_private_ip2: gw.access_private_ip_2.clone(),
        er_attachment_id: gw.er_attachment_id.clone(),
        connection_number: gw.connection_number.map(i64::from),
        used_connection_number: gw.used_connection_number.map(i64::from),
        created_at: gw.created_at.as_ref().map(|t| t.to_string()),
        updated_at: gw.updated_at.as_ref().map(|t| t.to_string()),
        drift,
        upgrade: previous.upgrade.clone(),
        certificate: previous.certificate.clone(),
        routes: previous.routes.clone(),
    };
    let (st, reason, msg) = match state {
        GatewayStatus::Active => (ConditionStatus::True, reasons::AVAILABLE, "the VPN gateway is ACTIVE".to_string()),
        GatewayStatus::PendingCreate => (ConditionStatus::False, reasons::CREATING, "the VPN gateway is being created (PENDING_CREATE)".into()),
        GatewayStatus::PendingDelete => (ConditionStatus::False, reasons::DELETING, "the VPN gateway is being deleted (PENDING_DELETE)".into()),
        GatewayStatus::Fault => (
            ConditionStatus::False,
            reasons::CLOUD_FAULT,
            "the cloud reports the VPN gateway as FAULT; contact support or delete and recreate it".into(),
        ),
        GatewayStatus::Freezed => (
            ConditionStatus::False,
            reasons::FROZEN,
            "the cloud reports the VPN gateway as FREEZED (frozen, usually for billing); unfreeze it in the cloud".into(),
        ),
        GatewayStatus::Upgrading => (
            ConditionStatus::False,
            reasons::UPGRADING,
            "the VPN gateway's software is being upgraded (UPGRADING); it accepts no change until the upgrade waits for confirmation".into(),
        ),
        GatewayStatus::PendingUpgradeConfirm => (
            ConditionStatus::False,
            reasons::UPGRADE_PENDING_CONFIRM,
            "the upgrade of the VPN gateway waits for confirmation (PENDING_UPGRADE_CONFIRM): finish or roll it back".into(),
        ),
        GatewayStatus::RollingBack => (
            ConditionStatus::False,
            reasons::UPGRADE_ROLLING_BACK,
            "the upgrade of the VPN gateway is being rolled back (ROLLING_BACK)".into(),
        ),
        other => (ConditionStatus::False, reasons::UPDATING, format!("the VPN gateway is being changed ({other})")),
    };
    set(
        &mut s.conditions,
        now,
        types::READY,
        Cond::new(st, reason, msg),
        generation,
    );
    s
}

fn observed_eip(e: &ResponseEip) -> ObservedEip {
    ObservedEip {
        id: e.id.clone(),
        ip_address: e.ip_address.clone(),
        type_: e.eip_type.as_ref().map(|t| t.to_string()),
        charge_mode: e.charge_mode.as_ref().map(|c| c.to_string()),
        bandwidth_id: e.bandwidth_id.clone(),
        bandwidth_size: e.bandwidth_size.map(i64::from),
        bandwidth_name: e.bandwidth_name.clone(),
    }
}
