//! The checks the API server makes on an object of ours, made locally with the CRDs this binary
//! generates: the OpenAPI schema (types, required fields, enums, bounds, patterns, unknown
//! fields) with the `jsonschema` crate, and the CEL rules (`x-kubernetes-validations`, schema
//! defaults applied first, transition rules against the live object) with kube's `cel` support.
//! Messages are worded as the API server words them (`spec.bandwidth: Invalid value: 0:
//! spec.bandwidth in body should be greater than or equal to 1`).
use std::collections::BTreeMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use kube::core::cel::Validator as CelValidator;
use serde_json::{Map, Value};

use super::manifests::Kind;
use crate::crd;

/// What the API server would say about an object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Refused on create and on update: one message per field, as the API server words them.
    pub invalid: Vec<String>,
    /// Refused only as an update of the live object: immutable fields that changed.
    pub immutable: Vec<String>,
}

/// The CRDs' schemas, compiled once.
pub struct Schemas {
    kinds: BTreeMap<Kind, Compiled>,
    cel: CelValidator,
}

struct Compiled {
    /// The CRD's `openAPIV3Schema` as generated.
    schema: Value,
    structural: jsonschema::Validator,
    /// Its CEL rules, compiled once.
    rules: kube::core::cel::CompiledSchema,
}

impl Schemas {
    /// Compiles the schemas of the CRDs in [`crd::all`].
    pub fn new() -> anyhow::Result<Self> {
        let mut kinds = BTreeMap::new();
        for c in crd::all() {
            let Some(kind) = Kind::parse(&c.spec.names.kind) else {
                continue;
            };
            let schema = c.spec.versions[0]
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(serde_json::to_value)
                .transpose()?
                .unwrap_or(Value::Null);
            let structural = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .should_validate_formats(false)
                .build(&json_schema(&schema, true))
                .map_err(|e| anyhow::anyhow!("the {} schema does not compile: {e}", kind.name()))?;
            let rules = kube::core::cel::compile_schema(&schema);
            kinds.insert(
                kind,
                Compiled {
                    schema,
                    structural,
                    rules,
                },
            );
        }
        Ok(Self {
            kinds,
            cel: CelValidator::new(),
        })
    }

    /// Checks `new` (an object of `kind` as written) as a create, and as an update of `live`
    /// when there is one.
    pub fn check(&self, kind: Kind, new: &Value, live: Option<&Value>) -> Verdict {
        let Some(c) = self.kinds.get(&kind) else {
            return Verdict::default();
        };
        let new = admitted(new);
        let mut v = Verdict::default();
        for e in c.structural.iter_errors(&new) {
            let path = k8s_path(&e.instance_path().to_string());
            v.invalid
                .extend(schema_message(&path, e.kind(), e.instance()));
        }
        if !v.invalid.is_empty() {
            // The API server stops at the schema: CEL rules only run on well-formed objects.
            return v;
        }
        if let Err(errors) = self.cel.validate_compiled(&c.rules, &new, None) {
            v.invalid
                .extend(errors.as_slice().iter().map(|e| cel_message(&c.schema, e)));
        }
        if let (Some(live), true) = (live, v.invalid.is_empty()) {
            let old = admitted(live);
            if let Err(errors) = self.cel.validate_compiled(&c.rules, &new, Some(&old)) {
                v.immutable.extend(
                    errors
                        .as_slice()
                        .iter()
                        .filter(|e| e.rule.contains("oldSelf"))
                        .map(|e| cel_message(&c.schema, e)),
                );
            }
        }
        v
    }
}

/// The object as admission sees it: without `status` (dropped on create, ignored on update)
/// and without nulls (the API server prunes null values of fields that are not nullable; a
/// nullable null means the same as absent in these CRDs).
fn admitted(v: &Value) -> Value {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let mut out = strip(v);
    if let Some(m) = out.as_object_mut() {
        m.remove("status");
    }
    out
}

/// The CRD's OpenAPI v3 schema as a JSON Schema (draft 4): `nullable` becomes a `null` type,
/// and objects with properties refuse others (the API server's strict field validation, which
/// `kubectl apply` asks for).
fn json_schema(schema: &Value, root: bool) -> Value {
    let Value::Object(m) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let v = match k.as_str() {
            "properties" => Value::Object(
                v.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), json_schema(s, false)))
                    .collect(),
            ),
            "items" | "additionalProperties" => json_schema(v, false),
            "nullable" | "x-kubernetes-validations" => continue,
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    if m.get("nullable").and_then(Value::as_bool) == Some(true) {
        if let Some(t) = out.get("type").cloned() {
            out.insert("type".into(), Value::Array(vec![t, Value::from("null")]));
        }
    }
    if out.contains_key("properties") && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if root {
        // apiVersion, kind and metadata are checked by the API server's own rules, not the
        // CRD's schema.
        if let Some(Value::Object(p)) = out.get_mut("properties") {
            p.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
            p.insert("kind".into(), serde_json::json!({"type": "string"}));
            p.insert("metadata".into(), serde_json::json!({"type": "object"}));
        }
    }
    Value::Object(out)
}

/// A JSON pointer (`/spec/localSubnets/0`) as the API server writes a field path
/// (`spec.localSubnets[0]`).
fn k8s_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// A schema bound as the API server prints it (`1`, not `1.0`).
fn bound(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => v.to_string(),
    }
}

fn join(path: &str, field: &str) -> String {
    match path.is_empty() {
        true => field.to_string(),
        false => format!("{path}.{field}"),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The API server's message for a schema violation at `path` (none for the `null` half of a
/// nullable type, which cannot fail alone).
fn schema_message(path: &str, kind: &ValidationErrorKind, value: &Value) -> Vec<String> {
    let shown = serde_json::to_string(value).unwrap_or_default();
    let n = |v: &Value| match v {
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        _ => 0,
    };
    let msg = match kind {
        ValidationErrorKind::Required { property } => {
            let field = property.as_str().unwrap_or_default();
            format!("{}: Required value", join(path, field))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|f| format!("unknown field \"{}\"", join(path, f)))
                .collect();
        }
        ValidationErrorKind::Type { kind } => {
            let want = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .find(|t| t != "null")
                    .unwrap_or_default(),
            };
            let have = type_name(value);
            format!("{path}: Invalid value: \"{have}\": {path} in body must be of type {want}: \"{have}\"")
        }
        ValidationErrorKind::Enum { options } => {
            let supported = options
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| serde_json::to_string(o).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ");
            format!("{path}: Unsupported value: {shown}: supported values: {supported}")
        }
        ValidationErrorKind::Minimum { limit } => format!(
            "{path}: Invalid value: {shown}: {path} in body should be greater than or equal to {}",
            bound(limit)
        ),
        ValidationErrorKind::Maximum { limit } => format!(
            "{path}: Invalid value: {shown}: {path} in body should be less than or equal to {}",
            bound(limit)
        ),
        ValidationErrorKind::MaxLength { limit } => {
            format!("{path}: Too long: may not be more than {limit} bytes")
        }
        ValidationErrorKind::MinLength { limit } => format!(
            "{path}: Invalid value: {shown}: {path} in body should be at least {limit} chars long"
        ),
        ValidationErrorKind::Pattern { pattern } => {
            format!("{path}: Invalid value: {shown}: {path} in body should match '{pattern}'")
        }
        ValidationErrorKind::MaxItems { limit } | ValidationErrorKind::MaxProperties { limit } => {
            format!(
                "{path}: Too many: {}: must have at most {limit} items",
                n(value)
            )
        }
        ValidationErrorKind::MinItems { limit } => format!(
            "{path}: Invalid value: {}: {path} in body should have at least {limit} items",
            n(value)
        ),
        other => format!("{path}: Invalid value: {shown}: {other:?}"),
    };
    vec![msg]
}

/// The API server's message for a CEL rule that refused the object: the field (the rule's
/// `fieldPath` when it has one), the type of the schema node holding the rule, the message.
fn cel_message(schema: &Value, e: &kube::core::cel::ValidationError) -> String {
    let holder = node_with_rule(schema, &e.rule)
        .and_then(|n| n["type"].as_str())
        .unwrap_or("object");
    format!(
        "{}: Invalid value: \"{holder}\": {}",
        e.field_path, e.message
    )
}

fn node_with_rule<'a>(schema: &'a Value, rule: &str) -> Option<&'a Value> {
    let here = schema["x-kubernetes-validations"]
        .as_array()
        .is_some_and(|rules| rules.iter().any(|r| r["rule"] == rule));
    if here {
        return Some(schema);
    }
    let props = schema["properties"].as_object().into_iter().flatten();
    let items = schema.get("items").into_iter();
    let extra = schema.get("additionalProperties").into_iter();
    props
        .map(|(_, s)| s)
        .chain(items)
        .chain(extra)
        .find_map(|s| node_with_rule(s, rule))
}

#[cfg(test)]
mod tests;
