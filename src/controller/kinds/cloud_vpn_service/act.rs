//! Carrying out a CloudVPN service plan. IES answers every write with 202 and an operation id
//! and works on it for a while; a 409 means another operation on the service still runs.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::Plan;
use crate::cloud::ies::IesClient;
use crate::cloud::{CloudError, ErrorKind};
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::requeue::Next;
use crate::crd::common::reasons;

/// What acting did.
#[derive(Clone, Debug, PartialEq)]
pub enum Acted {
    /// Nothing was sent to IES.
    Nothing,
    /// IES accepted a create, update or delete at `at`.
    Accepted {
        /// The new service's id (create).
        service_id: Option<String>,
        operation_id: Option<String>,
        at: Time,
    },
    /// The delete answered 404: the service was already gone.
    AlreadyGone,
}

/// Carries out `plan`.
pub async fn act(cloud: &IesClient, plan: &Plan, ctx: &Context) -> Result<Acted> {
    let accepted = match plan {
        Plan::Create { request, .. } => cloud.create_service(request).await?,
        Plan::Change { id, request, .. } => cloud
            .update_service(id, request)
            .await
            .map_err(busy_to_wait)?,
        Plan::Delete { id } => match cloud.delete_service(id).await {
            Ok(a) => a,
            Err(e) if e.is_not_found() => return Ok(Acted::AlreadyGone),
            Err(e) => return Err(busy_to_wait(e)),
        },
        Plan::Missing { .. }
        | Plan::Wait { .. }
        | Plan::Failed { .. }
        | Plan::NotApplied { .. }
        | Plan::Report
        | Plan::Steady(_)
        | Plan::Gone { .. }
        | Plan::AwaitDeletion { .. } => return Ok(Acted::Nothing),
    };
    Ok(Acted::Accepted {
        service_id: accepted.service_id,
        operation_id: accepted.operation_id,
        at: ctx.clock.now(),
    })
}

/// A 409 from IES means another operation on the service runs: wait, do not fail.
pub fn busy_to_wait(e: CloudError) -> Error {
    if e.kind == ErrorKind::Conflict {
        Error::waiting(
            reasons::CLOUD_BUSY,
            format!(
                "IES is busy with another operation on this service: {}",
                e.message
            ),
            Next::Busy,
        )
    } else {
        e.into()
    }
}
