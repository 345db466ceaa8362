//! A run's environment: work directory, Kubernetes API (given or a fresh stand-in), namespace
//! with CRDs and Secrets, the simulator with a world sized for the run, and the operator.
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use vpn_operator::sim::{Delays, FaultKind, FaultRule, Trigger};

use crate::cloud::{Counters, Inventory};
use crate::fixtures::{self, Layout};
use crate::hygiene::{Findings, Needles};
use crate::kube::Kube;
use crate::procs::{Creds, Operator, OperatorSpec, Sim, Standin};

/// Settings shared by every scenario.
#[derive(Debug, Clone)]
pub struct RigConfig {
    pub scenario: String,
    /// Objects of each kind the world must have room for.
    pub world_n: usize,
    /// Cloud accounts (simulator projects), one namespace with its own account Secret each;
    /// 1: one namespace and the operator's own account, as before accounts existed.
    pub accounts: usize,
    pub kubeconfig: Option<PathBuf>,
    pub shared_dir: PathBuf,
    /// Simulator flags (delays).
    pub sim_args: Vec<String>,
    /// Probability that a cloud call fails (soak), spread over the fault kinds.
    pub fault_rate: f64,
    /// Latency added to every cloud call (faults `latency`).
    pub latency: Duration,
    pub operator_args: Vec<String>,
    pub keep: bool,
    /// Have the kube stand-in log every API request (for the restart and failover phases).
    pub kube_access_log: bool,
}

pub struct Rig {
    /// Dropped first: the operator stops before the simulator and the stand-in.
    op: RefCell<Operator>,
    pub dir: PathBuf,
    pub kube: Kube,
    pub sim: Sim,
    /// Where the objects live: one namespace per account.
    pub layout: Layout,
    /// The project of each namespace of `layout` (with one account, the operator's own).
    pub projects: Vec<String>,
    pub needles: Needles,
    pub keep: bool,
    kube_access_log: bool,
    /// Kept last: the stand-in outlives everything that talks to it.
    _standin: Option<Standin>,
}

impl Rig {
    pub fn start(cfg: &RigConfig) -> Result<Rig, String> {
        let suffix = format!("{:05}", rand::random::<u32>() % 100_000);
        let dir = std::env::temp_dir().join(format!("vpn-load-{}-{suffix}", cfg.scenario));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        println!("work directory (logs, manifests): {}", dir.display());

        let (standin, kubeconfig) = match &cfg.kubeconfig {
            Some(k) => (None, k.clone()),
            None => {
                let s = Standin::start(&cfg.shared_dir, &dir, cfg.kube_access_log)?;
                println!("started the kube stand-in (pid {})", s.pid());
                let k = s.kubeconfig.clone();
                (Some(s), k)
            }
        };
        let layout = Layout::new(&format!("load-{}-{suffix}", cfg.scenario), cfg.accounts);
        let namespace = layout.namespaces[0].clone();
        let kube = Kube::new(&kubeconfig, &dir, &layout.namespaces);
        kube.create_namespaces()?;
        kube.apply(&repo_path("crds"))?;

        let creds = Creds {
            ak: "LOADHARNESSACCESSKEY".into(),
            sk: fixtures::random_sk(),
            project: format!("{:032x}", rand::random::<u128>()),
        };
        // With several accounts, each namespace's own: a project, AK/SK and region.
        let many = layout.accounts() > 1;
        let accounts: Vec<(Creds, &str)> = (0..layout.accounts())
            .filter(|_| many)
            .map(|a| {
                let c = Creds {
                    ak: format!("LOADACCOUNT{a:05}AK"),
                    sk: fixtures::random_sk(),
                    project: format!("{:032x}", rand::random::<u128>()),
                };
                (c, fixtures::REGIONS[a % fixtures::REGIONS.len()])
            })
            .collect();
        let mut needles = vec![(
            "secret key (SK) of the operator's account".to_string(),
            creds.sk.clone(),
        )];
        needles.extend(
            accounts
                .iter()
                .enumerate()
                .map(|(a, (c, _))| (format!("secret key (SK) of account {a}"), c.sk.clone())),
        );
        let sim_port = crate::procs::free_port();
        let sim_url = format!("http://127.0.0.1:{sim_port}");
        let mut yaml = fixtures::creds_yaml(&namespace, &creds.ak, &creds.sk);
        for (a, ns) in layout.namespaces.iter().enumerate() {
            let psks: Vec<String> = (0..layout.psks_per_namespace)
                .map(|_| fixtures::random_psk())
                .collect();
            needles.extend(
                psks.iter()
                    .enumerate()
                    .map(|(i, p)| (format!("pre-shared key of {ns}/load-psk-{i}"), p.clone())),
            );
            yaml.push_str(&fixtures::psk_yaml(ns, &psks));
            if let Some((c, region)) = accounts.get(a) {
                yaml.push_str("---\n");
                yaml.push_str(&fixtures::account_yaml(
                    ns, region, &c.project, &sim_url, &c.ak, &c.sk,
                ));
            }
        }
        let secrets = dir.join("secrets.yaml");
        std::fs::write(&secrets, yaml).map_err(|e| e.to_string())?;
        let applied = kube.apply(&secrets);
        // The manifest holds the values in clear: remove it once applied.
        let _ = std::fs::remove_file(&secrets);
        applied?;

        // One world per project, each with room for its share of the objects.
        let world = dir.join("world.json");
        let w = serde_json::to_string(&fixtures::world(layout.per_account(cfg.world_n)))
            .map_err(|e| e.to_string())?;
        std::fs::write(&world, w).map_err(|e| e.to_string())?;
        let mut sim_args = vec!["--world".to_string(), world.to_string_lossy().into_owned()];
        for (c, _) in &accounts {
            sim_args.push("--project".into());
            sim_args.push(format!("{}:{}:{}", c.project, c.ak, c.sk));
        }
        sim_args.extend(cfg.sim_args.iter().cloned());
        let sim = Sim::start(&dir, sim_port, &creds, &sim_args)?;
        let rules = fault_rules(cfg.fault_rate, cfg.latency);
        if !rules.is_empty() {
            sim.admin_call("PUT", "/faults", &json!({"seed": 7, "rules": rules}))?;
        }

        let op = Operator::start(OperatorSpec {
            dir: dir.clone(),
            kubeconfig: kubeconfig.clone(),
            namespace: namespace.clone(),
            all_namespaces: many,
            endpoint: sim.url.clone(),
            project: creds.project.clone(),
            extra: cfg.operator_args.clone(),
        })?;
        Ok(Rig {
            op: RefCell::new(op),
            dir,
            kube,
            sim,
            projects: if many {
                accounts.iter().map(|(c, _)| c.project.clone()).collect()
            } else {
                vec![creds.project.clone()]
            },
            layout,
            needles: Needles::new(needles),
            keep: cfg.keep,
            kube_access_log: cfg.kube_access_log,
            _standin: standin,
        })
    }

    /// Memory of the running operator process.
    pub fn operator_rss(&self) -> Option<crate::procs::Rss> {
        self.op.borrow().rss()
    }

    /// `kill -9` the operator, start a new process and wait until it is ready.
    pub fn restart_operator(&self) -> Result<(), String> {
        self.op.borrow_mut().restart()
    }

    /// The running operator's metrics URL.
    pub fn metrics_url(&self) -> String {
        self.op.borrow().metrics_url.clone()
    }

    /// How the operator was started (to start more replicas like it).
    pub fn operator_spec(&self) -> OperatorSpec {
        self.op.borrow().spec.clone()
    }

    /// `kill -9` the operator (no new process).
    pub fn kill_operator(&self) {
        self.op.borrow_mut().kill9();
    }

    /// Makes `op` the rig's operator (the one the rest of the run talks to and stops at the
    /// end); the previous one is stopped.
    pub fn replace_operator(&self, op: Operator) {
        let _old = self.op.replace(op);
    }

    /// The cloud accounts of the run: each a namespace with its credentials and the simulator
    /// project they open. One today (the run's namespace and project).
    pub fn accounts(&self) -> Vec<(String, String)> {
        self.layout
            .namespaces
            .iter()
            .cloned()
            .zip(self.projects.iter().cloned())
            .collect()
    }

    /// The kube stand-in's request log, when the rig started the stand-in with `--access-log`.
    pub fn kube_access_log(&self) -> Option<PathBuf> {
        self._standin
            .as_ref()
            .filter(|_| self.kube_access_log)
            .map(|s| s.log.clone())
    }

    /// Operator processes started so far.
    pub fn operator_starts(&self) -> u32 {
        self.op.borrow().starts
    }

    pub fn counters(&self) -> Result<Counters, String> {
        Ok(Counters::from_json(&self.sim.admin("/counters")?))
    }

    /// Every cloud resource, of every project.
    pub fn inventory(&self) -> Result<Inventory, String> {
        Inventory::from_state(&self.sim.admin("/state")?)
    }

    /// The project of namespace `ns`, if it is one of the run's.
    pub fn project_of(&self, ns: &str) -> Option<&str> {
        let a = self.layout.namespaces.iter().position(|n| n == ns)?;
        self.projects.get(a).map(String::as_str)
    }

    pub fn delays(&self) -> Result<Delays, String> {
        serde_json::from_value(self.sim.admin("/delays")?).map_err(|e| format!("/_sim/delays: {e}"))
    }

    pub fn operator_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("operator.log")).unwrap_or_default()
    }

    /// The last `n` lines of the operator log (for failure reports).
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.operator_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Secret hygiene over the operator log, the namespace's Events and the metrics page.
    pub fn hygiene(&self, findings: &mut Findings) {
        findings.scan(&self.needles, "operator log", &self.operator_log());
        match self.kube.events_json() {
            Ok(ev) => findings.scan(&self.needles, "Kubernetes Events", &ev),
            Err(e) => findings.leaks.push(format!("could not read Events: {e}")),
        }
        if let Ok(a) = crate::http::request(
            "GET",
            &format!("{}/metrics", self.op.borrow().metrics_url),
            None,
        ) {
            findings.scan(&self.needles, "metrics", &a.body);
        }
    }

    /// Stops everything; removes the work directory unless asked to keep it or `failed`.
    pub fn finish(self, failed: bool) {
        // A stand-in of our own is stopped with the rig (deleting a namespace that holds tens
        // of thousands of Events keeps the Python stand-in busy for minutes); a given cluster
        // gets its namespace back.
        if self._standin.is_none() {
            self.kube.delete_namespaces();
        }
        let dir = self.dir.clone();
        let keep = self.keep || failed;
        drop(self);
        if keep {
            println!("kept the work directory {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// The soak's fault mix for a total failure rate `rate` (0.2 = 20% of calls): throttling
/// 25%, server errors 20%, VPN.0030 busy 20%, lost responses (connection dropped) 15%,
/// commit-then-504 15%, client timeouts 5% of the failures. Rules are tried in order, so each
/// gets the conditional probability that yields its share. Latency, if any, comes last.
pub fn fault_rules(rate: f64, latency: Duration) -> Vec<FaultRule> {
    let mut rules = Vec::new();
    if rate > 0.0 {
        let mix = [
            (
                0.25,
                FaultKind::Throttle {
                    retry_after_secs: 2,
                },
            ),
            (0.20, FaultKind::ServerError),
            (0.20, FaultKind::Busy),
            (0.15, FaultKind::DropResponse),
            (0.15, FaultKind::CommitThen504),
            // Held past the operator's 30 s per-attempt timeout, then carried out.
            (0.05, FaultKind::Timeout { ms: 31_000 }),
        ];
        let mut used = 0.0;
        for (share, fault) in mix {
            let p = rate * share;
            rules.push(FaultRule {
                ops: Vec::new(),
                project: None,
                fault,
                trigger: Trigger::Probability((p / (1.0 - used)).min(1.0)),
            });
            used += p;
        }
    }
    if !latency.is_zero() {
        rules.push(FaultRule {
            ops: Vec::new(),
            project: None,
            fault: FaultKind::Latency {
                ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            },
            trigger: Trigger::Always,
        });
    }
    rules
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Reads a JSON value's field as text (for messages).
pub fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), String::from)
}
