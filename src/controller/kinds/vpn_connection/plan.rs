//! What to do with a connection: pure functions of the spec, the inputs, the observation and
//! `now`.
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::connection::{
    ConnectionStatus, CreateVpnConnectionRequestBody, ResponseVpnConnection,
    UpdateVpnConnectionRequestBody,
};
use crate::cloud::model::monitor::{ConnectionMonitorInfo, MonitorStatus};
use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::lookup::Absent;
use crate::controller::runtime::ownership::{tag_diff, TagDiff};
use crate::controller::runtime::requeue::{pending_for, Next};
use crate::crd::common::{find_condition, reasons, types, ConditionStatus, ManagementPolicy};
use crate::crd::{VpnConnection, VpnConnectionSpec, VpnConnectionStatus};

use super::desired::{desired_create, desired_update};
use super::drift::drift;
use super::psk::Psk;
use super::refs::{recorded_gateway, Resolved, ResolvedGateway};
use super::reset;
use super::{observed_tags, Inputs, Observed};
use crate::controller::runtime::quota;

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

/// The next step for a connection.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// No connection: create one on `gateway`. `replaces`: the recorded connection that is
    /// gone from the cloud (no copy carries the owner tag).
    Create {
        body: Box<CreateVpnConnectionRequestBody>,
        gateway: ResolvedGateway,
        replaces: Option<String>,
        /// The digest of the key the create sends (`status.pskSha256` once it is made).
        psk_sha256: Option<String>,
    },
    /// The connection the object points at (`spec.cloudId`, or observe-only) does not exist;
    /// the operator creates none. `None`: observe-only without an id.
    Missing { id: Option<String> },
    /// Observe only: report, change nothing.
    Report,
    /// The connection is changing state (`PENDING_*`, `UNKNOWN`): look again soon.
    Wait,
    /// `ERROR` or `FREEZED`: nothing the operator can change; report.
    Hold,
    /// Reset the connection, as the reset annotation asked (`requested`: its value). Alone:
    /// the connection is negotiated again (`PENDING_UPDATE`), other changes wait.
    Reset {
        id: String,
        lock: String,
        requested: String,
    },
    /// Provisioned (`ACTIVE` / `DOWN`): make it match. An update comes alone: the connection is
    /// `PENDING_UPDATE` afterwards, and the health check waits for the next reconcile.
    /// `lock`: the gateway whose mutations are serialised.
    Sync {
        id: String,
        lock: String,
        tags: TagDiff,
        update: Option<Box<Update>>,
        monitor: Option<MonitorChange>,
    },
    /// Deleting: the connection is gone from the cloud (`id`: the one that was recorded).
    Gone { id: Option<String> },
    /// Deleting: the connection belongs to another object (named); it stays, monitors included.
    LeaveForeign { id: String, owner: String },
    /// Deleting: delete these monitors, and wait for the cloud to finish with the connection
    /// (`PENDING_*`) before deleting it.
    AwaitDeletion {
        id: String,
        state: ConnectionStatus,
        monitors: Vec<String>,
    },
    /// Deleting: delete these monitors, then the connection.
    Delete {
        id: String,
        lock: String,
        monitors: Vec<String>,
    },
}

impl Plan {
    /// Whether carrying out the plan writes to the cloud (see `Managed::writes`).
    pub fn writes(&self) -> bool {
        match self {
            Plan::Create { .. } | Plan::Reset { .. } | Plan::Delete { .. } => true,
            Plan::Sync {
                tags,
                update,
                monitor,
                ..
            } => !tags.is_empty() || update.is_some() || monitor.is_some(),
            Plan::AwaitDeletion { monitors, .. } => !monitors.is_empty(),
            Plan::Missing { .. }
            | Plan::Report
            | Plan::Wait
            | Plan::Hold
            | Plan::Gone { .. }
            | Plan::LeaveForeign { .. } => false,
        }
    }
}

/// The references as a connection uses them now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs<'a> {
    /// The gateway: resolved, else the one recorded in status (it cannot change).
    pub gateway: Option<ResolvedGateway>,
    /// The customer gateway id, when it resolves.
    pub cgw_id: Option<&'a str>,
    /// Why a reference is not usable (the gateway's reason first), and whether a watch on the
    /// object it names wakes the connection.
    pub waiting: Option<(String, bool)>,
}

/// The references of an existing connection (see [`Refs`]).
pub fn refs<'a>(
    prev: &VpnConnectionStatus,
    gateway: &'a Resolved<ResolvedGateway>,
    cgw: &'a Resolved<String>,
) -> Refs<'a> {
    let mut waiting = None;
    let gw = match gateway {
        Resolved::Ready(g) => Some(g.clone()),
        other => recorded_gateway(prev).or_else(|| {
            waiting = other.problem().map(|m| (m.to_string(), other.watched()));
            None
        }),
    };
    if waiting.is_none() {
        waiting = cgw.problem().map(|m| (m.to_string(), cgw.watched()));
    }
    Refs {
        gateway: gw,
        cgw_id: cgw.ready().map(String::as_str),
        waiting,
    }
}

/// What a wait for a reference waits for: a watched object wakes the connection, a gateway
/// named by cloud id is polled like a pending cloud resource.
pub fn waiting_for(watched: bool, since: Duration) -> Next {
    match watched {
        true => Next::Dependency { since },
        false => Next::Pending {
            since,
            watched: false,
        },
    }
}

/// How long the connection has been waiting: since `Ready` turned not-True or the cloud last
/// changed it, whichever is later (zero while Ready).
pub fn waiting_since(status: &VpnConnectionStatus, now: &Time) -> Duration {
    let changed = status
        .updated_at
        .as_deref()
        .or(status.created_at.as_deref());
    find_condition(&status.conditions, types::READY)
        .filter(|c| c.status != ConditionStatus::True)
        .map(|c| pending_for(Some(c), changed, now))
        .unwrap_or_default()
}

/// A reference that stops the reconcile: a spec error always; a wait only when there is no
/// connection yet (an existing one keeps its settings meanwhile).
fn check<T>(r: &Resolved<T>, exists: bool, since: Duration) -> Result<()> {
    match r {
        Resolved::Invalid(m) => Err(Error::InvalidSpec(m.clone())),
        Resolved::Waiting { message, watched } if !exists => Err(Error::waiting(
            reasons::DEPENDENCY_NOT_READY,
            message.clone(),
            waiting_for(*watched, since),
        )),
        _ => Ok(()),
    }
}

/// Whether the key must be sent: the Secret's key is not the one last sent (or none was ever
/// recorded, e.g. after adoption: the cloud cannot tell which key it holds).
pub fn psk_needs_put(psk: Option<&Psk>, recorded: Option<&str>) -> bool {
    psk.is_some_and(|p| recorded != Some(p.sha256.as_str()))
}

/// Decides what to do with the object's connection.
pub fn plan(obj: &VpnConnection, inputs: &Inputs, observed: &Observed, now: &Time) -> Result<Plan> {
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(deletion(observed));
    }
    let spec = &obj.spec;
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let prev = obj.status.clone().unwrap_or_default();
    let found = observed.found.resource();
    // Observing tolerates everything: nothing is created or changed.
    let psk = match observe_only {
        true => None,
        false => {
            let since = waiting_since(&prev, now);
            check(&observed.gateway, found.is_some(), since)?;
            check(&inputs.customer_gateway, found.is_some(), since)?;
            inputs.psk.clone().map_err(Error::from)?
        }
    };
    let Some(conn) = found else {
        let create = |replaces| create(spec, inputs, observed, psk.as_ref(), replaces);
        return match observed
            .found
            .absent(spec.cloud_id.as_deref(), observe_only)
        {
            Absent::Create => create(None),
            Absent::Recreate { gone } => create(Some(gone)),
            Absent::Missing { id } => Ok(Plan::Missing { id }),
        };
    };
    if observe_only {
        return Ok(Plan::Report);
    }
    let state = conn
        .status
        .clone()
        .unwrap_or(ConnectionStatus::PendingCreate);
    let asked = reset::decide(
        reset::requested(obj),
        prev.last_reset.as_ref(),
        Some(&state),
        false,
    );
    if let reset::Decision::Reset { requested } = asked {
        return Ok(Plan::Reset {
            id: conn.id.clone(),
            lock: lock_key(conn),
            requested,
        });
    }
    match conn
        .status
        .clone()
        .unwrap_or(ConnectionStatus::PendingCreate)
    {
        ConnectionStatus::Active | ConnectionStatus::Down => {}
        ConnectionStatus::Error | ConnectionStatus::Freezed => return Ok(Plan::Hold),
        _ => return Ok(Plan::Wait),
    }
    let r = refs(&prev, &observed.gateway, &inputs.customer_gateway);
    let s = Sync {
        spec,
        name: &inputs.name,
        tags: &inputs.tags,
        refs: &r,
        psk: psk.as_ref(),
        recorded_psk_sha256: prev.psk_sha256.as_deref(),
    };
    Ok(s.plan(conn, &observed.monitors))
}

fn create(
    spec: &VpnConnectionSpec,
    inputs: &Inputs,
    observed: &Observed,
    psk: Option<&Psk>,
    replaces: Option<String>,
) -> Result<Plan> {
    // Both resolve here: `check` stopped the reconcile otherwise.
    let (Some(gw), Some(cgw)) = (observed.gateway.ready(), inputs.customer_gateway.ready()) else {
        return Err(Error::waiting(
            reasons::DEPENDENCY_NOT_READY,
            "waiting for the references to resolve",
            Next::Dependency {
                since: Duration::ZERO,
            },
        ));
    };
    quota::check(observed.quota.as_ref(), "VPN connections")?;
    let body = desired_create(spec, &inputs.name, gw, cgw, psk, inputs.tags.clone());
    Ok(Plan::Create {
        body: Box::new(body),
        gateway: gw.clone(),
        replaces,
        psk_sha256: psk.map(|p| p.sha256.clone()),
    })
}

/// What [`Sync::plan`] decides from, besides the connection.
#[derive(Clone, Debug)]
pub struct Sync<'a> {
    /// The object's spec.
    pub spec: &'a VpnConnectionSpec,
    /// Cloud name of the connection.
    pub name: &'a str,
    /// Desired tags, owner tags included.
    pub tags: &'a [VpnResourceTag],
    /// The references, as far as they resolve now.
    pub refs: &'a Refs<'a>,
    /// The key from the Secret (`None` for certificate authentication).
    pub psk: Option<&'a Psk>,
    /// `status.pskSha256`: the hash of the key last sent.
    pub recorded_psk_sha256: Option<&'a str>,
}

impl Sync<'_> {
    /// The changes a provisioned connection needs: tags, one PUT (fields and key), or else the
    /// health check.
    pub fn plan(&self, conn: &ResponseVpnConnection, monitors: &[ConnectionMonitorInfo]) -> Plan {
        let spec = self.spec;
        let (gw, cgw_id) = (self.refs.gateway.as_ref(), self.refs.cgw_id);
        let observed = observed_tags(conn);
        let diffs = drift(spec, self.name, gw, cgw_id, self.tags, conn, observed);
        let mut fields: Vec<String> = diffs
            .iter()
            .filter(|d| d.updatable && d.field != "tags")
            .map(|d| d.field.clone())
            .collect();
        let rotates_psk = psk_needs_put(self.psk, self.recorded_psk_sha256);
        if rotates_psk {
            fields.push("pskSecretRef".into());
        }
        let update = (!fields.is_empty()).then(|| {
            let psk = self.psk.filter(|_| rotates_psk);
            Box::new(Update {
                body: desired_update(spec, self.name, cgw_id, conn, psk),
                fields,
                rotates_psk,
            })
        });
        let wants_monitor = spec.health_check.is_some_and(|h| h.enabled);
        // A monitor already being deleted is not deleted again.
        let deletable = deletable(monitors);
        let monitor = match (wants_monitor, monitors.is_empty()) {
            _ if update.is_some() => None,
            (true, true) => Some(MonitorChange::Create),
            (false, false) if !deletable.is_empty() => Some(MonitorChange::Delete(deletable)),
            _ => None,
        };
        Plan::Sync {
            id: conn.id.clone(),
            lock: lock_key(conn),
            tags: tag_diff(self.tags, observed),
            update,
            monitor,
        }
    }
}

/// The monitors that can be deleted (not already being deleted).
fn deletable(monitors: &[ConnectionMonitorInfo]) -> Vec<String> {
    monitors
        .iter()
        .filter(|m| m.status != Some(MonitorStatus::PendingDelete))
        .map(|m| m.id.clone())
        .collect()
}

/// Mutations of a connection hold its gateway's lock.
fn lock_key(conn: &ResponseVpnConnection) -> String {
    conn.vgw_id.clone().unwrap_or_else(|| conn.id.clone())
}

/// Deleting: the monitors first, then the connection once the cloud is not busy with it; a
/// connection that is gone or another object's is done with.
fn deletion(observed: &Observed) -> Plan {
    let Some(conn) = observed.found.resource() else {
        return Plan::Gone {
            id: observed.found.gone.clone(),
        };
    };
    let id = conn.id.clone();
    if let Some(owner) = &observed.found.foreign {
        return Plan::LeaveForeign {
            id,
            owner: owner.clone(),
        };
    }
    let monitors = deletable(&observed.monitors);
    match conn.status.clone() {
        Some(
            state @ (ConnectionStatus::PendingCreate
            | ConnectionStatus::PendingUpdate
            | ConnectionStatus::PendingDelete),
        ) => Plan::AwaitDeletion {
            id,
            state,
            monitors,
        },
        _ => Plan::Delete {
            lock: lock_key(conn),
            id,
            monitors,
        },
    }
}
