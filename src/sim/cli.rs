//! `vpn-operator sim`: the simulator's command line (a contract scripts rely on; see
//! `docs/SIMULATOR.md`).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use super::clock::Clock;
use super::config::{
    parse_duration, Delays, IamUser, ProjectConfig, Secret, SimConfig, DEFAULT_ACCESS_KEY,
    DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME, DEFAULT_SECRET_KEY,
};
use super::faults::{FaultConfig, FaultKind, FaultRule, Trigger};
use super::world::WorldFile;

fn secret(s: &str) -> Result<Secret, String> {
    Ok(Secret(s.to_string()))
}

fn user(s: &str) -> Result<IamUser, String> {
    let (name, password) = s.split_once(':').ok_or(
        "expected NAME:PASSWORD (or NAME:PASSWORD@DOMAIN is not supported; use NAME:PASSWORD)",
    )?;
    if name.is_empty() {
        return Err("the user name is empty".into());
    }
    Ok(IamUser {
        name: name.into(),
        password: password.into(),
        domain: None,
    })
}

fn extra_project(s: &str) -> Result<ProjectConfig, String> {
    let mut it = s.splitn(3, ':');
    match (it.next(), it.next(), it.next()) {
        (Some(id), Some(ak), Some(sk)) if !id.is_empty() && !ak.is_empty() && !sk.is_empty() => {
            Ok(ProjectConfig::new(id, ak, sk))
        }
        _ => Err("expected PROJECT_ID:ACCESS_KEY:SECRET_KEY".into()),
    }
}

/// Parses a fault kind: `throttle`, `busy`, `server-error`, `drop-response`,
/// `commit-then-504`, `latency:MS`, `timeout:MS`.
pub fn parse_fault_kind(s: &str) -> Result<FaultKind, String> {
    let (name, arg) = match s.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (s, None),
    };
    let ms = |a: Option<&str>| -> Result<u64, String> {
        a.ok_or(format!("{name} needs a duration, e.g. {name}:500ms"))
            .and_then(|a| parse_duration(a).map(|d| d.as_millis() as u64))
    };
    Ok(match name.replace('_', "-").as_str() {
        "throttle" => FaultKind::Throttle {
            retry_after_secs: arg.map(|a| a.parse().map_err(|_| format!("bad retry-after {a:?}"))).transpose()?.unwrap_or(1),
        },
        "busy" => FaultKind::Busy,
        "server-error" => FaultKind::ServerError,
        "drop-response" => FaultKind::DropResponse,
        "commit-then-504" => FaultKind::CommitThen504,
        "latency" => FaultKind::Latency { ms: ms(arg)? },
        "timeout" => FaultKind::Timeout { ms: ms(arg)? },
        other => {
            return Err(format!(
                "unknown fault {other:?}: use throttle, busy, server-error, drop-response, commit-then-504, latency:MS or timeout:MS"
            ))
        }
    })
}

/// Parses a `--fault` rule: JSON (`{"fault": {...}, "trigger": {...}}`) or the compact form
/// `kind=throttle,ops=CreateVgw|DeleteVgw,next=2` (`probability=0.1` or `always` instead of
/// `next`; `project=ID` to restrict; `kind` takes the values of [`parse_fault_kind`]).
pub fn parse_fault_rule(s: &str) -> Result<FaultRule, String> {
    if s.trim_start().starts_with('{') {
        let r: FaultRule =
            serde_json::from_str(s).map_err(|e| format!("invalid fault rule JSON: {e}"))?;
        r.check()?;
        return Ok(r);
    }
    let mut kind = None;
    let mut trigger = None;
    let mut ops = Vec::new();
    let mut project = None;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k {
            "kind" => kind = Some(parse_fault_kind(v)?),
            "ops" | "op" => ops.extend(v.split('|').filter(|o| !o.is_empty()).map(String::from)),
            "project" => project = Some(v.to_string()),
            "next" => {
                trigger = Some(Trigger::Next(
                    v.parse().map_err(|_| format!("bad next {v:?}"))?,
                ))
            }
            "probability" => {
                trigger = Some(Trigger::Probability(
                    v.parse().map_err(|_| format!("bad probability {v:?}"))?,
                ))
            }
            "always" => trigger = Some(Trigger::Always),
            other => return Err(format!("unknown key {other:?} in fault rule {s:?}")),
        }
    }
    let rule = FaultRule {
        ops,
        project,
        fault: kind.ok_or("a fault rule needs kind=...")?,
        trigger: trigger.ok_or("a fault rule needs next=N, probability=P or always")?,
    };
    rule.check()?;
    Ok(rule)
}

/// Options of `vpn-operator sim`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "VPN_SIM_LISTEN")]
    pub listen: SocketAddr,
    /// Access key (AK) of the main project.
    #[arg(long, env = "HUAWEICLOUD_SDK_AK", default_value = DEFAULT_ACCESS_KEY)]
    pub access_key: String,
    /// Secret key (SK) of the main project.
    #[arg(long, env = "HUAWEICLOUD_SDK_SK", hide_env_values = true, hide_default_value = true,
          default_value = DEFAULT_SECRET_KEY, value_parser = secret)]
    pub secret_key: Secret,
    /// Id of the main project (`/v5/{project_id}/...`).
    #[arg(long, env = "HUAWEICLOUD_SDK_PROJECT_ID", default_value = DEFAULT_PROJECT_ID)]
    pub project_id: String,
    /// Name (region) of the main project, for IAM token scopes.
    #[arg(long, default_value = DEFAULT_PROJECT_NAME)]
    pub project_name: String,
    /// Another project, PROJECT_ID:ACCESS_KEY:SECRET_KEY (repeatable).
    #[arg(long = "project", value_name = "ID:AK:SK", value_parser = extra_project)]
    pub projects: Vec<ProjectConfig>,
    /// An `X-Auth-Token` accepted for the main project (repeatable).
    #[arg(long = "token", value_name = "TOKEN", value_parser = secret)]
    pub tokens: Vec<Secret>,
    /// An IAM user of the main project for `POST /v3/auth/tokens`, NAME:PASSWORD (repeatable).
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = user)]
    pub users: Vec<IamUser>,
    /// Every state-machine delay at once (e.g. `0` for tests); the specific flags win.
    #[arg(long, value_parser = parse_duration)]
    pub delay: Option<Duration>,
    /// Gateway PENDING_CREATE → ACTIVE.
    #[arg(long, value_parser = parse_duration)]
    pub gateway_create_delay: Option<Duration>,
    /// Gateway PENDING_UPDATE → ACTIVE.
    #[arg(long, value_parser = parse_duration)]
    pub gateway_update_delay: Option<Duration>,
    /// Gateway PENDING_DELETE → gone.
    #[arg(long, value_parser = parse_duration)]
    pub gateway_delete_delay: Option<Duration>,
    /// Gateway upgrade and rollback steps.
    #[arg(long, value_parser = parse_duration)]
    pub gateway_upgrade_delay: Option<Duration>,
    /// Connection PENDING_CREATE → ACTIVE / DOWN.
    #[arg(long, value_parser = parse_duration)]
    pub connection_create_delay: Option<Duration>,
    /// Connection PENDING_UPDATE → ACTIVE / DOWN.
    #[arg(long, value_parser = parse_duration)]
    pub connection_update_delay: Option<Duration>,
    /// Connection PENDING_DELETE → gone.
    #[arg(long, value_parser = parse_duration)]
    pub connection_delete_delay: Option<Duration>,
    /// Monitor PENDING_CREATE → ACTIVE.
    #[arg(long, value_parser = parse_duration)]
    pub monitor_create_delay: Option<Duration>,
    /// Monitor PENDING_DELETE → gone.
    #[arg(long, value_parser = parse_duration)]
    pub monitor_delete_delay: Option<Duration>,
    /// Probability (0-1) that an API call gets one of `--fault-kinds`.
    #[arg(long, default_value_t = 0.0)]
    pub fault_probability: f64,
    /// Faults drawn by `--fault-probability` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "throttle,busy,server-error", value_parser = parse_fault_kind)]
    pub fault_kinds: Vec<FaultKind>,
    /// Only these operations get probabilistic faults (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub fault_ops: Vec<String>,
    /// Seed of the fault RNG (same seed and calls, same faults).
    #[arg(long, default_value_t = 1)]
    pub fault_seed: u64,
    /// A fault rule, e.g. `kind=throttle,ops=CreateVgw,next=2` (repeatable).
    #[arg(long = "fault", value_name = "RULE", value_parser = parse_fault_rule)]
    pub faults: Vec<FaultRule>,
    /// World file (YAML or JSON); see docs/SIMULATOR.md.
    #[arg(long)]
    pub world: Option<PathBuf>,
    /// Simulated time only moves through `POST /_sim/clock/advance`.
    #[arg(long)]
    pub manual_clock: bool,
    /// Seconds the server's wall clock is off the machine's (negative: behind): the `Date`
    /// header and the signature-expiry check use it.
    #[arg(
        long,
        default_value_t = 0,
        allow_hyphen_values = true,
        value_name = "SECONDS"
    )]
    pub wall_clock_skew: i64,
}

impl SimArgs {
    /// The configuration these options describe.
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        let mut main =
            ProjectConfig::new(&self.project_id, &self.access_key, self.secret_key.expose());
        main.name = self.project_name.clone();
        main.tokens = self.tokens.clone();
        main.users = self.users.clone();
        let mut projects = vec![main];
        projects.extend(self.projects.iter().cloned());
        let mut d = self.delay.map(Delays::uniform).unwrap_or_default();
        let set = |slot: &mut Duration, v: Option<Duration>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut d.gateway_create, self.gateway_create_delay);
        set(&mut d.gateway_update, self.gateway_update_delay);
        set(&mut d.gateway_delete, self.gateway_delete_delay);
        set(&mut d.gateway_upgrade, self.gateway_upgrade_delay);
        set(&mut d.connection_create, self.connection_create_delay);
        set(&mut d.connection_update, self.connection_update_delay);
        set(&mut d.connection_delete, self.connection_delete_delay);
        set(&mut d.monitor_create, self.monitor_create_delay);
        set(&mut d.monitor_delete, self.monitor_delete_delay);
        let mut rules = self.faults.clone();
        if self.fault_probability > 0.0 {
            anyhow::ensure!(
                self.fault_probability <= 1.0,
                "--fault-probability {} must be between 0 and 1",
                self.fault_probability
            );
            // One probability rule per kind, splitting the probability evenly.
            let each = self.fault_probability / self.fault_kinds.len().max(1) as f64;
            let mut remaining = 1.0;
            for k in &self.fault_kinds {
                // Conditional probability so the kinds add up to the requested total.
                let p = (each / remaining).min(1.0);
                remaining -= each;
                rules.push(FaultRule {
                    ops: self.fault_ops.clone(),
                    project: None,
                    fault: *k,
                    trigger: Trigger::Probability(p),
                });
            }
        }
        let mut cfg = SimConfig {
            projects,
            delays: d,
            faults: FaultConfig {
                seed: self.fault_seed,
                rules,
            },
            ..SimConfig::default()
        };
        if let Some(path) = &self.world {
            let file = WorldFile::load(path).with_context(|| "loading --world")?;
            if let Some(w) = file.default {
                cfg.world = w;
            }
            cfg.project_worlds = file.projects;
        }
        if self.manual_clock {
            cfg.clock = Clock::manual(chrono::Utc::now());
        }
        cfg.wall_clock_skew =
            chrono::Duration::try_seconds(self.wall_clock_skew).with_context(|| {
                format!("--wall-clock-skew {} is out of range", self.wall_clock_skew)
            })?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn command_line_contract() {
        let cli = Cli::try_parse_from([
            "sim",
            "--listen",
            "127.0.0.1:18080",
            "--access-key",
            "AK",
            "--secret-key",
            "SK-secret",
            "--project-id",
            "p1",
            "--project",
            "p2:AK2:SK2",
            "--gateway-create-delay",
            "5s",
            "--fault",
            "kind=throttle:3,ops=CreateVgw,next=2",
            "--fault-probability",
            "0.2",
            "--fault-seed",
            "7",
        ])
        .unwrap();
        let cfg = cli.sim.to_config().unwrap();
        assert_eq!(cfg.projects.len(), 2);
        assert_eq!(cfg.projects[0].id, "p1");
        assert_eq!(cfg.delays.gateway_create, Duration::from_secs(5));
        assert_eq!(cfg.faults.seed, 7);
        assert_eq!(
            cfg.faults.rules[0],
            FaultRule {
                ops: vec!["CreateVgw".into()],
                project: None,
                fault: FaultKind::Throttle {
                    retry_after_secs: 3
                },
                trigger: Trigger::Next(2)
            }
        );
        assert_eq!(cfg.faults.rules.len(), 4);
        assert!(!format!("{:?}", cli.sim).contains("SK-secret"));
    }

    #[test]
    fn bad_flags_say_what_to_write() {
        assert!(parse_fault_rule("kind=teapot,next=1")
            .unwrap_err()
            .contains("unknown fault"));
        assert!(parse_fault_rule("kind=busy")
            .unwrap_err()
            .contains("next=N"));
        assert!(extra_project("p2:AK2").is_err());
        assert_eq!(
            parse_fault_kind("latency:250ms").unwrap(),
            FaultKind::Latency { ms: 250 }
        );
    }

    #[test]
    fn world_file_and_manual_clock_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("world.yaml");
        std::fs::write(
            &path,
            "default:\n  quotas: {vpn_gateway: 2}\nprojects:\n  p9:\n    eip_quota: 1\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "sim",
            "--world",
            path.to_str().unwrap(),
            "--manual-clock",
            "--delay",
            "0",
        ])
        .unwrap();
        let cfg = cli.sim.to_config().unwrap();
        assert_eq!(cfg.world.quotas.vpn_gateway, 2);
        assert_eq!(cfg.project_worlds["p9"].eip_quota, 1);
        assert!(cfg.clock.is_manual());
        assert_eq!(cfg.delays, Delays::zero());
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "vpcs: 3\n").unwrap();
        let cli = Cli::try_parse_from(["sim", "--world", bad.to_str().unwrap()]).unwrap();
        let err = format!("{:#}", cli.sim.to_config().unwrap_err());
        assert!(err.contains("bad.yaml"), "{err}");
    }
}
