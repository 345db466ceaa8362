//! Waking objects whose cloud operation is pending as soon as the cloud's answer changes.
//!
//! While a gateway or connection is `PENDING_*`, its reconcile registers the resource's cloud id
//! and the state it saw ([`PendingWatch::watch`]). One task per kind ([`run`]) lists that kind
//! once a tick (through the shared [`ListCache`](crate::cloud::listcache::ListCache) snapshot,
//! so reconciles reuse the same list) while anything is registered, and wakes each object whose
//! resource changed state, or vanished while being deleted, through the controller's
//! `reconcile_on` trigger.
//!
//! Why: N provisioning objects that each poll once a tick ask for N reconciles a tick. During a
//! creation storm those polls queue behind each other and behind the storm's real work, and an
//! `ACTIVE` gateway waited long for its turn. With the watch, N pending objects cost one list a
//! tick and one reconcile each when they change; their own requeue
//! ([`super::requeue::fallback`]) is only a slow safety net (e.g. when the list fails).
//!
//! Between ticks, an account is also listed when one of its resources is expected to be done:
//! the watch learns how long each kind's operations take ([`Durations`]), and lists the
//! account at the moment a resource has been pending that long, then twice more a moment
//! later if it is not done yet. Without this, an object whose resource became `ACTIVE` just
//! after a list waited a whole tick to be woken; the few extra lists (at most
//! [`EXPECTED_TRIES`] per resource, shared by the account's resources due together) take
//! that wait to a fraction of the tick.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt};
use kube::runtime::reflector::ObjectRef;
use kube::Resource;

use crate::cloud::listcache::Freshness;
use crate::cloud::VpnClient;
use crate::crd::vpn_connection::VpnConnection;
use crate::crd::vpn_gateway::VpnGateway;

/// How long an object's registration lasts without being renewed (an object deleted from
/// Kubernetes while pending is forgotten after this).
const FORGET_AFTER: Duration = Duration::from_secs(1800);

/// How long a woken object counts as waiting for its reconcile (one deleted meanwhile is
/// never reconciled).
const WOKEN_FOR: Duration = Duration::from_secs(5);

/// Lists made for one resource at its expected finish: the first at the expected moment, the
/// others [`RETRY_AFTER`] apart. After that only the tick lists it.
const EXPECTED_TRIES: u8 = 3;

/// The spacing of the lists at a resource's expected finish.
const RETRY_AFTER: Duration = Duration::from_millis(150);

/// Finished operations remembered per state to expect the next ones from.
const DURATIONS_KEPT: usize = 32;

/// The clock of the watch: tokio's, so that tests with a paused clock control it (in a running
/// operator it is the system's monotonic clock).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The pending watches of the kinds whose cloud operations are asynchronous.
pub struct PendingWatches {
    pub gateways: PendingWatch<VpnGateway>,
    pub connections: PendingWatch<VpnConnection>,
    /// Objects woken because their operation finished, not yet reconciled: `Kind/ns/name`.
    woken: Arc<Woken>,
}

#[derive(Default)]
struct Woken(Mutex<HashMap<String, Instant>>);

impl Woken {
    fn add(&self, key: String) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, now());
    }
}

fn woken_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

impl Default for PendingWatches {
    fn default() -> Self {
        let woken = Arc::new(Woken::default());
        Self {
            gateways: PendingWatch::new(woken.clone()),
            connections: PendingWatch::new(woken.clone()),
            woken,
        }
    }
}

impl PendingWatches {
    /// Records that a reconcile of `kind` `namespace/name` starts (it is no longer waiting);
    /// how long ago the pending watch woke it, if it did.
    pub fn started(&self, kind: &str, namespace: &str, name: &str) -> Option<Duration> {
        let mut w = self.woken.0.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_empty() {
            return None;
        }
        w.remove(&woken_key(kind, namespace, name))
            .map(|at| at.elapsed())
    }

    /// Whether objects woken because their cloud operation finished are waiting for their
    /// reconcile: new work (creates) yields to them meanwhile.
    pub fn transitions_waiting(&self) -> bool {
        let mut w = self.woken.0.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_empty() {
            return false;
        }
        w.retain(|_, at| at.elapsed() < WOKEN_FOR);
        !w.is_empty()
    }
}

/// The pending resources of one kind, per cloud account, and the trigger that wakes their
/// objects.
pub struct PendingWatch<K: Resource<DynamicType = ()> + 'static> {
    accounts: Mutex<HashMap<String, Account<K>>>,
    durations: Mutex<Durations>,
    woken: Arc<Woken>,
    wake: mpsc::UnboundedSender<ObjectRef<K>>,
    trigger: Mutex<Option<mpsc::UnboundedReceiver<ObjectRef<K>>>>,
}

struct Account<K: Resource<DynamicType = ()>> {
    /// A client of the account, to list with.
    client: VpnClient,
    /// Registered resources by cloud id.
    waiting: HashMap<String, Waiting<K>>,
}

struct Waiting<K: Resource<DynamicType = ()>> {
    obj: ObjectRef<K>,
    /// The state the object's last reconcile saw (`PENDING_CREATE`, ...).
    state: String,
    registered: Instant,
    /// When the resource was first registered in this state (kept when a reconcile registers
    /// it again unchanged): the start of the operation, as near as the watch knows it.
    since: Instant,
    /// Lists started at or after the expected finish that still showed it pending.
    tries: u8,
}

impl<K: Resource<DynamicType = ()>> Waiting<K> {
    /// When to list for this resource next, from the time its operations usually take.
    fn expected(&self, durations: &Durations) -> Option<Instant> {
        if self.tries >= EXPECTED_TRIES {
            return None;
        }
        let usual = durations.usual(&self.state)?;
        Some(self.since + usual + RETRY_AFTER * u32::from(self.tries))
    }
}

/// How long operations took, per pending state (`PENDING_CREATE`, ...): from a resource's
/// registration in that state to the list that showed it changed, for the last
/// [`DURATIONS_KEPT`] resources.
#[derive(Default)]
pub struct Durations(HashMap<String, VecDeque<Duration>>);

impl Durations {
    fn record(&mut self, state: &str, took: Duration) {
        let kept = self.0.entry(state.to_string()).or_default();
        if kept.len() == DURATIONS_KEPT {
            kept.pop_front();
        }
        kept.push_back(took);
    }

    /// The shortest recent duration: a list finds a resource done some time after it was,
    /// so every figure is late by up to a tick; the shortest is the closest.
    fn usual(&self, state: &str) -> Option<Duration> {
        self.0.get(state)?.iter().min().copied()
    }
}

impl<K: Resource<DynamicType = ()> + 'static> PendingWatch<K> {
    fn new(woken: Arc<Woken>) -> Self {
        let (wake, trigger) = mpsc::unbounded();
        Self {
            accounts: Mutex::new(HashMap::new()),
            durations: Mutex::default(),
            woken,
            wake,
            trigger: Mutex::new(Some(trigger)),
        }
    }

    /// The stream of objects to reconcile (for `Controller::reconcile_on`); `None` after the
    /// first call.
    pub fn take_trigger(&self) -> Option<impl Stream<Item = ObjectRef<K>> + Send + 'static> {
        self.trigger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Registers that `obj` waits on cloud resource `id` of `client`'s account, last seen in
    /// `state`: `obj` is woken when a list shows another state (or no resource, for
    /// `PENDING_DELETE`). Replaces an earlier registration of `id`.
    pub fn watch(&self, client: &VpnClient, id: &str, state: &str, obj: ObjectRef<K>) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let account = accounts.entry(client.account()).or_insert_with(|| Account {
            client: client.clone(),
            waiting: HashMap::new(),
        });
        let at = now();
        let (since, tries) = match account.waiting.get(id) {
            Some(w) if w.state == state => (w.since, w.tries),
            _ => (at, 0),
        };
        account.waiting.insert(
            id.to_string(),
            Waiting {
                obj,
                state: state.to_string(),
                registered: at,
                since,
                tries,
            },
        );
    }

    /// A client of `account`, while it has registered resources.
    fn client_of(&self, account: &str) -> Option<VpnClient> {
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.get(account).map(|a| a.client.clone())
    }

    /// Whether `account` has resources registered.
    fn holds(&self, account: &str) -> bool {
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.contains_key(account)
    }

    /// When `account` should next be listed because a resource is expected to be done.
    fn expected(&self, account: &str) -> Option<Instant> {
        let durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts
            .get(account)?
            .waiting
            .values()
            .filter_map(|w| w.expected(&durations))
            .min()
    }

    /// Number of registered resources (for tests and metrics).
    pub fn len(&self) -> usize {
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|a| a.waiting.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The accounts with registered resources, with a client to list each.
    fn accounts_waiting(&self) -> Vec<(String, VpnClient)> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.retain(|_, a| {
            a.waiting
                .retain(|_, w| w.registered.elapsed() < FORGET_AFTER);
            !a.waiting.is_empty()
        });
        accounts
            .iter()
            .map(|(k, a)| (k.clone(), a.client.clone()))
            .collect()
    }

    /// Compares the registrations of `account` with a list started at `listed` (`state_of`
    /// maps each listed id to its state) and wakes the objects whose resource changed. Each
    /// woken object is forgotten: its reconcile registers it again if it still waits.
    /// Registrations newer than the list are left for the next one. Returns how many objects
    /// were woken.
    pub fn settle<'a>(
        &self,
        account: &str,
        listed: Instant,
        state_of: impl Fn(&str) -> Option<&'a str>,
    ) -> usize {
        let mut woken = Vec::new();
        {
            let mut durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
            let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            let Some(a) = accounts.get_mut(account) else {
                return 0;
            };
            a.waiting.retain(|id, w| {
                if w.registered > listed {
                    return true;
                }
                let changed = match state_of(id) {
                    Some(now) => now != w.state,
                    // A list can lag behind a create: only a delete is finished by absence.
                    None => w.state == "PENDING_DELETE",
                };
                if changed {
                    durations.record(&w.state, listed.saturating_duration_since(w.since));
                    woken.push(w.obj.clone());
                } else if w.expected(&durations).is_some_and(|at| listed >= at) {
                    w.tries += 1;
                }
                !changed
            });
        }
        let n = woken.len();
        for obj in woken {
            let ns = obj.namespace.as_deref().unwrap_or_default();
            tracing::debug!(kind = %K::kind(&()), object = %format!("{ns}/{}", obj.name), "woken: its cloud state changed");
            self.woken.add(woken_key(&K::kind(&()), ns, &obj.name));
            // The receiver lives as long as the controller; after shutdown nobody listens.
            let _ = self.wake.unbounded_send(obj);
        }
        n
    }
}

/// At most this many lists of one kind in flight (one per account): with hundreds of accounts
/// provisioning at once, the others start as lists end.
const LISTS_AT_ONCE: usize = 64;

/// The accounts to list when one of their resources is expected to be done, the earliest
/// first ([`run`]'s schedule between ticks).
#[derive(Default)]
struct Expected {
    /// (when, account); an entry counts only while it is the account's current one in `at`.
    due: BinaryHeap<Reverse<(Instant, String)>>,
    at: HashMap<String, Instant>,
    /// When each account was last listed for an expected finish: never again sooner than
    /// [`RETRY_AFTER`], whatever the registrations say (a cache that keeps answering with an
    /// older snapshot must not make this a busy loop).
    looked: HashMap<String, Instant>,
}

impl Expected {
    /// Schedules `account` for its earliest expected finish, if any.
    fn schedule<K: Resource<DynamicType = ()> + 'static>(
        &mut self,
        watch: &PendingWatch<K>,
        account: &str,
    ) {
        let not_before = self.looked.get(account).map(|t| *t + RETRY_AFTER);
        match watch
            .expected(account)
            .map(|at| not_before.map_or(at, |nb| at.max(nb)))
        {
            Some(at) if self.at.get(account) != Some(&at) => {
                self.at.insert(account.to_string(), at);
                self.due.push(Reverse((at, account.to_string())));
            }
            Some(_) => {}
            None => {
                self.at.remove(account);
            }
        }
    }

    /// An account with nothing registered any more.
    fn forget(&mut self, account: &str) {
        self.at.remove(account);
        self.looked.remove(account);
    }

    /// When the next account is due.
    fn next(&self) -> Option<Instant> {
        self.due.peek().map(|Reverse((at, _))| *at)
    }

    /// The accounts due at `now`, each with the age its snapshot may have: nothing listed
    /// before the expected moment can show the resource done.
    fn take_due(&mut self, now: Instant) -> Vec<(String, Freshness)> {
        let mut out = Vec::new();
        while let Some(Reverse((at, account))) = self.due.peek().cloned() {
            if at > now {
                break;
            }
            self.due.pop();
            if self.at.get(&account) != Some(&at) {
                continue;
            }
            self.at.remove(&account);
            self.looked.insert(account.clone(), now);
            out.push((
                account,
                Freshness::within(now.saturating_duration_since(at)),
            ));
        }
        out
    }
}

/// Lists `watch`'s accounts every `tick` while anything is registered, and between ticks when
/// a resource is expected to be done ([`Durations`]); wakes the objects whose resource
/// changed. `list` returns a snapshot at most as old as it is told (a quarter tick at a tick,
/// none older than the expected moment otherwise), with when its list started and the listed
/// resources by id; `state_of` reads a resource's state. Wake-ups are counted in `metrics`.
///
/// The accounts are listed side by side and no tick waits for a list: an account whose list
/// hangs is skipped until that list ends (the list cache starts a second one beside it when it
/// takes far longer than usual), while the other accounts are listed every tick.
pub async fn run<K, T, F, Fut>(
    watch: &PendingWatch<K>,
    tick: Duration,
    list: F,
    state_of: fn(&T) -> &str,
    metrics: &crate::metrics::Metrics,
) where
    K: Resource<DynamicType = ()> + 'static,
    F: Fn(VpnClient, Freshness) -> Fut,
    Fut: Future<Output = Result<(Instant, Arc<HashMap<String, T>>), crate::cloud::CloudError>>,
{
    // A snapshot at most a quarter tick old: a change is seen within about 1.25 ticks.
    let at_tick = Freshness::within(tick / 4);
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lists = FuturesUnordered::new();
    let mut listing = HashSet::new();
    // This tick's accounts not yet listed: a list that ends frees its place for the next one
    // at once, so with fast lists every waiting account is listed every tick, while at most
    // LISTS_AT_ONCE are in flight.
    let mut round: VecDeque<(String, VpnClient, Freshness)> = VecDeque::new();
    // The last account a list was started for: a tick that finds the previous round unfinished
    // (slow lists) goes on after it, so every account is listed in turn, not the same first ones.
    let mut last = String::new();
    let mut expected = Expected::default();
    loop {
        while lists.len() < LISTS_AT_ONCE {
            let Some((account, client, fresh)) = round.pop_front() else {
                break;
            };
            if listing.insert(account.clone()) {
                last.clone_from(&account);
                let listed = list(client, fresh);
                lists.push(async move { (account, listed.await) });
            }
        }
        let next_due = expected.next();
        tokio::select! {
            _ = every.tick() => {
                let mut waiting = watch.accounts_waiting();
                waiting.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let from = waiting.partition_point(|(a, _)| *a <= last);
                let (before, after) = waiting.split_at(from);
                round = after
                    .iter()
                    .chain(before)
                    .map(|(a, c)| (a.clone(), c.clone(), at_tick))
                    .collect();
                for (account, _) in &waiting {
                    expected.schedule(watch, account);
                }
            }
            _ = tokio::time::sleep_until(next_due.map_or_else(tokio::time::Instant::now, tokio::time::Instant::from_std)), if next_due.is_some() => {
                for (account, fresh) in expected.take_due(now()) {
                    // An account whose resources all finished meanwhile is not listed.
                    if let Some(client) = watch.client_of(&account) {
                        tracing::debug!(kind = %K::kind(&()), %account, "pending watch: a resource is expected to be done");
                        round.push_front((account, client, fresh));
                    }
                }
            }
            Some((account, listed)) = lists.next(), if !lists.is_empty() => {
                listing.remove(&account);
                match listed {
                    Ok((at, items)) => {
                        let woken = watch.settle(&account, at, |id| items.get(id).map(state_of));
                        metrics.pending_woken(&K::kind(&()), woken);
                    }
                    // The objects' own (slower) requeue looks again and reports the failure.
                    Err(e) => tracing::debug!(
                        kind = %K::kind(&()), error = %e, "pending watch: list failed"
                    ),
                }
                if watch.holds(&account) {
                    expected.schedule(watch, &account);
                } else {
                    expected.forget(&account);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn client_of(project: &str) -> VpnClient {
        let cfg = crate::cloud::ClientConfig::new(
            "https://vpn.example".parse().unwrap(),
            project,
            crate::cloud::Credentials::aksk("ak", "sk"),
        );
        VpnClient::new(crate::cloud::ApiClient::new(cfg).unwrap())
    }

    fn client() -> VpnClient {
        client_of("p1")
    }

    fn gw(name: &str) -> ObjectRef<VpnGateway> {
        ObjectRef::new(name).within("ns")
    }

    fn woken(w: &PendingWatch<VpnGateway>) -> Vec<String> {
        let mut rx = w.take_trigger().unwrap();
        let mut names = Vec::new();
        while let Some(Some(o)) = rx.next().now_or_never() {
            names.push(o.name);
        }
        names.sort();
        names
    }

    use futures::FutureExt;

    /// Runs the watch of `w` every `tick` with `list` as the cloud, in the background.
    fn spawn_run<F, Fut>(
        w: &Arc<PendingWatch<VpnGateway>>,
        tick: Duration,
        list: F,
    ) -> tokio::task::JoinHandle<()>
    where
        F: Fn(VpnClient, Freshness) -> Fut + Send + 'static,
        Fut: Future<
                Output = Result<(Instant, Arc<HashMap<String, String>>), crate::cloud::CloudError>,
            > + Send
            + 'static,
    {
        let w = w.clone();
        tokio::spawn(async move {
            let metrics = crate::metrics::Metrics::new();
            run(&w, tick, list, |s: &String| s.as_str(), &metrics).await
        })
    }

    /// Counts a list of `client`'s project; returns the project and its lists so far.
    fn count_list(calls: &Mutex<HashMap<String, usize>>, client: &VpnClient) -> (String, usize) {
        let project = client.api.project_id().to_string();
        let mut calls = calls.lock().unwrap();
        let n = calls.entry(project.clone()).or_default();
        *n += 1;
        (project, *n)
    }

    #[test]
    fn only_objects_whose_resource_changed_are_woken() {
        let w = PendingWatch::<VpnGateway>::new(Arc::default());
        let c = client();
        let acct = c.account();
        w.watch(&c, "id-a", "PENDING_CREATE", gw("a"));
        w.watch(&c, "id-b", "PENDING_CREATE", gw("b"));
        w.watch(&c, "id-c", "PENDING_DELETE", gw("c"));
        w.watch(&c, "id-d", "PENDING_CREATE", gw("d"));
        let states = HashMap::from([
            ("id-a".to_string(), "ACTIVE".to_string()),
            ("id-b".to_string(), "PENDING_CREATE".to_string()),
        ]);
        let n = w.settle(&acct, Instant::now(), |id| {
            states.get(id).map(String::as_str)
        });
        assert_eq!(n, 2);
        // a became ACTIVE; c (being deleted) is gone; b is unchanged; d is not listed yet (a
        // list can lag behind a create): not a reason to wake it.
        assert_eq!(woken(&w), vec!["a", "c"]);
        assert_eq!(w.len(), 2, "the woken are forgotten, the others still wait");
    }

    #[test]
    fn a_registration_newer_than_the_list_waits_for_the_next_list() {
        let w = PendingWatch::<VpnGateway>::new(Arc::default());
        let c = client();
        let listed = Instant::now();
        // Registered after the list started (e.g. just after an update made it PENDING_UPDATE):
        // the list's older ACTIVE says nothing about it.
        w.watch(&c, "id-a", "PENDING_UPDATE", gw("a"));
        assert_eq!(w.settle(&c.account(), listed, |_| Some("ACTIVE")), 0);
        assert_eq!(w.len(), 1);
        assert!(woken(&w).is_empty());
    }

    #[test]
    fn accounts_are_settled_separately() {
        let w = PendingWatch::<VpnGateway>::new(Arc::default());
        let (c1, c2) = (client(), client_of("p2"));
        w.watch(&c1, "id-a", "PENDING_CREATE", gw("a"));
        w.watch(&c2, "id-a", "PENDING_CREATE", gw("b"));
        assert_eq!(w.accounts_waiting().len(), 2);
        w.settle(&c1.account(), Instant::now(), |_| Some("ACTIVE"));
        assert_eq!(woken(&w), vec!["a"]);
        assert_eq!(w.accounts_waiting().len(), 1);
    }

    #[test]
    fn new_work_yields_until_every_woken_object_has_started() {
        let all = PendingWatches::default();
        let c = client();
        assert!(!all.transitions_waiting());
        all.gateways.watch(&c, "id-a", "PENDING_CREATE", gw("a"));
        all.gateways.watch(&c, "id-b", "PENDING_CREATE", gw("b"));
        all.gateways
            .settle(&c.account(), Instant::now(), |_| Some("ACTIVE"));
        assert!(all.transitions_waiting());
        all.started("VpnGateway", "ns", "a");
        assert!(all.transitions_waiting(), "b has not started yet");
        all.started("VpnConnection", "ns", "b");
        assert!(
            all.transitions_waiting(),
            "another kind's b is not this one"
        );
        all.started("VpnGateway", "ns", "b");
        assert!(!all.transitions_waiting());
    }

    /// More accounts provisioning than lists allowed at once: a list that ends makes room for
    /// the next account in the same tick, so every account is listed once per tick.
    #[tokio::test(start_paused = true)]
    async fn with_more_accounts_than_lists_at_once_every_account_takes_its_turn() {
        let w = Arc::new(PendingWatch::<VpnGateway>::new(Arc::default()));
        let accounts = 2 * LISTS_AT_ONCE + 2;
        for i in 0..accounts {
            w.watch(
                &client_of(&format!("p{i:03}")),
                &format!("id-{i}"),
                "PENDING_CREATE",
                gw(&format!("g{i}")),
            );
        }
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let list = {
            let calls = calls.clone();
            move |client: VpnClient, _: Freshness| {
                let calls = calls.clone();
                async move {
                    count_list(&calls, &client);
                    let none: HashMap<String, String> = HashMap::new();
                    Ok((Instant::now(), Arc::new(none)))
                }
            }
        };
        let task = spawn_run(&w, Duration::from_secs(1), list);
        // The first tick (at 0 s): lists that end free their place for the next accounts, so
        // one tick lists every account once, although only LISTS_AT_ONCE run at a time.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let calls = calls.lock().unwrap().clone();
        assert_eq!(
            calls.len(),
            accounts,
            "every account was listed in the first tick"
        );
        assert!(calls.values().all(|n| *n == 1), "{calls:?}");
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn an_account_whose_list_hangs_holds_up_no_other_account() {
        let w = Arc::new(PendingWatch::<VpnGateway>::new(Arc::default()));
        let (c1, c2) = (client(), client_of("p2"));
        w.watch(&c1, "id-a", "PENDING_CREATE", gw("a"));
        w.watch(&c2, "id-b", "PENDING_CREATE", gw("b"));
        let mut trigger = w.take_trigger().unwrap();
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let list = {
            let calls = calls.clone();
            move |client: VpnClient, _: Freshness| {
                let calls = calls.clone();
                async move {
                    let (project, n) = count_list(&calls, &client);
                    // p1's list hangs; p2's gateway turns ACTIVE at its 4th list.
                    if project == "p1" {
                        std::future::pending::<()>().await;
                    }
                    let state = if n >= 4 { "ACTIVE" } else { "PENDING_CREATE" };
                    let items = HashMap::from([("id-b".to_string(), state.to_string())]);
                    Ok((Instant::now(), Arc::new(items)))
                }
            }
        };
        let task = spawn_run(&w, Duration::from_secs(1), list);
        let t0 = tokio::time::Instant::now();
        let woken = trigger.next().await.unwrap();
        assert_eq!(woken.name, "b");
        assert_eq!(
            t0.elapsed(),
            Duration::from_secs(3),
            "at the 4th tick, as if p1 were not there"
        );
        tokio::time::sleep(Duration::from_secs(10)).await;
        let calls = calls.lock().unwrap().clone();
        assert_eq!(
            calls["p1"], 1,
            "the hung list is not started again while it hangs"
        );
        assert_eq!(
            calls["p2"], 4,
            "until b was woken, then nothing left to list there"
        );
        assert_eq!(w.len(), 1, "a still waits");
        task.abort();
    }

    #[test]
    fn an_operation_is_expected_to_take_as_long_as_the_shortest_recent_one() {
        let secs = Duration::from_secs_f64;
        let mut d = Durations::default();
        assert_eq!(d.usual("PENDING_CREATE"), None, "nothing learnt yet");
        for took in [2.4, 2.1, 3.0] {
            d.record("PENDING_CREATE", secs(took));
        }
        d.record("PENDING_DELETE", secs(9.0));
        assert_eq!(d.usual("PENDING_CREATE"), Some(secs(2.1)));
        assert_eq!(
            d.usual("PENDING_DELETE"),
            Some(secs(9.0)),
            "each state apart"
        );
        for _ in 0..DURATIONS_KEPT {
            d.record("PENDING_CREATE", secs(5.0));
        }
        assert_eq!(
            d.usual("PENDING_CREATE"),
            Some(secs(5.0)),
            "old figures are forgotten: a slower cloud is expected to be slower"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_resource_is_listed_for_when_it_is_expected_to_be_done_then_left_to_the_tick() {
        let w = PendingWatch::<VpnGateway>::new(Arc::default());
        let c = client();
        let acct = c.account();
        let t0 = now();
        w.watch(&c, "id-a", "PENDING_CREATE", gw("a"));
        assert_eq!(w.expected(&acct), None, "no operation has finished yet");
        tokio::time::advance(Duration::from_secs(2)).await;
        w.settle(&acct, now(), |_| Some("ACTIVE"));
        // a took 2 s: b, registered later, is expected 2 s after its registration.
        tokio::time::advance(Duration::from_secs(1)).await;
        let t1 = now();
        w.watch(&c, "id-b", "PENDING_CREATE", gw("b"));
        assert_eq!(w.expected(&acct), Some(t1 + Duration::from_secs(2)));
        tokio::time::advance(Duration::from_millis(500)).await;
        w.watch(&c, "id-b", "PENDING_CREATE", gw("b"));
        assert_eq!(
            w.expected(&acct),
            Some(t1 + Duration::from_secs(2)),
            "registered again unchanged: the operation still started at t1"
        );
        // A list before the expected moment proves nothing; one at it that still shows b
        // pending moves the next look a moment later, twice, then leaves b to the tick.
        w.settle(&acct, now(), |_| Some("PENDING_CREATE"));
        assert_eq!(w.expected(&acct), Some(t1 + Duration::from_secs(2)));
        let mut at = t1 + Duration::from_secs(2);
        for _ in 1..EXPECTED_TRIES {
            w.settle(&acct, at, |_| Some("PENDING_CREATE"));
            at += RETRY_AFTER;
            assert_eq!(w.expected(&acct), Some(at));
        }
        w.settle(&acct, at, |_| Some("PENDING_CREATE"));
        assert_eq!(
            w.expected(&acct),
            None,
            "after {EXPECTED_TRIES} looks: the tick only"
        );
        // Another operation on b (an update) starts over.
        w.watch(&c, "id-b", "PENDING_UPDATE", gw("b"));
        assert_eq!(w.expected(&acct), None, "no update has finished yet");
        assert!(t1 > t0);
    }

    /// The run loop lists an account when its resource is expected to be done, between ticks,
    /// and wakes the object then rather than at the next tick.
    #[tokio::test(start_paused = true)]
    async fn an_object_is_woken_when_its_resource_is_expected_to_be_done_not_at_the_next_tick() {
        let w = Arc::new(PendingWatch::<VpnGateway>::new(Arc::default()));
        let c = client();
        // The cloud: a resource is ACTIVE 2 s after it was registered.
        let made: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let register = |id: &str, name: &str| {
            made.lock().unwrap().insert(id.to_string(), now());
            w.watch(&c, id, "PENDING_CREATE", gw(name));
        };
        let lists = Arc::new(Mutex::new(Vec::new()));
        let mut trigger = w.take_trigger().unwrap();
        let list = {
            let (made, lists) = (made.clone(), lists.clone());
            move |_: VpnClient, fresh: Freshness| {
                let (made, lists) = (made.clone(), lists.clone());
                async move {
                    let at = now();
                    lists.lock().unwrap().push((at, fresh.max_age));
                    let items: HashMap<String, String> = made
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|(id, t)| {
                            let done = at.duration_since(*t) >= Duration::from_secs(2);
                            let state = if done { "ACTIVE" } else { "PENDING_CREATE" };
                            (id.clone(), state.to_string())
                        })
                        .collect();
                    Ok((at, Arc::new(items)))
                }
            }
        };
        let task = spawn_run(&w, Duration::from_secs(1), list);
        let t0 = now();
        register("id-a", "a");
        assert_eq!(trigger.next().await.unwrap().name, "a");
        assert_eq!(now() - t0, Duration::from_secs(2), "the first at a tick");
        tokio::time::advance(Duration::from_millis(500)).await;
        let t1 = now();
        register("id-b", "b");
        assert_eq!(trigger.next().await.unwrap().name, "b");
        assert_eq!(
            now() - t1,
            Duration::from_secs(2),
            "b is woken the moment it is done (at 4.5 s), not at the 5 s tick"
        );
        let lists = lists.lock().unwrap().clone();
        let between_ticks: Vec<_> = lists
            .iter()
            .filter(|(t, _)| (*t - t0).subsec_millis() != 0)
            .collect();
        assert_eq!(between_ticks.len(), 1, "one extra list: {lists:?}");
        assert_eq!(
            between_ticks[0].1,
            Duration::ZERO,
            "it takes no snapshot older than the expected moment"
        );
        assert!(
            lists.iter().all(
                |(t, age)| (*t - t0).subsec_millis() != 0 || *age == Duration::from_millis(250)
            ),
            "at a tick, a snapshot a quarter tick old will do: {lists:?}"
        );
        task.abort();
    }

    /// A list source that keeps answering with a snapshot older than the expected moment (a
    /// cache that ignores the age asked for) costs a list every RETRY_AFTER at most, not a
    /// busy loop.
    #[tokio::test(start_paused = true)]
    async fn an_expected_finish_never_lists_an_account_more_often_than_its_retry_spacing() {
        let w = Arc::new(PendingWatch::<VpnGateway>::new(Arc::default()));
        let c = client();
        let acct = c.account();
        w.watch(&c, "id-a", "PENDING_CREATE", gw("a"));
        tokio::time::advance(Duration::from_secs(1)).await;
        w.settle(&acct, now(), |_| Some("ACTIVE"));
        let old = now();
        w.watch(&c, "id-b", "PENDING_CREATE", gw("b"));
        let calls = Arc::new(Mutex::new(0usize));
        let list = {
            let calls = calls.clone();
            move |_: VpnClient, _: Freshness| {
                let calls = calls.clone();
                async move {
                    *calls.lock().unwrap() += 1;
                    let items = HashMap::from([("id-b".to_string(), "PENDING_CREATE".to_string())]);
                    Ok((old, Arc::new(items)))
                }
            }
        };
        let task = spawn_run(&w, Duration::from_secs(10), list);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let calls = *calls.lock().unwrap();
        // One tick (at 0 s) and, from b's expected finish (1 s) on, one look per 150 ms.
        assert!(calls <= 1 + 2000 / 150 + 1, "{calls} lists in 3 s");
        assert!(calls >= 2, "the expected finish was looked at: {calls}");
        task.abort();
    }
}
