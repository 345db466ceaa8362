//! Building a status: conditions set at the reconcile's time, drift entries with their
//! detection times, the `Synced` condition every kind derives from drift, the `DriftDetected`
//! Event, and the merge patch that writes only what changed.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Map, Value};

use super::events::{actions, Note, DRIFT_DETECTED};
use crate::crd::common::{reasons, set_condition, Condition, ConditionStatus, DriftEntry};

/// One condition to set: status, reason and message (the type and generation come from where
/// it is set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// One of [`reasons`].
    pub reason: &'static str,
    /// What happened and what to do.
    pub message: String,
}

impl Cond {
    /// A condition with this status, reason and message.
    pub fn new(status: ConditionStatus, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }

    /// `True` with `reason`.
    pub fn yes(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(ConditionStatus::True, reason, message)
    }

    /// `False` with `reason`.
    pub fn no(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(ConditionStatus::False, reason, message)
    }
}

/// Sets condition `type_` on `conds` as of `now` (`lastTransitionTime` stays when the status
/// does not change).
pub fn set(conds: &mut Vec<Condition>, now: &Time, type_: &str, c: Cond, generation: Option<i64>) {
    set_condition(
        conds,
        Condition::new(type_, c.status, c.reason, c.message, generation),
        now.clone(),
    );
}

/// Sets `Synced=False` (`c`) over the `Synced=True` this reconcile has just set, as if set
/// over the object's `previous` `Synced`: a report already made keeps its transition time, so
/// an unchanged status is not written again on every reconcile. The condition keeps its place.
/// Returns whether the report is new (a different reason or message than `previous`): the
/// moment for a Warning Event.
pub fn synced_false_over(
    conds: &mut Vec<Condition>,
    previous: Option<&Condition>,
    now: &Time,
    c: Cond,
    generation: Option<i64>,
) -> bool {
    let new = previous.is_none_or(|p| {
        p.status != ConditionStatus::False || p.reason != c.reason || p.message != c.message
    });
    let synced = crate::crd::common::types::SYNCED;
    match (conds.iter_mut().find(|x| x.type_ == synced), previous) {
        (Some(current), Some(p)) => *current = p.clone(),
        (Some(_), None) => conds.retain(|x| x.type_ != synced),
        (None, Some(p)) => conds.push(p.clone()),
        (None, None) => {}
    }
    set(conds, now, synced, c, generation);
    new
}

/// Most drift entries a status holds (the CRD schema's limit).
pub const MAX_DRIFT: usize = 20;

/// One field whose cloud value differs from the desired value, as found by a kind's pure
/// `drift` function (before detection times are attached).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDiff {
    /// Spec field path in camelCase, e.g. `ikePolicy.lifetimeSeconds`.
    pub field: String,
    /// Desired value as text (never a secret).
    pub desired: String,
    /// Cloud value as text.
    pub observed: String,
    /// Whether the cloud can change this field in place (false: immutable after creation).
    pub updatable: bool,
}

impl FieldDiff {
    pub fn new(
        field: impl Into<String>,
        desired: impl Into<String>,
        observed: impl Into<String>,
        updatable: bool,
    ) -> Self {
        Self {
            field: field.into(),
            desired: desired.into(),
            observed: observed.into(),
            updatable,
        }
    }
}

/// The `status.drift` list for `diffs`: an entry keeps its `detectedAt` from `prev` while the
/// same field differs in the same way, and gets `now` otherwise. At most [`MAX_DRIFT`] entries.
pub fn drift_entries(prev: &[DriftEntry], diffs: &[FieldDiff], now: &Time) -> Vec<DriftEntry> {
    diffs
        .iter()
        .take(MAX_DRIFT)
        .map(|d| {
            let detected_at = prev
                .iter()
                .find(|p| p.field == d.field && p.desired == d.desired && p.observed == d.observed)
                .map_or_else(|| now.clone(), |p| p.detected_at.clone());
            DriftEntry {
                field: d.field.clone(),
                desired: d.desired.clone(),
                observed: d.observed.clone(),
                detected_at,
            }
        })
        .collect()
}

/// The diffs whose field was not drifting in `prev` (for a `DriftDetected` event only when
/// something new appears, not on every resync).
pub fn new_drift<'a>(prev: &[DriftEntry], diffs: &'a [FieldDiff]) -> Vec<&'a FieldDiff> {
    diffs
        .iter()
        .filter(|d| !prev.iter().any(|p| p.field == d.field))
        .collect()
}

/// `Synced` after a reconcile whose cloud resource differs from the spec in `remaining` (the
/// differences left after this reconcile's changes; all of them when only observing), for a
/// resource the messages call `noun`. `success` is the message when nothing is wrong.
pub fn synced(noun: &str, observe_only: bool, remaining: &[FieldDiff], success: &str) -> Cond {
    let fields = |d: &[&FieldDiff]| {
        d.iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if observe_only {
        let mut m = format!("managementPolicy is Observe: the operator only reads this {noun}");
        if !remaining.is_empty() {
            let all: Vec<&FieldDiff> = remaining.iter().collect();
            m.push_str(&format!(
                "; differs from the spec in: {} (see status.drift)",
                fields(&all)
            ));
        }
        return Cond::yes(reasons::OBSERVE_ONLY, m);
    }
    let immutable: Vec<&FieldDiff> = remaining.iter().filter(|d| !d.updatable).collect();
    if !immutable.is_empty() {
        return Cond::no(
            reasons::IMMUTABLE_FIELD_DRIFT,
            format!(
                "the cloud cannot change {} and they differ from the spec (see status.drift); the \
                 operator leaves them alone: change the spec to match, or delete and recreate the \
                 {noun}",
                fields(&immutable)
            ),
        );
    }
    Cond::yes(reasons::RECONCILE_SUCCESS, success)
}

/// The `DriftDetected` Event for differences the operator did not cause: any new one when only
/// observing, a new immutable one, or an updatable one that changed in the cloud while the spec
/// stayed the same (a spec change is not drift). `previous`: the drift in the last status.
pub fn drift_note(
    noun: &str,
    previous: &[DriftEntry],
    diffs: &[FieldDiff],
    observe_only: bool,
    spec_unchanged: bool,
) -> Option<Note> {
    let fresh: Vec<&FieldDiff> = new_drift(previous, diffs)
        .into_iter()
        .filter(|d| observe_only || !d.updatable || spec_unchanged)
        .collect();
    if fresh.is_empty() {
        return None;
    }
    let list = fresh
        .iter()
        .map(|d| format!("{} (spec {}, cloud {})", d.field, d.desired, d.observed))
        .collect::<Vec<_>>()
        .join("; ");
    let updatable = fresh.iter().filter(|d| d.updatable).count();
    let tail = if observe_only {
        "not corrected: managementPolicy is Observe"
    } else if updatable == fresh.len() {
        "changed outside the operator; being corrected"
    } else if updatable == 0 {
        "the cloud cannot change these fields; they are left alone"
    } else {
        "changed outside the operator; the fields the cloud can change are being corrected, the \
         others are left alone"
    };
    let mut noun = noun.to_string();
    if let Some(first) = noun.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    Some(Note::warning(
        DRIFT_DETECTED,
        actions::OBSERVE,
        format!("{noun} differs from the spec: {list} ({tail})"),
    ))
}

/// The JSON merge patch (RFC 7386) that turns `old` into `new`; `None` when they are equal.
pub fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) => {
                        if let Some(p) = merge_patch(ov, nv) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys() {
                if !n.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            Some(Value::Object(patch))
        }
        // Arrays and scalars are replaced whole, as merge patch does.
        _ => Some(new.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unchanged_status_needs_no_write() {
        let s = json!({"cloudId": "a", "conditions": [{"type": "Ready"}]});
        assert_eq!(merge_patch(&s, &s), None);
    }

    #[test]
    fn removed_keys_are_nulled_and_nested_objects_merged() {
        let old =
            json!({"cloudId": "a", "eip1": {"id": "e1", "ipAddress": "1.2.3.4"}, "drift": [1]});
        let new = json!({"cloudId": "a", "eip1": {"id": "e1"}, "cloudState": "ACTIVE"});
        assert_eq!(
            merge_patch(&old, &new),
            Some(json!({"eip1": {"ipAddress": null}, "drift": null, "cloudState": "ACTIVE"}))
        );
    }

    fn at(seconds: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(seconds).unwrap_or_default())
    }

    #[test]
    fn a_synced_false_report_over_this_reconciles_true_keeps_its_time_and_place() {
        use crate::crd::common::types::{READY, SYNCED};
        let cond = |type_: &str, status: ConditionStatus, reason: &str, msg: &str, t: i64| {
            let mut c = Condition::new(type_, status, reason, msg, Some(1));
            c.last_transition_time = at(t);
            c
        };
        let this_reconcile = || {
            vec![
                cond(READY, ConditionStatus::True, "Available", "", 50),
                cond(SYNCED, ConditionStatus::True, "ReconcileSuccess", "", 50),
            ]
        };
        let report = || Cond::no(reasons::ACCOUNT_CHANGED, "moved");
        let f = ConditionStatus::False;
        let t = ConditionStatus::True;
        // (previous Synced) -> (new report?, lastTransitionTime)
        let cases = [
            ("first report, no previous", None, true, 50),
            (
                "same report before",
                Some(cond(SYNCED, f, reasons::ACCOUNT_CHANGED, "moved", 10)),
                false,
                10,
            ),
            (
                "same reason, other message",
                Some(cond(SYNCED, f, reasons::ACCOUNT_CHANGED, "other", 10)),
                true,
                10,
            ),
            (
                "False for another reason",
                Some(cond(SYNCED, f, "CloudServerError", "x", 10)),
                true,
                10,
            ),
            (
                "True before",
                Some(cond(SYNCED, t, "ReconcileSuccess", "", 10)),
                true,
                50,
            ),
        ];
        for (case, previous, new, since) in cases {
            let mut conds = this_reconcile();
            let got = synced_false_over(&mut conds, previous.as_ref(), &at(50), report(), Some(1));
            assert_eq!(got, new, "{case}");
            assert_eq!(conds.len(), 2, "{case}");
            assert_eq!(conds[1].type_, SYNCED, "{case}: keeps its place");
            assert_eq!(conds[1].reason, reasons::ACCOUNT_CHANGED, "{case}");
            assert_eq!(conds[1].status, f, "{case}");
            assert_eq!(conds[1].last_transition_time, at(since), "{case}");
        }
    }

    #[test]
    fn drift_keeps_first_detection_time_while_the_difference_is_unchanged() {
        let prev = drift_entries(&[], &[FieldDiff::new("name", "a", "b", true)], &at(10));
        let same = drift_entries(&prev, &[FieldDiff::new("name", "a", "b", true)], &at(20));
        assert_eq!(same[0].detected_at, at(10));
        let changed = drift_entries(&prev, &[FieldDiff::new("name", "a", "c", true)], &at(30));
        assert_eq!(changed[0].detected_at, at(30));
        assert!(drift_entries(&prev, &[], &at(40)).is_empty());
    }

    #[test]
    fn drift_is_capped_and_only_new_fields_count_as_new() {
        let many: Vec<FieldDiff> = (0..30)
            .map(|i| FieldDiff::new(format!("f{i}"), "a", "b", true))
            .collect();
        let entries = drift_entries(&[], &many, &at(0));
        assert_eq!(entries.len(), MAX_DRIFT);
        let diffs = [
            FieldDiff::new("f0", "a", "z", true),
            FieldDiff::new("other", "a", "b", true),
        ];
        let fresh: Vec<&str> = new_drift(&entries, &diffs)
            .iter()
            .map(|d| d.field.as_str())
            .collect();
        assert_eq!(fresh, ["other"]);
    }

    #[test]
    fn arrays_are_replaced_whole() {
        let old = json!({"conditions": [{"type": "Ready", "status": "False"}]});
        let new = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        assert_eq!(merge_patch(&old, &new), Some(new.clone()));
    }

    #[test]
    fn synced_says_observe_only_immutable_drift_or_success() {
        let updatable = FieldDiff::new("name", "a", "b", true);
        let fixed = FieldDiff::new("bgpAsn", "64512", "65000", false);
        let c = synced("VPN gateway", true, std::slice::from_ref(&updatable), "");
        assert_eq!(
            (c.status, c.reason),
            (ConditionStatus::True, reasons::OBSERVE_ONLY)
        );
        assert!(
            c.message.contains("differs from the spec in: name"),
            "{}",
            c.message
        );
        let c = synced("VPN gateway", false, &[updatable.clone(), fixed], "");
        assert_eq!(
            (c.status, c.reason),
            (ConditionStatus::False, reasons::IMMUTABLE_FIELD_DRIFT)
        );
        assert!(c.message.contains("cannot change bgpAsn"), "{}", c.message);
        assert!(
            !c.message.contains("name"),
            "updatable fields are not blamed: {}",
            c.message
        );
        let c = synced("VPN gateway", false, &[], "update requested");
        assert_eq!(
            (c.status, c.reason, c.message.as_str()),
            (
                ConditionStatus::True,
                reasons::RECONCILE_SUCCESS,
                "update requested"
            )
        );
    }

    #[test]
    fn drift_is_announced_once_in_one_wording_for_every_kind() {
        let name = FieldDiff::new("name", "a", "b", true);
        let asn = FieldDiff::new("bgpAsn", "64512", "65000", false);
        // A spec change is not drift; a cloud change under an unchanged spec is.
        assert_eq!(
            drift_note(
                "customer gateway",
                &[],
                std::slice::from_ref(&name),
                false,
                false
            ),
            None
        );
        let n = drift_note(
            "customer gateway",
            &[],
            std::slice::from_ref(&name),
            false,
            true,
        )
        .unwrap();
        assert!(n.warning);
        assert_eq!(
            (n.reason.as_str(), n.action.as_str()),
            (DRIFT_DETECTED, actions::OBSERVE)
        );
        assert_eq!(
            n.message,
            "Customer gateway differs from the spec: name (spec a, cloud b) (changed outside the \
             operator; being corrected)"
        );
        let n = drift_note("connection", &[], std::slice::from_ref(&asn), false, false).unwrap();
        assert!(n
            .message
            .ends_with("(the cloud cannot change these fields; they are left alone)"));
        let n = drift_note("connection", &[], std::slice::from_ref(&name), true, false).unwrap();
        assert!(n
            .message
            .ends_with("(not corrected: managementPolicy is Observe)"));
        // Already reported: no new Event.
        let before = drift_entries(
            &[],
            std::slice::from_ref(&asn),
            &Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        );
        assert_eq!(drift_note("connection", &before, &[asn], false, true), None);
    }
}
