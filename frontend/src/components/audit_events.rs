//! An aggregate's history as a list: each event with who, when, and what changed.

use caseyos_domain::api::AuditEntry;
use yew::prelude::*;

use crate::format::{now, relative};
use crate::timeline::changes;

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

#[derive(Properties, PartialEq)]
pub struct EventListProps {
    pub events: Vec<AuditEntry>,
    /// The event picked (1-based), when events can be picked.
    #[prop_or_default]
    pub current: Option<usize>,
    /// Makes each event a button that picks it.
    #[prop_or_default]
    pub on_pick: Option<Callback<usize>>,
}

#[component]
pub fn EventList(props: &EventListProps) -> Html {
    let now = now();
    let events = &props.events;
    html! {
        <ol class="events">
            { for events.iter().enumerate().map(|(i, e)| {
                let before = if i == 0 { serde_json::Value::Null } else { events[i - 1].state_after.clone() };
                let current = props.current == Some(i + 1);
                let head = html! {
                    <>
                        <strong>{ &e.event_type }</strong>
                        <span class="muted">{ format!(" by {} ", e.actor.clone().unwrap_or_else(|| "unknown".into())) }</span>
                        <time datetime={e.recorded_at.to_rfc3339()} title={e.recorded_at.to_rfc3339()}>{ relative(now, e.recorded_at) }</time>
                    </>
                };
                html! {
                    <li class={classes!("event", current.then_some("current"))}>
                        if let Some(pick) = &props.on_pick {
                            <button class="event-head" aria-pressed={current.to_string()}
                                    onclick={let pick = pick.clone(); move |_| pick.emit(i + 1)}>{ head }</button>
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
