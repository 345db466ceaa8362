//! Which cloud an object talks to: the operator's defaults (region, project, endpoint,
//! credentials Secret), optionally overridden per object, turned into ready clients.
//!
//! Credentials are read from Kubernetes Secrets and cached for a short time, so a rotated
//! Secret takes effect within [`CREDENTIALS_TTL`] (at once after an authentication failure).
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

pub use super::account::{Account, CloudOverride, IesTarget, Resolved, DEFAULT_ACCOUNT_SECRET};
use super::error::{Error, Result};
use super::kube::Kube;
use crate::cloud::ies::{IesClientOptions, IesCredentials};
use crate::cloud::listcache::ListCache;
use crate::cloud::transport::{CallObserver, RateLimits};
use crate::cloud::{
    retry::RetryPolicy, ApiClient, ClientConfig, Credentials, IesClient, VpnClient,
};
use crate::config::{credentials_from_secret, SecretRef};
use crate::crd::common::{AccountSource, AccountStatus};

/// How long credentials read from a Secret are reused before being read again.
pub const CREDENTIALS_TTL: Duration = Duration::from_secs(300);

/// A client made for one account: when it was made (its credentials are read again after
/// [`CREDENTIALS_TTL`]) and when a reconcile last asked for it ([`Clouds::forget_idle`]).
struct Entry<C> {
    client: C,
    made: Instant,
    used: Instant,
}

impl<C: Clone> Entry<C> {
    fn new(client: C) -> Self {
        let now = Instant::now();
        Self {
            client,
            made: now,
            used: now,
        }
    }

    /// The client, unless its credentials are due to be read again.
    fn fresh(&mut self) -> Option<C> {
        (self.made.elapsed() < CREDENTIALS_TTL).then(|| {
            self.used = Instant::now();
            self.client.clone()
        })
    }
}

/// Drops the entries not asked for within `idle` whose client nobody else holds (`shared`).
fn forget_idle<K: Eq + std::hash::Hash, C>(
    cache: &Mutex<HashMap<K, Entry<C>>>,
    idle: Duration,
    shared: impl Fn(&C) -> bool,
) -> usize {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    let before = cache.len();
    cache.retain(|_, e| e.used.elapsed() < idle || shared(&e.client));
    let dropped = before - cache.len();
    if dropped > 0 && cache.capacity() > 2 * cache.len() + 16 {
        cache.shrink_to_fit();
    }
    dropped
}

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
    /// Per attempt of a write.
    pub timeout: Duration,
    /// Per attempt of a read: shorter, so that a hung list holds up its shared refresh less.
    pub read_timeout: Duration,
    pub observer: Option<Arc<dyn CallObserver>>,
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

/// Where IES credentials come from.
#[derive(Clone, Debug)]
pub enum IesCredentialSource {
    /// Fixed tokens (the in-process simulator).
    Static(IesCredentials),
    /// A Secret with `authToken` (sent as `X-Auth-Token`) and/or `bearerToken` (sent as
    /// `Authorization: Bearer`).
    Secret { namespace: String, name: String },
}

/// The operator-wide IES defaults (`--ies-endpoint` and an IES credentials source). Unset
/// fields must then come from each object's `spec.cloud`.
#[derive(Clone, Debug, Default)]
pub struct IesDefaults {
    /// Base URL including `/rest` (added when the URL has no path).
    pub endpoint: Option<url::Url>,
    pub credentials: Option<IesCredentialSource>,
}

/// Resolved identity of an IES tenant: objects with the same key share a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct IesKey {
    endpoint: String,
    secret: Option<(String, String)>,
}

/// Builds and caches [`VpnClient`]s and [`IesClient`]s.
pub struct Clouds {
    kube: Kube,
    defaults: CloudDefaults,
    cache: Mutex<HashMap<CloudKey, Entry<VpnClient>>>,
    ies_defaults: IesDefaults,
    ies_cache: Mutex<HashMap<IesKey, Entry<IesClient>>>,
    /// List observations shared by every object of a kind in one account.
    lists: Arc<ListCache>,
    /// The name of every namespace's account Secret.
    account_secret: String,
    /// Objects without an account of their own or of their namespace get none (not the
    /// operator's): `AccountMissing`.
    require_namespace_account: bool,
}

impl Clouds {
    pub fn new(kube: Kube, defaults: CloudDefaults) -> Self {
        Self {
            kube,
            defaults,
            cache: Mutex::new(HashMap::new()),
            ies_defaults: IesDefaults::default(),
            ies_cache: Mutex::new(HashMap::new()),
            lists: Arc::default(),
            account_secret: DEFAULT_ACCOUNT_SECRET.into(),
            require_namespace_account: false,
        }
    }

    /// Sets the name of the namespaces' account Secrets, and whether objects may fall back to
    /// the operator's own account.
    pub fn with_accounts(mut self, secret_name: &str, require_namespace_account: bool) -> Self {
        self.account_secret = secret_name.into();
        self.require_namespace_account = require_namespace_account;
        self
    }

    /// The name of every namespace's account Secret.
    pub fn account_secret(&self) -> &str {
        &self.account_secret
    }

    /// The account an object in `namespace` whose `spec.cloud` says `spec` uses now: its own
    /// (spec.cloud names a credentials Secret), else its namespace's account Secret (fields of
    /// spec.cloud override it one by one), else the operator's. The namespace's Secret is read
    /// through the Secret cache.
    pub async fn resolve(&self, namespace: &str, spec: &Account) -> Result<Resolved> {
        let (account, source) = match spec {
            Account::Ies(t) => {
                let source = match t.credentials_secret {
                    Some(_) => AccountSource::Object,
                    None => AccountSource::Operator,
                };
                let key = self.ies_key(t)?;
                let status = AccountStatus {
                    source,
                    secret: key.secret.as_ref().map(|(n, s)| format!("{n}/{s}")),
                    project_id: None,
                    region: None,
                    endpoint: key.endpoint,
                };
                return Ok(Resolved {
                    account: spec.clone(),
                    status,
                });
            }
            Account::Vpn(o) if o.credentials_secret.is_some() => (o.clone(), AccountSource::Object),
            Account::Vpn(o) => match self.namespace_account(namespace).await? {
                Some(ns) => (
                    CloudOverride {
                        region: o.region.clone().or(Some(ns.region)),
                        project_id: o.project_id.clone().or(Some(ns.project_id)),
                        // The namespace's endpoint is its region's: a region of the object's
                        // own means that region's public endpoint (as with the flags).
                        endpoint: o
                            .endpoint
                            .clone()
                            .or(ns.endpoint.filter(|_| o.region.is_none())),
                        credentials_secret: Some((namespace.into(), self.account_secret.clone())),
                    },
                    AccountSource::Namespace,
                ),
                None if self.require_namespace_account => {
                    return Err(Error::Account {
                        reason: crate::crd::common::reasons::ACCOUNT_MISSING,
                        message: format!(
                            "namespace {namespace} has no account: create Secret {namespace}/{} \
                             (keys region, projectId, accessKey, secretKey; optional endpoint, \
                             securityToken) or set spec.cloud with credentialsSecretRef; this \
                             operator does not lend its own account",
                            self.account_secret
                        ),
                    })
                }
                None => (o.clone(), AccountSource::Operator),
            },
        };
        self.resolved(account, source)
    }

    /// The account of `spec` over the operator's flags alone, without any namespace account:
    /// what an object made before namespace accounts existed was made in.
    pub fn resolve_without_namespace(&self, spec: &CloudOverride) -> Result<Resolved> {
        let source = match spec.credentials_secret {
            Some(_) => AccountSource::Object,
            None => AccountSource::Operator,
        };
        self.resolved(spec.clone(), source)
    }

    fn resolved(&self, account: CloudOverride, source: AccountSource) -> Result<Resolved> {
        let key = self.key(&account)?;
        let status = AccountStatus {
            source,
            secret: key.secret.as_ref().map(|(n, s)| format!("{n}/{s}")),
            project_id: Some(key.project_id),
            region: Some(key.region),
            endpoint: key.endpoint,
        };
        Ok(Resolved {
            account: Account::Vpn(account),
            status,
        })
    }

    /// The account of `namespace`'s account Secret; `None` when there is none.
    async fn namespace_account(
        &self,
        namespace: &str,
    ) -> Result<Option<super::account::NamespaceAccount>> {
        let Some(stored) = self.kube.secret(namespace, &self.account_secret).await? else {
            return Ok(None);
        };
        let r = SecretRef {
            namespace: namespace.into(),
            name: self.account_secret.clone(),
        };
        super::account::namespace_account(&r, &stored.data)
            .map(Some)
            .map_err(|problem| Error::Account {
                reason: crate::crd::common::reasons::ACCOUNT_INVALID,
                message: format!(
                    "the namespace's account Secret {r} cannot be used: {problem}; fix the \
                     Secret (keys region, projectId, accessKey, secretKey; optional endpoint, \
                     securityToken)"
                ),
            })
    }

    /// The list observations shared by every VPN client this builds.
    pub fn lists(&self) -> &ListCache {
        &self.lists
    }

    /// Sets the IES defaults (without them, every `CloudVpnService` needs `spec.cloud`).
    pub fn with_ies(mut self, ies: IesDefaults) -> Self {
        self.ies_defaults = ies;
        self
    }

    fn ies_key(&self, target: &IesTarget) -> Result<IesKey> {
        let endpoint = match (&target.endpoint, &self.ies_defaults.endpoint) {
            (Some(e), _) => e.clone(),
            (None, Some(e)) => e.to_string(),
            (None, None) => {
                return Err(Error::InvalidSpec(
                    "no IES endpoint: set spec.cloud.endpoint (e.g. https://ies.example:17100/rest) or start the operator with --ies-endpoint".into(),
                ))
            }
        };
        url::Url::parse(&endpoint).map_err(|e| {
            Error::InvalidSpec(format!("IES endpoint {endpoint:?} is not a URL: {e}"))
        })?;
        let secret = match (&target.credentials_secret, &self.ies_defaults.credentials) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(IesCredentialSource::Secret { namespace, name })) => {
                Some((namespace.clone(), name.clone()))
            }
            (None, Some(IesCredentialSource::Static(_))) => None,
            (None, None) => {
                return Err(Error::Credentials(
                    "no IES credentials: set spec.cloud.credentialsSecretRef (a Secret with authToken and/or bearerToken) or give the operator default IES credentials".into(),
                ))
            }
        };
        Ok(IesKey {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            secret,
        })
    }

    /// An IES client for `target`, reading credentials when not cached.
    pub async fn ies(&self, target: &IesTarget) -> Result<IesClient> {
        let key = self.ies_key(target)?;
        if let Some(c) = self
            .ies_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key)
            .and_then(Entry::fresh)
        {
            return Ok(c);
        }
        let credentials = match (&key.secret, &self.ies_defaults.credentials) {
            (Some((ns, name)), _) => self.read_ies_credentials(ns, name).await?,
            (None, Some(IesCredentialSource::Static(c))) => c.clone(),
            (None, _) => return Err(Error::Credentials("no IES credentials".into())),
        };
        let endpoint =
            url::Url::parse(&key.endpoint).map_err(|e| Error::InvalidSpec(e.to_string()))?;
        let client = IesClient::connect(
            endpoint,
            credentials,
            IesClientOptions {
                limits: self.defaults.limits,
                retry: self.defaults.retry,
                timeout: self.defaults.timeout,
                read_timeout: self.defaults.read_timeout,
                observer: self.defaults.observer.clone(),
            },
        )?;
        self.ies_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Entry::new(client.clone()));
        Ok(client)
    }

    /// Forgets the cached IES client of `target` (after an authentication failure).
    pub fn invalidate_ies(&self, target: &IesTarget) {
        if let Ok(key) = self.ies_key(target) {
            self.ies_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        }
    }

    async fn read_ies_credentials(&self, namespace: &str, name: &str) -> Result<IesCredentials> {
        let secret_err = |problem: String| Error::Secret {
            namespace: namespace.to_string(),
            name: name.to_string(),
            problem,
        };
        let data = self
            .kube
            .secret_fresh(namespace, name)
            .await?
            .ok_or_else(|| {
                secret_err("not found; create it with keys authToken and/or bearerToken".into())
            })?;
        ies_credentials_from_secret(&data).map_err(secret_err)
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
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key)
            .and_then(Entry::fresh)
        {
            return Ok(c);
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
            read_timeout: self.defaults.read_timeout,
            observer: self.defaults.observer.clone(),
        })?;
        let client = VpnClient::new(api).with_lists(self.lists.clone());
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Entry::new(client.clone()));
        Ok(client)
    }

    /// Drops the clients (with their credentials, HTTP connection pools and IAM tokens) of
    /// the accounts no reconcile asked for within `idle` and that nothing holds now (no
    /// reconcile in flight, no pending watch), so memory follows the accounts in use. The
    /// next reconcile of such an account reads its credentials and builds its client again;
    /// its rate limiter is kept until it is at rest ([`crate::cloud::limiter::forget_idle`]).
    /// Returns how many clients were dropped.
    pub fn forget_idle(&self, idle: Duration) -> usize {
        forget_idle(&self.cache, idle, |c: &VpnClient| c.api.is_shared())
            + forget_idle(&self.ies_cache, idle, |c: &IesClient| c.api.is_shared())
    }

    /// How many account clients (VPN and IES) are cached.
    pub fn clients_held(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
            + self
                .ies_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len()
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

    /// Forgets the cached client of `account`, so the next reconcile reads its credentials
    /// again (after the cloud refused them).
    pub fn invalidate_account(&self, account: &Account) {
        match account {
            Account::Vpn(o) => self.invalidate(o),
            Account::Ies(t) => self.invalidate_ies(t),
        }
    }

    async fn read_credentials(&self, namespace: &str, name: &str) -> Result<Credentials> {
        let secret_err = |problem: String| Error::Secret {
            namespace: namespace.to_string(),
            name: name.to_string(),
            problem,
        };
        let data = self
            .kube
            .secret_fresh(namespace, name)
            .await?
            .ok_or_else(|| secret_err("not found; create it with the cloud credentials".into()))?;
        let r = SecretRef {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        credentials_from_secret(&r, &data).map_err(|e| Error::Credentials(e.to_string()))
    }
}

/// The client of one of the clouds the kinds live in (the VPN v5 API, or IES), made for an
/// object's [`Account`].
pub trait Cloud: Clone + Send + Sync + 'static {
    /// A client for `account` whose reads accept list observations up to `max_age` old.
    fn connect(
        clouds: &Clouds,
        account: &Account,
        max_age: Duration,
    ) -> impl Future<Output = Result<Self>> + Send;
}

impl Cloud for VpnClient {
    async fn connect(clouds: &Clouds, account: &Account, max_age: Duration) -> Result<Self> {
        match account {
            Account::Vpn(o) => Ok(clouds.vpn(o).await?.observing(max_age)),
            Account::Ies(_) => Err(Error::InvalidSpec(
                "this kind talks to the VPN API, but its account names an IES endpoint".into(),
            )),
        }
    }
}

impl Cloud for IesClient {
    async fn connect(clouds: &Clouds, account: &Account, _max_age: Duration) -> Result<Self> {
        match account {
            Account::Ies(t) => clouds.ies(t).await,
            Account::Vpn(_) => Err(Error::InvalidSpec(
                "this kind talks to IES, but its account names a VPN project".into(),
            )),
        }
    }
}

/// IES tokens from a Secret's data: `authToken` (sent as `X-Auth-Token`) and/or `bearerToken`
/// (sent as `Authorization: Bearer`). The problem text never contains a value.
pub fn ies_credentials_from_secret(
    data: &BTreeMap<String, Vec<u8>>,
) -> std::result::Result<IesCredentials, String> {
    let get = |key: &str| -> std::result::Result<Option<String>, String> {
        match data.get(key) {
            None => Ok(None),
            Some(bytes) => {
                let v = std::str::from_utf8(bytes)
                    .map_err(|_| format!("key {key} is not UTF-8 text"))?
                    .trim()
                    .to_string();
                if v.is_empty() {
                    Err(format!("key {key} is empty"))
                } else {
                    Ok(Some(v))
                }
            }
        }
    };
    let creds = IesCredentials {
        auth_token: get("authToken")?,
        bearer_token: get("bearerToken")?,
    };
    if creds.is_usable() {
        Ok(creds)
    } else {
        Err("has neither authToken nor bearerToken; add the IES tenant token as authToken".into())
    }
}

#[cfg(test)]
mod ies_tests {
    use super::*;

    #[test]
    fn ies_tokens_from_a_secret() {
        let data = |pairs: &[(&str, &str)]| -> BTreeMap<String, Vec<u8>> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect()
        };
        let c = ies_credentials_from_secret(&data(&[("authToken", "MIItoken\n")])).unwrap();
        assert_eq!(c.auth_token.as_deref(), Some("MIItoken"));
        assert_eq!(c.bearer_token, None);
        let c = ies_credentials_from_secret(&data(&[("bearerToken", "b-1")])).unwrap();
        assert_eq!(c.bearer_token.as_deref(), Some("b-1"));
        for (pairs, want) in [
            (&[][..], "neither"),
            (&[("authToken", " ")][..], "authToken is empty"),
            (&[("accessKey", "AK")][..], "neither"),
        ] {
            let e = ies_credentials_from_secret(&data(pairs)).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        let mut bad = BTreeMap::new();
        bad.insert("authToken".to_string(), vec![0xff, 0xfe]);
        assert!(ies_credentials_from_secret(&bad)
            .unwrap_err()
            .contains("UTF-8"));
    }
}
