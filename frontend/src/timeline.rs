//! What changed between two states of an item, for the audit timeline.

use serde_json::Value;

/// One field that changed: its name and its value before and after, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: String,
}

/// Fields that only move because something else did.
const NOISE: &[&str] = &["version", "updated_at"];

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_string(),
        Value::Object(map) if map.contains_key("score") => map["score"].to_string(),
        other => other.to_string(),
    }
}

/// The top-level fields of `after` that differ from `before` (all of them for the first
/// event).
pub fn changes(before: &Value, after: &Value) -> Vec<Change> {
    let Some(after_map) = after.as_object() else {
        return vec![];
    };
    let before_map = before.as_object();
    after_map
        .iter()
        .filter(|(k, _)| !NOISE.contains(&k.as_str()))
        .filter(|(k, v)| before_map.and_then(|b| b.get(*k)) != Some(*v))
        .map(|(k, v)| Change {
            field: k.clone(),
            before: before_map.and_then(|b| b.get(k)).map(text),
            after: text(v),
        })
        .collect()
}

/// A token `tx.position` as a comparable pair (unparseable tokens compare lowest).
pub fn token_order(token: &str) -> (i64, i64) {
    token
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .unwrap_or((-1, -1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn changes_name_the_fields_that_moved() {
        let before =
            json!({"status": "pending", "title": "A", "version": 1, "aps": {"score": 63.0}});
        let after =
            json!({"status": "approved", "title": "A", "version": 2, "aps": {"score": 72.0}});
        let changes = changes(&before, &after);
        assert_eq!(
            changes,
            vec![
                Change {
                    field: "aps".into(),
                    before: Some("63.0".into()),
                    after: "72.0".into()
                },
                Change {
                    field: "status".into(),
                    before: Some("pending".into()),
                    after: "approved".into()
                },
            ]
        );
    }

    #[wasm_bindgen_test]
    fn the_first_event_lists_every_field_and_tokens_order_numerically() {
        let first = changes(&Value::Null, &json!({"title": "A", "version": 1}));
        assert_eq!(
            first,
            vec![Change {
                field: "title".into(),
                before: None,
                after: "A".into()
            }]
        );
        assert!(token_order("10.2") > token_order("9.99"));
        assert!(token_order("10.10") > token_order("10.9"));
        assert_eq!(token_order("junk"), (-1, -1));
    }
}
