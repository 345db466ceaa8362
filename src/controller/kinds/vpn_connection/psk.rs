//! The pre-shared key: read from its Secret, checked against the documented rules, hashed.
//! The value only ever leaves here inside a [`Redacted`] bound for the cloud.
use sha2::{Digest, Sha256};

use crate::cloud::model::common::Redacted;
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::Result;
use crate::crd::common::SecretKeySelector;

/// A pre-shared key read from its Secret. `Debug` never shows the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Psk {
    /// The key, to send to the cloud only.
    pub value: Redacted<String>,
    /// Its hex SHA-256, the only form that is stored or compared.
    pub sha256: String,
}

impl Psk {
    /// Wraps a key read from a Secret.
    pub fn new(value: String) -> Self {
        let sha256 = psk_sha256(&value);
        Self {
            value: Redacted::new(value),
            sha256,
        }
    }
}

/// Hex SHA-256 of a pre-shared key.
pub fn psk_sha256(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The special characters a pre-shared key may contain: every character any documented table
/// allows (see the constant's documentation).
pub use crate::cloud::model::connection::PSK_SPECIALS;

/// What is wrong with a pre-shared key, if anything (8-128 characters of letters, digits and
/// [`PSK_SPECIALS`], with at least three of: upper case, lower case, digits, specials). The
/// answer never contains the key or any of its characters.
pub fn psk_problem(value: &str) -> Option<String> {
    let len = value.chars().count();
    if !(8..=128).contains(&len) {
        return Some(format!(
            "the pre-shared key must have 8-128 characters (it has {len})"
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || PSK_SPECIALS.contains(c))
    {
        return Some(format!(
            "the pre-shared key may only contain letters, digits and {PSK_SPECIALS}"
        ));
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| PSK_SPECIALS.contains(c)),
    ];
    if classes.iter().filter(|b| **b).count() < 3 {
        return Some(
            "the pre-shared key must contain at least three of: upper-case letters, lower-case \
             letters, digits, special characters"
                .into(),
        );
    }
    None
}

/// The key from a Secret's data: UTF-8, a trailing line break removed (files made with `echo`
/// end with one; a line break is never part of a valid key), then checked with [`psk_problem`].
/// Errors are `problem` texts for [`Error::Secret`]; they never contain the value.
pub fn psk_from_data(data: Option<&[u8]>, key: &str) -> std::result::Result<Psk, String> {
    let bytes =
        data.ok_or_else(|| format!("has no key {key:?}; add the pre-shared key under it"))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| format!("key {key:?} is not UTF-8 text"))?
        .trim_end_matches(['\n', '\r']);
    if let Some(problem) = psk_problem(text) {
        return Err(format!("key {key:?}: {problem}"));
    }
    Ok(Psk::new(text.to_string()))
}

pub use crate::controller::runtime::secrets::SecretProblem;

/// The pre-shared key `sel` names in `namespace`, from the runtime's Secret cache (forgotten
/// when the Secret changes, so a rotated key is read at once). A missing Secret or key, or a key
/// the cloud would refuse, is a [`SecretProblem`]; failing to read it, an error.
pub async fn read_psk(
    ctx: &Context,
    namespace: &str,
    sel: &SecretKeySelector,
) -> Result<std::result::Result<Psk, SecretProblem>> {
    let err = |problem: String| SecretProblem {
        namespace: namespace.to_string(),
        name: sel.name.clone(),
        problem,
    };
    let Some(secret) = ctx.kube.secret(namespace, &sel.name).await? else {
        return Ok(Err(err(format!(
            "not found; create it with the pre-shared key under key {:?}",
            sel.key
        ))));
    };
    Ok(psk_from_data(secret.data.get(&sel.key).map(Vec::as_slice), &sel.key).map_err(err))
}
