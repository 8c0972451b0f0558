//! One move: what it is, what it would do, its execution and outcomes, and its history — each event with who and when
//! and what changed, a page at a time, and a scrubber to see the move as it was after any
//! event read so far.

use yew::prelude::*;

use crate::api;
use crate::api::audit::Aggregate;
use crate::components::audit_events::{event_list, NewerEventsProps};
use crate::components::executions::{execution_panel, use_execution};
use crate::components::fields::field;
use crate::components::modal::{Hooked, HookedView};
use crate::components::queue::queue_card::{aps_badge, move_marks, target_line};
use crate::components::status;
use crate::hooks::{reload_all, use_query, Refresh};
use crate::infra::dom::value_of;
use crate::infra::format::{humanize, json, now, relative};
use crate::infra::live::Feed;
use crate::routes::{link, Route};

#[derive(Properties, PartialEq)]
pub struct ItemProps {
    pub id: AttrValue,
}

#[hook]
pub fn use_item_page(props: &ItemProps) -> Html {
    let at = use_state(|| None::<usize>);
    let execution = use_execution(props.id.clone());
    // The move, and its history; both again whenever the queue moves.
    let item = use_query(
        Refresh::on(Feed::Queue),
        props.id.clone(),
        |id, consistency| {
            let id = id.clone();
            async move { api::queue::item(&id, consistency.as_deref()).await }
        },
    );
    let audit = use_query(Refresh::on(Feed::Queue), props.id.clone(), {
        let at = at.clone();
        move |id, _| {
            let (id, at) = (id.clone(), at.clone());
            async move {
                let history = api::audit::history(Aggregate::QueueItem, &id, None).await?;
                at.set(None);
                Ok(history)
            }
        }
    });

    let retry = reload_all([item.reload.clone(), audit.reload.clone()]);
    let details = status::view(&*item, 3, &retry, |found| {
        let view = &found.item;
        let now = now();
        let draft = |key: &str| {
            view.payload
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        html! {
            <article class="detail" aria-labelledby="item-title">
                <header class="detail-header">
                    { aps_badge(&view.aps) }
                    <div>
                        <h1 id="item-title">{ &view.title }</h1>
                        <p class="meta">
                            <span class={classes!("chip", view.status.as_str())}>{ view.status.as_str() }</span>
                            { move_marks(view) }
                            <span>{ humanize(view.action_type.as_str()) }</span>
                            <span>{ humanize(view.domain.as_str()) }</span>
                        </p>
                    </div>
                </header>
                <dl class="fields">
                    { field("Why", html! { { view.rationale.clone().unwrap_or_else(|| "—".into()) } }) }
                    { field("APS", html! { { &view.aps.reasoning } }) }
                    { field("Target", html! { { target_line(view).unwrap_or_else(|| "—".into()) } }) }
                    { field("Owner", html! { { &view.owner } }) }
                    { field("Due", html! { { view.due_by.map(|d| relative(now, d)).unwrap_or_else(|| "—".into()) } }) }
                    if let Some(until) = view.snoozed_until {
                        { field("Snoozed until", html! { { relative(now, until) } }) }
                    }
                    if let Some(decision) = &view.decision {
                        { field("Decision", html! { {
                            format!("{} by {} {}{}", decision.outcome.as_str(), decision.by.id, relative(now, decision.at),
                                decision.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())
                        } }) }
                    }
                </dl>
                if draft("subject").is_some() || draft("body").is_some() {
                    <section class="draft" aria-label="Draft">
                        { for draft("to").map(|to| html! { <p><strong>{ "To: " }</strong>{ to }</p> }) }
                        { for draft("subject").map(|s| html! { <p><strong>{ "Subject: " }</strong>{ s }</p> }) }
                        { for draft("body").map(|b| html! { <pre class="body">{ b }</pre> }) }
                    </section>
                }
            </article>
        }
    });

    let timeline = status::view(&*audit, 3, &retry, |history| {
        if history.events.is_empty() {
            return html! {};
        }
        let count = history.events.len();
        let selected = at.unwrap_or(count).clamp(1, count);
        let oninput = {
            let at = at.clone();
            Callback::from(move |e: InputEvent| {
                if let Ok(v) = value_of(&e).parse::<usize>() {
                    at.set(Some(v));
                }
            })
        };
        let step = |delta: i64| {
            let at = at.clone();
            Callback::from(move |_| {
                let next = (selected as i64 + delta).clamp(1, count as i64) as usize;
                at.set(Some(next));
            })
        };
        let pick = {
            let at = at.clone();
            Callback::from(move |n| at.set(Some(n)))
        };
        let state = &history.events[selected - 1].state_after;
        let entry = &history.events[selected - 1];
        html! {
            <section class="timeline" aria-labelledby="timeline-title">
                <h2 id="timeline-title">{ "History" }</h2>
                <div class="scrubber">
                    <button class="button" onclick={step(-1)} disabled={selected == 1} aria-label="Earlier">{ "◀" }</button>
                    <label for="scrubber" class="visually-hidden">{ "Show the move as it was after event" }</label>
                    <input id="scrubber" type="range" min="1" max={count.to_string()} value={selected.to_string()}
                           aria-valuetext={format!("event {selected} of {count}: {}", entry.event_type)} {oninput} />
                    <button class="button" onclick={step(1)} disabled={selected == count} aria-label="Later">{ "▶" }</button>
                    <span aria-live="polite">{ format!("{selected} / {count}") }</span>
                </div>
                <div class="state-at" aria-live="polite">
                    <h3>{ format!("As it was after “{}”", entry.event_type) }</h3>
                    <dl class="fields">
                        { for ["status", "title", "owner", "due_by", "snoozed_until"].iter().map(|k| {
                            let v = state.get(*k).map(|v| match v { serde_json::Value::String(s) => s.clone(), serde_json::Value::Null => "—".into(), o => json(o) }).unwrap_or_default();
                            field(&humanize(k), html! { { v } })
                        }) }
                        { field("APS", html! { { state.get("aps").and_then(|a| a.get("score")).map(json).unwrap_or_default() } }) }
                    </dl>
                </div>
                { event_list(&history.events, Some(selected), Some(&pick)) }
                <HookedView key="newer" view={Hooked::NewerEvents(NewerEventsProps { aggregate: Aggregate::QueueItem, id: props.id.clone(),
                    history: history.clone(),
                    on_loaded: { let audit = audit.clone(); Callback::from(move |h| audit.set(h)) } })} />
            </section>
        }
    });

    html! {
        <section class="page">
            <p>{ link(Route::Today, html! { "← Today's Moves" }) }</p>
            { details }
            { execution_panel(&execution) }
            { timeline }
        </section>
    }
}
