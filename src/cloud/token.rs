//! IAM token auth. (cloud-core)
//!
//! `POST {iam}/v3/auth/tokens` with a password identity and a project scope
//! (gateways reference §2.3). The token comes back in the `X-Subject-Token` response
//! header and its expiry in the body at `token.expires_at`. Tokens live 24 h; the
//! [`TokenCache`] reuses one and refreshes it once half its lifetime is gone, one refresh
//! at a time however many calls are waiting, and drops it when an API answers 401.
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::credentials::{PasswordAuth, ProjectScope};
use super::error::CloudError;
use super::operation::Operation;

/// The IAM operation (the vendor SDK's name), used in errors and metrics.
pub const TOKEN_OPERATION: Operation = Operation::create("KeystoneCreateUserTokenByPassword");
/// The response header holding the token.
pub const SUBJECT_TOKEN_HEADER: &str = "X-Subject-Token";
/// Assumed lifetime when the response does not say (documented: 24 h).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A token closer than this to its expiry is never handed out, even if a refresh failed.
const MIN_REMAINING: Duration = Duration::from_secs(60);

/// A token and when to stop using it.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedToken {
    pub value: String,
    /// Our clock: when it was obtained.
    pub fetched_at: DateTime<Utc>,
    /// Our clock: when it expires (fetch time + the lifetime the server reported,
    /// so a skewed local clock does not matter).
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &"<redacted>")
            .field("fetched_at", &self.fetched_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl CachedToken {
    /// True once half the lifetime is gone (for a 24 h token: after 12 h, long before
    /// the last 10 minutes).
    pub fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        let lifetime = self.expires_at - self.fetched_at;
        now >= self.fetched_at + lifetime / 2
    }

    /// True while the token can still be sent (more than a minute left).
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        let min_remaining =
            chrono::Duration::from_std(MIN_REMAINING).unwrap_or(chrono::Duration::zero());
        now < self.expires_at - min_remaining
    }
}

/// The token request body of gateways reference §2.3 (never logged: holds the password).
pub fn token_request_body(auth: &PasswordAuth) -> serde_json::Value {
    let project = match &auth.project {
        ProjectScope::Id(id) => serde_json::json!({ "id": id }),
        ProjectScope::Name(name) => serde_json::json!({ "name": name }),
    };
    serde_json::json!({
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth.user,
                        "password": auth.password,
                        "domain": { "name": auth.domain }
                    }
                }
            },
            "scope": { "project": project }
        }
    })
}

#[derive(Deserialize)]
struct TokenResponse {
    token: TokenBody,
}

#[derive(Deserialize)]
struct TokenBody {
    expires_at: Option<String>,
    issued_at: Option<String>,
}

/// The lifetime the server reports: `expires_at - issued_at` (both server clock) or, without
/// `issued_at`, `expires_at - now`; the documented 24 h when the body says nothing usable.
pub fn reported_lifetime(body: &[u8], now: DateTime<Utc>) -> Duration {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let Ok(resp) = serde_json::from_slice::<TokenResponse>(body) else {
        return DEFAULT_LIFETIME;
    };
    let Some(expires) = parse(&resp.token.expires_at) else {
        return DEFAULT_LIFETIME;
    };
    let start = parse(&resp.token.issued_at).unwrap_or(now);
    (expires - start)
        .to_std()
        .ok()
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_LIFETIME)
}

/// A shared, self-refreshing IAM token for one [`PasswordAuth`].
pub struct TokenCache {
    auth: PasswordAuth,
    http: reqwest::Client,
    timeout: Duration,
    slot: tokio::sync::Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache that fetches with `http`, each fetch bounded by `timeout`.
    pub fn new(auth: PasswordAuth, http: reqwest::Client, timeout: Duration) -> Self {
        Self {
            auth,
            http,
            timeout,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// A valid token: the cached one, or a fresh one when it is due for refresh.
    /// Concurrent callers wait for the one refresh in flight. If a refresh fails while
    /// the old token still has time left, the old one is used (and the refresh retried
    /// on the next call).
    pub async fn get(&self) -> Result<String, CloudError> {
        let mut slot = self.slot.lock().await;
        let now = Utc::now();
        if let Some(t) = slot.as_ref().filter(|t| !t.needs_refresh(now)) {
            return Ok(t.value.clone());
        }
        match self.fetch().await {
            Ok(fresh) => {
                let value = fresh.value.clone();
                *slot = Some(fresh);
                Ok(value)
            }
            Err(err) => match slot.as_ref().filter(|t| t.usable(Utc::now())) {
                Some(old) => {
                    tracing::warn!(error = %err, "IAM token refresh failed; using the current token until it expires");
                    Ok(old.value.clone())
                }
                None => Err(err),
            },
        }
    }

    /// Forgets `token` if it is the cached one (an API answered 401 with it), so the
    /// next [`get`](Self::get) fetches a new one. A newer token is left alone.
    pub async fn invalidate(&self, token: &str) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| t.value == token) {
            tracing::debug!("IAM token rejected by the API; it will be fetched again");
            *slot = None;
        }
    }

    /// The cached token, if any (for diagnostics; the value stays redacted in `Debug`).
    pub async fn cached(&self) -> Option<CachedToken> {
        self.slot.lock().await.clone()
    }

    async fn fetch(&self) -> Result<CachedToken, CloudError> {
        let op = TOKEN_OPERATION.name;
        let mut url = self.auth.iam_endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}/v3/auth/tokens"));
        url.set_query(None);
        let body = serde_json::to_vec(&token_request_body(&self.auth))
            .map_err(|e| CloudError::config(op, e))?;
        tracing::debug!(iam = %self.auth.iam_endpoint, user = %self.auth.user, "fetching IAM token");
        let send = async {
            let resp = self
                .http
                .post(url)
                .header(http::header::CONTENT_TYPE, "application/json;charset=utf8")
                .body(body)
                .send()
                .await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes))
        };
        let (status, headers, bytes) = match tokio::time::timeout(self.timeout, send).await {
            Err(_) => return Err(CloudError::timeout(op, self.timeout)),
            Ok(Err(e)) if e.is_timeout() => return Err(CloudError::timeout(op, self.timeout)),
            Ok(Err(e)) => return Err(CloudError::transport(op, error_chain(e.without_url()))),
            Ok(Ok(r)) => r,
        };
        if !status.is_success() {
            return Err(CloudError::from_response(
                op,
                status.as_u16(),
                &headers,
                &bytes,
            ));
        }
        let value = headers
            .get(SUBJECT_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                CloudError::decode(
                    op,
                    status.as_u16(),
                    "no X-Subject-Token header in the IAM answer",
                )
            })?
            .to_string();
        let now = Utc::now();
        let lifetime = chrono::Duration::from_std(reported_lifetime(&bytes, now))
            .unwrap_or_else(|_| chrono::Duration::hours(24));
        Ok(CachedToken {
            value,
            fetched_at: now,
            expires_at: now + lifetime,
        })
    }
}

/// An error and its sources, `: `-joined (reqwest hides the useful part in sources).
pub(crate) fn error_chain(e: impl std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn token(fetched: &str, expires: &str) -> CachedToken {
        CachedToken {
            value: "secret-token".into(),
            fetched_at: at(fetched),
            expires_at: at(expires),
        }
    }

    #[test]
    fn refresh_after_half_the_lifetime() {
        let t = token("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
        assert!(!t.needs_refresh(at("2024-01-01T00:00:01Z")));
        assert!(!t.needs_refresh(at("2024-01-01T11:59:59Z")));
        assert!(t.needs_refresh(at("2024-01-01T12:00:00Z")));
        assert!(t.usable(at("2024-01-01T23:58:59Z")));
        assert!(!t.usable(at("2024-01-01T23:59:00Z")));
    }

    #[test]
    fn body_matches_reference_example() {
        let auth = PasswordAuth {
            user: "username".into(),
            password: "********".into(),
            domain: "domainname".into(),
            project: ProjectScope::Name("xxxxxxxx".into()),
            iam_endpoint: "https://iam.cn-north-4.myhuaweicloud.com".parse().unwrap(),
        };
        let expected: serde_json::Value = serde_json::from_str(
            r#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"username","password":"********","domain":{"name":"domainname"}}}},"scope":{"project":{"name":"xxxxxxxx"}}}}"#,
        )
        .unwrap();
        assert_eq!(token_request_body(&auth), expected);
        let by_id = PasswordAuth {
            project: ProjectScope::Id("p1".into()),
            ..auth
        };
        assert_eq!(
            token_request_body(&by_id)["auth"]["scope"]["project"],
            serde_json::json!({"id": "p1"})
        );
    }

    #[test]
    fn lifetime_from_body() {
        let now = at("2030-01-01T00:00:00Z");
        let body = br#"{"token":{"issued_at":"2024-01-01T00:00:00.000000Z","expires_at":"2024-01-01T06:00:00.000000Z","methods":["password"]}}"#;
        // issued/expires from a skewed server clock: only the difference counts.
        assert_eq!(reported_lifetime(body, now), Duration::from_secs(6 * 3600));
        let body = br#"{"token":{"expires_at":"2030-01-01T02:00:00Z"}}"#;
        assert_eq!(reported_lifetime(body, now), Duration::from_secs(2 * 3600));
        assert_eq!(reported_lifetime(b"not json", now), DEFAULT_LIFETIME);
        let past = br#"{"token":{"expires_at":"2020-01-01T00:00:00Z"}}"#;
        assert_eq!(reported_lifetime(past, now), DEFAULT_LIFETIME);
    }

    #[test]
    fn debug_redacts_token() {
        let t = token("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
        assert!(!format!("{t:?}").contains("secret-token"));
    }
}
