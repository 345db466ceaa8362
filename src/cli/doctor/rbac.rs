//! The RBAC probe of `doctor`: one SelfSubjectAccessReview per permission the operator uses
//! (`deploy/rbac-rules.yaml`, the one list the manifests and the chart grant), asked as the
//! identity doctor runs with (in the chart's `helm test` Pod: the operator's ServiceAccount).
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use serde::Deserialize;

/// The operator's permissions, as the chart and `deploy/` grant them.
const RULES: &str = include_str!("../../../deploy/rbac-rules.yaml");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rules {
    cluster_rules: Vec<Rule>,
    watched_rules: Vec<Rule>,
    namespace_rules: Vec<Rule>,
}

/// One permission: group, resource (`x/status` for a subresource), verb, and the namespace of a
/// namespaced grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    pub group: String,
    pub resource: String,
    pub verb: String,
    pub namespace: Option<String>,
}

impl Permission {
    /// e.g. `patch vpngateways/status.vpn.hwcloud.dev`, `get leases.coordination.k8s.io in ns`.
    pub fn label(&self) -> String {
        let group = match self.group.as_str() {
            "" => String::new(),
            g => format!(".{g}"),
        };
        let ns = self
            .namespace
            .as_deref()
            .map_or(String::new(), |n| format!(" in {n}"));
        format!("{} {}{group}{ns}", self.verb, self.resource)
    }
}

/// Every permission the operator uses: the Lease's in `namespace` (the operator's), those of
/// its kinds, Secrets and Events cluster-wide, or in each of `watched` when the operator
/// watches a list of namespaces (the chart grants them by a Role there). The credentials
/// Secret's read is checked by the credentials check itself.
pub fn permissions(namespace: &str, watched: &[String]) -> Vec<Permission> {
    let rules: Rules =
        serde_yaml::from_str(RULES).expect("deploy/rbac-rules.yaml is valid (tests/rbac.rs)");
    let mut out = Vec::new();
    let mut add = |rules: &[Rule], ns: Option<&str>| {
        for r in rules {
            for g in &r.api_groups {
                for res in &r.resources {
                    for v in &r.verbs {
                        out.push(Permission {
                            group: g.clone(),
                            resource: res.clone(),
                            verb: v.clone(),
                            namespace: ns.map(str::to_string),
                        });
                    }
                }
            }
        }
    };
    add(&rules.cluster_rules, None);
    if watched.is_empty() {
        add(&rules.watched_rules, None);
    }
    for ns in watched {
        add(&rules.watched_rules, Some(ns));
    }
    add(&rules.namespace_rules, Some(namespace));
    out
}

/// Whether this identity has each permission (`None`: the API did not answer).
pub async fn review(client: &kube::Client, perms: &[Permission]) -> Vec<(String, Option<bool>)> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut out = Vec::new();
    for p in perms {
        let (resource, sub) = match p.resource.split_once('/') {
            Some((r, s)) => (r.to_string(), Some(s.to_string())),
            None => (p.resource.clone(), None),
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    group: Some(p.group.clone()),
                    resource: Some(resource),
                    subresource: sub,
                    verb: Some(p.verb.clone()),
                    namespace: p.namespace.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let allowed = match api.create(&PostParams::default(), &review).await {
            Ok(r) => r.status.map(|s| s.allowed),
            // The API does not serve the review at all: every answer would be the same.
            Err(kube::Error::Api(e)) if e.code == 404 => {
                return perms.iter().map(|p| (p.label(), None)).collect();
            }
            Err(_) => None,
        };
        out.push((p.label(), allowed));
    }
    out
}
