//! The committed CRD manifests under `crds/` must match the Rust types, and the generated
//! schemas must be acceptable to an API server (names, columns, bounded CEL inputs).
//!
//! Regenerate the manifests with `UPDATE_CRDS=1 cargo test --test crds` (or
//! `cargo run -- crd --write`).
use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use vpn_operator::crd;

fn crd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(crd::CRD_DIR)
}

#[test]
fn committed_crds_match_the_rust_types() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // crds/ and the copies that kustomize (deploy/crds) and Helm (the chart's crds/) need,
    // because neither can read files outside its own directory.
    let dirs = [
        crd_dir(),
        root.join("deploy/crds"),
        root.join("charts/vpn-operator/crds"),
    ];
    if std::env::var_os("UPDATE_CRDS").is_some() {
        for dir in &dirs {
            std::fs::create_dir_all(dir).expect("create CRD directory");
            crd::write_all(dir).expect("write CRDs");
        }
    }
    let mut stale = Vec::new();
    for dir in &dirs {
        for (name, expected) in crd::files() {
            let path = dir.join(&name);
            let actual = std::fs::read_to_string(&path).unwrap_or_default();
            if actual != expected {
                stale.push(
                    path.strip_prefix(&root)
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    assert!(
        stale.is_empty(),
        "CRD manifests are out of date: {stale:?}: run `UPDATE_CRDS=1 cargo test --test crds` \
         and commit the result"
    );
}

#[test]
fn crds_dir_has_no_leftover_manifests() {
    let expected: BTreeSet<String> = crd::files().into_iter().map(|(name, _)| name).collect();
    let present: BTreeSet<String> = std::fs::read_dir(crd_dir())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(&format!(".{}.yaml", crd::GROUP)))
                .collect()
        })
        .unwrap_or_default();
    let leftover: Vec<&String> = present.difference(&expected).collect();
    assert!(
        leftover.is_empty(),
        "remove CRD manifests of kinds that no longer exist: {leftover:?}"
    );
}

#[test]
fn kinds_have_the_documented_names() {
    let names: Vec<(String, String, Vec<String>)> = crd::all()
        .into_iter()
        .map(|c| {
            (
                c.spec.names.kind,
                c.spec.names.plural,
                c.spec.names.short_names.unwrap_or_default(),
            )
        })
        .collect();
    for (kind, plural, short) in [
        ("VpnGateway", "vpngateways", "vgw"),
        ("CustomerGateway", "customergateways", "cgw"),
        ("VpnConnection", "vpnconnections", "vpnconn"),
        ("CloudVpnService", "cloudvpnservices", "cvpn"),
    ] {
        assert!(
            names
                .iter()
                .any(|(k, p, s)| k == kind && p == plural && s.contains(&short.to_string())),
            "{kind} missing or misnamed in {names:?}"
        );
    }
}

#[test]
fn every_kind_shows_cloud_id_state_ready_and_age() {
    for c in crd::all() {
        let version = &c.spec.versions[0];
        let paths: Vec<String> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|col| col.json_path.clone())
            .collect();
        for want in [
            ".status.cloudId",
            ".status.cloudState",
            ".status.conditions[?(@.type==\"Ready\")].status",
            ".metadata.creationTimestamp",
        ] {
            assert!(
                paths.iter().any(|p| p == want),
                "{}: no column {want}",
                c.spec.names.kind
            );
        }
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            "{}: status subresource",
            c.spec.names.kind
        );
    }
}

/// The API server estimates the cost of every CEL rule from the bounds of the values it reads;
/// unbounded strings, lists or maps under `spec` make rules too expensive and the CRD is
/// rejected. Status is never read by rules.
#[test]
fn spec_values_are_bounded_for_cel_cost_estimation() {
    fn walk(path: &str, schema: &Value, problems: &mut Vec<String>) {
        let kind = schema.get("type").and_then(Value::as_str);
        if kind == Some("string")
            && schema.get("maxLength").is_none()
            && schema.get("enum").is_none()
        {
            problems.push(format!("{path}: string without maxLength"));
        }
        if kind == Some("array") {
            if schema.get("maxItems").is_none() {
                problems.push(format!("{path}: array without maxItems"));
            }
            if let Some(items) = schema.get("items") {
                walk(&format!("{path}[]"), items, problems);
            }
        }
        if kind == Some("object") {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    walk(&format!("{path}.{name}"), sub, problems);
                }
            }
            // Map keys cannot be bounded in a structural schema: rules must only use them
            // through size(), lookups and startsWith (see crd::rules). Values and the count
            // are bounded here.
            if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                if schema.get("maxProperties").is_none() {
                    problems.push(format!("{path}: map without maxProperties"));
                }
                walk(&format!("{path}{{}}"), values, problems);
            }
        }
    }
    let mut problems = Vec::new();
    for c in crd::all() {
        let schema = serde_json::to_value(&c.spec.versions[0].schema).unwrap_or_default();
        let spec = &schema["openAPIV3Schema"]["properties"]["spec"];
        assert!(spec.is_object(), "{} has no spec schema", c.spec.names.kind);
        walk(&format!("{}.spec", c.spec.names.kind), spec, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "unbounded spec values:\n{}",
        problems.join("\n")
    );
}

#[test]
fn immutable_rules_name_their_field() {
    let mut found = 0;
    for c in crd::all() {
        let text = serde_json::to_string(&c).unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or_default();
        let mut stack = vec![json];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                        for rule in rules {
                            let r = rule["rule"].as_str().unwrap_or_default();
                            let msg = rule["message"].as_str().unwrap_or_default();
                            assert!(!msg.is_empty(), "rule without message: {r}");
                            if r.contains("oldSelf") {
                                found += 1;
                                let field = rule["fieldPath"].as_str().unwrap_or_default();
                                let field = field.trim_start_matches('.');
                                assert!(
                                    !field.is_empty()
                                        && msg.starts_with(field)
                                        && msg.contains("immutable"),
                                    "immutability rule must name its field: {msg} / {r}"
                                );
                            }
                        }
                    }
                    stack.extend(map.into_iter().map(|(_, v)| v));
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    assert!(
        found > 20,
        "expected the immutability rules of every kind, found {found}"
    );
}
