//! Each verdict as a table of what a probe found.
use chrono::TimeZone;

use super::*;
use crate::cloud::model::quota::{QuotaInfo, QuotaType};
use crate::cloud::ErrorKind;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

#[test]
fn endpoint_and_clock() {
    let url = "https://vpn.cn-north-4.example";
    let table = [
        (
            Reach::Answered {
                status: 404,
                date: None,
            },
            Status::Pass,
            "answered (HTTP 404)",
        ),
        (
            Reach::Dns("no such host".into()),
            Status::Fail,
            "cannot resolve the host",
        ),
        (
            Reach::Connect("refused".into()),
            Status::Fail,
            "is unreachable: refused",
        ),
        (Reach::Tls("UnknownIssuer".into()), Status::Fail, "TLS with"),
        (Reach::Timeout, Status::Fail, "did not answer"),
    ];
    for (reach, status, text) in table {
        let c = endpoint("cloud", url, &reach);
        assert_eq!(c.status, status, "{reach:?}");
        assert!(c.message.contains(text), "{}", c.message);
        assert_eq!(c.fix.is_some(), status != Status::Pass);
    }
    let answered = |d| Reach::Answered {
        status: 200,
        date: Some(at(d)),
    };
    let table = [
        (answered(0), Status::Pass, "within 0s"),
        (answered(-30), Status::Pass, "within 30s"),
        (answered(120), Status::Warn, "2m00s behind"),
        (
            answered(-16 * 60),
            Status::Fail,
            "16m00s ahead of the server's",
        ),
        (
            Reach::Answered {
                status: 200,
                date: None,
            },
            Status::Warn,
            "no Date header",
        ),
        (Reach::Timeout, Status::Warn, "not checked"),
    ];
    for (reach, status, text) in table {
        let c = clock(&reach, at(0));
        assert_eq!(c.status, status, "{reach:?}");
        assert!(c.message.contains(text), "{}", c.message);
    }
}

fn refused(status: u16, message: &str) -> Result<(), CloudError> {
    let mut e = CloudError::new(ErrorKind::AuthFailed, "ShowQuotasInfo", message);
    e.http_status = Some(status);
    Err(e)
}

#[test]
fn credentials_and_project() {
    let ak = Sent::AkSk("AKEXAMPLE".into());
    use Status::{Fail, Pass, Warn};
    let table = [
        (
            ak.clone(),
            Ok(()),
            (Pass, Pass),
            "access key AKEXAMPLE was accepted",
        ),
        (
            ak.clone(),
            refused(401, "Get secretKey failed,ak:AKEXAMPLE,err:ak not exist"),
            (Fail, Warn),
            "IAM does not know access key AKEXAMPLE",
        ),
        (
            ak.clone(),
            refused(401, "verify aksk signature fail"),
            (Fail, Warn),
            "the secret key is not the one of access key AKEXAMPLE",
        ),
        (
            ak.clone(),
            refused(
                401,
                "verify aksk signature fail, signature expired: X-Sdk-Date",
            ),
            (Fail, Warn),
            "clock is more than 15 minutes off",
        ),
        (
            Sent::Token,
            refused(401, "decrypt token fail"),
            (Fail, Warn),
            "the IAM token was refused",
        ),
        (
            ak.clone(),
            refused(403, "not authorized for project p"),
            (Pass, Fail),
            "was accepted",
        ),
    ];
    for (sent, result, (cred, proj), text) in table {
        let [c, p] = credentials(&sent, "p", "cn-north-4", &result, None);
        assert_eq!((c.status, p.status), (cred, proj), "{result:?}");
        assert!(c.message.contains(text), "{}", c.message);
        if proj == Fail {
            assert!(
                p.message.contains("project p is not theirs"),
                "{}",
                p.message
            );
            assert!(p.fix.as_deref().unwrap().contains("region cn-north-4"));
        }
    }
}

#[test]
fn quotas_zones_resources_crds_and_rbac() {
    let q = |used, quota| Quotas {
        resources: vec![QuotaInfo {
            quota_type: QuotaType::VpnGateway,
            quota: Some(quota),
            used: Some(used),
        }],
    };
    assert_eq!(quotas(&q(1, 50)).status, Status::Pass);
    assert_eq!(quotas(&q(45, 50)).status, Status::Warn);
    let full = quotas(&q(50, 50));
    assert_eq!(
        (full.status, full.message.as_str()),
        (Status::Fail, "vpn_gateway 50/50")
    );
    assert_eq!(
        zones(&ListAvailabilityZonesResponse::default()).status,
        Status::Warn
    );
    let r = resources("prod", &[("VPN gateways", Ok((3, 2)))]);
    assert_eq!(r.message, "VPN gateways 3 (2 of cluster prod)");
    assert_eq!(
        resources("prod", &[("VPN gateways", Err("403".into()))]).status,
        Status::Fail
    );
    let crd = |s: CrdState| crds(&[("a".into(), CrdState::Same), ("b".into(), s)]);
    assert_eq!(crd(CrdState::Same).status, Status::Pass);
    assert_eq!(crd(CrdState::Missing).message, "not installed: b");
    assert_eq!(crd(CrdState::Differs).status, Status::Fail);
    assert_eq!(
        crd(CrdState::Unreadable("forbidden".into())).status,
        Status::Warn
    );
    let yes = ("get x".to_string(), Some(true));
    assert_eq!(rbac("me", std::slice::from_ref(&yes)).status, Status::Pass);
    assert_eq!(
        rbac("me", &[yes.clone(), ("list y".into(), Some(false))]).message,
        "me may not: list y"
    );
    assert_eq!(
        rbac("me", &[yes, ("list y".into(), None)]).status,
        Status::Warn
    );
}
