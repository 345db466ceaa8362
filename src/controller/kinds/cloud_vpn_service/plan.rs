//! What to do with a CloudVPN service: pure functions of the spec, the previous status, the
//! observation and `now`.
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::autoscaler::Sample;
use super::bandwidth::{plan_bandwidth, BandwidthPlan};
use super::desired::{create_request, update_request};
use super::{Inputs, Observed, Traffic};
use crate::cloud::model::ies::{ServiceInstance, ServiceRequest, ServiceStatus};
use crate::cloud::CloudError;
use crate::controller::runtime::clock::elapsed;
use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::lookup::{Absent, Found, How};
use crate::controller::runtime::requeue::pending_for;
use crate::crd::cloud_vpn_service::{CloudVpnService, CloudVpnServiceStatus};
use crate::crd::common::{find_condition, reasons, types, ManagementPolicy};

/// How long IES may take for one operation before the condition message says so (the deck:
/// about 10 minutes for a create).
pub const OPERATION_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// How long after a PUT a `Completed` status with the old bandwidth is still taken for "not
/// started yet" rather than "rolled back".
pub const UPDATE_CONFIRM_GRACE: Duration = Duration::from_secs(60);

/// The next step for a CloudVPN service.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// No service: create one. `replaces`: the recorded service that is gone.
    Create {
        request: Box<ServiceRequest>,
        replaces: Option<String>,
    },
    /// The service the object points at (`spec.cloudId`, or observe-only) does not exist; the
    /// operator creates none. `None`: observe-only without an id.
    Missing { id: Option<String> },
    /// IES works on the service (or a change just sent does not show yet): the `Ready` reason
    /// and message, and how long the operation has run.
    Wait {
        reason: &'static str,
        message: String,
        since: Duration,
    },
    /// IES reports a status that reads like a failure.
    Failed { state: String },
    /// IES finished the operator's change but the line shows another bandwidth (rolled back).
    NotApplied { wanted: i64, have: Option<i64> },
    /// Observe only: report what is there.
    Report,
    /// Change the bandwidth (or only the description) with a PUT.
    Change {
        id: String,
        request: Box<ServiceRequest>,
        from: i64,
        bandwidth: BandwidthPlan,
    },
    /// Nothing to change; the bandwidth plan says why (the autoscaler's decision).
    Steady(BandwidthPlan),
    /// Deleting: the service (`id`, or the name searched for) is gone from IES.
    Gone { id: String },
    /// Deleting: IES works on the service; delete it when that is done.
    AwaitDeletion { id: String, state: ServiceStatus },
    /// Deleting: delete the service.
    Delete { id: String },
}

impl Plan {
    /// Whether carrying out the plan writes to the cloud (see `Managed::writes`).
    pub fn writes(&self) -> bool {
        match self {
            Plan::Create { .. } | Plan::Change { .. } | Plan::Delete { .. } => true,
            Plan::Missing { .. }
            | Plan::Wait { .. }
            | Plan::Failed { .. }
            | Plan::NotApplied { .. }
            | Plan::Report
            | Plan::Steady(_)
            | Plan::Gone { .. }
            | Plan::AwaitDeletion { .. } => false,
        }
    }
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

/// Whether the instance is `Completed` with the bandwidth the last operation asked for: the
/// operator may decide a change (and reads the traffic for it).
pub fn is_idle(svc: &ServiceInstance, prev: &CloudVpnServiceStatus) -> bool {
    let status = svc.status.clone().unwrap_or_else(|| "unknown".into());
    !status.is_failed()
        && status.is_completed()
        && prev
            .target_bandwidth
            .is_none_or(|t| svc.bandwidth() == Some(t))
}

/// Classifies an observed instance against what the last operation wanted, `since_op` after
/// it was sent (`Duration::MAX`: not known).
pub fn phase(svc: &ServiceInstance, prev: &CloudVpnServiceStatus, since_op: Duration) -> Phase {
    let status = svc.status.clone().unwrap_or_else(|| "unknown".into());
    let raw = status.to_string();
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

/// The previous status as the plan reads it. A service found by name was created by this
/// object with the spec's bandwidth, but the status write that recorded it was lost.
pub fn previous(obj: &CloudVpnService, found: &Found<ServiceInstance>) -> CloudVpnServiceStatus {
    let mut prev = obj.status.clone().unwrap_or_default();
    if matches!(found.resource, Some((_, How::Recovered))) {
        prev.last_operation.get_or_insert_with(|| "create".into());
        prev.spec_bandwidth.get_or_insert(obj.spec.bandwidth);
    }
    prev
}

/// How long ago the last operation was sent (`Duration::MAX`: not known).
pub fn since_operation(prev: &CloudVpnServiceStatus, now: &Time) -> Duration {
    prev.last_operation_time
        .as_ref()
        .map_or(Duration::MAX, |t| elapsed(t, now))
}

/// Decides what to do with the object's service.
pub fn plan(
    obj: &CloudVpnService,
    inputs: &Inputs,
    observed: &Observed,
    now: &Time,
) -> Result<Plan> {
    let spec = &obj.spec;
    let found = &observed.found;
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(deletion(inputs, found));
    }
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let Some(svc) = found.resource() else {
        let create = |replaces| match &observed.definition {
            Some((definition, template)) => Ok(Plan::Create {
                request: Box::new(create_request(spec, &inputs.name, definition, template)),
                replaces,
            }),
            // Observe resolves the definition whenever a create is due.
            None => Err(Error::InvalidSpec(
                "set serviceDefinition.id or serviceDefinition.name".into(),
            )),
        };
        return match found.absent(spec.cloud_id.as_deref(), observe_only) {
            Absent::Create => create(None),
            Absent::Recreate { gone } => create(Some(gone)),
            Absent::Missing { id } => Ok(Plan::Missing { id }),
        };
    };
    let prev = previous(obj, found);
    let since_op = since_operation(&prev, now);
    match phase(svc, &prev, since_op) {
        Phase::Busy(reason, message) => {
            let since = match since_op {
                Duration::MAX => {
                    pending_for(find_condition(&prev.conditions, types::READY), None, now)
                }
                known => known.min(OPERATION_DEADLINE),
            };
            return Ok(Plan::Wait {
                reason,
                message,
                since,
            });
        }
        Phase::Failed(state) => return Ok(Plan::Failed { state }),
        Phase::NotApplied { wanted, have } => return Ok(Plan::NotApplied { wanted, have }),
        Phase::Idle => {}
    }
    if observe_only {
        return Ok(Plan::Report);
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
    let ours = prev.target_bandwidth.is_some() && prev.target_bandwidth == Some(current);
    let samples: Option<Vec<Sample>> = match &observed.traffic {
        Traffic::Read(points) => Some(
            points
                .iter()
                .map(|p| Sample {
                    time: p.time,
                    rate: p.rate(),
                })
                .collect(),
        ),
        Traffic::NotRead | Traffic::Unreadable(_) => None,
    };
    let bandwidth = plan_bandwidth(spec, &prev, current, ours, samples.as_deref(), now);
    let description = spec.description.clone().unwrap_or_default();
    if bandwidth.desired == current && svc.description.clone().unwrap_or_default() == description {
        return Ok(Plan::Steady(bandwidth));
    }
    Ok(Plan::Change {
        id: svc.service_id.clone(),
        request: Box::new(update_request(svc, spec, bandwidth.desired, &description)),
        from: current,
        bandwidth,
    })
}

/// Deleting: wait while IES works on the service, then delete it; done when it is gone.
fn deletion(inputs: &Inputs, found: &Found<ServiceInstance>) -> Plan {
    let Some(svc) = found.resource() else {
        return Plan::Gone {
            id: found.gone.clone().unwrap_or_else(|| inputs.name.clone()),
        };
    };
    let id = svc.service_id.clone();
    let state = svc.status.clone().unwrap_or_else(|| "unknown".into());
    if state == ServiceStatus::Deleting || !(state.is_completed() || state.is_failed()) {
        return Plan::AwaitDeletion { id, state };
    }
    Plan::Delete { id }
}
