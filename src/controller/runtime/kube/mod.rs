//! The runtime's one door to Kubernetes: read what a reconcile needs (Secrets, the objects it
//! names, the objects that name it) and write what it decided (status, finalizer, Events, and
//! the Secrets an object owns).
//!
//! Two backends behind one type:
//! - [`Kube::live`]: the API server through kube-rs, reading referenced objects from the
//!   controllers' caches ([`Stores`]) once they are filled;
//! - [`Kube::memory`]: objects and Secrets held in this process ([`Memory`]), with the same
//!   status, finalizer and deletion semantics. The cluster-free tests drive whole reconciles
//!   through it; it writes nothing anywhere else.
//!
//! Reconciles never hold a `kube::Client`: everything they do to Kubernetes goes through here,
//! so a test sees all of it.
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::time::Instant;

use super::error::Result;
use super::events::Note;
use super::object::{Links, Object};
use super::secrets::{SecretCache, SecretData, SecretWrite, StoredSecret};
use super::status::merge_patch;

mod live;
mod memory;
mod secret_api;
pub mod unseen;

pub use live::Stores;
pub use memory::Memory;

/// Locks `m`, taking over a lock whose holder panicked: the maps behind these locks stay
/// consistent between statements (shared by the backends and [`unseen`]).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Access to Kubernetes for the reconciles (see the module documentation). Cheap to clone.
#[derive(Clone)]
pub struct Kube(Arc<Inner>);

struct Inner {
    backend: Backend,
    secrets: SecretCache,
    /// The operator's writes the controllers' caches have not shown yet (see [`unseen`]).
    unseen: unseen::Unseen,
}

enum Backend {
    // Boxed: the live backend (a client, caches, a recorder) is far larger than the memory one.
    Live(Box<live::Live>),
    Memory(Memory),
}

impl Kube {
    /// The API server of `client`. `instance` names this replica in the Events it publishes.
    pub fn live(client: kube::Client, instance: Option<String>) -> Self {
        Self::with(Backend::Live(Box::new(live::Live::new(client, instance))))
    }

    /// An empty in-memory API (see [`Memory`]).
    pub fn memory() -> Self {
        Self::with(Backend::Memory(Memory::default()))
    }

    fn with(backend: Backend) -> Self {
        Self(Arc::new(Inner {
            backend,
            secrets: SecretCache::default(),
            unseen: unseen::Unseen::default(),
        }))
    }

    /// The in-memory backend, when this is one (tests fill and inspect it).
    pub fn memory_backend(&self) -> Option<&Memory> {
        match &self.0.backend {
            Backend::Memory(m) => Some(m),
            Backend::Live(_) => None,
        }
    }

    /// The controllers' caches, filled in by the controllers once they exist (live only).
    pub fn stores(&self) -> Option<&Stores> {
        match &self.0.backend {
            Backend::Live(l) => Some(&l.stores),
            Backend::Memory(_) => None,
        }
    }

    /// Secret `namespace/name`, reusing a recent read (see [`SecretCache`]); `None` when it does
    /// not exist.
    pub async fn secret(&self, namespace: &str, name: &str) -> Result<Option<Arc<StoredSecret>>> {
        if let Some(s) = self.0.secrets.get(namespace, name) {
            return Ok(Some(s));
        }
        let started = Instant::now();
        let Some(s) = self.secret_object(namespace, name).await? else {
            return Ok(None);
        };
        let s = Arc::new(s);
        self.0.secrets.put(namespace, name, started, s.clone());
        Ok(Some(s))
    }

    /// The contents of Secret `namespace/name` read now; `None` when it does not exist.
    pub async fn secret_fresh(&self, namespace: &str, name: &str) -> Result<Option<SecretData>> {
        Ok(self.secret_object(namespace, name).await?.map(|s| s.data))
    }

    async fn secret_object(&self, namespace: &str, name: &str) -> Result<Option<StoredSecret>> {
        match &self.0.backend {
            Backend::Live(l) => secret_api::read(&l.client, namespace, name).await,
            Backend::Memory(m) => Ok(m.secret(namespace, name)),
        }
    }

    /// Creates Secret `w` in `namespace` (an error when one of that name exists).
    pub async fn create_secret(&self, namespace: &str, w: &SecretWrite) -> Result<()> {
        let done = match &self.0.backend {
            Backend::Live(l) => secret_api::create(&l.client, namespace, w).await,
            Backend::Memory(m) => m.create_secret(namespace, w),
        };
        // After the write: a read that started before it is not kept.
        self.forget_secret(namespace, &w.name);
        done
    }

    /// Replaces Secret `w` in `namespace`, as read at `resource_version` (an error when it
    /// changed since).
    pub async fn replace_secret(
        &self,
        namespace: &str,
        w: &SecretWrite,
        resource_version: &str,
    ) -> Result<()> {
        let done = match &self.0.backend {
            Backend::Live(l) => {
                secret_api::replace(&l.client, namespace, w, resource_version).await
            }
            Backend::Memory(m) => m.replace_secret(namespace, w, resource_version),
        };
        self.forget_secret(namespace, &w.name);
        done
    }

    /// Deletes Secret `namespace/name` if it is still the one read (`uid`, `resource_version`;
    /// an error when it changed since). `false`: it was already gone.
    pub async fn delete_secret(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        resource_version: &str,
    ) -> Result<bool> {
        let done = match &self.0.backend {
            Backend::Live(l) => {
                secret_api::delete(&l.client, namespace, name, uid, resource_version).await
            }
            Backend::Memory(m) => m.delete_secret(namespace, name, uid, resource_version),
        };
        self.forget_secret(namespace, name);
        done
    }

    /// Forgets a cached read of Secret `namespace/name` (it changed).
    pub fn forget_secret(&self, namespace: &str, name: &str) {
        self.0.secrets.forget(namespace, name);
    }

    /// Object `namespace/name` of kind `K` (from the controller's cache when it is filled).
    pub async fn get<K: Object>(&self, namespace: &str, name: &str) -> Result<Option<Arc<K>>> {
        match &self.0.backend {
            Backend::Live(l) => l.get(namespace, name).await,
            Backend::Memory(m) => Ok(m.get::<K>(namespace, name).map(Arc::new)),
        }
    }

    /// The objects of kind `K` in `namespace` whose [`Links`] pass `keep` (from the
    /// controller's cache when it is filled; only those kept are decoded).
    pub async fn list<K: Object>(
        &self,
        namespace: &str,
        keep: impl Fn(&Links) -> bool,
    ) -> Result<Vec<Arc<K>>> {
        match &self.0.backend {
            Backend::Live(l) => l.list(namespace, keep).await,
            Backend::Memory(m) => Ok(m
                .list::<K>(namespace)
                .into_iter()
                .filter(|o| keep(&o.links()))
                .map(Arc::new)
                .collect()),
        }
    }

    /// Writes `new` as the status of `obj`: one merge patch of `/status` with only what changed
    /// since the status `obj` carries. Returns whether a write was made.
    pub async fn write_status<K: Object>(
        &self,
        obj: &K,
        new: &<K as Object>::Status,
    ) -> Result<bool> {
        let old = match kube::core::object::HasStatus::status(obj) {
            Some(s) => serde_json::to_value(s).unwrap_or(serde_json::Value::Null),
            None => serde_json::Value::Object(Default::default()),
        };
        let new = serde_json::to_value(new).unwrap_or(serde_json::Value::Null);
        let Some(patch) = merge_patch(&old, &new) else {
            return Ok(false);
        };
        self.writing(obj);
        let version = match &self.0.backend {
            Backend::Live(l) => l.patch_status(obj, patch).await,
            Backend::Memory(m) => Ok(m.patch_status(obj, &patch)),
        };
        self.wrote(obj, &version);
        version?;
        Ok(true)
    }

    /// A write to `obj` is about to be sent (see [`unseen`]).
    fn writing<K: Object>(&self, obj: &K) {
        if let Some(uid) = obj.meta().uid.as_deref() {
            self.0.unseen.writing(uid);
        }
    }

    /// The write to `obj` was answered (see [`unseen`]).
    fn wrote<K: Object>(&self, obj: &K, answer: &Result<Option<String>>) {
        if let Some(uid) = obj.meta().uid.as_deref() {
            let version = answer.as_ref().ok().cloned().flatten();
            self.0.unseen.wrote(uid, version);
        }
    }

    /// Whether the copy of an object a reconcile was handed (its `metadata`) shows this
    /// operator's last write to it; see [`unseen`].
    pub fn judge_copy(&self, meta: &ObjectMeta) -> unseen::Staleness {
        match meta.uid.as_deref() {
            Some(uid) => self.0.unseen.judge(uid, meta.resource_version.as_deref()),
            None => unseen::Staleness::Current,
        }
    }

    /// The watch brought an object (`deleted`: its deletion); a write it shows is seen.
    pub fn shown(&self, meta: &ObjectMeta, deleted: bool) {
        if let Some(uid) = meta.uid.as_deref() {
            let version = meta.resource_version.as_deref().filter(|_| !deleted);
            self.0.unseen.shown(uid, version);
        }
    }

    /// Adds the operator's finalizer to `obj`, failing when the object changed meanwhile.
    pub async fn add_finalizer<K: Object>(&self, obj: &K, finalizer: &str) -> Result<()> {
        self.writing(obj);
        let version = match &self.0.backend {
            Backend::Live(l) => l.add_finalizer(obj, finalizer).await,
            Backend::Memory(m) => Ok(m.add_finalizer(obj, finalizer)),
        };
        self.wrote(obj, &version);
        version.map(|_| ())
    }

    /// Removes the operator's finalizer from `obj` (the object goes if it was the last one).
    pub async fn remove_finalizer<K: Object>(&self, obj: &K, finalizer: &str) -> Result<()> {
        match &self.0.backend {
            Backend::Live(l) => l.remove_finalizer(obj, finalizer).await,
            Backend::Memory(m) => {
                m.remove_finalizer(obj, finalizer);
                Ok(())
            }
        }
    }

    /// Publishes an Event about `obj`. Failures to publish are logged, never fatal.
    pub async fn publish<K: Object>(&self, obj: &K, note: &Note) {
        match &self.0.backend {
            Backend::Live(l) => l.publish(obj, note).await,
            Backend::Memory(m) => m.publish(obj, note),
        }
    }

    /// Drops the Secret reads past their time (see [`SecretCache::forget_expired`]).
    pub fn forget_expired_secrets(&self) -> usize {
        self.0.secrets.forget_expired()
    }

    /// How many Secret reads are cached.
    pub fn secrets_cached(&self) -> usize {
        self.0.secrets.cached()
    }

    /// Starts over with an empty Event cache (see [`live::Live::renew_recorder`]).
    pub fn renew_recorder(&self) {
        if let Backend::Live(l) = &self.0.backend {
            l.renew_recorder();
        }
    }
}
