//! Spec vs cloud: which fields differ, and whether the cloud can change them.
use std::collections::BTreeSet;

use crate::cloud::model::common::VpnResourceTag;
use crate::cloud::model::connection::{
    IkePolicy as WireIke, IpsecPolicy as WireIpsec, PolicyRule as WireRule, ResponseVpnConnection,
};
use crate::controller::runtime::ownership::{render_tags, tag_diff, TAG_OWNER, TAG_UID};
use crate::controller::runtime::status::FieldDiff;
use crate::controller::runtime::wire::enum_str;
use crate::crd::vpn_connection::{ConnectionStyle, IkePolicy, IpsecPolicy};
use crate::crd::VpnConnectionSpec;

use super::desired::{wire_ike, wire_ipsec, wire_rules};
use super::refs::ResolvedGateway;

const NONE: &str = "<none>";

fn user_tags(tags: &[VpnResourceTag]) -> Vec<VpnResourceTag> {
    tags.iter()
        .filter(|t| t.key != TAG_UID && t.key != TAG_OWNER)
        .cloned()
        .collect()
}

fn as_set(v: &[String]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

fn render_list(v: &[String]) -> String {
    if v.is_empty() {
        NONE.into()
    } else {
        v.join(",")
    }
}

fn render_rules(rules: &[WireRule]) -> String {
    if rules.is_empty() {
        return NONE.into();
    }
    rules
        .iter()
        .map(|r| {
            format!(
                "{}->{}",
                r.source.as_deref().unwrap_or(""),
                r.destination.clone().unwrap_or_default().join("+")
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Rules compared by source and destination set, in rule order (`rule_index` when reported).
fn same_rules(want: &[WireRule], have: &[WireRule]) -> bool {
    let mut have = have.to_vec();
    have.sort_by_key(|r| r.rule_index);
    let key = |r: &WireRule| {
        (
            r.source.clone().unwrap_or_default().to_ascii_lowercase(),
            as_set(&r.destination.clone().unwrap_or_default()),
        )
    };
    want.iter().map(key).collect::<Vec<_>>() == have.iter().map(key).collect::<Vec<_>>()
}

/// Collects differences: a field is compared only when the spec sets it.
struct Diffs(Vec<FieldDiff>);

impl Diffs {
    fn text(&mut self, field: &str, want: Option<String>, have: Option<String>, updatable: bool) {
        let Some(want) = want else { return };
        if !have
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(&want))
        {
            self.0.push(FieldDiff::new(
                field,
                want,
                have.unwrap_or_else(|| NONE.to_string()),
                updatable,
            ));
        }
    }
}

fn s<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// Fields whose cloud value differs from the spec, with whether the cloud can change them.
/// Unset optional fields are not compared (the cloud's defaults are not drift), `style` is
/// compared case-insensitively, tunnel addresses only when the spec sets them, lists as sets,
/// and the pre-shared key never (the cloud cannot report it). `gw` / `cgw_id` are `None` when
/// the references cannot be resolved now; those fields are then not compared.
pub fn drift(
    spec: &VpnConnectionSpec,
    name: &str,
    gw: Option<&ResolvedGateway>,
    cgw_id: Option<&str>,
    tags: &[VpnResourceTag],
    observed: &ResponseVpnConnection,
    observed_tags: &[VpnResourceTag],
) -> Vec<FieldDiff> {
    let mut d = Diffs(Vec::new());
    connection_fields(&mut d, spec, name, gw, cgw_id, observed);
    if let Some(p) = spec.ike_policy.as_ref() {
        ike_fields(&mut d, p, &observed.ikepolicy.clone().unwrap_or_default());
    }
    if let Some(p) = spec.ipsec_policy.as_ref() {
        ipsec_fields(&mut d, p, &observed.ipsecpolicy.clone().unwrap_or_default());
    }
    let (want, have) = (user_tags(tags), user_tags(observed_tags));
    if !tag_diff(&want, &have).is_empty() {
        let show = |t: &[VpnResourceTag]| match t.is_empty() {
            true => NONE.to_string(),
            false => render_tags(t),
        };
        d.0.push(FieldDiff::new("tags", show(&want), show(&have), true));
    }
    d.0
}

/// The connection's own fields: name, references, style, addresses, subnets, rules.
fn connection_fields(
    d: &mut Diffs,
    spec: &VpnConnectionSpec,
    name: &str,
    gw: Option<&ResolvedGateway>,
    cgw_id: Option<&str>,
    o: &ResponseVpnConnection,
) {
    d.text("name", Some(name.to_string()), o.name.clone(), true);
    if let Some(gw) = gw {
        d.text(
            "vpnGatewayRef",
            Some(gw.id.clone()),
            o.vgw_id.clone(),
            false,
        );
        d.text(
            "gatewayIp",
            Some(gw.vgw_ip.clone()),
            o.vgw_ip.clone(),
            false,
        );
    }
    d.text("customerGatewayRef", s(cgw_id), o.cgw_id.clone(), true);
    if o.style.is_some() {
        let want = Some(enum_str(&spec.style));
        d.text("style", want, s(o.style.as_ref()), false);
    }
    if o.ha_role.is_some() {
        let want = Some(enum_str(&spec.ha_role));
        d.text("haRole", want, s(o.ha_role.as_ref()), false);
    }
    if o.enable_nqa.is_some() {
        d.text("enableNqa", s(spec.enable_nqa), s(o.enable_nqa), false);
    }
    for (field, want, have) in [
        ("peerSubnets", &spec.peer_subnets, &o.peer_subnets),
        ("peerSubnetsV6", &spec.peer_subnets_v6, &o.peer_subnets_v6),
    ] {
        let have = have.clone().unwrap_or_default();
        if !want.is_empty() && as_set(want) != as_set(&have) {
            let diff = FieldDiff::new(field, render_list(want), render_list(&have), true);
            d.0.push(diff);
        }
    }
    let local = (&spec.tunnel_local_address, &o.tunnel_local_address);
    d.text("tunnelLocalAddress", local.0.clone(), local.1.clone(), true);
    let peer = (&spec.tunnel_peer_address, &o.tunnel_peer_address);
    d.text("tunnelPeerAddress", peer.0.clone(), peer.1.clone(), true);
    let hub = s(Some(o.enable_hub.unwrap_or(false)));
    d.text("enableHub", s(spec.enable_hub), hub, true);
    if spec.style == ConnectionStyle::Policy {
        for (field, want, have) in [
            ("policyRules", &spec.policy_rules, &o.policy_rules),
            ("policyRulesV6", &spec.policy_rules_v6, &o.policy_rules_v6),
        ] {
            let want = wire_rules(want).unwrap_or_default();
            let have = have.clone().unwrap_or_default();
            if !want.is_empty() && !same_rules(&want, &have) {
                let diff = FieldDiff::new(field, render_rules(&want), render_rules(&have), true);
                d.0.push(diff);
            }
        }
    }
}

/// The IKE policy fields the spec sets (`authenticationMethod` cannot change).
fn ike_fields(d: &mut Diffs, p: &IkePolicy, h: &WireIke) {
    let w = wire_ike(p);
    let fields = [
        (
            "ikePolicy.authenticationMethod",
            s(w.authentication_method.as_ref()),
            s(h.authentication_method.as_ref()),
            false,
        ),
        (
            "ikePolicy.ikeVersion",
            s(w.ike_version.as_ref()),
            s(h.ike_version.as_ref()),
            true,
        ),
        (
            "ikePolicy.phase1NegotiationMode",
            s(w.phase1_negotiation_mode.as_ref()),
            s(h.phase1_negotiation_mode.as_ref()),
            true,
        ),
        (
            "ikePolicy.authenticationAlgorithm",
            s(w.authentication_algorithm.as_ref()),
            s(h.authentication_algorithm.as_ref()),
            true,
        ),
        (
            "ikePolicy.encryptionAlgorithm",
            s(w.encryption_algorithm.as_ref()),
            s(h.encryption_algorithm.as_ref()),
            true,
        ),
        (
            "ikePolicy.dhGroup",
            s(w.dh_group.as_ref()),
            s(h.dh_group.as_ref()),
            true,
        ),
        (
            "ikePolicy.lifetimeSeconds",
            s(w.lifetime_seconds),
            s(h.lifetime_seconds),
            true,
        ),
        (
            "ikePolicy.localIdType",
            s(w.local_id_type.as_ref()),
            s(h.local_id_type.as_ref()),
            true,
        ),
        (
            "ikePolicy.localId",
            w.local_id.clone(),
            h.local_id.clone(),
            true,
        ),
        (
            "ikePolicy.peerIdType",
            s(w.peer_id_type.as_ref()),
            s(h.peer_id_type.as_ref()),
            true,
        ),
        (
            "ikePolicy.peerId",
            w.peer_id.clone(),
            h.peer_id.clone(),
            true,
        ),
    ];
    for (field, want, have, updatable) in fields {
        d.text(field, want, have, updatable);
    }
    if let Some(wd) = w.dpd {
        let hd = h.dpd.clone().unwrap_or_default();
        d.text("ikePolicy.dpd.timeout", s(wd.timeout), s(hd.timeout), true);
        d.text(
            "ikePolicy.dpd.interval",
            s(wd.interval),
            s(hd.interval),
            true,
        );
        d.text(
            "ikePolicy.dpd.msg",
            s(wd.msg.as_ref()),
            s(hd.msg.as_ref()),
            true,
        );
    }
}

/// The IPsec policy fields the spec sets.
fn ipsec_fields(d: &mut Diffs, p: &IpsecPolicy, h: &WireIpsec) {
    let w = wire_ipsec(p);
    let fields = [
        (
            "ipsecPolicy.authenticationAlgorithm",
            s(w.authentication_algorithm.as_ref()),
            s(h.authentication_algorithm.as_ref()),
        ),
        (
            "ipsecPolicy.encryptionAlgorithm",
            s(w.encryption_algorithm.as_ref()),
            s(h.encryption_algorithm.as_ref()),
        ),
        ("ipsecPolicy.pfs", s(w.pfs.as_ref()), s(h.pfs.as_ref())),
        (
            "ipsecPolicy.transformProtocol",
            s(w.transform_protocol.as_ref()),
            s(h.transform_protocol.as_ref()),
        ),
        (
            "ipsecPolicy.lifetimeSeconds",
            s(w.lifetime_seconds),
            s(h.lifetime_seconds),
        ),
        (
            "ipsecPolicy.encapsulationMode",
            s(w.encapsulation_mode.as_ref()),
            s(h.encapsulation_mode.as_ref()),
        ),
    ];
    for (field, want, have) in fields {
        d.text(field, want, have, true);
    }
}
