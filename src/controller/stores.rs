//! Reading the objects a reconcile refers to (a connection's gateway and customer gateway)
//! from the controllers' own caches instead of the API server: a pending connection is looked
//! at every second, and each look would otherwise cost two API GETs. The caches keep objects in
//! compact form ([`Cached`]); what is read is decoded.
use std::sync::{Arc, OnceLock};

use futures::FutureExt;
use kube::api::ListParams;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource};

use super::cached::{Cached, Links};
use super::error::Result;
use super::reconciler::Managed;
use crate::crd::customer_gateway::CustomerGateway;
use crate::crd::vpn_connection::VpnConnection;
use crate::crd::vpn_gateway::VpnGateway;

/// The caches, filled in by `run_all` once the controllers exist. Until then (and in tests
/// without controllers) reads go to the API server.
#[derive(Default)]
pub struct Stores {
    pub gateways: OnceLock<Store<Cached<VpnGateway>>>,
    pub customer_gateways: OnceLock<Store<Cached<CustomerGateway>>>,
    pub connections: OnceLock<Store<Cached<VpnConnection>>>,
}

impl Stores {
    /// The VpnGateway `namespace/name`, from the cache when it is ready, else from the API.
    pub async fn gateway(
        &self,
        kube: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<VpnGateway>>> {
        read(self.gateways.get(), kube, namespace, name).await
    }

    /// The CustomerGateway `namespace/name`, from the cache when it is ready, else from the API.
    pub async fn customer_gateway(
        &self,
        kube: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<CustomerGateway>>> {
        read(self.customer_gateways.get(), kube, namespace, name).await
    }
}

impl Stores {
    /// The VpnConnections of `namespace` whose references pass `keep` (to find a gateway's
    /// dependants while it waits to be deleted), from the cache when it is ready (only those
    /// kept are decoded), else listed from the API.
    ///
    /// Why the cache: a thousand gateways waiting for their connections each listed every
    /// connection of the namespace on every look, which saturated the API server. A cache a
    /// moment behind is safe here: the cloud itself refuses to delete a gateway or customer
    /// gateway that still has connections.
    pub async fn connections_in(
        &self,
        kube: &kube::Client,
        namespace: &str,
        keep: impl Fn(&Links) -> bool,
    ) -> Result<Vec<Arc<VpnConnection>>> {
        if let Some(store) = ready(self.connections.get()) {
            return store
                .state()
                .iter()
                .filter(|c| c.meta().namespace.as_deref() == Some(namespace) && keep(c.links()))
                .map(|c| c.decoded())
                .collect();
        }
        Ok(Api::<VpnConnection>::namespaced(kube.clone(), namespace)
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|c| keep(&c.links()))
            .map(Arc::new)
            .collect())
    }
}

/// `store` once its initial list is complete (`wait_until_ready` resolves at once).
fn ready<K>(store: Option<&Store<K>>) -> Option<&Store<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    store.filter(|s| {
        s.wait_until_ready()
            .now_or_never()
            .is_some_and(|r| r.is_ok())
    })
}

async fn read<K: Managed>(
    store: Option<&Store<Cached<K>>>,
    kube: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<Arc<K>>> {
    if let Some(store) = ready(store) {
        return store
            .get(&ObjectRef::new(name).within(namespace))
            .map(|c| c.decoded())
            .transpose();
    }
    Ok(Api::<K>::namespaced(kube.clone(), namespace)
        .get_opt(name)
        .await?
        .map(Arc::new))
}
