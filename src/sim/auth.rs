//! Authentication of API calls: SDK-HMAC-SHA256 signatures checked against the configured
//! AK/SK pairs, or `X-Auth-Token` checked against configured and issued tokens; plus the IAM
//! token issuer behind `POST /v3/auth/tokens`.
//!
//! Failures answer like the vendor's API gateway (401 `APIGW.0301`, "Incorrect IAM
//! authentication information: ..."), with the wording of its FAQ: `x-auth-token not found`,
//! `decrypt token fail`, `verify aksk signature fail`, `Get secretKey failed,ak:..,err:ak not
//! exist`. A signature more than 15 minutes away from the server's wall clock is refused as
//! `signature expired` (research notes A6). Credentials valid for another project than the
//! one in the path get 403 `VPN.0003`.
use std::collections::HashMap;

use axum::http::HeaderMap;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::{json, Value};

use super::config::ProjectConfig;
use super::errors::ApiError;
use crate::cloud::signer;

/// Largest clock skew accepted on `X-Sdk-Date`.
pub const MAX_SKEW_MINUTES: i64 = 15;
/// Lifetime of an issued IAM token (documented: 24 hours).
pub const TOKEN_LIFETIME_HOURS: i64 = 24;

/// The parts of a request the signature covers.
pub struct SignedParts<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The raw query string, if any.
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A token issued by the simulated IAM.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub project_id: String,
    pub user: String,
    pub expires_at: DateTime<Utc>,
}

/// Tokens issued by `POST /v3/auth/tokens`, by token value.
#[derive(Default)]
pub struct TokenStore {
    tokens: HashMap<String, IssuedToken>,
}

impl TokenStore {
    pub fn insert(&mut self, token: String, t: IssuedToken) {
        self.tokens.insert(token, t);
    }

    pub fn get(&self, token: &str) -> Option<&IssuedToken> {
        self.tokens.get(token)
    }

    /// Makes every issued token expire (admin API), so clients must fetch new ones.
    pub fn expire_all(&mut self, now: DateTime<Utc>) {
        for t in self.tokens.values_mut() {
            t.expires_at = now - ChronoDuration::seconds(1);
        }
    }
}

/// Who made an authenticated call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    AccessKey(String),
    Token,
}

/// Decodes a raw query string into pairs the way the signer expects them (decoded).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a call to `project_id`. `wall_now` is the machine's clock (not the simulated one).
pub fn authenticate(
    req: &SignedParts<'_>,
    project_id: &str,
    projects: &[ProjectConfig],
    tokens: &TokenStore,
    sim_now: DateTime<Utc>,
    wall_now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    if let Some(auth) = header(req.headers, "authorization") {
        return verify_signature(req, auth, project_id, projects, wall_now);
    }
    if let Some(token) = header(req.headers, "x-auth-token") {
        return verify_token(token, project_id, projects, tokens, sim_now);
    }
    Err(ApiError::iam_auth("x-auth-token not found"))
}

fn verify_token(
    token: &str,
    project_id: &str,
    projects: &[ProjectConfig],
    tokens: &TokenStore,
    now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    // Configured tokens never expire; issued ones last 24 hours.
    let configured_for = |p: &ProjectConfig| p.tokens.iter().any(|t| t.expose() == token);
    if projects.iter().any(configured_for) {
        return if projects
            .iter()
            .any(|p| p.id == project_id && configured_for(p))
        {
            Ok(Principal::Token)
        } else {
            Err(wrong_project(project_id))
        };
    }
    match tokens.get(token) {
        Some(t) if t.expires_at > now => {
            if t.project_id == project_id {
                Ok(Principal::Token)
            } else {
                Err(wrong_project(project_id))
            }
        }
        // The FAQ lists an expired token as one cause of "decrypt token fail".
        _ => Err(ApiError::iam_auth("decrypt token fail")),
    }
}

fn wrong_project(project_id: &str) -> ApiError {
    ApiError::forbidden(format!(
        "the credentials are not authorized for project {project_id}"
    ))
}

fn verify_signature(
    req: &SignedParts<'_>,
    authorization: &str,
    project_id: &str,
    projects: &[ProjectConfig],
    wall_now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    let fail = |why: &str| ApiError::iam_auth(format!("verify aksk signature fail, {why}"));
    let parsed = signer::parse_authorization(authorization)
        .ok_or_else(|| fail("the Authorization header is not SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=.."))?;
    let owners: Vec<&ProjectConfig> = projects
        .iter()
        .filter(|p| {
            p.access_keys
                .iter()
                .any(|k| k.access_key == parsed.access_key)
        })
        .collect();
    let Some(key) = owners
        .iter()
        .flat_map(|p| p.access_keys.iter())
        .find(|k| k.access_key == parsed.access_key)
    else {
        return Err(ApiError::iam_auth(format!(
            "Get secretKey failed,ak:{},err:ak not exist",
            parsed.access_key
        )));
    };
    for required in ["host", "x-sdk-date"] {
        if !parsed.signed_headers.iter().any(|h| h == required) {
            return Err(fail(&format!("SignedHeaders must include {required}")));
        }
    }
    let sdk_date = header(req.headers, signer::SDK_DATE_HEADER)
        .ok_or_else(|| fail("the X-Sdk-Date header is missing"))?;
    let signed_at = signer::parse_sdk_date(sdk_date)
        .ok_or_else(|| fail("X-Sdk-Date must look like 20240416T095341Z"))?;
    if (wall_now - signed_at).num_seconds().abs() > MAX_SKEW_MINUTES * 60 {
        return Err(fail(&format!(
            "signature expired: X-Sdk-Date {sdk_date} is more than {MAX_SKEW_MINUTES} minutes away from the server time {}",
            signer::format_sdk_date(wall_now)
        )));
    }
    let mut signed: Vec<(String, String)> = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        // Repeated headers are joined with commas (vendor SDK behaviour).
        let values: Vec<&str> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return Err(fail(&format!("signed header {name} is missing")));
        }
        signed.push((name.clone(), values.join(",")));
    }
    let query = query_pairs(req.raw_query);
    let canonical = signer::canonical_request(&signer::SignableRequest {
        method: req.method,
        path: req.path,
        query: &query,
        headers: &signed,
        body: req.body,
    });
    let expected = signer::signature(
        key.secret_key.expose(),
        &signer::string_to_sign(&canonical, sdk_date),
    );
    if !constant_time_eq(
        expected.as_bytes(),
        parsed.signature.to_ascii_lowercase().as_bytes(),
    ) {
        return Err(ApiError::iam_auth("verify aksk signature fail"));
    }
    if !owners.iter().any(|p| p.id == project_id) {
        return Err(wrong_project(project_id));
    }
    if let Some(p) = header(req.headers, "x-project-id") {
        if p != project_id {
            return Err(ApiError::forbidden(format!(
                "X-Project-Id {p} does not match the project {project_id} in the path"
            )));
        }
    }
    Ok(Principal::AccessKey(parsed.access_key))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A successful token request: the token (for `X-Subject-Token`) and the response body.
pub struct TokenGrant {
    pub token: String,
    pub issued: IssuedToken,
    pub body: Value,
}

/// IAM-style error (`{"error_msg", "error_code"}` as in the reference's IAM example).
fn iam_error(status: axum::http::StatusCode, code: &'static str, msg: &str) -> ApiError {
    ApiError::new(status, code, msg)
}

/// `POST /v3/auth/tokens` with the password method and a project scope (by id or name).
pub fn issue_token(
    body: &[u8],
    projects: &[ProjectConfig],
    now: DateTime<Utc>,
) -> Result<TokenGrant, ApiError> {
    use axum::http::StatusCode;
    let invalid = || {
        iam_error(
            StatusCode::BAD_REQUEST,
            "IAM.0011",
            "Request body is invalid.",
        )
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let identity = &v["auth"]["identity"];
    let methods_ok = identity["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x == "password"));
    let user = &identity["password"]["user"];
    let (Some(name), Some(password)) = (user["name"].as_str(), user["password"].as_str()) else {
        return Err(invalid());
    };
    if !methods_ok {
        return Err(invalid());
    }
    let domain = user["domain"]["name"].as_str();
    let scope = &v["auth"]["scope"]["project"];
    let project = projects
        .iter()
        .find(|p| {
            scope["id"].as_str() == Some(p.id.as_str())
                || scope["name"].as_str() == Some(p.name.as_str())
        })
        .ok_or_else(|| {
            iam_error(
                StatusCode::BAD_REQUEST,
                "IAM.0007",
                "Request parameter auth.scope.project is invalid.",
            )
        })?;
    let known = project.users.iter().any(|u| {
        u.name == name
            && u.password.expose() == password
            && u.domain.as_deref().is_none_or(|d| Some(d) == domain)
    });
    if !known {
        // Assumption: the code of this IAM answer is not in our references.
        return Err(iam_error(
            StatusCode::UNAUTHORIZED,
            "IAM.0004",
            "The username or password is wrong.",
        ));
    }
    let token = format!("MIIsim{}", uuid::Uuid::new_v4().simple());
    let expires_at = now + ChronoDuration::hours(TOKEN_LIFETIME_HOURS);
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let body = json!({
        "token": {
            "expires_at": fmt(expires_at),
            "issued_at": fmt(now),
            "methods": ["password"],
            "project": {"id": project.id, "name": project.name},
            "user": {"name": name, "domain": {"name": domain.unwrap_or(name)}}
        }
    });
    Ok(TokenGrant {
        token,
        issued: IssuedToken {
            project_id: project.id.clone(),
            user: name.to_string(),
            expires_at,
        },
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const AK: &str = "QTWAOYTTINDUT2QVKYUC";
    const SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";

    fn projects() -> Vec<ProjectConfig> {
        vec![
            ProjectConfig::new("p1", AK, SK)
                .with_token("static-token")
                .with_user("alice", "pw"),
            ProjectConfig::new("p2", "AK2", "SK2"),
        ]
    }

    fn signed_headers(
        now: DateTime<Utc>,
        path: &str,
        query: &[(String, String)],
        body: &[u8],
        sk: &str,
    ) -> HeaderMap {
        let date = signer::format_sdk_date(now);
        let hs = vec![
            ("Host".to_string(), "127.0.0.1:8080".to_string()),
            ("X-Sdk-Date".to_string(), date.clone()),
        ];
        let out = signer::sign(
            &signer::SignableRequest {
                method: "GET",
                path,
                query,
                headers: &hs,
                body,
            },
            AK,
            sk,
            now,
        );
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        h.insert("x-sdk-date", date.parse().unwrap());
        h.insert("authorization", out.authorization.parse().unwrap());
        h
    }

    fn check(
        h: &HeaderMap,
        path: &str,
        q: Option<&str>,
        project: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, ApiError> {
        authenticate(
            &SignedParts {
                method: "GET",
                path,
                raw_query: q,
                headers: h,
                body: b"",
            },
            project,
            &projects(),
            &TokenStore::default(),
            now,
            now,
        )
    }

    #[test]
    fn good_signature_with_query_passes() {
        let now = Utc::now();
        let q = vec![
            ("limit".to_string(), "2".to_string()),
            ("marker".to_string(), "a b".to_string()),
        ];
        let h = signed_headers(now, "/v5/p1/customer-gateways", &q, b"", SK);
        assert_eq!(
            check(
                &h,
                "/v5/p1/customer-gateways",
                Some("limit=2&marker=a%20b"),
                "p1",
                now
            )
            .unwrap(),
            Principal::AccessKey(AK.into())
        );
    }

    #[test]
    fn wrong_secret_tampered_path_and_skew_fail_with_apigw_0301() {
        let now = Utc::now();
        let h = signed_headers(now, "/v5/p1/vpn-gateways", &[], b"", "wrong-sk");
        let e = check(&h, "/v5/p1/vpn-gateways", None, "p1", now).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (401, "APIGW.0301"));
        assert!(e.message.contains("verify aksk signature fail"));

        let h = signed_headers(now, "/v5/p1/vpn-gateways", &[], b"", SK);
        assert!(check(&h, "/v5/p1/vpn-gateways/x", None, "p1", now).is_err());

        let old = now - ChronoDuration::minutes(16);
        let h = signed_headers(old, "/v5/p1/vpn-gateways", &[], b"", SK);
        let e = check(&h, "/v5/p1/vpn-gateways", None, "p1", now).unwrap_err();
        assert!(e.message.contains("signature expired"), "{}", e.message);

        let ok = now - ChronoDuration::minutes(14);
        let h = signed_headers(ok, "/v5/p1/vpn-gateways", &[], b"", SK);
        assert!(check(&h, "/v5/p1/vpn-gateways", None, "p1", now).is_ok());
    }

    #[test]
    fn other_projects_and_unknown_keys_are_refused() {
        let now = Utc::now();
        let h = signed_headers(now, "/v5/p2/vpn-gateways", &[], b"", SK);
        let e = check(&h, "/v5/p2/vpn-gateways", None, "p2", now).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (403, "VPN.0003"));

        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "SDK-HMAC-SHA256 Access=NOPE, SignedHeaders=host;x-sdk-date, Signature=00"
                .parse()
                .unwrap(),
        );
        let e = check(&h, "/v5/p1/vpn-gateways", None, "p1", now).unwrap_err();
        assert!(e.message.contains("ak not exist"));

        let e = check(&HeaderMap::new(), "/v5/p1/vpn-gateways", None, "p1", now).unwrap_err();
        assert!(e.message.ends_with("x-auth-token not found"));
    }

    #[test]
    fn tokens_configured_and_issued() {
        let now = Utc::now();
        let mut store = TokenStore::default();
        let grant = issue_token(
            br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","password":"pw","domain":{"name":"acme"}}}},"scope":{"project":{"name":"cn-north-4"}}}}"#,
            &projects(),
            now,
        )
        .unwrap();
        assert_eq!(grant.issued.project_id, "p1");
        assert!(grant.body["token"]["expires_at"].is_string());
        store.insert(grant.token.clone(), grant.issued);

        let call = |tok: &str, project: &str, store: &TokenStore, at| {
            let mut h = HeaderMap::new();
            h.insert("x-auth-token", tok.parse().unwrap());
            authenticate(
                &SignedParts {
                    method: "GET",
                    path: "/v5/x/vpn-gateways",
                    raw_query: None,
                    headers: &h,
                    body: b"",
                },
                project,
                &projects(),
                store,
                at,
                at,
            )
        };
        assert!(call("static-token", "p1", &store, now).is_ok());
        assert_eq!(
            call("static-token", "p2", &store, now).unwrap_err().code,
            "VPN.0003"
        );
        assert!(call(&grant.token, "p1", &store, now).is_ok());
        let later = now + ChronoDuration::hours(25);
        assert!(call(&grant.token, "p1", &store, later)
            .unwrap_err()
            .message
            .contains("decrypt token fail"));

        let bad = issue_token(
            br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","password":"nope"}}},"scope":{"project":{"id":"p1"}}}}"#,
            &projects(),
            now,
        );
        assert_eq!(bad.err().unwrap().status.as_u16(), 401);
    }
}
