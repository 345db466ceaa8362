//! Writing `status`: one merge patch of `/status`, only when something changed.
//!
//! A merge patch leaves keys it does not mention in place, so [`merge_patch`] turns
//! "old status → new status" into a patch that also nulls the keys that disappeared.
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::Result;
use crate::crd::common::DriftEntry;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Most drift entries a status holds (the CRD schema's limit).
pub const MAX_DRIFT: usize = 20;

/// One field whose cloud value differs from the desired value, as found by a kind's pure
/// `drift` function (before detection times are attached).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDiff {
    /// Spec field path in camelCase, e.g. `ikePolicy.lifetimeSeconds`.
    pub field: String,
    /// Desired value as text (never a secret).
    pub desired: String,
    /// Cloud value as text.
    pub observed: String,
    /// Whether the cloud can change this field in place (false: immutable after creation).
    pub updatable: bool,
}

impl FieldDiff {
    pub fn new(
        field: impl Into<String>,
        desired: impl Into<String>,
        observed: impl Into<String>,
        updatable: bool,
    ) -> Self {
        Self {
            field: field.into(),
            desired: desired.into(),
            observed: observed.into(),
            updatable,
        }
    }
}

/// The `status.drift` list for `diffs`: an entry keeps its `detectedAt` from `prev` while the
/// same field differs in the same way, and gets `now` otherwise. At most [`MAX_DRIFT`] entries.
pub fn drift_entries(prev: &[DriftEntry], diffs: &[FieldDiff], now: &Time) -> Vec<DriftEntry> {
    diffs
        .iter()
        .take(MAX_DRIFT)
        .map(|d| {
            let detected_at = prev
                .iter()
                .find(|p| p.field == d.field && p.desired == d.desired && p.observed == d.observed)
                .map_or_else(|| now.clone(), |p| p.detected_at.clone());
            DriftEntry {
                field: d.field.clone(),
                desired: d.desired.clone(),
                observed: d.observed.clone(),
                detected_at,
            }
        })
        .collect()
}

/// The diffs whose field was not drifting in `prev` (for a `DriftDetected` event only when
/// something new appears, not on every resync).
pub fn new_drift<'a>(prev: &[DriftEntry], diffs: &'a [FieldDiff]) -> Vec<&'a FieldDiff> {
    diffs
        .iter()
        .filter(|d| !prev.iter().any(|p| p.field == d.field))
        .collect()
}

/// The JSON merge patch (RFC 7386) that turns `old` into `new`; `None` when they are equal.
pub fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) => {
                        if let Some(p) = merge_patch(ov, nv) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys() {
                if !n.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            Some(Value::Object(patch))
        }
        // Arrays and scalars are replaced whole, as merge patch does.
        _ => Some(new.clone()),
    }
}

/// Patches `/status` of `name` from `old` to `new`. Returns whether a write was made.
pub async fn write_status<K, S>(api: &Api<K>, name: &str, old: Option<&S>, new: &S) -> Result<bool>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let old = match old {
        Some(s) => serde_json::to_value(s).unwrap_or(Value::Null),
        None => Value::Object(Map::new()),
    };
    let new = serde_json::to_value(new).unwrap_or(Value::Null);
    let Some(patch) = merge_patch(&old, &new) else {
        return Ok(false);
    };
    let body = serde_json::json!({ "status": patch });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unchanged_status_needs_no_write() {
        let s = json!({"cloudId": "a", "conditions": [{"type": "Ready"}]});
        assert_eq!(merge_patch(&s, &s), None);
    }

    #[test]
    fn removed_keys_are_nulled_and_nested_objects_merged() {
        let old =
            json!({"cloudId": "a", "eip1": {"id": "e1", "ipAddress": "1.2.3.4"}, "drift": [1]});
        let new = json!({"cloudId": "a", "eip1": {"id": "e1"}, "cloudState": "ACTIVE"});
        assert_eq!(
            merge_patch(&old, &new),
            Some(json!({"eip1": {"ipAddress": null}, "drift": null, "cloudState": "ACTIVE"}))
        );
    }

    fn at(seconds: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(seconds).unwrap_or_default())
    }

    #[test]
    fn drift_keeps_first_detection_time_while_the_difference_is_unchanged() {
        let prev = drift_entries(&[], &[FieldDiff::new("name", "a", "b", true)], &at(10));
        let same = drift_entries(&prev, &[FieldDiff::new("name", "a", "b", true)], &at(20));
        assert_eq!(same[0].detected_at, at(10));
        let changed = drift_entries(&prev, &[FieldDiff::new("name", "a", "c", true)], &at(30));
        assert_eq!(changed[0].detected_at, at(30));
        assert!(drift_entries(&prev, &[], &at(40)).is_empty());
    }

    #[test]
    fn drift_is_capped_and_only_new_fields_count_as_new() {
        let many: Vec<FieldDiff> = (0..30)
            .map(|i| FieldDiff::new(format!("f{i}"), "a", "b", true))
            .collect();
        let entries = drift_entries(&[], &many, &at(0));
        assert_eq!(entries.len(), MAX_DRIFT);
        let diffs = [
            FieldDiff::new("f0", "a", "z", true),
            FieldDiff::new("other", "a", "b", true),
        ];
        let fresh: Vec<&str> = new_drift(&entries, &diffs)
            .iter()
            .map(|d| d.field.as_str())
            .collect();
        assert_eq!(fresh, ["other"]);
    }

    #[test]
    fn arrays_are_replaced_whole() {
        let old = json!({"conditions": [{"type": "Ready", "status": "False"}]});
        let new = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        assert_eq!(merge_patch(&old, &new), Some(new.clone()));
    }
}
