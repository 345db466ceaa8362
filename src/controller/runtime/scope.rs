//! Which namespaces the operator watches, and watching several of them.
//!
//! kube-runtime's watcher covers one namespace or all of them. For a list of namespaces the
//! operator runs one watcher per namespace and merges them (with `--watch-namespaces a,b` it
//! needs Roles in `a` and `b` only, never a cluster-wide grant). Streams that only trigger
//! reconciles are merged as they are. A controller's own stream also fills its cache
//! (reflector store), which cannot take the merged events unchanged: each watcher's (re)list
//! (`Init`, `InitApply`..., `InitDone`) would replace the whole store with that one namespace's
//! objects. [`for_store`] turns each namespace's relist into applies plus deletes of that
//! namespace's objects the relist no longer shows, and marks the store ready (which the
//! controller waits for) once every namespace has been listed.
use std::collections::{HashMap, HashSet};

use futures::stream::{self, BoxStream, StreamExt};
use kube::runtime::reflector::Store;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource, ResourceExt};

/// All namespaces, or exactly these (sorted, without duplicates, never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    All,
    Only(Vec<String>),
}

impl Namespaces {
    /// `All` for an empty list.
    pub fn from_list(mut list: Vec<String>) -> Self {
        list.sort();
        list.dedup();
        if list.is_empty() {
            Self::All
        } else {
            Self::Only(list)
        }
    }

    pub fn contains(&self, ns: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(list) => list.iter().any(|n| n == ns),
        }
    }

    /// One API per watched namespace (one cluster-wide API for `All`), with its namespace.
    pub fn apis<K>(&self, client: &kube::Client) -> Vec<(String, Api<K>)>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        match self {
            Self::All => vec![(String::new(), Api::all(client.clone()))],
            Self::Only(list) => list
                .iter()
                .map(|ns| (ns.clone(), Api::namespaced(client.clone(), ns)))
                .collect(),
        }
    }
}

/// A watch event stream.
pub type Events<K> = BoxStream<'static, Result<Event<K>, watcher::Error>>;

/// One watcher (with kube-runtime's default backoff) per watched namespace, with its namespace.
pub fn watchers<K>(
    client: &kube::Client,
    namespaces: &Namespaces,
    config: &watcher::Config,
) -> Vec<(String, Events<K>)>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
{
    namespaces
        .apis::<K>(client)
        .into_iter()
        .map(|(ns, api)| (ns, watcher(api, config.clone()).default_backoff().boxed()))
        .collect()
}

/// The watchers' events merged, for streams that only trigger reconciles (no store).
pub fn merged<K: Send + 'static>(watchers: Vec<(String, Events<K>)>) -> Events<K> {
    stream::select_all(watchers.into_iter().map(|(_, s)| s)).boxed()
}

/// The watchers' events merged for the reflector that writes `store` (see the module comment).
/// One watcher passes unchanged.
pub fn for_store<K>(mut watchers: Vec<(String, Events<K>)>, store: Store<K>) -> Events<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    if watchers.len() == 1 {
        if let Some((_, only)) = watchers.pop() {
            return only;
        }
    }
    let mut relist = Relist {
        store,
        namespaces: watchers.len(),
        listing: HashMap::new(),
        listed: HashSet::new(),
    };
    let tagged = stream::select_all(
        watchers
            .into_iter()
            .map(|(ns, s)| s.map(move |e| (ns.clone(), e))),
    );
    tagged
        .flat_map(move |(ns, e)| stream::iter(relist.step(&ns, e)))
        .boxed()
}

/// The state of [`for_store`]'s rewriting.
struct Relist<K: Resource<DynamicType = ()> + Clone + 'static> {
    /// The store the rewritten events are applied to (read to find objects a relist dropped).
    store: Store<K>,
    /// How many namespaces are watched.
    namespaces: usize,
    /// Names seen so far by each namespace's relist in progress.
    listing: HashMap<String, HashSet<String>>,
    /// The namespaces listed at least once.
    listed: HashSet<String>,
}

type Out<K> = Vec<Result<Event<K>, watcher::Error>>;

impl<K: Resource<DynamicType = ()> + Clone + 'static> Relist<K> {
    fn step(&mut self, ns: &str, event: Result<Event<K>, watcher::Error>) -> Out<K> {
        match event {
            Ok(Event::Init) => {
                self.listing.insert(ns.to_string(), HashSet::new());
                Vec::new()
            }
            Ok(Event::InitApply(o)) => {
                if let Some(seen) = self.listing.get_mut(ns) {
                    seen.insert(o.name_any());
                }
                vec![Ok(Event::Apply(o))]
            }
            Ok(Event::InitDone) => self.listed(ns),
            other => vec![other],
        }
    }

    /// `ns` has been listed: its objects the list did not show are gone. When this completes
    /// the first list of every namespace, the store is handed over whole once (`Init`, an
    /// `InitApply` per object, `InitDone`): that marks it ready. The objects are unchanged, so
    /// the controller's change filter lets none of them through again.
    fn listed(&mut self, ns: &str) -> Out<K> {
        let seen = self.listing.remove(ns).unwrap_or_default();
        let now_ready = self.listed.insert(ns.to_string()) && self.listed.len() == self.namespaces;
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for o in self.store.state() {
            if o.meta().namespace.as_deref() == Some(ns) && !seen.contains(&o.name_any()) {
                out.push(Ok(Event::Delete((*o).clone())));
            } else if now_ready {
                kept.push(Ok(Event::InitApply((*o).clone())));
            }
        }
        if now_ready {
            out.push(Ok(Event::Init));
            out.append(&mut kept);
            out.push(Ok(Event::InitDone));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use kube::runtime::reflector;

    fn cm(ns: &str, name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn names(store: &Store<ConfigMap>) -> Vec<String> {
        let mut out: Vec<String> = store
            .state()
            .iter()
            .map(|c| format!("{}/{}", c.namespace().unwrap_or_default(), c.name_any()))
            .collect();
        out.sort();
        out
    }

    /// Two namespaces' watchers fed by hand, merged into one store.
    struct Two {
        a: futures::channel::mpsc::UnboundedSender<Result<Event<ConfigMap>, watcher::Error>>,
        b: futures::channel::mpsc::UnboundedSender<Result<Event<ConfigMap>, watcher::Error>>,
        out: Events<ConfigMap>,
        store: Store<ConfigMap>,
    }

    impl Two {
        fn new() -> Self {
            let (reader, writer) = reflector::store();
            let (a, ra) = futures::channel::mpsc::unbounded();
            let (b, rb) = futures::channel::mpsc::unbounded();
            let merged = for_store(
                vec![("a".into(), ra.boxed()), ("b".into(), rb.boxed())],
                reader.clone(),
            );
            Self {
                a,
                b,
                out: merged.reflect(writer).boxed(),
                store: reader,
            }
        }

        fn send(&self, ns: &str, events: Vec<Event<ConfigMap>>) {
            let tx = if ns == "a" { &self.a } else { &self.b };
            for e in events {
                tx.unbounded_send(Ok(e)).unwrap();
            }
        }

        /// Everything the merged stream yields now.
        fn drain(&mut self) {
            while let Some(Some(_)) = self.out.next().now_or_never() {}
        }

        fn ready(&self) -> bool {
            self.store.wait_until_ready().now_or_never().is_some()
        }
    }

    #[tokio::test]
    async fn the_store_holds_both_namespaces_and_is_ready_only_after_both_are_listed() {
        use Event::*;
        let mut t = Two::new();
        t.send("a", vec![Init, InitApply(cm("a", "x")), InitDone]);
        t.drain();
        assert!(!t.ready(), "ready before namespace b was listed");
        assert_eq!(names(&t.store), ["a/x"]);
        t.send("b", vec![Init, InitApply(cm("b", "y")), InitDone]);
        t.drain();
        assert!(t.ready());
        assert_eq!(names(&t.store), ["a/x", "b/y"]);
        // A plain watch event of one namespace leaves the other alone.
        t.send("b", vec![Apply(cm("b", "z"))]);
        t.drain();
        assert_eq!(names(&t.store), ["a/x", "b/y", "b/z"]);
    }

    #[tokio::test]
    async fn a_relist_of_one_namespace_drops_only_its_own_vanished_objects() {
        use Event::*;
        let mut t = Two::new();
        t.send(
            "a",
            vec![
                Init,
                InitApply(cm("a", "x")),
                InitApply(cm("a", "gone")),
                InitDone,
            ],
        );
        t.send("b", vec![Init, InitApply(cm("b", "y")), InitDone]);
        t.drain();
        assert_eq!(names(&t.store), ["a/gone", "a/x", "b/y"]);
        // Namespace a's watch was lost and re-listed: `gone` was deleted meanwhile.
        t.send(
            "a",
            vec![
                Init,
                InitApply(cm("a", "x")),
                InitApply(cm("a", "new")),
                InitDone,
            ],
        );
        t.drain();
        assert_eq!(names(&t.store), ["a/new", "a/x", "b/y"]);
    }

    #[test]
    fn an_empty_list_means_every_namespace_and_duplicates_collapse() {
        assert_eq!(Namespaces::from_list(vec![]), Namespaces::All);
        let only = Namespaces::from_list(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(only, Namespaces::Only(vec!["a".into(), "b".into()]));
        assert!(only.contains("a") && !only.contains("c"));
        assert!(Namespaces::All.contains("c"));
    }
}
