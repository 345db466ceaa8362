//! Secret contents as the reconciles read them (cloud credentials, pre-shared keys), and the
//! short-lived cache of the ones read recently.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;

/// A Secret's keys and values. Never logged: nothing here implements a `Display`, and the
/// values only leave through the kinds that send them to the cloud.
pub type SecretData = BTreeMap<String, Vec<u8>>;

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
/// connection and its pre-shared key) does not GET its Secret from the API server each time.
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
    read: HashMap<(String, String), (Instant, Arc<SecretData>)>,
    /// (namespace, name) -> when it last changed: reads started before are not kept.
    changed: HashMap<(String, String), Instant>,
}

impl SecretCache {
    /// The contents of `namespace/name` if read within the TTL.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<SecretData>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .read
            .get(&(namespace.to_string(), name.to_string()))
            .filter(|(at, _)| at.elapsed() < SECRET_CACHE_TTL)
            .map(|(_, data)| data.clone())
    }

    /// Keeps what a read that started at `started` returned, unless the Secret changed since.
    pub fn put(&self, namespace: &str, name: &str, started: Instant, data: Arc<SecretData>) {
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

    fn data(v: &str) -> Arc<SecretData> {
        Arc::new(BTreeMap::from([("psk".to_string(), v.as_bytes().to_vec())]))
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
