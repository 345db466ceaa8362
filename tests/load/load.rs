//! The load run (and, with faults, the soak): create N gateways, customer gateways and
//! connections, wait until all are Ready, rest, delete all, and report what it cost.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::cloud::{Counters, Inventory};
use crate::fixtures::{self, Kind};
use crate::hygiene::Findings;
use crate::kube::{self, Seen, Watch};
use crate::report::{self, mib, opt_secs, percentile, secs, Table, Verdict};
use crate::rig::{Rig, RigConfig};

/// The operator's default resync interval (`--resync-interval`), which the at-rest target is
/// stated for.
pub const DEFAULT_RESYNC: Duration = Duration::from_secs(600);
/// Targets.
pub const TARGET_READS_PER_OBJECT_HOUR: f64 = 1.0;
pub const TARGET_LAG_P99_SECS: f64 = 2.0;
/// Under the fault soak (20% of calls failing, hung calls among them), for gateways and for
/// connections.
pub const TARGET_SOAK_LAG_P99_SECS: f64 = 5.0;
pub const TARGET_RSS_MIB: f64 = 64.0;
pub const TARGET_RSS_OBJECTS: f64 = 10_000.0;
/// Over many accounts: steady RSS <= 96 MiB at 10,000 objects over 500 accounts. Judged by a
/// run of that size, and for smaller ones by the two-point estimate ([`rss_scaling`]).
pub const TARGET_ACCOUNTS_RSS_MIB: f64 = 96.0;
pub const TARGET_ACCOUNTS: f64 = 500.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub rig: RigConfig,
    /// Objects of each kind.
    pub n: usize,
    pub rest: Duration,
    pub batch: usize,
    pub timeout: Duration,
    /// Check performance targets (the load run) or only invariants (the soak).
    pub targets: bool,
    /// Targets printed but not failing the run: `reads`, `lag`, `rss`.
    pub report_only: Vec<String>,
    /// Judge memory from this run alone (idle baseline + slope); false when several sizes
    /// run and the slope between them is used instead (see [`rss_scaling`]).
    pub rss_single_point: bool,
    pub json_out: Option<PathBuf>,
    /// Restart and failover phases after the rest (see [`crate::restart`]); their targets
    /// fail the run unless `restart` is in `report_only`.
    pub phases: crate::restart::Phases,
    /// Stop after the rest (and the phases): judge what is known, leave the objects to the
    /// stand-in (`--no-delete`: delete-all of 10,000 objects takes it over half an hour).
    pub no_delete: bool,
}

impl LoadPlan {
    /// Whether a miss of target `key` (`reads`, `lag`, `rss`) fails the run.
    pub fn enforces(&self, key: &str) -> bool {
        !self.report_only.iter().any(|k| k == key)
    }
}

/// Operator memory at one size, for the two-point estimate.
#[derive(Debug, Clone, Copy)]
pub struct RssPoint {
    pub objects: usize,
    /// Cloud accounts the objects were spread over.
    pub accounts: usize,
    pub idle_kib: u64,
    pub steady_kib: u64,
    pub peak_kib: u64,
}

/// The result of one run.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome {
    /// Every target checked was met (or targets are not enforced).
    pub targets_ok: bool,
    pub rss: RssPoint,
}

/// Everything measured, for the tables and the JSON summary.
struct Measured {
    apply: Duration,
    all_ready: Duration,
    list_latency: Duration,
    lags: BTreeMap<Kind, Vec<f64>>,
    ltt_lags: BTreeMap<Kind, Vec<f64>>,
    create_calls: Counters,
    rest_calls: Counters,
    rest_window: Duration,
    not_ready_after_rest: usize,
    delete: Duration,
    cloud_empty_after: Option<Duration>,
    all_calls: Counters,
    rss0_kib: u64,
    rss_ready_kib: u64,
    rss_rest_kib: u64,
    hwm_kib: u64,
    watch_events: u64,
    watch_restarts: u64,
    accounts: AccountFigures,
}

/// Per-account figures of a run over several accounts.
#[derive(Default)]
struct AccountFigures {
    /// Objects per account: fewest, most.
    objects: (usize, usize),
    /// Cloud resources per project (account) when all were Ready: fewest, most.
    resources: (usize, usize),
    /// ACTIVE -> Ready p99 of gateways and connections, per account, sorted.
    lag_p99: Vec<f64>,
}

/// Runs the plan; `Err` when an invariant failed.
pub fn run(plan: &LoadPlan) -> Result<RunOutcome, String> {
    let started = Instant::now();
    let rig = Rig::start(&plan.rig)?;
    let outcome = drive(plan, &rig);
    let failed = !matches!(
        outcome,
        Ok(RunOutcome {
            targets_ok: true,
            ..
        })
    );
    if let Err(e) = &outcome {
        eprintln!(
            "FAILED: {e}\n---- operator log (last 40 lines) ----\n{}",
            rig.log_tail(40)
        );
    }
    rig.finish(failed);
    println!("{} run took {}", plan.rig.scenario, secs(started.elapsed()));
    outcome
}

fn drive(plan: &LoadPlan, rig: &Rig) -> Result<RunOutcome, String> {
    let n = plan.n;
    let objects = 3 * n;
    print_header(plan, rig)?;

    // Idle baseline of the same binary, before any object exists.
    std::thread::sleep(Duration::from_secs(2));
    let rss0 = rig
        .operator_rss()
        .ok_or("cannot read the operator's /proc status")?;
    let watch = Watch::start(&rig.kube, rig.needles.clone());
    let files = fixtures::write_batches(&rig.dir, &rig.layout, n, plan.batch, 0)
        .map_err(|e| format!("writing manifests: {e}"))?;
    rig.sim.admin_call("DELETE", "/counters", &json!({}))?;

    // Create.
    let t0 = Instant::now();
    let st0 = SystemTime::now();
    for f in &files {
        rig.kube.apply(f)?;
    }
    let apply = t0.elapsed();
    println!(
        "applied {objects} objects in {} ({:.0} objects/s)",
        secs(apply),
        objects as f64 / apply.as_secs_f64().max(0.001)
    );
    let seen = wait_all_ready(plan, rig, &watch, n, t0)?;
    let last_ready = seen
        .values()
        .filter_map(|s| s.ready_at.get(&1).or_else(|| s.ready_at.values().next()))
        .max()
        .copied()
        .unwrap_or(st0);
    let all_ready = last_ready.duration_since(st0).unwrap_or_default();
    let create_calls = rig.counters()?;
    let tl = Instant::now();
    let items = rig.kube.list(&Kind::ALL)?;
    let list_latency = tl.elapsed();
    let inv = rig.inventory()?;
    let live: HashMap<String, (Kind, String)> = items
        .iter()
        .filter_map(|o| {
            Some((
                o["metadata"]["uid"].as_str()?.to_string(),
                (
                    Kind::from_crd_kind(o["kind"].as_str()?)?,
                    o["metadata"]["name"].as_str()?.to_string(),
                ),
            ))
        })
        .collect();
    let audit = inv.audit(&live);
    // Every object's resource must be in its namespace's project (and so in no other).
    let home: HashMap<String, (Kind, String, String)> = items
        .iter()
        .filter_map(|o| {
            let ns = o["metadata"]["namespace"].as_str()?;
            Some((
                o["metadata"]["uid"].as_str()?.to_string(),
                (
                    Kind::from_crd_kind(o["kind"].as_str()?)?,
                    format!("{ns}/{}", o["metadata"]["name"].as_str()?),
                    rig.project_of(ns)?.to_string(),
                ),
            ))
        })
        .collect();
    let mut misplaced = inv.misplaced(&home);
    if home.len() != items.len() {
        misplaced.push(format!(
            "{} objects are in a namespace that is not one of the run's",
            items.len() - home.len()
        ));
    }
    let (lags, ltt_lags, by_uid) = lags(rig, &seen, &items, &inv)?;
    let accounts = account_figures(rig, &items, &inv, &by_uid);
    let rss_ready = rig.operator_rss().unwrap_or_default();
    println!(
        "all {objects} Ready after {}; resting {} ...",
        secs(all_ready),
        secs(plan.rest)
    );

    // Rest.
    let c0 = rig.counters()?;
    let tr = Instant::now();
    std::thread::sleep(plan.rest);
    let c1 = rig.counters()?;
    let rest_window = tr.elapsed();
    let rss_rest = rig.operator_rss().unwrap_or_default();
    let not_ready_after_rest = rig
        .kube
        .list(&Kind::ALL)?
        .iter()
        .filter(|o| !kube::is_ready(o))
        .count();

    // Restart and failover with every object Ready, before the delete.
    let phase_verdicts = if plan.phases.any() {
        crate::restart::run(rig, plan.phases, plan.timeout, plan.enforces("restart"))?
    } else {
        Vec::new()
    };

    // Hygiene before the objects (and their status) go away.
    let mut findings = Findings::default();
    rig.hygiene(&mut findings);

    // Figures of the create and rest phases, printed now so a failing delete keeps them.
    let mut m = Measured {
        apply,
        all_ready,
        list_latency,
        lags,
        ltt_lags,
        create_calls,
        rest_calls: c1.since(&c0),
        rest_window,
        not_ready_after_rest,
        delete: Duration::ZERO,
        cloud_empty_after: None,
        // Until now, the restart and failover phases included.
        all_calls: rig.counters()?,
        rss0_kib: rss0.rss_kib,
        rss_ready_kib: rss_ready.rss_kib,
        rss_rest_kib: rss_rest.rss_kib,
        hwm_kib: rss_rest.hwm_kib,
        watch_events: 0,
        watch_restarts: 0,
        accounts,
    };
    print_figures(plan, &m);
    print_calls(&m.create_calls, objects);
    // The checks known before delete-all, printed now too: a run stopped during a long delete
    // (10,000 objects on the Python stand-in) still shows them.
    println!(
        "before delete-all: {} duplicates, {} orphans, {} objects without a cloud resource, {} outside their namespace's project, {} objects not Ready after the rest, {} secret findings",
        audit.duplicates.len(),
        audit.orphans.len(),
        audit.missing.len(),
        misplaced.len(),
        m.not_ready_after_rest,
        findings.leaks.len()
    );

    // The targets known now: a run stopped during a long delete still shows them.
    let mut before_delete = if plan.targets {
        targets(plan, &m)
    } else {
        soak_targets(plan, &m)
    };
    before_delete.extend(phase_verdicts.iter().cloned());
    report::print_verdicts("Targets (before delete-all)", &before_delete);

    let leftovers = if plan.no_delete {
        println!("not deleting (--no-delete): the objects stay with the stand-in");
        None
    } else {
        Some(delete_all(plan, rig, &watch, &mut m)?)
    };
    // Logs, Events and metrics are searched for secrets whether or not the objects went.
    rig.hygiene(&mut findings);
    findings.add_leaks("every watched object version", watch.leaks());
    (m.watch_events, m.watch_restarts) = watch.stats();
    watch.stop();
    let mut verdicts = if plan.targets {
        targets(plan, &m)
    } else {
        soak_targets(plan, &m)
    };
    verdicts.extend(phase_verdicts);

    // Invariants.
    let mut inv_table = Table::new("Invariants", &["check", "result"]);
    let mut ok = true;
    let mut check = |name: &str, problems: &[String]| {
        ok &= problems.is_empty();
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        inv_table.row(vec![
            name.into(),
            if problems.is_empty() {
                "ok".into()
            } else {
                format!("FAILED ({}): {}", problems.len(), shown.join("; "))
            },
        ]);
    };
    check(
        "one cloud resource per object (no duplicates)",
        &audit.duplicates,
    );
    check(
        "no cloud resource without a live object (orphans)",
        &audit.orphans,
    );
    check("every object has its cloud resource", &audit.missing);
    check(
        &format!(
            "every cloud resource in its namespace's project ({} accounts)",
            plan.rig.accounts
        ),
        &misplaced,
    );
    let flaps: Vec<String> = (m.not_ready_after_rest > 0)
        .then(|| {
            format!(
                "{} objects not Ready after the rest",
                m.not_ready_after_rest
            )
        })
        .into_iter()
        .collect();
    check("still Ready after the rest", &flaps);
    match &leftovers {
        Some(leftovers) => {
            let left: Vec<String> = (!leftovers.is_empty())
                .then(|| inventory_summary(leftovers))
                .into_iter()
                .collect();
            check("nothing left in the cloud after delete-all", &left);
        }
        None => println!("not checked: nothing left in the cloud after delete-all (--no-delete)"),
    }
    check(
        &format!(
            "no secret ({} values) in logs, Events, status, metrics ({:.1} MB searched)",
            rig.needles.len(),
            findings.total_bytes() as f64 / 1e6
        ),
        &findings.leaks,
    );
    println!("{}", inv_table.render());

    let targets_ok = report::print_verdicts("Targets", &verdicts);
    let summary = summary_json(plan, &m, &verdicts, ok);
    let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
    let _ = std::fs::write(rig.dir.join("summary.json"), &text);
    if let Some(p) = &plan.json_out {
        std::fs::write(p, &text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if !ok {
        return Err("an invariant failed (see the table above)".into());
    }
    Ok(RunOutcome {
        targets_ok: targets_ok || !crate::enforce_targets(),
        rss: RssPoint {
            objects,
            accounts: plan.rig.accounts,
            idle_kib: m.rss0_kib,
            steady_kib: m.rss_rest_kib,
            peak_kib: m.hwm_kib,
        },
    })
}

/// Deletes every object, dependants first (as `kubectl delete -f` of a directory in this order
/// would), and waits until Kubernetes and the cloud are empty; returns what the cloud still
/// holds (nothing, when all went well).
fn delete_all(
    plan: &LoadPlan,
    rig: &Rig,
    watch: &Watch,
    m: &mut Measured,
) -> Result<Inventory, String> {
    println!("deleting all ...");
    let td = Instant::now();
    let std0 = SystemTime::now();
    rig.kube
        .delete_all(&[Kind::Connection, Kind::CustomerGateway, Kind::Gateway])?;
    let kubectl_delete = td.elapsed();
    let mut cloud_empty_after = None;
    let gone = crate::procs::poll(plan.timeout, poll_every(plan.n), || {
        if cloud_empty_after.is_none() && rig.inventory().is_ok_and(|i| i.is_empty()) {
            cloud_empty_after = Some(td.elapsed());
        }
        let left = rig.kube.list(&Kind::ALL).ok()?;
        (left.is_empty() && cloud_empty_after.is_some()).then_some(())
    });
    let after = watch.snapshot();
    if gone.is_none() {
        let left = rig.kube.list(&Kind::ALL).map(|l| l.len()).unwrap_or(0);
        return Err(format!(
            "delete-all did not finish within {}: {left} objects left, cloud: {}",
            secs(plan.timeout),
            inventory_summary(&rig.inventory()?)
        ));
    }
    m.delete = after
        .values()
        .filter_map(|s| s.deleted_at)
        .max()
        .and_then(|t| t.duration_since(std0).ok())
        .unwrap_or_else(|| td.elapsed());
    m.cloud_empty_after = cloud_empty_after;
    let leftovers = rig.inventory()?;
    m.hwm_kib = rig.operator_rss().unwrap_or_default().hwm_kib;
    m.all_calls = rig.counters()?;
    print_delete(plan, m, kubectl_delete);
    Ok(leftovers)
}

/// Memory against the target from two or more sizes: the slope between the two largest runs
/// (fixed warm-up costs cancel out), extrapolated from the largest to the target's size.
pub fn rss_scaling(points: &[RssPoint], enforced: bool) -> (Verdict, f64) {
    let mut p = points.to_vec();
    p.sort_by_key(|x| x.objects);
    let (a, b) = (p[p.len() - 2], p[p.len() - 1]);
    let slope = (b.steady_kib as f64 - a.steady_kib as f64) / (b.objects - a.objects).max(1) as f64;
    let at_target = b.steady_kib as f64 + slope.max(0.0) * (TARGET_RSS_OBJECTS - b.objects as f64);
    // Over many accounts, the largest run's objects per account is kept along the line: run
    // at the target's density (20 objects per account), the estimate is for 10,000 objects
    // over 500 accounts, and the slope carries the per-account state as well.
    let (target_mib, over) = if b.accounts > 1 {
        let per_account = b.objects as f64 / b.accounts as f64;
        (
            TARGET_ACCOUNTS_RSS_MIB,
            format!(
                " over {:.0} accounts ({per_account:.0} objects per account as in the largest run)",
                TARGET_RSS_OBJECTS / per_account
            ),
        )
    } else {
        (TARGET_RSS_MIB, String::new())
    };
    let mut t = Table::new(
        "Operator memory by size",
        &[
            "objects",
            "accounts",
            "idle RSS",
            "steady RSS",
            "peak RSS (VmHWM)",
        ],
    );
    for x in &p {
        t.row(vec![
            x.objects.to_string(),
            x.accounts.to_string(),
            mib(x.idle_kib),
            mib(x.steady_kib),
            mib(x.peak_kib),
        ]);
    }
    println!("{}", t.render());
    let verdict = Verdict {
        name: format!(
            "steady RSS at {TARGET_RSS_OBJECTS:.0} objects{over}, two-point estimate ({} build)",
            report::build_profile()
        ),
        measured: format!(
            "{} ({} at {} objects + {slope:.2} KiB/object measured between {} and {} objects)",
            mib(at_target as u64),
            mib(b.steady_kib),
            b.objects,
            a.objects,
            b.objects
        ),
        target: format!("< {target_mib} MiB"),
        met: Some(at_target < target_mib * 1024.0),
        enforced,
    };
    (verdict, slope)
}

fn poll_every(n: usize) -> Duration {
    if n <= 200 {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(2)
    }
}

/// Waits until the watch has seen all 3n objects Ready at their generation, then confirms
/// with one list call. Prints progress every 30 s.
fn wait_all_ready(
    plan: &LoadPlan,
    rig: &Rig,
    watch: &Watch,
    n: usize,
    t0: Instant,
) -> Result<HashMap<String, Seen>, String> {
    let mut last_progress = Instant::now();
    loop {
        let seen = watch.snapshot();
        let ready = |k: Kind| {
            seen.values()
                .filter(|s| s.kind == k && s.ready_now && s.deleted_at.is_none())
                .count()
        };
        let counts: Vec<usize> = Kind::ALL.iter().map(|k| ready(*k)).collect();
        if counts.iter().all(|c| *c >= n) {
            let items = rig.kube.list(&Kind::ALL)?;
            if items.len() == 3 * n && items.iter().all(kube::is_ready) {
                return Ok(seen);
            }
        }
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for s in seen.values().filter(|s| !s.ready_now) {
            let r = if s.reason.is_empty() {
                "no Ready condition"
            } else {
                s.reason.as_str()
            };
            *reasons
                .entry(format!("{} {r}", s.kind.crd_kind()))
                .or_default() += 1;
        }
        if last_progress.elapsed() >= Duration::from_secs(30) {
            last_progress = Instant::now();
            let calls = rig
                .counters()
                .map(|c| (c.total(), c.status("429")))
                .unwrap_or_default();
            println!(
                "  t={:>5.0}s Ready: gateways {}/{n}, customer gateways {}/{n}, connections {}/{n}; cloud calls {} (429: {}); operator RSS {}; waiting: {reasons:?}",
                t0.elapsed().as_secs_f64(),
                counts[0],
                counts[1],
                counts[2],
                calls.0,
                calls.1,
                rig.operator_rss().map_or("?".into(), |r| mib(r.rss_kib))
            );
        }
        if t0.elapsed() > plan.timeout {
            return Err(format!(
                "not all Ready within {}: ready {counts:?} of {n} each; not ready by reason: {reasons:?}",
                secs(plan.timeout)
            ));
        }
        std::thread::sleep(poll_every(n));
    }
}

type Lags = BTreeMap<Kind, Vec<f64>>;

/// Per object: seconds from the cloud resource becoming ACTIVE (creation time + the
/// simulator's create delay; customer gateways are synchronous) to Ready. From the watch
/// (arrival time, ms) and from the Ready condition's lastTransitionTime (1 s resolution,
/// truncated: reported as an upper bound, +1 s).
fn lags(
    rig: &Rig,
    seen: &HashMap<String, Seen>,
    items: &[Value],
    inv: &Inventory,
) -> Result<(Lags, Lags, HashMap<String, f64>), String> {
    let delays = rig.delays()?;
    let by_owner = inv.by_owner();
    let mut watch_lags = Lags::new();
    let mut ltt_lags = Lags::new();
    let mut per_object: Vec<(f64, Kind, String, String)> = Vec::new();
    let mut by_uid = HashMap::new();
    // One line per object (ACTIVE and Ready as Unix seconds), so that a slow tail can be
    // joined with the operator's debug log of a kept work directory.
    let mut timings = String::from("kind\tobject\tcloud_id\tactive\tready_seen\tlag_s\n");
    let unix = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    for o in items {
        let (Some(uid), Some(kind)) = (
            o["metadata"]["uid"].as_str(),
            o["kind"].as_str().and_then(Kind::from_crd_kind),
        ) else {
            continue;
        };
        let Some(created) = by_owner
            .get(uid)
            .and_then(|rs| rs.first())
            .and_then(|r| r.created)
        else {
            continue;
        };
        let active = created
            + match kind {
                Kind::Gateway => delays.gateway_create,
                Kind::Connection => delays.connection_create,
                Kind::CustomerGateway => Duration::ZERO,
            };
        let diff = |t: SystemTime| match t.duration_since(active) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        if let Some(t) = seen.get(uid).and_then(|s| s.ready_at.get(&1)) {
            watch_lags.entry(kind).or_default().push(diff(*t));
            let name = format!(
                "{}/{}",
                o["metadata"]["namespace"].as_str().unwrap_or_default(),
                o["metadata"]["name"].as_str().unwrap_or_default()
            );
            let id = by_owner[uid][0].id.clone();
            timings.push_str(&format!(
                "{}\t{name}\t{id}\t{:.3}\t{:.3}\t{:.3}\n",
                kind.label(),
                unix(active),
                unix(*t),
                diff(*t)
            ));
            per_object.push((diff(*t), kind, name, id));
            if kind != Kind::CustomerGateway {
                by_uid.insert(uid.to_string(), diff(*t));
            }
        }
        if let Some(t) = kube::ready_condition(o)
            .and_then(|c| c["lastTransitionTime"].as_str())
            .and_then(crate::cloud::parse_time)
        {
            ltt_lags
                .entry(kind)
                .or_default()
                .push(diff(t + Duration::from_secs(1)));
        }
    }
    print_slowest(&mut per_object);
    let path = rig.dir.join("timings.tsv");
    std::fs::write(&path, timings).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok((watch_lags, ltt_lags, by_uid))
}

/// Objects, resources and provisioning lag per account (namespace).
fn account_figures(
    rig: &Rig,
    items: &[Value],
    inv: &Inventory,
    lag_by_uid: &HashMap<String, f64>,
) -> AccountFigures {
    let k = rig.layout.accounts();
    let mut objects = vec![0usize; k];
    let mut lags = vec![Vec::new(); k];
    for o in items {
        let Some(a) = o["metadata"]["namespace"]
            .as_str()
            .and_then(|ns| rig.layout.namespaces.iter().position(|n| n == ns))
        else {
            continue;
        };
        objects[a] += 1;
        if let Some(l) = o["metadata"]["uid"]
            .as_str()
            .and_then(|u| lag_by_uid.get(u))
        {
            lags[a].push(*l);
        }
    }
    let per_project = inv.per_project();
    let resources: Vec<usize> = rig
        .projects
        .iter()
        .map(|p| per_project.get(p.as_str()).copied().unwrap_or(0))
        .collect();
    let span = |v: &[usize]| {
        (
            v.iter().copied().min().unwrap_or(0),
            v.iter().copied().max().unwrap_or(0),
        )
    };
    let mut lag_p99: Vec<f64> = lags.iter().filter_map(|l| percentile(l, 99.0)).collect();
    lag_p99.sort_by(f64::total_cmp);
    AccountFigures {
        objects: span(&objects),
        resources: span(&resources),
        lag_p99,
    }
}

/// Prints the slowest objects of each kind (ACTIVE -> Ready from the watch), so that a p99
/// can be traced to objects in the operator log (kept with `--keep`).
fn print_slowest(per_object: &mut [(f64, Kind, String, String)]) {
    const SHOWN: usize = 5;
    per_object.sort_by(|a, b| b.0.total_cmp(&a.0));
    for kind in Kind::ALL {
        let slowest: Vec<String> = per_object
            .iter()
            .filter(|(_, k, _, _)| *k == kind)
            .take(SHOWN)
            .map(|(lag, _, name, id)| format!("{name} ({id}) {lag:.2}s"))
            .collect();
        if !slowest.is_empty() {
            println!(
                "slowest ACTIVE -> Ready, {}: {}",
                kind.label(),
                slowest.join(", ")
            );
        }
    }
}

fn flag_value(args: &[String], flag: &str) -> Option<String> {
    let mut it = args.iter();
    let mut found = None;
    while let Some(a) = it.next() {
        if a == flag {
            found = it.next().cloned();
        } else if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
            found = Some(v.to_string());
        }
    }
    found
}

/// The operator's resync interval and read rate limit in this run.
fn resync_and_read_rate(plan: &LoadPlan) -> (Duration, f64) {
    let args = &plan.rig.operator_args;
    let resync = flag_value(args, "--resync-interval")
        .and_then(|v| vpn_operator::config::parse_duration(&v).ok())
        .unwrap_or(DEFAULT_RESYNC);
    let rate = flag_value(args, "--cloud-read-rate")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    (resync, rate)
}

fn provisioning_lags(lags: &Lags) -> Vec<f64> {
    [Kind::Gateway, Kind::Connection]
        .iter()
        .flat_map(|k| lags.get(k).cloned().unwrap_or_default())
        .collect()
}

/// Reads per object per hour at rest: as measured, and scaled to the default resync interval.
fn rest_reads(plan: &LoadPlan, m: &Measured) -> (f64, f64) {
    let (resync, _) = resync_and_read_rate(plan);
    let objects = (3 * plan.n) as f64;
    let measured =
        m.rest_calls.reads() as f64 / objects / m.rest_window.as_secs_f64().max(1.0) * 3600.0;
    (
        measured,
        measured * resync.as_secs_f64() / DEFAULT_RESYNC.as_secs_f64(),
    )
}

fn targets(plan: &LoadPlan, m: &Measured) -> Vec<Verdict> {
    let (resync, read_rate) = resync_and_read_rate(plan);
    let (measured, scaled) = rest_reads(plan, m);
    let rest_reads_per_sec = m.rest_calls.reads() as f64 / m.rest_window.as_secs_f64().max(1.0);
    let reads = if m.rest_window < resync {
        Verdict {
            name: "cloud reads per object per hour at rest (default settings)".into(),
            measured: format!(
                "{measured:.2} in a {} window, shorter than the resync interval {}: a lower bound",
                secs(m.rest_window),
                secs(resync)
            ),
            target: format!("<= {TARGET_READS_PER_OBJECT_HOUR}"),
            met: None,
            enforced: plan.enforces("reads"),
        }
    } else {
        let mut text = if resync == DEFAULT_RESYNC {
            format!("{measured:.2}")
        } else {
            format!(
                "{scaled:.2} ({measured:.2} measured at --resync-interval {}, scaled to the default {})",
                secs(resync),
                secs(DEFAULT_RESYNC)
            )
        };
        if rest_reads_per_sec >= 0.9 * read_rate {
            text.push_str(&format!(
                "; WARNING: {rest_reads_per_sec:.1} reads/s at rest is at the client limit {read_rate}/s, so demand is higher"
            ));
        }
        Verdict {
            name: "cloud reads per object per hour at rest (default settings)".into(),
            measured: text,
            target: format!("<= {TARGET_READS_PER_OBJECT_HOUR}"),
            met: Some(scaled <= TARGET_READS_PER_OBJECT_HOUR),
            enforced: plan.enforces("reads"),
        }
    };
    let prov = provisioning_lags(&m.lags);
    let p99 = percentile(&prov, 99.0);
    let lag = Verdict {
        name: "cloud ACTIVE to Ready, p99, gateways and connections (watch, ms resolution)".into(),
        measured: opt_secs(p99),
        target: format!("<= {TARGET_LAG_P99_SECS} s"),
        met: p99.map(|v| v <= TARGET_LAG_P99_SECS),
        enforced: plan.enforces("lag"),
    };
    let throttled = m.all_calls.status("429");
    let rate_flags: Vec<&String> = plan
        .rig
        .operator_args
        .iter()
        .filter(|a| a.starts_with("--cloud-") && a.contains("-rate"))
        .collect();
    let no429 = Verdict {
        name: format!(
            "429 answers, whole run ({})",
            if rate_flags.is_empty() {
                "default client rates".to_string()
            } else {
                format!("client rates raised: {rate_flags:?}")
            }
        ),
        measured: throttled.to_string(),
        target: "0".into(),
        met: Some(throttled == 0),
        enforced: plan.enforces("429"),
    };
    if plan.rig.accounts > 1 {
        let objects = 3 * plan.n;
        // Judged here at the full size; a smaller run is judged by the `memory` step's
        // two-point estimate (small and large summaries), which has the slope.
        let full =
            objects as f64 >= TARGET_RSS_OBJECTS && plan.rig.accounts as f64 >= TARGET_ACCOUNTS;
        let rss = Verdict {
            name: format!(
                "steady RSS over {} accounts ({} build)",
                plan.rig.accounts,
                report::build_profile()
            ),
            measured: format!(
                "{} at {objects} objects (idle {}){}",
                mib(m.rss_rest_kib),
                mib(m.rss0_kib),
                if full { "" } else { "; judged at full size or by the two-point estimate (`memory`)" }
            ),
            target: format!(
                "<= {TARGET_ACCOUNTS_RSS_MIB} MiB at {TARGET_RSS_OBJECTS:.0} objects over {TARGET_ACCOUNTS:.0} accounts"
            ),
            met: full.then_some(m.rss_rest_kib as f64 <= TARGET_ACCOUNTS_RSS_MIB * 1024.0),
            enforced: plan.enforces("rss"),
        };
        return vec![reads, lag, no429, rss];
    }
    let objects = (3 * plan.n) as f64;
    let per_object = (m.rss_rest_kib.saturating_sub(m.rss0_kib)) as f64 / objects;
    let extrapolated = m.rss0_kib as f64 + per_object * TARGET_RSS_OBJECTS;
    let bound_here = m.rss0_kib as f64
        + (TARGET_RSS_MIB * 1024.0 - m.rss0_kib as f64).max(0.0) * objects / TARGET_RSS_OBJECTS;
    let rss = Verdict {
        name: format!(
            "steady RSS extrapolated to {TARGET_RSS_OBJECTS:.0} objects, single point ({} build)",
            report::build_profile()
        ),
        measured: format!(
            "{} (idle {} + {:.1} KiB/object x {TARGET_RSS_OBJECTS:.0}); at {} objects: {} (scaled bound {})",
            mib(extrapolated as u64),
            mib(m.rss0_kib),
            per_object,
            3 * plan.n,
            mib(m.rss_rest_kib),
            mib(bound_here as u64)
        ),
        target: format!("< {TARGET_RSS_MIB} MiB"),
        // From one size the slope includes fixed warm-up costs: judged only when it is all we have.
        met: plan
            .rss_single_point
            .then_some(extrapolated < TARGET_RSS_MIB * 1024.0),
        enforced: plan.enforces("rss"),
    };
    vec![reads, lag, no429, rss]
}

/// The soak's one target: ACTIVE -> Ready p99 of gateways and of connections, each. A hung
/// cloud call (the `timeout` fault) must hold up nothing but its own object.
fn soak_targets(plan: &LoadPlan, m: &Measured) -> Vec<Verdict> {
    [Kind::Gateway, Kind::Connection]
        .iter()
        .map(|k| {
            let p99 = percentile(m.lags.get(k).map_or(&[][..], |v| &v[..]), 99.0);
            Verdict {
                name: format!(
                    "cloud ACTIVE to Ready under faults, p99, {}s (watch, ms resolution)",
                    k.label()
                ),
                measured: opt_secs(p99),
                target: format!("<= {TARGET_SOAK_LAG_P99_SECS} s"),
                met: p99.map(|v| v <= TARGET_SOAK_LAG_P99_SECS),
                enforced: plan.enforces("lag"),
            }
        })
        .collect()
}

fn print_header(plan: &LoadPlan, rig: &Rig) -> Result<(), String> {
    let d = rig.delays()?;
    println!(
        "\n== {} N={} ({} objects) over {} account(s) ==\nmachine: {}\noperator: {} build; flags {:?} (plus --leader-election=false)\nsimulator: gateway create {:?}, connection create {:?}, gateway delete {:?}, connection delete {:?}; fault rate {:.0}%; added latency {:?}\nrest window {}; apply batches of {}",
        plan.rig.scenario,
        plan.n,
        3 * plan.n,
        plan.rig.accounts,
        report::machine(),
        report::build_profile(),
        plan.rig.operator_args,
        d.gateway_create,
        d.connection_create,
        d.gateway_delete,
        d.connection_delete,
        plan.rig.fault_rate * 100.0,
        plan.rig.latency,
        secs(plan.rest),
        plan.batch
    );
    Ok(())
}

fn print_figures(plan: &LoadPlan, m: &Measured) {
    let objects = 3 * plan.n;
    let mut t = Table::new(
        &format!("{} N={} ({objects} objects)", plan.rig.scenario, plan.n),
        &["figure", "value"],
    );
    t.row(vec![
        "kubectl apply (batches)".into(),
        format!(
            "{} ({:.0} objects/s into the API)",
            secs(m.apply),
            objects as f64 / m.apply.as_secs_f64().max(0.001)
        ),
    ]);
    t.row(vec![
        "time to all Ready (from the first apply)".into(),
        secs(m.all_ready),
    ]);
    for kind in Kind::ALL {
        let w = m.lags.get(&kind).cloned().unwrap_or_default();
        let l = m.ltt_lags.get(&kind).cloned().unwrap_or_default();
        t.row(vec![
            format!("ACTIVE -> Ready lag, {} p50 / p99 / max", kind.label()),
            format!(
                "{} / {} / {} (watch); lastTransitionTime bound p99 {}",
                opt_secs(percentile(&w, 50.0)),
                opt_secs(percentile(&w, 99.0)),
                opt_secs(percentile(&w, 100.0)),
                opt_secs(percentile(&l, 99.0)),
            ),
        ]);
    }
    let c = &m.create_calls;
    t.row(vec![
        "cloud calls to converge (per object)".into(),
        format!(
            "{} ({:.2}): {} reads, {} writes",
            c.total(),
            c.total() as f64 / objects as f64,
            c.reads(),
            c.writes()
        ),
    ]);
    let (measured, scaled) = rest_reads(plan, m);
    let (resync, _) = resync_and_read_rate(plan);
    t.row(vec![
        format!("cloud reads at rest ({} window)", secs(m.rest_window)),
        format!(
            "{} reads, {} writes = {measured:.2} reads/object/hour at --resync-interval {} ({scaled:.2} at the default {})",
            m.rest_calls.reads(),
            m.rest_calls.writes(),
            secs(resync),
            secs(DEFAULT_RESYNC)
        ),
    ]);
    t.row(vec![
        format!("operator RSS ({} build)", report::build_profile()),
        format!(
            "idle {}, at all Ready {}, steady (end of rest) {}, peak so far (VmHWM) {}",
            mib(m.rss0_kib),
            mib(m.rss_ready_kib),
            mib(m.rss_rest_kib),
            mib(m.hwm_kib)
        ),
    ]);
    t.row(vec![
        "429 answers received (until the end of the rest)".into(),
        m.all_calls.status("429").to_string(),
    ]);
    if plan.rig.accounts > 1 {
        let a = &m.accounts;
        t.row(vec![
            "accounts (namespaces, each with its own account Secret and project)".into(),
            format!(
                "{}: {}-{} objects and {}-{} cloud resources per account; ACTIVE -> Ready p99 per account (gateways, connections): median {}, worst {}",
                plan.rig.accounts,
                a.objects.0,
                a.objects.1,
                a.resources.0,
                a.resources.1,
                opt_secs(percentile(&a.lag_p99, 50.0)),
                opt_secs(a.lag_p99.last().copied()),
            ),
        ]);
        t.row(vec![
            "cloud calls per account: to converge / at rest".into(),
            format!(
                "{:.1} / {:.1}",
                m.create_calls.total() as f64 / plan.rig.accounts as f64,
                m.rest_calls.total() as f64 / plan.rig.accounts as f64
            ),
        ]);
    }
    t.row(vec![
        "kube API: one list of all objects".into(),
        format!("{} for {objects} objects", secs(m.list_latency)),
    ]);
    println!("{}", t.render());
}

fn print_delete(plan: &LoadPlan, m: &Measured, kubectl_delete: Duration) {
    let mut t = Table::new(
        &format!("{} N={}: delete all, whole run", plan.rig.scenario, plan.n),
        &["figure", "value"],
    );
    t.row(vec![
        "time to delete all: objects gone / cloud empty".into(),
        format!(
            "{} / {} (kubectl delete itself took {})",
            secs(m.delete),
            m.cloud_empty_after.map_or("-".into(), secs),
            secs(kubectl_delete)
        ),
    ]);
    t.row(vec![
        "429 answers received (whole run)".into(),
        m.all_calls.status("429").to_string(),
    ]);
    let faults = m.all_calls.faults();
    if !faults.is_empty() {
        t.row(vec![
            "faults injected (whole run)".into(),
            format!(
                "{} of {} calls: {}",
                faults.values().sum::<u64>(),
                m.all_calls.total(),
                faults
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ]);
    }
    t.row(vec![
        format!(
            "operator peak RSS, whole run (VmHWM, {} build)",
            report::build_profile()
        ),
        mib(m.hwm_kib),
    ]);
    t.row(vec![
        "watch events seen (watch restarts)".into(),
        format!("{} ({})", m.watch_events, m.watch_restarts),
    ]);
    println!("{}", t.render());
}

fn print_calls(c: &Counters, objects: usize) {
    let mut t = Table::new(
        "Cloud calls until all Ready, by operation",
        &["operation", "calls", "per object", "answers"],
    );
    let mut ops: Vec<_> = c.0.iter().collect();
    ops.sort_by_key(|o| std::cmp::Reverse(o.1.calls));
    for (op, oc) in ops {
        t.row(vec![
            op.clone(),
            oc.calls.to_string(),
            format!("{:.2}", oc.calls as f64 / objects as f64),
            oc.by_status
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    println!("{}", t.render());
}

fn inventory_summary(inv: &Inventory) -> String {
    format!(
        "{} gateways, {} customer gateways, {} connections, {} monitors",
        inv.count(Kind::Gateway),
        inv.count(Kind::CustomerGateway),
        inv.count(Kind::Connection),
        inv.monitors
    )
}

fn summary_json(plan: &LoadPlan, m: &Measured, verdicts: &[Verdict], invariants_ok: bool) -> Value {
    let lag = |l: &Lags| -> Value {
        l.iter()
            .map(|(k, v)| {
                (
                    k.crd_kind().to_string(),
                    json!({"p50": percentile(v, 50.0), "p99": percentile(v, 99.0), "max": percentile(v, 100.0), "count": v.len()}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let (measured, scaled) = rest_reads(plan, m);
    json!({
        "scenario": plan.rig.scenario,
        "n": plan.n,
        "objects": 3 * plan.n,
        "accounts": plan.rig.accounts,
        "account_objects_min_max": [m.accounts.objects.0, m.accounts.objects.1],
        "account_lag_p99_median": percentile(&m.accounts.lag_p99, 50.0),
        "account_lag_p99_worst": m.accounts.lag_p99.last(),
        "build": report::build_profile(),
        "machine": report::machine(),
        "operator_args": plan.rig.operator_args,
        "fault_rate": plan.rig.fault_rate,
        "apply_secs": m.apply.as_secs_f64(),
        "all_ready_secs": m.all_ready.as_secs_f64(),
        "lag_watch": lag(&m.lags),
        "lag_ltt_upper": lag(&m.ltt_lags),
        "create_calls_total": m.create_calls.total(),
        "create_calls": m.create_calls.0.iter().map(|(k, v)| (k.clone(), json!(v.calls))).collect::<serde_json::Map<_, _>>(),
        "rest_window_secs": m.rest_window.as_secs_f64(),
        "rest_reads": m.rest_calls.reads(),
        "rest_writes": m.rest_calls.writes(),
        "rest_reads_per_object_hour": measured,
        "rest_reads_per_object_hour_default_resync": scaled,
        "http_429": m.all_calls.status("429"),
        "faults": m.all_calls.faults(),
        "rss_idle_kib": m.rss0_kib,
        "rss_ready_kib": m.rss_ready_kib,
        "rss_steady_kib": m.rss_rest_kib,
        "rss_peak_kib": m.hwm_kib,
        "delete_secs": m.delete.as_secs_f64(),
        "list_latency_secs": m.list_latency.as_secs_f64(),
        "invariants_ok": invariants_ok,
        "targets": verdicts.iter().map(|v| json!({"name": v.name, "measured": v.measured, "target": v.target, "verdict": v.label()})).collect::<Vec<_>>(),
    })
}
