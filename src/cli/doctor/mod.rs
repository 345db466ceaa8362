//! `vpn-operator doctor`: read-only checks of what the operator needs, before or after it is
//! installed, with the operator's own flags and environment. Cloud: the endpoint (DNS, TCP,
//! TLS), the clock against the server's `Date`, the credentials and the project, quotas,
//! availability zones and flavors, the resources of each kind (and how many this cluster owns),
//! IES. Cluster (when a kubeconfig is there): the API, the CRDs against this binary's, the
//! operator's RBAC. Each check is PASS, WARN or FAIL with a one-line fix; exit 1 on any FAIL.
//!
//! The verdicts are pure ([`checks`], tested as tables); the probes make the calls ([`probe`],
//! [`cluster`], [`rbac`]).
use std::process::ExitCode;

use serde::Serialize;

use super::cloud::CloudArgs;
use super::term::{Paint, Style};
use super::Output;

pub mod accounts;
pub mod checks;
pub mod cluster;
pub mod probe;
pub mod rbac;

use checks::{Check, Status};

/// Flags of `vpn-operator doctor`.
#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub accounts: crate::config::AccountArgs,
    /// Skip the cluster checks (and read no credentials Secret).
    #[arg(long)]
    pub no_cluster: bool,
    /// The operator's namespace (where its leader-election Lease lives).
    #[arg(long, env = "POD_NAMESPACE", default_value = "vpn-operator-system")]
    pub operator_namespace: String,
    /// The namespaces the operator watches, comma-separated (default: all): its permissions
    /// are checked in each of them instead of cluster-wide.
    #[arg(long, env = "VPN_OPERATOR_WATCH_NAMESPACES", value_delimiter = ',')]
    pub watch_namespaces: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Every check, then the exit code: 1 on any FAIL.
pub fn exit_code(checks: &[Check]) -> u8 {
    u8::from(checks.iter().any(|c| c.status == Status::Fail))
}

/// The checks as a table, with the fix under each WARN and FAIL.
pub fn text(checks: &[Check], paint: Paint) -> String {
    let mut out = format!("{:<20} {:<6} RESULT\n", "CHECK", "STATUS");
    for c in checks {
        let style = match c.status {
            Status::Pass => Style::Green,
            Status::Warn => Style::Yellow,
            Status::Fail => Style::Red,
        };
        let name = format!("{}/{}", c.group, c.name);
        let status = format!("{:<6}", c.status.as_str());
        out.push_str(&format!(
            "{name:<20} {} {}\n",
            paint.paint(style, &status),
            c.message
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{:<27} fix: {fix}\n", ""));
        }
    }
    let count = |s| checks.iter().filter(|c| c.status == s).count();
    out.push_str(&format!(
        "\n{} passed, {} warnings, {} failed\n",
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail)
    ));
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Json<'a> {
    format_version: u32,
    checks: &'a [Check],
    exit_code: u8,
}

/// The checks as JSON (docs/PLAN.md documents the schema).
pub fn json(checks: &[Check]) -> String {
    let j = Json {
        format_version: 1,
        checks,
        exit_code: exit_code(checks),
    };
    serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
}

/// Runs every check with the flags and the environment.
pub async fn gather(args: &DoctorArgs) -> anyhow::Result<Vec<Check>> {
    let client = match args.no_cluster {
        true => None,
        false => Some(super::kube_client().await),
    };
    let secret = match (args.cloud.secret_ref()?, &client) {
        (Some(r), Some(Ok(c))) => Some(
            match super::plan::cluster::secret(c, &r.namespace, &r.name).await {
                Ok(Some(data)) => Ok(data),
                Ok(None) => Err("it does not exist".to_string()),
                Err(e) => Err(e),
            },
        ),
        _ => None,
    };
    let resolved = args
        .cloud
        .resolve(secret, &|k| std::env::var(k).ok())
        .await?;
    let cluster_name = crate::config::check_cluster_name(args.cloud.cluster_name.clone())?;
    let mut out = probe::cloud(&resolved, &cluster_name, chrono::Utc::now).await;
    match client {
        None => {}
        Some(Err(e)) => out.push(
            Check::warn("cluster", "api", format!("no cluster checked: {e}")).fix(
                "point KUBECONFIG at the cluster (or run inside it) to check the CRDs and RBAC",
            ),
        ),
        Some(Ok(c)) => {
            let found = cluster::checks(&c).await;
            let api_ok = found.first().is_some_and(|c| c.status == Status::Pass);
            out.extend(found);
            if api_ok {
                let perms = rbac::permissions(&args.operator_namespace, &args.watch_namespaces);
                let answers = rbac::review(&c, &perms).await;
                out.push(checks::rbac("this identity", &answers));
                out.extend(namespace_accounts(&c, args, &resolved).await?);
            }
        }
    }
    Ok(out)
}

/// The namespace-account checks ([`accounts`]) of the watched namespaces.
async fn namespace_accounts(
    client: &kube::Client,
    args: &DoctorArgs,
    resolved: &super::cloud::ResolvedCloud,
) -> anyhow::Result<Vec<Check>> {
    let secret_name = args.accounts.secret_name()?;
    let objects = match accounts::list_objects(client, &args.watch_namespaces).await {
        Ok(o) => o,
        Err(e) => {
            return Ok(vec![Check::warn(
                checks::accounts::GROUP,
                checks::accounts::NAME,
                format!("namespace accounts not checked: {e}"),
            )
            .fix("run doctor with permission to list the operator's objects")])
        }
    };
    let users = accounts::users(&args.watch_namespaces, objects.iter().map(|(k, v)| (*k, v)));
    let kube = crate::controller::runtime::kube::Kube::live(client.clone(), None);
    Ok(accounts::checks(
        &kube,
        resolved,
        &secret_name,
        args.accounts.require_namespace_account,
        &users,
    )
    .await)
}

/// `vpn-operator doctor`.
pub async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let checks = gather(&args).await?;
    let out = match args.output {
        Output::Text => text(&checks, Paint::for_stdout()),
        Output::Json => json(&checks),
    };
    print!("{out}");
    Ok(ExitCode::from(exit_code(&checks)))
}

#[cfg(test)]
mod tests;
