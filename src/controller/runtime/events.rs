//! The Kubernetes Events the controllers publish: [`Note`], and one vocabulary of reasons and
//! actions for every kind, so the same happening has the same words whatever the kind (the
//! Event's `regarding` object already names the kind). Condition reasons are a separate list
//! (`crd::common::reasons`); a failed reconcile's Event carries the condition reason it wrote.
//! `docs/CONDITIONS.md` lists both, and a test keeps it complete.

/// A Kubernetes Event to publish about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    /// CamelCase reason: one of [`ALL_REASONS`] or a condition reason.
    pub reason: String,
    /// One of [`actions::ALL`].
    pub action: String,
    /// Human message; never contains secret values.
    pub message: String,
}

impl Note {
    pub fn normal(reason: &str, action: &str, message: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason: reason.into(),
            action: action.into(),
            message: message.into(),
        }
    }

    pub fn warning(reason: &str, action: &str, message: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason: reason.into(),
            action: action.into(),
            message: message.into(),
        }
    }
}

/// What the operator did (or tried) when it published an Event: a verb, the same for every kind.
pub mod actions {
    /// Made a cloud resource.
    pub const CREATE: &str = "Create";
    /// Changed a cloud resource (fields, flavor, tags, health check, pre-shared key, bandwidth).
    pub const UPDATE: &str = "Update";
    /// Deleted, or waited for the deletion of, a cloud resource (or a record belonging to it).
    pub const DELETE: &str = "Delete";
    /// Took an existing cloud resource into management (`spec.cloudId`, or found by owner tag).
    pub const ADOPT: &str = "Adopt";
    /// Read the cloud and found something worth saying (drift, a change made elsewhere).
    pub const OBSERVE: &str = "Observe";
    /// Let go of the cloud resource without deleting it (`deletionPolicy: Orphan`, Observe).
    pub const ORPHAN: &str = "Orphan";
    /// A reconcile that failed (the reason is the condition reason it wrote).
    pub const RECONCILE: &str = "Reconcile";
    /// The bandwidth autoscaler decided (CloudVpnService).
    pub const AUTOSCALE: &str = "Autoscale";

    /// Every action.
    pub const ALL: &[&str] = &[
        CREATE, UPDATE, DELETE, ADOPT, OBSERVE, ORPHAN, RECONCILE, AUTOSCALE,
    ];
}

/// Defines the reason constants and [`ALL_REASONS`] from one list.
macro_rules! event_reasons {
    ($( $(#[doc = $doc:expr])+ $name:ident = $value:literal; )+) => {
        $( $(#[doc = $doc])+ pub const $name: &str = $value; )+
        /// Every Event reason that is not a condition reason, with its documentation.
        pub const ALL_REASONS: &[(&str, &str)] = &[ $( ($value, concat!($($doc),+)) ),+ ];
    };
}

event_reasons! {
    /// The cloud resource was created.
    CREATED = "Created";
    /// Updatable fields, tags, the health check or the bandwidth were changed in the cloud.
    UPDATED = "Updated";
    /// An existing cloud resource (`spec.cloudId`) is now managed by this object.
    ADOPTED = "Adopted";
    /// A cloud resource created earlier for this object (lost response, crash before the status
    /// write) was found by its owner tag (or name) and is used instead of creating another.
    RECOVERED = "Recovered";
    /// The cloud resource is gone from the cloud.
    DELETED = "Deleted";
    /// Deletion was requested; the operator waits until the cloud answers 404.
    DELETE_REQUESTED = "DeleteRequested";
    /// A finished gateway job record was deleted.
    JOB_DELETED = "JobDeleted";
    /// A new pre-shared key was sent to the cloud (the value is never shown).
    PSK_ROTATED = "PskRotated";
    /// VpnConnection: the on-premises configuration (spec.peerConfig) was written to its
    /// Secret, created or updated because the effective settings changed (only the Secret's
    /// name, keys and content hash are shown).
    PEER_CONFIG_WRITTEN = "PeerConfigWritten";
    /// VpnConnection: a peer configuration Secret the operator wrote was deleted
    /// (spec.peerConfig removed or renamed).
    PEER_CONFIG_DELETED = "PeerConfigDeleted";
    /// The cloud differs from the spec in a way the operator did not cause.
    DRIFT_DETECTED = "DriftDetected";
    /// The cloud resource recorded in status is gone and no copy carries this object's owner
    /// tag: a new one is created.
    RECREATING = "Recreating";
    /// The object was deleted but its cloud resource belongs to another object (its owner tag
    /// names another object): the resource was left in place and the finalizer removed.
    NOT_DELETED = "NotDeleted";
    /// CloudVpnService: IES finished an update but the line does not show it (rolled back?).
    UPDATE_NOT_APPLIED = "UpdateNotApplied";
    /// CloudVpnService: a bandwidth changed in IES was put back (autoscaling off).
    DRIFT_CORRECTED = "DriftCorrected";
    /// CloudVpnService with autoscaling: the user changed `spec.bandwidth`; it is applied.
    MANUAL_CHANGE = "ManualChange";
    /// CloudVpnService with autoscaling: the bandwidth was changed in IES by someone else;
    /// the autoscaler adopts it.
    EXTERNAL_CHANGE = "ExternalChange";
    /// VpnGateway: the operator started a software upgrade (`start`).
    UPGRADE_STARTED = "UpgradeStarted";
    /// VpnGateway: an upgrade waits for `finish` or `rollback` (`PENDING_UPGRADE_CONFIRM`).
    UPGRADE_AWAITS_CONFIRMATION = "UpgradeAwaitsConfirmation";
    /// VpnGateway: the operator confirmed an upgrade (`finish`): the new software is kept.
    UPGRADE_FINISHED = "UpgradeFinished";
    /// VpnGateway: the operator rolled an upgrade back (`rollback`).
    UPGRADE_ROLLBACK_STARTED = "UpgradeRollbackStarted";
    /// VpnGateway: an upgrade finished outside the operator (job `success`).
    UPGRADE_SUCCEEDED = "UpgradeSucceeded";
    /// VpnGateway: an upgrade was rolled back (job `rollback_success`).
    UPGRADE_ROLLED_BACK = "UpgradeRolledBack";
    /// VpnGateway: the upgrade job failed (job `fail`).
    UPGRADE_FAILED = "UpgradeFailed";
    /// VpnGateway: the `vpn.hwcloud.dev/upgrade` annotation asks for a step the gateway's state
    /// does not allow, or is not `start`, `finish` or `rollback`; nothing was called.
    UPGRADE_REFUSED = "UpgradeRefused";
    /// VpnGateway (GM): the certificates of `spec.certificate` were imported.
    CERTIFICATE_IMPORTED = "CertificateImported";
    /// VpnGateway (GM): the certificate was updated from a changed Secret.
    CERTIFICATE_UPDATED = "CertificateUpdated";
    /// VpnGateway (GM): the certificate is bound; connections can use the gateway.
    CERTIFICATE_BOUND = "CertificateBound";
    /// VpnGateway (GM): the certificate failed to bind (`FAULT`).
    CERTIFICATE_FAULT = "CertificateFault";
    /// VpnConnection: the tunnel was reset as the `vpn.hwcloud.dev/reset-requested-at`
    /// annotation asked.
    CONNECTION_RESET = "ConnectionReset";
    /// VpnConnection: a reset was asked for while the connection cannot be reset (`PENDING_*`,
    /// not provisioned, observe only); nothing was called.
    RESET_REFUSED = "ResetRefused";
    /// VpnConnection: the cloud refused a reset.
    RESET_FAILED = "ResetFailed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_reasons_are_camel_case_and_distinct_from_condition_reasons() {
        let conditions: Vec<&str> = crate::crd::common::reasons::ALL
            .iter()
            .map(|(r, _)| *r)
            .collect();
        for (r, doc) in ALL_REASONS {
            assert!(
                r.chars().next().is_some_and(|c| c.is_ascii_uppercase()),
                "{r}"
            );
            assert!(r.chars().all(|c| c.is_ascii_alphanumeric()), "{r}");
            assert!(!doc.trim().is_empty(), "{r} is undocumented");
            assert!(!conditions.contains(r), "{r} is also a condition reason");
        }
        for a in actions::ALL {
            assert!(a.chars().all(|c| c.is_ascii_alphabetic()), "{a}");
        }
    }

    #[test]
    fn every_event_reason_and_action_is_documented_for_users() {
        let doc = include_str!("../../../docs/CONDITIONS.md");
        let rows: Vec<&str> = ALL_REASONS
            .iter()
            .map(|(r, _)| *r)
            .chain(actions::ALL.iter().copied())
            .collect();
        for word in rows {
            assert!(
                doc.contains(&format!("| `{word}` |")),
                "docs/CONDITIONS.md has no row for the Event word {word}"
            );
        }
    }
}
