//! A gateway plan as a reviewer reads it (`vpn-operator plan`): pure.
//!
//! The controller changes one thing per reconcile (a PUT, then the flavor, then the tags); the
//! preview lists everything that differs, so the whole change shows at once.
use crate::cloud::model::gateway::{GatewayStatus, ResponseEip, ResponseVpnGateway};
use crate::controller::runtime::lookup::{Found, How};
use crate::controller::runtime::preview::{Action, Change, FieldChange};
use crate::crd::vpn_gateway::VpnGateway;

use super::plan::{desired_update, drift, Plan};
use super::{Inputs, Observed};

/// What `plan` decided for the gateway, as changes.
pub fn preview(obj: &VpnGateway, inputs: &Inputs, observed: &Observed, plan: &Plan) -> Change {
    let found = &observed.found;
    let adopting = matches!(found.resource, Some((_, How::Adopted)));
    match plan {
        Plan::Create { replaces, .. } => {
            let c = Change::new(Action::Create, None);
            match replaces {
                Some(old) => c.note(format!(
                    "replaces VPN gateway {old}, recorded in status but gone from the cloud"
                )),
                None => c,
            }
        }
        Plan::Missing { id } => Change::new(Action::NoChange, id.clone()).note(format!(
            "VPN gateway {} does not exist in the cloud; the operator creates none (Ready=False \
             NotFound)",
            id.as_deref().unwrap_or("(no spec.cloudId)")
        )),
        Plan::Report => {
            let gw = found.resource();
            let id = gw.map(|g| g.id.clone());
            let mut c = Change::new(Action::NoChange, id)
                .note("managementPolicy is Observe: the operator only reads this gateway");
            if let Some(gw) = gw {
                for d in drift(&obj.spec, &inputs.name, &inputs.tags, gw) {
                    c.notes.push(format!(
                        "{} differs ({} in the cloud, {} in the spec); not corrected",
                        d.field, d.observed, d.desired
                    ));
                }
            }
            c
        }
        Plan::Wait | Plan::Broken => {
            let Some(gw) = found.resource() else {
                return Change::new(Action::NoChange, None);
            };
            let mut c = changes(obj, inputs, gw, adopting);
            let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
            c.notes.push(match plan {
                Plan::Wait => {
                    format!("the gateway is {state}: changes are made once it is ACTIVE again")
                }
                _ => format!("the gateway is {state}: the operator cannot change it"),
            });
            c
        }
        Plan::Upgrade { .. } | Plan::Certificate { .. } => {
            let mut c = match found.resource() {
                Some(gw) => changes(obj, inputs, gw, adopting),
                None => Change::new(Action::NoChange, None),
            };
            c.notes.push(match plan {
                Plan::Upgrade { action, .. } => {
                    format!("calls the gateway upgrade API: {action}")
                }
                _ => "imports or updates the GM certificate from its Secret".to_string(),
            });
            c
        }
        Plan::Update { .. } | Plan::Resize { .. } | Plan::Retag { .. } | Plan::InSync => {
            match found.resource() {
                Some(gw) => changes(obj, inputs, gw, adopting),
                None => Change::new(Action::NoChange, None),
            }
        }
        Plan::WaitForDependents(names) => {
            Change::new(Action::Delete, cloud_id(found)).note(format!(
                "being deleted; waits for the VpnConnections that still need it: {}",
                names.join(", ")
            ))
        }
        Plan::AwaitDeletion { id, state } => Change::new(Action::Delete, Some(id.clone()))
            .note(format!("being deleted; the gateway is {state}")),
        Plan::Delete { id } => Change::new(Action::Delete, Some(id.clone())),
        Plan::Gone => Change::new(Action::NoChange, None)
            .note("being deleted; the gateway is already gone from the cloud"),
        Plan::LeaveForeign { id, owner } => Change::new(Action::Orphan, Some(id.clone())).note(
            format!("being deleted; gateway {id} belongs to {owner} and stays"),
        ),
    }
}

fn cloud_id(found: &Found<ResponseVpnGateway>) -> Option<String> {
    found.resource().map(|g| g.id.clone())
}

/// Everything that differs between the spec and the gateway: the drift the status reports
/// (name, subnets, flavor, tags; immutable fields as notes) and the PUT fields it does not
/// show (IPv6 subnets, EIP ids, policy template).
fn changes(obj: &VpnGateway, inputs: &Inputs, gw: &ResponseVpnGateway, adopting: bool) -> Change {
    let diffs = drift(&obj.spec, &inputs.name, &inputs.tags, gw);
    let (body, fields) = desired_update(&obj.spec, &inputs.name, gw);
    let eip = |e: &Option<ResponseEip>| e.as_ref().and_then(|e| e.id.clone());
    let mut extra = Vec::new();
    for field in fields {
        let (old, new) = match field.as_str() {
            "localSubnetsV6" => (
                gw.local_subnets_v6.as_ref().map(|v| v.join(",")),
                body.local_subnets_v6.as_ref().map(|v| v.join(",")),
            ),
            "eip1.id" => (eip(&gw.eip1), body.eip_id_1.clone()),
            "eip2.id" => (eip(&gw.eip2), body.eip_id_2.clone()),
            "policyTemplate" => (
                gw.policy_template.as_ref().map(json),
                body.policy_template.as_ref().map(json),
            ),
            _ => continue,
        };
        extra.push(FieldChange::new(field, old, new));
    }
    Change::of_diffs(&gw.id, &diffs, extra, adopting)
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
