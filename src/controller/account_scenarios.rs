//! Per-namespace cloud accounts, whole reconciles without a cluster: namespaces bound to
//! simulated projects through their account Secrets, an account changed under existing
//! objects, and missing or malformed accounts.
use serde_json::json;

use crate::controller::runtime::account::DEFAULT_ACCOUNT_SECRET;
use crate::controller::runtime::testing::{cond, condition, World, PROJECT};
use crate::crd::common::types::{READY, SYNCED};
use crate::crd::common::{AccountSource, AccountStatus, ManagedStatus};
use crate::crd::CustomerGateway;
use crate::sim::config::ProjectConfig;

const EXAMPLE: &str = include_str!("../../examples/customergateway.yaml");
const NAME: &str = "office-router";
/// Two more simulated projects, each with its own keys, for two teams.
const P_B: &str = "0c1a55f00000000000000000000000b2";
const P_C: &str = "0c1a55f00000000000000000000000c3";
const AK_B: &str = "TEAMBACCESSKEY";
const SK_B: &str = "team-b-secret-key";
const AK_C: &str = "TEAMCACCESSKEY";
const SK_C: &str = "team-c-secret-key";

async fn world(require: bool) -> World {
    let projects = |c: crate::sim::SimConfig| {
        c.with_project(ProjectConfig::new(P_B, AK_B, SK_B))
            .with_project(ProjectConfig::new(P_C, AK_C, SK_C))
    };
    if require {
        World::requiring_namespace_accounts(projects).await
    } else {
        World::with(projects).await
    }
}

/// Binds `ns` to project `project` (keys `ak`/`sk`) with its account Secret.
fn bind(w: &World, ns: &str, project: &str, ak: &str, sk: &str) {
    let endpoint = w.sim.base_url().to_string();
    w.put_secret_in(
        ns,
        DEFAULT_ACCOUNT_SECRET,
        &[
            ("region", "cn-north-4"),
            ("projectId", project),
            ("endpoint", &endpoint),
            ("accessKey", ak),
            ("secretKey", sk),
        ],
    );
}

fn customer_gateway(ns: &str, name: &str, ip: &str) -> CustomerGateway {
    let mut c: CustomerGateway = serde_yaml::from_str(EXAMPLE).unwrap();
    c.metadata.namespace = Some(ns.into());
    c.metadata.name = Some(name.into());
    c.spec.name = Some(name.into());
    c.spec.id_value = ip.into();
    c
}

/// Applies a customer gateway and reconciles it twice (finalizer, create).
async fn create(w: &World, ns: &str, name: &str, ip: &str) -> CustomerGateway {
    w.apply(customer_gateway(ns, name, ip));
    w.reconcile_in::<CustomerGateway>(ns, name).await;
    w.reconcile_in::<CustomerGateway>(ns, name).await;
    w.get_in(ns, name)
}

async fn names_in(w: &World, project: &str) -> Vec<String> {
    w.cloud_of(project, "customer_gateways")
        .await
        .iter()
        .map(|c| {
            c["customer_gateway"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn account(c: &CustomerGateway) -> AccountStatus {
    c.status
        .as_ref()
        .and_then(|s| s.account())
        .cloned()
        .expect("status.account")
}

fn pair(c: &CustomerGateway, type_: &str) -> (String, String) {
    cond(c, type_)
}

#[tokio::test]
async fn each_namespace_lands_in_its_own_project_and_says_so() {
    let w = world(false).await;
    bind(&w, "team-b", P_B, AK_B, SK_B);
    bind(&w, "team-c", P_C, AK_C, SK_C);
    // The same name in three namespaces: team-a has no account Secret (the operator's own).
    let b = create(&w, "team-b", NAME, "203.0.113.20").await;
    let c = create(&w, "team-c", NAME, "203.0.113.30").await;
    let a = create(&w, "team-a", "fallback", "203.0.113.40").await;
    for o in [&a, &b, &c] {
        assert_eq!(pair(o, READY), ("True".into(), "Available".into()));
    }
    assert_eq!(names_in(&w, P_B).await, [NAME]);
    assert_eq!(names_in(&w, P_C).await, [NAME]);
    assert_eq!(names_in(&w, PROJECT).await, ["fallback"]);

    let endpoint = w.sim.base_url().trim_end_matches('/').to_string();
    let ns_account = |ns: &str, project: &str| AccountStatus {
        source: AccountSource::Namespace,
        secret: Some(format!("{ns}/{DEFAULT_ACCOUNT_SECRET}")),
        project_id: Some(project.into()),
        region: Some("cn-north-4".into()),
        endpoint: endpoint.clone(),
    };
    assert_eq!(account(&b), ns_account("team-b", P_B));
    assert_eq!(account(&c), ns_account("team-c", P_C));
    let own = account(&a);
    assert_eq!(
        (own.source, own.project_id.as_deref(), own.secret),
        (AccountSource::Operator, Some(PROJECT), None)
    );

    // spec.cloud comes first: a credentials Secret of its own, fields over the namespace's.
    w.put_secret_in(
        "team-b",
        "team-c-keys",
        &[("accessKey", AK_C), ("secretKey", SK_C)],
    );
    let mut own = customer_gateway("team-b", "own-account", "203.0.113.50");
    own.spec.cloud = Some(
        serde_json::from_value(json!({
            "projectId": P_C, "endpoint": endpoint, "credentialsSecretRef": {"name": "team-c-keys"}
        }))
        .unwrap(),
    );
    w.apply(own);
    w.reconcile_in::<CustomerGateway>("team-b", "own-account")
        .await;
    w.reconcile_in::<CustomerGateway>("team-b", "own-account")
        .await;
    let o: CustomerGateway = w.get_in("team-b", "own-account");
    assert_eq!(pair(&o, READY), ("True".into(), "Available".into()));
    let acct = account(&o);
    assert_eq!(
        (
            acct.source,
            acct.project_id.as_deref(),
            acct.secret.as_deref()
        ),
        (AccountSource::Object, Some(P_C), Some("team-b/team-c-keys"))
    );
    assert_eq!(names_in(&w, P_C).await, [NAME, "own-account"]);
}

#[tokio::test]
async fn a_changed_namespace_account_moves_nothing_until_the_user_acts() {
    let w = world(false).await;
    bind(&w, "team-b", P_B, AK_B, SK_B);
    let before = create(&w, "team-b", NAME, "203.0.113.20").await;
    let id = before
        .status
        .as_ref()
        .and_then(|s| s.cloud_id.clone())
        .unwrap();
    let recorded = account(&before);

    // The team's Secret now names another project.
    bind(&w, "team-b", P_C, AK_C, SK_C);
    let writes = w.writes();
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let after: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(w.writes(), writes, "nothing created, moved or deleted");
    assert_eq!(names_in(&w, P_B).await, [NAME]);
    assert!(names_in(&w, P_C).await.is_empty());
    assert_eq!(account(&after), recorded, "the recorded account is kept");
    assert_eq!(
        after.status.as_ref().unwrap().cloud_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        pair(&after, SYNCED),
        ("False".into(), "AccountChanged".into())
    );
    assert_eq!(pair(&after, READY), ("True".into(), "Available".into()));
    let msg = condition(&after, SYNCED).unwrap().message;
    assert!(msg.contains(P_B) && msg.contains(P_C), "{msg}");
    assert!(!msg.contains(SK_C) && !msg.contains(AK_C), "{msg}");
    // The same Secret now holds the other project's keys: the message says what that means.
    assert!(
        msg.contains("still read from Secret team-b/")
            && msg.contains(&format!("cannot reach project {P_B}")),
        "{msg}"
    );
    let status_writes = w.kube().writes();
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    assert_eq!(
        w.kube().writes(),
        status_writes,
        "an unchanged report is not written again"
    );
    let events = w.kube().events_of::<CustomerGateway>("team-b", NAME);
    let changed = events.iter().filter(|e| e.reason == "AccountChanged");
    assert_eq!(changed.count(), 1, "one Warning, not one per reconcile");

    // A new object of the namespace uses the new account.
    let new = create(&w, "team-b", "new-site", "203.0.113.21").await;
    assert_eq!(account(&new).project_id.as_deref(), Some(P_C));
    assert_eq!(names_in(&w, P_C).await, ["new-site"]);

    // The user restores the account: Synced again, still the same resource.
    bind(&w, "team-b", P_B, AK_B, SK_B);
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let restored: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(
        pair(&restored, SYNCED),
        ("True".into(), "ReconcileSuccess".into())
    );
    assert_eq!(
        restored.status.as_ref().unwrap().cloud_id.as_deref(),
        Some(id.as_str())
    );

    // Changed again and deleted: the resource goes from the project it was made in.
    bind(&w, "team-b", P_C, AK_C, SK_C);
    w.kube()
        .delete::<CustomerGateway>("team-b", NAME, &w.ctx.clock.now());
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    assert!(names_in(&w, P_B).await.is_empty(), "deleted where it lived");
    assert_eq!(
        names_in(&w, P_C).await,
        ["new-site"],
        "the new project untouched"
    );
}

#[tokio::test]
async fn a_missing_or_malformed_account_is_named_and_blocks_readiness() {
    let w = world(true).await;
    // No account Secret, and this operator lends none of its own.
    create(&w, "team-b", NAME, "203.0.113.20").await;
    let o: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(pair(&o, SYNCED), ("False".into(), "AccountMissing".into()));
    assert_eq!(pair(&o, READY), ("False".into(), "AccountMissing".into()));
    let msg = condition(&o, READY).unwrap().message;
    assert!(msg.contains("team-b/vpn-operator-account"), "{msg}");
    assert_eq!(w.all_calls(), 0);

    // A Secret without projectId, then with a value that is no project id.
    let endpoint = w.sim.base_url().to_string();
    let mut keys = vec![
        ("region", "cn-north-4"),
        ("endpoint", endpoint.as_str()),
        ("accessKey", AK_B),
        ("secretKey", SK_B),
    ];
    w.put_secret_in("team-b", DEFAULT_ACCOUNT_SECRET, &keys);
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let o: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(pair(&o, SYNCED), ("False".into(), "AccountInvalid".into()));
    assert_eq!(pair(&o, READY), ("False".into(), "AccountInvalid".into()));
    let msg = condition(&o, READY).unwrap().message;
    assert!(
        msg.contains("team-b/vpn-operator-account") && msg.contains("projectId"),
        "{msg}"
    );
    assert!(!msg.contains(SK_B), "{msg}");
    keys.push(("projectId", "not/a/project"));
    w.put_secret_in("team-b", DEFAULT_ACCOUNT_SECRET, &keys);
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let o: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(pair(&o, READY), ("False".into(), "AccountInvalid".into()));
    assert_eq!(w.all_calls(), 0);

    // Fixed: made in the namespace's project.
    bind(&w, "team-b", P_B, AK_B, SK_B);
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let o: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(pair(&o, READY), ("True".into(), "Available".into()));
    assert_eq!(names_in(&w, P_B).await, [NAME]);
}

#[tokio::test]
async fn an_object_made_before_accounts_were_recorded_stays_in_the_operators_account() {
    let w = world(false).await;
    // Made by an operator that knew no namespace accounts (no status.account)...
    let made = create(&w, "team-b", NAME, "203.0.113.20").await;
    let mut old = made.status.clone().unwrap();
    old.account = None;
    w.ctx.kube.write_status(&made, &old).await.unwrap();
    let stored: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(stored.status.as_ref().unwrap().account, None);
    assert_eq!(names_in(&w, PROJECT).await, [NAME]);
    // ...then the upgrade, and the namespace gets an account before the next reconcile.
    bind(&w, "team-b", P_B, AK_B, SK_B);
    let writes = w.writes();
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let o: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(
        w.writes(),
        writes,
        "nothing made in the namespace's project"
    );
    assert!(names_in(&w, P_B).await.is_empty());
    assert_eq!(pair(&o, SYNCED), ("False".into(), "AccountChanged".into()));
    let acct = account(&o);
    assert_eq!(
        (acct.source, acct.project_id.as_deref()),
        (AccountSource::Operator, Some(PROJECT))
    );
}

/// Memory follows the accounts in use: an account nobody used for the idle period keeps no
/// client, rate limiter, list state or cached account Secret; one still in use keeps them; and
/// the idle one's next reconcile builds them again and works. The clock is paused and moved,
/// nothing sleeps.
#[tokio::test]
async fn an_idle_account_is_forgotten_and_its_next_reconcile_works() {
    use crate::controller::runtime::account::{Account, CloudOverride};
    use crate::controller::runtime::controllers::{forget_idle_accounts, ACCOUNT_IDLE};
    let w = world(false).await;
    bind(&w, "team-b", P_B, AK_B, SK_B);
    let made = create(&w, "team-b", NAME, "203.0.113.20").await;
    assert_eq!(pair(&made, READY), ("True".into(), "Available".into()));
    let endpoint: url::Url = w.sim.base_url().parse().unwrap();
    let clouds = &w.ctx.clouds;
    assert_eq!(clouds.clients_held(), 1);
    assert!(crate::cloud::limiter::is_registered(&endpoint, P_B));
    assert!(
        w.ctx.kube.secrets_cached() > 0,
        "the account Secret was read"
    );

    // A reconcile still holding the account's client (a long call in flight): nothing of the
    // account goes, however long ago it was asked for.
    let resolved = clouds
        .resolve("team-b", &Account::Vpn(CloudOverride::default()))
        .await
        .unwrap();
    let Account::Vpn(target) = resolved.account else {
        panic!("a VPN account")
    };
    let busy = clouds.vpn(&target).await.unwrap();
    tokio::time::pause();
    tokio::time::advance(ACCOUNT_IDLE).await;
    forget_idle_accounts(&w.ctx, ACCOUNT_IDLE);
    assert_eq!(clouds.clients_held(), 1, "a client in use is kept");
    assert!(crate::cloud::limiter::is_registered(&endpoint, P_B));

    // Idle and unheld: client, limiter, list state and the account Secret read all go.
    drop(busy);
    assert!(forget_idle_accounts(&w.ctx, ACCOUNT_IDLE) >= 2);
    clouds.lists().forget_idle(ACCOUNT_IDLE);
    assert_eq!(clouds.clients_held(), 0);
    assert!(!crate::cloud::limiter::is_registered(&endpoint, P_B));
    assert_eq!(clouds.lists().accounts_held(), 0);
    assert_eq!(w.ctx.kube.secrets_cached(), 0);
    tokio::time::resume();

    // The next reconcile rebuilds the account's state and works: still Ready, the same one
    // resource in the same project, the same account recorded.
    let writes = w.writes();
    w.reconcile_in::<CustomerGateway>("team-b", NAME).await;
    let after: CustomerGateway = w.get_in("team-b", NAME);
    assert_eq!(pair(&after, READY), ("True".into(), "Available".into()));
    assert_eq!(
        pair(&after, SYNCED),
        ("True".into(), "ReconcileSuccess".into())
    );
    assert_eq!(account(&after), account(&made));
    assert_eq!(w.writes(), writes, "nothing written to the cloud");
    assert_eq!(names_in(&w, P_B).await, [NAME]);
    assert!(names_in(&w, PROJECT).await.is_empty());
    assert_eq!(clouds.clients_held(), 1);
    assert!(crate::cloud::limiter::is_registered(&endpoint, P_B));
}
