//! The live backend of [`super::Kube`]: the API server through kube-rs.
//!
//! Objects a reconcile refers to are read from the controllers' own caches ([`Stores`]) instead
//! of the API server: a pending connection is looked at every second, and each look would
//! otherwise cost two GETs. The caches keep objects in compact form ([`Cached`]); what is read
//! is decoded.
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures::FutureExt;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};

use crate::controller::runtime::cached::Cached;
use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::events::Note;
use crate::controller::runtime::object::{Links, Object};

/// The controllers' caches of each kind, filled in by the controllers once they exist. Until
/// then (and for a kind without a controller) reads go to the API server.
#[derive(Default)]
pub struct Stores {
    by_kind: RwLock<HashMap<&'static str, Box<dyn Any + Send + Sync>>>,
}

impl Stores {
    /// Registers the cache of kind `K`.
    pub fn set<K: Object>(&self, store: Store<Cached<K>>) {
        self.by_kind
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(K::KIND, Box::new(store));
    }

    /// The cache of kind `K` once its initial list is complete.
    fn ready<K: Object>(&self) -> Option<Store<Cached<K>>> {
        let map = self.by_kind.read().unwrap_or_else(|e| e.into_inner());
        let store = map
            .get(K::KIND)?
            .downcast_ref::<Store<Cached<K>>>()?
            .clone();
        // `wait_until_ready` resolves at once when the initial list is complete.
        store.wait_until_ready().now_or_never()?.ok()?;
        Some(store)
    }
}

pub(super) struct Live {
    pub(super) client: kube::Client,
    pub(super) stores: Stores,
    /// Publishes Events. Replaced by a fresh one now and then (see [`Live::renew_recorder`]).
    recorder: RwLock<Recorder>,
    reporter: Reporter,
}

impl Live {
    pub(super) fn new(client: kube::Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: "vpn-operator".into(),
            instance,
        };
        Self {
            recorder: RwLock::new(Recorder::new(client.clone(), reporter.clone())),
            reporter,
            client,
            stores: Stores::default(),
        }
    }

    fn api<K: Object>(&self, namespace: &str) -> Api<K> {
        Api::namespaced(self.client.clone(), namespace)
    }

    pub(super) async fn get<K: Object>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<K>>> {
        if let Some(store) = self.stores.ready::<K>() {
            return store
                .get(&ObjectRef::new(name).within(namespace))
                .map(|c| c.decoded())
                .transpose();
        }
        Ok(self.api::<K>(namespace).get_opt(name).await?.map(Arc::new))
    }

    /// Why the cache for lists: a thousand gateways waiting for their connections each listed
    /// every connection of the namespace on every look, which saturated the API server. A cache
    /// a moment behind is safe here: the cloud itself refuses to delete a gateway or customer
    /// gateway that still has connections.
    pub(super) async fn list<K: Object>(
        &self,
        namespace: &str,
        keep: impl Fn(&Links) -> bool,
    ) -> Result<Vec<Arc<K>>> {
        if let Some(store) = self.stores.ready::<K>() {
            return store
                .state()
                .iter()
                .filter(|c| c.meta().namespace.as_deref() == Some(namespace) && keep(c.links()))
                .map(|c| c.decoded())
                .collect();
        }
        Ok(self
            .api::<K>(namespace)
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|o| keep(&o.links()))
            .map(Arc::new)
            .collect())
    }

    pub(super) async fn patch_status<K: Object>(
        &self,
        obj: &K,
        patch: serde_json::Value,
    ) -> Result<Option<String>> {
        let body = serde_json::json!({ "status": patch });
        let written = self
            .api::<K>(&obj.namespace().unwrap_or_default())
            .patch_status(
                &obj.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await?;
        Ok(written.meta().resource_version.clone())
    }

    /// A JSON patch that tests the finalizers the object was read with, so that a concurrent
    /// change makes it fail (as kube-runtime's finalizer helper does).
    /// Returns the object's `resourceVersion` after the patch.
    async fn patch_finalizers<K: Object>(
        &self,
        obj: &K,
        ops: serde_json::Value,
    ) -> Result<Option<String>> {
        let patch: Patch<()> = Patch::Json(
            serde_json::from_value(ops).map_err(|e| Error::Kube(kube::Error::SerdeError(e)))?,
        );
        let written = self
            .api::<K>(&obj.namespace().unwrap_or_default())
            .patch(&obj.name_any(), &PatchParams::default(), &patch)
            .await?;
        Ok(written.meta().resource_version.clone())
    }

    pub(super) async fn add_finalizer<K: Object>(
        &self,
        obj: &K,
        finalizer: &str,
    ) -> Result<Option<String>> {
        let ops = match &obj.meta().finalizers {
            None => serde_json::json!([
                {"op": "test", "path": "/metadata/finalizers", "value": null},
                {"op": "add", "path": "/metadata/finalizers", "value": [finalizer]},
            ]),
            Some(current) => serde_json::json!([
                {"op": "test", "path": "/metadata/finalizers", "value": current},
                {"op": "add", "path": "/metadata/finalizers/-", "value": finalizer},
            ]),
        };
        self.patch_finalizers(obj, ops).await
    }

    pub(super) async fn remove_finalizer<K: Object>(&self, obj: &K, finalizer: &str) -> Result<()> {
        let Some(i) = obj.finalizers().iter().position(|f| f == finalizer) else {
            return Ok(());
        };
        let path = format!("/metadata/finalizers/{i}");
        self.patch_finalizers(
            obj,
            serde_json::json!([
                {"op": "test", "path": path, "value": finalizer},
                {"op": "remove", "path": path},
            ]),
        )
        .await
        .map(|_| ())
    }

    /// Published within the reconcile, not handed to a background publisher as client-go
    /// does: a reconcile that waits for its Events starts the next object's first steps
    /// later, which during a creation storm leaves the API server to the status writes that
    /// mark objects Ready (docs/PERFORMANCE.md, "What made the difference").
    pub(super) async fn publish<K: Object>(&self, obj: &K, note: &Note) {
        let ev = KubeEvent {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.clone(),
            note: Some(truncate(&note.message, 1000)),
            action: note.action.clone(),
            secondary: None,
        };
        let recorder = self
            .recorder
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Err(e) = recorder.publish(&ev, &obj.object_ref(&())).await {
            tracing::warn!(object = %obj.name_any(), reason = %note.reason, error = %e, "could not publish event");
        }
    }

    /// Starts over with an empty Event cache.
    ///
    /// Why: kube-runtime's recorder keeps every Event it published, to count repeats within 6
    /// minutes, and forgets old ones only when it publishes the next Event: after thousands of
    /// objects were created, a quiet operator held all their Events for good. A repeat just
    /// after a renewal starts a new Event instead of counting on the old one, which is all that
    /// is lost.
    pub(super) fn renew_recorder(&self) {
        let fresh = Recorder::new(self.client.clone(), self.reporter.clone());
        *self.recorder.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
