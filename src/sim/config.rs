//! What a simulator instance serves: projects and their credentials, state-machine delays,
//! faults, the world, and the clock.
use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::clock::Clock;
use super::faults::FaultConfig;
use super::world::World;

/// The project served when nothing else is configured (documented in `docs/SIMULATOR.md`).
pub const DEFAULT_PROJECT_ID: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f9";
/// The access key of [`DEFAULT_PROJECT_ID`] when nothing else is configured.
pub const DEFAULT_ACCESS_KEY: &str = "SIMULATORACCESSKEY01";
/// The secret key of [`DEFAULT_PROJECT_ID`] when nothing else is configured. Not a secret: the
/// simulator is a local test double.
pub const DEFAULT_SECRET_KEY: &str = "simulator-secret-key-do-not-use-in-production";
/// The project name (region) used when none is given.
pub const DEFAULT_PROJECT_NAME: &str = "cn-north-4";

/// A string that never shows in `Debug` output (secret keys, tokens, passwords).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

/// An AK/SK pair accepted for SDK-HMAC-SHA256 signed calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key: String,
    pub secret_key: Secret,
}

/// An IAM user that may get a token from `POST /v3/auth/tokens` (password method).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IamUser {
    pub name: String,
    pub password: Secret,
    /// The account (domain) name; `None` accepts any domain.
    #[serde(default)]
    pub domain: Option<String>,
}

/// One project (one region of one account): its own credentials and its own world.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectConfig {
    /// The project id in `/v5/{project_id}/...`.
    pub id: String,
    /// The project name (a region name such as `cn-north-4`), used by token scopes.
    #[serde(default = "default_project_name")]
    pub name: String,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// Ready-made tokens accepted in `X-Auth-Token`.
    #[serde(default)]
    pub tokens: Vec<Secret>,
    #[serde(default)]
    pub users: Vec<IamUser>,
    /// This project's world; `None` uses [`SimConfig::world`].
    #[serde(default)]
    pub world: Option<World>,
}

fn default_project_name() -> String {
    DEFAULT_PROJECT_NAME.to_string()
}

impl ProjectConfig {
    /// A project with one AK/SK pair.
    pub fn new(id: impl Into<String>, access_key: impl Into<String>, secret_key: &str) -> Self {
        Self {
            id: id.into(),
            name: default_project_name(),
            access_keys: vec![AccessKey {
                access_key: access_key.into(),
                secret_key: secret_key.into(),
            }],
            tokens: Vec::new(),
            users: Vec::new(),
            world: None,
        }
    }

    /// Adds an accepted `X-Auth-Token`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// Adds an IAM user for `POST /v3/auth/tokens`.
    pub fn with_user(mut self, name: &str, password: &str) -> Self {
        self.users.push(IamUser {
            name: name.to_string(),
            password: password.into(),
            domain: None,
        });
        self
    }

    /// Gives this project its own world.
    pub fn with_world(mut self, world: World) -> Self {
        self.world = Some(world);
        self
    }
}

/// How long each asynchronous transition takes. Zero means "done at the next read".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Delays {
    /// Gateway PENDING_CREATE → ACTIVE.
    #[serde(with = "duration_text")]
    pub gateway_create: Duration,
    /// Gateway PENDING_UPDATE → ACTIVE (update and update-specification).
    #[serde(with = "duration_text")]
    pub gateway_update: Duration,
    /// Gateway PENDING_DELETE → gone.
    #[serde(with = "duration_text")]
    pub gateway_delete: Duration,
    /// Upgrade UPGRADING → PENDING_UPGRADE_CONFIRM and ROLLING_BACK → ACTIVE.
    #[serde(with = "duration_text")]
    pub gateway_upgrade: Duration,
    /// Connection PENDING_CREATE → ACTIVE / DOWN.
    #[serde(with = "duration_text")]
    pub connection_create: Duration,
    /// Connection PENDING_UPDATE → ACTIVE / DOWN.
    #[serde(with = "duration_text")]
    pub connection_update: Duration,
    /// Connection PENDING_DELETE → gone.
    #[serde(with = "duration_text")]
    pub connection_delete: Duration,
    /// Monitor PENDING_CREATE → ACTIVE.
    #[serde(with = "duration_text")]
    pub monitor_create: Duration,
    /// Monitor PENDING_DELETE → gone.
    #[serde(with = "duration_text")]
    pub monitor_delete: Duration,
}

impl Default for Delays {
    /// Short but visible delays for trying the operator by hand.
    fn default() -> Self {
        Self {
            gateway_create: Duration::from_secs(5),
            gateway_update: Duration::from_secs(3),
            gateway_delete: Duration::from_secs(3),
            gateway_upgrade: Duration::from_secs(5),
            connection_create: Duration::from_secs(2),
            connection_update: Duration::from_secs(2),
            connection_delete: Duration::from_secs(2),
            monitor_create: Duration::from_secs(1),
            monitor_delete: Duration::from_secs(1),
        }
    }
}

impl Delays {
    /// Every transition completes at the next read (tests).
    pub fn zero() -> Self {
        Self::uniform(Duration::ZERO)
    }

    /// The same delay for every transition.
    pub fn uniform(d: Duration) -> Self {
        Self {
            gateway_create: d,
            gateway_update: d,
            gateway_delete: d,
            gateway_upgrade: d,
            connection_create: d,
            connection_update: d,
            connection_delete: d,
            monitor_create: d,
            monitor_delete: d,
        }
    }
}

/// Everything a simulator instance needs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The projects served; each has its own world and resources.
    pub projects: Vec<ProjectConfig>,
    pub delays: Delays,
    pub faults: FaultConfig,
    /// The world of projects that do not bring their own (default: [`World::default`]).
    pub world: World,
    /// Per-project worlds loaded from a world file (override [`SimConfig::world`]).
    pub project_worlds: BTreeMap<String, World>,
    /// Drives the state machines (and token expiry).
    pub clock: Clock,
    /// How far the server's wall clock is off the machine's: the `Date` header of every answer
    /// and the `X-Sdk-Date` check use the machine's clock plus this (a server whose clock is
    /// off, or a client whose clock is, as seen from the other side).
    pub wall_clock_skew: chrono::Duration,
}

impl Default for SimConfig {
    /// The documented default: one project [`DEFAULT_PROJECT_ID`] with
    /// [`DEFAULT_ACCESS_KEY`]/[`DEFAULT_SECRET_KEY`], the default world, default delays.
    fn default() -> Self {
        Self::single(DEFAULT_PROJECT_ID, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
    }
}

impl SimConfig {
    /// One project with one AK/SK pair, the default world, default delays, no faults.
    pub fn single(project_id: &str, access_key: &str, secret_key: &str) -> Self {
        Self {
            projects: vec![ProjectConfig::new(project_id, access_key, secret_key)],
            delays: Delays::default(),
            faults: FaultConfig::default(),
            world: World::default(),
            project_worlds: BTreeMap::new(),
            clock: Clock::system(),
            wall_clock_skew: chrono::Duration::zero(),
        }
    }

    /// Adds a project.
    pub fn with_project(mut self, p: ProjectConfig) -> Self {
        self.projects.push(p);
        self
    }

    pub fn with_delays(mut self, d: Delays) -> Self {
        self.delays = d;
        self
    }

    pub fn with_clock(mut self, c: Clock) -> Self {
        self.clock = c;
        self
    }

    pub fn with_faults(mut self, f: FaultConfig) -> Self {
        self.faults = f;
        self
    }

    /// The world a project starts with.
    pub fn world_for(&self, project: &ProjectConfig) -> World {
        project
            .world
            .clone()
            .or_else(|| self.project_worlds.get(&project.id).cloned())
            .unwrap_or_else(|| self.world.clone())
    }
}

/// Parses `250ms`, `5s`, `2m`, `1h`, `1.5s` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 250ms, 5s, 2m"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("invalid duration {s:?}: must be zero or positive"));
    }
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {s:?}: use ms, s, m or h"
            ))
        }
    };
    Ok(Duration::from_secs_f64(secs))
}

/// Formats a duration as `parse_duration` reads it.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 && d.as_millis() > 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}

/// Serde for durations written as text (`"5s"`) or as a number of seconds.
pub mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Secs(f64),
            Text(String),
        }
        match Text::deserialize(d)? {
            Text::Secs(v) if v.is_finite() && v >= 0.0 => Ok(Duration::from_secs_f64(v)),
            Text::Secs(v) => Err(serde::de::Error::custom(format!(
                "invalid duration {v}: must be zero or positive"
            ))),
            Text::Text(t) => super::parse_duration(&t).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(5)), "5s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn delays_accept_text_and_numbers_and_reject_typos() {
        let d: Delays =
            serde_json::from_str(r#"{"gateway_create":"10s","connection_create":0.5}"#).unwrap();
        assert_eq!(d.gateway_create, Duration::from_secs(10));
        assert_eq!(d.connection_create, Duration::from_millis(500));
        assert_eq!(d.gateway_delete, Delays::default().gateway_delete);
        assert!(serde_json::from_str::<Delays>(r#"{"gateway_creat":"1s"}"#).is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let cfg = SimConfig::single("p1", "AK1", "very-secret-sk").with_project(
            ProjectConfig::new("p2", "AK2", "sk2")
                .with_token("tok-123")
                .with_user("u", "pw-456"),
        );
        let dbg = format!("{cfg:?}");
        assert!(dbg.contains("AK1"));
        for secret in ["very-secret-sk", "sk2", "tok-123", "pw-456"] {
            assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
        }
    }
}
