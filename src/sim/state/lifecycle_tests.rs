//! State-machine and rule tests on a [`Project`], without HTTP.
use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::*;
use crate::sim::config::Delays;
use crate::sim::world::World;

const VPC: &str = "a0000000-0000-4000-8000-000000000001";
const SUBNET_A: &str = "b0000000-0000-4000-8000-000000000001";
const SUBNET_TINY: &str = "b0000000-0000-4000-8000-000000000003";
const EIP1: &str = "e0000000-0000-4000-8000-000000000001";
const EIP2: &str = "e0000000-0000-4000-8000-000000000002";
const EIP_FROZEN: &str = "e0000000-0000-4000-8000-000000000009";
const EIP_BOUND: &str = "e0000000-0000-4000-8000-000000000010";
const EIP_SHARED: &str = "e0000000-0000-4000-8000-000000000011";

fn t0() -> DateTime<Utc> {
    "2025-06-28T02:22:27.240Z".parse().unwrap()
}

fn ctx(at: DateTime<Utc>, d: Delays) -> Ctx {
    Ctx { now: at, delays: d }
}

fn secs(n: i64) -> ChronoDuration {
    ChronoDuration::seconds(n)
}

fn eip(id: &str) -> Option<m::CreateRequestEip> {
    Some(m::CreateRequestEip {
        id: Some(id.into()),
        ..Default::default()
    })
}

fn gw_req() -> m::CreateVpnGatewayRequestBody {
    m::CreateVpnGatewayRequestBody {
        vpc_id: Some(VPC.into()),
        local_subnets: Some(vec!["192.168.0.0/24".into(), "192.168.1.0/24".into()]),
        connect_subnet: Some(SUBNET_A.into()),
        eip1: eip(EIP1),
        eip2: eip(EIP2),
        ..Default::default()
    }
}

fn cgw_req(ip: &str) -> m::CreateCustomerGatewayRequestBody {
    m::CreateCustomerGatewayRequestBody {
        id_value: ip.into(),
        bgp_asn: Some(65000),
        ..Default::default()
    }
}

fn conn_req(vgw: &str, vgw_ip: &str, cgw: &str) -> m::CreateVpnConnectionRequestBody {
    m::CreateVpnConnectionRequestBody {
        vgw_id: vgw.into(),
        vgw_ip: vgw_ip.into(),
        cgw_id: cgw.into(),
        peer_subnets: Some(vec!["172.16.0.0/24".into()]),
        psk: Some("Secret-Psk-2025".into()),
        ..Default::default()
    }
}

fn project() -> Project {
    Project::new("p1", World::default())
}

/// An ACTIVE gateway and a customer gateway, with zero delays.
fn ready(p: &mut Project, peer: &str) -> (String, String) {
    let c = ctx(t0(), Delays::zero());
    let gw = p.create_gateway(gw_req(), c).unwrap().id;
    let cgw = p.create_customer_gateway(cgw_req(peer), c).unwrap().id;
    p.advance(t0());
    (gw, cgw)
}

fn status(p: &Project, gw: &str) -> m::GatewayStatus {
    p.get_gateway(gw).unwrap().status.unwrap()
}

#[test]
fn gateway_lifecycle_follows_the_delays_and_shows_fields_once_active() {
    let mut p = project();
    let d = Delays::uniform(Duration::from_secs(10));
    let created = p.create_gateway(gw_req(), ctx(t0(), d)).unwrap();
    // The create answer: no status, EIPs, AZs or timestamps.
    assert!(created.status.is_none() && created.eip1.is_none() && created.created_at.is_none());
    assert!(created.availability_zone_ids.is_none());
    assert_eq!(created.connection_number, Some(200));
    let id = created.id;

    p.advance(t0() + secs(9));
    let g = p.get_gateway(&id).unwrap();
    assert_eq!(g.status, Some(m::GatewayStatus::PendingCreate));
    assert!(g.eip1.is_none() && g.created_at.is_none() && g.availability_zone_ids.is_none());

    p.advance(t0() + secs(10));
    let g = p.get_gateway(&id).unwrap();
    assert_eq!(g.status, Some(m::GatewayStatus::Active));
    assert_eq!(g.eip1.unwrap().ip_address.as_deref(), Some("198.51.100.11"));
    assert_eq!(g.created_at.unwrap().as_str(), "2025-06-28T02:22:27.240Z");
    assert_eq!(g.availability_zone_ids.unwrap().len(), 2);
    assert!(!g.supported_flavors.unwrap().is_empty());

    let upd = m::UpdateVpnGatewayRequestBody {
        name: Some("renamed".into()),
        ..Default::default()
    };
    let u = p.update_gateway(&id, upd, ctx(t0() + secs(20), d)).unwrap();
    assert_eq!(u.name.as_deref(), Some("renamed"));
    assert!(u.status.is_none(), "the update answer has no status");
    assert_eq!(status(&p, &id), m::GatewayStatus::PendingUpdate);
    p.advance(t0() + secs(30));
    assert_eq!(status(&p, &id), m::GatewayStatus::Active);

    p.delete_gateway(&id, ctx(t0() + secs(40), d)).unwrap();
    assert_eq!(status(&p, &id), m::GatewayStatus::PendingDelete);
    p.advance(t0() + secs(50));
    assert_eq!(p.get_gateway(&id).unwrap_err().code, "VPN.0509");
    // Its pay-per-use EIPs were released with it (default world rule).
    assert!(p.world.eip(EIP1).is_none());
    // The interconnection subnet got its IPs back.
    assert_eq!(p.world.subnet(SUBNET_A).unwrap().1.available_ips, 250);
}

#[test]
fn busy_gateways_answer_the_documented_codes() {
    let mut p = project();
    let d = Delays::uniform(Duration::from_secs(10));
    let gw = p.create_gateway(gw_req(), ctx(t0(), d)).unwrap().id;
    let cgw = p
        .create_customer_gateway(cgw_req("203.0.113.5"), ctx(t0(), d))
        .unwrap()
        .id;
    let e = p
        .update_gateway(&gw, Default::default(), ctx(t0(), d))
        .unwrap_err();
    assert_eq!(e.code, "VPN.0003");
    assert!(e.message.ends_with("is not ready, currently CREATING"));
    assert_eq!(
        p.delete_gateway(&gw, ctx(t0(), d)).unwrap_err().code,
        "VPN.0003"
    );
    let e = p
        .create_connection(conn_req(&gw, EIP1, &cgw), ctx(t0(), d))
        .unwrap_err();
    assert_eq!(e.code, "VPN.0506");

    p.advance(t0() + secs(10));
    p.update_gateway(&gw, Default::default(), ctx(t0() + secs(10), d))
        .unwrap();
    // While PENDING_UPDATE: the documented "being updated" code.
    assert_eq!(
        p.update_gateway(&gw, Default::default(), ctx(t0() + secs(11), d))
            .unwrap_err()
            .code,
        "VPN.0507"
    );
    let e = p
        .create_connection(conn_req(&gw, EIP1, &cgw), ctx(t0() + secs(11), d))
        .unwrap_err();
    assert_eq!(e.code, "VPN.0507");
}

#[test]
fn connections_settle_by_the_peer_address_rule() {
    let mut p = project();
    let (gw, up) = ready(&mut p, "203.0.113.5");
    let down = p
        .create_customer_gateway(cgw_req("192.0.2.10"), ctx(t0(), Delays::zero()))
        .unwrap()
        .id;
    let d = Delays::uniform(Duration::from_secs(5));
    let a = p
        .create_connection(conn_req(&gw, EIP1, &up), ctx(t0(), d))
        .unwrap();
    let b = p
        .create_connection(conn_req(&gw, EIP2, &down), ctx(t0(), d))
        .unwrap();
    assert!(a.status.is_none(), "the create answer has no status");
    let get = |p: &Project, id: &str| p.get_connection(id, t0()).unwrap().status.unwrap();
    assert_eq!(get(&p, &a.id), m::ConnectionStatus::PendingCreate);
    p.advance(t0() + secs(5));
    assert_eq!(get(&p, &a.id), m::ConnectionStatus::Active);
    assert_eq!(get(&p, &b.id), m::ConnectionStatus::Down);
    // Server-side defaults are filled in, tunnel addresses assigned, psk never shown.
    let full = p.get_connection(&a.id, t0()).unwrap();
    let ike = full.ikepolicy.clone().unwrap();
    assert_eq!(ike.ike_version, Some(m::IkeVersion::V2));
    assert_eq!(ike.local_id.as_deref(), Some("198.51.100.11"));
    assert_eq!(ike.peer_id.as_deref(), Some("203.0.113.5"));
    assert_eq!(full.tunnel_local_address.as_deref(), Some("169.254.1.1/30"));
    let json = serde_json::to_string(&full).unwrap();
    assert!(!json.contains("Secret-Psk-2025") && !json.contains("psk"));
    // The gateway counts its connections.
    let g = p.get_gateway(&gw).unwrap();
    assert_eq!(
        (g.used_connection_number, g.used_connection_group),
        (Some(2), Some(2))
    );
}

#[test]
fn dependants_block_deletes() {
    let mut p = project();
    let (gw, cgw) = ready(&mut p, "203.0.113.5");
    let c = ctx(t0(), Delays::zero());
    let conn = p
        .create_connection(conn_req(&gw, EIP1, &cgw), c)
        .unwrap()
        .id;
    let e = p.delete_customer_gateway(&cgw).unwrap_err();
    assert_eq!(e.code, "VPN.0001");
    assert_eq!(
        e.message,
        format!("invalid request: customer gateway {cgw} has connection")
    );
    assert!(p
        .delete_gateway(&gw, c)
        .unwrap_err()
        .message
        .contains("has connection"));
    // A connection still being created cannot be deleted yet.
    let e = p.delete_connection(&conn, c).unwrap_err();
    assert_eq!(
        e.message,
        "invalid request: PENDING_CREATE not allowed delete vpnConnection"
    );
    p.advance(t0());
    let mon = p
        .create_monitor(
            m::CreateConnectionMonitorRequestBody {
                vpn_connection_id: conn.clone(),
            },
            c,
        )
        .unwrap()
        .id;
    p.delete_connection(&conn, c).unwrap();
    p.advance(t0());
    assert_eq!(p.get_connection(&conn, t0()).unwrap_err().code, "VPN.0563");
    assert_eq!(
        p.get_monitor(&mon).unwrap_err().code,
        "VPN.0004",
        "monitor went with it"
    );
    p.delete_customer_gateway(&cgw).unwrap();
    p.delete_gateway(&gw, c).unwrap();
}

#[test]
fn upgrade_jobs_run_start_finish_and_rollback() {
    let mut p = project();
    let (gw, _) = ready(&mut p, "203.0.113.5");
    let d = Delays::uniform(Duration::from_secs(10));
    let job = p
        .upgrade_gateway(&gw, m::UpgradeAction::Start, ctx(t0(), d))
        .unwrap();
    assert_eq!(status(&p, &gw), m::GatewayStatus::Upgrading);
    assert_eq!(
        p.delete_job(&job).unwrap_err().code,
        "VPN.0001",
        "running jobs stay"
    );
    p.advance(t0() + secs(10));
    assert_eq!(status(&p, &gw), m::GatewayStatus::PendingUpgradeConfirm);
    assert_eq!(
        p.list_jobs(Some(&gw))[0].status,
        Some(m::JobStatus::PendingUpgradeConfirm)
    );
    p.upgrade_gateway(&gw, m::UpgradeAction::Finish, ctx(t0() + secs(11), d))
        .unwrap();
    assert_eq!(status(&p, &gw), m::GatewayStatus::Active);
    assert_eq!(
        p.list_jobs(Some(&gw))[0].status,
        Some(m::JobStatus::Success)
    );
    p.delete_job(&job).unwrap();
    assert!(p.list_jobs(None).is_empty());

    p.upgrade_gateway(&gw, m::UpgradeAction::Start, ctx(t0() + secs(20), d))
        .unwrap();
    // While UPGRADING: "The gateway is not ready."; so is every other mutation.
    assert_eq!(
        p.upgrade_gateway(&gw, m::UpgradeAction::Rollback, ctx(t0() + secs(21), d))
            .unwrap_err()
            .code,
        "VPN.0511"
    );
    assert_eq!(
        p.update_gateway(&gw, Default::default(), ctx(t0() + secs(21), d))
            .unwrap_err()
            .code,
        "VPN.0511"
    );
    p.advance(t0() + secs(30));
    p.upgrade_gateway(&gw, m::UpgradeAction::Rollback, ctx(t0() + secs(30), d))
        .unwrap();
    assert_eq!(status(&p, &gw), m::GatewayStatus::RollingBack);
    p.advance(t0() + secs(40));
    assert_eq!(status(&p, &gw), m::GatewayStatus::Active);
    assert_eq!(
        p.list_jobs(None)[0].status,
        Some(m::JobStatus::RollbackSuccess)
    );
}

#[test]
fn quotas_are_enforced_and_reported() {
    let mut w = World::default();
    w.quotas.vpn_gateway = 1;
    w.quotas.customer_gateway = 1;
    let mut p = Project::new("p1", w);
    let c = ctx(t0(), Delays::zero());
    p.create_gateway(gw_req(), c).unwrap();
    let mut second = gw_req();
    second.eip1 = eip("e0000000-0000-4000-8000-000000000003");
    second.eip2 = eip("e0000000-0000-4000-8000-000000000004");
    assert_eq!(p.create_gateway(second, c).unwrap_err().code, "VPN.0513");
    p.create_customer_gateway(cgw_req("203.0.113.1"), c)
        .unwrap();
    let e = p
        .create_customer_gateway(cgw_req("203.0.113.2"), c)
        .unwrap_err();
    assert!(
        e.message.contains("customer_gateway quota"),
        "{}",
        e.message
    );
    let q = p.quotas();
    let gw = q.quotas.find(&m::QuotaType::VpnGateway).unwrap();
    assert_eq!((gw.quota, gw.used), (Some(1), Some(1)));
}

#[test]
fn gateway_requests_are_checked_against_the_world() {
    let mut p = project();
    let c = ctx(t0(), Delays::zero());
    let code = |p: &mut Project, r: m::CreateVpnGatewayRequestBody| {
        p.create_gateway(r, c).unwrap_err().code
    };
    let with = |f: &dyn Fn(&mut m::CreateVpnGatewayRequestBody)| {
        let mut r = gw_req();
        f(&mut r);
        r
    };
    assert_eq!(
        code(&mut p, with(&|r| r.vpc_id = Some("nope".into()))),
        "VPN.0500"
    );
    assert_eq!(
        code(&mut p, with(&|r| r.connect_subnet = Some("nope".into()))),
        "VPN.0501"
    );
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.connect_subnet = Some(SUBNET_TINY.into()))
        ),
        "VPN.0502"
    );
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.connect_subnet = Some("b0000000-0000-4000-8000-000000000004".into()))
        ),
        "VPN.0503"
    );
    assert_eq!(code(&mut p, with(&|r| r.eip1 = eip("nope"))), "VPN.0551");
    assert_eq!(
        code(&mut p, with(&|r| r.eip1 = eip(EIP_FROZEN))),
        "VPN.0552"
    );
    assert_eq!(code(&mut p, with(&|r| r.eip1 = eip(EIP_BOUND))), "VPN.0553");
    assert_eq!(
        code(&mut p, with(&|r| r.eip1 = eip(EIP_SHARED))),
        "VPN.0554"
    );
    let new_eip = |t: &str, size: Option<u32>| {
        Some(m::CreateRequestEip {
            eip_type: Some(m::EipType::parse(t)),
            bandwidth_size: size,
            ..Default::default()
        })
    };
    assert_eq!(
        code(&mut p, with(&|r| r.eip1 = new_eip("5_bgp", None))),
        "VPN.0558"
    );
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.eip1 = new_eip("5_youxuanbgp", Some(10)))
        ),
        "VPN.0557"
    );
    assert_eq!(
        code(&mut p, with(&|r| r.eip1 = new_eip("6_bgp", Some(10)))),
        "VPN.0556"
    );
    assert_eq!(
        code(&mut p, with(&|r| r.eip1 = new_eip("5_bgp", Some(500)))),
        "VPN.0550"
    );
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.eip1.as_mut().unwrap().bandwidth_size = Some(10))
        ),
        "VPN.0559"
    );
    let azs = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.availability_zone_ids = azs(&["cn-north-4a", "cn-north-4a"]))
        ),
        "VPN.0515"
    );
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.availability_zone_ids = azs(&["cn-north-4a"]))
        ),
        "VPN.0514"
    );
    assert_eq!(
        code(
            &mut p,
            with(&|r| r.flavor = Some(m::GatewayFlavor::parse("Huge")))
        ),
        "VPN.0001"
    );
    assert_eq!(code(&mut p, with(&|r| r.local_subnets = None)), "VPN.0001");
    assert_eq!(code(&mut p, with(&|r| r.eip2 = None)), "VPN.0001");
    assert_eq!(
        code(&mut p, with(&|r| r.name = Some("bad name!".into()))),
        "VPN.0001"
    );
    // Nothing was taken by the refused requests.
    assert!(p.gateways.is_empty());
    assert!(p.world.eip(EIP2).unwrap().bound_to.is_none());
    // A new-EIP gateway gets addresses from the pool.
    let ok = with(&|r| {
        r.eip1 = new_eip("5_bgp", Some(100));
        r.availability_zone_ids = azs(&["cn-north-4a", "cn-north-4b"]);
    });
    let id = p.create_gateway(ok, c).unwrap().id;
    p.advance(t0());
    let g = p.get_gateway(&id).unwrap();
    assert_eq!(
        g.eip1.unwrap().ip_address.as_deref(),
        Some("198.51.100.129")
    );
    assert_eq!(
        g.availability_zone_ids,
        azs(&["cn-north-4a", "cn-north-4b"])
    );
}

#[test]
fn connection_requests_follow_the_style_rules() {
    let mut p = project();
    let (gw, cgw) = ready(&mut p, "203.0.113.5");
    let c = ctx(t0(), Delays::zero());
    let mut r = conn_req(&gw, EIP1, &cgw);
    r.policy_rules = Some(vec![m::PolicyRule {
        rule_index: None,
        source: Some("192.168.0.0/24".into()),
        destination: Some(vec!["172.16.0.0/24".into()]),
    }]);
    let e = p.create_connection(r.clone(), c).unwrap_err();
    assert!(e
        .message
        .contains("policy_rules is only allowed when style is policy"));
    r.style = Some(m::ConnectionStyle::Policy);
    let ok = p.create_connection(r, c).unwrap();
    assert_eq!(ok.style, Some(m::ResponseConnectionStyle::Policy));
    assert_eq!(ok.policy_rules.unwrap()[0].rule_index, Some(1));

    let mut weak = conn_req(&gw, EIP2, &cgw);
    weak.psk = Some("alllowercase".into());
    let e = p.create_connection(weak, c).unwrap_err();
    assert!(e.message.starts_with("invalid request: psk must be"));
    assert!(!e.message.contains("alllowercase"));

    let mut bad_ip = conn_req(&gw, EIP_BOUND, &cgw);
    bad_ip.peer_subnets = Some(vec!["100.64.1.0/24".into()]);
    assert!(p
        .create_connection(bad_ip, c)
        .unwrap_err()
        .message
        .contains("vgw_ip"));
    let mut reserved = conn_req(&gw, EIP2, &cgw);
    reserved.peer_subnets = Some(vec!["100.64.1.0/24".into()]);
    assert!(p
        .create_connection(reserved, c)
        .unwrap_err()
        .message
        .contains("reserved"));
    let mut overlap = conn_req(&gw, EIP2, &cgw);
    overlap.peer_subnets = Some(vec!["192.168.1.0/24".into()]);
    assert!(p
        .create_connection(overlap, c)
        .unwrap_err()
        .message
        .contains("local subnet"));
    let mut nqa = conn_req(&gw, EIP2, &cgw);
    nqa.style = Some(m::ConnectionStyle::Bgp);
    nqa.enable_nqa = Some(true);
    assert!(p
        .create_connection(nqa, c)
        .unwrap_err()
        .message
        .contains("enable_nqa"));
    assert_eq!(
        p.create_connection(conn_req("nope", EIP1, &cgw), c)
            .unwrap_err()
            .code,
        "VPN.0509"
    );
    assert_eq!(
        p.create_connection(conn_req(&gw, EIP1, "nope"), c)
            .unwrap_err()
            .code,
        "VPN.0004"
    );
}

#[test]
fn connection_updates_merge_and_rotate_the_psk() {
    let mut p = project();
    let (gw, cgw) = ready(&mut p, "203.0.113.5");
    let c = ctx(t0(), Delays::zero());
    let id = p
        .create_connection(conn_req(&gw, EIP1, &cgw), c)
        .unwrap()
        .id;
    p.advance(t0());
    let before = p.connections[&id].psk_sha256();
    let upd = m::UpdateVpnConnectionRequestBody {
        psk: Some("Rotated-Psk-2026".into()),
        ikepolicy: Some(m::UpdateIkePolicy {
            lifetime_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    let out = p.update_connection(&id, upd, c).unwrap();
    assert!(out.status.is_none());
    let ike = out.ikepolicy.unwrap();
    assert_eq!(ike.lifetime_seconds, Some(3600));
    assert_eq!(
        ike.encryption_algorithm,
        Some(m::EncryptionAlgorithm::Aes128),
        "others kept"
    );
    assert_ne!(p.connections[&id].psk_sha256(), before);
    let again = p.update_connection(&id, Default::default(), c).unwrap_err();
    assert_eq!(
        again.message,
        "invalid request: PENDING_UPDATE not allowed update vpnConnection"
    );
    p.advance(t0());
    assert_eq!(
        p.get_connection(&id, t0()).unwrap().status,
        Some(m::ConnectionStatus::Active)
    );
}

#[test]
fn gm_connections_need_certificates_and_no_psk() {
    let mut p = project();
    let c = ctx(t0(), Delays::zero());
    let mut req = gw_req();
    req.flavor = Some(m::GatewayFlavor::Gm);
    let gw = p.create_gateway(req, c).unwrap().id;
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    let mut with_ca = cgw_req("203.0.113.5");
    with_ca.ca_certificate = Some(m::CaCertificateRequest {
        id: None,
        content: Some(pem.into()),
    });
    let cgw = p.create_customer_gateway(with_ca, c).unwrap().id;
    let plain = p
        .create_customer_gateway(cgw_req("203.0.113.6"), c)
        .unwrap()
        .id;
    p.advance(t0());
    let mut conn = conn_req(&gw, EIP1, &cgw);
    conn.psk = None;
    assert!(p
        .create_connection(conn.clone(), c)
        .unwrap_err()
        .message
        .contains("no bound certificate"));
    let key = "-----BEGIN EC PRIVATE KEY-----\nsecret-key-material\n-----END EC PRIVATE KEY-----";
    let body = |k: &str| m::CreateVpnGatewayCertificateBody {
        name: None,
        certificate: pem.into(),
        private_key: k.into(),
        certificate_chain: pem.into(),
        enc_certificate: pem.into(),
        enc_private_key: key.into(),
    };
    let e = p.create_certificate(&gw, body("not a key"), c).unwrap_err();
    assert!(!e.message.contains("not a key"));
    let cert = p.create_certificate(&gw, body(key), c).unwrap();
    assert!(cert.status.is_none());
    assert_eq!(
        p.get_certificate(&gw, t0()).unwrap().status,
        Some(m::CertificateStatus::Bound)
    );
    assert_eq!(p.get_gateway(&gw).unwrap().certificate_id, cert.id);
    let mut no_ca = conn.clone();
    no_ca.cgw_id = plain;
    assert!(p
        .create_connection(no_ca, c)
        .unwrap_err()
        .message
        .contains("CA certificate"));
    let mut with_psk = conn.clone();
    with_psk.psk = Some("Secret-Psk-2025".into());
    assert!(p
        .create_connection(with_psk, c)
        .unwrap_err()
        .message
        .contains("psk is not supported"));
    let made = p.create_connection(conn, c).unwrap();
    let ike = made.ikepolicy.unwrap();
    assert_eq!(
        ike.authentication_method,
        Some(m::AuthenticationMethod::DigitalEnvelopeV2)
    );
    assert_eq!(ike.encryption_algorithm, Some(m::EncryptionAlgorithm::Sm4));
    assert!(ike.dh_group.is_none());
    // Certificates are for GM gateways only.
    let mut fixed = gw_req();
    fixed.eip1 = eip("e0000000-0000-4000-8000-000000000003");
    fixed.eip2 = eip("e0000000-0000-4000-8000-000000000004");
    let other = p.create_gateway(fixed, c).unwrap().id;
    p.advance(t0());
    let e = p.create_certificate(&other, body(key), c).unwrap_err();
    assert!(e.message.contains("only for flavor GM"), "{}", e.message);
}

#[tokio::test(start_paused = true)]
async fn a_tokio_clock_drives_the_state_machine_under_paused_time() {
    use crate::sim::clock::Clock;
    let clock = Clock::tokio();
    let mut p = project();
    let d = Delays::uniform(Duration::from_secs(30));
    let id = p.create_gateway(gw_req(), ctx(clock.now(), d)).unwrap().id;
    tokio::time::advance(Duration::from_secs(29)).await;
    p.advance(clock.now());
    assert_eq!(status(&p, &id), m::GatewayStatus::PendingCreate);
    tokio::time::advance(Duration::from_secs(1)).await;
    p.advance(clock.now());
    assert_eq!(status(&p, &id), m::GatewayStatus::Active);
}
