//! Runs the controllers' own decisions over the manifests: an in-memory Kubernetes
//! ([`Kube::memory`]) holds the live objects with the manifests' specs applied over them (as
//! `kubectl apply` would) and the Secrets, and each object goes through its kind's `inputs` →
//! `observe` → `plan` ([`dry_run`]), never `act`. Nothing is written anywhere.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::cluster::Live;
use super::manifests::{Kind, Manifest};
use super::validate::Schemas;
use crate::controller::runtime::clouds::{CloudDefaults, Clouds, IesDefaults};
use crate::controller::runtime::error::Error;
use crate::controller::runtime::kube::{Kube, Memory};
use crate::controller::runtime::preview::{dry_run, Action, Change, Preview};
use crate::controller::{Context, Settings};
use crate::crd::common::{DeletionPolicy, ManagementPolicy};
use crate::crd::{CloudVpnService, CustomerGateway, VpnConnection, VpnGateway};

/// What `plan` says about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// What the operator would do.
    Change(Change),
    /// The spec changes fields the API server refuses to change (messages), so the object has
    /// to be recreated.
    ReplaceRequired(Vec<String>),
    /// The API server (or the operator) would refuse the object: its messages.
    Invalid(Vec<String>),
    /// The plan could not be made (the cloud could not be read, ...).
    Error(String),
}

impl Verdict {
    /// `terraform plan -detailed-exitcode`'s view: 1 error or invalid, 2 a change, 0 none.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Invalid(_) | Verdict::Error(_) => 1,
            Verdict::ReplaceRequired(_) => 2,
            Verdict::Change(c) if c.changes() => 2,
            Verdict::Change(_) => 0,
        }
    }
}

/// One object of the plan.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The kind's name.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Where it was written (`file#n`); `None` for objects only in the cluster.
    pub source: Option<String>,
    pub verdict: Verdict,
}

/// The cloud, as the plan reaches it.
pub struct Cloud {
    pub defaults: CloudDefaults,
    pub ies: IesDefaults,
    pub cluster_name: String,
    /// The namespaces' account Secret name (`--account-secret-name`).
    pub account_secret: String,
    /// `--require-namespace-account`: no fallback to the operator's own account.
    pub require_namespace_account: bool,
}

/// The plan's own Kubernetes: live objects, the manifests applied over them, the Secrets.
pub struct World {
    pub kube: Kube,
}

impl World {
    /// In-memory Kubernetes holding `live` with `manifests` applied over it, and `secrets`.
    pub fn new(
        live: &Live,
        manifests: &[&Manifest],
        secrets: &BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
    ) -> anyhow::Result<Self> {
        let kube = Kube::memory();
        let memory = kube.memory_backend().expect("a memory backend");
        for ((kind, _, _), v) in live {
            apply(memory, *kind, v)?;
        }
        for m in manifests {
            let mut v = m.value.clone();
            if !live.contains_key(&(m.kind, m.namespace.clone(), m.name.clone())) {
                // A new object gets its uid from the API server: a fresh one, so that no owner
                // tag in the cloud can name it.
                v["metadata"]["uid"] = Value::String(uuid::Uuid::new_v4().to_string());
            }
            apply(memory, m.kind, &v)?;
        }
        for ((ns, name), data) in secrets {
            let pairs: Vec<(String, String)> = data
                .iter()
                .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect();
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            memory.put_secret(ns, name, &refs);
        }
        Ok(Self { kube })
    }

    /// The in-memory backend (its write count proves the plan wrote nothing).
    pub fn memory(&self) -> &Memory {
        self.kube.memory_backend().expect("a memory backend")
    }
}

fn apply(memory: &Memory, kind: Kind, v: &Value) -> anyhow::Result<()> {
    fn one<K: crate::controller::runtime::object::Object>(
        memory: &Memory,
        v: &Value,
    ) -> anyhow::Result<()> {
        let obj: K = serde_json::from_value(v.clone())?;
        memory.apply(&obj);
        Ok(())
    }
    match kind {
        Kind::VpnGateway => one::<VpnGateway>(memory, v),
        Kind::CustomerGateway => one::<CustomerGateway>(memory, v),
        Kind::VpnConnection => one::<VpnConnection>(memory, v),
        Kind::CloudVpnService => one::<CloudVpnService>(memory, v),
    }
}

/// The context a plan's reconciles run in: the world's Kubernetes and the cloud. List
/// observations are shared by every object (one list per kind and account).
pub fn context(world: &World, cloud: Cloud) -> Arc<Context> {
    let ctx = Context::new(
        world.kube.clone(),
        Clouds::new(world.kube.clone(), cloud.defaults)
            .with_ies(cloud.ies)
            .with_accounts(&cloud.account_secret, cloud.require_namespace_account),
        crate::metrics::Metrics::new(),
        Settings {
            cluster_name: cloud.cluster_name,
            ..Settings::default()
        },
    );
    ctx.clouds.lists().begin();
    ctx
}

/// How old a shared list may be within one plan: the whole plan.
const LIST_AGE: Duration = Duration::from_secs(600);

/// What the API server would say about manifest `m` (against its live object): `None` when it
/// accepts it.
pub fn admission(schemas: &Schemas, live: &Live, m: &Manifest) -> Option<Verdict> {
    let key = (m.kind, m.namespace.clone(), m.name.clone());
    let checked = schemas.check(m.kind, &m.value, live.get(&key));
    if !checked.invalid.is_empty() {
        return Some(Verdict::Invalid(checked.invalid));
    }
    if !checked.immutable.is_empty() {
        return Some(Verdict::ReplaceRequired(checked.immutable));
    }
    None
}

/// The controllers' plan for manifest `m` (admitted, and applied to the context's world).
pub async fn plan_one(ctx: &Context, m: &Manifest) -> Verdict {
    let result = match m.kind {
        Kind::VpnGateway => run::<VpnGateway>(ctx, m).await,
        Kind::CustomerGateway => run::<CustomerGateway>(ctx, m).await,
        Kind::VpnConnection => run::<VpnConnection>(ctx, m).await,
        Kind::CloudVpnService => run::<CloudVpnService>(ctx, m).await,
    };
    match result {
        Ok(c) => Verdict::Change(c),
        Err(e) => verdict_of_error(e),
    }
}

async fn run<K: Preview>(ctx: &Context, m: &Manifest) -> Result<Change, Error> {
    let memory = ctx.kube.memory_backend().expect("a memory backend");
    let Some(obj) = memory.get::<K>(&m.namespace, &m.name) else {
        return Err(Error::InvalidSpec("the object could not be loaded".into()));
    };
    dry_run(&obj, ctx, LIST_AGE).await
}

/// What a failed plan means for the reviewer: a wait before a create (a reference or key not
/// there yet) is still a create; a spec the operator refuses is invalid; the rest an error.
fn verdict_of_error(e: Error) -> Verdict {
    match e {
        Error::Waiting { message, .. } => Verdict::Change(
            Change::new(Action::Create, None).note(format!("waits first: {message}")),
        ),
        Error::Secret { .. } => {
            Verdict::Change(Change::new(Action::Create, None).note(format!("waits first: {e}")))
        }
        Error::InvalidSpec(m) => Verdict::Invalid(vec![format!(
            "the operator would refuse it (Synced=False InvalidSpec): {m}"
        )]),
        // No account (or a broken account Secret): the operator would not reach the cloud for
        // it, and the plan cannot say what it would do there.
        Error::Account { reason, message } => Verdict::Error(format!(
            "the operator would not reconcile it (Synced=False {reason}): {message}"
        )),
        other => Verdict::Error(other.to_string()),
    }
}

/// A change, with a note when the operator's last reconcile of the live object failed (its
/// `Synced` condition is False): the cloud may refuse the same again (e.g. a subnet without
/// free addresses), which only the cloud can tell.
pub fn with_last_failure(verdict: Verdict, live: Option<&Value>) -> Verdict {
    let Verdict::Change(mut c) = verdict else {
        return verdict;
    };
    let failed = live
        .and_then(|l| l["status"]["conditions"].as_array())
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Synced" && c["status"] == "False");
    if let Some(f) = failed {
        c.notes.push(format!(
            "the operator's last attempt failed ({}): {}",
            f["reason"].as_str().unwrap_or_default(),
            f["message"].as_str().unwrap_or_default()
        ));
    }
    Verdict::Change(c)
}

/// `--prune`: what happens to an object that is only in the cluster when it is deleted.
pub fn pruned(live: &Value) -> Verdict {
    let spec = &live["spec"];
    let policy: DeletionPolicy =
        serde_json::from_value(spec["deletionPolicy"].clone()).unwrap_or_default();
    let management: ManagementPolicy =
        serde_json::from_value(spec["managementPolicy"].clone()).unwrap_or_default();
    let cloud_id = live["status"]["cloudId"].as_str().map(str::to_string);
    let (action, why) = match (policy, management) {
        (_, ManagementPolicy::Observe) => (Action::Orphan, "managementPolicy is Observe"),
        (DeletionPolicy::Orphan, _) => (Action::Orphan, "deletionPolicy is Orphan"),
        _ => (Action::Delete, "not in the manifests (--prune)"),
    };
    let mut c = Change::new(action, cloud_id).note(why);
    if c.cloud_id.is_none() {
        c.notes
            .push("no cloud resource is recorded in its status".into());
    }
    Verdict::Change(c)
}
