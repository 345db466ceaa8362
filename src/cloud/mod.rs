//! Huawei Cloud REST clients. No Kubernetes types in here.
//!
//! - [`signer`]: SDK-HMAC-SHA256 AK/SK request signing (pure, time injected).
//! - [`credentials`]: AK/SK and token credentials that redact themselves in `Debug`.
//! - [`token`]: IAM token auth (`POST /v3/auth/tokens`), cached and refreshed.
//! - [`error`]: one error type for every documented error body, classified.
//! - [`retry`]: bounded exponential backoff with jitter, honouring `Retry-After`.
//! - [`limiter`]: client-side token buckets per (endpoint, project), read and write.
//! - [`transport`]: the signed, rate-limited, retrying HTTP executor every API uses.
//! - [`model`]: the VPN v5 wire models, field names exactly as documented.
//! - [`vpn`]: the VPN v5 operations (one method per documented API).
//! - [`ies`]: the CloudOpera IES operations (catalog, service manager, CloudVPN traffic).
pub mod credentials;
pub mod error;
pub mod ies;
pub mod limiter;
pub mod listcache;
pub mod model;
pub mod operation;
pub mod retry;
pub mod signer;
pub mod token;
pub mod transport;
pub mod vpn;

pub use credentials::Credentials;
pub use error::{CloudError, ErrorKind};
pub use ies::IesClient;
pub use transport::{ApiClient, ClientConfig, OpKind, Operation};
pub use vpn::VpnClient;
