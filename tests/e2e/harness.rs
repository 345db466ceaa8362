//! End-to-end harness: a Kubernetes API (the kube stand-in in CI, or a real cluster), the
//! simulator and the real `vpn-operator` binary as separate processes, driven with real `kubectl`.
//!
//! Point it at a cluster with `VPN_E2E_KUBECONFIG`:
//!
//! ```sh
//! VPN_E2E_KUBECONFIG=$HOME/.kube/config cargo test --test e2e -- --test-threads=1 --nocapture
//! ```
//!
//! Without it the runner (`tests/kube_suite/`) reports every scenario as ignored, or as failed
//! when `VPN_E2E_REQUIRED=1` (set by `.ci/run`); scenarios then never start.
use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::kube_suite::KUBECONFIG_VAR;

pub const AK: &str = "E2EACCESSKEY0000001";
pub const SK: &str = "e2e-secret-key-never-logged-0001";
pub const PROJECT: &str = "0e2e0000000000000000000000000001";
const BIN: &str = env!("CARGO_BIN_EXE_vpn-operator");

/// The kubeconfig to use. The runner starts scenarios only when it is set.
pub fn kubeconfig() -> PathBuf {
    std::env::var_os(KUBECONFIG_VAR)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{KUBECONFIG_VAR} is not set"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running scenario: its own namespace, simulator and operator. Everything stops on drop.
pub struct Env {
    pub name: String,
    pub namespace: String,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
    pub sim_url: String,
    pub metrics_url: String,
    sim: Option<Child>,
    operator: Option<Child>,
    /// Extra operator flags, kept for restarts.
    operator_args: Vec<String>,
    started: Instant,
}

impl Env {
    /// Starts a scenario with the simulator given `sim_args` (delays, faults) and the operator.
    pub fn start(scenario: &str, sim_args: &[&str]) -> Env {
        Self::start_with(scenario, sim_args, &[])
    }

    /// Like [`Env::start`], with extra operator flags (kept for [`Env::restart_operator`]).
    pub fn start_with(scenario: &str, sim_args: &[&str], operator_args: &[&str]) -> Env {
        let kubeconfig = kubeconfig();
        let dir = tempfile::tempdir().unwrap();
        let suffix: u32 = rand::random::<u32>() % 100_000;
        let namespace = format!("e2e-{}-{suffix}", scenario.replace('_', "-"));
        let mut env = Env {
            name: scenario.to_string(),
            namespace: namespace.clone(),
            kubeconfig,
            dir,
            sim_url: String::new(),
            metrics_url: String::new(),
            sim: None,
            operator: None,
            operator_args: operator_args.iter().map(|a| a.to_string()).collect(),
            started: Instant::now(),
        };
        env.apply(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
        ));
        env.kubectl_ok(&["apply", "-f", &repo_path("crds").to_string_lossy()]);
        env.start_sim(sim_args);
        env.restart_operator();
        env
    }

    pub fn start_sim(&mut self, extra: &[&str]) {
        let port = free_port();
        let log = File::create(self.dir.path().join("sim.log")).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["sim", "--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--access-key",
                AK,
                "--secret-key",
                SK,
                "--project-id",
                PROJECT,
            ])
            .args(extra)
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.sim = Some(cmd.spawn().expect("start simulator"));
        self.sim_url = format!("http://127.0.0.1:{port}");
        let url = self.sim_url.clone();
        wait_until("simulator answers", Duration::from_secs(20), || {
            std::net::TcpStream::connect(url.trim_start_matches("http://")).ok()
        });
    }

    /// Starts (or restarts) the operator with the standard flags plus `extra`.
    pub fn start_operator(&mut self, extra: &[&str]) {
        self.stop_operator();
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hwcloud-credentials\n  namespace: {ns}\nstringData:\n  accessKey: {AK}\n  secretKey: {SK}\n",
            ns = self.namespace
        );
        self.apply(&secret);
        let port = free_port();
        self.metrics_url = format!("http://127.0.0.1:{port}");
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.operator_log_path())
            .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("run")
            .args(["--cloud", "real", "--endpoint", &self.sim_url])
            .args(["--region", "cn-north-4", "--project-id", PROJECT])
            .args([
                "--credentials-secret",
                &format!("{}/hwcloud-credentials", self.namespace),
            ])
            .args(["--namespace", &self.namespace])
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .args(["--lease-namespace", &self.namespace])
            .args(["--pending-requeue", "500ms", "--log-format", "json"])
            .args(extra)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_LOG", "info,vpn_operator=debug")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.operator = Some(cmd.spawn().expect("start operator"));
        let url = format!("{}/readyz", self.metrics_url);
        wait_until("operator ready", Duration::from_secs(30), || {
            http_get(&url).filter(|(s, _)| *s == 200)
        });
    }

    pub fn stop_operator(&mut self) {
        if let Some(mut c) = self.operator.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }

    /// Starts the operator again with the flags the scenario started it with.
    pub fn restart_operator(&mut self) {
        let args = self.operator_args.clone();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.start_operator(&args);
    }

    /// Kills the operator with SIGKILL: no shutdown, no lease release, no last status write.
    pub fn kill_operator_hard(&mut self) {
        if let Some(mut c) = self.operator.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn operator_log_path(&self) -> PathBuf {
        self.dir.path().join("operator.log")
    }

    pub fn operator_log(&self) -> String {
        std::fs::read_to_string(self.operator_log_path()).unwrap_or_default()
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs `vpn-operator ARGS` (e.g. `plan`, `doctor`) against the scenario's cluster and
    /// simulator, with the operator's cloud flags after `args`; answers the exit code and
    /// standard output.
    pub fn command(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(BIN)
            .args(args)
            .args(["--region", "cn-north-4", "--project-id", PROJECT])
            .args(["--endpoint", &self.sim_url])
            .args([
                "--credentials-secret",
                &format!("{}/hwcloud-credentials", self.namespace),
            ])
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
    }

    /// Runs kubectl in the scenario's namespace.
    pub fn kubectl(&self, args: &[&str]) -> std::process::Output {
        self.kubectl_in(&self.namespace, args)
    }

    /// Runs kubectl in namespace `ns`.
    pub fn kubectl_in(&self, ns: &str, args: &[&str]) -> std::process::Output {
        Command::new("kubectl")
            .args(args)
            .args(["-n", ns])
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("kubecache"))
            .output()
            .expect("kubectl is installed")
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl apply -f -` of a YAML document (stream).
    pub fn apply(&self, yaml: &str) {
        let path = self
            .dir
            .path()
            .join(format!("apply-{}.yaml", rand::random::<u32>()));
        std::fs::write(&path, yaml).unwrap();
        self.kubectl_ok(&["apply", "-f", &path.to_string_lossy()]);
    }

    pub fn apply_file(&self, path: &Path) {
        self.kubectl_ok(&["apply", "-f", &path.to_string_lossy()]);
    }

    /// The object as JSON, or `None` when it does not exist.
    pub fn get(&self, kind: &str, name: &str) -> Option<Value> {
        let out = self.kubectl(&["get", kind, name, "-o", "json"]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// Waits until `kind/name` has condition `type_` with `status` and a current observedGeneration.
    pub fn wait_condition(
        &self,
        kind: &str,
        name: &str,
        type_: &str,
        status: &str,
        timeout: Duration,
    ) -> Value {
        wait_until(&format!("{kind}/{name} {type_}={status}"), timeout, || {
            let obj = self.get(kind, name)?;
            let cond = condition(&obj, type_)?;
            let gen = obj["metadata"]["generation"].as_i64();
            (cond["status"] == status && obj["status"]["observedGeneration"].as_i64() == gen)
                .then_some(obj)
        })
    }

    /// Waits until the object is gone.
    pub fn wait_gone(&self, kind: &str, name: &str, timeout: Duration) {
        wait_until(&format!("{kind}/{name} deleted"), timeout, || {
            self.get(kind, name).is_none().then_some(())
        });
    }

    /// GET on the simulator's admin API, decoded.
    pub fn sim_admin(&self, path: &str) -> Value {
        let (status, body) =
            http_get(&format!("{}{path}", self.sim_url)).expect("simulator reachable");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// A call on the simulator's admin API with a JSON body; panics unless it answers 200.
    pub fn sim_call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let text = body.map(Value::to_string);
        let (status, answer) =
            http_request(method, &format!("{}{path}", self.sim_url), text.as_deref())
                .expect("simulator reachable");
        assert_eq!(status, 200, "{method} {path}: {answer}");
        serde_json::from_str(&answer).unwrap_or(Value::Null)
    }

    pub fn sim_put(&self, path: &str, body: &Value) -> Value {
        self.sim_call("PUT", path, Some(body))
    }

    /// Replaces the simulator's fault rules (`[]` clears them).
    pub fn set_faults(&self, rules: Value) {
        self.sim_put(
            "/_sim/faults",
            &serde_json::json!({"seed": 7, "rules": rules}),
        );
    }

    /// Cloud calls per operation since the simulator started .
    pub fn calls_by_op(&self) -> BTreeMap<String, u64> {
        let c = self.sim_admin("/_sim/counters");
        c["operations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(op, v)| Some((op.clone(), v["calls"].as_u64()?)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Prints `FIGURES <label>: <run time>s, <N> cloud calls (<by operation>)` from the
    /// simulator's counters, and returns the total.
    pub fn figures(&self, label: &str) -> u64 {
        let by_op = self.calls_by_op();
        let total: u64 = by_op.values().sum();
        let list: Vec<String> = by_op.iter().map(|(op, n)| format!("{op} {n}")).collect();
        println!(
            "FIGURES {label}: {:.1}s, {total} cloud calls ({})",
            self.elapsed().as_secs_f64(),
            list.join(", ")
        );
        total
    }

    /// The simulator's entries of `kind` in every project: `{"<kind>": resource, ...}` with the
    /// extras the admin view adds (e.g. `psk_sha256` of connections).
    pub fn cloud_entries(&self, kind: &str) -> Vec<Value> {
        let state = self.sim_admin("/_sim/state");
        state["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p[kind].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Every resource of `kind` (`vpn_gateways`, `customer_gateways`, `vpn_connections`,
    /// `connection_monitors`) in every project of the simulator, as stored.
    pub fn cloud_resources(&self, kind: &str) -> Vec<Value> {
        let inner = kind.trim_end_matches('s');
        self.cloud_entries(kind)
            .into_iter()
            .map(|r| r.get(inner).cloned().unwrap_or(r))
            .collect()
    }

    /// The cloud resources of `kind` tagged as owned by the object with `uid`.
    pub fn owned(&self, kind: &str, uid: &str) -> Vec<Value> {
        self.cloud_resources(kind)
            .into_iter()
            .filter(|r| tag(r, OWNER_UID_TAG) == Some(uid))
            .collect()
    }

    /// The object's uid.
    pub fn uid(&self, kind: &str, name: &str) -> String {
        let obj = self.get(kind, name).expect("object exists");
        obj["metadata"]["uid"].as_str().unwrap().to_string()
    }

    /// Waits until `kind/name` has condition `type_` with `reason` (any generation).
    pub fn wait_reason(
        &self,
        kind: &str,
        name: &str,
        type_: &str,
        reason: &str,
        timeout: Duration,
    ) -> Value {
        wait_until(
            &format!("{kind}/{name} {type_} reason {reason}"),
            timeout,
            || {
                let obj = self.get(kind, name)?;
                (condition(&obj, type_)?["reason"] == reason).then_some(obj)
            },
        )
    }

    /// Events of an object: (reason, message) pairs.
    pub fn events(&self, name: &str) -> Vec<(String, String)> {
        let out = self.kubectl_ok(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.name={name}"),
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap_or("").to_string();
                (text("reason"), text("message"))
            })
            .collect()
    }

    /// Writes a Secret with `stringData` in the scenario's namespace.
    pub fn apply_secret(&self, name: &str, data: &[(&str, &str)]) {
        let mut yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {}\nstringData:\n",
            self.namespace
        );
        for (k, v) in data {
            yaml.push_str(&format!("  {k}: {}\n", serde_json::to_string(v).unwrap()));
        }
        self.apply(&yaml);
    }

    /// Events recorded for an object (reason list).
    pub fn event_reasons(&self, name: &str) -> Vec<String> {
        let out = self.kubectl_ok(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.name={name}"),
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["reason"].as_str().map(String::from))
            .collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop_operator();
        if let Some(mut c) = self.sim.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // VPN_E2E_KEEP_LOGS=DIR keeps the operator and simulator logs of every scenario.
        if let Some(dir) = std::env::var_os("VPN_E2E_KEEP_LOGS") {
            let dir = PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            for f in ["operator.log", "sim.log"] {
                let _ = std::fs::copy(
                    self.dir.path().join(f),
                    dir.join(format!("{}-{f}", self.name)),
                );
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "---- operator log ({}) ----\n{}",
                self.name,
                tail(&self.operator_log(), 80)
            );
            let sim_log =
                std::fs::read_to_string(self.dir.path().join("sim.log")).unwrap_or_default();
            eprintln!("---- simulator log ----\n{}", tail(&sim_log, 30));
        }
        let _ = self.kubectl(&["delete", "namespace", &self.namespace, "--wait=false"]);
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The tag key holding the owner's uid on every cloud resource the operator makes.
pub const OWNER_UID_TAG: &str = "vpn.hwcloud.dev:uid";

/// The value of tag `key` on a stored cloud resource.
pub fn tag<'a>(resource: &'a Value, key: &str) -> Option<&'a str> {
    resource["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)?["value"]
        .as_str()
}

/// A condition's reason, or "".
pub fn reason(obj: &Value, type_: &str) -> String {
    condition(obj, type_)
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("")
        .to_string()
}

pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Polls `probe` until it returns `Some`, failing after `timeout`. This is a wait on an observable
/// condition with a deadline, not a sleep standing in for synchronisation.
pub fn wait_until<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Minimal blocking HTTP GET over a TCP socket (keeps the test free of an async runtime).
pub fn http_get(url: &str) -> Option<(u16, String)> {
    http_request("GET", url, None)
}

pub fn http_request(method: &str, url: &str, body: Option<&str>) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
