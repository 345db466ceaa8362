//! What the runtime needs of any object it manages, before any cloud logic: its identity, its
//! spec and status accessors, the cloud account it names, and the other objects it names
//! ([`Links`], read by the watch mappers). The CRD types implement it next to the phases of
//! their kind ([`super::contract::Managed`]).
use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::core::object::{HasSpec, HasStatus};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::account::{Account, CloudOverride, IesTarget};
use crate::crd::common::{CloudSettings, ManagedSpec, ManagedStatus};

/// An object kind of this operator.
pub trait Object:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasSpec<Spec = <Self as Object>::Spec>
    + HasStatus<Status = <Self as Object>::Status>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Kind name for logs, metrics and keys, e.g. `VpnGateway`.
    const KIND: &'static str;
    /// What messages call the cloud resource, e.g. `VPN gateway`.
    const NOUN: &'static str;
    type Spec: ManagedSpec + Send + Sync;
    type Status: ManagedStatus + Clone + Default + Debug + Serialize + Send + Sync;

    /// The cloud account this object talks to (from its `spec.cloud`; the operator's defaults
    /// fill the rest).
    fn account(&self) -> Account;

    /// The objects this one names, kept beside it in the controller's cache for the watch
    /// mappers. Every kind can name a credentials Secret.
    fn links(&self) -> Links {
        Links {
            credentials_secret: self.account().credentials_secret_name(),
            ..Links::default()
        }
    }
}

/// The VPN account of `spec.cloud` (credentials Secret in the object's namespace).
pub fn vpn_account<K: Resource>(obj: &K, cloud: Option<&CloudSettings>) -> Account {
    let ns = obj.namespace().unwrap_or_default();
    Account::Vpn(match cloud {
        None => CloudOverride::default(),
        Some(c) => CloudOverride {
            region: c.region.clone(),
            project_id: c.project_id.clone(),
            endpoint: c.endpoint.clone(),
            credentials_secret: c
                .credentials_secret_ref
                .as_ref()
                .map(|r| (ns, r.name.clone())),
        },
    })
}

/// The IES tenant of `spec.cloud` (credentials Secret in the object's namespace).
pub fn ies_account<K: Resource>(obj: &K, endpoint: Option<&str>, secret: Option<&str>) -> Account {
    let ns = obj.namespace().unwrap_or_default();
    Account::Ies(IesTarget {
        endpoint: endpoint.map(str::to_string),
        credentials_secret: secret.map(|s| (ns, s.to_string())),
    })
}

/// The objects an object names, read by the watch mappers without decoding it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// `spec.cloud.credentialsSecretRef.name` (same namespace).
    pub credentials_secret: Option<Box<str>>,
    /// A connection's `spec.vpnGatewayRef`.
    pub gateway: Link,
    /// A connection's `spec.customerGatewayRef`.
    pub customer_gateway: Link,
    /// The Secret the object's own data comes from: a connection's `spec.pskSecretRef.name`, a
    /// gateway's `spec.certificate.secretRef.name`.
    pub secret: Option<Box<str>>,
    /// A connection's `spec.peerConfig.secretName` (the Secret it writes).
    pub peer_secret: Option<Box<str>>,
}

/// A reference by name or by cloud id, and the cloud id last resolved for it (in status).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub name: Option<Box<str>>,
    pub cloud_id: Option<Box<str>>,
    pub resolved_id: Option<Box<str>>,
}

impl Link {
    pub fn new(name: Option<&str>, cloud_id: Option<&str>, resolved_id: Option<&str>) -> Self {
        Self {
            name: name.map(Into::into),
            cloud_id: cloud_id.map(Into::into),
            resolved_id: resolved_id.map(Into::into),
        }
    }

    /// Whether this reference may be to `name`, or to cloud id `cloud_id` when one is given
    /// (named, or resolved to it).
    pub fn is_to(&self, name: &str, cloud_id: Option<&str>) -> bool {
        self.name.as_deref() == Some(name)
            || cloud_id.is_some_and(|id| {
                self.cloud_id.as_deref() == Some(id) || self.resolved_id.as_deref() == Some(id)
            })
    }
}

/// `Kind/namespace/name`: the key of per-object state (backoff, logs).
pub fn object_key<K: Object>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::KIND,
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// `namespace/name`: how the `unobserved_objects` metric names an object.
pub fn observation_key<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}
