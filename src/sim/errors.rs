//! The documented error bodies, one constructor per code.
//!
//! Every error the simulator returns is an [`ApiError`]: HTTP status, vendor code and message.
//! The body has one of the two documented shapes ([`ErrorBody::json`]):
//!
//! - `{"error_code", "error_msg", "request_id"}` for the errors the reference shows in a
//!   concrete example (VPN.0003 "... is not ready, currently CREATING"; VPN.0001 "... has
//!   connection" and "... not allowed update/delete vpnConnection"), and for the API gateway
//!   (`APIGW.*`) and IAM, whose examples use it too;
//! - `{"code", "message"}`, the shape of the VPN error-code appendix (A.3: "VPN APIs, other than
//!   native OpenStack ones, return this body"), for every other VPN code.
//!
//! The request id is filled in by the server pipeline (see [`crate::sim::server`]), which also
//! sets the `X-Request-Id` header on every answer.
//!
//! HTTP statuses follow the reference's error table (gateways reference §2.5); the API gateway
//! codes (`APIGW.*`) follow the vendor's API gateway FAQ: 401 `APIGW.0301` "Incorrect IAM
//! authentication information: ...", 429 `APIGW.0308` for throttling, 404 `APIGW.0101` for an
//! unknown API.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answer of the simulated API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Retry-After` seconds (throttling only).
    pub retry_after: Option<u64>,
}

/// Marker put in a response's extensions so the pipeline renders the JSON error body
/// with the request id.
#[derive(Debug, Clone)]
pub(crate) struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

impl ErrorBody {
    /// Whether the reference shows this error in a concrete example, whose body is
    /// `{"error_code", "error_msg", "request_id"}`; the others take the appendix's shape.
    fn has_concrete_example(&self) -> bool {
        let m = self.message.as_str();
        match self.code {
            "VPN.0003" => m.contains("is not ready"),
            "VPN.0001" => m.contains("has connection") || m.contains("not allowed"),
            c => !c.starts_with("VPN."),
        }
    }

    /// The JSON body, in the shape the reference documents for this error.
    pub fn json(&self, request_id: &str) -> serde_json::Value {
        if self.has_concrete_example() {
            serde_json::json!({
                "error_code": self.code,
                "error_msg": self.message,
                "request_id": request_id,
            })
        } else {
            serde_json::json!({"code": self.code, "message": self.message})
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = secs.to_string().parse() {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp.extensions_mut().insert(ErrorBody {
            code: self.code,
            message: self.message,
        });
        resp
    }
}

/// Result type of the simulated operations.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    // ---- API gateway (APIGW.*) ----

    /// 401 APIGW.0301 with the gateway's "Incorrect IAM authentication information: ..." prefix.
    pub fn iam_auth(detail: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "APIGW.0301",
            format!(
                "Incorrect IAM authentication information: {}",
                detail.as_ref()
            ),
        )
    }

    /// 429 APIGW.0308, the API gateway's throttling answer, with `Retry-After`.
    pub fn throttled(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "APIGW.0308",
                "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 minute",
            )
        }
    }

    /// 404 APIGW.0101: no such API.
    pub fn no_such_api() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        )
    }

    // ---- common VPN codes ----

    /// 400 VPN.0001 `invalid request: <detail>`.
    pub fn invalid(detail: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0001",
            format!("invalid request: {}", detail.as_ref()),
        )
    }

    /// 500 VPN.0002 `server error: <detail>`.
    pub fn server_error(detail: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "VPN.0002",
            format!("server error: {}", detail.as_ref()),
        )
    }

    /// 403 VPN.0003 `Authentication failed: <detail>`.
    pub fn forbidden(detail: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "VPN.0003",
            format!("Authentication failed: {}", detail.as_ref()),
        )
    }

    /// 403 VPN.0003 "resource (type=T, ID=id) is not ready, currently STATE": the documented
    /// answer to updating, re-sizing or deleting a gateway that is still being created
    /// (gateways reference §1.4, source L3588, L4202, L4245).
    pub fn not_ready(kind: &str, id: &str, current: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "VPN.0003",
            format!("resource (type={kind}, ID={id}) is not ready, currently {current}"),
        )
    }

    /// 404 VPN.0004 `resource not found`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "VPN.0004", "resource not found")
    }

    /// 400 VPN.0030 "The system is busy, please try later."
    pub fn busy() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0030",
            "The system is busy, please try later.",
        )
    }

    /// 400 VPN.0031 "Repeated operation."
    pub fn repeated() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VPN.0031", "Repeated operation.")
    }

    // ---- certificates ----

    /// 400 VPN.0074 "The format of the certificate %s is invalid."
    pub fn certificate_format(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0074",
            format!("The format of the certificate {name} is invalid."),
        )
    }

    /// 400 VPN.0077 "Duplicate certificate: %s."
    pub fn certificate_duplicate(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0077",
            format!("Duplicate certificate: {name}."),
        )
    }

    // ---- gateway / VPC / EIP (VPN.05xx) ----

    pub fn vpc_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0500",
            format!("VPC {id} is not found."),
        )
    }
    pub fn subnet_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0501",
            format!("Interconnection subnet {id} is not found."),
        )
    }
    pub fn subnet_no_ips(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0502",
            format!("Interconnection subnet {id} has insufficient available IP addresses."),
        )
    }
    pub fn subnet_not_in_vpc(subnet: &str, vpc: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0503",
            format!("Interconnection subnet {subnet} does not belong to the VPC {vpc}."),
        )
    }
    pub fn connections_over_spec() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0504",
            "The number of connections exceeds the upper limit defined by the specification.",
        )
    }
    pub fn gateway_being_created() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0506",
            "The gateway is being created, please try it again later.",
        )
    }
    pub fn gateway_being_updated() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0507",
            "The gateway is being updated, please try again later.",
        )
    }
    pub fn gateway_being_deleted() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0508",
            "The gateway is being deleted.",
        )
    }
    pub fn gateway_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "VPN.0509",
            "The gateway does not exist.",
        )
    }
    pub fn gateway_abnormal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "VPN.0510",
            "The gateway status is abnormal.",
        )
    }
    pub fn gateway_not_ready() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "VPN.0511",
            "The gateway is not ready.",
        )
    }
    pub fn gateway_quota() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0513",
            "Insufficient gateway quota.",
        )
    }
    pub fn two_azs() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0514",
            "Two AZs must be specified.",
        )
    }
    pub fn duplicate_azs() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VPN.0515", "Duplicate AZs.")
    }
    pub fn eip_bandwidth_over_spec() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0550",
            "The EIP bandwidth exceeds the upper limit defined by the specification.",
        )
    }
    pub fn eip_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0551",
            format!("EIP {id} is not found."),
        )
    }
    pub fn eip_frozen(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0552",
            format!("EIP {id} is frozen."),
        )
    }
    pub fn eip_bound(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0553",
            format!("EIP {id} has been bound to an instance."),
        )
    }
    pub fn eip_not_exclusive(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0554",
            format!("EIP {id} does not have exclusive bandwidth."),
        )
    }
    pub fn eip_not_center(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0555",
            format!("EIP {id} does not belong to a center."),
        )
    }
    pub fn eip_type_invalid(t: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0556",
            format!("EIP type {t} is invalid."),
        )
    }
    pub fn eip_type_sold_out(t: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0557",
            format!("EIPs of the type {t} have been sold out."),
        )
    }
    pub fn eip_incomplete() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0558",
            "Incomplete EIP parameters.",
        )
    }
    pub fn eip_conflict() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VPN.0559",
            "EIP parameter conflict.",
        )
    }
    pub fn eip_quota() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VPN.0560", "EIP quota not enough.")
    }
    pub fn connection_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "VPN.0563",
            "The connection does not exists.",
        )
    }

    /// A project quota other than the gateway one is exhausted. The reference documents a code
    /// only for gateways (VPN.0513); for customer gateways and connections this answers
    /// VPN.0001 with a message naming the quota (assumption).
    pub fn quota(kind: &str, quota: u32) -> Self {
        Self::invalid(format!(
            "insufficient {kind} quota: the quota is {quota} and all of it is used"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_error_table() {
        assert_eq!(ApiError::invalid("x").status, StatusCode::BAD_REQUEST);
        assert_eq!(ApiError::busy().status, StatusCode::BAD_REQUEST);
        assert_eq!(
            ApiError::server_error("x").status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(ApiError::gateway_not_found().status, StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::gateway_not_ready().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(ApiError::iam_auth("x").status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn not_ready_message_matches_the_documented_example() {
        let e = ApiError::not_ready("GATEWAY", "ff9bdca6", "CREATING");
        assert_eq!(e.code, "VPN.0003");
        assert_eq!(
            e.message,
            "resource (type=GATEWAY, ID=ff9bdca6) is not ready, currently CREATING"
        );
    }

    #[test]
    fn bodies_take_the_documented_shape_of_their_code() {
        let body = |e: ApiError| {
            let resp = e.into_response();
            resp.extensions().get::<ErrorBody>().unwrap().json("r1")
        };
        // Shown in concrete examples: error_code / error_msg / request_id.
        for e in [
            ApiError::not_ready("GATEWAY", "g1", "CREATING"),
            ApiError::invalid("customer gateway c1 has connection"),
            ApiError::invalid("PENDING_UPDATE not allowed update vpnConnection"),
            ApiError::iam_auth("verify aksk signature fail"),
            ApiError::throttled(1),
        ] {
            let b = body(e.clone());
            assert_eq!(b["error_code"], e.code, "{b}");
            assert_eq!(b["error_msg"], e.message.as_str());
            assert_eq!(b["request_id"], "r1");
        }
        // Only in the appendix: {code, message}.
        for e in [
            ApiError::invalid("name is too long"),
            ApiError::busy(),
            ApiError::gateway_being_updated(),
            ApiError::gateway_not_found(),
            ApiError::forbidden("the credentials are not authorized"),
        ] {
            let b = body(e.clone());
            assert_eq!(b, serde_json::json!({"code": e.code, "message": e.message}));
        }
    }

    #[test]
    fn throttling_carries_retry_after() {
        let resp = ApiError::throttled(3).into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()["retry-after"], "3");
        assert_eq!(
            resp.extensions().get::<ErrorBody>().unwrap().code,
            "APIGW.0308"
        );
    }
}
