//! The `VpnConnection` reconciler: one IPsec tunnel between a gateway address and a customer
//! gateway, plus its optional health check (connection monitor).
//!
//! Connections are asynchronous in the cloud (reference §1.3): create and PUT answer at once
//! and the connection passes through `PENDING_CREATE` / `PENDING_UPDATE` to `ACTIVE` (tunnel
//! up) or `DOWN` (provisioned, peer not connected); delete passes through `PENDING_DELETE` and
//! is finished when GET answers 404. Mutating calls on one gateway are serialised through
//! `ctx.gateway_locks`.
//!
//! The pre-shared key is read from a Secret, sent to the cloud, and otherwise only ever seen as
//! its SHA-256 (`status.pskSha256`): the cloud never returns it, so a changed hash is how a
//! rotation is detected.
//!
//! The decisions are pure functions ([`lookup`], [`gateway_from_cr`], [`gateway_from_cloud`],
//! [`customer_gateway_from_cr`], [`desired_create`], [`desired_update`], [`drift`], [`plan`],
//! [`state_conditions`], [`build_status`], [`connections_referencing`]), tested as tables;
//! [`observe`], [`act`] and [`teardown`] only talk to the cloud.
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use super::backoff::pending_requeue;
use super::cached::{Link, Links};
use super::context::{Context, Note};
use super::error::{Error, Result};
use super::ownership::{
    check_tag_count, cloud_name, desired_tags, ownership, tag_diff, Ownership, TagDiff, TAG_UID,
};
use super::pending::fallback_requeue;
use super::reconciler::{mark, now, observation_age, Managed, Outcome};
use super::status::{new_drift, FieldDiff};
use super::wire::pending_for;
use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::connection::{ConnectionStatus, UpdateVpnConnectionRequestBody};
use crate::cloud::model::monitor::MonitorStatus;
use crate::cloud::model::tag::TagResourceType;
use crate::crd::common::{
    find_condition, reasons, types, CloudSettings, Condition, ConditionStatus, ManagementPolicy,
};
use crate::crd::{VpnConnection, VpnConnectionSpec, VpnConnectionStatus};

mod cloud;
mod desired;
mod drift;
mod psk;
mod refs;
mod status;

pub use cloud::{
    act, create, find_owned, lookup, observe, teardown, Acted, How, Lookup, Observation, Teardown,
};
use desired::wire_rules;
pub use desired::{desired_create, desired_update, merged_ike, merged_ipsec, wire_ike, wire_ipsec};
pub use drift::drift;
use psk::read_psk;
pub use psk::{psk_from_data, psk_problem, psk_sha256, Psk, PskCache, PSK_SPECIALS};
pub use refs::{
    connections_referencing, customer_gateway_from_cr, gateway_from_cloud, gateway_from_cr,
    recorded_gateway, referenced_customer_gateway, Referenced, ResolvedGateway,
};
use refs::{not_ready, resolve_customer_gateway, resolve_gateway};
pub use status::{build_status, state_conditions, synced_condition, Cond, Known, Seen, StateConds};

pub use super::events;

impl Managed for VpnConnection {
    const KIND: &'static str = "VpnConnection";
    type Spec = VpnConnectionSpec;
    type Status = VpnConnectionStatus;

    fn cloud_settings(&self) -> Option<&CloudSettings> {
        self.spec.cloud.as_ref()
    }

    fn released_resource(&self) -> Option<(TagResourceType, String)> {
        let id = self.status.as_ref()?.cloud_id.clone()?;
        Some((TagResourceType::VpnConnection, id))
    }

    fn links(&self) -> Links {
        let spec = &self.spec;
        let status = self.status.as_ref();
        let link = |r: &crate::crd::common::ResourceRef, resolved: Option<&String>| {
            Link::new(
                r.name.as_deref(),
                r.cloud_id.as_deref(),
                resolved.map(String::as_str),
            )
        };
        Links {
            credentials_secret: Links::credentials_secret_of(self.cloud_settings()),
            gateway: link(
                &spec.vpn_gateway_ref,
                status.and_then(|s| s.vpn_gateway_id.as_ref()),
            ),
            customer_gateway: link(
                &spec.customer_gateway_ref,
                status.and_then(|s| s.customer_gateway_id.as_ref()),
            ),
            psk_secret: spec.psk_secret_ref.as_ref().map(|s| s.name.as_str().into()),
        }
    }

    fn starts_new_work(&self) -> bool {
        super::reconciler::not_started(self.status.as_ref())
    }

    async fn apply(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Outcome<VpnConnectionStatus>> {
        apply(obj, ctx).await
    }

    async fn cleanup(obj: Arc<Self>, ctx: Arc<Context>) -> Result<Vec<Note>> {
        cleanup(obj, ctx).await
    }
}

// ----- plan --------------------------------------------------------------------------------

/// A PUT that makes the updatable fields match.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The body (the key inside is redacted in `Debug`).
    pub body: UpdateVpnConnectionRequestBody,
    /// The spec fields that differ (for the event); `pskSecretRef` when the key rotates.
    pub fields: Vec<String>,
    /// Whether the body carries a new pre-shared key.
    pub rotates_psk: bool,
}

/// What to do about the health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorChange {
    /// Create a connection monitor.
    Create,
    /// Delete these monitors.
    Delete(Vec<String>),
}

/// What one reconcile does in the cloud.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing exists: create.
    Create,
    /// The connection recorded in status is gone (404): create a new one.
    Recreate { gone_id: String },
    /// The connection named by `spec.cloudId` does not exist, and the operator must not create one.
    Missing { id: String },
    /// Observe only: report, change nothing.
    Report,
    /// The connection is changing state (`PENDING_*`, `UNKNOWN`): look again soon.
    Wait,
    /// `ERROR` or `FREEZED`: nothing the operator can change; report.
    Hold,
    /// Provisioned (`ACTIVE` / `DOWN`): make it match. An update comes alone: the connection is
    /// `PENDING_UPDATE` afterwards, and the health check waits for the next reconcile.
    Sync {
        tags: TagDiff,
        update: Option<Box<Update>>,
        monitor: Option<MonitorChange>,
    },
}

/// Everything [`plan`] decides from.
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    /// The object's spec.
    pub spec: &'a VpnConnectionSpec,
    /// Cloud name of the connection.
    pub name: &'a str,
    /// Desired tags, owner tags included.
    pub tags: &'a [VpnResourceTag],
    /// The gateway, when resolvable now.
    pub gateway: Option<&'a ResolvedGateway>,
    /// The customer gateway id, when resolvable now.
    pub cgw_id: Option<&'a str>,
    /// The key from the Secret (`None` for certificate authentication).
    pub psk: Option<&'a Psk>,
    /// `status.pskSha256`: the hash of the key last sent.
    pub recorded_psk_sha256: Option<&'a str>,
    /// What the cloud holds.
    pub observation: &'a Observation,
}

/// Whether the key must be sent: the Secret's key is not the one last sent (or none was ever
/// recorded, e.g. after adoption: the cloud cannot tell which key it holds).
pub fn psk_needs_put(psk: Option<&Psk>, recorded: Option<&str>) -> bool {
    psk.is_some_and(|p| recorded != Some(p.sha256.as_str()))
}

/// Decides what to do. Pure.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let spec = input.spec;
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let obs = input.observation;
    let Some((conn, _)) = &obs.found else {
        return match &obs.gone {
            Some(id) if observe_only || spec.cloud_id.is_some() => Plan::Missing { id: id.clone() },
            Some(id) => Plan::Recreate {
                gone_id: id.clone(),
            },
            None if observe_only => Plan::Missing {
                id: spec.cloud_id.clone().unwrap_or_default(),
            },
            None => Plan::Create,
        };
    };
    if observe_only {
        return Plan::Report;
    }
    match conn
        .status
        .clone()
        .unwrap_or(ConnectionStatus::PendingCreate)
    {
        ConnectionStatus::Active | ConnectionStatus::Down => {}
        ConnectionStatus::Error | ConnectionStatus::Freezed => return Plan::Hold,
        _ => return Plan::Wait,
    }
    let diffs = drift(
        spec,
        input.name,
        input.gateway,
        input.cgw_id,
        input.tags,
        conn,
        &obs.tags,
    );
    let mut fields: Vec<String> = diffs
        .iter()
        .filter(|d| d.updatable && d.field != "tags")
        .map(|d| d.field.clone())
        .collect();
    let rotates_psk = psk_needs_put(input.psk, input.recorded_psk_sha256);
    if rotates_psk {
        fields.push("pskSecretRef".into());
    }
    let update = (!fields.is_empty()).then(|| {
        Box::new(Update {
            body: desired_update(
                spec,
                input.name,
                input.cgw_id,
                conn,
                input.psk.filter(|_| rotates_psk),
            ),
            fields,
            rotates_psk,
        })
    });
    let wants_monitor = spec.health_check.is_some_and(|h| h.enabled);
    // A monitor already being deleted is not deleted again.
    let deletable: Vec<String> = obs
        .monitors
        .iter()
        .filter(|m| m.status != Some(MonitorStatus::PendingDelete))
        .map(|m| m.id.clone())
        .collect();
    let monitor = match (wants_monitor, obs.monitors.is_empty()) {
        _ if update.is_some() => None,
        (true, true) => Some(MonitorChange::Create),
        (false, false) if !deletable.is_empty() => Some(MonitorChange::Delete(deletable)),
        _ => None,
    };
    Plan::Sync {
        tags: tag_diff(input.tags, &obs.tags),
        update,
        monitor,
    }
}

// ----- reconcile ---------------------------------------------------------------------------

fn ready_condition(status: &VpnConnectionStatus) -> Option<&Condition> {
    find_condition(&status.conditions, types::READY)
}

/// Poll interval while waiting: grows with how long `Ready` has been False.
fn waiting_requeue(ctx: &Context, status: &VpnConnectionStatus) -> Duration {
    let changed = status
        .updated_at
        .as_deref()
        .or(status.created_at.as_deref());
    let since = ready_condition(status)
        .filter(|c| c.status != ConditionStatus::True)
        .map(|c| pending_for(c, changed))
        .unwrap_or_default();
    pending_requeue(ctx.settings.pending_requeue, since)
}

/// Notes about drift the operator did not cause (new immutable drift; observing: any new
/// difference; updatable fields changed in the cloud while the spec stayed the same).
fn drift_notes(
    prev: &VpnConnectionStatus,
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
        "changed outside the operator; being corrected"
    } else {
        "the cloud cannot change these fields; left alone"
    };
    vec![Note::warning(
        events::DRIFT_DETECTED,
        "ObserveVpnConnection",
        format!("connection differs from the spec: {list} ({tail})"),
    )]
}

async fn apply(obj: Arc<VpnConnection>, ctx: Arc<Context>) -> Result<Outcome<VpnConnectionStatus>> {
    let spec = &obj.spec;
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let uid = obj.uid().unwrap_or_default();
    let ns = obj.namespace().unwrap_or_default();
    let name = cloud_name(spec.name.as_deref(), &obj.name_any());
    let tags = desired_tags(&ctx.settings.cluster_name, &*obj, &spec.tags);
    if !observe_only {
        check_tag_count(&tags)?;
    }
    // A health check being created or deleted does not show in Ready, but is waited for all
    // the same: it needs fresh observations, not the settled object's resync-old snapshot.
    let monitor_pending = prev
        .monitor_state
        .as_deref()
        .is_some_and(|s| s.starts_with("PENDING"));
    let age = if monitor_pending {
        ctx.settings.pending_requeue / 2
    } else {
        observation_age(&*obj, &ctx)
    };
    let vpn = ctx.clouds.vpn(&obj.cloud_override()).await?.observing(age);
    let retry = waiting_requeue(&ctx, &prev);

    // References: resolved now, but only required when creating (see below).
    let gateway_ref = resolve_gateway(&ctx, &vpn, &obj, retry).await;
    let cgw_ref = resolve_customer_gateway(&ctx, &obj, retry).await;
    let recorded = recorded_gateway(&prev);
    let hint = gateway_ref
        .as_ref()
        .ok()
        .or(recorded.as_ref())
        .map(|g| g.id.clone());

    let step = lookup(
        prev.cloud_id.as_deref(),
        spec.cloud_id.as_deref(),
        observe_only,
    );
    let observation = observe(
        &vpn,
        step,
        &uid,
        !observe_only && spec.cloud_id.is_none(),
        hint.as_deref(),
    )
    .await?;
    let exists = observation.found.is_some();
    // Every way of finding it (not only adoption: an id recorded while observing, too) must
    // not hand another object's connection to this one.
    if let Some((c, _)) = &observation.found {
        if !observe_only {
            if let Ownership::Foreign(owner) = ownership(Some(&observation.tags), &uid) {
                return Err(Error::OwnershipConflict(format!(
                    "connection {} is managed by {owner} (its {TAG_UID} tag names another object); \
                     refusing to adopt it. Use managementPolicy Observe to only read it",
                    c.id
                )));
            }
        }
    }

    // A reference that waits only blocks creation; an existing connection keeps its settings.
    // Other failures (spec errors, API errors) stop the reconcile, except when observing.
    let tolerate = |e: &Error| observe_only || (exists && e.is_waiting());
    let mut dependency: Option<String> = None;
    let gateway = match gateway_ref {
        Ok(g) => Some(g),
        Err(e) if tolerate(&e) => recorded.or_else(|| {
            dependency = Some(e.to_string());
            None
        }),
        Err(e) => return Err(e),
    };
    let cgw_id = match cgw_ref {
        Ok(id) => Some(id),
        Err(e) if tolerate(&e) => {
            dependency.get_or_insert(e.to_string());
            None
        }
        Err(e) => return Err(e),
    };
    let psk = match (&spec.psk_secret_ref, observe_only) {
        (Some(sel), false) => Some(read_psk(&ctx, &ns, sel).await?),
        _ => None,
    };

    let input = PlanInput {
        spec,
        name: &name,
        tags: &tags,
        gateway: gateway.as_ref(),
        cgw_id: cgw_id.as_deref(),
        psk: psk.as_ref(),
        recorded_psk_sha256: prev.psk_sha256.as_deref(),
        observation: &observation,
    };
    let planned = plan(&input);
    let at = now();
    let mut notes = Vec::new();
    let spec_unchanged = generation.is_some() && generation == prev.observed_generation;

    match planned {
        Plan::Create | Plan::Recreate { .. } => {
            let (Some(gw), Some(cgw)) = (gateway.as_ref(), cgw_id.as_deref()) else {
                // Unreachable: without a connection, unresolved references returned above.
                return Err(not_ready(
                    "waiting for the references to resolve".into(),
                    retry,
                ));
            };
            if let Some(gone) = &observation.gone {
                notes.push(Note::warning(
                    events::RECREATING,
                    "CreateVpnConnection",
                    format!("connection {gone} recorded in status no longer exists (NotFound); creating a new one"),
                ));
            }
            let body = desired_create(spec, &name, gw, cgw, psk.as_ref(), tags.clone());
            let created = create(&vpn, &ctx.gateway_locks, &body, &uid).await?;
            notes.push(Note::normal(
                events::CREATED,
                "CreateVpnConnection",
                format!(
                    "created connection {} ({name}) on gateway {} address {}; waiting for it to be provisioned",
                    created.id, gw.id, gw.vgw_ip
                ),
            ));
            let synced = synced_condition(false, &[], None, true);
            let mut status = build_status(
                &prev,
                Seen::Exists(&created, &[]),
                Known {
                    gateway: Some(gw),
                    psk_sha256: psk.as_ref().map(|p| p.sha256.clone()),
                },
                &[],
                synced,
                generation,
                &at,
            );
            if let Some(gone) = &observation.gone {
                // Say once that the old one vanished; the next reconcile reports the new state.
                mark(
                    &mut status.conditions,
                    types::READY,
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    format!(
                        "connection {gone} no longer exists in the cloud; created {} to replace it",
                        created.id
                    ),
                    generation,
                );
            }
            let mut requeue = ctx.settings.pending_requeue;
            let state = created
                .status
                .as_ref()
                .map_or("PENDING_CREATE", |s| s.as_str());
            if state_conditions(created.status.as_ref()).pending {
                // Woken by the pending watch when the state changes; the requeue is a fallback.
                ctx.pending
                    .connections
                    .watch(&vpn, &created.id, state, ObjectRef::from_obj(&*obj));
                requeue = fallback_requeue(ctx.settings.pending_requeue, requeue);
            }
            Ok(Outcome {
                status,
                requeue,
                notes,
            })
        }
        Plan::Missing { id } => {
            let synced = if observe_only {
                synced_condition(true, &[], None, false)
            } else {
                Cond::new(
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    "the connection named by spec.cloudId does not exist; the operator does not \
                     create one for an adopted id (delete this object, or recreate it without cloudId)",
                )
            };
            let status = build_status(
                &prev,
                Seen::Missing(&id),
                Known {
                    gateway: None,
                    psk_sha256: prev.psk_sha256.clone(),
                },
                &[],
                synced,
                generation,
                &at,
            );
            Ok(Outcome {
                status,
                requeue: ctx.settings.resync_interval,
                notes,
            })
        }
        Plan::Report | Plan::Wait | Plan::Hold | Plan::Sync { .. } => {
            let Some((conn, how)) = observation.found.clone() else {
                return Err(not_ready(
                    "the connection disappeared while reconciling".into(),
                    retry,
                ));
            };
            match how {
                How::Adopted if !observe_only => notes.push(Note::normal(
                    events::ADOPTED,
                    "AdoptVpnConnection",
                    format!("adopted connection {} (spec.cloudId)", conn.id),
                )),
                How::Recovered => notes.push(Note::normal(
                    events::RECOVERED,
                    "ObserveVpnConnection",
                    format!("found connection {} created for this object earlier; using it instead of creating another", conn.id),
                )),
                _ => {}
            }
            let diffs = drift(
                spec,
                &name,
                gateway.as_ref(),
                cgw_id.as_deref(),
                &tags,
                &conn,
                &observation.tags,
            );
            let mut current = conn.clone();
            let mut monitors = observation.monitors.clone();
            let mut psk_sha = prev.psk_sha256.clone();
            let mut changed = false;
            if let Plan::Sync {
                tags: tag_changes,
                update,
                monitor,
            } = &planned
            {
                notes.extend(drift_notes(&prev, &diffs, false, spec_unchanged));
                let acted = act(
                    &vpn,
                    &ctx.gateway_locks,
                    &conn,
                    &observation.monitors,
                    tag_changes,
                    update.as_deref(),
                    monitor.as_ref(),
                )
                .await?;
                notes.extend(acted.notes);
                if acted.psk_sent {
                    psk_sha = psk.as_ref().map(|p| p.sha256.clone());
                }
                current = acted.connection.unwrap_or(current);
                monitors = acted.monitors;
                changed = acted.changed;
            } else {
                notes.extend(drift_notes(&prev, &diffs, observe_only, spec_unchanged));
            }
            // Updatable differences were just corrected (or are being); the rest remain.
            let remaining: Vec<FieldDiff> = if observe_only || !matches!(planned, Plan::Sync { .. })
            {
                diffs
            } else {
                diffs.into_iter().filter(|d| !d.updatable).collect()
            };
            let synced = synced_condition(observe_only, &remaining, dependency.as_deref(), changed);
            let status = build_status(
                &prev,
                Seen::Exists(&current, &monitors),
                Known {
                    gateway: gateway.as_ref(),
                    psk_sha256: psk_sha,
                },
                &remaining,
                synced,
                generation,
                &at,
            );
            let monitor_pending = status
                .monitor_state
                .as_deref()
                .is_some_and(|s| s.starts_with("PENDING"));
            let conn_pending = state_conditions(current.status.as_ref()).pending;
            let requeue = if changed {
                ctx.settings.pending_requeue
            } else if conn_pending && !monitor_pending && dependency.is_none() {
                // Woken by the pending watch when the state changes; the requeue is a fallback.
                let state = current
                    .status
                    .as_ref()
                    .map_or("PENDING_CREATE", |s| s.as_str());
                ctx.pending
                    .connections
                    .watch(&vpn, &current.id, state, ObjectRef::from_obj(&*obj));
                fallback_requeue(ctx.settings.pending_requeue, waiting_requeue(&ctx, &status))
            } else if conn_pending || monitor_pending || dependency.is_some() {
                waiting_requeue(&ctx, &status)
            } else {
                ctx.settings.resync_interval
            };
            Ok(Outcome {
                status,
                requeue,
                notes,
            })
        }
    }
}

// ----- cleanup -----------------------------------------------------------------------------

async fn cleanup(obj: Arc<VpnConnection>, ctx: Arc<Context>) -> Result<Vec<Note>> {
    let status = obj.status.clone().unwrap_or_default();
    let vpn = ctx
        .clouds
        .vpn(&obj.cloud_override())
        .await?
        .observing(observation_age(&*obj, &ctx));
    let since = obj
        .metadata
        .deletion_timestamp
        .as_ref()
        .and_then(|t| Duration::try_from(now().0.duration_since(t.0)).ok())
        .unwrap_or_default();
    let wait = pending_requeue(ctx.settings.pending_requeue, since);
    let id = match status
        .cloud_id
        .clone()
        .or_else(|| obj.spec.cloud_id.clone())
    {
        Some(id) => id,
        None => {
            let uid = obj.uid().unwrap_or_default();
            let observation = observe(
                &vpn,
                Lookup::ByOwnerTag,
                &uid,
                true,
                status.vpn_gateway_id.as_deref(),
            )
            .await?;
            match observation.found {
                Some((c, _)) => c.id,
                None => return Ok(Vec::new()),
            }
        }
    };
    let uid = obj.uid().unwrap_or_default();
    // While the cloud works, the pending watch wakes this object when the connection's state
    // changes (or it is gone); the requeue is a fallback.
    let watch = |state: &str| {
        ctx.pending
            .connections
            .watch(&vpn, &id, state, ObjectRef::from_obj(&*obj));
        fallback_requeue(ctx.settings.pending_requeue, wait)
    };
    match teardown(&vpn, &ctx.gateway_locks, &id, &uid).await? {
        Teardown::Foreign(owner) => Ok(vec![Note::warning(
            events::NOT_DELETED,
            "DeleteVpnConnection",
            format!(
                "connection {id} is managed by {owner} (its {TAG_UID} tag names another object); \
                 it was left in place"
            ),
        )]),
        Teardown::Gone => Ok(vec![Note::normal(
            events::DELETED,
            "DeleteVpnConnection",
            format!("connection {id} is gone from the cloud"),
        )]),
        Teardown::Requested => {
            let already = ready_condition(&status).is_some_and(|c| c.reason == reasons::DELETING);
            if !already {
                let note = Note::normal(
                    events::DELETE_REQUESTED,
                    "DeleteVpnConnection",
                    format!(
                        "deleting connection {id} (and its health check); waiting until it is gone"
                    ),
                );
                ctx.publish(&*obj, &note).await;
            }
            Err(Error::waiting(
                reasons::DELETING,
                format!("connection {id} is being deleted"),
                watch("PENDING_DELETE"),
            ))
        }
        Teardown::Deleting => Err(Error::waiting(
            reasons::DELETING,
            format!("connection {id} is being deleted (PENDING_DELETE)"),
            watch("PENDING_DELETE"),
        )),
        Teardown::Busy(state) => Err(Error::waiting(
            reasons::DELETING,
            format!("connection {id} is {state}; it is deleted when that operation finishes"),
            watch(&state),
        )),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sim_tests;
