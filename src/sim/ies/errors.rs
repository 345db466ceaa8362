//! Error answers of the simulated IES.
//!
//! The deck documents no error body (reference §7.5, §8.3 #12). ASSUMPTION: CloudOpera's ROA
//! framework answers `{"exceptionId", "exceptionType", "descArgs", "reasonArgs"}`; the client's
//! error parser reads that shape (`cloud::error`), and anything else falls back to the HTTP
//! status anyway. Throttling uses the API gateway's `APIGW.0308` body, as on the VPN side.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IesError {
    pub status: StatusCode,
    /// `exceptionId`, e.g. `servicemanager.service.notfound`.
    pub code: String,
    pub message: String,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

/// Result of a simulated operation.
pub type IesResult<T> = Result<T, IesError>;

impl IesError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "servicemanager.param.invalid",
            message,
        )
    }

    /// 404: no such service instance.
    pub fn service_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "servicemanager.service.notfound",
            format!("service {id} does not exist"),
        )
    }

    /// 404: no such service definition.
    pub fn definition_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "catalog.servicedef.notfound",
            format!("service definition {id} does not exist"),
        )
    }

    /// 409: another operation on the instance is still running (ASSUMPTION: undocumented).
    pub fn busy_instance(id: &str, what: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "servicemanager.service.operating",
            format!("service {id} is {what}; wait until its status is Completed"),
        )
    }

    /// 409: the value is taken by another instance.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "servicemanager.param.conflict",
            message,
        )
    }

    /// 401: missing or wrong token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "APIGW.0301", message)
    }

    /// 404: no such API.
    pub fn no_such_api() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        )
    }

    /// 429 with `Retry-After`.
    pub fn throttled(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "APIGW.0308",
                "The throttling threshold has been reached",
            )
        }
    }

    /// 500.
    pub fn server_error(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "common.internal.error",
            message,
        )
    }

    /// 503: the system is busy.
    pub fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "common.system.busy",
            "The system is busy, please try later.",
        )
    }
}

impl IntoResponse for IesError {
    fn into_response(self) -> Response {
        let body = if self.code.starts_with("APIGW.") {
            json!({"error_code": self.code, "error_msg": self.message})
        } else {
            json!({
                "exceptionId": self.code,
                "exceptionType": "ROA_EXFRAME_EXCEPTION",
                "descArgs": [self.message],
                "reasonArgs": null,
            })
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
