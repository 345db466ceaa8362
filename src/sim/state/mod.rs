//! The simulated cloud's resources, per project, and their state machines.
//!
//! Each project holds its own [`World`] and its VPN resources. Resources are stored as the wire
//! models of [`crate::cloud::model`] (the full, "all fields known" form) plus the simulator's
//! private bookkeeping (pending transition, write-only PSK, what to give back on delete).
//! Responses are rendered from the stored model, hiding what the documents say is not shown
//! yet (see [`gateways`] for the visibility rules).
//!
//! # State machines
//!
//! A transition is stored as a [`Pending`] with the simulated time it is due. Before every call
//! the project is [`advance`](Project::advance)d to "now" (lazily, on read), so delays of zero
//! complete at the next call and tests never sleep:
//!
//! - gateway: `PENDING_CREATE → ACTIVE`; `PENDING_UPDATE → ACTIVE` (update and
//!   update-specification); `PENDING_DELETE → gone (404)`; upgrade `UPGRADING →
//!   PENDING_UPGRADE_CONFIRM`, then `finish` → `ACTIVE` or `rollback` → `ROLLING_BACK → ACTIVE`;
//! - connection: `PENDING_CREATE → ACTIVE | DOWN` and `PENDING_UPDATE → ACTIVE | DOWN`, decided by
//!   the world's connection rules for the customer gateway's address; `PENDING_DELETE → gone`;
//! - monitor: `PENDING_CREATE → ACTIVE`, `PENDING_DELETE → gone`;
//! - customer gateways are synchronous.
//!
//! `ERROR` (connections), `FAULT` and `FREEZED` (gateways) are reached through the admin API.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::clock::api_time;
use super::config::Delays;
use super::errors::{ApiError, ApiResult};
use super::world::World;
use crate::cloud::model as m;

pub mod certificates;
pub mod connections;
pub mod customer_gateways;
pub mod gateways;
pub mod jobs;
pub mod monitors;
pub mod quotas;
pub mod tags;

pub use connections::ConnectionRec;
pub use customer_gateways::CustomerGatewayRec;
pub use gateways::GatewayRec;
pub use jobs::JobRec;
pub use monitors::MonitorRec;

/// What happens when a pending transition is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Next {
    /// Gateway or monitor becomes ACTIVE.
    Activate,
    /// Connection settles to ACTIVE / DOWN / ERROR by the world's rules.
    Settle,
    /// The resource disappears.
    Remove,
    /// Upgrade reaches PENDING_UPGRADE_CONFIRM.
    UpgradeReady,
    /// Rollback reaches ACTIVE.
    RollbackDone,
}

/// A transition waiting for its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pending {
    #[serde(serialize_with = "ser_time")]
    pub due: DateTime<Utc>,
    pub then: Next,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&api_time(*t))
}

impl Pending {
    pub fn after(now: DateTime<Utc>, delay: std::time::Duration, then: Next) -> Self {
        Self {
            due: now + ChronoDuration::from_std(delay).unwrap_or_else(|_| ChronoDuration::zero()),
            then,
        }
    }
}

/// One project: its world and its VPN resources.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub world: World,
    pub gateways: BTreeMap<String, GatewayRec>,
    pub customer_gateways: BTreeMap<String, CustomerGatewayRec>,
    pub connections: BTreeMap<String, ConnectionRec>,
    pub monitors: BTreeMap<String, MonitorRec>,
    pub jobs: BTreeMap<String, JobRec>,
    /// Last creation time handed out: creation times are unique per project, so a marker
    /// (the creation time of the last record of a page) always identifies one position.
    last_created: Option<DateTime<Utc>>,
}

impl Project {
    pub fn new(id: &str, world: World) -> Self {
        Self {
            id: id.to_string(),
            world,
            gateways: BTreeMap::new(),
            customer_gateways: BTreeMap::new(),
            connections: BTreeMap::new(),
            monitors: BTreeMap::new(),
            jobs: BTreeMap::new(),
            last_created: None,
        }
    }

    /// A creation time for a new record: `now` at millisecond precision, moved 1 ms past the
    /// previous one when two records are created within the same millisecond.
    pub fn creation_time(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let ms = now.timestamp_millis();
        let mut t = DateTime::from_timestamp_millis(ms).unwrap_or(now);
        if let Some(last) = self.last_created {
            if t <= last {
                t = last + ChronoDuration::milliseconds(1);
            }
        }
        self.last_created = Some(t);
        t
    }

    /// Applies every transition due at `now`, oldest first.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        loop {
            let next = self.next_due(now);
            let Some((due, kind, id)) = next else { break };
            match kind {
                Kind::Gateway => self.gateway_transition(&id, due),
                Kind::Connection => self.connection_transition(&id, due),
                Kind::Monitor => self.monitor_transition(&id, due),
            }
        }
    }

    fn next_due(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, Kind, String)> {
        let g = self
            .gateways
            .iter()
            .filter_map(|(id, r)| r.pending.map(|p| (p.due, Kind::Gateway, id.clone())));
        let c = self
            .connections
            .iter()
            .filter_map(|(id, r)| r.pending.map(|p| (p.due, Kind::Connection, id.clone())));
        let mo = self
            .monitors
            .iter()
            .filter_map(|(id, r)| r.pending.map(|p| (p.due, Kind::Monitor, id.clone())));
        g.chain(c)
            .chain(mo)
            .filter(|(d, _, _)| *d <= now)
            .min_by_key(|(d, _, _)| *d)
    }

    /// Quota usage: (gateways, customer gateways, connections).
    pub fn usage(&self) -> (usize, usize, usize) {
        (
            self.gateways.len(),
            self.customer_gateways.len(),
            self.connections.len(),
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Gateway,
    Connection,
    Monitor,
}

/// All projects.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub projects: BTreeMap<String, Project>,
}

impl Store {
    /// The project, advanced to `now`; VPN.0003 for a project this simulator does not serve
    /// (authentication already refuses credentials of unknown projects, so this is a guard).
    pub fn project(&mut self, id: &str, now: DateTime<Utc>) -> ApiResult<&mut Project> {
        let p = self
            .projects
            .get_mut(id)
            .ok_or_else(|| ApiError::forbidden(format!("project {id} is not served here")))?;
        p.advance(now);
        Ok(p)
    }
}

/// Delays and time for one operation.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub now: DateTime<Utc>,
    pub delays: Delays,
}

/// A short random suffix for generated names (`vpngw-3caf`).
pub fn short_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..4].to_string()
}

/// A new resource id (UUID).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Timestamp model from a time.
pub fn ts(t: DateTime<Utc>) -> m::Timestamp {
    m::Timestamp::new(api_time(t))
}

/// Paging by marker as documented for customer gateways and connections: newest first,
/// `marker` is the creation time of the last record of the previous page, `limit` in
/// `0..=max` (0 means the default), `marker` only together with `limit`.
pub fn page<T: Clone>(
    items: Vec<(DateTime<Utc>, T)>,
    limit: Option<u32>,
    marker: Option<&str>,
    default_limit: u32,
    max_limit: u32,
) -> ApiResult<(Vec<T>, Option<String>)> {
    if marker.is_some() && limit.is_none() {
        return Err(ApiError::invalid("marker must be used together with limit"));
    }
    let limit = match limit {
        None | Some(0) => default_limit,
        Some(l) if l > max_limit => {
            return Err(ApiError::invalid(format!(
                "limit {l} must be between 0 and {max_limit}"
            )))
        }
        Some(l) => l,
    };
    let after = match marker {
        Some(mk) => Some(super::clock::parse_api_time(mk).ok_or_else(|| {
            ApiError::invalid(format!(
                "marker {mk:?} is not a creation time such as 2025-06-28T06:25:01.937Z (use page_info.next_marker)"
            ))
        })?),
        None => None,
    };
    let mut items = items;
    items.sort_by_key(|i| std::cmp::Reverse(i.0));
    let page: Vec<(DateTime<Utc>, T)> = items
        .into_iter()
        .filter(|(t, _)| after.is_none_or(|a| *t < a))
        .take(limit as usize)
        .collect();
    let next = page.last().map(|(t, _)| api_time(*t));
    Ok((page.into_iter().map(|(_, v)| v).collect(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times_are_unique_and_increasing() {
        let mut p = Project::new("p", World::default());
        let now = Utc::now();
        let a = p.creation_time(now);
        let b = p.creation_time(now);
        let c = p.creation_time(now - ChronoDuration::seconds(5));
        assert!(a < b && b < c);
        assert_ne!(api_time(a), api_time(b));
    }

    #[test]
    fn paging_walks_every_record_once() {
        let t0 = Utc::now();
        let items: Vec<(DateTime<Utc>, u32)> = (0..5)
            .map(|i| (t0 + ChronoDuration::milliseconds(i), i as u32))
            .collect();
        let (p1, m1) = page(items.clone(), Some(2), None, 200, 200).unwrap();
        assert_eq!(p1, [4, 3]);
        let (p2, m2) = page(items.clone(), Some(2), m1.as_deref(), 200, 200).unwrap();
        assert_eq!(p2, [2, 1]);
        let (p3, m3) = page(items.clone(), Some(2), m2.as_deref(), 200, 200).unwrap();
        assert_eq!(p3, [0]);
        let (p4, m4) = page(items.clone(), Some(2), m3.as_deref(), 200, 200).unwrap();
        assert!(p4.is_empty() && m4.is_none());
        assert!(page(items.clone(), None, Some("x"), 200, 200).is_err());
        assert!(page(items.clone(), Some(201), None, 200, 200).is_err());
        assert!(page(items, Some(2), Some("not-a-time"), 200, 200).is_err());
    }
}

#[cfg(test)]
mod lifecycle_tests;
