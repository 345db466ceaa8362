//! The AK/SK signer's canonical request with arbitrary methods, paths, queries and headers:
//! nothing may panic, and a request signed the way the client signs it and sent the way the
//! client sends it (URL path and query as the transport builds them, headers as an
//! `http::HeaderMap`) is always accepted by the simulator's verifier.
//!
//! Input, one item a line: method, path, query pairs (`k=v&k2=v2`, each side
//! percent-decoded, so `%26` is an `&` inside a value), then header lines `Name: value` up to
//! an empty line, then the body (any bytes).
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use vpn_operator::cloud::signer::{self, SignableRequest};
use vpn_operator::sim::auth::{authenticate, Principal, SignedParts, TokenStore};
use vpn_operator::sim::ProjectConfig;

const PROJECT: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f9";
const AK: &str = "FUZZACCESSKEY0000001";
const SK: &str = "fuzz-secret-key";
const HOST: &str = "vpn.fuzz.example.com";

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let mut lines = head.split('\n');
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let query: Vec<(String, String)> = lines
        .next()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let extra: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();

    // The canonical form of anything must not panic.
    let _ = signer::canonical_request(&SignableRequest {
        method,
        path,
        query: &query,
        headers: &extra,
        body,
    });

    // What the client can send: a valid method, a URL it can build, header names and values
    // `http` accepts.
    let Ok(method) = http::Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let mut url = url::Url::parse(&format!("https://{HOST}/")).expect("base URL");
    url.set_path(path);
    if !query.is_empty() {
        url.set_query(Some(&signer::canonical_query(&query)));
    }
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Host".into(), HOST.into()),
        ("X-Project-Id".into(), PROJECT.into()),
    ];
    for (name, value) in extra {
        let reserved = [
            "host",
            "x-sdk-date",
            "x-auth-token",
            "x-security-token",
            "x-project-id",
            "authorization",
        ];
        if reserved.iter().any(|r| name.trim().eq_ignore_ascii_case(r)) {
            continue;
        }
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => headers.push((name, value)),
        }
    }
    headers.push((signer::SDK_DATE_HEADER.into(), signer::format_sdk_date(now)));
    let signed = signer::sign(
        &SignableRequest {
            method: method.as_str(),
            path: url.path(),
            query: &query,
            headers: &headers,
            body,
        },
        AK,
        SK,
        now,
    );
    headers.push(("Authorization".into(), signed.authorization));
    let mut map = http::HeaderMap::new();
    for (name, value) in &headers {
        let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            return; // the client refuses to send it
        };
        map.insert(n, v);
    }
    // The URI the server receives.
    let Ok(uri) = url.as_str().parse::<http::Uri>() else {
        return;
    };
    let projects = vec![ProjectConfig::new(PROJECT, AK, SK)];
    let verdict = authenticate(
        &SignedParts {
            method: method.as_str(),
            path: uri.path(),
            raw_query: uri.query(),
            headers: &map,
            body,
        },
        PROJECT,
        &projects,
        &TokenStore::default(),
        now,
        now,
    );
    match verdict {
        Ok(Principal::AccessKey(ak)) => assert_eq!(ak, AK),
        other => panic!(
            "a signed request was refused: {other:?}\nmethod {method}\nurl {url}\nheaders {:?}",
            map.keys().collect::<Vec<_>>()
        ),
    }
});
