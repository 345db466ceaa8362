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
pub mod error;
pub mod locks;
pub mod ownership;
pub mod reconciler;
pub mod status;
pub mod vpn_gateway;
pub mod wire;

use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use futures::{Stream, StreamExt};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{watcher, PredicateConfig, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};

pub use context::{Context, Settings};
use reconciler::{error_policy, reconcile, Managed};

use crate::crd::vpn_connection::VpnConnection;
use crate::crd::vpn_gateway::VpnGateway;
use crate::crd::PAUSED_ANNOTATION;

/// Names of the controllers, for readiness reporting.
pub const CONTROLLERS: &[&str] = &["VpnGateway"];

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
    // Keep the cache small: nothing reads managedFields or the last-applied annotation.
    .modify(|o: &mut K| {
        o.managed_fields_mut().clear();
        o.annotations_mut()
            .remove("kubectl.kubernetes.io/last-applied-configuration");
    })
    .reflect(writer)
    .applied_objects()
    .predicate_filter(trigger_hash::<K>, PredicateConfig::default());
    Controller::for_stream(stream, reader)
        .with_config(ControllerConfig::default().concurrency(opts.concurrency))
}

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
    // Gateways: look again when a connection that uses it goes away (deletion waits for them).
    let gateways = controller::<VpnGateway>(&client, &opts).watches(
        api::<VpnConnection>(&client, &opts.namespace),
        watcher::Config::default(),
        |c: VpnConnection| {
            let ns = c.namespace().unwrap_or_default();
            let gone = c.metadata.deletion_timestamp.is_some();
            c.spec
                .vpn_gateway_ref
                .name
                .filter(|_| gone)
                .map(|n| ObjectRef::<VpnGateway>::new(&n).within(&ns))
        },
    );
    let s = started.clone();
    tokio::join!(drive(gateways, ctx.clone(), shutdown.clone(), move || s(
        "VpnGateway"
    )));
}
