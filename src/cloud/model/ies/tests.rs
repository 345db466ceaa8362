//! Decoding of every response and request shape the IES deck documents or shows
//! (reference `cloudopera-ies-api.md` §2-§4, §7.5, §8.1).
use super::*;

/// §2.1 example (trailing commas removed), plus the schema's paging fields.
const LIST_DEFS: &str = r#"{
  "currentPage": 0,
  "data": [
    {
      "categories": null,
      "createdAt": 1493948644546,
      "creator": "om_team",
      "description": "IES_TMF_OpenHack_Nice",
      "domain": "stack",
      "format": "JSON",
      "formatVersion": "2017-05-5",
      "name": "IES_TMF_OpenHack_Nice",
      "offlineAt": 0,
      "onlineAt": 0,
      "publishTenantType": ["om_team", "op_tenant"],
      "refCount": 6,
      "serviceDefId": "8c34e27ed6644bbfbce93a41a05cb7ab",
      "serviceType": "service",
      "status": "active",
      "systemDef": false,
      "tenantId": "db58f937c61141b3a92f28899cbb1555",
      "version": "v2"
    }
  ]
}"#;

/// §2.2 example.
const DEF_DETAILS: &str = r#"{
  "categories": [],
  "createdAt": 1493948644546,
  "creator": "om_team",
  "description": "IES_TMF_OpenHack_Nice",
  "domain": "stack",
  "format": "JSON",
  "formatVersion": "2017-05-5",
  "name": "IES_TMF_OpenHack_Nice",
  "offlineAt": 0,
  "onlineAt": 0,
  "pkgFileName": "IES_TMF_OpenHack_Nice_V2_20170505.zip",
  "publishTenantType": ["om_team", "op_tenant"],
  "refCount": 6,
  "serviceDefId": "8c34e27ed6644bbfbce93a41a05cb7ab",
  "serviceType": "service",
  "status": "active",
  "systemDef": false,
  "templates": [
    {
      "id": "e77fc5e21e1e42c9933ec9574c33a5d8",
      "name": "IES_TMF_OpenHack_Nice.json",
      "type": "VTL",
      "url": "/rest/catalog/v1/servicedefs/8c34e27ed6644bbfbce93a41a05cb7ab/temp"
    }
  ]
}"#;

/// §3.2 example.
const LIST_SERVICES: &str = r#"{
  "services": [
    {
      "active_status": "Deactive",
      "created_at": 1494052819361,
      "creator": "nbitest_11",
      "description": "",
      "name": "s2s_201705061433",
      "nfv_tag": null,
      "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
      "service_id": "8hiqoNgCSZmrlD1MyROJbg",
      "status": "Completed",
      "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
      "tenant_id": null,
      "tenant_name": null
    }
  ]
}"#;

/// §3.3 example (reconstructed end).
const GET_SERVICE: &str = r#"{
  "service": {
    "active_status": "Deactive",
    "created_at": 1494052819361,
    "creator": "nbitest_11",
    "description": "",
    "name": "s2s_201705061433",
    "nfv_tag": null,
    "parameters": {
      "Site2SiteList": [
        {
          "Bandwidth": "30000",
          "CPE_A_ESN": "21500102003GG3000630",
          "CPE_A_Position": "siteA201705061433",
          "CPE_A_Site": "siteA201705061433",
          "CPE_A_Type": "AR169FGW-L",
          "CPE_Z_ESN": "21500102003GG3000674",
          "CPE_Z_Position": "siteZ201705061433",
          "CPE_Z_Site": "siteZ201705061433",
          "CPE_Z_Type": "AR169FGW-L",
          "CloudVpnName": "VPNS2S201705061433",
          "VNI": "1236"
        }
      ]
    },
    "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
    "service_id": "8hiqoNgCSZmrlD1MyROJbg",
    "status": "Completed",
    "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
    "tenant_id": null
  }
}"#;

/// §3.1 example request (closing brackets restored).
const CREATE_REQUEST: &str = r#"{
  "onfailure": "rollback",
  "service": {
    "name": "site2dc4_201705071158",
    "description": "",
    "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
    "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
    "parameters": {
      "Site2DCList": [
        {
          "VPC_ID": "db79cd8b-91e2-43f8-9791-54b8b2181a70",
          "CloudVpnName": "0S2DC4201705071158",
          "VNI": "2236",
          "CPE_A_Site": "siteDC201705071132",
          "CPE_A_Type": "AR169FGW-L",
          "CPE_A_ESN": "21500102003GG3000704",
          "CPE_A_Position": "siteDC201705071132",
          "CPE_A_POP": "Manager_VPC",
          "Bandwidth": "60000",
          "cidr": "163.113.12.1",
          "cidrBlockSize": "24",
          "action": "create"
        }
      ]
    }
  }
}"#;

/// §3.4 example request.
const UPDATE_REQUEST: &str = r#"{
  "onfailure": "rollback",
  "service": {
    "name": "s2s_201705061433",
    "description": "",
    "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
    "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
    "parameters": {
      "Site2SiteList": [
        { "Bandwidth": "30000", "CloudVpnName": "VPNS2S201705061433", "action": "update" }
      ]
    }
  }
}"#;

/// §4.1 example (trailing comma removed, order as printed).
const METRIC: &str = r#"{
  "metric": {
    "datas": [
      { "time": 1494061140, "value": "22.8266666666666677605601609712948629749007523059844970703125000000" },
      { "time": 1494060540, "value": "2791180.146666666680042486485026353992822123473160900175571441650390625" },
      { "time": 1494059940, "value": "90.38666666666666709981526467432288995951239485293626785278320312500" },
      { "time": 1494060600, "value": "35.4266666666666683643740348719219923623313661664724349975585937500" },
      { "time": 1494060000, "value": "104.22666666666666716613894733134415560016350354999303817749023437500" },
      { "time": 1494060660, "value": "1158060.85333333338882961984633856999948875454720109701156616210937500" }
    ]
  }
}"#;

#[test]
fn catalog_list_decodes_with_null_categories_and_missing_paging() {
    let r: ListServiceDefinitionsResponse = serde_json::from_str(LIST_DEFS).unwrap();
    assert_eq!(r.current_page, Some(0));
    assert_eq!(r.total_num, None);
    assert_eq!(r.data.len(), 1);
    let d = &r.data[0];
    assert_eq!(d.service_def_id, "8c34e27ed6644bbfbce93a41a05cb7ab");
    assert_eq!(d.name.as_deref(), Some("IES_TMF_OpenHack_Nice"));
    assert_eq!(d.categories, None);
    assert_eq!(d.created_at, Some(1_493_948_644_546));
    assert_eq!(d.templates, None);
    // With the paging fields of the schema, and `data: null`.
    let r: ListServiceDefinitionsResponse = serde_json::from_str(
        r#"{"totalNum": 3, "pageSize": "20", "totalPageNum": 1, "currentPage": 1, "data": null}"#,
    )
    .unwrap();
    assert_eq!(
        (r.total_num, r.page_size, r.total_page_num),
        (Some(3), Some(20), Some(1))
    );
    assert!(r.data.is_empty());
}

#[test]
fn definition_details_give_the_template_id() {
    let d: ServiceDefinition = serde_json::from_str(DEF_DETAILS).unwrap();
    assert_eq!(d.categories, Some(vec![]));
    let t = d.templates.as_ref().unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id, "e77fc5e21e1e42c9933ec9574c33a5d8");
    assert_eq!(t[0].type_, Some(TemplateType::Vtl));
    // Spellings of the deck for the definition id, and an unknown template type.
    let d: ServiceDefinition = serde_json::from_str(
        r#"{"servicedefid": "abc", "templates": [{"Template_id": "t1", "type": "HEAT"}]}"#,
    )
    .unwrap();
    assert_eq!(d.service_def_id, "abc");
    let t = &d.templates.unwrap()[0];
    assert_eq!(t.id, "t1");
    assert_eq!(t.type_, Some(TemplateType::Other("HEAT".into())));
}

#[test]
fn service_list_decodes_nulls_and_has_no_parameters() {
    let r: ListServicesResponse = serde_json::from_str(LIST_SERVICES).unwrap();
    let s = &r.services[0];
    assert_eq!(s.service_id, "8hiqoNgCSZmrlD1MyROJbg");
    assert_eq!(s.status, Some(ServiceStatus::Completed));
    assert_eq!(s.active_status, Some(ActiveStatus::Deactive));
    assert_eq!(s.description.as_deref(), Some(""));
    assert_eq!((s.tenant_id.as_ref(), s.tenant_name.as_ref()), (None, None));
    assert_eq!(s.parameters, None);
    assert_eq!(s.bandwidth(), None);
    let empty: ListServicesResponse = serde_json::from_str(r#"{"services": null}"#).unwrap();
    assert!(empty.services.is_empty());
    let empty: ListServicesResponse = serde_json::from_str("{}").unwrap();
    assert!(empty.services.is_empty());
}

#[test]
fn get_service_reads_the_line_wrapped_or_bare() {
    let r: GetServiceResponse = serde_json::from_str(GET_SERVICE).unwrap();
    let s = &r.service;
    let (list, line) = s.line().unwrap();
    assert_eq!(list, TopologyList::Site2Site);
    assert_eq!(line.cloud_vpn_name(), Some("VPNS2S201705061433"));
    assert_eq!(line.bandwidth(), Some(30000));
    assert_eq!(line.get("VNI"), Some("1236"));
    assert_eq!(s.tenant_name, None);
    // A bare service object.
    let inner =
        serde_json::to_string(&serde_json::from_str::<Value>(GET_SERVICE).unwrap()["service"])
            .unwrap();
    let bare: GetServiceResponse = serde_json::from_str(&inner).unwrap();
    assert_eq!(bare, r);
}

#[test]
fn unknown_status_values_are_kept() {
    let s: ServiceInstance = serde_json::from_str(
        r#"{"service_id": "x", "status": "Rollbacking", "active_status": "Suspended"}"#,
    )
    .unwrap();
    assert_eq!(s.status, Some(ServiceStatus::Other("Rollbacking".into())));
    assert_eq!(
        s.active_status,
        Some(ActiveStatus::Other("Suspended".into()))
    );
    assert_eq!(
        serde_json::to_value(&s).unwrap()["status"],
        "Rollbacking",
        "written back verbatim"
    );
    assert!(!s.status.as_ref().unwrap().is_completed());
    assert!(!s.status.as_ref().unwrap().is_failed());
    assert!(ServiceStatus::parse("CreateError").is_failed());
    assert!(ServiceStatus::Failed.is_failed());
}

#[test]
fn parameter_values_are_text_whatever_json_type_arrives() {
    let p: ParameterSet = serde_json::from_str(
        r#"{"Bandwidth": 60000, "VNI": "2236", "flag": true, "gone": null, "CloudVpnName": "v1"}"#,
    )
    .unwrap();
    assert_eq!(p.get("Bandwidth"), Some("60000"));
    assert_eq!(p.bandwidth(), Some(60000));
    assert_eq!(p.get("flag"), Some("true"));
    assert_eq!(p.get("gone"), None);
    let table: &[(&str, Option<i64>)] = &[
        ("30000", Some(30000)),
        (" 30000 ", Some(30000)),
        ("30000.0", Some(30000)),
        ("30000.5", None),
        ("thirty", None),
        ("", None),
        ("1e400", None),
    ];
    for (raw, want) in table {
        let mut p = ParameterSet::default();
        p.set(param::BANDWIDTH, *raw);
        assert_eq!(p.bandwidth(), *want, "{raw:?}");
    }
}

#[test]
fn requests_encode_the_example_shape_and_decode_both_shapes() {
    let create: ServiceRequest = serde_json::from_str(CREATE_REQUEST).unwrap();
    assert_eq!(create.onfailure, Some(OnFailure::Rollback));
    assert_eq!(
        create.service.name.as_deref(),
        Some("site2dc4_201705071158")
    );
    let (list, line) = create.service.parameters.as_ref().unwrap().line().unwrap();
    assert_eq!(list, TopologyList::Site2Dc);
    assert_eq!(line.action(), Some(ParameterAction::Create));
    assert_eq!(line.bandwidth(), Some(60000));
    // Re-encoding gives the same JSON as the capture.
    let again = serde_json::to_value(&create).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<Value>(CREATE_REQUEST).unwrap()
    );

    let update: ServiceRequest = serde_json::from_str(UPDATE_REQUEST).unwrap();
    let (_, line) = update.service.parameters.as_ref().unwrap().line().unwrap();
    assert_eq!(line.action(), Some(ParameterAction::Update));
    assert_eq!(line.0.len(), 3, "the update element is partial");

    // The flat schema shape of the same create.
    let flat = r#"{
      "onfailure": "rollback", "name": "site2dc4_201705071158", "description": "",
      "service_definition_id": "8c34e27ed6644bbfbce93a41a05cb7ab",
      "template_id": "e77fc5e21e1e42c9933ec9574c33a5d8",
      "parameters": {"Site2DCList": [{"CloudVpnName": "0S2DC4201705071158", "Bandwidth": "60000", "action": "create"}]}
    }"#;
    let flat: ServiceRequest = serde_json::from_str(flat).unwrap();
    assert_eq!(flat.onfailure, Some(OnFailure::Rollback));
    assert_eq!(flat.service.name, create.service.name);
    assert_eq!(flat.service.template_id, create.service.template_id);
    assert_eq!(
        flat.service
            .parameters
            .unwrap()
            .line()
            .unwrap()
            .1
            .cloud_vpn_name(),
        Some("0S2DC4201705071158")
    );
    assert!(serde_json::from_str::<ServiceRequest>("[1]").is_err());
    assert!(serde_json::from_str::<ServiceRequest>(r#"{"service": 3}"#).is_err());
}

#[test]
fn operation_answers_accept_every_wrapper() {
    let table: &[(&str, Option<&str>, Option<&str>)] = &[
        // Create: example wrapper `service`.
        (
            r#"{"service": {"service_id": "4YFCYXi6TPu8gG1CQ7VocA", "operation_id": "31af59f1dc72437cb1c8f7"}}"#,
            Some("4YFCYXi6TPu8gG1CQ7VocA"),
            Some("31af59f1dc72437cb1c8f7"),
        ),
        // Create: schema wrapper.
        (
            r#"{"createServiceResponse": {"service_id": "s1", "operation_id": "o1"}}"#,
            Some("s1"),
            Some("o1"),
        ),
        // Create: bare.
        (
            r#"{"service_id": "s1", "operation_id": "o1"}"#,
            Some("s1"),
            Some("o1"),
        ),
        // Update: example (bare) and schema (empty object).
        (
            r#"{ "operation_id": "LSmM5cIwTM-qbtG0YrhD4Q" }"#,
            None,
            Some("LSmM5cIwTM-qbtG0YrhD4Q"),
        ),
        ("{}", None, None),
        // Delete: example (bare) and schema wrapper.
        (
            r#"{ "operation_id": "W0x8h0IBQq6GJKmys5i74Q" }"#,
            None,
            Some("W0x8h0IBQq6GJKmys5i74Q"),
        ),
        (
            r#"{"deleteServiceResponse": {"operation_id": "d1"}}"#,
            None,
            Some("d1"),
        ),
        // Odd but harmless: empty strings are absent ids.
        (r#"{"service_id": "", "operation_id": null}"#, None, None),
    ];
    for (body, sid, oid) in table {
        let a = OperationAccepted::from_body(body.as_bytes()).unwrap();
        assert_eq!(a.service_id.as_deref(), *sid, "{body}");
        assert_eq!(a.operation_id.as_deref(), *oid, "{body}");
        let b: OperationAccepted = serde_json::from_str(body).unwrap();
        assert_eq!(a, b);
    }
    // Update: empty body.
    assert_eq!(
        OperationAccepted::from_body(b"").unwrap(),
        OperationAccepted::default()
    );
    assert_eq!(
        OperationAccepted::from_body(b" \n").unwrap(),
        OperationAccepted::default()
    );
    assert!(OperationAccepted::from_body(b"<html>").is_err());
}

#[test]
fn metric_series_is_parsed_and_sorted() {
    let r: MetricResponse = serde_json::from_str(METRIC).unwrap();
    assert_eq!(r.metric.datas.len(), 6);
    let s = r.samples();
    let times: Vec<i64> = s.iter().map(|p| p.time).collect();
    assert_eq!(
        times,
        [1494059940, 1494060000, 1494060540, 1494060600, 1494060660, 1494061140]
    );
    assert!((s[0].value - 90.386_666_666_666_67).abs() < 1e-9);
    assert!((s[2].value - 2_791_180.146_666_666_7).abs() < 1e-6);
    // Every sample × 75 is an integer (the unit inference of reference §4.1).
    for p in &s {
        let x = p.value * 75.0;
        assert!((x - x.round()).abs() < 1e-3, "{}", p.value);
    }
}

#[test]
fn metric_values_never_panic() {
    let table: &[(&str, Option<f64>)] = &[
        (
            "22.8266666666666677605601609712948629749007523059844970703125000000",
            Some(22.826_666_666_666_668),
        ),
        ("0", Some(0.0)),
        ("  12.5 ", Some(12.5)),
        ("+7", Some(7.0)),
        ("1,234.5", Some(1234.5)),
        ("1e3", Some(1000.0)),
        (".5", Some(0.5)),
        ("-3", Some(-3.0)),
        ("", None),
        ("NaN", None),
        ("inf", None),
        ("-infinity", None),
        ("1e999", None),
        ("12abc", None),
        ("..", None),
        ("-", None),
        ("١٢", None),
    ];
    for (raw, want) in table {
        assert_eq!(MetricValue(raw.to_string()).as_f64(), *want, "{raw:?}");
    }
    // 5,000 digits: too long to be a real value; refused, not a panic.
    assert_eq!(parse_decimal(&"9".repeat(5000)), None);
    // 400 digits after the point still parse.
    let long = format!("1.{}", "3".repeat(400));
    assert!((parse_decimal(&long).unwrap() - 1.333_333_333_333_333_3).abs() < 1e-12);
    // Numbers, nulls and bad points inside a response.
    let r: MetricResponse = serde_json::from_str(
        r#"{"metric": {"datas": [{"time": "60", "value": 5}, {"time": 0, "value": null}, {"time": 120, "value": "x"}]}}"#,
    )
    .unwrap();
    assert_eq!(
        r.samples(),
        vec![Sample {
            time: 60,
            value: 5.0
        }]
    );
    let empty: MetricResponse = serde_json::from_str(r#"{"metric": null}"#).unwrap();
    assert!(empty.samples().is_empty());
    let empty: MetricResponse = serde_json::from_str("{}").unwrap();
    assert!(empty.samples().is_empty());
}

#[test]
fn traffic_query_pairs_follow_the_example() {
    let q = TrafficQuery {
        direction: Direction::Outbound,
        timedim: TimeDimension::Minute,
        starttime: 1493367320,
        endtime: 1495058150,
        indicator: Some(Indicator::Max),
    };
    let pairs: Vec<String> = q
        .to_pairs()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        pairs.join("&"),
        "starttime=1493367320&endtime=1495058150&timedim=minute&direction=outbound&indicator=max"
    );
}
