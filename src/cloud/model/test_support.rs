//! Helpers for the model tests: load the documented JSON examples from
//! `tests/fixtures/vpn/` and check decode / re-encode fidelity.
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The fixture `tests/fixtures/vpn/<name>.json` as JSON.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/vpn/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {path} is not JSON: {e}"))
}

/// Decodes a fixture into `T`, failing the test with the serde error.
pub(crate) fn decode<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(fixture(name))
        .unwrap_or_else(|e| panic!("fixture {name} does not decode: {e}"))
}

/// Decodes a fixture, re-encodes it and asserts the JSON is unchanged (so no
/// documented field was dropped or renamed) and that decoding again gives the same value.
pub(crate) fn round_trip<T>(name: &str) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let original = fixture(name);
    let decoded: T = decode(name);
    let encoded = serde_json::to_value(&decoded).expect("models always serialize");
    assert_eq!(encoded, original, "fixture {name} changed on re-encode");
    let again: T = serde_json::from_value(encoded).expect("re-encoded JSON decodes");
    assert_eq!(again, decoded);
    decoded
}
