//! `vpn-operator`: the command line. `run` runs the controllers, `sim` serves the simulated
//! cloud, `crd` prints or writes the CustomResourceDefinitions, `plan` and `doctor` (in
//! `vpn_operator::cli`) preview manifests and check an account and a cluster. This is the only place that
//! chooses between the real cloud and the simulator.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use futures::FutureExt;

use vpn_operator::cloud::ies::IesCredentials;
use vpn_operator::cloud::retry::RetryPolicy;
use vpn_operator::cloud::Credentials;
use vpn_operator::config::{CloudTarget, OperatorConfig, RunArgs};
use vpn_operator::controller::runtime::clouds::{
    CloudDefaults, Clouds, CredentialSource, IesCredentialSource, IesDefaults,
};
use vpn_operator::controller::runtime::kube::Kube;
use vpn_operator::controller::{self, Context, RunOptions, Settings};
use vpn_operator::http::{self, Health, Shutdown};
use vpn_operator::leader::{self, ElectionEnd, LeaderElector};
use vpn_operator::metrics::Metrics;
use vpn_operator::{cli, crd, sim, telemetry};

/// Kubernetes operator for Huawei Cloud VPN, with a built-in simulator of the cloud APIs.
#[derive(Parser)]
#[command(name = "vpn-operator", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers against a Kubernetes cluster (the main job).
    Run(Box<RunArgs>),
    /// Serve the simulated Huawei Cloud VPN API (for trying the operator and for tests).
    Sim(Box<sim::SimArgs>),
    /// Print the CustomResourceDefinitions as YAML, or write them to a directory.
    Crd {
        /// Write one file per CRD into this directory instead of printing.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Show what the operator would do with these manifests, before they are applied (reads
    /// only; exit 0 no change, 2 changes, 1 error or invalid).
    Plan(Box<cli::plan::PlanArgs>),
    /// Check the cloud account and the cluster before or after installing (reads only; exit 1
    /// on any FAIL).
    Doctor(Box<cli::doctor::DoctorArgs>),
}

fn main() -> ExitCode {
    vpn_operator::memory::configure_allocator();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Run(args) => run(*args).await,
            Command::Sim(args) => sim::run(*args).await.map(|()| ExitCode::SUCCESS),
            Command::Crd { write } => crd_command(write),
            Command::Plan(args) => cli::plan::run(*args).await,
            Command::Doctor(args) => cli::doctor::run(*args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn crd_command(write: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    match write {
        None => print!("{}", crd::print_all()),
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for path in crd::write_all(&dir)? {
                println!("wrote {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.into_config()?;
    telemetry::init(&cfg.log)?;
    let metrics = Metrics::new();
    let health = Health::new(
        controller::CONTROLLERS.iter().copied(),
        cfg.leader_election.is_some(),
    );
    let shutdown = Shutdown::new();
    tokio::spawn(shutdown.clone().trigger_on_os_signal());

    let listener = http::bind(cfg.metrics_addr).await?;
    let server = tokio::spawn(http::serve(
        listener,
        health.clone(),
        metrics.clone(),
        shutdown.wait(),
    ));

    let client = kube_client().await?;
    let (defaults, ies, _simulator) = cloud_defaults(&cfg, &metrics).await?;
    let identity = leader::default_identity();
    let kube = Kube::live(client.clone(), Some(identity.clone()));
    let ctx = Context::new(
        kube.clone(),
        Clouds::new(kube, defaults)
            .with_ies(ies)
            .with_accounts(&cfg.account_secret_name, cfg.require_namespace_account),
        metrics.clone(),
        Settings {
            resync_interval: cfg.resync_interval,
            pending_requeue: cfg.pending_requeue,
            cluster_name: cfg.cluster_name.clone(),
            ..Settings::default()
        },
    );
    let opts = RunOptions {
        namespaces: controller::Namespaces::from_list(cfg.namespaces.clone()),
        concurrency: cfg.concurrency,
    };
    let h = health.clone();
    let started = move |name: &'static str| h.set_ready(name, true);

    let mut code = ExitCode::SUCCESS;
    match &cfg.leader_election {
        None => {
            let stop = shutdown.wait().boxed().shared();
            controller::run_all(client, ctx, opts, stop, started).await;
        }
        Some(le) => {
            let elector =
                LeaderElector::new(client.clone(), le, identity).with_metrics(metrics.clone());
            let mut state = elector.subscribe();
            tokio::spawn(health.clone().follow_leader(elector.subscribe()));
            let controllers_stopped = Shutdown::new();
            let election = tokio::spawn(elector.run(controllers_stopped.wait()));
            let leading = tokio::select! {
                leading = leader::wait_until_leading(&mut state) => leading,
                _ = shutdown.wait() => false,
            };
            if leading {
                tracing::info!("leading: starting the controllers");
                // Stop on shutdown or when leadership is lost, whichever comes first.
                let stop_controllers = Shutdown::new();
                {
                    let (stop, shutdown, mut state) =
                        (stop_controllers.clone(), shutdown.clone(), state.clone());
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = shutdown.wait() => {}
                            _ = leader::leadership_ended(&mut state) => {}
                        }
                        stop.trigger();
                    });
                }
                controller::run_all(
                    client,
                    ctx,
                    opts,
                    stop_controllers.wait().boxed().shared(),
                    started,
                )
                .await;
            }
            controllers_stopped.trigger();
            if election.await.unwrap_or(ElectionEnd::Lost) == ElectionEnd::Lost {
                tracing::error!("leadership lost: exiting so that a new replica takes over");
                code = ExitCode::FAILURE;
            }
        }
    }
    shutdown.trigger();
    let _ = server.await;
    tracing::info!("stopped");
    Ok(code)
}

/// The cloud defaults: the real endpoints and the credentials Secret, or an in-process
/// simulator with generated credentials. Returns the simulator handle to keep it running.
async fn cloud_defaults(
    cfg: &OperatorConfig,
    metrics: &Metrics,
) -> anyhow::Result<(CloudDefaults, IesDefaults, Option<sim::SimHandle>)> {
    let observer: Option<Arc<dyn vpn_operator::cloud::transport::CallObserver>> =
        Some(Arc::new(metrics.clone()));
    let base = |vpn_endpoint, credentials| CloudDefaults {
        region: cfg.region.clone(),
        project_id: cfg.project_id.clone(),
        vpn_endpoint: Some(vpn_endpoint),
        credentials,
        limits: cfg.rate_limits,
        retry: RetryPolicy::default(),
        timeout: vpn_operator::cloud::ClientConfig::DEFAULT_TIMEOUT,
        read_timeout: vpn_operator::cloud::ClientConfig::DEFAULT_READ_TIMEOUT,
        observer: observer.clone(),
    };
    match &cfg.cloud {
        CloudTarget::Real(real) => {
            let (namespace, name) = (
                real.credentials.namespace.clone(),
                real.credentials.name.clone(),
            );
            // IES (CloudVpnService) tokens live in the same Secret, under `authToken` /
            // `bearerToken`; without `--ies-endpoint` CloudVpnServices must name their endpoint.
            let ies = IesDefaults {
                endpoint: real.ies_endpoint.clone(),
                credentials: Some(IesCredentialSource::Secret {
                    namespace: namespace.clone(),
                    name: name.clone(),
                }),
            };
            Ok((
                base(
                    real.vpn_endpoint.clone(),
                    CredentialSource::Secret { namespace, name },
                ),
                ies,
                None,
            ))
        }
        CloudTarget::Sim { .. } => {
            let access_key = format!("SIM{}", uuid::Uuid::new_v4().simple()).to_uppercase();
            let secret_key = uuid::Uuid::new_v4().simple().to_string();
            let handle = sim::spawn(sim::SimConfig::single(
                &cfg.project_id,
                &access_key,
                &secret_key,
            ))
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the in-process simulator: {e}"))?;
            let url = url::Url::parse(&handle.base_url())
                .map_err(|e: url::ParseError| anyhow::anyhow!(e))?;
            for _ in 0..3 {
                tracing::warn!(
                    endpoint = %url,
                    "--cloud sim: talking to the BUILT-IN SIMULATOR, not to Huawei Cloud; nothing is created in any real account"
                );
            }
            let creds = Credentials::AkSk {
                access_key,
                secret_key,
                security_token: None,
            };
            let ies = IesDefaults {
                endpoint: Some(url.join("rest").map_err(|e| anyhow::anyhow!(e))?),
                credentials: Some(IesCredentialSource::Static(IesCredentials::token(
                    sim::ies::config::DEFAULT_AUTH_TOKEN,
                ))),
            };
            Ok((
                base(url, CredentialSource::Static(creds)),
                ies,
                Some(handle),
            ))
        }
    }
}

/// The Kubernetes client, from `KUBECONFIG` or `~/.kube/config`, else from the pod's service
/// account (what `kube::Client::try_default` does). When neither works the error is one sentence
/// saying what to do; kube's own error, whose chain repeats itself, is logged at debug level.
async fn kube_client() -> anyhow::Result<kube::Client> {
    let config = kube::Config::infer().await.map_err(|e| {
        tracing::debug!(error = ?e, "no Kubernetes client configuration");
        let kubeconfig_env = std::env::var_os("KUBECONFIG");
        // As kube decides: in a pod when KUBERNETES_SERVICE_HOST is set.
        let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST")
            .and_then(|_| kube::Config::incluster().err());
        let message = match std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<kube::config::KubeconfigError>())
        {
            Some(kubeconfig) => no_cluster_message(
                kubeconfig,
                kubeconfig_env.as_deref(),
                in_cluster.as_ref().map(|e| e as &dyn std::error::Error),
            ),
            None => format!("cannot find a Kubernetes client configuration: {e}"),
        };
        anyhow::anyhow!(message)
    })?;
    kube::Client::try_from(config).map_err(|e| {
        anyhow::anyhow!("cannot build a Kubernetes client from its configuration: {e}")
    })
}

/// One sentence, with what to do, for a Kubernetes client configuration that could not be found:
/// `kubeconfig` is why no kubeconfig could be read, `kubeconfig_env` the value of `KUBECONFIG`,
/// `in_cluster` why the in-cluster configuration failed when this is a pod (else `None`).
fn no_cluster_message(
    kubeconfig: &kube::config::KubeconfigError,
    kubeconfig_env: Option<&std::ffi::OsStr>,
    in_cluster: Option<&dyn std::error::Error>,
) -> String {
    use kube::config::KubeconfigError;
    let kubeconfig_env = kubeconfig_env.filter(|v| !v.is_empty());
    // Where a kubeconfig was looked for and not found.
    let missing = match kubeconfig {
        KubeconfigError::ReadConfig(e, path) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(match kubeconfig_env {
                Some(_) => format!("KUBECONFIG names {}, which does not exist", path.display()),
                None => format!(
                    "no kubeconfig was found (KUBECONFIG unset, {} missing)",
                    path.display()
                ),
            })
        }
        KubeconfigError::FindPath => Some(
            "no kubeconfig was found (KUBECONFIG unset, and no home directory for ~/.kube/config)"
                .to_string(),
        ),
        _ => None,
    };
    match (missing, in_cluster) {
        (Some(_), Some(in_cluster)) => format!(
            "cannot reach Kubernetes from this pod: its in-cluster configuration is unusable \
             ({in_cluster}); check that the service account token is mounted \
             (automountServiceAccountToken), or point KUBECONFIG at a kubeconfig"
        ),
        (Some(missing), None) => format!(
            "no Kubernetes cluster to talk to: {missing}, and this is not a pod in a cluster; \
             point KUBECONFIG at a cluster's kubeconfig, or run inside a cluster"
        ),
        (None, _) => {
            let which = match kubeconfig_env {
                Some(v) => format!("KUBECONFIG={}", v.to_string_lossy()),
                None => "~/.kube/config".to_string(),
            };
            format!(
                "cannot use the kubeconfig ({which}): {kubeconfig}; fix it, or point KUBECONFIG \
                 at a cluster's kubeconfig"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::io::{Error, ErrorKind};
    use std::path::PathBuf;

    use kube::config::KubeconfigError;

    use super::no_cluster_message;

    fn not_found(path: &str) -> KubeconfigError {
        KubeconfigError::ReadConfig(Error::from(ErrorKind::NotFound), PathBuf::from(path))
    }

    #[test]
    fn run_plan_and_doctor_take_the_same_account_flags() {
        use clap::{CommandFactory, Parser};
        let cmd = super::Cli::command();
        let flag = |sub: &str, long: &str| {
            let a = cmd
                .find_subcommand(sub)
                .and_then(|s| s.get_arguments().find(|a| a.get_long() == Some(long)))
                .unwrap_or_else(|| panic!("{sub} has no --{long}"));
            (
                a.get_env().map(|e| e.to_owned()),
                a.get_help().map(|h| h.to_string()),
                a.get_default_values().to_vec(),
            )
        };
        for long in ["account-secret-name", "require-namespace-account"] {
            for sub in ["plan", "doctor"] {
                assert_eq!(flag(sub, long), flag("run", long), "{sub} --{long}");
            }
        }
        let parsed = super::Cli::try_parse_from([
            "vpn-operator",
            "plan",
            "-f",
            "m.yaml",
            "--account-secret-name",
            "team-account",
            "--require-namespace-account",
        ])
        .unwrap();
        let super::Command::Plan(args) = parsed.command else {
            panic!("not plan")
        };
        assert_eq!(args.accounts.account_secret_name, "team-account");
        assert!(args.accounts.require_namespace_account);
    }

    #[test]
    fn no_kubeconfig_and_no_pod_is_one_sentence_with_what_to_do() {
        assert_eq!(
            no_cluster_message(&not_found("/home/u/.kube/config"), None, None),
            "no Kubernetes cluster to talk to: no kubeconfig was found (KUBECONFIG unset, \
             /home/u/.kube/config missing), and this is not a pod in a cluster; point KUBECONFIG \
             at a cluster's kubeconfig, or run inside a cluster"
        );
        // An empty KUBECONFIG is unset for kube too.
        assert_eq!(
            no_cluster_message(
                &not_found("/home/u/.kube/config"),
                Some(OsStr::new("")),
                None
            ),
            no_cluster_message(&not_found("/home/u/.kube/config"), None, None),
        );
        let no_home = no_cluster_message(&KubeconfigError::FindPath, None, None);
        assert!(
            no_home.contains("KUBECONFIG unset, and no home directory"),
            "{no_home}"
        );
    }

    #[test]
    fn a_kubeconfig_variable_naming_a_missing_file_is_named() {
        let message = no_cluster_message(
            &not_found("/tmp/gone/config"),
            Some(OsStr::new("/tmp/gone/config")),
            None,
        );
        assert!(
            message.starts_with(
                "no Kubernetes cluster to talk to: KUBECONFIG names /tmp/gone/config, which does \
                 not exist, and this is not a pod"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_broken_kubeconfig_or_pod_says_what_is_wrong_once() {
        let broken = no_cluster_message(
            &KubeconfigError::CurrentContextNotSet,
            Some(OsStr::new("/k/config")),
            None,
        );
        assert_eq!(
            broken,
            "cannot use the kubeconfig (KUBECONFIG=/k/config): failed to determine current \
             context; fix it, or point KUBECONFIG at a cluster's kubeconfig"
        );
        let denied = KubeconfigError::ReadConfig(
            Error::from(ErrorKind::PermissionDenied),
            PathBuf::from("/home/u/.kube/config"),
        );
        let denied = no_cluster_message(&denied, None, None);
        assert!(
            denied.starts_with("cannot use the kubeconfig (~/.kube/config): failed to read"),
            "{denied}"
        );
        let token = Error::new(ErrorKind::NotFound, "token file missing");
        let pod = no_cluster_message(&not_found("/root/.kube/config"), None, Some(&token));
        assert!(
            pod.starts_with(
                "cannot reach Kubernetes from this pod: its in-cluster configuration is unusable \
                 (token file missing)"
            ),
            "{pod}"
        );
    }
}
