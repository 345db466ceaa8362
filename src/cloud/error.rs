//! One error type for every cloud call (VPN v5, IES, IAM), classified so callers
//! can decide between retrying, waiting and reporting.
//!
//! CONTRACT (implemented by the cloud-core work): the public items below are used by
//! `vpn.rs`, the simulator tests and the controllers. Extend, don't rename.
use std::time::Duration;

/// What kind of failure a [`CloudError`] is; drives retry and status reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 404, VPN.0004, VPN.0509, VPN.0563: the resource does not exist (gone counts as success on delete).
    NotFound,
    /// 429 or APIGW.0308 / APIG.0308: throttled by the API gateway. Retryable.
    Throttled,
    /// VPN.0030 "The system is busy". Retryable.
    Busy,
    /// VPN.0031 "Repeated operation": another operation is in progress. Retryable later.
    RepeatedOperation,
    /// The resource is in a transitional state: VPN.0003 "... is not ready", VPN.0506/0507/0508/0511. Retryable later.
    NotReady,
    /// The resource still has dependants (e.g. "customer gateway ... has connection").
    InUse,
    /// A quota is exhausted (VPN.0513, VPN.0560, quota checks).
    QuotaExceeded,
    /// 400 / VPN.0001 / VPN.05xx and other spec errors: the request must change.
    InvalidRequest,
    /// 401, 403, VPN.0003 (not "not ready"), APIGW.0301/0101 signature errors: credentials or permissions.
    AuthFailed,
    /// 409 conflict.
    Conflict,
    /// 5xx and VPN.0002: server side failure. Retryable.
    ServerError,
    /// Connection refused/reset, DNS, TLS: the request may not have reached the server. Retryable.
    Transport,
    /// The request timed out: it may or may not have been applied. Retryable for reads.
    Timeout,
    /// The response could not be decoded.
    Decode,
}

/// An error from a cloud call, with all the context the API gave.
/// `Display` never contains credentials or request bodies.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {kind:?}{}{}: {message}{}", http_status.map(|s| format!(" (HTTP {s}")).unwrap_or_default(), code.as_ref().map(|c| format!(", {c})")).unwrap_or_else(|| if http_status.is_some() { ")".into() } else { String::new() }), request_id.as_ref().map(|r| format!(" [request id {r}]")).unwrap_or_default())]
pub struct CloudError {
    pub kind: ErrorKind,
    /// The operation name, e.g. `CreateVpnGateway`.
    pub operation: &'static str,
    pub http_status: Option<u16>,
    /// The vendor code, e.g. `VPN.0030` or `APIGW.0308`.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// From a `Retry-After` response header.
    pub retry_after: Option<Duration>,
}
