//! Carrying out a connection plan. Creates and mutations of the connection and its monitor
//! hold the gateway's lock: one operation at a time per gateway, so the operator never makes
//! the cloud answer "busy" by racing its own calls.
use crate::cloud::model::connection::{ConnectionStatus, ResponseVpnConnection};
use crate::cloud::model::monitor::{ConnectionMonitorInfo, MonitorStatus};
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::{ErrorKind, VpnClient};
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::ownership::{TagDiff, MAX_TAGS};

use super::plan::{MonitorChange, Update};
use super::Plan;

/// What acting did.
#[derive(Clone, Debug, PartialEq)]
pub enum Acted {
    /// Nothing was changed in the cloud (deleting: monitors may have been deleted while the
    /// connection waits).
    Nothing,
    /// The connection was created: the cloud's answer (`PENDING_CREATE` when it has no state).
    Created(ResponseVpnConnection),
    /// A [`Plan::Sync`] was carried out.
    Synced {
        /// The PUT's answer, when there was one.
        updated: Option<ResponseVpnConnection>,
        /// The monitors after a health check change (`None`: unchanged).
        monitors: Option<Vec<ConnectionMonitorInfo>>,
    },
    /// Deleting: the monitors and then the connection were deleted (`gone`: the connection
    /// answered 404, it was already gone).
    Deleted { gone: bool },
    /// The reset was made; `failed`: the cloud refused it for good (what it said).
    Reset { failed: Option<String> },
}

/// Carries out `plan` for the object with `uid`.
pub async fn act(cloud: &VpnClient, plan: &Plan, uid: &str, ctx: &Context) -> Result<Acted> {
    Ok(match plan {
        Plan::Create { body, .. } => {
            let created = {
                let _lock = ctx.gateway_locks.lock(&body.vgw_id).await;
                cloud.create_connection(body).await
            };
            // Whatever the outcome: the response may be lost after the connection was made.
            cloud.attempted_create(uid);
            let mut c = created?;
            c.status.get_or_insert(ConnectionStatus::PendingCreate);
            Acted::Created(c)
        }
        Plan::Sync {
            id,
            lock,
            tags,
            update,
            monitor,
        } => {
            retag(cloud, id, tags).await?;
            let updated = match update {
                Some(u) => Some(put(cloud, ctx, id, lock, u).await?),
                None => None,
            };
            let monitors = match monitor {
                Some(m) => Some(change_monitor(cloud, ctx, id, lock, m).await?),
                None => None,
            };
            Acted::Synced { updated, monitors }
        }
        Plan::Reset { id, lock, .. } => {
            let _lock = ctx.gateway_locks.lock(lock).await;
            match cloud.reset_connection(id).await {
                Ok(()) => Acted::Reset { failed: None },
                // Refused for good: recorded, not retried (each request is acted on once).
                Err(e) if refused(&e) => Acted::Reset {
                    failed: Some(e.to_string()),
                },
                Err(e) => return Err(e.into()),
            }
        }
        Plan::AwaitDeletion { monitors, .. } => {
            delete_monitors(cloud, monitors).await?;
            Acted::Nothing
        }
        Plan::Delete { id, lock, monitors } => {
            delete_monitors(cloud, monitors).await?;
            let _lock = ctx.gateway_locks.lock(lock).await;
            let gone = match cloud.delete_connection(id).await {
                Ok(()) => false,
                Err(e) if e.is_not_found() => true,
                Err(e) => return Err(e.into()),
            };
            Acted::Deleted { gone }
        }
        Plan::Missing { .. }
        | Plan::Report
        | Plan::Wait
        | Plan::Hold
        | Plan::Gone { .. }
        | Plan::LeaveForeign { .. } => Acted::Nothing,
    })
}

/// A refusal waiting will not cure: the request is answered, not retried.
fn refused(e: &crate::cloud::CloudError) -> bool {
    matches!(
        e.kind,
        ErrorKind::InvalidRequest | ErrorKind::Abnormal | ErrorKind::NotFound
    )
}

async fn retag(cloud: &VpnClient, id: &str, tags: &TagDiff) -> Result<()> {
    let kind = TagResourceType::VpnConnection;
    for chunk in tags.remove.chunks(MAX_TAGS) {
        cloud.remove_tags(&kind, id, chunk).await?;
    }
    for chunk in tags.add.chunks(MAX_TAGS) {
        cloud.add_tags(&kind, id, chunk).await?;
    }
    Ok(())
}

async fn put(
    cloud: &VpnClient,
    ctx: &Context,
    id: &str,
    lock: &str,
    u: &Update,
) -> Result<ResponseVpnConnection> {
    let _lock = ctx.gateway_locks.lock(lock).await;
    Ok(cloud.update_connection(id, &u.body).await?)
}

/// Creates or deletes the health check; returns the monitors afterwards.
async fn change_monitor(
    cloud: &VpnClient,
    ctx: &Context,
    id: &str,
    lock: &str,
    change: &MonitorChange,
) -> Result<Vec<ConnectionMonitorInfo>> {
    match change {
        MonitorChange::Create => {
            let mut m = {
                let _lock = ctx.gateway_locks.lock(lock).await;
                cloud.create_connection_monitor(id).await?
            };
            m.status.get_or_insert(MonitorStatus::PendingCreate);
            m.vpn_connection_id.get_or_insert_with(|| id.to_string());
            Ok(vec![m])
        }
        MonitorChange::Delete(ids) => {
            for m in ids {
                let _lock = ctx.gateway_locks.lock(lock).await;
                match cloud.delete_connection_monitor(m).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Vec::new())
        }
    }
}

/// Deletes a departing connection's monitors. A delete answered with 400 is taken as "already
/// gone" (the provider's own tooling does the same).
async fn delete_monitors(cloud: &VpnClient, ids: &[String]) -> Result<()> {
    for m in ids {
        match cloud.delete_connection_monitor(m).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() || e.kind == ErrorKind::InvalidRequest => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
