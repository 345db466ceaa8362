//! Cloud state → `Ready` and `TunnelUp`, drift and references → `Synced`, and the status
//! built from an observed connection: pure.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::connection::{BgpPeer, ConnectionStatus, ResponseVpnConnection};
use crate::cloud::model::monitor::ConnectionMonitorInfo;
use crate::controller::runtime::object::Object;
use crate::controller::runtime::status::{drift_entries, set, synced, Cond, FieldDiff};
use crate::crd::common::{find_condition, reasons, types, ConditionStatus};
use crate::crd::vpn_connection::ObservedBgpPeer;
use crate::crd::{VpnConnection, VpnConnectionStatus};

use super::refs::ResolvedGateway;

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

/// `Synced` from what this reconcile found and did: the shared rule
/// ([`crate::controller::runtime::status::synced`]), and, when that finds nothing wrong, a
/// reference that is not usable (`dependency`: why) keeps the connection on its current
/// settings.
pub fn synced_condition(
    observe_only: bool,
    remaining: &[FieldDiff],
    dependency: Option<&str>,
    changed: bool,
) -> Cond {
    let success = match changed {
        true => "changes requested; waiting for the cloud to apply them",
        false => "",
    };
    let c = synced(VpnConnection::NOUN, observe_only, remaining, success);
    match dependency {
        Some(why) if c.reason == reasons::RECONCILE_SUCCESS => Cond::no(
            reasons::DEPENDENCY_NOT_READY,
            format!("{why}; the connection keeps its current settings until then"),
        ),
        _ => c,
    }
}

/// What the new status describes.
#[derive(Clone, Debug)]
pub enum Seen<'a> {
    /// An existing connection (after this reconcile's changes) and its monitors.
    Exists(&'a ResponseVpnConnection, &'a [ConnectionMonitorInfo]),
    /// The id of a connection that does not exist (`None`: observe-only without an id).
    Missing(Option<&'a str>),
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
    now: &Time,
) -> VpnConnectionStatus {
    let gateway = known.gateway;
    let mut s = VpnConnectionStatus {
        observed_generation: prev.observed_generation,
        conditions: prev.conditions.clone(),
        account: prev.account.clone(),
        psk_sha256: known.psk_sha256,
        drift: drift_entries(&prev.drift, remaining, now),
        last_reset: prev.last_reset.clone(),
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
            s.cloud_id = id.map(str::to_string);
            s.vpn_gateway_id = prev.vpn_gateway_id.clone();
            s.gateway_ip = prev.gateway_ip.clone();
            s.gateway_address = prev.gateway_address.clone();
            StateConds {
                ready: Some(Cond::new(
                    ConditionStatus::False,
                    reasons::NOT_FOUND,
                    match id {
                        Some(id) => format!("connection {id} does not exist in the cloud"),
                        None => "managementPolicy is Observe but spec.cloudId is not set".into(),
                    },
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
    let conditions = &mut s.conditions;
    // UNKNOWN (`ready` is None): keep what was known, if anything.
    match conds.ready {
        Some(r) => set(conditions, now, types::READY, r, generation),
        None if find_condition(&prev.conditions, types::READY).is_some() => {}
        None => set(
            conditions,
            now,
            types::READY,
            Cond::new(
                ConditionStatus::Unknown,
                reasons::TUNNEL_STATE_UNKNOWN,
                "the cloud reports the connection state as UNKNOWN",
            ),
            generation,
        ),
    }
    set(conditions, now, types::TUNNEL_UP, conds.tunnel, generation);
    set(conditions, now, types::SYNCED, synced, generation);
    s
}
