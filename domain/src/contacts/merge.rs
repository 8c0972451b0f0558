//! Merging two contacts field by field, and undoing it while keeping later edits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::{diff, ContactField, ContactFields, FieldChange};

/// Whose value a merged field takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MergeSide {
    /// The contact that stays.
    Primary,
    /// The contact it absorbs.
    Other,
}

/// The primary's fields after absorbing `other`.
///
/// Without a choice for a field (HubSpot's current rule): the primary's value wins and the
/// other fills fields the primary has empty. Lists (emails, phones) are combined: the chosen
/// side's items first (so its primary email stays primary), then the other side's items the
/// first lacks. `last_contacted_at` without a choice is the later of the two — it is a fact,
/// not a preference. A choice of a side whose value is empty empties the field, except lists,
/// which still combine.
pub fn merge_fields(
    primary: &ContactFields,
    other: &ContactFields,
    choices: &BTreeMap<ContactField, MergeSide>,
) -> ContactFields {
    let mut merged = primary.clone();
    for field in primary.fields_with(other) {
        let choice = choices.get(&field).copied();
        let (mine, theirs) = (primary.get(&field), other.get(&field));
        let value = if field.is_list() {
            let (first, second) = match choice {
                Some(MergeSide::Other) => (theirs, mine),
                _ => (mine, theirs),
            };
            combine(&field, first, second)
        } else {
            match choice {
                Some(MergeSide::Primary) => mine,
                Some(MergeSide::Other) => theirs,
                None if field == ContactField::LastContactedAt => {
                    let later = |a: &Value, b: &Value| {
                        let at = |v: &Value| {
                            v.as_str()
                                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        };
                        match (at(a), at(b)) {
                            (Some(x), Some(y)) if y > x => b.clone(),
                            (None, Some(_)) => b.clone(),
                            _ => a.clone(),
                        }
                    };
                    later(&mine, &theirs)
                }
                None if primary.is_empty(&field) => theirs,
                None => mine,
            }
        };
        merged.set(&field, value);
    }
    merged
}

/// `first`'s items, then `second`'s items `first` lacks (phones compared by E.164, or their
/// text when they have none).
fn combine(field: &ContactField, first: Value, second: Value) -> Value {
    let key = |item: &Value| -> Value {
        if *field == ContactField::Phones {
            match item.get("e164") {
                Some(Value::String(e164)) => Value::String(e164.clone()),
                _ => item.get("raw").cloned().unwrap_or(Value::Null),
            }
        } else {
            item.clone()
        }
    };
    let mut items: Vec<Value> = match first {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    if let Value::Array(more) = second {
        for item in more {
            if !items.iter().any(|have| key(have) == key(&item)) {
                items.push(item);
            }
        }
    }
    Value::Array(items)
}

/// The primary's fields with a merge undone: each field the merge changed goes back to its
/// value before the merge — unless it was edited since, in which case the edit stays. For
/// lists, the items the merge added are taken out and anything added since stays.
pub fn unmerge_fields(current: &ContactFields, merge_changes: &[FieldChange]) -> ContactFields {
    let mut restored = current.clone();
    for change in merge_changes {
        let now = current.get(&change.field);
        let value = if change.field.is_list() {
            let before = as_items(&change.old);
            let added: Vec<Value> = as_items(&change.new)
                .into_iter()
                .filter(|item| !before.contains(item))
                .collect();
            Value::Array(
                as_items(&now)
                    .into_iter()
                    .filter(|item| !added.contains(item))
                    .collect(),
            )
        } else if now == change.new {
            change.old.clone()
        } else {
            now
        };
        restored.set(&change.field, value);
    }
    restored
}

fn as_items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        _ => Vec::new(),
    }
}

/// The changes a merge makes to the primary.
pub(crate) fn merge_changes(
    primary: &ContactFields,
    other: &ContactFields,
    choices: &BTreeMap<ContactField, MergeSide>,
) -> Vec<FieldChange> {
    diff(primary, &merge_fields(primary, other, choices))
}
