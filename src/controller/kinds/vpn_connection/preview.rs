//! A connection plan as a reviewer reads it (`vpn-operator plan`): pure. A new pre-shared key
//! shows as `pskSha256` old → new, never as a value.
use crate::cloud::model::connection::{ConnectionStatus, ResponseVpnConnection};
use crate::controller::runtime::lookup::How;
use crate::controller::runtime::preview::{Action, Change, FieldChange};
use crate::crd::VpnConnection;

use super::drift::drift;
use super::peer_config::Step;
use super::plan::{psk_needs_put, refs, Plan};
use super::{observed_tags, Inputs, Observed, Planned};

/// What `plan` decided for the connection, as changes: the cloud part, and the peer
/// configuration Secret it writes (never its content).
pub fn preview(
    obj: &VpnConnection,
    inputs: &Inputs,
    observed: &Observed,
    plan: &Planned,
) -> Change {
    let mut c = cloud(obj, inputs, observed, &plan.cloud);
    for step in &plan.peer.steps {
        c.notes.push(match step {
            Step::Create(w) => format!("writes the peer configuration Secret {}", w.name),
            Step::Replace { write, .. } => {
                format!("rewrites the peer configuration Secret {}", write.name)
            }
            Step::Delete { name, .. } => format!("deletes the peer configuration Secret {name}"),
        });
    }
    if let Some(conflict) = &plan.peer.conflict {
        c.notes.push(format!("peer configuration: {conflict}"));
    }
    c
}

/// The cloud part of the plan, as changes.
fn cloud(obj: &VpnConnection, inputs: &Inputs, observed: &Observed, plan: &Plan) -> Change {
    let found = &observed.found;
    let id = found.resource().map(|c| c.id.clone());
    match plan {
        Plan::Create { replaces, .. } => {
            let c = Change::new(Action::Create, None);
            match replaces {
                Some(old) => c.note(format!(
                    "replaces connection {old}, recorded in status but gone from the cloud"
                )),
                None => c,
            }
        }
        Plan::Missing { id } => Change::new(Action::NoChange, id.clone()).note(format!(
            "connection {} does not exist in the cloud; the operator creates none (Ready=False \
             NotFound)",
            id.as_deref().unwrap_or("(no spec.cloudId)")
        )),
        Plan::Report => {
            let mut c = Change::new(Action::NoChange, id)
                .note("managementPolicy is Observe: the operator only reads this connection");
            if let Some(conn) = found.resource() {
                let mut all = changes(obj, inputs, observed, conn);
                c.notes.extend(all.fields.drain(..).map(|f| {
                    format!(
                        "{} differs ({} in the cloud, {} in the spec); not corrected",
                        f.field,
                        f.old.unwrap_or_default(),
                        f.new.unwrap_or_default()
                    )
                }));
                c.notes.extend(all.notes);
            }
            c
        }
        Plan::Wait | Plan::Hold | Plan::Sync { .. } => {
            let Some(conn) = found.resource() else {
                return Change::new(Action::NoChange, None);
            };
            let mut c = changes(obj, inputs, observed, conn);
            let state = conn
                .status
                .clone()
                .unwrap_or(ConnectionStatus::PendingCreate);
            match plan {
                Plan::Wait => c.notes.push(format!(
                    "the connection is {state}: changes are made once it settles"
                )),
                Plan::Hold => c.notes.push(format!(
                    "the connection is {state}: the operator cannot change it"
                )),
                _ => {}
            }
            c
        }
        Plan::Gone { .. } => Change::new(Action::NoChange, None)
            .note("being deleted; the connection is already gone from the cloud"),
        Plan::LeaveForeign { id, owner } => Change::new(Action::Orphan, Some(id.clone())).note(
            format!("being deleted; connection {id} belongs to {owner} and stays"),
        ),
        Plan::AwaitDeletion { id, state, .. } => Change::new(Action::Delete, Some(id.clone()))
            .note(format!("being deleted; the connection is {state}")),
        Plan::Delete { id, .. } => Change::new(Action::Delete, Some(id.clone())),
        Plan::Reset { id, requested, .. } => {
            let mut c = match found.resource() {
                Some(conn) => changes(obj, inputs, observed, conn),
                None => Change::new(Action::NoChange, Some(id.clone())),
            };
            c.notes.push(format!(
                "resets the connection (reset-requested-at {requested}); other changes follow"
            ));
            c
        }
    }
}

/// Everything that differs between the spec and the connection: the drift the status reports,
/// a key to rotate (as its hash) and the health check.
fn changes(
    obj: &VpnConnection,
    inputs: &Inputs,
    observed: &Observed,
    conn: &ResponseVpnConnection,
) -> Change {
    let prev = obj.status.clone().unwrap_or_default();
    let refs = refs(&prev, &observed.gateway, &inputs.customer_gateway);
    let diffs = drift(
        &obj.spec,
        &inputs.name,
        refs.gateway.as_ref(),
        refs.cgw_id,
        &inputs.tags,
        conn,
        observed_tags(conn),
    );
    let mut extra = Vec::new();
    let mut notes = Vec::new();
    match &inputs.psk {
        Ok(psk) if psk_needs_put(psk.as_ref(), prev.psk_sha256.as_deref()) => {
            let new = psk.as_ref().map(|p| p.sha256.clone());
            extra.push(FieldChange::new("pskSha256", prev.psk_sha256.clone(), new));
        }
        Ok(_) => {}
        Err(p) => notes.push(format!(
            "the pre-shared key cannot be read (Secret {}/{}: {}): whether it rotates is unknown",
            p.namespace, p.name, p.problem
        )),
    }
    let wants_monitor = obj.spec.health_check.is_some_and(|h| h.enabled);
    let has_monitor = !observed.monitors.is_empty();
    if wants_monitor != has_monitor {
        extra.push(FieldChange::new(
            "healthCheck.enabled",
            Some(has_monitor.to_string()),
            Some(wants_monitor.to_string()),
        ));
    }
    if let Some(problem) = &refs.waiting {
        notes.push(format!("a reference does not resolve now: {}", problem.0));
    }
    let adopting = matches!(observed.found.resource, Some((_, How::Adopted)));
    let mut c = Change::of_diffs(&conn.id, &diffs, extra, adopting);
    c.notes.extend(notes);
    c
}
