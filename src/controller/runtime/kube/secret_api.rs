//! Reading one Secret from the API server. Kept apart from the objects' API calls so that the
//! RBAC check (tests/rbac.rs) sees that Secrets are only ever read with `get`.
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::controller::runtime::error::Result;
use crate::controller::runtime::secrets::{secret_data, SecretData};

/// Secret `namespace/name`; `None` when it does not exist.
pub async fn read(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<SecretData>> {
    Ok(Api::<Secret>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await?
        .map(secret_data))
}
