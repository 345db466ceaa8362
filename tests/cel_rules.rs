//! Evaluates every CEL rule (`x-kubernetes-validations`) of the generated CRDs with the `cel`
//! crate, the way the API server does: schema defaults are applied first, each rule sees
//! `self` (and `oldSelf` for transition rules) bound to the JSON value at its schema path, and
//! transition rules only run on update where the old object has a value at that path.
//!
//! Each kind has one table of create/update cases; the table must make every rule of the kind
//! reject at least one object, so a rule that can never fail (or is never tested) is caught.
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Program, Value as Cel};
use serde_json::{json, Value};
use vpn_operator::crd;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// One rule at one place in a schema.
#[derive(Clone, Debug)]
struct Site {
    path: String,
    rule: String,
    message: String,
}

/// A rule that rejected an object (or failed to evaluate).
#[derive(Clone, Debug)]
struct Violation {
    path: String,
    rule: String,
    message: String,
}

fn schema_of(kind: &str) -> Value {
    let crd = crd::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for kind {kind}"));
    let schema = serde_json::to_value(&crd.spec.versions[0].schema).expect("schema to JSON");
    schema["openAPIV3Schema"].clone()
}

fn rules_at(schema: &Value) -> Vec<(String, String)> {
    schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .map(|r| {
                    let rule = r["rule"].as_str().unwrap_or_default().to_string();
                    let message = r["message"].as_str().unwrap_or_default().to_string();
                    (rule, message)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every rule in the schema, with its path.
fn sites(schema: &Value, path: &str, out: &mut Vec<Site>) {
    for (rule, message) in rules_at(schema) {
        out.push(Site {
            path: path.to_string(),
            rule,
            message,
        });
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            sites(sub, &format!("{path}.{name}"), out);
        }
    }
    if let Some(items) = schema.get("items") {
        sites(items, &format!("{path}[]"), out);
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        sites(extra, &format!("{path}{{}}"), out);
    }
}

/// Fills in schema defaults like the API server does before validation.
fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if !map.contains_key(name) {
                        if let Some(default) = sub.get("default") {
                            map.insert(name.clone(), default.clone());
                        }
                    }
                    if let Some(child) = map.get_mut(name) {
                        apply_defaults(sub, child);
                    }
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                for child in map.values_mut() {
                    apply_defaults(extra, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for item in items {
                    apply_defaults(sub, item);
                }
            }
        }
        _ => {}
    }
}

/// JSON to CEL, with integers as `int` like the API server.
fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => Cel::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<Key, Cel> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

fn evaluate(rule: &str, new: &Value, old: Option<&Value>) -> Result<bool, String> {
    let program = Program::compile(rule).map_err(|e| format!("does not compile: {e}"))?;
    let mut context = Context::default();
    context.add_variable_from_value("self", to_cel(new));
    if let Some(old) = old {
        context.add_variable_from_value("oldSelf", to_cel(old));
    }
    match program.execute(&context) {
        Ok(Cel::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("returned {other:?}, not a bool")),
        Err(e) => Err(format!("evaluation error: {e}")),
    }
}

fn walk(schema: &Value, new: &Value, old: Option<&Value>, path: &str, out: &mut Vec<Violation>) {
    for (rule, message) in rules_at(schema) {
        let transition = rule.contains("oldSelf");
        if transition && old.is_none() {
            continue;
        }
        let result = evaluate(&rule, new, if transition { old } else { None });
        if result != Ok(true) {
            let message = match result {
                Err(e) => format!("{e} [{message}]"),
                _ => message,
            };
            out.push(Violation {
                path: path.to_string(),
                rule,
                message,
            });
        }
    }
    match new {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if let Some(child) = map.get(name).filter(|v| !v.is_null()) {
                        let old_child = old.and_then(|o| o.get(name)).filter(|v| !v.is_null());
                        walk(sub, child, old_child, &format!("{path}.{name}"), out);
                    }
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                for (key, child) in map {
                    let old_child = old.and_then(|o| o.get(key));
                    walk(extra, child, old_child, &format!("{path}{{}}"), out);
                }
            }
        }
        Value::Array(items) => {
            // No list in our specs is a listType=map, so items are not correlated with the old
            // list and only non-transition rules run on them (as in the API server).
            if let Some(sub) = schema.get("items") {
                for item in items {
                    walk(sub, item, None, &format!("{path}[]"), out);
                }
            }
        }
        _ => {}
    }
}

/// All violations of `new` (a create when `old` is None, otherwise an update).
fn violations(schema: &Value, new: &Value, old: Option<&Value>) -> Vec<Violation> {
    let mut new = new.clone();
    apply_defaults(schema, &mut new);
    let old = old.map(|o| {
        let mut o = o.clone();
        apply_defaults(schema, &mut o);
        o
    });
    let mut out = Vec::new();
    walk(schema, &new, old.as_ref(), "", &mut out);
    out
}

/// What a case expects.
enum Expect {
    Accept,
    /// Rejected with a message containing this text.
    Reject(&'static str),
}

struct Case {
    name: &'static str,
    old: Option<Value>,
    new: Value,
    expect: Expect,
}

fn create(name: &'static str, new: Value, expect: Expect) -> Case {
    Case {
        name,
        old: None,
        new,
        expect,
    }
}

fn update(name: &'static str, old: Value, new: Value, expect: Expect) -> Case {
    Case {
        name,
        old: Some(old),
        new,
        expect,
    }
}

/// Runs the cases and checks that every rule of the kind rejected at least one of them.
fn run_table(kind: &str, cases: Vec<Case>) {
    let schema = schema_of(kind);
    let mut all_sites = Vec::new();
    sites(&schema, "", &mut all_sites);
    let mut failures = Vec::new();
    let mut triggered: BTreeSet<(String, String)> = BTreeSet::new();
    for case in &cases {
        let found = violations(&schema, &case.new, case.old.as_ref());
        for v in &found {
            triggered.insert((v.path.clone(), v.rule.clone()));
        }
        let errors: Vec<&Violation> = found
            .iter()
            .filter(|v| v.message.contains("evaluation error"))
            .collect();
        if !errors.is_empty() {
            failures.push(format!(
                "{}: rule failed to evaluate: {errors:?}",
                case.name
            ));
            continue;
        }
        match case.expect {
            Expect::Accept if !found.is_empty() => {
                failures.push(format!("{}: expected accepted, got {found:#?}", case.name));
            }
            Expect::Reject(text) if !found.iter().any(|v| v.message.contains(text)) => {
                failures.push(format!(
                    "{}: expected a rejection containing {text:?}, got {found:#?}",
                    case.name
                ));
            }
            _ => {}
        }
        // A valid-looking object must also deserialize into the Rust type.
        if matches!(case.expect, Expect::Accept) {
            if let Err(e) = deserializes(kind, &case.new) {
                failures.push(format!("{}: does not deserialize: {e}", case.name));
            }
        }
    }
    let untested: Vec<String> = all_sites
        .iter()
        .filter(|s| !triggered.contains(&(s.path.clone(), s.rule.clone())))
        .map(|s| format!("{} {} ({})", s.path, s.rule, s.message))
        .collect();
    if !untested.is_empty() {
        failures.push(format!(
            "rules no case made fail:\n  {}",
            untested.join("\n  ")
        ));
    }
    assert!(failures.is_empty(), "{kind}:\n{}", failures.join("\n"));
}

fn deserializes(kind: &str, value: &Value) -> Result<(), serde_json::Error> {
    let v = value.clone();
    match kind {
        "VpnGateway" => serde_json::from_value::<crd::VpnGateway>(v).map(|_| ()),
        "CustomerGateway" => serde_json::from_value::<crd::CustomerGateway>(v).map(|_| ()),
        "VpnConnection" => serde_json::from_value::<crd::VpnConnection>(v).map(|_| ()),
        "CloudVpnService" => serde_json::from_value::<crd::CloudVpnService>(v).map(|_| ()),
        other => panic!("unknown kind {other}"),
    }
}

fn object(kind: &str, spec: Value) -> Value {
    json!({
        "apiVersion": format!("{}/{}", crd::GROUP, crd::VERSION),
        "kind": kind,
        "metadata": {"name": "example", "namespace": "default"},
        "spec": spec,
    })
}

/// `obj` with `spec.<path>` set to `value` (dotted path; objects are created as needed).
fn with(obj: &Value, path: &str, value: Value) -> Value {
    let mut out = obj.clone();
    let mut cursor = &mut out["spec"];
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if cursor.get(*part).is_none() {
            cursor[*part] = json!({});
        }
        cursor = &mut cursor[*part];
    }
    cursor[parts[parts.len() - 1]] = value;
    out
}

/// `obj` without `spec.<path>`.
fn without(obj: &Value, path: &str) -> Value {
    let mut out = obj.clone();
    let mut cursor = &mut out["spec"];
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        cursor = &mut cursor[*part];
    }
    if let Some(map) = cursor.as_object_mut() {
        map.remove(parts[parts.len() - 1]);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Every rule compiles
// ---------------------------------------------------------------------------------------------

#[test]
fn every_rule_compiles_and_has_a_message() {
    let mut count = 0;
    for c in crd::all() {
        let schema = schema_of(&c.spec.names.kind);
        let mut found = Vec::new();
        sites(&schema, "", &mut found);
        for site in found {
            count += 1;
            assert!(
                Program::compile(&site.rule).is_ok(),
                "{} {}: rule does not compile: {}",
                c.spec.names.kind,
                site.path,
                site.rule
            );
            assert!(
                !site.message.is_empty(),
                "{} {}: rule without message",
                c.spec.names.kind,
                site.path
            );
            assert!(
                !site.message.contains('\n'),
                "messages must be one line: {}",
                site.message
            );
        }
    }
    assert!(
        count >= 50,
        "expected the rules of every kind, found {count}"
    );
}

#[test]
fn harness_skips_transition_rules_on_create_and_applies_defaults() {
    let schema = json!({
        "type": "object",
        "properties": {"a": {"type": "string", "default": "x"}},
        "x-kubernetes-validations": [
            {"rule": "self.a == oldSelf.a", "message": "a is immutable"},
            {"rule": "self.a == 'x'", "message": "a must be x"}
        ]
    });
    assert!(violations(&schema, &json!({}), None).is_empty());
    let rejected = violations(&schema, &json!({"a": "y"}), Some(&json!({})));
    let messages: Vec<&str> = rejected.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(messages, ["a is immutable", "a must be x"]);
}

// ---------------------------------------------------------------------------------------------
// VpnGateway
// ---------------------------------------------------------------------------------------------

fn gateway() -> Value {
    object(
        "VpnGateway",
        json!({
            "vpcId": "cb4a631d-demo-a8df-va86-ca3fa348c36c",
            "connectSubnet": "f5741286-demo-a8df-va86-2c82bd9ee114",
            "localSubnets": ["192.168.0.0/24", "192.168.1.0/24"],
            "eip1": {"id": "cff40e5e-demo-a8df-va86-7366077bf097"},
            "eip2": {"id": "d290f1ee-demo-a8df-va86-d701748f0851"}
        }),
    )
}

fn er_gateway() -> Value {
    object(
        "VpnGateway",
        json!({
            "attachmentType": "er",
            "erId": "cb4a631d-demo-a8df-va86-ca3fa348c36c",
            "vpcId": "584a238f-demo-a8df-va86-edca746f6277",
            "connectSubnet": "f5741286-demo-a8df-va86-2c82bd9ee114",
            "bgpAsn": 65533,
            "flavor": "Professional2",
            "availabilityZoneIds": ["cn-south-1f", "cn-south-1e"],
            "eip1": {"type": "5_bgp", "chargeMode": "bandwidth", "bandwidthSize": 1000, "bandwidthName": "vpngw-bandwidth-1391"},
            "eip2": {"type": "5_bgp", "chargeMode": "bandwidth", "bandwidthSize": 1000, "bandwidthName": "vpngw-bandwidth-1392"}
        }),
    )
}

fn private_gateway() -> Value {
    object(
        "VpnGateway",
        json!({
            "networkType": "private",
            "vpcId": "cb4a631d-demo-a8df-va86-ca3fa348c36c",
            "connectSubnet": "f5741286-demo-a8df-va86-2c82bd9ee114",
            "localSubnets": ["192.168.0.0/24"],
            "accessPrivateIp1": "192.168.52.9",
            "accessPrivateIp2": "192.168.52.10"
        }),
    )
}

#[test]
fn vpn_gateway_rules() {
    use Expect::{Accept, Reject};
    let g = gateway();
    let er = er_gateway();
    let private = private_gateway();
    let nonfixed = with(&g, "flavor", json!("Professional1-NonFixedIP"));
    let template = json!({"ikePolicy": {"dhGroup": "group21", "lifetimeSeconds": 86400}});
    let ipv6 = with(&without(&g, "localSubnets"), "ipVersion", json!("ipv6"));
    let cases = vec![
        // Documented request examples are accepted.
        create("vpc gateway with existing EIPs", g.clone(), Accept),
        create("er gateway with new EIPs", er.clone(), Accept),
        create("private vpc gateway", private.clone(), Accept),
        create(
            "private gateway, cloud picks the IPs",
            without(&without(&private, "accessPrivateIp1"), "accessPrivateIp2"),
            Accept,
        ),
        create(
            "ipv6 vpc gateway",
            with(&ipv6, "localSubnetsV6", json!(["16af:cacc:1097::/48"])),
            Accept,
        ),
        update("unchanged", g.clone(), g.clone(), Accept),
        update("unchanged er", er.clone(), er.clone(), Accept),
        // Day 2: upgrades for any flavor, certificates only for GM.
        create(
            "auto upgrades",
            with(
                &g,
                "upgrade",
                json!({"policy": "Auto", "confirmWindowSeconds": 300}),
            ),
            Accept,
        ),
        create(
            "gm gateway with its certificates",
            with(
                &with(&g, "flavor", json!("GM")),
                "certificate",
                json!({"secretRef": {"name": "gm-certs"}, "name": "cert-1"}),
            ),
            Accept,
        ),
        create(
            "certificates on a non-GM gateway",
            with(
                &g,
                "certificate",
                json!({"secretRef": {"name": "gm-certs"}}),
            ),
            Reject("certificate is only for GM gateways"),
        ),
        // Updatable fields.
        update(
            "rename",
            g.clone(),
            with(&g, "name", json!("vpngw-4321")),
            Accept,
        ),
        update(
            "local subnets",
            g.clone(),
            with(&g, "localSubnets", json!(["10.0.0.0/16"])),
            Accept,
        ),
        update(
            "flavor change",
            g.clone(),
            with(&g, "flavor", json!("Professional2")),
            Accept,
        ),
        update(
            "rebind eip1",
            g.clone(),
            with(&g, "eip1.id", json!("f1469b4a-demo-a8df-va86-bb7de91cf493")),
            Accept,
        ),
        update(
            "tags",
            g.clone(),
            with(&g, "tags", json!({"team": "net"})),
            Accept,
        ),
        update(
            "deletion policy",
            g.clone(),
            with(&g, "deletionPolicy", json!("Orphan")),
            Accept,
        ),
        update(
            "endpoint",
            g.clone(),
            with(&g, "cloud.endpoint", json!("https://vpn.example.test")),
            Accept,
        ),
        update(
            "policy template",
            nonfixed.clone(),
            with(&nonfixed, "policyTemplate", template.clone()),
            Accept,
        ),
        // Immutable fields: changed, added, removed.
        update(
            "networkType",
            private.clone(),
            with(&private, "networkType", json!("public")),
            Reject("networkType is immutable"),
        ),
        update(
            "attachmentType",
            g.clone(),
            with(&g, "attachmentType", json!("er")),
            Reject("attachmentType is immutable"),
        ),
        update(
            "ipVersion",
            g.clone(),
            with(&g, "ipVersion", json!("ipv6")),
            Reject("ipVersion is immutable"),
        ),
        update(
            "vpcId",
            g.clone(),
            with(&g, "vpcId", json!("0cf79a3f-demo-a8df-va86-d7ace626b0fa")),
            Reject("vpcId is immutable"),
        ),
        update(
            "vpcId removed",
            er.clone(),
            without(&er, "vpcId"),
            Reject("vpcId is immutable"),
        ),
        update(
            "erId",
            er.clone(),
            with(&er, "erId", json!("aaaaaaaa-demo")),
            Reject("erId is immutable"),
        ),
        update(
            "connectSubnet",
            g.clone(),
            with(&g, "connectSubnet", json!("bbbb")),
            Reject("connectSubnet is immutable"),
        ),
        update(
            "accessVpcId added",
            g.clone(),
            with(&g, "accessVpcId", json!("cccc")),
            Reject("accessVpcId is immutable"),
        ),
        update(
            "accessSubnetId added",
            g.clone(),
            with(&g, "accessSubnetId", json!("dddd")),
            Reject("accessSubnetId is immutable"),
        ),
        update(
            "accessPrivateIp1",
            private.clone(),
            with(&private, "accessPrivateIp1", json!("192.168.52.11")),
            Reject("accessPrivateIp1 is immutable"),
        ),
        update(
            "accessPrivateIp2",
            private.clone(),
            with(&private, "accessPrivateIp2", json!("192.168.52.12")),
            Reject("accessPrivateIp2 is immutable"),
        ),
        update(
            "bgpAsn",
            g.clone(),
            with(&g, "bgpAsn", json!(65000)),
            Reject("bgpAsn is immutable"),
        ),
        update(
            "bgpAsn set to its default",
            g.clone(),
            with(&g, "bgpAsn", json!(64512)),
            Accept,
        ),
        update(
            "availabilityZoneIds",
            er.clone(),
            with(&er, "availabilityZoneIds", json!(["cn-south-1f"])),
            Reject("availabilityZoneIds is immutable"),
        ),
        update(
            "haMode",
            g.clone(),
            with(&g, "haMode", json!("active-standby")),
            Reject("haMode is immutable"),
        ),
        update(
            "enterpriseProjectId added",
            g.clone(),
            with(&g, "enterpriseProjectId", json!("0")),
            Reject("enterpriseProjectId is immutable"),
        ),
        update(
            "cloudId added",
            g.clone(),
            with(&g, "cloudId", json!("134f9fb1-demo")),
            Reject("cloudId is immutable"),
        ),
        update(
            "cloudId removed",
            with(&g, "cloudId", json!("134f9fb1-demo")),
            g.clone(),
            Reject("cloudId is immutable"),
        ),
        update(
            "region",
            with(&g, "cloud.region", json!("cn-north-4")),
            with(&g, "cloud.region", json!("cn-south-1")),
            Reject("cloud.region is immutable"),
        ),
        update(
            "region added with cloud",
            g.clone(),
            with(&g, "cloud.region", json!("cn-south-1")),
            Reject("cloud.region is immutable"),
        ),
        update(
            "projectId",
            with(&g, "cloud.projectId", json!("p1")),
            with(&g, "cloud.projectId", json!("p2")),
            Reject("cloud.projectId is immutable"),
        ),
        // EIP creation parameters are immutable; switching a new EIP to an existing one too.
        update(
            "eip type",
            er.clone(),
            with(&er, "eip1.type", json!("5_sbgp")),
            Reject("type is immutable"),
        ),
        update(
            "eip charge mode",
            er.clone(),
            with(&er, "eip1.chargeMode", json!("traffic")),
            Reject("chargeMode is immutable"),
        ),
        update(
            "eip bandwidth",
            er.clone(),
            with(&er, "eip2.bandwidthSize", json!(500)),
            Reject("bandwidthSize is immutable"),
        ),
        update(
            "eip bandwidth name",
            er.clone(),
            with(&er, "eip2.bandwidthName", json!("other")),
            Reject("bandwidthName is immutable"),
        ),
        update(
            "eip shared bandwidth",
            er.clone(),
            with(&er, "eip1.bandwidthId", json!("eeee")),
            Reject("bandwidthId is immutable"),
        ),
        update(
            "eip2 type",
            er.clone(),
            with(&er, "eip2.type", json!("5_youxuanbgp")),
            Reject("type is immutable"),
        ),
        update(
            "eip2 charge mode",
            er.clone(),
            without(&er, "eip2.chargeMode"),
            Reject("chargeMode is immutable"),
        ),
        update(
            "eip2 shared bandwidth",
            er.clone(),
            with(&er, "eip2.bandwidthId", json!("eeee")),
            Reject("bandwidthId is immutable"),
        ),
        update(
            "new eip replaced by id",
            er.clone(),
            with(&er, "eip1", json!({"id": "ffff"})),
            Reject("type is immutable"),
        ),
        // Attachment rules.
        create(
            "er without erId",
            without(&er, "erId"),
            Reject("erId is required when attachmentType is er"),
        ),
        create(
            "erId on a vpc gateway",
            with(&g, "erId", json!("abcd")),
            Reject("erId is required when attachmentType is er"),
        ),
        create(
            "vpc without vpcId",
            without(&g, "vpcId"),
            Reject("attachmentType vpc requires vpcId and connectSubnet"),
        ),
        create(
            "vpc without connectSubnet",
            without(&g, "connectSubnet"),
            Reject("attachmentType vpc requires vpcId and connectSubnet"),
        ),
        create(
            "vpc ipv4 without localSubnets",
            without(&g, "localSubnets"),
            Reject("localSubnets is required"),
        ),
        create(
            "vpc ipv4 with empty localSubnets",
            with(&g, "localSubnets", json!([])),
            Reject("localSubnets is required"),
        ),
        create(
            "localSubnets on an er gateway",
            with(&er, "localSubnets", json!(["10.0.0.0/8"])),
            Reject("localSubnets is required"),
        ),
        create(
            "vpc ipv6 without localSubnetsV6",
            ipv6.clone(),
            Reject("localSubnetsV6 is required"),
        ),
        create(
            "localSubnetsV6 on ipv4",
            with(&g, "localSubnetsV6", json!(["16af:cacc:1097::/48"])),
            Reject("localSubnetsV6 is required"),
        ),
        // Public/private addressing.
        create(
            "public without eip2",
            without(&g, "eip2"),
            Reject("eip1 and eip2 are both required"),
        ),
        create(
            "private with eips",
            with(&private, "eip1", json!({"id": "a"})),
            Reject("eip1 and eip2 are both required"),
        ),
        create(
            "same eip twice",
            with(&g, "eip2.id", json!("cff40e5e-demo-a8df-va86-7366077bf097")),
            Reject("must be different EIPs"),
        ),
        create(
            "access ips on a public gateway",
            with(
                &with(&g, "accessPrivateIp1", json!("10.0.0.1")),
                "accessPrivateIp2",
                json!("10.0.0.2"),
            ),
            Reject("only for a private gateway"),
        ),
        create(
            "only one access ip",
            without(&private, "accessPrivateIp2"),
            Reject("must be given together"),
        ),
        create(
            "equal access ips",
            with(&private, "accessPrivateIp2", json!("192.168.52.9")),
            Reject("must differ"),
        ),
        // EIP either/or.
        create(
            "eip with id and type",
            with(&g, "eip1.type", json!("5_bgp")),
            Reject("give either id"),
        ),
        create(
            "new eip without size",
            without(&er, "eip1.bandwidthSize"),
            Reject("give either id"),
        ),
        create(
            "empty eip",
            with(&g, "eip2", json!({})),
            Reject("give either id"),
        ),
        // Flavors.
        create(
            "basic private",
            with(&private, "flavor", json!("Basic")),
            Reject("flavor Basic is not available"),
        ),
        create(
            "basic er",
            with(
                &with(&er, "flavor", json!("Basic")),
                "eip1.bandwidthSize",
                json!(100),
            ),
            Reject("flavor Basic is not available"),
        ),
        create(
            "basic public vpc",
            with(&g, "flavor", json!("Basic")),
            Accept,
        ),
        create(
            "template on a fixed-IP flavor",
            with(&g, "policyTemplate", template),
            Reject("policyTemplate is only for"),
        ),
        create(
            "eip1 above Professional1 limit",
            with(&er, "flavor", json!("Professional1")),
            Reject("eip1.bandwidthSize exceeds"),
        ),
        create(
            "eip2 above Basic limit",
            with(
                &with(&g, "flavor", json!("Basic")),
                "eip2",
                json!({"type": "5_bgp", "bandwidthSize": 101}),
            ),
            Reject("eip2.bandwidthSize exceeds"),
        ),
        create(
            "eip at GM limit",
            with(
                &with(&er, "flavor", json!("GM")),
                "eip1.bandwidthSize",
                json!(500),
            ),
            Reject("eip2.bandwidthSize exceeds"),
        ),
        update(
            "flavor downgrade below the EIP bandwidth",
            er.clone(),
            with(&er, "flavor", json!("Professional1")),
            Reject("bandwidthSize exceeds"),
        ),
        // Observe mode and tags.
        create(
            "observe without cloudId",
            with(&g, "managementPolicy", json!("Observe")),
            Reject("managementPolicy Observe needs cloudId"),
        ),
        create(
            "observe with cloudId",
            with(
                &with(&g, "managementPolicy", json!("Observe")),
                "cloudId",
                json!("134f9fb1-demo"),
            ),
            Accept,
        ),
        create(
            "tag key too long",
            with(&g, "tags", json!({"k".repeat(129): "v"})),
            Reject("tag keys must have 1-128 characters"),
        ),
        create(
            "empty tag key",
            with(&g, "tags", json!({"": "v"})),
            Reject("tag keys must have 1-128 characters"),
        ),
        create(
            "operator's ownership tag",
            with(&g, "tags", json!({"vpn.hwcloud.dev:uid": "spoofed"})),
            Reject("reserved for the operator's ownership tags"),
        ),
    ];
    run_table("VpnGateway", cases);
}

// ---------------------------------------------------------------------------------------------
// CustomerGateway
// ---------------------------------------------------------------------------------------------

fn customer_gateway() -> Value {
    object(
        "CustomerGateway",
        json!({"idValue": "203.0.113.21", "bgpAsn": 65000}),
    )
}

#[test]
fn customer_gateway_rules() {
    use Expect::{Accept, Reject};
    let c = customer_gateway();
    let fqdn = object(
        "CustomerGateway",
        json!({"idType": "fqdn", "idValue": "vpn.branch.example.com"}),
    );
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    let cases = vec![
        create("ip with asn", c.clone(), Accept),
        create("ip without asn", without(&c, "bgpAsn"), Accept),
        create("fqdn", fqdn.clone(), Accept),
        create(
            "with certificate",
            with(&c, "caCertificate", json!({"content": pem})),
            Accept,
        ),
        update("unchanged", c.clone(), c.clone(), Accept),
        update(
            "rename",
            c.clone(),
            with(&c, "name", json!("cgw-branch")),
            Accept,
        ),
        update(
            "certificate added",
            c.clone(),
            with(&c, "caCertificate", json!({"content": pem})),
            Accept,
        ),
        update(
            "tags",
            c.clone(),
            with(&c, "tags", json!({"site": "berlin"})),
            Accept,
        ),
        update(
            "idValue",
            c.clone(),
            with(&c, "idValue", json!("203.0.113.22")),
            Reject("idValue is immutable"),
        ),
        update(
            "idType",
            fqdn.clone(),
            with(
                &with(&fqdn, "idType", json!("ip")),
                "idValue",
                json!("203.0.113.9"),
            ),
            Reject("idType is immutable"),
        ),
        update(
            "bgpAsn changed",
            c.clone(),
            with(&c, "bgpAsn", json!(65001)),
            Reject("bgpAsn is immutable"),
        ),
        update(
            "bgpAsn removed",
            c.clone(),
            without(&c, "bgpAsn"),
            Reject("bgpAsn is immutable"),
        ),
        update(
            "cloudId added",
            c.clone(),
            with(&c, "cloudId", json!("03c0aa3d-demo")),
            Reject("cloudId is immutable"),
        ),
        update(
            "region",
            with(&c, "cloud.region", json!("a")),
            with(&c, "cloud.region", json!("b")),
            Reject("cloud.region is immutable"),
        ),
        update(
            "projectId",
            with(&c, "cloud.projectId", json!("a")),
            with(&c, "cloud.projectId", json!("b")),
            Reject("cloud.projectId is immutable"),
        ),
        create(
            "asn with fqdn",
            with(&fqdn, "bgpAsn", json!(65000)),
            Reject("bgpAsn is only allowed when idType is ip"),
        ),
        create(
            "ip type with a name",
            with(&c, "idValue", json!("vpn.example.com")),
            Reject("must be a dotted-decimal IPv4"),
        ),
        create(
            "ip out of range",
            with(&c, "idValue", json!("10.0.0.256")),
            Reject("must be a dotted-decimal IPv4"),
        ),
        create(
            "fqdn with space",
            with(&fqdn, "idValue", json!("vpn example")),
            Reject("must not contain spaces"),
        ),
        create(
            "fqdn with backslash",
            with(&fqdn, "idValue", json!("vpn\\example")),
            Reject("must not contain spaces"),
        ),
        create(
            "fqdn with question mark",
            with(&fqdn, "idValue", json!("vpn?x")),
            Reject("must not contain spaces"),
        ),
        create(
            "empty certificate",
            with(&c, "caCertificate", json!({})),
            Reject("caCertificate needs id or content"),
        ),
        create(
            "observe without cloudId",
            with(&c, "managementPolicy", json!("Observe")),
            Reject("managementPolicy Observe needs cloudId"),
        ),
        create(
            "tag key too long",
            with(&c, "tags", json!({"k".repeat(200): "v"})),
            Reject("tag keys must have 1-128 characters"),
        ),
        create(
            "operator's ownership tag",
            with(&c, "tags", json!({"vpn.hwcloud.dev:uid": "spoofed"})),
            Reject("reserved for the operator's ownership tags"),
        ),
    ];
    run_table("CustomerGateway", cases);
}

// ---------------------------------------------------------------------------------------------
// VpnConnection
// ---------------------------------------------------------------------------------------------

fn connection() -> Value {
    object(
        "VpnConnection",
        json!({
            "vpnGatewayRef": {"name": "gw"},
            "gatewayIp": "eip1",
            "customerGatewayRef": {"name": "branch"},
            "peerSubnets": ["192.168.44.0/24"],
            "pskSecretRef": {"name": "branch-psk", "key": "psk"}
        }),
    )
}

#[test]
fn vpn_connection_rules() {
    use Expect::{Accept, Reject};
    let c = connection();
    let ike = with(
        &c,
        "ikePolicy",
        json!({"ikeVersion": "v2", "authenticationMethod": "pre-share", "lifetimeSeconds": 86400}),
    );
    let policy = with(&c, "style", json!("policy"));
    let policy = with(
        &policy,
        "policyRules",
        json!([{"source": "10.0.0.0/24", "destination": ["192.168.44.0/24"]}]),
    );
    let gm = with(
        &without(&c, "pskSecretRef"),
        "ikePolicy",
        json!({"ikeVersion": "v1", "authenticationMethod": "digital-envelope-v2", "authenticationAlgorithm": "sm3", "encryptionAlgorithm": "sm4"}),
    );
    let tunnels = with(
        &with(&c, "tunnelLocalAddress", json!("169.254.76.1/30")),
        "tunnelPeerAddress",
        json!("169.254.76.2/30"),
    );
    let cases = vec![
        create("static connection", c.clone(), Accept),
        create(
            "by cloud ids",
            with(
                &with(&c, "vpnGatewayRef", json!({"cloudId": "134f9fb1-demo"})),
                "customerGatewayRef",
                json!({"cloudId": "03c0aa3d-demo"}),
            ),
            Accept,
        ),
        create("policy connection", policy.clone(), Accept),
        create("gm connection without psk", gm.clone(), Accept),
        create(
            "static with tunnel addresses and nqa",
            with(&tunnels, "enableNqa", json!(true)),
            Accept,
        ),
        create(
            "bgp hub",
            with(&with(&c, "style", json!("bgp")), "enableHub", json!(true)),
            Accept,
        ),
        create(
            "standby connection",
            with(
                &with(&c, "gatewayIp", json!("eip2")),
                "haRole",
                json!("slave"),
            ),
            Accept,
        ),
        create(
            "private gateway address",
            with(&c, "gatewayIp", json!("accessPrivateIp1")),
            Accept,
        ),
        create(
            "with its peer configuration exported",
            with(
                &c,
                "peerConfig",
                json!({"secretName": "branch-peer", "formats": ["json", "strongswan", "text"]}),
            ),
            Accept,
        ),
        create(
            "peer configuration into the key's own Secret",
            with(&c, "peerConfig", json!({"secretName": "branch-psk"})),
            Reject("peerConfig.secretName must differ from pskSecretRef.name"),
        ),
        create(
            "peer configuration of an observed connection",
            with(
                &with(
                    &with(&c, "managementPolicy", json!("Observe")),
                    "cloudId",
                    json!("03c0aa3d-demo"),
                ),
                "peerConfig",
                json!({"secretName": "branch-peer"}),
            ),
            Reject("peerConfig needs managementPolicy Default"),
        ),
        update("unchanged", c.clone(), c.clone(), Accept),
        // Updatable fields.
        update(
            "customer gateway swap",
            c.clone(),
            with(&c, "customerGatewayRef", json!({"name": "other"})),
            Accept,
        ),
        update(
            "peer subnets",
            c.clone(),
            with(&c, "peerSubnets", json!(["192.168.45.0/24"])),
            Accept,
        ),
        update(
            "psk rotation",
            c.clone(),
            with(&c, "pskSecretRef.name", json!("branch-psk-v2")),
            Accept,
        ),
        update(
            "ike lifetime",
            ike.clone(),
            with(&ike, "ikePolicy.lifetimeSeconds", json!(3600)),
            Accept,
        ),
        update(
            "health check on",
            c.clone(),
            with(&c, "healthCheck", json!({"enabled": true})),
            Accept,
        ),
        update(
            "tunnel addresses",
            tunnels.clone(),
            with(&tunnels, "tunnelPeerAddress", json!("169.254.76.1/30")),
            Reject("must differ"),
        ),
        update(
            "tunnel addresses moved",
            tunnels.clone(),
            with(
                &with(&tunnels, "tunnelLocalAddress", json!("169.254.80.1/30")),
                "tunnelPeerAddress",
                json!("169.254.80.2/30"),
            ),
            Accept,
        ),
        update(
            "policy rules",
            policy.clone(),
            with(
                &policy,
                "policyRules",
                json!([{"source": "10.1.0.0/24", "destination": ["192.168.0.0/16"]}]),
            ),
            Accept,
        ),
        // Immutable fields.
        update(
            "gateway",
            c.clone(),
            with(&c, "vpnGatewayRef", json!({"name": "gw2"})),
            Reject("vpnGatewayRef is immutable"),
        ),
        update(
            "gateway name to id",
            c.clone(),
            with(&c, "vpnGatewayRef", json!({"cloudId": "134f9fb1-demo"})),
            Reject("vpnGatewayRef is immutable"),
        ),
        update(
            "gateway address",
            c.clone(),
            with(&c, "gatewayIp", json!("eip2")),
            Reject("gatewayIp is immutable"),
        ),
        update(
            "style",
            c.clone(),
            with(&c, "style", json!("bgp")),
            Reject("style is immutable"),
        ),
        update(
            "haRole",
            with(&c, "gatewayIp", json!("eip2")),
            with(
                &with(&c, "gatewayIp", json!("eip2")),
                "haRole",
                json!("slave"),
            ),
            Reject("haRole is immutable"),
        ),
        update(
            "enableNqa added",
            c.clone(),
            with(&c, "enableNqa", json!(true)),
            Reject("enableNqa is immutable"),
        ),
        update(
            "auth method changed",
            ike.clone(),
            with(
                &without(&ike, "pskSecretRef"),
                "ikePolicy.authenticationMethod",
                json!("digital-envelope-v2"),
            ),
            Reject("ikePolicy.authenticationMethod is immutable"),
        ),
        update(
            "auth method added",
            with(&c, "ikePolicy", json!({"ikeVersion": "v2"})),
            ike.clone(),
            Reject("ikePolicy.authenticationMethod is immutable"),
        ),
        update(
            "ike policy removed with the method",
            ike.clone(),
            without(&ike, "ikePolicy"),
            Reject("ikePolicy.authenticationMethod is immutable"),
        ),
        update(
            "cloudId",
            with(&c, "cloudId", json!("a")),
            with(&c, "cloudId", json!("b")),
            Reject("cloudId is immutable"),
        ),
        update(
            "region",
            with(&c, "cloud.region", json!("a")),
            with(&c, "cloud.region", json!("b")),
            Reject("cloud.region is immutable"),
        ),
        update(
            "projectId",
            with(&c, "cloud.projectId", json!("a")),
            without(&c, "cloud"),
            Reject("cloud.projectId is immutable"),
        ),
        // References.
        create(
            "gateway ref with name and id",
            with(&c, "vpnGatewayRef.cloudId", json!("134f9fb1-demo")),
            Reject("set exactly one of name or cloudId"),
        ),
        create(
            "empty customer gateway ref",
            with(&c, "customerGatewayRef", json!({})),
            Reject("set exactly one of name or cloudId"),
        ),
        // Style-specific fields.
        create(
            "policy rules on static",
            with(
                &c,
                "policyRules",
                json!([{"source": "10.0.0.0/24", "destination": ["192.168.44.0/24"]}]),
            ),
            Reject("policyRules and policyRulesV6 are only allowed with style policy"),
        ),
        create(
            "v6 policy rules on bgp",
            with(
                &with(&c, "style", json!("bgp")),
                "policyRulesV6",
                json!([{"source": "fd00::/64", "destination": ["fd01::/64"]}]),
            ),
            Reject("only allowed with style policy"),
        ),
        create(
            "nqa on bgp",
            with(&with(&c, "style", json!("bgp")), "enableNqa", json!(true)),
            Reject("enableNqa is only allowed with style static"),
        ),
        create(
            "nqa false on bgp",
            with(&with(&c, "style", json!("bgp")), "enableNqa", json!(false)),
            Accept,
        ),
        create(
            "hub on static",
            with(&c, "enableHub", json!(true)),
            Reject("enableHub is only allowed with style bgp"),
        ),
        create(
            "tunnel addresses on policy",
            with(&policy, "tunnelLocalAddress", json!("169.254.76.1/30")),
            Reject("only allowed with style static or bgp"),
        ),
        create(
            "same tunnel addresses",
            with(&tunnels, "tunnelPeerAddress", json!("169.254.76.1/30")),
            Reject("must differ"),
        ),
        create(
            "slave on the first address",
            with(&c, "haRole", json!("slave")),
            Reject("haRole slave is only for"),
        ),
        // Authentication.
        create(
            "no psk",
            without(&c, "pskSecretRef"),
            Reject("pskSecretRef is required"),
        ),
        create(
            "psk with digital envelope",
            with(&gm, "pskSecretRef", json!({"name": "x", "key": "psk"})),
            Reject("pskSecretRef is required, except"),
        ),
        create(
            "digital envelope with ike v2",
            with(&gm, "ikePolicy.ikeVersion", json!("v2")),
            Reject("only works with ikeVersion v1"),
        ),
        create(
            "fqdn local id missing",
            with(&ike, "ikePolicy.localIdType", json!("fqdn")),
            Reject("localId is required"),
        ),
        create(
            "fqdn peer id missing",
            with(&ike, "ikePolicy.peerIdType", json!("fqdn")),
            Reject("peerId is required"),
        ),
        create(
            "fqdn ids given",
            with(
                &with(&ike, "ikePolicy.peerIdType", json!("fqdn")),
                "ikePolicy.peerId",
                json!("branch.example.com"),
            ),
            Accept,
        ),
        // Observe mode and tags.
        create(
            "observe without cloudId",
            with(&c, "managementPolicy", json!("Observe")),
            Reject("managementPolicy Observe needs cloudId"),
        ),
        create(
            "operator's ownership tag",
            with(&c, "tags", json!({"vpn.hwcloud.dev:uid": "spoofed"})),
            Reject("reserved for the operator's ownership tags"),
        ),
        create(
            "tag key too long",
            with(&c, "tags", json!({"k".repeat(129): "v"})),
            Reject("tag keys must have 1-128 characters"),
        ),
    ];
    run_table("VpnConnection", cases);
}

// ---------------------------------------------------------------------------------------------
// CloudVpnService
// ---------------------------------------------------------------------------------------------

/// The documented Site2DC create example, as a spec.
fn site_to_dc() -> Value {
    object(
        "CloudVpnService",
        json!({
            "serviceDefinition": {"id": "8c34e27ed6644bbfbce93a41a05cb7ab"},
            "templateId": "e77fc5e21e1e42c9933ec9574c33a5d8",
            "serviceName": "site2dc4_201705071158",
            "kind": "Site2DC",
            "cloudVpnName": "0S2DC4201705071158",
            "bandwidth": 60000,
            "vpcId": "db79cd8b-91e2-43f8-9791-54b8b2181a70",
            "vni": 2236,
            "cpeA": {"site": "siteDC201705071132", "type": "AR169FGW-L", "esn": "21500102003GG3000704",
                     "position": "siteDC201705071132", "pop": "Manager_VPC"},
            "cidr": "163.113.12.1",
            "cidrBlockSize": 24
        }),
    )
}

/// The documented Site2Site service, as a spec.
fn site_to_site() -> Value {
    object(
        "CloudVpnService",
        json!({
            "serviceDefinition": {"name": "IES_TMF_OpenHack_Nice"},
            "kind": "Site2Site",
            "cloudVpnName": "VPNS2S201705061433",
            "bandwidth": 30000,
            "vni": 1236,
            "cpeA": {"site": "siteA201705061433", "type": "AR169FGW-L", "esn": "21500102003GG3000630", "position": "siteA201705061433"},
            "cpeZ": {"site": "siteZ201705061433", "type": "AR169FGW-L", "esn": "21500102003GG3000674", "position": "siteZ201705061433"}
        }),
    )
}

#[test]
fn cloud_vpn_service_rules() {
    use Expect::{Accept, Reject};
    let dc = site_to_dc();
    let s2s = site_to_site();
    let scaled = with(
        &s2s,
        "autoscaling",
        json!({"minBandwidth": 10000, "maxBandwidth": 60000, "step": 10000}),
    );
    let cases = vec![
        create("site2dc example", dc.clone(), Accept),
        create("site2site example", s2s.clone(), Accept),
        create(
            "minimal",
            object(
                "CloudVpnService",
                json!({"serviceDefinition": {"id": "x"}, "kind": "Site2Site", "cloudVpnName": "v1", "bandwidth": 1}),
            ),
            Accept,
        ),
        create("with autoscaling", scaled.clone(), Accept),
        create(
            "with extra parameters",
            with(&s2s, "extraParameters", json!({"QoS_Profile": "gold"})),
            Accept,
        ),
        update("unchanged", dc.clone(), dc.clone(), Accept),
        // Updatable fields.
        update(
            "bandwidth",
            s2s.clone(),
            with(&s2s, "bandwidth", json!(60000)),
            Accept,
        ),
        update(
            "description",
            s2s.clone(),
            with(&s2s, "description", json!("branch line")),
            Accept,
        ),
        update("autoscaling added", s2s.clone(), scaled.clone(), Accept),
        update(
            "autoscaling target",
            scaled.clone(),
            with(&scaled, "autoscaling.targetUtilizationPercent", json!(50)),
            Accept,
        ),
        update(
            "deletion policy",
            dc.clone(),
            with(&dc, "deletionPolicy", json!("Orphan")),
            Accept,
        ),
        update(
            "endpoint",
            dc.clone(),
            with(
                &dc,
                "cloud.endpoint",
                json!("https://ies.example:17100/rest"),
            ),
            Accept,
        ),
        // Immutable fields.
        update(
            "definition",
            dc.clone(),
            with(&dc, "serviceDefinition", json!({"name": "other"})),
            Reject("serviceDefinition is immutable"),
        ),
        update(
            "template",
            dc.clone(),
            without(&dc, "templateId"),
            Reject("templateId is immutable"),
        ),
        update(
            "service name",
            dc.clone(),
            with(&dc, "serviceName", json!("renamed")),
            Reject("serviceName is immutable"),
        ),
        update(
            "kind",
            s2s.clone(),
            with(&without(&s2s, "cpeZ"), "kind", json!("Site2DC")),
            Reject("kind is immutable"),
        ),
        update(
            "cloudVpnName",
            dc.clone(),
            with(&dc, "cloudVpnName", json!("other")),
            Reject("cloudVpnName is immutable"),
        ),
        update(
            "vpcId",
            dc.clone(),
            with(&dc, "vpcId", json!("other")),
            Reject("vpcId is immutable"),
        ),
        update(
            "vni",
            dc.clone(),
            with(&dc, "vni", json!(2237)),
            Reject("vni is immutable"),
        ),
        update(
            "cpeA",
            dc.clone(),
            with(&dc, "cpeA.esn", json!("X")),
            Reject("cpeA is immutable"),
        ),
        update(
            "cpeZ",
            s2s.clone(),
            without(&s2s, "cpeZ"),
            Reject("cpeZ is immutable"),
        ),
        update(
            "cidr",
            dc.clone(),
            with(&dc, "cidr", json!("163.113.12.2")),
            Reject("cidr is immutable"),
        ),
        update(
            "cidrBlockSize",
            dc.clone(),
            with(&dc, "cidrBlockSize", json!(25)),
            Reject("cidrBlockSize is immutable"),
        ),
        update(
            "extra parameters",
            s2s.clone(),
            with(&s2s, "extraParameters", json!({"QoS_Profile": "gold"})),
            Reject("extraParameters is immutable"),
        ),
        update(
            "cloudId",
            s2s.clone(),
            with(&s2s, "cloudId", json!("8hiqoNgCSZmrlD1MyROJbg")),
            Reject("cloudId is immutable"),
        ),
        // Cross-field rules.
        create(
            "definition by id and name",
            with(&dc, "serviceDefinition.name", json!("x")),
            Reject("set exactly one of id or name"),
        ),
        create(
            "definition empty",
            with(&dc, "serviceDefinition", json!({})),
            Reject("set exactly one of id or name"),
        ),
        create(
            "Z end on site2dc",
            with(&dc, "cpeZ", json!({"site": "z"})),
            Reject("cpeZ (the Z-end site) is only for kind Site2Site"),
        ),
        create(
            "vpc on site2site",
            with(&s2s, "vpcId", json!("db79cd8b")),
            Reject("only for kind Site2DC"),
        ),
        create(
            "pop on site2site",
            with(&s2s, "cpeA.pop", json!("Manager_VPC")),
            Reject("only for kind Site2DC"),
        ),
        create(
            "cidr without size",
            without(&dc, "cidrBlockSize"),
            Reject("cidr and cidrBlockSize go together"),
        ),
        create(
            "reserved extra parameter",
            with(&s2s, "extraParameters", json!({"Bandwidth": "1"})),
            Reject("must not repeat a parameter"),
        ),
        create(
            "extra parameter name too long",
            with(&s2s, "extraParameters", json!({"k".repeat(65): "v"})),
            Reject("keys must have 1-64 characters"),
        ),
        update(
            "extra parameter value changed",
            with(&s2s, "extraParameters", json!({"QoS_Profile": "gold"})),
            with(&s2s, "extraParameters", json!({"QoS_Profile": "silver"})),
            Reject("extraParameters is immutable"),
        ),
        update(
            "extra parameter added",
            with(&s2s, "extraParameters", json!({"QoS_Profile": "gold"})),
            with(
                &s2s,
                "extraParameters",
                json!({"QoS_Profile": "gold", "X": "1"}),
            ),
            Reject("extraParameters is immutable"),
        ),
        update(
            "extra parameter renamed",
            with(&s2s, "extraParameters", json!({"QoS_Profile": "gold"})),
            with(&s2s, "extraParameters", json!({"QoS_Class": "gold"})),
            Reject("extraParameters is immutable"),
        ),
        update(
            "extra parameters unchanged",
            with(
                &s2s,
                "extraParameters",
                json!({"QoS_Profile": "gold", "X": "1"}),
            ),
            with(
                &s2s,
                "extraParameters",
                json!({"X": "1", "QoS_Profile": "gold"}),
            ),
            Accept,
        ),
        create(
            "min above max",
            with(&scaled, "autoscaling.minBandwidth", json!(70000)),
            Reject("minBandwidth must not exceed"),
        ),
        create(
            "bandwidth below min",
            with(&scaled, "bandwidth", json!(5000)),
            Reject("bandwidth must be within"),
        ),
        create(
            "bandwidth above max",
            with(&scaled, "bandwidth", json!(70000)),
            Reject("bandwidth must be within"),
        ),
        create(
            "observe without cloudId",
            with(&s2s, "managementPolicy", json!("Observe")),
            Reject("managementPolicy Observe needs cloudId"),
        ),
        create(
            "observe with autoscaling",
            with(
                &with(&scaled, "managementPolicy", json!("Observe")),
                "cloudId",
                json!("8hiqoNgCSZmrlD1MyROJbg"),
            ),
            Reject("cannot be combined with managementPolicy Observe"),
        ),
        create(
            "observe an existing service",
            with(
                &with(&s2s, "managementPolicy", json!("Observe")),
                "cloudId",
                json!("8hiqoNgCSZmrlD1MyROJbg"),
            ),
            Accept,
        ),
    ];
    run_table("CloudVpnService", cases);
}
