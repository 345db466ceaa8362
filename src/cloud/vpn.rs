//! VPN v5 operations: one method per documented API. (models/client work)
use super::transport::ApiClient;

/// The Huawei Cloud VPN v5 API of one project.
#[derive(Clone)]
pub struct VpnClient {
    pub api: ApiClient,
}
