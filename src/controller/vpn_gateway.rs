//! `VpnGateway` reconciler: observe the gateway in the cloud, plan the difference to the
//! spec as a pure function, act through the VPN v5 API, and report status.
//!
//! Gateway operations are asynchronous (reference §1.4): create answers with an id and the
//! gateway goes `PENDING_CREATE` → `ACTIVE`; PUT and update-specification go through
//! `PENDING_UPDATE`; delete goes `PENDING_DELETE` and is finished when GET answers 404.
use std::collections::BTreeSet;
use std::sync::Arc;

use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use super::backoff::pending_requeue;
use super::context::{Context, Note};
use super::error::{Error, Result};
use super::events;
use super::ownership::{self, render_tags, tag_diff, Ownership, TagDiff};
use super::pending::fallback_requeue;
use super::reconciler::{mark, observation_age, Managed, Outcome};
use super::status::{drift_entries, new_drift, FieldDiff};
use super::wire::{enum_str, pending_for};
use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::gateway::{
    AttachmentType as WireAttachment, ChargeMode as WireChargeMode, CreateRequestEip,
    CreateVpnGatewayRequestBody, EipType as WireEipType, GatewayFlavor, GatewayStatus,
    HaMode as WireHaMode, IpVersion as WireIpVersion, NetworkType as WireNetworkType,
    PolicyTemplate as WirePolicyTemplate, ResponseEip, ResponseVpnGateway,
    UpdateVpnGatewayRequestBody,
};
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::VpnClient;
use crate::crd::common::{
    find_condition, reasons, types, CloudSettings, ConditionStatus, DriftEntry, ManagementPolicy,
};
use crate::crd::vpn_gateway::{EipSpec, ObservedEip, VpnGateway, VpnGatewaySpec, VpnGatewayStatus};

impl Managed for VpnGateway {
    const KIND: &'static str = "VpnGateway";
    type Spec = VpnGatewaySpec;
    type Status = VpnGatewayStatus;

    fn cloud_settings(&self) -> Option<&CloudSettings> {
        self.spec.cloud.as_ref()
    }

    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        let id = self.status.as_ref()?.cloud_id.clone()?;
        Some((TagResourceType::VpnGateway, id))
    }

    fn starts_new_work(&self) -> bool {
        super::reconciler::not_started(self.status.as_ref())
    }

    async fn apply(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Outcome<VpnGatewayStatus>> {
        let cloud = ctx
            .clouds
            .vpn(&obj.cloud_override())
            .await?
            .observing(observation_age(&*obj, &ctx));
        let found = observe(&cloud, &obj).await?;
        let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
        // Whichever way it was found (adoption, or an id recorded while observing), another
        // object's gateway is never managed by this one.
        if let Some(owner) = found
            .gateway
            .as_ref()
            .filter(|_| !observe_only)
            .and_then(|g| foreign_owner(g, &obj.uid().unwrap_or_default()))
        {
            return Err(Error::OwnershipConflict(format!(
                "VPN gateway {} is managed by {owner} (its {} tag names another object); refusing \
                 to adopt it. Use managementPolicy Observe to only read it",
                found.id(),
                ownership::TAG_UID
            )));
        }
        let name = ownership::cloud_name(obj.spec.name.as_deref(), &obj.name_any());
        let tags = ownership::desired_tags(&ctx.settings.cluster_name, &*obj, &obj.spec.tags);
        ownership::check_tag_count(&tags)?;
        let plan = plan(&obj.spec, &name, &tags, found.gateway.as_ref());
        let mut notes = found.notes.clone();
        let previous = obj.status.clone().unwrap_or_default();

        let observed = match (&plan, observe_only) {
            (Plan::Create(body), false) => {
                let gw = cloud.create_gateway(body).await;
                cloud.attempted_create(&obj.uid().unwrap_or_default());
                let gw = gw?;
                notes.push(Note::normal(
                    events::CREATED,
                    "CreateVpnGateway",
                    format!(
                        "created VPN gateway {} ({name}); waiting for it to become ACTIVE",
                        gw.id
                    ),
                ));
                Some(ResponseVpnGateway {
                    status: Some(gw.status.clone().unwrap_or(GatewayStatus::PendingCreate)),
                    ..gw
                })
            }
            (Plan::Update { body, fields }, false) => {
                let id = found.id();
                let _lock = ctx.gateway_locks.lock(&id).await;
                let gw = cloud.update_gateway(&id, body).await?;
                notes.push(Note::normal(
                    events::UPDATED,
                    "UpdateVpnGateway",
                    format!("updated {} of VPN gateway {id}", fields.join(", ")),
                ));
                Some(pending_after_update(gw, found.gateway.as_ref()))
            }
            (Plan::Resize(flavor), false) => {
                let id = found.id();
                let _lock = ctx.gateway_locks.lock(&id).await;
                let gw = cloud.update_gateway_specification(&id, flavor).await?;
                notes.push(Note::normal(
                    events::UPDATED,
                    "UpdateVpnGatewaySpecification",
                    format!("changed the flavor of VPN gateway {id} to {flavor}"),
                ));
                Some(pending_after_update(gw, found.gateway.as_ref()))
            }
            (Plan::Retag(diff), false) => {
                let id = found.id();
                if !diff.remove.is_empty() {
                    cloud
                        .remove_tags(&TagResourceType::VpnGateway, &id, &diff.remove)
                        .await?;
                }
                if !diff.add.is_empty() {
                    cloud
                        .add_tags(&TagResourceType::VpnGateway, &id, &diff.add)
                        .await?;
                }
                notes.push(Note::normal(
                    events::UPDATED,
                    "UpdateTags",
                    format!("updated the tags of VPN gateway {id}"),
                ));
                found.gateway.clone().map(|mut g| {
                    g.tags = Some(tags.clone());
                    g
                })
            }
            (Plan::Missing { .. }, _) => {
                let id = id_or(&plan, &found);
                let mut status = previous.clone();
                let gen = obj.metadata.generation;
                let msg = match &id {
                    Some(id) => format!("VPN gateway {id} does not exist in the cloud"),
                    None => "managementPolicy is Observe but spec.cloudId is not set".to_string(),
                };
                mark(
                    &mut status.conditions,
                    types::READY,
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    &msg,
                    gen,
                );
                mark(
                    &mut status.conditions,
                    types::SYNCED,
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    &msg,
                    gen,
                );
                status.cloud_state = None;
                return Ok(Outcome {
                    status,
                    requeue: ctx.settings.resync_interval,
                    notes,
                });
            }
            _ => found.gateway.clone(),
        };

        // Drift is judged on what was observed, before acting: a correction made in this
        // reconcile must still be reported.
        let spec_unchanged = obj.metadata.generation.is_some()
            && obj.metadata.generation == previous.observed_generation;
        if let Some(before) = found.gateway.as_ref() {
            let seen = drift(&obj.spec, &name, &tags, before);
            notes.extend(drift_note(
                &previous.drift,
                &seen,
                observe_only,
                spec_unchanged,
            ));
        }
        let gw = observed.expect("every plan but Missing has a gateway after acting");
        let diffs = drift(&obj.spec, &name, &tags, &gw);
        let mut status = status(
            &previous,
            &gw,
            drift_entries(&previous.drift, &diffs, &super::reconciler::now()),
            obj.metadata.generation,
        );
        set_synced(
            &mut status,
            &plan,
            &diffs,
            observe_only,
            obj.metadata.generation,
        );
        let mut requeue = requeue_for(&status, &ctx);
        if let Some(state) = gw.status.as_ref().filter(|s| s.is_transitional()) {
            // Woken by the pending watch when the state changes; the requeue is a fallback.
            ctx.pending
                .gateways
                .watch(&cloud, &gw.id, state.as_str(), ObjectRef::from_obj(&*obj));
            requeue = fallback_requeue(ctx.settings.pending_requeue, requeue);
        }
        Ok(Outcome {
            status,
            requeue,
            notes,
        })
    }

    async fn cleanup(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Vec<Note>> {
        let dependants = dependent_connections(&ctx, &obj).await?;
        if !dependants.is_empty() {
            return Err(Error::waiting(
                reasons::WAITING_FOR_DEPENDENTS,
                format!(
                    "waiting for VpnConnections that use this gateway to be deleted: {}",
                    dependants.join(", ")
                ),
                ctx.settings
                    .pending_requeue
                    .max(std::time::Duration::from_secs(5)),
            ));
        }
        let cloud = ctx
            .clouds
            .vpn(&obj.cloud_override())
            .await?
            .observing(observation_age(&*obj, &ctx));
        let found = observe(&cloud, &obj).await?;
        let Some(gw) = found.gateway else {
            return Ok(vec![Note::normal(
                events::DELETED,
                "DeleteVpnGateway",
                "the VPN gateway is gone from the cloud",
            )]);
        };
        // Never delete what another object owns (a refused adoption, or an id recorded while
        // observing): the finalizer goes, the gateway stays.
        if let Some(owner) = foreign_owner(&gw, &obj.uid().unwrap_or_default()) {
            return Ok(vec![Note::warning(
                events::NOT_DELETED,
                "DeleteVpnGateway",
                format!(
                    "VPN gateway {} is managed by {owner} (its {} tag names another object); it \
                     was left in place",
                    gw.id,
                    ownership::TAG_UID
                ),
            )]);
        }
        // While the cloud works, the pending watch wakes this object when the gateway's state
        // changes (or it is gone); the requeue is a fallback.
        let watch = |state: &GatewayStatus| {
            ctx.pending
                .gateways
                .watch(&cloud, &gw.id, state.as_str(), ObjectRef::from_obj(&*obj));
        };
        let pending = |msg: String| {
            let poll = ctx.settings.pending_requeue;
            Error::waiting(reasons::DELETING, msg, fallback_requeue(poll, poll))
        };
        match gw.status.clone().unwrap_or(GatewayStatus::PendingCreate) {
            GatewayStatus::PendingDelete => {
                watch(&GatewayStatus::PendingDelete);
                Err(pending(format!(
                    "VPN gateway {} is being deleted (PENDING_DELETE)",
                    gw.id
                )))
            }
            s if s.is_transitional() => {
                watch(&s);
                Err(pending(format!(
                    "VPN gateway {} is {s}; it will be deleted when that operation finishes",
                    gw.id
                )))
            }
            _ => {
                // Job records (upgrades) outlive the gateway unless deleted: clean them first.
                let mut notes = delete_finished_jobs(&cloud, &gw.id).await?;
                let _lock = ctx.gateway_locks.lock(&gw.id).await;
                match cloud.delete_gateway(&gw.id).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => return Ok(notes),
                    Err(e) => return Err(e.into()),
                }
                notes.push(Note::normal(
                    events::DELETE_REQUESTED,
                    "DeleteVpnGateway",
                    format!("deleting VPN gateway {}; waiting until it is gone", gw.id),
                ));
                for n in &notes {
                    ctx.publish(&*obj, n).await;
                }
                watch(&GatewayStatus::PendingDelete);
                Err(pending(format!("VPN gateway {} is being deleted", gw.id)))
            }
        }
    }
}

/// What observation found.
#[derive(Debug, Default)]
struct Found {
    gateway: Option<ResponseVpnGateway>,
    /// The id the object points at (status or spec), even when the gateway is gone.
    id: Option<String>,
    notes: Vec<Note>,
}

impl Found {
    fn id(&self) -> String {
        self.gateway
            .as_ref()
            .map(|g| g.id.clone())
            .or_else(|| self.id.clone())
            .unwrap_or_default()
    }
}

/// Reads the gateway: by the id in status, else the id to adopt in spec, else by our owner tag
/// (a create whose response was lost, or a crash before the status write).
async fn observe(cloud: &VpnClient, obj: &VpnGateway) -> Result<Found> {
    let uid = obj.uid().unwrap_or_default();
    let recorded = obj.status.as_ref().and_then(|s| s.cloud_id.clone());
    let adopt = obj.spec.cloud_id.clone();
    if let Some(id) = recorded.clone().or(adopt.clone()) {
        return match cloud.observe_gateway(&id).await {
            Ok(Some(gw)) => {
                let mut notes = Vec::new();
                let observe_only = obj.spec.management_policy == ManagementPolicy::Observe;
                if recorded.is_none() && !observe_only && foreign_owner(&gw, &uid).is_none() {
                    notes.push(Note::normal(
                        events::ADOPTED,
                        "Adopt",
                        format!("adopted existing VPN gateway {id}"),
                    ));
                }
                Ok(Found {
                    gateway: Some(gw),
                    id: Some(id),
                    notes,
                })
            }
            Ok(None) => Ok(Found {
                gateway: None,
                id: Some(id),
                notes: vec![],
            }),
            Err(e) => Err(e.into()),
        };
    }
    let all = cloud.search_gateways(&uid).await?;
    let mine = all
        .values()
        .filter(|g| ownership::ownership(g.tags.as_deref(), &uid) == Ownership::Ours)
        .min_by_key(|g| (g.created_at.as_ref().and_then(|t| t.to_utc()), &g.id))
        .cloned();
    let notes = mine
        .iter()
        .map(|g| {
            Note::normal(events::RECOVERED,
                "Observe",
                format!("found VPN gateway {} created for this object earlier; using it instead of creating another", g.id),
            )
        })
        .collect();
    Ok(Found {
        id: mine.as_ref().map(|g| g.id.clone()),
        gateway: mine,
        notes,
    })
}

/// The object named in the gateway's owner tag when that is another object than `uid`.
fn foreign_owner(gw: &ResponseVpnGateway, uid: &str) -> Option<String> {
    match ownership::ownership(gw.tags.as_deref(), uid) {
        Ownership::Foreign(owner) => Some(owner),
        _ => None,
    }
}

/// The next step, decided from the spec and the observed gateway only.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// No gateway: create one.
    Create(Box<CreateVpnGatewayRequestBody>),
    /// The gateway the object points at (adopted id or recorded id) is gone, or Observe has nothing to read.
    Missing { id: Option<String> },
    /// The cloud is busy with an operation; look again soon.
    Wait,
    /// The gateway failed or is frozen; nothing the operator can change.
    Broken,
    /// PUT the updatable fields that differ.
    Update {
        body: Box<UpdateVpnGatewayRequestBody>,
        fields: Vec<String>,
    },
    /// Change the flavor.
    Resize(GatewayFlavor),
    /// Align tags.
    Retag(TagDiff),
    /// Nothing to do.
    InSync,
}

fn id_or(plan: &Plan, found: &Found) -> Option<String> {
    match plan {
        Plan::Missing { id } => id.clone(),
        _ => found.id.clone(),
    }
}

/// Pure planning. Updatable fields (reference §1.3): name, localSubnets(V6), bound EIP ids,
/// policyTemplate (PUT); flavor (update-specification); tags (tag API). One change per reconcile:
/// each leaves the gateway `PENDING_UPDATE`, and a second call before `ACTIVE` would be refused.
pub fn plan(
    spec: &VpnGatewaySpec,
    name: &str,
    tags: &[VpnResourceTag],
    observed: Option<&ResponseVpnGateway>,
) -> Plan {
    let Some(gw) = observed else {
        if spec.cloud_id.is_some() || spec.management_policy == ManagementPolicy::Observe {
            return Plan::Missing {
                id: spec.cloud_id.clone(),
            };
        }
        return Plan::Create(Box::new(desired_create(spec, name, tags)));
    };
    match gw.status.clone().unwrap_or(GatewayStatus::PendingCreate) {
        GatewayStatus::Active => {}
        GatewayStatus::Fault | GatewayStatus::Freezed => return Plan::Broken,
        _ => return Plan::Wait,
    }
    let (body, fields) = desired_update(spec, name, gw);
    if !fields.is_empty() {
        return Plan::Update {
            body: Box::new(body),
            fields,
        };
    }
    let flavor = GatewayFlavor::parse(&enum_str(&spec.flavor));
    if gw.flavor.as_ref() != Some(&flavor) {
        return Plan::Resize(flavor);
    }
    let diff = tag_diff(tags, gw.tags.as_deref().unwrap_or_default());
    if !diff.is_empty() {
        return Plan::Retag(diff);
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

fn policy_template(spec: &VpnGatewaySpec) -> Option<WirePolicyTemplate> {
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

/// A `DriftDetected` event for differences the operator did not cause: any new one when only
/// observing, a new immutable one, or an updatable one that changed in the cloud while the spec
/// stayed the same (a spec change is not drift).
fn drift_note(
    previous: &[DriftEntry],
    diffs: &[FieldDiff],
    observe_only: bool,
    spec_unchanged: bool,
) -> Option<Note> {
    let fresh: Vec<&FieldDiff> = new_drift(previous, diffs)
        .into_iter()
        .filter(|d| observe_only || !d.updatable || spec_unchanged)
        .collect();
    if fresh.is_empty() {
        return None;
    }
    let list = fresh
        .iter()
        .map(|d| format!("{} (spec {}, cloud {})", d.field, d.desired, d.observed))
        .collect::<Vec<_>>()
        .join("; ");
    let tail = if observe_only {
        "not corrected: managementPolicy is Observe"
    } else if fresh.iter().all(|d| d.updatable) {
        "changed outside the operator; being corrected"
    } else {
        "the cloud cannot change some of these fields; those are left alone"
    };
    Some(Note::warning(
        events::DRIFT_DETECTED,
        "ObserveVpnGateway",
        format!("VPN gateway differs from the spec: {list} ({tail})"),
    ))
}

/// After PUT / update-specification the cloud answers with the gateway, which then passes
/// through `PENDING_UPDATE`; the answer may not say so yet.
fn pending_after_update(
    mut gw: ResponseVpnGateway,
    before: Option<&ResponseVpnGateway>,
) -> ResponseVpnGateway {
    if gw.status.is_none() || gw.status == Some(GatewayStatus::Active) {
        gw.status = Some(GatewayStatus::PendingUpdate);
    }
    if let Some(b) = before {
        gw.eip1 = gw.eip1.or_else(|| b.eip1.clone());
        gw.eip2 = gw.eip2.or_else(|| b.eip2.clone());
    }
    gw
}

/// Pure: the status for an observed gateway (conditions Ready/TunnelUp-free; Synced set by [`set_synced`]).
pub fn status(
    previous: &VpnGatewayStatus,
    gw: &ResponseVpnGateway,
    drift: Vec<DriftEntry>,
    generation: Option<i64>,
) -> VpnGatewayStatus {
    let state = gw.status.clone().unwrap_or(GatewayStatus::PendingCreate);
    let mut s = VpnGatewayStatus {
        cloud_id: Some(gw.id.clone()),
        cloud_state: Some(state.to_string()),
        observed_generation: generation,
        conditions: previous.conditions.clone(),
        name: gw.name.clone(),
        flavor: gw.flavor.as_ref().map(|f| f.to_string()),
        supported_flavors: gw
            .supported_flavors
            .iter()
            .flatten()
            .map(|f| f.to_string())
            .collect(),
        availability_zone_ids: gw.availability_zone_ids.clone().unwrap_or_default(),
        eip1: gw.eip1.as_ref().map(observed_eip),
        eip2: gw.eip2.as_ref().map(observed_eip),
        access_private_ip1: gw.access_private_ip_1.clone(),
        access_private_ip2: gw.access_private_ip_2.clone(),
        er_attachment_id: gw.er_attachment_id.clone(),
        connection_number: gw.connection_number.map(i64::from),
        used_connection_number: gw.used_connection_number.map(i64::from),
        created_at: gw.created_at.as_ref().map(|t| t.to_string()),
        updated_at: gw.updated_at.as_ref().map(|t| t.to_string()),
        drift,
    };
    let (st, reason, msg) = match state {
        GatewayStatus::Active => (ConditionStatus::True, reasons::AVAILABLE, "the VPN gateway is ACTIVE".to_string()),
        GatewayStatus::PendingCreate => (ConditionStatus::False, reasons::CREATING, "the VPN gateway is being created (PENDING_CREATE)".into()),
        GatewayStatus::PendingDelete => (ConditionStatus::False, reasons::DELETING, "the VPN gateway is being deleted (PENDING_DELETE)".into()),
        GatewayStatus::Fault => (
            ConditionStatus::False,
            reasons::CLOUD_FAULT,
            "the cloud reports the VPN gateway as FAULT; contact support or delete and recreate it".into(),
        ),
        GatewayStatus::Freezed => (
            ConditionStatus::False,
            reasons::FROZEN,
            "the cloud reports the VPN gateway as FREEZED (frozen, usually for billing); unfreeze it in the cloud".into(),
        ),
        other => (ConditionStatus::False, reasons::UPDATING, format!("the VPN gateway is being changed ({other})")),
    };
    mark(&mut s.conditions, types::READY, st, reason, msg, generation);
    s
}

fn observed_eip(e: &ResponseEip) -> ObservedEip {
    ObservedEip {
        id: e.id.clone(),
        ip_address: e.ip_address.clone(),
        type_: e.eip_type.as_ref().map(|t| t.to_string()),
        charge_mode: e.charge_mode.as_ref().map(|c| c.to_string()),
        bandwidth_id: e.bandwidth_id.clone(),
        bandwidth_size: e.bandwidth_size.map(i64::from),
        bandwidth_name: e.bandwidth_name.clone(),
    }
}

/// Synced says whether the reconcile got the cloud where the spec wants it (or is on its way).
fn set_synced(
    status: &mut VpnGatewayStatus,
    plan: &Plan,
    diffs: &[FieldDiff],
    observe_only: bool,
    generation: Option<i64>,
) {
    let immutable: Vec<&str> = diffs
        .iter()
        .filter(|d| !d.updatable)
        .map(|d| d.field.as_str())
        .collect();
    let (st, reason, msg) = if observe_only {
        (
            ConditionStatus::True,
            reasons::OBSERVE_ONLY,
            "managementPolicy is Observe: the gateway is only read".to_string(),
        )
    } else if !immutable.is_empty() {
        (
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
            format!(
                "these fields differ from the cloud and cannot be changed there: {}",
                immutable.join(", ")
            ),
        )
    } else {
        let msg = match plan {
            Plan::Create(_) => "create requested",
            Plan::Update { .. } | Plan::Resize(_) | Plan::Retag(_) => "update requested",
            Plan::Wait => "waiting for the cloud to finish an operation",
            _ => "",
        };
        (
            ConditionStatus::True,
            reasons::RECONCILE_SUCCESS,
            msg.to_string(),
        )
    };
    mark(
        &mut status.conditions,
        types::SYNCED,
        st,
        reason,
        msg,
        generation,
    );
}

/// Soon while pending (and less often the longer it lasts), the resync interval when stable.
fn requeue_for(status: &VpnGatewayStatus, ctx: &Context) -> std::time::Duration {
    let ready = find_condition(&status.conditions, types::READY);
    match ready {
        Some(c) if matches!(c.reason.as_str(), "Creating" | "Updating" | "Deleting") => {
            let changed = status
                .updated_at
                .as_deref()
                .or(status.created_at.as_deref());
            pending_requeue(ctx.settings.pending_requeue, pending_for(c, changed))
        }
        _ => ctx.settings.resync_interval,
    }
}

/// VpnConnections in the namespace that refer to this gateway (by name or by its cloud id).
async fn dependent_connections(ctx: &Context, gw: &VpnGateway) -> Result<Vec<String>> {
    let ns = gw.namespace().unwrap_or_default();
    let id = gw.status.as_ref().and_then(|s| s.cloud_id.clone());
    let name = gw.name_any();
    let conns = ctx
        .stores
        .connections_in(&ctx.kube, &ns, |l| l.gateway.is_to(&name, id.as_deref()))
        .await?;
    Ok(conns
        .iter()
        .filter(|c| {
            let r = &c.spec.vpn_gateway_ref;
            r.name.as_deref() == Some(gw.name_any().as_str()) || (id.is_some() && r.cloud_id == id)
        })
        .map(|c| c.name_any())
        .collect())
}

/// Deletes the gateway's finished jobs (upgrade records) so nothing is left behind.
async fn delete_finished_jobs(cloud: &VpnClient, gateway_id: &str) -> Result<Vec<Note>> {
    let mut notes = Vec::new();
    for job in cloud.list_jobs(Some(gateway_id)).await? {
        if job.status.as_ref().is_some_and(|s| s.is_terminal()) {
            match cloud.delete_job(&job.id).await {
                Ok(()) => notes.push(Note::normal(
                    events::JOB_DELETED,
                    "DeleteJob",
                    format!("deleted finished gateway job {}", job.id),
                )),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::vpn_gateway::{Flavor, NetworkType};

    fn spec() -> VpnGatewaySpec {
        serde_json::from_value(serde_json::json!({
            "vpcId": "vpc-1", "connectSubnet": "sub-1", "localSubnets": ["192.168.0.0/24"],
            "eip1": {"type": "5_bgp", "bandwidthSize": 10}, "eip2": {"type": "5_bgp", "bandwidthSize": 10}
        }))
        .unwrap()
    }

    fn tags() -> Vec<VpnResourceTag> {
        vec![VpnResourceTag::new(ownership::TAG_UID, "u1")]
    }

    fn active(spec: &VpnGatewaySpec) -> ResponseVpnGateway {
        let body = desired_create(spec, "gw", &tags());
        ResponseVpnGateway {
            id: "g1".into(),
            name: body.name,
            status: Some(GatewayStatus::Active),
            network_type: body.network_type,
            attachment_type: body.attachment_type,
            vpc_id: body.vpc_id,
            connect_subnet: body.connect_subnet,
            local_subnets: body.local_subnets,
            flavor: body.flavor,
            bgp_asn: body.bgp_asn,
            ha_mode: body.ha_mode,
            tags: body.tags,
            eip1: Some(ResponseEip {
                id: Some("e1".into()),
                ip_address: Some("1.2.3.4".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn no_gateway_means_create_with_documented_defaults() {
        let Plan::Create(body) = plan(&spec(), "gw", &tags(), None) else {
            panic!("expected create")
        };
        assert_eq!(body.flavor, Some(GatewayFlavor::Professional1));
        assert_eq!(body.bgp_asn, Some(64512));
        assert_eq!(
            body.attachment_type.as_ref().map(|a| a.as_str()),
            Some("vpc")
        );
        assert_eq!(body.eip1.unwrap().bandwidth_size, Some(10));
        assert_eq!(body.tags.unwrap(), tags());
    }

    #[test]
    fn adoption_or_observe_of_a_missing_gateway_never_creates() {
        let mut s = spec();
        s.cloud_id = Some("gone".into());
        assert_eq!(
            plan(&s, "gw", &tags(), None),
            Plan::Missing {
                id: Some("gone".into())
            }
        );
        let mut s = spec();
        s.management_policy = ManagementPolicy::Observe;
        assert!(matches!(
            plan(&s, "gw", &tags(), None),
            Plan::Missing { .. }
        ));
    }

    #[test]
    fn pending_and_broken_gateways_are_left_alone() {
        let s = spec();
        for (state, want) in [
            (GatewayStatus::PendingCreate, Plan::Wait),
            (GatewayStatus::PendingUpdate, Plan::Wait),
            (GatewayStatus::Upgrading, Plan::Wait),
            (GatewayStatus::Fault, Plan::Broken),
            (GatewayStatus::Freezed, Plan::Broken),
        ] {
            let mut gw = active(&s);
            gw.status = Some(state.clone());
            assert_eq!(plan(&s, "gw", &tags(), Some(&gw)), want, "{state}");
        }
    }

    #[test]
    fn in_sync_gateway_needs_nothing() {
        let s = spec();
        assert_eq!(plan(&s, "gw", &tags(), Some(&active(&s))), Plan::InSync);
    }

    #[test]
    fn changed_updatable_fields_become_one_put() {
        let s = spec();
        let gw = active(&s);
        let mut s2 = s.clone();
        s2.local_subnets = vec!["192.168.0.0/24".into(), "192.168.1.0/24".into()];
        let Plan::Update { body, fields } = plan(&s2, "gw2", &tags(), Some(&gw)) else {
            panic!()
        };
        assert_eq!(fields, ["name", "localSubnets"]);
        assert_eq!(body.name.as_deref(), Some("gw2"));
        assert_eq!(body.local_subnets.unwrap().len(), 2);
        assert!(body.eip_id_1.is_none(), "unchanged fields are not sent");
    }

    #[test]
    fn subnet_order_is_not_a_change() {
        let mut s = spec();
        s.local_subnets = vec!["10.0.0.0/24".into(), "10.0.1.0/24".into()];
        let mut gw = active(&s);
        gw.local_subnets = Some(vec!["10.0.1.0/24".into(), "10.0.0.0/24".into()]);
        assert_eq!(plan(&s, "gw", &tags(), Some(&gw)), Plan::InSync);
    }

    #[test]
    fn flavor_change_uses_update_specification_after_put_fields() {
        let s = spec();
        let gw = active(&s);
        let mut s2 = s.clone();
        s2.flavor = Flavor::Professional2;
        assert_eq!(
            plan(&s2, "gw", &tags(), Some(&gw)),
            Plan::Resize(GatewayFlavor::Professional2)
        );
    }

    #[test]
    fn tags_are_aligned_but_only_when_different() {
        let s = spec();
        let mut gw = active(&s);
        gw.tags = Some(vec![VpnResourceTag::new("stale", "x")]);
        let Plan::Retag(diff) = plan(&s, "gw", &tags(), Some(&gw)) else {
            panic!()
        };
        assert_eq!(diff.add, tags());
        assert_eq!(diff.remove, vec![VpnResourceTag::new("stale", "x")]);
    }

    #[test]
    fn status_reports_eips_and_ready_per_cloud_state() {
        let s = spec();
        let gw = active(&s);
        let st = status(&VpnGatewayStatus::default(), &gw, vec![], Some(3));
        assert_eq!(st.cloud_id.as_deref(), Some("g1"));
        assert_eq!(
            st.eip1.as_ref().unwrap().ip_address.as_deref(),
            Some("1.2.3.4")
        );
        let ready = find_condition(&st.conditions, types::READY).unwrap();
        assert_eq!(
            (ready.status, ready.reason.as_str()),
            (ConditionStatus::True, "Available")
        );
        for (state, reason) in [
            (GatewayStatus::PendingCreate, "Creating"),
            (GatewayStatus::PendingUpdate, "Updating"),
            (GatewayStatus::PendingDelete, "Deleting"),
            (GatewayStatus::Fault, "CloudFault"),
            (GatewayStatus::Freezed, "Frozen"),
        ] {
            let mut g = gw.clone();
            g.status = Some(state);
            let st = status(&VpnGatewayStatus::default(), &g, vec![], Some(3));
            let ready = find_condition(&st.conditions, types::READY).unwrap();
            assert_eq!(
                (ready.status, ready.reason.as_str()),
                (ConditionStatus::False, reason)
            );
        }
    }

    #[test]
    fn immutable_drift_is_reported_not_fixed() {
        let s = spec();
        let mut gw = active(&s);
        gw.network_type = Some(WireNetworkType::parse("private"));
        let d = drift(&s, "gw", &tags(), &gw);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (
                d[0].field.as_str(),
                d[0].desired.as_str(),
                d[0].observed.as_str()
            ),
            ("networkType", "public", "private")
        );
        assert_eq!(
            plan(&s, "gw", &tags(), Some(&gw)),
            Plan::InSync,
            "networkType cannot be changed in the cloud"
        );
        assert!(!d[0].updatable);
        let mut st = status(&VpnGatewayStatus::default(), &gw, vec![], Some(1));
        set_synced(&mut st, &Plan::InSync, &d, false, Some(1));
        let synced = find_condition(&st.conditions, types::SYNCED).unwrap();
        assert_eq!(synced.reason, "ImmutableFieldDrift");
        let _ = NetworkType::Public;
    }

    #[test]
    fn policy_template_maps_to_wire_names() {
        let mut s = spec();
        s.flavor = Flavor::Professional1NonFixedIp;
        s.policy_template = Some(
            serde_json::from_value(serde_json::json!({
                "ikePolicy": {"encryptionAlgorithm": "aes-256", "lifetimeSeconds": 3600}
            }))
            .unwrap(),
        );
        let t = policy_template(&s).unwrap();
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["ike_policy"]["encryption_algorithm"], "aes-256");
        assert_eq!(v["ike_policy"]["lifetime_seconds"], 3600);
    }
}
