//! The customer gateway's new status, Events and what it waits for: pure functions of what
//! was observed and done.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::ResponseCustomerGateway;
use crate::controller::runtime::contract::Reconciled;
use crate::controller::runtime::events::{actions, Note, CREATED, DELETED, UPDATED};
use crate::controller::runtime::lookup::{not_deleted_note, recreating_note};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::reconcile::deleting_for;
use crate::controller::runtime::requeue::Next;
use crate::controller::runtime::status::{drift_entries, drift_note, set, synced, Cond, FieldDiff};
use crate::crd::common::{reasons, types, ManagementPolicy};
use crate::crd::customer_gateway::ObservedCaCertificate;
use crate::crd::{CustomerGateway, CustomerGatewayStatus};

use super::act::Deletion;
use super::plan::{drift, sha256_hex};
use super::{Acted, Inputs, Lookup as Observed, Plan, STATE_ACTIVE};

const NOUN: &str = CustomerGateway::NOUN;

/// `Ready` and `Synced` for an existing (`exists`) or missing customer gateway. `remaining`
/// are the differences left after this reconcile (all of them when observing only).
pub fn conditions(
    exists: bool,
    missing_id: Option<&str>,
    observe_only: bool,
    remaining: &[FieldDiff],
) -> (Cond, Cond) {
    if exists {
        let ready = Cond::yes(
            reasons::AVAILABLE,
            "the customer gateway exists (the cloud API reports no state for customer gateways)",
        );
        return (ready, synced(NOUN, observe_only, remaining, ""));
    }
    let ready = Cond::no(
        reasons::NOT_FOUND,
        format!(
            "{NOUN} {} does not exist in the cloud",
            missing_id.unwrap_or("<none>")
        ),
    );
    let synced = match observe_only {
        true => synced(NOUN, true, remaining, ""),
        false => Cond::no(
            reasons::NOT_FOUND,
            "the customer gateway named by spec.cloudId does not exist; the operator does not \
             create one for an adopted id (delete this object, or recreate it without cloudId)",
        ),
    };
    (ready, synced)
}

/// What the status describes: an existing customer gateway, or the id of a missing one.
#[derive(Clone, Copy, Debug)]
pub enum Described<'a> {
    /// It exists, as read from the cloud.
    Exists(&'a ResponseCustomerGateway),
    /// This id answered 404.
    Missing(&'a str),
}

/// The outcome of a customer gateway reconcile.
pub fn reconciled(
    obj: &CustomerGateway,
    inputs: &Inputs,
    found: &Observed,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<CustomerGatewayStatus> {
    let prev = obj.status.clone().unwrap_or_default();
    let gen = obj.metadata.generation;
    let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
    let mut notes = found.notes(NOUN, |s| s.cgw.id.clone(), observe_only);
    let spec_ca = || {
        obj.spec
            .ca_certificate
            .as_ref()
            .and_then(|c| c.content.as_deref())
            .map(sha256_hex)
    };
    let build = |seen, ca, remaining: &[FieldDiff], conds| {
        build_status(&prev, seen, ca, remaining, conds, gen, now)
    };
    match (plan, acted) {
        (Plan::Create { replaces, .. }, Acted::Created(created)) => {
            notes.extend(replaces.iter().map(|old| recreating_note(NOUN, old)));
            notes.push(Note::normal(
                CREATED,
                actions::CREATE,
                format!("created {NOUN} {} ({})", created.id, inputs.name),
            ));
            let mut conds = conditions(true, None, false, &[]);
            if let Some(old) = replaces {
                conds.0.message = format!(
                    "{NOUN} {old} no longer exists in the cloud; created {} to replace it",
                    created.id
                );
            }
            let status = build(Described::Exists(&created), spec_ca(), &[], conds);
            // Back soon: the next reconcile confirms the customer gateway with a GET.
            Reconciled::new(status, Next::Soon).with_notes(notes)
        }
        (Plan::Missing { id }, _) => {
            let conds = conditions(false, Some(id), observe_only, &[]);
            let status = build(
                Described::Missing(id),
                prev.ca_certificate_sha256.clone(),
                &[],
                conds,
            );
            Reconciled::new(status, Next::Resync).with_notes(notes)
        }
        (Plan::Report | Plan::Sync { .. }, acted) => {
            let Some(seen) = found.resource() else {
                return Reconciled::new(prev, Next::Soon);
            };
            let diffs = drift(&obj.spec, &inputs.name, &inputs.tags, &seen.cgw, &seen.tags);
            let spec_unchanged = gen.is_some() && gen == prev.observed_generation;
            notes.extend(drift_note(
                NOUN,
                &prev.drift,
                &diffs,
                observe_only,
                spec_unchanged && !observe_only,
            ));
            let (after, ca) = match (&acted, plan) {
                (Acted::Changed { fields, cgw }, Plan::Sync { update, .. }) => {
                    notes.push(Note::normal(
                        UPDATED,
                        actions::UPDATE,
                        format!("updated {NOUN} {}: {}", seen.cgw.id, fields.join(", ")),
                    ));
                    let ca_sent = update
                        .as_ref()
                        .and_then(|u| u.body.ca_certificate.as_ref())
                        .is_some_and(|c| c.content.is_some());
                    let mut after = cgw.clone().unwrap_or_else(|| seen.cgw.clone());
                    after.tags = after.tags.or_else(|| seen.cgw.tags.clone());
                    (
                        after,
                        if ca_sent {
                            spec_ca()
                        } else {
                            prev.ca_certificate_sha256.clone()
                        },
                    )
                }
                _ => (seen.cgw.clone(), prev.ca_certificate_sha256.clone()),
            };
            // Updatable differences were just corrected; what remains is immutable.
            let remaining: Vec<FieldDiff> = match observe_only {
                true => diffs,
                false => diffs.into_iter().filter(|d| !d.updatable).collect(),
            };
            let conds = conditions(true, None, observe_only, &remaining);
            let status = build(Described::Exists(&after), ca, &remaining, conds);
            Reconciled::new(status, Next::Resync).with_notes(notes)
        }
        (plan, acted) => deletion(obj, prev, plan, acted, now),
    }
}

/// The outcome of a reconcile of a customer gateway being deleted.
fn deletion(
    obj: &CustomerGateway,
    mut status: CustomerGatewayStatus,
    plan: &Plan,
    acted: Acted,
    now: &Time,
) -> Reconciled<CustomerGatewayStatus> {
    let gen = obj.metadata.generation;
    let done = |notes: Vec<Note>, status| {
        Reconciled::new(status, Next::Resync)
            .with_notes(notes)
            .released()
    };
    let gone = |id: &str| {
        Note::normal(
            DELETED,
            actions::DELETE,
            format!("{NOUN} {id} was already gone"),
        )
    };
    let mut wait = |message: String| {
        set(
            &mut status.conditions,
            now,
            types::READY,
            Cond::no(reasons::WAITING_FOR_DEPENDENTS, message),
            gen,
        );
        set(
            &mut status.conditions,
            now,
            types::SYNCED,
            Cond::yes(reasons::RECONCILE_SUCCESS, ""),
            gen,
        );
        Reconciled::new(
            status.clone(),
            Next::Dependents {
                since: deleting_for(obj, now),
            },
        )
    };
    match (plan, acted) {
        (Plan::WaitForDependents(names), _) => wait(format!(
            "VpnConnection(s) {} still use this customer gateway; it is deleted once they are gone",
            names.join(", ")
        )),
        (Plan::Delete { id }, Acted::Deleted(Deletion::InUse)) => wait(format!(
            "the cloud still has VPN connections on {NOUN} {id} (possibly not managed in this \
             namespace); it is deleted once they are gone"
        )),
        (Plan::Delete { id }, Acted::Deleted(Deletion::Deleted)) => done(
            vec![Note::normal(
                DELETED,
                actions::DELETE,
                format!("deleted {NOUN} {id}"),
            )],
            status,
        ),
        (Plan::Delete { id }, _) | (Plan::Gone(Some(id)), _) => done(vec![gone(id)], status),
        (Plan::LeaveForeign { id, owner }, _) => {
            done(vec![not_deleted_note(NOUN, id, owner)], status)
        }
        // Nothing recorded and nothing found: nothing was ever made.
        _ => done(Vec::new(), status),
    }
}

fn observed_ca(c: &crate::cloud::model::CaCertificate) -> ObservedCaCertificate {
    ObservedCaCertificate {
        id: c.id.clone(),
        serial_number: c.serial_number.clone(),
        signature_algorithm: c.signature_algorithm.clone(),
        issuer: c.issuer.clone(),
        subject: c.subject.clone(),
        expire_time: c.expire_time.as_ref().map(|t| t.to_string()),
        is_updatable: c.is_updatable,
    }
}

/// The new status: observed fields of the customer gateway (only its id when missing), drift
/// with detection times, and the two conditions.
pub fn build_status(
    prev: &CustomerGatewayStatus,
    seen: Described<'_>,
    ca_sha256: Option<String>,
    remaining: &[FieldDiff],
    (ready, synced): (Cond, Cond),
    generation: Option<i64>,
    at: &Time,
) -> CustomerGatewayStatus {
    let mut s = match seen {
        Described::Exists(c) => CustomerGatewayStatus {
            cloud_id: Some(c.id.clone()),
            cloud_state: Some(STATE_ACTIVE.to_string()),
            name: c.name.clone(),
            id_type: c.id_type.as_ref().map(|t| t.as_str().to_string()),
            id_value: c.id_value.clone(),
            bgp_asn: c.bgp_asn.and_then(|a| i64::try_from(a).ok()),
            ca_certificate: c.ca_certificate.as_ref().map(observed_ca),
            created_at: c.created_at.as_ref().map(|t| t.to_string()),
            updated_at: c.updated_at.as_ref().map(|t| t.to_string()),
            ..Default::default()
        },
        Described::Missing(id) => CustomerGatewayStatus {
            cloud_id: Some(id.to_string()),
            ..Default::default()
        },
    };
    s.ca_certificate_sha256 = ca_sha256;
    s.observed_generation = prev.observed_generation;
    s.conditions = prev.conditions.clone();
    s.account = prev.account.clone();
    s.drift = drift_entries(&prev.drift, remaining, at);
    set(&mut s.conditions, at, types::READY, ready, generation);
    set(&mut s.conditions, at, types::SYNCED, synced, generation);
    s
}
