//! The namespace-account probe of `doctor`: for each watched namespace (or, when all are
//! watched, each namespace holding the operator's objects), its account Secret
//! (`--account-secret-name`) resolved by the operator's own code ([`Clouds::resolve`], so that
//! the messages are the operator's), then one signed read per distinct account (endpoint,
//! project, credentials), a few at a time. Reads only; never prints a secret value.
use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::Value;

use super::checks::accounts::{namespace, Found};
use super::checks::{self, Check};
use crate::cli::cloud::ResolvedCloud;
use crate::cli::plan::manifests::Kind;
use crate::cloud::{CloudError, Credentials};
use crate::config::{credentials_from_secret, SecretRef};
use crate::controller::runtime::clouds::{Account, CloudOverride, Clouds};
use crate::controller::runtime::error::Error;
use crate::controller::runtime::kube::Kube;
use crate::crd::common::AccountSource;

/// How many account Secrets are read, and how many signed reads are made, at a time.
pub const AT_ONCE: usize = 4;

/// The namespaces to check with how many objects in each would use the namespace's account:
/// every one of `watched` (empty: all namespaces) and every namespace holding such objects.
pub fn users<'a>(
    watched: &[String],
    objects: impl IntoIterator<Item = (Kind, &'a Value)>,
) -> BTreeMap<String, usize> {
    let mut out: BTreeMap<String, usize> = watched.iter().map(|ns| (ns.clone(), 0)).collect();
    for (kind, v) in objects {
        let Some(ns) = v["metadata"]["namespace"].as_str() else {
            continue;
        };
        if !watched.is_empty() && !watched.iter().any(|w| w == ns) {
            continue;
        }
        let n = out.entry(ns.to_string()).or_default();
        *n += usize::from(crate::cli::plan::cluster::would_use_namespace_account(
            kind, v,
        ));
    }
    out
}

/// The operator's VPN objects in `watched` (empty: in all namespaces), listed through `client`.
/// A kind whose CRD is not installed has none.
pub async fn list_objects(
    client: &kube::Client,
    watched: &[String],
) -> Result<Vec<(Kind, Value)>, String> {
    let scopes: Vec<Option<&str>> = match watched.is_empty() {
        true => vec![None],
        false => watched.iter().map(|w| Some(w.as_str())).collect(),
    };
    let mut out = Vec::new();
    for kind in [Kind::VpnGateway, Kind::CustomerGateway, Kind::VpnConnection] {
        for ns in &scopes {
            match crate::cli::plan::cluster::list_kind(client, kind, *ns).await {
                Ok(items) => out.extend(items.into_iter().map(|v| (kind, v))),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    let within = ns.map_or(String::new(), |n| format!(" in namespace {n}"));
                    return Err(format!("cannot list {}s{within}: {e}", kind.name()));
                }
            }
        }
    }
    Ok(out)
}

/// What was resolved of one namespace: the check's input without the signed read, or the
/// account to read with.
enum Resolved {
    Done(Found),
    Usable {
        project: String,
        region: String,
        endpoint: String,
        credentials: Result<Credentials, String>,
    },
}

async fn resolve(clouds: &Clouds, kube: &Kube, ns: &str) -> Resolved {
    let secret = clouds.account_secret().to_string();
    let r = match clouds
        .resolve(ns, &Account::Vpn(CloudOverride::default()))
        .await
    {
        Ok(r) => r,
        Err(Error::Account { reason, message }) => {
            return Resolved::Done(Found::Refused { reason, message })
        }
        Err(e) => return Resolved::Done(Found::Unreadable(e.to_string())),
    };
    if r.status.source != AccountSource::Namespace {
        return Resolved::Done(Found::Missing);
    }
    // Read by `resolve` a moment ago: this comes from the Secret cache.
    let credentials = match kube.secret(ns, &secret).await {
        Ok(Some(s)) => {
            let r = SecretRef {
                namespace: ns.into(),
                name: secret,
            };
            credentials_from_secret(&r, &s.data).map_err(|e| e.to_string())
        }
        Ok(None) => Err("it is gone".into()),
        Err(e) => Err(e.to_string()),
    };
    Resolved::Usable {
        project: r.status.project_id.unwrap_or_default(),
        region: r.status.region.unwrap_or_default(),
        endpoint: r.status.endpoint,
        credentials,
    }
}

/// One distinct account: where, with which credentials, and the namespaces that give it.
struct Distinct {
    endpoint: String,
    project: String,
    credentials: Credentials,
    namespaces: Vec<String>,
}

/// The namespace-account checks of `users` (namespace → objects that would use its account),
/// through `kube` (Secrets) and the cloud, with the operator's account flags and defaults
/// (`resolved`, `secret_name`, `require`). One check per namespace, in namespace order.
pub async fn checks(
    kube: &Kube,
    resolved: &ResolvedCloud,
    secret_name: &str,
    require: bool,
    users: &BTreeMap<String, usize>,
) -> Vec<Check> {
    let clouds =
        Clouds::new(kube.clone(), resolved.defaults.clone()).with_accounts(secret_name, require);
    let found: Vec<(String, Resolved)> = futures::stream::iter(users.keys())
        .map(|ns| {
            let clouds = &clouds;
            async move { (ns.clone(), resolve(clouds, kube, ns).await) }
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    // The distinct accounts, each read once.
    let mut distinct: Vec<Distinct> = Vec::new();
    let mut done: BTreeMap<String, Found> = BTreeMap::new();
    let mut pending: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for (ns, r) in found {
        match r {
            Resolved::Done(f) => {
                done.insert(ns, f);
            }
            Resolved::Usable {
                credentials: Err(e),
                ..
            } => {
                done.insert(ns, Found::Unreadable(e));
            }
            Resolved::Usable {
                project,
                region,
                endpoint,
                credentials: Ok(credentials),
            } => {
                pending.insert(
                    ns.clone(),
                    (project.clone(), region.clone(), endpoint.clone()),
                );
                match distinct.iter_mut().find(|d| {
                    (&d.endpoint, &d.project, &d.credentials) == (&endpoint, &project, &credentials)
                }) {
                    Some(d) => d.namespaces.push(ns),
                    None => distinct.push(Distinct {
                        endpoint,
                        project,
                        credentials,
                        namespaces: vec![ns],
                    }),
                }
            }
        }
    }
    let retry = resolved.defaults.retry;
    let read: Vec<(Distinct, Result<(), CloudError>)> = futures::stream::iter(distinct)
        .map(|d| async move {
            let result = match url::Url::parse(&d.endpoint) {
                Ok(url) => super::probe::signed_read(url, &d.project, &d.credentials, retry).await,
                Err(e) => Err(CloudError::config("ProbeAccount", e)),
            };
            (d, result)
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    for (d, result) in read {
        let sent = super::probe::sent(&d.credentials);
        for ns in d.namespaces {
            let (project, region, endpoint) = pending.remove(&ns).unwrap_or_default();
            // The same read judged for each namespace, so that the fix names its own Secret.
            let secret = format!("{ns}/{secret_name}");
            let signed = checks::credentials(&sent, &project, &region, &result, Some(&secret));
            done.insert(
                ns,
                Found::Usable {
                    project,
                    region,
                    endpoint,
                    signed: Box::new(signed),
                },
            );
        }
    }
    users
        .iter()
        .filter_map(|(ns, n)| {
            let f = done.get(ns)?;
            Some(namespace(ns, &format!("{ns}/{secret_name}"), *n, f))
        })
        .collect()
}
