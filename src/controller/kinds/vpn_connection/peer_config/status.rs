//! Reporting the peer configuration: status.peerConfig, an Event for every Secret written or
//! deleted, and `Synced=False PeerConfigConflict` while the named Secret is another owner's.
//! Pure. Never shows a secret value: only the Secret's name, keys and content hash.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::controller::runtime::contract::Reconciled;
use crate::controller::runtime::events::{actions, Note, PEER_CONFIG_DELETED, PEER_CONFIG_WRITTEN};
use crate::controller::runtime::status::{synced_false_over, Cond};
use crate::crd::common::{find_condition, reasons, types, ConditionStatus};
use crate::crd::{VpnConnection, VpnConnectionStatus};

use super::secret::{PeerPlan, Step};
use super::write::PeerActed;

fn short(sha: Option<&str>) -> &str {
    sha.map_or("", |s| &s[..s.len().min(12)])
}

/// Adds the peer configuration's outcome to a connection's reconcile outcome.
pub fn apply(
    r: &mut Reconciled<VpnConnectionStatus>,
    obj: &VpnConnection,
    plan: &PeerPlan,
    acted: &PeerActed,
    now: &Time,
) {
    if obj.metadata.deletion_timestamp.is_some() || r.released {
        return;
    }
    r.status.peer_config = plan.status.clone();
    let sha = plan.status.as_ref().and_then(|s| s.sha256.as_deref());
    let conn = r.status.cloud_id.clone().unwrap_or_default();
    for (step, changed) in plan.steps.iter().zip(&acted.done) {
        let note = match (step, changed) {
            (_, false) => continue,
            (Step::Create(w), _) => Note::normal(
                PEER_CONFIG_WRITTEN,
                actions::CREATE,
                format!(
                    "wrote the on-premises configuration of connection {conn} to Secret {} \
                     ({}; sha256 {}…)",
                    w.name,
                    w.data.keys().cloned().collect::<Vec<_>>().join(", "),
                    short(sha)
                ),
            ),
            (Step::Replace { write, .. }, _) => Note::normal(
                PEER_CONFIG_WRITTEN,
                actions::UPDATE,
                format!(
                    "updated Secret {} with the current on-premises configuration of \
                     connection {conn} ({}; sha256 {}…)",
                    write.name,
                    write.data.keys().cloned().collect::<Vec<_>>().join(", "),
                    short(sha)
                ),
            ),
            (Step::Delete { name, .. }, _) => Note::normal(
                PEER_CONFIG_DELETED,
                actions::DELETE,
                format!("deleted Secret {name}: spec.peerConfig no longer names it"),
            ),
        };
        r.notes.push(note);
    }
    if let Some(message) = &plan.conflict {
        let previous = obj
            .status
            .as_ref()
            .and_then(|s| find_condition(&s.conditions, types::SYNCED));
        let conds = &mut r.status.conditions;
        // A Synced=False of this reconcile (a cloud error) says more than the conflict.
        if find_condition(conds, types::SYNCED).is_none_or(|c| c.status == ConditionStatus::True) {
            let c = Cond::no(reasons::PEER_CONFIG_CONFLICT, message.clone());
            let gen = obj.metadata.generation;
            if synced_false_over(conds, previous, now, c, gen) {
                let n = Note::warning(reasons::PEER_CONFIG_CONFLICT, actions::RECONCILE, message);
                r.notes.push(n);
            }
        }
    }
}
