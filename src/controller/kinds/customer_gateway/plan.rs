//! What to do with a customer gateway: pure functions of the spec, the inputs and the
//! observation. Only the name, the CA certificate and the tags can change (tags through the tag
//! API); `idType`, `idValue` and `bgpAsn` cannot, so a difference there (after adoption) is
//! reported as drift and never touched.
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::cloud::model::{
    CaCertificateRequest, CreateCustomerGatewayRequestBody, ResponseCustomerGateway,
    UpdateCustomerGatewayRequestBody, VpnResourceTag,
};
use crate::controller::runtime::lookup::Absent;
use crate::controller::runtime::ownership::{render_tags, tag_diff, TagDiff, TAG_OWNER, TAG_UID};
use crate::controller::runtime::status::FieldDiff;
use crate::crd::common::ManagementPolicy;
use crate::crd::customer_gateway::IdType;
use crate::crd::{CustomerGateway, CustomerGatewaySpec, VpnConnection};

use super::{Inputs, Lookup as Observed};

/// What one reconcile does with the customer gateway.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing exists: create. `replaces`: the recorded customer gateway that is gone.
    Create {
        body: Box<CreateCustomerGatewayRequestBody>,
        replaces: Option<String>,
    },
    /// The customer gateway the object points at (`spec.cloudId`, or observe-only) does not
    /// exist; the operator creates none.
    Missing { id: String },
    /// Observe only: report what was found, change nothing.
    Report,
    /// It exists: run these changes (both may be empty).
    Sync {
        id: String,
        update: Option<Update>,
        tags: TagDiff,
    },
    /// Deleting: VpnConnections still use it; they go first.
    WaitForDependents(Vec<String>),
    /// Deleting: nothing in the cloud (`Some`: this id answered 404).
    Gone(Option<String>),
    /// Deleting: it belongs to another object (named); it stays.
    LeaveForeign { id: String, owner: String },
    /// Deleting: delete it (synchronous: done when the call returns).
    Delete { id: String },
}

impl Plan {
    /// Whether carrying out the plan writes to the cloud (see `Managed::writes`).
    pub fn writes(&self) -> bool {
        match self {
            Plan::Create { .. } | Plan::Delete { .. } => true,
            Plan::Sync { update, tags, .. } => update.is_some() || !tags.is_empty(),
            Plan::Missing { .. }
            | Plan::Report
            | Plan::WaitForDependents(_)
            | Plan::Gone(_)
            | Plan::LeaveForeign { .. } => false,
        }
    }
}

/// Decides what to do with the object's customer gateway.
pub fn plan(obj: &CustomerGateway, inputs: &Inputs, found: &Observed) -> Plan {
    let spec = &obj.spec;
    if obj.metadata.deletion_timestamp.is_some() {
        return deletion(inputs, found);
    }
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    if let Some(seen) = found.resource() {
        if observe_only {
            return Plan::Report;
        }
        let prev_ca = obj
            .status
            .as_ref()
            .and_then(|s| s.ca_certificate_sha256.as_deref());
        return Plan::Sync {
            id: seen.cgw.id.clone(),
            update: desired_update(spec, &inputs.name, &seen.cgw, prev_ca),
            tags: tag_diff(&inputs.tags, &seen.tags),
        };
    }
    let create = |replaces| Plan::Create {
        body: Box::new(desired_create(spec, &inputs.name, inputs.tags.clone())),
        replaces,
    };
    match found.absent(spec.cloud_id.as_deref(), observe_only) {
        Absent::Create => create(None),
        Absent::Recreate { gone } => create(Some(gone)),
        Absent::Missing { id } => Plan::Missing {
            id: id.unwrap_or_default(),
        },
    }
}

/// Deleting: the connections that use it first; one that is gone or another object's is done
/// with.
fn deletion(inputs: &Inputs, found: &Observed) -> Plan {
    if !inputs.dependants.is_empty() {
        return Plan::WaitForDependents(inputs.dependants.clone());
    }
    let Some(seen) = found.resource() else {
        return Plan::Gone(found.gone.clone());
    };
    let id = seen.cgw.id.clone();
    match &found.foreign {
        Some(owner) => Plan::LeaveForeign {
            id,
            owner: owner.clone(),
        },
        None => Plan::Delete { id },
    }
}

/// Hex SHA-256 of a text (CA certificate content; never a secret here, but never stored whole).
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The wire spelling of an id type.
pub fn wire_id_type(t: IdType) -> crate::cloud::model::IdType {
    match t {
        IdType::Ip => crate::cloud::model::IdType::Ip,
        IdType::Fqdn => crate::cloud::model::IdType::Fqdn,
    }
}

fn wire_asn(asn: Option<i64>) -> Option<u64> {
    asn.and_then(|a| u64::try_from(a).ok())
}

/// The create body: everything in the spec plus the owner tags.
pub fn desired_create(
    spec: &CustomerGatewaySpec,
    name: &str,
    tags: Vec<VpnResourceTag>,
) -> CreateCustomerGatewayRequestBody {
    CreateCustomerGatewayRequestBody {
        name: Some(name.to_string()),
        id_type: Some(wire_id_type(spec.id_type)),
        id_value: spec.id_value.clone(),
        bgp_asn: wire_asn(spec.bgp_asn),
        ca_certificate: spec.ca_certificate.as_ref().map(|c| CaCertificateRequest {
            id: c.id.clone(),
            content: c.content.clone(),
        }),
        tags: (!tags.is_empty()).then_some(tags),
    }
}

/// A PUT that makes the updatable fields match, and the spec fields it changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The PUT body.
    pub body: UpdateCustomerGatewayRequestBody,
    /// The spec fields it changes (for the event).
    pub fields: Vec<&'static str>,
}

/// The PUT body for the name and CA certificate, or `None` when they match. The certificate
/// content cannot be read back, so it is sent when its hash differs from the one recorded after
/// the last upload (`prev_ca_sha256`), or when the cloud has no certificate at all.
pub fn desired_update(
    spec: &CustomerGatewaySpec,
    name: &str,
    observed: &ResponseCustomerGateway,
    prev_ca_sha256: Option<&str>,
) -> Option<Update> {
    let mut body = UpdateCustomerGatewayRequestBody::default();
    let mut fields = Vec::new();
    if observed.name.as_deref() != Some(name) {
        body.name = Some(name.to_string());
        fields.push("name");
    }
    if let Some(ca) = &spec.ca_certificate {
        let observed_ca = observed.ca_certificate.as_ref();
        let id_differs =
            ca.id.is_some() && observed_ca.and_then(|c| c.id.as_ref()) != ca.id.as_ref();
        let content_differs = ca.content.as_deref().is_some_and(|content| {
            observed_ca.is_none() || prev_ca_sha256 != Some(sha256_hex(content).as_str())
        });
        if id_differs || content_differs {
            body.ca_certificate = Some(CaCertificateRequest {
                id: ca.id.clone(),
                content: ca.content.clone(),
            });
            fields.push("caCertificate");
        }
    }
    (!fields.is_empty()).then_some(Update { body, fields })
}

const NONE: &str = "<none>";

fn user_tags(tags: &[VpnResourceTag]) -> Vec<VpnResourceTag> {
    tags.iter()
        .filter(|t| t.key != TAG_UID && t.key != TAG_OWNER)
        .cloned()
        .collect()
}

/// Fields whose cloud value differs from the spec. Optional fields the spec leaves unset are
/// not compared (the cloud's defaults are not drift); the certificate content cannot be read
/// back, so only its presence is compared; owner tags are the operator's and not reported.
pub fn drift(
    spec: &CustomerGatewaySpec,
    name: &str,
    tags: &[VpnResourceTag],
    observed: &ResponseCustomerGateway,
    observed_tags: &[VpnResourceTag],
) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    let shown = |v: Option<&str>| v.unwrap_or(NONE).to_string();
    if observed.name.as_deref() != Some(name) {
        out.push(FieldDiff::new(
            "name",
            name,
            shown(observed.name.as_deref()),
            true,
        ));
    }
    let want_type = wire_id_type(spec.id_type);
    if let Some(t) = &observed.id_type {
        if !t.as_str().eq_ignore_ascii_case(want_type.as_str()) {
            out.push(FieldDiff::new(
                "idType",
                want_type.as_str(),
                t.as_str(),
                false,
            ));
        }
    }
    if let Some(v) = &observed.id_value {
        if *v != spec.id_value {
            out.push(FieldDiff::new("idValue", &spec.id_value, v, false));
        }
    }
    if let Some(asn) = spec.bgp_asn {
        if wire_asn(Some(asn)) != observed.bgp_asn {
            let seen = observed.bgp_asn.map_or(NONE.to_string(), |a| a.to_string());
            out.push(FieldDiff::new("bgpAsn", asn.to_string(), seen, false));
        }
    }
    let observed_ca = observed.ca_certificate.as_ref();
    match &spec.ca_certificate {
        Some(ca) => {
            if let Some(id) = &ca.id {
                let seen = observed_ca.and_then(|c| c.id.as_deref());
                if seen != Some(id.as_str()) {
                    out.push(FieldDiff::new("caCertificate.id", id, shown(seen), true));
                }
            } else if observed_ca.is_none() {
                out.push(FieldDiff::new("caCertificate", "set", NONE, true));
            }
        }
        None => {
            if let Some(c) = observed_ca {
                // The API has no way to remove a certificate.
                let seen = c
                    .serial_number
                    .as_deref()
                    .map_or("set".to_string(), |s| format!("serial {s}"));
                out.push(FieldDiff::new("caCertificate", NONE, seen, false));
            }
        }
    }
    let (want, seen) = (user_tags(tags), user_tags(observed_tags));
    if !tag_diff(&want, &seen).is_empty() {
        let render = |t: &[VpnResourceTag]| {
            if t.is_empty() {
                NONE.to_string()
            } else {
                render_tags(t)
            }
        };
        out.push(FieldDiff::new("tags", render(&want), render(&seen), true));
    }
    out
}

/// Names of the VpnConnections (in the customer gateway's namespace) that still use it: by
/// `customerGatewayRef.name`, by `customerGatewayRef.cloudId`, or by the customer gateway id
/// recorded in their status (a connection moving to another customer gateway).
pub fn dependents<'a>(
    connections: impl IntoIterator<Item = &'a VpnConnection>,
    name: &str,
    cloud_id: Option<&str>,
) -> Vec<String> {
    let mut names: Vec<String> = connections
        .into_iter()
        .filter(|c| {
            let r = &c.spec.customer_gateway_ref;
            let by_name = r.name.as_deref() == Some(name);
            let by_id = cloud_id.is_some()
                && (r.cloud_id.as_deref() == cloud_id
                    || c.status
                        .as_ref()
                        .and_then(|s| s.customer_gateway_id.as_deref())
                        == cloud_id);
            by_name || by_id
        })
        .map(|c| c.name_any())
        .collect();
    names.sort();
    names.dedup();
    names
}
