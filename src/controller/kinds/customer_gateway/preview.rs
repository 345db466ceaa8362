//! A customer gateway plan as a reviewer reads it (`vpn-operator plan`): pure.
use crate::controller::runtime::lookup::How;
use crate::controller::runtime::preview::{Action, Change, FieldChange};
use crate::crd::CustomerGateway;

use super::plan::{drift, sha256_hex, Plan};
use super::{Inputs, Observed};

/// What `plan` decided for the customer gateway, as changes.
pub fn preview(obj: &CustomerGateway, inputs: &Inputs, observed: &Observed, plan: &Plan) -> Change {
    let found = &observed.found;
    let adopting = matches!(found.resource, Some((_, How::Adopted)));
    let id = found.resource().map(|s| s.cgw.id.clone());
    match plan {
        Plan::Create { replaces, .. } => {
            let c = Change::new(Action::Create, None);
            match replaces {
                Some(old) => c.note(format!(
                    "replaces customer gateway {old}, recorded in status but gone from the cloud"
                )),
                None => c,
            }
        }
        Plan::Missing { id } => Change::new(Action::NoChange, Some(id.clone())).note(format!(
            "customer gateway {id} does not exist in the cloud; the operator creates none \
             (Ready=False NotFound)"
        )),
        Plan::Report => {
            let mut c = Change::new(Action::NoChange, id)
                .note("managementPolicy is Observe: the operator only reads this customer gateway");
            if let Some(seen) = found.resource() {
                let diffs = drift(&obj.spec, &inputs.name, &inputs.tags, &seen.cgw, &seen.tags);
                for d in diffs {
                    c.notes.push(format!(
                        "{} differs ({} in the cloud, {} in the spec); not corrected",
                        d.field, d.observed, d.desired
                    ));
                }
            }
            c
        }
        Plan::Sync { id, update, .. } => {
            let Some(seen) = found.resource() else {
                return Change::new(Action::NoChange, Some(id.clone()));
            };
            let diffs = drift(&obj.spec, &inputs.name, &inputs.tags, &seen.cgw, &seen.tags);
            // The certificate content cannot be read back: a new one shows as its hash.
            let mut extra = Vec::new();
            let content = obj
                .spec
                .ca_certificate
                .as_ref()
                .and_then(|c| c.content.as_deref());
            let uploads_ca = update
                .as_ref()
                .is_some_and(|u| u.fields.contains(&"caCertificate"));
            if let (Some(content), true) = (content, uploads_ca) {
                let old = obj
                    .status
                    .as_ref()
                    .and_then(|s| s.ca_certificate_sha256.clone());
                extra.push(FieldChange::new(
                    "caCertificateSha256",
                    old,
                    Some(sha256_hex(content)),
                ));
            }
            Change::of_diffs(id, &diffs, extra, adopting)
        }
        Plan::WaitForDependents(names) => Change::new(Action::Delete, id).note(format!(
            "being deleted; waits for the VpnConnections that still need it: {}",
            names.join(", ")
        )),
        Plan::Gone(_) => Change::new(Action::NoChange, None)
            .note("being deleted; the customer gateway is already gone from the cloud"),
        Plan::LeaveForeign { id, owner } => Change::new(Action::Orphan, Some(id.clone())).note(
            format!("being deleted; customer gateway {id} belongs to {owner} and stays"),
        ),
        Plan::Delete { id } => Change::new(Action::Delete, Some(id.clone())),
    }
}
