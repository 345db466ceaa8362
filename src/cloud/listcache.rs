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
//! A list that hangs holds up nobody for long. Its readers share it because lists usually take
//! milliseconds; when one has taken far longer than the account's usual lists of that kind
//! ([`Overtake`]: 4 times the median of the last 8, at least 1 s), a second list call starts
//! beside it, and whichever answers first is the snapshot every waiting and later reader gets
//! (the other is dropped: it is a read). Before, one list held by the simulator's `timeout`
//! fault held every reconcile and the pending watch of its kind for the 30 s of the client's
//! timeout; reads now also time out sooner than writes (10 s against 30 s per attempt,
//! `ClientConfig::read_timeout`).
//!
//! A snapshot nobody has read for a while is dropped ([`ListCache::forget_idle`]): at rest the
//! objects are reconciled in bursts one resync interval apart, and by the next burst the
//! snapshot is too old to serve anyway, so keeping it between bursts is memory for nothing. An
//! account with no snapshot and no list in progress then leaves nothing behind, so the cache
//! follows the accounts in use, not every account ever seen.
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
// Tokio's clock, so that tests can pause and move it.
use tokio::time::Instant;

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

/// When a refresh counts as "taking far longer than usual", so that a second list call is
/// started beside it (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overtake {
    /// Never sooner than this after the refresh started.
    pub floor: Duration,
    /// Nor sooner than this many times the usual duration of the account's lists of the kind
    /// (the median of the last few; before any finished, `floor` counts as the usual).
    pub factor: u32,
}

impl Default for Overtake {
    /// 1 s, 4 times the usual: a list of the simulator or of a small account takes tens of
    /// milliseconds, a paginated list of thousands of resources a few seconds.
    fn default() -> Self {
        Self {
            floor: Duration::from_secs(1),
            factor: 4,
        }
    }
}

/// How many list durations make "the usual".
const DURATIONS_KEPT: usize = 8;

/// One refresh in progress.
struct Flight {
    id: u64,
    started: Instant,
    /// Closed when the refresh ends, however it ends (done, failed or dropped).
    done: watch::Receiver<()>,
}

struct State<T> {
    /// When the list call that produced `items` started.
    fetched: Option<Instant>,
    /// When `items` were last handed to a reader.
    read: Instant,
    items: Arc<HashMap<String, T>>,
    /// Refreshes in progress, oldest first (more than one only when a reader needed a list
    /// started after its own write).
    flights: Vec<Flight>,
    next_flight: u64,
    /// How long the last successful lists took, newest last.
    durations: VecDeque<Duration>,
}

impl<T> Default for State<T> {
    fn default() -> Self {
        Self {
            fetched: None,
            read: Instant::now(),
            items: Arc::new(HashMap::new()),
            flights: Vec::new(),
            next_flight: 0,
            durations: VecDeque::new(),
        }
    }
}

impl<T> State<T> {
    /// How long a list may take before a second one is started beside it.
    fn overtake_after(&self, o: Overtake) -> Duration {
        let mut d: Vec<Duration> = self.durations.iter().copied().collect();
        d.sort();
        let usual = d.get(d.len() / 2).copied().unwrap_or(o.floor);
        o.floor.max(usual.saturating_mul(o.factor))
    }
}

/// The snapshot of one kind in one account, and its refreshes.
struct Cell<T> {
    state: Mutex<State<T>>,
}

impl<T> Cell<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A refresh this reader runs; its flight leaves the cell however the refresh ends (and then
/// `_done` closes, waking the readers waiting for it).
struct Running<T> {
    cell: Arc<Cell<T>>,
    id: u64,
    started: Instant,
    overtake_after: Duration,
    _done: watch::Sender<()>,
}

impl<T> Drop for Running<T> {
    fn drop(&mut self) {
        self.cell.lock().flights.retain(|f| f.id != self.id);
    }
}

/// What a reader does next.
enum Step<T> {
    /// The snapshot is fresh enough: here it is.
    Fresh(Instant, Arc<HashMap<String, T>>),
    /// Wait for a refresh in progress to end.
    Wait(watch::Receiver<()>),
    /// Refresh it.
    Run(Running<T>),
}

/// The snapshots of one kind, per cloud account (endpoint + project).
struct Family<T> {
    cells: Mutex<HashMap<String, Arc<Cell<T>>>>,
    overtake: Overtake,
}

impl<T: Listed> Default for Family<T> {
    fn default() -> Self {
        Self::new(Overtake::default())
    }
}

impl<T: Listed> Family<T> {
    fn new(overtake: Overtake) -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
            overtake,
        }
    }

    fn cell(&self, account: &str) -> Arc<Cell<T>> {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account.to_string())
            .or_insert_with(|| {
                Arc::new(Cell {
                    state: Mutex::new(State::default()),
                })
            })
            .clone()
    }

    /// Every account's cell, copied out of the map so that none is locked under its lock.
    fn cells(&self) -> Vec<Arc<Cell<T>>> {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// How many accounts have state (a snapshot, a refresh or list durations) for this kind.
    fn accounts(&self) -> usize {
        self.cells.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Drops every snapshot, leaving refreshes in progress and list durations alone.
    fn expire(&self) {
        for cell in self.cells() {
            let mut st = cell.lock();
            st.fetched = None;
            st.items = Arc::new(HashMap::new());
        }
    }

    /// When the oldest snapshot of this kind, or the oldest refresh in progress, was listed.
    /// `None`: neither.
    fn oldest(&self) -> Option<Instant> {
        self.cells()
            .iter()
            .flat_map(|cell| {
                let st = cell.lock();
                let flights: Vec<Instant> = st.flights.iter().map(|f| f.started).collect();
                st.fetched.into_iter().chain(flights)
            })
            .min()
    }

    /// Drops the snapshots not read for `idle`, and the state of accounts left with nothing
    /// (no snapshot, no refresh, nobody holding it). Returns how many snapshots were dropped.
    fn forget_idle(&self, idle: Duration) -> usize {
        let mut dropped = 0;
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.retain(|_, cell| {
            let mut st = cell.lock();
            if st.fetched.is_some() && st.read.elapsed() >= idle {
                st.fetched = None;
                st.items = Arc::new(HashMap::new());
                dropped += 1;
            }
            // Readers clone the cell under the map's lock: a count of one means nobody has it.
            let unused = st.fetched.is_none() && st.flights.is_empty();
            !(unused && st.read.elapsed() >= idle && Arc::strong_count(cell) == 1)
        });
        if cells.capacity() > 2 * cells.len() + 16 {
            cells.shrink_to_fit();
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
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<Vec<T>, CloudError>>,
    {
        Ok(self
            .snapshot_at(account, max_age, not_before, fetch)
            .await?
            .1)
    }

    /// [`Self::snapshot`] with the moment its list call started.
    ///
    /// A reader that finds the snapshot too old waits for a refresh in progress that can serve
    /// it (one started after `not_before`) and shares its result, or refreshes it itself. A
    /// refresh whose list takes far longer than usual ([`Overtake`]) starts a second list
    /// beside it and keeps whichever answers first. A list that ends after a newer one does
    /// not replace it.
    async fn snapshot_at<F, Fut>(
        &self,
        account: &str,
        max_age: Duration,
        not_before: Option<Instant>,
        fetch: F,
    ) -> Result<(Instant, Arc<HashMap<String, T>>)>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<Vec<T>, CloudError>>,
    {
        let cell = self.cell(account);
        let running = loop {
            match self.step(&cell, max_age, not_before) {
                Step::Fresh(at, items) => return Ok((at, items)),
                Step::Run(running) => break running,
                // Ended, failed or abandoned: look again (a failed refresh's error is its own
                // runner's; a waiting reader then lists itself).
                Step::Wait(mut done) => {
                    let _ = done.changed().await;
                }
            }
        };
        let (started, took, items) = refresh(&running, &fetch).await?;
        let items: HashMap<String, T> = items
            .into_iter()
            .map(|i| (i.cloud_id().to_string(), i))
            .collect();
        let mut st = running.cell.lock();
        if st.durations.len() == DURATIONS_KEPT {
            st.durations.pop_front();
        }
        st.durations.push_back(took);
        // A newer list may have ended first: keep the newer.
        if st.fetched.is_none_or(|f| f < started) {
            st.items = Arc::new(items);
            st.fetched = Some(started);
        }
        st.read = Instant::now();
        let fetched = st.fetched.unwrap_or(started);
        Ok((fetched, st.items.clone()))
    }

    /// Changes item `id` of `account`'s snapshot in place (nothing when there is no snapshot,
    /// or it is being listed right now: that list may or may not show the change).
    fn adjust(&self, account: &str, id: &str, change: impl FnOnce(&mut T)) {
        let cell = self.cell(account);
        let mut st = cell.lock();
        if st.fetched.is_none() || !st.flights.is_empty() {
            return;
        }
        if let Some(item) = Arc::make_mut(&mut st.items).get_mut(id) {
            change(item);
        }
    }

    /// What a reader of `cell` does next (see [`Self::snapshot_at`]).
    fn step(&self, cell: &Arc<Cell<T>>, max_age: Duration, not_before: Option<Instant>) -> Step<T> {
        let mut st = cell.lock();
        let now = Instant::now();
        let serves = |t: Instant| not_before.is_none_or(|nb| t > nb);
        if let Some(t) = st.fetched.filter(|t| now - *t <= max_age && serves(*t)) {
            st.read = now;
            return Step::Fresh(t, st.items.clone());
        }
        if let Some(f) = st.flights.iter().rev().find(|f| serves(f.started)) {
            return Step::Wait(f.done.clone());
        }
        let (tx, rx) = watch::channel(());
        let id = st.next_flight;
        st.next_flight += 1;
        st.flights.push(Flight {
            id,
            started: now,
            done: rx,
        });
        Step::Run(Running {
            cell: cell.clone(),
            id,
            started: now,
            overtake_after: st.overtake_after(self.overtake),
            _done: tx,
        })
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
        F: Fn() -> Fut,
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

/// One refresh: a list call, and when it takes longer than `running.overtake_after`, a second
/// one beside it; the first to answer wins and the other is dropped (a list is a read: dropping
/// it changes nothing). Returns when the winning list started, how long it took, and its items.
async fn refresh<T, F, Fut>(running: &Running<T>, fetch: &F) -> Result<(Instant, Duration, Vec<T>)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    let first_started = running.started;
    let first = fetch();
    tokio::pin!(first);
    tokio::select! {
        r = &mut first => return r.map(|items| (first_started, first_started.elapsed(), items)),
        _ = tokio::time::sleep_until(first_started + running.overtake_after) => {}
    }
    tracing::debug!(
        after_ms = running.overtake_after.as_millis() as u64,
        "a list is taking far longer than usual: starting another beside it"
    );
    let second_started = Instant::now();
    let second = fetch();
    tokio::pin!(second);
    // The first success wins; when one fails, the other decides.
    tokio::select! {
        r = &mut first => match r {
            Ok(items) => Ok((first_started, first_started.elapsed(), items)),
            Err(_) => second.await.map(|items| (second_started, second_started.elapsed(), items)),
        },
        r = &mut second => match r {
            Ok(items) => Ok((second_started, second_started.elapsed(), items)),
            Err(_) => first.await.map(|items| (first_started, first_started.elapsed(), items)),
        },
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
        Self::new(Overtake::default())
    }
}

impl ListCache {
    /// A cache whose slow refreshes are overtaken as `overtake` says.
    pub fn new(overtake: Overtake) -> Self {
        Self {
            gateways: Family::new(overtake),
            customer_gateways: Family::new(overtake),
            connections: Family::new(overtake),
            monitors: Family::new(overtake),
            quotas: Family::new(overtake),
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

/// A list call of one kind: every resource of the account. Called again when a list takes far
/// longer than usual.
pub trait ListAll<T>: Fn() -> Self::Fut {
    type Fut: Future<Output = Result<Vec<T>>>;
}

impl<T, F, Fut> ListAll<T> for F
where
    F: Fn() -> Fut,
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

    /// Drops every snapshot now, so that each reader lists afresh (tests whose simulated cloud
    /// moves with a manual clock); what the cache knows of each account's lists stays.
    pub fn expire(&self) {
        self.gateways.expire();
        self.customer_gateways.expire();
        self.connections.expire();
        self.monitors.expire();
        self.quotas.expire();
        self.forget_old_writes();
    }

    /// Forgets the writes made before the oldest snapshot or refresh in progress (or before
    /// now, when there is none): a refresh counts from when its list started, which may be
    /// before a write. A list started after this check starts after every write kept or
    /// forgotten here.
    fn forget_old_writes(&self) {
        let before = [
            self.gateways.oldest(),
            self.customer_gateways.oldest(),
            self.connections.oldest(),
            self.monitors.oldest(),
        ]
        .into_iter()
        .flatten()
        .fold(Instant::now(), Instant::min);
        let mut w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        let had = w.map.len();
        w.map.retain(|_, t| *t >= before);
        // Only after a real drop: this runs every few seconds, and shrinking copies the map.
        if w.map.len() < had {
            w.map.shrink_to_fit();
        }
    }

    /// How many (account, kind) pairs hold state: snapshots, refreshes, list durations.
    /// Follows the accounts in use, since idle ones are dropped ([`Self::forget_idle`]).
    pub fn accounts_held(&self) -> usize {
        self.gateways.accounts()
            + self.customer_gateways.accounts()
            + self.connections.accounts()
            + self.monitors.accounts()
            + self.quotas.accounts()
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
    ) -> Result<(std::time::Instant, Arc<HashMap<String, ResponseVpnGateway>>)> {
        let (at, items) = self
            .gateways
            .snapshot_at(account, f.max_age, None, list)
            .await?;
        Ok((at.into_std(), items))
    }

    /// Every connection of the account (see [`Self::all_gateways`]).
    pub async fn all_connections(
        &self,
        account: &str,
        f: Freshness,
        list: impl ListAll<ResponseVpnConnection>,
    ) -> Result<(
        std::time::Instant,
        Arc<HashMap<String, ResponseVpnConnection>>,
    )> {
        let (at, items) = self
            .connections
            .snapshot_at(account, f.max_age, None, list)
            .await?;
        Ok((at.into_std(), items))
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
mod tests;
