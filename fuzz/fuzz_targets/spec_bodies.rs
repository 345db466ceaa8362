//! From a schema-valid object to the cloud request bodies: a manifest (YAML or JSON, as a
//! user writes it) is checked the way the API server checks it (the CRD's OpenAPI schema,
//! then its CEL rules: `vpn-operator plan`'s validator); an object that passes must decode as
//! the operator's type, and the kind's create body must build without panicking, encode, and
//! decode to the same value (the simulator parses it with the same type). Its name and tags,
//! which the CRD checks, must pass the cloud's own name and tag rules.
//!
//! Input: the manifest text (one document; `metadata.name` as the API server would accept it).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use vpn_operator::cli::plan::manifests::{self, Kind};
use vpn_operator::cli::plan::validate::Schemas;
use vpn_operator::cloud::model::VpnResourceTag;
use vpn_operator::controller::kinds::{
    cloud_vpn_service, customer_gateway, vpn_connection, vpn_gateway,
};
use vpn_operator::controller::runtime::ownership::{check_tags, cloud_name, desired_tags};
use vpn_operator::crd::{CloudVpnService, CustomerGateway, VpnConnection, VpnGateway};
use vpn_operator::sim::validate;

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| Schemas::new().expect("the CRD schemas compile"))
}

/// A DNS-1123 subdomain, as the API server requires of `metadata.name`.
fn dns_subdomain(s: &str) -> bool {
    (1..=253).contains(&s.len())
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn roundtrip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(body: &T) {
    let json = serde_json::to_vec(body).expect("a request body encodes");
    let back: T = serde_json::from_slice(&json).unwrap_or_else(|e| {
        panic!(
            "{} does not decode its own JSON ({e})",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(
        &back,
        body,
        "{} changed in a round trip",
        std::any::type_name::<T>()
    );
}

fn cloud_rules(name: &str, tags: &[VpnResourceTag]) {
    if let Err(e) = validate::name("name", name) {
        panic!(
            "a schema-valid object gets a cloud name the cloud refuses: {}",
            e.message
        );
    }
    // The schema checks tag values and the operator (`check_tags`, before any cloud call)
    // checks keys and values: whatever gets past both must pass the cloud's tag rules
    // (fuzz/corpus/spec_bodies/regress-tag-key-charset was admitted before, and the cloud refused it).
    if check_tags(tags).is_ok() {
        if let Err(e) = validate::tags(tags) {
            panic!(
                "a schema-valid object passes the operator's tag check with tags the cloud \
                 refuses: {}",
                e.message
            );
        }
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn typed<K: DeserializeOwned>(v: &Value) -> K {
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("a schema-valid object does not decode: {e}\n{v}"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = manifests::parse("fuzz", text) else {
        return;
    };
    let Some((_, mut v)) = docs.into_iter().next() else {
        return;
    };
    let Some(kind) = v.get("kind").and_then(Value::as_str).and_then(Kind::parse) else {
        return;
    };
    // The API server owns metadata (the CRD schema does not cover it): keep a valid name only.
    let name = match v.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if dns_subdomain(n) => n.to_string(),
        _ => return,
    };
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    obj.insert(
        "metadata".into(),
        serde_json::json!({"name": name, "namespace": "team-a", "uid": "6c9ad7b4-0a53-4c3e-9a55-0d1f5e2b7c11"}),
    );
    obj.remove("status");
    // As admitted: fields written as null are dropped, as `plan`'s validator does.
    let v = strip_nulls(&v);
    if !schemas().check(kind, &v, None).invalid.is_empty() {
        return;
    }
    match kind {
        Kind::VpnGateway => {
            let obj: VpnGateway = typed(&v);
            let name = cloud_name(
                obj.spec.name.as_deref(),
                obj.metadata.name.as_deref().unwrap_or_default(),
            );
            let tags = desired_tags("fuzz", &obj, &obj.spec.tags);
            cloud_rules(&name, &tags);
            roundtrip(&vpn_gateway::plan::desired_create(&obj.spec, &name, &tags));
        }
        Kind::CustomerGateway => {
            let obj: CustomerGateway = typed(&v);
            let name = cloud_name(
                obj.spec.name.as_deref(),
                obj.metadata.name.as_deref().unwrap_or_default(),
            );
            let tags = desired_tags("fuzz", &obj, &obj.spec.tags);
            cloud_rules(&name, &tags);
            roundtrip(&customer_gateway::plan::desired_create(
                &obj.spec, &name, tags,
            ));
        }
        Kind::VpnConnection => {
            let obj: VpnConnection = typed(&v);
            let name = cloud_name(
                obj.spec.name.as_deref(),
                obj.metadata.name.as_deref().unwrap_or_default(),
            );
            let tags = desired_tags("fuzz", &obj, &obj.spec.tags);
            cloud_rules(&name, &tags);
            let gw = vpn_connection::refs::ResolvedGateway {
                id: "5f0e3a1c-2b4d-4e6f-8a9b-0c1d2e3f4a5b".into(),
                vgw_ip: "e0000000-0000-4000-8000-000000000001".into(),
                address: Some("203.0.113.10".into()),
            };
            let psk = vpn_connection::psk::Psk::new("Fuzz-Psk-2024".into());
            roundtrip(&vpn_connection::desired::desired_create(
                &obj.spec,
                &name,
                &gw,
                "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                Some(&psk),
                tags,
            ));
        }
        Kind::CloudVpnService => {
            let obj: CloudVpnService = typed(&v);
            let name = cloud_vpn_service::desired::service_name(&obj);
            roundtrip(&cloud_vpn_service::desired::create_request(
                &obj.spec,
                &name,
                "def-0001",
                "tmpl-0001",
            ));
        }
    }
});
