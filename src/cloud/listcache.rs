//! Shared list observations: one paginated list call per (cloud account, kind) serves every
//! object of that kind, instead of one GET per object.
//!
//! A reconcile asks for "the cloud view of resource `id`, at most `max_age` old". When the
//! snapshot of its kind is older (or older than the operator's own last write to that
//! resource), one caller refreshes it with the list API while concurrent callers wait and then
//! share the result (single flight). Stable objects accept a snapshot as old as the resync
//! interval, so at rest a kind costs one list per interval whatever the number of objects;
//! provisioning objects accept a sub-second snapshot, so a state change is seen within about a
//! second while one list call a second serves all of them.
//!
//! A resource missing from a snapshot is confirmed with a GET before the operator believes it
//! is gone: a list can lag behind a create.
//!
//! A snapshot nobody has read for a while is dropped ([`ListCache::forget_idle`]): at rest the
//! objects are reconciled in bursts one resync interval apart, and by the next burst the
//! snapshot is too old to serve anyway, so keeping it between bursts is memory for nothing.
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Mutex as AsyncMutex;

use super::error::CloudError;
use super::model::connection::ResponseVpnConnection;
use super::model::customer_gateway::ResponseCustomerGateway;
use super::model::gateway::ResponseVpnGateway;
use super::model::monitor::ConnectionMonitorInfo;
use super::model::quota::{QuotaInfo, QuotaType};

/// How old the quotas may be for the check before a create: a minute, so a storm of creates
/// costs one quota call per account and minute, while a quota raised in the console is seen
/// within a minute.
pub const QUOTA_MAX_AGE: Duration = Duration::from_secs(60);

type Result<T> = std::result::Result<T, CloudError>;

/// How old an observation may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    pub max_age: Duration,
}

impl Freshness {
    pub fn within(max_age: Duration) -> Self {
        Self { max_age }
    }
}

/// A listed resource's id.
trait Listed: Clone {
    fn cloud_id(&self) -> &str;
}

macro_rules! listed {
    ($($t:ty),*) => {$(
        impl Listed for $t {
            fn cloud_id(&self) -> &str {
                &self.id
            }
        }
    )*};
}
listed!(
    ResponseVpnGateway,
    ResponseCustomerGateway,
    ResponseVpnConnection,
    ConnectionMonitorInfo
);

/// Quotas are kept by their type.
impl Listed for QuotaInfo {
    fn cloud_id(&self) -> &str {
        self.quota_type.as_str()
    }
}

struct Snapshot<T> {
    /// When the list call that produced `items` started.
    fetched: Option<Instant>,
    /// When `items` were last handed to a reader.
    read: Instant,
    items: Arc<HashMap<String, T>>,
}

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Self {
            fetched: None,
            read: Instant::now(),
            items: Arc::new(HashMap::new()),
        }
    }
}

type Cell<T> = Arc<AsyncMutex<Snapshot<T>>>;

/// The snapshots of one kind, per cloud account (endpoint + project).
struct Family<T> {
    cells: Mutex<HashMap<String, Cell<T>>>,
}

impl<T> Default for Family<T> {
    fn default() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Listed> Family<T> {
    fn cell(&self, account: &str) -> Cell<T> {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account.to_string())
            .or_default()
            .clone()
    }

    /// Every account's cell, copied out of the map so that none is locked under its lock.
    fn cells(&self) -> Vec<Cell<T>> {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// When the oldest snapshot of this kind was listed, or `Err` when a snapshot is being
    /// listed or read right now (its age is not known). `Ok(None)`: no snapshot.
    fn oldest(&self) -> std::result::Result<Option<Instant>, ()> {
        let mut oldest: Option<Instant> = None;
        for cell in self.cells() {
            let snap = cell.try_lock().map_err(|_| ())?;
            oldest = match (oldest, snap.fetched) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(oldest)
    }

    /// Drops the snapshots not read for `idle` (a cell being refreshed or read right now is
    /// left alone). Returns how many were dropped.
    fn forget_idle(&self, idle: Duration) -> usize {
        let mut dropped = 0;
        for cell in self.cells() {
            if let Ok(mut snap) = cell.try_lock() {
                if snap.fetched.is_some() && snap.read.elapsed() >= idle {
                    *snap = Snapshot::default();
                    dropped += 1;
                }
            }
        }
        dropped
    }

    /// The snapshot for `account`, refreshed with `fetch` when older than `max_age` or than
    /// `not_before`.
    async fn snapshot<F, Fut>(
        &self,
        account: &str,
        max_age: Duration,
        not_before: Option<Instant>,
        fetch: F,
    ) -> Result<Arc<HashMap<String, T>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Vec<T>, CloudError>>,
    {
        Ok(self
            .snapshot_at(account, max_age, not_before, fetch)
            .await?
            .1)
    }

    /// [`Self::snapshot`] with the moment its list call started.
    async fn snapshot_at<F, Fut>(
        &self,
        account: &str,
        max_age: Duration,
        not_before: Option<Instant>,
        fetch: F,
    ) -> Result<(Instant, Arc<HashMap<String, T>>)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Vec<T>, CloudError>>,
    {
        let cell = self.cell(account);
        let mut snap = cell.lock().await;
        let fresh = snap
            .fetched
            .is_some_and(|t| t.elapsed() <= max_age && not_before.is_none_or(|nb| t > nb));
        if !fresh {
            let started = Instant::now();
            let items = fetch().await?;
            snap.items = Arc::new(
                items
                    .into_iter()
                    .map(|i| (i.cloud_id().to_string(), i))
                    .collect(),
            );
            snap.fetched = Some(started);
        }
        let fetched = snap.fetched.unwrap_or_else(Instant::now);
        snap.read = Instant::now();
        Ok((fetched, snap.items.clone()))
    }

    /// Changes item `id` of `account`'s snapshot in place (nothing when there is no snapshot,
    /// or it is being listed right now: that list may or may not show the change).
    fn adjust(&self, account: &str, id: &str, change: impl FnOnce(&mut T)) {
        let cell = self.cell(account);
        let Ok(mut snap) = cell.try_lock() else {
            return;
        };
        if snap.fetched.is_none() {
            return;
        }
        if let Some(item) = Arc::make_mut(&mut snap.items).get_mut(id) {
            change(item);
        }
    }

    /// Resource `id` from a snapshot at most `max_age` old; a miss is confirmed with `get`
    /// (`None` on 404), since a list can lag behind a create.
    async fn one<F, Fut, G, GFut>(
        &self,
        account: &str,
        id: &str,
        max_age: Duration,
        not_before: Option<Instant>,
        fetch: F,
        get: G,
    ) -> Result<Option<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<T>>>,
        G: FnOnce() -> GFut,
        GFut: Future<Output = Result<T>>,
    {
        let items = self.snapshot(account, max_age, not_before, fetch).await?;
        match items.get(id) {
            Some(v) => Ok(Some(v.clone())),
            None => not_found_as_none(get().await),
        }
    }
}

/// Shared list observations for every kind the VPN controllers read.
pub struct ListCache {
    gateways: Family<ResponseVpnGateway>,
    customer_gateways: Family<ResponseCustomerGateway>,
    connections: Family<ResponseVpnConnection>,
    monitors: Family<ConnectionMonitorInfo>,
    /// The quotas of each account (see [`QUOTA_MAX_AGE`]).
    quotas: Family<QuotaInfo>,
    /// When the operator last changed a resource (by cloud id), or last tried to create one for
    /// an object (by [`created_key`]): older snapshots do not show it.
    writes: Mutex<Writes>,
    /// When this process started acting (see [`begin`](Self::begin)): resources created
    /// before then, by an earlier process, are in every snapshot taken after it.
    epoch: Mutex<Instant>,
}

impl Default for ListCache {
    fn default() -> Self {
        Self {
            gateways: Family::default(),
            customer_gateways: Family::default(),
            connections: Family::default(),
            monitors: Family::default(),
            quotas: Family::default(),
            writes: Mutex::new(Writes {
                map: HashMap::new(),
                sweep_at: 1024,
            }),
            epoch: Mutex::new(Instant::now()),
        }
    }
}

struct Writes {
    map: HashMap<String, Instant>,
    /// Sweep old entries when the map reaches this size.
    sweep_at: usize,
}

/// The key under which create attempts for object `owner` are recorded.
fn created_key(owner: &str) -> String {
    format!("<created-for>{owner}")
}

/// A list call of one kind: every resource of the account.
pub trait ListAll<T>: FnOnce() -> Self::Fut {
    type Fut: Future<Output = Result<Vec<T>>>;
}

impl<T, F, Fut> ListAll<T> for F
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    type Fut = Fut;
}

/// A GET of one resource.
pub trait GetOne<T>: FnOnce() -> Self::Fut {
    type Fut: Future<Output = Result<T>>;
}

impl<T, F, Fut> GetOne<T> for F
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    type Fut = Fut;
}

impl ListCache {
    /// Records that the operator just changed resource `id` (create, update, delete, tags), so
    /// the next observation of it comes from a list started after now.
    pub fn wrote(&self, id: &str) {
        let mut w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        // Entries older than any useful snapshot age are dropped to keep the map small; only
        // when it has doubled since the last sweep, so a write costs O(1) amortised.
        if w.map.len() >= w.sweep_at {
            w.map.retain(|_, t| t.elapsed() < Duration::from_secs(3600));
            w.sweep_at = (w.map.len() * 2).max(1024);
        }
        w.map.insert(id.to_string(), Instant::now());
    }

    /// Drops every snapshot no reconcile has read for `idle` (see the module doc); the next
    /// reader lists again. Then forgets the writes older than every snapshot left: every
    /// snapshot, present or future, was listed after them, so they no longer decide anything.
    /// Returns how many snapshots were dropped.
    pub fn forget_idle(&self, idle: Duration) -> usize {
        let dropped = self.gateways.forget_idle(idle)
            + self.customer_gateways.forget_idle(idle)
            + self.connections.forget_idle(idle)
            + self.monitors.forget_idle(idle)
            + self.quotas.forget_idle(idle);
        self.forget_old_writes();
        dropped
    }

    /// Forgets the writes made before the oldest snapshot (or before now, when there is none).
    /// Nothing is forgotten while a snapshot is being listed: its list may have started before
    /// a write. A snapshot listed after this check starts after it, so after every write kept
    /// or forgotten here.
    fn forget_old_writes(&self) {
        let checked = Instant::now();
        let oldest = [
            self.gateways.oldest(),
            self.customer_gateways.oldest(),
            self.connections.oldest(),
            self.monitors.oldest(),
        ]
        .into_iter()
        .try_fold(checked, |acc, o| o.map(|t| t.map_or(acc, |t| acc.min(t))));
        let Ok(before) = oldest else { return };
        let mut w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        let had = w.map.len();
        w.map.retain(|_, t| *t >= before);
        // Only after a real drop: this runs every few seconds, and shrinking copies the map.
        if w.map.len() < had {
            w.map.shrink_to_fit();
        }
    }

    /// Marks the moment this process starts acting on the cloud (the controllers start, e.g.
    /// after leadership is won). Owner-tag searches only trust snapshots taken after it.
    pub fn begin(&self) {
        *self.epoch.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Records that a create for object `owner` (its uid) just returned, whatever the outcome:
    /// its owner-tag search must use a snapshot started after now (the response may have been
    /// lost after the resource was made).
    pub fn attempted_create(&self, owner: &str) {
        self.wrote(&created_key(owner));
    }

    /// The oldest snapshot that can answer "does a resource tagged for `owner` exist?": one
    /// started after this process began and after `owner`'s last create attempt. Any resource
    /// of `owner` was made by an earlier process (before the epoch) or by one of those attempts.
    fn owner_search_floor(&self, owner: &str) -> Option<Instant> {
        let epoch = *self.epoch.lock().unwrap_or_else(|e| e.into_inner());
        latest(Some(epoch), self.last_write(&created_key(owner)))
    }

    fn last_write(&self, id: &str) -> Option<Instant> {
        self.writes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .get(id)
            .copied()
    }

    /// The quota of `quota_type` of `account`, from a snapshot at most [`QUOTA_MAX_AGE`] old
    /// (`fresh`: listed now), with the moment its list started; `None` when the account's
    /// quotas do not report the type. `list` reads every quota of the account.
    pub async fn quota(
        &self,
        account: &str,
        quota_type: &QuotaType,
        fresh: bool,
        list: impl ListAll<QuotaInfo>,
    ) -> Result<(Instant, Option<QuotaInfo>)> {
        let max_age = if fresh { Duration::ZERO } else { QUOTA_MAX_AGE };
        let (fetched, items) = self
            .quotas
            .snapshot_at(account, max_age, None, list)
            .await?;
        Ok((fetched, items.get(quota_type.as_str()).cloned()))
    }

    /// Counts `n` more resources of `quota_type` as used in `account`'s quota snapshot (just
    /// created), until the snapshot is listed again.
    pub fn quota_used(&self, account: &str, quota_type: &QuotaType, n: i64) {
        self.quotas.adjust(account, quota_type.as_str(), |q| {
            if let Some(used) = &mut q.used {
                *used += n;
            }
        });
    }

    /// The gateway `id` of `account`, or `None` when it does not exist; `list` lists the
    /// account's gateways, `get` reads this one.
    pub async fn gateway(
        &self,
        account: &str,
        id: &str,
        f: Freshness,
        list: impl ListAll<ResponseVpnGateway>,
        get: impl GetOne<ResponseVpnGateway>,
    ) -> Result<Option<ResponseVpnGateway>> {
        let seen = self.last_write(id);
        self.gateways
            .one(account, id, f.max_age, seen, list, get)
            .await
    }

    /// The gateways of the account tagged for object `owner` could be among (the search
    /// before a create): a snapshot recent enough to hold any that exist, shared by all objects
    /// searching at the same time instead of one full list each.
    pub async fn gateways_for_owner(
        &self,
        account: &str,
        owner: &str,
        list: impl ListAll<ResponseVpnGateway>,
    ) -> Result<Arc<HashMap<String, ResponseVpnGateway>>> {
        let floor = self.owner_search_floor(owner);
        self.gateways
            .snapshot(account, Duration::MAX, floor, list)
            .await
    }

    /// The customer gateways to search for object `owner` (see [`Self::gateways_for_owner`]).
    pub async fn customer_gateways_for_owner(
        &self,
        account: &str,
        owner: &str,
        list: impl ListAll<ResponseCustomerGateway>,
    ) -> Result<Arc<HashMap<String, ResponseCustomerGateway>>> {
        let floor = self.owner_search_floor(owner);
        self.customer_gateways
            .snapshot(account, Duration::MAX, floor, list)
            .await
    }

    /// The connections to search for object `owner` (see [`Self::gateways_for_owner`]).
    pub async fn connections_for_owner(
        &self,
        account: &str,
        owner: &str,
        list: impl ListAll<ResponseVpnConnection>,
    ) -> Result<Arc<HashMap<String, ResponseVpnConnection>>> {
        let floor = self.owner_search_floor(owner);
        self.connections
            .snapshot(account, Duration::MAX, floor, list)
            .await
    }

    /// Every gateway of the account, from a snapshot at most `f.max_age` old, with the moment
    /// its list started (for the controllers' pending watch).
    pub async fn all_gateways(
        &self,
        account: &str,
        f: Freshness,
        list: impl ListAll<ResponseVpnGateway>,
    ) -> Result<(Instant, Arc<HashMap<String, ResponseVpnGateway>>)> {
        self.gateways
            .snapshot_at(account, f.max_age, None, list)
            .await
    }

    /// Every connection of the account (see [`Self::all_gateways`]).
    pub async fn all_connections(
        &self,
        account: &str,
        f: Freshness,
        list: impl ListAll<ResponseVpnConnection>,
    ) -> Result<(Instant, Arc<HashMap<String, ResponseVpnConnection>>)> {
        self.connections
            .snapshot_at(account, f.max_age, None, list)
            .await
    }

    /// The customer gateway `id`, or `None` when it does not exist.
    pub async fn customer_gateway(
        &self,
        account: &str,
        id: &str,
        f: Freshness,
        list: impl ListAll<ResponseCustomerGateway>,
        get: impl GetOne<ResponseCustomerGateway>,
    ) -> Result<Option<ResponseCustomerGateway>> {
        let seen = self.last_write(id);
        self.customer_gateways
            .one(account, id, f.max_age, seen, list, get)
            .await
    }

    /// The connection `id`, or `None` when it does not exist.
    pub async fn connection(
        &self,
        account: &str,
        id: &str,
        f: Freshness,
        list: impl ListAll<ResponseVpnConnection>,
        get: impl GetOne<ResponseVpnConnection>,
    ) -> Result<Option<ResponseVpnConnection>> {
        let seen = self.last_write(id);
        self.connections
            .one(account, id, f.max_age, seen, list, get)
            .await
    }

    /// The monitors of connection `connection_id` (the operator's writes to the connection's
    /// monitors are recorded under the connection id, deletes under [`MONITORS`]).
    pub async fn monitors_of(
        &self,
        account: &str,
        connection_id: &str,
        f: Freshness,
        list: impl ListAll<ConnectionMonitorInfo>,
    ) -> Result<Vec<ConnectionMonitorInfo>> {
        let seen = latest(self.last_write(connection_id), self.last_write(MONITORS));
        let items = self
            .monitors
            .snapshot(account, f.max_age, seen, list)
            .await?;
        Ok(items
            .values()
            .filter(|m| m.vpn_connection_id.as_deref() == Some(connection_id))
            .cloned()
            .collect())
    }
}

/// Key under which writes to any monitor are recorded (a monitor delete knows only the monitor id).
pub const MONITORS: &str = "<monitors>";

fn latest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    a.max(b)
}

fn not_found_as_none<T>(r: std::result::Result<T, CloudError>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    impl Listed for String {
        fn cloud_id(&self) -> &str {
            self
        }
    }

    fn fetcher<'a>(
        calls: &'a AtomicUsize,
        items: Vec<&str>,
    ) -> impl Future<Output = std::result::Result<Vec<String>, CloudError>> + 'a {
        calls.fetch_add(1, Ordering::SeqCst);
        let items: Vec<String> = items.into_iter().map(String::from).collect();
        async move { Ok(items) }
    }

    #[tokio::test]
    async fn one_list_serves_every_reader_within_max_age() {
        let fam = Family::<String>::default();
        let calls = AtomicUsize::new(0);
        for _ in 0..100 {
            let items = fam
                .snapshot("acct", Duration::from_secs(600), None, || {
                    fetcher(&calls, vec!["a", "b"])
                })
                .await
                .unwrap();
            assert!(items.contains_key("a"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_older_snapshot_than_allowed_is_refreshed() {
        let fam = Family::<String>::default();
        let calls = AtomicUsize::new(0);
        fam.snapshot("acct", Duration::ZERO, None, || fetcher(&calls, vec!["a"]))
            .await
            .unwrap();
        fam.snapshot("acct", Duration::ZERO, None, || fetcher(&calls, vec!["a"]))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "max_age zero always lists");
    }

    #[tokio::test]
    async fn a_snapshot_from_before_our_own_write_is_not_used() {
        let fam = Family::<String>::default();
        let calls = AtomicUsize::new(0);
        fam.snapshot("acct", Duration::from_secs(600), None, || {
            fetcher(&calls, vec!["a"])
        })
        .await
        .unwrap();
        let wrote = Instant::now();
        fam.snapshot("acct", Duration::from_secs(600), Some(wrote), || {
            fetcher(&calls, vec!["a"])
        })
        .await
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // The refreshed snapshot started after the write: it serves later readers.
        fam.snapshot("acct", Duration::from_secs(600), Some(wrote), || {
            fetcher(&calls, vec!["a"])
        })
        .await
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn accounts_have_separate_snapshots() {
        let fam = Family::<String>::default();
        let calls = AtomicUsize::new(0);
        let a = fam
            .snapshot("p1", Duration::from_secs(600), None, || {
                fetcher(&calls, vec!["x"])
            })
            .await
            .unwrap();
        let b = fam
            .snapshot("p2", Duration::from_secs(600), None, || {
                fetcher(&calls, vec!["y"])
            })
            .await
            .unwrap();
        assert!(a.contains_key("x") && !a.contains_key("y"));
        assert!(b.contains_key("y"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn owner_searches_share_a_list_until_that_owner_tries_a_create() {
        let cache = ListCache::default();
        let fam = Family::<String>::default();
        let calls = AtomicUsize::new(0);
        let search = |owner: &'static str| {
            let floor = cache.owner_search_floor(owner);
            let (fam, calls) = (&fam, &calls);
            async move {
                fam.snapshot("acct", Duration::MAX, floor, || fetcher(calls, vec!["a"]))
                    .await
                    .unwrap()
            }
        };
        // 50 objects looking before their first create: one list (taken after the epoch).
        for _ in 0..50 {
            search("u1").await;
            search("u2").await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // u1 tried a create (its answer may be lost): u1's next search needs a newer list...
        cache.attempted_create("u1");
        search("u1").await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // ...which then serves everybody again.
        search("u2").await;
        search("u1").await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A new start (leadership won again) distrusts every earlier list.
        cache.begin();
        search("u2").await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_snapshot_nobody_reads_is_dropped_and_listed_again_when_needed() {
        let fam = Family::<String>::default();
        let calls = AtomicUsize::new(0);
        let read = || {
            fam.snapshot("acct", Duration::from_secs(600), None, || {
                fetcher(&calls, vec!["a"])
            })
        };
        read().await.unwrap();
        // Read a moment ago: kept.
        assert_eq!(fam.forget_idle(Duration::from_secs(60)), 0);
        assert!(read().await.unwrap().contains_key("a"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Idle long enough: dropped, and the next reader lists again.
        assert_eq!(fam.forget_idle(Duration::ZERO), 1);
        assert_eq!(fam.forget_idle(Duration::ZERO), 0, "nothing left to drop");
        assert!(read().await.unwrap().contains_key("a"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn writes_older_than_every_snapshot_are_forgotten_and_decide_nothing_more() {
        let cache = ListCache::default();
        cache.wrote("old");
        cache.attempted_create("u1");
        // A snapshot listed after those writes, then one more write.
        cache
            .gateways
            .snapshot("acct", Duration::from_secs(600), None, || async {
                Ok(Vec::new())
            })
            .await
            .unwrap();
        cache.wrote("new");
        assert_eq!(cache.forget_idle(Duration::from_secs(60)), 0);
        // The snapshot is newer than the first two writes: they are forgotten...
        assert_eq!(cache.last_write("old"), None);
        assert_eq!(
            cache.owner_search_floor("u1"),
            Some(*cache.epoch.lock().unwrap())
        );
        // ...but not the write it does not show.
        assert!(cache.last_write("new").is_some());
        // With no snapshot left, every write is older than any list to come.
        assert_eq!(cache.forget_idle(Duration::ZERO), 1);
        assert_eq!(cache.last_write("new"), None);
    }

    #[tokio::test]
    async fn concurrent_readers_share_one_refresh() {
        let fam = Arc::new(Family::<String>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (fam, calls) = (fam.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                fam.snapshot("acct", Duration::from_secs(60), None, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async {
                        tokio::task::yield_now().await;
                        Ok(vec!["a".to_string()])
                    }
                })
                .await
                .unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    fn quotas(calls: &AtomicUsize, used: i64) -> impl Future<Output = Result<Vec<QuotaInfo>>> + '_ {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            Ok(vec![QuotaInfo {
                quota_type: QuotaType::VpnGateway,
                quota: Some(2),
                used: Some(used),
            }])
        }
    }

    #[tokio::test]
    async fn quotas_are_read_once_a_minute_per_account_and_count_our_creates() {
        let cache = ListCache::default();
        let calls = AtomicUsize::new(0);
        let gw = QuotaType::VpnGateway;
        let (_, q) = cache
            .quota("a", &gw, false, || quotas(&calls, 0))
            .await
            .unwrap();
        assert_eq!(q.unwrap().remaining(), Some(2));
        // A create is counted in the snapshot: the next check sees it without a call.
        cache.quota_used("a", &gw, 1);
        let (_, q) = cache
            .quota("a", &gw, false, || quotas(&calls, 0))
            .await
            .unwrap();
        assert_eq!(q.unwrap().used, Some(1));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "served from the snapshot");
        // Another account lists its own; a type the API does not report is None.
        let (_, other) = cache
            .quota("b", &QuotaType::Vpngw, false, || quotas(&calls, 0))
            .await
            .unwrap();
        assert_eq!(other, None);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // `fresh` always lists (the confirmation of a full quota).
        let (_, q) = cache
            .quota("a", &gw, true, || quotas(&calls, 2))
            .await
            .unwrap();
        assert_eq!(q.unwrap().remaining(), Some(0));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Counting a create without a snapshot does nothing (and does not panic).
        cache.quota_used("c", &gw, 1);
    }
}
