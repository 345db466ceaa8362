//! `plan` over objects the operator made Ready, in the cluster-free tier: the simulator
//! in-process, the operator's Kubernetes in memory (its objects are the plan's live objects).
//! Every plan is checked to write nothing: the simulator's write counters and the plan's own
//! Kubernetes write count stay where they were.
use serde_json::Value;

use super::cluster::Live;
use super::engine::{self, Verdict};
use super::manifests::{self, Kind};
use super::{plan, Report};
use crate::cloud::ies::IesCredentials;
use crate::controller::runtime::clouds::{IesCredentialSource, IesDefaults};
use crate::controller::runtime::preview::{Action, FieldChange};
use crate::controller::runtime::testing::{World, NS};
use crate::crd::{CustomerGateway, VpnConnection, VpnGateway};

const EXAMPLES: &str = concat!(
    include_str!("../../../examples/vpngateway.yaml"),
    "\n---\n",
    include_str!("../../../examples/customergateway.yaml"),
    "\n---\n",
    include_str!("../../../examples/psk-secret.yaml"),
    "\n---\n",
    include_str!("../../../examples/vpnconnection.yaml"),
);

/// The examples applied and Ready.
async fn ready_world() -> World {
    let w = World::start().await;
    let docs = manifests::parse("examples", EXAMPLES).unwrap();
    let m = manifests::classify(docs, NS);
    for ((ns, name), data) in &m.secrets {
        let pairs: Vec<(String, String)> = data
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8(v.clone()).unwrap()))
            .collect();
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(ns, NS);
        w.put_secret(name, &refs);
    }
    for o in &m.objects {
        match o.kind {
            Kind::VpnGateway => drop(w.apply_json::<VpnGateway>(o.value.clone())),
            Kind::CustomerGateway => drop(w.apply_json::<CustomerGateway>(o.value.clone())),
            Kind::VpnConnection => drop(w.apply_json::<VpnConnection>(o.value.clone())),
            Kind::CloudVpnService => {}
        }
    }
    w.ready::<VpnGateway>("edge-gateway").await;
    w.ready::<CustomerGateway>("office-router").await;
    w.ready::<VpnConnection>("office-link").await;
    w
}

/// The operator's objects, as the plan reads them from a cluster.
fn live(w: &World) -> Live {
    let mut out = Live::new();
    let mut put = |kind: Kind, name: &str, v: Value| {
        out.insert((kind, NS.to_string(), name.to_string()), v);
    };
    put(
        Kind::VpnGateway,
        "edge-gateway",
        serde_json::to_value(w.get::<VpnGateway>("edge-gateway")).unwrap(),
    );
    put(
        Kind::CustomerGateway,
        "office-router",
        serde_json::to_value(w.get::<CustomerGateway>("office-router")).unwrap(),
    );
    put(
        Kind::VpnConnection,
        "office-link",
        serde_json::to_value(w.get::<VpnConnection>("office-link")).unwrap(),
    );
    out
}

fn cloud(w: &World) -> engine::Cloud {
    let url: url::Url = w.sim.base_url().parse().unwrap();
    engine::Cloud {
        defaults: w.ctx.clouds.defaults().clone(),
        ies: IesDefaults {
            endpoint: Some(url.join("rest").unwrap()),
            credentials: Some(IesCredentialSource::Static(IesCredentials::token(
                crate::sim::ies::config::DEFAULT_AUTH_TOKEN,
            ))),
        },
        cluster_name: w.ctx.settings.cluster_name.clone(),
        account_secret: crate::controller::runtime::account::DEFAULT_ACCOUNT_SECRET.into(),
        require_namespace_account: false,
    }
}

/// Plans `yaml` against the world's objects (or none), checking that nothing was written.
async fn plan_of(w: &World, yaml: &str, with_cluster: bool, prune: bool) -> Report {
    let m = manifests::classify(manifests::parse("m.yaml", yaml).unwrap(), NS);
    let writes = w.writes();
    let kube_writes = w.kube().writes();
    let live = with_cluster.then(|| live(w));
    let r = plan(m, live, cloud(w), prune, Vec::new()).await.unwrap();
    assert_eq!(w.writes(), writes, "the plan made no cloud write");
    assert_eq!(
        w.kube().writes(),
        kube_writes,
        "the operator's Kubernetes was not touched"
    );
    assert_eq!(r.kube_writes, 0, "the plan's own Kubernetes saw no write");
    r
}

fn verdict<'a>(r: &'a Report, name: &str) -> &'a Verdict {
    &r.entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name}: {r:#?}"))
        .verdict
}

fn change<'a>(r: &'a Report, name: &str) -> &'a crate::controller::runtime::preview::Change {
    match verdict(r, name) {
        Verdict::Change(c) => c,
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn the_applied_manifests_plan_no_change_and_new_ones_plan_creates() {
    let w = ready_world().await;
    let r = plan_of(&w, EXAMPLES, true, false).await;
    for name in ["edge-gateway", "office-router", "office-link"] {
        let c = change(&r, name);
        assert_eq!(c.action, Action::NoChange, "{name}: {c:?}");
        assert!(c.cloud_id.is_some(), "{name}: the recorded cloud id");
    }
    assert_eq!(r.exit_code(), 0);

    // Without the cluster nothing is recorded: every object is new (by owner tag, nothing of
    // theirs exists for new uids).
    let r = plan_of(&w, EXAMPLES, false, false).await;
    assert_eq!(change(&r, "edge-gateway").action, Action::Create);
    assert_eq!(r.exit_code(), 2);

    let extra = format!(
        "{EXAMPLES}\n---\napiVersion: vpn.hwcloud.dev/v1alpha1\nkind: CustomerGateway\n\
         metadata: {{name: branch-router}}\nspec: {{idType: ip, idValue: 203.0.113.20}}\n"
    );
    let r = plan_of(&w, &extra, true, false).await;
    assert_eq!(change(&r, "branch-router").action, Action::Create);
    assert_eq!(change(&r, "office-router").action, Action::NoChange);
    assert_eq!(r.exit_code(), 2);
}

#[tokio::test]
async fn changed_fields_show_old_and_new_and_a_key_only_as_its_hash() {
    let w = ready_world().await;
    let yaml = EXAMPLES
        .replace(
            "name: edge-gateway\n  attachmentType",
            "name: edge-gw-2\n  attachmentType",
        )
        .replace("flavor: Professional1", "flavor: Professional2")
        .replace("psk: Example-Psk-2026", "psk: Rotated-Psk-2027");
    let r = plan_of(&w, &yaml, true, false).await;
    let gw = change(&r, "edge-gateway");
    assert_eq!(gw.action, Action::Update);
    assert!(gw.fields.contains(&FieldChange::new(
        "name",
        Some("edge-gateway".into()),
        Some("edge-gw-2".into())
    )));
    assert!(gw.fields.contains(&FieldChange::new(
        "flavor",
        Some("Professional1".into()),
        Some("Professional2".into())
    )));
    let conn = change(&r, "office-link");
    assert_eq!(conn.action, Action::Update);
    let psk = conn
        .fields
        .iter()
        .find(|f| f.field == "pskSha256")
        .expect("the key rotates");
    use crate::controller::kinds::vpn_connection::psk::psk_sha256;
    assert_eq!(
        psk.old.as_deref(),
        Some(psk_sha256("Example-Psk-2026").as_str())
    );
    assert_eq!(
        psk.new.as_deref(),
        Some(psk_sha256("Rotated-Psk-2027").as_str())
    );
    let text = super::render::text(&r.entries, &r.notes, crate::cli::term::Paint(false));
    assert!(
        !text.contains("Rotated-Psk-2027") && !text.contains("Example-Psk-2026"),
        "{text}"
    );
    assert!(
        text.contains("    name: edge-gateway → edge-gw-2\n"),
        "{text}"
    );
    assert_eq!(r.exit_code(), 2);
}

#[test]
fn a_failed_last_attempt_is_noted() {
    use crate::controller::runtime::preview::Change;
    let live = serde_json::json!({"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": "m"},
        {"type": "Synced", "status": "False", "reason": "InvalidSpec",
         "message": "CreateVgw: InvalidRequest (HTTP 400, VPN.0502): no free IP"}
    ]}});
    let v = engine::with_last_failure(
        Verdict::Change(Change::new(Action::Create, None)),
        Some(&live),
    );
    let Verdict::Change(c) = v else { panic!() };
    assert_eq!(
        c.notes,
        ["the operator's last attempt failed (InvalidSpec): CreateVgw: InvalidRequest (HTTP 400, VPN.0502): no free IP"]
    );
    let ok = serde_json::json!({"status": {"conditions": [{"type": "Synced", "status": "True"}]}});
    let v = engine::with_last_failure(
        Verdict::Change(Change::new(Action::Create, None)),
        Some(&ok),
    );
    assert_eq!(v, Verdict::Change(Change::new(Action::Create, None)));
}

#[tokio::test]
async fn immutable_changes_invalid_objects_and_pruning() {
    let w = ready_world().await;
    let yaml = EXAMPLES.replace(
        "vpcId: a0000000-0000-4000-8000-000000000001",
        "vpcId: a0000000-0000-4000-8000-000000000002",
    );
    let r = plan_of(&w, &yaml, true, false).await;
    match verdict(&r, "edge-gateway") {
        Verdict::ReplaceRequired(m) => assert!(m[0].starts_with("spec.vpcId: "), "{m:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.exit_code(), 2);

    let yaml = EXAMPLES.replace("bgpAsn: 65000", "bgpAsn: 0");
    let r = plan_of(&w, &yaml, true, false).await;
    assert_eq!(
        verdict(&r, "office-router"),
        &Verdict::Invalid(vec![
            "spec.bgpAsn: Invalid value: 0: spec.bgpAsn in body should be greater than or equal to 1"
                .into()
        ])
    );
    assert_eq!(r.exit_code(), 1);

    // The connection is left out of the manifests: nothing without --prune, delete with it.
    let without: String = EXAMPLES
        .split("\n---\n")
        .take(3)
        .collect::<Vec<_>>()
        .join("\n---\n");
    let r = plan_of(&w, &without, true, false).await;
    assert!(r.entries.iter().all(|e| e.name != "office-link"));
    let r = plan_of(&w, &without, true, true).await;
    let c = change(&r, "office-link");
    assert_eq!(c.action, Action::Delete);
    assert_eq!(r.exit_code(), 2);
}

/// A tag key the cloud refuses passes the schema (the API server cannot check map keys) but not
/// the plan: the operator would refuse it before any cloud call (the fuzz finding of
/// docs/FUZZING.md).
#[tokio::test]
async fn a_tag_key_the_cloud_refuses_is_invalid_in_the_plan() {
    let w = ready_world().await;
    let yaml = EXAMPLES.replace("    team: network", "    tea&m: network");
    assert_ne!(yaml, EXAMPLES);
    let r = plan_of(&w, &yaml, false, false).await;
    match verdict(&r, "edge-gateway") {
        Verdict::Invalid(m) => assert!(
            m.len() == 1
                && m[0].starts_with("the operator would refuse it (Synced=False InvalidSpec): ")
                && m[0].contains("tag \"tea&m\""),
            "{m:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn the_json_output_keeps_its_documented_shape() {
    use super::engine::Entry;
    use crate::controller::runtime::preview::Change;
    let mut c = Change::new(Action::Update, Some("g-1".into()));
    c.fields.push(FieldChange::new(
        "flavor",
        Some("Professional1".into()),
        Some("Professional2".into()),
    ));
    let entries = vec![
        Entry {
            kind: "VpnGateway".into(),
            namespace: NS.into(),
            name: "gw".into(),
            source: Some("m.yaml#1".into()),
            verdict: Verdict::Change(c),
        },
        Entry {
            kind: "CustomerGateway".into(),
            namespace: NS.into(),
            name: "cgw".into(),
            source: None,
            verdict: Verdict::ReplaceRequired(vec!["spec.idValue: ...".into()]),
        },
    ];
    let v: Value = serde_json::from_str(&super::render::json(&entries, &[], true, 2)).unwrap();
    assert_eq!(v["formatVersion"], 1);
    assert_eq!(v["exitCode"], 2);
    assert_eq!(v["objects"][0]["action"], "update");
    assert_eq!(v["objects"][0]["cloudId"], "g-1");
    assert_eq!(
        v["objects"][0]["changes"][0],
        serde_json::json!({"field": "flavor", "old": "Professional1", "new": "Professional2"})
    );
    assert_eq!(v["objects"][1]["action"], "replace-required");
    assert_eq!(v["objects"][1]["source"], Value::Null);
    assert_eq!(v["objects"][1]["messages"][0], "spec.idValue: ...");
    assert_eq!(v["summary"]["update"], 1);
    assert_eq!(v["summary"]["replace-required"], 1);
    let keys: Vec<&str> = v["objects"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "action",
            "changes",
            "cloudId",
            "kind",
            "messages",
            "name",
            "namespace",
            "notes",
            "source"
        ]
    );
}

#[tokio::test]
async fn a_resource_made_outside_is_adopted_with_its_differences() {
    let w = World::start().await;
    let outside = crate::cloud::model::CreateCustomerGatewayRequestBody {
        name: Some("console-made".into()),
        id_type: Some(crate::cloud::model::IdType::Ip),
        id_value: "203.0.113.10".into(),
        bgp_asn: Some(64999),
        ..Default::default()
    };
    let existing = w.console().create_customer_gateway(&outside).await.unwrap();
    let yaml = format!(
        "apiVersion: vpn.hwcloud.dev/v1alpha1\nkind: CustomerGateway\nmetadata: {{name: office-router}}\n\
         spec: {{cloudId: {}, idType: ip, idValue: 203.0.113.10, bgpAsn: 65000}}\n",
        existing.id
    );
    let r = plan_of(&w, &yaml, false, false).await;
    let c = change(&r, "office-router");
    assert_eq!(c.action, Action::Adopt);
    assert_eq!(c.cloud_id.as_deref(), Some(existing.id.as_str()));
    assert!(c.fields.contains(&FieldChange::new(
        "name",
        Some("console-made".into()),
        Some("office-router".into())
    )));
    // The ASN cannot change: the operator will leave it and say so.
    assert!(
        c.notes
            .iter()
            .any(|n| n.starts_with("bgpAsn differs in the cloud (64999 there, 65000 in the spec)")),
        "{c:?}"
    );
    assert_eq!(r.exit_code(), 2);
}

/// A second project of the simulator, given to namespace `team-a` by its account Secret.
const TEAM_PROJECT: &str = "0c1a55f0000000000000000000000002";
const TEAM_AK: &str = "TEAMACCOUNTACCESSKEY";
const TEAM_SK: &str = "team-account-secret-key";

/// An account Secret for `team-a` naming the simulator's second project, with `edit` applied.
fn team_account(
    w: &World,
    edit: &[(&str, Option<&str>)],
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let url = w.sim.base_url();
    let mut data: std::collections::BTreeMap<String, Vec<u8>> = [
        ("region", "cn-north-4"),
        ("projectId", TEAM_PROJECT),
        ("endpoint", url.as_str()),
        ("accessKey", TEAM_AK),
        ("secretKey", TEAM_SK),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect();
    for (k, v) in edit {
        match v {
            Some(v) => data.insert(k.to_string(), v.as_bytes().to_vec()),
            None => data.remove(*k),
        };
    }
    data
}

const BRANCH: &str = "apiVersion: vpn.hwcloud.dev/v1alpha1\nkind: CustomerGateway\n\
    metadata: {name: branch-router}\nspec: {idType: ip, idValue: 203.0.113.20}\n";

/// The plan of a new customer gateway in `team-a` with the account flags and the Secrets given
/// (as the plan would read them from the cluster), with `spec` added to its spec.
async fn plan_account(
    w: &World,
    secret_name: &str,
    require: bool,
    secrets: &[(&str, std::collections::BTreeMap<String, Vec<u8>>)],
    spec_cloud: Option<&str>,
) -> Verdict {
    let yaml = match spec_cloud {
        Some(c) => BRANCH.replace(
            "idValue: 203.0.113.20}",
            &format!("idValue: 203.0.113.20, cloud: {c}}}"),
        ),
        None => BRANCH.to_string(),
    };
    let mut m = manifests::classify(manifests::parse("m.yaml", &yaml).unwrap(), NS);
    for (name, data) in secrets {
        m.secrets
            .insert((NS.to_string(), name.to_string()), data.clone());
    }
    let mut c = cloud(w);
    c.account_secret = secret_name.into();
    c.require_namespace_account = require;
    let writes = w.writes();
    let r = plan(m, None, c, false, Vec::new()).await.unwrap();
    assert_eq!(w.writes(), writes, "the plan made no cloud write");
    assert_eq!(r.kube_writes, 0);
    r.entries[0].verdict.clone()
}

#[tokio::test]
async fn the_plan_resolves_each_objects_account_as_the_operator_does() {
    use crate::controller::runtime::account::DEFAULT_ACCOUNT_SECRET as DEFAULT;
    use crate::sim::ProjectConfig;
    let w =
        World::with(|c| c.with_project(ProjectConfig::new(TEAM_PROJECT, TEAM_AK, TEAM_SK))).await;
    let good = team_account(&w, &[]);
    let no_project = team_account(&w, &[("projectId", None)]);
    let wrong_sk = team_account(&w, &[("secretKey", Some("not-the-team-key"))]);
    let creds: std::collections::BTreeMap<String, Vec<u8>> =
        [("accessKey", TEAM_AK), ("secretKey", TEAM_SK)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
    let own = format!(
        "{{projectId: {TEAM_PROJECT}, endpoint: \"{}\", credentialsSecretRef: {{name: own-creds}}}}",
        w.sim.base_url()
    );
    enum Want {
        Create,
        Error(&'static [&'static str]),
    }
    let missing: &[&str] = &[
        "the operator would not reconcile it (Synced=False AccountMissing): ",
        "namespace team-a has no account: create Secret team-a/",
    ];
    type Secrets<'a> = Vec<(&'a str, std::collections::BTreeMap<String, Vec<u8>>)>;
    // (account Secret name, require, Secrets in team-a, spec.cloud) -> verdict, why.
    type Row<'a> = (&'a str, bool, Secrets<'a>, Option<&'a str>, Want, &'a str);
    let table: Vec<Row> = vec![
        (
            DEFAULT,
            false,
            vec![],
            None,
            Want::Create,
            "no Secret: the operator's account",
        ),
        (
            DEFAULT,
            true,
            vec![],
            None,
            Want::Error(missing),
            "no Secret, required",
        ),
        (
            DEFAULT,
            false,
            vec![(DEFAULT, good.clone())],
            None,
            Want::Create,
            "the namespace's account",
        ),
        (
            DEFAULT,
            true,
            vec![(DEFAULT, good.clone())],
            None,
            Want::Create,
            "the namespace's account, required",
        ),
        (
            DEFAULT,
            false,
            vec![(DEFAULT, no_project.clone())],
            None,
            Want::Error(&[
                "(Synced=False AccountInvalid): ",
                "Secret team-a/vpn-operator-account cannot be used: has no key projectId",
            ]),
            "a Secret without projectId is not skipped for the operator's account",
        ),
        (
            DEFAULT,
            false,
            vec![(DEFAULT, wrong_sk.clone())],
            None,
            Want::Error(&["signature"]),
            "the namespace's credentials are the ones sent",
        ),
        (
            "team-account",
            true,
            vec![(DEFAULT, good.clone())],
            None,
            Want::Error(missing),
            "another name configured: the default one is not read",
        ),
        (
            "team-account",
            true,
            vec![("team-account", good.clone())],
            None,
            Want::Create,
            "the configured name",
        ),
        (
            "team-account",
            false,
            vec![("team-account", wrong_sk.clone())],
            None,
            Want::Error(&["signature"]),
            "the configured name's credentials are the ones sent",
        ),
        (
            DEFAULT,
            true,
            vec![("own-creds", creds.clone())],
            Some(own.as_str()),
            Want::Create,
            "spec.cloud's own Secret, required",
        ),
    ];
    for (name, require, secrets, spec_cloud, want, why) in table {
        let v = plan_account(&w, name, require, &secrets, spec_cloud).await;
        match (&want, &v) {
            (Want::Create, Verdict::Change(c)) => {
                assert_eq!(c.action, Action::Create, "{why}: {c:?}")
            }
            (Want::Error(parts), Verdict::Error(m)) => {
                for p in *parts {
                    assert!(m.contains(p), "{why}: {m}");
                }
                if *parts == missing {
                    assert!(
                        m.contains(&format!("team-a/{name} ")),
                        "{why}: names the configured Secret: {m}"
                    );
                }
                assert!(
                    !m.contains(TEAM_SK) && !m.contains("not-the-team-key"),
                    "{why}: {m}"
                );
            }
            _ => panic!("{why}: {v:?}"),
        }
    }
}

#[test]
fn the_plan_reads_the_configured_account_secret() {
    let gw: Value = serde_yaml::from_str(BRANCH).unwrap();
    assert_eq!(
        super::cluster::secrets_named(Kind::CustomerGateway, &gw, "team-account"),
        ["team-account"]
    );
    let mut own = gw.clone();
    own["spec"]["cloud"] = serde_json::json!({"credentialsSecretRef": {"name": "own-creds"}});
    assert_eq!(
        super::cluster::secrets_named(Kind::CustomerGateway, &own, "team-account"),
        ["own-creds"]
    );
}
