//! Gateway models against every gateway JSON example of the reference.
use serde_json::json;

use super::*;
use crate::cloud::model::test_support::{decode, fixture, round_trip};

#[test]
fn every_documented_create_request_round_trips() {
    for name in [
        "gateway_create_request_a_existing_eips",
        "gateway_create_request_b_er_new_eips",
        "gateway_create_request_c_private",
    ] {
        round_trip::<CreateVpnGatewayRequest>(name);
    }
}

#[test]
fn every_documented_gateway_response_round_trips() {
    for name in [
        "gateway_create_response_a",
        "gateway_create_response_b",
        "gateway_create_response_c",
        "gateway_create_response_walkthrough",
        "gateway_get_response_a_er_public",
        "gateway_get_response_b_private",
        "gateway_get_response_c_nonfixedip",
        "gateway_get_response_walkthrough",
        "gateway_update_response_a",
    ] {
        round_trip::<VpnGatewayResponse>(name);
    }
    round_trip::<ListVpnGatewaysResponse>("gateway_list_response_a");
    round_trip::<ResponseVpnGateway>("gateway_list_item_b_private");
}

#[test]
fn create_request_reads_existing_eip_ids_and_new_eip_parameters() {
    let existing: CreateVpnGatewayRequest = decode("gateway_create_request_a_existing_eips");
    let body = existing.vpn_gateway;
    assert_eq!(
        body.eip1.and_then(|e| e.id).as_deref(),
        Some("cff40e5e-demo-a8df-va86-7366077bf097")
    );
    assert_eq!(body.local_subnets.map(|s| s.len()), Some(2));
    assert_eq!(body.network_type, None, "defaults are left to the server");

    let new_eips: CreateVpnGatewayRequest = decode("gateway_create_request_b_er_new_eips");
    let body = new_eips.vpn_gateway;
    assert_eq!(body.attachment_type, Some(AttachmentType::Er));
    assert_eq!(body.flavor, Some(GatewayFlavor::Professional2));
    assert_eq!(body.bgp_asn, Some(65533));
    let eip2 = body.eip2.expect("eip2");
    assert_eq!(eip2.id, None);
    assert_eq!(eip2.eip_type, Some(EipType::Bgp));
    assert_eq!(eip2.charge_mode, Some(ChargeMode::Bandwidth));
    assert_eq!(eip2.bandwidth_size, Some(1000));
}

#[test]
fn create_request_built_in_code_matches_documented_json() {
    let request = CreateVpnGatewayRequest {
        vpn_gateway: CreateVpnGatewayRequestBody {
            vpc_id: Some("cb4a631d-demo-a8df-va86-ca3fa348c36c".into()),
            local_subnets: Some(vec!["192.168.0.0/24".into(), "192.168.1.0/24".into()]),
            network_type: Some(NetworkType::Private),
            connect_subnet: Some("f5741286-demo-a8df-va86-2c82bd9ee114".into()),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        fixture("gateway_create_request_c_private")
    );
}

#[test]
fn create_response_has_id_but_no_status_or_eips() {
    let resp: VpnGatewayResponse = decode("gateway_create_response_a");
    assert_eq!(resp.vpn_gateway.id, "134f9fb1-demo-a8df-va86-2040a5c13325");
    assert_eq!(resp.vpn_gateway.status, None);
    assert_eq!(resp.vpn_gateway.eip1, None);
    assert_eq!(resp.vpn_gateway.connection_number, Some(200));
    assert_eq!(
        resp.request_id.as_deref(),
        Some("7b37532a-d6e4-46b9-98dc-9169ec2ca58f")
    );
}

#[test]
fn get_response_exposes_status_eips_and_policy_template() {
    let public: VpnGatewayResponse = decode("gateway_get_response_a_er_public");
    let gw = public.vpn_gateway;
    assert_eq!(gw.status, Some(GatewayStatus::Active));
    let eip1 = gw.eip1.expect("eip1 once ACTIVE");
    assert_eq!(eip1.ip_version, Some(4));
    assert_eq!(eip1.ip_address.as_deref(), Some("88.***.***.251"));
    assert_eq!(eip1.bandwidth_size, Some(300));

    let private: VpnGatewayResponse = decode("gateway_get_response_b_private");
    assert_eq!(private.vpn_gateway.network_type, Some(NetworkType::Private));
    assert_eq!(
        private.vpn_gateway.access_private_ip_2.as_deref(),
        Some("192.168.146.77")
    );

    let nonfixed: VpnGatewayResponse = decode("gateway_get_response_c_nonfixedip");
    let gw = nonfixed.vpn_gateway;
    assert_eq!(gw.flavor, Some(GatewayFlavor::Professional1NonFixedIp));
    assert_eq!(gw.ha_mode, Some(HaMode::ActiveStandby));
    let template = gw.policy_template.expect("policy template");
    let ike = template.ike_policy.expect("ike");
    assert_eq!(ike.dh_group, Some(DhGroup::Group20));
    assert_eq!(ike.lifetime_seconds, Some(86400));
    assert_eq!(
        template.ipsec_policy.and_then(|p| p.pfs),
        Some(DhGroup::Group20)
    );
}

#[test]
fn list_response_keeps_every_gateway_in_order() {
    let list: ListVpnGatewaysResponse = decode("gateway_list_response_a");
    let names: Vec<_> = list
        .vpn_gateways
        .iter()
        .filter_map(|g| g.name.as_deref())
        .collect();
    assert_eq!(names, ["vpngw-1af3", "vpngw-2be4", "vpngw-5bd6"]);
    assert!(list
        .vpn_gateways
        .iter()
        .all(|g| g.status == Some(GatewayStatus::Active)));
}

#[test]
fn update_requests_match_the_documented_bodies() {
    let rename = UpdateVpnGatewayRequest {
        vpn_gateway: UpdateVpnGatewayRequestBody {
            name: Some("vpngw-4321".into()),
            local_subnets: Some(vec!["192.168.0.0/24".into()]),
            eip_id_1: Some("f1469b4a-demo-a8df-va86-bb7de91cf493".into()),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&rename).unwrap(),
        fixture("gateway_update_request_a")
    );

    let template: UpdateVpnGatewayRequest = round_trip("gateway_update_request_b_policy_template");
    let ipsec = template
        .vpn_gateway
        .policy_template
        .and_then(|t| t.ipsec_policy)
        .expect("ipsec");
    assert_eq!(
        ipsec.encryption_algorithm,
        Some(EncryptionAlgorithm::Aes128Gcm16)
    );
    assert_eq!(ipsec.pfs, Some(DhGroup::Disable));
}

#[test]
fn update_specification_body_is_the_flavor_envelope() {
    let request = UpdateVpnGatewaySpecificationRequest {
        vpn_gateway: UpdateVpnGatewaySpecificationBody {
            flavor: GatewayFlavor::Basic,
        },
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        fixture("gateway_update_specification_request")
    );
    round_trip::<UpdateVpnGatewaySpecificationRequest>("gateway_update_specification_request");
}

#[test]
fn v5_availability_zones_are_found_by_flavor_and_attachment() {
    let azs: ListAvailabilityZonesResponse = round_trip("gateway_availability_zones_v5_response");
    assert_eq!(
        azs.zones_for(&GatewayFlavor::Professional1, &AttachmentType::Vpc),
        ["cn-south-1f", "cn-south-1e", "cn-south-1c"]
    );
    assert_eq!(
        azs.zones_for(&GatewayFlavor::Gm, &AttachmentType::Er),
        ["cn-south-1f"]
    );
    assert!(azs
        .zones_for(&GatewayFlavor::Basic, &AttachmentType::Er)
        .is_empty());
    assert!(azs
        .zones_for(
            &GatewayFlavor::Professional2NonFixedIp,
            &AttachmentType::Vpc
        )
        .is_empty());
    assert!(azs
        .availability_zones
        .contains_key("Professional2-NonFixedIP"));
    assert!(azs
        .zones_for(
            &GatewayFlavor::Other("Professional9".into()),
            &AttachmentType::Vpc
        )
        .is_empty());
}

#[test]
fn v51_availability_zones_list_specs_per_zone() {
    let azs: ListExtendedAvailabilityZonesResponse =
        round_trip("gateway_availability_zones_v51_response");
    let zone = &azs.availability_zones[0];
    assert_eq!(zone.name.as_deref(), Some("cn-southwest-242a"));
    let specs = zone.available_specs.as_deref().unwrap_or_default();
    assert_eq!(specs.len(), 3);
    assert_eq!(specs[2].ip_version, Some(IpVersion::Ipv6));
    assert_eq!(specs[1].flavor, Some(GatewayFlavor::Gm));
}

#[test]
fn jobs_decode_with_sub_jobs_and_mixed_offsets() {
    let jobs: ListJobsResponse = round_trip("gateway_jobs_list_response");
    let job = &jobs.jobs[0];
    assert_eq!(job.status, Some(JobStatus::Success));
    assert!(job.status.as_ref().is_some_and(JobStatus::is_terminal));
    let subs = job.sub_jobs.as_deref().unwrap_or_default();
    assert_eq!(subs.len(), 3);
    assert_eq!(subs[1].job_type, Some(SubJobType::UpgradeWorker1));
    assert_eq!(subs[0].error_message.as_deref(), Some(""));
    // Sub-job times use +08:00, job times Z: both are instants.
    let sub_start = subs[0]
        .created_at
        .as_ref()
        .and_then(Timestamp::to_utc)
        .expect("parses");
    assert_eq!(sub_start.to_rfc3339(), "2025-06-04T03:28:01.926+00:00");
}

#[test]
fn certificate_private_keys_are_sent_but_never_debug_printed() {
    let request: CreateVpnGatewayCertificateRequest =
        round_trip("gateway_certificate_create_request");
    let debug = format!("{request:?}");
    assert!(
        !debug.contains("PRIVATE KEY"),
        "private key leaked into Debug: {debug}"
    );
    assert!(debug.contains("<redacted>"));
    let wire = serde_json::to_string(&request).unwrap();
    assert!(
        wire.contains("-----BEGIN EC PRIVATE KEY-----"),
        "the key must still reach the API"
    );

    let update: UpdateVpnGatewayCertificateRequest =
        round_trip("gateway_certificate_update_request");
    assert!(!format!("{update:?}").contains("PRIVATE KEY"));
}

#[test]
fn certificate_responses_round_trip_with_status() {
    round_trip::<VpnGatewayCertificateResponse>("gateway_certificate_create_response");
    round_trip::<VpnGatewayCertificateResponse>("gateway_certificate_update_response");
    let got: VpnGatewayCertificateResponse = round_trip("gateway_certificate_get_response");
    assert_eq!(got.certificate.status, Some(CertificateStatus::Bound));
    assert!(got
        .certificate
        .certificate_expire_time
        .and_then(|t| t.to_utc())
        .is_some());
}

#[test]
fn routing_table_and_upgrade_examples_round_trip() {
    let table: RoutingTableResponse = round_trip("gateway_routing_table_response");
    assert_eq!(table.total_count, Some(3));
    assert_eq!(
        table.routing_table[1]
            .nexthop_resource
            .as_ref()
            .and_then(|n| n.resource_type.clone()),
        Some(NexthopResourceType::VpnGateway)
    );
    let upgrade: UpgradeVpnGatewayRequest = round_trip("gateway_upgrade_request");
    assert_eq!(upgrade.action, UpgradeAction::Start);
    let accepted: UpgradeVpnGatewayResponse = round_trip("gateway_upgrade_response");
    assert_eq!(
        accepted.job_id.as_deref(),
        Some("c7f1d3e3-0476-4a71-95a7-3ce8cbb969de")
    );
}

#[test]
fn unknown_enum_values_survive_a_round_trip() {
    let raw = json!({
        "vpn_gateway": {
            "id": "g1",
            "status": "MIGRATING",
            "flavor": "Professional3",
            "network_type": "hybrid",
            "ha_mode": "active-active",
            "eip1": {"type": "5_newbgp", "share_type": "POOL"}
        }
    });
    let resp: VpnGatewayResponse =
        serde_json::from_value(raw.clone()).expect("unknown values decode");
    let gw = &resp.vpn_gateway;
    assert_eq!(gw.status, Some(GatewayStatus::Other("MIGRATING".into())));
    assert!(!gw.status.as_ref().unwrap().is_known());
    assert_eq!(
        gw.flavor,
        Some(GatewayFlavor::Other("Professional3".into()))
    );
    assert_eq!(gw.ha_mode, Some(HaMode::ActiveActive));
    assert_eq!(serde_json::to_value(&resp).unwrap(), raw);
}

#[test]
fn unknown_response_fields_are_ignored() {
    let resp: VpnGatewayResponse = serde_json::from_value(json!({
        "vpn_gateway": {
            "id": "g1",
            "status": "ACTIVE",
            "upgrade_info": {"status": "ready"},
            "master_eip": {"id": "old-field"},
            "some_future_field": [1, 2, 3]
        },
        "request_id": "r1",
        "extra": true
    }))
    .expect("unknown fields are tolerated");
    assert_eq!(resp.vpn_gateway.status, Some(GatewayStatus::Active));
}

#[test]
fn gateway_without_id_is_rejected() {
    let err = serde_json::from_value::<VpnGatewayResponse>(json!({"vpn_gateway": {"name": "x"}}))
        .expect_err("a gateway must carry its id");
    assert!(err.to_string().contains("id"), "{err}");
}

#[test]
fn flavor_helpers_follow_the_documented_tables() {
    assert_eq!(GatewayFlavor::Basic.max_bandwidth_mbps(), Some(100));
    assert_eq!(GatewayFlavor::Gm.max_bandwidth_mbps(), Some(500));
    assert_eq!(
        GatewayFlavor::Professional2NonFixedIp.max_bandwidth_mbps(),
        Some(1000)
    );
    assert_eq!(GatewayFlavor::Other("X".into()).max_bandwidth_mbps(), None);
    assert_eq!(
        GatewayFlavor::Professional1.availability_zone_key(),
        "professional1"
    );
    assert_eq!(
        GatewayFlavor::Professional1NonFixedIp.availability_zone_key(),
        "Professional1-NonFixedIP"
    );
    assert!(GatewayStatus::PendingUpdate.is_transitional());
    assert!(GatewayStatus::Upgrading.is_transitional());
    assert!(!GatewayStatus::Active.is_transitional());
    assert!(!GatewayStatus::Fault.is_transitional());
    assert!(!GatewayStatus::Other("NEW".into()).is_transitional());
}

#[test]
fn list_query_repeats_enterprise_project_ids_and_parses_back() {
    let query = ListVpnGatewaysQuery {
        enterprise_project_id: vec!["0".into(), "ep-2".into()],
        vgw_id: Some("g1".into()),
    };
    let pairs = query.to_pairs();
    assert_eq!(
        pairs,
        [
            ("vgw_id".to_string(), "g1".to_string()),
            ("enterprise_project_id".to_string(), "0".to_string()),
            ("enterprise_project_id".to_string(), "ep-2".to_string()),
        ]
    );
    let back =
        ListVpnGatewaysQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("parses");
    assert_eq!(back, query);
}
