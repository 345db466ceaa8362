//! The cloud side: find the connection (and its tags and monitors), run the changes of a
//! plan, create, and take it down. Mutations hold the gateway's lock.
use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::connection::{
    ConnectionStatus, CreateVpnConnectionRequestBody, ResponseVpnConnection,
};
use crate::cloud::model::monitor::{ConnectionMonitorInfo, MonitorStatus};
use crate::cloud::model::tag::TagResourceType;
use crate::cloud::{ErrorKind, VpnClient};
use crate::controller::context::Note;
use crate::controller::error::{Error, Result};
use crate::controller::locks::KeyedLocks;
use crate::controller::ownership::{ownership, Ownership, TagDiff, MAX_TAGS};

use super::{events, MonitorChange, Update};

/// Where to find the connection of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// By the id recorded in `status.cloudId`.
    Recorded(String),
    /// By `spec.cloudId` (adoption, or the connection to observe).
    Adopt(String),
    /// By the owner tag: finds a connection this object created whose id never reached status.
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

/// How an existing connection was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Its id was in status.
    Recorded,
    /// It is the connection named by `spec.cloudId`, seen for the first time.
    Adopted,
    /// It carries this object's owner tag.
    Recovered,
}

/// What the cloud holds for an object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The connection, if one was found.
    pub found: Option<(ResponseVpnConnection, How)>,
    /// An id (recorded or from `spec.cloudId`) that answered 404.
    pub gone: Option<String>,
    /// The connection's tags (from GET, or the tag API when GET has none).
    pub tags: Vec<VpnResourceTag>,
    /// The connection's monitors.
    pub monitors: Vec<ConnectionMonitorInfo>,
}

/// The connection carrying `uid` in its owner tag (the oldest, should there be several).
pub fn find_owned<'a>(
    items: impl IntoIterator<Item = &'a ResponseVpnConnection>,
    uid: &str,
) -> Option<ResponseVpnConnection> {
    items
        .into_iter()
        .filter(|c| ownership(c.tags.as_deref(), uid) == Ownership::Ours)
        .min_by_key(|c| (c.created_at.as_ref().and_then(|t| t.to_utc()), &c.id))
        .cloned()
}

/// Reads the connection (see [`lookup`]), its tags and its monitors. `gateway_hint` narrows the
/// owner-tag search to one gateway's connections. `may_create`: when the recorded connection is
/// gone, also search by owner tag (a copy may exist) before anything is created.
pub async fn observe(
    vpn: &VpnClient,
    step: Lookup,
    uid: &str,
    may_create: bool,
    gateway_hint: Option<&str>,
) -> Result<Observation> {
    let by_tag = || async {
        let all = vpn.search_connections(uid).await?;
        let candidates = all
            .values()
            .filter(|c| gateway_hint.is_none_or(|g| c.vgw_id.as_deref() == Some(g)));
        Ok::<_, Error>(find_owned(candidates, uid).map(|c| (c, How::Recovered)))
    };
    let get = |id: String| async move { Ok::<_, Error>(vpn.observe_connection(&id).await?) };
    let (found, gone) = match step {
        Lookup::Recorded(id) => match get(id.clone()).await? {
            Some(c) => (Some((c, How::Recorded)), None),
            None if may_create => (by_tag().await?, Some(id)),
            None => (None, Some(id)),
        },
        Lookup::Adopt(id) => match get(id.clone()).await? {
            Some(c) => (Some((c, How::Adopted)), None),
            None => (None, Some(id)),
        },
        Lookup::ByOwnerTag => (by_tag().await?, None),
        Lookup::Nothing => (None, None),
    };
    let (tags, monitors) = match &found {
        Some((c, _)) => {
            let tags = match &c.tags {
                Some(t) => t.clone(),
                None => {
                    vpn.list_tags(&TagResourceType::VpnConnection, &c.id)
                        .await?
                }
            };
            (tags, monitors_of(vpn, &c.id).await?)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Observation {
        found,
        gone,
        tags,
        monitors,
    })
}

async fn monitors_of(vpn: &VpnClient, connection_id: &str) -> Result<Vec<ConnectionMonitorInfo>> {
    // The filter is applied again here, in case a server ignores it.
    Ok(vpn
        .observe_monitors_of(connection_id)
        .await?
        .into_iter()
        .filter(|m| {
            m.vpn_connection_id
                .as_deref()
                .is_none_or(|c| c == connection_id)
        })
        .collect())
}

/// What acting on a [`Plan::Sync`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Acted {
    /// Events to publish.
    pub notes: Vec<Note>,
    /// The connection after the changes (`PENDING_UPDATE` after a PUT).
    pub connection: Option<ResponseVpnConnection>,
    /// The monitors after the changes.
    pub monitors: Vec<ConnectionMonitorInfo>,
    /// Whether anything was changed in the cloud (look again soon).
    pub changed: bool,
    /// Whether the key in the update was accepted.
    pub psk_sent: bool,
}

/// Runs the changes of a [`Plan::Sync`] on `conn`. Mutations of the connection and its monitor
/// hold the gateway's lock.
pub async fn act(
    vpn: &VpnClient,
    locks: &KeyedLocks,
    conn: &ResponseVpnConnection,
    monitors: &[ConnectionMonitorInfo],
    tags: &TagDiff,
    update: Option<&Update>,
    monitor: Option<&MonitorChange>,
) -> Result<Acted> {
    let mut out = Acted {
        connection: Some(conn.clone()),
        monitors: monitors.to_vec(),
        ..Default::default()
    };
    let lock_key = conn.vgw_id.clone().unwrap_or_else(|| conn.id.clone());
    let mut changed: Vec<String> = Vec::new();
    if !tags.is_empty() {
        let kind = TagResourceType::VpnConnection;
        for chunk in tags.remove.chunks(MAX_TAGS) {
            vpn.remove_tags(&kind, &conn.id, chunk).await?;
        }
        for chunk in tags.add.chunks(MAX_TAGS) {
            vpn.add_tags(&kind, &conn.id, chunk).await?;
        }
        changed.push("tags".into());
    }
    if let Some(u) = update {
        let updated = {
            let _lock = locks.lock(&lock_key).await;
            vpn.update_connection(&conn.id, &u.body).await?
        };
        out.connection = Some(after_update(updated, conn));
        out.psk_sent = u.rotates_psk;
        changed.extend(u.fields.iter().filter(|f| *f != "pskSecretRef").cloned());
        if u.rotates_psk {
            out.notes.push(Note::normal(
                events::PSK_ROTATED,
                "UpdateVpnConnection",
                format!(
                    "sent the pre-shared key from the Secret to connection {}",
                    conn.id
                ),
            ));
        }
    }
    match monitor {
        Some(MonitorChange::Create) => {
            let mut m = {
                let _lock = locks.lock(&lock_key).await;
                vpn.create_connection_monitor(&conn.id).await?
            };
            m.status.get_or_insert(MonitorStatus::PendingCreate);
            m.vpn_connection_id.get_or_insert_with(|| conn.id.clone());
            out.notes.push(Note::normal(
                events::UPDATED,
                "CreateConnectionMonitor",
                format!(
                    "created health check (connection monitor {}) for connection {}",
                    m.id, conn.id
                ),
            ));
            out.monitors = vec![m];
        }
        Some(MonitorChange::Delete(ids)) => {
            for id in ids {
                let _lock = locks.lock(&lock_key).await;
                match vpn.delete_connection_monitor(id).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            out.notes.push(Note::normal(
                events::UPDATED,
                "DeleteConnectionMonitor",
                format!(
                    "deleted the health check of connection {} ({})",
                    conn.id,
                    ids.join(", ")
                ),
            ));
            out.monitors.clear();
        }
        None => {}
    }
    if !changed.is_empty() {
        out.notes.insert(
            0,
            Note::normal(
                events::UPDATED,
                "UpdateVpnConnection",
                format!("updated connection {}: {}", conn.id, changed.join(", ")),
            ),
        );
    }
    out.changed = !changed.is_empty() || monitor.is_some() || out.psk_sent;
    Ok(out)
}

/// The connection after a PUT: the answer has no `status` (it is `PENDING_UPDATE` now) and
/// may lack read-only parts, which are kept from before.
fn after_update(
    mut c: ResponseVpnConnection,
    before: &ResponseVpnConnection,
) -> ResponseVpnConnection {
    c.status = Some(ConnectionStatus::PendingUpdate);
    c.bgp_peer = c.bgp_peer.or_else(|| before.bgp_peer.clone());
    c.tags = c.tags.or_else(|| before.tags.clone());
    c.vgw_id = c.vgw_id.or_else(|| before.vgw_id.clone());
    c.vgw_ip = c.vgw_ip.or_else(|| before.vgw_ip.clone());
    c.created_at = c.created_at.or_else(|| before.created_at.clone());
    c.connection_monitor_id = c
        .connection_monitor_id
        .or_else(|| before.connection_monitor_id.clone());
    c
}

/// Creates the connection (holding the gateway's lock). The answer has no `status`: it is
/// reported as `PENDING_CREATE`.
pub async fn create(
    vpn: &VpnClient,
    locks: &KeyedLocks,
    body: &CreateVpnConnectionRequestBody,
    owner: &str,
) -> Result<ResponseVpnConnection> {
    let mut c = {
        let _lock = locks.lock(&body.vgw_id).await;
        let created = vpn.create_connection(body).await;
        vpn.attempted_create(owner);
        created?
    };
    c.status.get_or_insert(ConnectionStatus::PendingCreate);
    Ok(c)
}

/// Where deleting a connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// GET answers 404: done.
    Gone,
    /// DELETE was just accepted.
    Requested,
    /// The cloud is deleting it (`PENDING_DELETE`).
    Deleting,
    /// Another operation is running (`PENDING_CREATE` / `PENDING_UPDATE`); delete afterwards.
    Busy(String),
    /// Its owner tag names another object (shown here): it is not this object's to delete.
    Foreign(String),
}

/// One step of deleting connection `id` for the object with `uid`: its monitors first, then
/// the connection, then waiting for 404. A connection tagged as owned by another object is
/// left alone, monitors included. A monitor delete answered with 400 is taken as "already
/// gone" (the provider's own tooling does the same).
pub async fn teardown(
    vpn: &VpnClient,
    locks: &KeyedLocks,
    id: &str,
    uid: &str,
) -> Result<Teardown> {
    let Some(conn) = vpn.observe_connection(id).await? else {
        return Ok(Teardown::Gone);
    };
    let tags = match &conn.tags {
        Some(t) => t.clone(),
        None => vpn.list_tags(&TagResourceType::VpnConnection, id).await?,
    };
    if let Ownership::Foreign(owner) = ownership(Some(&tags), uid) {
        return Ok(Teardown::Foreign(owner));
    }
    let monitors = monitors_of(vpn, id).await?;
    let deletable = monitors
        .iter()
        .filter(|m| m.status != Some(MonitorStatus::PendingDelete));
    for m in deletable {
        match vpn.delete_connection_monitor(&m.id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() || e.kind == ErrorKind::InvalidRequest => {}
            Err(e) => return Err(e.into()),
        }
    }
    match conn.status.clone() {
        Some(ConnectionStatus::PendingDelete) => return Ok(Teardown::Deleting),
        Some(s @ (ConnectionStatus::PendingCreate | ConnectionStatus::PendingUpdate)) => {
            return Ok(Teardown::Busy(s.to_string()))
        }
        _ => {}
    }
    let key = conn.vgw_id.clone().unwrap_or_else(|| id.to_string());
    let _lock = locks.lock(&key).await;
    match vpn.delete_connection(id).await {
        Ok(()) => Ok(Teardown::Requested),
        Err(e) if e.is_not_found() => Ok(Teardown::Gone),
        Err(e) => Err(e.into()),
    }
}
