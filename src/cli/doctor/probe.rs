//! The cloud probes of `doctor`: reads only (an unsigned GET of the endpoint, the quotas, the
//! availability zones, the resource lists, the IES catalog). Their findings are judged by
//! [`super::checks`].
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::checks::{self, Check, Reach, Sent};
use crate::cli::cloud::ResolvedCloud;
use crate::cloud::ies::{IesClient, IesClientOptions};
use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::connection::ListVpnConnectionsQuery;
use crate::cloud::model::gateway::ListVpnGatewaysQuery;
use crate::cloud::{ApiClient, ClientConfig, Credentials, VpnClient};
use crate::controller::runtime::clouds::{CredentialSource, IesCredentialSource};
use crate::controller::runtime::ownership::TAG_OWNER;

/// How long each probe may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// `err` and its causes, each once.
fn chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Resolves, connects to and asks `url` (unsigned GET), step by step, so a failure says which
/// step failed.
pub async fn reach(url: &Url) -> Reach {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Reach::Dns(format!("{url} has no host"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host, port))).await {
        Err(_) => return Reach::Dns("timed out".into()),
        Ok(Err(e)) => return Reach::Dns(e.to_string()),
        Ok(Ok(addrs)) => {
            if addrs.count() == 0 {
                return Reach::Dns("no address".into());
            }
        }
    }
    match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect((host, port))).await {
        Err(_) => return Reach::Connect(format!("connecting to {host}:{port} timed out")),
        Ok(Err(e)) => return Reach::Connect(format!("{host}:{port}: {e}")),
        Ok(Ok(_)) => {}
    }
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => return Reach::Connect(chain(&e)),
    };
    match client.get(url.clone()).send().await {
        Ok(resp) => Reach::Answered {
            status: resp.status().as_u16(),
            date: resp
                .headers()
                .get(http::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
                .map(|d| d.with_timezone(&Utc)),
        },
        Err(e) if e.is_timeout() => Reach::Timeout,
        // The TCP connection was made: what failed is the TLS session.
        Err(e) if url.scheme() == "https" => Reach::Tls(chain(&e)),
        Err(e) => Reach::Connect(chain(&e)),
    }
}

fn owned_by(tags: Option<&[VpnResourceTag]>, cluster: &str) -> bool {
    let prefix = format!("{cluster}:");
    tags.unwrap_or_default()
        .iter()
        .any(|t| t.key == TAG_OWNER && t.value.starts_with(&prefix))
}

/// Every cloud check, in order.
pub async fn cloud(
    resolved: &ResolvedCloud,
    cluster: &str,
    now: fn() -> DateTime<Utc>,
) -> Vec<Check> {
    let d = &resolved.defaults;
    let Some(url) = d.vpn_endpoint.clone() else {
        return vec![
            Check::fail("cloud", "endpoint", "no endpoint").fix("give --region or --endpoint")
        ];
    };
    let reached = reach(&url).await;
    let mut out = vec![
        checks::endpoint("cloud", url.as_str(), &reached),
        checks::clock(&reached, now()),
    ];
    let credentials = match &d.credentials {
        CredentialSource::Static(c) if resolved.has_credentials => c,
        _ => {
            let why = match &resolved.credentials_from {
                crate::cli::cloud::CredentialsFrom::Missing(why) => why.clone(),
                _ => String::new(),
            };
            out.push(
                Check::fail("cloud", "credentials", format!("no cloud credentials: {why}"))
                    .fix("give --credentials-secret NAMESPACE/NAME, or set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK"),
            );
            return out;
        }
    };
    if !matches!(reached, Reach::Answered { .. }) {
        out.push(
            Check::warn(
                "cloud",
                "credentials",
                "not checked: the endpoint is not reachable",
            )
            .fix("fix the endpoint first"),
        );
        return out;
    }
    let vpn = match client(url, &d.project_id, credentials, d.retry) {
        Ok(vpn) => vpn,
        Err(e) => {
            out.push(Check::fail("cloud", "credentials", e.to_string()).fix("check the flags"));
            return out;
        }
    };
    let quotas = vpn.get_quotas().await;
    let [cred, project] = checks::credentials(
        &sent(credentials),
        &d.project_id,
        &d.region,
        &quotas.as_ref().map(|_| ()).map_err(Clone::clone),
        None,
    );
    let authorised = project.status == checks::Status::Pass;
    out.push(cred);
    out.push(project);
    if let (Ok(q), true) = (&quotas, authorised) {
        out.push(checks::quotas(q));
        match vpn.list_availability_zones().await {
            Ok(z) => out.push(checks::zones(&z)),
            Err(e) => out.push(
                Check::warn("cloud", "zones", format!("not listed: {e}")).fix("try again later"),
            ),
        }
        out.push(resources(&vpn, cluster).await);
    }
    if let Some(ies) = &resolved.ies.endpoint {
        out.push(ies_check(ies, &resolved.ies.credentials).await);
    }
    out
}

/// Which credentials a signed read sends (the access key is an id, not a secret).
pub fn sent(credentials: &Credentials) -> Sent {
    match credentials {
        Credentials::AkSk { access_key, .. } => Sent::AkSk(access_key.clone()),
        Credentials::Token(_) | Credentials::Password(_) => Sent::Token,
    }
}

/// The client of the signed reads: project `project` at `url` with `credentials`, each call
/// bounded by [`TIMEOUT`].
pub fn client(
    url: Url,
    project: &str,
    credentials: &Credentials,
    retry: crate::cloud::retry::RetryPolicy,
) -> Result<VpnClient, crate::cloud::CloudError> {
    let mut cfg = ClientConfig::new(url, project.to_string(), credentials.clone());
    cfg.retry = retry;
    cfg.timeout = TIMEOUT;
    ApiClient::new(cfg).map(VpnClient::new)
}

/// The cheap signed read that checks credentials and project: the project's quotas.
pub async fn signed_read(
    url: Url,
    project: &str,
    credentials: &Credentials,
    retry: crate::cloud::retry::RetryPolicy,
) -> Result<(), crate::cloud::CloudError> {
    client(url, project, credentials, retry)?
        .get_quotas()
        .await
        .map(|_| ())
}

async fn resources(vpn: &VpnClient, cluster: &str) -> Check {
    let gw = vpn
        .list_gateways(&ListVpnGatewaysQuery::default())
        .await
        .map(|v| {
            (
                v.len(),
                v.iter()
                    .filter(|g| owned_by(g.tags.as_deref(), cluster))
                    .count(),
            )
        });
    let cgw = vpn.list_all_customer_gateways(None).await.map(|v| {
        (
            v.len(),
            v.iter()
                .filter(|c| owned_by(c.tags.as_deref(), cluster))
                .count(),
        )
    });
    let conn = vpn
        .list_all_connections(&ListVpnConnectionsQuery::default())
        .await
        .map(|v| {
            (
                v.len(),
                v.iter()
                    .filter(|c| owned_by(c.tags.as_deref(), cluster))
                    .count(),
            )
        });
    let s = |r: Result<(usize, usize), crate::cloud::CloudError>| r.map_err(|e| e.to_string());
    checks::resources(
        cluster,
        &[
            ("VPN gateways", s(gw)),
            ("customer gateways", s(cgw)),
            ("connections", s(conn)),
        ],
    )
}

async fn ies_check(url: &Url, credentials: &Option<IesCredentialSource>) -> Check {
    let Some(IesCredentialSource::Static(c)) = credentials else {
        return Check::fail("cloud", "ies", format!("{url}: no IES token"))
            .fix("put authToken (or bearerToken) into the credentials Secret");
    };
    let options = IesClientOptions {
        timeout: TIMEOUT,
        retry: crate::cloud::retry::RetryPolicy::none(),
        ..IesClientOptions::default()
    };
    let result = match IesClient::connect(url.clone(), c.clone(), options) {
        Ok(client) => client
            .list_service_definitions()
            .await
            .map(|r| r.data.len()),
        Err(e) => Err(e),
    };
    checks::ies(url.as_str(), &result)
}
