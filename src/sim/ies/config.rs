//! What the simulated IES serves: accepted tokens, the service catalog, operation delays,
//! faults, the traffic model's defaults, preset services, the answer style and the clock.
use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sim::clock::Clock;
use crate::sim::config::{duration_text, Secret};
use crate::sim::faults::FaultConfig;

/// The `X-Auth-Token` accepted when nothing else is configured. Not a secret: the simulator
/// is a local test double.
pub const DEFAULT_AUTH_TOKEN: &str = "simulator-ies-token";
/// The tenant name the simulator reports as `creator`.
pub const DEFAULT_TENANT: &str = "sim_tenant";
/// The id of the default service definition (the deck's `IES_TMF_OpenHack_Nice`).
pub const DEFAULT_SERVICE_DEF_ID: &str = "8c34e27ed6644bbfbce93a41a05cb7ab";
/// The name of the default service definition.
pub const DEFAULT_SERVICE_DEF_NAME: &str = "IES_TMF_OpenHack_Nice";
/// The id of the default definition's only template.
pub const DEFAULT_TEMPLATE_ID: &str = "e77fc5e21e1e42c9933ec9574c33a5d8";

/// A template of a simulated service definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    pub id: String,
    #[serde(default = "default_template_name")]
    pub name: String,
    /// Template `type`; the deck shows `VTL`.
    #[serde(default = "default_template_type", rename = "type")]
    pub type_: String,
    /// Topology lists the template accepts (`Site2SiteList`, `Site2DCList`).
    #[serde(default = "default_topologies")]
    pub topologies: Vec<String>,
    /// Parameters a create must carry besides `CloudVpnName` and `Bandwidth` (the deck says
    /// only those two are mandatory; the rest depends on the template).
    #[serde(default)]
    pub required_parameters: Vec<String>,
    /// Highest `Bandwidth` accepted (unit of the template).
    #[serde(default = "default_max_bandwidth")]
    pub max_bandwidth: i64,
}

fn default_template_name() -> String {
    format!("{DEFAULT_SERVICE_DEF_NAME}.json")
}
fn default_template_type() -> String {
    "VTL".into()
}
fn default_topologies() -> Vec<String> {
    vec!["Site2SiteList".into(), "Site2DCList".into()]
}
fn default_max_bandwidth() -> i64 {
    10_000_000
}

impl TemplateConfig {
    /// A template accepting both topologies, no extra required parameter.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: default_template_name(),
            type_: default_template_type(),
            topologies: default_topologies(),
            required_parameters: Vec::new(),
            max_bandwidth: default_max_bandwidth(),
        }
    }
}

/// A simulated service definition (catalog entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefinitionConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_version")]
    pub version: String,
    pub templates: Vec<TemplateConfig>,
}

fn default_version() -> String {
    "v2".into()
}

impl DefinitionConfig {
    /// The deck's definition: `IES_TMF_OpenHack_Nice` with its single `VTL` template, serving
    /// both topologies.
    pub fn documented() -> Self {
        Self {
            id: DEFAULT_SERVICE_DEF_ID.into(),
            name: DEFAULT_SERVICE_DEF_NAME.into(),
            description: DEFAULT_SERVICE_DEF_NAME.into(),
            version: default_version(),
            templates: vec![TemplateConfig::new(DEFAULT_TEMPLATE_ID)],
        }
    }

    /// The template with `id`.
    pub fn template(&self, id: &str) -> Option<&TemplateConfig> {
        self.templates.iter().find(|t| t.id == id)
    }
}

/// Checks a catalog: ids present and unique.
pub fn check_catalog(defs: &[DefinitionConfig]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for d in defs {
        if d.id.trim().is_empty() {
            return Err("a service definition has an empty id".into());
        }
        if !seen.insert(d.id.clone()) {
            return Err(format!("service definition id {} appears twice", d.id));
        }
        let mut tseen = std::collections::BTreeSet::new();
        for t in &d.templates {
            if t.id.trim().is_empty() || !tseen.insert(t.id.clone()) {
                return Err(format!(
                    "service definition {} has an empty or repeated template id",
                    d.id
                ));
            }
            if t.max_bandwidth < 1 {
                return Err(format!("template {} has max_bandwidth below 1", t.id));
            }
        }
    }
    Ok(())
}

/// How long asynchronous operations take (the deck: creating and activating takes about
/// 10 minutes; the defaults are short for trying things by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IesDelays {
    /// Create: `Processing` → `Completed` (+ `Active`).
    #[serde(with = "duration_text")]
    pub create: Duration,
    /// Update: `Processing` → `Completed` with the new parameters.
    #[serde(with = "duration_text")]
    pub update: Duration,
    /// Delete: `Deleting` → gone (404).
    #[serde(with = "duration_text")]
    pub delete: Duration,
}

impl Default for IesDelays {
    fn default() -> Self {
        Self {
            create: Duration::from_secs(10),
            update: Duration::from_secs(5),
            delete: Duration::from_secs(5),
        }
    }
}

impl IesDelays {
    /// Every operation completes at the next read.
    pub fn zero() -> Self {
        Self::uniform(Duration::ZERO)
    }

    /// The same delay for every operation.
    pub fn uniform(d: Duration) -> Self {
        Self {
            create: d,
            update: d,
            delete: d,
        }
    }
}

/// Defaults of the traffic model (a load profile set per connection overrides them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrafficConfig {
    /// Seed of the deterministic noise.
    pub seed: u64,
    /// Seconds between points (the real API answers per minute).
    pub sample_interval_seconds: u64,
    /// Noise amplitude in percent of the demand (0-50).
    pub noise_percent: f64,
    /// Inbound traffic as a fraction of outbound (0-1).
    pub inbound_ratio: f64,
    /// Demand of a line without a profile, in percent of the bandwidth it was created with.
    pub default_utilization_percent: f64,
    /// Most points one query returns (the newest are kept).
    pub max_points: usize,
}

impl Default for TrafficConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            sample_interval_seconds: 60,
            noise_percent: 5.0,
            inbound_ratio: 0.6,
            default_utilization_percent: 30.0,
            max_points: 1440,
        }
    }
}

impl TrafficConfig {
    /// Checks the ranges.
    pub fn check(&self) -> Result<(), String> {
        if self.sample_interval_seconds == 0 || self.sample_interval_seconds > 3600 {
            return Err("sample_interval_seconds must be 1-3600".into());
        }
        if !(0.0..=50.0).contains(&self.noise_percent) {
            return Err("noise_percent must be 0-50".into());
        }
        if !(0.0..=1.0).contains(&self.inbound_ratio) {
            return Err("inbound_ratio must be 0-1".into());
        }
        if !(0.0..=1000.0).contains(&self.default_utilization_percent) {
            return Err("default_utilization_percent must be 0-1000".into());
        }
        if self.max_points == 0 {
            return Err("max_points must be at least 1".into());
        }
        Ok(())
    }
}

/// Which documented wrapper the answers use (the deck's schemas and examples differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStyle {
    /// As the examples: create `{"service": {...}}`, update and delete bare `{"operation_id"}`.
    #[default]
    Examples,
    /// As the schemas: create `{"createServiceResponse": {...}}`, delete
    /// `{"deleteServiceResponse": {...}}`, update `{}`.
    Schemas,
}

/// A service that exists (`Completed`) from the start, e.g. the deck's preset tenants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetService {
    pub service_id: String,
    pub name: String,
    #[serde(default = "default_def")]
    pub service_definition_id: String,
    #[serde(default = "default_template")]
    pub template_id: String,
    /// `Site2SiteList` or `Site2DCList`.
    pub topology: String,
    /// Must include `CloudVpnName` and `Bandwidth`.
    pub parameters: BTreeMap<String, String>,
    #[serde(default = "default_active")]
    pub active_status: String,
    #[serde(default)]
    pub description: String,
}

fn default_def() -> String {
    DEFAULT_SERVICE_DEF_ID.into()
}
fn default_template() -> String {
    DEFAULT_TEMPLATE_ID.into()
}
fn default_active() -> String {
    "Active".into()
}

/// Everything a simulated IES instance serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IesConfig {
    /// Accepted `X-Auth-Token` values.
    pub auth_tokens: Vec<Secret>,
    /// When not empty, `Authorization: Bearer <token>` must carry one of these too.
    pub bearer_tokens: Vec<Secret>,
    /// Reported as `creator`.
    pub tenant: String,
    pub catalog: Vec<DefinitionConfig>,
    pub delays: IesDelays,
    pub faults: FaultConfig,
    pub traffic: TrafficConfig,
    pub presets: Vec<PresetService>,
    pub answers: AnswerStyle,
    /// Drives the state machines and the traffic model; share the VPN simulator's clock when
    /// mounted beside it.
    #[serde(skip)]
    pub clock: Clock,
}

impl Default for IesConfig {
    fn default() -> Self {
        Self {
            auth_tokens: vec![Secret(DEFAULT_AUTH_TOKEN.into())],
            bearer_tokens: Vec::new(),
            tenant: DEFAULT_TENANT.into(),
            catalog: vec![DefinitionConfig::documented()],
            delays: IesDelays::default(),
            faults: FaultConfig::default(),
            traffic: TrafficConfig::default(),
            presets: Vec::new(),
            answers: AnswerStyle::default(),
            clock: Clock::system(),
        }
    }
}

impl IesConfig {
    /// The default configuration with this clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the delays.
    pub fn with_delays(mut self, delays: IesDelays) -> Self {
        self.delays = delays;
        self
    }

    /// Also requires `Authorization: Bearer <token>`.
    pub fn with_bearer(mut self, token: &str) -> Self {
        self.bearer_tokens.push(Secret(token.into()));
        self
    }

    /// Checks the catalog and the traffic settings.
    pub fn check(&self) -> Result<(), String> {
        check_catalog(&self.catalog)?;
        self.traffic.check()
    }
}
