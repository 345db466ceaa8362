//! The processes a run drives: the kube stand-in (unless a kubeconfig is given), the simulator
//! and the real `vpn-operator run` binary. Each stops when dropped.
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http;

/// The operator binary Cargo built for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_vpn-operator");

/// The binary to run (operator and simulator): `$VPN_LOAD_OPERATOR_BIN` when set (e.g. a
/// release build, to measure memory as users run it), else [`BIN`].
pub fn bin() -> String {
    std::env::var("VPN_LOAD_OPERATOR_BIN").unwrap_or_else(|_| BIN.to_string())
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// Polls `probe` every `every` until it returns `Some`, or gives up after `timeout`.
pub fn poll<T>(
    timeout: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// The kube stand-in (a Python process). `start.sh` creates its virtualenv and kubeconfig;
/// the server is then restarted without watch bookmarks and with a long watch log.
///
/// Why: the stand-in's BOOKMARK carries its newest resourceVersion even while older events
/// are still queued for that watch, so a client that resumes from the bookmark after the
/// watch times out (kube-runtime: every 290 s) never sees those events. Under load the
/// operator then keeps reconciling objects that were deleted long ago. Without bookmarks a
/// client resumes from the last event it received, as with a real API server.
pub struct Standin {
    pid: u32,
    pub kubeconfig: PathBuf,
    /// The stand-in's output: with `access_log`, one line per API request (`METHOD path`).
    pub log: PathBuf,
}

impl Standin {
    /// Starts the stand-in from `<shared>/tools/kube-standin` in `dir`; with `access_log` it
    /// logs every API request (the restart phases count the operator's status writes there).
    pub fn start(shared: &Path, dir: &Path, access_log: bool) -> Result<Standin, String> {
        let tool = shared.join("tools/kube-standin");
        let script = tool.join("start.sh");
        if !script.exists() {
            return Err(format!(
                "{} not found: set VPN_SHARED_DIR, or give a cluster with --kubeconfig / VPN_LOAD_KUBECONFIG",
                script.display()
            ));
        }
        let work = dir.join("standin");
        let port = free_port();
        let out = Command::new(&script)
            .arg(port.to_string())
            .arg(&work)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        let first: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| format!("{} did not print a pid", script.display()))?;
        let _ = Command::new("kill").arg(first.to_string()).status();
        let addr = format!("127.0.0.1:{port}");
        poll(Duration::from_secs(10), Duration::from_millis(50), || {
            std::net::TcpStream::connect(&addr).err().map(drop)
        })
        .ok_or("the first stand-in process did not stop")?;
        let log = File::create(work.join("standin.log")).map_err(|e| e.to_string())?;
        let child = Command::new(work.join("venv/bin/python"))
            .arg(tool.join("kube_standin.py"))
            .args(["--port", &port.to_string()])
            .args(["--bookmark-interval", "86400", "--log-size", "200000"])
            .args(access_log.then_some("--access-log"))
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting the stand-in: {e}"))?;
        let standin = Standin {
            pid: child.id(),
            kubeconfig: work.join("kubeconfig"),
            log: work.join("standin.log"),
        };
        poll(Duration::from_secs(30), Duration::from_millis(100), || {
            http::request("GET", &format!("http://{addr}/version"), None)
                .ok()
                .filter(|a| a.status == 200)
        })
        .ok_or_else(|| {
            format!(
                "the stand-in did not answer; see {}",
                work.join("standin.log").display()
            )
        })?;
        Ok(standin)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

/// The simulator process.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    /// Starts `vpn-operator sim` on `port` with the given credentials and extra flags (world,
    /// delays, more projects).
    pub fn start(dir: &Path, port: u16, creds: &Creds, extra: &[String]) -> Result<Sim, String> {
        let log = File::create(dir.join("sim.log")).map_err(|e| e.to_string())?;
        let child = Command::new(bin())
            .args(["sim", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--access-key", &creds.ak, "--secret-key", &creds.sk])
            .args(["--project-id", &creds.project])
            .args(extra)
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting the simulator: {e}"))?;
        let url = format!("http://127.0.0.1:{port}");
        let mut sim = Sim { child, url };
        poll(Duration::from_secs(30), Duration::from_millis(100), || {
            http::get_json(&format!("{}/_sim/health", sim.url)).ok()
        })
        .ok_or_else(|| "the simulator did not answer within 30 s (see sim.log)".to_string())?;
        if let Ok(Some(st)) = sim.child.try_wait() {
            return Err(format!("the simulator exited: {st}"));
        }
        Ok(sim)
    }

    pub fn admin(&self, path: &str) -> Result<Value, String> {
        http::get_json(&format!("{}/_sim{path}", self.url))
    }

    pub fn admin_call(&self, method: &str, path: &str, body: &Value) -> Result<Value, String> {
        http::json_call(
            method,
            &format!("{}/_sim{path}", self.url),
            Some(&body.to_string()),
        )
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cloud credentials shared by the simulator and the operator's Secret.
#[derive(Clone)]
pub struct Creds {
    pub ak: String,
    pub sk: String,
    pub project: String,
}

/// How to start the operator.
#[derive(Clone)]
pub struct OperatorSpec {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    /// The namespace of the operator's credentials Secret, and the one it watches unless
    /// `all_namespaces`.
    pub namespace: String,
    /// Watch every namespace (a run over several accounts, one namespace each).
    pub all_namespaces: bool,
    pub endpoint: String,
    pub project: String,
    /// Flags added after the harness's own (they win: clap keeps the last value).
    pub extra: Vec<String>,
}

/// A running operator process.
pub struct Operator {
    child: Option<Child>,
    pub metrics_url: String,
    /// How many processes were started (restarts + 1).
    pub starts: u32,
    pub spec: OperatorSpec,
}

/// Memory of a process from `/proc/PID/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rss {
    /// VmRSS: resident now.
    pub rss_kib: u64,
    /// VmHWM: the peak resident size since the process started.
    pub hwm_kib: u64,
}

impl Operator {
    pub fn start(spec: OperatorSpec) -> Result<Operator, String> {
        let mut op = Operator {
            child: None,
            metrics_url: String::new(),
            starts: 0,
            spec,
        };
        op.launch()?;
        Ok(op)
    }

    fn launch(&mut self) -> Result<(), String> {
        let s = &self.spec;
        let port = free_port();
        self.metrics_url = format!("http://127.0.0.1:{port}");
        let log = File::options()
            .create(true)
            .append(true)
            .open(s.dir.join("operator.log"))
            .map_err(|e| e.to_string())?;
        let watch: Vec<&str> = if s.all_namespaces {
            Vec::new()
        } else {
            vec!["--namespace", &s.namespace]
        };
        let child = Command::new(bin())
            .arg("run")
            .args(["--cloud", "real", "--endpoint", &s.endpoint])
            .args(["--region", "cn-north-4", "--project-id", &s.project])
            .args([
                "--credentials-secret",
                &format!("{}/{}", s.namespace, crate::fixtures::CREDS_SECRET),
            ])
            .args(watch)
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .args(["--log-format", "json"])
            // Off unless the extra flags turn it on (the failover phase): clap refuses the
            // flag twice.
            .args(
                (!s.extra.iter().any(|a| a.starts_with("--leader-election")))
                    .then_some("--leader-election=false"),
            )
            .args(&s.extra)
            .env("KUBECONFIG", &s.kubeconfig)
            .env_remove("RUST_LOG")
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting the operator: {e}"))?;
        self.child = Some(child);
        self.starts += 1;
        let url = format!("{}/readyz", self.metrics_url);
        let ready = poll(Duration::from_secs(60), Duration::from_millis(50), || {
            http::request("GET", &url, None)
                .ok()
                .filter(|a| a.status == 200)
        });
        if ready.is_none() {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            return Err(format!(
                "the operator was not ready within 60 s (exited: {exited:?}); see {}",
                s.dir.join("operator.log").display()
            ));
        }
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Memory of the running process.
    pub fn rss(&self) -> Option<Rss> {
        read_rss(self.pid()?)
    }

    /// `kill -9`: no shutdown of any kind.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    /// Starts a new process (after [`kill9`](Self::kill9)) and waits until it is ready.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill9();
        self.launch()
    }

    /// Stops the process gracefully (SIGTERM), then waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmRSS and VmHWM of a process.
pub fn read_rss(pid: u32) -> Option<Rss> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(Rss {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}
