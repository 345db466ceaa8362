//! `peer-config.json`: every effective parameter of the on-premises side, algorithms in Huawei
//! terms and in standard names (IANA, strongSwan), from the device's point of view (`local` is
//! the on-premises device, `remote` the cloud gateway).
use serde_json::{json, Value};

use super::algorithms::{lookup, Kind};
use super::effective::{Effective, Identity};
use super::swanctl::proposals;

/// The schema version of the document.
pub const FORMAT: &str = "vpn.hwcloud.dev/peer-config/v1";

/// A Huawei value with its standard names (`null` where there is none); an IKE
/// authentication algorithm with its PRF too.
fn named(kind: Kind, huawei: &str, ike: bool) -> Value {
    let row = lookup(kind, huawei);
    let mut v = json!({
        "huawei": huawei,
        "iana": row.map(|a| a.iana),
        "strongswan": row.and_then(|a| a.strongswan),
    });
    if kind == Kind::Authentication && ike {
        v["prf"] = json!({
            "iana": row.and_then(|a| a.prf_iana),
            "strongswan": row.and_then(|a| a.prf_strongswan),
        });
    }
    v
}

fn identity(id: &Identity) -> Value {
    json!({"type": id.kind, "value": id.value})
}

/// The document for `e`; `notes`: what a format could not express.
pub fn render(e: &Effective, notes: &[String]) -> String {
    let proposals = proposals(e).ok();
    let tunnel = e.tunnel.as_ref();
    let bgp = e.bgp.as_ref();
    let doc = json!({
        "format": FORMAT,
        "connection": {
            "namespace": e.object.0,
            "name": e.object.1,
            "cloudId": e.connection_id,
            "cloudName": e.connection_name,
            "style": e.style,
            "haRole": e.ha_role,
            "routeBased": e.route_based,
        },
        "remote": {
            "description": "the Huawei Cloud VPN gateway",
            "gatewayId": e.gateway_id,
            "address": e.cloud_address,
            "identity": identity(&e.cloud_id),
            "subnets": e.cloud_subnets,
            "tunnelAddress": tunnel.map(|t| &t.0),
            "bgpAsn": bgp.and_then(|b| b.cloud_asn),
            "bgpPeerAddress": bgp.and_then(|b| b.cloud_address.as_ref()),
        },
        "local": {
            "description": "the on-premises device (customer gateway)",
            "customerGatewayId": e.customer_gateway_id,
            "address": e.on_premises_address,
            "identity": identity(&e.on_premises_id),
            "subnets": e.peer_subnets,
            "tunnelAddress": tunnel.map(|t| &t.1),
            "bgpAsn": bgp.and_then(|b| b.on_premises_asn),
            "bgpPeerAddress": bgp.and_then(|b| b.on_premises_address.as_ref()),
        },
        "ike": {
            "version": e.ike.version,
            "negotiationMode": e.ike.negotiation_mode,
            "authenticationMethod": e.ike.authentication_method,
            "encryption": named(Kind::Encryption, &e.ike.encryption, true),
            "authentication": named(Kind::Authentication, &e.ike.authentication, true),
            "dhGroup": e.ike.dh_group.as_deref().map(|g| named(Kind::DhGroup, g, true)),
            "lifetimeSeconds": e.ike.lifetime_seconds,
            "dpd": {
                "intervalSeconds": e.ike.dpd_interval_seconds,
                "timeoutSeconds": e.ike.dpd_timeout_seconds,
                "msg": e.ike.dpd_msg,
            },
            "strongswanProposal": proposals.as_ref().map(|p| &p.ike),
        },
        "ipsec": {
            "encryption": named(Kind::Encryption, &e.ipsec.encryption, false),
            "authentication": named(Kind::Authentication, &e.ipsec.authentication, false),
            "pfs": match e.ipsec.pfs.as_str() {
                "disable" => json!({"huawei": "disable", "iana": null, "strongswan": null}),
                g => named(Kind::DhGroup, g, false),
            },
            "lifetimeSeconds": e.ipsec.lifetime_seconds,
            "transformProtocol": e.ipsec.transform_protocol,
            "encapsulationMode": e.ipsec.encapsulation_mode,
            "strongswanProposal": proposals.as_ref().map(|p| &p.esp),
        },
        "trafficSelectors": e.selectors.iter().map(|s| json!({
            "local": s.on_premises,
            "remote": s.cloud,
        })).collect::<Vec<_>>(),
        "policyRules": e.policy_rules.iter().map(|r| json!({
            "source": r.source,
            "destination": r.destination,
        })).collect::<Vec<_>>(),
        "preSharedKey": e.psk.as_ref().map(|k| k.expose()),
        "notes": notes,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
