//! `kubectl` against the run's namespace: batch applies, one-call list polls, events, and a
//! watch per kind that timestamps every change as it arrives (the source of the Ready lags).
use std::collections::{BTreeMap, HashMap};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

use serde_json::Value;

use crate::fixtures::Kind;
use crate::hygiene::Needles;

/// The label every object of a run carries.
pub const RUN_LABEL: &str = "load.vpn.hwcloud.dev/run=true";

/// `kubectl` bound to a kubeconfig, a discovery cache and the run's namespaces.
#[derive(Clone)]
pub struct Kube {
    pub kubeconfig: PathBuf,
    cache: PathBuf,
    /// The first (with one account, the only) namespace.
    pub namespace: String,
    /// Every namespace of the run; with more than one, reads span all namespaces (`-A`),
    /// objects filtered by [`RUN_LABEL`].
    pub namespaces: Vec<String>,
}

impl Kube {
    pub fn new(kubeconfig: &Path, dir: &Path, namespaces: &[String]) -> Kube {
        Kube {
            kubeconfig: kubeconfig.to_path_buf(),
            cache: dir.join("kubecache"),
            namespace: namespaces[0].clone(),
            namespaces: namespaces.to_vec(),
        }
    }

    fn spans(&self) -> bool {
        self.namespaces.len() > 1
    }

    /// The scope of a read of the run's objects.
    fn object_scope(&self) -> Vec<&str> {
        if self.spans() {
            vec!["-A", "-l", RUN_LABEL]
        } else {
            vec!["-n", &self.namespace]
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("kubectl");
        c.env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", &self.cache);
        c
    }

    /// Runs kubectl (in the namespace, with one) and returns stdout, or the error output.
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let ns: &[&str] = if self.spans() {
            &[]
        } else {
            &["-n", &self.namespace]
        };
        let out = self
            .cmd()
            .args(args)
            .args(ns)
            .output()
            .map_err(|e| format!("kubectl is not installed or cannot run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "kubectl {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Creates the namespaces (through apply: the stand-in refuses protobuf `create ns`).
    pub fn create_namespaces(&self) -> Result<(), String> {
        let path = self
            .cache
            .with_file_name(format!("ns-{}.yaml", self.namespace));
        let docs: Vec<String> = self
            .namespaces
            .iter()
            .map(|ns| format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"))
            .collect();
        std::fs::write(&path, docs.join("---\n")).map_err(|e| e.to_string())?;
        self.apply(&path)
    }

    /// `kubectl apply`, server-side and without client-side schema validation: client-side
    /// apply fetches the OpenAPI documents (three requests) on every call, and the Python
    /// stand-in answers those by scanning every request it has served, so over a long run
    /// (the crash test applies six files per iteration) each apply got slower and held up the
    /// operator's own requests. The API server still validates against the CRD schema.
    pub fn apply(&self, path: &Path) -> Result<(), String> {
        self.run(&[
            "apply",
            "--server-side",
            "--validate=false",
            "--field-manager=vpn-load",
            "-f",
            &path.to_string_lossy(),
        ])
        .map(drop)
    }

    /// All objects of the given kinds in one `kubectl get a,b,c -o json`.
    pub fn list(&self, kinds: &[Kind]) -> Result<Vec<Value>, String> {
        let names = kinds
            .iter()
            .map(|k| k.resource())
            .collect::<Vec<_>>()
            .join(",");
        let mut args = vec!["get", &names, "-o", "json"];
        args.extend(self.object_scope());
        let out = self.run(&args)?;
        let v: Value = serde_json::from_str(&out).map_err(|e| format!("kubectl get: {e}"))?;
        Ok(v["items"].as_array().cloned().unwrap_or_default())
    }

    /// The namespaces' Events as JSON text.
    pub fn events_json(&self) -> Result<String, String> {
        if self.spans() {
            self.run(&["get", "events", "-A", "-o", "json"])
        } else {
            self.run(&["get", "events", "-o", "json"])
        }
    }

    pub fn delete_all(&self, kinds: &[Kind]) -> Result<(), String> {
        let names = kinds
            .iter()
            .map(|k| k.resource())
            .collect::<Vec<_>>()
            .join(",");
        if self.spans() {
            self.run(&["delete", &names, "-A", "-l", RUN_LABEL, "--wait=false"])
        } else {
            self.run(&["delete", &names, "--all", "--wait=false"])
        }
        .map(drop)
    }

    pub fn delete_namespaces(&self) {
        let mut args = vec!["delete", "namespace"];
        args.extend(self.namespaces.iter().map(String::as_str));
        args.push("--wait=false");
        let _ = self.run(&args);
    }
}

/// Whether the object's Ready condition is True for its current generation.
pub fn is_ready(obj: &Value) -> bool {
    ready_condition(obj).is_some_and(|c| c["status"] == "True")
        && obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
}

pub fn ready_condition(obj: &Value) -> Option<&Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
}

/// What the watch saw of one object (one uid).
#[derive(Debug, Clone)]
pub struct Seen {
    pub kind: Kind,
    pub generation: i64,
    /// First time Ready=True was seen for each generation.
    pub ready_at: BTreeMap<i64, SystemTime>,
    pub ready_now: bool,
    pub deleted_at: Option<SystemTime>,
    /// The Ready condition's reason, last seen.
    pub reason: String,
}

#[derive(Default)]
struct Shared {
    objects: HashMap<String, Seen>,
    events: u64,
    restarts: u64,
    leaks: Vec<String>,
}

/// One `kubectl get KIND --watch -o json --output-watch-events` per kind, restarted if it ends.
pub struct Watch {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    pids: Arc<Mutex<Vec<u32>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Watch {
    /// Starts watching; every event is checked against `needles` (secret hygiene).
    pub fn start(kube: &Kube, needles: Needles) -> Watch {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let pids = Arc::new(Mutex::new(Vec::new()));
        let threads = Kind::ALL
            .into_iter()
            .map(|kind| {
                let (kube, shared, stop, pids, needles) = (
                    kube.clone(),
                    shared.clone(),
                    stop.clone(),
                    pids.clone(),
                    needles.clone(),
                );
                std::thread::spawn(move || watch_loop(kind, &kube, &shared, &stop, &pids, &needles))
            })
            .collect();
        Watch {
            shared,
            stop,
            pids,
            threads,
        }
    }

    /// A copy of everything seen so far, by uid.
    pub fn snapshot(&self) -> HashMap<String, Seen> {
        lock(&self.shared).objects.clone()
    }

    /// (events received, watch restarts).
    pub fn stats(&self) -> (u64, u64) {
        let s = lock(&self.shared);
        (s.events, s.restarts)
    }

    /// Secrets found in watched objects.
    pub fn leaks(&self) -> Vec<String> {
        lock(&self.shared).leaks.clone()
    }

    /// Forgets all objects (between crash-test iterations).
    pub fn forget(&self) {
        lock(&self.shared).objects.clear();
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for pid in lock(&self.pids).drain(..) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.halt();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn watch_loop(
    kind: Kind,
    kube: &Kube,
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
    pids: &Mutex<Vec<u32>>,
    needles: &Needles,
) {
    let mut first = true;
    while !stop.load(Ordering::SeqCst) {
        if !first {
            lock(shared).restarts += 1;
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        first = false;
        let child = kube
            .cmd()
            .args(["get", kind.resource()])
            .args(kube.object_scope())
            .args(["--watch", "-o", "json", "--output-watch-events"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else { return };
        let pid = child.id();
        lock(pids).push(pid);
        let Some(stdout) = child.stdout.take() else {
            return;
        };
        let stream =
            serde_json::Deserializer::from_reader(BufReader::new(stdout)).into_iter::<Value>();
        for ev in stream {
            let Ok(ev) = ev else { break };
            let now = SystemTime::now();
            record(kind, &ev, now, shared, needles);
        }
        let _ = child.kill();
        let _ = child.wait();
        lock(pids).retain(|p| *p != pid);
    }
}

fn record(kind: Kind, ev: &Value, now: SystemTime, shared: &Mutex<Shared>, needles: &Needles) {
    let obj = &ev["object"];
    let Some(uid) = obj["metadata"]["uid"].as_str() else {
        return;
    };
    let leaks = needles.find(&obj.to_string());
    let mut s = lock(shared);
    s.events += 1;
    for l in leaks {
        let msg = format!(
            "{} {} (watched object) contains the {l}",
            kind.crd_kind(),
            obj["metadata"]["name"].as_str().unwrap_or("?")
        );
        if s.leaks.len() < 50 && !s.leaks.contains(&msg) {
            s.leaks.push(msg);
        }
    }
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(0);
    let entry = s.objects.entry(uid.to_string()).or_insert_with(|| Seen {
        kind,
        generation,
        ready_at: BTreeMap::new(),
        ready_now: false,
        deleted_at: None,
        reason: String::new(),
    });
    entry.generation = generation;
    entry.reason = ready_condition(obj)
        .and_then(|c| c["reason"].as_str())
        .unwrap_or_default()
        .to_string();
    if ev["type"] == "DELETED" {
        entry.deleted_at.get_or_insert(now);
        entry.ready_now = false;
        return;
    }
    entry.ready_now = is_ready(obj);
    if entry.ready_now {
        entry.ready_at.entry(generation).or_insert(now);
    }
}
