//! Running the four controllers: which kind is reconciled again when which other object
//! changes. The machinery is in [`super::runtime::controllers`]; the kinds' own mapping
//! functions are in their folders.
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use super::kinds::{customer_gateway, vpn_connection, vpn_gateway};
use super::runtime::cached::Cached;
use super::runtime::clouds::CredentialSource;
use super::runtime::context::Context;
use super::runtime::controllers::{
    cached_ref, controller, dependency_changes, drive, housekeeping, secret_changes,
    spawn_pending_watches, touched, using_credentials, using_secret, RunOptions,
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
    let wiring = Wiring {
        client: &client,
        opts: &opts,
        ctx: &ctx,
        default_credentials: match &ctx.clouds.defaults().credentials {
            CredentialSource::Secret { namespace, name } => Some((namespace.clone(), name.clone())),
            CredentialSource::Static(_) => None,
        },
    };
    let (gateways, customer_gateways, connections, services) = (
        wiring.gateways(),
        wiring.customer_gateways(),
        wiring.connections(),
        controller::<CloudVpnService>(&client, &opts, &ctx),
    );
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

/// What the controllers are built from.
struct Wiring<'a> {
    client: &'a kube::Client,
    opts: &'a RunOptions,
    ctx: &'a Arc<Context>,
    /// The operator's default credentials Secret, if it has one. Every kind is reconciled again
    /// when the Secret its cloud credentials come from changes: an object stopped by AuthFailed
    /// (retried only slowly) recovers as soon as the Secret is fixed, without an edit.
    default_credentials: Option<(String, String)>,
}

impl Wiring<'_> {
    /// Changes of the Secrets in the watched namespaces and of the default credentials Secret.
    fn secret_changes(
        &self,
    ) -> impl futures::Stream<Item = Result<PartialObjectMeta<Secret>, kube::runtime::watcher::Error>>
           + Send
           + 'static {
        secret_changes(self.client, self.opts, self.default_credentials.as_ref())
    }

    /// Gateways wait for their connections on deletion: they look again when a connection that
    /// uses them is being deleted or is gone. Pending ones are woken by the pending watch; GM
    /// gateways when the Secret of their certificates changes (it is updated in the cloud).
    fn gateways(&self) -> Controller<Cached<VpnGateway>> {
        let c = controller::<VpnGateway>(self.client, self.opts, self.ctx);
        let (store, creds) = (c.store(), self.default_credentials.clone());
        let ctx = self.ctx.clone();
        let account = self.ctx.clouds.account_secret().to_string();
        let c = c
            .watches_stream(touched(self.client, self.opts), |c: VpnConnection| {
                departing_ref(&c, c.spec.vpn_gateway_ref.name.clone())
            })
            .watches_stream(self.secret_changes(), move |s| {
                let items = store.state();
                let mut refs = using_secret(&items, &s);
                if !refs.is_empty() || s.name_any() == account {
                    // Before the gateways are woken: they must read the new certificates.
                    ctx.kube
                        .forget_secret(&s.namespace().unwrap_or_default(), &s.name_any());
                }
                refs.extend(using_credentials(&items, creds.as_ref(), &account, &s));
                refs
            });
        match self.ctx.pending.gateways.take_trigger() {
            Some(woken) => c.reconcile_on(woken.map(cached_ref)),
            None => c,
        }
    }

    /// Customer gateways wait for their connections on deletion, as gateways do.
    fn customer_gateways(&self) -> Controller<Cached<CustomerGateway>> {
        let c = controller::<CustomerGateway>(self.client, self.opts, self.ctx);
        let (store, creds) = (c.store(), self.default_credentials.clone());
        let (ctx, account) = (
            self.ctx.clone(),
            self.ctx.clouds.account_secret().to_string(),
        );
        c.watches_stream(touched(self.client, self.opts), |c: VpnConnection| {
            departing_ref(&c, c.spec.customer_gateway_ref.name.clone())
        })
        .watches_stream(self.secret_changes(), move |s| {
            if s.name_any() == account {
                // Before the customer gateways are woken: they must read the new account.
                ctx.kube
                    .forget_secret(&s.namespace().unwrap_or_default(), &account);
            }
            using_credentials(&store.state(), creds.as_ref(), &account, &s)
        })
    }

    /// Connections are reconciled when the gateway or customer gateway they name changes (e.g.
    /// becomes Ready), when their PSK Secret or credentials Secret changes (rotation), and when
    /// the pending watch sees their cloud state change.
    fn connections(&self) -> Controller<Cached<VpnConnection>> {
        let c = controller::<VpnConnection>(self.client, self.opts, self.ctx);
        let store = c.store();
        let (st1, st2, st3) = (store.clone(), store.clone(), store);
        let (ctx, creds) = (self.ctx.clone(), self.default_credentials.clone());
        let (client, opts) = (self.client, self.opts);
        let account = self.ctx.clouds.account_secret().to_string();
        let c = c
            .watches_stream(
                dependency_changes(client, opts, vpn_gateway::readiness),
                move |g: VpnGateway| referencing(&st1.state(), Referenced::VpnGateway, &g),
            )
            .watches_stream(
                dependency_changes(client, opts, customer_gateway::readiness),
                move |c: CustomerGateway| {
                    referencing(&st2.state(), Referenced::CustomerGateway, &c)
                },
            )
            .watches_stream(
                self.secret_changes(),
                move |s: PartialObjectMeta<Secret>| {
                    // Before the connections that use it are woken: they must read the new key.
                    ctx.kube
                        .forget_secret(&s.namespace().unwrap_or_default(), &s.name_any());
                    let items = st3.state();
                    let mut refs = referencing(&items, Referenced::Secret, &s);
                    refs.extend(using_credentials(&items, creds.as_ref(), &account, &s));
                    refs
                },
            );
        match self.ctx.pending.connections.take_trigger() {
            Some(woken) => c.reconcile_on(woken.map(cached_ref)),
            None => c,
        }
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
