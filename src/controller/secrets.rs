//! Reading Kubernetes Secrets the operator is pointed at (cloud credentials, pre-shared keys).
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;

/// The Secret's keys and values: `data`, with `stringData` merged over it. A real API server
/// folds `stringData` into `data` on write, so on a cluster only `data` is ever set; API
/// stand-ins that store the object as written keep `stringData`, and reading both makes the
/// operator behave the same on them.
pub fn secret_data(secret: Secret) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.insert(k, v.into_bytes());
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    #[test]
    fn string_data_is_merged_over_data() {
        let s = Secret {
            data: Some(BTreeMap::from([
                ("a".to_string(), ByteString(b"1".to_vec())),
                ("b".to_string(), ByteString(b"2".to_vec())),
            ])),
            string_data: Some(BTreeMap::from([("b".to_string(), "3".to_string())])),
            ..Default::default()
        };
        let d = secret_data(s);
        assert_eq!(d["a"], b"1");
        assert_eq!(d["b"], b"3");
    }
}
