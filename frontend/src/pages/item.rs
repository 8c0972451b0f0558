//! One move: what it is, what it would do, and its full history — each event with who and
//! when and what changed, and a scrubber to see the move as it was at any point.

use caseyos_domain::api::{AuditResponse, QueueItemResponse};
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app_state::use_app;
use crate::components::audit_events::EventList;
use crate::components::queue_card::{target_line, ApsBadge};
use crate::components::status::{ErrorView, Load, Skeleton};
use crate::format::{humanize, now, relative};
use crate::routes::Route;

#[derive(Properties, PartialEq)]
pub struct ItemProps {
    pub id: AttrValue,
}

fn field(label: &str, value: Html) -> Html {
    html! { <><dt>{ label }</dt><dd>{ value }</dd></> }
}

#[component]
pub fn ItemPage(props: &ItemProps) -> Html {
    let app = use_app();
    let item = use_state(|| Load::<QueueItemResponse>::Loading);
    let audit = use_state(|| Load::<AuditResponse>::Loading);
    let at = use_state(|| None::<usize>);
    let reload = use_state(|| 0u32);

    {
        let (item, audit, app, at) = (item.clone(), audit.clone(), app.clone(), at.clone());
        let consistency = app.live.consistency.clone();
        use_effect_with(
            (props.id.clone(), app.live.tick, *reload),
            move |(id, _, _)| {
                let id = id.to_string();
                wasm_bindgen_futures::spawn_local(async move {
                    match api::item(&id, consistency.as_deref()).await {
                        Ok(found) => item.set(Load::Ready(found)),
                        Err(error) => {
                            app.check(&error);
                            item.set(Load::Failed(error));
                        }
                    }
                    match api::audit("queue_item", &id).await {
                        Ok(history) => {
                            at.set(None);
                            audit.set(Load::Ready(history));
                        }
                        Err(error) => {
                            app.check(&error);
                            audit.set(Load::Failed(error));
                        }
                    }
                });
            },
        );
    }

    let retry = {
        let reload = reload.clone();
        Callback::from(move |_| reload.set(*reload + 1))
    };
    let details = match &*item {
        Load::Loading => html! { <Skeleton rows={3} /> },
        Load::Failed(error) => {
            html! { <ErrorView error={error.clone()} on_retry={retry.clone()} /> }
        }
        Load::Ready(found) => {
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
                        <ApsBadge item={view.clone()} />
                        <div>
                            <h1 id="item-title">{ &view.title }</h1>
                            <p class="meta">
                                <span class={classes!("chip", view.status.as_str())}>{ view.status.as_str() }</span>
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
        }
    };

    let timeline = match &*audit {
        Load::Loading => html! { <Skeleton rows={3} /> },
        Load::Failed(error) => {
            html! { <ErrorView error={error.clone()} on_retry={retry.clone()} /> }
        }
        Load::Ready(history) if history.events.is_empty() => html! {},
        Load::Ready(history) => {
            let count = history.events.len();
            let selected = at.unwrap_or(count).clamp(1, count);
            let oninput = {
                let at = at.clone();
                Callback::from(move |e: InputEvent| {
                    if let Ok(v) = e
                        .target_unchecked_into::<HtmlInputElement>()
                        .value()
                        .parse::<usize>()
                    {
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
                                let v = state.get(*k).map(|v| match v { serde_json::Value::String(s) => s.clone(), serde_json::Value::Null => "—".into(), o => o.to_string() }).unwrap_or_default();
                                field(&humanize(k), html! { { v } })
                            }) }
                            { field("APS", html! { { state.get("aps").and_then(|a| a.get("score")).map(|s| s.to_string()).unwrap_or_default() } }) }
                        </dl>
                    </div>
                    <EventList events={history.events.clone()} current={Some(selected)}
                        on_pick={let at = at.clone(); Callback::from(move |n| at.set(Some(n)))} />
                </section>
            }
        }
    };

    html! {
        <section class="page">
            <p><Link<Route> to={Route::Today}>{ "← Today's Moves" }</Link<Route>></p>
            { details }
            { timeline }
        </section>
    }
}
