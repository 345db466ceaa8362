//! Client-side token buckets. (cloud-core)
//!
//! Huawei's API gateway throttles per API and per user (`APIGW.0308`, HTTP 429), and
//! retried 429s count against the quota too, so the cheapest way to stay healthy is not to
//! send the burst in the first place. Every [`ApiClient`](super::transport::ApiClient) to the
//! same (endpoint, project) shares one [`Limiter`] from a process-wide registry, whatever
//! controller or namespace created it: a read bucket and a write bucket.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::operation::OpKind;

/// Client-side rate limits: token buckets per (endpoint, project), reads and writes apart.
///
/// Defaults (documented guess, make them configurable per deployment):
/// - reads 10/s, burst 20: no VPN QPS limit is published; other Huawei services publish
///   ~10 req/s per API per user, so a tenant-wide 10/s keeps reads well clear.
/// - writes 2/s, burst 5: an unofficial observation (research, aesthetics-anchors "Huawei
///   Cloud API limits") saw write APIs throttled at ~10/min **per API**. One bucket cannot
///   model per-API quotas; 2/s (burst 5) stops a reconcile storm (all objects at start-up)
///   from flooding the gateway, while the occasional per-API 429 is absorbed by the
///   retry policy's backoff (at least 2 s) and the controller's requeue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    pub read_per_sec: f64,
    pub read_burst: u32,
    pub write_per_sec: f64,
    pub write_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            read_per_sec: 10.0,
            read_burst: 20,
            write_per_sec: 2.0,
            write_burst: 5,
        }
    }
}

impl RateLimits {
    /// No client-side limiting (tests, simulator).
    pub fn unlimited() -> Self {
        Self {
            read_per_sec: f64::INFINITY,
            read_burst: 1,
            write_per_sec: f64::INFINITY,
            write_burst: 1,
        }
    }
}

/// An async token bucket: `rate` tokens per second, at most `burst` stored.
///
/// Waiters reserve their token immediately (the balance may go negative) and sleep
/// until it is due, so callers are served in arrival order without a wake-up storm.
/// A non-positive or non-finite rate means "unlimited".
/// A waiter that is dropped before its turn keeps its reservation (the bucket stays
/// conservative, never over budget).
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket. `burst` below 1 is treated as 1.
    pub fn new(rate_per_sec: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: rate_per_sec,
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                last: Instant::now(),
            }),
        }
    }

    fn unlimited(&self) -> bool {
        !(self.rate.is_finite() && self.rate > 0.0)
    }

    /// Takes one token, reserving it now; returns how long the caller must wait for it.
    fn reserve(&self) -> Duration {
        if self.unlimited() {
            return Duration::ZERO;
        }
        // A poisoned lock only means another task panicked mid-update of two floats:
        // the state is still usable.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(s.last).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.rate).min(self.burst);
        s.last = now;
        s.tokens -= 1.0;
        if s.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-s.tokens / self.rate)
        }
    }

    /// Waits until a token is available and takes it.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether the bucket has refilled to its burst: it then allows what a new one would.
    fn is_full(&self) -> bool {
        if self.unlimited() {
            return true;
        }
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = Instant::now()
            .saturating_duration_since(s.last)
            .as_secs_f64();
        s.tokens + elapsed * self.rate >= self.burst
    }

    /// Takes a token only if one is available now.
    pub fn try_acquire(&self) -> bool {
        if self.unlimited() {
            return true;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(s.last).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.rate).min(self.burst);
        s.last = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The read and write buckets of one (endpoint, project).
#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    read: TokenBucket,
    write: TokenBucket,
    /// Write tokens reserved by callers that chose not to wait for them (see
    /// [`Limiter::admit_write`]): caller key -> when the token is due.
    reserved: Mutex<HashMap<String, Instant>>,
}

/// Who is asking for a write token, and how long it may block. Set by the reconciler around
/// one object's reconcile (see [`WRITE_QUEUE`]); absent, a write simply waits for its token.
#[derive(Clone, Debug)]
pub struct QueueKey {
    /// Stable per object (its uid): a later call with the same key claims the token reserved
    /// for the earlier one, so a queued object keeps its place in line.
    pub key: String,
    /// A write whose token is due later than this does not wait: the call fails with
    /// `ErrorKind::Queued` and a `retry_after` of when the token will be due.
    pub max_wait: Duration,
}

tokio::task_local! {
    /// The [`QueueKey`] of the reconcile running on this task, if any.
    ///
    /// Why: a reconcile worker that sleeps for a write token (2/s by default) is a worker not
    /// available to objects that only need a read, e.g. one whose gateway just became ACTIVE.
    /// With a key, a long wait becomes a requeue at the time the reserved token is due.
    pub static WRITE_QUEUE: QueueKey;
}

/// A write token reserved for later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queued {
    /// When the reserved token is due; the caller should come back then with the same key.
    pub retry_after: Duration,
}

/// Reservations never claimed within this long after they were due are forgotten (the object
/// was deleted or no longer needs the write; the token is lost, the budget stays conservative).
const RESERVATION_GRACE: Duration = Duration::from_secs(300);

impl Limiter {
    /// A standalone limiter (not shared); prefer [`shared`].
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            read: TokenBucket::new(limits.read_per_sec, limits.read_burst),
            write: TokenBucket::new(limits.write_per_sec, limits.write_burst),
            reserved: Mutex::new(HashMap::new()),
        }
    }

    /// The limits this limiter was built with.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Waits for a token of the bucket of `kind`.
    pub async fn acquire(&self, kind: OpKind) {
        match kind {
            OpKind::Read => self.read.acquire().await,
            OpKind::Write => self.write.acquire().await,
        }
    }

    /// A write token for `q.key`, waiting at most `q.max_wait` for it.
    ///
    /// The caller's earlier reservation is claimed first; otherwise a token is reserved now
    /// (in arrival order, like [`acquire`](Self::acquire)). When it is due within `max_wait`
    /// this sleeps until then and returns `Ok`; when later, it keeps the reservation under the
    /// key and returns `Err(Queued)` at once, so the caller can do other work and come back.
    pub async fn admit_write(&self, q: &QueueKey) -> Result<(), Queued> {
        let wait = self.reserve_write(q)?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    fn reserve_write(&self, q: &QueueKey) -> Result<Duration, Queued> {
        let now = Instant::now();
        let mut reserved = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        let wait = match reserved.remove(&q.key) {
            Some(due) => due.saturating_duration_since(now),
            None => {
                reserved.retain(|_, due| now.saturating_duration_since(*due) < RESERVATION_GRACE);
                self.write.reserve()
            }
        };
        if wait <= q.max_wait {
            Ok(wait)
        } else {
            reserved.insert(q.key.clone(), now + wait);
            Err(Queued { retry_after: wait })
        }
    }

    /// At rest: both buckets full and no write reserved, so a limiter made afresh for the same
    /// account would allow exactly what this one allows.
    fn at_rest(&self) -> bool {
        // A reservation already due costs its holder no wait here, nor with a new limiter.
        let now = Instant::now();
        self.read.is_full()
            && self.write.is_full()
            && self
                .reserved
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .all(|due| *due <= now)
    }

    /// Writes reserved by callers that are not waiting for them.
    pub fn queued_writes(&self) -> usize {
        self.reserved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

type Registry = Mutex<HashMap<(String, String), Arc<Limiter>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The process-wide limiter of (`endpoint` origin, `project`), created with `limits` on
/// first use. Later callers share it; if they ask for different limits, the first ones
/// stay (one process, one budget) and a warning is logged.
pub fn shared(endpoint: &url::Url, project: &str, limits: RateLimits) -> Arc<Limiter> {
    let key = (endpoint.origin().ascii_serialization(), project.to_string());
    let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
    let limiter = map
        .entry(key)
        .or_insert_with(|| Arc::new(Limiter::new(limits)))
        .clone();
    if limiter.limits() != limits {
        tracing::warn!(
            endpoint = %endpoint.origin().ascii_serialization(),
            project,
            "rate limits differ from the ones already in use for this endpoint and project; keeping the first"
        );
    }
    limiter
}

/// Drops the limiters that no client holds and that are at rest (buckets refilled, no write
/// reserved); returns how many. Dropping one changes no account's budget: the next client of
/// its account gets a new one with a full burst, which is what the dropped one allowed. A
/// limiter whose tokens were spent is kept until it has refilled, so evicting an account
/// never hands it a fresh burst while it is busy.
pub fn forget_idle() -> usize {
    let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
    let before = map.len();
    // The registry's own reference is the only one when no client holds the limiter.
    map.retain(|_, l| Arc::strong_count(l) > 1 || !l.at_rest());
    let dropped = before - map.len();
    if dropped > 0 && map.capacity() > 2 * map.len() + 16 {
        map.shrink_to_fit();
    }
    dropped
}

/// Whether a limiter of (`endpoint` origin, `project`) is held in the registry.
pub fn is_registered(endpoint: &url::Url, project: &str) -> bool {
    let key = (endpoint.origin().ascii_serialization(), project.to_string());
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Time to take `n` tokens one after the other (virtual time).
    async fn time_for(bucket: &TokenBucket, n: usize) -> Duration {
        let start = Instant::now();
        for _ in 0..n {
            bucket.acquire().await;
        }
        start.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn burst_is_free_then_rate_applies() {
        let b = TokenBucket::new(2.0, 5);
        assert_eq!(time_for(&b, 5).await, Duration::ZERO);
        // The next 4 tokens come at 2/s.
        let t = time_for(&b, 4).await;
        assert!(
            t >= Duration::from_millis(1999) && t <= Duration::from_millis(2010),
            "{t:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refills_up_to_burst_only() {
        let b = TokenBucket::new(10.0, 3);
        assert_eq!(time_for(&b, 3).await, Duration::ZERO);
        assert!(!b.try_acquire());
        // A long idle period refills to the burst, not beyond.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(b.try_acquire() && b.try_acquire() && b.try_acquire());
        assert!(!b.try_acquire());
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(b.try_acquire());
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_are_spaced_by_the_rate() {
        let b = Arc::new(TokenBucket::new(4.0, 1));
        let start = Instant::now();
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move {
                    b.acquire().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap());
        }
        done.sort();
        // 1 immediately, then one every 250 ms.
        let ms: Vec<u128> = done.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [0, 250, 500, 750, 1000]);
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let b = TokenBucket::new(0.0, 0);
        assert_eq!(time_for(&b, 1000).await, Duration::ZERO);
        let l = Limiter::new(RateLimits::unlimited());
        let start = Instant::now();
        for _ in 0..100 {
            l.acquire(OpKind::Write).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn reads_and_writes_use_separate_buckets() {
        let l = Limiter::new(RateLimits {
            read_per_sec: 1.0,
            read_burst: 1,
            write_per_sec: 1.0,
            write_burst: 1,
        });
        let start = Instant::now();
        l.acquire(OpKind::Write).await;
        l.acquire(OpKind::Read).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        l.acquire(OpKind::Write).await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    fn key(k: &str) -> QueueKey {
        QueueKey {
            key: k.into(),
            max_wait: Duration::from_millis(100),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_write_wait_is_queued_not_slept_and_keeps_its_place() {
        let l = Limiter::new(RateLimits {
            write_per_sec: 2.0,
            write_burst: 1,
            ..RateLimits::default()
        });
        let start = Instant::now();
        // The burst token: no wait.
        assert_eq!(l.admit_write(&key("a")).await, Ok(()));
        // b and c get places 500 ms and 1 s out: neither sleeps.
        assert_eq!(
            l.admit_write(&key("b")).await,
            Err(Queued {
                retry_after: Duration::from_millis(500)
            })
        );
        assert_eq!(
            l.admit_write(&key("c")).await,
            Err(Queued {
                retry_after: Duration::from_secs(1)
            })
        );
        assert_eq!(start.elapsed(), Duration::ZERO, "nobody slept");
        assert_eq!(l.queued_writes(), 2);
        // b comes back early: still queued, with the time left; its place is kept.
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(
            l.admit_write(&key("b")).await,
            Err(Queued {
                retry_after: Duration::from_millis(300)
            })
        );
        // At its time b is admitted without taking another token, so c's place holds.
        tokio::time::advance(Duration::from_millis(300)).await;
        assert_eq!(l.admit_write(&key("b")).await, Ok(()));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(l.admit_write(&key("c")).await, Ok(()));
        assert_eq!(l.queued_writes(), 0);
        // A newcomer queues behind everything already reserved.
        assert_eq!(
            l.admit_write(&key("d")).await,
            Err(Queued {
                retry_after: Duration::from_millis(500)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_write_wait_is_slept() {
        let l = Limiter::new(RateLimits {
            write_per_sec: 20.0,
            write_burst: 1,
            ..RateLimits::default()
        });
        let start = Instant::now();
        l.admit_write(&key("a")).await.unwrap();
        l.admit_write(&key("b")).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn unclaimed_reservations_are_forgotten() {
        let l = Limiter::new(RateLimits {
            write_per_sec: 1.0,
            write_burst: 1,
            ..RateLimits::default()
        });
        l.admit_write(&key("a")).await.unwrap();
        assert!(l.admit_write(&key("gone")).await.is_err());
        tokio::time::advance(RESERVATION_GRACE + Duration::from_secs(2)).await;
        l.admit_write(&key("z")).await.unwrap();
        assert_eq!(l.queued_writes(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_limiter_at_rest_that_no_client_holds_is_forgotten() {
        let e: url::Url = "https://vpn.test-forget.example.com".parse().unwrap();
        let limits = RateLimits {
            write_per_sec: 1.0,
            write_burst: 2,
            ..RateLimits::default()
        };
        let held = shared(&e, "p-forget", limits);
        // Busy: the burst is spent and a write is queued for later.
        held.acquire(OpKind::Write).await;
        held.acquire(OpKind::Write).await;
        let q = QueueKey {
            key: "obj".into(),
            max_wait: Duration::ZERO,
        };
        assert!(held.admit_write(&q).await.is_err());
        forget_idle();
        assert!(is_registered(&e, "p-forget"), "a client holds it");
        drop(held);
        forget_idle();
        assert!(
            is_registered(&e, "p-forget"),
            "nobody holds it, but its tokens are spent: a new one would grant a fresh burst"
        );
        // The queued write's token comes due at 1 s; the bucket is full again at 3 s.
        tokio::time::advance(Duration::from_secs(2)).await;
        forget_idle();
        assert!(is_registered(&e, "p-forget"), "not refilled yet");
        tokio::time::advance(Duration::from_secs(1)).await;
        forget_idle();
        assert!(
            !is_registered(&e, "p-forget"),
            "at rest and unheld: dropped"
        );
        // The account's next client gets a limiter with the same budget: a full burst.
        let again = shared(&e, "p-forget", limits);
        let start = Instant::now();
        again.acquire(OpKind::Write).await;
        again.acquire(OpKind::Write).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn registry_shares_per_endpoint_and_project() {
        let a: url::Url = "https://vpn.test-region-1.example.com".parse().unwrap();
        let a_path: url::Url = "https://vpn.test-region-1.example.com/some/path"
            .parse()
            .unwrap();
        let b: url::Url = "https://vpn.test-region-2.example.com".parse().unwrap();
        let l1 = shared(&a, "p-registry", RateLimits::default());
        let l2 = shared(&a_path, "p-registry", RateLimits::unlimited());
        assert!(Arc::ptr_eq(&l1, &l2), "same origin and project share");
        assert_eq!(l2.limits(), RateLimits::default(), "first limits stay");
        assert!(!Arc::ptr_eq(
            &l1,
            &shared(&b, "p-registry", RateLimits::default())
        ));
        assert!(!Arc::ptr_eq(
            &l1,
            &shared(&a, "p-other", RateLimits::default())
        ));
    }

    #[test]
    fn default_limits() {
        let d = RateLimits::default();
        assert_eq!((d.read_per_sec, d.read_burst), (10.0, 20));
        assert_eq!((d.write_per_sec, d.write_burst), (2.0, 5));
    }
}
