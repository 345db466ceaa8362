//! Cloud credentials; they redact themselves in `Debug`. (cloud-core)

/// How requests are authenticated.
#[derive(Clone)]
pub enum Credentials {
    /// SDK-HMAC-SHA256 signing; `security_token` for temporary credentials (`X-Security-Token`).
    AkSk {
        access_key: String,
        secret_key: String,
        security_token: Option<String>,
    },
    /// A ready IAM token sent as `X-Auth-Token`.
    Token(String),
}
