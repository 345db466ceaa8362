//! Cloud state → conditions, and the new status.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::connection::{BgpPeer, ConnectionStatus, ResponseVpnConnection};
use crate::cloud::model::monitor::ConnectionMonitorInfo;
use crate::controller::reconciler::mark;
use crate::controller::status::{drift_entries, FieldDiff};
use crate::crd::common::{find_condition, reasons, types, ConditionStatus};
use crate::crd::vpn_connection::ObservedBgpPeer;
use crate::crd::VpnConnectionStatus;

use super::ResolvedGateway;

/// One condition to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// One of [`reasons`].
    pub reason: &'static str,
    /// What happened and what to do.
    pub message: String,
}

impl Cond {
    /// A condition with this status, reason and message.
    pub fn new(status: ConditionStatus, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }
}

/// `Ready` and `TunnelUp` for a connection state, `status.tunnelState`, and whether the state
/// is in flux (poll soon). `Ready` is `None` for `UNKNOWN` and undocumented states: the
/// previous value stands while the cloud cannot tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConds {
    /// `Ready`; `None` keeps the previous one.
    pub ready: Option<Cond>,
    /// `TunnelUp`.
    pub tunnel: Cond,
    /// `status.tunnelState`: `Up`, `Down` or `Unknown`.
    pub tunnel_state: &'static str,
    /// The state is transitional: look again soon.
    pub pending: bool,
}

/// Maps a connection state (`None`: just created, not reported yet) to conditions.
pub fn state_conditions(state: Option<&ConnectionStatus>) -> StateConds {
    use ConditionStatus::{False, True, Unknown};
    let state = state.cloned().unwrap_or(ConnectionStatus::PendingCreate);
    let unknown_tunnel = Cond::new(
        Unknown,
        reasons::TUNNEL_STATE_UNKNOWN,
        format!("the connection is {state}"),
    );
    let (ready, tunnel, tunnel_state, pending) = match &state {
        ConnectionStatus::Active => (
            Some(Cond::new(
                True,
                reasons::AVAILABLE,
                "the connection is provisioned (ACTIVE)",
            )),
            Cond::new(
                True,
                reasons::TUNNEL_ACTIVE,
                "the IPsec tunnel is up (ACTIVE)",
            ),
            "Up",
            false,
        ),
        ConnectionStatus::Down => (
            Some(Cond::new(
                True,
                reasons::AVAILABLE,
                "the connection is provisioned; the tunnel is not connected (DOWN)",
            )),
            Cond::new(
                False,
                reasons::TUNNEL_DOWN,
                "the tunnel is not connected (DOWN): configure the customer device with the \
                 gateway address, the pre-shared key and matching IKE/IPsec policies",
            ),
            "Down",
            false,
        ),
        ConnectionStatus::Error => (
            Some(Cond::new(
                False,
                reasons::CLOUD_FAULT,
                "the cloud reports the connection as ERROR; check its logs in the console, or \
                 delete and recreate it",
            )),
            Cond::new(False, reasons::TUNNEL_DOWN, "the connection is in ERROR"),
            "Down",
            false,
        ),
        ConnectionStatus::Freezed => (
            Some(Cond::new(
                False,
                reasons::FROZEN,
                "the cloud reports the connection as FREEZED (frozen, usually for billing)",
            )),
            unknown_tunnel,
            "Unknown",
            false,
        ),
        ConnectionStatus::PendingCreate => (
            Some(Cond::new(
                False,
                reasons::CREATING,
                "the connection is being created (PENDING_CREATE)",
            )),
            unknown_tunnel,
            "Unknown",
            true,
        ),
        ConnectionStatus::PendingUpdate => (
            Some(Cond::new(
                False,
                reasons::UPDATING,
                "the connection is being updated (PENDING_UPDATE)",
            )),
            unknown_tunnel,
            "Unknown",
            true,
        ),
        ConnectionStatus::PendingDelete => (
            Some(Cond::new(
                False,
                reasons::DELETING,
                "the connection is being deleted (PENDING_DELETE)",
            )),
            unknown_tunnel,
            "Unknown",
            true,
        ),
        ConnectionStatus::Unknown | ConnectionStatus::Other(_) => {
            (None, unknown_tunnel, "Unknown", true)
        }
    };
    StateConds {
        ready,
        tunnel,
        tunnel_state,
        pending,
    }
}

/// `Synced` from what this reconcile found and did.
pub fn synced_condition(
    observe_only: bool,
    remaining: &[FieldDiff],
    dependency: Option<&str>,
    changed: bool,
) -> Cond {
    let fields = |d: &[&FieldDiff]| {
        d.iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if observe_only {
        let mut m =
            "managementPolicy is Observe: the operator only reads this connection".to_string();
        if !remaining.is_empty() {
            let all: Vec<&FieldDiff> = remaining.iter().collect();
            m.push_str(&format!(
                "; differs from the spec in: {} (see status.drift)",
                fields(&all)
            ));
        }
        return Cond::new(ConditionStatus::True, reasons::OBSERVE_ONLY, m);
    }
    let immutable: Vec<&FieldDiff> = remaining.iter().filter(|d| !d.updatable).collect();
    if !immutable.is_empty() {
        return Cond::new(
            ConditionStatus::False,
            reasons::IMMUTABLE_FIELD_DRIFT,
            format!(
                "the cloud cannot change {} and they differ from the spec (see status.drift); \
                 the operator leaves them alone: change the spec to match, or delete and \
                 recreate the connection",
                fields(&immutable)
            ),
        );
    }
    if let Some(why) = dependency {
        return Cond::new(
            ConditionStatus::False,
            reasons::DEPENDENCY_NOT_READY,
            format!("{why}; the connection keeps its current settings until then"),
        );
    }
    let message = if changed {
        "changes requested; waiting for the cloud to apply them"
    } else {
        ""
    };
    Cond::new(ConditionStatus::True, reasons::RECONCILE_SUCCESS, message)
}

/// What the new status describes.
#[derive(Clone, Debug)]
pub enum Seen<'a> {
    /// An existing connection (after this reconcile's changes) and its monitors.
    Exists(&'a ResponseVpnConnection, &'a [ConnectionMonitorInfo]),
    /// The id of a connection that does not exist.
    Missing(&'a str),
}

fn observed_bgp_peer(p: &BgpPeer) -> ObservedBgpPeer {
    ObservedBgpPeer {
        peer_ip_address: p.peer_ip_address.clone(),
        peer_asn: p.peer_asn.and_then(|a| i64::try_from(a).ok()),
        state: p.state.clone(),
        state_duration: p.state_duration.clone(),
        num_received_routes: p.num_received_routes.and_then(|n| i64::try_from(n).ok()),
    }
}

/// What the operator knows besides the cloud's answer.
#[derive(Clone, Debug, Default)]
pub struct Known<'a> {
    /// The resolved gateway (for `gatewayAddress`).
    pub gateway: Option<&'a ResolvedGateway>,
    /// Hash of the key the cloud holds, as far as the operator knows.
    pub psk_sha256: Option<String>,
}

/// The new status. Observed fields come from the connection; the gateway address from the
/// resolved gateway when it matches the connection's `vgw_ip` (else from `prev`).
pub fn build_status(
    prev: &VpnConnectionStatus,
    seen: Seen<'_>,
    known: Known<'_>,
    remaining: &[FieldDiff],
    synced: Cond,
    generation: Option<i64>,
    at: &Time,
) -> VpnConnectionStatus {
    let gateway = known.gateway;
    let mut s = VpnConnectionStatus {
        observed_generation: prev.observed_generation,
        conditions: prev.conditions.clone(),
        psk_sha256: known.psk_sha256,
        drift: drift_entries(&prev.drift, remaining, at),
        ..Default::default()
    };
    let conds = match seen {
        Seen::Exists(c, monitors) => {
            let address = match gateway {
                Some(g) if Some(&g.vgw_ip) == c.vgw_ip.as_ref() => g.address.clone(),
                _ => prev
                    .gateway_address
                    .clone()
                    .filter(|_| prev.gateway_ip == c.vgw_ip),
            };
            let monitor = monitors.first();
            s.cloud_id = Some(c.id.clone());
            s.cloud_state = Some(
                c.status
                    .clone()
                    .unwrap_or(ConnectionStatus::PendingCreate)
                    .to_string(),
            );
            s.name = c.name.clone();
            s.vpn_gateway_id = c.vgw_id.clone().or_else(|| gateway.map(|g| g.id.clone()));
            s.gateway_ip = c
                .vgw_ip
                .clone()
                .or_else(|| gateway.map(|g| g.vgw_ip.clone()));
            s.gateway_address = address;
            s.customer_gateway_id = c.cgw_id.clone();
            s.tunnel_local_address = c.tunnel_local_address.clone();
            s.tunnel_peer_address = c.tunnel_peer_address.clone();
            s.monitor_id = monitor.map(|m| m.id.clone());
            s.monitor_state = monitor
                .and_then(|m| m.status.as_ref())
                .map(|st| st.to_string());
            s.bgp_peer = c.bgp_peer.as_ref().map(observed_bgp_peer);
            s.created_at = c.created_at.as_ref().map(|t| t.to_string());
            s.updated_at = c.updated_at.as_ref().map(|t| t.to_string());
            state_conditions(c.status.as_ref())
        }
        Seen::Missing(id) => {
            s.cloud_id = Some(id.to_string());
            s.vpn_gateway_id = prev.vpn_gateway_id.clone();
            s.gateway_ip = prev.gateway_ip.clone();
            s.gateway_address = prev.gateway_address.clone();
            StateConds {
                ready: Some(Cond::new(
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    format!("connection {id} does not exist in the cloud"),
                )),
                tunnel: Cond::new(
                    ConditionStatus::Unknown,
                    reasons::TUNNEL_STATE_UNKNOWN,
                    "the connection does not exist",
                ),
                tunnel_state: "Unknown",
                pending: false,
            }
        }
    };
    s.tunnel_state = Some(conds.tunnel_state.to_string());
    // UNKNOWN (`ready` is None): keep what was known, if anything.
    match conds.ready {
        Some(r) => mark(
            &mut s.conditions,
            types::READY,
            r.status,
            r.reason,
            r.message,
            generation,
        ),
        None if find_condition(&prev.conditions, types::READY).is_some() => {}
        None => mark(
            &mut s.conditions,
            types::READY,
            ConditionStatus::Unknown,
            reasons::TUNNEL_STATE_UNKNOWN,
            "the cloud reports the connection state as UNKNOWN",
            generation,
        ),
    }
    mark(
        &mut s.conditions,
        types::TUNNEL_UP,
        conds.tunnel.status,
        conds.tunnel.reason,
        conds.tunnel.message,
        generation,
    );
    mark(
        &mut s.conditions,
        types::SYNCED,
        synced.status,
        synced.reason,
        synced.message,
        generation,
    );
    s
}
