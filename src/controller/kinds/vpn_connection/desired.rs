//! Spec → wire: the create body and the complete PUT body.
use crate::cloud::model::common::{
    AuthenticationAlgorithm as WireAuthAlg, DhGroup as WireDhGroup,
    EncryptionAlgorithm as WireEncAlg, VpnResourceTag,
};
use crate::cloud::model::connection::{
    AuthenticationMethod as WireAuthMethod, ConnectionStyle as WireStyle,
    CreateVpnConnectionRequestBody, Dpd as WireDpd, DpdMsg as WireDpdMsg,
    EncapsulationMode as WireEncap, HaRole as WireHaRole, IkeIdType as WireIkeIdType,
    IkePolicy as WireIke, IkeVersion as WireIkeVersion, IpsecPolicy as WireIpsec,
    Phase1NegotiationMode as WirePhase1, PolicyRule as WireRule, ResponseVpnConnection,
    TransformProtocol as WireTransform, UpdateIkePolicy, UpdateVpnConnectionRequestBody,
};
use crate::controller::runtime::wire::enum_str;
use crate::crd::vpn_connection::{ConnectionStyle, IkePolicy, IpsecPolicy, PolicyRule};
use crate::crd::VpnConnectionSpec;

use super::psk::Psk;
use super::refs::ResolvedGateway;

fn wire<W: for<'a> From<&'a str>>(v: &impl serde::Serialize) -> W {
    W::from(enum_str(v).as_str())
}

fn non_empty<T: Clone>(v: &[T]) -> Option<Vec<T>> {
    (!v.is_empty()).then(|| v.to_vec())
}

fn seconds(v: Option<i64>) -> Option<u32> {
    v.and_then(|s| u32::try_from(s).ok())
}

/// The wire IKE policy for the fields the spec sets (the cloud fills in the rest).
pub fn wire_ike(p: &IkePolicy) -> WireIke {
    WireIke {
        ike_version: p.ike_version.map(|v| wire::<WireIkeVersion>(&v)),
        phase1_negotiation_mode: p.phase1_negotiation_mode.map(|v| wire::<WirePhase1>(&v)),
        authentication_algorithm: p.authentication_algorithm.map(|v| wire::<WireAuthAlg>(&v)),
        encryption_algorithm: p.encryption_algorithm.map(|v| wire::<WireEncAlg>(&v)),
        dh_group: p.dh_group.map(|v| wire::<WireDhGroup>(&v)),
        authentication_method: p.authentication_method.map(|v| wire::<WireAuthMethod>(&v)),
        lifetime_seconds: seconds(p.lifetime_seconds),
        local_id_type: p.local_id_type.map(|v| wire::<WireIkeIdType>(&v)),
        local_id: p.local_id.clone(),
        peer_id_type: p.peer_id_type.map(|v| wire::<WireIkeIdType>(&v)),
        peer_id: p.peer_id.clone(),
        dpd: p.dpd.as_ref().map(|d| WireDpd {
            timeout: seconds(d.timeout),
            interval: seconds(d.interval),
            msg: d.msg.map(|m| wire::<WireDpdMsg>(&m)),
        }),
    }
}

/// The wire IPsec policy for the fields the spec sets.
pub fn wire_ipsec(p: &IpsecPolicy) -> WireIpsec {
    WireIpsec {
        authentication_algorithm: p.authentication_algorithm.map(|v| wire::<WireAuthAlg>(&v)),
        encryption_algorithm: p.encryption_algorithm.map(|v| wire::<WireEncAlg>(&v)),
        pfs: p.pfs.map(|v| wire::<WireDhGroup>(&v)),
        transform_protocol: p.transform_protocol.map(|v| wire::<WireTransform>(&v)),
        lifetime_seconds: seconds(p.lifetime_seconds),
        encapsulation_mode: p.encapsulation_mode.map(|v| wire::<WireEncap>(&v)),
    }
}

pub(super) fn wire_rules(rules: &[PolicyRule]) -> Option<Vec<WireRule>> {
    (!rules.is_empty()).then(|| {
        rules
            .iter()
            .map(|r| WireRule {
                rule_index: None,
                source: r.source.clone(),
                destination: non_empty(&r.destination),
            })
            .collect()
    })
}

/// The create body: everything the spec says (policy rules only for style `policy`), the
/// resolved gateway and customer gateway, the key, and the tags (owner tags included).
pub fn desired_create(
    spec: &VpnConnectionSpec,
    name: &str,
    gw: &ResolvedGateway,
    cgw_id: &str,
    psk: Option<&Psk>,
    tags: Vec<VpnResourceTag>,
) -> CreateVpnConnectionRequestBody {
    let policy = spec.style == ConnectionStyle::Policy;
    CreateVpnConnectionRequestBody {
        name: Some(name.to_string()),
        vgw_id: gw.id.clone(),
        vgw_ip: gw.vgw_ip.clone(),
        style: Some(wire::<WireStyle>(&spec.style)),
        cgw_id: cgw_id.to_string(),
        peer_subnets: non_empty(&spec.peer_subnets),
        peer_subnets_v6: non_empty(&spec.peer_subnets_v6),
        tunnel_local_address: spec.tunnel_local_address.clone(),
        tunnel_peer_address: spec.tunnel_peer_address.clone(),
        enable_nqa: spec.enable_nqa,
        enable_hub: spec.enable_hub,
        psk: psk.map(|p| p.value.clone()),
        policy_rules: if policy {
            wire_rules(&spec.policy_rules)
        } else {
            None
        },
        policy_rules_v6: if policy {
            wire_rules(&spec.policy_rules_v6)
        } else {
            None
        },
        ikepolicy: spec.ike_policy.as_ref().map(wire_ike),
        ipsecpolicy: spec.ipsec_policy.as_ref().map(wire_ipsec),
        ha_role: Some(wire::<WireHaRole>(&spec.ha_role)),
        tags: (!tags.is_empty()).then_some(tags),
    }
}

/// The complete IKE policy to PUT: the cloud's current policy with the spec's fields on top
/// (PUT semantics are undocumented, so nothing is left out; `authenticationMethod` cannot change).
///
/// Exception: an `ip`-type `localId` / `peerId` the spec does not set is left out. The cloud
/// reports the gateway's and the customer gateway's addresses there when none was configured,
/// and sending them back would pin the old peer address when the connection moves to another
/// customer gateway.
pub fn merged_ike(spec: Option<&IkePolicy>, observed: Option<&WireIke>) -> UpdateIkePolicy {
    let mut out = observed.map(UpdateIkePolicy::from).unwrap_or_default();
    let p = spec.map(wire_ike).unwrap_or_default();
    macro_rules! over {
        ($($f:ident),+) => { $( if p.$f.is_some() { out.$f = p.$f.clone(); } )+ };
    }
    over!(
        ike_version,
        phase1_negotiation_mode,
        authentication_algorithm,
        encryption_algorithm,
        dh_group,
        lifetime_seconds,
        local_id_type,
        local_id,
        peer_id_type,
        peer_id
    );
    let fqdn = |t: &Option<WireIkeIdType>| matches!(t, Some(WireIkeIdType::Fqdn));
    if p.local_id.is_none() && !fqdn(&out.local_id_type) {
        out.local_id = None;
    }
    if p.peer_id.is_none() && !fqdn(&out.peer_id_type) {
        out.peer_id = None;
    }
    if let Some(d) = p.dpd {
        let mut dpd = out.dpd.take().unwrap_or_default();
        dpd.timeout = d.timeout.or(dpd.timeout);
        dpd.interval = d.interval.or(dpd.interval);
        dpd.msg = d.msg.or(dpd.msg);
        out.dpd = Some(dpd);
    }
    out
}

/// The complete IPsec policy to PUT: the cloud's current policy with the spec's fields on top.
pub fn merged_ipsec(spec: Option<&IpsecPolicy>, observed: Option<&WireIpsec>) -> WireIpsec {
    let mut out = observed.cloned().unwrap_or_default();
    if let Some(p) = spec.map(wire_ipsec) {
        out.authentication_algorithm = p.authentication_algorithm.or(out.authentication_algorithm);
        out.encryption_algorithm = p.encryption_algorithm.or(out.encryption_algorithm);
        out.pfs = p.pfs.or(out.pfs);
        out.transform_protocol = p.transform_protocol.or(out.transform_protocol);
        out.lifetime_seconds = p.lifetime_seconds.or(out.lifetime_seconds);
        out.encapsulation_mode = p.encapsulation_mode.or(out.encapsulation_mode);
    }
    out
}

/// The PUT body: every updatable field the spec sets, the complete IKE and IPsec policies,
/// and the key only when it is to be rotated. `cgw_id` is `None` when the customer gateway
/// reference cannot be resolved now (the connection keeps its current one).
pub fn desired_update(
    spec: &VpnConnectionSpec,
    name: &str,
    cgw_id: Option<&str>,
    observed: &ResponseVpnConnection,
    psk: Option<&Psk>,
) -> UpdateVpnConnectionRequestBody {
    let policy = spec.style == ConnectionStyle::Policy;
    UpdateVpnConnectionRequestBody {
        name: Some(name.to_string()),
        cgw_id: cgw_id.map(str::to_string),
        peer_subnets: non_empty(&spec.peer_subnets),
        peer_subnets_v6: non_empty(&spec.peer_subnets_v6),
        tunnel_local_address: spec.tunnel_local_address.clone(),
        tunnel_peer_address: spec.tunnel_peer_address.clone(),
        enable_hub: spec.enable_hub,
        psk: psk.map(|p| p.value.clone()),
        policy_rules: if policy {
            wire_rules(&spec.policy_rules)
        } else {
            None
        },
        policy_rules_v6: if policy {
            wire_rules(&spec.policy_rules_v6)
        } else {
            None
        },
        ikepolicy: Some(merged_ike(
            spec.ike_policy.as_ref(),
            observed.ikepolicy.as_ref(),
        )),
        ipsecpolicy: Some(merged_ipsec(
            spec.ipsec_policy.as_ref(),
            observed.ipsecpolicy.as_ref(),
        )),
    }
}
