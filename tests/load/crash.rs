//! The crash test: `kill -9` the operator at a random moment while objects are being created,
//! updated and deleted, start it again, and check that every object ends Ready (or gone, after
//! a delete) with exactly one cloud resource and nothing left behind.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cloud::{Inventory, UID_TAG};
use crate::fixtures::{self, Kind};
use crate::hygiene::Findings;
use crate::kube::{self, Watch};
use crate::report::{percentile, secs, Table};
use crate::rig::{Rig, RigConfig};

#[derive(Debug, Clone)]
pub struct CrashPlan {
    pub rig: RigConfig,
    /// Objects of each kind per iteration.
    pub m: usize,
    pub iterations: usize,
    pub phase_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Create,
    Update,
    Delete,
}

/// One kill: when it landed in its phase and how long recovery took after the restart.
struct Kill {
    phase: Phase,
    at: Duration,
    restart: Duration,
    settle: Duration,
}

pub fn run(plan: &CrashPlan) -> Result<bool, String> {
    let started = Instant::now();
    let rig = Rig::start(&plan.rig)?;
    let outcome = drive(plan, &rig);
    let failed = outcome.is_err();
    if let Err(e) = &outcome {
        eprintln!(
            "FAILED: {e}\n---- operator log (last 60 lines) ----\n{}",
            rig.log_tail(60)
        );
    }
    rig.finish(failed);
    println!("crash run took {}", secs(started.elapsed()));
    outcome
}

fn drive(plan: &CrashPlan, rig: &Rig) -> Result<bool, String> {
    let d = rig.delays()?;
    let second = Duration::from_secs(1);
    let window = |p: Phase| match p {
        Phase::Create => d.gateway_create + d.connection_create + second,
        Phase::Update => d.gateway_update.max(d.connection_update) + second,
        Phase::Delete => d.gateway_delete + d.connection_delete + second,
    };
    println!(
        "\n== crash: {} iterations of create/update/delete of {} objects of each kind, one kill -9 in each phase ==\nmachine: {}\noperator: {} build; flags {:?} (plus --leader-election=false)\nkill windows: create {:?}, update {:?}, delete {:?}",
        plan.iterations,
        plan.m,
        crate::report::machine(),
        crate::report::build_profile(),
        plan.rig.operator_args,
        window(Phase::Create),
        window(Phase::Update),
        window(Phase::Delete)
    );
    let watch = Watch::start(&rig.kube, rig.needles.clone());
    let create = fixtures::write_batches(&rig.dir, &rig.layout, plan.m, 500, 0)
        .map_err(|e| e.to_string())?;
    let mut kills: Vec<Kill> = Vec::new();
    for it in 1..=plan.iterations {
        let t_it = Instant::now();
        // Create.
        for f in &create {
            rig.kube.apply(f)?;
        }
        kills.push(kill_and_recover(
            rig,
            Phase::Create,
            window(Phase::Create),
            || wait_ready(rig, plan, 1),
        )?);
        let live = audit_live(rig, it, "create")?;

        // Update every object (new generation), kill, recover, check the cloud followed.
        let update = fixtures::write_batches(&rig.dir, &rig.layout, plan.m, 500, it)
            .map_err(|e| e.to_string())?;
        for f in &update {
            rig.kube.apply(f)?;
        }
        kills.push(kill_and_recover(
            rig,
            Phase::Update,
            window(Phase::Update),
            || wait_ready(rig, plan, 2),
        )?);
        let live2 = audit_live(rig, it, "update")?;
        if live2.keys().collect::<Vec<_>>().len() != live.len()
            || live2.keys().any(|k| !live.contains_key(k))
        {
            return Err(format!(
                "iteration {it}: objects were replaced during the update"
            ));
        }
        check_updated(&rig.inventory()?, it)?;

        // Delete everything, kill, recover, check nothing is left.
        rig.kube.delete_all(&Kind::ALL)?;
        kills.push(
            kill_and_recover(rig, Phase::Delete, window(Phase::Delete), || {
                crate::procs::poll(plan.phase_timeout, Duration::from_millis(300), || {
                    let left = rig.kube.list(&Kind::ALL).ok()?;
                    let inv = rig.inventory().ok()?;
                    (left.is_empty() && inv.is_empty()).then_some(())
                })
                .ok_or_else(|| {
                    let inv = rig
                        .inventory()
                        .map(|i| i.audit(&HashMap::new()).orphans)
                        .unwrap_or_default();
                    format!(
                        "delete did not finish within {}; cloud leftovers: {inv:?}",
                        secs(plan.phase_timeout)
                    )
                })
            })
            .map_err(|e| format!("iteration {it}: {e}"))?,
        );
        let k = &kills[kills.len() - 3..];
        println!(
            "  iteration {it:>3}: kill at create+{:.2}s (Ready {:.1}s after restart), update+{:.2}s ({:.1}s), delete+{:.2}s (gone {:.1}s); ok in {}",
            k[0].at.as_secs_f64(),
            k[0].settle.as_secs_f64(),
            k[1].at.as_secs_f64(),
            k[1].settle.as_secs_f64(),
            k[2].at.as_secs_f64(),
            k[2].settle.as_secs_f64(),
            secs(t_it.elapsed())
        );
        watch.forget();
    }

    let mut findings = Findings::default();
    rig.hygiene(&mut findings);
    findings.add_leaks("every watched object version", watch.leaks());
    watch.stop();

    let mut t = Table::new(
        &format!(
            "crash: {} iterations x 3 kills, {} objects of each kind",
            plan.iterations, plan.m
        ),
        &[
            "phase",
            "kills",
            "recovery after restart p50 / max",
            "restart to ready p50",
        ],
    );
    for p in [Phase::Create, Phase::Update, Phase::Delete] {
        let ks: Vec<&Kill> = kills.iter().filter(|k| k.phase == p).collect();
        let settle: Vec<f64> = ks.iter().map(|k| k.settle.as_secs_f64()).collect();
        let restart: Vec<f64> = ks.iter().map(|k| k.restart.as_secs_f64()).collect();
        t.row(vec![
            format!("{p:?}"),
            ks.len().to_string(),
            format!(
                "{:.1} s / {:.1} s",
                percentile(&settle, 50.0).unwrap_or(0.0),
                percentile(&settle, 100.0).unwrap_or(0.0)
            ),
            format!("{:.2} s", percentile(&restart, 50.0).unwrap_or(0.0)),
        ]);
    }
    println!("{}", t.render());
    let mut inv = Table::new("Invariants", &["check", "result"]);
    inv.row(vec![
        "every iteration: all Ready with exactly one cloud resource each, cloud follows updates, nothing left after delete".into(),
        format!("ok ({} iterations, {} kills, {} operator starts)", plan.iterations, kills.len(), rig.operator_starts()),
    ]);
    inv.row(vec![
        format!(
            "no secret in logs, Events, status, metrics ({:.1} MB searched)",
            findings.total_bytes() as f64 / 1e6
        ),
        if findings.leaks.is_empty() {
            "ok".into()
        } else {
            format!("FAILED: {}", findings.leaks.join("; "))
        },
    ]);
    println!("{}", inv.render());
    if !findings.leaks.is_empty() {
        return Err("a secret leaked (see the table above)".into());
    }
    Ok(true)
}

/// Sleeps a random time within `window`, kills the operator with SIGKILL, starts it again and
/// runs `settle` (which waits for the phase's end state).
fn kill_and_recover(
    rig: &Rig,
    phase: Phase,
    window: Duration,
    settle: impl FnOnce() -> Result<(), String>,
) -> Result<Kill, String> {
    let at = window.mul_f64(rand::random::<f64>());
    std::thread::sleep(at);
    let t = Instant::now();
    rig.restart_operator()?;
    let restart = t.elapsed();
    let t = Instant::now();
    settle().map_err(|e| {
        format!(
            "after a kill -9 {:.2}s into {phase:?}: {e}",
            at.as_secs_f64()
        )
    })?;
    Ok(Kill {
        phase,
        at,
        restart,
        settle: t.elapsed(),
    })
}

fn wait_ready(rig: &Rig, plan: &CrashPlan, generation: i64) -> Result<(), String> {
    let want = 3 * plan.m;
    let mut last: Vec<Value> = Vec::new();
    crate::procs::poll(plan.phase_timeout, Duration::from_millis(300), || {
        let items = rig.kube.list(&Kind::ALL).ok()?;
        let done = items.len() == want
            && items.iter().all(|o| {
                kube::is_ready(o) && o["metadata"]["generation"].as_i64() == Some(generation)
            });
        last = items;
        done.then_some(())
    })
    .ok_or_else(|| {
        let waiting: Vec<String> = last
            .iter()
            .filter(|o| !kube::is_ready(o))
            .take(5)
            .map(|o| {
                format!(
                    "{} {} ({})",
                    crate::rig::text(&o["kind"]),
                    crate::rig::text(&o["metadata"]["name"]),
                    kube::ready_condition(o)
                        .map(|c| format!("{}: {}", crate::rig::text(&c["reason"]), crate::rig::text(&c["message"])))
                        .unwrap_or_else(|| "no Ready condition".into())
                )
            })
            .collect();
        format!(
            "not all {want} objects Ready at generation {generation} within {}: {} listed; waiting: {waiting:?}",
            secs(plan.phase_timeout),
            last.len()
        )
    })
}

/// Live objects by uid, after checking one cloud resource each and no orphans.
fn audit_live(
    rig: &Rig,
    it: usize,
    phase: &str,
) -> Result<HashMap<String, (Kind, String)>, String> {
    let items = rig.kube.list(&Kind::ALL)?;
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
    let inv = rig.inventory()?;
    let a = inv.audit(&live);
    if !a.duplicates.is_empty() || !a.orphans.is_empty() || !a.missing.is_empty() {
        return Err(format!(
            "iteration {it} after {phase}: duplicates {:?}, orphans {:?}, missing {:?}",
            a.duplicates, a.orphans, a.missing
        ));
    }
    // Status points at the resource that carries the object's tag.
    for o in &items {
        let uid = o["metadata"]["uid"].as_str().unwrap_or_default();
        let id = o["status"]["cloudId"].as_str().unwrap_or_default();
        let tagged = inv
            .resources
            .iter()
            .any(|r| r.id == id && r.owner_uid.as_deref() == Some(uid));
        if !tagged {
            return Err(format!(
                "iteration {it} after {phase}: {} {} has status.cloudId {id:?}, which is not the resource tagged {UID_TAG}={uid}",
                crate::rig::text(&o["kind"]),
                crate::rig::text(&o["metadata"]["name"])
            ));
        }
    }
    Ok(live)
}

/// The cloud carries iteration `it`'s update: new local subnet, peer subnet and tag.
fn check_updated(inv: &Inventory, it: usize) -> Result<(), String> {
    let tag = format!("v{it}");
    let has_tag = |r: &Value| {
        r["tags"]
            .as_array()
            .is_some_and(|ts| ts.iter().any(|t| t["key"] == "load" && t["value"] == tag))
    };
    let local = format!("192.168.{}.0/24", 1 + it % 200);
    let peer = format!("172.{}.0.0/16", 17 + it % 14);
    for r in &inv.resources {
        let ok = match r.kind {
            Kind::Gateway => {
                has_tag(&r.raw)
                    && r.raw["local_subnets"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|x| x == local.as_str()))
            }
            Kind::CustomerGateway => has_tag(&r.raw),
            Kind::Connection => r.raw["peer_subnets"]
                .as_array()
                .is_some_and(|s| s.iter().any(|x| x == peer.as_str())),
        };
        if !ok {
            return Err(format!(
                "iteration {it}: {} {} does not carry the update (tag load={tag}, {local} / {peer}): {}",
                r.kind.crd_kind(),
                r.id,
                r.raw
            ));
        }
    }
    Ok(())
}
