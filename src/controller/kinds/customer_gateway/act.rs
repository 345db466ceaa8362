//! Carrying out a customer gateway plan.
use crate::cloud::model::{ResponseCustomerGateway, TagResourceType};
use crate::cloud::{ErrorKind, VpnClient};
use crate::controller::runtime::error::Result;
use crate::controller::runtime::ownership::{TagDiff, MAX_TAGS};

use super::plan::Update;
use super::Plan;

/// What acting did.
#[derive(Clone, Debug, PartialEq)]
pub enum Acted {
    /// Nothing was changed in the cloud.
    Nothing,
    /// Created: the cloud's answer.
    Created(ResponseCustomerGateway),
    /// Tags and/or the PUT were applied: the spec fields changed, and the PUT's answer.
    Changed {
        fields: Vec<&'static str>,
        cgw: Option<ResponseCustomerGateway>,
    },
    /// Deleting: what the delete call found.
    Deleted(Deletion),
}

/// What a delete call found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Deleted now.
    Deleted,
    /// It was already gone (404).
    AlreadyGone,
    /// The cloud refuses: connections still use it.
    InUse,
}

/// Carries out `plan` for the object with `uid`.
pub async fn act(vpn: &VpnClient, plan: &Plan, uid: &str) -> Result<Acted> {
    Ok(match plan {
        Plan::Create { body, .. } => {
            let created = vpn.create_customer_gateway(body).await;
            // Whatever the outcome: the response may be lost after it was made.
            vpn.attempted_create(uid);
            Acted::Created(created?)
        }
        Plan::Sync { id, update, tags } => sync(vpn, id, update.as_ref(), tags).await?,
        Plan::Delete { id } => Acted::Deleted(delete(vpn, id).await?),
        Plan::Missing { .. }
        | Plan::Report
        | Plan::WaitForDependents(_)
        | Plan::Gone(_)
        | Plan::LeaveForeign { .. } => Acted::Nothing,
    })
}

/// Tags through the tag API (at most [`MAX_TAGS`] per call), then the PUT.
pub async fn sync(
    vpn: &VpnClient,
    id: &str,
    update: Option<&Update>,
    tags: &TagDiff,
) -> Result<Acted> {
    let kind = TagResourceType::CustomerGateway;
    let mut fields = Vec::new();
    if !tags.is_empty() {
        for chunk in tags.remove.chunks(MAX_TAGS) {
            vpn.remove_tags(&kind, id, chunk).await?;
        }
        for chunk in tags.add.chunks(MAX_TAGS) {
            vpn.add_tags(&kind, id, chunk).await?;
        }
        fields.push("tags");
    }
    let mut cgw = None;
    if let Some(u) = update {
        cgw = Some(vpn.update_customer_gateway(id, &u.body).await?);
        fields.extend(u.fields.iter().copied());
    }
    Ok(match fields.is_empty() {
        true => Acted::Nothing,
        false => Acted::Changed { fields, cgw },
    })
}

/// Deletes customer gateway `id` (synchronous: done when the call returns).
pub async fn delete(vpn: &VpnClient, id: &str) -> Result<Deletion> {
    match vpn.delete_customer_gateway(id).await {
        Ok(()) => Ok(Deletion::Deleted),
        Err(e) if e.is_not_found() => Ok(Deletion::AlreadyGone),
        Err(e) if e.kind == ErrorKind::InUse => Ok(Deletion::InUse),
        Err(e) => Err(e.into()),
    }
}
