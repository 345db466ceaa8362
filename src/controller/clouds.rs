//! Which cloud an object talks to: the operator's defaults (region, project, endpoint,
//! credentials Secret), optionally overridden per object, turned into ready clients.
//!
//! Credentials are read from Kubernetes Secrets and cached for a short time, so a rotated
//! Secret takes effect within [`CREDENTIALS_TTL`] (at once after an authentication failure).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::error::{Error, Result};
use crate::cloud::listcache::ListCache;
use crate::cloud::transport::{CallObserver, RateLimits};
use crate::cloud::{retry::RetryPolicy, ApiClient, ClientConfig, Credentials, VpnClient};
use crate::config::{credentials_from_secret, SecretRef};

/// How long credentials read from a Secret are reused before being read again.
pub const CREDENTIALS_TTL: Duration = Duration::from_secs(300);

/// Where credentials come from.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    /// Fixed credentials (the in-process simulator).
    Static(Credentials),
    /// A Secret with `accessKey`/`secretKey` (optional `securityToken`) or `token`.
    Secret { namespace: String, name: String },
}

/// The operator-wide defaults.
#[derive(Clone)]
pub struct CloudDefaults {
    pub region: String,
    pub project_id: String,
    /// Overrides the region's public VPN endpoint.
    pub vpn_endpoint: Option<url::Url>,
    pub credentials: CredentialSource,
    pub limits: RateLimits,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub observer: Option<Arc<dyn CallObserver>>,
}

/// Per-object overrides (from the object's `spec.cloud`). `credentials_secret` names a Secret in
/// the object's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CloudOverride {
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub endpoint: Option<String>,
    pub credentials_secret: Option<(String, String)>,
}

/// Resolved identity of a cloud account+region: objects with the same key share a client
/// (and so its rate limiter).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CloudKey {
    pub endpoint: String,
    pub project_id: String,
    pub region: String,
    pub secret: Option<(String, String)>,
}

/// Builds and caches [`VpnClient`]s.
pub struct Clouds {
    kube: kube::Client,
    defaults: CloudDefaults,
    cache: Mutex<HashMap<CloudKey, (VpnClient, Instant)>>,
    /// List observations shared by every object of a kind in one account.
    lists: Arc<ListCache>,
}

impl Clouds {
    pub fn new(kube: kube::Client, defaults: CloudDefaults) -> Self {
        Self {
            kube,
            defaults,
            cache: Mutex::new(HashMap::new()),
            lists: Arc::default(),
        }
    }

    pub fn defaults(&self) -> &CloudDefaults {
        &self.defaults
    }

    /// The key (endpoint, project, region, secret) an object's settings resolve to.
    pub fn key(&self, target: &CloudOverride) -> Result<CloudKey> {
        let region = target
            .region
            .clone()
            .unwrap_or_else(|| self.defaults.region.clone());
        let endpoint = match (
            &target.endpoint,
            &self.defaults.vpn_endpoint,
            &target.region,
        ) {
            (Some(e), _, _) => e.clone(),
            // An explicit region on the object means that region's public endpoint.
            (None, Some(e), None) => e.to_string(),
            _ => crate::cloud::transport::default_endpoint("vpn", &region)
                .map_err(|e| Error::InvalidSpec(format!("region {region:?}: {e}")))?
                .to_string(),
        };
        url::Url::parse(&endpoint).map_err(|e| {
            Error::InvalidSpec(format!("cloud endpoint {endpoint:?} is not a URL: {e}"))
        })?;
        let secret = match (&target.credentials_secret, &self.defaults.credentials) {
            (Some(s), _) => Some(s.clone()),
            (None, CredentialSource::Secret { namespace, name }) => {
                Some((namespace.clone(), name.clone()))
            }
            (None, CredentialSource::Static(_)) => None,
        };
        Ok(CloudKey {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            project_id: target
                .project_id
                .clone()
                .unwrap_or_else(|| self.defaults.project_id.clone()),
            region,
            secret,
        })
    }

    /// A VPN client for `target`, reading credentials when not cached.
    pub async fn vpn(&self, target: &CloudOverride) -> Result<VpnClient> {
        let key = self.key(target)?;
        if let Some((c, at)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if at.elapsed() < CREDENTIALS_TTL {
                return Ok(c.clone());
            }
        }
        let credentials = match &key.secret {
            None => match &self.defaults.credentials {
                CredentialSource::Static(c) => c.clone(),
                CredentialSource::Secret { .. } => {
                    unreachable!("key() always names the default secret")
                }
            },
            Some((ns, name)) => self.read_credentials(ns, name).await?,
        };
        let api = ApiClient::new(ClientConfig {
            endpoint: url::Url::parse(&key.endpoint)
                .map_err(|e| Error::InvalidSpec(e.to_string()))?,
            project_id: key.project_id.clone(),
            credentials,
            limits: self.defaults.limits,
            retry: self.defaults.retry,
            timeout: self.defaults.timeout,
            observer: self.defaults.observer.clone(),
        })?;
        let client = VpnClient::new(api).with_lists(self.lists.clone());
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (client.clone(), Instant::now()));
        Ok(client)
    }

    /// Forgets cached credentials for `target` (after an authentication failure).
    pub fn invalidate(&self, target: &CloudOverride) {
        if let Ok(key) = self.key(target) {
            self.cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        }
    }

    async fn read_credentials(&self, namespace: &str, name: &str) -> Result<Credentials> {
        let secret_err = |problem: String| Error::Secret {
            namespace: namespace.to_string(),
            name: name.to_string(),
            problem,
        };
        let secret = Api::<Secret>::namespaced(self.kube.clone(), namespace)
            .get_opt(name)
            .await?
            .ok_or_else(|| secret_err("not found; create it with the cloud credentials".into()))?;
        let data = super::secrets::secret_data(secret);
        let r = SecretRef {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        credentials_from_secret(&r, &data).map_err(|e| Error::Credentials(e.to_string()))
    }
}
