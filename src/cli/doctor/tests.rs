//! `doctor` against the simulator: good credentials pass, and each kind of bad one (a wrong SK,
//! an unknown AK, a project of another account, a skewed clock, a TLS failure, an unreachable
//! endpoint) fails with its own message. Nothing is written.
use super::checks::{Check, Status};
use super::probe;
use crate::cli::cloud::CloudArgs;
use crate::config::CloudMode;
use crate::sim::{self, ProjectConfig, SimConfig, SimHandle};
use serde_json::Value;

const AK: &str = "DOCTORACCESSKEY";
const SK: &str = "doctor-secret-key";

async fn simulator(skew_secs: i64) -> SimHandle {
    let mut cfg = SimConfig::single("p-main", AK, SK);
    cfg.projects.push(ProjectConfig::new(
        "p-other",
        "OTHERACCESSKEY",
        "other-secret",
    ));
    cfg.wall_clock_skew = chrono::Duration::seconds(skew_secs);
    sim::spawn(cfg).await.unwrap()
}

async fn doctor(endpoint: &str, project: &str, ak: &str, sk: &str) -> Vec<Check> {
    let args = CloudArgs {
        cloud: CloudMode::Real,
        region: Some("cn-north-4".into()),
        project_id: Some(project.into()),
        endpoint: Some(endpoint.into()),
        ies_endpoint: None,
        credentials_secret: None,
        cluster_name: "default".into(),
    };
    let (ak, sk) = (ak.to_string(), sk.to_string());
    let env = move |k: &str| match k {
        "HUAWEICLOUD_SDK_AK" => Some(ak.clone()),
        "HUAWEICLOUD_SDK_SK" => Some(sk.clone()),
        _ => None,
    };
    let resolved = args.resolve(None, &env).await.unwrap();
    probe::cloud(&resolved, "default", chrono::Utc::now).await
}

fn check<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name}: {checks:#?}"))
}

fn failed(checks: &[Check]) -> Vec<(&str, &str)> {
    checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| (c.name, c.message.as_str()))
        .collect()
}

#[tokio::test]
async fn good_credentials_pass_every_check() {
    let sim = simulator(0).await;
    let checks = doctor(&sim.base_url(), "p-main", AK, SK).await;
    assert!(
        checks.iter().all(|c| c.status == Status::Pass),
        "{checks:#?}"
    );
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "endpoint",
            "clock",
            "credentials",
            "project",
            "quotas",
            "zones",
            "resources"
        ]
    );
    assert_eq!(super::exit_code(&checks), 0);
    let writes: u64 = sim::server::lock(&sim.state().counters)
        .operations
        .iter()
        .filter(|(op, _)| {
            ["Create", "Update", "Delete", "Batch"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .map(|(_, c)| c.calls)
        .sum();
    assert_eq!(writes, 0, "doctor only reads");
}

#[tokio::test]
async fn each_kind_of_bad_credentials_has_its_own_message() {
    let sim = simulator(0).await;
    let url = sim.base_url();
    let wrong_sk = doctor(&url, "p-main", AK, "not-the-secret").await;
    let c = check(&wrong_sk, "credentials");
    assert_eq!(c.status, Status::Fail);
    assert!(c.message.starts_with("the request signature was refused: the secret key is not the one of access key DOCTORACCESSKEY"), "{}", c.message);
    assert_eq!(super::exit_code(&wrong_sk), 1);

    let unknown_ak = doctor(&url, "p-main", "NOSUCHKEY", SK).await;
    assert!(check(&unknown_ak, "credentials")
        .message
        .starts_with("IAM does not know access key NOSUCHKEY"));

    let other_project = doctor(&url, "p-other", AK, SK).await;
    assert_eq!(check(&other_project, "credentials").status, Status::Pass);
    let p = check(&other_project, "project");
    assert_eq!(p.status, Status::Fail);
    assert!(
        p.message
            .starts_with("the credentials are valid, but project p-other is not theirs"),
        "{}",
        p.message
    );
}

#[tokio::test]
async fn a_skewed_clock_is_named_twice_by_the_date_header_and_by_the_refusal() {
    let sim = simulator(20 * 60).await;
    let checks = doctor(&sim.base_url(), "p-main", AK, SK).await;
    let f = failed(&checks);
    assert_eq!(f.len(), 2, "{f:?}");
    // `Date` has whole seconds: 20 minutes read 19m59s or 20m00s.
    let clock = f[0].1;
    assert!(
        ["19m59s", "20m00s"].iter().any(|s| clock
            .starts_with(&format!("this machine's clock is {s} behind the server's"))),
        "{f:?}"
    );
    assert!(
        f[1].1
            .starts_with("the request signature was refused as expired"),
        "{f:?}"
    );
}

#[tokio::test]
async fn tls_failures_and_unreachable_endpoints() {
    let sim = simulator(0).await;
    let https = sim.base_url().replace("http://", "https://");
    let checks = doctor(&https, "p-main", AK, SK).await;
    let e = check(&checks, "endpoint");
    assert_eq!(e.status, Status::Fail);
    assert!(
        e.message.starts_with(&format!("TLS with {https}/ failed")),
        "{}",
        e.message
    );
    assert_eq!(
        check(&checks, "credentials").status,
        Status::Warn,
        "not checked"
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let checks = doctor(&format!("http://{closed}"), "p-main", AK, SK).await;
    let e = check(&checks, "endpoint");
    assert!(
        e.message.contains("is unreachable") && e.message.contains("refused"),
        "{}",
        e.message
    );
    let checks = doctor("http://no-such-host.invalid:8080", "p-main", AK, SK).await;
    assert!(check(&checks, "endpoint")
        .message
        .starts_with("cannot resolve the host"));
}

#[tokio::test]
async fn the_admin_api_moves_the_servers_wall_clock() {
    let sim = simulator(0).await;
    let url = sim.base_url();
    let body = serde_json::json!({"skew_seconds": -1800});
    let resp = reqwest::Client::new()
        .put(format!("{url}/_sim/wall-clock"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let checks = doctor(&url, "p-main", AK, SK).await;
    let clock = check(&checks, "clock");
    assert_eq!(clock.status, Status::Fail);
    assert!(
        clock.message.contains("ahead of the server's"),
        "{}",
        clock.message
    );
}

#[test]
fn the_rbac_probe_asks_for_every_permission_of_the_one_list() {
    let perms = super::rbac::permissions("ops", &[]);
    let labels: Vec<String> = perms.iter().map(|p| p.label()).collect();
    for want in [
        "patch vpngateways/status.vpn.hwcloud.dev",
        "get secrets",
        "get customresourcedefinitions.apiextensions.k8s.io",
        "update leases.coordination.k8s.io in ops",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want}: {labels:?}");
    }
}

#[test]
fn with_watched_namespaces_the_rbac_probe_asks_in_each_of_them_not_cluster_wide() {
    let watched = ["team-a".to_string(), "team-b".to_string()];
    let labels: Vec<String> = super::rbac::permissions("ops", &watched)
        .iter()
        .map(|p| p.label())
        .collect();
    for want in [
        "get secrets in team-a",
        "create secrets in team-b",
        "create events.events.k8s.io in team-a",
        "watch vpnconnections.vpn.hwcloud.dev in team-b",
        "get customresourcedefinitions.apiextensions.k8s.io",
        "update leases.coordination.k8s.io in ops",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want}: {labels:?}");
    }
    assert!(
        !labels.iter().any(|l| l == "get secrets"),
        "no cluster-wide Secret check in namespaced mode: {labels:?}"
    );
}

#[test]
fn installed_crds_may_carry_server_defaults_but_not_other_schemas() {
    use super::cluster::contains;
    let ours = serde_json::json!({"group": "g", "versions": [{"name": "v1", "served": true}]});
    let installed = serde_json::json!({"group": "g", "conversion": {"strategy": "None"},
        "versions": [{"name": "v1", "served": true, "deprecated": false}]});
    assert!(contains(&installed, &ours));
    let older = serde_json::json!({"group": "g", "versions": [{"name": "v1", "served": false}]});
    assert!(!contains(&older, &ours));
}

/// Namespace accounts: the simulator's second project for the teams.
const TEAM_PROJECT: &str = "p-team";
const TEAM_AK: &str = "TEAMACCESSKEY";
const TEAM_SK: &str = "team-secret-key";

/// An account Secret: namespace, name, data.
type AccountSecret<'a> = (&'a str, &'a str, Vec<(&'static str, String)>);

/// The namespace-account checks of `users` over the account Secrets `secrets` (namespace,
/// name, data) in an in-memory Kubernetes, the operator's own account being `p-main`.
async fn account_checks(
    sim: &SimHandle,
    secret_name: &str,
    require: bool,
    secrets: &[AccountSecret<'_>],
    users: &[(&str, usize)],
) -> Vec<Check> {
    let args = CloudArgs {
        cloud: CloudMode::Real,
        region: Some("cn-north-4".into()),
        project_id: Some("p-main".into()),
        endpoint: Some(sim.base_url()),
        ies_endpoint: None,
        credentials_secret: None,
        cluster_name: "default".into(),
    };
    let env = |k: &str| match k {
        "HUAWEICLOUD_SDK_AK" => Some(AK.to_string()),
        "HUAWEICLOUD_SDK_SK" => Some(SK.to_string()),
        _ => None,
    };
    let resolved = args.resolve(None, &env).await.unwrap();
    let kube = crate::controller::runtime::kube::Kube::memory();
    for (ns, name, data) in secrets {
        let refs: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
        kube.memory_backend().unwrap().put_secret(ns, name, &refs);
    }
    let users = users.iter().map(|(n, c)| (n.to_string(), *c)).collect();
    let checks = super::accounts::checks(&kube, &resolved, secret_name, require, &users).await;
    for c in &checks {
        let text = format!("{} {:?}", c.message, c.fix);
        assert!(
            !text.contains(TEAM_SK) && !text.contains(SK),
            "a secret value: {text}"
        );
    }
    checks
}

/// A team account Secret for the simulator at `url`, with `edit` applied.
fn team_account(url: &str, edit: &[(&'static str, Option<&str>)]) -> Vec<(&'static str, String)> {
    let mut data: Vec<(&str, String)> = vec![
        ("region", "cn-north-4".into()),
        ("projectId", TEAM_PROJECT.into()),
        ("endpoint", url.into()),
        ("accessKey", TEAM_AK.into()),
        ("secretKey", TEAM_SK.into()),
    ];
    for (k, v) in edit {
        data.retain(|(key, _)| key != k);
        if let Some(v) = v {
            data.push((k, v.to_string()));
        }
    }
    data
}

async fn team_simulator() -> SimHandle {
    let mut cfg = SimConfig::single("p-main", AK, SK);
    cfg.projects
        .push(ProjectConfig::new(TEAM_PROJECT, TEAM_AK, TEAM_SK));
    sim::spawn(cfg).await.unwrap()
}

fn quota_reads(sim: &SimHandle, project: &str) -> u64 {
    sim::server::lock(&sim.state().counters)
        .by_project
        .get(project)
        .and_then(|ops| ops.get("ShowQuotasInfo"))
        .copied()
        .unwrap_or_default()
}

fn one(checks: &[Check], ns: &str) -> Check {
    let found: Vec<&Check> = checks
        .iter()
        .filter(|c| c.message.starts_with(&format!("{ns}: ")))
        .collect();
    assert_eq!(found.len(), 1, "{ns}: {checks:#?}");
    assert_eq!((found[0].group, found[0].name), ("namespace", "account"));
    found[0].clone()
}

#[tokio::test]
async fn each_namespace_account_is_checked_as_the_operator_would_use_it() {
    use crate::controller::runtime::account::DEFAULT_ACCOUNT_SECRET as NAME;
    let sim = team_simulator().await;
    let url = sim.base_url();
    let secrets = [
        ("good", NAME, team_account(&url, &[])),
        (
            "no-project",
            NAME,
            team_account(&url, &[("projectId", None)]),
        ),
        (
            "refused",
            NAME,
            team_account(&url, &[("secretKey", Some("not-the-team-key"))]),
        ),
    ];
    let users = [
        ("good", 2),
        ("no-project", 1),
        ("refused", 1),
        ("missing", 3),
        ("idle", 0),
    ];
    for require in [false, true] {
        let checks = account_checks(&sim, NAME, require, &secrets, &users).await;
        assert_eq!(checks.len(), users.len(), "{checks:#?}");
        let good = one(&checks, "good");
        assert_eq!(good.status, Status::Pass, "{good:?}");
        assert!(
            good.message.contains(&format!(
                "Secret good/{NAME}, project p-team in region cn-north-4"
            )) && good
                .message
                .contains("access key TEAMACCESSKEY was accepted; used by 2 objects"),
            "{}",
            good.message
        );

        let bad = one(&checks, "no-project");
        assert_eq!(bad.status, Status::Fail);
        assert!(
            bad.message.contains(&format!(
                "1 object would get Synced=False AccountInvalid: the namespace's account Secret \
                 no-project/{NAME} cannot be used: has no key projectId"
            )),
            "{}",
            bad.message
        );

        let refused = one(&checks, "refused");
        assert_eq!(refused.status, Status::Fail);
        assert!(
            refused.message.contains(
                "the request signature was refused: the secret key is not the one of access key TEAMACCESSKEY"
            ),
            "{}",
            refused.message
        );
        assert!(
            refused
                .fix
                .as_deref()
                .unwrap()
                .contains(&format!("secretKey in Secret refused/{NAME}")),
            "{refused:?}"
        );

        let missing = one(&checks, "missing");
        match require {
            false => {
                assert_eq!(missing.status, Status::Warn);
                assert!(missing
                    .message
                    .contains("its 3 objects use the operator's own account"));
            }
            true => {
                assert_eq!(missing.status, Status::Fail);
                assert!(
                    missing.message.contains(&format!(
                        "3 objects would get Synced=False AccountMissing: namespace missing has \
                         no account: create Secret missing/{NAME}"
                    )),
                    "{}",
                    missing.message
                );
            }
        }
        // Nothing would use the account of a namespace without objects: no warning.
        assert_eq!(one(&checks, "idle").status, Status::Pass);
        assert_eq!(super::exit_code(&checks), 1);
    }
}

#[tokio::test]
async fn namespaces_sharing_an_account_are_probed_once_under_the_configured_name() {
    let sim = team_simulator().await;
    let url = sim.base_url();
    let name = "team-account";
    let secrets = [
        ("team-a", name, team_account(&url, &[])),
        ("team-b", name, team_account(&url, &[])),
        // Under the default name: not the configured one, so not read.
        (
            "team-c",
            crate::controller::runtime::account::DEFAULT_ACCOUNT_SECRET,
            team_account(&url, &[]),
        ),
    ];
    let users = [("team-a", 1), ("team-b", 1), ("team-c", 1)];
    let checks = account_checks(&sim, name, true, &secrets, &users).await;
    for ns in ["team-a", "team-b"] {
        let c = one(&checks, ns);
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.message.contains(&format!("Secret {ns}/{name}")), "{c:?}");
    }
    let c = one(&checks, "team-c");
    assert_eq!(c.status, Status::Fail, "{c:?}");
    assert!(c.message.contains("AccountMissing"), "{c:?}");
    assert!(
        c.message.contains(&format!("create Secret team-c/{name}")),
        "{c:?}"
    );
    assert_eq!(
        quota_reads(&sim, TEAM_PROJECT),
        1,
        "one signed read per distinct account"
    );
    assert_eq!(
        quota_reads(&sim, "p-main"),
        0,
        "the operator's own account is not read here"
    );
}

#[test]
fn the_objects_that_would_use_a_namespace_account_are_counted() {
    use super::accounts::users;
    use crate::cli::plan::manifests::Kind;
    let obj = |ns: &str, cloud: Value| serde_json::json!({"metadata": {"namespace": ns, "name": "x"}, "spec": {"cloud": cloud}});
    let own = serde_json::json!({"credentialsSecretRef": {"name": "own"}});
    let region_only = serde_json::json!({"region": "cn-south-1"});
    let objects = [
        (Kind::VpnGateway, obj("team-a", Value::Null)),
        (Kind::CustomerGateway, obj("team-a", region_only)),
        (Kind::VpnConnection, obj("team-a", own.clone())),
        (Kind::CloudVpnService, obj("team-b", Value::Null)),
        (Kind::VpnGateway, obj("team-c", own)),
        (Kind::VpnGateway, obj("team-d", Value::Null)),
    ];
    let all = users(&[], objects.iter().map(|(k, v)| (*k, v)));
    let want: Vec<(&str, usize)> = vec![("team-a", 2), ("team-b", 0), ("team-c", 0), ("team-d", 1)];
    assert_eq!(
        all.iter()
            .map(|(n, c)| (n.as_str(), *c))
            .collect::<Vec<_>>(),
        want
    );
    let watched = ["team-a".to_string(), "team-z".to_string()];
    let some = users(&watched, objects.iter().map(|(k, v)| (*k, v)));
    assert_eq!(
        some.iter()
            .map(|(n, c)| (n.as_str(), *c))
            .collect::<Vec<_>>(),
        [("team-a", 2), ("team-z", 0)]
    );
}
