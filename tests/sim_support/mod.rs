//! Shared helpers of the simulator tests: a simulator on 127.0.0.1:0, a `VpnClient` pointed at
//! it, the admin API, and the ids of the documented default world.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use vpn_operator::cloud::model as m;
use vpn_operator::cloud::retry::{Jitter, RetryPolicy};
use vpn_operator::cloud::transport::{ApiClient, ClientConfig, RateLimits};
use vpn_operator::cloud::{Credentials, VpnClient};
use vpn_operator::sim::{self, Delays, ProjectConfig, SimConfig, SimHandle};

pub const PROJECT: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f9";
pub const AK: &str = "SIMTESTACCESSKEY0001";
pub const SK: &str = "sim-test-secret-key";
pub const PROJECT2: &str = "1b2c3d4e5f60718293a4b5c6d7e8f90a";
pub const AK2: &str = "SIMTESTACCESSKEY0002";
pub const SK2: &str = "sim-test-secret-key-2";
pub const TOKEN: &str = "sim-static-token-0001";

pub const VPC: &str = "a0000000-0000-4000-8000-000000000001";
pub const SUBNET_A: &str = "b0000000-0000-4000-8000-000000000001";
pub const EIP: [&str; 8] = [
    "e0000000-0000-4000-8000-000000000001",
    "e0000000-0000-4000-8000-000000000002",
    "e0000000-0000-4000-8000-000000000003",
    "e0000000-0000-4000-8000-000000000004",
    "e0000000-0000-4000-8000-000000000005",
    "e0000000-0000-4000-8000-000000000006",
    "e0000000-0000-4000-8000-000000000007",
    "e0000000-0000-4000-8000-000000000008",
];
pub const EIP_FROZEN: &str = "e0000000-0000-4000-8000-000000000009";

/// Two projects, zero delays, a static token and an IAM user in the first.
pub fn config() -> SimConfig {
    SimConfig::single(PROJECT, AK, SK)
        .with_project(ProjectConfig::new(PROJECT2, AK2, SK2))
        .with_delays(Delays::zero())
}

pub fn with_token_and_user(mut cfg: SimConfig) -> SimConfig {
    let p = cfg
        .projects
        .remove(0)
        .with_token(TOKEN)
        .with_user("alice", "alice-password");
    cfg.projects.insert(0, p);
    cfg
}

/// Fast retries (no jitter, tiny waits) so fault tests run in milliseconds.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
        jitter: Jitter::Fixed(1.0),
        throttle_min_delay: Duration::from_millis(1),
    }
}

pub fn client_with(
    sim: &SimHandle,
    project: &str,
    creds: Credentials,
    retry: RetryPolicy,
) -> VpnClient {
    let mut cfg = ClientConfig::new(sim.base_url().parse().unwrap(), project, creds);
    cfg.retry = retry;
    cfg.timeout = Duration::from_secs(5);
    cfg.limits = RateLimits {
        read_per_sec: 10_000.0,
        read_burst: 10_000,
        write_per_sec: 10_000.0,
        write_burst: 10_000,
    };
    VpnClient::new(ApiClient::new(cfg).unwrap())
}

/// A client of the first project with AK/SK and no retries.
pub fn client(sim: &SimHandle) -> VpnClient {
    client_with(sim, PROJECT, Credentials::aksk(AK, SK), RetryPolicy::none())
}

pub async fn start() -> (SimHandle, VpnClient) {
    let sim = sim::spawn(with_token_and_user(config())).await.unwrap();
    let c = client(&sim);
    (sim, c)
}

/// The admin API.
pub struct Admin {
    base: String,
    http: reqwest::Client,
}

impl Admin {
    pub fn new(sim: &SimHandle) -> Self {
        Self {
            base: format!("{}/_sim", sim.base_url()),
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        let (s, v) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(s, 200, "POST {path}: {v}");
        v
    }

    pub async fn put(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.call(reqwest::Method::PUT, path, Some(body)).await;
        assert_eq!(s, 200, "PUT {path}: {v}");
        v
    }

    pub async fn patch(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.call(reqwest::Method::PATCH, path, Some(body)).await;
        assert_eq!(s, 200, "PATCH {path}: {v}");
        v
    }

    pub async fn delete(&self, path: &str) -> Value {
        let (s, v) = self.call(reqwest::Method::DELETE, path, None).await;
        assert_eq!(s, 200, "DELETE {path}: {v}");
        v
    }

    /// Calls of one operation, and its answers by status.
    pub async fn counters(&self, op: &str) -> (u64, Value, Value) {
        let v = self.get("/counters").await;
        let o = &v["operations"][op];
        (
            o["calls"].as_u64().unwrap_or(0),
            o["by_status"].clone(),
            o["faults"].clone(),
        )
    }
}

pub fn gateway_body(eip1: &str, eip2: &str) -> m::CreateVpnGatewayRequestBody {
    m::CreateVpnGatewayRequestBody {
        name: Some("gw-test".into()),
        vpc_id: Some(VPC.into()),
        local_subnets: Some(vec!["192.168.0.0/24".into()]),
        connect_subnet: Some(SUBNET_A.into()),
        eip1: Some(m::CreateRequestEip {
            id: Some(eip1.into()),
            ..Default::default()
        }),
        eip2: Some(m::CreateRequestEip {
            id: Some(eip2.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn cgw_body(ip: &str) -> m::CreateCustomerGatewayRequestBody {
    m::CreateCustomerGatewayRequestBody {
        name: Some("cgw-test".into()),
        id_type: Some(m::IdType::Ip),
        id_value: ip.into(),
        bgp_asn: Some(65000),
        ..Default::default()
    }
}

pub fn connection_body(vgw: &str, vgw_ip: &str, cgw: &str) -> m::CreateVpnConnectionRequestBody {
    m::CreateVpnConnectionRequestBody {
        name: Some("conn-test".into()),
        vgw_id: vgw.into(),
        vgw_ip: vgw_ip.into(),
        cgw_id: cgw.into(),
        peer_subnets: Some(vec!["172.16.0.0/24".into()]),
        psk: Some("Test-Psk-12345".into()),
        ..Default::default()
    }
}

/// A minimal SDK-HMAC-SHA256 signer written only from the published algorithm (it does not
/// use the crate's signer), to prove an independent client can drive the simulator.
pub mod independent {
    use hmac::{Hmac, Mac};
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    use sha2::{Digest, Sha256};

    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

    fn enc(s: &str) -> String {
        utf8_percent_encode(s, UNRESERVED).to_string()
    }

    /// Returns the `Authorization` value. `headers` are the headers to sign (must include
    /// `Host` and `X-Sdk-Date`); `query` is decoded; `path` has no query.
    pub fn authorization(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
        ak: &str,
        sk: &str,
    ) -> String {
        let mut uri = path.split('/').map(enc).collect::<Vec<_>>().join("/");
        if !uri.ends_with('/') {
            uri.push('/');
        }
        let mut q: Vec<(String, String)> = query.iter().map(|(k, v)| (enc(k), enc(v))).collect();
        q.sort();
        let query = q
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.trim().to_string()))
            .collect();
        h.sort();
        let canonical_headers: String = h.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed = h
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical = format!(
            "{method}\n{uri}\n{query}\n{canonical_headers}\n{signed}\n{}",
            hex::encode(Sha256::digest(body))
        );
        let date = h
            .iter()
            .find(|(k, _)| k == "x-sdk-date")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let to_sign = format!(
            "SDK-HMAC-SHA256\n{date}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).unwrap();
        mac.update(to_sign.as_bytes());
        let sig = hex::encode(mac.finalize().into_bytes());
        format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed}, Signature={sig}")
    }
}

/// Sends a request signed by [`independent::authorization`] at `date` (`YYYYMMDDTHHMMSSZ`).
pub async fn signed_at(
    sim: &SimHandle,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
    (ak, sk): (&str, &str),
    date: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let host = sim.addr().to_string();
    let bytes = body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    let headers = [
        ("Content-Type", "application/json"),
        ("Host", host.as_str()),
        ("X-Sdk-Date", date),
    ];
    let auth = independent::authorization(method, path, query, &headers, &bytes, ak, sk);
    let qs: String = query
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let url = if qs.is_empty() {
        format!("{}{path}", sim.base_url())
    } else {
        format!("{}{path}?{qs}", sim.base_url())
    };
    let resp = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .header("Content-Type", "application/json")
        .header("X-Sdk-Date", date)
        .header("Authorization", auth)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Now, as `X-Sdk-Date`.
pub fn sdk_date_now() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// A signed request with the main project's keys, now.
pub async fn signed(
    sim: &SimHandle,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let (s, _, v) = signed_at(sim, method, path, query, body, (AK, SK), &sdk_date_now()).await;
    (s, v)
}

pub async fn signed_post(sim: &SimHandle, path: &str, body: Value) -> (u16, Value) {
    signed(sim, "POST", path, &[], Some(body)).await
}
