//! Lease-based leader election (`coordination.k8s.io/v1` Lease), in the manner of client-go /
//! controller-runtime: one replica reconciles, the others stand by.
//!
//! - [`decide`] is the whole policy as a pure function of the Lease, the time and the candidate.
//! - [`LeaderElector::run`] is the small I/O loop around it: read the Lease, act, sleep.
//!   Writes carry the `resourceVersion` they read, so a concurrent writer makes ours fail with
//!   409 (a lost race) instead of overwriting it.
//! - The state is published on a [`watch`] channel ([`LeaderElector::subscribe`]): start the
//!   controllers on [`LeaderState::Leading`]; on [`LeaderState::Lost`] stop them and exit the
//!   process (a replica that lost its Lease must not keep reconciling, like controller-runtime).
//!
//! Timing (defaults 15s / 10s): the leader renews every `renew_deadline / 2`; after a failed
//! renewal it retries every `retry_period` (= `renew_deadline / 5`) and steps down once
//! `renew_deadline` has passed since the last successful renewal, i.e. before the Lease
//! (`lease_duration`) expires for the others. Standby replicas poll every `retry_period`.
//!
//! [assumption] Expiry is computed from the Lease's `renewTime` against the local clock, so clocks
//! of the replicas must agree to well within `lease_duration - renew_deadline` (NTP-synchronised
//! nodes do). client-go instead times expiry from when it last saw the record change; that needs
//! per-replica memory and buys robustness only against skew larger than this margin.
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::Api;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::LeaderElectionConfig;
use crate::metrics::Metrics;

/// This replica as a candidate for the Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Unique per process (see [`default_identity`]).
    pub identity: String,
    /// Written into `leaseDurationSeconds` when we take the Lease.
    pub lease_duration: Duration,
}

/// What to do with the Lease, as decided by [`decide`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// No Lease exists: create one with this spec.
    Create(LeaseSpec),
    /// We hold the Lease: write this renewed spec.
    Renew(LeaseSpec),
    /// The Lease is free (released) or expired: take it over with this spec.
    TakeOver(LeaseSpec),
    /// Another replica holds a valid Lease until `expires`.
    Wait { holder: String, expires: Timestamp },
}

/// The leader-election policy. `lease` is the current spec (`None` when the Lease does not exist).
///
/// - no Lease → create it, holding it (`leaseTransitions` 0);
/// - held by `me` → renew (`renewTime` = now; `acquireTime` and transitions kept);
/// - held by another and `renewTime + leaseDurationSeconds > now` → wait;
/// - no holder (released), or expired, or without any time → take over: holder = me,
///   `acquireTime` = `renewTime` = now, `leaseTransitions` + 1.
///
/// Fields this function does not own (e.g. `preferredHolder`, `strategy`) are kept.
pub fn decide(lease: Option<&LeaseSpec>, now: Timestamp, me: &Candidate) -> Action {
    let ours = |base: &LeaseSpec, acquired: Timestamp, transitions: i32| LeaseSpec {
        holder_identity: Some(me.identity.clone()),
        lease_duration_seconds: Some(duration_seconds(me.lease_duration)),
        acquire_time: Some(MicroTime(acquired)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..base.clone()
    };
    let Some(spec) = lease else {
        return Action::Create(ours(&LeaseSpec::default(), now, 0));
    };
    let transitions = spec.lease_transitions.unwrap_or(0).max(0);
    match spec.holder_identity.as_deref().filter(|h| !h.is_empty()) {
        Some(holder) if holder == me.identity => {
            let acquired = spec.acquire_time.as_ref().map_or(now, |t| t.0);
            Action::Renew(ours(spec, acquired, transitions))
        }
        Some(holder) => match expiry(spec, me.lease_duration) {
            Some(expires) if expires > now => Action::Wait {
                holder: holder.to_string(),
                expires,
            },
            _ => Action::TakeOver(ours(spec, now, transitions.saturating_add(1))),
        },
        None => Action::TakeOver(ours(spec, now, transitions.saturating_add(1))),
    }
}

/// When the holder's claim ends: last renewal (or acquisition) plus the Lease's duration
/// (ours when the Lease has none). `None` when the Lease carries no time at all.
fn expiry(spec: &LeaseSpec, fallback: Duration) -> Option<Timestamp> {
    let since = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let duration = match spec.lease_duration_seconds {
        Some(s) if s > 0 => Duration::from_secs(u64::from(s.unsigned_abs())),
        _ => fallback,
    };
    since.checked_add(duration).ok()
}

fn duration_seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// The spec written on graceful release: no holder, so standbys take over at once
/// (client-go writes the same: duration 1s, times now, transitions kept).
fn released(spec: &LeaseSpec, now: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        ..spec.clone()
    }
}

/// This replica's leader-election state, published by [`LeaderElector`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderState {
    /// The Lease has not been read yet.
    Starting,
    /// Another replica leads; this one watches the Lease and takes over when it expires.
    Standby,
    /// The Lease could not be read or written (and this replica does not lead).
    Unreachable,
    /// This replica holds the Lease: run the controllers.
    Leading,
    /// Leadership was lost (renewal failed past the deadline, or another replica took the
    /// Lease): stop the controllers and exit.
    Lost,
    /// The elector stopped on request (the Lease was released if it was held).
    Stopped,
}

impl LeaderState {
    /// True while this replica may reconcile.
    pub fn is_leading(&self) -> bool {
        matches!(self, Self::Leading)
    }
}

/// How [`LeaderElector::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElectionEnd {
    /// Stopped on request; the Lease was released if we held it.
    Stopped,
    /// Leadership was lost: the caller must stop reconciling and exit (non-zero).
    Lost,
}

/// A failure to read or write the Lease (logged and retried by the loop).
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("{verb} Lease {namespace}/{name} failed: {source}; check that the API server is reachable and the \
             service account may get/create/update leases.coordination.k8s.io in {namespace}")]
    Api {
        verb: &'static str,
        namespace: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{verb} Lease {namespace}/{name} timed out after {after:?}")]
    Timeout {
        verb: &'static str,
        namespace: String,
        name: String,
        after: Duration,
    },
}

/// The outcome of one read-decide-write round.
enum Round {
    /// We hold the Lease (created, renewed or taken over).
    Holding,
    /// Someone else holds it.
    Held { holder: String },
    /// Our write lost a race (409): someone else wrote first.
    LostRace,
}

/// Runs leader election for one replica. Build with [`LeaderElector::new`], subscribe to
/// its state, then spawn [`LeaderElector::run`].
pub struct LeaderElector {
    api: Api<Lease>,
    lease_name: String,
    namespace: String,
    me: Candidate,
    renew_deadline: Duration,
    state: watch::Sender<LeaderState>,
    metrics: Option<Metrics>,
}

impl LeaderElector {
    /// An elector for the Lease in `config`, competing as `identity`.
    pub fn new(client: kube::Client, config: &LeaderElectionConfig, identity: String) -> Self {
        let (state, _) = watch::channel(LeaderState::Starting);
        Self {
            api: Api::namespaced(client, &config.lease_namespace),
            lease_name: config.lease_name.clone(),
            namespace: config.lease_namespace.clone(),
            me: Candidate {
                identity,
                lease_duration: config.lease_duration,
            },
            renew_deadline: config.renew_deadline,
            state,
            metrics: None,
        }
    }

    /// Also drive the `vpn_operator_leader` gauge.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Our identity in `holderIdentity`.
    pub fn identity(&self) -> &str {
        &self.me.identity
    }

    /// The state channel; it starts at [`LeaderState::Starting`].
    pub fn subscribe(&self) -> watch::Receiver<LeaderState> {
        self.state.subscribe()
    }

    fn retry_period(&self) -> Duration {
        (self.renew_deadline / 5).max(Duration::from_millis(100))
    }

    fn renew_interval(&self) -> Duration {
        self.renew_deadline / 2
    }

    fn publish(&self, state: LeaderState) {
        if let Some(m) = &self.metrics {
            m.set_leader(state.is_leading());
        }
        self.state.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                tracing::info!(identity = %self.me.identity, lease = %self.lease_name, from = ?current, to = ?state, "leader election state changed");
                *current = state;
                true
            }
        });
    }

    /// Competes for the Lease until `stop` resolves or leadership is lost.
    ///
    /// Resolve `stop` only after the controllers have stopped: on stop, a leader releases the
    /// Lease so that a standby takes over at once, and it must not reconcile after that.
    pub async fn run(self, stop: impl Future<Output = ()>) -> ElectionEnd {
        let mut stop = std::pin::pin!(stop);
        let mut last_renewal: Option<Instant> = None;
        loop {
            let outcome = self.round().await;
            let leading = last_renewal.is_some();
            let wait = match outcome {
                Ok(Round::Holding) => {
                    last_renewal = Some(Instant::now());
                    self.publish(LeaderState::Leading);
                    self.renew_interval()
                }
                Ok(Round::Held { holder }) if leading => {
                    tracing::error!(identity = %self.me.identity, %holder, "another replica took the leader Lease; stepping down");
                    self.publish(LeaderState::Lost);
                    return ElectionEnd::Lost;
                }
                Ok(Round::Held { holder }) => {
                    tracing::debug!(%holder, "standing by: the leader Lease is held");
                    self.publish(LeaderState::Standby);
                    self.retry_period()
                }
                Ok(Round::LostRace) => {
                    tracing::debug!("lost a write race on the leader Lease; re-reading");
                    if !leading {
                        self.publish(LeaderState::Standby);
                    }
                    self.retry_period()
                }
                Err(error) => {
                    tracing::warn!(%error, leading, "leader election round failed");
                    if !leading {
                        self.publish(LeaderState::Unreachable);
                    }
                    self.retry_period()
                }
            };
            if let Some(last) = last_renewal {
                if last.elapsed() >= self.renew_deadline {
                    tracing::error!(identity = %self.me.identity, deadline = ?self.renew_deadline,
                        "could not renew the leader Lease within the renew deadline; stepping down");
                    self.publish(LeaderState::Lost);
                    return ElectionEnd::Lost;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut stop => {
                    if last_renewal.is_some() {
                        if let Err(error) = self.release().await {
                            tracing::warn!(%error, "could not release the leader Lease; it will expire instead");
                        }
                    }
                    self.publish(LeaderState::Stopped);
                    return ElectionEnd::Stopped;
                }
            }
        }
    }

    /// One read → decide → write round.
    async fn round(&self) -> Result<Round, LeaseError> {
        let current = self.call("get", self.api.get_opt(&self.lease_name)).await?;
        let action = decide(
            current.as_ref().and_then(|l| l.spec.as_ref()),
            Timestamp::now(),
            &self.me,
        );
        let (verb, result) = match action {
            Action::Wait { holder, .. } => return Ok(Round::Held { holder }),
            Action::Create(spec) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.lease_name.clone()),
                        namespace: Some(self.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(spec),
                };
                (
                    "create",
                    self.api.create(&PostParams::default(), &lease).await,
                )
            }
            Action::Renew(spec) | Action::TakeOver(spec) => {
                // `current` is Some here: decide() only creates when there is no Lease. The
                // metadata (with its resourceVersion) goes back unchanged: a concurrent write gets 409.
                let mut lease = current.unwrap_or_default();
                lease.spec = Some(spec);
                (
                    "update",
                    self.api
                        .replace(&self.lease_name, &PostParams::default(), &lease)
                        .await,
                )
            }
        };
        match result {
            Ok(_) => Ok(Round::Holding),
            Err(kube::Error::Api(status)) if status.is_conflict() || status.is_already_exists() => {
                Ok(Round::LostRace)
            }
            Err(e) => Err(self.api_error(verb, e)),
        }
    }

    /// Clears the holder if we still hold the Lease.
    async fn release(&self) -> Result<(), LeaseError> {
        let Some(mut lease) = self.call("get", self.api.get_opt(&self.lease_name)).await? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_ref() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.me.identity.as_str()) {
            return Ok(());
        }
        lease.spec = Some(released(spec, Timestamp::now()));
        self.call(
            "release",
            self.api
                .replace(&self.lease_name, &PostParams::default(), &lease),
        )
        .await?;
        tracing::info!(identity = %self.me.identity, lease = %self.lease_name, "released the leader Lease");
        Ok(())
    }

    /// Runs one API call with a timeout that keeps a hanging call from outliving the deadline.
    async fn call<T>(
        &self,
        verb: &'static str,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, LeaseError> {
        let after = self.renew_deadline / 2;
        match tokio::time::timeout(after, fut).await {
            Ok(result) => result.map_err(|e| self.api_error(verb, e)),
            Err(_) => Err(LeaseError::Timeout {
                verb,
                namespace: self.namespace.clone(),
                name: self.lease_name.clone(),
                after,
            }),
        }
    }

    fn api_error(&self, verb: &'static str, e: kube::Error) -> LeaseError {
        LeaseError::Api {
            verb,
            namespace: self.namespace.clone(),
            name: self.lease_name.clone(),
            source: Box::new(e),
        }
    }
}

/// Waits until `state` is [`LeaderState::Leading`]. Returns `false` if the elector ended
/// (stopped, lost, or dropped) first.
pub async fn wait_until_leading(state: &mut watch::Receiver<LeaderState>) -> bool {
    match state
        .wait_for(|s| {
            matches!(
                s,
                LeaderState::Leading | LeaderState::Lost | LeaderState::Stopped
            )
        })
        .await
    {
        Ok(s) => s.is_leading(),
        Err(_) => false,
    }
}

/// Resolves once this replica no longer leads (lost, stopped, or the elector is gone):
/// the signal to stop the controllers.
pub async fn leadership_ended(state: &mut watch::Receiver<LeaderState>) {
    let _ = state
        .wait_for(|s| matches!(s, LeaderState::Lost | LeaderState::Stopped))
        .await;
}

/// The identity this process uses in `holderIdentity`: `$POD_NAME` (else the host name) plus a
/// random suffix, so that a restarted process never mistakes its predecessor's claim for its own.
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    identity_from(std::env::var("POD_NAME").ok(), host, &suffix[..8])
}

fn identity_from(pod_name: Option<String>, hostname: Option<String>, suffix: &str) -> String {
    let base = [pod_name, hostname]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "vpn-operator".to_string());
    format!("{base}_{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn me() -> Candidate {
        Candidate {
            identity: "me".into(),
            lease_duration: Duration::from_secs(15),
        }
    }

    fn lease(
        holder: Option<&str>,
        renewed: Option<i64>,
        duration: Option<i32>,
        transitions: i32,
    ) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            renew_time: renewed.map(|s| MicroTime(t(s))),
            acquire_time: renewed.map(|s| MicroTime(t(s - 100))),
            lease_duration_seconds: duration,
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// (what the table row is about, the lease, now, the expected action kind, expected transitions)
    #[test]
    fn decision_table() {
        enum Want {
            Create,
            Renew,
            TakeOver(i32),
            Wait(i64),
        }
        let rows: Vec<(&str, Option<LeaseSpec>, i64, Want)> = vec![
            ("no lease yet", None, 0, Want::Create),
            (
                "we hold it",
                Some(lease(Some("me"), Some(0), Some(15), 3)),
                5,
                Want::Renew,
            ),
            (
                "we hold it, even if expired",
                Some(lease(Some("me"), Some(0), Some(15), 3)),
                60,
                Want::Renew,
            ),
            (
                "other holds, fresh",
                Some(lease(Some("other"), Some(0), Some(15), 3)),
                14,
                Want::Wait(15),
            ),
            (
                "other holds, exactly expired",
                Some(lease(Some("other"), Some(0), Some(15), 3)),
                15,
                Want::TakeOver(4),
            ),
            (
                "other holds, long expired",
                Some(lease(Some("other"), Some(0), Some(15), 3)),
                100,
                Want::TakeOver(4),
            ),
            (
                "their duration wins over ours",
                Some(lease(Some("other"), Some(0), Some(60), 0)),
                30,
                Want::Wait(60),
            ),
            (
                "no duration: ours is used",
                Some(lease(Some("other"), Some(0), None, 0)),
                10,
                Want::Wait(15),
            ),
            (
                "released (no holder)",
                Some(lease(None, Some(0), Some(1), 7)),
                0,
                Want::TakeOver(8),
            ),
            (
                "released (empty holder)",
                Some(lease(Some(""), Some(0), Some(15), 7)),
                0,
                Want::TakeOver(8),
            ),
            (
                "holder without any time",
                Some(lease(Some("other"), None, Some(15), 2)),
                0,
                Want::TakeOver(3),
            ),
        ];
        for (about, spec, now, want) in rows {
            let action = decide(spec.as_ref(), t(now), &me());
            let check_ours = |s: &LeaseSpec, transitions: i32| {
                assert_eq!(s.holder_identity.as_deref(), Some("me"), "{about}");
                assert_eq!(s.renew_time, Some(MicroTime(t(now))), "{about}");
                assert_eq!(s.lease_duration_seconds, Some(15), "{about}");
                assert_eq!(s.lease_transitions, Some(transitions), "{about}");
            };
            match (want, action) {
                (Want::Create, Action::Create(s)) => {
                    check_ours(&s, 0);
                    assert_eq!(s.acquire_time, Some(MicroTime(t(now))), "{about}");
                }
                (Want::Renew, Action::Renew(s)) => {
                    check_ours(&s, 3);
                    assert_eq!(
                        s.acquire_time,
                        Some(MicroTime(t(-100))),
                        "{about}: acquireTime is kept"
                    );
                }
                (Want::TakeOver(n), Action::TakeOver(s)) => {
                    check_ours(&s, n);
                    assert_eq!(s.acquire_time, Some(MicroTime(t(now))), "{about}");
                }
                (Want::Wait(until), Action::Wait { holder, expires }) => {
                    assert_eq!(holder, "other", "{about}");
                    assert_eq!(expires, t(until), "{about}");
                }
                (_, action) => panic!("{about}: unexpected {action:?}"),
            }
        }
    }

    #[test]
    fn fields_we_do_not_own_are_kept() {
        let mut spec = lease(Some("other"), Some(0), Some(15), 0);
        spec.preferred_holder = Some("me".into());
        spec.strategy = Some("OldestEmulationVersion".into());
        let Action::TakeOver(out) = decide(Some(&spec), t(100), &me()) else {
            panic!()
        };
        assert_eq!(out.preferred_holder.as_deref(), Some("me"));
        assert_eq!(out.strategy.as_deref(), Some("OldestEmulationVersion"));
    }

    #[test]
    fn a_released_lease_is_taken_over_at_once_by_anyone() {
        let held = lease(Some("old"), Some(0), Some(15), 4);
        let rel = released(&held, t(1));
        assert_eq!(rel.holder_identity, None);
        assert_eq!(rel.lease_transitions, Some(4));
        assert!(
            matches!(decide(Some(&rel), t(1), &me()), Action::TakeOver(s) if s.lease_transitions == Some(5))
        );
    }

    #[test]
    fn identity_prefers_pod_name_and_always_has_a_suffix() {
        assert_eq!(
            identity_from(Some("op-7d9".into()), Some("node".into()), "ab12"),
            "op-7d9_ab12"
        );
        assert_eq!(
            identity_from(None, Some("node\n".into()), "ab12"),
            "node_ab12"
        );
        assert_eq!(
            identity_from(Some(" ".into()), None, "ab12"),
            "vpn-operator_ab12"
        );
        let a = default_identity();
        let b = default_identity();
        assert_ne!(a, b, "two processes on one host must not share an identity");
    }

    #[tokio::test]
    async fn waiting_helpers_follow_the_state() {
        let (tx, mut rx) = watch::channel(LeaderState::Starting);
        tx.send(LeaderState::Standby).unwrap();
        let waiter = tokio::spawn({
            let mut rx = rx.clone();
            async move { wait_until_leading(&mut rx).await }
        });
        tx.send(LeaderState::Leading).unwrap();
        assert!(waiter.await.unwrap());

        let ended = tokio::spawn({
            let mut rx = rx.clone();
            async move { leadership_ended(&mut rx).await }
        });
        tx.send(LeaderState::Lost).unwrap();
        ended.await.unwrap();
        assert!(
            !wait_until_leading(&mut rx).await,
            "a lost elector never reports leading again"
        );
    }
}
