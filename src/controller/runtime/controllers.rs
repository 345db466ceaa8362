//! Building a kind's kube-runtime controller (filtered watch, compact cache, resync of the whole
//! kind), running it, and the background tasks every controller shares: the pending watches and
//! the housekeeping that keeps memory flat at rest. Which kinds watch which other objects is
//! wired in `controller::run`.
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{predicates, watcher, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};

use super::cached::Cached;
use super::changes;
use super::context::{Context, EVENT_CACHE_RENEWAL};
use super::contract::Managed;
use super::object::{observation_key, Object};
use super::pending;
use super::reconcile::{error_policy, reconcile_cached};
use super::scope::{self, Namespaces};
use crate::crd::ANNOTATION_PREFIX;

/// Where and how the controllers run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The namespaces watched: everything the operator reads or writes per namespace (its
    /// kinds, Secrets, Events) is in them.
    pub namespaces: Namespaces,
    /// Parallel reconciles per controller.
    pub concurrency: u16,
}

/// Only changes that can alter what the operator does pass: spec (generation), the operator's
/// own annotations (pause, an upgrade step, a reset request), finalizers and the deletion mark.
/// The operator's own status writes do not trigger another reconcile.
pub fn trigger_hash<K: Resource>(obj: &K) -> Option<u64> {
    let m = obj.meta();
    let mut h = DefaultHasher::new();
    m.generation.hash(&mut h);
    m.annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.starts_with(ANNOTATION_PREFIX))
        .for_each(|kv| kv.hash(&mut h));
    m.finalizers.hash(&mut h);
    m.deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut h);
    Some(h.finish())
}

/// A controller for kind `K` over a filtered watch stream whose cache keeps each object in
/// compact form ([`Cached`]). Every object is reconciled again each `resync` (drift detection;
/// see [`resync_ticks`]). Its cache is registered with the context, for the reconciles that
/// read objects of this kind.
pub fn controller<K: Managed>(
    client: &kube::Client,
    opts: &RunOptions,
    ctx: &Context,
) -> Controller<Cached<K>> {
    let (reader, writer) = reflector::store();
    let watchers = scope::watchers::<Cached<K>>(
        client,
        &opts.namespaces,
        &watcher::Config::default().any_semantic(),
    );
    let stream = scope::for_store(watchers, reader.clone())
        .reflect(writer)
        .inspect(expect_observation::<K>(reader.clone(), ctx.metrics.clone()))
        .inspect(writes_shown(ctx.kube.clone()));
    let stream = changes::changed_only(stream, trigger_hash::<Cached<K>>).applied_objects();
    let c = Controller::for_stream(stream, reader)
        .with_config(ControllerConfig::default().concurrency(opts.concurrency))
        .reconcile_all_on(resync_ticks(ctx.settings.resync_interval));
    if let Some(stores) = ctx.kube.stores() {
        stores.set(c.store());
    }
    c
}

/// Tells the context which of the operator's own writes its cache shows now (see
/// [`super::kube::unseen`]): the store has the event's object before it passes here.
fn writes_shown<K: Resource>(
    kube: super::kube::Kube,
) -> impl FnMut(&Result<watcher::Event<K>, watcher::Error>) {
    move |event| match event {
        Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => kube.shown(o.meta(), false),
        Ok(watcher::Event::Delete(o)) => kube.shown(o.meta(), true),
        _ => {}
    }
}

/// One tick each `every`, the first after `every`: the resync of all objects of a kind.
///
/// Why one resync for the whole kind instead of each object requeueing itself: a requeued
/// object keeps an entry in kube-runtime's scheduler for as long as it exists. At rest the
/// objects are observed through one shared list per kind anyway.
pub fn resync_ticks(every: Duration) -> impl Stream<Item = ()> + Send + 'static {
    futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some(((), ()))
    })
}

/// Drives a controller to completion, logging each reconcile failure.
pub async fn drive<K: Managed>(
    c: Controller<Cached<K>>,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    started: impl FnOnce() + Send,
) {
    let stream =
        c.graceful_shutdown_on(shutdown)
            .run(reconcile_cached::<K>, error_policy::<Cached<K>>, ctx);
    started();
    stream
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(kind = K::KIND, error = %e, "controller event");
            }
        })
        .await;
}

/// Once the kind's initial list is in (the first `InitDone`, applied to the store before it
/// passes here), every object in it is one this process has to reconcile before it has
/// re-observed the fleet (the `unobserved_objects` metric: how long a restart or a failover
/// takes to look at everything, found without writing anything).
fn expect_observation<K: Managed>(
    store: reflector::Store<Cached<K>>,
    metrics: crate::metrics::Metrics,
) -> impl FnMut(&Result<watcher::Event<Cached<K>>, watcher::Error>) {
    let mut done = false;
    move |event| {
        if !done && matches!(event, Ok(watcher::Event::InitDone)) {
            done = true;
            let listed = store.state();
            metrics.expect_observation(K::KIND, listed.iter().map(|o| observation_key(&**o)));
        }
    }
}

/// How often [`housekeeping`] drops idle list snapshots.
const SNAPSHOT_SWEEP: Duration = Duration::from_secs(10);
/// A list snapshot no reconcile read for this long is dropped (see
/// [`crate::cloud::listcache::ListCache::forget_idle`]).
const SNAPSHOT_IDLE: Duration = Duration::from_secs(20);

/// An account no reconcile used for this long loses its client, credentials and tokens
/// ([`forget_idle_accounts`]). Longer than the default resync interval (10 min), so an account
/// whose objects rest keeps its client between two resyncs.
pub const ACCOUNT_IDLE: Duration = Duration::from_secs(15 * 60);

/// Drops the per-account state of accounts idle for `idle`: clients (credentials, HTTP pools,
/// tokens), then the rate limiters at rest that no client holds any more, and expired Secret
/// reads (account Secrets among them). List snapshots go sooner ([`SNAPSHOT_IDLE`]); the
/// pending watches hold an account only while it has resources in transition. Returns how
/// many entries were dropped.
pub fn forget_idle_accounts(ctx: &Context, idle: Duration) -> usize {
    ctx.clouds.forget_idle(idle)
        + crate::cloud::limiter::forget_idle()
        + ctx.kube.forget_expired_secrets()
}

/// Keeps memory flat at rest: drops list snapshots nobody reads and the state of idle accounts,
/// renews the Event cache every [`EVENT_CACHE_RENEWAL`], and hands freed heap pages back to the
/// OS after any of them.
pub async fn housekeeping(ctx: Arc<Context>) {
    let mut every = tokio::time::interval(SNAPSHOT_SWEEP);
    every.tick().await;
    let mut renewed = tokio::time::Instant::now();
    loop {
        every.tick().await;
        let mut freed = ctx.clouds.lists().forget_idle(SNAPSHOT_IDLE) > 0;
        freed |= forget_idle_accounts(&ctx, ACCOUNT_IDLE) > 0;
        if renewed.elapsed() >= EVENT_CACHE_RENEWAL {
            ctx.kube.renew_recorder();
            renewed = tokio::time::Instant::now();
            freed = true;
        }
        if freed {
            crate::memory::release_free_memory();
        }
    }
}

/// The tasks that wake pending gateways and connections when a shared list shows their cloud
/// state changed (see [`pending`]); one list per kind and account each `pending_requeue`.
pub fn spawn_pending_watches(ctx: &Arc<Context>) -> Vec<tokio::task::JoinHandle<()>> {
    let tick = ctx.settings.pending_requeue;
    let c = ctx.clone();
    let gateways = tokio::spawn(async move {
        pending::run(
            &c.pending.gateways,
            tick,
            |client, fresh| async move { client.listed_gateways(fresh).await },
            |g: &crate::cloud::model::gateway::ResponseVpnGateway| {
                g.status.as_ref().map_or("", |s| s.as_str())
            },
            &c.metrics,
        )
        .await
    });
    let c = ctx.clone();
    let connections = tokio::spawn(async move {
        pending::run(
            &c.pending.connections,
            tick,
            |client, fresh| async move { client.listed_connections(fresh).await },
            |g: &crate::cloud::model::connection::ResponseVpnConnection| {
                g.status.as_ref().map_or("", |s| s.as_str())
            },
            &c.metrics,
        )
        .await
    });
    vec![gateways, connections]
}

/// The changes of a kind that other objects depend on which can alter their reconcile
/// (`readiness` hashes what they read of it). Without this filter every status write of a
/// gateway (finalizer, created, each state) woke its connections: during a creation storm that
/// was several reconciles per connection, most of them only to find the gateway not Ready yet,
/// holding the connection workers while ACTIVE connections waited.
pub fn dependency_changes<K>(
    client: &kube::Client,
    opts: &RunOptions,
    readiness: fn(&K) -> Option<u64>,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let watchers = scope::watchers::<K>(client, &opts.namespaces, &watcher::Config::default());
    changes::changed_only(scope::merged(watchers), readiness).touched_objects()
}

/// Objects of kind `K` in the watched namespaces as they change, whole (for `watches_stream`).
pub fn touched<K>(
    client: &kube::Client,
    opts: &RunOptions,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    scope::merged(scope::watchers::<K>(
        client,
        &opts.namespaces,
        &watcher::Config::default(),
    ))
    .touched_objects()
}

/// Changes of Secrets in the watched namespaces, watched as metadata only (their values never
/// enter the operator's caches). A Secret passes when its content changed (new
/// resourceVersion), not again on every re-list of the watch. The operator's default
/// credentials Secret (`credentials`, namespace and name) is watched too when its namespace is
/// not watched: that one Secret alone, by name, which a Role can grant by `resourceNames`.
pub fn secret_changes(
    client: &kube::Client,
    opts: &RunOptions,
    credentials: Option<&(String, String)>,
) -> impl Stream<Item = Result<PartialObjectMeta<Secret>, watcher::Error>> + Send + 'static {
    let mut watchers = scope::watchers::<PartialObjectMeta<Secret>>(
        client,
        &opts.namespaces,
        &watcher::Config::default(),
    );
    if let Some((ns, name)) = credentials.filter(|(ns, _)| !opts.namespaces.contains(ns)) {
        let one: Api<PartialObjectMeta<Secret>> = Api::namespaced(client.clone(), ns);
        let by_name = watcher::Config::default().fields(&format!("metadata.name={name}"));
        watchers.push((ns.clone(), watcher(one, by_name).default_backoff().boxed()));
    }
    changes::changed_only(scope::merged(watchers), predicates::resource_version).touched_objects()
}

/// The objects whose cloud account may come from `secret`: those naming it in
/// `spec.cloud.credentialsSecretRef` (same namespace), and, of those naming none, the ones in
/// its namespace when it is their namespace's account Secret (`account_secret`: created,
/// changed or deleted, the account they resolve to changes) and all of them when it is the
/// operator's default credentials Secret (`default`).
pub fn using_credentials<K: Object>(
    items: &[Arc<Cached<K>>],
    default: Option<&(String, String)>,
    account_secret: &str,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<Cached<K>>> {
    let ns = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    let is_default = default.is_some_and(|(n, s)| *n == ns && *s == name);
    let is_account = name == account_secret;
    items
        .iter()
        .filter(|o| {
            let same_ns = o.meta().namespace.as_deref() == Some(ns.as_str());
            match o.links().credentials_secret.as_deref() {
                Some(r) => r == name && same_ns,
                None => is_default || (is_account && same_ns),
            }
        })
        .map(|o| ObjectRef::from_obj(&**o))
        .collect()
}

/// The objects among `items` whose own data comes from `secret` (`Links::secret`: a gateway's
/// certificates), in its namespace.
pub fn using_secret<K: Object>(
    items: &[Arc<Cached<K>>],
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<Cached<K>>> {
    let ns = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    items
        .iter()
        .filter(|o| o.meta().namespace.as_deref() == Some(ns.as_str()))
        .filter(|o| o.links().secret.as_deref() == Some(name.as_str()))
        .map(|o| ObjectRef::from_obj(&**o))
        .collect()
}

/// The controller's key for an object named by a typed reference.
pub fn cached_ref<K: Resource<DynamicType = ()>>(r: ObjectRef<K>) -> ObjectRef<Cached<K>> {
    let o = ObjectRef::new(&r.name);
    match &r.namespace {
        Some(ns) => o.within(ns),
        None => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn a_namespace_account_secret_wakes_the_objects_of_its_namespace_that_use_it() {
        use crate::crd::CustomerGateway;
        let cgw = |ns: &str, name: &str, creds: Option<&str>| -> Arc<Cached<CustomerGateway>> {
            let mut spec = serde_json::json!({"idType": "ip", "idValue": "203.0.113.1"});
            if let Some(c) = creds {
                spec["cloud"] = serde_json::json!({"credentialsSecretRef": {"name": c}});
            }
            Arc::new(
                serde_json::from_value(serde_json::json!({
                    "apiVersion": "vpn.hwcloud.dev/v1alpha1", "kind": "CustomerGateway",
                    "metadata": {"name": name, "namespace": ns}, "spec": spec
                }))
                .unwrap(),
            )
        };
        let items = [
            cgw("team-b", "plain", None),
            cgw("team-b", "own", Some("own-creds")),
            cgw("team-c", "other-team", None),
        ];
        let secret = |ns: &str, name: &str| {
            let mut s = PartialObjectMeta::<Secret>::default();
            s.metadata.namespace = Some(ns.into());
            s.metadata.name = Some(name.into());
            s
        };
        let names = |refs: Vec<ObjectRef<Cached<CustomerGateway>>>| {
            refs.into_iter().map(|r| r.name).collect::<Vec<_>>()
        };
        let account = "vpn-operator-account";
        let woken = using_credentials(&items, None, account, &secret("team-b", account));
        assert_eq!(
            names(woken),
            ["plain"],
            "not another namespace, not spec.cloud's own"
        );
        let woken = using_credentials(&items, None, account, &secret("team-b", "own-creds"));
        assert_eq!(names(woken), ["own"]);
        let woken = using_credentials(&items, None, account, &secret("team-b", "psk"));
        assert!(woken.is_empty());
        let default = ("ops".to_string(), "creds".to_string());
        let woken = using_credentials(&items, Some(&default), account, &secret("ops", "creds"));
        assert_eq!(names(woken), ["plain", "other-team"]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_resync_of_a_kind_comes_each_interval_and_not_at_start() {
        let every = Duration::from_secs(600);
        let mut ticks = Box::pin(resync_ticks(every));
        // Not at start: the controller's initial list reconciles every object anyway.
        assert!(ticks.next().now_or_never().is_none());
        let start = tokio::time::Instant::now();
        ticks.next().await.unwrap();
        assert_eq!(start.elapsed(), every);
        ticks.next().await.unwrap();
        assert_eq!(start.elapsed(), every * 2);
    }
}
