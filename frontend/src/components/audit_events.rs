//! An aggregate's history as a list: each event with who, when, and what changed since the
//! event before.

use caseyos_domain::api::AuditEntry;
use serde_json::Value;
use yew::prelude::*;

use crate::infra::format::{now, relative};

/// One field that changed: its name and its value before and after, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Change {
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
fn changes(before: &Value, after: &Value) -> Vec<Change> {
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

/// Changes shown per event; values longer than this many characters are cut.
const CHANGES_SHOWN: usize = 8;
const VALUE_CHARS: usize = 160;

fn short(text: String) -> String {
    if text.chars().count() > VALUE_CHARS {
        let cut: String = text.chars().take(VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The events, oldest first. With `on_pick`, each event is a button that picks it (1-based);
/// `current` is the one picked.
pub fn event_list(
    events: &[AuditEntry],
    current: Option<usize>,
    on_pick: Option<&Callback<usize>>,
) -> Html {
    let now = now();
    html! {
        <ol class="events">
            { for events.iter().enumerate().map(|(i, e)| {
                let before = if i == 0 { Value::Null } else { events[i - 1].state_after.clone() };
                let picked = current == Some(i + 1);
                let head = html! {
                    <>
                        <strong>{ &e.event_type }</strong>
                        <span class="muted">{ format!(" by {} ", e.actor.clone().unwrap_or_else(|| "unknown".into())) }</span>
                        <time datetime={e.recorded_at.to_rfc3339()} title={e.recorded_at.to_rfc3339()}>{ relative(now, e.recorded_at) }</time>
                    </>
                };
                html! {
                    <li class={classes!("event", picked.then_some("current"))}>
                        if let Some(pick) = on_pick {
                            <button class="event-head" aria-pressed={picked.to_string()}
                                    onclick={pick.reform(move |_| i + 1)}>{ head }</button>
                        } else {
                            <p class="event-head">{ head }</p>
                        }
                        <ul class="changes">
                            { for changes(&before, &e.state_after).into_iter().take(CHANGES_SHOWN).map(|c| html! {
                                <li><code>{ c.field }</code>{ ": " }
                                    { for c.before.map(|b| html! { <><span class="before">{ short(b) }</span>{ " → " }</> }) }
                                    <span class="after">{ short(c.after) }</span></li>
                            }) }
                        </ul>
                    </li>
                }
            }) }
        </ol>
    }
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
    fn the_first_event_lists_every_field() {
        let first = changes(&Value::Null, &json!({"title": "A", "version": 1}));
        assert_eq!(
            first,
            vec![Change {
                field: "title".into(),
                before: None,
                after: "A".into()
            }]
        );
    }
}
