//! Every cloud answer the client decodes, thrown arbitrary bytes: the VPN v5 response models,
//! the IAM token body, the IES bodies (catalog, services, accepted operations, traffic series)
//! and the error-body parser with its headers. Nothing may panic, and whatever decodes must
//! re-encode to JSON that decodes to the same value (the simulator builds its answers from
//! these same types).
//!
//! Input: 2 bytes HTTP status (little endian), 1 byte n, n bytes `Retry-After` value, body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use vpn_operator::cloud::model::{self, ies};
use vpn_operator::cloud::{token, CloudError};

fn roundtrip<T: DeserializeOwned + Serialize + PartialEq + Debug>(body: &[u8]) -> Option<T> {
    let first: T = serde_json::from_slice(body).ok()?;
    let encoded = serde_json::to_vec(&first).expect("a decoded model encodes");
    let again: T = serde_json::from_slice(&encoded).unwrap_or_else(|e| {
        panic!(
            "{} re-encoded to JSON it cannot decode ({e}): {}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&encoded)
        )
    });
    assert_eq!(
        first,
        again,
        "{} changed in a round trip",
        std::any::type_name::<T>()
    );
    Some(first)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]);
    let n = usize::from(data[2]).min(data.len() - 3);
    let retry_after = &data[3..3 + n];
    let body = &data[3 + n..];

    // VPN v5.
    roundtrip::<model::RequestIdResponse>(body);
    roundtrip::<model::VpnGatewayResponse>(body);
    roundtrip::<model::ListVpnGatewaysResponse>(body);
    roundtrip::<model::ListAvailabilityZonesResponse>(body);
    roundtrip::<model::ListExtendedAvailabilityZonesResponse>(body);
    roundtrip::<model::ListJobsResponse>(body);
    roundtrip::<model::UpgradeVpnGatewayResponse>(body);
    roundtrip::<model::VpnGatewayCertificateResponse>(body);
    roundtrip::<model::RoutingTableResponse>(body);
    roundtrip::<model::CustomerGatewayResponse>(body);
    roundtrip::<model::ListCustomerGatewaysResponse>(body);
    roundtrip::<model::VpnConnectionResponse>(body);
    roundtrip::<model::BatchCreateVpnConnectionsResponse>(body);
    roundtrip::<model::ListVpnConnectionsResponse>(body);
    roundtrip::<model::ListConnectionLogsResponse>(body);
    roundtrip::<model::ConnectionMonitorResponse>(body);
    roundtrip::<model::ListConnectionMonitorsResponse>(body);
    roundtrip::<model::QuotasResponse>(body);
    roundtrip::<model::ResourceTagsResponse>(body);
    roundtrip::<model::ProjectTagsResponse>(body);
    roundtrip::<model::FilterResourcesResponse>(body);
    if let Some(g) = roundtrip::<model::VpnGatewayResponse>(body) {
        let _ = g.vpn_gateway.created_at.as_ref().map(|t| t.to_utc());
    }

    // IES: catalog, services, accepted operations, traffic series.
    roundtrip::<ies::ListServiceDefinitionsResponse>(body);
    roundtrip::<ies::ServiceDefinition>(body);
    if let Some(s) = roundtrip::<ies::ListServicesResponse>(body) {
        for svc in &s.services {
            let _ = (svc.line(), svc.bandwidth(), svc.cloud_vpn_name());
        }
    }
    if let Some(s) = roundtrip::<ies::GetServiceResponse>(body) {
        let _ = (
            s.service.line(),
            s.service.bandwidth(),
            s.service.cloud_vpn_name(),
        );
    }
    let _ = ies::OperationAccepted::from_body(body);
    if let Some(m) = roundtrip::<ies::MetricResponse>(body) {
        let samples = m.samples();
        assert!(samples.windows(2).all(|w| w[0].time < w[1].time));
        assert!(samples.iter().all(|s| s.value.is_finite()));
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = ies::parse_decimal(text);
    }

    // IAM token body (its lifetime decides when the client fetches a new one).
    let lifetime = token::reported_lifetime(body, chrono::Utc::now());
    assert!(!lifetime.is_zero());

    // Error bodies, with the headers the parser reads.
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(retry_after) {
        headers.insert(http::header::RETRY_AFTER, v.clone());
        headers.insert("x-request-id", v);
    }
    let err = CloudError::from_response("FuzzOperation", status, &headers, body);
    let _ = (
        err.to_string(),
        err.reason(),
        err.hint(),
        err.is_retryable(),
    );
    // The wait is bounded whatever the header says (requeues add it to an Instant).
    assert!(err
        .retry_after
        .is_none_or(|d| d <= vpn_operator::cloud::error::MAX_RETRY_AFTER));
});
