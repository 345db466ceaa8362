//! Types shared by every kind: conditions, secret and object references, cloud settings,
//! deletion and management policies, drift entries.
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Condition types. Every kind has `Ready` and `Synced`; `TunnelUp` is set on
/// VpnConnection and `Scaling` on CloudVpnService.
pub mod types {
    /// The cloud resource exists and can be used (provisioned, not failed, not frozen).
    pub const READY: &str = "Ready";
    /// The last reconcile succeeded: the cloud matches the spec as far as the operator could
    /// tell, or the operator is waiting for the cloud to finish an operation it started.
    pub const SYNCED: &str = "Synced";
    /// VpnConnection only: the IPsec tunnel is up (cloud status `ACTIVE`, not `DOWN`).
    pub const TUNNEL_UP: &str = "TunnelUp";
    /// CloudVpnService only: a bandwidth change is running (True) or not (False).
    pub const SCALING: &str = "Scaling";
}

/// Defines the reason constants and [`reasons::ALL`] from one list, so the documentation of
/// each reason exists once.
macro_rules! reasons {
    ($( $(#[doc = $doc:expr])+ $name:ident = $value:literal; )+) => {
        $( $(#[doc = $doc])+ pub const $name: &str = $value; )+
        /// Every reason with its documentation, in declaration order (for docs and tests).
        pub const ALL: &[(&str, &str)] = &[ $( ($value, concat!($($doc),+)) ),+ ];
    };
}

/// Condition reasons: stable CamelCase words. Dashboards, Argo CD health checks and alerts may
/// match on them, so they never change meaning.
pub mod reasons {
    reasons! {
        /// Ready=True: the cloud resource exists and is usable.
        AVAILABLE = "Available";
        /// Ready=False: the cloud resource is being created (e.g. `PENDING_CREATE`).
        CREATING = "Creating";
        /// Ready=False: the cloud resource is being changed (e.g. `PENDING_UPDATE`, or a
        /// CloudVPN bandwidth change).
        UPDATING = "Updating";
        /// Ready=False: the gateway's software is being upgraded (`UPGRADING`); it accepts no
        /// change until the upgrade waits for confirmation.
        UPGRADING = "Upgrading";
        /// Ready=False: the gateway was upgraded and waits for `finish` or `rollback`
        /// (`PENDING_UPGRADE_CONFIRM`); it accepts no other change meanwhile. With
        /// `spec.upgrade.policy: Manual` a person decides (the `vpn.hwcloud.dev/upgrade`
        /// annotation); with `Auto` the operator does, from the health of the connections.
        UPGRADE_PENDING_CONFIRM = "UpgradePendingConfirm";
        /// Ready=False: the gateway's upgrade is being rolled back (`ROLLING_BACK`).
        UPGRADE_ROLLING_BACK = "UpgradeRollingBack";
        /// Ready=False: the object is being deleted and the operator waits for the cloud to
        /// finish (e.g. `PENDING_DELETE`, or the resource still answers GET).
        DELETING = "Deleting";
        /// Ready=False: a referenced object (VpnGateway, CustomerGateway, Secret) does not
        /// exist yet or is not Ready. The operator retries; no user action unless it persists.
        DEPENDENCY_NOT_READY = "DependencyNotReady";
        /// Deletion is waiting: other objects (e.g. VpnConnections) still use this one.
        /// Delete them first, or they will be waited for.
        WAITING_FOR_DEPENDENTS = "WaitingForDependents";
        /// Synced=True: the last reconcile succeeded.
        RECONCILE_SUCCESS = "ReconcileSuccess";
        /// Synced=False: the last reconcile failed with an error the operator retries with
        /// backoff; the message says what failed.
        RECONCILE_ERROR = "ReconcileError";
        /// The spec cannot work as written (the cloud rejected it as invalid, or a reference
        /// cannot be resolved). The operator does not retry until the spec changes.
        INVALID_SPEC = "InvalidSpec";
        /// The cloud refused the credentials (HTTP 401/403). Fix the credentials Secret.
        AUTH_FAILED = "AuthFailed";
        /// The cloud rate-limited the operator (HTTP 429); it backs off and retries.
        THROTTLED = "Throttled";
        /// A cloud write for this object waits its turn under the operator's client-side write
        /// limit (`--cloud-write-rate`); not a failure, it is made automatically.
        WRITE_QUEUED = "WriteQueued";
        /// The cloud is busy (system busy, repeated operation, the gateway is being created,
        /// updated or deleted); the operator retries later.
        CLOUD_BUSY = "CloudBusy";
        /// A cloud quota or the gateway's connection limit is exhausted (found by the quota
        /// check before a create, or answered by the cloud). Raise the quota or free capacity;
        /// the operator retries slowly.
        QUOTA_EXCEEDED = "QuotaExceeded";
        /// Synced=False: the cloud lacks the capacity for the request now (VPN.0505 "Gateway
        /// resources are insufficient"); the operator retries with backoff.
        INSUFFICIENT_CAPACITY = "InsufficientCapacity";
        /// The `vpn.hwcloud.dev/paused` annotation is set: the operator changes nothing in
        /// the cloud (deletion included) until it is removed.
        PAUSED = "Paused";
        /// `deletionPolicy: Orphan`: the object was removed from Kubernetes and the cloud
        /// resource was left in place.
        ORPHANED = "Orphaned";
        /// The cloud reports the resource as failed (`FAULT`, `ERROR`, VPN.0510 "The gateway
        /// status is abnormal", a GM certificate that failed to bind). Usually needs the cloud
        /// provider's support, a fixed certificate, or a delete and recreate.
        CLOUD_FAULT = "CloudFault";
        /// The cloud reports the resource as frozen (`FREEZED`), typically for billing reasons.
        FROZEN = "Frozen";
        /// The cloud resource named by `cloudId` (or recorded in status) does not exist.
        NOT_FOUND = "NotFound";
        /// `managementPolicy: Observe`: the operator only reads the cloud resource and
        /// reports it; it never creates, changes or deletes it.
        OBSERVE_ONLY = "ObserveOnly";
        /// Synced=False: a referenced Secret (credentials, pre-shared key) or one of its keys is
        /// missing or unusable. Create or fix the Secret named in the message; the operator retries.
        SECRET_NOT_READY = "SecretNotReady";
        /// Synced=False: the cloud resource (`spec.cloudId`) is tagged as managed by another object
        /// or cluster, so the operator refuses to adopt it. Point `cloudId` at another resource.
        OWNERSHIP_CONFLICT = "OwnershipConflict";
        /// Synced=False (VpnConnection): the Secret spec.peerConfig.secretName names exists and
        /// was not created for this connection, so the operator does not write the on-premises
        /// configuration to it. Choose another name, or delete that Secret.
        PEER_CONFIG_CONFLICT = "PeerConfigConflict";
        /// Synced=False: the cloud answered 404 for a resource the operator needed (e.g. a
        /// referenced gateway by cloud id). Check the id and region.
        CLOUD_NOT_FOUND = "CloudNotFound";
        /// Synced=False: the cloud refused because the resource is still in use (e.g. a customer
        /// gateway with connections). The operator retries.
        CLOUD_RESOURCE_IN_USE = "CloudResourceInUse";
        /// Synced=False: the cloud answered 409 Conflict. The operator retries.
        CLOUD_CONFLICT = "CloudConflict";
        /// Synced=False: the cloud answered with a server error (5xx, VPN.0002). The operator
        /// retries with backoff; contact support if it persists.
        CLOUD_SERVER_ERROR = "CloudServerError";
        /// Synced=False: the cloud endpoint could not be reached or timed out. Check the endpoint,
        /// network and proxy; the operator retries.
        CLOUD_UNREACHABLE = "CloudUnreachable";
        /// Synced=False: the cloud answered with a body the operator could not read. Usually an
        /// endpoint that is not the VPN API; check `--endpoint`.
        CLOUD_RESPONSE_INVALID = "CloudResponseInvalid";
        /// Synced=False: a Kubernetes API call failed (e.g. writing status). The operator retries.
        KUBERNETES_ERROR = "KubernetesError";
        /// A field that the cloud cannot change differs between the spec and the cloud
        /// resource (e.g. after adoption). The operator does not touch it.
        IMMUTABLE_FIELD_DRIFT = "ImmutableFieldDrift";
        /// Synced=False, Ready=False: the object has no cloud account: its spec.cloud does not
        /// name a complete one, its namespace has no account Secret, and the operator has none
        /// of its own. Create the namespace's account Secret or set spec.cloud.
        ACCOUNT_MISSING = "AccountMissing";
        /// Synced=False, Ready=False: the namespace's account Secret cannot be used (a key is
        /// missing or malformed); the message names the Secret and the key.
        ACCOUNT_INVALID = "AccountInvalid";
        /// Synced=False: the account this object resolves to now (its namespace's account
        /// changed) is not the one its cloud resource was created in. The operator keeps
        /// using the recorded account (status.account) and never moves or recreates the
        /// resource; restore the account, or delete and re-create the object.
        ACCOUNT_CHANGED = "AccountChanged";
        /// TunnelUp=True: the cloud reports the connection `ACTIVE`.
        TUNNEL_ACTIVE = "TunnelActive";
        /// TunnelUp=False: the cloud reports the connection `DOWN` (normal until the peer
        /// device is configured) or `ERROR`.
        TUNNEL_DOWN = "TunnelDown";
        /// TunnelUp=Unknown: the connection is not provisioned yet or its state is `UNKNOWN`.
        TUNNEL_STATE_UNKNOWN = "TunnelStateUnknown";
        /// Scaling=True: the operator raised the bandwidth because utilisation was above target.
        SCALING_UP = "ScalingUp";
        /// Scaling=True: the operator lowered the bandwidth because utilisation was below target.
        SCALING_DOWN = "ScalingDown";
        /// Scaling=False: utilisation is within the target band, or autoscaling is off.
        STABLE = "Stable";
        /// Scaling=False: a change is wanted but a cooldown since the last change is running.
        COOLING_DOWN = "CoolingDown";
        /// Scaling=False: a change is wanted but the bandwidth is at minBandwidth or maxBandwidth.
        AT_LIMIT = "AtLimit";
        /// Scaling=False: no traffic samples could be read, so no decision was made.
        METRICS_UNAVAILABLE = "MetricsUnavailable";
    }
}

/// Status of a condition, as in Kubernetes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[schemars(description = "")]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// The operator cannot tell (yet).
    Unknown,
}

impl ConditionStatus {
    /// `True` for `true`, `False` for `false`.
    pub fn from_bool(value: bool) -> Self {
        if value {
            Self::True
        } else {
            Self::False
        }
    }
}

impl fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        })
    }
}

/// One observation about the object, in the standard Kubernetes condition shape.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type: `Ready`, `Synced`, `TunnelUp` or `Scaling`.
    #[serde(rename = "type")]
    #[schemars(length(min = 1, max = 64))]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// Machine-readable CamelCase reason, e.g. `Available`, `Creating`, `CloudBusy`.
    #[schemars(length(min = 1, max = 64))]
    pub reason: String,
    /// Human-readable details: what happened and what to do.
    #[serde(default)]
    #[schemars(length(max = 4096))]
    pub message: String,
    /// Last time the status changed (not the reason or message).
    pub last_transition_time: Time,
    /// The metadata.generation the condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Condition {
    /// A condition to pass to [`set_condition`], which sets `lastTransitionTime`.
    pub fn new(
        type_: &str,
        status: ConditionStatus,
        reason: &str,
        message: impl Into<String>,
        observed_generation: Option<i64>,
    ) -> Self {
        Self {
            type_: type_.to_string(),
            status,
            reason: reason.to_string(),
            message: message.into(),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            observed_generation,
        }
    }
}

/// Inserts or updates the condition of `new.type_`. `lastTransitionTime` becomes `now` when
/// the condition is new or its status changes, and is kept otherwise (reason, message and
/// observedGeneration are always taken from `new`). Returns whether anything changed.
pub fn set_condition(conditions: &mut Vec<Condition>, new: Condition, now: Time) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            let last_transition_time = if existing.status == new.status {
                existing.last_transition_time.clone()
            } else {
                now
            };
            let updated = Condition {
                last_transition_time,
                ..new
            };
            if *existing == updated {
                false
            } else {
                *existing = updated;
                true
            }
        }
        None => {
            conditions.push(Condition {
                last_transition_time: now,
                ..new
            });
            true
        }
    }
}

/// The condition of the given type, if present.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of the given type is present with status `True`.
pub fn is_condition_true(conditions: &[Condition], type_: &str) -> bool {
    find_condition(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

/// A key in a Secret in the object's namespace.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeySelector {
    /// Name of the Secret, in the same namespace as this object.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Key inside the Secret's data.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// Where and as whom to call the Huawei Cloud API for this object. Every field is optional and
/// overrides the operator's default (its command-line flags and credentials Secret).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudSettings {
    /// Region, e.g. `cn-north-4`. Immutable: the cloud resource lives in one region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub region: Option<String>,
    /// IAM project id of the region. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub project_id: Option<String>,
    /// Base URL of the VPN API, e.g. `https://vpc.<region>.<domain>`. Defaults to the operator's
    /// endpoint for the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048), regex(pattern = r"^https?://[^\s]+$"))]
    pub endpoint: Option<String>,
    /// Secret in this namespace with the credentials to use instead of the operator's: keys
    /// `accessKey` and `secretKey` (AK/SK), plus `securityToken` for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,
}

/// Where an object's cloud account comes from (first that applies).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, JsonSchema)]
#[schemars(description = "")]
pub enum AccountSource {
    /// The object's `spec.cloud` names its own credentials Secret.
    Object,
    /// The account Secret of the object's namespace (`vpn-operator-account` unless the
    /// operator was started with another `--account-secret-name`).
    Namespace,
    /// The operator's own account (its flags and `--credentials-secret`).
    Operator,
}

/// The cloud account an object uses. Recorded once its cloud resource exists, it does not
/// change when the namespace's account does (reason `AccountChanged`).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    /// Where the account comes from: `Object`, `Namespace` or `Operator`. Fields of
    /// `spec.cloud` override the others one by one; this names where the credentials come
    /// from.
    pub source: AccountSource,
    /// The Secret the credentials are read from, as `namespace/name` (absent with the
    /// operator's in-process simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The IAM project id (VPN kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The region (VPN kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The API endpoint the operator calls for this object.
    pub endpoint: String,
}

/// A Secret in the object's namespace, whose keys are fixed by the field that refers to it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    /// Name of the Secret, in the same namespace as this object.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
}

/// What happens in the cloud when the Kubernetes object is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default, JsonSchema)]
#[schemars(description = "")]
pub enum DeletionPolicy {
    /// Delete the cloud resource, then remove the finalizer (default).
    #[default]
    Delete,
    /// Leave the cloud resource in place and only remove the Kubernetes object (the operator
    /// takes its own owner tags off the resource, so it can be adopted again).
    Orphan,
}

/// How much the operator may do in the cloud.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default, JsonSchema)]
#[schemars(description = "")]
pub enum ManagementPolicy {
    /// Create, update and delete the cloud resource to match the spec (default).
    #[default]
    Default,
    /// Only read the cloud resource named by `cloudId` and report it in status; never create,
    /// change or delete it (deletion of the object leaves the cloud resource alone).
    Observe,
}

/// A reference to another object of this operator: either by the name of a custom resource in
/// the same namespace, or by the id of a cloud resource that is not managed here. Set exactly one.
#[derive(KubeSchema, Serialize, Deserialize, Clone, PartialEq, Eq, Debug, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = super::rules::exactly_one_of("name", "cloudId"))]
pub struct ResourceRef {
    /// Name of the custom resource in the same namespace. The operator waits until it is Ready
    /// and uses the cloud id from its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: Option<String>,
    /// Cloud id (UUID) of an existing resource that no custom resource manages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9-]+$"))]
    pub cloud_id: Option<String>,
}

/// One field whose cloud value differs from the desired value.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftEntry {
    /// Spec field (camelCase path), e.g. `localSubnets` or `ikePolicy.lifetimeSeconds`.
    pub field: String,
    /// The desired value, rendered as text. Secrets are shown as hashes, never as values.
    pub desired: String,
    /// The value the cloud reports, rendered as text.
    pub observed: String,
    /// When the operator first saw this difference.
    pub detected_at: Time,
}

/// Common accessors over the spec of every kind, for the shared reconcile machinery.
pub trait ManagedSpec {
    /// The cloud id the user asked to adopt (`spec.cloudId`).
    fn adopt_cloud_id(&self) -> Option<&str>;
    /// What to do in the cloud on deletion.
    fn deletion_policy(&self) -> DeletionPolicy;
    /// Whether the operator may change the cloud.
    fn management_policy(&self) -> ManagementPolicy;
}

/// Common accessors over the status of every kind, for the shared reconcile machinery.
pub trait ManagedStatus {
    /// The cloud id recorded in status.
    fn cloud_id(&self) -> Option<&str>;
    /// The conditions.
    fn conditions(&self) -> &[Condition];
    /// The conditions, for [`set_condition`].
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    /// Sets `status.observedGeneration`.
    fn set_observed_generation(&mut self, generation: Option<i64>);
    /// The cloud account recorded in status.
    fn account(&self) -> Option<&AccountStatus>;
    /// Records the cloud account.
    fn set_account(&mut self, account: Option<AccountStatus>);
}

/// Implements [`ManagedSpec`] and [`ManagedStatus`] for a kind whose spec has `cloudId`,
/// `deletionPolicy`, `managementPolicy`, and whose status has `cloudId`, `conditions`,
/// `observedGeneration` and `account`.
macro_rules! impl_managed {
    ($spec:ty, $status:ty) => {
        impl $crate::crd::common::ManagedSpec for $spec {
            fn adopt_cloud_id(&self) -> Option<&str> {
                self.cloud_id.as_deref()
            }
            fn deletion_policy(&self) -> $crate::crd::common::DeletionPolicy {
                self.deletion_policy
            }
            fn management_policy(&self) -> $crate::crd::common::ManagementPolicy {
                self.management_policy
            }
        }
        impl $crate::crd::common::ManagedStatus for $status {
            fn cloud_id(&self) -> Option<&str> {
                self.cloud_id.as_deref()
            }
            fn conditions(&self) -> &[$crate::crd::common::Condition] {
                &self.conditions
            }
            fn conditions_mut(&mut self) -> &mut Vec<$crate::crd::common::Condition> {
                &mut self.conditions
            }
            fn set_observed_generation(&mut self, generation: Option<i64>) {
                self.observed_generation = generation;
            }
            fn account(&self) -> Option<&$crate::crd::common::AccountStatus> {
                self.account.as_ref()
            }
            fn set_account(&mut self, account: Option<$crate::crd::common::AccountStatus>) {
                self.account = account;
            }
        }
    };
}
pub(crate) use impl_managed;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    fn ready(status: ConditionStatus, reason: &str, message: &str, generation: i64) -> Condition {
        Condition::new(types::READY, status, reason, message, Some(generation))
    }

    #[test]
    fn new_condition_gets_now_as_transition_time() {
        let mut conditions = Vec::new();
        let changed = set_condition(
            &mut conditions,
            ready(ConditionStatus::False, reasons::CREATING, "creating", 1),
            at(100),
        );
        assert!(changed);
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_transition_time, at(100));
    }

    #[test]
    fn same_status_keeps_transition_time_but_takes_reason_and_message() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ready(ConditionStatus::False, reasons::CREATING, "a", 1),
            at(100),
        );
        let changed = set_condition(
            &mut conditions,
            ready(ConditionStatus::False, reasons::CLOUD_BUSY, "busy", 2),
            at(200),
        );
        assert!(changed);
        assert_eq!(conditions[0].last_transition_time, at(100));
        assert_eq!(conditions[0].reason, reasons::CLOUD_BUSY);
        assert_eq!(conditions[0].message, "busy");
        assert_eq!(conditions[0].observed_generation, Some(2));
    }

    #[test]
    fn status_change_moves_transition_time() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ready(ConditionStatus::False, reasons::CREATING, "a", 1),
            at(100),
        );
        set_condition(
            &mut conditions,
            ready(ConditionStatus::True, reasons::AVAILABLE, "ok", 1),
            at(300),
        );
        assert_eq!(conditions[0].status, ConditionStatus::True);
        assert_eq!(conditions[0].last_transition_time, at(300));
    }

    #[test]
    fn identical_update_reports_no_change() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ready(ConditionStatus::True, reasons::AVAILABLE, "ok", 3),
            at(100),
        );
        let changed = set_condition(
            &mut conditions,
            ready(ConditionStatus::True, reasons::AVAILABLE, "ok", 3),
            at(500),
        );
        assert!(!changed);
        assert_eq!(conditions[0].last_transition_time, at(100));
    }

    #[test]
    fn conditions_of_other_types_are_left_alone() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ready(ConditionStatus::True, reasons::AVAILABLE, "ok", 1),
            at(100),
        );
        let synced = Condition::new(
            types::SYNCED,
            ConditionStatus::False,
            reasons::RECONCILE_ERROR,
            "x",
            Some(1),
        );
        set_condition(&mut conditions, synced, at(200));
        assert_eq!(conditions.len(), 2);
        assert!(is_condition_true(&conditions, types::READY));
        assert!(!is_condition_true(&conditions, types::SYNCED));
        assert_eq!(
            find_condition(&conditions, types::READY).map(|c| c.last_transition_time.clone()),
            Some(at(100))
        );
    }

    #[test]
    fn reasons_are_unique_camel_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for (reason, doc) in reasons::ALL {
            assert!(seen.insert(*reason), "duplicate reason {reason}");
            assert!(
                reason
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase()),
                "{reason}"
            );
            assert!(
                reason.chars().all(|c| c.is_ascii_alphanumeric()),
                "{reason}"
            );
            assert!(!doc.trim().is_empty(), "{reason} has no documentation");
        }
        assert!(
            seen.contains("Available") && seen.contains("InvalidSpec") && seen.contains("Paused")
        );
    }

    #[test]
    fn condition_serializes_with_kubernetes_field_names() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ready(ConditionStatus::True, reasons::AVAILABLE, "ok", 4),
            at(0),
        );
        let json = serde_json::to_value(&conditions[0]).unwrap_or_default();
        assert_eq!(json["type"], "Ready");
        assert_eq!(json["status"], "True");
        assert_eq!(json["lastTransitionTime"], "1970-01-01T00:00:00Z");
        assert_eq!(json["observedGeneration"], 4);
    }
}
