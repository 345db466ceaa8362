//! Connection resets (reference §5.8) on request: the annotation
//! `vpn.hwcloud.dev/reset-requested-at` asks for one, and each distinct value gets exactly one
//! outcome, recorded in `status.lastReset`: the reset is made (once), refused while the
//! connection cannot be reset (`PENDING_*`, not provisioned, observe only), or failed when the
//! cloud refused it. The reference recommends exactly this: an explicit user action, never an
//! automatic one. Pure.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::connection::ConnectionStatus;
use crate::controller::runtime::events::{
    actions, Note, CONNECTION_RESET, RESET_FAILED, RESET_REFUSED,
};
use crate::crd::vpn_connection::{ResetResult, ResetStatus};
use crate::crd::{VpnConnection, RESET_ANNOTATION};

/// What to do about the reset annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No request, or one already handled.
    None,
    /// Reset the connection for this request.
    Reset { requested: String },
    /// The request cannot be carried out: record it as refused, and say why.
    Refuse { requested: String, message: String },
}

/// The annotation's value of `obj`, if set (blank counts as unset).
pub fn requested(obj: &VpnConnection) -> Option<&str> {
    obj.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(RESET_ANNOTATION))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// Decides about the reset request `value`, given the one last handled, the connection's state
/// (`None`: no connection in the cloud) and whether the object only observes.
pub fn decide(
    value: Option<&str>,
    handled: Option<&ResetStatus>,
    state: Option<&ConnectionStatus>,
    observe_only: bool,
) -> Decision {
    let Some(v) = value.filter(|v| handled.is_none_or(|h| h.requested_at != *v)) else {
        return Decision::None;
    };
    let refuse = |why: String| Decision::Refuse {
        requested: v.to_string(),
        message: format!(
            "the reset requested at {v} was not made: {why}; set {RESET_ANNOTATION} to a new \
             value to ask again"
        ),
    };
    use ConnectionStatus as S;
    match state {
        _ if observe_only => refuse("managementPolicy is Observe".into()),
        None => refuse("the connection does not exist in the cloud yet".into()),
        Some(S::Active | S::Down | S::Error) => Decision::Reset {
            requested: v.to_string(),
        },
        Some(s) => refuse(format!(
            "the connection is {s}; a reset is only possible while it is ACTIVE, DOWN or ERROR"
        )),
    }
}

/// `status.lastReset` and the Event for a handled request: `failed` is the cloud's refusal of
/// a reset that was made (`None`: accepted).
pub fn record(
    decision: &Decision,
    failed: Option<&str>,
    connection: &str,
    now: &Time,
) -> Option<(ResetStatus, Note)> {
    let (requested, result, message, note) = match (decision, failed) {
        (Decision::None, _) => return None,
        (Decision::Reset { requested }, None) => {
            let text = format!(
                "reset connection {connection} as requested at {requested}: the tunnel is \
                 negotiated again"
            );
            let note = Note::normal(CONNECTION_RESET, actions::UPDATE, text);
            (requested, ResetResult::Reset, None, note)
        }
        (Decision::Reset { requested }, Some(why)) => {
            let text = format!(
                "the cloud refused the reset of connection {connection} requested at \
                 {requested}: {why}"
            );
            let note = Note::warning(RESET_FAILED, actions::UPDATE, text.clone());
            (requested, ResetResult::Failed, Some(text), note)
        }
        (Decision::Refuse { requested, message }, _) => {
            let note = Note::warning(RESET_REFUSED, actions::UPDATE, message.clone());
            (requested, ResetResult::Refused, Some(message.clone()), note)
        }
    };
    let status = ResetStatus {
        requested_at: requested.clone(),
        result,
        at: now.clone(),
        message,
    };
    Some((status, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionStatus as S;

    fn handled(v: &str) -> ResetStatus {
        ResetStatus {
            requested_at: v.into(),
            result: ResetResult::Reset,
            at: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
            message: None,
        }
    }

    #[test]
    fn each_distinct_request_is_acted_on_once_and_refused_while_pending() {
        let t1 = "2026-05-01T10:00:00Z";
        let t2 = "2026-05-01T11:00:00Z";
        let done = handled(t1);
        let reset = |v: &str| Decision::Reset {
            requested: v.into(),
        };
        /// (annotation, handled before, state, observe only, decision; `None`: refused).
        type Row<'a> = (
            Option<&'a str>,
            Option<&'a ResetStatus>,
            Option<S>,
            bool,
            Option<Decision>,
        );
        let table: Vec<Row> = vec![
            // (annotation, handled, state, observe only, decision; None = refused)
            (None, None, Some(S::Active), false, Some(Decision::None)),
            (Some(t1), None, Some(S::Active), false, Some(reset(t1))),
            (
                Some(t1),
                Some(&done),
                Some(S::Active),
                false,
                Some(Decision::None),
            ),
            (
                Some(t2),
                Some(&done),
                Some(S::Active),
                false,
                Some(reset(t2)),
            ),
            (Some(t2), Some(&done), Some(S::Down), false, Some(reset(t2))),
            (
                Some(t2),
                Some(&done),
                Some(S::Error),
                false,
                Some(reset(t2)),
            ),
            (Some(t2), Some(&done), Some(S::PendingUpdate), false, None),
            (Some(t2), Some(&done), Some(S::PendingCreate), false, None),
            (Some(t2), Some(&done), Some(S::PendingDelete), false, None),
            (Some(t2), Some(&done), Some(S::Unknown), false, None),
            (Some(t2), Some(&done), Some(S::Freezed), false, None),
            (Some(t2), Some(&done), None, false, None),
            (Some(t2), Some(&done), Some(S::Active), true, None),
            // A refused request is handled too: the same value is not refused again.
        ];
        for (value, h, state, observe, want) in table {
            let got = decide(value, h, state.as_ref(), observe);
            match want {
                Some(w) => assert_eq!(got, w, "{value:?} {state:?}"),
                None => {
                    let Decision::Refuse { requested, message } = &got else {
                        panic!("{value:?} {state:?}: {got:?}")
                    };
                    assert_eq!(Some(requested.as_str()), value);
                    assert!(message.contains(RESET_ANNOTATION), "{message}");
                }
            }
        }
    }

    #[test]
    fn outcomes_are_recorded_with_their_event() {
        let now = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        let v = "2026-05-01T10:00:00Z";
        let reset = Decision::Reset {
            requested: v.into(),
        };
        let (s, n) = record(&reset, None, "c1", &now).unwrap();
        assert_eq!((s.requested_at.as_str(), s.result), (v, ResetResult::Reset));
        assert_eq!((n.reason.as_str(), n.warning), (CONNECTION_RESET, false));
        let (s, n) = record(&reset, Some("VPN.0001 not allowed"), "c1", &now).unwrap();
        assert_eq!(s.result, ResetResult::Failed);
        assert!(s.message.unwrap().contains("not allowed"));
        assert_eq!((n.reason.as_str(), n.warning), (RESET_FAILED, true));
        let refuse = decide(Some(v), None, Some(&S::PendingUpdate), false);
        let (s, n) = record(&refuse, None, "c1", &now).unwrap();
        assert_eq!(s.result, ResetResult::Refused);
        assert!(s.message.unwrap().contains("PENDING_UPDATE"));
        assert_eq!((n.reason.as_str(), n.warning), (RESET_REFUSED, true));
        assert!(record(&Decision::None, None, "c1", &now).is_none());
    }
}
