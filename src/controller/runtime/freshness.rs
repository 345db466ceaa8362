//! How fresh a list observation must be for a reconcile: a settled object takes the shared
//! snapshot of its kind's resync, an unsettled one a sub-second one, and one the pending watch
//! woke the list that woke it.
use std::time::Duration;

use kube::core::object::HasStatus;

use super::contract::Managed;
use super::object::Object;
use super::settings::Settings;
use crate::crd::common::{find_condition, reasons, types, ManagedStatus};

/// Whether `obj` is settled: its spec was observed and the cloud is not in the middle of
/// something for it. Unsettled objects are observed with fresh (sub-second) list snapshots.
pub fn is_settled<K: Object>(obj: &K) -> bool {
    if obj.meta().deletion_timestamp.is_some() {
        return false;
    }
    let Some(status) = HasStatus::status(obj) else {
        return false;
    };
    find_condition(status.conditions(), types::READY).is_some_and(|c| {
        c.observed_generation == obj.meta().generation
            && !matches!(
                c.reason.as_str(),
                reasons::CREATING
                    | reasons::UPDATING
                    | reasons::DELETING
                    | reasons::DEPENDENCY_NOT_READY
                    | reasons::UPGRADING
                    | reasons::UPGRADE_PENDING_CONFIRM
                    | reasons::UPGRADE_ROLLING_BACK
            )
    })
}

/// How old a list observation of `obj` may be: half the pending requeue while it is
/// unsettled, half the resync interval when it is settled. At rest every object of a kind is
/// reconciled once per resync interval, all at once, and one list call per kind and account
/// serves them all; the snapshot of the previous resync is always too old to be reused.
///
/// An object the pending watch woke `woken` ago takes the list that woke it: during a creation
/// storm hundreds of objects, one per account, are woken at once and wait their turn for a
/// reconcile; each listing its account afresh once the half tick had passed put a list call
/// before every status write, and the last of them were marked Ready seconds late.
pub fn observation_age<K: Managed>(
    obj: &K,
    settings: &Settings,
    woken: Option<Duration>,
) -> Duration {
    let usual = if is_settled(obj) && !obj.in_flux() {
        settings.resync_interval / 2
    } else {
        settings.pending_requeue / 2
    };
    match woken {
        // The list started before the wake; half a tick covers how long it took.
        Some(ago) => usual.max(ago + settings.pending_requeue / 2),
        None => usual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::common::{set_condition, Condition, ConditionStatus};
    use crate::crd::VpnGatewayStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn an_object_woken_by_the_pending_watch_takes_the_list_that_woke_it() {
        use crate::crd::VpnGateway;
        use std::time::Duration;
        let settings = Settings {
            resync_interval: Duration::from_secs(600),
            pending_requeue: Duration::from_secs(1),
            ..Settings::default()
        };
        let gateway = |ready_reason: &str| {
            let mut g: VpnGateway =
                serde_yaml::from_str(include_str!("../../../examples/vpngateway.yaml")).unwrap();
            let mut status = VpnGatewayStatus {
                cloud_id: Some("g-1".into()),
                ..Default::default()
            };
            set_condition(
                &mut status.conditions,
                Condition::new(types::READY, ConditionStatus::False, ready_reason, "", None),
                Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
            );
            g.status = Some(status);
            g
        };
        let creating = gateway(reasons::CREATING);
        let settled = gateway(reasons::AVAILABLE);
        let ms = Duration::from_millis;
        // (object, woken ago) -> the oldest list it accepts.
        let cases = [
            ("provisioning, polled", &creating, None, ms(500)),
            (
                "provisioning, woken just now",
                &creating,
                Some(ms(0)),
                ms(500),
            ),
            (
                "provisioning, woken 1.2 s ago, queued",
                &creating,
                Some(ms(1200)),
                ms(1700),
            ),
            (
                "settled, at the resync",
                &settled,
                None,
                Duration::from_secs(300),
            ),
            (
                "settled, woken",
                &settled,
                Some(ms(1200)),
                Duration::from_secs(300),
            ),
        ];
        for (case, obj, woken, expected) in cases {
            assert_eq!(observation_age(obj, &settings, woken), expected, "{case}");
        }
    }
}
