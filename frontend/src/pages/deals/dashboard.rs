//! The dashboard, the home after signing in: quick stats, the top five moves with a quick
//! approve, agents over 24 hours, pipeline health with the at-risk deals, the activity feed,
//! hygiene (when the answer has it) and connectors. Live while it shows now; `?as_of=` shows
//! it as it stood then, and says so.

use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use super::{as_of, deal_link, go_with};
use crate::api::{self, ApiError};
use crate::components::contacts::{at, items, page, part, str_at, text};
use crate::components::deals::{
    as_of_bar, bars, money, percent_bp, risk_dots, text_table, when, Bar,
};
use crate::components::status::{self, empty, error_view};
use crate::hooks::{use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::format::humanize;
use crate::infra::live::Feed;
use crate::routes::{link, use_location, Route};

/// One figure of the quick stats.
fn figure(value: String, what: &str) -> Html {
    html! { <div class="kpi"><dt>{ what.to_string() }</dt><dd>{ value }</dd></div> }
}

fn stats(s: &Value) -> Html {
    html! {
        <dl class="kpis">
            { figure(text(at(s, "pending_moves")), "Moves waiting") }
            { figure(text(at(s, "open_deals")), "Open deals") }
            { figure(money(at(s, "open_total")), "Open pipeline") }
            { figure(money(at(s, "weighted_total")), "Weighted") }
            { figure(text(at(s, "at_risk_deals")), "Deals at risk") }
            { figure(format!("{} ({} failed)", text(at(s, "agent_runs_24h")), text(at(s, "agent_failures_24h"))), "Agent runs, 24 h") }
        </dl>
    }
}

/// The top moves, each with Approve (disabled while any approval is in flight, absent for
/// viewers and in a historical view).
fn top_moves(
    moves: &[Value],
    can_approve: bool,
    busy: Option<&str>,
    approve: &Callback<String>,
) -> Html {
    if moves.is_empty() {
        return empty(
            "No moves waiting",
            html! { <p class="muted">{ "Agents propose moves into Today's Moves." }</p> },
        );
    }
    html! {
        <ol class="top-moves">
            { for moves.iter().map(|m| {
                let id = str_at(m, "id").unwrap_or_default().to_string();
                let title = str_at(m, "title").unwrap_or("(untitled)").to_string();
                html! {
                    <li>
                        <span class="aps" title="Action priority score">{ text(at(m, "aps.score")) }</span>
                        { link(Route::Item { id: id.clone() }, html! { { title.clone() } }) }
                        if can_approve {
                            <button type="button" class="button" disabled={busy.is_some()}
                                    aria-label={format!("Approve {title}")}
                                    onclick={approve.reform(move |_| id.clone())}>
                                { if busy == str_at(m, "id") { "Approving…" } else { "Approve" } }
                            </button>
                        }
                    </li>
                }
            }) }
        </ol>
    }
}

fn agents(a: &Value) -> Html {
    let list = items(at(a, "agents"));
    if list.is_empty() {
        return html! { <p class="muted">{ "No agent ran in the last 24 hours." }</p> };
    }
    let runs: Vec<Bar> = list
        .iter()
        .map(|g| Bar {
            label: text(at(g, "agent")),
            value: at(g, "runs").as_i64().unwrap_or_default(),
            text: format!(
                "{} runs, {} failed",
                text(at(g, "runs")),
                text(at(g, "failed"))
            ),
        })
        .collect();
    let success: Vec<Bar> = list
        .iter()
        .filter_map(|g| {
            let bp = at(g, "success_basis_points").as_i64()?;
            Some(Bar {
                label: text(at(g, "agent")),
                value: bp,
                text: percent_bp(bp),
            })
        })
        .collect();
    html! {
        <>
            <p>
                { "Most active: " }<strong>{ text(at(a, "most_active")) }</strong>
                { " · best success rate: " }<strong>{ text(at(a, "best_success_rate")) }</strong>
                { " · most failed: " }<strong>{ text(at(a, "most_failed")) }</strong>
            </p>
            <div class="charts">
                { bars("Runs per agent, last 24 hours", &runs, None) }
                if !success.is_empty() { { bars("Success rate of finished runs, last 24 hours", &success, None) } }
            </div>
        </>
    }
}

fn pipelines(list: &[Value]) -> Html {
    html! {
        <>
        { for list.iter().map(|p| html! {
            <section class="pipeline-health">
                <h3>{ text(at(p, "label")) }</h3>
                <p class="muted">{ format!("{} open deals · {} · weighted {} · {} at risk",
                    text(at(p, "open_deals")), money(at(p, "open_total")), money(at(p, "weighted_total")), text(at(p, "at_risk_count"))) }</p>
                { text_table(&format!("{} by stage", text(at(p, "label"))), "stages", &["Stage", "Deals", "Total", "Weighted"],
                    &items(at(p, "stages")).iter().map(|s| vec![
                        format!("{} ({}%)", text(at(s, "label")), text(at(s, "probability"))),
                        text(at(s, "count")), money(at(s, "total")), money(at(s, "weighted")),
                    ]).collect::<Vec<_>>(), None) }
                <h4>{ "At risk" }</h4>
                if items(at(p, "at_risk")).is_empty() { <p class="muted">{ "No open deal has a risk flag." }</p> }
                <ul class="at-risk">
                    { for items(at(p, "at_risk")).iter().map(|d| html! {
                        <li>
                            { deal_link(str_at(d, "id").unwrap_or_default(), str_at(d, "name").unwrap_or("(no name)")) }
                            { format!(" · {} · {} ", text(at(d, "owner")), money(at(d, "amount"))) }
                            { risk_dots(items(at(d, "risks"))) }
                        </li>
                    }) }
                </ul>
            </section>
        }) }
        </>
    }
}

/// Where an aggregate's history is shown: its page in the app, else its audit as JSON.
fn audit_link(kind: &str, id: &str, label: String) -> Html {
    let id = id.to_string();
    let route = match kind {
        "queue_item" => Route::Item { id },
        "agent_run" => Route::Run { id },
        "contact" => Route::Contact { id },
        "deal" => Route::Deal { id },
        _ => {
            return html! { <a href={format!("/api/audit/{kind}/{}", js_sys::encode_uri_component(&id))}>{ label }</a> }
        }
    };
    link(route, html! { { label } })
}

fn activity(list: &[Value]) -> Html {
    if list.is_empty() {
        return html! { <p class="muted">{ "Nothing has happened yet." }</p> };
    }
    html! {
        <ol class="activity">
            { for list.iter().map(|e| {
                let kind = str_at(e, "aggregate_type").unwrap_or_default();
                let id = str_at(e, "aggregate_id").unwrap_or_default();
                let actor = at(e, "actor");
                let who = match str_at(actor, "kind") {
                    Some("user") | None => text(at(actor, "id")),
                    Some(kind) => format!("{kind} {}", text(at(actor, "id"))),
                };
                html! {
                    <li>
                        <time datetime={text(at(e, "recorded_at"))}>{ when(at(e, "recorded_at")) }</time>
                        { " · " }{ who }{ " · " }
                        { audit_link(kind, id, format!("{} ({} {})", str_at(e, "event_type").unwrap_or_default(), humanize(kind), id.chars().take(8).collect::<String>())) }
                        <span class="muted">{ format!(" · #{}", text(at(e, "position"))) }</span>
                    </li>
                }
            }) }
        </ol>
    }
}

fn connectors(list: &[Value]) -> Html {
    html! {
        <ul class="connectors">
            { for list.iter().map(|c| {
                let connected = str_at(c, "status") == Some("connected");
                html! {
                    <li>
                        <strong>{ text(at(c, "name")) }</strong>{ ": " }
                        <span class={classes!("chip", connected.then_some("approved"))}>{ if connected { "connected" } else { "not connected" } }</span>
                        { format!(" · last good call: {}", if at(c, "last_good_call").is_null() { "none recorded".to_string() } else { when(at(c, "last_good_call")) }) }
                    </li>
                }
            }) }
        </ul>
    }
}

#[hook]
pub fn use_dashboard_page() -> Html {
    let app = use_app();
    let location = use_location();
    let as_of = as_of(&location);
    let approving = use_state(|| None::<String>);
    let failed = use_state(|| None::<ApiError>);
    let refresh = if as_of.is_some() {
        Refresh::never()
    } else {
        Refresh::on(Feed::Any)
    };
    let query = use_query(refresh, as_of.clone(), |as_of, consistency| {
        let as_of = as_of.clone();
        async move { api::deals::dashboard(as_of.as_deref(), consistency.as_deref()).await }
    });
    let on_as_of = Callback::from(|at: Option<String>| {
        go_with(&Route::Dashboard, &[("as_of", at.as_deref())])
    });
    let approve = {
        let (approving, failed, query, app) = (
            approving.clone(),
            failed.clone(),
            query.clone(),
            app.clone(),
        );
        Callback::from(move |id: String| {
            let Ok(uuid) = Uuid::parse_str(&id) else {
                return;
            };
            let (approving, failed, query, app) = (
                approving.clone(),
                failed.clone(),
                query.clone(),
                app.clone(),
            );
            approving.set(Some(id));
            failed.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::queue::approve(uuid, None).await {
                    Ok(answer) => query.read_after(answer.consistency),
                    Err(error) => {
                        app.check(&error);
                        failed.set(Some(error));
                    }
                }
                approving.set(None);
            });
        })
    };
    let can_approve = as_of.is_none() && app.session().is_some_and(|s| s.can_decide());
    let answer = match &*query {
        status::Load::Ready(answer) => Some(answer),
        _ => None,
    };
    let sub = html! {
        <>
            { "Today's Moves is one key away: press " }<kbd>{ "t" }</kbd>{ " (or " }
            { link(Route::Today, html! { "open it" }) }{ "; Ctrl/⌘ K jumps anywhere)." }
        </>
    };
    page(
        "dashboard-title",
        "Dashboard",
        sub,
        html! {
            <>
                { as_of_bar(as_of.as_deref(), answer, false, &on_as_of) }
                { for failed.as_ref().map(|e| error_view(e, None)) }
                { status::view(&*query, 6, &query.reload, |d| html! {
                    <div class="dashboard">
                        { part("Quick stats", stats(at(d, "stats"))) }
                        { part("Top moves", top_moves(items(at(d, "top_moves")), can_approve, approving.as_deref(), &approve)) }
                        { part("Agents, last 24 hours", agents(at(d, "agents"))) }
                        { part("Pipeline health", pipelines(items(at(d, "pipelines")))) }
                        { part("Activity", activity(items(at(d, "activity")))) }
                        if !at(d, "hygiene").is_null() {
                            { part("Hygiene", html! {
                                <p>{ "Overall: " }<strong>{ text(at(d, "hygiene.status")) }</strong>{ " · " }{ link(Route::Hygiene, html! { "checks, reports and alerts" }) }</p>
                            }) }
                        }
                        { part("Connectors", connectors(items(at(d, "connectors")))) }
                    </div>
                }) }
            </>
        },
    )
}
