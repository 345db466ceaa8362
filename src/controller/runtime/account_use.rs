//! The account a reconcile uses: the one an object resolves to now
//! ([`super::clouds::Clouds::resolve`]), or the one its status records when its cloud resource
//! was made in another ([`super::account::keep_recorded`]), and the `AccountChanged` report.
use super::account::{keep_recorded, recorded_account, Account};
use crate::crd::common::AccountSource;

/// The account a reconcile of an object uses, what its status records, and the account it
/// resolves to now when that is another one (kept out of use: `AccountChanged`).
#[derive(Clone, Debug)]
pub struct InUse {
    pub account: Account,
    pub record: crate::crd::common::AccountStatus,
    pub changed_to: Option<crate::crd::common::AccountStatus>,
}

/// Resolves the account of `obj` ([`super::clouds::Clouds::resolve`]) and keeps the one its
/// status records when its cloud resource exists ([`keep_recorded`]).
pub async fn in_use<K: super::object::Object>(
    obj: &K,
    ctx: &super::context::Context,
) -> super::error::Result<InUse> {
    use crate::crd::common::ManagedStatus;
    use kube::ResourceExt;
    let spec = obj.account();
    let now = ctx
        .clouds
        .resolve(&obj.namespace().unwrap_or_default(), &spec)
        .await?;
    let status = kube::core::object::HasStatus::status(obj);
    let has_resource = status.is_some_and(|s| s.cloud_id().is_some());
    let mut recorded = status.and_then(|s| s.account()).cloned();
    if let (None, true, AccountSource::Namespace, Account::Vpn(own)) =
        (&recorded, has_resource, now.status.source, &spec)
    {
        // Made before accounts were recorded (an upgrade), when no namespace account existed:
        // in the account of its spec.cloud and the operator's flags, never assumed to be in
        // the namespace's.
        recorded = Some(ctx.clouds.resolve_without_namespace(own)?.status);
    }
    Ok(
        match keep_recorded(recorded.as_ref(), has_resource, &now.status) {
            Some(kept) => InUse {
                account: recorded_account(&kept, matches!(spec, Account::Ies(_))),
                record: kept,
                changed_to: Some(now.status),
            },
            None => InUse {
                account: now.account,
                record: now.status,
                changed_to: None,
            },
        },
    )
}

/// `project P in region R through Secret S (endpoint E)`: an account for messages.
fn describe(a: &crate::crd::common::AccountStatus) -> String {
    let mut s = String::new();
    if let Some(p) = &a.project_id {
        s.push_str(&format!("project {p} "));
    }
    if let Some(r) = &a.region {
        s.push_str(&format!("in region {r} "));
    }
    match &a.secret {
        Some(secret) => s.push_str(&format!("through Secret {secret} ")),
        None => s.push_str("with the operator's own credentials "),
    }
    s.push_str(&format!("(endpoint {})", a.endpoint));
    s
}

/// Records `in_use` in `status`; when the object's account changed under its resource, sets
/// `Synced=False` (`AccountChanged`) and returns the Warning Event to publish (only when the
/// change is new: `previous` is the status before this reconcile, whose `Synced` keeps its
/// transition time, so an unchanged report is not written again). Pure.
pub fn record<S: crate::crd::common::ManagedStatus>(
    status: &mut S,
    previous: Option<&S>,
    in_use: &InUse,
    noun: &str,
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    generation: Option<i64>,
) -> Option<super::events::Note> {
    use crate::crd::common::{find_condition, reasons, types};
    status.set_account(Some(in_use.record.clone()));
    let changed_to = in_use.changed_to.as_ref()?;
    let mut message = format!(
        "this object's account is now {} ({:?}), but its {noun} was made in {} \
         (status.account); the operator keeps using that one and moves, recreates or orphans \
         nothing. Restore the account, or set spec.cloud to the recorded account, or delete the \
         object and create it again to make a new {noun} in the new account",
        describe(changed_to),
        changed_to.source,
        describe(&in_use.record),
    );
    if let Some(secret) = in_use
        .record
        .secret
        .as_ref()
        .filter(|s| changed_to.secret.as_ref() == Some(*s))
    {
        // The keys of the recorded account are read from the same Secret, which now holds the
        // new account's: they reach the recorded project only if their IAM user may use it.
        message.push_str(&format!(
            ". Its credentials are still read from Secret {secret}, which now holds the new \
             account's keys: if they cannot reach {}, its calls fail (AuthFailed); set \
             spec.cloud.credentialsSecretRef to a Secret with credentials for it",
            in_use.record.project_id.as_deref().map_or_else(
                || "the recorded account".to_string(),
                |p| format!("project {p}")
            )
        ));
    }
    let previous = previous.and_then(|p| find_condition(p.conditions(), types::SYNCED));
    let c = super::status::Cond::no(reasons::ACCOUNT_CHANGED, message.clone());
    super::status::synced_false_over(status.conditions_mut(), previous, now, c, generation).then(
        || {
            super::events::Note::warning(
                reasons::ACCOUNT_CHANGED,
                super::events::actions::RECONCILE,
                message,
            )
        },
    )
}
