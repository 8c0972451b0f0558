//! The pipeline board: a column per open stage with its count, total and weighted total (the
//! server's numbers, from pipeline health), and a card per open deal with its amount, owner,
//! age in stage, score and risk dots. Moving a card is a command (`POST
//! /api/deals/{id}/move`) — by dragging it to a column, by `[` and `]` on a focused card, or
//! with its "Move to" menu; the board shows the move once the server confirmed it, and says
//! why when it refused.

use chrono::{DateTime, Utc};
use serde_json::Value;
use yew::prelude::*;

use super::{deal_link, go_with};
use crate::api::{self, ApiError};
use crate::components::contacts::{at, items, page, str_at, text};
use crate::components::deals::{money, risk_dots};
use crate::components::status::{self, empty, error_view};
use crate::hooks::{use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::dom::value_of;
use crate::infra::format::{now, relative};
use crate::infra::live::Feed;
use crate::routes::query::query_value;
use crate::routes::{use_location, Route};

/// The most deals the board reads (the API's largest page).
const LIMIT: usize = 100;

/// A stage of the chosen pipeline: id, label, kind.
struct Stage<'a> {
    id: &'a str,
    label: &'a str,
    kind: &'a str,
}

fn stages(pipeline: &Value) -> Vec<Stage<'_>> {
    items(at(pipeline, "pipeline.stages"))
        .iter()
        .map(|s| Stage {
            id: str_at(s, "id").unwrap_or_default(),
            label: str_at(s, "label").unwrap_or_default(),
            kind: str_at(s, "kind").unwrap_or("open"),
        })
        .collect()
}

/// The open stage beside `stage` (`step` −1 or +1), if any.
fn beside<'a>(open: &[&Stage<'a>], stage: &str, step: isize) -> Option<&'a str> {
    let at = open.iter().position(|s| s.id == stage)?;
    let next = at.checked_add_signed(step)?;
    open.get(next).map(|s| s.id)
}

/// "1 deal", "3 deals".
fn deals_count(n: i64) -> String {
    if n == 1 {
        "1 deal".to_string()
    } else {
        format!("{n} deals")
    }
}

/// A move asked for: the deal, its name and the stage.
#[derive(Clone, PartialEq)]
struct Move {
    deal: String,
    name: String,
    stage: String,
}

/// What the last move did.
#[derive(Clone, PartialEq)]
enum Outcome {
    Moved(String),
    Refused(ApiError),
}

#[allow(clippy::too_many_arguments)]
fn card(
    deal: &Value,
    open: &[&Stage],
    movable: &[&Stage],
    busy: bool,
    now: DateTime<Utc>,
    on_move: &Callback<Move>,
    on_drag: &Callback<Option<String>>,
) -> Html {
    let d = at(deal, "deal");
    let id = str_at(d, "id").unwrap_or_default().to_string();
    let name = str_at(d, "name").unwrap_or("(no name)").to_string();
    let stage = str_at(d, "stage.id").unwrap_or_default().to_string();
    let age = str_at(d, "stage_entered_at")
        .and_then(caseyos_domain::kernel::instant::parse)
        .map(|t| relative(now, t))
        .unwrap_or_default();
    let score = match at(deal, "score").as_i64() {
        Some(score) => format!("score {score}"),
        None => "not scored".to_string(),
    };
    let to = |step: isize| beside(open, &stage, step);
    let onkeydown = {
        let (on_move, id, name) = (on_move.clone(), id.clone(), name.clone());
        let (back, forward) = (to(-1).map(str::to_string), to(1).map(str::to_string));
        Callback::from(move |e: KeyboardEvent| {
            let target = match e.key().as_str() {
                "[" => back.clone(),
                "]" => forward.clone(),
                _ => None,
            };
            let in_field = e
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                .is_some_and(|el| el.tag_name() == "SELECT");
            if let Some(stage) = target.filter(|_| !busy && !in_field) {
                e.prevent_default();
                on_move.emit(Move {
                    deal: id.clone(),
                    name: name.clone(),
                    stage,
                });
            }
        })
    };
    let onchange = {
        let (on_move, id, name) = (on_move.clone(), id.clone(), name.clone());
        Callback::from(move |e: Event| {
            let stage = value_of(&e);
            // The menu goes back to "Move to…": the card's column says where the deal is.
            if let Some(select) = e.target() {
                let _ = js_sys::Reflect::set(&select, &"value".into(), &"".into());
            }
            if !stage.is_empty() {
                on_move.emit(Move {
                    deal: id.clone(),
                    name: name.clone(),
                    stage,
                });
            }
        })
    };
    let ondragstart = {
        let id = id.clone();
        on_drag.reform(move |_: DragEvent| Some(id.clone()))
    };
    let select_id = format!("move-{id}");
    html! {
        <li class="deal-card" tabindex="0" draggable={(!busy).to_string()} data-id={id.clone()} data-stage={stage.clone()}
            aria-keyshortcuts="[ ]" aria-busy={busy.then_some("true")} {onkeydown} {ondragstart}
            ondragend={on_drag.reform(|_: DragEvent| None)}>
            <div class="deal-name">{ deal_link(&id, &name) }</div>
            <div class="deal-amount">{ money(at(d, "amount")) }</div>
            <div class="muted small">{ format!("{} · entered the stage {age}", text(at(d, "owner"))) }</div>
            <div class="deal-signals"><span class="score">{ score }</span>{ risk_dots(items(at(deal, "risks"))) }</div>
            <label class="visually-hidden" for={select_id.clone()}>{ format!("Move {name} to") }</label>
            <select id={select_id} class="move-to" disabled={busy} {onchange}>
                <option value="" selected=true>{ "Move to…" }</option>
                { for movable.iter().filter(|s| s.id != stage).map(|s| html! {
                    <option value={s.id.to_string()}>{ s.label.to_string() }</option>
                }) }
            </select>
        </li>
    }
}

#[hook]
pub fn use_board_page() -> Html {
    let app = use_app();
    let location = use_location();
    let chosen = query_value(location.query_str(), "pipeline");
    let moving = use_state(|| None::<String>);
    let outcome = use_state(|| None::<Outcome>);
    let dragged = use_state(|| None::<String>);
    // The card a move was confirmed for (deal, stage): it gets the focus back once the board
    // shows it in its new column, so the keyboard can go on moving it.
    let refocus = use_mut_ref(|| None::<(String, String)>);
    {
        let refocus = refocus.clone();
        use_effect(move || {
            let Some((deal, stage)) = refocus.borrow().clone() else {
                return;
            };
            let card = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| {
                    d.query_selector(&format!(
                        ".stage-column[data-stage='{stage}'] li.deal-card[data-id='{deal}']"
                    ))
                    .ok()
                    .flatten()
                })
                .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok());
            if let Some(card) = card {
                let _ = card.focus();
                *refocus.borrow_mut() = None;
            }
        });
    }

    let pipelines = use_query(Refresh::on(Feed::Deals), (), |_, c| async move {
        api::deals::pipelines(c.as_deref()).await
    });
    let list = match &*pipelines {
        status::Load::Ready(p) => items(p).to_vec(),
        _ => Vec::new(),
    };
    let pipeline = list
        .iter()
        .find(|p| chosen.is_some() && str_at(p, "pipeline.id") == chosen.as_deref())
        .or(list.first())
        .cloned();
    let pipeline_id = pipeline
        .as_ref()
        .and_then(|p| str_at(p, "pipeline.id"))
        .map(str::to_string);
    let board = use_query(Refresh::on(Feed::Deals), pipeline_id.clone(), |id, c| {
        let id = id.clone();
        async move {
            let Some(id) = id else { return Ok(None) };
            let query = format!(
                "{}&status=open&limit={LIMIT}&sort=-amount",
                crate::routes::query::pair("pipeline", &id)
            );
            let deals = api::deals::deals(&query, c.as_deref()).await?;
            let health = api::deals::pipeline_health(c.as_deref()).await?;
            Ok(Some((deals, health)))
        }
    });

    let on_move = {
        let (moving, outcome, board, app, refocus) = (
            moving.clone(),
            outcome.clone(),
            board.clone(),
            app.clone(),
            refocus.clone(),
        );
        Callback::from(move |m: Move| {
            if moving.is_some() {
                return;
            }
            let (moving, outcome, board, app, refocus) = (
                moving.clone(),
                outcome.clone(),
                board.clone(),
                app.clone(),
                refocus.clone(),
            );
            moving.set(Some(m.deal.clone()));
            outcome.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::deals::move_to(&m.deal, &m.stage).await {
                    Ok(answer) => {
                        let stage = text(at(&answer, "deal.stage.label"));
                        outcome.set(Some(Outcome::Moved(format!(
                            "Moved {} to {stage}.",
                            m.name
                        ))));
                        *refocus.borrow_mut() = Some((m.deal.clone(), m.stage.clone()));
                        if let Some(token) = str_at(&answer, "consistency") {
                            board.read_after(token.to_string());
                        }
                    }
                    Err(error) => {
                        app.check(&error);
                        outcome.set(Some(Outcome::Refused(error)));
                    }
                }
                moving.set(None);
            });
        })
    };
    let on_drag = {
        let dragged = dragged.clone();
        Callback::from(move |id: Option<String>| dragged.set(id))
    };

    let picker = if list.len() > 1 {
        let onchange = Callback::from(|e: Event| {
            go_with(&Route::Pipeline, &[("pipeline", Some(&value_of(&e)))])
        });
        html! {
            <p>
                <label for="pipeline-pick">{ "Pipeline " }</label>
                <select id="pipeline-pick" {onchange}>
                    { for list.iter().map(|p| {
                        let id = str_at(p, "pipeline.id").unwrap_or_default();
                        html! { <option value={id.to_string()} selected={pipeline_id.as_deref() == Some(id)}>{ text(at(p, "pipeline.label")) }</option> }
                    }) }
                </select>
            </p>
        }
    } else {
        html! {}
    };
    let notice = match &*outcome {
        Some(Outcome::Moved(words)) => {
            html! { <p class="notice" role="status">{ words.clone() }</p> }
        }
        Some(Outcome::Refused(error)) => html! {
            <div role="alert"><p><strong>{ "The move was refused; the deal stays where it was." }</strong></p>{ error_view(error, None) }</div>
        },
        None => html! { <p class="visually-hidden" role="status"></p> },
    };
    let sub = html! {
        <>
            { "Drag a card to a column, or focus a card and press " }<kbd>{ "[" }</kbd>{ " / " }<kbd>{ "]" }</kbd>
            { " to move it one stage back or on (or use its Move to menu). A move shows once the server has recorded it." }
        </>
    };
    let now = now();
    page(
        "board-title",
        "Pipeline",
        sub,
        html! {
            <>
                { picker }
                { notice }
                { status::view(&*pipelines, 3, &pipelines.reload, |_| status::view(&*board, 4, &board.reload, |answer| {
                    let (Some(pipeline), Some((deals, health))) = (pipeline.as_ref(), answer.as_ref()) else {
                        return empty("No pipeline", html! { <p class="muted">{ "Define a pipeline first." }</p> });
                    };
                    let all = stages(pipeline);
                    let open: Vec<&Stage> = all.iter().filter(|s| s.kind == "open").collect();
                    let movable: Vec<&Stage> = all.iter().filter(|s| s.kind != "lost").collect();
                    let pid = str_at(pipeline, "pipeline.id").unwrap_or_default();
                    let numbers = items(health).iter().find(|p| str_at(p, "pipeline") == Some(pid));
                    let total = at(deals, "total").as_u64().unwrap_or_default();
                    let deals = items(deals);
                    html! {
                        <>
                        if total as usize > deals.len() {
                            <p class="notice">{ format!("Showing the {} largest of {total} open deals; the column numbers count them all.", deals.len()) }</p>
                        }
                        <div class="board">
                            { for open.iter().map(|s| {
                                let column: Vec<&Value> = deals.iter().filter(|d| str_at(d, "deal.stage.id") == Some(s.id)).collect();
                                let sums = numbers.map(|n| items(at(n, "stages"))).unwrap_or_default().iter().find(|h| str_at(h, "stage") == Some(s.id));
                                let heading_id = format!("stage-{}", s.id);
                                let ondrop = {
                                    let (dragged, on_move, stage) = (dragged.clone(), on_move.clone(), s.id.to_string());
                                    let names: Vec<(String, String, String)> = deals.iter().map(|d| (
                                        text(at(d, "deal.id")), text(at(d, "deal.name")), text(at(d, "deal.stage.id")))).collect();
                                    Callback::from(move |e: DragEvent| {
                                        e.prevent_default();
                                        let Some(id) = (*dragged).clone() else { return };
                                        if let Some((_, name, from)) = names.iter().find(|(d, _, _)| *d == id) {
                                            if *from != stage {
                                                on_move.emit(Move { deal: id, name: name.clone(), stage: stage.clone() });
                                            }
                                        }
                                    })
                                };
                                html! {
                                    <section class="stage-column" aria-labelledby={heading_id.clone()} data-stage={s.id.to_string()}
                                             ondragover={Callback::from(|e: DragEvent| e.prevent_default())} {ondrop}>
                                        <h2 id={heading_id}>{ s.label.to_string() }</h2>
                                        <p class="muted small stage-sums">
                                            { match sums {
                                                Some(h) => format!("{} · {} · weighted {}", deals_count(at(h, "count").as_i64().unwrap_or_default()), money(at(h, "total")), money(at(h, "weighted"))),
                                                None => deals_count(column.len() as i64),
                                            } }
                                        </p>
                                        <ul class="deal-cards" aria-label={format!("Deals in {}", s.label)}>
                                            { for column.iter().map(|d| card(d, &open, &movable, moving.is_some(), now, &on_move, &on_drag)) }
                                        </ul>
                                    </section>
                                }
                            }) }
                        </div>
                        </>
                    }
                })) }
            </>
        },
    )
}
