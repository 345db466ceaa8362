//! The operator's RBAC is one list, `deploy/rbac-rules.yaml`, and these tests keep everything
//! else honest about it:
//!
//! 1. `deploy/rbac.yaml` (kustomize), the namespaced component `deploy/namespaced/` and the Helm
//!    chart's `templates/rbac.yaml` grant exactly the rules of that list: no more, no less
//!    (compared as (apiGroup, resource, verb) triples). In namespaced mode (a list of watched
//!    namespaces) no ClusterRole grants Secrets, Events or the operator's kinds, and everything
//!    the code needs per namespace is in the Role of each watched namespace. (The rendered
//!    chart of both modes is checked by tests/delivery/run.sh, through Helm itself.)
//! 2. Every Kubernetes API call the code makes is allowed. The calls are found by scanning
//!    `src/` for the patterns kube-rs code uses: the kinds named in `Api<X>` / `Api::<X>` /
//!    `api::<X>` / `controller::<X>`, and in each such file the verbs implied by the methods it
//!    calls (`get`/`get_opt` → get, `list` → list, `watcher`/`watches` → list + watch, `create`,
//!    `replace` → update, `patch`, `delete`, `patch_status` → patch on `/status`, kube-runtime's
//!    `finalizer` → patch); `Recorder` needs events.k8s.io events create + patch. A generic
//!    `Api<K>` stands for every kind in `crds/`.
//! 3. Nothing is granted that the scan does not need, except the few conventional extras
//!    listed in [`CONVENTIONAL_EXTRAS`] with their reasons; and every rule carries a `why`.
//!
//! What this can NOT prove:
//! - that the scan sees every call: code that reaches the API in a way none of the patterns
//!   matches (a raw `Client::request`, `DynamicObject`, a helper in another crate) goes
//!   unnoticed; such constructs make the test fail only when they are the known ones below;
//! - that the verbs are minimal per kind: verbs found in a file are required of every kind that
//!   file names, so a file that lists one kind and gets another over-approximates;
//! - that a real API server enforces the rules as intended: the kube stand-in used by the
//!   end-to-end suites allows every request. Only a real cluster with RBAC (e.g. kind) can
//!   prove the operator runs with exactly these permissions.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

type Triple = (String, String, String);

/// Granted although no scanned call needs them; each with the reason it is kept.
const CONVENTIONAL_EXTRAS: &[(&str, &str, &str)] = &[
    // (apiGroup, resource pattern: `*` = each CRD plural, verb)
    ("vpn.hwcloud.dev", "*", "get"), // reading one object by name (the usual owner set)
    ("vpn.hwcloud.dev", "*", "update"), // replacing an object (the usual owner set)
    ("vpn.hwcloud.dev", "*/status", "get"), // the usual owner set for /status
    ("vpn.hwcloud.dev", "*/status", "update"), // the usual owner set for /status
    // OwnerReferencesPermissionEnforcement needs it to set blockOwnerDeletion towards our objects.
    ("vpn.hwcloud.dev", "*/finalizers", "update"),
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    #[serde(default)]
    why: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleList {
    /// Cluster-wide in both modes.
    cluster_rules: Vec<Rule>,
    /// Per watched namespace (in the ClusterRole when watching all namespaces).
    watched_rules: Vec<Rule>,
    /// The operator's own namespace (leader election).
    namespace_rules: Vec<Rule>,
    /// Namespaced mode: the default credentials Secret alone, by resourceNames.
    credentials_rules: Vec<Rule>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn triples(rules: &[Rule]) -> BTreeSet<Triple> {
    let mut out = BTreeSet::new();
    for r in rules {
        for g in &r.api_groups {
            for res in &r.resources {
                for v in &r.verbs {
                    out.insert((g.clone(), res.clone(), v.clone()));
                }
            }
        }
    }
    out
}

fn the_list() -> RuleList {
    serde_yaml::from_str(&read("deploy/rbac-rules.yaml")).expect("deploy/rbac-rules.yaml parses")
}

/// Rules of the RBAC object of `kind` in a multi-document YAML file.
fn rules_of(file: &str, kind: &str) -> Vec<Rule> {
    let mut found = all_rules_of(file, kind);
    assert_eq!(found.len(), 1, "{file}: expected one {kind}");
    found.pop().map(|(_, r)| r).unwrap_or_default()
}

/// Every RBAC object of `kind` in a multi-document YAML file: (namespace, rules).
fn all_rules_of(file: &str, kind: &str) -> Vec<(String, Vec<Rule>)> {
    let text = read(file);
    let mut found = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(doc).expect("valid YAML");
        if value.get("kind").and_then(|k| k.as_str()) == Some(kind) {
            let ns = value["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let rules = value.get("rules").cloned().expect("rules");
            found.push((
                ns,
                serde_yaml::from_value::<Vec<Rule>>(rules).expect("rules parse"),
            ));
        }
    }
    found
}

/// The plain-YAML `rules:` block between `# rbac-rules:<which>:begin` and `...:end` in the
/// chart's template source.
fn chart_rules(which: &str) -> Vec<Rule> {
    let text = read("charts/vpn-operator/templates/rbac.yaml");
    let begin = format!("# rbac-rules:{which}:begin\n");
    let end = format!("# rbac-rules:{which}:end");
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("chart rbac.yaml lacks the marker {begin:?}"))
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("chart rbac.yaml lacks the marker {end:?}"))
        + start;
    let block = &text[start..stop];
    assert!(
        !block.contains("{{"),
        "the chart's {which} rules must be plain YAML (no template directives) so they can be checked"
    );
    #[derive(Deserialize)]
    struct Block {
        rules: Vec<Rule>,
    }
    // A `define`d rule set is a bare list; a rule set written in place is under `rules:`.
    match block.trim_start().starts_with("rules:") {
        true => {
            serde_yaml::from_str::<Block>(block)
                .expect("chart rules parse")
                .rules
        }
        false => serde_yaml::from_str::<Vec<Rule>>(block).expect("chart rules parse"),
    }
}

fn assert_same(what: &str, got: &BTreeSet<Triple>, want: &BTreeSet<Triple>) {
    let extra: Vec<_> = got.difference(want).collect();
    let missing: Vec<_> = want.difference(got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what} differs from deploy/rbac-rules.yaml:\n  granted but not in the list: {extra:?}\n  in the list but not granted: {missing:?}"
    );
}

/// What the ClusterRole grants when the operator watches every namespace.
fn all_namespaces(list: &RuleList) -> BTreeSet<Triple> {
    let mut all = triples(&list.cluster_rules);
    all.extend(triples(&list.watched_rules));
    all
}

#[test]
fn deploy_rbac_grants_exactly_the_list() {
    let list = the_list();
    assert_same(
        "deploy/rbac.yaml ClusterRole",
        &triples(&rules_of("deploy/rbac.yaml", "ClusterRole")),
        &all_namespaces(&list),
    );
    assert_same(
        "deploy/rbac.yaml Role",
        &triples(&rules_of("deploy/rbac.yaml", "Role")),
        &triples(&list.namespace_rules),
    );
}

/// The namespaced component: the ClusterRole keeps clusterRules only; each watched namespace
/// (VPN_OPERATOR_WATCH_NAMESPACES) has a Role with watchedRules, and no other namespace has
/// one; the credentials Secret is granted by name in the operator's namespace.
#[test]
fn deploy_namespaced_component_grants_the_watched_rules_in_each_watched_namespace() {
    let list = the_list();
    assert_same(
        "deploy/namespaced ClusterRole",
        &triples(&rules_of(
            "deploy/namespaced/clusterrole.yaml",
            "ClusterRole",
        )),
        &triples(&list.cluster_rules),
    );
    let kustomization = read("deploy/namespaced/kustomization.yaml");
    let watched: BTreeSet<String> = kustomization
        .lines()
        .find_map(|l| l.trim().strip_prefix("- VPN_OPERATOR_WATCH_NAMESPACES="))
        .expect("the component sets VPN_OPERATOR_WATCH_NAMESPACES")
        .split(',')
        .map(str::to_string)
        .collect();
    let roles = all_rules_of("deploy/namespaced/watched-namespaces.yaml", "Role");
    let with_roles: BTreeSet<String> = roles.iter().map(|(ns, _)| ns.clone()).collect();
    assert_eq!(
        with_roles, watched,
        "a Role in each watched namespace, and only there"
    );
    for (ns, rules) in &roles {
        assert_same(
            &format!("deploy/namespaced Role in {ns}"),
            &triples(rules),
            &triples(&list.watched_rules),
        );
    }
    let creds = read("deploy/namespaced/credentials-role.yaml");
    assert!(
        creds.contains("resourceNames: [\"vpn-operator-credentials\"]"),
        "the credentials Role names the deploy/ credentials Secret alone"
    );
    assert_same(
        "deploy/namespaced credentials Role",
        &triples(&rules_of("deploy/namespaced/credentials-role.yaml", "Role")),
        &triples(&list.credentials_rules),
    );
}

/// Namespaced mode confines Secrets, Events and the operator's kinds to the watched namespaces:
/// the cluster-wide rules name none of them, and every permission the code needs is either
/// cluster-wide by nature (clusterRules), the Lease (namespaceRules) or in watchedRules.
#[test]
fn namespaced_mode_grants_everything_the_code_needs_per_watched_namespace() {
    let list = the_list();
    for (g, r, v) in triples(&list.cluster_rules) {
        assert!(
            !(r == "secrets" || r == "events" || g == "vpn.hwcloud.dev"),
            "clusterRules grants {v} {r}.{g}: it belongs in watchedRules (a Role per namespace)"
        );
    }
    let mut granted = triples(&list.cluster_rules);
    granted.extend(triples(&list.namespace_rules));
    granted.extend(triples(&list.watched_rules));
    let missing: Vec<_> = needed().difference(&granted).cloned().collect();
    assert!(
        missing.is_empty(),
        "namespaced mode lacks permissions the code needs: {missing:?}"
    );
    for (g, r, v) in triples(&list.credentials_rules) {
        assert!(
            g.is_empty() && r == "secrets" && ["get", "list", "watch"].contains(&v.as_str()),
            "credentialsRules may only read Secrets: {v} {r}.{g}"
        );
    }
}

#[test]
fn chart_rbac_template_grants_exactly_the_list() {
    let list = the_list();
    assert_same(
        "chart clusterRules",
        &triples(&chart_rules("cluster")),
        &triples(&list.cluster_rules),
    );
    assert_same(
        "chart watchedRules",
        &triples(&chart_rules("watched")),
        &triples(&list.watched_rules),
    );
    assert_same(
        "chart credentials Role",
        &triples(&chart_rules("credentials")),
        &triples(&list.credentials_rules),
    );
    assert_same(
        "chart leader-election Role",
        &triples(&chart_rules("namespace")),
        &triples(&list.namespace_rules),
    );
}

#[test]
fn every_rule_says_why() {
    let list = the_list();
    let all = list.cluster_rules.iter().chain(&list.watched_rules);
    for r in all
        .chain(&list.namespace_rules)
        .chain(&list.credentials_rules)
    {
        assert!(
            r.why.as_deref().is_some_and(|w| w.trim().len() > 20),
            "rule {:?} {:?} has no `why`",
            r.api_groups,
            r.resources
        );
    }
}

/// The CRD plurals and kinds shipped in `crds/` (group vpn.hwcloud.dev).
fn crd_kinds() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(repo().join("crds")).expect("crds/") {
        let path = entry.expect("dir entry").path();
        let text = fs::read_to_string(&path).expect("CRD file");
        let crd: serde_yaml::Value = serde_yaml::from_str(&text).expect("CRD YAML");
        let names = &crd["spec"]["names"];
        let kind = names["kind"].as_str().expect("kind").to_string();
        let plural = names["plural"].as_str().expect("plural").to_string();
        assert_eq!(crd["spec"]["group"].as_str(), Some("vpn.hwcloud.dev"));
        out.insert(kind, plural);
    }
    assert!(out.len() >= 4, "crds/ should hold the operator's CRDs");
    out
}

/// (apiGroup, resource) of a kind named in code; `None` for a kind this test does not know.
fn resource_of(kind: &str, crds: &BTreeMap<String, String>) -> Option<Vec<(String, String)>> {
    let one = |g: &str, r: &str| Some(vec![(g.to_string(), r.to_string())]);
    match kind {
        // Metadata-only watches (`Api<PartialObjectMeta<Secret>>`) still need list/watch.
        "Secret" | "PartialObjectMeta<Secret" | "PartialObjectMeta<Secret>" => one("", "secrets"),
        "Lease" => one("coordination.k8s.io", "leases"),
        // `vpn-operator doctor` (the chart's helm test runs it as the operator's account).
        "CustomResourceDefinition" => one("apiextensions.k8s.io", "customresourcedefinitions"),
        "SelfSubjectAccessReview" => one("authorization.k8s.io", "selfsubjectaccessreviews"),
        // A generic parameter: one of the operator's own kinds (`Cached<K>` is the compact form
        // the controllers watch them in, same API resource).
        "K" | "Self" | "T" | "Cached<K" | "Cached<K>" => Some(
            crds.values()
                .map(|p| ("vpn.hwcloud.dev".to_string(), p.clone()))
                .collect(),
        ),
        k => crds
            .get(k)
            .map(|p| vec![("vpn.hwcloud.dev".to_string(), p.clone())]),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code lines without comments (doc examples are not calls).
fn code_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Kinds named after each prefix, e.g. `Api::<Secret>` → `Secret`.
fn kinds_named(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for prefix in ["Api<", "Api::<", "api::<", "controller::<", "watchers::<"] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let tail = &rest[i + prefix.len()..];
            let end = tail.find(['>', ',', ' ']).unwrap_or(tail.len());
            let name = tail[..end].rsplit("::").next().unwrap_or("").to_string();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = &tail[end..];
        }
    }
    out
}

/// Verbs implied by the kube calls in a file: (verb, subresource suffix).
fn verbs_called(code: &str) -> BTreeSet<(&'static str, &'static str)> {
    let table: &[(&str, &[(&str, &str)])] = &[
        (".get(", &[("get", "")]),
        (".get_opt(", &[("get", "")]),
        (".list(", &[("list", "")]),
        ("watcher(", &[("list", ""), ("watch", "")]),
        ("watchers::<", &[("list", ""), ("watch", "")]),
        (".watches(", &[("list", ""), ("watch", "")]),
        (".owns(", &[("list", ""), ("watch", "")]),
        ("reflector(", &[("list", ""), ("watch", "")]),
        (".create(", &[("create", "")]),
        (".replace(", &[("update", "")]),
        (".patch(", &[("patch", "")]),
        (".delete(", &[("delete", "")]),
        (".delete_collection(", &[("deletecollection", "")]),
        (".patch_status(", &[("patch", "/status")]),
        (".replace_status(", &[("update", "/status")]),
        (".get_status(", &[("get", "/status")]),
        ("finalizer(", &[("patch", "")]),
    ];
    let mut out = BTreeSet::new();
    for (pattern, verbs) in table {
        if code.contains(pattern) {
            out.extend(verbs.iter().copied());
        }
    }
    out
}

/// What the code needs, as found by the scan.
fn needed() -> BTreeSet<Triple> {
    let crds = crd_kinds();
    let mut files = Vec::new();
    rust_files(&repo().join("src"), &mut files);
    let mut need = BTreeSet::new();
    let mut unknown = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(repo())
            .unwrap_or(file)
            .display()
            .to_string();
        // The simulator serves the cloud API; it never talks to Kubernetes.
        if rel.starts_with("src/sim/") {
            continue;
        }
        let code = code_lines(&fs::read_to_string(file).expect("source file"));
        for construct in ["DynamicObject", "Client::request", "kube_client.request("] {
            assert!(
                !code.contains(construct),
                "{rel} uses {construct}: this test cannot see which API calls that makes; extend it"
            );
        }
        if code.contains("Recorder") {
            for verb in ["create", "patch"] {
                need.insert(("events.k8s.io".into(), "events".into(), verb.into()));
            }
        }
        let kinds = kinds_named(&code);
        if kinds.is_empty() {
            continue;
        }
        let verbs = verbs_called(&code);
        for kind in &kinds {
            match resource_of(kind, &crds) {
                Some(resources) => {
                    for (group, resource) in resources {
                        for (verb, sub) in &verbs {
                            need.insert((
                                group.clone(),
                                format!("{resource}{sub}"),
                                verb.to_string(),
                            ));
                        }
                    }
                }
                None => unknown.push(format!("{rel}: Api of {kind}")),
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "the code calls the API for kinds this test cannot map to an RBAC resource; add them to \
         resource_of() and their rules to deploy/rbac-rules.yaml: {unknown:?}"
    );
    need
}

fn granted() -> BTreeSet<Triple> {
    let list = the_list();
    let mut all = all_namespaces(&list);
    all.extend(triples(&list.namespace_rules));
    all.extend(triples(&list.credentials_rules));
    all
}

#[test]
fn every_api_call_in_the_code_is_allowed() {
    let need = needed();
    // Sanity: the scan must see the operator's known calls, or it is looking at nothing.
    for t in [
        ("coordination.k8s.io", "leases", "update"),
        ("", "secrets", "get"),
        ("", "secrets", "create"),
        ("", "secrets", "delete"),
        ("events.k8s.io", "events", "create"),
        ("vpn.hwcloud.dev", "vpngateways", "watch"),
        ("vpn.hwcloud.dev", "vpngateways/status", "patch"),
    ] {
        let t = (t.0.to_string(), t.1.to_string(), t.2.to_string());
        assert!(
            need.contains(&t),
            "the scan no longer finds {t:?}: update it"
        );
    }
    let granted = granted();
    let missing: Vec<_> = need.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "the code needs permissions deploy/rbac-rules.yaml does not grant: {missing:?}"
    );
}

#[test]
fn nothing_is_granted_beyond_the_code_and_the_listed_conventions() {
    let need = needed();
    let plurals: Vec<String> = crd_kinds().into_values().collect();
    let conventional = |(g, r, v): &Triple| {
        CONVENTIONAL_EXTRAS.iter().any(|(cg, cr, cv)| {
            cg == g && cv == v && plurals.iter().any(|p| cr.replacen('*', p, 1) == *r)
        })
    };
    let extra: Vec<_> = granted()
        .into_iter()
        .filter(|t| !need.contains(t) && !conventional(t))
        .collect();
    assert!(
        extra.is_empty(),
        "granted but used by no code (least privilege): remove from deploy/rbac-rules.yaml, or \
         add to CONVENTIONAL_EXTRAS with a reason: {extra:?}"
    );
}

/// The operator writes Secrets for one purpose only: the peer configuration Secrets of
/// VpnConnection `spec.peerConfig`, which it creates, replaces (naming the resourceVersion it
/// read) and deletes (with preconditions), never patching them or deleting collections. So:
/// Secrets may be read (get, list, watch) and written with exactly create, update and delete;
/// and the only source file that calls a Secret write is the Kube port's Secret module, so a
/// new write elsewhere (and a wider grant) fails here until this rule is revisited.
#[test]
fn secrets_are_written_only_by_the_kube_port_with_create_update_delete() {
    let secret_verbs: BTreeSet<String> = granted()
        .into_iter()
        .filter(|(g, r, _)| g.is_empty() && r == "secrets")
        .map(|(_, _, v)| v)
        .collect();
    let allowed = ["get", "list", "watch", "create", "update", "delete"];
    let expected: BTreeSet<String> = allowed.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        secret_verbs, expected,
        "Secrets: read, plus create/update/delete for peer configuration Secrets; nothing else"
    );
    let mut files = Vec::new();
    rust_files(&repo().join("src"), &mut files);
    let mut writers = Vec::new();
    for file in &files {
        let code = code_lines(&fs::read_to_string(file).expect("source file"));
        let kinds = kinds_named(&code);
        let names_secret = kinds.iter().any(|k| k == "Secret");
        let writes = verbs_called(&code)
            .iter()
            .any(|(v, _)| !["get", "list", "watch"].contains(v));
        if names_secret && writes {
            let rel = file
                .strip_prefix(repo())
                .unwrap_or(file)
                .display()
                .to_string();
            writers.push(rel);
        }
    }
    assert_eq!(
        writers,
        vec!["src/controller/runtime/kube/secret_api.rs".to_string()],
        "only the Kube port's Secret module may write Secrets"
    );
    let port = code_lines(&read("src/controller/runtime/kube/secret_api.rs"));
    for forbidden in [".patch(", ".delete_collection(", ".patch_status("] {
        assert!(
            !port.contains(forbidden),
            "secret_api.rs must not call {forbidden}"
        );
    }
    for required in ["preconditions", "resource_version"] {
        assert!(
            port.contains(required),
            "secret_api.rs must write with {required} (never overwrite a changed Secret)"
        );
    }
}
