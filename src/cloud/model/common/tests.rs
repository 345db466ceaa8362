//! Shared wire types: timestamps, redaction, paging, the enum macro.
use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;

#[test]
fn timestamps_parse_in_every_documented_shape() {
    let cases = [
        // two-digit fraction (gateway get example)
        (
            "2025-06-28T02:22:27.24Z",
            Utc.with_ymd_and_hms(2025, 6, 28, 2, 22, 27).unwrap()
                + chrono::Duration::milliseconds(240),
        ),
        // milliseconds with +08:00 (customer gateway examples)
        (
            "2021-12-21T16:49:28.108+08:00",
            Utc.with_ymd_and_hms(2021, 12, 21, 8, 49, 28).unwrap()
                + chrono::Duration::milliseconds(108),
        ),
        // no fraction, Z (CA certificate expiry)
        (
            "2024-05-22T07:34:22Z",
            Utc.with_ymd_and_hms(2024, 5, 22, 7, 34, 22).unwrap(),
        ),
        // no fraction, +08:00 (gateway certificate expiry)
        (
            "2024-02-20T15:41:39+08:00",
            Utc.with_ymd_and_hms(2024, 2, 20, 7, 41, 39).unwrap(),
        ),
        // one-digit fraction (batch response)
        (
            "2025-02-21T06:50:25.5Z",
            Utc.with_ymd_and_hms(2025, 2, 21, 6, 50, 25).unwrap()
                + chrono::Duration::milliseconds(500),
        ),
        // assumptions: no offset (UTC), space separator, compact offset
        (
            "2025-06-28T02:22:27.240",
            Utc.with_ymd_and_hms(2025, 6, 28, 2, 22, 27).unwrap()
                + chrono::Duration::milliseconds(240),
        ),
        (
            "2025-06-28 02:22:27Z",
            Utc.with_ymd_and_hms(2025, 6, 28, 2, 22, 27).unwrap(),
        ),
        (
            "2025-06-28T10:22:27+0800",
            Utc.with_ymd_and_hms(2025, 6, 28, 2, 22, 27).unwrap(),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(Timestamp::new(text).to_utc(), Some(expected), "{text}");
    }
}

#[test]
fn timestamps_keep_the_wire_text_and_tolerate_garbage() {
    let stamp: Timestamp =
        serde_json::from_value(json!("2024-05-22T07:34:227")).expect("never fails to decode");
    assert_eq!(stamp.to_datetime(), None);
    assert_eq!(
        serde_json::to_value(&stamp).unwrap(),
        json!("2024-05-22T07:34:227")
    );
    let offset: Timestamp = serde_json::from_value(json!("2025-06-04T11:28:01.926+08:00")).unwrap();
    assert_eq!(
        serde_json::to_value(&offset).unwrap(),
        json!("2025-06-04T11:28:01.926+08:00")
    );
}

#[test]
fn timestamps_from_instants_use_the_documented_format() {
    let at =
        Utc.with_ymd_and_hms(2025, 6, 28, 2, 22, 27).unwrap() + chrono::Duration::milliseconds(24);
    let stamp = Timestamp::from_datetime(at);
    assert_eq!(stamp.as_str(), "2025-06-28T02:22:27.024Z");
    assert_eq!(stamp.to_utc(), Some(at));
}

#[test]
fn redacted_hides_the_value_from_debug_but_not_from_the_wire() {
    let secret = Redacted::new("p@ssw0rd-123".to_string());
    assert_eq!(format!("{secret:?}"), "<redacted>");
    assert_eq!(format!("{:?}", Some(&secret)), "Some(<redacted>)");
    assert_eq!(
        serde_json::to_value(&secret).unwrap(),
        json!("p@ssw0rd-123")
    );
    let back: Redacted<String> = serde_json::from_value(json!("p@ssw0rd-123")).unwrap();
    assert_eq!(back.expose(), "p@ssw0rd-123");
}

#[test]
fn a_short_page_is_the_last_even_when_a_marker_comes_back() {
    let info = PageInfo {
        next_marker: Some("2025-06-09T07:24:27.674Z".into()),
        current_count: Some(2),
    };
    let page = Page::from_wire(vec![1, 2], Some(info), Some(2), 200);
    assert_eq!(page.next_marker, None);
    assert_eq!(page.total_count, Some(2));
}

#[test]
fn a_full_page_with_a_marker_has_a_next_page() {
    let info = PageInfo {
        next_marker: Some("m2".into()),
        current_count: Some(2),
    };
    assert_eq!(
        Page::from_wire(vec![1, 2], Some(info), None, 2)
            .next_marker
            .as_deref(),
        Some("m2")
    );
}

#[test]
fn an_empty_or_markerless_page_ends_the_list() {
    let info = PageInfo {
        next_marker: Some("m".into()),
        current_count: Some(0),
    };
    assert_eq!(
        Page::<u8>::from_wire(vec![], Some(info), None, 0).next_marker,
        None
    );
    assert_eq!(Page::from_wire(vec![1, 2], None, None, 2).next_marker, None);
    let blank = PageInfo {
        next_marker: Some(String::new()),
        current_count: Some(2),
    };
    assert_eq!(
        Page::from_wire(vec![1, 2], Some(blank), None, 2).next_marker,
        None
    );
}

#[test]
fn wire_enums_keep_unknown_values_and_scalars() {
    assert_eq!(DhGroup::parse("group31"), DhGroup::Other("group31".into()));
    assert_eq!(DhGroup::Other("group31".into()).as_str(), "group31");
    assert_eq!("group14".parse::<DhGroup>(), Ok(DhGroup::Group14));
    assert_eq!(EncryptionAlgorithm::TripleDes.to_string(), "3des");
    assert!(AuthenticationAlgorithm::KNOWN.contains(&"sm3"));
    let number: DhGroup =
        serde_json::from_value(json!(14)).expect("a number is kept, not rejected");
    assert_eq!(number, DhGroup::Other("14".into()));
    assert!(
        serde_json::from_value::<DhGroup>(json!({"a": 1})).is_err(),
        "objects are not enum values"
    );
}

#[test]
fn tags_without_value_read_as_empty() {
    let tag: VpnResourceTag = serde_json::from_value(json!({"key": "env"})).unwrap();
    assert_eq!(tag, VpnResourceTag::new("env", ""));
}
