//! The Secret calls to the API server. Kept apart from the objects' API calls so that the RBAC
//! check (tests/rbac.rs) sees exactly which verbs Secrets need: `get` for every Secret the
//! operator reads, and `create`, `update` (a replace naming the resourceVersion it read) and
//! `delete` (with uid and resourceVersion preconditions) for the peer configuration Secrets it
//! owns. Nothing here patches, lists or deletes collections.
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, PostParams, Preconditions};
use kube::Api;

use crate::controller::runtime::error::Result;
use crate::controller::runtime::secrets::{stored_secret, SecretWrite, StoredSecret};

fn api(client: &kube::Client, namespace: &str) -> Api<Secret> {
    Api::<Secret>::namespaced(client.clone(), namespace)
}

/// Secret `namespace/name`; `None` when it does not exist.
pub async fn read(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<StoredSecret>> {
    Ok(api(client, namespace)
        .get_opt(name)
        .await?
        .map(stored_secret))
}

/// Creates the Secret; fails with 409 AlreadyExists when one of that name exists.
pub async fn create(client: &kube::Client, namespace: &str, w: &SecretWrite) -> Result<()> {
    api(client, namespace)
        .create(&PostParams::default(), &w.to_secret(namespace, None))
        .await?;
    Ok(())
}

/// Replaces the Secret read at `resource_version`; fails with 409 Conflict when it changed
/// since.
pub async fn replace(
    client: &kube::Client,
    namespace: &str,
    w: &SecretWrite,
    resource_version: &str,
) -> Result<()> {
    let secret = w.to_secret(namespace, Some(resource_version));
    api(client, namespace)
        .replace(&w.name, &PostParams::default(), &secret)
        .await?;
    Ok(())
}

/// Deletes the Secret if it is still the one read (same uid and resourceVersion); `false`
/// when it was already gone.
pub async fn delete(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    uid: &str,
    resource_version: &str,
) -> Result<bool> {
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: Some(resource_version.to_string()),
        }),
        ..Default::default()
    };
    match api(client, namespace).delete(name, &params).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
