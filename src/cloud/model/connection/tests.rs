//! Connection models against every connection JSON example.
use serde_json::json;

use super::*;
use crate::cloud::model::test_support::{decode, fixture, round_trip};

#[test]
fn every_documented_connection_request_round_trips() {
    for name in [
        "connection_create_request_a_minimal",
        "connection_create_request_b_policy",
        "connection_create_request_c_bgp",
        "connection_create_request_d_gm",
    ] {
        round_trip::<CreateVpnConnectionRequest>(name);
    }
    for name in [
        "connection_batch_create_request_a_static",
        "connection_batch_create_request_b_policy",
        "connection_batch_create_request_c_bgp",
        "connection_batch_create_request_d_gm",
        "connection_batch_create_request_walkthrough",
    ] {
        round_trip::<BatchCreateVpnConnectionsRequest>(name);
    }
    for name in [
        "connection_update_request_a_peer_subnets",
        "connection_update_request_b_policy_rules",
        "connection_update_request_c_lifetimes",
        "connection_update_request_d_rename",
    ] {
        round_trip::<UpdateVpnConnectionRequest>(name);
    }
}

#[test]
fn every_documented_connection_response_round_trips() {
    for name in [
        "connection_create_response_a_static",
        "connection_create_response_b_policy",
        "connection_create_response_c_bgp",
        "connection_get_response",
        "connection_update_response_a",
    ] {
        round_trip::<VpnConnectionResponse>(name);
    }
    for name in [
        "connection_batch_create_response_i_static",
        "connection_batch_create_response_ii_policy",
        "connection_batch_create_response_iii_bgp",
    ] {
        round_trip::<BatchCreateVpnConnectionsResponse>(name);
    }
    round_trip::<ListVpnConnectionsResponse>("connection_list_response_a");
    round_trip::<ListVpnConnectionsResponse>("connection_list_response_b_by_vgw_ip");
    round_trip::<ListConnectionLogsResponse>("connection_logs_response");
    round_trip::<crate::cloud::model::RequestIdResponse>("connection_reset_response");
}

#[test]
fn psk_is_sent_but_never_debug_printed() {
    let request: CreateVpnConnectionRequest = decode("connection_create_request_a_minimal");
    assert_eq!(
        request
            .vpn_connection
            .psk
            .as_ref()
            .map(|p| p.expose().as_str()),
        Some("abcd****")
    );
    let mut secret = request.clone();
    secret.vpn_connection.psk = Some("Sup3r-Secret!key".into());
    let debug = format!("{secret:?} {:?}", secret.vpn_connection);
    assert!(!debug.contains("Sup3r-Secret!key"), "psk leaked: {debug}");
    assert!(debug.contains("psk: Some(<redacted>)"));
    assert_eq!(
        serde_json::to_value(&secret).unwrap()["vpn_connection"]["psk"],
        "Sup3r-Secret!key"
    );

    let update = UpdateVpnConnectionRequestBody {
        psk: Some("An0ther-Secret".into()),
        ..Default::default()
    };
    assert!(!format!("{update:?}").contains("An0ther-Secret"));
    let batch = BatchCreateVpnConnectionsRequest {
        vpn_connections: vec![secret.vpn_connection],
    };
    assert!(!format!("{batch:?}").contains("Sup3r-Secret!key"));
}

#[test]
fn create_request_built_in_code_matches_the_policy_example() {
    let request = CreateVpnConnectionRequest {
        vpn_connection: CreateVpnConnectionRequestBody {
            vgw_id: "b32d91a4-demo-a8df-va86-e907174eb11d".into(),
            vgw_ip: "0c464dad-demo-a8df-va86-c22bb0eb0bde".into(),
            style: Some(ConnectionStyle::Policy),
            cgw_id: "5247ae10-demo-a8df-va86-dd36659a7f5d".into(),
            peer_subnets: Some(vec!["192.168.44.0/24".into()]),
            psk: Some("abcd****".into()),
            policy_rules: Some(vec![PolicyRule {
                rule_index: None,
                source: Some("10.0.0.0/24".into()),
                destination: Some(vec!["192.168.0.0/24".into()]),
            }]),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        fixture("connection_create_request_b_policy")
    );
}

#[test]
fn create_request_requires_gateway_ip_and_customer_gateway() {
    for missing in ["vgw_id", "vgw_ip", "cgw_id"] {
        let mut body = json!({"vgw_id": "g", "vgw_ip": "e", "cgw_id": "c"});
        body.as_object_mut().unwrap().remove(missing);
        let err =
            serde_json::from_value::<CreateVpnConnectionRequest>(json!({"vpn_connection": body}))
                .expect_err("required field missing");
        assert!(err.to_string().contains(missing), "{err}");
    }
}

#[test]
fn bgp_request_carries_full_ike_and_ipsec_policies() {
    let request: CreateVpnConnectionRequest = decode("connection_create_request_c_bgp");
    let body = request.vpn_connection;
    assert_eq!(body.style, Some(ConnectionStyle::Bgp));
    let ike = body.ikepolicy.expect("ikepolicy");
    assert_eq!(ike.ike_version, Some(IkeVersion::V2));
    assert_eq!(
        ike.authentication_algorithm,
        Some(AuthenticationAlgorithm::Sha2_512)
    );
    assert_eq!(ike.local_id_type, Some(IkeIdType::Fqdn));
    assert_eq!(
        ike.dpd,
        Some(Dpd {
            timeout: Some(30),
            interval: Some(60),
            msg: Some(DpdMsg::SeqNotifyHash)
        })
    );
    let ipsec = body.ipsecpolicy.expect("ipsecpolicy");
    assert_eq!(ipsec.pfs, Some(DhGroup::Group16));
    assert_eq!(ipsec.transform_protocol, Some(TransformProtocol::Esp));
    assert_eq!(ipsec.encapsulation_mode, Some(EncapsulationMode::Tunnel));
}

#[test]
fn responses_spell_style_in_upper_case_and_it_maps_to_the_request_style() {
    let resp: VpnConnectionResponse = decode("connection_create_response_a_static");
    let style = resp.vpn_connection.style.expect("style");
    assert_eq!(style, ResponseConnectionStyle::Static);
    assert_eq!(ConnectionStyle::from(&style), ConnectionStyle::Static);
    assert_eq!(
        ResponseConnectionStyle::from(&ConnectionStyle::PolicyTemplate).as_str(),
        "POLICY-TEMPLATE"
    );
    // Either case decodes to the same variant; each type writes its own case.
    assert_eq!(ConnectionStyle::parse("BGP"), ConnectionStyle::Bgp);
    assert_eq!(ConnectionStyle::Bgp.as_str(), "bgp");
    assert_eq!(
        ResponseConnectionStyle::parse("policy"),
        ResponseConnectionStyle::Policy
    );
    assert_eq!(
        ConnectionStyle::from(&ResponseConnectionStyle::Other("ROUTE".into())),
        ConnectionStyle::Other("route".into())
    );
}

#[test]
fn create_response_has_server_defaults_but_no_status() {
    let resp: VpnConnectionResponse = decode("connection_create_response_a_static");
    let conn = resp.vpn_connection;
    assert_eq!(conn.status, None);
    assert_eq!(conn.enable_nqa, Some(false));
    assert_eq!(conn.ha_role, Some(HaRole::Master));
    let ike = conn.ikepolicy.expect("ikepolicy");
    assert_eq!(
        ike.authentication_method,
        Some(AuthenticationMethod::PreShare)
    );
    assert_eq!(ike.dh_group, Some(DhGroup::Group15));
    assert_eq!(
        conn.ipsecpolicy.and_then(|p| p.lifetime_seconds),
        Some(3600)
    );
}

#[test]
fn get_response_has_status_and_bgp_peer() {
    let resp: VpnConnectionResponse = decode("connection_get_response");
    let conn = resp.vpn_connection;
    assert_eq!(conn.status, Some(ConnectionStatus::Down));
    assert_eq!(
        conn.policy_rules.as_deref().unwrap_or_default()[0].rule_index,
        Some(1)
    );
    let peer = conn.bgp_peer.expect("bgp_peer");
    assert_eq!(peer.peer_asn, Some(64516));
    assert_eq!(peer.state.as_deref(), Some("established"));
    assert_eq!(peer.num_message_received, Some(15541));
}

#[test]
fn list_response_reports_paging_and_total() {
    let list: ListVpnConnectionsResponse = decode("connection_list_response_b_by_vgw_ip");
    assert_eq!(list.vpn_connections.len(), 2);
    assert_eq!(list.total_count, Some(12));
    assert_eq!(list.page_info.and_then(|p| p.current_count), Some(2));
    let a: ListVpnConnectionsResponse = decode("connection_list_response_a");
    assert_eq!(
        a.vpn_connections[0].ha_role, None,
        "the source omits ha_role here"
    );
    assert_eq!(
        a.vpn_connections[1].peer_subnets, None,
        "and peer_subnets here"
    );
}

#[test]
fn update_request_built_in_code_matches_the_lifetime_example() {
    let request = UpdateVpnConnectionRequest {
        vpn_connection: UpdateVpnConnectionRequestBody {
            ikepolicy: Some(UpdateIkePolicy {
                lifetime_seconds: Some(3600),
                ..Default::default()
            }),
            ipsecpolicy: Some(IpsecPolicy {
                lifetime_seconds: Some(3600),
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        fixture("connection_update_request_c_lifetimes")
    );
}

#[test]
fn update_ike_policy_drops_only_the_authentication_method() {
    let resp: VpnConnectionResponse = decode("connection_create_response_c_bgp");
    let full = resp.vpn_connection.ikepolicy.expect("ikepolicy");
    let update = UpdateIkePolicy::from(&full);
    let mut expected = serde_json::to_value(&full).unwrap();
    expected
        .as_object_mut()
        .unwrap()
        .remove("authentication_method");
    assert_eq!(serde_json::to_value(&update).unwrap(), expected);
}

#[test]
fn unknown_connection_values_round_trip() {
    let raw = json!({
        "vpn_connection": {
            "id": "c1",
            "status": "MIGRATING",
            "style": "ROUTE",
            "ha_role": "backup",
            "ikepolicy": {"ike_version": "v3", "encryption_algorithm": "aes-512", "dh_group": "group31",
                          "peer_id_type": "dn", "dpd": {"msg": "seq-other"}},
            "ipsecpolicy": {"transform_protocol": "ah", "encapsulation_mode": "transport"}
        }
    });
    let resp: VpnConnectionResponse = serde_json::from_value(raw.clone()).expect("decodes");
    assert_eq!(
        resp.vpn_connection.status,
        Some(ConnectionStatus::Other("MIGRATING".into()))
    );
    assert_eq!(
        resp.vpn_connection.ha_role,
        Some(HaRole::Other("backup".into()))
    );
    assert_eq!(serde_json::to_value(&resp).unwrap(), raw);
}

#[test]
fn undocumented_walkthrough_fields_are_ignored() {
    // Walkthrough 5.3 prints `eip_id` and `type: ROUTE`, which are not in the schema.
    let resp: VpnConnectionResponse = serde_json::from_value(json!({
        "vpn_connection": {"id": "c1", "status": "DOWN", "eip_id": "e1", "type": "ROUTE"}
    }))
    .expect("decodes");
    assert_eq!(resp.vpn_connection.status, Some(ConnectionStatus::Down));
}

#[test]
fn status_helpers() {
    assert!(ConnectionStatus::PendingCreate.is_transitional());
    assert!(!ConnectionStatus::Down.is_transitional());
    assert!(!ConnectionStatus::Unknown.is_transitional());
    assert!(
        ConnectionStatus::Unknown.is_known(),
        "UNKNOWN is a documented value"
    );
}

#[test]
fn list_query_carries_every_documented_filter() {
    let query = ListVpnConnectionsQuery {
        vgw_ip: Some("e1".into()),
        vgw_id: Some("g1".into()),
        enterprise_project_id: vec!["0".into()],
        limit: Some(10),
        marker: Some("2025-06-11T13:59:59.633Z".into()),
    };
    let pairs = query.to_pairs();
    let names: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "vgw_ip",
            "vgw_id",
            "enterprise_project_id",
            "limit",
            "marker"
        ]
    );
    let back =
        ListVpnConnectionsQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(back, Ok(query));
}
