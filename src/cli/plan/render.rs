//! `plan`'s output: human text (colour only on a terminal) or JSON with a stable schema
//! (`formatVersion` 1, documented in docs/PLAN.md).
use std::collections::BTreeMap;

use serde::Serialize;

use super::engine::{Entry, Verdict};
use crate::cli::term::{Paint, Style};
use crate::controller::runtime::preview::{Action, FieldChange};

/// What to do about an immutable field, after the API server's message.
pub const REPLACE_HINT: &str = "the API server refuses this change: delete the object and apply \
     it again (the cloud resource is deleted with it unless spec.deletionPolicy is Orphan), or \
     give the changed object a new name";

/// The action word of a verdict (`plan`'s vocabulary).
pub fn action(v: &Verdict) -> &'static str {
    match v {
        Verdict::Change(c) => match c.action {
            Action::NoChange => "no-change",
            other => other.as_str(),
        },
        Verdict::ReplaceRequired(_) => "replace-required",
        Verdict::Invalid(_) => "invalid",
        Verdict::Error(_) => "error",
    }
}

fn style(v: &Verdict) -> Style {
    match v {
        Verdict::Change(c) => match c.action {
            Action::Create | Action::Adopt => Style::Green,
            Action::Update | Action::Orphan => Style::Yellow,
            Action::Delete => Style::Red,
            Action::NoChange => Style::Dim,
        },
        _ => Style::Red,
    }
}

fn shown(v: &Option<String>) -> String {
    match v {
        Some(s) if !s.is_empty() => s.clone(),
        _ => "(none)".into(),
    }
}

/// The counts of each action, in a fixed order.
pub fn summary(entries: &[Entry]) -> BTreeMap<&'static str, usize> {
    let mut m: BTreeMap<&'static str, usize> = [
        "create",
        "update",
        "replace-required",
        "adopt",
        "delete",
        "orphan",
        "no-change",
        "invalid",
        "error",
    ]
    .into_iter()
    .map(|a| (a, 0))
    .collect();
    for e in entries {
        *m.entry(action(&e.verdict)).or_default() += 1;
    }
    m
}

/// The plan as text.
pub fn text(entries: &[Entry], notes: &[String], paint: Paint) -> String {
    let mut out = String::new();
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if !notes.is_empty() {
        out.push('\n');
    }
    for e in entries {
        let head = match &e.verdict {
            Verdict::Change(c) => match (&c.cloud_id, c.action) {
                (Some(id), a) if a != Action::Create => {
                    format!("{} ({id})", action_text(&e.verdict))
                }
                _ => action_text(&e.verdict).to_string(),
            },
            other => action_text(other).to_string(),
        };
        let source = e
            .source
            .as_deref()
            .map_or("only in the cluster".to_string(), str::to_string);
        out.push_str(&format!(
            "{} {}/{}: {}  [{source}]\n",
            e.kind,
            e.namespace,
            e.name,
            paint.paint(style(&e.verdict), &head)
        ));
        match &e.verdict {
            Verdict::Change(c) => {
                for FieldChange { field, old, new } in &c.fields {
                    out.push_str(&format!("    {field}: {} → {}\n", shown(old), shown(new)));
                }
                for n in &c.notes {
                    out.push_str(&format!("    note: {n}\n"));
                }
            }
            Verdict::ReplaceRequired(msgs) => {
                for m in msgs {
                    out.push_str(&format!("    {m}\n"));
                }
                out.push_str(&format!("    what to do: {REPLACE_HINT}\n"));
            }
            Verdict::Invalid(msgs) => {
                for m in msgs {
                    out.push_str(&format!("    invalid: {m}\n"));
                }
            }
            Verdict::Error(m) => out.push_str(&format!("    error: {m}\n")),
        }
    }
    let s = summary(entries);
    out.push_str(&format!(
        "\nPlan: {} to create, {} to update, {} to replace, {} to adopt, {} to delete, {} to \
         orphan, {} unchanged; {} invalid, {} errors.\n",
        s["create"],
        s["update"],
        s["replace-required"],
        s["adopt"],
        s["delete"],
        s["orphan"],
        s["no-change"],
        s["invalid"],
        s["error"]
    ));
    out
}

fn action_text(v: &Verdict) -> &'static str {
    match v {
        Verdict::Change(c) => c.action.as_str(),
        Verdict::ReplaceRequired(_) => "replace required",
        Verdict::Invalid(_) => "invalid",
        Verdict::Error(_) => "error",
    }
}

/// One object in the JSON output.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonObject<'a> {
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    source: Option<&'a str>,
    action: &'static str,
    cloud_id: Option<&'a str>,
    changes: Vec<&'a FieldChange>,
    notes: Vec<&'a str>,
    messages: Vec<&'a str>,
}

/// The JSON output.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPlan<'a> {
    format_version: u32,
    cluster: bool,
    notes: &'a [String],
    objects: Vec<JsonObject<'a>>,
    summary: BTreeMap<&'static str, usize>,
    exit_code: u8,
}

/// The plan as JSON (see docs/PLAN.md for the schema).
pub fn json(entries: &[Entry], notes: &[String], cluster: bool, exit_code: u8) -> String {
    let objects = entries
        .iter()
        .map(|e| {
            let (cloud_id, changes, notes, messages) = match &e.verdict {
                Verdict::Change(c) => (
                    c.cloud_id.as_deref(),
                    c.fields.iter().collect(),
                    c.notes.iter().map(String::as_str).collect(),
                    Vec::new(),
                ),
                Verdict::ReplaceRequired(m) => (
                    None,
                    Vec::new(),
                    vec![REPLACE_HINT],
                    m.iter().map(String::as_str).collect(),
                ),
                Verdict::Invalid(m) => (
                    None,
                    Vec::new(),
                    Vec::new(),
                    m.iter().map(String::as_str).collect(),
                ),
                Verdict::Error(m) => (None, Vec::new(), Vec::new(), vec![m.as_str()]),
            };
            JsonObject {
                kind: &e.kind,
                namespace: &e.namespace,
                name: &e.name,
                source: e.source.as_deref(),
                action: action(&e.verdict),
                cloud_id,
                changes,
                notes,
                messages,
            }
        })
        .collect();
    let plan = JsonPlan {
        format_version: 1,
        cluster,
        notes,
        objects,
        summary: summary(entries),
        exit_code,
    };
    serde_json::to_string_pretty(&plan).unwrap_or_default() + "\n"
}
