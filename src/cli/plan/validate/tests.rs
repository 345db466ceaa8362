//! The API server's messages for objects the CRDs refuse, as `plan` gives them.
use serde_json::{json, Value};

use super::*;

fn gateway(spec: Value) -> Value {
    json!({
        "apiVersion": "vpn.hwcloud.dev/v1alpha1",
        "kind": "VpnGateway",
        "metadata": {"name": "gw", "namespace": "team-a"},
        "spec": spec,
    })
}

fn good_spec() -> Value {
    json!({
        "vpcId": "a0000000-0000-4000-8000-000000000001",
        "localSubnets": ["192.168.0.0/24"],
        "connectSubnet": "b0000000-0000-4000-8000-000000000001",
        "eip1": {"id": "e0000000-0000-4000-8000-000000000001"},
        "eip2": {"id": "e0000000-0000-4000-8000-000000000002"},
    })
}

fn with(mut spec: Value, key: &str, v: Value) -> Value {
    spec[key] = v;
    spec
}

#[test]
fn the_examples_are_valid() {
    let s = Schemas::new().unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let docs =
        crate::cli::plan::manifests::read(&[dir.to_string()], &mut std::io::empty()).unwrap();
    let m = crate::cli::plan::manifests::classify(docs, "team-a");
    assert!(m.objects.len() >= 5, "{}", m.objects.len());
    for o in &m.objects {
        assert_eq!(
            s.check(o.kind, &o.value, None),
            Verdict::default(),
            "{}",
            o.source
        );
    }
}

#[test]
fn schema_violations_read_as_the_api_server_writes_them() {
    let s = Schemas::new().unwrap();
    let table: Vec<(Value, &str)> = vec![
        (
            with(good_spec(), "flavor", json!("Huge")),
            "spec.flavor: Unsupported value: \"Huge\": supported values: ",
        ),
        (
            with(good_spec(), "vpcId", json!("not an id!")),
            "spec.vpcId: Invalid value: \"not an id!\": spec.vpcId in body should match '^[A-Za-z0-9-]{1,64}$'",
        ),
        (
            with(good_spec(), "bgpAsn", json!(0)),
            "spec.bgpAsn: Invalid value: 0: spec.bgpAsn in body should be greater than or equal to 1",
        ),
        (
            with(good_spec(), "bgpAsn", json!("64512")),
            "spec.bgpAsn: Invalid value: \"string\": spec.bgpAsn in body must be of type integer: \"string\"",
        ),
        (
            with(good_spec(), "name", json!("n".repeat(65))),
            "spec.name: Too long: may not be more than 64 bytes",
        ),
        (
            with(good_spec(), "colour", json!("blue")),
            "unknown field \"spec.colour\"",
        ),
    ];
    for (spec, want) in table {
        let v = s.check(Kind::VpnGateway, &gateway(spec), None);
        assert!(
            v.invalid.iter().any(|m| m.starts_with(want)),
            "want {want:?}, got {:?}",
            v.invalid
        );
    }
}

#[test]
fn cel_rules_and_immutable_fields() {
    let s = Schemas::new().unwrap();
    // A cross-field rule: a public gateway needs its EIPs.
    let mut spec = good_spec();
    spec.as_object_mut().unwrap().remove("eip2");
    let v = s.check(Kind::VpnGateway, &gateway(spec), None);
    assert!(
        v.invalid
            .iter()
            .any(|m| m.starts_with("spec: Invalid value: \"object\": ")),
        "{:?}",
        v.invalid
    );
    // An immutable field changed against the live object: refused only as an update.
    let live = gateway(good_spec());
    let changed = gateway(with(
        good_spec(),
        "vpcId",
        json!("a0000000-0000-4000-8000-000000000002"),
    ));
    let v = s.check(Kind::VpnGateway, &changed, Some(&live));
    assert_eq!(v.invalid, Vec::<String>::new());
    assert_eq!(
        v.immutable,
        ["spec.vpcId: Invalid value: \"object\": vpcId is immutable: it cannot be added, changed or \
          removed after creation (delete and recreate the object to change it)"]
    );
    assert_eq!(
        s.check(Kind::VpnGateway, &changed, None),
        Verdict::default()
    );
}

#[test]
fn field_paths() {
    assert_eq!(k8s_path("/spec/localSubnets/0"), "spec.localSubnets[0]");
    assert_eq!(k8s_path(""), "");
}

/// Tag characters: the schema refuses values the cloud refuses, the operator refuses keys (the
/// API server cannot check map keys) and values before any cloud call, and whatever both let
/// through the cloud's own rule (the simulator's) accepts. Spaces and non-Chinese, non-ASCII
/// letters, which the reference marks as uncertain, are refused though the simulator takes them.
#[test]
fn tag_characters_the_cloud_refuses_are_refused_first() {
    use crate::cloud::model::VpnResourceTag;
    use crate::controller::runtime::ownership::check_tags;
    let s = Schemas::new().unwrap();
    // key, value, schema admits, operator admits, the cloud (simulator) accepts
    let table = [
        ("team", "network", true, true, true),
        ("k8s:app", "a.b_c=d+e@f-1", true, true, true),
        ("环境", "生产", true, true, true),
        ("team", "", true, true, true),
        ("tea&m", "network", true, false, false),
        ("team", "net&work", false, false, false),
        ("team", "a/b", false, false, false),
        ("bad/key", "x", true, false, false),
        ("team a", "x", true, false, true),
        ("team", "équipe", false, false, true),
    ];
    for (key, value, schema_ok, operator_ok, cloud_ok) in table {
        let spec = with(good_spec(), "tags", json!({ key: value }));
        let verdict = s.check(Kind::VpnGateway, &gateway(spec), None);
        assert_eq!(
            verdict.invalid.is_empty(),
            schema_ok,
            "{key:?}={value:?}: {verdict:?}"
        );
        if !schema_ok {
            let want = format!(
                "spec.tags.{key}: Invalid value: \"{value}\": spec.tags.{key} in body should match \
                 '^[0-9A-Za-z一-龥_.:=+@-]*$'"
            );
            assert_eq!(verdict.invalid, [want]);
        }
        let tags = [VpnResourceTag::new(key, value)];
        let operator = check_tags(&tags);
        assert_eq!(
            operator.is_ok(),
            operator_ok,
            "{key:?}={value:?}: {operator:?}"
        );
        if let Err(e) = operator {
            let m = e.to_string();
            assert!(
                m.contains(&format!("tag {key:?}")) && m.contains("_ . : = + - @"),
                "{m}"
            );
        }
        let cloud = crate::sim::validate::tags(&tags);
        assert_eq!(cloud.is_ok(), cloud_ok, "{key:?}={value:?}");
        assert!(
            !operator_ok || cloud_ok,
            "{key:?}={value:?} passes the operator, not the cloud"
        );
    }
}
