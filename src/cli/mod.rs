//! The commands besides `run` and `sim` that a user runs by hand or in CI: `plan` (what the
//! operator would do with a set of manifests, before they are applied) and `doctor` (read-only
//! checks of the cloud account and the cluster). `main.rs` only dispatches to them.
pub mod cloud;
pub mod doctor;
pub mod plan;
pub mod term;

/// How a command prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Human text (colour on a terminal only).
    Text,
    /// JSON with a stable, documented schema.
    Json,
}

/// The Kubernetes client of the kubeconfig (or the pod's service account), if one is
/// configured; `Err`: why none could be made.
pub async fn kube_client() -> Result<kube::Client, String> {
    let config = kube::Config::infer().await.map_err(|e| e.to_string())?;
    kube::Client::try_from(config).map_err(|e| e.to_string())
}
