//! The routing table of a gateway with BGP connections (reference §4.9), in `status.routes`:
//! the count and the first [`SHOWN`] routes, refreshed whenever the ACTIVE gateway is
//! reconciled (at least at every resync). Pure.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::gateway::RoutingTableResponse;
use crate::crd::vpn_gateway::{RouteEntry, RoutesStatus};

/// How many routes status shows.
pub const SHOWN: usize = 20;

/// `status.routes`: from the table just read; the previous one while the table could not be
/// read (the gateway not ACTIVE, or the read not allowed); none for a gateway without BGP
/// connections (`bgp`: `None` when its connections were not read).
pub fn status(
    table: Option<&RoutingTableResponse>,
    bgp: Option<bool>,
    prev: Option<&RoutesStatus>,
    now: &Time,
) -> Option<RoutesStatus> {
    if bgp == Some(false) {
        return None;
    }
    let Some(t) = table else {
        return prev.cloned();
    };
    let count = t
        .total_count
        .and_then(|c| i64::try_from(c).ok())
        .unwrap_or(t.routing_table.len() as i64);
    Some(RoutesStatus {
        count,
        routes: t
            .routing_table
            .iter()
            .filter_map(|r| {
                Some(RouteEntry {
                    destination: r.destination.clone()?,
                    nexthop: r.nexthop.clone(),
                })
            })
            .take(SHOWN)
            .collect(),
        refreshed_at: Some(now.0.to_string()),
    })
}
