//! Small conversions shared by the kinds: CRD enums to their wire strings, condition ages.
use std::time::Duration;

use serde::Serialize;

use crate::crd::common::Condition;

/// The serialized string of a unit enum (`NetworkType::Public` → `"public"`), which is also
/// the wire value: the CRD enums are spelled as the API spells them.
pub fn enum_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// How long a condition has had its current status.
pub fn since_transition(c: &Condition) -> Duration {
    let now = k8s_openapi::jiff::Timestamp::now();
    let d = now.duration_since(c.last_transition_time.0);
    Duration::try_from(d).unwrap_or_default()
}

/// How long a pending cloud operation has lasted, for the polling interval: since `Ready`
/// last changed or since the cloud last changed the resource (`cloud_changed`: its
/// `updated_at`, else `created_at`), whichever is shorter. An object that waited before its
/// cloud operation began (queued behind other writes, or for a dependency) is therefore
/// polled quickly again once the operation starts. A cloud clock ahead of ours reads as 0.
pub fn pending_for(ready: &Condition, cloud_changed: Option<&str>) -> Duration {
    let by_condition = since_transition(ready);
    let by_cloud = cloud_changed
        .and_then(|t| crate::cloud::model::common::Timestamp::new(t).to_utc())
        .map(|t| (chrono::Utc::now() - t).to_std().unwrap_or_default());
    by_cloud.map_or(by_condition, |c| c.min(by_condition))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_time_counts_from_the_latest_cloud_change() {
        use crate::crd::common::ConditionStatus;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        let ago = |s: i64| chrono::Utc::now() - chrono::Duration::seconds(s);
        let mut ready = Condition::new("Ready", ConditionStatus::False, "Creating", "", None);
        ready.last_transition_time =
            Time(k8s_openapi::jiff::Timestamp::from_second(ago(300).timestamp()).unwrap());
        let cloud =
            |s: i64| crate::cloud::model::common::Timestamp::from_datetime(ago(s)).to_string();
        // Queued for 5 minutes, created in the cloud 10 s ago: pending for about 10 s.
        let p = pending_for(&ready, Some(&cloud(10)));
        assert!((9..=12).contains(&p.as_secs()), "{p:?}");
        // Without (or with an unreadable) cloud time, the condition's age counts.
        assert!((299..=302).contains(&pending_for(&ready, None).as_secs()));
        assert!((299..=302).contains(&pending_for(&ready, Some("garbage")).as_secs()));
        // A cloud change older than the condition does not stretch it.
        assert!((299..=302).contains(&pending_for(&ready, Some(&cloud(900))).as_secs()));
    }
    use crate::crd::vpn_gateway::{Flavor, HaMode, NetworkType};

    #[test]
    fn crd_enums_render_as_wire_values() {
        assert_eq!(enum_str(&NetworkType::Public), "public");
        assert_eq!(enum_str(&HaMode::ActiveStandby), "active-standby");
        assert_eq!(
            enum_str(&Flavor::Professional1NonFixedIp),
            "Professional1-NonFixedIP"
        );
    }
}
