//! The simulated service state machine: validation, asynchronous completion, rollback,
//! conflicts and drift.
use std::time::Duration;

use super::*;
use crate::sim::ies::config::{DefinitionConfig, DEFAULT_SERVICE_DEF_ID, DEFAULT_TEMPLATE_ID};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn secs(n: i64) -> ChronoDuration {
    ChronoDuration::seconds(n)
}

fn catalog() -> Vec<DefinitionConfig> {
    vec![DefinitionConfig::documented()]
}

fn delays() -> IesDelays {
    IesDelays {
        create: Duration::from_secs(600),
        update: Duration::from_secs(60),
        delete: Duration::from_secs(30),
    }
}

fn request(list: &str, line: &[(&str, &str)]) -> ServiceRequest {
    let element: serde_json::Map<String, serde_json::Value> = line
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::from_value(serde_json::json!({
        "onfailure": "rollback",
        "service": {
            "name": "svc-a",
            "description": "",
            "service_definition_id": DEFAULT_SERVICE_DEF_ID,
            "template_id": DEFAULT_TEMPLATE_ID,
            "parameters": { list: [element] }
        }
    }))
    .unwrap()
}

fn create_req(name: &str, bw: &str) -> ServiceRequest {
    request(
        "Site2SiteList",
        &[
            ("CloudVpnName", name),
            ("Bandwidth", bw),
            ("action", "create"),
        ],
    )
}

fn update_req(name: &str, bw: &str) -> ServiceRequest {
    request(
        "Site2SiteList",
        &[
            ("CloudVpnName", name),
            ("Bandwidth", bw),
            ("action", "update"),
        ],
    )
}

#[test]
fn ids_look_like_the_decks() {
    let id = new_id();
    assert_eq!(id.len(), 22);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(new_id(), id);
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
}

#[test]
fn create_completes_after_the_delay_then_delete_ends_in_404() {
    let mut st = ServiceStore::default();
    let a = st
        .create(&create_req("vpn1", "30000"), &catalog(), &delays(), t0())
        .unwrap();
    let id = a.service_id.unwrap();
    assert!(a.operation_id.is_some());
    let s = st.get(&id).unwrap();
    assert_eq!(s.status, ServiceStatus::Processing);
    assert_eq!(s.active_status, ActiveStatus::Deactive);
    assert_eq!(
        s.bandwidth_at(t0() + secs(1)),
        None,
        "the line is not up yet"
    );
    let view = s.view("t", true);
    assert_eq!(view.bandwidth(), Some(30000));
    assert!(
        view.line().unwrap().1.action().is_none(),
        "GET never shows action"
    );

    st.advance(t0() + secs(599));
    assert_eq!(st.get(&id).unwrap().status, ServiceStatus::Processing);
    st.advance(t0() + secs(600));
    let s = st.get(&id).unwrap();
    assert_eq!(s.status, ServiceStatus::Completed);
    assert_eq!(s.active_status, ActiveStatus::Active);
    assert_eq!(s.bandwidth_at(t0() + secs(600)), Some(30000));

    let d = st.delete(&id, &delays(), t0() + secs(700)).unwrap();
    assert_eq!(st.get(&id).unwrap().status, ServiceStatus::Deleting);
    // A repeated delete answers with the same operation.
    let again = st.delete(&id, &delays(), t0() + secs(701)).unwrap();
    assert_eq!(again.operation_id, d.operation_id);
    st.advance(t0() + secs(730));
    let e = st.get(&id).unwrap_err();
    assert_eq!(e.status, StatusCode::NOT_FOUND);
    assert_eq!(
        st.delete(&id, &delays(), t0() + secs(731))
            .unwrap_err()
            .status,
        StatusCode::NOT_FOUND
    );
}

use axum::http::StatusCode;

#[test]
fn create_validates_what_the_deck_requires() {
    let mut st = ServiceStore::default();
    let cases: Vec<(ServiceRequest, StatusCode, &str)> = vec![
        (
            request("Site2SiteList", &[("Bandwidth", "1")]),
            StatusCode::BAD_REQUEST,
            "CloudVpnName is required",
        ),
        (
            request("Site2SiteList", &[("CloudVpnName", "x")]),
            StatusCode::BAD_REQUEST,
            "Bandwidth is required",
        ),
        (
            request(
                "Site2SiteList",
                &[("CloudVpnName", "x"), ("Bandwidth", "fast")],
            ),
            StatusCode::BAD_REQUEST,
            "must be an integer",
        ),
        (
            request(
                "Site2SiteList",
                &[("CloudVpnName", "x"), ("Bandwidth", "0")],
            ),
            StatusCode::BAD_REQUEST,
            "from 1 to",
        ),
        (
            request("MeshList", &[("CloudVpnName", "x"), ("Bandwidth", "1")]),
            StatusCode::BAD_REQUEST,
            "not supported",
        ),
        (
            request(
                "Site2DCList",
                &[
                    ("CloudVpnName", "x"),
                    ("Bandwidth", "1"),
                    ("action", "update"),
                ],
            ),
            StatusCode::BAD_REQUEST,
            "action must be \"create\"",
        ),
    ];
    for (req, status, msg) in cases {
        let e = st.create(&req, &catalog(), &delays(), t0()).unwrap_err();
        assert_eq!(e.status, status, "{}", e.message);
        assert!(e.message.contains(msg), "{} vs {msg}", e.message);
    }
    let mut r = create_req("x", "1");
    r.service.template_id = Some("nope".into());
    assert!(st
        .create(&r, &catalog(), &delays(), t0())
        .unwrap_err()
        .message
        .contains("does not belong"));
    let mut r = create_req("x", "1");
    r.service.service_definition_id = Some("nope".into());
    assert!(st
        .create(&r, &catalog(), &delays(), t0())
        .unwrap_err()
        .message
        .contains("does not exist"));
    let mut r = create_req("x", "1");
    r.service.name = Some(" ".into());
    assert!(st.create(&r, &catalog(), &delays(), t0()).is_err());
    assert!(
        st.services.is_empty(),
        "nothing was created by a bad request"
    );

    // A template may require more parameters.
    let mut cat = catalog();
    cat[0].templates[0].required_parameters = vec!["VNI".into()];
    let e = st
        .create(&create_req("x", "1"), &cat, &delays(), t0())
        .unwrap_err();
    assert!(e.message.contains("VNI"), "{}", e.message);

    // CloudVpnName names one line only.
    st.create(&create_req("dup", "1"), &catalog(), &delays(), t0())
        .unwrap();
    let e = st
        .create(&create_req("dup", "1"), &catalog(), &delays(), t0())
        .unwrap_err();
    assert_eq!(e.status, StatusCode::CONFLICT);
}

#[test]
fn update_changes_bandwidth_only_after_the_delay() {
    let mut st = ServiceStore::default();
    let id = st
        .create(&create_req("vpn1", "30000"), &catalog(), &delays(), t0())
        .unwrap()
        .service_id
        .unwrap();
    // Not while the create runs.
    let e = st
        .update(
            &id,
            &update_req("vpn1", "60000"),
            &catalog(),
            &delays(),
            t0() + secs(1),
        )
        .unwrap_err();
    assert_eq!(e.status, StatusCode::CONFLICT);
    st.advance(t0() + secs(600));

    let at = t0() + secs(1000);
    let a = st
        .update(&id, &update_req("vpn1", "60000"), &catalog(), &delays(), at)
        .unwrap();
    assert!(a.service_id.is_none() && a.operation_id.is_some());
    let s = st.get(&id).unwrap();
    assert_eq!(s.status, ServiceStatus::Processing);
    assert_eq!(
        s.bandwidth(),
        30000,
        "the old value until the update completes"
    );
    st.advance(at + secs(60));
    let s = st.get(&id).unwrap();
    assert_eq!(
        (s.status.clone(), s.bandwidth()),
        (ServiceStatus::Completed, 60000)
    );
    assert_eq!(s.bandwidth_at(at + secs(59)), Some(30000));
    assert_eq!(s.bandwidth_at(at + secs(60)), Some(60000));
    assert_eq!(s.last_operation_id, a.operation_id);
}

#[test]
fn update_refuses_what_cannot_change() {
    let mut st = ServiceStore::default();
    let id = st
        .create(&create_req("vpn1", "30000"), &catalog(), &delays(), t0())
        .unwrap()
        .service_id
        .unwrap();
    st.advance(t0() + secs(600));
    let now = t0() + secs(700);
    let bad: Vec<(ServiceRequest, &str)> = vec![
        (update_req("other", "1"), "does not name"),
        (
            request(
                "Site2DCList",
                &[("CloudVpnName", "vpn1"), ("Bandwidth", "1")],
            ),
            "this service uses Site2SiteList",
        ),
        (
            request(
                "Site2SiteList",
                &[("CloudVpnName", "vpn1"), ("VNI", "9"), ("action", "update")],
            ),
            "VNI cannot be changed",
        ),
        (
            request(
                "Site2SiteList",
                &[
                    ("CloudVpnName", "vpn1"),
                    ("Bandwidth", "5"),
                    ("action", "create"),
                ],
            ),
            "must be \"update\"",
        ),
        (update_req("vpn1", "-5"), "Bandwidth"),
    ];
    for (req, msg) in bad {
        let e = st
            .update(&id, &req, &catalog(), &delays(), now)
            .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains(msg), "{} vs {msg}", e.message);
    }
    let mut rename = update_req("vpn1", "1");
    rename.service.name = Some("renamed".into());
    assert!(st
        .update(&id, &rename, &catalog(), &delays(), now)
        .unwrap_err()
        .message
        .contains("name cannot be changed"));
    assert_eq!(st.get(&id).unwrap().status, ServiceStatus::Completed);
    assert_eq!(
        st.update(
            "missing",
            &update_req("vpn1", "1"),
            &catalog(),
            &delays(),
            now
        )
        .unwrap_err()
        .status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn scripted_failures_roll_back() {
    let mut st = ServiceStore {
        fail_next: FailNext {
            create: 0,
            update: 1,
            delete: 1,
        },
        ..Default::default()
    };
    let id = st
        .create(&create_req("vpn1", "30000"), &catalog(), &delays(), t0())
        .unwrap()
        .service_id
        .unwrap();
    st.advance(t0() + secs(600));
    st.update(
        &id,
        &update_req("vpn1", "90000"),
        &catalog(),
        &delays(),
        t0() + secs(600),
    )
    .unwrap();
    st.advance(t0() + secs(700));
    let s = st.get(&id).unwrap();
    assert_eq!(
        (s.status.clone(), s.bandwidth()),
        (ServiceStatus::Completed, 30000),
        "Completed with the old bandwidth: the caveat of reference 7.4"
    );
    st.delete(&id, &delays(), t0() + secs(700)).unwrap();
    st.advance(t0() + secs(800));
    assert_eq!(st.get(&id).unwrap().status, ServiceStatus::Completed);
    // The scripted failures are used up.
    st.delete(&id, &delays(), t0() + secs(800)).unwrap();
    st.advance(t0() + secs(900));
    assert!(st.get(&id).is_err());

    st.fail_next.create = 1;
    let id = st
        .create(&create_req("vpn2", "1"), &catalog(), &delays(), t0())
        .unwrap()
        .service_id
        .unwrap();
    st.advance(t0() + secs(600));
    assert_eq!(st.get(&id).unwrap().status, ServiceStatus::Failed);
}

#[test]
fn presets_and_patches_act_at_once() {
    let preset = PresetService {
        service_id: "8hiqoNgCSZmrlD1MyROJbg".into(),
        name: "s2s_201705061433".into(),
        service_definition_id: DEFAULT_SERVICE_DEF_ID.into(),
        template_id: DEFAULT_TEMPLATE_ID.into(),
        topology: "Site2SiteList".into(),
        parameters: [
            ("CloudVpnName".to_string(), "VPNS2S201705061433".to_string()),
            ("Bandwidth".to_string(), "30000".to_string()),
        ]
        .into(),
        active_status: "Deactive".into(),
        description: String::new(),
    };
    let mut st = ServiceStore::with_presets(std::slice::from_ref(&preset), t0()).unwrap();
    let s = st.get("8hiqoNgCSZmrlD1MyROJbg").unwrap();
    assert_eq!(
        (s.status.clone(), s.active_status.clone()),
        (ServiceStatus::Completed, ActiveStatus::Deactive)
    );
    assert!(ServiceStore::with_presets(&[preset.clone(), preset], t0()).is_err());

    let patch = ServicePatch {
        status: Some("Rollbacking".into()),
        parameters: [("Bandwidth".to_string(), Some("45000".to_string()))].into(),
        ..Default::default()
    };
    st.patch("8hiqoNgCSZmrlD1MyROJbg", &patch, t0() + secs(5))
        .unwrap();
    let s = st.get("8hiqoNgCSZmrlD1MyROJbg").unwrap();
    assert_eq!(s.status, ServiceStatus::Other("Rollbacking".into()));
    assert_eq!(s.bandwidth_at(t0() + secs(5)), Some(45000));
    assert!(st.patch("nope", &patch, t0()).is_err());
}
