//! Reading the customer gateway: the shared lookup over the account's customer gateways.
use kube::ResourceExt;

use crate::cloud::model::{ResponseCustomerGateway, TagResourceType, VpnResourceTag};
use crate::cloud::VpnClient;
use crate::controller::runtime::error::Result;
use crate::controller::runtime::lookup::{self, Lookup, Search};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::ownership::{ownership, Ownership};
use crate::crd::common::ManagementPolicy;
use crate::crd::CustomerGateway;

use super::{Lookup as Observed, Seen};

/// The customer gateways of one account, for the shared lookup.
pub struct CustomerGateways<'a>(pub &'a VpnClient);

impl Lookup for CustomerGateways<'_> {
    type Resource = Seen;

    async fn get(&self, id: &str) -> Result<Option<Seen>> {
        match self.0.observe_customer_gateway(id).await? {
            Some(cgw) => Ok(Some(with_tags(self.0, cgw).await?)),
            None => Ok(None),
        }
    }

    async fn find_owned(&self, uid: &str) -> Result<Option<Seen>> {
        let all = self.0.search_customer_gateways(uid).await?;
        match find_owned(all.values(), uid) {
            Some(cgw) => Ok(Some(with_tags(self.0, cgw).await?)),
            None => Ok(None),
        }
    }

    fn owner(&self, seen: &Seen, uid: &str) -> Ownership {
        ownership(Some(&seen.tags), uid)
    }

    fn id(seen: &Seen) -> &str {
        &seen.cgw.id
    }
}

/// The customer gateway carrying `uid` in its owner tag (the oldest, should there be several).
pub fn find_owned<'a>(
    items: impl IntoIterator<Item = &'a ResponseCustomerGateway>,
    uid: &str,
) -> Option<ResponseCustomerGateway> {
    items
        .into_iter()
        .filter(|c| ownership(c.tags.as_deref(), uid) == Ownership::Ours)
        .min_by_key(|c| (c.created_at.as_ref().and_then(|t| t.to_utc()), &c.id))
        .cloned()
}

/// The customer gateway with its tags: from the GET response, or the tag API when it has none.
async fn with_tags(vpn: &VpnClient, cgw: ResponseCustomerGateway) -> Result<Seen> {
    let tags: Vec<VpnResourceTag> = match &cgw.tags {
        Some(tags) => tags.clone(),
        None => {
            vpn.list_tags(&TagResourceType::CustomerGateway, &cgw.id)
                .await?
        }
    };
    Ok(Seen { cgw, tags })
}

/// Finds the object's customer gateway (recorded id, `spec.cloudId`, owner tag).
pub async fn observe(cloud: &VpnClient, obj: &CustomerGateway) -> Result<Observed> {
    let uid = obj.uid().unwrap_or_default();
    let search = Search {
        recorded: obj.status.as_ref().and_then(|s| s.cloud_id.as_deref()),
        adopt: obj.spec.cloud_id.as_deref(),
        uid: &uid,
        observe_only: obj.spec.management_policy == ManagementPolicy::Observe,
        deleting: obj.metadata.deletion_timestamp.is_some(),
    };
    lookup::find(&CustomerGateways(cloud), CustomerGateway::NOUN, &search).await
}
