//! SDK-HMAC-SHA256: the AK/SK request signing of Huawei Cloud APIs.
//!
//! Pure functions, time injected, shaped like `aws-sigv4`: [`canonical_request`] builds
//! the canonical form, [`sign`] returns the headers to add. The simulator verifies
//! signatures with the same [`canonical_request`] and [`signature`].
//!
//! Algorithm (vendor page "API signing algorithm", see research notes A6):
//! 1. canonical request = method `\n` canonical URI (always ends with `/`) `\n`
//!    sorted RFC 3986 query `\n` canonical headers (lowercase `name:value\n`, sorted) `\n`
//!    signed headers (`;`-joined) `\n` hex(sha256(body));
//! 2. string to sign = `SDK-HMAC-SHA256\n{X-Sdk-Date}\n{hex(sha256(canonical request))}`;
//! 3. signature = hex(HMAC-SHA256(SK, string to sign)) (the raw SK is the key);
//! 4. `Authorization: SDK-HMAC-SHA256 Access={AK}, SignedHeaders={..}, Signature={..}`.
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The algorithm name used in `Authorization` and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header carrying the signing time, `YYYYMMDDTHHMMSSZ`.
pub const SDK_DATE_HEADER: &str = "X-Sdk-Date";
/// `strftime` format of `X-Sdk-Date`.
pub const SDK_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// RFC 3986 unreserved characters are left alone; everything else is `%XY` (uppercase).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A borrowed, transport-agnostic view of a request to sign.
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// The path as sent, e.g. `/v5/{project}/vpn-gateways` (no query). Already percent-encoded segments are kept.
    pub path: &'a str,
    /// Query pairs, decoded (they are encoded here).
    pub query: &'a [(String, String)],
    /// Headers to sign (name, value); names are matched case-insensitively.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl std::fmt::Debug for SignableRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bodies can hold pre-shared keys: never print them.
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What to add to the request to make it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// Value of `X-Sdk-Date` (must be sent, and signed, with the request).
    pub sdk_date: String,
    /// Value of `Authorization`.
    pub authorization: String,
    /// The lowercase `;`-joined signed header names.
    pub signed_headers: String,
    /// Hex signature.
    pub signature: String,
}

/// The canonical URI: each segment RFC 3986 encoded (unless already encoded), always ending with `/`.
pub fn canonical_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let decoded = percent_encoding::percent_decode_str(seg).decode_utf8_lossy();
        out.extend(utf8_percent_encode(&decoded, RFC3986));
    }
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string: pairs encoded with RFC 3986 and sorted by key then value.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| {
            (
                utf8_percent_encode(k, RFC3986).to_string(),
                utf8_percent_encode(v, RFC3986).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lowercased, trimmed, sorted headers: returns (canonical headers block, signed headers list).
pub fn canonical_headers(headers: &[(String, String)]) -> (String, String) {
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    hs.sort();
    let block: String = hs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = hs
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (block, signed)
}

/// The canonical request of step 1.
pub fn canonical_request(req: &SignableRequest<'_>) -> String {
    let (headers, signed) = canonical_headers(req.headers);
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query),
        headers,
        signed,
        hex::encode(Sha256::digest(req.body))
    )
}

/// The string to sign of step 2.
pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The hex signature of step 3.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Formats a time as `X-Sdk-Date`.
pub fn format_sdk_date(now: DateTime<Utc>) -> String {
    now.format(SDK_DATE_FORMAT).to_string()
}

/// Parses an `X-Sdk-Date` value.
pub fn parse_sdk_date(value: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(value, SDK_DATE_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

/// Signs `req` at time `now`. `req.headers` must already contain `Host` and
/// `X-Sdk-Date` with the value [`format_sdk_date`]`(now)` (and `X-Project-Id`,
/// `X-Security-Token` when used), since every given header is signed.
pub fn sign(
    req: &SignableRequest<'_>,
    access_key: &str,
    secret_key: &str,
    now: DateTime<Utc>,
) -> SigningOutput {
    let sdk_date = format_sdk_date(now);
    let canonical = canonical_request(req);
    let sts = string_to_sign(&canonical, &sdk_date);
    let sig = signature(secret_key, &sts);
    let (_, signed_headers) = canonical_headers(req.headers);
    SigningOutput {
        authorization: format!(
            "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={sig}"
        ),
        sdk_date,
        signed_headers,
        signature: sig,
    }
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses an `Authorization` header value; `None` when it is not SDK-HMAC-SHA256.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.strip_prefix(ALGORITHM)?.trim_start();
    let (mut ak, mut sh, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => ak = Some(v.to_string()),
            "SignedHeaders" => sh = Some(v.split(';').map(|s| s.to_ascii_lowercase()).collect()),
            "Signature" => sig = Some(v.to_string()),
            _ => {}
        }
    }
    Some(ParsedAuthorization {
        access_key: ak?,
        signed_headers: sh?,
        signature: sig?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden_headers() -> Vec<(String, String)> {
        vec![
            ("Content-Type".into(), "application/json".into()),
            ("Host".into(), "service.region.example.com".into()),
            ("X-Sdk-Date".into(), "20191115T033655Z".into()),
        ]
    }

    fn golden_query() -> Vec<(String, String)> {
        vec![
            ("limit".into(), "2".into()),
            (
                "marker".into(),
                "13551d6b-755d-4757-b956-536f674975c0".into(),
            ),
        ]
    }

    /// The published vendor vector (research notes A6).
    #[test]
    fn published_golden_vector() {
        let headers = golden_headers();
        let query = golden_query();
        let req = SignableRequest {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&req);
        assert!(canonical.contains("\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n"));
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        let now = parse_sdk_date("20191115T033655Z").unwrap();
        let out = sign(
            &req,
            "QTWAOYTTINDUT2QVKYUC",
            "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
            now,
        );
        assert_eq!(
            out.signature,
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
        assert_eq!(
            out.authorization,
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
        let parsed = parse_authorization(&out.authorization).unwrap();
        assert_eq!(parsed.access_key, "QTWAOYTTINDUT2QVKYUC");
        assert_eq!(
            parsed.signed_headers,
            ["content-type", "host", "x-sdk-date"]
        );
    }

    #[test]
    fn trailing_slash_matters() {
        let headers = golden_headers();
        let query = golden_query();
        let canonical = canonical_request(&SignableRequest {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/",
            query: &query,
            headers: &headers,
            body: b"",
        });
        // Same hash whether or not the caller already added the slash.
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
    }

    #[test]
    fn query_is_sorted_and_rfc3986_encoded() {
        let q = vec![
            ("b".to_string(), "x y".to_string()),
            ("a".to_string(), "~-_.*".to_string()),
            ("a".to_string(), "0".to_string()),
        ];
        assert_eq!(canonical_query(&q), "a=0&a=~-_.%2A&b=x%20y");
    }

    #[test]
    fn debug_hides_body() {
        let req = SignableRequest {
            method: "POST",
            path: "/",
            query: &[],
            headers: &[],
            body: b"{\"psk\":\"secret-psk\"}",
        };
        assert!(!format!("{req:?}").contains("secret-psk"));
    }
}
