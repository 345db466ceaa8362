//! Passing on only the watch events that change what the operator reads of an object.
//!
//! kube-runtime's `predicate_filter` does this with a cache entry per object that holds the
//! object's name, namespace and uid as strings. The operator filters five watches this way
//! (three kinds, and the gateways and customer gateways the connections depend on), so those
//! strings add up at scale (docs/PERFORMANCE.md). Here an object is known by a 64-bit hash of
//! its namespace, name and uid.
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::{Stream, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::watcher;
use kube::Resource;

/// `events` without the applies that leave `hash` of their object unchanged since its last
/// event. An object seen for the first time passes, as does any object `hash` gives `None` for;
/// deletions always pass (and are forgotten).
pub fn changed_only<K, S>(
    events: S,
    hash: fn(&K) -> Option<u64>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send
where
    K: Resource + Send,
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send,
{
    let mut seen: HashMap<u64, u64> = HashMap::new();
    events.filter(move |event| {
        let pass = match event {
            Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => match hash(o) {
                Some(h) => seen.insert(identity(o.meta()), h) != Some(h),
                None => true,
            },
            Ok(watcher::Event::Delete(o)) => {
                seen.remove(&identity(o.meta()));
                true
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) | Err(_) => true,
        };
        std::future::ready(pass)
    })
}

/// An object's identity: its namespace, name and uid (a re-created object is a new one).
fn identity(m: &ObjectMeta) -> u64 {
    let mut h = DefaultHasher::new();
    (&m.namespace, &m.name, &m.uid).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    fn cm(name: &str, uid: &str, generation: i64) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(uid.into()),
                generation: Some(generation),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn generation(c: &ConfigMap) -> Option<u64> {
        c.metadata.generation.map(|g| g as u64)
    }

    #[tokio::test]
    async fn only_changes_of_the_hashed_part_pass() {
        use watcher::Event::*;
        let events = vec![
            Init,
            InitApply(cm("a", "u1", 1)),
            InitApply(cm("b", "u2", 1)),
            InitDone,
            // A status write: same generation.
            Apply(cm("a", "u1", 1)),
            // A spec change.
            Apply(cm("a", "u1", 2)),
            // Deleted, then re-created under the same name with the same hash: a new object.
            Delete(cm("b", "u2", 1)),
            Apply(cm("b", "u3", 1)),
            // Re-listed after a gap: nothing changed.
            Init,
            InitApply(cm("a", "u1", 2)),
            InitDone,
        ];
        let passed: Vec<String> = changed_only(
            futures::stream::iter(events.into_iter().map(Ok)),
            generation,
        )
        .map(|e| match e.unwrap() {
            Init => "init".to_string(),
            InitDone => "done".to_string(),
            InitApply(o) | Apply(o) => format!(
                "{}@{}",
                o.metadata.name.unwrap(),
                o.metadata.generation.unwrap()
            ),
            Delete(o) => format!("-{}", o.metadata.name.unwrap()),
        })
        .collect()
        .await;
        assert_eq!(
            passed,
            ["init", "a@1", "b@1", "done", "a@2", "-b", "b@1", "init", "done"]
        );
    }
}
