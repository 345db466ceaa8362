//! `vpn-operator`: the command line. `run` runs the controllers, `sim` serves the simulated
//! cloud, `crd` prints or writes the CustomResourceDefinitions. This is the only place that
//! chooses between the real cloud and the simulator.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use futures::FutureExt;

use vpn_operator::cloud::ies::IesCredentials;
use vpn_operator::cloud::retry::RetryPolicy;
use vpn_operator::cloud::Credentials;
use vpn_operator::config::{CloudTarget, OperatorConfig, RunArgs};
use vpn_operator::controller::clouds::{
    CloudDefaults, Clouds, CredentialSource, IesCredentialSource, IesDefaults,
};
use vpn_operator::controller::{self, Context, RunOptions, Settings};
use vpn_operator::http::{self, Health, Shutdown};
use vpn_operator::leader::{self, ElectionEnd, LeaderElector};
use vpn_operator::metrics::Metrics;
use vpn_operator::{crd, sim, telemetry};

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

    let client = kube::Client::try_default()
        .await
        .context("cannot build a Kubernetes client (set KUBECONFIG, or run in a cluster)")?;
    let (defaults, ies, _simulator) = cloud_defaults(&cfg, &metrics).await?;
    let identity = leader::default_identity();
    let ctx = Context::new(
        client.clone(),
        Clouds::new(client.clone(), defaults).with_ies(ies),
        metrics.clone(),
        Settings {
            resync_interval: cfg.resync_interval,
            pending_requeue: cfg.pending_requeue,
            cluster_name: cfg.cluster_name.clone(),
            ..Settings::default()
        },
        Some(identity.clone()),
    );
    let opts = RunOptions {
        namespace: cfg.namespace.clone(),
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
        timeout: Duration::from_secs(30),
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
