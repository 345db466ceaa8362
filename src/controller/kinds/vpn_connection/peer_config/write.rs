//! Carrying out the peer configuration part of a plan: the Secret writes, through the `Kube`
//! port, after the cloud calls (the Secret never describes a change the cloud refused).
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::Result;

use super::secret::{PeerPlan, Step};

/// What was written: one entry per step of the plan, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerActed {
    /// Per step: `true` when it changed something (a delete of a Secret already gone did not).
    pub done: Vec<bool>,
}

/// Writes the plan's Secrets in `namespace`.
pub async fn write(ctx: &Context, namespace: &str, plan: &PeerPlan) -> Result<PeerActed> {
    let mut done = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let changed = match step {
            Step::Create(w) => ctx.kube.create_secret(namespace, w).await.map(|()| true)?,
            Step::Replace {
                write,
                resource_version,
            } => ctx
                .kube
                .replace_secret(namespace, write, resource_version)
                .await
                .map(|()| true)?,
            Step::Delete {
                name,
                uid,
                resource_version,
            } => {
                ctx.kube
                    .delete_secret(namespace, name, uid, resource_version)
                    .await?
            }
        };
        done.push(changed);
    }
    Ok(PeerActed { done })
}
