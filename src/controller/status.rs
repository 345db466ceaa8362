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

    #[test]
    fn arrays_are_replaced_whole() {
        let old = json!({"conditions": [{"type": "Ready", "status": "False"}]});
        let new = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        assert_eq!(merge_patch(&old, &new), Some(new.clone()));
    }
}
