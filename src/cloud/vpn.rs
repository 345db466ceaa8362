//! VPN v5 operations: one async method per documented API, over the shared
//! [`ApiClient`] (signing, rate limits, retries, error classification).
//!
//! Every method returns the decoded resource (the `request_id` wrapper is dropped)
//! or a classified [`CloudError`]. Deletes are plain: a 404 comes back as an error
//! with `kind == ErrorKind::NotFound` (test it with [`CloudError::is_not_found`]); whether
//! "already gone" counts as success is the caller's decision (the controllers treat
//! it as success).
//!
//! Paths follow the reference exactly; note the SINGULAR `/vpn-connection` paths for
//! connections (only batch-create is plural) and the `/v5.1` prefix of the extended
//! availability-zone API. Path parameters are percent-encoded, and empty, `.` or `..`
//! IDs are refused before any request is sent.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{CloudError, ErrorKind};
use super::listcache::{self, Freshness, ListCache};
use super::model::{
    BatchCreateVpnConnectionsRequest, BatchCreateVpnConnectionsResponse, ConnectionLog,
    ConnectionMonitorInfo, ConnectionMonitorResponse, CreateConnectionMonitorRequest,
    CreateConnectionMonitorRequestBody, CreateCustomerGatewayRequest,
    CreateCustomerGatewayRequestBody, CreateVpnConnectionRequest, CreateVpnConnectionRequestBody,
    CreateVpnGatewayCertificateBody, CreateVpnGatewayCertificateRequest, CreateVpnGatewayRequest,
    CreateVpnGatewayRequestBody, CustomerGatewayResponse, ExtendedAvailabilityZone,
    FilterResourcesRequest, FilterResourcesResponse, GatewayFlavor, Job,
    ListAvailabilityZonesResponse, ListConnectionLogsResponse, ListConnectionMonitorsQuery,
    ListConnectionMonitorsResponse, ListCustomerGatewaysQuery, ListCustomerGatewaysResponse,
    ListExtendedAvailabilityZonesResponse, ListJobsResponse, ListVpnConnectionsQuery,
    ListVpnConnectionsResponse, ListVpnGatewaysQuery, ListVpnGatewaysResponse, Page, ProjectTag,
    ProjectTagsResponse, QueryParams, QuotaInfo, QuotaType, Quotas, QuotasResponse,
    ResourceTagsResponse, ResponseCustomerGateway, ResponseVpnConnection, ResponseVpnGateway,
    RoutingTableResponse, TagResourceType, TagsRequest, UpdateCustomerGatewayRequest,
    UpdateCustomerGatewayRequestBody, UpdateVpnConnectionRequest, UpdateVpnConnectionRequestBody,
    UpdateVpnGatewayCertificateBody, UpdateVpnGatewayCertificateRequest, UpdateVpnGatewayRequest,
    UpdateVpnGatewayRequestBody, UpdateVpnGatewaySpecificationBody,
    UpdateVpnGatewaySpecificationRequest, UpgradeAction, UpgradeVpnGatewayRequest,
    UpgradeVpnGatewayResponse, VpnConnectionResponse, VpnGatewayCertificate,
    VpnGatewayCertificateResponse, VpnGatewayResponse, VpnResourceTag,
};
use super::transport::{ApiClient, ApiRequest, Operation};
use std::time::Instant;

/// The named operations, for metrics, limiter buckets and error messages. Names
/// follow the vendor SDK where it has them; `ListResourceJobs` / `DeleteResourceJob`
/// follow the IAM action names (`vpn:vpnGateways:listResourceJobs`).
pub mod ops {
    use super::Operation;

    /// `POST /v5/{project_id}/vpn-gateways`.
    pub const CREATE_VGW: Operation = Operation::create("CreateVgw");
    /// `GET /v5/{project_id}/vpn-gateways/{vgw_id}`.
    pub const SHOW_VGW: Operation = Operation::read("ShowVgw");
    /// `GET /v5/{project_id}/vpn-gateways`.
    pub const LIST_VGWS: Operation = Operation::read("ListVgws");
    /// `PUT /v5/{project_id}/vpn-gateways/{vgw_id}`.
    pub const UPDATE_VGW: Operation = Operation::write("UpdateVgw");
    /// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/update-specification` (sets a flavor: idempotent).
    pub const UPDATE_VGW_SPECIFICATION: Operation =
        Operation::write("UpdatePostpaidVgwSpecification");
    /// `DELETE /v5/{project_id}/vpn-gateways/{vgw_id}`.
    pub const DELETE_VGW: Operation = Operation::write("DeleteVgw");
    /// `GET /v5/{project_id}/vpn-gateways/availability-zones`.
    pub const LIST_AVAILABILITY_ZONES: Operation = Operation::read("ListAvailabilityZones");
    /// `GET /v5.1/{project_id}/vpn-gateways/availability-zones`.
    pub const LIST_EXTENDED_AVAILABILITY_ZONES: Operation =
        Operation::read("ListExtendedAvailabilityZones");
    /// `GET /v5/{project_id}/vpn-gateways/jobs`.
    pub const LIST_JOBS: Operation = Operation::read("ListResourceJobs");
    /// `DELETE /v5/{project_id}/vpn-gateways/jobs/{job_id}`.
    pub const DELETE_JOB: Operation = Operation::write("DeleteResourceJob");
    /// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/upgrade` (`start` / `finish` / `rollback`;
    /// a repeated `start` could begin a second job, so it is never retried blindly).
    pub const UPGRADE_VGW: Operation = Operation::create("UpgradeVgw");
    /// `GET /v5/{project_id}/vpn-gateways/{vgw_id}/routing-table`.
    pub const SHOW_VGW_ROUTING_TABLE: Operation = Operation::read("ShowVgwRoutingTable");
    /// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/certificate` (GM gateways).
    pub const CREATE_VGW_CERTIFICATE: Operation = Operation::create("CreateVgwCertificate");
    /// `GET /v5/{project_id}/vpn-gateways/{vgw_id}/certificate`.
    pub const SHOW_VGW_CERTIFICATE: Operation = Operation::read("ShowVgwCertificate");
    /// `PUT /v5/{project_id}/vpn-gateways/{vgw_id}/certificate/{certificate_id}`.
    pub const UPDATE_VGW_CERTIFICATE: Operation = Operation::write("UpdateVgwCertificate");
    /// `POST /v5/{project_id}/customer-gateways`.
    pub const CREATE_CGW: Operation = Operation::create("CreateCgw");
    /// `GET /v5/{project_id}/customer-gateways/{customer_gateway_id}`.
    pub const SHOW_CGW: Operation = Operation::read("ShowCgw");
    /// `GET /v5/{project_id}/customer-gateways`.
    pub const LIST_CGWS: Operation = Operation::read("ListCgws");
    /// `PUT /v5/{project_id}/customer-gateways/{customer_gateway_id}`.
    pub const UPDATE_CGW: Operation = Operation::write("UpdateCgw");
    /// `DELETE /v5/{project_id}/customer-gateways/{customer_gateway_id}`.
    pub const DELETE_CGW: Operation = Operation::write("DeleteCgw");
    /// `POST /v5/{project_id}/vpn-connection`.
    pub const CREATE_VPN_CONNECTION: Operation = Operation::create("CreateVpnConnection");
    /// `POST /v5/{project_id}/vpn-connections/batch-create`.
    pub const BATCH_CREATE_VPN_CONNECTIONS: Operation =
        Operation::create("BatchCreateVpnConnections");
    /// `GET /v5/{project_id}/vpn-connection/{vpn_connection_id}`.
    pub const SHOW_VPN_CONNECTION: Operation = Operation::read("ShowVpnConnection");
    /// `GET /v5/{project_id}/vpn-connection`.
    pub const LIST_VPN_CONNECTIONS: Operation = Operation::read("ListVpnConnections");
    /// `PUT /v5/{project_id}/vpn-connection/{vpn_connection_id}`.
    pub const UPDATE_VPN_CONNECTION: Operation = Operation::write("UpdateVpnConnection");
    /// `DELETE /v5/{project_id}/vpn-connection/{vpn_connection_id}`.
    pub const DELETE_VPN_CONNECTION: Operation = Operation::write("DeleteVpnConnection");
    /// `GET /v5/{project_id}/vpn-connection/{vpn_connection_id}/log`.
    pub const LIST_VPN_CONNECTION_LOGS: Operation = Operation::read("ListVpnConnectionLogs");
    /// `POST /v5/{project_id}/vpn-connection/{vpn_connection_id}/reset` (a reset is an action,
    /// made once per request: never retried when it may have been applied).
    pub const RESET_VPN_CONNECTION: Operation = Operation::create("ResetVpnConnection");
    /// `POST /v5/{project_id}/connection-monitors`.
    pub const CREATE_CONNECTION_MONITOR: Operation = Operation::create("CreateConnectionMonitor");
    /// `GET /v5/{project_id}/connection-monitors/{connection_monitor_id}`.
    pub const SHOW_CONNECTION_MONITOR: Operation = Operation::read("ShowConnectionMonitor");
    /// `GET /v5/{project_id}/connection-monitors`.
    pub const LIST_CONNECTION_MONITORS: Operation = Operation::read("ListConnectionMonitors");
    /// `DELETE /v5/{project_id}/connection-monitors/{connection_monitor_id}`.
    pub const DELETE_CONNECTION_MONITOR: Operation = Operation::write("DeleteConnectionMonitor");
    /// `GET /v5/{project_id}/vpn/quotas`.
    pub const SHOW_QUOTAS: Operation = Operation::read("ShowQuotasInfo");
    /// `POST /v5/{project_id}/{resource_type}/{resource_id}/tags/create` (adding a present tag again is harmless).
    pub const CREATE_RESOURCE_TAGS: Operation = Operation::write("BatchCreateResourceTags");
    /// `POST /v5/{project_id}/{resource_type}/{resource_id}/tags/delete`.
    pub const DELETE_RESOURCE_TAGS: Operation = Operation::write("BatchDeleteResourceTags");
    /// `GET /v5/{project_id}/{resource_type}/{resource_id}/tags`.
    pub const SHOW_RESOURCE_TAGS: Operation = Operation::read("ShowResourceTags");
    /// `POST /v5/{project_id}/{resource_type}/resource-instances/filter` (a read despite POST).
    pub const LIST_RESOURCES_BY_TAGS: Operation = Operation::read("ListResourcesByTags");
    /// `POST /v5/{project_id}/{resource_type}/resource-instances/count` (a read despite POST).
    pub const COUNT_RESOURCES_BY_TAGS: Operation = Operation::read("CountResourcesByTags");
    /// `GET /v5/{project_id}/{resource_type}/tags`: every tag key and its values in the project.
    pub const LIST_PROJECT_TAGS: Operation = Operation::read("ListProjectTags");

    /// Every documented VPN v5 site-to-site operation the client implements, in the order of
    /// the references (gateways §4, customer gateways §5, connections §5, monitors §6, quotas
    /// and tags §2.9-2.10).
    pub const ALL: &[Operation] = &[
        CREATE_VGW,
        SHOW_VGW,
        LIST_VGWS,
        UPDATE_VGW,
        UPDATE_VGW_SPECIFICATION,
        DELETE_VGW,
        LIST_AVAILABILITY_ZONES,
        LIST_EXTENDED_AVAILABILITY_ZONES,
        SHOW_VGW_ROUTING_TABLE,
        CREATE_VGW_CERTIFICATE,
        SHOW_VGW_CERTIFICATE,
        UPDATE_VGW_CERTIFICATE,
        UPGRADE_VGW,
        LIST_JOBS,
        DELETE_JOB,
        CREATE_CGW,
        SHOW_CGW,
        LIST_CGWS,
        UPDATE_CGW,
        DELETE_CGW,
        CREATE_VPN_CONNECTION,
        BATCH_CREATE_VPN_CONNECTIONS,
        SHOW_VPN_CONNECTION,
        LIST_VPN_CONNECTIONS,
        UPDATE_VPN_CONNECTION,
        DELETE_VPN_CONNECTION,
        LIST_VPN_CONNECTION_LOGS,
        RESET_VPN_CONNECTION,
        CREATE_CONNECTION_MONITOR,
        SHOW_CONNECTION_MONITOR,
        LIST_CONNECTION_MONITORS,
        DELETE_CONNECTION_MONITOR,
        SHOW_QUOTAS,
        LIST_RESOURCES_BY_TAGS,
        COUNT_RESOURCES_BY_TAGS,
        CREATE_RESOURCE_TAGS,
        DELETE_RESOURCE_TAGS,
        SHOW_RESOURCE_TAGS,
        LIST_PROJECT_TAGS,
    ];
}

// Retry classification the transport relies on, checked at compile time: a retried
// create may duplicate a resource; setting a flavor twice is harmless; the tag filter
// is a read although it is a POST.
const _: () = {
    assert!(!ops::CREATE_VGW.idempotent && !ops::CREATE_CGW.idempotent);
    assert!(
        !ops::CREATE_VPN_CONNECTION.idempotent && !ops::BATCH_CREATE_VPN_CONNECTIONS.idempotent
    );
    assert!(!ops::CREATE_CONNECTION_MONITOR.idempotent);
    assert!(!ops::UPGRADE_VGW.idempotent && !ops::RESET_VPN_CONNECTION.idempotent);
    assert!(!ops::CREATE_VGW_CERTIFICATE.idempotent && ops::UPDATE_VGW_CERTIFICATE.idempotent);
    assert!(ops::ALL.len() == 39);
    assert!(ops::UPDATE_VGW_SPECIFICATION.idempotent && ops::DELETE_VGW.idempotent);
    assert!(matches!(
        ops::LIST_RESOURCES_BY_TAGS.kind,
        super::transport::OpKind::Read
    ));
};

/// `Ok(None)` for a 404.
fn found<T>(r: Result<T, CloudError>) -> Result<Option<T>, CloudError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Most pages `list_all_*` follows before giving up (a server whose markers never end).
const MAX_PAGES: usize = 1000;

/// Characters kept as-is in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Resources of one kind by id, as listed (shared between callers).
pub type Listing<T> = Arc<HashMap<String, T>>;

fn by_id<T>(items: Vec<T>, id: impl Fn(&T) -> &String) -> Listing<T> {
    Arc::new(items.into_iter().map(|i| (id(&i).clone(), i)).collect())
}

/// The Huawei Cloud VPN v5 API of one project.
#[derive(Clone)]
pub struct VpnClient {
    /// The shared executor (endpoint, project, credentials, limits, retries).
    pub api: ApiClient,
    /// Shared list observations, when the caller opted in ([`with_lists`](Self::with_lists)).
    observation: Option<Observation>,
}

#[derive(Clone)]
struct Observation {
    lists: Arc<ListCache>,
    max_age: Duration,
}

impl VpnClient {
    /// A client over an executor.
    pub fn new(api: ApiClient) -> Self {
        Self {
            api,
            observation: None,
        }
    }

    /// Serves the `observe_*` reads from list snapshots shared through `lists` (one list call
    /// per kind serves every resource), and records this client's writes there so a snapshot
    /// taken before a write is never mistaken for the state after it.
    pub fn with_lists(mut self, lists: Arc<ListCache>) -> Self {
        self.observation = Some(Observation {
            lists,
            max_age: Duration::ZERO,
        });
        self
    }

    /// A copy whose `observe_*` reads accept a list snapshot up to `max_age` old.
    pub fn observing(&self, max_age: Duration) -> Self {
        let mut c = self.clone();
        if let Some(o) = &mut c.observation {
            o.max_age = max_age;
        }
        c
    }

    /// The account (endpoint and project) this client talks to: list snapshots are kept per
    /// account.
    pub fn account(&self) -> String {
        format!("{}|{}", self.api.endpoint(), self.api.project_id())
    }

    /// Every gateway of the account, from a shared snapshot at most `f.max_age` old (a list now
    /// without one), with the moment its list started.
    pub async fn listed_gateways(
        &self,
        f: Freshness,
    ) -> Result<(Instant, Listing<ResponseVpnGateway>), CloudError> {
        let list = || self.every_gateway();
        match &self.observation {
            Some(o) => o.lists.all_gateways(&self.account(), f, list).await,
            None => {
                let started = Instant::now();
                Ok((started, by_id(list().await?, |g| &g.id)))
            }
        }
    }

    /// Every connection of the account (see [`Self::listed_gateways`]).
    pub async fn listed_connections(
        &self,
        f: Freshness,
    ) -> Result<(Instant, Listing<ResponseVpnConnection>), CloudError> {
        let list = || self.every_connection();
        match &self.observation {
            Some(o) => o.lists.all_connections(&self.account(), f, list).await,
            None => {
                let started = Instant::now();
                Ok((started, by_id(list().await?, |c| &c.id)))
            }
        }
    }

    /// Every gateway of the account (what the gateway snapshots are made of).
    async fn every_gateway(&self) -> Result<Vec<ResponseVpnGateway>, CloudError> {
        self.list_gateways(&ListVpnGatewaysQuery::default()).await
    }

    /// Every connection of the account (what the connection snapshots are made of).
    async fn every_connection(&self) -> Result<Vec<ResponseVpnConnection>, CloudError> {
        self.list_all_connections(&ListVpnConnectionsQuery::default())
            .await
    }

    fn wrote(&self, resource_id: &str) {
        if let Some(o) = &self.observation {
            o.lists.wrote(resource_id);
        }
    }

    /// The gateway `id` as observed (shared list snapshot, or GET without one); `None` when it
    /// does not exist.
    pub async fn observe_gateway(
        &self,
        id: &str,
    ) -> Result<Option<ResponseVpnGateway>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || self.every_gateway();
                let f = Freshness::within(o.max_age);
                o.lists
                    .gateway(&self.account(), id, f, list, || self.get_gateway(id))
                    .await
            }
            None => found(self.get_gateway(id).await),
        }
    }

    /// Records that a create for object `owner` (its uid) just returned, successfully or
    /// not, so its next owner-tag search uses a list taken after it.
    pub fn attempted_create(&self, owner: &str) {
        if let Some(o) = &self.observation {
            o.lists.attempted_create(owner);
        }
    }

    /// The gateways among which one tagged for object `owner` would be (the search before a
    /// create): a shared snapshot recent enough to show any such gateway, or a list now.
    pub async fn search_gateways(
        &self,
        owner: &str,
    ) -> Result<Listing<ResponseVpnGateway>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || self.every_gateway();
                o.lists
                    .gateways_for_owner(&self.account(), owner, list)
                    .await
            }
            None => Ok(by_id(
                self.list_gateways(&ListVpnGatewaysQuery::default()).await?,
                |g| &g.id,
            )),
        }
    }

    /// The customer gateways to search for object `owner` (see [`Self::search_gateways`]).
    pub async fn search_customer_gateways(
        &self,
        owner: &str,
    ) -> Result<Listing<ResponseCustomerGateway>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || self.list_all_customer_gateways(None);
                o.lists
                    .customer_gateways_for_owner(&self.account(), owner, list)
                    .await
            }
            None => Ok(by_id(self.list_all_customer_gateways(None).await?, |c| {
                &c.id
            })),
        }
    }

    /// The connections to search for object `owner` (see [`Self::search_gateways`]).
    pub async fn search_connections(
        &self,
        owner: &str,
    ) -> Result<Listing<ResponseVpnConnection>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || self.every_connection();
                o.lists
                    .connections_for_owner(&self.account(), owner, list)
                    .await
            }
            None => Ok(by_id(
                self.list_all_connections(&ListVpnConnectionsQuery::default())
                    .await?,
                |c| &c.id,
            )),
        }
    }

    /// The customer gateway `id` as observed; `None` when it does not exist.
    pub async fn observe_customer_gateway(
        &self,
        id: &str,
    ) -> Result<Option<ResponseCustomerGateway>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || self.list_all_customer_gateways(None);
                let f = Freshness::within(o.max_age);
                o.lists
                    .customer_gateway(&self.account(), id, f, list, || {
                        self.get_customer_gateway(id)
                    })
                    .await
            }
            None => found(self.get_customer_gateway(id).await),
        }
    }

    /// The connection `id` as observed; `None` when it does not exist.
    pub async fn observe_connection(
        &self,
        id: &str,
    ) -> Result<Option<ResponseVpnConnection>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || self.every_connection();
                let f = Freshness::within(o.max_age);
                o.lists
                    .connection(&self.account(), id, f, list, || self.get_connection(id))
                    .await
            }
            None => found(self.get_connection(id).await),
        }
    }

    /// The monitors of connection `connection_id` as observed.
    pub async fn observe_monitors_of(
        &self,
        connection_id: &str,
    ) -> Result<Vec<ConnectionMonitorInfo>, CloudError> {
        match &self.observation {
            Some(o) => {
                let list = || async {
                    self.list_connection_monitors(&ListConnectionMonitorsQuery::default())
                        .await
                };
                let f = Freshness::within(o.max_age);
                o.lists
                    .monitors_of(&self.account(), connection_id, f, list)
                    .await
            }
            None => {
                let query = ListConnectionMonitorsQuery {
                    vpn_connection_id: Some(connection_id.to_string()),
                    ..Default::default()
                };
                self.list_connection_monitors(&query).await
            }
        }
    }

    // ----- VPN gateways -----------------------------------------------------

    /// Creates a gateway (201). The response has an `id` but no `status`: poll
    /// [`get_gateway`](Self::get_gateway) until `ACTIVE` (`FAULT` = failed).
    /// Not idempotent: a retried create can make a second gateway.
    pub async fn create_gateway(
        &self,
        body: &CreateVpnGatewayRequestBody,
    ) -> Result<ResponseVpnGateway, CloudError> {
        let request = CreateVpnGatewayRequest {
            vpn_gateway: body.clone(),
        };
        let req = post(ops::CREATE_VGW, self.path(&["vpn-gateways"])).json_body(&request);
        let result =
            async { Ok(self.api.json::<VpnGatewayResponse>(req).await?.vpn_gateway) }.await;
        if let Ok(created) = &result {
            self.wrote(&created.id);
            self.created(QuotaType::VpnGateway, 1);
        }
        result
    }

    /// Reads one gateway. 404 (VPN.0004 / VPN.0509) when it does not exist.
    pub async fn get_gateway(&self, vgw_id: &str) -> Result<ResponseVpnGateway, CloudError> {
        let op = ops::SHOW_VGW;
        let req = ApiRequest::get(op, self.path(&["vpn-gateways", id(op, vgw_id)?]));
        Ok(self.api.json::<VpnGatewayResponse>(req).await?.vpn_gateway)
    }

    /// Lists gateways (not paged), optionally by enterprise project and/or gateway ID.
    pub async fn list_gateways(
        &self,
        query: &ListVpnGatewaysQuery,
    ) -> Result<Vec<ResponseVpnGateway>, CloudError> {
        let req = with_query(
            ApiRequest::get(ops::LIST_VGWS, self.path(&["vpn-gateways"])),
            query,
        );
        Ok(self
            .api
            .json::<ListVpnGatewaysResponse>(req)
            .await?
            .vpn_gateways)
    }

    /// Updates name, local subnets, EIP bindings or policy template. The gateway then
    /// passes through `PENDING_UPDATE`; poll until `ACTIVE`.
    pub async fn update_gateway(
        &self,
        vgw_id: &str,
        body: &UpdateVpnGatewayRequestBody,
    ) -> Result<ResponseVpnGateway, CloudError> {
        let op = ops::UPDATE_VGW;
        let request = UpdateVpnGatewayRequest {
            vpn_gateway: body.clone(),
        };
        let req = put(op, self.path(&["vpn-gateways", id(op, vgw_id)?])).json_body(&request);
        let result =
            async { Ok(self.api.json::<VpnGatewayResponse>(req).await?.vpn_gateway) }.await;
        self.wrote(vgw_id);
        result
    }

    /// Changes the flavor (must be in the gateway's `supported_flavors`); then poll
    /// until `ACTIVE` again.
    pub async fn update_gateway_specification(
        &self,
        vgw_id: &str,
        flavor: &GatewayFlavor,
    ) -> Result<ResponseVpnGateway, CloudError> {
        let op = ops::UPDATE_VGW_SPECIFICATION;
        let request = UpdateVpnGatewaySpecificationRequest {
            vpn_gateway: UpdateVpnGatewaySpecificationBody {
                flavor: flavor.clone(),
            },
        };
        let path = self.path(&["vpn-gateways", id(op, vgw_id)?, "update-specification"]);
        let req = post(op, path).json_body(&request);
        let result =
            async { Ok(self.api.json::<VpnGatewayResponse>(req).await?.vpn_gateway) }.await;
        self.wrote(vgw_id);
        result
    }

    /// Deletes a gateway (204). It goes `PENDING_DELETE`; done when GET returns 404.
    pub async fn delete_gateway(&self, vgw_id: &str) -> Result<(), CloudError> {
        let op = ops::DELETE_VGW;
        let result = async {
            self.api
                .no_content(delete(op, self.path(&["vpn-gateways", id(op, vgw_id)?])))
                .await
        }
        .await;
        self.wrote(vgw_id);
        result
    }

    /// Gateway AZs per flavor and attachment type (v5; no IPv6 information).
    pub async fn list_availability_zones(
        &self,
    ) -> Result<ListAvailabilityZonesResponse, CloudError> {
        let req = ApiRequest::get(
            ops::LIST_AVAILABILITY_ZONES,
            self.path(&["vpn-gateways", "availability-zones"]),
        );
        self.api.json(req).await
    }

    /// Gateway AZs with every available (flavor, attachment, IP version) spec (v5.1).
    pub async fn list_extended_availability_zones(
        &self,
    ) -> Result<Vec<ExtendedAvailabilityZone>, CloudError> {
        let path = self.versioned_path("v5.1", &["vpn-gateways", "availability-zones"]);
        let req = ApiRequest::get(ops::LIST_EXTENDED_AVAILABILITY_ZONES, path);
        Ok(self
            .api
            .json::<ListExtendedAvailabilityZonesResponse>(req)
            .await?
            .availability_zones)
    }

    /// Gateway jobs (upgrade / rollback), optionally of one gateway. Not paged.
    pub async fn list_jobs(&self, resource_id: Option<&str>) -> Result<Vec<Job>, CloudError> {
        let req = ApiRequest::get(ops::LIST_JOBS, self.path(&["vpn-gateways", "jobs"]))
            .query_opt("resource_id", resource_id);
        Ok(self.api.json::<ListJobsResponse>(req).await?.jobs)
    }

    /// Deletes a job record (204). Only terminal jobs should be deleted.
    pub async fn delete_job(&self, job_id: &str) -> Result<(), CloudError> {
        let op = ops::DELETE_JOB;
        self.api
            .no_content(delete(
                op,
                self.path(&["vpn-gateways", "jobs", id(op, job_id)?]),
            ))
            .await
    }

    /// Upgrades the gateway's software (202 with the job to follow): `start` puts it in
    /// `UPGRADING` and then `PENDING_UPGRADE_CONFIRM`, where `finish` (keep) or `rollback`
    /// (back to the previous version) must follow. Returns the job id when the answer has one.
    pub async fn upgrade_gateway(
        &self,
        vgw_id: &str,
        action: UpgradeAction,
    ) -> Result<Option<String>, CloudError> {
        let op = ops::UPGRADE_VGW;
        let path = self.path(&["vpn-gateways", id(op, vgw_id)?, "upgrade"]);
        let req = post(op, path).json_body(&UpgradeVpnGatewayRequest { action });
        let result = async {
            Ok(self
                .api
                .json::<UpgradeVpnGatewayResponse>(req)
                .await?
                .job_id)
        }
        .await;
        self.wrote(vgw_id);
        result
    }

    /// The gateway's routing table (routes learned over BGP or configured), with the total
    /// count the API reports. No paging is documented; one call.
    pub async fn routing_table(&self, vgw_id: &str) -> Result<RoutingTableResponse, CloudError> {
        let op = ops::SHOW_VGW_ROUTING_TABLE;
        let path = self.path(&["vpn-gateways", id(op, vgw_id)?, "routing-table"]);
        self.api.json(ApiRequest::get(op, path)).await
    }

    /// Imports the GM certificates of a gateway (201). The certificate then goes `BINDING` →
    /// `BOUND` (or `FAULT`); a second import answers VPN.0077: update it instead.
    pub async fn create_gateway_certificate(
        &self,
        vgw_id: &str,
        body: &CreateVpnGatewayCertificateBody,
    ) -> Result<VpnGatewayCertificate, CloudError> {
        let op = ops::CREATE_VGW_CERTIFICATE;
        let path = self.path(&["vpn-gateways", id(op, vgw_id)?, "certificate"]);
        let request = CreateVpnGatewayCertificateRequest {
            certificate: body.clone(),
        };
        let req = post(op, path).json_body(&request);
        Ok(self
            .api
            .json::<VpnGatewayCertificateResponse>(req)
            .await?
            .certificate)
    }

    /// The gateway's certificate with its binding `status`. 404 when none was imported.
    pub async fn get_gateway_certificate(
        &self,
        vgw_id: &str,
    ) -> Result<VpnGatewayCertificate, CloudError> {
        let op = ops::SHOW_VGW_CERTIFICATE;
        let path = self.path(&["vpn-gateways", id(op, vgw_id)?, "certificate"]);
        Ok(self
            .api
            .json::<VpnGatewayCertificateResponse>(ApiRequest::get(op, path))
            .await?
            .certificate)
    }

    /// [`Self::get_gateway_certificate`], `None` when the gateway has no certificate.
    pub async fn observe_gateway_certificate(
        &self,
        vgw_id: &str,
    ) -> Result<Option<VpnGatewayCertificate>, CloudError> {
        found(self.get_gateway_certificate(vgw_id).await)
    }

    /// Replaces parts of the gateway's certificate (only the fields given change); it binds
    /// again (`BINDING` → `BOUND`).
    pub async fn update_gateway_certificate(
        &self,
        vgw_id: &str,
        certificate_id: &str,
        body: &UpdateVpnGatewayCertificateBody,
    ) -> Result<VpnGatewayCertificate, CloudError> {
        let op = ops::UPDATE_VGW_CERTIFICATE;
        let path = self.path(&[
            "vpn-gateways",
            id(op, vgw_id)?,
            "certificate",
            id(op, certificate_id)?,
        ]);
        let request = UpdateVpnGatewayCertificateRequest {
            certificate: body.clone(),
        };
        let req = put(op, path).json_body(&request);
        Ok(self
            .api
            .json::<VpnGatewayCertificateResponse>(req)
            .await?
            .certificate)
    }

    // ----- customer gateways ------------------------------------------------

    /// Creates a customer gateway (201, synchronous: the response is final).
    pub async fn create_customer_gateway(
        &self,
        body: &CreateCustomerGatewayRequestBody,
    ) -> Result<ResponseCustomerGateway, CloudError> {
        let request = CreateCustomerGatewayRequest {
            customer_gateway: body.clone(),
        };
        let req = post(ops::CREATE_CGW, self.path(&["customer-gateways"])).json_body(&request);
        let result = async {
            Ok(self
                .api
                .json::<CustomerGatewayResponse>(req)
                .await?
                .customer_gateway)
        }
        .await;
        if let Ok(created) = &result {
            self.wrote(&created.id);
            self.created(QuotaType::CustomerGateway, 1);
        }
        result
    }

    /// Reads one customer gateway.
    pub async fn get_customer_gateway(
        &self,
        customer_gateway_id: &str,
    ) -> Result<ResponseCustomerGateway, CloudError> {
        let op = ops::SHOW_CGW;
        let req = ApiRequest::get(
            op,
            self.path(&["customer-gateways", id(op, customer_gateway_id)?]),
        );
        Ok(self
            .api
            .json::<CustomerGatewayResponse>(req)
            .await?
            .customer_gateway)
    }

    /// One page of customer gateways. `next_marker` is `None` on the last page (the
    /// API returns a marker even then; a page shorter than `limit` ends the list).
    pub async fn list_customer_gateways(
        &self,
        query: &ListCustomerGatewaysQuery,
    ) -> Result<Page<ResponseCustomerGateway>, CloudError> {
        let req = with_query(
            ApiRequest::get(ops::LIST_CGWS, self.path(&["customer-gateways"])),
            query,
        );
        let resp: ListCustomerGatewaysResponse = self.api.json(req).await?;
        let limit = query
            .limit
            .unwrap_or(ListCustomerGatewaysQuery::DEFAULT_LIMIT);
        Ok(Page::from_wire(
            resp.customer_gateways,
            resp.page_info,
            resp.total_count,
            limit,
        ))
    }

    /// Every customer gateway, following `page_info.next_marker` (pages of `limit`, default 200).
    pub async fn list_all_customer_gateways(
        &self,
        limit: Option<u32>,
    ) -> Result<Vec<ResponseCustomerGateway>, CloudError> {
        let mut query = ListCustomerGatewaysQuery {
            limit: Some(limit.unwrap_or(ListCustomerGatewaysQuery::DEFAULT_LIMIT)),
            marker: None,
        };
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.list_customer_gateways(&query).await?;
            all.extend(page.items);
            match advance(ops::LIST_CGWS, query.marker.as_deref(), page.next_marker)? {
                Some(next) => query.marker = Some(next),
                None => return Ok(all),
            }
        }
        Err(too_many_pages(ops::LIST_CGWS))
    }

    /// Changes the name and/or CA certificate (the only updatable fields).
    pub async fn update_customer_gateway(
        &self,
        customer_gateway_id: &str,
        body: &UpdateCustomerGatewayRequestBody,
    ) -> Result<ResponseCustomerGateway, CloudError> {
        let op = ops::UPDATE_CGW;
        let request = UpdateCustomerGatewayRequest {
            customer_gateway: body.clone(),
        };
        let req = put(
            op,
            self.path(&["customer-gateways", id(op, customer_gateway_id)?]),
        )
        .json_body(&request);
        let result = async {
            Ok(self
                .api
                .json::<CustomerGatewayResponse>(req)
                .await?
                .customer_gateway)
        }
        .await;
        self.wrote(customer_gateway_id);
        result
    }

    /// Deletes a customer gateway (204). Fails with VPN.0001 "... has connection"
    /// while connections still use it.
    pub async fn delete_customer_gateway(
        &self,
        customer_gateway_id: &str,
    ) -> Result<(), CloudError> {
        let op = ops::DELETE_CGW;
        let result = async {
            self.api
                .no_content(delete(
                    op,
                    self.path(&["customer-gateways", id(op, customer_gateway_id)?]),
                ))
                .await
        }
        .await;
        self.wrote(customer_gateway_id);
        result
    }

    // ----- VPN connections --------------------------------------------------

    /// Creates a connection (201, no `status` in the response): poll
    /// [`get_connection`](Self::get_connection) until `ACTIVE` or `DOWN` (`ERROR` = failed).
    pub async fn create_connection(
        &self,
        body: &CreateVpnConnectionRequestBody,
    ) -> Result<ResponseVpnConnection, CloudError> {
        let request = CreateVpnConnectionRequest {
            vpn_connection: body.clone(),
        };
        let req =
            post(ops::CREATE_VPN_CONNECTION, self.path(&["vpn-connection"])).json_body(&request);
        let result = async {
            Ok(self
                .api
                .json::<VpnConnectionResponse>(req)
                .await?
                .vpn_connection)
        }
        .await;
        if let Ok(created) = &result {
            self.wrote(&created.id);
            self.created(QuotaType::VpnConnection, 1);
        }
        result
    }

    /// Creates 1-2 connections of one gateway in one call (the dual-tunnel pattern).
    pub async fn batch_create_connections(
        &self,
        bodies: &[CreateVpnConnectionRequestBody],
    ) -> Result<Vec<ResponseVpnConnection>, CloudError> {
        let request = BatchCreateVpnConnectionsRequest {
            vpn_connections: bodies.to_vec(),
        };
        let path = self.path(&["vpn-connections", "batch-create"]);
        let req = post(ops::BATCH_CREATE_VPN_CONNECTIONS, path).json_body(&request);
        let created = self
            .api
            .json::<BatchCreateVpnConnectionsResponse>(req)
            .await?
            .vpn_connections;
        for c in &created {
            self.wrote(&c.id);
        }
        self.created(QuotaType::VpnConnection, created.len());
        Ok(created)
    }

    /// Reads one connection (with `status`, `connection_monitor_id`, `bgp_peer`).
    /// 404 (VPN.0563 / VPN.0004) when it does not exist.
    pub async fn get_connection(
        &self,
        vpn_connection_id: &str,
    ) -> Result<ResponseVpnConnection, CloudError> {
        let op = ops::SHOW_VPN_CONNECTION;
        let req = ApiRequest::get(
            op,
            self.path(&["vpn-connection", id(op, vpn_connection_id)?]),
        );
        Ok(self
            .api
            .json::<VpnConnectionResponse>(req)
            .await?
            .vpn_connection)
    }

    /// One page of connections, filtered by `vgw_id`, `vgw_ip`, enterprise projects.
    pub async fn list_connections(
        &self,
        query: &ListVpnConnectionsQuery,
    ) -> Result<Page<ResponseVpnConnection>, CloudError> {
        let req = with_query(
            ApiRequest::get(ops::LIST_VPN_CONNECTIONS, self.path(&["vpn-connection"])),
            query,
        );
        let resp: ListVpnConnectionsResponse = self.api.json(req).await?;
        let limit = query
            .limit
            .unwrap_or(ListVpnConnectionsQuery::DEFAULT_LIMIT);
        Ok(Page::from_wire(
            resp.vpn_connections,
            resp.page_info,
            resp.total_count,
            limit,
        ))
    }

    /// Every connection matching the filters of `query`, following the markers
    /// (starting at `query.marker`, pages of `query.limit`, default 2000).
    pub async fn list_all_connections(
        &self,
        query: &ListVpnConnectionsQuery,
    ) -> Result<Vec<ResponseVpnConnection>, CloudError> {
        let mut query = query.clone();
        query.limit = Some(
            query
                .limit
                .unwrap_or(ListVpnConnectionsQuery::DEFAULT_LIMIT),
        );
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.list_connections(&query).await?;
            all.extend(page.items);
            match advance(
                ops::LIST_VPN_CONNECTIONS,
                query.marker.as_deref(),
                page.next_marker,
            )? {
                Some(next) => query.marker = Some(next),
                None => return Ok(all),
            }
        }
        Err(too_many_pages(ops::LIST_VPN_CONNECTIONS))
    }

    /// Updates a connection. Send complete `ikepolicy` / `ipsecpolicy` objects (merge
    /// semantics are undocumented). May fail with VPN.0001 "... not allowed update".
    pub async fn update_connection(
        &self,
        vpn_connection_id: &str,
        body: &UpdateVpnConnectionRequestBody,
    ) -> Result<ResponseVpnConnection, CloudError> {
        let op = ops::UPDATE_VPN_CONNECTION;
        let request = UpdateVpnConnectionRequest {
            vpn_connection: body.clone(),
        };
        let req = put(
            op,
            self.path(&["vpn-connection", id(op, vpn_connection_id)?]),
        )
        .json_body(&request);
        let result = async {
            Ok(self
                .api
                .json::<VpnConnectionResponse>(req)
                .await?
                .vpn_connection)
        }
        .await;
        self.wrote(vpn_connection_id);
        result
    }

    /// Deletes a connection (204); done when GET returns 404.
    pub async fn delete_connection(&self, vpn_connection_id: &str) -> Result<(), CloudError> {
        let op = ops::DELETE_VPN_CONNECTION;
        let result = async {
            self.api
                .no_content(delete(
                    op,
                    self.path(&["vpn-connection", id(op, vpn_connection_id)?]),
                ))
                .await
        }
        .await;
        self.wrote(vpn_connection_id);
        result
    }

    /// Recent IKE/IPsec negotiation log lines of a connection (explains `DOWN`).
    pub async fn list_connection_logs(
        &self,
        vpn_connection_id: &str,
    ) -> Result<Vec<ConnectionLog>, CloudError> {
        let op = ops::LIST_VPN_CONNECTION_LOGS;
        let req = ApiRequest::get(
            op,
            self.path(&["vpn-connection", id(op, vpn_connection_id)?, "log"]),
        );
        Ok(self.api.json::<ListConnectionLogsResponse>(req).await?.logs)
    }

    /// Resets a connection (200; the tunnel is torn down and negotiated again). Refused while
    /// the connection is `PENDING_*`.
    pub async fn reset_connection(&self, vpn_connection_id: &str) -> Result<(), CloudError> {
        let op = ops::RESET_VPN_CONNECTION;
        let path = self.path(&["vpn-connection", id(op, vpn_connection_id)?, "reset"]);
        let result = self.api.no_content(post(op, path)).await;
        self.wrote(vpn_connection_id);
        result
    }

    /// The connections of gateway `vgw_id` as observed (shared list snapshot, or a list
    /// filtered by `vgw_id` without one).
    pub async fn observe_connections_of(
        &self,
        vgw_id: &str,
    ) -> Result<Vec<ResponseVpnConnection>, CloudError> {
        let all = match &self.observation {
            Some(o) => {
                let list = || self.every_connection();
                let f = Freshness::within(o.max_age);
                o.lists.all_connections(&self.account(), f, list).await?.1
            }
            None => {
                let query = ListVpnConnectionsQuery {
                    vgw_id: Some(vgw_id.to_string()),
                    ..Default::default()
                };
                by_id(self.list_all_connections(&query).await?, |c| &c.id)
            }
        };
        // The filter is applied here too: a snapshot holds every gateway's connections.
        let mut mine: Vec<ResponseVpnConnection> = all
            .values()
            .filter(|c| c.vgw_id.as_deref() == Some(vgw_id))
            .cloned()
            .collect();
        mine.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(mine)
    }

    // ----- connection monitors ----------------------------------------------

    /// Creates the NQA monitor of a connection (201, no `status`).
    pub async fn create_connection_monitor(
        &self,
        vpn_connection_id: &str,
    ) -> Result<ConnectionMonitorInfo, CloudError> {
        let op = ops::CREATE_CONNECTION_MONITOR;
        let request = CreateConnectionMonitorRequest {
            connection_monitor: CreateConnectionMonitorRequestBody {
                vpn_connection_id: id(op, vpn_connection_id)?.to_owned(),
            },
        };
        let req = post(op, self.path(&["connection-monitors"])).json_body(&request);
        let result = async {
            Ok(self
                .api
                .json::<ConnectionMonitorResponse>(req)
                .await?
                .connection_monitor)
        }
        .await;
        self.wrote(vpn_connection_id);
        result
    }

    /// Reads one monitor.
    pub async fn get_connection_monitor(
        &self,
        connection_monitor_id: &str,
    ) -> Result<ConnectionMonitorInfo, CloudError> {
        let op = ops::SHOW_CONNECTION_MONITOR;
        let req = ApiRequest::get(
            op,
            self.path(&["connection-monitors", id(op, connection_monitor_id)?]),
        );
        Ok(self
            .api
            .json::<ConnectionMonitorResponse>(req)
            .await?
            .connection_monitor)
    }

    /// Lists monitors (not paged), optionally of one connection.
    pub async fn list_connection_monitors(
        &self,
        query: &ListConnectionMonitorsQuery,
    ) -> Result<Vec<ConnectionMonitorInfo>, CloudError> {
        let req = with_query(
            ApiRequest::get(
                ops::LIST_CONNECTION_MONITORS,
                self.path(&["connection-monitors"]),
            ),
            query,
        );
        Ok(self
            .api
            .json::<ListConnectionMonitorsResponse>(req)
            .await?
            .connection_monitors)
    }

    /// Deletes a monitor (204).
    pub async fn delete_connection_monitor(
        &self,
        connection_monitor_id: &str,
    ) -> Result<(), CloudError> {
        let op = ops::DELETE_CONNECTION_MONITOR;
        let result = async {
            self.api
                .no_content(delete(
                    op,
                    self.path(&["connection-monitors", id(op, connection_monitor_id)?]),
                ))
                .await
        }
        .await;
        self.wrote(listcache::MONITORS);
        result
    }

    // ----- quotas and tags --------------------------------------------------

    /// The project's VPN quotas (`customer_gateway`, `vpn_connection`, `vpn_gateway`, ...).
    pub async fn get_quotas(&self) -> Result<Quotas, CloudError> {
        let req = ApiRequest::get(ops::SHOW_QUOTAS, self.path(&["vpn", "quotas"]));
        Ok(self.api.json::<QuotasResponse>(req).await?.quotas)
    }

    /// Adds (or overwrites the values of) tags on a resource (204). At most 20 per call.
    pub async fn add_tags(
        &self,
        resource_type: &TagResourceType,
        resource_id: &str,
        tags: &[VpnResourceTag],
    ) -> Result<(), CloudError> {
        let result = async {
            self.tags_call(
                ops::CREATE_RESOURCE_TAGS,
                "create",
                resource_type,
                resource_id,
                tags,
            )
            .await
        }
        .await;
        self.wrote(resource_id);
        result
    }

    /// Removes tags from a resource (204; a POST, not DELETE, despite the source's example).
    pub async fn remove_tags(
        &self,
        resource_type: &TagResourceType,
        resource_id: &str,
        tags: &[VpnResourceTag],
    ) -> Result<(), CloudError> {
        let result = async {
            self.tags_call(
                ops::DELETE_RESOURCE_TAGS,
                "delete",
                resource_type,
                resource_id,
                tags,
            )
            .await
        }
        .await;
        self.wrote(resource_id);
        result
    }

    /// The tags of one resource.
    pub async fn list_tags(
        &self,
        resource_type: &TagResourceType,
        resource_id: &str,
    ) -> Result<Vec<VpnResourceTag>, CloudError> {
        let op = ops::SHOW_RESOURCE_TAGS;
        let path = self.path(&[
            id(op, resource_type.as_str())?,
            id(op, resource_id)?,
            "tags",
        ]);
        Ok(self
            .api
            .json::<ResourceTagsResponse>(ApiRequest::get(op, path))
            .await?
            .tags)
    }

    /// Resources of a type matching tag / name conditions (`limit` 1-1000, `offset` >= 0).
    pub async fn filter_resources_by_tags(
        &self,
        resource_type: &TagResourceType,
        filter: &FilterResourcesRequest,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> Result<FilterResourcesResponse, CloudError> {
        let op = ops::LIST_RESOURCES_BY_TAGS;
        let path = self.path(&[
            id(op, resource_type.as_str())?,
            "resource-instances",
            "filter",
        ]);
        let req = post(op, path)
            .query_opt("limit", limit)
            .query_opt("offset", offset)
            .json_body(filter);
        self.api.json(req).await
    }

    /// How many resources of a type match tag / name conditions.
    pub async fn count_resources_by_tags(
        &self,
        resource_type: &TagResourceType,
        filter: &FilterResourcesRequest,
    ) -> Result<u64, CloudError> {
        let op = ops::COUNT_RESOURCES_BY_TAGS;
        let path = self.path(&[
            id(op, resource_type.as_str())?,
            "resource-instances",
            "count",
        ]);
        let resp: FilterResourcesResponse = self.api.json(post(op, path).json_body(filter)).await?;
        resp.total_count.ok_or_else(|| {
            local_error(
                op,
                ErrorKind::Decode,
                "the answer has no total_count".into(),
            )
        })
    }

    /// Every tag key used on resources of a type in the project, with its values.
    pub async fn list_project_tags(
        &self,
        resource_type: &TagResourceType,
    ) -> Result<Vec<ProjectTag>, CloudError> {
        let op = ops::LIST_PROJECT_TAGS;
        let path = self.path(&[id(op, resource_type.as_str())?, "tags"]);
        Ok(self
            .api
            .json::<ProjectTagsResponse>(ApiRequest::get(op, path))
            .await?
            .tags)
    }

    /// The quota of `quota_type` for the quota check before a create: from a snapshot of the
    /// account's quotas at most [`listcache::QUOTA_MAX_AGE`] old (a call now without one).
    /// A snapshot that says the quota is full is confirmed by a fresh call before it is
    /// believed, so a stale snapshot never refuses a create. `None` when the API does not
    /// report this type.
    pub async fn quota(&self, quota_type: &QuotaType) -> Result<Option<QuotaInfo>, CloudError> {
        let list = || async { Ok(self.get_quotas().await?.resources) };
        let Some(o) = &self.observation else {
            return Ok(list()
                .await?
                .into_iter()
                .find(|q| &q.quota_type == quota_type));
        };
        let account = self.account();
        let asked = tokio::time::Instant::now();
        let (fetched, seen) = o.lists.quota(&account, quota_type, false, list).await?;
        match seen {
            Some(q) if fetched < asked && q.remaining() == Some(0) => {
                Ok(o.lists.quota(&account, quota_type, true, list).await?.1)
            }
            other => Ok(other),
        }
    }

    /// Counts `n` resources of `quota_type` just created in the quota snapshot, so the next
    /// check before a create sees them before the snapshot is listed again.
    fn created(&self, quota_type: QuotaType, n: usize) {
        if let Some(o) = &self.observation {
            o.lists.quota_used(&self.account(), &quota_type, n as i64);
        }
    }

    async fn tags_call(
        &self,
        op: Operation,
        action: &str,
        resource_type: &TagResourceType,
        resource_id: &str,
        tags: &[VpnResourceTag],
    ) -> Result<(), CloudError> {
        let path = self.path(&[
            id(op, resource_type.as_str())?,
            id(op, resource_id)?,
            "tags",
            action,
        ]);
        let body = TagsRequest {
            tags: tags.to_vec(),
        };
        self.api.no_content(post(op, path).json_body(&body)).await
    }

    // ----- helpers ----------------------------------------------------------

    /// `/v5/{project_id}/<segments...>`, each segment percent-encoded.
    fn path(&self, segments: &[&str]) -> String {
        self.versioned_path("v5", segments)
    }

    fn versioned_path(&self, version: &str, segments: &[&str]) -> String {
        build_path(version, self.api.project_id(), segments)
    }
}

/// `/{version}/{project_id}/a/b`, every segment after the version percent-encoded.
fn build_path(version: &str, project_id: &str, segments: &[&str]) -> String {
    let mut path = format!("/{version}/{}", utf8_percent_encode(project_id, SEGMENT));
    for segment in segments {
        path.push('/');
        path.extend(utf8_percent_encode(segment, SEGMENT));
    }
    path
}

/// Checks an ID before it becomes a path segment: empty, `.` and `..` would address a
/// different resource (e.g. turn `DELETE .../{id}` into `DELETE ...`).
fn id(op: Operation, value: &str) -> Result<&str, CloudError> {
    if value.trim().is_empty() || value == "." || value == ".." {
        return Err(local_error(
            op,
            ErrorKind::InvalidRequest,
            format!("refusing to call the API with the resource ID {value:?}; set a real cloud ID"),
        ));
    }
    Ok(value)
}

fn post(op: Operation, path: String) -> ApiRequest {
    ApiRequest::new(op, http::Method::POST, path)
}

fn put(op: Operation, path: String) -> ApiRequest {
    ApiRequest::new(op, http::Method::PUT, path)
}

fn delete(op: Operation, path: String) -> ApiRequest {
    ApiRequest::new(op, http::Method::DELETE, path)
}

fn with_query(mut req: ApiRequest, query: &impl QueryParams) -> ApiRequest {
    req.query.extend(query.to_pairs());
    req
}

/// The marker of the next page, or an error when the server repeats the current one
/// (following it would loop forever).
fn advance(
    op: Operation,
    current: Option<&str>,
    next: Option<String>,
) -> Result<Option<String>, CloudError> {
    match next {
        Some(next) if Some(next.as_str()) == current => Err(local_error(
            op,
            ErrorKind::Decode,
            format!("the API returned the same page marker {next:?} twice; paging stopped to avoid a loop"),
        )),
        other => Ok(other),
    }
}

fn too_many_pages(op: Operation) -> CloudError {
    local_error(
        op,
        ErrorKind::Decode,
        format!("more than {MAX_PAGES} pages; paging stopped (the API's markers never ended)"),
    )
}

/// An error raised before (or instead of) an HTTP call.
fn local_error(op: Operation, kind: ErrorKind, message: String) -> CloudError {
    CloudError::new(kind, op.name, message)
}

#[cfg(test)]
mod tests;
