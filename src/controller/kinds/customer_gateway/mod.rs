//! The `CustomerGateway` reconciler: observe → plan → act → status for Huawei VPN v5
//! customer gateways.
//!
//! Customer gateways are synchronous in the cloud: create, update and delete are final when
//! the call returns, and the API reports no state. Only the name, the CA certificate and the
//! tags can change (tags through the tag API); `idType`, `idValue` and `bgpAsn` cannot, so a
//! difference there (after adoption) is reported as drift and never touched.
//!
//! Every decision is a pure function ([`lookup`], [`desired_create`], [`desired_update`],
//! [`drift`], [`plan`], [`conditions`], [`build_status`], [`dependents`]); the async functions
//! only read the cloud, run the plan and hand the result to the shared wrapper
//! ([`super::reconciler::reconcile`]).
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use super::backoff::pending_requeue;
use super::context::{Context, Note};
use super::error::{Error, Result};
use super::ownership::{
    check_tag_count, cloud_name, desired_tags, ownership, render_tags, tag_diff, Ownership,
    TagDiff, MAX_TAGS, TAG_OWNER, TAG_UID,
};
use super::reconciler::{mark, now, observation_age, Managed, Outcome};
use super::status::{drift_entries, new_drift, FieldDiff};
use crate::cloud::model::{
    CaCertificateRequest, CreateCustomerGatewayRequestBody, ResponseCustomerGateway,
    TagResourceType, UpdateCustomerGatewayRequestBody, VpnResourceTag,
};
use crate::cloud::{ErrorKind, VpnClient};
use crate::crd::common::{
    reasons, types, CloudSettings, ConditionStatus, ManagedSpec, ManagementPolicy,
};
use crate::crd::customer_gateway::{IdType, ObservedCaCertificate};
use crate::crd::{CustomerGateway, CustomerGatewaySpec, CustomerGatewayStatus, VpnConnection};

pub use super::events;

/// `cloudState` reported while the customer gateway exists: the API has no status for
/// customer gateways, so "it answers GET" is all there is to report.
pub const STATE_ACTIVE: &str = "ACTIVE";

impl Managed for CustomerGateway {
    const KIND: &'static str = "CustomerGateway";
    type Spec = CustomerGatewaySpec;
    type Status = CustomerGatewayStatus;

    fn cloud_settings(&self) -> Option<&CloudSettings> {
        self.spec.cloud.as_ref()
    }

    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        let id = self.status.as_ref()?.cloud_id.clone()?;
        Some((TagResourceType::CustomerGateway, id))
    }

    fn starts_new_work(&self) -> bool {
        super::reconciler::not_started(self.status.as_ref())
    }

    fn apply(
        obj: Arc<Self>,
        ctx: Arc<Context>,
    ) -> impl Future<Output = Result<Outcome<CustomerGatewayStatus>>> + Send {
        apply(obj, ctx)
    }

    fn cleanup(
        obj: Arc<Self>,
        ctx: Arc<Context>,
    ) -> impl Future<Output = Result<Vec<Note>>> + Send {
        cleanup(obj, ctx)
    }
}

// ----- observe -----------------------------------------------------------------------------

/// Where to find the cloud resource of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// By the id recorded in `status.cloudId`.
    Recorded(String),
    /// By `spec.cloudId` (adoption, or the resource to observe).
    Adopt(String),
    /// By the owner tag (`vpn.hwcloud.dev:uid`): finds a resource this object created whose id
    /// never reached status (lost create response, crash before the status write).
    ByOwnerTag,
    /// Nowhere: observe-only without a cloud id (the CRD's rules prevent this).
    Nothing,
}

/// Picks the lookup: status first, then `spec.cloudId`, then (only when the operator may
/// create) the owner tag.
pub fn lookup(status_id: Option<&str>, spec_id: Option<&str>, observe_only: bool) -> Lookup {
    match (status_id, spec_id) {
        (Some(id), _) => Lookup::Recorded(id.to_string()),
        (None, Some(id)) => Lookup::Adopt(id.to_string()),
        (None, None) if observe_only => Lookup::Nothing,
        (None, None) => Lookup::ByOwnerTag,
    }
}

/// How an existing cloud resource was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Its id was in status.
    Recorded,
    /// It is the resource named by `spec.cloudId`, seen for the first time.
    Adopted,
    /// It carries this object's owner tag.
    Recovered,
}

/// What the cloud holds for an object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The customer gateway, if one was found.
    pub found: Option<(ResponseCustomerGateway, How)>,
    /// An id (recorded or from `spec.cloudId`) that answered 404.
    pub gone: Option<String>,
}

/// The customer gateway carrying `uid` in its owner tag (the oldest, should there be several).
pub fn find_owned<'a>(
    items: impl IntoIterator<Item = &'a ResponseCustomerGateway>,
    uid: &str,
) -> Option<ResponseCustomerGateway> {
    items
        .into_iter()
        .filter(|c| ownership(c.tags.as_deref(), uid) == Ownership::Ours)
        .min_by_key(|c| (c.created_at.as_ref().and_then(|t| t.to_utc()), &c.id))
        .cloned()
}

/// Reads the customer gateway (see [`lookup`]). `may_create`: when the recorded one is gone,
/// also search by owner tag (a copy may exist) before anything is created.
pub async fn observe(
    vpn: &VpnClient,
    step: Lookup,
    uid: &str,
    may_create: bool,
) -> Result<Observation> {
    let get = |id: String| async move { Ok::<_, Error>(vpn.observe_customer_gateway(&id).await?) };
    let by_tag = || async {
        let all = vpn.search_customer_gateways(uid).await?;
        Ok::<_, Error>(find_owned(all.values(), uid).map(|c| (c, How::Recovered)))
    };
    Ok(match step {
        Lookup::Recorded(id) => match get(id.clone()).await? {
            Some(c) => Observation {
                found: Some((c, How::Recorded)),
                gone: None,
            },
            // The recorded one is gone: a copy carrying our tag may still exist.
            None if may_create => Observation {
                found: by_tag().await?,
                gone: Some(id),
            },
            None => Observation {
                found: None,
                gone: Some(id),
            },
        },
        Lookup::Adopt(id) => match get(id.clone()).await? {
            Some(c) => Observation {
                found: Some((c, How::Adopted)),
                gone: None,
            },
            None => Observation {
                found: None,
                gone: Some(id),
            },
        },
        Lookup::ByOwnerTag => Observation {
            found: by_tag().await?,
            gone: None,
        },
        Lookup::Nothing => Observation::default(),
    })
}

/// The tags of a customer gateway: from the GET response, or the tag API when it has none.
pub async fn observed_tags(
    vpn: &VpnClient,
    cgw: &ResponseCustomerGateway,
) -> Result<Vec<VpnResourceTag>> {
    match &cgw.tags {
        Some(tags) => Ok(tags.clone()),
        None => Ok(vpn
            .list_tags(&TagResourceType::CustomerGateway, &cgw.id)
            .await?),
    }
}

// ----- desired -----------------------------------------------------------------------------

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

// ----- drift -------------------------------------------------------------------------------

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

// ----- plan --------------------------------------------------------------------------------

/// What one reconcile does in the cloud.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing exists: create.
    Create,
    /// The customer gateway recorded in status is gone (404): create a new one.
    Recreate { gone_id: String },
    /// The customer gateway named by `spec.cloudId` (or observed) does not exist, and the
    /// operator must not create one.
    Missing { id: String },
    /// Observe only: report what was found, change nothing.
    Report { cgw: ResponseCustomerGateway },
    /// It exists: run these changes (both may be empty).
    Sync {
        cgw: ResponseCustomerGateway,
        how: How,
        update: Option<Update>,
        tags: TagDiff,
    },
}

/// Decides what to do from the spec and the observation. Pure.
pub fn plan(
    spec: &CustomerGatewaySpec,
    name: &str,
    tags: &[VpnResourceTag],
    observation: &Observation,
    observed_tags: &[VpnResourceTag],
    prev_ca_sha256: Option<&str>,
) -> Plan {
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    match (&observation.found, &observation.gone) {
        (Some((cgw, _)), _) if observe_only => Plan::Report { cgw: cgw.clone() },
        (Some((cgw, how)), _) => Plan::Sync {
            cgw: cgw.clone(),
            how: *how,
            update: desired_update(spec, name, cgw, prev_ca_sha256),
            tags: tag_diff(tags, observed_tags),
        },
        (None, Some(id)) if observe_only || spec.cloud_id.is_some() => {
            Plan::Missing { id: id.clone() }
        }
        (None, Some(id)) => Plan::Recreate {
            gone_id: id.clone(),
        },
        (None, None) if observe_only => Plan::Missing {
            id: spec.cloud_id.clone().unwrap_or_default(),
        },
        (None, None) => Plan::Create,
    }
}

// ----- status ------------------------------------------------------------------------------

/// One condition to set: status, reason, message.
pub type Cond = (ConditionStatus, &'static str, String);

/// `Ready` and `Synced` for an existing (`exists`) or missing customer gateway. `remaining`
/// are the differences left after this reconcile (all of them when observing only).
pub fn conditions(
    exists: bool,
    missing_id: Option<&str>,
    observe_only: bool,
    remaining: &[FieldDiff],
) -> (Cond, Cond) {
    let ready = if exists {
        (
            ConditionStatus::True,
            reasons::AVAILABLE,
            "the customer gateway exists (the cloud API reports no state for customer gateways)"
                .to_string(),
        )
    } else {
        (
            ConditionStatus::False,
            reasons::NOT_FOUND,
            format!(
                "customer gateway {} does not exist in the cloud",
                missing_id.unwrap_or(NONE)
            ),
        )
    };
    let fields = |d: &[&FieldDiff]| {
        d.iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let synced = if observe_only {
        let mut m = "managementPolicy is Observe: the operator only reads this customer gateway"
            .to_string();
        if !remaining.is_empty() {
            let all: Vec<&FieldDiff> = remaining.iter().collect();
            m.push_str(&format!(
                "; differs from the spec in: {} (see status.drift)",
                fields(&all)
            ));
        }
        (ConditionStatus::True, reasons::OBSERVE_ONLY, m)
    } else if !exists {
        (
            ConditionStatus::False,
            reasons::NOT_FOUND,
            "the customer gateway named by spec.cloudId does not exist; the operator does not create \
             one for an adopted id (delete this object, or recreate it without cloudId)"
                .to_string(),
        )
    } else {
        let immutable: Vec<&FieldDiff> = remaining.iter().filter(|d| !d.updatable).collect();
        if immutable.is_empty() {
            (
                ConditionStatus::True,
                reasons::RECONCILE_SUCCESS,
                String::new(),
            )
        } else {
            (
                ConditionStatus::False,
                reasons::IMMUTABLE_FIELD_DRIFT,
                format!(
                    "the cloud cannot change {} and they differ from the spec (see status.drift); \
                     the operator leaves them alone: change the spec to match, or delete and \
                     recreate the customer gateway",
                    fields(&immutable)
                ),
            )
        }
    };
    (ready, synced)
}

fn observed_ca(c: &crate::cloud::model::CaCertificate) -> ObservedCaCertificate {
    ObservedCaCertificate {
        id: c.id.clone(),
        serial_number: c.serial_number.clone(),
        signature_algorithm: c.signature_algorithm.clone(),
        issuer: c.issuer.clone(),
        subject: c.subject.clone(),
        expire_time: c.expire_time.as_ref().map(|t| t.to_string()),
        is_updatable: c.is_updatable,
    }
}

/// What the status describes: an existing customer gateway, or the id of a missing one.
#[derive(Clone, Copy, Debug)]
pub enum Seen<'a> {
    /// It exists, as read from the cloud.
    Exists(&'a ResponseCustomerGateway),
    /// This id answered 404.
    Missing(&'a str),
}

/// The new status: observed fields of the customer gateway (only its id when missing), drift
/// with detection times, and the two conditions.
pub fn build_status(
    prev: &CustomerGatewayStatus,
    seen: Seen<'_>,
    ca_sha256: Option<String>,
    remaining: &[FieldDiff],
    (ready, synced): (Cond, Cond),
    generation: Option<i64>,
    at: &Time,
) -> CustomerGatewayStatus {
    let mut s = match seen {
        Seen::Exists(c) => CustomerGatewayStatus {
            cloud_id: Some(c.id.clone()),
            cloud_state: Some(STATE_ACTIVE.to_string()),
            name: c.name.clone(),
            id_type: c.id_type.as_ref().map(|t| t.as_str().to_string()),
            id_value: c.id_value.clone(),
            bgp_asn: c.bgp_asn.and_then(|a| i64::try_from(a).ok()),
            ca_certificate: c.ca_certificate.as_ref().map(observed_ca),
            created_at: c.created_at.as_ref().map(|t| t.to_string()),
            updated_at: c.updated_at.as_ref().map(|t| t.to_string()),
            ..Default::default()
        },
        Seen::Missing(id) => CustomerGatewayStatus {
            cloud_id: Some(id.to_string()),
            ..Default::default()
        },
    };
    s.ca_certificate_sha256 = ca_sha256;
    s.observed_generation = prev.observed_generation;
    s.conditions = prev.conditions.clone();
    s.drift = drift_entries(&prev.drift, remaining, at);
    mark(
        &mut s.conditions,
        types::READY,
        ready.0,
        ready.1,
        ready.2,
        generation,
    );
    mark(
        &mut s.conditions,
        types::SYNCED,
        synced.0,
        synced.1,
        synced.2,
        generation,
    );
    s
}

// ----- act ---------------------------------------------------------------------------------

fn note(reason: &str, action: &str, message: impl Into<String>) -> Note {
    Note::normal(reason, action, message)
}

/// Notes about drift the operator did not cause: new immutable drift, or (observing) any new
/// difference; and updatable fields changed in the cloud while the spec stayed the same.
fn drift_notes(
    prev: &CustomerGatewayStatus,
    diffs: &[FieldDiff],
    observe_only: bool,
    spec_unchanged: bool,
) -> Vec<Note> {
    let fresh: Vec<&FieldDiff> = new_drift(&prev.drift, diffs)
        .into_iter()
        .filter(|d| observe_only || !d.updatable || spec_unchanged)
        .collect();
    if fresh.is_empty() {
        return Vec::new();
    }
    let list = fresh
        .iter()
        .map(|d| format!("{} (spec {}, cloud {})", d.field, d.desired, d.observed))
        .collect::<Vec<_>>()
        .join("; ");
    let tail = if observe_only {
        "not corrected: managementPolicy is Observe"
    } else if fresh.iter().all(|d| d.updatable) {
        "changed outside the operator; corrected"
    } else {
        "the cloud cannot change these fields; left alone"
    };
    vec![Note::warning(
        events::DRIFT_DETECTED,
        "ObserveCustomerGateway",
        format!("customer gateway differs from the spec: {list} ({tail})"),
    )]
}

async fn apply(
    obj: Arc<CustomerGateway>,
    ctx: Arc<Context>,
) -> Result<Outcome<CustomerGatewayStatus>> {
    let spec = &obj.spec;
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let observe_only = spec.management_policy() == ManagementPolicy::Observe;
    let uid = obj.uid().unwrap_or_default();
    let name = cloud_name(spec.name.as_deref(), &obj.name_any());
    let tags = desired_tags(&ctx.settings.cluster_name, &*obj, &spec.tags);
    if !observe_only {
        check_tag_count(&tags)?;
    }
    let vpn = ctx
        .clouds
        .vpn(&obj.cloud_override())
        .await?
        .observing(observation_age(&*obj, &ctx));

    let step = lookup(
        prev.cloud_id.as_deref(),
        spec.cloud_id.as_deref(),
        observe_only,
    );
    let observation = observe(&vpn, step, &uid, !observe_only && spec.cloud_id.is_none()).await?;
    let observed_tags = match &observation.found {
        Some((cgw, _)) => observed_tags(&vpn, cgw).await?,
        None => Vec::new(),
    };
    // Every way of finding it (not only adoption: an id recorded while observing, too) must
    // not hand another object's customer gateway to this one.
    if let Some((cgw, _)) = &observation.found {
        if !observe_only {
            if let Ownership::Foreign(owner) = ownership(Some(&observed_tags), &uid) {
                return Err(Error::OwnershipConflict(format!(
                    "customer gateway {} is managed by {owner} (its {TAG_UID} tag names another object); \
                     refusing to adopt it. Use managementPolicy Observe to only read it",
                    cgw.id
                )));
            }
        }
    }
    let at = now();
    let mut notes = Vec::new();

    match plan(
        spec,
        &name,
        &tags,
        &observation,
        &observed_tags,
        prev.ca_certificate_sha256.as_deref(),
    ) {
        Plan::Create | Plan::Recreate { .. } => {
            if let Some(gone) = &observation.gone {
                notes.push(Note::warning(
                    events::RECREATING,
                    "CreateCustomerGateway",
                    format!("customer gateway {gone} recorded in status no longer exists (NotFound); creating a new one"),
                ));
            }
            let body = desired_create(spec, &name, tags);
            let created = vpn.create_customer_gateway(&body).await;
            vpn.attempted_create(&uid);
            let created = created?;
            notes.push(note(
                events::CREATED,
                "CreateCustomerGateway",
                format!("created customer gateway {} ({})", created.id, name),
            ));
            let ca_sha = spec
                .ca_certificate
                .as_ref()
                .and_then(|c| c.content.as_deref())
                .map(sha256_hex);
            let mut conds = conditions(true, None, false, &[]);
            if let Some(gone) = &observation.gone {
                // Say once that the old one vanished; the next reconcile reports Available.
                conds.0 = (
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    format!(
                        "customer gateway {gone} no longer exists in the cloud; created {} to replace it",
                        created.id
                    ),
                );
            }
            let status = build_status(
                &prev,
                Seen::Exists(&created),
                ca_sha,
                &[],
                conds,
                generation,
                &at,
            );
            // Back soon: the next reconcile confirms the customer gateway with a GET.
            Ok(Outcome {
                status,
                requeue: ctx.settings.pending_requeue,
                notes,
            })
        }
        Plan::Missing { id } => {
            let conds = conditions(false, Some(&id), observe_only, &[]);
            let status = build_status(
                &prev,
                Seen::Missing(&id),
                prev.ca_certificate_sha256.clone(),
                &[],
                conds,
                generation,
                &at,
            );
            Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            })
        }
        Plan::Report { cgw } => {
            let diffs = drift(spec, &name, &tags, &cgw, &observed_tags);
            notes.extend(drift_notes(&prev, &diffs, true, false));
            let conds = conditions(true, None, true, &diffs);
            let status = build_status(
                &prev,
                Seen::Exists(&cgw),
                prev.ca_certificate_sha256.clone(),
                &diffs,
                conds,
                generation,
                &at,
            );
            Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            })
        }
        Plan::Sync {
            cgw,
            how,
            update,
            tags: tag_changes,
        } => {
            match how {
                How::Adopted => notes.push(note(
                    events::ADOPTED,
                    "AdoptCustomerGateway",
                    format!("adopted customer gateway {} (spec.cloudId)", cgw.id),
                )),
                How::Recovered => notes.push(note(
                    events::RECOVERED,
                    "ObserveCustomerGateway",
                    format!(
                        "found customer gateway {} created for this object earlier; using it \
                         instead of creating another",
                        cgw.id
                    ),
                )),
                How::Recorded => {}
            }
            let diffs = drift(spec, &name, &tags, &cgw, &observed_tags);
            let spec_unchanged = generation.is_some() && generation == prev.observed_generation;
            notes.extend(drift_notes(&prev, &diffs, false, spec_unchanged));
            let (cgw, changed) = sync(&vpn, cgw, update.as_ref(), &tag_changes).await?;
            let ca_sent = update
                .as_ref()
                .and_then(|u| u.body.ca_certificate.as_ref())
                .is_some_and(|c| c.content.is_some());
            let ca_sha = if ca_sent {
                spec.ca_certificate
                    .as_ref()
                    .and_then(|c| c.content.as_deref())
                    .map(sha256_hex)
            } else {
                prev.ca_certificate_sha256.clone()
            };
            if !changed.is_empty() {
                notes.push(note(
                    events::UPDATED,
                    "UpdateCustomerGateway",
                    format!(
                        "updated customer gateway {}: {}",
                        cgw.id,
                        changed.join(", ")
                    ),
                ));
            }
            // Updatable differences were just corrected; what remains is immutable.
            let remaining: Vec<FieldDiff> = diffs.into_iter().filter(|d| !d.updatable).collect();
            let conds = conditions(true, None, false, &remaining);
            let status = build_status(
                &prev,
                Seen::Exists(&cgw),
                ca_sha,
                &remaining,
                conds,
                generation,
                &at,
            );
            Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            })
        }
    }
}

/// Applies a [`Plan::Sync`]: tags through the tag API (at most [`MAX_TAGS`] per call), then
/// the PUT. Returns the customer gateway afterwards and the spec fields changed.
pub async fn sync(
    vpn: &VpnClient,
    mut cgw: ResponseCustomerGateway,
    update: Option<&Update>,
    tags: &TagDiff,
) -> Result<(ResponseCustomerGateway, Vec<&'static str>)> {
    let kind = TagResourceType::CustomerGateway;
    let mut changed = Vec::new();
    if !tags.is_empty() {
        for chunk in tags.remove.chunks(MAX_TAGS) {
            vpn.remove_tags(&kind, &cgw.id, chunk).await?;
        }
        for chunk in tags.add.chunks(MAX_TAGS) {
            vpn.add_tags(&kind, &cgw.id, chunk).await?;
        }
        changed.push("tags");
    }
    if let Some(u) = update {
        let before = cgw.tags.take();
        cgw = vpn.update_customer_gateway(&cgw.id, &u.body).await?;
        if cgw.tags.is_none() {
            cgw.tags = before;
        }
        changed.extend(u.fields.iter().copied());
    }
    Ok((cgw, changed))
}

/// What a delete call found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Deleted now.
    Deleted,
    /// It was already gone (404).
    AlreadyGone,
    /// The cloud refuses: connections still use it.
    InUse,
}

/// Deletes customer gateway `id` (synchronous: done when the call returns).
pub async fn delete(vpn: &VpnClient, id: &str) -> Result<Deletion> {
    match vpn.delete_customer_gateway(id).await {
        Ok(()) => Ok(Deletion::Deleted),
        Err(e) if e.is_not_found() => Ok(Deletion::AlreadyGone),
        Err(e) if e.kind == ErrorKind::InUse => Ok(Deletion::InUse),
        Err(e) => Err(e.into()),
    }
}

// ----- cleanup -----------------------------------------------------------------------------

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

/// How long the object has been waiting for deletion.
fn deleting_for(obj: &CustomerGateway) -> Duration {
    obj.metadata
        .deletion_timestamp
        .as_ref()
        .and_then(|t| Duration::try_from(now().0.duration_since(t.0)).ok())
        .unwrap_or_default()
}

async fn cleanup(obj: Arc<CustomerGateway>, ctx: Arc<Context>) -> Result<Vec<Note>> {
    let ns = obj.namespace().unwrap_or_default();
    let status = obj.status.clone().unwrap_or_default();
    let wait = pending_requeue(ctx.settings.pending_requeue, deleting_for(&obj));
    let name = obj.name_any();
    let id = status.cloud_id.as_deref();
    let connections = ctx
        .stores
        .connections_in(&ctx.kube, &ns, |l| l.customer_gateway.is_to(&name, id))
        .await?;
    let users = dependents(connections.iter().map(|c| &**c), &name, id);
    if !users.is_empty() {
        return Err(Error::waiting(
            reasons::WAITING_FOR_DEPENDENTS,
            format!(
                "VpnConnection(s) {} still use this customer gateway; it is deleted once they are gone",
                users.join(", ")
            ),
            wait,
        ));
    }
    let vpn = ctx
        .clouds
        .vpn(&obj.cloud_override())
        .await?
        .observing(observation_age(&*obj, &ctx));
    let uid = obj.uid().unwrap_or_default();
    let id = match status
        .cloud_id
        .clone()
        .or_else(|| obj.spec.cloud_id.clone())
    {
        Some(id) => id,
        None => match find_owned(vpn.search_customer_gateways(&uid).await?.values(), &uid) {
            Some(c) => c.id,
            None => return Ok(Vec::new()),
        },
    };
    // Never delete what another object owns (a refused adoption, or an id recorded while
    // observing): the finalizer goes, the customer gateway stays.
    let Some(cgw) = vpn.observe_customer_gateway(&id).await? else {
        return Ok(vec![note(
            events::DELETED,
            "DeleteCustomerGateway",
            format!("customer gateway {id} was already gone"),
        )]);
    };
    let tags = observed_tags(&vpn, &cgw).await?;
    if let Ownership::Foreign(owner) = ownership(Some(&tags), &uid) {
        return Ok(vec![Note::warning(
            events::NOT_DELETED,
            "DeleteCustomerGateway",
            format!(
                "customer gateway {id} is managed by {owner} (its {TAG_UID} tag names another \
                 object); it was left in place"
            ),
        )]);
    }
    match delete(&vpn, &id).await? {
        Deletion::Deleted => Ok(vec![note(
            events::DELETED,
            "DeleteCustomerGateway",
            format!("deleted customer gateway {id}"),
        )]),
        Deletion::AlreadyGone => Ok(vec![note(
            events::DELETED,
            "DeleteCustomerGateway",
            format!("customer gateway {id} was already gone"),
        )]),
        Deletion::InUse => Err(Error::waiting(
            reasons::WAITING_FOR_DEPENDENTS,
            format!(
                "the cloud still has VPN connections on customer gateway {id} (possibly not managed \
                 in this namespace); it is deleted once they are gone"
            ),
            wait,
        )),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sim_tests;
