//! The cluster probes of `doctor`: the API server's version and the installed CRDs, compared
//! with this binary's (`vpn-operator crd`). Reads only.
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use serde_json::Value;

use super::checks::{self, Check, CrdState};
use crate::crd;

/// Whether `installed` holds everything `ours` says (the API server adds defaults of its own,
/// e.g. `conversion`, which do not make a difference).
pub fn contains(installed: &Value, ours: &Value) -> bool {
    match (installed, ours) {
        (Value::Object(i), Value::Object(o)) => o
            .iter()
            .all(|(k, v)| v.is_null() || i.get(k).is_some_and(|iv| contains(iv, v))),
        (Value::Array(i), Value::Array(o)) => {
            i.len() == o.len() && i.iter().zip(o).all(|(a, b)| contains(a, b))
        }
        (i, o) => i == o,
    }
}

/// The API check, then (when the API answers) the CRD check.
pub async fn checks(client: &kube::Client) -> Vec<Check> {
    let version = match client.apiserver_version().await {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::fail(
            "cluster",
            "api",
            format!("the Kubernetes API does not answer: {e}"),
        )
        .fix(
            "check KUBECONFIG (or the pod's service account) and that the API server is reachable",
        )]
        }
    };
    let mut out = vec![Check::pass(
        "cluster",
        "api",
        format!("Kubernetes {} answers", version.git_version),
    )];
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut states = Vec::new();
    for ours in crd::all() {
        let name = ours.metadata.name.clone().unwrap_or_default();
        let state = match api.get_opt(&name).await {
            Ok(None) => CrdState::Missing,
            Ok(Some(installed)) => {
                let (i, o) = (
                    serde_json::to_value(&installed.spec),
                    serde_json::to_value(&ours.spec),
                );
                match (i, o) {
                    (Ok(i), Ok(o)) if contains(&i, &o) => CrdState::Same,
                    _ => CrdState::Differs,
                }
            }
            Err(e) => CrdState::Unreadable(e.to_string()),
        };
        states.push((name, state));
    }
    out.push(checks::crds(&states));
    out
}
