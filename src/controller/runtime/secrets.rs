//! Secret contents as the reconciles read them (cloud credentials, pre-shared keys, the peer
//! configuration Secrets the operator writes), what is written, and the short-lived cache of
//! the ones read recently.
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::ByteString;

/// A Secret's keys and values. Never logged: nothing here implements a `Display`, and the
/// values only leave through the kinds that send them to the cloud (or write them to the
/// Secrets they own).
pub type SecretData = BTreeMap<String, Vec<u8>>;

/// A Secret as read: what identifies it and who owns it, and its contents. `Debug` shows the
/// keys, never the values.
#[derive(Clone, Default, PartialEq)]
pub struct StoredSecret {
    /// `metadata.uid`.
    pub uid: Option<String>,
    /// `metadata.resourceVersion`: a replace or delete names it, so a Secret changed by
    /// someone else in between is never overwritten.
    pub resource_version: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `metadata.ownerReferences`.
    pub owners: Vec<OwnerReference>,
    /// The keys and values.
    pub data: SecretData,
}

impl StoredSecret {
    /// Whether the object with `uid` owns it (an owner reference names that uid).
    pub fn owned_by(&self, uid: &str) -> bool {
        self.owners.iter().any(|o| o.uid == uid)
    }
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSecret")
            .field("uid", &self.uid)
            .field("resource_version", &self.resource_version)
            .field("labels", &self.labels)
            .field(
                "owners",
                &self.owners.iter().map(|o| &o.uid).collect::<Vec<_>>(),
            )
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A Secret the operator writes (creates or replaces): its name, metadata and contents.
/// `Debug` shows the keys, never the values.
#[derive(Clone, PartialEq)]
pub struct SecretWrite {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The object it belongs to (the garbage collector deletes it with that object).
    pub owner: OwnerReference,
    pub data: BTreeMap<String, String>,
}

impl SecretWrite {
    /// The Secret object in `namespace` (`resource_version`: the one a replace expects).
    pub fn to_secret(&self, namespace: &str, resource_version: Option<&str>) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(namespace.to_string()),
                labels: Some(self.labels.clone()),
                annotations: Some(self.annotations.clone()),
                owner_references: Some(vec![self.owner.clone()]),
                resource_version: resource_version.map(str::to_string),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            data: Some(
                self.data
                    .iter()
                    .map(|(k, v)| (k.clone(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

impl fmt::Debug for SecretWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretWrite")
            .field("name", &self.name)
            .field("labels", &self.labels)
            .field("owner", &self.owner.uid)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A Secret object as [`StoredSecret`].
pub fn stored_secret(secret: Secret) -> StoredSecret {
    let meta = secret.metadata.clone();
    StoredSecret {
        uid: meta.uid,
        resource_version: meta.resource_version,
        labels: meta.labels.unwrap_or_default(),
        annotations: meta.annotations.unwrap_or_default(),
        owners: meta.owner_references.unwrap_or_default(),
        data: secret_data(secret),
    }
}

/// The Secret's keys and values: `data`, with `stringData` merged over it. A real API server
/// folds `stringData` into `data` on write, so on a cluster only `data` is ever set; API
/// stand-ins that store the object as written keep `stringData`, and reading both makes the
/// operator behave the same on them.
pub fn secret_data(secret: Secret) -> SecretData {
    let mut data: SecretData = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.insert(k, v.into_bytes());
    }
    data
}

/// A Secret (or one of its keys) an object needs that cannot be used (missing, unusable), kept
/// as data until the plan decides whether it matters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretProblem {
    pub namespace: String,
    pub name: String,
    /// What is wrong; never contains a value.
    pub problem: String,
}

impl From<SecretProblem> for super::error::Error {
    fn from(p: SecretProblem) -> Self {
        super::error::Error::Secret {
            namespace: p.namespace,
            name: p.name,
            problem: p.problem,
        }
    }
}

/// How long a Secret read is reused without reading it again.
pub const SECRET_CACHE_TTL: Duration = Duration::from_secs(60);

/// Secrets read recently, so that an object looked at every second while it provisions (a
/// connection, its pre-shared key and its peer configuration Secret) does not GET its Secrets
/// from the API server each time.
///
/// An entry is forgotten when its Secret changes ([`SecretCache::forget`], called by the Secret
/// watch before it wakes the objects that use the Secret), and after [`SECRET_CACHE_TTL`] in
/// case a change was missed. The values never leave the process.
#[derive(Default)]
pub struct SecretCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// (namespace, name) -> when read, and the contents.
    read: HashMap<(String, String), (Instant, Arc<StoredSecret>)>,
    /// (namespace, name) -> when it last changed: reads started before are not kept.
    changed: HashMap<(String, String), Instant>,
}

impl SecretCache {
    /// The contents of `namespace/name` if read within the TTL.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<StoredSecret>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .read
            .get(&(namespace.to_string(), name.to_string()))
            .filter(|(at, _)| at.elapsed() < SECRET_CACHE_TTL)
            .map(|(_, data)| data.clone())
    }

    /// Keeps what a read that started at `started` returned, unless the Secret changed since.
    pub fn put(&self, namespace: &str, name: &str, started: Instant, data: Arc<StoredSecret>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (namespace.to_string(), name.to_string());
        if inner.changed.get(&key).is_some_and(|c| *c >= started) {
            return; // it changed while we read it: the next read must go to the API
        }
        inner
            .read
            .retain(|_, (at, _)| at.elapsed() < SECRET_CACHE_TTL);
        inner.read.insert(key, (started, data));
    }

    /// Drops the entries past [`SECRET_CACHE_TTL`] (housekeeping: at rest nothing is read,
    /// so nothing else would drop them, and each holds a Secret's contents, e.g. an
    /// account's keys). Returns how many reads were dropped.
    pub fn forget_expired(&self) -> usize {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = inner.read.len();
        inner
            .read
            .retain(|_, (at, _)| at.elapsed() < SECRET_CACHE_TTL);
        inner
            .changed
            .retain(|_, at| at.elapsed() < SECRET_CACHE_TTL);
        let dropped = before - inner.read.len();
        if dropped > 0 {
            inner.read.shrink_to_fit();
            inner.changed.shrink_to_fit();
        }
        dropped
    }

    /// How many Secret reads are cached.
    pub fn cached(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read
            .len()
    }

    /// Forgets Secret `namespace/name` (it changed).
    pub fn forget(&self, namespace: &str, name: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (namespace.to_string(), name.to_string());
        inner.read.remove(&key);
        inner
            .changed
            .retain(|_, at| at.elapsed() < SECRET_CACHE_TTL);
        inner.changed.insert(key, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    #[test]
    fn string_data_is_merged_over_data() {
        let s = Secret {
            data: Some(BTreeMap::from([
                ("a".to_string(), ByteString(b"1".to_vec())),
                ("b".to_string(), ByteString(b"2".to_vec())),
            ])),
            string_data: Some(BTreeMap::from([("b".to_string(), "3".to_string())])),
            ..Default::default()
        };
        let d = secret_data(s);
        assert_eq!(d["a"], b"1");
        assert_eq!(d["b"], b"3");
    }

    fn data(v: &str) -> Arc<StoredSecret> {
        Arc::new(StoredSecret {
            data: BTreeMap::from([("psk".to_string(), v.as_bytes().to_vec())]),
            ..Default::default()
        })
    }

    #[test]
    fn debug_output_never_shows_a_value() {
        let read = data("Example-Psk-2026");
        let shown = format!("{read:?}");
        assert!(
            shown.contains("psk") && !shown.contains("Example"),
            "{shown}"
        );
        let write = SecretWrite {
            name: "peer".into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            owner: OwnerReference::default(),
            data: BTreeMap::from([("swanctl.conf".into(), "secret = Example-Psk-2026".into())]),
        };
        let shown = format!("{write:?}");
        assert!(
            shown.contains("swanctl.conf") && !shown.contains("Example"),
            "{shown}"
        );
    }

    #[test]
    fn a_changed_secret_is_read_again() {
        let cache = SecretCache::default();
        let started = Instant::now();
        cache.put("ns", "psk", started, data("old"));
        assert_eq!(cache.get("ns", "psk"), Some(data("old")));
        // Another namespace or Secret is another entry.
        assert_eq!(cache.get("other", "psk"), None);
        cache.forget("ns", "psk");
        assert_eq!(cache.get("ns", "psk"), None);
        // A read that started before the change is not kept (it may hold the old key).
        cache.put("ns", "psk", started, data("old"));
        assert_eq!(cache.get("ns", "psk"), None);
        cache.put("ns", "psk", Instant::now(), data("new"));
        assert_eq!(cache.get("ns", "psk"), Some(data("new")));
    }
}
