//! The compact form in which the controllers' caches keep each object.
//!
//! kube-runtime's reflector keeps every watched object for as long as the controller runs.
//! Decoded, an object with its status is a few KiB of heap in dozens of allocations: at scale
//! the caches were the largest part of the operator's memory, and their many small
//! allocations, made in the middle of a creation storm, pinned heap pages that could not be
//! given back afterwards (figures in docs/PERFORMANCE.md).
//!
//! A [`Cached`] object keeps:
//! - the metadata that kube-runtime and the trigger filter read (trimmed, see [`trim_cached`]);
//! - the names the watch mappers look up ([`Links`]: credentials Secret, and for a connection
//!   its gateway, customer gateway and pre-shared-key Secret);
//! - everything else (spec and status) as deflated JSON.
//!
//! A reconcile decodes the object ([`Cached::decode`]); the mappers that run for every change of
//! a Secret or gateway never decode.
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Deserializer};

use super::error::{Error, Result as ReconcileResult};
use super::object::{Links, Object};

/// The prefix of the annotations the operator reads; other annotations are not cached.
const ANNOTATION_PREFIX: &str = "vpn.hwcloud.dev/";

/// Deflate level: 1 is the fastest and already halves the JSON (level 6 saves 3% more).
const LEVEL: u8 = 1;

/// An object as the controller caches keep it (see the module documentation).
pub struct Cached<K> {
    meta: ObjectMeta,
    links: Links,
    /// The object without its metadata, as deflated JSON.
    body: Box<[u8]>,
    kind: PhantomData<fn() -> K>,
}

impl<K: Object> Cached<K> {
    /// The compact form of `obj`.
    pub fn new(mut obj: K) -> Result<Self, serde_json::Error> {
        let mut meta = std::mem::take(obj.meta_mut());
        trim_cached(&mut meta);
        let links = obj.links();
        let json = serde_json::to_vec(&obj)?;
        Ok(Self {
            meta,
            links,
            body: miniz_oxide::deflate::compress_to_vec(&json, LEVEL).into_boxed_slice(),
            kind: PhantomData,
        })
    }

    /// The object again, with the cached (trimmed) metadata.
    pub fn decode(&self) -> Result<K, serde_json::Error> {
        let json = miniz_oxide::inflate::decompress_to_vec(&self.body).map_err(|e| {
            serde::de::Error::custom(format_args!("cached {} is corrupt: {e}", K::KIND))
        })?;
        let mut obj: K = serde_json::from_slice(&json)?;
        *obj.meta_mut() = self.meta.clone();
        Ok(obj)
    }

    /// [`Self::decode`] for a reconcile: shared, with a failure as a reconcile error.
    pub fn decoded(&self) -> ReconcileResult<Arc<K>> {
        self.decode()
            .map(Arc::new)
            .map_err(|e| Error::Kube(kube::Error::SerdeError(e)))
    }
}

impl<K> Cached<K> {
    pub fn links(&self) -> &Links {
        &self.links
    }
}

impl<K> Clone for Cached<K> {
    fn clone(&self) -> Self {
        Self {
            meta: self.meta.clone(),
            links: self.links.clone(),
            body: self.body.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: Resource<DynamicType = ()>> fmt::Debug for Cached<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("kind", &K::kind(&()))
            .field("namespace", &self.meta.namespace)
            .field("name", &self.meta.name)
            .field("resource_version", &self.meta.resource_version)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl<K: Resource> Resource for Cached<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }

    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }

    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }

    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// Watch events are decoded straight into the compact form: the full object lives only
/// while it is compacted.
impl<'de, K: Object> Deserialize<'de> for Cached<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let obj = K::deserialize(d)?;
        Cached::new(obj).map_err(serde::de::Error::custom)
    }
}

/// What the caches keep of an object's metadata. The operator reads only its own annotations
/// (pause), never labels, managedFields, owner references or other tools' annotations
/// (kubectl's last-applied copy alone is as large as the spec). It writes status and
/// finalizers only, with patches, so nothing trimmed here is ever written back.
pub fn trim_cached(m: &mut ObjectMeta) {
    m.managed_fields = None;
    m.labels = None;
    m.owner_references = None;
    if let Some(a) = &mut m.annotations {
        a.retain(|k, _| k.starts_with(ANNOTATION_PREFIX));
        if a.is_empty() {
            m.annotations = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::PAUSED_ANNOTATION;
    use crate::crd::{VpnConnection, VpnGateway};
    use std::collections::BTreeMap;

    #[test]
    fn the_cache_keeps_only_what_the_operator_reads() {
        let mut m = ObjectMeta {
            name: Some("gw".into()),
            uid: Some("u1".into()),
            generation: Some(3),
            finalizers: Some(vec![crate::crd::FINALIZER.into()]),
            labels: Some(BTreeMap::from([("team".into(), "net".into())])),
            annotations: Some(BTreeMap::from([
                (PAUSED_ANNOTATION.into(), "true".into()),
                (
                    "kubectl.kubernetes.io/last-applied-configuration".into(),
                    "{...}".into(),
                ),
            ])),
            ..Default::default()
        };
        trim_cached(&mut m);
        assert_eq!(m.labels, None);
        assert_eq!(
            m.annotations,
            Some(BTreeMap::from([(PAUSED_ANNOTATION.into(), "true".into())]))
        );
        // What reconciles and the trigger predicate use is untouched.
        assert_eq!(
            (m.name.as_deref(), m.uid.as_deref(), m.generation),
            (Some("gw"), Some("u1"), Some(3))
        );
        assert_eq!(m.finalizers.as_ref().map(Vec::len), Some(1));

        let mut bare = ObjectMeta {
            annotations: Some(BTreeMap::from([("other/x".into(), "y".into())])),
            ..Default::default()
        };
        trim_cached(&mut bare);
        assert_eq!(bare.annotations, None);
    }

    const GATEWAY: &str = r#"{
      "apiVersion": "vpn.hwcloud.dev/v1alpha1", "kind": "VpnGateway",
      "metadata": {"name": "edge", "namespace": "net", "uid": "u-1", "generation": 2,
        "resourceVersion": "17", "finalizers": ["vpn.hwcloud.dev/cleanup"],
        "labels": {"team": "net"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
      "spec": {"vpcId": "a0000000-0000-4000-8000-000000000001", "localSubnets": ["192.168.0.0/24"],
        "eip1": {"id": "e1"}, "eip2": {"id": "e2"}, "tags": {"team": "network"},
        "cloud": {"credentialsSecretRef": {"name": "team-creds"}}},
      "status": {"cloudId": "g-1", "cloudState": "ACTIVE", "observedGeneration": 2,
        "conditions": [{"type": "Ready", "status": "True", "reason": "Available",
          "message": "the VPN gateway is ACTIVE", "lastTransitionTime": "2026-12-05T05:26:15Z",
          "observedGeneration": 2}]}
    }"#;

    #[test]
    fn a_cached_object_decodes_to_what_was_watched_less_the_trimmed_metadata() {
        let watched: VpnGateway = serde_json::from_str(GATEWAY).unwrap();
        let cached: Cached<VpnGateway> = serde_json::from_str(GATEWAY).unwrap();
        let decoded = cached.decode().unwrap();
        assert_eq!(decoded.spec, watched.spec);
        assert_eq!(decoded.status, watched.status);
        let mut meta = watched.metadata.clone();
        trim_cached(&mut meta);
        assert_eq!(decoded.metadata, meta);
        assert_eq!(cached.meta().resource_version.as_deref(), Some("17"));
        assert_eq!(
            cached.links().credentials_secret.as_deref(),
            Some("team-creds")
        );
        // Compact: the deflated body is smaller than the object's JSON without metadata.
        let mut bare = watched.clone();
        bare.metadata = ObjectMeta::default();
        assert!(cached.body.len() < serde_json::to_vec(&bare).unwrap().len());
    }

    #[test]
    fn a_cached_connection_names_its_gateway_customer_gateway_and_secrets() {
        let c: Cached<VpnConnection> = serde_json::from_value(serde_json::json!({
            "apiVersion": "vpn.hwcloud.dev/v1alpha1", "kind": "VpnConnection",
            "metadata": {"name": "link", "namespace": "net", "uid": "u-2"},
            "spec": {
                "vpnGatewayRef": {"name": "edge"},
                "gatewayIp": "eip1",
                "customerGatewayRef": {"cloudId": "cg-9"},
                "pskSecretRef": {"name": "office-psk", "key": "psk"},
                "peerSubnets": ["10.0.0.0/24"]
            }
        }))
        .unwrap();
        let l = c.links();
        assert!(l.gateway.is_to("edge", None));
        assert!(!l.gateway.is_to("other", Some("g-1")));
        assert!(l.customer_gateway.is_to("x", Some("cg-9")));
        assert!(!l.customer_gateway.is_to("x", None));
        assert_eq!(l.secret.as_deref(), Some("office-psk"));
        assert_eq!(l.credentials_secret, None);
        assert_eq!(
            c.decode().unwrap().spec.vpn_gateway_ref.name.as_deref(),
            Some("edge")
        );
    }
}
