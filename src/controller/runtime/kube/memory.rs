//! The in-memory backend of [`super::Kube`]: objects, Secrets and Events held in this process,
//! with the API server's semantics where the reconciles depend on them.
//!
//! - Applying an object keeps its uid, status and finalizers and bumps `metadata.generation`
//!   when the spec changes, as `kubectl apply` against a real API server does.
//! - Status writes are merge patches of `/status`; finalizers are added and removed.
//! - Deleting an object with finalizers sets `deletionTimestamp`; it goes when the last
//!   finalizer is removed.
//! - Every write gives the object the next `resourceVersion`, as the API server does (the
//!   reconciles tell a cached copy from before their own last write by it).
//! - Events are recorded, in order, with the object they are about.
//! - Secrets have a uid and a resourceVersion; creating one that exists, and replacing or
//!   deleting one that changed since it was read (another resourceVersion or uid), fail with
//!   409 as on a real API server. Owner references are kept but not acted on (no garbage
//!   collector).
//!
//! Not modelled: watches (the caller reconciles explicitly), resourceVersion conflicts,
//! admission (CEL rules), RBAC.
use std::collections::BTreeMap;
use std::sync::Mutex;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use serde_json::Value;

use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::events::Note;
use crate::controller::runtime::object::Object;
use crate::controller::runtime::secrets::{SecretWrite, StoredSecret};

use super::lock;

type Key = (&'static str, String, String);

/// The state of an in-memory API (see the module documentation).
#[derive(Default)]
pub struct Memory {
    objects: Mutex<BTreeMap<Key, Value>>,
    secrets: Mutex<BTreeMap<(String, String), StoredSecret>>,
    events: Mutex<Vec<Recorded>>,
    writes: Mutex<u64>,
    next_uid: Mutex<u64>,
    /// The last resourceVersion handed out (objects and Secrets share one sequence).
    versions: Mutex<u64>,
}

/// An Event published about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub note: Note,
}

fn key<K: Object>(namespace: &str, name: &str) -> Key {
    (K::KIND, namespace.to_string(), name.to_string())
}

fn key_of<K: Object>(obj: &K) -> Key {
    key::<K>(&obj.namespace().unwrap_or_default(), &obj.name_any())
}

impl Memory {
    /// Creates or updates `obj` as `kubectl apply` would: a new object gets a uid and
    /// generation 1; an existing one keeps its uid, creation time, status, finalizers and
    /// deletion mark, takes
    /// the new spec, labels and annotations, and moves to the next generation when its spec
    /// changed. Returns the stored object.
    pub fn apply<K: Object>(&self, obj: &K) -> K {
        let k = key_of(obj);
        let mut new = serde_json::to_value(obj).expect("objects serialize");
        let mut objects = lock(&self.objects);
        match objects.get(&k) {
            None => {
                let uid = self.new_uid();
                let meta = &mut new["metadata"];
                if meta.get("uid").and_then(Value::as_str).is_none() {
                    meta["uid"] = Value::String(uid);
                }
                meta["generation"] = Value::from(1);
            }
            Some(old) => {
                let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
                let changed = old.get("spec") != new.get("spec");
                let meta = &mut new["metadata"];
                for field in [
                    "uid",
                    "creationTimestamp",
                    "finalizers",
                    "deletionTimestamp",
                ] {
                    match old["metadata"].get(field) {
                        Some(v) => meta[field] = v.clone(),
                        None => {
                            if let Some(m) = meta.as_object_mut() {
                                m.remove(field);
                            }
                        }
                    }
                }
                meta["generation"] = Value::from(generation + i64::from(changed));
                match old.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
        }
        new["metadata"]["resourceVersion"] = Value::String(self.next_version());
        objects.insert(k, new.clone());
        serde_json::from_value(new).expect("stored objects decode")
    }

    /// Object `namespace/name` of kind `K`, as stored now.
    pub fn get<K: Object>(&self, namespace: &str, name: &str) -> Option<K> {
        lock(&self.objects)
            .get(&key::<K>(namespace, name))
            .map(|v| serde_json::from_value(v.clone()).expect("stored objects decode"))
    }

    /// The objects of kind `K` in `namespace`.
    pub fn list<K: Object>(&self, namespace: &str) -> Vec<K> {
        lock(&self.objects)
            .iter()
            .filter(|((kind, ns, _), _)| *kind == K::KIND && ns == namespace)
            .map(|(_, v)| serde_json::from_value(v.clone()).expect("stored objects decode"))
            .collect()
    }

    /// Marks object `namespace/name` deleted at `at` (as `kubectl delete` does): it goes at
    /// once without finalizers, else when the last one is removed.
    pub fn delete<K: Object>(&self, namespace: &str, name: &str, at: &Time) {
        let k = key::<K>(namespace, name);
        let mut objects = lock(&self.objects);
        let Some(obj) = objects.get_mut(&k) else {
            return;
        };
        let finalizers = obj["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if !finalizers {
            objects.remove(&k);
        } else if obj["metadata"].get("deletionTimestamp").is_none() {
            obj["metadata"]["deletionTimestamp"] =
                serde_json::to_value(at).expect("times serialize");
            self.bump(obj);
        }
    }

    /// Stores Secret `namespace/name` with these keys and values, as a user would (`kubectl
    /// apply`): a new one gets a uid and no owner; an existing one keeps its metadata and takes
    /// the new contents.
    pub fn put_secret(&self, namespace: &str, name: &str, data: &[(&str, &str)]) {
        let data = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        let version = self.next_version();
        let mut secrets = lock(&self.secrets);
        let key = (namespace.to_string(), name.to_string());
        let uid = secrets.get(&key).and_then(|s| s.uid.clone());
        let mut stored = secrets.remove(&key).unwrap_or_default();
        stored.uid = Some(uid.unwrap_or_else(|| self.new_uid()));
        stored.resource_version = Some(version);
        stored.data = data;
        secrets.insert(key, stored);
    }

    /// Secret `namespace/name` as stored now (owner references, labels and all).
    pub fn secret_object(&self, namespace: &str, name: &str) -> Option<StoredSecret> {
        self.secret(namespace, name)
    }

    /// The names of the Secrets in `namespace`.
    pub fn secret_names(&self, namespace: &str) -> Vec<String> {
        lock(&self.secrets)
            .keys()
            .filter(|(ns, _)| ns == namespace)
            .map(|(_, n)| n.clone())
            .collect()
    }

    /// Removes Secret `namespace/name`.
    pub fn remove_secret(&self, namespace: &str, name: &str) {
        lock(&self.secrets).remove(&(namespace.to_string(), name.to_string()));
    }

    /// The Events published about object `namespace/name` of kind `K`, oldest first.
    pub fn events_of<K: Object>(&self, namespace: &str, name: &str) -> Vec<Note> {
        lock(&self.events)
            .iter()
            .filter(|e| e.kind == K::KIND && e.namespace == namespace && e.name == name)
            .map(|e| e.note.clone())
            .collect()
    }

    /// Every Event published, oldest first.
    pub fn events(&self) -> Vec<Recorded> {
        lock(&self.events).clone()
    }

    /// How many writes (status, finalizers, Secrets) reconciles made.
    pub fn writes(&self) -> u64 {
        *lock(&self.writes)
    }

    pub(super) fn secret(&self, namespace: &str, name: &str) -> Option<StoredSecret> {
        lock(&self.secrets)
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    fn new_uid(&self) -> String {
        let mut n = lock(&self.next_uid);
        *n += 1;
        format!("00000000-0000-4000-8000-{:012x}", *n)
    }

    fn next_version(&self) -> String {
        let mut v = lock(&self.versions);
        *v += 1;
        v.to_string()
    }

    fn written(&self, w: &SecretWrite, uid: String) -> StoredSecret {
        StoredSecret {
            uid: Some(uid),
            resource_version: Some(self.next_version()),
            labels: w.labels.clone(),
            annotations: w.annotations.clone(),
            owners: vec![w.owner.clone()],
            data: w
                .data
                .iter()
                .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    pub(super) fn create_secret(&self, namespace: &str, w: &SecretWrite) -> Result<()> {
        self.wrote();
        let key = (namespace.to_string(), w.name.clone());
        if lock(&self.secrets).contains_key(&key) {
            return Err(api_error(409, "AlreadyExists", &w.name));
        }
        let stored = self.written(w, self.new_uid());
        lock(&self.secrets).insert(key, stored);
        Ok(())
    }

    pub(super) fn replace_secret(
        &self,
        namespace: &str,
        w: &SecretWrite,
        resource_version: &str,
    ) -> Result<()> {
        self.wrote();
        let key = (namespace.to_string(), w.name.clone());
        let uid = match lock(&self.secrets).get(&key) {
            None => return Err(api_error(404, "NotFound", &w.name)),
            Some(s) if s.resource_version.as_deref() != Some(resource_version) => {
                return Err(api_error(409, "Conflict", &w.name))
            }
            Some(s) => s.uid.clone().unwrap_or_default(),
        };
        let stored = self.written(w, uid);
        lock(&self.secrets).insert(key, stored);
        Ok(())
    }

    pub(super) fn delete_secret(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        resource_version: &str,
    ) -> Result<bool> {
        self.wrote();
        let key = (namespace.to_string(), name.to_string());
        let mut secrets = lock(&self.secrets);
        match secrets.get(&key) {
            None => Ok(false),
            Some(s)
                if s.uid.as_deref() != Some(uid)
                    || s.resource_version.as_deref() != Some(resource_version) =>
            {
                Err(api_error(409, "Conflict", name))
            }
            Some(_) => {
                secrets.remove(&key);
                Ok(true)
            }
        }
    }

    fn wrote(&self) {
        *lock(&self.writes) += 1;
    }

    /// Merges `patch` into the stored status; returns the object's new `resourceVersion`.
    pub(super) fn patch_status<K: Object>(&self, obj: &K, patch: &Value) -> Option<String> {
        self.wrote();
        let mut objects = lock(&self.objects);
        let stored = objects.get_mut(&key_of(obj))?;
        let status = stored
            .as_object_mut()
            .expect("objects are JSON objects")
            .entry("status")
            .or_insert_with(|| Value::Object(Default::default()));
        json_patch::merge(status, patch);
        Some(self.bump(stored))
    }

    /// Gives a stored object the next `resourceVersion`, as the API server does on each write.
    fn bump(&self, stored: &mut Value) -> String {
        let v = self.next_version();
        stored["metadata"]["resourceVersion"] = Value::String(v.clone());
        v
    }

    /// Adds `finalizer`; returns the object's new `resourceVersion`.
    pub(super) fn add_finalizer<K: Object>(&self, obj: &K, finalizer: &str) -> Option<String> {
        self.wrote();
        let mut objects = lock(&self.objects);
        let stored = objects.get_mut(&key_of(obj))?;
        let meta = &mut stored["metadata"];
        let mut list: Vec<Value> = meta["finalizers"].as_array().cloned().unwrap_or_default();
        if !list.iter().any(|f| f == finalizer) {
            list.push(Value::String(finalizer.to_string()));
        }
        meta["finalizers"] = Value::Array(list);
        Some(self.bump(stored))
    }

    pub(super) fn remove_finalizer<K: Object>(&self, obj: &K, finalizer: &str) {
        self.wrote();
        let k = key_of(obj);
        let mut objects = lock(&self.objects);
        let Some(stored) = objects.get_mut(&k) else {
            return;
        };
        let meta = &mut stored["metadata"];
        let list: Vec<Value> = meta["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f != finalizer)
            .collect();
        let deleting = meta.get("deletionTimestamp").is_some();
        if deleting && list.is_empty() {
            objects.remove(&k);
        } else {
            meta["finalizers"] = Value::Array(list);
            self.bump(stored);
        }
    }

    pub(super) fn publish<K: Object>(&self, obj: &K, note: &Note) {
        lock(&self.events).push(Recorded {
            kind: K::KIND.to_string(),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            note: note.clone(),
        });
    }
}

/// The error a real API server answers, for Secret `name`.
fn api_error(code: u16, reason: &str, name: &str) -> Error {
    let message = format!("secrets \"{name}\": {reason}");
    Error::Kube(kube::Error::Api(
        kube::core::Status::failure(&message, reason)
            .with_code(code)
            .boxed(),
    ))
}
