//! `vpn-operator plan -f PATH...`: what the operator would do with a set of manifests, before
//! they are applied, like `terraform plan`. For each object of this operator: the API server's
//! checks ([`validate`]), then the controllers' own `inputs` → `observe` → `plan` over the live
//! object and the cloud ([`engine`]), shown as `create`, `update` (fields `old → new`),
//! `replace required`, `adopt`, `no change`, and with `--prune` `delete` / `orphan` for objects
//! only in the cluster. It only reads: nothing is written to the cluster or the cloud.
//!
//! Exit codes as `terraform plan -detailed-exitcode`: 0 nothing changes, 2 something changes,
//! 1 an error or an invalid object.
use std::collections::BTreeSet;
use std::process::ExitCode;

use super::cloud::CloudArgs;
use super::term::Paint;
use super::Output;

pub mod cluster;
pub mod engine;
pub mod manifests;
pub mod render;
pub mod validate;

use engine::{Entry, Verdict};
use manifests::{Manifest, Manifests};

/// Flags of `vpn-operator plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// Manifests: files, directories (their .yaml, .yml and .json files) or `-` for standard
    /// input; repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<String>,
    /// Do not read the cluster: every object is taken as new to Kubernetes (the cloud is still
    /// read).
    #[arg(long)]
    pub no_cluster: bool,
    /// Also plan the objects that are in the cluster (in the manifests' namespaces) but not in
    /// the manifests: `delete`, or `orphan` by their deletionPolicy.
    #[arg(long)]
    pub prune: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Namespace of objects that name none (default: the kubeconfig's, else `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub accounts: crate::config::AccountArgs,
}

/// A plan: the verdict on every object, and what the reader should know about the whole.
#[derive(Debug)]
pub struct Report {
    pub entries: Vec<Entry>,
    pub notes: Vec<String>,
    /// Whether live objects were read.
    pub cluster: bool,
    /// Writes made to the plan's in-memory Kubernetes (always 0: the proof it only reads).
    pub kube_writes: u64,
}

impl Report {
    /// 1 on any invalid object or error, else 2 on any change, else 0.
    pub fn exit_code(&self) -> u8 {
        let codes: BTreeSet<u8> = self.entries.iter().map(|e| e.verdict.exit_code()).collect();
        if codes.contains(&1) {
            1
        } else if codes.contains(&2) {
            2
        } else {
            0
        }
    }
}

/// Plans `manifests` against the `live` objects (`None`: no cluster) and the cloud.
pub async fn plan(
    manifests: Manifests,
    live: Option<cluster::Live>,
    cloud: engine::Cloud,
    prune: bool,
    notes: Vec<String>,
) -> anyhow::Result<Report> {
    let schemas = validate::Schemas::new()?;
    let cluster = live.is_some();
    let live = live.unwrap_or_default();
    let mut entries: Vec<Entry> = manifests
        .refused
        .iter()
        .map(|r| Entry {
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            source: Some(r.source.clone()),
            verdict: Verdict::Invalid(vec![r.message.clone()]),
        })
        .collect();
    let admitted: Vec<(&Manifest, Option<Verdict>)> = manifests
        .objects
        .iter()
        .map(|m| (m, engine::admission(&schemas, &live, m)))
        .collect();
    let applied: Vec<&Manifest> = admitted
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(m, _)| *m)
        .collect();
    let world = engine::World::new(&live, &applied, &manifests.secrets)?;
    let ctx = engine::context(&world, cloud);
    for (m, refused) in &admitted {
        let verdict = match refused {
            Some(v) => v.clone(),
            None => engine::plan_one(&ctx, m).await,
        };
        let key = (m.kind, m.namespace.clone(), m.name.clone());
        let verdict = engine::with_last_failure(verdict, live.get(&key));
        entries.push(Entry {
            kind: m.kind.name().to_string(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            source: Some(m.source.clone()),
            verdict,
        });
    }
    if prune {
        let written: BTreeSet<_> = manifests
            .objects
            .iter()
            .map(|m| (m.kind, m.namespace.clone(), m.name.clone()))
            .collect();
        for (key, v) in &live {
            if !written.contains(key) {
                entries.push(Entry {
                    kind: key.0.name().to_string(),
                    namespace: key.1.clone(),
                    name: key.2.clone(),
                    source: None,
                    verdict: engine::pruned(v),
                });
            }
        }
    }
    let kube_writes = world.memory().writes();
    Ok(Report {
        entries,
        notes,
        cluster,
        kube_writes,
    })
}

/// `vpn-operator plan`: reads the manifests, the cluster (unless `--no-cluster`) and the
/// cloud, prints the plan, and answers the exit code.
pub async fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let mut stdin = std::io::stdin();
    let docs = manifests::read(&args.files, &mut stdin)?;
    let mut notes = Vec::new();
    let client = match args.no_cluster {
        true => None,
        false => match super::kube_client().await {
            Ok(c) => Some(c),
            Err(e) => {
                notes.push(format!(
                    "no cluster was read ({e}): every object is taken as new to Kubernetes"
                ));
                None
            }
        },
    };
    let namespace = args
        .namespace
        .clone()
        .or_else(|| client.as_ref().map(|c| c.default_namespace().to_string()))
        .unwrap_or_else(|| "default".into());
    let mut manifests = manifests::classify(docs, &namespace);
    let account_secret = args.accounts.secret_name()?;
    let live = match &client {
        Some(c) => read_cluster(c, &mut manifests, &account_secret, &mut notes).await,
        None => None,
    };
    if live.is_none() && args.accounts.require_namespace_account {
        notes.push(format!(
            "the cluster was not read: namespace account Secrets ({account_secret}) come only \
             from the manifests, and objects without credentials of their own and without one \
             there get AccountMissing (--require-namespace-account)"
        ));
    }
    let secret = match (args.cloud.secret_ref()?, &client) {
        (Some(r), Some(c)) => Some(match cluster::secret(c, &r.namespace, &r.name).await {
            Ok(Some(data)) => Ok(data),
            Ok(None) => Err("it does not exist".to_string()),
            Err(e) => Err(e),
        }),
        _ => None,
    };
    let resolved = args
        .cloud
        .resolve(secret, &|k| std::env::var(k).ok())
        .await?;
    if !resolved.has_credentials {
        let why = match &resolved.credentials_from {
            super::cloud::CredentialsFrom::Missing(why) => why.as_str(),
            _ => "none were found",
        };
        anyhow::bail!(
            "no cloud credentials: {why}; give --credentials-secret NAMESPACE/NAME, set \
             HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or try it with --cloud sim"
        );
    }
    let cloud = engine::Cloud {
        defaults: resolved.defaults.clone(),
        ies: resolved.ies.clone(),
        cluster_name: crate::config::check_cluster_name(args.cloud.cluster_name.clone())?,
        account_secret,
        require_namespace_account: args.accounts.require_namespace_account,
    };
    let report = plan(manifests, live, cloud, args.prune, notes).await?;
    let code = report.exit_code();
    let out = match args.output {
        Output::Text => render::text(&report.entries, &report.notes, Paint::for_stdout()),
        Output::Json => render::json(&report.entries, &report.notes, report.cluster, code),
    };
    print!("{out}");
    // The in-process simulator of `--cloud sim` lives until here.
    drop(resolved);
    Ok(ExitCode::from(code))
}

/// The live objects of the manifests' namespaces, and the Secrets the objects name (with their
/// namespaces' account Secret `account_secret`) that the manifests do not hold. `None` (with a
/// note) when the cluster cannot be read.
async fn read_cluster(
    client: &kube::Client,
    manifests: &mut Manifests,
    account_secret: &str,
    notes: &mut Vec<String>,
) -> Option<cluster::Live> {
    let namespaces: BTreeSet<String> = manifests
        .objects
        .iter()
        .map(|m| m.namespace.clone())
        .collect();
    let live = match cluster::live_objects(client, &namespaces, notes).await {
        Ok(l) => l,
        Err(e) => {
            notes.push(format!(
                "the cluster could not be read ({e}): every object is taken as new to Kubernetes"
            ));
            return None;
        }
    };
    let mut wanted = BTreeSet::new();
    for m in &manifests.objects {
        for name in cluster::secrets_named(m.kind, &m.value, account_secret) {
            wanted.insert((m.namespace.clone(), name));
        }
    }
    for (ns, name) in wanted {
        if manifests.secrets.contains_key(&(ns.clone(), name.clone())) {
            continue;
        }
        match cluster::secret(client, &ns, &name).await {
            Ok(Some(data)) => {
                manifests.secrets.insert((ns, name), data);
            }
            Ok(None) => {}
            Err(e) if name == account_secret => notes.push(format!(
                "Secret {ns}/{name} cannot be read ({e}): the objects of {ns} without credentials \
                 of their own are planned as if their namespace had no account Secret"
            )),
            Err(e) => notes.push(format!("Secret {ns}/{name} cannot be read: {e}")),
        }
    }
    Some(live)
}

#[cfg(test)]
mod tests;
