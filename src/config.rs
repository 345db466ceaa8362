//! Configuration of `vpn-operator run`: the command-line flags (each with an
//! environment fallback) and the validated [`OperatorConfig`] built from them.
//!
//! Parsing ([`RunArgs`]) and validation ([`RunArgs::validate`]) are separate so that
//! every rule can be unit-tested without a process environment: the only
//! environment read during validation (`POD_NAMESPACE`) goes through a lookup
//! function the caller passes in.
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

use crate::cloud::credentials::Credentials;
use crate::cloud::transport::RateLimits;

/// Where the cloud API lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloudMode {
    /// The real Huawei Cloud APIs (or any endpoint given with `--endpoint`).
    Real,
    /// Start the cloud simulator inside this process and talk to it over HTTP.
    Sim,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable text.
    Text,
}

/// The cloud flags of `run`, `plan` and `doctor`: declared once, so their names, environment
/// variables and help are the same (`plan` and `doctor` resolve them in `cli::cloud`).
#[derive(Debug, Clone, clap::Args)]
pub struct CloudArgs {
    /// Cloud to manage: `real` Huawei Cloud (or any `--endpoint`), or `sim` to start the simulator in-process.
    #[arg(long, env = "VPN_OPERATOR_CLOUD", value_enum, default_value_t = CloudMode::Real)]
    pub cloud: CloudMode,

    /// Cloud region, e.g. `cn-north-4` (required with `--cloud real`).
    #[arg(long, env = "VPN_OPERATOR_REGION")]
    pub region: Option<String>,

    /// IAM project id of the region (required with `--cloud real`).
    #[arg(long, env = "VPN_OPERATOR_PROJECT_ID")]
    pub project_id: Option<String>,

    /// Override the VPN API endpoint URL (default: derived from the region).
    #[arg(long, env = "VPN_OPERATOR_ENDPOINT")]
    pub endpoint: Option<String>,

    /// CloudOpera IES API endpoint URL (needed only for IES CloudVPN resources).
    #[arg(long, env = "VPN_OPERATOR_IES_ENDPOINT")]
    pub ies_endpoint: Option<String>,

    /// Secret holding cloud credentials, as `namespace/name` (or `name` in the operator's namespace);
    /// keys `accessKey` + `secretKey` (+ optional `securityToken`), or `token`; `authToken` for IES.
    /// `plan` and `doctor` read it through the kubeconfig, and without it use `HUAWEICLOUD_SDK_AK` / `HUAWEICLOUD_SDK_SK`.
    #[arg(long, env = "VPN_OPERATOR_CREDENTIALS_SECRET")]
    pub credentials_secret: Option<String>,

    /// Name of this cluster, written into the ownership tags of cloud resources (`plan` and `doctor` need the name `run` was given).
    #[arg(long, env = "VPN_OPERATOR_CLUSTER_NAME", default_value = "default")]
    pub cluster_name: String,
}

/// The namespace-account flags of `run`, `plan` and `doctor`: declared once, so that `plan` and
/// `doctor` resolve each object's account as the operator does.
#[derive(Debug, Clone, clap::Args)]
pub struct AccountArgs {
    /// Name of the Secret that gives a namespace its cloud account: keys `region`, `projectId`,
    /// optional `endpoint`, and the credentials as in the credentials Secret (`accessKey` +
    /// `secretKey`, optional `securityToken`; or `token`). Objects without `spec.cloud.credentialsSecretRef` use it;
    /// `plan` and `doctor` read it as the operator does.
    #[arg(
        long,
        env = "VPN_OPERATOR_ACCOUNT_SECRET_NAME",
        default_value = "vpn-operator-account"
    )]
    pub account_secret_name: String,

    /// Objects whose namespace has no account Secret (and whose spec.cloud names no credentials Secret) get no account (`AccountMissing`) instead of the operator's own;
    /// `plan` reports such objects so, `doctor` fails on such namespaces.
    #[arg(
        long,
        env = "VPN_OPERATOR_REQUIRE_NAMESPACE_ACCOUNT",
        default_value_t = false,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub require_namespace_account: bool,
}

impl AccountArgs {
    /// The account Secret's name, checked as `run` checks it.
    pub fn secret_name(&self) -> Result<String, ConfigError> {
        check_dns_subdomain("account-secret-name", self.account_secret_name.clone())
    }
}

/// Flags of `vpn-operator run`. Every flag can also be set through the
/// environment variable shown in `--help` (flags win over the environment).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The cloud flags `plan` and `doctor` share.
    #[command(flatten)]
    pub cloud: CloudArgs,

    /// Override the IAM endpoint URL used for token authentication (default: derived from the region).
    #[arg(long, env = "VPN_OPERATOR_IAM_ENDPOINT")]
    pub iam_endpoint: Option<String>,

    /// Where namespaces' cloud accounts come from (`plan` and `doctor` share them).
    #[command(flatten)]
    pub accounts: AccountArgs,

    /// Watch only this namespace (default: all namespaces). Combines with --watch-namespaces.
    #[arg(long, env = "VPN_OPERATOR_NAMESPACE")]
    pub namespace: Option<String>,

    /// Watch only these namespaces, comma-separated, e.g. `team-a,team-b` (default: all
    /// namespaces). The operator then needs permissions in these namespaces only.
    #[arg(long, env = "VPN_OPERATOR_WATCH_NAMESPACES", value_delimiter = ',')]
    pub watch_namespaces: Vec<String>,

    /// Maximum concurrent reconciles per controller.
    #[arg(long, env = "VPN_OPERATOR_CONCURRENCY", default_value_t = 4)]
    pub concurrency: u16,

    /// How often stable objects are re-observed to detect drift in the cloud, e.g. `10m`.
    #[arg(long, env = "VPN_OPERATOR_RESYNC_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub resync_interval: Duration,

    /// How often gateways and connections whose cloud state is changing (PENDING_*) are looked at, e.g. `1s`: one list call per kind and account serves all of them, and an object is reconciled when its state changes.
    #[arg(long, env = "VPN_OPERATOR_PENDING_REQUEUE", default_value = "1s", value_parser = parse_duration)]
    pub pending_requeue: Duration,

    /// Client-side limit of cloud read calls per second (per endpoint and project).
    #[arg(long, env = "VPN_OPERATOR_CLOUD_READ_RATE", default_value_t = 10.0)]
    pub cloud_read_rate: f64,

    /// Burst size of cloud read calls.
    #[arg(long, env = "VPN_OPERATOR_CLOUD_READ_BURST", default_value_t = 20)]
    pub cloud_read_burst: u32,

    /// Client-side limit of cloud write calls per second (per endpoint and project).
    #[arg(long, env = "VPN_OPERATOR_CLOUD_WRITE_RATE", default_value_t = 2.0)]
    pub cloud_write_rate: f64,

    /// Burst size of cloud write calls.
    #[arg(long, env = "VPN_OPERATOR_CLOUD_WRITE_BURST", default_value_t = 5)]
    pub cloud_write_burst: u32,

    /// Address of the HTTP server for /healthz, /readyz and /metrics.
    #[arg(
        long,
        env = "VPN_OPERATOR_METRICS_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    pub metrics_addr: SocketAddr,

    /// Elect one active replica through a coordination.k8s.io Lease (`--leader-election=false` to disable).
    #[arg(
        long,
        env = "VPN_OPERATOR_LEADER_ELECTION",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub leader_election: bool,

    /// Name of the leader-election Lease.
    #[arg(long, env = "VPN_OPERATOR_LEASE_NAME", default_value = DEFAULT_LEASE_NAME)]
    pub lease_name: String,

    /// Namespace of the leader-election Lease (default: $POD_NAMESPACE, else `default`).
    #[arg(long, env = "VPN_OPERATOR_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// How long a Lease stays valid without renewal; standby replicas wait this long before taking over.
    #[arg(long, env = "VPN_OPERATOR_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,

    /// How long the leader keeps retrying a failed renewal before it steps down and exits.
    #[arg(long, env = "VPN_OPERATOR_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub renew_deadline: Duration,

    /// Log format.
    #[arg(long, env = "VPN_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `vpn_operator=debug,kube=warn` (default: $RUST_LOG, else `info`).
    #[arg(long, env = "VPN_OPERATOR_LOG_LEVEL")]
    pub log_level: Option<String>,
}

/// Default name of the leader-election Lease.
pub const DEFAULT_LEASE_NAME: &str = "vpn-operator-leader";
/// Region used with `--cloud sim` when none is given. The simulator accepts any region.
pub const SIM_DEFAULT_REGION: &str = "sim-region-1";
/// Project id used with `--cloud sim` when none is given (32 hex digits, like a real IAM project id).
pub const SIM_DEFAULT_PROJECT_ID: &str = "0000000000000000000000000000517a";

/// A reference to a Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The real cloud's endpoints and credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct RealCloud {
    /// VPN v5 endpoint (the `--endpoint` override, or derived from the region).
    pub vpn_endpoint: Url,
    /// IAM endpoint (the `--iam-endpoint` override, or derived from the region).
    pub iam_endpoint: Url,
    /// IES endpoint, when IES resources are to be managed.
    pub ies_endpoint: Option<Url>,
    /// Where the credentials are.
    pub credentials: SecretRef,
}

/// How to reach the cloud, resolved from the flags.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudTarget {
    /// Real cloud APIs (boxed: much larger than the other variant).
    Real(Box<RealCloud>),
    /// The in-process simulator; `main` learns its address when it starts it.
    Sim {
        /// Optional credentials (the simulator verifies signatures when given some).
        credentials: Option<SecretRef>,
    },
}

/// Leader-election settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    pub lease_name: String,
    pub lease_namespace: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive string; `None` means "use `RUST_LOG`, else `info`".
    pub filter: Option<String>,
}

/// The validated operator configuration.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    pub cloud: CloudTarget,
    pub region: String,
    pub project_id: String,
    /// The watched namespaces, sorted, without duplicates; empty = all namespaces.
    pub namespaces: Vec<String>,
    /// The name of every namespace's account Secret.
    pub account_secret_name: String,
    /// No fallback to the operator's own account.
    pub require_namespace_account: bool,
    /// Per controller.
    pub concurrency: u16,
    pub resync_interval: Duration,
    pub pending_requeue: Duration,
    pub rate_limits: RateLimits,
    pub metrics_addr: SocketAddr,
    /// `None` when leader election is disabled.
    pub leader_election: Option<LeaderElectionConfig>,
    pub log: LogConfig,
    pub cluster_name: String,
}

/// A configuration mistake. Each message names the flag and says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("--{flag} is required with --cloud real: {hint}")]
    Missing {
        flag: &'static str,
        hint: &'static str,
    },
    #[error("--{flag} {value:?} is not a valid URL ({reason}); give an absolute http:// or https:// URL")]
    BadUrl {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("--{flag} {value:?} is not a valid {what}: {rule}")]
    BadName {
        flag: &'static str,
        value: String,
        what: &'static str,
        rule: &'static str,
    },
    #[error("--{flag} must be {rule}, got {value}")]
    OutOfRange {
        flag: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error(
        "--renew-deadline ({renew:?}) must be shorter than --lease-duration ({lease:?}), \
         or a slow leader would lose the Lease before it gives up; e.g. 10s and 15s"
    )]
    RenewNotShorterThanLease { renew: Duration, lease: Duration },
    #[error("--log-level {value:?} is not a valid filter ({reason}); use e.g. `info` or `vpn_operator=debug,kube=warn`")]
    BadLogFilter { value: String, reason: String },
    #[error("--{flag} has no effect with --cloud sim (the simulator's address is chosen at start); remove it or use --cloud real")]
    NotWithSim { flag: &'static str },
}

impl RunArgs {
    /// Validates the flags, reading `POD_NAMESPACE` from the process environment.
    pub fn into_config(self) -> Result<OperatorConfig, ConfigError> {
        self.validate(&|key| std::env::var(key).ok())
    }

    /// Validates the flags; `env` looks up environment variables (injected for tests).
    pub fn validate(
        self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<OperatorConfig, ConfigError> {
        let own_namespace = env("POD_NAMESPACE")
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "default".to_string());
        let own_namespace = check_dns_label("POD_NAMESPACE", own_namespace)?;

        let credentials = self
            .cloud
            .credentials_secret
            .as_deref()
            .map(|s| parse_secret_ref(s, &own_namespace))
            .transpose()?;

        let (cloud, region, project_id) = match self.cloud.cloud {
            CloudMode::Real => {
                let region = self.cloud.region.ok_or(ConfigError::Missing {
                    flag: "region",
                    hint: "the region of the VPN resources, e.g. cn-north-4",
                })?;
                let region = check_region(region)?;
                let project_id = self.cloud.project_id.ok_or(ConfigError::Missing {
                    flag: "project-id",
                    hint: "the IAM project id of the region (console: My Credentials > API Credentials)",
                })?;
                let project_id = check_project_id(project_id)?;
                let credentials = credentials.ok_or(ConfigError::Missing {
                    flag: "credentials-secret",
                    hint: "namespace/name of a Secret with keys accessKey and secretKey (or token)",
                })?;
                // [assumption] Endpoints follow the official SDK pattern `https://{service}.{region}.myhuaweicloud.com`
                // (see reference/huawei-vpn-v5-gateways.md §2.1); `--endpoint` / `--iam-endpoint` override it.
                let vpn_endpoint = match self.cloud.endpoint {
                    Some(s) => parse_url("endpoint", &s)?,
                    None => derived_endpoint("vpn", &region),
                };
                let iam_endpoint = match self.iam_endpoint {
                    Some(s) => parse_url("iam-endpoint", &s)?,
                    None => derived_endpoint("iam", &region),
                };
                let ies_endpoint = self
                    .cloud
                    .ies_endpoint
                    .map(|s| parse_url("ies-endpoint", &s))
                    .transpose()?;
                let cloud = CloudTarget::Real(Box::new(RealCloud {
                    vpn_endpoint,
                    iam_endpoint,
                    ies_endpoint,
                    credentials,
                }));
                (cloud, region, project_id)
            }
            CloudMode::Sim => {
                for (flag, value) in [
                    ("endpoint", &self.cloud.endpoint),
                    ("iam-endpoint", &self.iam_endpoint),
                    ("ies-endpoint", &self.cloud.ies_endpoint),
                ] {
                    if value.is_some() {
                        return Err(ConfigError::NotWithSim { flag });
                    }
                }
                let region = check_region(
                    self.cloud
                        .region
                        .unwrap_or_else(|| SIM_DEFAULT_REGION.into()),
                )?;
                let project_id = check_project_id(
                    self.cloud
                        .project_id
                        .unwrap_or_else(|| SIM_DEFAULT_PROJECT_ID.into()),
                )?;
                (CloudTarget::Sim { credentials }, region, project_id)
            }
        };

        let mut namespaces = Vec::new();
        if let Some(ns) = self.namespace {
            namespaces.push(check_dns_label("namespace", ns)?);
        }
        for ns in self.watch_namespaces {
            // `a,,b` and a trailing comma are forgiven; a bad name is not.
            if !ns.trim().is_empty() {
                namespaces.push(check_dns_label("watch-namespaces", ns.trim().to_string())?);
            }
        }
        namespaces.sort();
        namespaces.dedup();
        if self.concurrency == 0 {
            return Err(ConfigError::OutOfRange {
                flag: "concurrency",
                value: "0".into(),
                rule: "at least 1",
            });
        }
        check_min_duration(
            "resync-interval",
            self.resync_interval,
            Duration::from_secs(1),
        )?;
        check_min_duration(
            "pending-requeue",
            self.pending_requeue,
            Duration::from_millis(100),
        )?;
        let rate_limits = RateLimits {
            read_per_sec: check_rate("cloud-read-rate", self.cloud_read_rate)?,
            read_burst: check_burst("cloud-read-burst", self.cloud_read_burst)?,
            write_per_sec: check_rate("cloud-write-rate", self.cloud_write_rate)?,
            write_burst: check_burst("cloud-write-burst", self.cloud_write_burst)?,
        };

        let leader_election = if self.leader_election {
            check_min_duration(
                "lease-duration",
                self.lease_duration,
                Duration::from_secs(1),
            )?;
            check_min_duration(
                "renew-deadline",
                self.renew_deadline,
                Duration::from_millis(500),
            )?;
            if self.renew_deadline >= self.lease_duration {
                return Err(ConfigError::RenewNotShorterThanLease {
                    renew: self.renew_deadline,
                    lease: self.lease_duration,
                });
            }
            let lease_namespace = match self.lease_namespace {
                Some(ns) => check_dns_label("lease-namespace", ns)?,
                None => own_namespace.clone(),
            };
            Some(LeaderElectionConfig {
                lease_name: check_dns_subdomain("lease-name", self.lease_name)?,
                lease_namespace,
                lease_duration: self.lease_duration,
                renew_deadline: self.renew_deadline,
            })
        } else {
            None
        };

        let filter = match self.log_level {
            Some(level) => {
                tracing_subscriber::EnvFilter::try_new(&level).map_err(|e| {
                    ConfigError::BadLogFilter {
                        value: level.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Some(level)
            }
            None => None,
        };

        Ok(OperatorConfig {
            cloud,
            region,
            project_id,
            namespaces,
            account_secret_name: self.accounts.secret_name()?,
            require_namespace_account: self.accounts.require_namespace_account,
            concurrency: self.concurrency,
            resync_interval: self.resync_interval,
            pending_requeue: self.pending_requeue,
            rate_limits,
            metrics_addr: self.metrics_addr,
            leader_election,
            log: LogConfig {
                format: self.log_format,
                filter,
            },
            cluster_name: check_cluster_name(self.cloud.cluster_name)?,
        })
    }
}

/// Parses a human duration: one or more `<number><unit>` parts with units
/// `ms`, `s`, `m`, `h`, `d` (e.g. `500ms`, `30s`, `10m`, `1h30m`). A bare number is
/// refused, because its unit would be a guess.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::new(input, "it is empty"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(DurationError::new(
                input,
                "expected a number before each unit",
            ));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::new(input, "the number is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Some(Duration::from_millis(number)),
            "s" => Some(Duration::from_secs(number)),
            "m" => number.checked_mul(60).map(Duration::from_secs),
            "h" => number.checked_mul(3600).map(Duration::from_secs),
            "d" => number.checked_mul(86_400).map(Duration::from_secs),
            "" => {
                return Err(DurationError::new(
                    input,
                    "a unit is missing (use ms, s, m, h or d)",
                ))
            }
            _ => {
                return Err(DurationError::new(
                    input,
                    "unknown unit (use ms, s, m, h or d)",
                ))
            }
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| DurationError::new(input, "the duration is too large"))?;
    }
    Ok(total)
}

/// A duration that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}; write e.g. 500ms, 30s, 10m or 1h30m")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl DurationError {
    fn new(input: &str, reason: &'static str) -> Self {
        Self {
            input: input.to_string(),
            reason,
        }
    }
}

/// Builds [`Credentials`] from the `data` of the `--credentials-secret` Secret: keys
/// `accessKey` + `secretKey` (+ optional `securityToken`) for AK/SK signing, or `token`.
/// Errors name the Secret and the keys, never the values.
pub fn credentials_from_secret(
    secret: &SecretRef,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Credentials, CredentialsSecretError> {
    let get = |key: &'static str| -> Result<Option<String>, CredentialsSecretError> {
        match data.get(key) {
            None => Ok(None),
            Some(bytes) => {
                let value = std::str::from_utf8(bytes)
                    .map_err(|_| CredentialsSecretError::NotUtf8 {
                        secret: secret.to_string(),
                        key,
                    })?
                    .trim()
                    .to_string();
                if value.is_empty() {
                    Err(CredentialsSecretError::Empty {
                        secret: secret.to_string(),
                        key,
                    })
                } else {
                    Ok(Some(value))
                }
            }
        }
    };
    let (ak, sk, token) = (get("accessKey")?, get("secretKey")?, get("token")?);
    match (ak, sk, token) {
        (Some(_), Some(_), Some(_)) => Err(CredentialsSecretError::Ambiguous {
            secret: secret.to_string(),
        }),
        (Some(access_key), Some(secret_key), None) => Ok(Credentials::AkSk {
            access_key,
            secret_key,
            security_token: get("securityToken")?,
        }),
        (Some(_), None, _) => Err(CredentialsSecretError::MissingKey {
            secret: secret.to_string(),
            key: "secretKey",
        }),
        (None, Some(_), _) => Err(CredentialsSecretError::MissingKey {
            secret: secret.to_string(),
            key: "accessKey",
        }),
        (None, None, Some(token)) => Ok(Credentials::Token(token)),
        (None, None, None) => Err(CredentialsSecretError::NoCredentials {
            secret: secret.to_string(),
        }),
    }
}

/// The credentials Secret does not have the expected shape. Never contains secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsSecretError {
    #[error("Secret {secret} has neither accessKey/secretKey nor token; add accessKey and secretKey (and securityToken for temporary credentials)")]
    NoCredentials { secret: String },
    #[error("Secret {secret} has no key {key}; accessKey and secretKey must be given together")]
    MissingKey { secret: String, key: &'static str },
    #[error(
        "Secret {secret} has both accessKey/secretKey and token; keep only one kind of credentials"
    )]
    Ambiguous { secret: String },
    #[error("key {key} of Secret {secret} is empty")]
    Empty { secret: String, key: &'static str },
    #[error("key {key} of Secret {secret} is not UTF-8 text")]
    NotUtf8 { secret: String, key: &'static str },
}

pub(crate) fn derived_endpoint(service: &str, region: &str) -> Url {
    // `region` passed check_region, so this always parses; fall back to an error-free path anyway.
    Url::parse(&format!("https://{service}.{region}.myhuaweicloud.com"))
        .unwrap_or_else(|_| Url::parse("https://invalid.invalid").expect("literal URL parses"))
}

pub(crate) fn parse_url(flag: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim()).map_err(|e| ConfigError::BadUrl {
        flag,
        value: value.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::BadUrl {
            flag,
            value: value.to_string(),
            reason: "the scheme must be http or https and a host is needed".into(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::BadUrl {
            flag,
            value: value.to_string(),
            reason: "a query or fragment is not allowed".into(),
        });
    }
    Ok(url)
}

pub(crate) fn parse_secret_ref(value: &str, own_namespace: &str) -> Result<SecretRef, ConfigError> {
    let (namespace, name) = match value.split_once('/') {
        Some((ns, name)) => (ns.to_string(), name.to_string()),
        None => (own_namespace.to_string(), value.to_string()),
    };
    if name.contains('/') {
        return Err(ConfigError::BadName {
            flag: "credentials-secret",
            value: value.to_string(),
            what: "Secret reference",
            rule: "write namespace/name or just name",
        });
    }
    Ok(SecretRef {
        namespace: check_dns_label("credentials-secret", namespace)?,
        name: check_dns_subdomain("credentials-secret", name)?,
    })
}

pub(crate) fn check_region(value: String) -> Result<String, ConfigError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    ok.then_some(value.clone()).ok_or(ConfigError::BadName {
        flag: "region",
        value,
        what: "region",
        rule: "lowercase letters, digits and '-', e.g. cn-north-4",
    })
}

pub(crate) fn check_project_id(value: String) -> Result<String, ConfigError> {
    // [assumption] Project ids are 32 hex digits in every documented example; we only insist on a
    // path-safe token so that an unusual id (or the simulator's `my-project`) still works.
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(value.clone()).ok_or(ConfigError::BadName {
        flag: "project-id",
        value,
        what: "project id",
        rule: "letters, digits, '-' and '_' only (32 hex digits in the IAM console)",
    })
}

/// A DNS-1123 label (namespace names).
fn check_dns_label(flag: &'static str, value: String) -> Result<String, ConfigError> {
    if is_dns_label(&value) {
        Ok(value)
    } else {
        Err(ConfigError::BadName {
            flag,
            value,
            what: "namespace",
            rule: "at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        })
    }
}

/// A DNS-1123 subdomain (object names).
fn check_dns_subdomain(flag: &'static str, value: String) -> Result<String, ConfigError> {
    let ok = !value.is_empty() && value.len() <= 253 && value.split('.').all(is_dns_label);
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::BadName {
            flag,
            value,
            what: "object name",
            rule:
                "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        })
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(crate) fn check_cluster_name(value: String) -> Result<String, ConfigError> {
    // [assumption] The cluster name becomes a cloud tag value; Huawei tag values allow letters, digits,
    // '_', '-', '.' (and more), so this conservative set is safe everywhere.
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(value.clone()).ok_or(ConfigError::BadName {
        flag: "cluster-name",
        value,
        what: "cluster name",
        rule: "1 to 63 letters, digits, '-', '_' or '.'",
    })
}

fn check_min_duration(
    flag: &'static str,
    value: Duration,
    min: Duration,
) -> Result<(), ConfigError> {
    if value >= min {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            flag,
            value: format!("{value:?}"),
            rule: if min >= Duration::from_secs(1) {
                "at least 1s"
            } else {
                "at least 100ms (500ms for --renew-deadline)"
            },
        })
    }
}

fn check_rate(flag: &'static str, value: f64) -> Result<f64, ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ConfigError::OutOfRange {
            flag,
            value: value.to_string(),
            rule: "a positive number of calls per second",
        })
    }
}

fn check_burst(flag: &'static str, value: u32) -> Result<u32, ConfigError> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(ConfigError::OutOfRange {
            flag,
            value: value.to_string(),
            rule: "at least 1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn args(extra: &[&str]) -> RunArgs {
        let mut argv = vec!["vpn-operator"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("flags parse").run
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const REAL: &[&str] = &[
        "--region",
        "cn-north-4",
        "--project-id",
        "0123456789abcdef0123456789abcdef",
        "--credentials-secret",
        "ops/hw-creds",
    ];

    /// The valid real-cloud flags, with `extra` flag/value pairs replacing or adding to them.
    fn real(extra: &[&str]) -> Result<OperatorConfig, ConfigError> {
        let mut all: Vec<&str> = Vec::new();
        for pair in REAL.chunks(2) {
            if !extra.chunks(2).any(|e| e[0] == pair[0]) {
                all.extend_from_slice(pair);
            }
        }
        all.extend_from_slice(extra);
        args(&all).validate(&no_env)
    }

    #[test]
    fn durations_parse_like_a_human_writes_them() {
        let cases = [
            ("500ms", Duration::from_millis(500)),
            ("30s", Duration::from_secs(30)),
            ("10m", Duration::from_secs(600)),
            ("1h30m", Duration::from_secs(5400)),
            ("2d", Duration::from_secs(172_800)),
            (" 1m5s ", Duration::from_secs(65)),
            ("0s", Duration::ZERO),
        ];
        for (input, want) in cases {
            assert_eq!(parse_duration(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn bad_durations_are_refused_with_a_hint() {
        for input in [
            "",
            "10",
            "s",
            "10x",
            "1.5s",
            "-1s",
            "m10",
            "99999999999999999999s",
            "18446744073709551615d",
        ] {
            let err = parse_duration(input).expect_err(input);
            assert!(err.to_string().contains("e.g. 500ms"), "{input}: {err}");
        }
        assert!(parse_duration("10")
            .unwrap_err()
            .to_string()
            .contains("unit is missing"));
    }

    #[test]
    fn defaults_match_the_documentation() {
        let cfg = real(&[]).expect("valid");
        assert_eq!(cfg.resync_interval, Duration::from_secs(600));
        assert_eq!(cfg.pending_requeue, Duration::from_secs(1));
        assert_eq!(cfg.metrics_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(
            cfg.log,
            LogConfig {
                format: LogFormat::Json,
                filter: None
            }
        );
        assert_eq!(cfg.cluster_name, "default");
        assert!(cfg.namespaces.is_empty(), "all namespaces by default");
        let le = cfg
            .leader_election
            .expect("leader election is on by default");
        assert_eq!(le.lease_namespace, "default");
        assert_eq!(le.lease_name, DEFAULT_LEASE_NAME);
        assert!(le.renew_deadline < le.lease_duration);
    }

    #[test]
    fn watched_namespaces_come_from_both_forms_sorted_and_once() {
        let cfg = real(&[
            "--watch-namespaces",
            "team-b,team-a,",
            "--namespace",
            "team-b",
        ])
        .unwrap();
        assert_eq!(cfg.namespaces, ["team-a", "team-b"]);
        let cfg = real(&["--namespace", "only"]).unwrap();
        assert_eq!(cfg.namespaces, ["only"]);
    }

    #[test]
    fn real_cloud_derives_endpoints_from_the_region_unless_overridden() {
        let cfg = real(&[]).unwrap();
        let CloudTarget::Real(real_cloud) = cfg.cloud else {
            panic!("expected a real target");
        };
        let RealCloud {
            vpn_endpoint,
            iam_endpoint,
            ies_endpoint,
            credentials,
        } = *real_cloud;
        assert_eq!(
            vpn_endpoint.host_str(),
            Some("vpn.cn-north-4.myhuaweicloud.com")
        );
        assert_eq!(
            iam_endpoint.host_str(),
            Some("iam.cn-north-4.myhuaweicloud.com")
        );
        assert_eq!(ies_endpoint, None);
        assert_eq!(
            credentials,
            SecretRef {
                namespace: "ops".into(),
                name: "hw-creds".into()
            }
        );

        let cfg = real(&[
            "--endpoint",
            "http://127.0.0.1:9000",
            "--ies-endpoint",
            "https://ies.example:8443/base",
        ])
        .unwrap();
        let CloudTarget::Real(real_cloud) = cfg.cloud else {
            panic!("expected a real target")
        };
        let RealCloud {
            vpn_endpoint,
            ies_endpoint,
            ..
        } = *real_cloud;
        assert_eq!(vpn_endpoint.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(
            ies_endpoint.unwrap().as_str(),
            "https://ies.example:8443/base"
        );
    }

    #[test]
    fn real_cloud_requires_region_project_and_credentials() {
        for (missing, flag) in [(0, "region"), (2, "project-id"), (4, "credentials-secret")] {
            let mut argv: Vec<&str> = REAL.to_vec();
            argv.drain(missing..missing + 2);
            let err = args(&argv).validate(&no_env).unwrap_err();
            assert!(
                matches!(err, ConfigError::Missing { flag: f, .. } if f == flag),
                "{err}"
            );
            assert!(err.to_string().contains(&format!("--{flag}")));
        }
    }

    #[test]
    fn sim_needs_nothing_and_refuses_endpoint_overrides() {
        let cfg = args(&["--cloud", "sim"]).validate(&no_env).unwrap();
        assert_eq!(cfg.cloud, CloudTarget::Sim { credentials: None });
        assert_eq!(cfg.region, SIM_DEFAULT_REGION);
        assert_eq!(cfg.project_id, SIM_DEFAULT_PROJECT_ID);
        let err = args(&["--cloud", "sim", "--endpoint", "http://x"])
            .validate(&no_env)
            .unwrap_err();
        assert_eq!(err, ConfigError::NotWithSim { flag: "endpoint" });
    }

    #[test]
    fn bare_secret_name_and_lease_namespace_follow_pod_namespace() {
        let env = |k: &str| (k == "POD_NAMESPACE").then(|| "vpn-system".to_string());
        let cfg = args(&["--cloud", "sim", "--credentials-secret", "creds"])
            .validate(&env)
            .unwrap();
        assert_eq!(
            cfg.cloud,
            CloudTarget::Sim {
                credentials: Some(SecretRef {
                    namespace: "vpn-system".into(),
                    name: "creds".into()
                })
            }
        );
        assert_eq!(cfg.leader_election.unwrap().lease_namespace, "vpn-system");
        let cfg = args(&["--cloud", "sim", "--lease-namespace", "other"])
            .validate(&env)
            .unwrap();
        assert_eq!(cfg.leader_election.unwrap().lease_namespace, "other");
    }

    #[test]
    fn invalid_values_name_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--endpoint", "ftp://host"], "--endpoint"),
            (&["--endpoint", "not a url"], "--endpoint"),
            (&["--iam-endpoint", "https://iam?x=1"], "--iam-endpoint"),
            (&["--namespace", "Bad_NS"], "--namespace"),
            (&["--watch-namespaces", "a,Bad_NS"], "--watch-namespaces"),
            (&["--concurrency", "0"], "--concurrency"),
            (&["--resync-interval", "0s"], "--resync-interval"),
            (&["--pending-requeue", "10ms"], "--pending-requeue"),
            (&["--cloud-read-rate", "0"], "--cloud-read-rate"),
            (&["--cloud-write-rate", "NaN"], "--cloud-write-rate"),
            (&["--cloud-write-burst", "0"], "--cloud-write-burst"),
            (&["--lease-name", "Leader_Lease"], "--lease-name"),
            (&["--renew-deadline", "15s"], "--renew-deadline"),
            (&["--log-level", "vpn_operator=[[["], "--log-level"),
            (&["--cluster-name", "a b"], "--cluster-name"),
            (&["--project-id", "abc/../def"], "--project-id"),
            (&["--region", "CN North"], "--region"),
            (&["--credentials-secret", "a/b/c"], "--credentials-secret"),
        ];
        for (extra, flag) in cases {
            let err = real(extra).expect_err(flag);
            assert!(err.to_string().contains(flag), "{flag}: {err}");
        }
    }

    #[test]
    fn leader_election_flag_forms() {
        let on = |argv: &[&str]| real(argv).unwrap().leader_election.is_some();
        assert!(on(&[]));
        assert!(on(&["--leader-election"]));
        assert!(on(&["--leader-election", "true"]));
        assert!(!on(&["--leader-election=false"]));
        assert!(!on(&["--leader-election", "false"]));
    }

    #[test]
    fn leader_election_can_be_disabled_and_then_ignores_lease_flags() {
        let cfg = real(&["--leader-election", "false", "--renew-deadline", "1m"]).unwrap();
        assert_eq!(cfg.leader_election, None);
    }

    #[test]
    fn env_fallback_is_wired_for_every_flag() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        for arg in cmd
            .get_arguments()
            .filter(|a| a.get_long().is_some_and(|l| l != "help"))
        {
            let env = arg
                .get_env()
                .unwrap_or_else(|| panic!("--{} has no env fallback", arg.get_id()));
            let env = env.to_string_lossy();
            assert!(
                env.starts_with("VPN_OPERATOR_"),
                "--{}: {env}",
                arg.get_id()
            );
            assert!(
                arg.get_help().is_some(),
                "--{} has no help line",
                arg.get_id()
            );
        }
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn credentials_secret_shapes() {
        let secret = SecretRef {
            namespace: "ns".into(),
            name: "creds".into(),
        };
        let ok = credentials_from_secret(
            &secret,
            &data(&[("accessKey", "AK1"), ("secretKey", "SK-SECRET\n")]),
        );
        assert!(
            matches!(ok, Ok(Credentials::AkSk { ref access_key, ref secret_key, security_token: None })
                if access_key == "AK1" && secret_key == "SK-SECRET")
        );
        let tmp = data(&[
            ("accessKey", "AK"),
            ("secretKey", "SK"),
            ("securityToken", "ST"),
        ]);
        assert!(matches!(
            credentials_from_secret(&secret, &tmp),
            Ok(Credentials::AkSk { security_token: Some(ref t), .. }) if t == "ST"
        ));
        assert!(
            matches!(credentials_from_secret(&secret, &data(&[("token", "TOK")])), Ok(Credentials::Token(ref t)) if t == "TOK")
        );

        let bad: &[(&[(&str, &str)], &str)] = &[
            (&[], "neither"),
            (&[("accessKey", "AK")], "no key secretKey"),
            (&[("secretKey", "SK-SECRET")], "no key accessKey"),
            (
                &[
                    ("accessKey", "AK"),
                    ("secretKey", "SK-SECRET"),
                    ("token", "T"),
                ],
                "both",
            ),
            (&[("accessKey", "AK"), ("secretKey", "  ")], "is empty"),
        ];
        for (pairs, want) in bad {
            let Err(err) = credentials_from_secret(&secret, &data(pairs)) else {
                panic!("{want}: accepted")
            };
            let err = err.to_string();
            assert!(err.contains(want) && err.contains("ns/creds"), "{err}");
            assert!(!err.contains("SK-SECRET"), "secret value leaked: {err}");
        }
    }
}
