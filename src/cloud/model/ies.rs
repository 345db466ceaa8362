//! CloudOpera IES wire models: service catalog, service manager and CloudVPN traffic
//! monitoring (`/work/shared/reference/cloudopera-ies-api.md`). Field names exactly as the
//! deck prints them (the catalog is camelCase, the service manager snake_case).
//!
//! The deck is a slide show of Postman captures whose schemas and examples disagree. Decoding
//! therefore accepts every documented shape (reference §7.5, §8.1):
//! - create responses: `{"createServiceResponse": {...}}` (schema), `{"service": {...}}`
//!   (example) or a bare `{...}`; delete: `{"deleteServiceResponse": {...}}` or bare; update:
//!   bare, `{}` or an empty body ([`OperationAccepted`]);
//! - requests: the example shape `{"onfailure", "service": {...}}` and the flat schema shape
//!   (`onfailure` beside `name`); [`ServiceRequest`] decodes both and always encodes the
//!   example shape (DECISION, reference §7.6: the examples are real captures);
//! - `GET /services/{id}`: `{"service": {...}}` (documented) or a bare service;
//! - nullable fields (`nfv_tag`, `tenant_id`, `tenant_name`, `categories`, `description`) are
//!   optional; unknown fields are ignored; enums keep unknown values (`Other`);
//! - parameter values are documented as JSON strings; numbers and booleans are accepted and
//!   kept as their text, `null` drops the key;
//! - metric values are decimal strings of 60-70 digits: kept verbatim in [`MetricValue`] and
//!   parsed leniently to `f64` on demand (never panics).
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// ----- enums -----------------------------------------------------------------------------

wire_enum! {
    /// `status` of a service instance. Only `Completed` is ever shown in the deck; in-progress
    /// and failure values are undocumented. ASSUMPTION: `Processing`, `Deleting` and `Failed`
    /// are the values the simulator uses; a real server may send others (kept in `Other`).
    pub enum ServiceStatus {
        /// The last create/update finished (documented). Not proof that a just-sent update
        /// was applied: compare the parameters too.
        Completed = "Completed",
        /// ASSUMPTION: an operation is running (simulator value).
        Processing = "Processing",
        /// ASSUMPTION: the instance is being deleted (simulator value).
        Deleting = "Deleting",
        /// ASSUMPTION: the last operation failed (simulator value).
        Failed = "Failed",
    }
}

impl ServiceStatus {
    /// True for `Completed`.
    pub fn is_completed(&self) -> bool {
        matches!(self, Self::Completed)
    }

    /// True when the value reads as a failure (`Failed`, or an unknown value containing
    /// "fail" or "error"; ASSUMPTION: the failure values are undocumented).
    pub fn is_failed(&self) -> bool {
        let lower = self.as_str().to_ascii_lowercase();
        lower.contains("fail") || lower.contains("error")
    }
}

wire_enum! {
    /// `active_status` of a service instance. `Deactive` is observed; `Active` is its assumed
    /// counterpart (never shown in the deck). Its meaning is undocumented.
    pub enum ActiveStatus {
        /// ASSUMPTION: the line is active.
        Active = "Active",
        /// Observed (together with `status: Completed` on a preset service).
        Deactive = "Deactive",
    }
}

wire_enum! {
    /// The key of the parameter list inside `parameters`: it selects the topology.
    pub enum TopologyList {
        /// Site to site.
        Site2Site = "Site2SiteList",
        /// Site to data center (cloud VPC).
        Site2Dc = "Site2DCList",
    }
}

wire_enum! {
    /// `onfailure` of create and update requests. Only `rollback` is observed.
    pub enum OnFailure {
        /// Undo the operation when it fails.
        Rollback = "rollback",
    }
}

wire_enum! {
    /// `action` inside a parameter list element: what the template does with the element.
    pub enum ParameterAction {
        /// Sent on POST.
        Create = "create",
        /// Sent on PUT.
        Update = "update",
    }
}

wire_enum! {
    /// Catalog template `type`. Only `VTL` is observed.
    pub enum TemplateType {
        /// Velocity template.
        Vtl = "VTL",
    }
}

wire_enum! {
    /// The `{metric}` path segment of the traffic API. Only `traffic-rate` is observed; the
    /// name of the bandwidth-utilisation metric is not given (ASSUMPTION: the simulator serves
    /// it as `bandwidth-utilization`, in percent).
    pub enum Metric {
        /// Traffic rate of the line (unit undocumented; inferred bit/s).
        TrafficRate = "traffic-rate",
        /// ASSUMPTION: bandwidth utilisation in percent (name not documented).
        BandwidthUtilization = "bandwidth-utilization",
    }
}

wire_enum! {
    /// `direction` query parameter of the traffic API.
    pub enum Direction {
        /// Traffic into the customer site.
        Inbound = "inbound",
        /// Traffic out of the customer site.
        Outbound = "outbound",
    }
}

wire_enum! {
    /// `timedim` query parameter. Only `minute` is observed.
    pub enum TimeDimension {
        /// One point per minute.
        Minute = "minute",
        /// ASSUMPTION: one point per hour (undocumented; the simulator serves it).
        Hour = "hour",
    }
}

wire_enum! {
    /// `indicator` query parameter (used in the example, missing from the parameter table).
    /// Only `max` is observed; `min` and `avg` are guesses.
    pub enum Indicator {
        /// The highest value in each time slot (observed).
        Max = "max",
        /// ASSUMPTION.
        Min = "min",
        /// ASSUMPTION.
        Avg = "avg",
    }
}

// ----- lenient scalars ---------------------------------------------------------------------

/// Deserializes an optional string that may arrive as any JSON scalar (`null` → `None`).
fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(other) => Some(other.to_string()),
    })
}

/// Deserializes an optional integer that may arrive as a number or a numeric string.
fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

// ----- catalog -------------------------------------------------------------------------------

/// A service definition (catalog entry). The details call adds `pkgFileName` and `templates`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDefinition {
    /// The definition id (`serviceDefId`), used as `service_definition_id` elsewhere.
    /// Also accepted as `servicedefId` / `servicedefid` (spellings of the deck).
    #[serde(alias = "servicedefId", alias = "servicedefid")]
    pub service_def_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `null` in the list, `[]` in the details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Value>>,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub offline_at: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub online_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_tenant_type: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ref_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    /// Observed `active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_def: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Details only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkg_file_name: Option<String>,
    /// Details only: the templates; `templates[].id` is the `template_id` of a create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<Vec<ServiceTemplate>>,
}

impl ServiceDefinition {
    /// A definition with only its id set.
    pub fn new(service_def_id: impl Into<String>) -> Self {
        Self {
            service_def_id: service_def_id.into(),
            name: None,
            description: None,
            categories: None,
            created_at: None,
            creator: None,
            domain: None,
            format: None,
            format_version: None,
            offline_at: None,
            online_at: None,
            publish_tenant_type: None,
            ref_count: None,
            service_type: None,
            status: None,
            system_def: None,
            tenant_id: None,
            version: None,
            pkg_file_name: None,
            templates: None,
        }
    }
}

/// A template of a service definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceTemplate {
    /// The `template_id` (32 hex characters in the example). `Template_id` is accepted too.
    #[serde(alias = "Template_id", alias = "template_id")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<TemplateType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `GET /catalog/v1/servicedefs` (`GetServiceDefinitionRsp`). The paging fields are in the
/// schema but missing from the example, so all are optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListServiceDefinitionsResponse {
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_num: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub page_size: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_page_num: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_page: Option<i64>,
    /// `null` is read as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub data: Vec<ServiceDefinition>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

// ----- parameters ----------------------------------------------------------------------------

/// One element of a topology list: parameter name → value, values always text
/// (`"Bandwidth": "60000"`). Numbers and booleans are accepted and kept as text; `null` drops
/// the key.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct ParameterSet(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for ParameterSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Value>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (k, v) in raw {
            let text = match v {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            out.insert(k, text);
        }
        Ok(Self(out))
    }
}

/// The parameter names the deck documents.
pub mod param {
    /// Name of the line; also the `connection-name` of the traffic API. Mandatory.
    pub const CLOUD_VPN_NAME: &str = "CloudVpnName";
    /// Bandwidth (unit undocumented). Mandatory.
    pub const BANDWIDTH: &str = "Bandwidth";
    /// `create` on POST, `update` on PUT; never returned by GET.
    pub const ACTION: &str = "action";
    pub const VNI: &str = "VNI";
    pub const VPC_ID: &str = "VPC_ID";
    pub const CIDR: &str = "cidr";
    pub const CIDR_BLOCK_SIZE: &str = "cidrBlockSize";
}

impl ParameterSet {
    /// A value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets a value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.0.insert(key.to_string(), value.into());
    }

    /// `CloudVpnName`.
    pub fn cloud_vpn_name(&self) -> Option<&str> {
        self.get(param::CLOUD_VPN_NAME)
    }

    /// `Bandwidth` parsed as an integer (the deck writes it as a string, e.g. `"60000"`);
    /// `None` when missing or not a number. A decimal such as `"30000.0"` is accepted.
    pub fn bandwidth(&self) -> Option<i64> {
        let raw = self.get(param::BANDWIDTH)?.trim();
        raw.parse::<i64>().ok().or_else(|| {
            parse_decimal(raw)
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
    }

    /// `action`.
    pub fn action(&self) -> Option<ParameterAction> {
        self.get(param::ACTION).map(ParameterAction::parse)
    }
}

/// `parameters`: topology list key (`Site2SiteList`, `Site2DCList`) → elements. Other keys
/// are kept (templates may define more lists).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceParameters(pub BTreeMap<String, Vec<ParameterSet>>);

impl ServiceParameters {
    /// Parameters with a single list holding one element.
    pub fn single(list: &TopologyList, element: ParameterSet) -> Self {
        Self(BTreeMap::from([(list.as_str().to_string(), vec![element])]))
    }

    /// The first element of the first known topology list (`Site2SiteList`, then
    /// `Site2DCList`), with its list. One CloudVPN service carries one line in every example.
    pub fn line(&self) -> Option<(TopologyList, &ParameterSet)> {
        for list in [TopologyList::Site2Site, TopologyList::Site2Dc] {
            if let Some(first) = self.0.get(list.as_str()).and_then(|v| v.first()) {
                return Some((list, first));
            }
        }
        None
    }

    /// The element of any list whose `CloudVpnName` is `name`.
    pub fn find_line(&self, name: &str) -> Option<(TopologyList, &ParameterSet)> {
        self.0.iter().find_map(|(list, elements)| {
            elements
                .iter()
                .find(|e| e.cloud_vpn_name() == Some(name))
                .map(|e| (TopologyList::parse(list), e))
        })
    }
}

// ----- service manager: requests -------------------------------------------------------------

/// The part of a create/update request that the examples nest under `service`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceRequestBody {
    /// The service instance name (the prose calls it "service_name").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sent as `""` by the examples when there is none.
    #[serde(
        default,
        deserialize_with = "lenient_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// The catalog `serviceDefId`. Required on create; the update example sends it too
    /// (the update schema does not have it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_definition_id: Option<String>,
    /// From the definition details. Same remark as `service_definition_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ServiceParameters>,
    /// In the schema only; never used in an example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsd_script: Option<Value>,
}

/// Body of `POST` and `PUT /servicemanager/v1/services[/{id}]`.
///
/// DECISION (reference §7.6, §8.1 #4): encoded in the example shape
/// `{"onfailure": "rollback", "service": {...}}`, because every working example (real Postman
/// captures) uses it. Decoding also accepts the flat schema shape (`onfailure`, `name`,
/// `parameters`, ... at the top level) so the simulator understands both.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct ServiceRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onfailure: Option<OnFailure>,
    pub service: ServiceRequestBody,
}

impl<'de> Deserialize<'de> for ServiceRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut v = Value::deserialize(d)?;
        let Value::Object(map) = &mut v else {
            return Err(de::Error::custom("the request body must be a JSON object"));
        };
        let onfailure = match map.remove("onfailure") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(OnFailure::parse(&s)),
            Some(_) => return Err(de::Error::custom("onfailure must be a string")),
        };
        let service = match map.remove("service") {
            Some(inner @ Value::Object(_)) => {
                serde_json::from_value(inner).map_err(de::Error::custom)?
            }
            Some(_) => return Err(de::Error::custom("service must be an object")),
            None => serde_json::from_value(Value::Object(std::mem::take(map)))
                .map_err(de::Error::custom)?,
        };
        Ok(Self { onfailure, service })
    }
}

// ----- service manager: responses ------------------------------------------------------------

/// What a create, update or delete returns (202): the ids, whichever wrapper the server used,
/// plus the `Location` header when present (the deck says it points at the task; no example
/// shows it and no task API is documented, so it is informational only).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct OperationAccepted {
    /// Present on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The `Location` response header (not part of the body).
    #[serde(skip)]
    pub location: Option<String>,
}

impl<'de> Deserialize<'de> for OperationAccepted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Self::from_value(&v))
    }
}

impl OperationAccepted {
    /// Wrapper keys the deck shows around the ids.
    pub const WRAPPERS: [&'static str; 4] = [
        "createServiceResponse",
        "deleteServiceResponse",
        "updateServiceResponse",
        "service",
    ];

    /// Reads the ids from any documented shape; an unknown shape gives empty ids.
    pub fn from_value(v: &Value) -> Self {
        let text = |o: &serde_json::Map<String, Value>, k: &str| match o.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let Value::Object(top) = v else {
            return Self::default();
        };
        let inner = Self::WRAPPERS
            .iter()
            .find_map(|w| top.get(*w).and_then(Value::as_object))
            .unwrap_or(top);
        Self {
            service_id: text(inner, "service_id").or_else(|| text(top, "service_id")),
            operation_id: text(inner, "operation_id").or_else(|| text(top, "operation_id")),
            location: None,
        }
    }

    /// Decodes a raw body: empty or whitespace-only is an empty answer (the update schema is
    /// `{}`); anything else must be JSON.
    pub fn from_body(body: &[u8]) -> Result<Self, serde_json::Error> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let v: Value = serde_json::from_slice(body)?;
        Ok(Self::from_value(&v))
    }
}

/// A service instance: an element of `GET /services` (without `parameters`) or the
/// `service` of `GET /services/{id}` (with `parameters`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceInstance {
    pub service_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// The tenant name, e.g. `nbitest_11`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_definition_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_status: Option<ActiveStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ServiceStatus>,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<i64>,
    /// Observed `null` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfv_tag: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name: Option<String>,
    /// `GET /services/{id}` only; the topology list without `action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ServiceParameters>,
}

impl ServiceInstance {
    /// The line of this service (see [`ServiceParameters::line`]).
    pub fn line(&self) -> Option<(TopologyList, &ParameterSet)> {
        self.parameters.as_ref()?.line()
    }

    /// `Bandwidth` of the line.
    pub fn bandwidth(&self) -> Option<i64> {
        self.line()?.1.bandwidth()
    }

    /// `CloudVpnName` of the line.
    pub fn cloud_vpn_name(&self) -> Option<&str> {
        self.line()?.1.cloud_vpn_name()
    }
}

/// `GET /servicemanager/v1/services` (`getServiceListRsp`). `null` is read as empty.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ListServicesResponse {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub services: Vec<ServiceInstance>,
}

/// `GET /servicemanager/v1/services/{id}` (`getServicesRsp`): `{"service": {...}}`; a bare
/// service object is accepted too.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GetServiceResponse {
    pub service: ServiceInstance,
}

impl<'de> Deserialize<'de> for GetServiceResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut v = Value::deserialize(d)?;
        let inner = match v.get_mut("service") {
            Some(s @ Value::Object(_)) => s.take(),
            _ => v,
        };
        let service = serde_json::from_value(inner).map_err(de::Error::custom)?;
        Ok(Self { service })
    }
}

// ----- traffic -------------------------------------------------------------------------------

/// A metric value: the decimal string as sent (60-70 digits), parsed on demand.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MetricValue(pub String);

impl fmt::Debug for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<'de> Deserialize<'de> for MetricValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(match Value::deserialize(d)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            other => other.to_string(),
        }))
    }
}

impl MetricValue {
    /// The value as `f64` (see [`parse_decimal`]); `None` when it is not a finite number.
    pub fn as_f64(&self) -> Option<f64> {
        parse_decimal(&self.0)
    }
}

/// Parses a decimal string of any length to the nearest `f64`, without panicking: digits past
/// double precision carry no information (reference §4.1). Surrounding whitespace, a leading
/// `+`, thousands separators (`_`, `,`) and exponents are tolerated; `NaN`, infinities, empty
/// and non-numeric text give `None`.
pub fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.len() > 4096 {
        return None;
    }
    let ok_chars = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E' | b'_' | b','));
    if !ok_chars || !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let cleaned: String = t.chars().filter(|c| *c != '_' && *c != ',').collect();
    cleaned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// One point of a metric series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Epoch seconds (UTC).
    #[serde(deserialize_with = "lenient_i64")]
    pub time: i64,
    pub value: MetricValue,
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    lenient_opt_i64(d)?.ok_or_else(|| de::Error::custom("time must be an integer (epoch seconds)"))
}

/// `metric` of a traffic response (`ResMetricData`; the array is named `datas` (sic)).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricData {
    /// Not sorted by the server. `data` is accepted as an alias; `null` is read as empty.
    #[serde(default, alias = "data", deserialize_with = "null_as_empty")]
    pub datas: Vec<MetricPoint>,
}

/// `GET /cloudvpnwatch/v1/traffic/connections/{name}/{metric}` (`MetricResponse`).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricResponse {
    /// A missing or `null` metric is read as no points.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metric: MetricData,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Traffic-rate units per unit of `Bandwidth`. ASSUMPTION (neither unit is documented):
/// `Bandwidth` is in kbit/s (the examples use 30000 and 60000) and `traffic-rate` in bit/s
/// (every example value × 75 is an integer: bytes × 8 / 600 s), so a line of bandwidth `b` is
/// full at a rate of `b × 1000`. The operator's utilisation and the simulator use this.
pub const TRAFFIC_RATE_PER_BANDWIDTH_UNIT: f64 = 1000.0;

/// A decoded sample: time and value as `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Epoch seconds.
    pub time: i64,
    pub value: f64,
}

impl MetricResponse {
    /// The points as numbers, sorted by time (the server does not sort); points whose value
    /// does not parse are skipped, and duplicate times keep the highest value.
    pub fn samples(&self) -> Vec<Sample> {
        let mut out: Vec<Sample> = self
            .metric
            .datas
            .iter()
            .filter_map(|p| {
                p.value.as_f64().map(|value| Sample {
                    time: p.time,
                    value,
                })
            })
            .collect();
        out.sort_by(|a, b| a.time.cmp(&b.time).then(a.value.total_cmp(&b.value)));
        // Keep the last (highest) of equal times.
        let mut dedup: Vec<Sample> = Vec::with_capacity(out.len());
        for s in out {
            match dedup.last_mut() {
                Some(last) if last.time == s.time => *last = s,
                _ => dedup.push(s),
            }
        }
        dedup
    }
}

/// Query of the traffic API. All but `indicator` are required by the parameter table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficQuery {
    pub direction: Direction,
    pub timedim: TimeDimension,
    /// Epoch seconds (UTC).
    pub starttime: i64,
    /// Epoch seconds (UTC).
    pub endtime: i64,
    /// Used by the example (`max`), missing from the table: sent when set.
    pub indicator: Option<Indicator>,
}

impl TrafficQuery {
    /// The query pairs, in the order of the example.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut q = vec![
            ("starttime".to_string(), self.starttime.to_string()),
            ("endtime".to_string(), self.endtime.to_string()),
            ("timedim".to_string(), self.timedim.to_string()),
            ("direction".to_string(), self.direction.to_string()),
        ];
        if let Some(i) = &self.indicator {
            q.push(("indicator".to_string(), i.to_string()));
        }
        q
    }
}

#[cfg(test)]
mod tests;
