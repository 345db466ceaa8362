//! A CloudVPN service plan as a reviewer reads it (`vpn-operator plan`): pure.
use crate::controller::runtime::lookup::How;
use crate::controller::runtime::preview::{immutable_drift_note, Action, Change, FieldChange};
use crate::crd::cloud_vpn_service::CloudVpnService;

use super::bandwidth::Cause;
use super::desired::immutable_drift;
use super::plan::Plan;
use super::{Inputs, Observed};

/// What `plan` decided for the service, as changes.
pub fn preview(
    obj: &CloudVpnService,
    _inputs: &Inputs,
    observed: &Observed,
    plan: &Plan,
) -> Change {
    let found = &observed.found;
    let svc = found.resource();
    let id = svc.map(|s| s.service_id.clone());
    let adopting = matches!(found.resource, Some((_, How::Adopted)));
    let mut c = match plan {
        Plan::Create { replaces, .. } => {
            let c = Change::new(Action::Create, None);
            match replaces {
                Some(old) => c.note(format!(
                    "replaces CloudVPN service {old}, recorded in status but gone from IES"
                )),
                None => c,
            }
        }
        Plan::Missing { id } => Change::new(Action::NoChange, id.clone()).note(format!(
            "CloudVPN service {} does not exist in IES; the operator creates none (Ready=False \
             NotFound)",
            id.as_deref().unwrap_or("(no spec.cloudId)")
        )),
        Plan::Wait { message, .. } => Change::new(Action::NoChange, id).note(format!(
            "IES is working on the service ({message}); changes are decided once it is done"
        )),
        Plan::Failed { state } => Change::new(Action::NoChange, id).note(format!(
            "IES reports the service as {state}: the operator cannot change it"
        )),
        Plan::NotApplied { wanted, have } => Change::new(Action::NoChange, id).note(format!(
            "IES did not apply the last change (bandwidth {wanted} wanted, {} shown)",
            have.map_or("none".to_string(), |h| h.to_string())
        )),
        Plan::Report => Change::new(Action::NoChange, id)
            .note("managementPolicy is Observe: the operator only reads this service"),
        Plan::Change {
            id,
            from,
            bandwidth,
            ..
        } => {
            let action = if adopting {
                Action::Adopt
            } else {
                Action::Update
            };
            let mut c = Change::new(action, Some(id.clone()));
            if bandwidth.desired != *from {
                c.fields.push(FieldChange::new(
                    "bandwidth",
                    Some(from.to_string()),
                    Some(bandwidth.desired.to_string()),
                ));
            }
            let old = svc.and_then(|s| s.description.clone()).unwrap_or_default();
            let new = obj.spec.description.clone().unwrap_or_default();
            if old != new {
                c.fields
                    .push(FieldChange::new("description", Some(old), Some(new)));
            }
            match &bandwidth.cause {
                Some(Cause::Drift) => c.notes.push(
                    "the bandwidth was changed in IES; the operator puts the spec's back".into(),
                ),
                Some(Cause::Autoscale(d)) => c
                    .notes
                    .push(format!("the autoscaler decided: {}", d.message)),
                _ => {}
            }
            c
        }
        Plan::Steady(_) => {
            let action = if adopting {
                Action::Adopt
            } else {
                Action::NoChange
            };
            Change::new(action, id)
        }
        Plan::Gone { .. } => Change::new(Action::NoChange, None)
            .note("being deleted; the service is already gone from IES"),
        Plan::AwaitDeletion { id, state } => Change::new(Action::Delete, Some(id.clone()))
            .note(format!("being deleted; IES reports {state}")),
        Plan::Delete { id } => Change::new(Action::Delete, Some(id.clone())),
    };
    if let Some(svc) = svc {
        for d in immutable_drift(&obj.spec, svc) {
            c.notes.push(immutable_drift_note(&d));
        }
    }
    c
}
