//! What a reconcile would do, without doing it: the first three phases of the contract
//! (`inputs` → `observe` → `plan`, never `act`) and each kind's pure [`Preview::preview`] of the
//! plan it decided, as a reviewer reads it. `vpn-operator plan` runs this over the objects of a
//! set of manifests; the decisions are the controllers' own.
use std::time::Duration;

use serde::Serialize;

use super::clouds::Cloud;
use super::context::Context;
use super::contract::Managed;
use super::error::Result;
use super::status::FieldDiff;

/// What the operator would do with an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create the cloud resource.
    Create,
    /// Change the fields listed.
    Update,
    /// Take over the resource named by `spec.cloudId` (and change the fields listed).
    Adopt,
    /// Nothing.
    NoChange,
    /// Delete the cloud resource (the object is being, or would be, deleted).
    Delete,
    /// Leave the cloud resource in place when the object goes (`deletionPolicy: Orphan`, or only
    /// observing).
    Orphan,
}

impl Action {
    /// How the action is written in `plan`'s output.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Adopt => "adopt",
            Action::NoChange => "no change",
            Action::Delete => "delete",
            Action::Orphan => "orphan",
        }
    }
}

/// One field that changes: its spec path, the value the cloud holds and the value it gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Spec path in camelCase, e.g. `ikePolicy.lifetimeSeconds`; `pskSha256` for a key.
    pub field: String,
    /// What the cloud holds now (`None`: nothing, or not readable).
    pub old: Option<String>,
    /// What it will hold (`None`: removed).
    pub new: Option<String>,
}

impl FieldChange {
    pub fn new(field: impl Into<String>, old: Option<String>, new: Option<String>) -> Self {
        Self {
            field: field.into(),
            old,
            new,
        }
    }
}

/// What the operator would do with one object, and why (never a secret value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: Action,
    /// The cloud resource, when one exists.
    pub cloud_id: Option<String>,
    /// The fields that change (update, adopt).
    pub fields: Vec<FieldChange>,
    /// What else the reviewer should know: waits, busy resources, drift the operator leaves
    /// alone, a resource that is gone and recreated.
    pub notes: Vec<String>,
}

impl Change {
    /// `action` with no fields and no notes.
    pub fn new(action: Action, cloud_id: Option<String>) -> Self {
        Self {
            action,
            cloud_id,
            fields: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// With this note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// An existing resource compared with the spec: the updatable differences become field
    /// changes (`update`, or `adopt` when `adopting`), the others notes (the cloud cannot
    /// change them; the operator leaves them and reports `ImmutableFieldDrift`). `extra`:
    /// changes the diffs do not show (e.g. a key rotation).
    pub fn of_diffs(
        cloud_id: &str,
        diffs: &[FieldDiff],
        extra: Vec<FieldChange>,
        adopting: bool,
    ) -> Self {
        let mut fields: Vec<FieldChange> = diffs
            .iter()
            .filter(|d| d.updatable)
            .map(|d| FieldChange::new(&d.field, Some(d.observed.clone()), Some(d.desired.clone())))
            .collect();
        for e in extra {
            if !fields.iter().any(|f| f.field == e.field) {
                fields.push(e);
            }
        }
        let action = match (adopting, fields.is_empty()) {
            (true, _) => Action::Adopt,
            (false, true) => Action::NoChange,
            (false, false) => Action::Update,
        };
        let mut change = Change {
            action,
            cloud_id: Some(cloud_id.to_string()),
            fields,
            notes: Vec::new(),
        };
        for d in diffs.iter().filter(|d| !d.updatable) {
            change.notes.push(immutable_drift_note(d));
        }
        change
    }

    /// Whether anything would change.
    pub fn changes(&self) -> bool {
        self.action != Action::NoChange
    }
}

/// The note for a field the cloud cannot change and that differs from the spec.
pub fn immutable_drift_note(d: &FieldDiff) -> String {
    format!(
        "{} differs in the cloud ({} there, {} in the spec) and cannot be changed in place: the \
         operator leaves it and reports ImmutableFieldDrift; recreate the object to change it",
        d.field, d.observed, d.desired
    )
}

/// A kind whose plans can be shown before they are carried out.
pub trait Preview: Managed {
    /// What `plan` decided, as the changes a reviewer reads. Pure: from the inputs, the
    /// observation and the plan only.
    fn preview(
        &self,
        inputs: &Self::Inputs,
        observed: &Self::Observed,
        plan: &Self::Plan,
    ) -> Change;
}

/// The first three phases of a reconcile of `obj` and the preview of its plan: reads only.
/// `max_age`: how old a shared list observation may be (one list per kind and account serves
/// every object of a plan).
pub async fn dry_run<K: Preview>(obj: &K, ctx: &Context, max_age: Duration) -> Result<Change> {
    let inputs = obj.inputs(ctx).await?;
    let account = super::account_use::in_use(obj, ctx).await?.account;
    let cloud = K::Cloud::connect(&ctx.clouds, &account, max_age).await?;
    let observed = obj.observe(&cloud, &inputs).await?;
    let plan = obj.plan(&inputs, &observed, &ctx.clock.now())?;
    Ok(obj.preview(&inputs, &observed, &plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updatable_diffs_are_changes_and_the_others_notes() {
        let diffs = [
            FieldDiff::new("name", "new", "old", true),
            FieldDiff::new("vpcId", "v-2", "v-1", false),
        ];
        let c = Change::of_diffs("g-1", &diffs, Vec::new(), false);
        assert_eq!(c.action, Action::Update);
        assert_eq!(
            c.fields,
            [FieldChange::new(
                "name",
                Some("old".into()),
                Some("new".into())
            )]
        );
        assert!(c.notes[0].starts_with("vpcId differs in the cloud (v-1 there, v-2 in the spec)"));
        let only_immutable = Change::of_diffs("g-1", &diffs[1..], Vec::new(), false);
        assert_eq!(only_immutable.action, Action::NoChange);
        let adopt = Change::of_diffs("g-1", &[], Vec::new(), true);
        assert_eq!(adopt.action, Action::Adopt);
        let extra = FieldChange::new("pskSha256", Some("a".into()), Some("b".into()));
        let rotated = Change::of_diffs("c-1", &[], vec![extra.clone()], false);
        assert_eq!(
            (rotated.action, rotated.fields),
            (Action::Update, vec![extra])
        );
    }
}
