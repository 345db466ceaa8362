//! The cloud flags `plan` and `doctor` share with `run` (same names, same environment
//! variables), resolved into the clients' defaults. Credentials come from
//! `--credentials-secret` (read once through the kubeconfig), else from `HUAWEICLOUD_SDK_AK` /
//! `HUAWEICLOUD_SDK_SK`; `--cloud sim` starts the simulator in this process with its default
//! world.
use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use url::Url;

use crate::cloud::ies::IesCredentials;
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::RateLimits;
use crate::cloud::Credentials;
use crate::config::{self, CloudMode, SecretRef};
use crate::controller::runtime::clouds::{
    ies_credentials_from_secret, CloudDefaults, CredentialSource, IesCredentialSource, IesDefaults,
};
use crate::sim;

/// The operator's cloud flags, declared once in `config` (flattened into `run`, `plan` and
/// `doctor`); resolved here for `plan` and `doctor`.
pub use crate::config::CloudArgs;

/// Where the credentials were found, for messages (never the values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialsFrom {
    Secret(String),
    Environment,
    Simulator,
    /// None found: the reason.
    Missing(String),
}

/// The resolved cloud: client defaults, and the simulator when it runs in this process.
pub struct ResolvedCloud {
    pub defaults: CloudDefaults,
    pub ies: IesDefaults,
    pub credentials_from: CredentialsFrom,
    /// Whether credentials were found (`defaults.credentials` is a placeholder otherwise).
    pub has_credentials: bool,
    /// Keeps the in-process simulator running.
    pub simulator: Option<sim::SimHandle>,
}

/// What the credentials Secret holds, read by the caller through the kubeconfig.
pub type SecretData = BTreeMap<String, Vec<u8>>;

impl CloudArgs {
    /// The `--credentials-secret` reference (`name` alone means the `vpn-operator-system`
    /// namespace, the chart's default), if given.
    pub fn secret_ref(&self) -> anyhow::Result<Option<SecretRef>> {
        let own = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "vpn-operator-system".into());
        self.credentials_secret
            .as_deref()
            .map(|s| config::parse_secret_ref(s, &own))
            .transpose()
            .map_err(Into::into)
    }

    /// Resolves the flags. `secret`: the credentials Secret's data when one was named and read
    /// (`Err`: why it could not be read). `env` looks up environment variables.
    pub async fn resolve(
        &self,
        secret: Option<Result<SecretData, String>>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<ResolvedCloud> {
        let base = |region: String, project_id: String, endpoint, credentials| CloudDefaults {
            region,
            project_id,
            vpn_endpoint: Some(endpoint),
            credentials,
            limits: RateLimits::unlimited(),
            retry: RetryPolicy::none(),
            timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(15),
            observer: None,
        };
        if self.cloud == CloudMode::Sim {
            return self.simulator(base).await;
        }
        let region = config::check_region(
            self.region
                .clone()
                .context("--region is required with --cloud real (e.g. cn-north-4)")?,
        )?;
        let project_id = config::check_project_id(self.project_id.clone().context(
            "--project-id is required with --cloud real (the IAM project id of the region)",
        )?)?;
        let endpoint = match &self.endpoint {
            Some(e) => config::parse_url("endpoint", e)?,
            None => config::derived_endpoint("vpn", &region),
        };
        let ies_endpoint = self
            .ies_endpoint
            .as_deref()
            .map(|e| config::parse_url("ies-endpoint", e))
            .transpose()?;
        let (credentials, ies_credentials, from) = credentials(self.secret_ref()?, secret, env);
        let has_credentials = credentials.is_some();
        let placeholder = Credentials::token("none");
        Ok(ResolvedCloud {
            defaults: base(
                region,
                project_id,
                endpoint,
                CredentialSource::Static(credentials.unwrap_or(placeholder)),
            ),
            ies: IesDefaults {
                endpoint: ies_endpoint,
                credentials: ies_credentials.map(IesCredentialSource::Static),
            },
            credentials_from: from,
            has_credentials,
            simulator: None,
        })
    }

    async fn simulator(
        &self,
        base: impl Fn(String, String, Url, CredentialSource) -> CloudDefaults,
    ) -> anyhow::Result<ResolvedCloud> {
        let region = self
            .region
            .clone()
            .unwrap_or_else(|| config::SIM_DEFAULT_REGION.into());
        let project_id = self
            .project_id
            .clone()
            .unwrap_or_else(|| config::SIM_DEFAULT_PROJECT_ID.into());
        let (ak, sk) = ("PLANSIMULATORAK", "plan-simulator-secret-key");
        let handle = sim::spawn(sim::SimConfig::single(&project_id, ak, sk))
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the in-process simulator: {e}"))?;
        let url = Url::parse(&handle.base_url())?;
        Ok(ResolvedCloud {
            defaults: base(
                region,
                project_id,
                url.clone(),
                CredentialSource::Static(Credentials::aksk(ak, sk)),
            ),
            ies: IesDefaults {
                endpoint: Some(url.join("rest")?),
                credentials: Some(IesCredentialSource::Static(IesCredentials::token(
                    sim::ies::config::DEFAULT_AUTH_TOKEN,
                ))),
            },
            credentials_from: CredentialsFrom::Simulator,
            has_credentials: true,
            simulator: Some(handle),
        })
    }
}

/// The VPN and IES credentials: from the Secret when one is named, else from the environment.
fn credentials(
    secret_ref: Option<SecretRef>,
    secret: Option<Result<SecretData, String>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Option<Credentials>, Option<IesCredentials>, CredentialsFrom) {
    match (secret_ref, secret) {
        (Some(r), Some(Ok(data))) => {
            let vpn = config::credentials_from_secret(&r, &data);
            let ies = ies_credentials_from_secret(&data).ok();
            match vpn {
                Ok(c) => (Some(c), ies, CredentialsFrom::Secret(r.to_string())),
                Err(e) => (None, ies, CredentialsFrom::Missing(e.to_string())),
            }
        }
        (Some(r), Some(Err(why))) => (
            None,
            None,
            CredentialsFrom::Missing(format!("Secret {r} cannot be read: {why}")),
        ),
        (Some(r), None) => (
            None,
            None,
            CredentialsFrom::Missing(format!(
                "Secret {r} was not read: no Kubernetes cluster to read it from"
            )),
        ),
        (None, _) => match Credentials::from_lookup(env) {
            Ok(c) => (Some(c), None, CredentialsFrom::Environment),
            Err(_) => (
                None,
                None,
                CredentialsFrom::Missing(
                    "neither --credentials-secret nor HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK are set"
                        .into(),
                ),
            ),
        },
    }
}
