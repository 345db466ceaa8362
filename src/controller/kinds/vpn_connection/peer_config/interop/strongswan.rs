//! Two strongSwan 5.9 daemons in two network namespaces joined by a veth pair, as
//! docs/PEER-CONFIG.md (and ../shared/research/ipsec-interop.md) describe: userspace ESP
//! (`kernel-libipsec`, a TUN device) since these machines have no kernel ESP, each daemon in
//! its own mount namespace so that its `/run` (vici socket) and `/etc/strongswan.conf` are
//! private. Everything made here is removed when the [`Pair`] is dropped.
use std::fs;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The strongswan.conf of both daemons: userspace ESP, aggressive mode with a PSK allowed
/// (the cloud offers it; strongSwan refuses it unless told), a log file per daemon, and a
/// first retransmission after 1 s instead of 4 (IKEv1 aggressive mode loses its first Quick
/// Mode message when it overtakes the last Aggressive Mode one: a retransmission is part of
/// that exchange, and would otherwise cost 4 s).
fn strongswan_conf(log: &Path) -> String {
    format!(
        "charon-systemd {{\n  load_modular = yes\n  retransmit_timeout = 1.0\n  \
         i_dont_care_about_security_and_use_aggressive_mode_psk = yes\n  plugins {{\n    \
         include /etc/strongswan.d/charon/*.conf\n    kernel-libipsec {{\n      load = yes\n    \
         }}\n  }}\n  filelog {{\n    log {{\n      path = {}\n      flush_line = yes\n      default = 1\n      ike = 2\n      \
         cfg = 2\n    }}\n  }}\n}}\ninclude /etc/strongswan.d/*.conf\n",
        log.display()
    )
}

/// What this machine lacks to run the test, if anything: `Err` for what the test may skip
/// over (no network namespaces or TUN), a panic for what CI must install.
pub fn preflight() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: network namespaces need it".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("no /dev/net/tun: strongSwan's userspace ESP needs TUN".into());
    }
    for bin in [
        "/usr/sbin/swanctl",
        "/usr/sbin/charon-systemd",
        "/usr/sbin/ip",
    ] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: tests/interop/run.sh installs strongswan-swanctl, charon-systemd \
             and libcharon-extra-plugins (and iproute2)"
        );
    }
    for (plugin, package) in [
        ("kernel-libipsec", "libcharon-extra-plugins"),
        ("gcm", "libstrongswan-standard-plugins"),
        ("openssl", "libstrongswan-standard-plugins"),
    ] {
        let file = format!("/usr/lib/ipsec/plugins/libstrongswan-{plugin}.so");
        assert!(
            Path::new(&file).exists(),
            "strongSwan's {plugin} plugin is missing: install {package} (tests/interop/run.sh)"
        );
    }
    let probe = format!("hwvpn-probe-{}", std::process::id());
    let made = Command::new("ip").args(["netns", "add", &probe]).output();
    match made {
        Ok(o) if o.status.success() => {
            let _ = Command::new("ip").args(["netns", "del", &probe]).output();
            Ok(())
        }
        Ok(o) => Err(format!(
            "cannot make a network namespace: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run ip: {e}")),
    }
}

/// Runs a command; its output, or a panic naming it.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ip(args: &[&str]) {
    run(Command::new("ip").args(args));
}

/// One daemon: its namespace, directory and process.
pub struct Daemon {
    pub netns: String,
    dir: PathBuf,
    child: Child,
}

impl Daemon {
    fn start(netns: &str, dir: &Path) -> Self {
        let run_dir = dir.join("run");
        fs::create_dir_all(&run_dir).expect("a run directory");
        let conf = dir.join("strongswan.conf");
        fs::write(&conf, strongswan_conf(&dir.join("charon.log"))).expect("strongswan.conf");
        let script = format!(
            "mount --bind {} /run && mount --bind {} /etc/strongswan.conf && exec \
             /usr/sbin/charon-systemd",
            run_dir.display(),
            conf.display()
        );
        let child = Command::new("ip")
            .args(["netns", "exec", netns, "unshare", "-m", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("charon-systemd starts");
        let d = Self {
            netns: netns.to_string(),
            dir: dir.to_path_buf(),
            child,
        };
        let vici = d.dir.join("run/charon.vici");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !vici.exists() {
            assert!(
                Instant::now() < deadline,
                "charon in {netns} did not open its vici socket: {}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    fn uri(&self) -> String {
        format!("unix://{}", self.dir.join("run/charon.vici").display())
    }

    /// `swanctl ARGS` against this daemon: (succeeded, stdout).
    pub fn swanctl(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("swanctl")
            .args(args)
            .args(["--uri", &self.uri()])
            .output()
            .expect("swanctl runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Loads `file` (connections and secrets; what was loaded before and is not in it goes).
    pub fn load(&self, file: &Path) {
        let f = file.to_string_lossy();
        let (ok, out) = self.swanctl(&["--load-all", "--clear", "--file", &f]);
        assert!(ok, "loading {f} into {}: {out}\n{}", self.netns, self.log());
    }

    /// Initiates child `child`: (established, what swanctl said).
    pub fn initiate(&self, child: &str) -> (bool, String) {
        self.swanctl(&["--initiate", "--child", child, "--timeout", "15"])
    }

    /// Terminates every IKE SA of connection `conn`.
    pub fn terminate(&self, conn: &str) {
        let _ = self.swanctl(&["--terminate", "--ike", conn, "--timeout", "5"]);
    }

    /// `swanctl --list-sas --raw`.
    pub fn sas(&self) -> String {
        self.swanctl(&["--list-sas", "--raw"]).1
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(self.dir.join("charon.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Daemon {
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Two namespaces joined by a veth pair, each with a daemon.
pub struct Pair {
    pub cloud: Daemon,
    pub onprem: Daemon,
    namespaces: [String; 2],
}

/// The addresses of one pair: outer (on the veth) and inner (on lo, in the subnets the
/// tunnel carries).
pub struct Addresses {
    pub cloud: IpAddr,
    pub onprem: IpAddr,
    pub cloud_inner: Vec<String>,
    pub onprem_inner: Vec<String>,
}

impl Pair {
    /// Namespaces `{tag}c` and `{tag}o`, working files under `dir`.
    pub fn new(tag: &str, dir: &Path, a: &Addresses) -> Self {
        let (c, o) = (format!("{tag}c"), format!("{tag}o"));
        ip(&["netns", "add", &c]);
        ip(&["netns", "add", &o]);
        let namespaces = [c.clone(), o.clone()];
        // From here on, Drop of a partly built pair still removes the namespaces.
        let guard = Namespaces(namespaces.clone());
        let (vc, vo) = (format!("{tag}vc"), format!("{tag}vo"));
        ip(&["link", "add", &vc, "type", "veth", "peer", "name", &vo]);
        ip(&["link", "set", &vc, "netns", &c]);
        ip(&["link", "set", &vo, "netns", &o]);
        for (ns, dev, local, peer, inner) in [
            (&c, &vc, a.cloud, a.onprem, &a.cloud_inner),
            (&o, &vo, a.onprem, a.cloud, &a.onprem_inner),
        ] {
            let host = |x: IpAddr| match x {
                IpAddr::V4(_) => format!("{x}/32"),
                IpAddr::V6(_) => format!("{x}/128"),
            };
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&["-n", ns, "addr", "add", &host(local), "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "route", "add", &host(peer), "dev", dev]);
            let unique: std::collections::BTreeSet<&String> = inner.iter().collect();
            for cidr in unique {
                ip(&["-n", ns, "addr", "add", cidr, "dev", "lo"]);
            }
        }
        let cloud = Daemon::start(&c, &dir.join("cloud"));
        let onprem = Daemon::start(&o, &dir.join("onprem"));
        std::mem::forget(guard);
        Self {
            cloud,
            onprem,
            namespaces,
        }
    }
}

struct Namespaces([String; 2]);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // The daemons first, then the namespaces (and the veth pair with them).
        self.cloud.stop();
        self.onprem.stop();
        drop(Namespaces(self.namespaces.clone()));
    }
}

/// Runs `f` in network namespace `netns` (on a thread of its own: `setns` changes only the
/// calling thread).
fn in_netns<T: Send + 'static>(
    netns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/var/run/netns/{netns}");
    std::thread::spawn(move || {
        let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: a valid namespace file descriptor; only this thread changes namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}

/// Sends a UDP datagram from `from` (in the on-premises namespace) to an echo server on `to`
/// (in the cloud namespace) and waits for the echo: whether it came back.
pub fn udp_round_trip(pair: &Pair, from: IpAddr, to: IpAddr) -> bool {
    let (ready_tx, ready_rx) = mpsc::channel::<SocketAddr>();
    let server = in_netns(&pair.cloud.netns, move || {
        let s = UdpSocket::bind((to, 0)).expect("the echo server binds");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let _ = ready_tx.send(s.local_addr().expect("an address"));
        let mut buf = [0u8; 64];
        if let Ok((n, peer)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], peer);
        }
    });
    let Ok(target) = ready_rx.recv() else {
        return false;
    };
    let client = in_netns(&pair.onprem.netns, move || {
        let s = UdpSocket::bind((from, 0)).expect("the client binds");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let payload = b"through the tunnel";
        s.send_to(payload, target).is_ok()
            && s.recv_from(&mut [0u8; 64])
                .is_ok_and(|(n, _)| n == payload.len())
    });
    let ok = client.join().unwrap_or(false);
    let _ = server.join();
    ok
}
