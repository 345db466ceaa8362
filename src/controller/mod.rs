//! Reconcilers: one kube-runtime controller per kind, plus the shared machinery.
//!
//! - [`reconciler`]: the wrapper every kind shares (pause, finalizer, status, events, backoff).
//! - [`vpn_gateway`], [`customer_gateway`], [`vpn_connection`]: observe → plan → act → status per kind.
//! - [`clouds`]: which cloud account an object talks to; [`ownership`]: tags and names.
//! - [`status`], [`backoff`], [`locks`], [`error`], [`context`], [`wire`]: small helpers.
pub mod autoscaler;
pub mod backoff;
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

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{predicates, watcher, PredicateConfig, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};

use clouds::CredentialSource;
pub use context::{Context, Settings};
use reconciler::{error_policy, reconcile, Managed};
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

/// A controller for kind `K` over a trimmed, filtered watch stream.
fn controller<K: Managed>(client: &kube::Client, opts: &RunOptions) -> Controller<K> {
    let (reader, writer) = reflector::store();
    let stream = watcher(
        api::<K>(client, &opts.namespace),
        watcher::Config::default().any_semantic(),
    )
    .default_backoff()
    // Keep the cache small: the operator reads only its own annotations (pause), never labels,
    // managedFields, owner references or other tools' annotations (kubectl's last-applied
    // copy alone is as large as the spec). It writes status and finalizers only, with patches,
    // so nothing trimmed here is ever written back.
    .modify(|o: &mut K| trim_cached(o.meta_mut()))
    .reflect(writer)
    .applied_objects()
    .predicate_filter(trigger_hash::<K>, PredicateConfig::default());
    Controller::for_stream(stream, reader)
        .with_config(ControllerConfig::default().concurrency(opts.concurrency))
}

/// What the controllers' caches keep of an object's metadata (see [`controller`]).
fn trim_cached(m: &mut ObjectMeta) {
    m.managed_fields = None;
    m.labels = None;
    m.owner_references = None;
    if let Some(a) = &mut m.annotations {
        a.retain(|k, _| k.starts_with(ANNOTATION_PREFIX));
        if a.is_empty() {
            m.annotations = None;
        }
    }
}

/// The prefix of the annotations the operator reads.
const ANNOTATION_PREFIX: &str = "vpn.hwcloud.dev/";

/// Drives a controller to completion, logging each reconcile failure.
async fn drive<K: Managed>(
    c: Controller<K>,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    started: impl FnOnce() + Send,
) {
    let stream = c
        .graceful_shutdown_on(shutdown)
        .run(reconcile::<K>, error_policy::<K>, ctx);
    started();
    consume::<K>(stream).await;
}

async fn consume<K: Managed>(
    s: impl Stream<
        Item = Result<(ObjectRef<K>, kube::runtime::controller::Action), impl std::fmt::Display>,
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
    let renewing = ctx.clone();
    let event_cache = tokio::spawn(async move {
        let mut every = tokio::time::interval(context::EVENT_CACHE_RENEWAL);
        every.tick().await;
        loop {
            every.tick().await;
            renewing.renew_recorder();
            crate::memory::release_free_memory();
        }
    });
    // Every kind is reconciled again when the Secret its cloud credentials come from changes:
    // an object stopped by AuthFailed (retried only slowly) recovers as soon as the Secret is
    // fixed, without an edit of the object.
    let default_credentials = match &ctx.clouds.defaults().credentials {
        CredentialSource::Secret { namespace, name } => Some((namespace.clone(), name.clone())),
        CredentialSource::Static(_) => None,
    };
    // Gateways and customer gateways wait for their connections on deletion: look again when a
    // connection that uses them is being deleted or is gone.
    let gateways = controller::<VpnGateway>(&client, &opts);
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
        Some(woken) => gateways.reconcile_on(woken),
        None => gateways,
    };
    let _ = ctx.stores.gateways.set(gateways.store());
    let customer_gateways = controller::<CustomerGateway>(&client, &opts);
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
    let connections = controller::<VpnConnection>(&client, &opts);
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
        Some(woken) => connections.reconcile_on(woken),
        None => connections,
    };
    let services = controller::<CloudVpnService>(&client, &opts);
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
    event_cache.abort();
    for w in watchers {
        w.abort();
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
    watcher(api, watcher::Config::default())
        .default_backoff()
        .touched_objects()
        .predicate_filter(readiness, PredicateConfig::default())
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
    watcher(secret_api, watcher::Config::default())
        .default_backoff()
        .touched_objects()
        .predicate_filter(predicates::resource_version, PredicateConfig::default())
}

/// The objects whose cloud credentials come from `secret`: those naming it in
/// `spec.cloud.credentialsSecretRef` (same namespace), and, when it is the operator's default
/// credentials Secret, those naming none.
fn using_credentials<K: Managed>(
    items: &[Arc<K>],
    default: Option<&(String, String)>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<K>> {
    let ns = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    let is_default = default.is_some_and(|(n, s)| *n == ns && *s == name);
    items
        .iter()
        .filter(|o| {
            match o
                .cloud_settings()
                .and_then(|c| c.credentials_secret_ref.as_ref())
            {
                Some(r) => r.name == name && o.namespace().as_deref() == Some(ns.as_str()),
                None => is_default,
            }
        })
        .map(|o| ObjectRef::from_obj(&**o))
        .collect()
}

fn referencing<O: Resource>(
    items: &[Arc<VpnConnection>],
    kind: Referenced,
    obj: &O,
) -> Vec<ObjectRef<VpnConnection>> {
    let ns = obj.meta().namespace.clone().unwrap_or_default();
    let name = obj.meta().name.clone().unwrap_or_default();
    vpn_connection::connections_referencing(items.iter().map(|c| &**c), kind, &ns, &name)
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
    use std::collections::BTreeMap;

    #[test]
    fn the_cache_keeps_only_what_the_operator_reads() {
        let mut m = ObjectMeta {
            name: Some("gw".into()),
            uid: Some("u1".into()),
            generation: Some(3),
            finalizers: Some(vec![crate::crd::FINALIZER.into()]),
            labels: Some(BTreeMap::from([("team".into(), "net".into())])),
            annotations: Some(BTreeMap::from([
                (PAUSED_ANNOTATION.into(), "true".into()),
                (
                    "kubectl.kubernetes.io/last-applied-configuration".into(),
                    "{...}".into(),
                ),
            ])),
            ..Default::default()
        };
        trim_cached(&mut m);
        assert_eq!(m.labels, None);
        assert_eq!(
            m.annotations,
            Some(BTreeMap::from([(PAUSED_ANNOTATION.into(), "true".into())]))
        );
        // What reconciles and the trigger predicate use is untouched.
        assert_eq!(
            (m.name.as_deref(), m.uid.as_deref(), m.generation),
            (Some("gw"), Some("u1"), Some(3))
        );
        assert_eq!(m.finalizers.as_ref().map(Vec::len), Some(1));

        let mut bare = ObjectMeta {
            annotations: Some(BTreeMap::from([("other/x".into(), "y".into())])),
            ..Default::default()
        };
        trim_cached(&mut bare);
        assert_eq!(bare.annotations, None);
    }
}
