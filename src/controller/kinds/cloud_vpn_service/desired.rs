//! What the spec asks of IES: the service name, the parameters, the create and update bodies,
//! and the differences IES cannot change. Pure functions.
use kube::ResourceExt;

use crate::cloud::model::ies::{
    param, OnFailure, ParameterAction, ParameterSet, ServiceInstance, ServiceParameters,
    ServiceRequest, ServiceRequestBody, TopologyList,
};
use crate::controller::runtime::status::FieldDiff;
use crate::crd::cloud_vpn_service::{CloudVpnService, CloudVpnServiceSpec, Cpe, ServiceKind};

/// The default service instance name: `{namespace}_{name}_{uid[..8]}` with `.` turned into
/// `-`, at most 128 characters (collision-resistant, so lookup by name is safe).
pub fn default_service_name(namespace: &str, name: &str, uid: Option<&str>) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let suffix = uid
        .map(|u| {
            u.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(8)
                .collect::<String>()
        })
        .filter(|u| !u.is_empty())
        .map(|u| format!("_{u}"))
        .unwrap_or_default();
    let head: String = format!("{}_{}", clean(namespace), clean(name))
        .chars()
        .take(128 - suffix.len())
        .collect();
    format!("{head}{suffix}")
}

/// The service name to use: recorded in status, else `spec.serviceName`, else the default.
pub fn service_name(obj: &CloudVpnService) -> String {
    obj.status
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .or_else(|| obj.spec.service_name.clone())
        .unwrap_or_else(|| {
            default_service_name(
                &obj.namespace().unwrap_or_default(),
                &obj.name_any(),
                obj.uid().as_deref(),
            )
        })
}

/// The topology list of a kind.
pub fn topology(kind: ServiceKind) -> TopologyList {
    match kind {
        ServiceKind::Site2Site => TopologyList::Site2Site,
        ServiceKind::Site2Dc => TopologyList::Site2Dc,
    }
}

/// The spec's word for a topology list (`Site2Site`, `Site2DC`), or the list's own name.
fn kind_word(list: &TopologyList) -> String {
    match list {
        TopologyList::Site2Site => "Site2Site".into(),
        TopologyList::Site2Dc => "Site2DC".into(),
        other => other.to_string(),
    }
}

/// The parameters of a customer site, with the spec field each comes from.
const CPE_FIELDS: [(&str, &str); 5] = [
    ("Site", "site"),
    ("Type", "type"),
    ("ESN", "esn"),
    ("Position", "position"),
    ("POP", "pop"),
];

/// Every parameter the spec sends, without `action` (values as strings, reference §7.2).
pub fn desired_parameters(spec: &CloudVpnServiceSpec, bandwidth: i64) -> ParameterSet {
    let mut p = ParameterSet::default();
    p.set(param::CLOUD_VPN_NAME, spec.cloud_vpn_name.clone());
    p.set(param::BANDWIDTH, bandwidth.to_string());
    if let Some(v) = spec.vni {
        p.set(param::VNI, v.to_string());
    }
    if let Some(v) = &spec.vpc_id {
        p.set(param::VPC_ID, v.clone());
    }
    let mut cpe = |prefix: &str, c: &Option<Cpe>| {
        let Some(c) = c else { return };
        let values = [&c.site, &c.type_, &c.esn, &c.position, &c.pop];
        for ((key, _), value) in CPE_FIELDS.iter().zip(values) {
            if let Some(v) = value {
                p.set(&format!("{prefix}_{key}"), v.clone());
            }
        }
    };
    cpe("CPE_A", &spec.cpe_a);
    cpe("CPE_Z", &spec.cpe_z);
    if let Some(v) = &spec.cidr {
        p.set(param::CIDR, v.clone());
    }
    if let Some(v) = spec.cidr_block_size {
        p.set(param::CIDR_BLOCK_SIZE, v.to_string());
    }
    for (k, v) in &spec.extra_parameters {
        p.set(k, v.clone());
    }
    p
}

/// The spec field (camelCase path) a parameter comes from.
pub fn spec_field(parameter: &str) -> String {
    let simple = [
        (param::CLOUD_VPN_NAME, "cloudVpnName"),
        (param::BANDWIDTH, "bandwidth"),
        (param::VNI, "vni"),
        (param::VPC_ID, "vpcId"),
        (param::CIDR, "cidr"),
        (param::CIDR_BLOCK_SIZE, "cidrBlockSize"),
    ];
    if let Some((_, field)) = simple.iter().find(|(p, _)| *p == parameter) {
        return field.to_string();
    }
    for (prefix, cpe) in [("CPE_A_", "cpeA"), ("CPE_Z_", "cpeZ")] {
        if let Some(key) = parameter.strip_prefix(prefix) {
            if let Some((_, field)) = CPE_FIELDS.iter().find(|(k, _)| *k == key) {
                return format!("{cpe}.{field}");
            }
        }
    }
    format!("extraParameters.{parameter}")
}

/// The create body (example shape, `action: create`).
pub fn create_request(
    spec: &CloudVpnServiceSpec,
    name: &str,
    definition_id: &str,
    template_id: &str,
) -> ServiceRequest {
    let mut line = desired_parameters(spec, spec.bandwidth);
    line.set(param::ACTION, ParameterAction::Create.as_str());
    ServiceRequest {
        onfailure: Some(OnFailure::Rollback),
        service: ServiceRequestBody {
            name: Some(name.to_string()),
            description: Some(spec.description.clone().unwrap_or_default()),
            service_definition_id: Some(definition_id.to_string()),
            template_id: Some(template_id.to_string()),
            parameters: Some(ServiceParameters::single(&topology(spec.kind), line)),
            nsd_script: None,
        },
    }
}

/// The update body of the deck's bandwidth example: the service's own name, ids and list, and
/// a partial element with `CloudVpnName`, the new `Bandwidth` and `action: update`.
pub fn update_request(
    svc: &ServiceInstance,
    spec: &CloudVpnServiceSpec,
    bandwidth: i64,
    description: &str,
) -> ServiceRequest {
    let list = svc
        .line()
        .map(|(l, _)| l)
        .unwrap_or_else(|| topology(spec.kind));
    let vpn_name = svc
        .cloud_vpn_name()
        .unwrap_or(&spec.cloud_vpn_name)
        .to_string();
    let mut line = ParameterSet::default();
    line.set(param::CLOUD_VPN_NAME, vpn_name);
    line.set(param::BANDWIDTH, bandwidth.to_string());
    line.set(param::ACTION, ParameterAction::Update.as_str());
    ServiceRequest {
        onfailure: Some(OnFailure::Rollback),
        service: ServiceRequestBody {
            name: svc.name.clone(),
            description: Some(description.to_string()),
            service_definition_id: svc.service_definition_id.clone(),
            template_id: svc.template_id.clone(),
            parameters: Some(ServiceParameters::single(&list, line)),
            nsd_script: None,
        },
    }
}

/// Fields IES cannot change that differ between the spec and the instance (the bandwidth and
/// the description are changed, not reported). A parameter the instance does not show is not
/// compared (IES may not echo every template parameter).
pub fn immutable_drift(spec: &CloudVpnServiceSpec, svc: &ServiceInstance) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    let mut add = |field: String, want: &str, have: &str| {
        if want != have {
            out.push(FieldDiff::new(field, want, have, false));
        }
    };
    let want_kind = kind_word(&topology(spec.kind));
    match svc.line() {
        None => add(
            "kind".into(),
            &want_kind,
            "no Site2SiteList or Site2DCList in the parameters",
        ),
        Some((list, line)) => {
            add("kind".into(), &want_kind, &kind_word(&list));
            for (k, v) in &desired_parameters(spec, spec.bandwidth).0 {
                if k == param::BANDWIDTH {
                    continue;
                }
                if let Some(have) = line.get(k) {
                    add(spec_field(k), v, have);
                }
            }
        }
    }
    if let (Some(want), Some(have)) = (&spec.service_definition.id, &svc.service_definition_id) {
        add("serviceDefinition.id".into(), want, have);
    }
    if let (Some(want), Some(have)) = (&spec.template_id, &svc.template_id) {
        add("templateId".into(), want, have);
    }
    out
}
