//! Leader election against a Kubernetes API server (a real one or the kube stand-in).
//!
//! Runs when `VPN_E2E_KUBECONFIG` names a kubeconfig, e.g.
//! `/work/shared/tools/kube-standin/start.sh 18443 /tmp/standin` then
//! `VPN_E2E_KUBECONFIG=/tmp/standin/kubeconfig cargo test --test runtime_leader`; otherwise
//! its tests are reported as ignored (a `harness = false` target run by `tests/kube_suite/`).
mod kube_suite;

use std::process::ExitCode;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, PostParams};
use kube::Api;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use vpn_operator::config::LeaderElectionConfig;
use vpn_operator::leader::{ElectionEnd, LeaderElector, LeaderState};

use kube_suite::{scenario, KUBECONFIG_VAR};

fn main() -> ExitCode {
    kube_suite::main(vec![
        scenario!(async exactly_one_leader_and_handover_on_release),
        scenario!(async leader_steps_down_when_another_holder_takes_the_lease),
    ])
}

const NAMESPACE: &str = "default";
/// Generous bound for anything that should take a few retry periods.
const PATIENCE: Duration = Duration::from_secs(20);

/// A client for the cluster of `VPN_E2E_KUBECONFIG` (the runner starts tests only when it is set).
async fn client() -> kube::Client {
    let path = std::env::var(KUBECONFIG_VAR)
        .unwrap_or_else(|_| panic!("{KUBECONFIG_VAR} is not set (or not UTF-8)"));
    let kubeconfig = kube::config::Kubeconfig::read_from(&path)
        .unwrap_or_else(|e| panic!("cannot read {KUBECONFIG_VAR}={path}: {e}"));
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("unusable kubeconfig {path}: {e}"));
    kube::Client::try_from(config).expect("kube client")
}

fn config(test: &str) -> LeaderElectionConfig {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    LeaderElectionConfig {
        lease_name: format!("{test}-{suffix}"),
        lease_namespace: NAMESPACE.to_string(),
        lease_duration: Duration::from_secs(4),
        renew_deadline: Duration::from_secs(2),
    }
}

struct Running {
    identity: String,
    state: watch::Receiver<LeaderState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<ElectionEnd>,
}

fn start(client: &kube::Client, cfg: &LeaderElectionConfig, name: &str) -> Running {
    let elector = LeaderElector::new(
        client.clone(),
        cfg,
        format!("{name}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
    );
    let identity = elector.identity().to_string();
    let state = elector.subscribe();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(elector.run(async move {
        let _ = stopped.await;
    }));
    Running {
        identity,
        state,
        stop: Some(stop),
        task,
    }
}

impl Running {
    async fn stop(&mut self) -> ElectionEnd {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        timeout(PATIENCE, &mut self.task)
            .await
            .expect("elector stops")
            .expect("elector task")
    }

    async fn wait_for(&mut self, want: LeaderState) {
        let reached = timeout(PATIENCE, self.state.wait_for(|s| *s == want))
            .await
            .is_ok();
        let last = self.state.borrow().clone();
        assert!(
            reached,
            "{} never reached {want:?}; last {last:?}",
            self.identity
        );
        assert_eq!(last, want, "{}: the elector ended first", self.identity);
    }
}

async fn holder(api: &Api<Lease>, name: &str) -> (Option<String>, Option<i32>) {
    let spec = api
        .get(name)
        .await
        .expect("Lease exists")
        .spec
        .unwrap_or_default();
    (spec.holder_identity, spec.lease_transitions)
}

/// Waits until one elector leads and the other stands by; returns (leader, standby).
async fn settle(a: Running, b: Running) -> (Running, Running) {
    let (mut a, mut b) = (a, b);
    timeout(PATIENCE, async {
        loop {
            let (sa, sb) = (
                a.state.borrow_and_update().clone(),
                b.state.borrow_and_update().clone(),
            );
            assert!(!(sa.is_leading() && sb.is_leading()), "two leaders at once");
            match (sa, sb) {
                (LeaderState::Leading, LeaderState::Standby) => return,
                (LeaderState::Standby, LeaderState::Leading) => return,
                _ => {}
            }
            tokio::select! {
                r = a.state.changed() => r.expect("elector a alive"),
                r = b.state.changed() => r.expect("elector b alive"),
            }
        }
    })
    .await
    .expect("one leader and one standby");
    if a.state.borrow().is_leading() {
        (a, b)
    } else {
        (b, a)
    }
}

async fn exactly_one_leader_and_handover_on_release() {
    let client = client().await;
    let cfg = config("runtime-leader-handover");
    let api: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);

    let a = start(&client, &cfg, "a");
    let b = start(&client, &cfg, "b");
    let (mut leader, mut standby) = settle(a, b).await;
    assert_eq!(
        holder(&api, &cfg.lease_name).await,
        (Some(leader.identity.clone()), Some(0))
    );
    // A few renewals later the roles have not changed.
    let renewed = api
        .get(&cfg.lease_name)
        .await
        .unwrap()
        .spec
        .unwrap()
        .renew_time;
    timeout(PATIENCE, async {
        while api
            .get(&cfg.lease_name)
            .await
            .unwrap()
            .spec
            .unwrap()
            .renew_time
            == renewed
        {
            tokio::time::sleep(Duration::from_millis(200)).await; // polling the server, not synchronising
        }
    })
    .await
    .expect("the leader renews its Lease");
    assert!(leader.state.borrow().is_leading());
    assert_eq!(*standby.state.borrow(), LeaderState::Standby);

    // Graceful stop: the leader releases, the standby takes over well before the Lease would expire.
    assert_eq!(leader.stop().await, ElectionEnd::Stopped);
    assert_eq!(*leader.state.borrow(), LeaderState::Stopped);
    standby.wait_for(LeaderState::Leading).await;
    assert_eq!(
        holder(&api, &cfg.lease_name).await,
        (Some(standby.identity.clone()), Some(1))
    );

    assert_eq!(standby.stop().await, ElectionEnd::Stopped);
    assert_eq!(
        holder(&api, &cfg.lease_name).await.0,
        None,
        "released on stop"
    );
    api.delete(&cfg.lease_name, &DeleteParams::default())
        .await
        .expect("cleanup");
}

async fn leader_steps_down_when_another_holder_takes_the_lease() {
    let client = client().await;
    let cfg = config("runtime-leader-stolen");
    let api: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);

    let mut leader = start(&client, &cfg, "a");
    leader.wait_for(LeaderState::Leading).await;

    // Someone else (e.g. a replica that saw the Lease expire during a network partition) takes it.
    let mut lease = api.get(&cfg.lease_name).await.unwrap();
    lease.spec = Some(LeaseSpec {
        holder_identity: Some("intruder".into()),
        lease_duration_seconds: Some(60),
        renew_time: Some(MicroTime(Timestamp::now())),
        ..lease.spec.unwrap_or_default()
    });
    api.replace(&cfg.lease_name, &PostParams::default(), &lease)
        .await
        .expect("steal the Lease");

    leader.wait_for(LeaderState::Lost).await;
    assert_eq!(
        timeout(PATIENCE, &mut leader.task).await.unwrap().unwrap(),
        ElectionEnd::Lost
    );
    assert_eq!(
        holder(&api, &cfg.lease_name).await.0.as_deref(),
        Some("intruder"),
        "a lost leader must not release"
    );
    api.delete(&cfg.lease_name, &DeleteParams::default())
        .await
        .expect("cleanup");
}
