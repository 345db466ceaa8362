//! Reading the gateway: the shared lookup over the account's gateways.
use kube::ResourceExt;

use crate::cloud::model::gateway::ResponseVpnGateway;
use crate::cloud::VpnClient;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::{self, Lookup, Search};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::ownership::{ownership, Ownership};
use crate::crd::common::ManagementPolicy;
use crate::crd::vpn_gateway::VpnGateway;

use super::Observed;

/// The gateways of one account, for the shared lookup.
pub struct Gateways<'a>(pub &'a VpnClient);

impl Lookup for Gateways<'_> {
    type Resource = ResponseVpnGateway;

    async fn get(&self, id: &str) -> Result<Option<ResponseVpnGateway>> {
        Ok(self.0.observe_gateway(id).await?)
    }

    async fn find_owned(&self, uid: &str) -> Result<Option<ResponseVpnGateway>> {
        let all = self.0.search_gateways(uid).await?;
        Ok(all
            .values()
            .filter(|g| ownership(g.tags.as_deref(), uid) == Ownership::Ours)
            .min_by_key(|g| (g.created_at.as_ref().and_then(|t| t.to_utc()), &g.id))
            .cloned())
    }

    fn owner(&self, g: &ResponseVpnGateway, uid: &str) -> Ownership {
        ownership(g.tags.as_deref(), uid)
    }

    fn id(g: &ResponseVpnGateway) -> &str {
        &g.id
    }
}

/// Finds the object's gateway (recorded id, `spec.cloudId`, owner tag).
pub async fn observe(cloud: &VpnClient, obj: &VpnGateway) -> Result<Observed> {
    let uid = obj.uid().unwrap_or_default();
    let search = Search {
        recorded: obj.status.as_ref().and_then(|s| s.cloud_id.as_deref()),
        adopt: obj.spec.cloud_id.as_deref(),
        uid: &uid,
        observe_only: obj.spec.management_policy == ManagementPolicy::Observe,
        deleting: obj.metadata.deletion_timestamp.is_some(),
    };
    lookup::find(&Gateways(cloud), VpnGateway::NOUN, &search).await
}
