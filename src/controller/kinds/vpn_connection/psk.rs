//! The pre-shared key: read from its Secret, checked against the documented rules, hashed.
//! The value only ever leaves here inside a [`Redacted`] bound for the cloud.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use sha2::{Digest, Sha256};

use crate::cloud::model::common::Redacted;
use crate::controller::context::Context;
use crate::controller::error::{Error, Result};
use crate::crd::common::SecretKeySelector;

/// A pre-shared key read from its Secret. `Debug` never shows the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Psk {
    /// The key, to send to the cloud only.
    pub value: Redacted<String>,
    /// Its hex SHA-256, the only form that is stored or compared.
    pub sha256: String,
}

impl Psk {
    /// Wraps a key read from a Secret.
    pub fn new(value: String) -> Self {
        let sha256 = psk_sha256(&value);
        Self {
            value: Redacted::new(value),
            sha256,
        }
    }
}

/// Hex SHA-256 of a pre-shared key.
pub fn psk_sha256(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The special characters the API allows in a pre-shared key (reference §1.4).
pub const PSK_SPECIALS: &str = "~!@#$%^()-_+={ },./:;";

/// What is wrong with a pre-shared key, if anything (8-128 characters of letters, digits and
/// [`PSK_SPECIALS`], with at least three of: upper case, lower case, digits, specials). The
/// answer never contains the key or any of its characters.
pub fn psk_problem(value: &str) -> Option<String> {
    let len = value.chars().count();
    if !(8..=128).contains(&len) {
        return Some(format!(
            "the pre-shared key must have 8-128 characters (it has {len})"
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || PSK_SPECIALS.contains(c))
    {
        return Some(format!(
            "the pre-shared key may only contain letters, digits and {PSK_SPECIALS}"
        ));
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| PSK_SPECIALS.contains(c)),
    ];
    if classes.iter().filter(|b| **b).count() < 3 {
        return Some(
            "the pre-shared key must contain at least three of: upper-case letters, lower-case \
             letters, digits, special characters"
                .into(),
        );
    }
    None
}

/// The key from a Secret's data: UTF-8, a trailing line break removed (files made with `echo`
/// end with one; a line break is never part of a valid key), then checked with [`psk_problem`].
/// Errors are `problem` texts for [`Error::Secret`]; they never contain the value.
pub fn psk_from_data(data: Option<&[u8]>, key: &str) -> std::result::Result<Psk, String> {
    let bytes =
        data.ok_or_else(|| format!("has no key {key:?}; add the pre-shared key under it"))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| format!("key {key:?} is not UTF-8 text"))?
        .trim_end_matches(['\n', '\r']);
    if let Some(problem) = psk_problem(text) {
        return Err(format!("key {key:?}: {problem}"));
    }
    Ok(Psk::new(text.to_string()))
}

/// Pre-shared keys read recently, so that a connection looked at every second while it
/// provisions does not GET its Secret from the API server each time.
///
/// An entry is forgotten when its Secret changes ([`PskCache::forget`], called by the Secret
/// watch before it wakes the connections that use the Secret), and after [`PSK_CACHE_TTL`]
/// in case a change was missed. Only good reads are kept; the values never leave the process.
#[derive(Default)]
pub struct PskCache {
    inner: Mutex<PskEntries>,
}

#[derive(Default)]
struct PskEntries {
    /// (namespace, Secret, key) -> when read, and the key.
    keys: HashMap<(String, String, String), (Instant, Psk)>,
    /// (namespace, Secret) -> when it last changed: reads started before are not kept.
    changed: HashMap<(String, String), Instant>,
}

/// How long a cached pre-shared key is used without reading its Secret again.
pub const PSK_CACHE_TTL: Duration = Duration::from_secs(60);

impl PskCache {
    fn get(&self, ns: &str, sel: &SecretKeySelector) -> Option<Psk> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (ns.to_string(), sel.name.clone(), sel.key.clone());
        inner
            .keys
            .get(&key)
            .filter(|(at, _)| at.elapsed() < PSK_CACHE_TTL)
            .map(|(_, psk)| psk.clone())
    }

    fn put(&self, ns: &str, sel: &SecretKeySelector, started: Instant, psk: Psk) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let secret = (ns.to_string(), sel.name.clone());
        if inner.changed.get(&secret).is_some_and(|c| *c >= started) {
            return; // the Secret changed while we read it: the next read must go to the API
        }
        inner.keys.retain(|_, (at, _)| at.elapsed() < PSK_CACHE_TTL);
        inner
            .keys
            .insert((secret.0, secret.1, sel.key.clone()), (started, psk));
    }

    /// Forgets every key of Secret `namespace/name` (it changed).
    pub fn forget(&self, namespace: &str, name: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .keys
            .retain(|(ns, n, _), _| !(ns == namespace && n == name));
        inner.changed.retain(|_, at| at.elapsed() < PSK_CACHE_TTL);
        inner
            .changed
            .insert((namespace.to_string(), name.to_string()), Instant::now());
    }
}

pub(super) async fn read_psk(
    ctx: &Context,
    namespace: &str,
    sel: &SecretKeySelector,
) -> Result<Psk> {
    if let Some(psk) = ctx.psk_cache.get(namespace, sel) {
        return Ok(psk);
    }
    let started = Instant::now();
    let psk = read_psk_from_api(ctx, namespace, sel).await?;
    ctx.psk_cache.put(namespace, sel, started, psk.clone());
    Ok(psk)
}

async fn read_psk_from_api(ctx: &Context, namespace: &str, sel: &SecretKeySelector) -> Result<Psk> {
    let err = |problem: String| Error::Secret {
        namespace: namespace.to_string(),
        name: sel.name.clone(),
        problem,
    };
    let secret = Api::<Secret>::namespaced(ctx.kube.clone(), namespace)
        .get_opt(&sel.name)
        .await?
        .ok_or_else(|| {
            err(format!(
                "not found; create it with the pre-shared key under key {:?}",
                sel.key
            ))
        })?;
    let data = crate::controller::secrets::secret_data(secret);
    psk_from_data(data.get(&sel.key).map(Vec::as_slice), &sel.key).map_err(err)
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn sel(name: &str, key: &str) -> SecretKeySelector {
        SecretKeySelector {
            name: name.into(),
            key: key.into(),
        }
    }

    #[test]
    fn a_changed_secret_is_read_again() {
        let cache = PskCache::default();
        let s = sel("psk", "key");
        let started = Instant::now();
        cache.put("ns", &s, started, Psk::new("Old-key-123".into()));
        assert_eq!(
            cache.get("ns", &s).map(|p| p.sha256),
            Some(psk_sha256("Old-key-123"))
        );
        // Another namespace or Secret is another entry.
        assert_eq!(cache.get("other", &s), None);
        cache.forget("ns", "psk");
        assert_eq!(cache.get("ns", &s), None);
        // A read that started before the change is not kept (it may hold the old key).
        cache.put("ns", &s, started, Psk::new("Old-key-123".into()));
        assert_eq!(cache.get("ns", &s), None);
        cache.put("ns", &s, Instant::now(), Psk::new("New-key-456".into()));
        assert_eq!(
            cache.get("ns", &s).map(|p| p.sha256),
            Some(psk_sha256("New-key-456"))
        );
    }
}
