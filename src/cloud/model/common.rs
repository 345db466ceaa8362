//! Wire types shared by every VPN v5 API area: resource tags, paging, request-id
//! wrappers, timestamps, secret redaction, query parameters and the IKE/IPsec
//! algorithm enums used by both gateway policy templates and connections.
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

wire_enum! {
    /// IKE / IPsec authentication (hash) algorithm. `sha1` and `md5` are flagged as
    /// weak by the documentation; `sm3` is for GM (national cryptography) gateways only.
    /// Policy templates of non-fixed-IP gateways accept only the `sha2-*` values.
    pub enum AuthenticationAlgorithm {
        Sha2_512 = "sha2-512",
        Sha2_384 = "sha2-384",
        Sha2_256 = "sha2-256",
        Sha1 = "sha1",
        Md5 = "md5",
        Sm3 = "sm3",
    }
}

wire_enum! {
    /// IKE / IPsec encryption algorithm. `3des` and the CBC `aes-*` values are flagged
    /// as weak; `sm4` is for GM gateways only. Policy templates accept the `aes-*` values.
    pub enum EncryptionAlgorithm {
        Aes256Gcm16 = "aes-256-gcm-16",
        Aes128Gcm16 = "aes-128-gcm-16",
        Aes256 = "aes-256",
        Aes192 = "aes-192",
        Aes128 = "aes-128",
        TripleDes = "3des",
        Sm4 = "sm4",
    }
}

wire_enum! {
    /// Diffie-Hellman group: IKE `dh_group` and IPsec `pfs`. `disable` is documented for
    /// `pfs` (and, in policy templates, also for `dh_group`). `group1/2/5/14` are flagged weak.
    pub enum DhGroup {
        Group1 = "group1",
        Group2 = "group2",
        Group5 = "group5",
        Group14 = "group14",
        Group15 = "group15",
        Group16 = "group16",
        Group19 = "group19",
        Group20 = "group20",
        Group21 = "group21",
        Disable = "disable",
    }
}

/// A resource tag (`VpnResourceTag`). At most 20 per resource / request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnResourceTag {
    /// 1-128 characters: letters, digits, Chinese characters, spaces and `_ . : = + - @`.
    pub key: String,
    /// 0-255 characters, same character set. Absent is read as empty.
    #[serde(default)]
    pub value: String,
}

impl VpnResourceTag {
    /// A tag from key and value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// `page_info` of marker-paged lists (customer gateways, connections, routing table).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// Marker for the next page: the creation time of the last record of this page.
    /// Present even on the last page in the documented examples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Records on this page; fewer than `limit` means this is the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_count: Option<u64>,
}

/// One page of a marker-paged list, as returned by the client (not a wire type).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass as `marker` to get the next page; `None` when this was the last page.
    pub next_marker: Option<String>,
    /// Total matching records (all pages), when the API reported it.
    pub total_count: Option<u64>,
}

impl<T> Page<T> {
    /// Builds a page, deciding whether a next page exists the documented way: the
    /// page is the last one when it holds fewer records than `limit`, or is empty,
    /// or no marker came back (the API returns a marker even on the last page).
    pub fn from_wire(
        items: Vec<T>,
        page_info: Option<PageInfo>,
        total_count: Option<u64>,
        limit: u32,
    ) -> Self {
        let info = page_info.unwrap_or_default();
        let returned = info
            .current_count
            .unwrap_or(items.len() as u64)
            .max(items.len() as u64);
        let next_marker = match info.next_marker {
            Some(m) if !m.is_empty() && !items.is_empty() && returned >= u64::from(limit) => {
                Some(m)
            }
            _ => None,
        };
        Self {
            items,
            next_marker,
            total_count,
        }
    }
}

/// A response whose body carries only `request_id` (e.g. reset connection).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestIdResponse {
    /// Request ID, for support tickets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A write-only secret (pre-shared key, private key). Serializes as the plain value
/// (it must reach the API) but `Debug` prints `<redacted>`, so it never reaches logs.
/// Read it with [`Redacted::expose`], which keeps every use greppable.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The secret itself. Never log or display the result.
    pub fn expose(&self) -> &T {
        &self.0
    }
    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Redacted<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Redacted<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// A timestamp as the API sends it. The text is kept verbatim (so responses
/// round-trip byte for byte and a malformed value never fails a whole response);
/// [`Timestamp::to_datetime`] parses it leniently.
///
/// Documented format: UTC `yyyy-MM-ddTHH:mm:ss.SSSZ`. Seen in the examples and
/// accepted: 1-9 fraction digits (`02:22:27.24Z`), no fraction, `+08:00` offsets.
/// Also accepted (assumption, never seen): a missing offset (read as UTC), a space
/// instead of `T`, and `+0800`-style offsets.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Wraps wire text without checking it.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// Formats an instant the documented way: UTC with milliseconds,
    /// e.g. `2025-06-28T02:22:27.240Z`.
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self(at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    /// The current time, formatted like [`Timestamp::from_datetime`].
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant with its original offset, or `None` when the text is not a timestamp.
    pub fn to_datetime(&self) -> Option<DateTime<FixedOffset>> {
        parse_lenient(&self.0)
    }

    /// The instant in UTC, or `None` when the text is not a timestamp.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        self.to_datetime().map(|d| d.with_timezone(&Utc))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({:?})", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self::from_datetime(at)
    }
}

fn parse_lenient(raw: &str) -> Option<DateTime<FixedOffset>> {
    let text = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at);
    }
    let text = text.replacen(' ', "T", 1);
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Some(at);
    }
    if let Ok(at) = DateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(at);
    }
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc().fixed_offset())
}

/// A query parameter that could not be read (used when parsing list queries).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{name}` has an invalid value {value:?}: {expected}")]
pub struct InvalidQuery {
    /// Parameter name, e.g. `limit`.
    pub name: String,
    /// The value received.
    pub value: String,
    /// What the API documents for it.
    pub expected: &'static str,
}

/// List-query parameters that convert to and from `(name, value)` pairs.
/// Array parameters (`enterprise_project_id`) repeat the name once per value.
pub trait QueryParams: Sized {
    /// The pairs to send, in a stable order; unset parameters are left out.
    fn to_pairs(&self) -> Vec<(String, String)>;
    /// Reads the pairs of a request; unknown names are ignored.
    fn from_pairs<'a, I>(pairs: I) -> Result<Self, InvalidQuery>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>;
}

/// Parses an integer query parameter.
pub(crate) fn parse_u32(
    name: &str,
    value: &str,
    expected: &'static str,
) -> Result<u32, InvalidQuery> {
    value.trim().parse().map_err(|_| InvalidQuery {
        name: name.to_owned(),
        value: value.to_owned(),
        expected,
    })
}

/// Pushes `name=value` when set.
pub(crate) fn push_opt(
    pairs: &mut Vec<(String, String)>,
    name: &str,
    value: Option<&impl ToString>,
) {
    if let Some(v) = value {
        pairs.push((name.to_owned(), v.to_string()));
    }
}

/// Pushes `name=value` once per value.
pub(crate) fn push_all(pairs: &mut Vec<(String, String)>, name: &str, values: &[String]) {
    pairs.extend(values.iter().map(|v| (name.to_owned(), v.clone())));
}

#[cfg(test)]
mod tests;
