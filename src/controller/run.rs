//! Running the four controllers: which kind is reconciled again when which other object
//! changes. The machinery is in [`super::runtime::controllers`]; the kinds' own mapping
//! functions are in their folders.
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use super::kinds::{customer_gateway, vpn_connection, vpn_gateway};
use super::runtime::cached::Cached;
use super::runtime::clouds::CredentialSource;
use super::runtime::context::Context;
use super::runtime::controllers::{
    api, cached_ref, controller, dependency_changes, drive, housekeeping, secret_changes,
    spawn_pending_watches, using_credentials, RunOptions,
};
use crate::crd::{CloudVpnService, CustomerGateway, VpnConnection, VpnGateway};
use vpn_connection::Referenced;

/// Names of the controllers, for readiness reporting.
pub const CONTROLLERS: &[&str] = &[
    "VpnGateway",
    "CustomerGateway",
    "VpnConnection",
    "CloudVpnService",
];

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
    // Every kind is reconciled again when the Secret its cloud credentials come from changes:
    // an object stopped by AuthFailed (retried only slowly) recovers as soon as the Secret is
    // fixed, without an edit of the object.
    let default_credentials = match &ctx.clouds.defaults().credentials {
        CredentialSource::Secret { namespace, name } => Some((namespace.clone(), name.clone())),
        CredentialSource::Static(_) => None,
    };
    // Gateways and customer gateways wait for their connections on deletion: look again when a
    // connection that uses them is being deleted or is gone.
    let gateways = controller::<VpnGateway>(&client, &opts, &ctx);
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
    let customer_gateways = controller::<CustomerGateway>(&client, &opts, &ctx);
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
    // Connections: reconciled when the gateway or customer gateway they name changes (e.g.
    // becomes Ready), and when their PSK Secret or credentials Secret changes (rotation).
    let connections = controller::<VpnConnection>(&client, &opts, &ctx);
    let store = connections.store();
    let (st1, st2, st3) = (store.clone(), store.clone(), store);
    let secrets = secret_changes(&client, &opts);
    let secret_ctx = ctx.clone();
    let connections = connections
        .watches_stream(
            dependency_changes(
                api::<VpnGateway>(&client, &opts.namespace),
                vpn_gateway::readiness,
            ),
            move |g: VpnGateway| referencing(&st1.state(), Referenced::VpnGateway, &g),
        )
        .watches_stream(
            dependency_changes(
                api::<CustomerGateway>(&client, &opts.namespace),
                customer_gateway::readiness,
            ),
            move |c: CustomerGateway| referencing(&st2.state(), Referenced::CustomerGateway, &c),
        )
        .watches_stream(secrets, move |s: PartialObjectMeta<Secret>| {
            // Before the connections that use it are woken: they must read the new key.
            secret_ctx
                .kube
                .forget_secret(&s.namespace().unwrap_or_default(), &s.name_any());
            let items = st3.state();
            let mut refs = referencing(&items, Referenced::Secret, &s);
            refs.extend(using_credentials(&items, default_credentials.as_ref(), &s));
            refs
        });
    let connections = match ctx.pending.connections.take_trigger() {
        Some(woken) => connections.reconcile_on(woken.map(cached_ref)),
        None => connections,
    };
    let services = controller::<CloudVpnService>(&client, &opts, &ctx);
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

fn referencing<O: Resource>(
    items: &[Arc<Cached<VpnConnection>>],
    kind: Referenced,
    obj: &O,
) -> Vec<ObjectRef<Cached<VpnConnection>>> {
    let ns = obj.meta().namespace.as_deref().unwrap_or_default();
    let name = obj.meta().name.as_deref().unwrap_or_default();
    vpn_connection::connections_referencing(items, kind, ns, name)
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
