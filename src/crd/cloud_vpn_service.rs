//! `CloudVpnService`: a CloudVPN service instance of Huawei CloudOpera IES (service manager
//! API), with optional bandwidth autoscaling driven by the CloudVPN traffic monitor.
//!
//! The IES API documents little: only `CloudVpnName` and `Bandwidth` are stated as mandatory,
//! the other topology parameters come from the service template, and only the bandwidth change
//! is documented for PUT. So everything except `bandwidth`, `description` and the operator-side
//! settings (autoscaling, policies, cloud settings) is immutable here.
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    impl_managed, AccountStatus, Condition, DeletionPolicy, DriftEntry, ManagementPolicy, SecretRef,
};
use super::rules::{self, patterns};

/// Parameter names the typed fields send; `extraParameters` must not repeat them.
pub const RESERVED_PARAMETERS: &[&str] = &[
    "CloudVpnName",
    "Bandwidth",
    "VNI",
    "VPC_ID",
    "CPE_A_Site",
    "CPE_A_Type",
    "CPE_A_ESN",
    "CPE_A_Position",
    "CPE_A_POP",
    "CPE_Z_Site",
    "CPE_Z_Type",
    "CPE_Z_ESN",
    "CPE_Z_Position",
    "cidr",
    "cidrBlockSize",
    "action",
];

/// CEL: `extraParameters` does not contain a parameter a typed field already sends. Map
/// lookups only: the API server cannot bound the length of map keys when it estimates the
/// cost of a rule, so rules never compare keys as strings.
fn no_reserved_parameters() -> String {
    let checks: Vec<String> = RESERVED_PARAMETERS
        .iter()
        .map(|p| format!("!('{p}' in self)"))
        .collect();
    checks.join(" && ")
}

/// Desired state of a CloudVPN service instance.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vpn.hwcloud.dev",
    version = "v1alpha1",
    kind = "CloudVpnService",
    plural = "cloudvpnservices",
    namespaced,
    status = "CloudVpnServiceStatus",
    shortname = "cvpn",
    category = "hwvpn",
    doc = "A CloudVPN service instance of Huawei CloudOpera IES (Site2Site or Site2DC), with optional bandwidth autoscaling.",
    printcolumn = r#"{"name":"Cloud ID","type":"string","jsonPath":".status.cloudId"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".status.cloudState"}"#,
    printcolumn = r#"{"name":"Active","type":"string","jsonPath":".status.activeStatus","priority":1}"#,
    printcolumn = r#"{"name":"Bandwidth","type":"integer","jsonPath":".status.currentBandwidth"}"#,
    printcolumn = r#"{"name":"Utilization","type":"number","jsonPath":".status.traffic.utilizationPercent","priority":1}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Scaling","type":"string","jsonPath":".status.conditions[?(@.type==\"Scaling\")].status","priority":1}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = rules::immutable(&["serviceDefinition"]))]
#[x_kube(validation = rules::immutable(&["templateId"]))]
#[x_kube(validation = rules::immutable(&["serviceName"]))]
#[x_kube(validation = rules::immutable(&["kind"]))]
#[x_kube(validation = rules::immutable(&["cloudVpnName"]))]
#[x_kube(validation = rules::immutable(&["vpcId"]))]
#[x_kube(validation = rules::immutable(&["vni"]))]
#[x_kube(validation = rules::immutable(&["cpeA"]))]
#[x_kube(validation = rules::immutable(&["cpeZ"]))]
#[x_kube(validation = rules::immutable(&["cidr"]))]
#[x_kube(validation = rules::immutable(&["cidrBlockSize"]))]
#[x_kube(validation = rules::immutable_map(&["extraParameters"]))]
#[x_kube(validation = rules::immutable(&["cloudId"]))]
#[x_kube(validation = rules::observe_needs_cloud_id())]
#[x_kube(validation = Rule::new("self.managementPolicy != 'Observe' || !has(self.autoscaling)")
    .message("autoscaling changes the bandwidth, so it cannot be combined with managementPolicy Observe")
    .field_path(".autoscaling"))]
#[x_kube(validation = Rule::new("!has(self.cpeZ) || self.kind == 'Site2Site'")
    .message("cpeZ (the Z-end site) is only for kind Site2Site")
    .field_path(".cpeZ"))]
#[x_kube(validation = Rule::new("self.kind == 'Site2DC' || (!has(self.vpcId) && !has(self.cidr) && !has(self.cidrBlockSize) && !(has(self.cpeA) && has(self.cpeA.pop)))")
    .message("vpcId, cidr, cidrBlockSize and cpeA.pop are only for kind Site2DC"))]
#[x_kube(validation = Rule::new("has(self.cidr) == has(self.cidrBlockSize)")
    .message("cidr and cidrBlockSize go together")
    .field_path(".cidrBlockSize"))]
#[x_kube(validation = Rule::new("!has(self.autoscaling) || (self.bandwidth >= self.autoscaling.minBandwidth && self.bandwidth <= self.autoscaling.maxBandwidth)")
    .message("bandwidth must be within autoscaling.minBandwidth and autoscaling.maxBandwidth")
    .field_path(".bandwidth"))]
pub struct CloudVpnServiceSpec {
    /// The IES service definition (catalog entry) to instantiate: its `id`, or its `name` to
    /// look up in the catalog. Immutable.
    pub service_definition: ServiceDefinitionRef,

    /// Template id of the service definition. Default: the definition's only template (the
    /// operator reads the definition's details). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub template_id: Option<String>,

    /// Name of the service instance in IES. Default: derived from the namespace and name of
    /// this object. Immutable (the API documents no rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub service_name: Option<String>,

    /// Description of the service instance. Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,

    /// Topology: `Site2Site` (two customer sites) or `Site2DC` (a customer site to a cloud
    /// VPC). Selects the parameter list (`Site2SiteList` or `Site2DCList`). Immutable.
    pub kind: ServiceKind,

    /// Name of the VPN line (`CloudVpnName`, mandatory). Also the connection name the traffic
    /// monitor uses. Letters, digits, `_`, `-`, `.`; 1-64 characters (assumed: the API does not
    /// document a format). Immutable.
    #[schemars(
        length(min = 1, max = 64),
        regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    )]
    pub cloud_vpn_name: String,

    /// Bandwidth of the line (`Bandwidth`, mandatory), in the unit of the service template
    /// (undocumented; the examples use 30000 and 60000). Can be changed. With autoscaling this
    /// is the starting bandwidth: the operator then changes the bandwidth in the cloud and
    /// reports it in status.currentBandwidth, without writing it back here.
    #[schemars(range(min = 1, max = 100_000_000))]
    pub bandwidth: i64,

    /// Cloud-side VPC id (`VPC_ID`). Site2DC only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub vpc_id: Option<String>,

    /// VXLAN network identifier (`VNI`), 1-16777215. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 16_777_215))]
    pub vni: Option<i64>,

    /// A-end customer site and its CPE device (`CPE_A_*`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe_a: Option<Cpe>,

    /// Z-end customer site and its CPE device (`CPE_Z_*`). Site2Site only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe_z: Option<Cpe>,

    /// Host address of the site's network (`cidr`), e.g. `163.113.12.1`; the prefix length
    /// goes in cidrBlockSize. Site2DC only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15), regex(pattern = patterns::IPV4))]
    pub cidr: Option<String>,

    /// Prefix length of cidr (`cidrBlockSize`), 0-32. Site2DC only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 32))]
    pub cidr_block_size: Option<i64>,

    /// Further template parameters, sent as given (string values), e.g. parameters a custom
    /// template needs. Must not repeat a parameter a typed field sends (`CloudVpnName`,
    /// `Bandwidth`, `VNI`, `VPC_ID`, `CPE_A_*`, `CPE_Z_*`, `cidr`, `cidrBlockSize`, `action`).
    /// At most 50. Immutable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 50, "additionalProperties" = {"type": "string", "maxLength": 1024}))]
    #[x_kube(validation = Rule::new(no_reserved_parameters())
        .message("extraParameters must not repeat a parameter a typed field sends (CloudVpnName, Bandwidth, VNI, VPC_ID, CPE_A_*, CPE_Z_*, cidr, cidrBlockSize, action)"))]
    #[x_kube(validation = Rule::new("self.all(k, size(k) >= 1 && size(k) <= 64)")
        .message("extraParameters keys must have 1-64 characters"))]
    pub extra_parameters: BTreeMap<String, String>,

    /// Change the bandwidth automatically to keep utilisation near a target. The operator
    /// reads the line's traffic rate and sends a bandwidth change when needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,

    /// Adopt an existing service instance with this service id instead of creating one.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub cloud_id: Option<String>,

    /// `Delete` (default) deletes the service instance in IES when this object is deleted;
    /// `Orphan` leaves it.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// `Default` manages the service instance; `Observe` only reads the one named by cloudId
    /// (and cannot be combined with autoscaling).
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// IES endpoint and credentials overriding the operator's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<IesSettings>,
}

/// A service definition of the IES catalog, by id or by name. Set exactly one.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = rules::exactly_one_of("id", "name"))]
pub struct ServiceDefinitionRef {
    /// Service definition id (`serviceDefId`, e.g. 32 hex characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub id: Option<String>,
    /// Service definition name, looked up in the catalog (must match exactly one definition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub name: Option<String>,
}

/// Topology of a CloudVPN service.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum ServiceKind {
    /// Site to site (`Site2SiteList`).
    Site2Site,
    /// Site to data center / cloud VPC (`Site2DCList`).
    #[serde(rename = "Site2DC")]
    Site2Dc,
}

/// A customer site with its CPE device. Every field is optional: which ones the template needs
/// is not documented.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cpe {
    /// Site name (`CPE_x_Site`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub site: Option<String>,
    /// CPE model (`CPE_x_Type`), e.g. `AR169FGW-L`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub type_: Option<String>,
    /// CPE serial number (`CPE_x_ESN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub esn: Option<String>,
    /// Position or location label of the site (`CPE_x_Position`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub position: Option<String>,
    /// Point of presence (`CPE_A_POP`), e.g. `Manager_VPC`. A-end of Site2DC only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub pop: Option<String>,
}

/// Bandwidth autoscaling settings.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.minBandwidth <= self.maxBandwidth")
    .message("autoscaling.minBandwidth must not exceed autoscaling.maxBandwidth")
    .field_path(".minBandwidth"))]
pub struct Autoscaling {
    /// Lowest bandwidth the operator sets (same unit as bandwidth).
    #[schemars(range(min = 1, max = 100_000_000))]
    pub min_bandwidth: i64,
    /// Highest bandwidth the operator sets.
    #[schemars(range(min = 1, max = 100_000_000))]
    pub max_bandwidth: i64,
    /// Utilisation to aim for: the higher of the inbound and outbound traffic rate as a
    /// percentage of the current bandwidth, 1-100. Default 70.
    #[serde(default = "default_target_utilization")]
    #[schemars(range(min = 1, max = 100))]
    pub target_utilization_percent: i64,
    /// Bandwidth changes are rounded up to a multiple of this step. Default: no rounding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100_000_000))]
    pub step: Option<i64>,
    /// Minimum time after any bandwidth change before the next increase, 0-86400 s.
    /// Default 300.
    #[serde(default = "default_scale_up_cooldown")]
    #[schemars(range(min = 0, max = 86_400))]
    pub scale_up_cooldown_seconds: i64,
    /// Minimum time after any bandwidth change before the next decrease, 0-86400 s.
    /// Default 900.
    #[serde(default = "default_scale_down_cooldown")]
    #[schemars(range(min = 0, max = 86_400))]
    pub scale_down_cooldown_seconds: i64,
    /// Traffic window the decision looks at, 60-86400 s: an increase needs the median
    /// utilisation of the window above the target (a single spike is ignored), a decrease needs
    /// even its highest sample below it. Samples older than the last change do not count.
    /// Default 600.
    #[serde(default = "default_window")]
    #[schemars(range(min = 60, max = 86_400))]
    pub window_seconds: i64,
}

fn default_target_utilization() -> i64 {
    70
}
fn default_scale_up_cooldown() -> i64 {
    300
}
fn default_scale_down_cooldown() -> i64 {
    900
}
fn default_window() -> i64 {
    600
}

/// Where and as whom to call the IES API for this object; overrides the operator's defaults.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IesSettings {
    /// Base URL of the IES API including the `/rest` prefix, e.g. `https://ies.example:17100/rest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048), regex(pattern = r"^https?://[^\s]+$"))]
    pub endpoint: Option<String>,
    /// Secret in this namespace with key `authToken` (sent as `X-Auth-Token`) and key
    /// `bearerToken` (sent as `Authorization: Bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,
}

/// Observed state of a CloudVPN service instance.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CloudVpnServiceStatus {
    /// IES service id (`service_id`), recorded right after the create request (or adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    /// IES service `status` as reported (e.g. `Completed`; other values are undocumented).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_state: Option<String>,
    /// IES `active_status` as reported (e.g. `Deactive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_status: Option<String>,
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Synced` and `Scaling` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The cloud account this object uses: where it comes from, the credentials Secret,
    /// project, region and endpoint. Fixed once the cloud resource exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountStatus>,
    /// Service definition id in use (resolved from serviceDefinition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_definition_id: Option<String>,
    /// Template id in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Service instance name in IES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Id of the last create, update or delete operation IES accepted (`operation_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_operation_id: Option<String>,
    /// Kind of the last operation: `create`, `update` or `delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_operation: Option<String>,
    /// When the last operation was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_operation_time: Option<Time>,
    /// Bandwidth IES reports for the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_bandwidth: Option<i64>,
    /// Bandwidth being applied while a change runs (Scaling=True or Updating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_bandwidth: Option<i64>,
    /// The spec.bandwidth the operator last applied. With autoscaling, a spec.bandwidth that
    /// differs from it is a manual change, which the operator applies once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_bandwidth: Option<i64>,
    /// Latest traffic sample of the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficSample>,
    /// The last autoscaling decisions, newest first (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub scaling_history: Vec<ScalingDecision>,
    /// Fields whose cloud value differs from the spec (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub drift: Vec<DriftEntry>,
}

/// Traffic of the line as the CloudVPN monitor reports it (unit as reported; undocumented).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSample {
    /// Inbound traffic rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_rate: Option<f64>,
    /// Outbound traffic rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_rate: Option<f64>,
    /// The higher of the two rates as a percentage of the current bandwidth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_percent: Option<f64>,
    /// Time of the newest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_time: Option<Time>,
}

/// One autoscaling decision.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScalingDecision {
    /// When the decision was made.
    pub time: Time,
    /// Bandwidth before.
    pub from_bandwidth: i64,
    /// Bandwidth requested.
    pub to_bandwidth: i64,
    /// Utilisation that led to the decision, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_percent: Option<f64>,
    /// Condition reason of the decision (`ScalingUp` or `ScalingDown`), or `ManualChange`
    /// (spec.bandwidth changed) / `ExternalChange` (changed in IES) for changes the operator
    /// followed; every kind starts the cooldowns.
    pub reason: String,
    /// Human-readable explanation, e.g. the utilisation against the target.
    #[serde(default)]
    pub message: String,
}

impl_managed!(CloudVpnServiceSpec, CloudVpnServiceStatus);
