//! Prometheus metrics of the operator (prometheus-client, OpenMetrics text).
//!
//! Families (all prefixed `vpn_operator_`):
//! - `reconciles_total{kind}`, `reconcile_errors_total{kind,reason}` (failures: not waits for a
//!   dependency or a queued write, not pauses),
//!   `reconcile_duration_seconds{kind}` (histogram);
//! - `cloud_calls_total{operation,outcome}` (one per HTTP attempt, `outcome` = `ok` or the
//!   error kind), `cloud_call_duration_seconds{operation}` (histogram),
//!   `cloud_throttled_total{operation}`;
//! - `objects{kind,ready}` (gauge: the objects this replica reconciled, by their `Ready`),
//!   `time_to_ready_seconds{kind}` (histogram: from an object's creation to its first `Ready`),
//!   `leader` (1 while this replica leads);
//! - per object: `tunnel_up{namespace,name}` (VpnConnection: 1 while the tunnel is up, 0 while
//!   it is down) and `gateway_routes{namespace,name}` (VpnGateway with BGP connections: routes
//!   in its routing table). Their series are removed when the object goes.
//!
//! Label values come from small fixed sets (kinds, error reasons, operation names) except the
//! per-object gauges, which have one series per object that has the value.
//!
//! [`Metrics::encode`] writes OpenMetrics (what Prometheus asks for); [`Metrics::encode_text`]
//! the classic text format 0.0.4 for clients that do not ask for OpenMetrics (`promtool check
//! metrics`, `curl`).
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::cloud::transport::{CallObserver, Operation};

/// `Content-Type` of [`Metrics::encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `Content-Type` of [`Metrics::encode_text`]'s output.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `ErrorKind` name the transport reports for a throttled call.
const THROTTLED: &str = "Throttled";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    kind: String,
    ready: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabels {
    namespace: String,
    name: String,
}

/// The per-object gauges a kind reports from its status (`None`: the object has no such value,
/// and its series is removed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectGauges {
    /// VpnConnection: whether the tunnel is up (`TunnelUp` True or False).
    pub tunnel_up: Option<bool>,
    /// VpnGateway: routes in the routing table.
    pub routes: Option<i64>,
}

struct Inner {
    registry: Registry,
    reconciles: Family<KindLabels, Counter>,
    reconcile_errors: Family<ErrorLabels, Counter>,
    reconcile_duration: Family<KindLabels, Histogram>,
    cloud_calls: Family<CallLabels, Counter>,
    cloud_call_duration: Family<OperationLabels, Histogram>,
    cloud_throttled: Family<OperationLabels, Counter>,
    objects: Family<ObjectLabels, Gauge>,
    /// Each object's last known readiness, by (kind, its key), behind `objects`.
    readiness: Mutex<HashMap<(&'static str, Box<str>), bool>>,
    time_to_ready: Family<KindLabels, Histogram>,
    tunnel_up: Family<NameLabels, Gauge>,
    gateway_routes: Family<NameLabels, Gauge>,
    deferred: Family<KindLabels, Counter>,
    woken: Family<KindLabels, Counter>,
    leader: Gauge,
    unobserved: Family<KindLabels, Gauge>,
    /// Behind `unobserved`: which objects of each kind this process has still to reconcile.
    observation: Mutex<HashMap<&'static str, Observation>>,
}

/// The objects of one kind that this process has not reconciled yet since its controllers
/// started (see [`Metrics::expect_observation`]).
#[derive(Default)]
struct Observation {
    /// The objects listed at start and not reconciled since; `None` until the initial list is
    /// in. Emptied (and freed) once all were reconciled.
    waiting: Option<HashSet<Box<str>>>,
    /// Objects reconciled before the initial list was complete (kube-runtime starts
    /// reconciling while the list is still coming in).
    early: HashSet<Box<str>>,
}

/// The operator's metrics. Cheap to clone; all clones share one registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn duration_histogram() -> Histogram {
    // 5 ms .. ~41 s: reconciles and cloud calls both live in this range.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

fn ready_histogram() -> Histogram {
    // 1 s .. ~2.3 h: a customer gateway is Ready in seconds, a VPN gateway in minutes.
    Histogram::new(exponential_buckets(1.0, 2.0, 14))
}

impl Metrics {
    /// A fresh registry with every family registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vpn_operator");
        let reconciles = Family::<KindLabels, Counter>::default();
        let reconcile_errors = Family::<ErrorLabels, Counter>::default();
        let reconcile_duration =
            Family::<KindLabels, Histogram>::new_with_constructor(duration_histogram as fn() -> _);
        let cloud_calls = Family::<CallLabels, Counter>::default();
        let cloud_call_duration = Family::<OperationLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> _,
        );
        let cloud_throttled = Family::<OperationLabels, Counter>::default();
        let objects = Family::<ObjectLabels, Gauge>::default();
        let time_to_ready =
            Family::<KindLabels, Histogram>::new_with_constructor(ready_histogram as fn() -> _);
        let tunnel_up = Family::<NameLabels, Gauge>::default();
        let gateway_routes = Family::<NameLabels, Gauge>::default();
        let deferred = Family::<KindLabels, Counter>::default();
        let woken = Family::<KindLabels, Counter>::default();
        let leader = Gauge::default();
        let unobserved = Family::<KindLabels, Gauge>::default();

        registry.register("reconciles", "Reconciles run, by kind", reconciles.clone());
        registry.register(
            "reconcile_errors",
            "Reconciles that failed, by kind and reason",
            reconcile_errors.clone(),
        );
        registry.register_with_unit(
            "reconcile_duration",
            "Time spent in one reconcile, by kind",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        registry.register(
            "cloud_calls",
            "Cloud API attempts, by operation and outcome (ok or the error kind)",
            cloud_calls.clone(),
        );
        registry.register_with_unit(
            "cloud_call_duration",
            "Duration of one cloud API attempt, by operation",
            Unit::Seconds,
            cloud_call_duration.clone(),
        );
        registry.register(
            "cloud_throttled",
            "Cloud API attempts rejected by the API gateway's rate limit, by operation",
            cloud_throttled.clone(),
        );
        registry.register(
            "objects",
            "Managed objects, by kind and readiness (the Ready condition)",
            objects.clone(),
        );
        registry.register_with_unit(
            "time_to_ready",
            "Time from an object's creation to its first Ready condition, by kind",
            Unit::Seconds,
            time_to_ready.clone(),
        );
        registry.register(
            "tunnel_up",
            "VpnConnection tunnels: 1 while the cloud reports the connection ACTIVE, 0 while DOWN or ERROR",
            tunnel_up.clone(),
        );
        registry.register(
            "gateway_routes",
            "Routes in the routing table of a VpnGateway with BGP connections",
            gateway_routes.clone(),
        );
        registry.register(
            "reconciles_deferred",
            "Reconciles of objects not yet started on the cloud that were put off (not run) \
             while objects whose cloud operation finished waited for theirs, by kind",
            deferred.clone(),
        );
        registry.register(
            "pending_wakeups",
            "Objects woken by the pending watch because their cloud state changed, by kind",
            woken.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease (or leader election is off)",
            leader.clone(),
        );
        registry.register(
            "unobserved_objects",
            "Objects that existed when this replica started its controllers (after a restart or \
             on becoming leader) and that it has not reconciled since, by kind; absent until the \
             kind's initial list is in. 0 for every kind: the whole fleet has been re-observed",
            unobserved.clone(),
        );

        Self {
            inner: Arc::new(Inner {
                registry,
                reconciles,
                reconcile_errors,
                reconcile_duration,
                cloud_calls,
                cloud_call_duration,
                cloud_throttled,
                objects,
                readiness: Mutex::new(HashMap::new()),
                time_to_ready,
                tunnel_up,
                gateway_routes,
                deferred,
                woken,
                leader,
                unobserved,
                observation: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Records one finished reconcile of `kind`; `error_reason` is the stable reason word of a
    /// failure (e.g. `CloudThrottled`), `None` on success.
    pub fn reconcile_finished(&self, kind: &str, elapsed: Duration, error_reason: Option<&str>) {
        let labels = KindLabels {
            kind: kind.to_string(),
        };
        self.inner.reconciles.get_or_create(&labels).inc();
        self.inner
            .reconcile_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if let Some(reason) = error_reason {
            let labels = ErrorLabels {
                kind: kind.to_string(),
                reason: reason.to_string(),
            };
            self.inner.reconcile_errors.get_or_create(&labels).inc();
        }
    }

    /// Records a reconcile of `kind` put off behind finished cloud operations.
    pub fn reconcile_deferred(&self, kind: &str) {
        let labels = KindLabels {
            kind: kind.to_string(),
        };
        self.inner.deferred.get_or_create(&labels).inc();
    }

    /// Records `n` objects of `kind` woken by the pending watch.
    pub fn pending_woken(&self, kind: &str, n: usize) {
        if n == 0 {
            return;
        }
        let labels = KindLabels {
            kind: kind.to_string(),
        };
        self.inner.woken.get_or_create(&labels).inc_by(n as u64);
    }

    /// Sets how many objects of `kind` are (not) ready.
    pub fn set_objects(&self, kind: &str, ready: bool, count: i64) {
        let labels = ObjectLabels {
            kind: kind.to_string(),
            ready: ready.to_string(),
        };
        self.inner.objects.get_or_create(&labels).set(count);
    }

    /// Records the readiness of object `key` (`namespace/name`) of `kind`, `None` once it is
    /// gone, and moves the `objects` gauge accordingly.
    pub fn object_ready(&self, kind: &'static str, key: &str, ready: Option<bool>) {
        let mut seen = self
            .inner
            .readiness
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let id = (kind, Box::<str>::from(key));
        let before = match ready {
            Some(r) => seen.insert(id, r),
            None => seen.remove(&id),
        };
        if before == ready {
            return;
        }
        let gauge = |r: bool| {
            self.inner.objects.get_or_create(&ObjectLabels {
                kind: kind.to_string(),
                ready: r.to_string(),
            })
        };
        // Both series exist from the first object on, so `ready="false"` reads 0, not absent.
        // (One guard at a time: creating a series while holding another would deadlock.)
        for r in [true, false] {
            let delta = i64::from(ready == Some(r)) - i64::from(before == Some(r));
            gauge(r).inc_by(delta);
        }
    }

    /// Records that an object of `kind` became Ready for the first time, `elapsed` after it was
    /// created.
    pub fn ready_after(&self, kind: &str, elapsed: Duration) {
        let labels = KindLabels {
            kind: kind.to_string(),
        };
        self.inner
            .time_to_ready
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Sets (or, for `None` values, removes) the per-object gauges of `namespace/name`.
    pub fn object_gauges(&self, namespace: &str, name: &str, g: ObjectGauges) {
        let labels = NameLabels {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let set = |family: &Family<NameLabels, Gauge>, v: Option<i64>| match v {
            Some(v) => {
                family.get_or_create(&labels).set(v);
            }
            None => {
                family.remove(&labels);
            }
        };
        set(&self.inner.tunnel_up, g.tunnel_up.map(i64::from));
        set(&self.inner.gateway_routes, g.routes);
    }

    /// The initial list of `kind` is in: `keys` (`namespace/name`) are the objects this
    /// process must reconcile before it has observed the whole fleet. Objects reconciled
    /// already do not count; the `unobserved_objects` series of the kind appears now.
    pub fn expect_observation(&self, kind: &'static str, keys: impl IntoIterator<Item = String>) {
        let mut all = self.observation();
        let o = all.entry(kind).or_default();
        let early = std::mem::take(&mut o.early);
        let waiting: HashSet<Box<str>> = keys
            .into_iter()
            .map(Box::from)
            .filter(|k| !early.contains(k))
            .collect();
        self.set_unobserved(kind, waiting.len());
        o.waiting = Some(waiting);
    }

    /// Object `key` of `kind` was reconciled (or went away) in this process.
    pub fn observed(&self, kind: &'static str, key: &str) {
        let mut all = self.observation();
        let o = all.entry(kind).or_default();
        match &mut o.waiting {
            Some(w) if w.is_empty() => {}
            Some(w) => {
                if w.remove(key) {
                    if w.is_empty() {
                        // Done: nothing more to track for this kind.
                        *w = HashSet::new();
                    }
                    self.set_unobserved(kind, w.len());
                }
            }
            None => {
                o.early.insert(Box::from(key));
            }
        }
    }

    fn observation(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Observation>> {
        self.inner
            .observation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn set_unobserved(&self, kind: &str, n: usize) {
        self.inner
            .unobserved
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Sets the leader gauge.
    pub fn set_leader(&self, leading: bool) {
        self.inner.leader.set(i64::from(leading));
    }

    /// Records one cloud API attempt (what [`CallObserver::on_attempt`] does).
    pub fn cloud_attempt(&self, operation: &str, outcome: &str, elapsed: Duration) {
        let op = operation.to_string();
        self.inner
            .cloud_calls
            .get_or_create(&CallLabels {
                operation: op.clone(),
                outcome: outcome.to_string(),
            })
            .inc();
        let op = OperationLabels { operation: op };
        self.inner
            .cloud_call_duration
            .get_or_create(&op)
            .observe(elapsed.as_secs_f64());
        if outcome == THROTTLED {
            self.inner.cloud_throttled.get_or_create(&op).inc();
        }
    }

    /// All metrics in the classic Prometheus text format 0.0.4: the OpenMetrics text with the
    /// counters' families named like their `_total` samples (OpenMetrics names the family
    /// without the suffix), and without the `# UNIT` and `# EOF` lines the format lacks.
    pub fn encode_text(&self) -> String {
        to_text_format(&self.encode())
    }

    /// All metrics in OpenMetrics text format (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error here would be a bug in an encoder.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// OpenMetrics text → Prometheus text format 0.0.4, for the families this crate writes
/// (counters, gauges, histograms).
fn to_text_format(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counters.contains(name) {
                    out.push_str(&format!("{prefix}{name}_total {tail}"));
                } else {
                    out.push_str(line);
                }
            }
            None => {
                // A counter's creation time has no place in the classic format.
                let sample = line.split(['{', ' ']).next().unwrap_or_default();
                let created = sample
                    .strip_suffix("_created")
                    .is_some_and(|f| counters.contains(f));
                if created {
                    continue;
                }
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out
}

impl CallObserver for Metrics {
    fn on_attempt(&self, op: &Operation, outcome: &str, _attempt: u32, elapsed: Duration) {
        self.cloud_attempt(op.name, outcome, elapsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_value(text: &str, prefix: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn unobserved_objects_counts_down_to_zero_and_ignores_objects_seen_before_the_list() {
        let m = Metrics::new();
        let gauge = |m: &Metrics| {
            line_value(
                &m.encode_text(),
                "vpn_operator_unobserved_objects{kind=\"VpnGateway\"}",
            )
        };
        // kube-runtime may reconcile an object before the initial list is complete.
        m.observed("VpnGateway", "ns/a");
        assert_eq!(gauge(&m), None, "absent until the initial list is in");
        m.expect_observation("VpnGateway", ["ns/a", "ns/b", "ns/c"].map(String::from));
        assert_eq!(gauge(&m), Some(2.0), "a was observed already");
        m.observed("VpnGateway", "ns/b");
        m.observed("VpnGateway", "ns/b");
        m.observed("VpnGateway", "ns/new");
        assert_eq!(gauge(&m), Some(1.0), "repeats and new objects do not count");
        m.observed("VpnGateway", "ns/c");
        assert_eq!(gauge(&m), Some(0.0));
        m.observed("VpnGateway", "ns/a");
        assert_eq!(gauge(&m), Some(0.0), "stays at 0");
    }

    #[test]
    fn every_family_is_encoded_once_used() {
        let m = Metrics::new();
        m.reconcile_finished("VpnGateway", Duration::from_millis(1), Some("CloudBusy"));
        m.on_attempt(
            &Operation::read("ShowVpnGateway"),
            THROTTLED,
            1,
            Duration::from_millis(1),
        );
        m.set_objects("VpnGateway", true, 1);
        m.reconcile_deferred("VpnGateway");
        m.pending_woken("VpnConnection", 3);
        m.ready_after("VpnGateway", Duration::from_secs(90));
        m.object_gauges(
            "ns",
            "c1",
            ObjectGauges {
                tunnel_up: Some(true),
                routes: Some(4),
            },
        );
        let text = m.encode();
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_pending_wakeups_total{kind="VpnConnection"}"#
            ),
            Some(3.0)
        );
        for family in [
            "# TYPE vpn_operator_reconciles counter",
            "# TYPE vpn_operator_reconcile_errors counter",
            "# TYPE vpn_operator_reconcile_duration_seconds histogram",
            "# TYPE vpn_operator_cloud_calls counter",
            "# TYPE vpn_operator_cloud_call_duration_seconds histogram",
            "# TYPE vpn_operator_cloud_throttled counter",
            "# TYPE vpn_operator_objects gauge",
            "# TYPE vpn_operator_reconciles_deferred counter",
            "# TYPE vpn_operator_pending_wakeups counter",
            "# TYPE vpn_operator_leader gauge",
            "# TYPE vpn_operator_time_to_ready_seconds histogram",
            "# TYPE vpn_operator_tunnel_up gauge",
            "# TYPE vpn_operator_gateway_routes gauge",
        ] {
            assert!(text.contains(family), "missing {family:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn reconciles_are_counted_by_kind_and_reason() {
        let m = Metrics::new();
        m.reconcile_finished("VpnGateway", Duration::from_millis(20), None);
        m.reconcile_finished(
            "VpnGateway",
            Duration::from_millis(30),
            Some("CloudThrottled"),
        );
        m.reconcile_finished("VpnConnection", Duration::from_millis(10), None);
        let text = m.encode();
        assert_eq!(
            line_value(&text, r#"vpn_operator_reconciles_total{kind="VpnGateway"}"#),
            Some(2.0)
        );
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_reconciles_total{kind="VpnConnection"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_reconcile_errors_total{kind="VpnGateway",reason="CloudThrottled"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_reconcile_duration_seconds_count{kind="VpnGateway"}"#
            ),
            Some(2.0)
        );
        let sum = line_value(
            &text,
            r#"vpn_operator_reconcile_duration_seconds_sum{kind="VpnGateway"}"#,
        )
        .unwrap();
        assert!((sum - 0.05).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn observer_counts_attempts_and_throttles() {
        let m = Metrics::new();
        let observer: &dyn CallObserver = &m;
        let op = Operation::create("CreateVpnGateway");
        observer.on_attempt(&op, "Throttled", 1, Duration::from_millis(5));
        observer.on_attempt(&op, "Throttled", 2, Duration::from_millis(5));
        observer.on_attempt(&op, "ok", 3, Duration::from_millis(50));
        observer.on_attempt(
            &Operation::read("ShowVpnGateway"),
            "Busy",
            1,
            Duration::from_millis(5),
        );
        let text = m.encode();
        let calls = |op: &str, outcome: &str| {
            line_value(
                &text,
                &format!(
                    r#"vpn_operator_cloud_calls_total{{operation="{op}",outcome="{outcome}"}}"#
                ),
            )
        };
        assert_eq!(calls("CreateVpnGateway", "Throttled"), Some(2.0));
        assert_eq!(calls("CreateVpnGateway", "ok"), Some(1.0));
        assert_eq!(calls("ShowVpnGateway", "Busy"), Some(1.0));
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_cloud_throttled_total{operation="CreateVpnGateway"}"#
            ),
            Some(2.0)
        );
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_cloud_throttled_total{operation="ShowVpnGateway"}"#
            ),
            None
        );
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_cloud_call_duration_seconds_count{operation="CreateVpnGateway"}"#
            ),
            Some(3.0)
        );
    }

    #[test]
    fn gauges_follow_the_last_value_and_clones_share_state() {
        let m = Metrics::new();
        let clone = m.clone();
        clone.set_leader(true);
        m.set_objects("VpnGateway", true, 3);
        m.set_objects("VpnGateway", true, 2);
        m.set_objects("VpnGateway", false, 1);
        let text = m.encode();
        assert_eq!(line_value(&text, "vpn_operator_leader "), Some(1.0));
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_objects{kind="VpnGateway",ready="true"}"#
            ),
            Some(2.0)
        );
        assert_eq!(
            line_value(
                &text,
                r#"vpn_operator_objects{kind="VpnGateway",ready="false"}"#
            ),
            Some(1.0)
        );
        m.set_leader(false);
        assert_eq!(
            line_value(&clone.encode(), "vpn_operator_leader "),
            Some(0.0)
        );
    }

    #[test]
    fn the_objects_gauge_counts_each_object_once_by_its_last_readiness() {
        let m = Metrics::new();
        let value = |m: &Metrics, ready: &str| {
            line_value(
                &m.encode(),
                &format!(r#"vpn_operator_objects{{kind="VpnGateway",ready="{ready}"}}"#),
            )
        };
        m.object_ready("VpnGateway", "ns/a", Some(false));
        assert_eq!(
            (value(&m, "true"), value(&m, "false")),
            (Some(0.0), Some(1.0))
        );
        m.object_ready("VpnGateway", "ns/a", Some(false));
        m.object_ready("VpnGateway", "ns/b", Some(true));
        m.object_ready("VpnGateway", "ns/a", Some(true));
        assert_eq!(
            (value(&m, "true"), value(&m, "false")),
            (Some(2.0), Some(0.0))
        );
        m.object_ready("VpnGateway", "ns/a", None);
        m.object_ready("VpnGateway", "ns/gone", None);
        assert_eq!(
            (value(&m, "true"), value(&m, "false")),
            (Some(1.0), Some(0.0))
        );
    }

    #[test]
    fn per_object_gauges_are_set_and_removed() {
        let m = Metrics::new();
        let up = |up| ObjectGauges {
            tunnel_up: up,
            routes: None,
        };
        let series = r#"vpn_operator_tunnel_up{namespace="ns",name="c1"}"#;
        m.object_gauges("ns", "c1", up(Some(true)));
        assert_eq!(line_value(&m.encode(), series), Some(1.0));
        m.object_gauges("ns", "c1", up(Some(false)));
        assert_eq!(line_value(&m.encode(), series), Some(0.0));
        m.object_gauges("ns", "c1", up(None));
        assert_eq!(line_value(&m.encode(), series), None);
    }

    #[test]
    fn the_text_format_names_counter_families_like_their_samples_and_drops_openmetrics_lines() {
        let m = Metrics::new();
        m.reconcile_finished("VpnGateway", Duration::from_millis(1), Some("CloudBusy"));
        m.set_leader(true);
        let text = m.encode_text();
        assert!(
            text.contains("# TYPE vpn_operator_reconciles_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP vpn_operator_reconciles_total Reconciles run"),
            "{text}"
        );
        assert!(text.contains("vpn_operator_reconciles_total{kind=\"VpnGateway\"} 1\n"));
        assert!(text.contains("# TYPE vpn_operator_reconcile_duration_seconds histogram\n"));
        assert!(text.contains("# TYPE vpn_operator_leader gauge\n"));
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
        // Every sample line belongs to a family announced just before it.
        let mut family = "";
        for line in text.lines() {
            match line.strip_prefix("# TYPE ") {
                Some(rest) => family = rest.split(' ').next().unwrap(),
                None if line.starts_with('#') => {}
                None => assert!(line.starts_with(family), "{line} after {family}"),
            }
        }
    }
}
