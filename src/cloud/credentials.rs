//! Cloud credentials; they redact themselves in `Debug`. (cloud-core)
//!
//! Three ways to authenticate (gateways reference §2.3):
//! - AK/SK: every request is signed (SDK-HMAC-SHA256); temporary credentials add a
//!   security token sent (and signed) as `X-Security-Token`;
//! - a ready IAM token, sent as `X-Auth-Token`;
//! - an IAM user's password, exchanged for a token with `POST /v3/auth/tokens`
//!   (see [`token`](super::token)), cached and refreshed.
use std::fmt;

/// The environment variable of the access key (same name as the vendor SDKs).
pub const ENV_ACCESS_KEY: &str = "HUAWEICLOUD_SDK_AK";
/// The environment variable of the secret key.
pub const ENV_SECRET_KEY: &str = "HUAWEICLOUD_SDK_SK";
/// The environment variable of the optional security token (temporary credentials).
pub const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// SDK-HMAC-SHA256 signing; `security_token` for temporary credentials (`X-Security-Token`).
    AkSk {
        access_key: String,
        secret_key: String,
        security_token: Option<String>,
    },
    /// A ready IAM token sent as `X-Auth-Token`.
    Token(String),
    /// An IAM user's password, exchanged for a project-scoped token.
    Password(PasswordAuth),
}

/// The token scope: the project by id or by name (gateways reference §2.3: VPN is a
/// project-level service, so the token must be project-scoped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectScope {
    Id(String),
    /// E.g. the region name `cn-north-4`, which is also the default project's name.
    Name(String),
}

/// An IAM user and password to obtain tokens with.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordAuth {
    pub user: String,
    pub password: String,
    /// The account (domain) name the user belongs to.
    pub domain: String,
    pub project: ProjectScope,
    /// The IAM base URL, e.g. `https://iam.cn-north-4.myhuaweicloud.com`
    /// (see [`default_endpoint`](super::transport::default_endpoint)`("iam", region)`).
    pub iam_endpoint: url::Url,
}

/// Credentials missing from the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} is not set: set both {ENV_ACCESS_KEY} and {ENV_SECRET_KEY} (and {ENV_SECURITY_TOKEN} for temporary credentials)")]
    MissingVar(&'static str),
}

impl Credentials {
    /// Permanent AK/SK.
    pub fn aksk(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self::AkSk {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
        }
    }

    /// Temporary AK/SK with their security token.
    pub fn temporary(
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        security_token: impl Into<String>,
    ) -> Self {
        Self::AkSk {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: Some(security_token.into()),
        }
    }

    /// A ready IAM token.
    pub fn token(token: impl Into<String>) -> Self {
        Self::Token(token.into())
    }

    /// AK/SK from `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK` and the optional
    /// `HUAWEICLOUD_SDK_SECURITY_TOKEN`, as the vendor SDKs read them.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `get` (for tests and
    /// for reading the same keys from a mounted Secret). Values are trimmed; empty is unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let read = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let access_key =
            read(ENV_ACCESS_KEY).ok_or(CredentialsError::MissingVar(ENV_ACCESS_KEY))?;
        let secret_key =
            read(ENV_SECRET_KEY).ok_or(CredentialsError::MissingVar(ENV_SECRET_KEY))?;
        Ok(Self::AkSk {
            access_key,
            secret_key,
            security_token: read(ENV_SECURITY_TOKEN),
        })
    }

    /// A short non-secret description: `"aksk"`, `"aksk-temporary"`, `"token"`, `"password"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AkSk {
                security_token: None,
                ..
            } => "aksk",
            Self::AkSk { .. } => "aksk-temporary",
            Self::Token(_) => "token",
            Self::Password(_) => "password",
        }
    }
}

/// Shows at most the first 4 characters of an access key (enough to tell keys apart).
fn mask_id(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    if id.chars().count() > 4 {
        format!("{head}***")
    } else {
        "***".into()
    }
}

const REDACTED: &str = "<redacted>";

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AkSk {
                access_key,
                security_token,
                ..
            } => f
                .debug_struct("AkSk")
                .field("access_key", &mask_id(access_key))
                .field("secret_key", &REDACTED)
                .field("security_token", &security_token.as_ref().map(|_| REDACTED))
                .finish(),
            Self::Token(_) => f.debug_tuple("Token").field(&REDACTED).finish(),
            Self::Password(p) => f.debug_tuple("Password").field(p).finish(),
        }
    }
}

impl fmt::Debug for PasswordAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordAuth")
            .field("user", &self.user)
            .field("password", &REDACTED)
            .field("domain", &self.domain)
            .field("project", &self.project)
            .field("iam_endpoint", &self.iam_endpoint.as_str())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "QTWAOYTTINDUT2QVKYUC";
    const SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";

    #[test]
    fn debug_redacts_every_secret() {
        let creds = [
            Credentials::aksk(AK, SK),
            Credentials::temporary(AK, SK, "sts-token-value"),
            Credentials::token("MIIPAgYJKoZIhvcNAQcCo-token"),
            Credentials::Password(PasswordAuth {
                user: "ops".into(),
                password: "hunter2-password".into(),
                domain: "acme".into(),
                project: ProjectScope::Name("cn-north-4".into()),
                iam_endpoint: "https://iam.cn-north-4.myhuaweicloud.com".parse().unwrap(),
            }),
        ];
        for c in &creds {
            let shown = format!("{c:?} {c:#?}");
            for secret in [AK, SK, "sts-token-value", "MIIPAgYJ", "hunter2-password"] {
                assert!(!shown.contains(secret), "{shown} leaks {secret}");
            }
        }
        let shown = format!("{:?}", creds[1]);
        assert!(shown.contains("QTWA***"), "{shown}");
        assert!(shown.contains("security_token: Some"), "{shown}");
        let shown = format!("{:?}", creds[3]);
        assert!(shown.contains("ops") && shown.contains("acme") && shown.contains("cn-north-4"));
    }

    #[test]
    fn from_lookup_reads_vendor_variables() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = Credentials::from_lookup(env(&[
            ("HUAWEICLOUD_SDK_AK", " ak1 "),
            ("HUAWEICLOUD_SDK_SK", "sk1"),
        ]))
        .unwrap();
        assert_eq!(c, Credentials::aksk("ak1", "sk1"));
        assert_eq!(c.kind(), "aksk");

        let c = Credentials::from_lookup(env(&[
            ("HUAWEICLOUD_SDK_AK", "ak1"),
            ("HUAWEICLOUD_SDK_SK", "sk1"),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "st"),
        ]))
        .unwrap();
        assert_eq!(c, Credentials::temporary("ak1", "sk1", "st"));
        assert_eq!(c.kind(), "aksk-temporary");

        let missing = Credentials::from_lookup(env(&[
            ("HUAWEICLOUD_SDK_AK", "ak1"),
            ("HUAWEICLOUD_SDK_SK", "  "),
        ]))
        .unwrap_err();
        assert_eq!(missing, CredentialsError::MissingVar(ENV_SECRET_KEY));
        assert!(missing
            .to_string()
            .contains("HUAWEICLOUD_SDK_SK is not set"));
        assert_eq!(
            Credentials::from_lookup(env(&[])).unwrap_err(),
            CredentialsError::MissingVar(ENV_ACCESS_KEY)
        );
    }

    #[test]
    fn short_access_keys_are_fully_masked() {
        let shown = format!("{:?}", Credentials::aksk("abcd", "s"));
        assert!(!shown.contains("abcd"));
    }
}
