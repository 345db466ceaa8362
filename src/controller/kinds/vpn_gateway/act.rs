//! Carrying out a gateway plan. Mutations hold the gateway's lock: one operation at a time per
//! gateway, so the operator never makes the cloud answer "busy" by racing its own calls.
use crate::cloud::model::gateway::{ResponseVpnGateway, VpnGatewayCertificate};
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::VpnClient;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::Result;

use super::certificate::Step as CertificateStep;
use super::Plan;

/// What acting did.
#[derive(Clone, Debug, PartialEq)]
pub enum Acted {
    /// Nothing was changed in the cloud.
    Nothing,
    /// The gateway was created: the cloud's answer.
    Created(ResponseVpnGateway),
    /// A PUT or update-specification was accepted: the cloud's answer.
    Updated(ResponseVpnGateway),
    /// The tags were aligned.
    Retagged,
    /// The upgrade call was accepted; the job it named.
    Upgraded { job: Option<String> },
    /// The certificate was imported or updated: the cloud's answer.
    Certificate(VpnGatewayCertificate),
    /// Deleting: these finished jobs were deleted, then the delete of the gateway was accepted
    /// (`gone`: it answered 404, the gateway was already gone).
    Deleted { jobs: Vec<String>, gone: bool },
}

/// Carries out `plan` for the object with `uid`.
pub async fn act(cloud: &VpnClient, plan: &Plan, uid: &str, ctx: &Context) -> Result<Acted> {
    Ok(match plan {
        Plan::Create { body, .. } => {
            let created = cloud.create_gateway(body).await;
            // Whatever the outcome: the response may be lost after the gateway was made.
            cloud.attempted_create(uid);
            Acted::Created(created?)
        }
        Plan::Update { id, body, .. } => {
            let _lock = ctx.gateway_locks.lock(id).await;
            Acted::Updated(cloud.update_gateway(id, body).await?)
        }
        Plan::Resize { id, flavor } => {
            let _lock = ctx.gateway_locks.lock(id).await;
            Acted::Updated(cloud.update_gateway_specification(id, flavor).await?)
        }
        Plan::Retag { id, diff } => {
            let kind = TagResourceType::VpnGateway;
            if !diff.remove.is_empty() {
                cloud.remove_tags(&kind, id, &diff.remove).await?;
            }
            if !diff.add.is_empty() {
                cloud.add_tags(&kind, id, &diff.add).await?;
            }
            Acted::Retagged
        }
        Plan::Upgrade { id, action, .. } => {
            let _lock = ctx.gateway_locks.lock(id).await;
            Acted::Upgraded {
                job: cloud.upgrade_gateway(id, action.clone()).await?,
            }
        }
        Plan::Certificate { id, step, .. } => {
            let _lock = ctx.gateway_locks.lock(id).await;
            Acted::Certificate(match step {
                CertificateStep::Import(body) => cloud.create_gateway_certificate(id, body).await?,
                CertificateStep::Update {
                    certificate_id,
                    body,
                } => {
                    cloud
                        .update_gateway_certificate(id, certificate_id, body)
                        .await?
                }
            })
        }
        Plan::Delete { id } => {
            // Job records (upgrades) outlive the gateway unless deleted: clean them first.
            let jobs = delete_finished_jobs(cloud, id).await?;
            let _lock = ctx.gateway_locks.lock(id).await;
            let gone = match cloud.delete_gateway(id).await {
                Ok(()) => false,
                Err(e) if e.is_not_found() => true,
                Err(e) => return Err(e.into()),
            };
            Acted::Deleted { jobs, gone }
        }
        Plan::Missing { .. }
        | Plan::Report
        | Plan::Wait
        | Plan::Broken
        | Plan::InSync
        | Plan::WaitForDependents(_)
        | Plan::Gone
        | Plan::LeaveForeign { .. }
        | Plan::AwaitDeletion { .. } => Acted::Nothing,
    })
}

/// Deletes the gateway's finished jobs (upgrade records) so nothing is left behind; returns
/// their ids.
async fn delete_finished_jobs(cloud: &VpnClient, gateway_id: &str) -> Result<Vec<String>> {
    let mut deleted = Vec::new();
    for job in cloud.list_jobs(Some(gateway_id)).await? {
        if job.status.as_ref().is_some_and(|s| s.is_terminal()) {
            match cloud.delete_job(&job.id).await {
                Ok(()) => deleted.push(job.id),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(deleted)
}
