//! One deal: its header (stage, amount, close date, owner, forecast category), the health
//! score with every factor's points and reason ("not scored" once closed), the risk flags with
//! their evidence, recommended moves, and its timeline (newest first). `?as_of=` shows all of
//! it as it stood then.

use caseyos_domain::api::{AuditEntry, QueueListResponse};
use serde_json::Value;
use yew::prelude::*;

use super::{as_of, go_with};
use crate::api;
use crate::components::contacts::{at, fields_table, items, page, part, str_at, text};
use crate::components::deals::{as_of_bar, money, risk_label, text_table, when};
use crate::components::status::{self, empty};
use crate::hooks::{use_query, Refresh};
use crate::infra::format::{absolute, humanize};
use crate::infra::live::Feed;
use crate::routes::{link, use_location, Route};

#[derive(Properties, PartialEq)]
pub struct DealProps {
    pub id: AttrValue,
}

fn header(d: &Value) -> Html {
    let category = format!(
        "{}{}",
        humanize(str_at(d, "forecast_category").unwrap_or_default()),
        if at(d, "forecast_category_explicit").as_bool() == Some(true) {
            " (chosen)"
        } else {
            " (from the stage)"
        }
    );
    let rows = [
        (
            "Stage",
            format!(
                "{} ({}%)",
                text(at(d, "stage.label")),
                text(at(d, "stage.probability"))
            ),
        ),
        ("Status", text(at(d, "status"))),
        ("Amount", money(at(d, "amount"))),
        (
            "Close date",
            format!(
                "{} ({} pushes)",
                text(at(d, "close_date")),
                text(at(d, "close_date_pushes"))
            ),
        ),
        ("Owner", text(at(d, "owner"))),
        ("Forecast category", category),
        ("Next step", text(at(d, "next_step"))),
        ("In stage since", when(at(d, "stage_entered_at"))),
    ];
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v])
        .collect();
    text_table("The deal", "fields-table deal-header", &[], &rows, None)
}

fn score(health: &Value) -> Html {
    if str_at(health, "state") != Some("scored") {
        return html! { <p><strong>{ "Not scored. " }</strong>{ text(at(health, "reason")) }</p> };
    }
    html! {
        <>
            <p class="score-total"><strong>{ format!("{} of 100", text(at(health, "total"))) }</strong>
                if at(health, "defaults").as_bool() == Some(true) { <span class="muted">{ " (computed with the default settings)" }</span> }
            </p>
            { text_table("Score factors", "factors", &["Factor", "Points", "Why"],
                &items(at(health, "factors")).iter().map(|f| vec![
                    humanize(str_at(f, "kind").unwrap_or_default()),
                    format!("{} of {}", text(at(f, "points")), text(at(f, "max"))),
                    text(at(f, "reason")),
                ]).collect::<Vec<_>>(), None) }
        </>
    }
}

fn flags(risks: &[Value]) -> Html {
    if risks.is_empty() {
        return html! { <p class="muted">{ "No risk flags." }</p> };
    }
    html! {
        <ul class="flags">
            { for risks.iter().map(|r| html! {
                <li>
                    <strong>{ risk_label(str_at(r, "kind").unwrap_or_default()) }</strong>
                    { format!(" — {}", text(at(r, "rule"))) }
                    <ul class="evidence">
                        { for items(at(r, "evidence")).iter().map(|e| html! {
                            <li>
                                { text(at(e, "fact")) }
                                if let Some(event) = str_at(e, "event") { <span class="muted">{ format!(" · {}", humanize(event)) }</span> }
                                if !at(e, "at").is_null() { <span class="muted">{ format!(" · {}", when(at(e, "at"))) }</span> }
                            </li>
                        }) }
                    </ul>
                </li>
            }) }
        </ul>
    }
}

/// The moves about the deal waiting in Today's Moves, each linked to its page.
fn recommended(moves: &QueueListResponse) -> Html {
    if moves.items.is_empty() {
        return empty(
            "No moves waiting for this deal",
            html! {
                <p class="muted">{ "Run DealAdvisor on it from " }{ link(Route::Agents, html! { "Agents" }) }{ " to propose two or three." }</p>
            },
        );
    }
    html! {
        <ul class="plain">
            { for moves.items.iter().map(|m| html! {
                <li>
                    { link(Route::Item { id: m.id.to_string() }, html! { &m.title }) }
                    <span class="muted">{ format!(" · APS {} · {}", crate::infra::format::score(m.aps.score), m.status.as_str()) }</span>
                </li>
            }) }
        </ul>
    }
}

fn timeline(events: &[AuditEntry], total: i64) -> Html {
    html! {
        <>
            if total > events.len() as i64 {
                <p class="muted">{ format!("The first {} of {total} events.", events.len()) }</p>
            }
            <ol class="timeline deal-timeline" reversed=true>
                { for events.iter().rev().map(|e| html! {
                    <li class="event" id={format!("event-{}", e.global_position)}>
                        <strong>{ &e.event_type }</strong>
                        <span class="muted">{ format!(" by {} · ", e.actor.clone().unwrap_or_else(|| "unknown".into())) }</span>
                        <time datetime={e.recorded_at.to_rfc3339()}>{ absolute(e.recorded_at) }</time>
                        <span class="muted">{ format!(" · position {}", e.global_position) }</span>
                    </li>
                }) }
            </ol>
        </>
    }
}

#[hook]
pub fn use_deal_page(props: &DealProps) -> Html {
    let location = use_location();
    let as_of = as_of(&location);
    let refresh = if as_of.is_some() {
        Refresh::never()
    } else {
        Refresh::on(Feed::Deals)
    };
    let query = use_query(
        refresh,
        (props.id.clone(), as_of.clone()),
        |(id, as_of), c| {
            let (id, as_of) = (id.clone(), as_of.clone());
            async move {
                let deal = api::deals::deal(&id, as_of.as_deref(), c.as_deref()).await?;
                let history = api::deals::history(&id, as_of.as_deref()).await?;
                // The moves about this deal that wait in Today's Moves (DealAdvisor's).
                let moves = api::queue::list(
                    &format!("deal={}&status=pending,snoozed&limit=10", id),
                    c.as_deref(),
                )
                .await?;
                Ok((deal, history, moves))
            }
        },
    );
    let on_as_of = {
        let id = props.id.to_string();
        Callback::from(move |at: Option<String>| {
            go_with(&Route::Deal { id: id.clone() }, &[("as_of", at.as_deref())])
        })
    };
    let answer = match &*query {
        status::Load::Ready((deal, _, _)) => Some(deal),
        _ => None,
    };
    let title = answer
        .and_then(|a| str_at(a, "deal.name"))
        .unwrap_or("Deal")
        .to_string();
    let sub = html! { <>{ link(Route::Pipeline, html! { "Pipeline" }) }{ " · " }{ link(Route::Forecast, html! { "Forecast" }) }</> };
    page(
        "deal-title",
        &title,
        sub,
        html! {
            <>
                { as_of_bar(as_of.as_deref(), answer, false, &on_as_of) }
                { status::view(&*query, 5, &query.reload, |(deal, history, moves)| html! {
                    <>
                        { header(at(deal, "deal")) }
                        { part("Health score", score(at(deal, "health"))) }
                        { part("Risk flags and their evidence", flags(items(at(deal, "risks")))) }
                        { part("Recommended moves", recommended(moves)) }
                        { part("Timeline", timeline(&history.events, history.total_events)) }
                        { part("Details", fields_table(at(deal, "deal"), &[("Pipeline", "pipeline"), ("Contacts", "contacts"), ("Last activity", "last_activity_at"), ("Created", "created_at"), ("Lost reason", "lost_reason"), ("CRM id", "crm_id")])) }
                    </>
                }) }
            </>
        },
    )
}
