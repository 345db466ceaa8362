//! Reconcilers: one kube-runtime controller per kind, plus the shared machinery.
//!
//! - [`reconciler`]: the wrapper every kind shares (pause, finalizer, status, events, backoff).
//! - [`vpn_gateway`], [`customer_gateway`], [`vpn_connection`]: observe → plan → act → status per kind.
//! - [`clouds`]: which cloud account an object talks to; [`ownership`]: tags and names.
//! - [`status`], [`backoff`], [`locks`], [`error`], [`context`], [`wire`]: small helpers.
pub mod autoscaler;
pub mod backoff;
pub mod cached;
pub mod changes;
pub mod cloud_vpn_service;
pub mod clouds;
pub mod context;
pub mod customer_gateway;
pub mod error;
pub mod events;
pub mod locks;
pub mod ownership;
pub mod pending;
pub mod reconciler;
pub mod secrets;
pub mod status;
pub mod stores;
pub mod vpn_connection;
pub mod vpn_gateway;
pub mod wire;

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

use cached::Cached;
use clouds::CredentialSource;
pub use context::{Context, Settings};
use reconciler::{error_policy, reconcile_cached, Managed};
use vpn_connection::Referenced;

use crate::crd::cloud_vpn_service::CloudVpnService;
use crate::crd::customer_gateway::CustomerGateway;
use crate::crd::vpn_connection::VpnConnection;
use crate::crd::vpn_gateway::VpnGateway;
use crate::crd::PAUSED_ANNOTATION;

/// Names of the controllers, for readiness reporting.
pub const CONTROLLERS: &[&str] = &[
    "VpnGateway",
    "CustomerGateway",
    "VpnConnection",
    "CloudVpnService",
];

/// Where and how the controllers run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Watch one namespace, or all when `None`.
    pub namespace: Option<String>,
    /// Parallel reconciles per controller.
    pub concurrency: u16,
}

fn api<K>(client: &kube::Client, ns: &Option<String>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Only changes that can alter what the operator does pass: spec (generation), the pause
/// annotation, finalizers and the deletion mark. The operator's own status writes do not
/// trigger another reconcile.
fn trigger_hash<K: Resource>(obj: &K) -> Option<u64> {
    let m = obj.meta();
    let mut h = DefaultHasher::new();
    m.generation.hash(&mut h);
    m.annotations
        .as_ref()
        .and_then(|a| a.get(PAUSED_ANNOTATION))
        .hash(&mut h);
    m.finalizers.hash(&mut h);
    m.deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut h);
    Some(h.finish())
}

/// A controller for kind `K` over a filtered watch stream whose cache keeps each object in
/// compact form ([`Cached`]: trimmed metadata, deflated spec and status). Every object is
/// reconciled again each `resync` (drift detection; see [`resync_ticks`]).
fn controller<K: Managed>(
    client: &kube::Client,
    opts: &RunOptions,
    resync: Duration,
) -> Controller<Cached<K>> {
    let (reader, writer) = reflector::store();
    let stream = watcher(
        api::<Cached<K>>(client, &opts.namespace),
        watcher::Config::default().any_semantic(),
    )
    .default_backoff()
    .reflect(writer);
    let stream = changes::changed_only(stream, trigger_hash::<Cached<K>>).applied_objects();
    Controller::for_stream(stream, reader)
        .with_config(ControllerConfig::default().concurrency(opts.concurrency))
        .reconcile_all_on(resync_ticks(resync))
}

/// One tick each `every`, the first after `every`: the resync of all objects of a kind.
///
/// Why one resync for the whole kind instead of each object requeueing itself: a requeued
/// object keeps an entry in kube-runtime's scheduler (its reference twice, with name,
/// namespace, uid and resourceVersion) for as long as it exists, about 0.9 KiB per object.
/// At rest the objects are observed through one shared list per kind anyway.
fn resync_ticks(every: Duration) -> impl Stream<Item = ()> + Send + 'static {
    futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some(((), ()))
    })
}

/// Drives a controller to completion, logging each reconcile failure.
async fn drive<K: Managed>(
    c: Controller<Cached<K>>,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    started: impl FnOnce() + Send,
) {
    let stream =
        c.graceful_shutdown_on(shutdown)
            .run(reconcile_cached::<K>, error_policy::<Cached<K>>, ctx);
    started();
    consume::<K>(stream).await;
}

async fn consume<K: Managed>(
    s: impl Stream<
        Item = Result<
            (ObjectRef<Cached<K>>, kube::runtime::controller::Action),
            impl std::fmt::Display,
        >,
    >,
) {
    s.for_each(|r| async move {
        if let Err(e) = r {
            tracing::debug!(kind = K::KIND, error = %e, "controller event");
        }
    })
    .await;
}

/// Runs every controller until `shutdown` resolves. `started(name)` is called once each
/// controller is running (for readiness).
pub async fn run_all<S, F>(
    client: kube::Client,
    ctx: Arc<Context>,
    opts: RunOptions,
    shutdown: S,
    started: F,
) where
    S: Future<Output = ()> + Clone + Send + Sync + 'static,
    F: Fn(&'static str) + Send + Sync + Clone + 'static,
{
    // From now on this process acts on the cloud: owner-tag searches trust only lists taken
    // after this moment (an earlier process may have created resources just before it).
    ctx.clouds.lists().begin();
    let watchers = spawn_pending_watches(&ctx);
    let housekeeping = tokio::spawn(housekeeping(ctx.clone()));
    let resync = ctx.settings.resync_interval;
    // Every kind is reconciled again when the Secret its cloud credentials come from changes:
    // an object stopped by AuthFailed (retried only slowly) recovers as soon as the Secret is
    // fixed, without an edit of the object.
    let default_credentials = match &ctx.clouds.defaults().credentials {
        CredentialSource::Secret { namespace, name } => Some((namespace.clone(), name.clone())),
        CredentialSource::Static(_) => None,
    };
    // Gateways and customer gateways wait for their connections on deletion: look again when a
    // connection that uses them is being deleted or is gone.
    let gateways = controller::<VpnGateway>(&client, &opts, resync);
    let (gw_store, creds) = (gateways.store(), default_credentials.clone());
    let gateways = gateways
        .watches(
            api::<VpnConnection>(&client, &opts.namespace),
            watcher::Config::default(),
            |c: VpnConnection| departing_ref(&c, c.spec.vpn_gateway_ref.name.clone()),
        )
        .watches_stream(secret_changes(&client, &opts), move |s| {
            using_credentials(&gw_store.state(), creds.as_ref(), &s)
        });
    let gateways = match ctx.pending.gateways.take_trigger() {
        Some(woken) => gateways.reconcile_on(woken.map(cached_ref)),
        None => gateways,
    };
    let _ = ctx.stores.gateways.set(gateways.store());
    let customer_gateways = controller::<CustomerGateway>(&client, &opts, resync);
    let (cgw_store, creds) = (customer_gateways.store(), default_credentials.clone());
    let customer_gateways = customer_gateways
        .watches(
            api::<VpnConnection>(&client, &opts.namespace),
            watcher::Config::default(),
            |c: VpnConnection| departing_ref(&c, c.spec.customer_gateway_ref.name.clone()),
        )
        .watches_stream(secret_changes(&client, &opts), move |s| {
            using_credentials(&cgw_store.state(), creds.as_ref(), &s)
        });
    let _ = ctx.stores.customer_gateways.set(customer_gateways.store());
    // Connections: reconciled when the gateway or customer gateway they name changes (e.g.
    // becomes Ready), and when their PSK Secret or credentials Secret changes (rotation).
    let connections = controller::<VpnConnection>(&client, &opts, resync);
    let store = connections.store();
    let _ = ctx.stores.connections.set(store.clone());
    let (st1, st2, st3) = (store.clone(), store.clone(), store);
    let secrets = secret_changes(&client, &opts);
    let psk_ctx = ctx.clone();
    let connections = connections
        .watches_stream(
            dependency_changes(
                api::<VpnGateway>(&client, &opts.namespace),
                gateway_readiness,
            ),
            move |g: VpnGateway| referencing(&st1.state(), Referenced::VpnGateway, &g),
        )
        .watches_stream(
            dependency_changes(
                api::<CustomerGateway>(&client, &opts.namespace),
                customer_gateway_readiness,
            ),
            move |c: CustomerGateway| referencing(&st2.state(), Referenced::CustomerGateway, &c),
        )
        .watches_stream(secrets, move |s: PartialObjectMeta<Secret>| {
            // Before the connections that use it are woken: they must read the new key.
            psk_ctx
                .psk_cache
                .forget(&s.namespace().unwrap_or_default(), &s.name_any());
            let items = st3.state();
            let mut refs = referencing(&items, Referenced::Secret, &s);
            refs.extend(using_credentials(&items, default_credentials.as_ref(), &s));
            refs
        });
    let connections = match ctx.pending.connections.take_trigger() {
        Some(woken) => connections.reconcile_on(woken.map(cached_ref)),
        None => connections,
    };
    let services = controller::<CloudVpnService>(&client, &opts, resync);
    let (s1, s2, s3, s4) = (
        started.clone(),
        started.clone(),
        started.clone(),
        started.clone(),
    );
    tokio::join!(
        drive(gateways, ctx.clone(), shutdown.clone(), move || s1(
            "VpnGateway"
        )),
        drive(
            customer_gateways,
            ctx.clone(),
            shutdown.clone(),
            move || s2("CustomerGateway")
        ),
        drive(connections, ctx.clone(), shutdown.clone(), move || s3(
            "VpnConnection"
        )),
        drive(services, ctx.clone(), shutdown.clone(), move || s4(
            "CloudVpnService"
        )),
    );
    housekeeping.abort();
    for w in watchers {
        w.abort();
    }
}

/// How often [`housekeeping`] drops idle list snapshots.
const SNAPSHOT_SWEEP: Duration = Duration::from_secs(10);
/// A list snapshot no reconcile read for this long is dropped (see
/// [`crate::cloud::listcache::ListCache::forget_idle`]).
const SNAPSHOT_IDLE: Duration = Duration::from_secs(20);

/// Keeps memory flat at rest: drops list snapshots nobody reads, renews the Event cache every
/// [`context::EVENT_CACHE_RENEWAL`], and hands freed heap pages back to the OS after either.
async fn housekeeping(ctx: Arc<Context>) {
    let mut every = tokio::time::interval(SNAPSHOT_SWEEP);
    every.tick().await;
    let mut renewed = tokio::time::Instant::now();
    loop {
        every.tick().await;
        let mut freed = ctx.clouds.lists().forget_idle(SNAPSHOT_IDLE) > 0;
        if renewed.elapsed() >= context::EVENT_CACHE_RENEWAL {
            ctx.renew_recorder();
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
fn spawn_pending_watches(ctx: &Arc<Context>) -> Vec<tokio::task::JoinHandle<()>> {
    use crate::cloud::listcache::Freshness;
    let tick = ctx.settings.pending_requeue;
    // A snapshot at most a quarter tick old: a change is seen within about 1.25 ticks.
    let fresh = Freshness::within(tick / 4);
    let c = ctx.clone();
    let gateways = tokio::spawn(async move {
        let lists = c.clouds.lists();
        pending::run(
            &c.pending.gateways,
            tick,
            |client| async move { lists.all_gateways(&client, fresh).await },
            |g: &crate::cloud::model::gateway::ResponseVpnGateway| {
                g.status.as_ref().map_or("", |s| s.as_str())
            },
            &c.metrics,
        )
        .await
    });
    let c = ctx.clone();
    let connections = tokio::spawn(async move {
        let lists = c.clouds.lists();
        pending::run(
            &c.pending.connections,
            tick,
            |client| async move { lists.all_connections(&client, fresh).await },
            |g: &crate::cloud::model::connection::ResponseVpnConnection| {
                g.status.as_ref().map_or("", |s| s.as_str())
            },
            &c.metrics,
        )
        .await
    });
    vec![gateways, connections]
}

/// The changes of a kind that connections depend on which can alter a connection's reconcile
/// (`readiness` hashes what a connection reads of it). Without this filter every status write
/// of a gateway (finalizer, created, each state) woke its connections: during a creation storm
/// that was about eight reconciles per connection, most of them only to find the gateway not
/// Ready yet, holding the connection workers while ACTIVE connections waited.
fn dependency_changes<K>(
    api: Api<K>,
    readiness: fn(&K) -> Option<u64>,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    changes::changed_only(
        watcher(api, watcher::Config::default()).default_backoff(),
        readiness,
    )
    .touched_objects()
}

/// What a connection reads of its gateway (`vpn_connection::refs::gateway_from_cr`): network
/// type, deletion, cloud id, whether Ready, and the addresses.
fn gateway_readiness(g: &VpnGateway) -> Option<u64> {
    let mut h = DefaultHasher::new();
    crate::controller::wire::enum_str(&g.spec.network_type).hash(&mut h);
    g.metadata.deletion_timestamp.is_some().hash(&mut h);
    if let Some(s) = &g.status {
        s.cloud_id.hash(&mut h);
        ready_status(&s.conditions).hash(&mut h);
        for e in [&s.eip1, &s.eip2].into_iter().flatten() {
            (&e.id, &e.ip_address).hash(&mut h);
        }
        (&s.access_private_ip1, &s.access_private_ip2).hash(&mut h);
    }
    Some(h.finish())
}

/// What a connection reads of its customer gateway: deletion, cloud id, whether Ready.
fn customer_gateway_readiness(c: &CustomerGateway) -> Option<u64> {
    let mut h = DefaultHasher::new();
    c.metadata.deletion_timestamp.is_some().hash(&mut h);
    if let Some(s) = &c.status {
        s.cloud_id.hash(&mut h);
        ready_status(&s.conditions).hash(&mut h);
    }
    Some(h.finish())
}

fn ready_status(
    conditions: &[crate::crd::common::Condition],
) -> Option<crate::crd::common::ConditionStatus> {
    crate::crd::common::find_condition(conditions, crate::crd::common::types::READY)
        .map(|c| c.status)
}

/// Changes of Secrets, watched as metadata only (their values never enter the operator's
/// caches). A Secret passes when its content changed (new resourceVersion), not again on every
/// re-list of the watch.
fn secret_changes(
    client: &kube::Client,
    opts: &RunOptions,
) -> impl Stream<Item = Result<PartialObjectMeta<Secret>, watcher::Error>> + Send + 'static {
    let secret_api: Api<PartialObjectMeta<Secret>> = match &opts.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    changes::changed_only(
        watcher(secret_api, watcher::Config::default()).default_backoff(),
        predicates::resource_version,
    )
    .touched_objects()
}

/// The objects whose cloud credentials come from `secret`: those naming it in
/// `spec.cloud.credentialsSecretRef` (same namespace), and, when it is the operator's default
/// credentials Secret, those naming none.
fn using_credentials<K: Managed>(
    items: &[Arc<Cached<K>>],
    default: Option<&(String, String)>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<Cached<K>>> {
    let ns = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    let is_default = default.is_some_and(|(n, s)| *n == ns && *s == name);
    items
        .iter()
        .filter(|o| match o.links().credentials_secret.as_deref() {
            Some(r) => r == name && o.meta().namespace.as_deref() == Some(ns.as_str()),
            None => is_default,
        })
        .map(|o| ObjectRef::from_obj(&**o))
        .collect()
}

fn referencing<O: Resource>(
    items: &[Arc<Cached<VpnConnection>>],
    kind: Referenced,
    obj: &O,
) -> Vec<ObjectRef<Cached<VpnConnection>>> {
    let ns = obj.meta().namespace.as_deref().unwrap_or_default();
    let name = obj.meta().name.as_deref().unwrap_or_default();
    vpn_connection::connections_referencing(items, kind, ns, name)
}

/// The controller's key for an object named by a typed reference.
fn cached_ref<K: Resource<DynamicType = ()>>(r: ObjectRef<K>) -> ObjectRef<Cached<K>> {
    let o = ObjectRef::new(&r.name);
    match &r.namespace {
        Some(ns) => o.within(ns),
        None => o,
    }
}

/// The object a departing connection refers to by name (nothing while the connection lives).
fn departing_ref<K>(c: &VpnConnection, name: Option<String>) -> Option<ObjectRef<K>>
where
    K: Resource<DynamicType = ()>,
{
    let ns = c.namespace().unwrap_or_default();
    name.filter(|_| c.metadata.deletion_timestamp.is_some())
        .map(|n| ObjectRef::<K>::new(&n).within(&ns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

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

    #[test]
    fn a_settled_object_waits_for_the_resync_of_its_kind() {
        let settings = Settings::default();
        assert_eq!(
            reconciler::settled_or_requeue(settings.resync_interval, &settings),
            kube::runtime::controller::Action::await_change()
        );
        let soon = Duration::from_secs(5);
        assert_eq!(
            reconciler::settled_or_requeue(soon, &settings),
            kube::runtime::controller::Action::requeue(soon)
        );
    }
}
