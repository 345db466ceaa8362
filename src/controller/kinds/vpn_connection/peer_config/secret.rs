//! What to do with the peer configuration Secret: pure.
//!
//! - The Secret spec.peerConfig names is created when missing, replaced (naming the
//!   resourceVersion read) when its content or labels differ, and left alone otherwise.
//! - A Secret of that name that this connection does not own (no owner reference with its
//!   uid) is never touched: the plan reports a conflict instead.
//! - The Secret written before (status.peerConfig.secretName), when spec.peerConfig no longer
//!   names it, is deleted if it is still ours (uid and resourceVersion preconditions).
//! - While the content cannot be rendered (the cloud has not reported a value, or the key in
//!   the Secret has not been sent to the cloud yet), nothing is written: the Secret keeps
//!   describing what the cloud holds.
use std::collections::BTreeMap;
use std::sync::Arc;

use kube::{Resource, ResourceExt};

use crate::controller::runtime::secrets::{SecretWrite, StoredSecret};
use crate::crd::vpn_connection::PeerConfigStatus;
use crate::crd::VpnConnection;

use super::{content_sha256, Rendered, ANNOTATION_SHA256, LABEL_CONNECTION};

/// What `inputs` read for the export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerInputs {
    /// The Secret spec.peerConfig names, if it exists.
    pub target: Option<Arc<StoredSecret>>,
    /// The Secret status.peerConfig records, when spec.peerConfig no longer names it: its name
    /// and, if it exists, the Secret.
    pub previous: Option<(String, Option<Arc<StoredSecret>>)>,
}

/// One write of the plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Create the Secret.
    Create(SecretWrite),
    /// Replace the Secret read at `resource_version`.
    Replace {
        write: SecretWrite,
        resource_version: String,
    },
    /// Delete the Secret if it is still the one read.
    Delete {
        name: String,
        uid: String,
        resource_version: String,
    },
}

/// The peer configuration part of a connection's plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerPlan {
    /// The writes, in order.
    pub steps: Vec<Step>,
    /// status.peerConfig once they are done.
    pub status: Option<PeerConfigStatus>,
    /// The named Secret belongs to someone else: why nothing was written.
    pub conflict: Option<String>,
    /// Why the content was not (re)written now, if it was not.
    pub waiting: Option<String>,
}

/// The Secret to write for `obj` with `content`.
pub fn desired(obj: &VpnConnection, name: &str, content: &Rendered) -> Option<SecretWrite> {
    let owner = obj.controller_owner_ref(&())?;
    Some(SecretWrite {
        name: name.to_string(),
        labels: BTreeMap::from([(LABEL_CONNECTION.to_string(), obj.name_any())]),
        annotations: BTreeMap::from([(
            ANNOTATION_SHA256.to_string(),
            content_sha256(&content.data),
        )]),
        owner,
        data: content.data.clone(),
    })
}

/// Whether the stored Secret already holds what `w` would write.
fn holds(s: &StoredSecret, w: &SecretWrite) -> bool {
    let data: BTreeMap<String, Vec<u8>> = w
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    s.data == data
        && w.labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))
        && w.annotations
            .iter()
            .all(|(k, v)| s.annotations.get(k) == Some(v))
}

/// The message of a conflict with Secret `name`.
pub fn conflict_message(name: &str) -> String {
    format!(
        "Secret {name} (spec.peerConfig.secretName) exists and was not created for this \
         connection: the operator never changes or deletes another owner's Secret. Choose \
         another secretName, or delete that Secret to let the operator create it"
    )
}

/// Deleting the Secret recorded earlier, if it is still ours.
fn delete_previous(uid: &str, peer: &PeerInputs) -> Option<Step> {
    let (name, Some(s)) = peer.previous.as_ref()? else {
        return None;
    };
    (s.owned_by(uid)).then(|| Step::Delete {
        name: name.clone(),
        uid: s.uid.clone().unwrap_or_default(),
        resource_version: s.resource_version.clone().unwrap_or_default(),
    })
}

/// The plan for the peer configuration of `obj`, given what `inputs` read and the content
/// (or why there is none yet).
pub fn plan(obj: &VpnConnection, peer: &PeerInputs, content: Result<Rendered, String>) -> PeerPlan {
    let uid = obj.uid().unwrap_or_default();
    let recorded = obj.status.as_ref().and_then(|s| s.peer_config.clone());
    let Some(spec) = &obj.spec.peer_config else {
        // Removed: delete what was written, if it is still ours.
        return PeerPlan {
            steps: delete_previous(&uid, peer).into_iter().collect(),
            ..Default::default()
        };
    };
    let name = spec.secret_name.as_str();
    let renamed = recorded
        .as_ref()
        .is_some_and(|r| r.secret_name.as_deref() != Some(name));
    let keep = PeerPlan {
        status: recorded.clone(),
        ..Default::default()
    };
    if peer.target.as_deref().is_some_and(|s| !s.owned_by(&uid)) {
        return PeerPlan {
            conflict: Some(conflict_message(name)),
            status: recorded.filter(|_| renamed),
            ..Default::default()
        };
    }
    let content = match content {
        Ok(c) => c,
        Err(why) => {
            return PeerPlan {
                waiting: Some(why),
                ..keep
            }
        }
    };
    let Some(write) = desired(obj, name, &content) else {
        return PeerPlan {
            waiting: Some("the connection has no uid yet".into()),
            ..keep
        };
    };
    let status = Some(PeerConfigStatus {
        secret_name: Some(name.to_string()),
        sha256: Some(content_sha256(&content.data)),
        keys: content.data.keys().cloned().collect(),
        notes: content.notes.clone(),
    });
    let mut steps = Vec::new();
    match peer.target.as_deref() {
        None => steps.push(Step::Create(write)),
        Some(s) if !holds(s, &write) => steps.push(Step::Replace {
            write,
            resource_version: s.resource_version.clone().unwrap_or_default(),
        }),
        Some(_) => {}
    }
    if renamed {
        steps.extend(delete_previous(&uid, peer));
    }
    PeerPlan {
        steps,
        status,
        ..Default::default()
    }
}
