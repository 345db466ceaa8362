//! What to do with a gateway: pure functions of the spec, the inputs and the observation.
use std::collections::BTreeSet;

use crate::cloud::model::common::VpnResourceTag;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::gateway::{
    AttachmentType as WireAttachment, ChargeMode as WireChargeMode, CreateRequestEip,
    CreateVpnGatewayRequestBody, EipType as WireEipType, GatewayFlavor, GatewayStatus,
    HaMode as WireHaMode, IpVersion as WireIpVersion, NetworkType as WireNetworkType,
    PolicyTemplate as WirePolicyTemplate, ResponseEip, ResponseVpnGateway,
    UpdateVpnGatewayRequestBody, UpgradeAction,
};
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::Absent;
use crate::controller::runtime::ownership::{render_tags, tag_diff, TagDiff};
use crate::controller::runtime::quota;
use crate::controller::runtime::status::FieldDiff;
use crate::controller::runtime::wire::enum_str;
use crate::crd::common::ManagementPolicy;
use crate::crd::vpn_gateway::{EipSpec, VpnGateway, VpnGatewaySpec};
use crate::crd::UPGRADE_ANNOTATION;

use super::certificate::{self, Step as CertificateStep};
use super::upgrade::{self, Facts, Step as UpgradeStep, Why};
use super::{Inputs, Observed};

/// The next step for a gateway.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// No gateway: create one. `replaces`: the recorded gateway that is gone.
    Create {
        body: Box<CreateVpnGatewayRequestBody>,
        replaces: Option<String>,
    },
    /// The gateway the object points at (`spec.cloudId`, or observe-only) does not exist; the
    /// operator creates none. `None`: observe-only without an id.
    Missing { id: Option<String> },
    /// Observe only: report what is there.
    Report,
    /// The cloud is busy with an operation; look again soon.
    Wait,
    /// The gateway failed or is frozen; nothing the operator can change.
    Broken,
    /// PUT the updatable fields that differ.
    Update {
        id: String,
        body: Box<UpdateVpnGatewayRequestBody>,
        fields: Vec<String>,
    },
    /// Change the flavor.
    Resize { id: String, flavor: GatewayFlavor },
    /// Align tags.
    Retag { id: String, diff: TagDiff },
    /// Call the upgrade API (`start`, `finish`, `rollback`), and why.
    Upgrade {
        id: String,
        action: UpgradeAction,
        why: Why,
    },
    /// GM gateways: import or update the certificate from the Secret (whose hash is `sha256`).
    Certificate {
        id: String,
        step: CertificateStep,
        sha256: String,
    },
    /// Nothing to do.
    InSync,
    /// Deleting: VpnConnections still use the gateway; they go first.
    WaitForDependents(Vec<String>),
    /// Deleting: the gateway is gone from the cloud.
    Gone,
    /// Deleting: the gateway belongs to another object (named); it stays.
    LeaveForeign { id: String, owner: String },
    /// Deleting: the cloud is busy with the gateway (`PENDING_*`); delete when it is done.
    AwaitDeletion { id: String, state: GatewayStatus },
    /// Deleting: delete its finished jobs, then the gateway.
    Delete { id: String },
}

impl Plan {
    /// Whether carrying out the plan writes to the cloud (see `Managed::writes`).
    pub fn writes(&self) -> bool {
        match self {
            Plan::Create { .. }
            | Plan::Update { .. }
            | Plan::Resize { .. }
            | Plan::Retag { .. }
            | Plan::Upgrade { .. }
            | Plan::Certificate { .. }
            | Plan::Delete { .. } => true,
            Plan::Missing { .. }
            | Plan::Report
            | Plan::Wait
            | Plan::Broken
            | Plan::InSync
            | Plan::WaitForDependents(_)
            | Plan::Gone
            | Plan::LeaveForeign { .. }
            | Plan::AwaitDeletion { .. } => false,
        }
    }
}

/// Decides what to do with the object's gateway. Fails when a create would exceed the
/// gateway quota, or the certificates' Secret cannot be used.
pub fn plan(obj: &VpnGateway, inputs: &Inputs, found: &Observed, now: &Time) -> Result<Plan> {
    let spec = &obj.spec;
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(deletion(inputs, found));
    }
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    if let Some(gw) = found.gateway() {
        return match observe_only {
            true => Ok(Plan::Report),
            false => changes(obj, inputs, found, gw, now),
        };
    }
    let create = |replaces| -> Result<Plan> {
        quota::check(found.quota.as_ref(), "VPN gateways")?;
        // A GM gateway is made once the certificates it will need can be read.
        if let Some(Err(problem)) = &inputs.certificate {
            return Err(problem.clone().into());
        }
        Ok(Plan::Create {
            body: Box::new(desired_create(spec, &inputs.name, &inputs.tags)),
            replaces,
        })
    };
    match found.found.absent(spec.cloud_id.as_deref(), observe_only) {
        Absent::Create => create(None),
        Absent::Recreate { gone } => create(Some(gone)),
        Absent::Missing { id } => Ok(Plan::Missing { id }),
    }
}

/// Deleting: dependants first, then wait for the cloud to be idle (an upgrade waiting for
/// confirmation is finished first: the gateway refuses a delete until then), then delete; a
/// gateway that is gone or another object's is done with.
fn deletion(inputs: &Inputs, found: &Observed) -> Plan {
    if !inputs.dependants.is_empty() {
        return Plan::WaitForDependents(inputs.dependants.clone());
    }
    let Some(gw) = found.gateway() else {
        return Plan::Gone;
    };
    if let Some(owner) = &found.found.foreign {
        return Plan::LeaveForeign {
            id: gw.id.clone(),
            owner: owner.clone(),
        };
    }
    match gw.status.clone().unwrap_or(GatewayStatus::PendingCreate) {
        GatewayStatus::PendingUpgradeConfirm => Plan::Upgrade {
            id: gw.id.clone(),
            action: UpgradeAction::Finish,
            why: Why::Deleting,
        },
        s if s.is_transitional() => Plan::AwaitDeletion {
            id: gw.id.clone(),
            state: s,
        },
        _ => Plan::Delete { id: gw.id.clone() },
    }
}

/// The upgrade facts of an existing gateway (for [`upgrade::decide`] and its status).
pub fn upgrade_facts<'a>(
    obj: &'a VpnGateway,
    found: &'a Observed,
    state: &'a GatewayStatus,
    now: &'a Time,
) -> Facts<'a> {
    let spec = obj.spec.upgrade.clone().unwrap_or_default();
    Facts {
        policy: spec.policy,
        window: std::time::Duration::from_secs(spec.confirm_window_seconds.max(0) as u64),
        annotation: obj
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(UPGRADE_ANNOTATION))
            .map(String::as_str),
        prev: obj.status.as_ref().and_then(|s| s.upgrade.as_ref()),
        state,
        job: found.jobs.as_deref().and_then(upgrade::newest),
        connections: found.connections.as_deref(),
        now,
    }
}

/// What to change on an existing gateway, one change per reconcile (each leaves the gateway
/// busy, and a second call before it is ACTIVE again would be refused): a `finish` or
/// `rollback` the upgrade waits for comes first; then, on an ACTIVE gateway, the GM
/// certificate, the updatable fields, the flavor, the tags, and last an upgrade `start`.
pub fn changes(
    obj: &VpnGateway,
    inputs: &Inputs,
    found: &Observed,
    gw: &ResponseVpnGateway,
    now: &Time,
) -> Result<Plan> {
    let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    let id = gw.id.clone();
    let step = upgrade::decide(&upgrade_facts(obj, found, &state, now));
    match (&step, &state) {
        (UpgradeStep::Call { action, why }, s) if *s != GatewayStatus::Active => {
            return Ok(Plan::Upgrade {
                id,
                action: action.clone(),
                why: why.clone(),
            })
        }
        (_, GatewayStatus::Active) => {}
        (_, GatewayStatus::Fault | GatewayStatus::Freezed) => return Ok(Plan::Broken),
        _ => return Ok(Plan::Wait),
    }
    let recorded = obj
        .status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .and_then(|c| c.secret_sha256.as_deref());
    let seen = found.certificate.as_ref().map(Option::as_ref);
    if let Some(seen) = seen {
        if let Some((step, sha256)) =
            certificate::plan(inputs.certificate.as_ref(), seen, recorded)?
        {
            return Ok(Plan::Certificate { id, step, sha256 });
        }
    }
    let plan = fields(&obj.spec, &inputs.name, &inputs.tags, gw);
    match (plan, step) {
        (Plan::InSync, UpgradeStep::Call { action, why }) => Ok(Plan::Upgrade { id, action, why }),
        (plan, _) => Ok(plan),
    }
}

/// The field, flavor and tag changes of an ACTIVE gateway. Updatable fields (reference §1.3):
/// name, localSubnets(V6), bound EIP ids, policyTemplate (PUT); flavor (update-specification);
/// tags (tag API).
pub fn fields(
    spec: &VpnGatewaySpec,
    name: &str,
    tags: &[VpnResourceTag],
    gw: &ResponseVpnGateway,
) -> Plan {
    let id = gw.id.clone();
    let (body, fields) = desired_update(spec, name, gw);
    if !fields.is_empty() {
        return Plan::Update {
            id,
            body: Box::new(body),
            fields,
        };
    }
    let flavor = GatewayFlavor::parse(&enum_str(&spec.flavor));
    if gw.flavor.as_ref() != Some(&flavor) {
        return Plan::Resize { id, flavor };
    }
    let diff = tag_diff(tags, gw.tags.as_deref().unwrap_or_default());
    if !diff.is_empty() {
        return Plan::Retag { id, diff };
    }
    Plan::InSync
}

/// The create body for the spec.
pub fn desired_create(
    spec: &VpnGatewaySpec,
    name: &str,
    tags: &[VpnResourceTag],
) -> CreateVpnGatewayRequestBody {
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    CreateVpnGatewayRequestBody {
        name: Some(name.to_string()),
        network_type: Some(WireNetworkType::parse(&enum_str(&spec.network_type))),
        attachment_type: Some(WireAttachment::parse(&enum_str(&spec.attachment_type))),
        ip_version: Some(WireIpVersion::parse(&enum_str(&spec.ip_version))),
        er_id: spec.er_id.clone(),
        vpc_id: spec.vpc_id.clone(),
        local_subnets: non_empty(&spec.local_subnets),
        local_subnets_v6: non_empty(&spec.local_subnets_v6),
        connect_subnet: spec.connect_subnet.clone(),
        bgp_asn: u64::try_from(spec.bgp_asn).ok(),
        flavor: Some(GatewayFlavor::parse(&enum_str(&spec.flavor))),
        availability_zone_ids: non_empty(&spec.availability_zone_ids),
        enterprise_project_id: spec.enterprise_project_id.clone(),
        eip1: spec.eip1.as_ref().map(create_eip),
        eip2: spec.eip2.as_ref().map(create_eip),
        access_vpc_id: spec.access_vpc_id.clone(),
        access_subnet_id: spec.access_subnet_id.clone(),
        ha_mode: Some(WireHaMode::parse(&enum_str(&spec.ha_mode))),
        access_private_ip_1: spec.access_private_ip1.clone(),
        access_private_ip_2: spec.access_private_ip2.clone(),
        tags: (!tags.is_empty()).then(|| tags.to_vec()),
    }
}

fn create_eip(e: &EipSpec) -> CreateRequestEip {
    CreateRequestEip {
        id: e.id.clone(),
        eip_type: e.type_.map(|t| WireEipType::parse(&enum_str(&t))),
        charge_mode: e.charge_mode.map(|c| WireChargeMode::parse(&enum_str(&c))),
        bandwidth_size: e.bandwidth_size.and_then(|b| u32::try_from(b).ok()),
        bandwidth_name: e.bandwidth_name.clone(),
        bandwidth_id: e.bandwidth_id.clone(),
    }
}

pub fn policy_template(spec: &VpnGatewaySpec) -> Option<WirePolicyTemplate> {
    // The CRD and wire shapes differ only in naming (camelCase vs snake_case with the same words).
    let t = spec.policy_template.as_ref()?;
    let json = serde_json::to_value(t).ok()?;
    serde_json::from_value(camel_to_snake_keys(json)).ok()
}

fn camel_to_snake_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                let mut s = String::new();
                for c in k.chars() {
                    if c.is_ascii_uppercase() {
                        s.push('_');
                        s.push(c.to_ascii_lowercase());
                    } else {
                        s.push(c);
                    }
                }
                (s, camel_to_snake_keys(v))
            })
            .collect(),
        other => other,
    }
}

/// The PUT body with only the updatable fields that differ, and their spec names.
pub fn desired_update(
    spec: &VpnGatewaySpec,
    name: &str,
    gw: &ResponseVpnGateway,
) -> (UpdateVpnGatewayRequestBody, Vec<String>) {
    let mut body = UpdateVpnGatewayRequestBody::default();
    let mut fields = Vec::new();
    if gw.name.as_deref() != Some(name) {
        body.name = Some(name.to_string());
        fields.push("name".to_string());
    }
    if !spec.local_subnets.is_empty() && !same_set(&spec.local_subnets, gw.local_subnets.as_deref())
    {
        body.local_subnets = Some(spec.local_subnets.clone());
        fields.push("localSubnets".to_string());
    }
    if !spec.local_subnets_v6.is_empty()
        && !same_set(&spec.local_subnets_v6, gw.local_subnets_v6.as_deref())
    {
        body.local_subnets_v6 = Some(spec.local_subnets_v6.clone());
        fields.push("localSubnetsV6".to_string());
    }
    let eip_id = |e: &Option<EipSpec>| e.as_ref().and_then(|e| e.id.clone());
    let observed_id = |e: &Option<ResponseEip>| e.as_ref().and_then(|e| e.id.clone());
    if let Some(id) = eip_id(&spec.eip1) {
        if observed_id(&gw.eip1).as_deref() != Some(id.as_str()) {
            body.eip_id_1 = Some(id);
            fields.push("eip1.id".to_string());
        }
    }
    if let Some(id) = eip_id(&spec.eip2) {
        if observed_id(&gw.eip2).as_deref() != Some(id.as_str()) {
            body.eip_id_2 = Some(id);
            fields.push("eip2.id".to_string());
        }
    }
    if let Some(t) = policy_template(spec) {
        if gw.policy_template.as_ref() != Some(&t) {
            body.policy_template = Some(t);
            fields.push("policyTemplate".to_string());
        }
    }
    (body, fields)
}

fn same_set(want: &[String], have: Option<&[String]>) -> bool {
    let a: BTreeSet<&str> = want.iter().map(String::as_str).collect();
    let b: BTreeSet<&str> = have
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    a == b
}

/// Differences between spec and cloud, immutable fields included (e.g. after adoption).
pub fn drift(
    spec: &VpnGatewaySpec,
    name: &str,
    tags: &[VpnResourceTag],
    gw: &ResponseVpnGateway,
) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    let mut add = |field: &str, desired: String, observed: String, updatable: bool| {
        if desired != observed {
            out.push(FieldDiff::new(field, desired, observed, updatable));
        }
    };
    let opt = |s: Option<&str>| s.unwrap_or("").to_string();
    add("name", name.into(), opt(gw.name.as_deref()), true);
    if !spec.local_subnets.is_empty() && !same_set(&spec.local_subnets, gw.local_subnets.as_deref())
    {
        let observed = gw.local_subnets.clone().unwrap_or_default().join(",");
        add("localSubnets", spec.local_subnets.join(","), observed, true);
    }
    if let Some(f) = &gw.flavor {
        add("flavor", enum_str(&spec.flavor), f.to_string(), true);
    }
    if let Some(n) = &gw.network_type {
        add(
            "networkType",
            enum_str(&spec.network_type),
            n.to_string(),
            false,
        );
    }
    if let Some(a) = &gw.attachment_type {
        add(
            "attachmentType",
            enum_str(&spec.attachment_type),
            a.to_string(),
            false,
        );
    }
    if spec.vpc_id.is_some() && gw.vpc_id.is_some() {
        add(
            "vpcId",
            opt(spec.vpc_id.as_deref()),
            opt(gw.vpc_id.as_deref()),
            false,
        );
    }
    if spec.connect_subnet.is_some() && gw.connect_subnet.is_some() {
        let (want, have) = (
            opt(spec.connect_subnet.as_deref()),
            opt(gw.connect_subnet.as_deref()),
        );
        add("connectSubnet", want, have, false);
    }
    if let Some(asn) = gw.bgp_asn {
        add("bgpAsn", spec.bgp_asn.to_string(), asn.to_string(), false);
    }
    if let Some(h) = &gw.ha_mode {
        add("haMode", enum_str(&spec.ha_mode), h.to_string(), false);
    }
    let observed_tags = gw.tags.as_deref().unwrap_or_default();
    if !tag_diff(tags, observed_tags).is_empty() {
        add("tags", render_tags(tags), render_tags(observed_tags), true);
    }
    out
}
