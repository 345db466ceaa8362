//! What `plan` reads from the cluster of the kubeconfig, and only reads: the live objects of the
//! namespaces the manifests use (their status carries the cloud ids the operator recorded) and
//! the Secrets the objects name that the manifests do not hold.
use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::manifests::Kind;
use crate::crd::{CloudVpnService, CustomerGateway, VpnConnection, VpnGateway};

/// Live objects by kind, namespace and name.
pub type Live = BTreeMap<(Kind, String, String), Value>;

/// The live objects of `kinds` in `namespaces`. A kind whose CRD is not installed has none
/// (noted in `notes`).
pub async fn live_objects(
    client: &kube::Client,
    namespaces: &BTreeSet<String>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Live> {
    let mut out = Live::new();
    for ns in namespaces {
        for kind in Kind::ALL {
            match list_kind(client, kind, Some(ns)).await {
                Ok(items) => {
                    for v in items {
                        let name = v["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        out.insert((kind, ns.clone(), name), v);
                    }
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    let note = format!(
                        "the {} CRD is not installed in the cluster: its objects are all new",
                        kind.name()
                    );
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                }
                Err(e) => {
                    anyhow::bail!("cannot list {}s in namespace {ns}: {e}", kind.name())
                }
            }
        }
    }
    Ok(out)
}

/// The objects of `kind` in namespace `ns` (`None`: in all namespaces), as JSON.
pub async fn list_kind(
    client: &kube::Client,
    kind: Kind,
    ns: Option<&str>,
) -> Result<Vec<Value>, kube::Error> {
    match kind {
        Kind::VpnGateway => list::<VpnGateway>(client, ns).await,
        Kind::CustomerGateway => list::<CustomerGateway>(client, ns).await,
        Kind::VpnConnection => list::<VpnConnection>(client, ns).await,
        Kind::CloudVpnService => list::<CloudVpnService>(client, ns).await,
    }
}

async fn list<K>(client: &kube::Client, ns: Option<&str>) -> Result<Vec<Value>, kube::Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect())
}

/// Secret `namespace/name` from the cluster: `Ok(None)` when it does not exist, `Err` when it
/// cannot be read (e.g. forbidden).
pub async fn secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        // `stringData` too, as the operator reads Secrets (an API server folds it into `data`).
        Ok(s) => Ok(s.map(crate::controller::runtime::secrets::secret_data)),
        Err(e) => Err(e.to_string()),
    }
}

/// The Secrets an object names in its namespace: the pre-shared key and the per-object cloud
/// credentials, or else (VPN kinds) the namespace's account Secret (`account_secret`, the
/// operator's `--account-secret-name`), so that a plan resolves the object's account as the
/// operator does.
pub fn secrets_named(kind: Kind, v: &Value, account_secret: &str) -> Vec<String> {
    let spec = &v["spec"];
    let mut out = Vec::new();
    if kind == Kind::VpnConnection {
        out.extend(spec["pskSecretRef"]["name"].as_str().map(str::to_string));
    }
    if let Some(name) = spec["cloud"]["credentialsSecretRef"]["name"].as_str() {
        out.push(name.to_string());
    } else if would_use_namespace_account(kind, v) {
        out.push(account_secret.to_string());
    }
    out
}

/// Whether an object of `kind` (as JSON) would use its namespace's account: a VPN kind whose
/// `spec.cloud` names no credentials Secret of its own (IES objects never do).
pub fn would_use_namespace_account(kind: Kind, v: &Value) -> bool {
    kind != Kind::CloudVpnService
        && v["spec"]["cloud"]["credentialsSecretRef"]["name"]
            .as_str()
            .is_none()
}
