//! Reading the simulated cloud: who owns which resource (the `vpn.hwcloud.dev:uid` tags in
//! `/_sim/state`), when each resource became ACTIVE, and the call counters.
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::fixtures::Kind;

/// The ownership tag the operator writes on every cloud resource.
pub const UID_TAG: &str = "vpn.hwcloud.dev:uid";

/// One cloud resource.
#[derive(Debug, Clone)]
pub struct CloudRes {
    pub kind: Kind,
    /// The simulator project (cloud account) holding it.
    pub project: String,
    pub id: String,
    /// Value of the uid tag, if any.
    pub owner_uid: Option<String>,
    pub status: String,
    /// Creation time (ms resolution).
    pub created: Option<SystemTime>,
    pub raw: Value,
}

/// Every VPN resource of one project.
#[derive(Debug, Default)]
pub struct Inventory {
    pub resources: Vec<CloudRes>,
    pub monitors: usize,
}

impl Inventory {
    /// Reads every project of a `/_sim/state` answer.
    pub fn from_state(state: &Value) -> Result<Inventory, String> {
        let projects = state["projects"]
            .as_array()
            .ok_or("/_sim/state has no projects")?;
        let mut inv = Inventory::default();
        for p in projects {
            inv.add_project(p);
        }
        Ok(inv)
    }

    fn add_project(&mut self, p: &Value) {
        let inv = self;
        let project = p["project_id"].as_str().unwrap_or_default().to_string();
        inv.monitors += p["connection_monitors"].as_array().map_or(0, Vec::len);
        for kind in Kind::ALL {
            let (list, key) = kind.sim_keys();
            for entry in p[list].as_array().into_iter().flatten() {
                let r = &entry[key];
                let owner_uid = r["tags"].as_array().and_then(|tags| {
                    tags.iter()
                        .find(|t| t["key"] == UID_TAG)
                        .and_then(|t| t["value"].as_str())
                        .map(String::from)
                });
                inv.resources.push(CloudRes {
                    kind,
                    project: project.clone(),
                    id: r["id"].as_str().unwrap_or_default().to_string(),
                    owner_uid,
                    status: r["status"].as_str().unwrap_or_default().to_string(),
                    created: entry["created"].as_str().and_then(parse_time),
                    raw: r.clone(),
                });
            }
        }
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.resources.iter().filter(|r| r.kind == kind).count()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.monitors == 0
    }

    /// Resources by owner uid.
    pub fn by_owner(&self) -> HashMap<&str, Vec<&CloudRes>> {
        let mut m: HashMap<&str, Vec<&CloudRes>> = HashMap::new();
        for r in &self.resources {
            if let Some(u) = &r.owner_uid {
                m.entry(u.as_str()).or_default().push(r);
            }
        }
        m
    }

    /// Duplicates (more than one resource for an owner) and orphans (resources whose owner
    /// is not in `live`, or that carry no owner tag), as human-readable lines.
    pub fn audit(&self, live: &HashMap<String, (Kind, String)>) -> Audit {
        let mut a = Audit::default();
        for (uid, rs) in self.by_owner() {
            if rs.len() > 1 {
                let (k, n) = live
                    .get(uid)
                    .cloned()
                    .unwrap_or((rs[0].kind, "(deleted object)".into()));
                a.duplicates.push(format!(
                    "{} {n}: {} cloud resources ({})",
                    k.crd_kind(),
                    rs.len(),
                    rs.iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        for r in &self.resources {
            let owned = r.owner_uid.as_ref().is_some_and(|u| live.contains_key(u));
            if !owned {
                a.orphans.push(format!(
                    "{} {} ({}, owner uid {})",
                    r.kind.crd_kind(),
                    r.id,
                    r.status,
                    r.owner_uid.as_deref().unwrap_or("none")
                ));
            }
        }
        for (uid, (k, n)) in live {
            let has = self
                .resources
                .iter()
                .any(|r| r.owner_uid.as_deref() == Some(uid.as_str()));
            if !has {
                a.missing.push(format!("{} {n}", k.crd_kind()));
            }
        }
        a.duplicates.sort();
        a.orphans.sort();
        a.missing.sort();
        a
    }
}

impl Inventory {
    /// Resources owned by a live object but held in another project than the one of the
    /// object's namespace (`home`: uid -> (kind, name, project)), as human-readable lines.
    pub fn misplaced(&self, home: &HashMap<String, (Kind, String, String)>) -> Vec<String> {
        let mut out: Vec<String> = self
            .resources
            .iter()
            .filter_map(|r| {
                let (k, n, want) = home.get(r.owner_uid.as_deref()?)?;
                (r.project != *want).then(|| {
                    format!(
                        "{} {n}: {} is in project {}, not in its namespace's project {want}",
                        k.crd_kind(),
                        r.id,
                        r.project
                    )
                })
            })
            .collect();
        out.sort();
        out
    }

    /// Resources per project.
    pub fn per_project(&self) -> HashMap<&str, usize> {
        let mut m: HashMap<&str, usize> = HashMap::new();
        for r in &self.resources {
            *m.entry(r.project.as_str()).or_default() += 1;
        }
        m
    }
}

/// The result of [`Inventory::audit`].
#[derive(Debug, Default)]
pub struct Audit {
    pub duplicates: Vec<String>,
    pub orphans: Vec<String>,
    /// Live objects with no cloud resource.
    pub missing: Vec<String>,
}

pub fn parse_time(s: &str) -> Option<SystemTime> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    let ms = u64::try_from(t.timestamp_millis()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

/// Calls of one operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpCount {
    pub calls: u64,
    pub by_status: BTreeMap<String, u64>,
    pub faults: BTreeMap<String, u64>,
}

/// `/_sim/counters`, by operation.
#[derive(Debug, Clone, Default)]
pub struct Counters(pub BTreeMap<String, OpCount>);

impl Counters {
    pub fn from_json(v: &Value) -> Counters {
        let mut out = BTreeMap::new();
        for (op, c) in v["operations"].as_object().into_iter().flatten() {
            let map = |f: &str| -> BTreeMap<String, u64> {
                c[f].as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            };
            out.insert(
                op.clone(),
                OpCount {
                    calls: c["calls"].as_u64().unwrap_or(0),
                    by_status: map("by_status"),
                    faults: map("faults"),
                },
            );
        }
        Counters(out)
    }

    /// `self - earlier`, per operation.
    pub fn since(&self, earlier: &Counters) -> Counters {
        let mut out = BTreeMap::new();
        for (op, c) in &self.0 {
            let e = earlier.0.get(op).cloned().unwrap_or_default();
            let sub = |a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>| {
                a.iter()
                    .map(|(k, v)| (k.clone(), v.saturating_sub(*b.get(k).unwrap_or(&0))))
                    .filter(|(_, v)| *v > 0)
                    .collect::<BTreeMap<_, _>>()
            };
            let d = OpCount {
                calls: c.calls.saturating_sub(e.calls),
                by_status: sub(&c.by_status, &e.by_status),
                faults: sub(&c.faults, &e.faults),
            };
            if d.calls > 0 {
                out.insert(op.clone(), d);
            }
        }
        Counters(out)
    }

    pub fn total(&self) -> u64 {
        self.0.values().map(|c| c.calls).sum()
    }

    /// Read calls: the List*, Show* and Count* operations.
    pub fn reads(&self) -> u64 {
        self.0
            .iter()
            .filter(|(op, _)| is_read(op))
            .map(|(_, c)| c.calls)
            .sum()
    }

    pub fn writes(&self) -> u64 {
        self.total() - self.reads()
    }

    /// Answers with this HTTP status (e.g. "429").
    pub fn status(&self, code: &str) -> u64 {
        self.0
            .values()
            .map(|c| c.by_status.get(code).copied().unwrap_or(0))
            .sum()
    }

    /// Injected faults by kind.
    pub fn faults(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for c in self.0.values() {
            for (k, v) in &c.faults {
                *m.entry(k.clone()).or_insert(0) += v;
            }
        }
        m
    }
}

pub fn is_read(op: &str) -> bool {
    ["List", "Show", "Count"].iter().any(|p| op.starts_with(p))
}
