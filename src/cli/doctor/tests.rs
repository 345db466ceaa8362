//! `doctor` against the simulator: good credentials pass, and each kind of bad one (a wrong SK,
//! an unknown AK, a project of another account, a skewed clock, a TLS failure, an unreachable
//! endpoint) fails with its own message. Nothing is written.
use super::checks::{Check, Status};
use super::probe;
use crate::cli::cloud::CloudArgs;
use crate::config::CloudMode;
use crate::sim::{self, ProjectConfig, SimConfig, SimHandle};

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
