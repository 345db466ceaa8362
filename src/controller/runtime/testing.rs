//! The cluster-free test tier: whole reconciles of any kind, through the same runtime the
//! operator runs, against the simulator in-process (real HTTP, real signing), Kubernetes in
//! memory ([`Memory`]) and one manual clock shared by both. Nothing sleeps: a test moves the
//! clock ([`World::advance`]) and reconciles again.
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::ResourceExt;
use serde_json::Value;

use super::cached::Cached;
use super::clock::Clock;
use super::clouds::{CloudDefaults, Clouds, CredentialSource, IesCredentialSource, IesDefaults};
use super::context::{Context, Settings};
use super::contract::Managed;
use super::events::Note;
use super::kube::{Kube, Memory};
use super::object::Object;
use super::reconcile::{reconcile, reconcile_cached, reconcile_requeue};
use super::requeue::Requeue;
use crate::cloud::ies::IesCredentials;
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::RateLimits;
use crate::cloud::Credentials;
use crate::crd::common::{find_condition, types, Condition, ConditionStatus};
use crate::sim::{self, Delays, SimConfig, SimHandle};

/// The simulator's project, keys and namespace of every [`World`].
pub const PROJECT: &str = "0c1a55f0000000000000000000000001";
pub const AK: &str = "CLUSTERFREEACCESSKEY";
pub const SK: &str = "cluster-free-secret-key";
pub const NS: &str = "team-a";

/// A simulator, Kubernetes in memory and a context wired to both.
pub struct World {
    pub sim: SimHandle,
    pub ctx: Arc<Context>,
    clock: sim::Clock,
    require_namespace_account: bool,
    http: reqwest::Client,
    /// Keep list snapshots between reconciles as the operator does (by default each reconcile
    /// lists afresh, since the simulated clock may have moved the cloud on).
    pub keep_snapshots: std::sync::atomic::AtomicBool,
}

impl World {
    /// The simulator with its default world and delays of one second for every cloud
    /// operation, on a manual clock.
    pub async fn start() -> Self {
        Self::with(|c| c).await
    }

    /// Like [`World::start`], with the simulator configuration changed by `configure`.
    pub async fn with(configure: impl FnOnce(SimConfig) -> SimConfig) -> Self {
        Self::build(configure, false).await
    }

    /// Like [`World::with`], with an operator started with `--require-namespace-account`.
    pub async fn requiring_namespace_accounts(
        configure: impl FnOnce(SimConfig) -> SimConfig,
    ) -> Self {
        Self::build(configure, true).await
    }

    async fn build(
        configure: impl FnOnce(SimConfig) -> SimConfig,
        require_namespace_account: bool,
    ) -> Self {
        let clock = sim::Clock::manual(chrono::Utc::now());
        let cfg = SimConfig::single(PROJECT, AK, SK)
            .with_delays(Delays::uniform(Duration::from_secs(1)))
            .with_clock(clock.clone());
        let sim = sim::spawn(configure(cfg))
            .await
            .expect("the simulator starts");
        let ctx = Self::context(&sim, Kube::memory(), &clock, require_namespace_account);
        Self {
            sim,
            ctx,
            clock,
            require_namespace_account,
            http: reqwest::Client::new(),
            keep_snapshots: Default::default(),
        }
    }

    /// A new operator process over the same cluster and cloud (after a `kill -9`, or on
    /// another replica becoming leader): nothing is kept but what Kubernetes and the cloud
    /// hold; its clients, list snapshots, backoff and metrics start empty.
    pub fn restart(&mut self) {
        let kube = self.ctx.kube.clone();
        self.ctx = Self::context(&self.sim, kube, &self.clock, self.require_namespace_account);
    }

    fn context(
        sim: &SimHandle,
        kube: Kube,
        clock: &sim::Clock,
        require_namespace_account: bool,
    ) -> Arc<Context> {
        let url: url::Url = sim.base_url().parse().expect("simulator URL");
        let defaults = CloudDefaults {
            region: "cn-north-4".into(),
            project_id: PROJECT.into(),
            vpn_endpoint: Some(url.clone()),
            credentials: CredentialSource::Static(Credentials::aksk(AK, SK)),
            limits: RateLimits::unlimited(),
            retry: RetryPolicy::none(),
            timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            observer: None,
        };
        let ies = IesDefaults {
            endpoint: Some(url.join("rest").expect("IES URL")),
            credentials: Some(IesCredentialSource::Static(IesCredentials::token(
                sim::ies::config::DEFAULT_AUTH_TOKEN,
            ))),
        };
        let settings = Settings {
            resync_interval: Duration::from_secs(600),
            pending_requeue: Duration::from_secs(1),
            terminal_retry: Duration::from_secs(300),
            cluster_name: "test".into(),
        };
        let shared = clock.clone();
        let ctx = Context::new(
            kube.clone(),
            Clouds::new(kube, defaults).with_ies(ies).with_accounts(
                super::account::DEFAULT_ACCOUNT_SECRET,
                require_namespace_account,
            ),
            crate::metrics::Metrics::new(),
            settings,
        )
        .with_clock(Clock::from_fn(move || {
            k8s_openapi::jiff::Timestamp::from_second(shared.now().timestamp())
                .expect("the simulated time is a valid timestamp")
        }));
        ctx.clouds.lists().begin();
        ctx
    }

    /// Kubernetes in memory.
    pub fn kube(&self) -> &Memory {
        self.ctx
            .kube
            .memory_backend()
            .expect("the world's Kubernetes is in memory")
    }

    /// Applies `obj` (in [`NS`] unless it names a namespace), as `kubectl apply` would.
    pub fn apply<K: Object>(&self, mut obj: K) -> K {
        if obj.meta().namespace.is_none() {
            obj.meta_mut().namespace = Some(NS.into());
        }
        // The API server stamps a new object with the time it was created (its clock: ours).
        if obj.meta().creation_timestamp.is_none() {
            obj.meta_mut().creation_timestamp = Some(self.ctx.clock.now());
        }
        self.kube().apply(&obj)
    }

    /// Applies an object given as JSON (`metadata.name` and `spec` are enough).
    pub fn apply_json<K: Object>(&self, v: Value) -> K {
        let mut v = v;
        v["apiVersion"] = Value::String(K::api_version(&()).into_owned());
        v["kind"] = Value::String(K::kind(&()).into_owned());
        self.apply(serde_json::from_value::<K>(v).expect("a valid object"))
    }

    /// Applies a YAML manifest of one object (e.g. one of `examples/`).
    pub fn apply_yaml<K: Object>(&self, yaml: &str) -> K {
        self.apply(serde_yaml::from_str::<K>(yaml).expect("a valid manifest"))
    }

    /// A client of the simulated cloud that is not the operator's (what it makes carries no
    /// owner tag): for resources made "in the console".
    pub fn console(&self) -> crate::cloud::VpnClient {
        let mut cfg = crate::cloud::ClientConfig::new(
            self.sim.base_url().parse().expect("simulator URL"),
            PROJECT,
            Credentials::aksk(AK, SK),
        );
        cfg.retry = RetryPolicy::none();
        crate::cloud::VpnClient::new(crate::cloud::ApiClient::new(cfg).expect("a client"))
    }

    /// The object `name` as stored now.
    pub fn get<K: Object>(&self, name: &str) -> K {
        self.try_get(name)
            .unwrap_or_else(|| panic!("{} {name} does not exist", K::KIND))
    }

    /// The object `name`, if it exists.
    pub fn try_get<K: Object>(&self, name: &str) -> Option<K> {
        self.kube().get::<K>(NS, name)
    }

    /// Deletes object `name` as `kubectl delete` would (it stays while it has finalizers).
    pub fn delete<K: Object>(&self, name: &str) {
        self.kube().delete::<K>(NS, name, &self.ctx.clock.now());
    }

    /// Stores Secret `name` in [`NS`].
    pub fn put_secret(&self, name: &str, data: &[(&str, &str)]) {
        self.kube().put_secret(NS, name, data);
        self.ctx.kube.forget_secret(NS, name);
    }

    /// Stores Secret `name` in `namespace` (the Secret watch makes the operator read it again).
    pub fn put_secret_in(&self, namespace: &str, name: &str, data: &[(&str, &str)]) {
        self.kube().put_secret(namespace, name, data);
        self.ctx.kube.forget_secret(namespace, name);
    }

    /// Deletes Secret `name` of `namespace`.
    pub fn remove_secret_in(&self, namespace: &str, name: &str) {
        self.kube().remove_secret(namespace, name);
        self.ctx.kube.forget_secret(namespace, name);
    }

    /// The object `name` of `namespace` as stored now.
    pub fn get_in<K: Object>(&self, namespace: &str, name: &str) -> K {
        self.kube()
            .get::<K>(namespace, name)
            .unwrap_or_else(|| panic!("{} {namespace}/{name} does not exist", K::KIND))
    }

    /// One reconcile of object `name` of `namespace` (see [`World::reconcile`]).
    pub async fn reconcile_in<K: Managed>(&self, namespace: &str, name: &str) -> Action {
        self.fresh_lists();
        let obj = Arc::new(self.get_in::<K>(namespace, name));
        reconcile(obj, self.ctx.clone())
            .await
            .expect("reconcile reports its own failures")
    }

    /// The resources of `kind` (e.g. `customer_gateways`) in simulated project `project`.
    pub async fn cloud_of(&self, project: &str, kind: &str) -> Vec<Value> {
        let p = self
            .admin("GET", &format!("/projects/{project}"), Value::Null)
            .await;
        p[kind].as_array().cloned().unwrap_or_default()
    }

    /// One reconcile of object `name`, as the controller runs it. List observations are
    /// always fresh: the cloud may have moved with the clock since the last one.
    pub async fn reconcile<K: Managed>(&self, name: &str) -> Action {
        self.fresh_lists();
        let obj = Arc::new(self.get::<K>(name));
        reconcile(obj, self.ctx.clone())
            .await
            .expect("reconcile reports its own failures")
    }

    /// [`World::reconcile`], answering when the controller would look again.
    pub async fn reconcile_after<K: Managed>(&self, name: &str) -> Requeue {
        self.fresh_lists();
        let obj = Arc::new(self.get::<K>(name));
        reconcile_requeue(obj, self.ctx.clone()).await
    }

    /// One reconcile through the controllers' entry point, handed `obj` as given, not as
    /// stored: what a controller cache that has not caught up hands it.
    pub async fn reconcile_stale<K: Managed>(&self, obj: K) -> Action {
        self.fresh_lists();
        let cached = Cached::new(obj).expect("the object encodes");
        reconcile_cached(Arc::new(cached), self.ctx.clone())
            .await
            .expect("reconcile reports its own failures")
    }

    /// Runs `objects` as their controllers would for `span` of simulated time: each object is
    /// reconciled when its requeue is due (the earliest first, the clock jumping to it), and at
    /// once after a change that would wake it (generation, pause, finalizers, deletion). Objects
    /// waiting for a change that never comes (settled) are left alone. Watches on other objects
    /// are not modelled: an object waiting for another finds out by its own (slower) requeue.
    /// Returns how many reconciles ran.
    pub async fn run(&self, objects: &[Scheduled], span: Duration) -> usize {
        let start = self.clock.now();
        let end = start + chrono::Duration::from_std(span).expect("a short span");
        let mut due: Vec<Option<chrono::DateTime<chrono::Utc>>> = vec![Some(start); objects.len()];
        let mut runs = 0;
        loop {
            let Some((i, at)) = due
                .iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (i, d)))
                .min_by_key(|(_, d)| *d)
            else {
                return runs;
            };
            if at > end {
                return runs;
            }
            let now = self.clock.now();
            if at > now {
                self.advance((at - now).to_std().expect("forward"));
            }
            let before = (objects[i].trigger)(self);
            let after = (objects[i].reconcile)(self).await;
            runs += 1;
            let woken = before.is_some() && (objects[i].trigger)(self) != before;
            let now = self.clock.now();
            due[i] = match (woken, after) {
                (true, _) => Some(now),
                (false, Some(d)) => {
                    Some(now + chrono::Duration::from_std(d).expect("a short requeue"))
                }
                (false, None) => None,
            };
        }
    }

    fn fresh_lists(&self) {
        if !self
            .keep_snapshots
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.ctx.clouds.lists().expire();
        }
    }

    /// Reconciles object `name` until `done` holds for it, moving the clock by `step` between
    /// reconciles; fails after `rounds`.
    pub async fn until<K: Managed>(
        &self,
        name: &str,
        step: Duration,
        rounds: usize,
        done: impl Fn(&K) -> bool,
    ) -> K {
        for _ in 0..rounds {
            self.reconcile::<K>(name).await;
            if let Some(o) = self.try_get::<K>(name).filter(|o| done(o)) {
                return o;
            }
            self.advance(step);
        }
        panic!(
            "{} {name} did not get there in {rounds} reconciles: {:#?}",
            K::KIND,
            self.try_get::<K>(name)
                .map(|o| serde_json::to_value(o.status().cloned()).ok())
        );
    }

    /// Reconciles until the object is Ready (clock moves a second at a time).
    pub async fn ready<K: Managed>(&self, name: &str) -> K {
        self.until::<K>(name, Duration::from_secs(1), 30, |o| {
            condition(o, types::READY).is_some_and(|c| c.status == ConditionStatus::True)
        })
        .await
    }

    /// Moves the shared clock.
    pub fn advance(&self, by: Duration) {
        assert!(self.clock.advance(by), "the world's clock is manual");
    }

    /// The Events published about object `name`.
    pub fn events<K: Object>(&self, name: &str) -> Vec<Note> {
        self.kube().events_of::<K>(NS, name)
    }

    /// The reasons of those Events.
    pub fn event_reasons<K: Object>(&self, name: &str) -> Vec<String> {
        self.events::<K>(name)
            .into_iter()
            .map(|n| n.reason)
            .collect()
    }

    /// Calls the simulator's admin API (`/_sim/...`; see docs/SIMULATOR.md).
    pub async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/_sim{path}", self.sim.base_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let resp = self
            .http
            .request(method, &url)
            .json(&body)
            .send()
            .await
            .expect("the admin API answers");
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{url}: {status} {v}");
        v
    }

    /// How many calls of cloud operation `op` the simulator served.
    pub fn calls(&self, op: &str) -> u64 {
        sim::server::lock(&self.sim.state().counters).calls(op)
    }

    /// How many mutating cloud calls (creates, updates, deletes, tag changes) were made.
    pub fn writes(&self) -> u64 {
        let counters = sim::server::lock(&self.sim.state().counters);
        counters
            .operations
            .iter()
            .filter(|(op, _)| {
                ["Create", "Update", "Delete", "BatchCreate", "BatchDelete"]
                    .iter()
                    .any(|p| op.starts_with(p))
            })
            .map(|(_, c)| c.calls)
            .sum()
    }

    /// How many faults the simulator injected.
    pub fn faults_injected(&self) -> u64 {
        sim::server::lock(&self.sim.state().counters)
            .operations
            .values()
            .flat_map(|c| c.faults.values())
            .sum()
    }

    /// Every cloud call the simulator served.
    pub fn all_calls(&self) -> u64 {
        sim::server::lock(&self.sim.state().counters)
            .operations
            .values()
            .map(|c| c.calls)
            .sum()
    }

    /// Adds a fault rule (see `sim::faults`), e.g.
    /// `json!({"ops": ["CreateVgw"], "fault": {"kind": "busy"}, "trigger": {"next": 1}})`.
    pub async fn fault(&self, rule: Value) {
        self.admin("POST", "/faults", rule).await;
    }

    /// The resources of `kind` (`vpn_gateways`, `customer_gateways`, `vpn_connections`,
    /// `connection_monitors`, `jobs`) in the simulator's project, as the admin API shows them
    /// (the wire model under `vpn_gateway`, `customer_gateway`, ...).
    pub async fn cloud(&self, kind: &str) -> Vec<Value> {
        let p = self
            .admin("GET", &format!("/projects/{PROJECT}"), Value::Null)
            .await;
        p[kind].as_array().cloned().unwrap_or_default()
    }
}

/// Reconciles one object of a [`World`], answering when to look again.
type Reconcile = Box<dyn Fn(&World) -> futures::future::BoxFuture<'_, Requeue> + Send + Sync>;

/// What wakes an object of a [`World`] (the controller's trigger filter); `None` once it is gone.
type Trigger = Box<dyn Fn(&World) -> Option<String> + Send + Sync>;

/// An object for [`World::run`].
pub struct Scheduled {
    /// `Kind/name`, for messages.
    pub label: String,
    reconcile: Reconcile,
    trigger: Trigger,
}

/// Object `name` of kind `K`, for [`World::run`].
pub fn scheduled<K: Managed>(name: &str) -> Scheduled {
    let (n1, n2) = (name.to_string(), name.to_string());
    Scheduled {
        label: format!("{}/{name}", K::KIND),
        reconcile: Box::new(move |w: &World| {
            let n = n1.clone();
            Box::pin(async move {
                match w.try_get::<K>(&n) {
                    Some(_) => w.reconcile_after::<K>(&n).await,
                    None => None,
                }
            })
        }),
        // The controllers' own trigger filter.
        trigger: Box::new(move |w: &World| {
            w.try_get::<K>(&n2)
                .map(|o| format!("{:?}", super::controllers::trigger_hash(&o)))
        }),
    }
}

/// Condition `type_` of an object.
pub fn condition<K: Object>(obj: &K, type_: &str) -> Option<Condition> {
    use crate::crd::common::ManagedStatus;
    let status = obj.status()?;
    find_condition(status.conditions(), type_).cloned()
}

/// `(status, reason)` of condition `type_`, for compact assertions.
pub fn cond<K: Object>(obj: &K, type_: &str) -> (String, String) {
    condition(obj, type_).map_or((String::new(), String::new()), |c| {
        (c.status.to_string(), c.reason)
    })
}

/// The object's name and namespace, for messages.
pub fn id_of<K: Object>(obj: &K) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}
