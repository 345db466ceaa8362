//! The restart and failover phases, run with every object Ready after the rest window
//! (`load --restart --failover`):
//! - restart: `kill -9` the operator and start a new process with the same flags;
//! - failover: two replicas with leader election; `kill -9` the leader, the standby takes over.
//!
//! Each is judged on what a new leader costs: the time until it has re-observed every object
//! (its `vpn_operator_unobserved_objects` gauges all 0; the metric is set without writing
//! anything), cloud writes (0), list calls per kind per account (the simulator's counters by
//! project), per-object GETs (reported), and status writes (the kube stand-in's request log:
//! `PATCH`/`PUT` of a `/status`) and changed resourceVersions, both 0.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::cloud::is_read;
use crate::fixtures::Kind;
use crate::procs::{poll, Operator};
use crate::report::{secs, Table, Verdict};
use crate::rig::Rig;

/// Targets (issue 18): the whole fleet re-observed within this long of the new leader's start.
pub const TARGET_REOBSERVE_SECS: f64 = 60.0;
/// At most this many list calls per kind per account during a phase.
pub const TARGET_LISTS_PER_KIND_ACCOUNT: u64 = 2;
/// How long a phase keeps counting after every object was re-observed: writes a new leader
/// makes just after its first pass still count.
const SETTLE: Duration = Duration::from_secs(5);
/// The Lease the failover replicas share (in the run's namespace).
const LEASE: &str = "vpn-load-leader";

/// Which phases to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub restart: bool,
    pub failover: bool,
}

impl Phases {
    pub fn any(&self) -> bool {
        self.restart || self.failover
    }
}

/// What the cluster and the cloud looked like when a phase began.
struct Baseline {
    counters: Value,
    log_offset: u64,
    versions: HashMap<String, String>,
}

/// What one phase cost.
struct Cost {
    name: &'static str,
    /// From the new process's start (restart) or the new leader's Lease acquisition
    /// (failover) until every object was re-observed; `None`: not within the timeout.
    reobserved: Option<Duration>,
    /// Context for the figure (e.g. how long the standby waited for the Lease).
    note: String,
    writes: BTreeMap<String, u64>,
    /// (project, list operation) -> calls.
    lists: BTreeMap<(String, String), u64>,
    gets: BTreeMap<String, u64>,
    /// `None` without an access log (a given cluster).
    api: Option<ApiWrites>,
    versions_changed: Vec<String>,
}

/// Writes to the Kubernetes API during a phase, from the stand-in's request log.
#[derive(Default)]
struct ApiWrites {
    status: u64,
    objects: u64,
    events: u64,
    leases: u64,
    status_examples: Vec<String>,
}

/// Runs the requested phases; their verdicts join the run's targets.
pub fn run(
    rig: &Rig,
    phases: Phases,
    timeout: Duration,
    enforced: bool,
) -> Result<Vec<Verdict>, String> {
    let mut costs = Vec::new();
    if phases.restart {
        costs.push(restart(rig, timeout)?);
    }
    if phases.failover {
        costs.push(failover(rig, timeout)?);
    }
    let verdicts: Vec<Verdict> = costs
        .iter()
        .flat_map(|c| verdicts(c, rig.accounts().len(), enforced))
        .collect();
    print_costs(&costs);
    Ok(verdicts)
}

fn restart(rig: &Rig, timeout: Duration) -> Result<Cost, String> {
    println!("restart phase: kill -9 the operator, start a new one ...");
    let base = baseline(rig)?;
    let t0 = Instant::now();
    rig.restart_operator()?;
    let ready = t0.elapsed();
    let reobserved = wait_reobserved(&rig.metrics_url(), timeout - ready).map(|_| t0.elapsed());
    std::thread::sleep(SETTLE);
    cost(
        rig,
        "restart",
        &base,
        reobserved,
        format!("ready (/readyz) after {}", secs(ready)),
    )
}

fn failover(rig: &Rig, timeout: Duration) -> Result<Cost, String> {
    println!("failover phase: two replicas with leader election, kill -9 the leader ...");
    let ns = rig.kube.namespace.clone();
    let mut spec = rig.operator_spec();
    spec.extra.extend(
        [
            "--leader-election=true",
            "--lease-namespace",
            &ns,
            "--lease-name",
            LEASE,
        ]
        .map(String::from),
    );
    rig.kill_operator();
    let mut leader = Operator::start(spec.clone())?;
    let first = poll(timeout, Duration::from_millis(200), || lease(rig))
        .ok_or("the first replica did not take the Lease")?;
    wait_reobserved(&leader.metrics_url, timeout)
        .ok_or("the first replica did not observe every object")?;
    let standby = Operator::start(spec)?;
    if metric(&standby.metrics_url, "vpn_operator_leader").unwrap_or(0.0) != 0.0 {
        return Err("the second replica leads while the first holds the Lease".into());
    }
    let base = baseline(rig)?;
    let killed = SystemTime::now();
    leader.kill9();
    drop(leader);
    let (holder, acquired) = poll(timeout, Duration::from_millis(100), || {
        lease(rig).filter(|(h, _)| *h != first.0)
    })
    .ok_or("the standby did not take the Lease")?;
    let reobserved = wait_reobserved(&standby.metrics_url, timeout).map(|_| {
        SystemTime::now()
            .duration_since(acquired)
            .unwrap_or_default()
    });
    rig.replace_operator(standby);
    std::thread::sleep(SETTLE);
    cost(
        rig,
        "failover",
        &base,
        reobserved,
        format!(
            "{holder} took the Lease {} after the kill (lease duration)",
            secs(acquired.duration_since(killed).unwrap_or_default())
        ),
    )
}

fn baseline(rig: &Rig) -> Result<Baseline, String> {
    Ok(Baseline {
        counters: rig.sim.admin("/counters")?,
        log_offset: rig
            .kube_access_log()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len()),
        versions: versions(rig)?,
    })
}

fn versions(rig: &Rig) -> Result<HashMap<String, String>, String> {
    Ok(rig
        .kube
        .list(&Kind::ALL)?
        .iter()
        .filter_map(|o| {
            let m = &o["metadata"];
            Some((
                format!("{} {}", o["kind"].as_str()?, m["name"].as_str()?),
                m["resourceVersion"].as_str()?.to_string(),
            ))
        })
        .collect())
}

fn cost(
    rig: &Rig,
    name: &'static str,
    base: &Baseline,
    reobserved: Option<Duration>,
    note: String,
) -> Result<Cost, String> {
    let now = rig.sim.admin("/counters")?;
    let ops = op_delta(&now, &base.counters);
    let projects: Vec<String> = rig.accounts().into_iter().map(|(_, p)| p).collect();
    let mut lists = BTreeMap::new();
    for p in &projects {
        for (op, n) in project_delta(&now, &base.counters, p) {
            if op.starts_with("List") {
                lists.insert((p.clone(), op), n);
            }
        }
    }
    let after = versions(rig)?;
    let mut versions_changed: Vec<String> = after
        .iter()
        .filter(|(k, rv)| base.versions.get(*k).is_some_and(|old| old != *rv))
        .map(|(k, _)| k.clone())
        .collect();
    versions_changed.sort();
    let api = rig
        .kube_access_log()
        .map(|p| api_writes(&p, base.log_offset))
        .transpose()?;
    Ok(Cost {
        name,
        reobserved,
        note,
        writes: ops
            .iter()
            .filter(|(op, _)| !is_read(op) && !op.starts_with("Keystone"))
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        lists,
        gets: ops
            .iter()
            .filter(|(op, _)| op.starts_with("Show"))
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        api,
        versions_changed,
    })
}

/// Calls per operation since `base` (the totals of `/_sim/counters`).
fn op_delta(now: &Value, base: &Value) -> BTreeMap<String, u64> {
    delta(&now["operations"], &base["operations"], |c| {
        c["calls"].as_u64()
    })
}

/// Calls per operation of one project since `base` (`by_project` of `/_sim/counters`).
fn project_delta(now: &Value, base: &Value, project: &str) -> BTreeMap<String, u64> {
    delta(
        &now["by_project"][project],
        &base["by_project"][project],
        Value::as_u64,
    )
}

fn delta(now: &Value, base: &Value, calls: fn(&Value) -> Option<u64>) -> BTreeMap<String, u64> {
    now.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(op, c)| {
            let d = calls(c)?.saturating_sub(base.get(op).and_then(calls).unwrap_or(0));
            (d > 0).then(|| (op.clone(), d))
        })
        .collect()
}

/// Write requests in the stand-in's request log after byte `offset`.
fn api_writes(log: &Path, offset: u64) -> Result<ApiWrites, String> {
    let text = std::fs::read(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    let mut w = ApiWrites::default();
    for line in String::from_utf8_lossy(&text[start..]).lines() {
        // The stand-in writes `method.PATCH /path?query ct=...`.
        let Some((method, rest)) = line.split_once(' ') else {
            continue;
        };
        let method = method.strip_prefix("method.").unwrap_or(method);
        if !matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") {
            continue;
        }
        let path = rest.split(['?', ' ']).next().unwrap_or_default();
        if path.contains("/events") {
            w.events += 1;
        } else if path.contains("/leases") {
            w.leases += 1;
        } else if path.ends_with("/status") {
            w.status += 1;
            if w.status_examples.len() < 3 {
                w.status_examples.push(format!("{method} {path}"));
            }
        } else {
            w.objects += 1;
        }
    }
    Ok(w)
}

/// The holder of the failover Lease and when it acquired it.
fn lease(rig: &Rig) -> Option<(String, SystemTime)> {
    // The Lease lives in the first namespace; with many namespaces `run` names none.
    let ns = rig.kube.namespace.as_str();
    let out = rig
        .kube
        .run(&["get", "lease", LEASE, "-n", ns, "-o", "json"])
        .ok()?;
    let v: Value = serde_json::from_str(&out).ok()?;
    let holder = v["spec"]["holderIdentity"].as_str()?.to_string();
    let at = v["spec"]["acquireTime"]
        .as_str()
        .and_then(crate::cloud::parse_time)?;
    Some((holder, at))
}

/// Waits until the operator at `url` reports every object of every load kind re-observed
/// (`vpn_operator_unobserved_objects` present and 0 for each). `None` after `timeout`.
fn wait_reobserved(url: &str, timeout: Duration) -> Option<()> {
    poll(timeout, Duration::from_millis(200), || {
        let page = crate::http::request("GET", &format!("{url}/metrics"), None).ok()?;
        let series = unobserved(&page.body);
        let all_kinds = Kind::ALL.iter().all(|k| series.contains_key(k.crd_kind()));
        (all_kinds && series.values().all(|v| *v == 0.0)).then_some(())
    })
}

/// `vpn_operator_unobserved_objects` by kind, from a metrics page.
fn unobserved(page: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter_map(|l| l.strip_prefix("vpn_operator_unobserved_objects{kind=\""))
        .filter_map(|l| {
            let (kind, rest) = l.split_once('"')?;
            let v = rest.rsplit(' ').next()?.parse().ok()?;
            Some((kind.to_string(), v))
        })
        .collect()
}

/// One unlabelled metric's value.
fn metric(url: &str, name: &str) -> Option<f64> {
    let page = crate::http::request("GET", &format!("{url}/metrics"), None).ok()?;
    page.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn verdicts(c: &Cost, accounts: usize, enforced: bool) -> Vec<Verdict> {
    let max_list = c.lists.values().copied().max().unwrap_or(0);
    let lists_by_op = c.lists.iter().fold(BTreeMap::new(), |mut m, ((_, op), n)| {
        *m.entry(op.as_str()).or_insert(0) += n;
        m
    });
    let gets: u64 = c.gets.values().sum();
    let writes: u64 = c.writes.values().sum();
    let from = if c.name == "failover" {
        "the new leader's Lease acquisition"
    } else {
        "the new process's start"
    };
    let mut v = vec![
        Verdict {
            name: format!("{}: every object re-observed, from {from}", c.name),
            measured: c.reobserved.map_or("not within the timeout".into(), secs),
            target: format!("<= {TARGET_REOBSERVE_SECS} s"),
            met: Some(
                c.reobserved
                    .is_some_and(|d| d.as_secs_f64() <= TARGET_REOBSERVE_SECS),
            ),
            enforced,
        },
        Verdict {
            name: format!("{}: cloud writes", c.name),
            measured: format!("{writes} {}", join(&c.writes)),
            target: "0".into(),
            met: Some(writes == 0),
            enforced,
        },
        Verdict {
            name: format!(
                "{}: list calls per kind per account ({accounts} accounts)",
                c.name
            ),
            measured: format!(
                "max {max_list} (all accounts: {}); per-object GETs: {gets} {}",
                lists_by_op
                    .iter()
                    .map(|(op, n)| format!("{op} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                join(&c.gets)
            ),
            target: format!("<= {TARGET_LISTS_PER_KIND_ACCOUNT}"),
            met: Some(max_list <= TARGET_LISTS_PER_KIND_ACCOUNT),
            enforced,
        },
        Verdict {
            name: format!("{}: objects whose resourceVersion changed", c.name),
            measured: format!(
                "{} {}",
                c.versions_changed.len(),
                c.versions_changed
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            target: "0".into(),
            met: Some(c.versions_changed.is_empty()),
            enforced,
        },
    ];
    v.push(match &c.api {
        Some(a) => Verdict {
            name: format!("{}: status writes (API request log)", c.name),
            measured: format!("{} {}", a.status, a.status_examples.join(", ")),
            target: "0".into(),
            met: Some(a.status == 0),
            enforced,
        },
        None => Verdict {
            name: format!("{}: status writes (API request log)", c.name),
            measured: "not measured: no request log on a given cluster".into(),
            target: "0".into(),
            met: None,
            enforced,
        },
    });
    v
}

fn join(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return String::new();
    }
    format!(
        "({})",
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn print_costs(costs: &[Cost]) {
    let mut t = Table::new("Restart and failover", &["phase", "figure", "value"]);
    for c in costs {
        t.row(vec![
            c.name.into(),
            "every object re-observed after".into(),
            format!("{} ({})", c.reobserved.map_or("-".into(), secs), c.note),
        ]);
        if let Some(a) = &c.api {
            t.row(vec![
                c.name.into(),
                "Kubernetes API writes (until re-observed + 5 s)".into(),
                format!(
                    "status {}, objects {}, Events {}, Leases {}",
                    a.status, a.objects, a.events, a.leases
                ),
            ]);
        }
    }
    println!("{}", t.render());
}
