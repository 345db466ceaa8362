//! CloudOpera IES operations (service catalog, service manager, CloudVPN traffic) over the
//! shared [`ApiClient`] (rate limits, retries, error classification), one method per API of
//! `/work/shared/reference/cloudopera-ies-api.md`.
//!
//! Decisions on what the deck leaves open (each also noted where it applies):
//! - **Base path.** Every capture uses `https://host:port/rest/...`; the endpoint given to
//!   [`IesClient::connect`] should include `/rest`. An endpoint without any path gets `/rest`
//!   added ([`normalize_endpoint`]); an endpoint with another path is kept as given.
//! - **Headers.** As in every Postman capture: `X-Auth-Token` (the tenant token) and
//!   `Authorization: Bearer <token>` (an application credential), plus
//!   `Content-Type: application/json`. Both tokens are sent when configured; at least one must
//!   be. The deck documents no token API, so tokens come from outside and expire (401 is
//!   reported as an authentication failure, not retried).
//! - **Request shape.** `{"onfailure": "rollback", "service": {...}}` as in the examples
//!   (see [`ServiceRequest`]).
//! - **Response wrappers.** Every documented wrapper is accepted ([`OperationAccepted`]); an
//!   update may answer with an empty body.
//! - **Operation status.** No task/operation endpoint is documented: callers poll
//!   [`IesClient::get_service`] until `status == Completed` and the parameters show the
//!   desired values; a delete is finished when the GET answers 404. The `Location` header, if
//!   any, is returned for diagnostics only.
//! - **Errors.** No error body is documented; [`CloudError::from_response`] falls back to the
//!   HTTP status (404 → `NotFound`, 401/403 → `AuthFailed`, 5xx → retried).
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::credentials::Credentials;
use super::error::{CloudError, ErrorKind};
use super::model::ies::{
    GetServiceResponse, ListServiceDefinitionsResponse, ListServicesResponse, Metric,
    MetricResponse, OperationAccepted, ServiceDefinition, ServiceInstance, ServiceRequest,
    TrafficQuery,
};
use super::retry::RetryPolicy;
use super::transport::{ApiClient, ApiRequest, CallObserver, ClientConfig, Operation, RateLimits};

/// The named IES operations (metrics, limiter buckets, error messages).
pub mod ops {
    use super::Operation;

    /// `GET /catalog/v1/servicedefs`.
    pub const LIST_SERVICE_DEFINITIONS: Operation = Operation::read("ListServiceDefinitions");
    /// `GET /catalog/v1/servicedefs/{servicedefId}/details`.
    pub const SHOW_SERVICE_DEFINITION: Operation = Operation::read("ShowServiceDefinitionDetails");
    /// `POST /servicemanager/v1/services` (no idempotency token: a retried create can make a
    /// second instance).
    pub const CREATE_SERVICE: Operation = Operation::create("CreateService");
    /// `GET /servicemanager/v1/services`.
    pub const LIST_SERVICES: Operation = Operation::read("ListServices");
    /// `GET /servicemanager/v1/services/{serviceId}`.
    pub const SHOW_SERVICE: Operation = Operation::read("ShowService");
    /// `PUT /servicemanager/v1/services/{serviceId}` (sets values: repeating it is harmless).
    pub const UPDATE_SERVICE: Operation = Operation::write("UpdateService");
    /// `DELETE /servicemanager/v1/services/{serviceId}`.
    pub const DELETE_SERVICE: Operation = Operation::write("DeleteService");
    /// `GET /cloudvpnwatch/v1/traffic/connections/{connection-name}/{metric}`.
    pub const SHOW_TRAFFIC: Operation = Operation::read("ShowConnectionTraffic");
}

const _: () = {
    assert!(!ops::CREATE_SERVICE.idempotent);
    assert!(ops::UPDATE_SERVICE.idempotent && ops::DELETE_SERVICE.idempotent);
};

/// Characters kept as-is in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The path prefix of every captured request.
pub const BASE_PATH: &str = "/rest";

/// The two IES credentials. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct IesCredentials {
    /// The tenant token, sent as `X-Auth-Token`.
    pub auth_token: Option<String>,
    /// The application credential, sent as `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
}

impl fmt::Debug for IesCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("IesCredentials")
            .field("auth_token", &shown(&self.auth_token))
            .field("bearer_token", &shown(&self.bearer_token))
            .finish()
    }
}

impl IesCredentials {
    /// Only an `X-Auth-Token`.
    pub fn token(auth_token: impl Into<String>) -> Self {
        Self {
            auth_token: Some(auth_token.into()),
            bearer_token: None,
        }
    }

    /// Adds the `Authorization: Bearer` token.
    pub fn with_bearer(mut self, bearer: impl Into<String>) -> Self {
        self.bearer_token = Some(bearer.into());
        self
    }

    /// Whether at least one token is set (and not blank).
    pub fn is_usable(&self) -> bool {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        set(&self.auth_token) || set(&self.bearer_token)
    }
}

/// Adds [`BASE_PATH`] to an endpoint that has no path (`https://host:17100` →
/// `https://host:17100/rest`); any other path is kept (a gateway may map the API elsewhere).
pub fn normalize_endpoint(mut url: url::Url) -> url::Url {
    if url.path().trim_matches('/').is_empty() {
        url.set_path(BASE_PATH);
    }
    url
}

/// The IES API of one tenant.
#[derive(Clone)]
pub struct IesClient {
    /// The shared executor (endpoint with `/rest`, `X-Auth-Token`, limits, retries).
    pub api: ApiClient,
    /// Sent as `Authorization: Bearer`.
    bearer: Option<Arc<str>>,
}

impl fmt::Debug for IesClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IesClient")
            .field("endpoint", &self.api.endpoint().as_str())
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How to build an [`IesClient`] besides endpoint and credentials.
#[derive(Clone)]
pub struct IesClientOptions {
    pub limits: RateLimits,
    pub retry: RetryPolicy,
    /// Per attempt of a write.
    pub timeout: Duration,
    /// Per attempt of a read.
    pub read_timeout: Duration,
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl Default for IesClientOptions {
    fn default() -> Self {
        Self {
            limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            timeout: ClientConfig::DEFAULT_TIMEOUT,
            read_timeout: ClientConfig::DEFAULT_READ_TIMEOUT,
            observer: None,
        }
    }
}

impl IesClient {
    /// A client over an executor whose endpoint already includes the base path and whose
    /// credentials are the `X-Auth-Token`.
    pub fn new(api: ApiClient, bearer_token: Option<String>) -> Self {
        Self {
            api,
            bearer: bearer_token.map(Arc::from),
        }
    }

    /// Builds the executor for `endpoint` (see [`normalize_endpoint`]) and `credentials`.
    /// Fails when neither token is set or the endpoint is not an http(s) URL.
    pub fn connect(
        endpoint: url::Url,
        credentials: IesCredentials,
        options: IesClientOptions,
    ) -> Result<Self, CloudError> {
        if !credentials.is_usable() {
            return Err(CloudError::config(
                "IesClient",
                "no IES token: set authToken (sent as X-Auth-Token) and/or bearerToken (sent as Authorization: Bearer)",
            ));
        }
        let IesCredentials {
            auth_token,
            bearer_token,
        } = credentials;
        let cfg = ClientConfig {
            endpoint: normalize_endpoint(endpoint),
            project_id: String::new(),
            // ASSUMPTION: with only a bearer token, the captures' empty X-Auth-Token is sent
            // (the create capture has an empty one).
            credentials: Credentials::Token(auth_token.unwrap_or_default()),
            limits: options.limits,
            retry: options.retry,
            timeout: options.timeout,
            read_timeout: options.read_timeout,
            observer: options.observer,
        };
        let bearer = bearer_token.filter(|b| !b.trim().is_empty());
        Ok(Self::new(ApiClient::new(cfg)?, bearer))
    }

    // ----- catalog ----------------------------------------------------------------------

    /// Every service definition available to the tenant. No paging parameters are
    /// documented, so one call returns what the server gives (the paging fields are kept).
    pub async fn list_service_definitions(
        &self,
    ) -> Result<ListServiceDefinitionsResponse, CloudError> {
        let req = self.get(
            ops::LIST_SERVICE_DEFINITIONS,
            &["catalog", "v1", "servicedefs"],
        );
        self.api.json(req).await
    }

    /// One definition with its `templates` (`templates[].id` is the `template_id`).
    pub async fn get_service_definition(
        &self,
        service_def_id: &str,
    ) -> Result<ServiceDefinition, CloudError> {
        let op = ops::SHOW_SERVICE_DEFINITION;
        let req = self.get(
            op,
            &[
                "catalog",
                "v1",
                "servicedefs",
                id(op, service_def_id)?,
                "details",
            ],
        );
        self.api.json(req).await
    }

    // ----- service manager --------------------------------------------------------------

    /// Creates (and activates) a service instance: 202 with `service_id` and `operation_id`;
    /// provisioning then takes about 10 minutes (poll [`get_service`](Self::get_service)).
    /// Not idempotent. An answer without `service_id` is a `Decode` error: the instance may
    /// exist anyway, so look it up by name before trying again.
    pub async fn create_service(
        &self,
        body: &ServiceRequest,
    ) -> Result<OperationAccepted, CloudError> {
        let op = ops::CREATE_SERVICE;
        let req = self
            .request(
                http::Method::POST,
                op,
                &["servicemanager", "v1", "services"],
            )
            .json_body(body);
        let accepted = self.accepted(op, req).await?;
        if accepted.service_id.is_none() {
            return Err(CloudError::decode(
                op.name,
                202,
                "the create answer has no service_id; the instance may have been created, look it up by name",
            ));
        }
        Ok(accepted)
    }

    /// All service instances of the tenant (without `parameters`). No filter or paging is
    /// documented.
    pub async fn list_services(&self) -> Result<Vec<ServiceInstance>, CloudError> {
        let req = self.get(ops::LIST_SERVICES, &["servicemanager", "v1", "services"]);
        Ok(self.api.json::<ListServicesResponse>(req).await?.services)
    }

    /// The instances named `name` (the list shows no parameters; GET each to compare).
    pub async fn find_services_by_name(
        &self,
        name: &str,
    ) -> Result<Vec<ServiceInstance>, CloudError> {
        Ok(self
            .list_services()
            .await?
            .into_iter()
            .filter(|s| s.name.as_deref() == Some(name))
            .collect())
    }

    /// One instance with its `parameters` (current `Bandwidth`, `CloudVpnName`). A 404 (not
    /// documented, assumed) means it does not exist.
    pub async fn get_service(&self, service_id: &str) -> Result<ServiceInstance, CloudError> {
        let op = ops::SHOW_SERVICE;
        let req = self.get(
            op,
            &["servicemanager", "v1", "services", id(op, service_id)?],
        );
        Ok(self.api.json::<GetServiceResponse>(req).await?.service)
    }

    /// Changes an instance (documented for the bandwidth: the list element carries
    /// `CloudVpnName`, the new `Bandwidth` and `action: "update"`). 202 with `operation_id`
    /// (or an empty answer); confirm with [`get_service`](Self::get_service).
    pub async fn update_service(
        &self,
        service_id: &str,
        body: &ServiceRequest,
    ) -> Result<OperationAccepted, CloudError> {
        let op = ops::UPDATE_SERVICE;
        let req = self
            .request(
                http::Method::PUT,
                op,
                &["servicemanager", "v1", "services", id(op, service_id)?],
            )
            .json_body(body);
        self.accepted(op, req).await
    }

    /// Deletes an instance (202). Finished when [`get_service`](Self::get_service) answers
    /// 404. A 404 here comes back as a `NotFound` error (already gone).
    pub async fn delete_service(&self, service_id: &str) -> Result<OperationAccepted, CloudError> {
        let op = ops::DELETE_SERVICE;
        let req = self.request(
            http::Method::DELETE,
            op,
            &["servicemanager", "v1", "services", id(op, service_id)?],
        );
        self.accepted(op, req).await
    }

    // ----- CloudVPN traffic -------------------------------------------------------------

    /// The traffic series of one line (`connection` is its `CloudVpnName`). Points come
    /// unsorted; use [`MetricResponse::samples`] for sorted numbers.
    pub async fn traffic(
        &self,
        connection: &str,
        metric: &Metric,
        query: &TrafficQuery,
    ) -> Result<MetricResponse, CloudError> {
        let op = ops::SHOW_TRAFFIC;
        let mut req = self.get(
            op,
            &[
                "cloudvpnwatch",
                "v1",
                "traffic",
                "connections",
                id(op, connection)?,
                id(op, metric.as_str())?,
            ],
        );
        req.query.extend(query.to_pairs());
        self.api.json(req).await
    }

    // ----- helpers ----------------------------------------------------------------------

    fn request(&self, method: http::Method, op: Operation, segments: &[&str]) -> ApiRequest {
        let mut path = String::new();
        for s in segments {
            path.push('/');
            path.extend(utf8_percent_encode(s, SEGMENT));
        }
        let req = ApiRequest::new(op, method, path);
        match &self.bearer {
            Some(b) => req.header("Authorization", format!("Bearer {b}")),
            None => req,
        }
    }

    fn get(&self, op: Operation, segments: &[&str]) -> ApiRequest {
        self.request(http::Method::GET, op, segments)
    }

    /// Sends a create/update/delete and reads the ids from any documented wrapper.
    async fn accepted(
        &self,
        op: Operation,
        req: ApiRequest,
    ) -> Result<OperationAccepted, CloudError> {
        let resp = self.api.execute(req).await?;
        let mut accepted = OperationAccepted::from_body(&resp.body).map_err(|e| {
            let mut err = CloudError::decode(
                op.name,
                resp.status,
                format!("not valid JSON (line {} column {})", e.line(), e.column()),
            );
            err.request_id = resp.request_id().map(str::to_string);
            err
        })?;
        accepted.location = resp
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(accepted)
    }
}

/// Refuses an id that would address another resource once in the path.
fn id(op: Operation, value: &str) -> Result<&str, CloudError> {
    if value.trim().is_empty() || value == "." || value == ".." {
        return Err(CloudError::new(
            ErrorKind::InvalidRequest,
            op.name,
            format!("refusing to call the API with the id {value:?}; set a real IES id"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_gets_rest_only_without_a_path() {
        let table = [
            (
                "https://ies.example:17100",
                "https://ies.example:17100/rest",
            ),
            (
                "https://ies.example:17100/",
                "https://ies.example:17100/rest",
            ),
            (
                "https://ies.example:17100/rest",
                "https://ies.example:17100/rest",
            ),
            (
                "http://127.0.0.1:8080/gw/ies",
                "http://127.0.0.1:8080/gw/ies",
            ),
        ];
        for (given, want) in table {
            let got = normalize_endpoint(given.parse().unwrap());
            assert_eq!(got.as_str(), want, "{given}");
        }
    }

    #[test]
    fn needs_a_token_and_never_shows_it() {
        let url: url::Url = "https://ies.example:17100/rest".parse().unwrap();
        let e = IesClient::connect(
            url.clone(),
            IesCredentials::default(),
            IesClientOptions::default(),
        )
        .unwrap_err();
        assert!(e.message.contains("authToken"), "{e}");
        assert!(IesClient::connect(
            url.clone(),
            IesCredentials {
                auth_token: Some("  ".into()),
                bearer_token: None
            },
            IesClientOptions::default()
        )
        .is_err());
        let creds =
            IesCredentials::token("MIIsecret-tenant-token").with_bearer("bearer-uuid-secret");
        let c = IesClient::connect(url, creds.clone(), IesClientOptions::default()).unwrap();
        let shown = format!("{c:?} {creds:?} {:?}", c.api);
        assert!(
            !shown.contains("MIIsecret") && !shown.contains("bearer-uuid-secret"),
            "{shown}"
        );
        assert!(shown.contains("ies.example"), "{shown}");
    }

    #[test]
    fn paths_are_encoded_and_bad_ids_refused() {
        let c = IesClient::connect(
            "https://ies.example/rest".parse().unwrap(),
            IesCredentials::token("t").with_bearer("b"),
            IesClientOptions::default(),
        )
        .unwrap();
        let req = c.get(
            ops::SHOW_SERVICE,
            &["servicemanager", "v1", "services", "a/b c"],
        );
        assert_eq!(req.path, "/servicemanager/v1/services/a%2Fb%20c");
        assert!(req
            .headers
            .iter()
            .any(|(k, v)| k == "Authorization" && v == "Bearer b"));
        for bad in ["", " ", ".", ".."] {
            let e = id(ops::DELETE_SERVICE, bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidRequest, "{bad:?}");
        }
    }
}
