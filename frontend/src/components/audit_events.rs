//! An aggregate's history as a list: each event with who, when, and what changed since the
//! event before; and the button that reads the next page of it.

pub use crate::components::modal::NewerEventsProps;
use caseyos_domain::api::AuditEntry;
use serde_json::Value;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::status::error_view;
use crate::infra::app_state::use_app;
use crate::infra::format::{json, now, relative};

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
        Value::Object(map) if map.contains_key("score") => json(&map["score"]),
        other => json(other),
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

/// "Show N newer events": reads the page after what `history` holds (the API pages a
/// history oldest first) and hands the joined history back. Nothing once every page is read.
#[hook]
pub fn use_newer_events(props: &NewerEventsProps) -> Html {
    let app = use_app();
    let busy = use_state(bool::default);
    let failed = use_state(Option::<ApiError>::default);
    let Some(cursor) = props.history.next_cursor.clone() else {
        return html! {};
    };
    let onclick = {
        let (busy, failed, app) = (busy.clone(), failed.clone(), app.clone());
        let (aggregate, id, history) = (props.aggregate, props.id.clone(), props.history.clone());
        let on_loaded = props.on_loaded.clone();
        Callback::from(move |_: MouseEvent| {
            let (busy, failed, app, on_loaded) =
                (busy.clone(), failed.clone(), app.clone(), on_loaded.clone());
            let (id, cursor, mut history) = (id.clone(), cursor.clone(), history.clone());
            busy.set(true);
            failed.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let page = api::audit::history(aggregate, &id, Some(&cursor)).await;
                busy.set(false);
                match page {
                    Ok(page) => {
                        history.append(page);
                        on_loaded.emit(history);
                    }
                    Err(error) => {
                        app.check(&error);
                        failed.set(Some(error));
                    }
                }
            });
        })
    };
    let unread = props.history.unread();
    html! {
        <div class="newer-events">
            <button type="button" class="button" disabled={*busy} {onclick}>
                { if *busy {
                    "Loading…".to_string()
                } else if unread == 1 {
                    "Show 1 newer event".to_string()
                } else {
                    format!("Show {unread} newer events")
                } }
            </button>
            if let Some(error) = &*failed {
                { error_view(error, None) }
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::audit::Aggregate;
    use caseyos_domain::api::AuditResponse;
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

    fn entry(sequence: i64) -> AuditEntry {
        AuditEntry {
            sequence,
            event_id: uuid::Uuid::from_u128(sequence as u128),
            global_position: sequence,
            event_type: "AgentRunStarted".into(),
            event_version: "1".into(),
            recorded_at: now(),
            actor: None,
            request_id: None,
            correlation_id: None,
            causation_id: None,
            idempotency_key: None,
            metadata: json!({}),
            payload: json!({}),
            state_after: json!({ "version": sequence }),
        }
    }

    #[derive(Properties, PartialEq)]
    struct HostProps {
        history: AuditResponse,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        let context = crate::test_support::checking_context();
        html! {
            <ContextProvider<crate::infra::app_state::AppContext> {context}>
                <crate::components::modal::HookedView view={crate::components::modal::Hooked::NewerEvents(NewerEventsProps {
                    aggregate: Aggregate::AgentRun, id: "run-1".into(),
                    history: props.history.clone(), on_loaded: Callback::noop() })} />
            </ContextProvider<crate::infra::app_state::AppContext>>
        }
    }

    #[wasm_bindgen_test]
    async fn a_history_with_more_pages_offers_its_newer_events() {
        // (events read, the point's sequence, next cursor, the button's words)
        let table = [
            (2, 5, Some("2"), Some("Show 3 newer events")),
            (4, 5, Some("4"), Some("Show 1 newer event")),
            (5, 5, None, None),
        ];
        for (read, sequence, cursor, button) in table {
            let history = AuditResponse {
                aggregate_type: "agent_run".into(),
                aggregate_id: "run-1".into(),
                events: (1..=read).map(entry).collect(),
                sequence,
                state: json!({ "version": sequence }),
                total_events: sequence,
                next_cursor: cursor.map(str::to_string),
            };
            let root = crate::test_support::mount::<Host>(HostProps { history }).await;
            let shown = root
                .query_selector(".newer-events button")
                .unwrap()
                .and_then(|b| b.text_content());
            assert_eq!(shown.as_deref(), button, "{read} of {sequence} read");
        }
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
