//! The resource tag APIs (gateways reference §2.10) for gateways, customer gateways and
//! connections: add, delete, list per resource, list per project, filter and count.
use std::collections::BTreeMap;

use super::Project;
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};
use crate::sim::validate as v;

/// The `{resource_type}` of the tag paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// `vpn-gateway`
    Gateway,
    /// `customer-gateway`
    CustomerGateway,
    /// `vpn-connection`
    Connection,
}

impl Project {
    fn tags_slot(
        &mut self,
        kind: TagKind,
        id: &str,
    ) -> ApiResult<&mut Option<Vec<m::VpnResourceTag>>> {
        match kind {
            TagKind::Gateway => self.gateways.get_mut(id).map(|g| &mut g.gw.tags),
            TagKind::CustomerGateway => self.customer_gateways.get_mut(id).map(|c| &mut c.cgw.tags),
            TagKind::Connection => self.connections.get_mut(id).map(|c| &mut c.conn.tags),
        }
        .ok_or_else(ApiError::not_found)
    }

    /// All resources of a kind: (id, name, tags).
    fn tagged(&self, kind: TagKind) -> Vec<(String, Option<String>, Vec<m::VpnResourceTag>)> {
        let t = |x: &Option<Vec<m::VpnResourceTag>>| x.clone().unwrap_or_default();
        match kind {
            TagKind::Gateway => self
                .gateways
                .values()
                .map(|g| (g.gw.id.clone(), g.gw.name.clone(), t(&g.gw.tags)))
                .collect(),
            TagKind::CustomerGateway => self
                .customer_gateways
                .values()
                .map(|c| (c.cgw.id.clone(), c.cgw.name.clone(), t(&c.cgw.tags)))
                .collect(),
            TagKind::Connection => self
                .connections
                .values()
                .map(|c| (c.conn.id.clone(), c.conn.name.clone(), t(&c.conn.tags)))
                .collect(),
        }
    }

    /// `POST .../{resource_id}/tags/create`: adds or overwrites by key. The documents limit a
    /// request to 20 tags (§2.10); they state no limit for a resource, so none is enforced.
    pub fn add_tags(
        &mut self,
        kind: TagKind,
        id: &str,
        tags: Vec<m::VpnResourceTag>,
    ) -> ApiResult<()> {
        v::tags(&tags)?;
        let slot = self.tags_slot(kind, id)?;
        let mut cur = slot.clone().unwrap_or_default();
        for t in tags {
            cur.retain(|c| c.key != t.key);
            cur.push(t);
        }
        *slot = Some(cur);
        Ok(())
    }

    /// `POST .../{resource_id}/tags/delete`: removes by key.
    pub fn remove_tags(
        &mut self,
        kind: TagKind,
        id: &str,
        tags: Vec<m::VpnResourceTag>,
    ) -> ApiResult<()> {
        if tags.len() > 20 {
            return Err(ApiError::invalid("at most 20 tags per request"));
        }
        let slot = self.tags_slot(kind, id)?;
        if let Some(cur) = slot {
            cur.retain(|c| !tags.iter().any(|t| t.key == c.key));
        }
        Ok(())
    }

    /// `GET .../{resource_id}/tags`.
    pub fn resource_tags(&mut self, kind: TagKind, id: &str) -> ApiResult<Vec<m::VpnResourceTag>> {
        Ok(self.tags_slot(kind, id)?.clone().unwrap_or_default())
    }

    /// `GET /v5/{project_id}/{resource_type}/tags`: every key with its values.
    pub fn project_tags(&self, kind: TagKind) -> Vec<m::ProjectTag> {
        let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (_, _, tags) in self.tagged(kind) {
            for t in tags {
                let vals = keys.entry(t.key).or_default();
                if !vals.contains(&t.value) {
                    vals.push(t.value);
                }
            }
        }
        keys.into_iter()
            .map(|(key, values)| m::ProjectTag { key, values })
            .collect()
    }

    /// `POST .../resource-instances/filter|count`: every `tags` entry must match (empty
    /// `values` = any value), `matches` on `resource_name` is a substring match [?],
    /// `without_any_tag` selects untagged resources. Returns the page and the total.
    pub fn filter_resources(
        &self,
        kind: TagKind,
        req: &m::FilterResourcesRequest,
        limit: usize,
        offset: usize,
    ) -> (Vec<m::TaggedResource>, u64) {
        let matching: Vec<_> = self
            .tagged(kind)
            .into_iter()
            .filter(|(_, name, tags)| {
                if req.without_any_tag == Some(true) {
                    return tags.is_empty();
                }
                let tags_ok = req.tags.iter().flatten().all(|f| {
                    tags.iter().any(|t| {
                        t.key == f.key && (f.values.is_empty() || f.values.contains(&t.value))
                    })
                });
                let names_ok = req.matches.iter().flatten().all(|mt| {
                    mt.key != "resource_name"
                        || name.as_deref().is_some_and(|n| n.contains(&mt.value))
                });
                tags_ok && names_ok
            })
            .collect();
        let total = matching.len() as u64;
        let page = matching
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(id, name, tags)| m::TaggedResource {
                resource_id: id,
                resource_detail: Some(serde_json::json!({})),
                tags: Some(tags),
                resource_name: name,
            })
            .collect();
        (page, total)
    }
}
