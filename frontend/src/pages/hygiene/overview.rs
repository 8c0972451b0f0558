//! Data hygiene at a glance: the dashboard card (green, yellow or red, with its thresholds),
//! today's report and its history as a small bar chart, open alerts with Dismiss, and the
//! schedules with their last and next run. Every number is the server's; a connector that
//! is not configured reads "not connected".

use serde_json::Value;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::hygiene::Schedules;
use crate::api::{self, ApiError};
use crate::components::agent_runs::run_status::run_status_badge;
use crate::components::status::{self, empty, error_view};
use crate::hooks::{use_query, Refresh};
use crate::infra::format::{absolute, humanize, now, relative};
use crate::infra::live::Feed;
use crate::routes::Route;

/// The code of an answer about a connector that is not configured.
const NOT_CONNECTED: &str = "connector.not_connected";

/// An error, or "not connected" when that is what it says.
fn failed(error: &ApiError, retry: &Callback<()>) -> Html {
    if error.code == NOT_CONNECTED {
        html! { <p class="chip offline">{ "not connected" }{ format!(": {}", error.message) }</p> }
    } else {
        error_view(error, Some(retry))
    }
}

/// A value as text: strings as they are (`not_connected` in words), other values as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => humanize(s),
        Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}

/// An object's fields as facts, nested objects as their own lists; `skip` left out.
fn facts(value: &Value, skip: &[&str]) -> Html {
    let Some(map) = value.as_object() else {
        return html! { <p>{ text(value) }</p> };
    };
    html! {
        <dl class="fields">
            { for map.iter().filter(|(k, _)| !skip.contains(&k.as_str())).map(|(k, v)| html! {
                <>
                    <dt>{ humanize(k) }</dt>
                    <dd>{ if v.is_object() { facts(v, &[]) } else { html! { text(v) } } }</dd>
                </>
            }) }
        </dl>
    }
}

/// The list in an answer: its `items`, or the answer itself when it is a list.
fn items(value: &Value) -> &[Value] {
    value
        .get("items")
        .unwrap_or(value)
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A status as the card shows it: a glyph and words besides the colour.
fn card_status(status: &str) -> Html {
    let (tone, glyph) = match status {
        "green" => ("ok", "✓"),
        "yellow" => ("late", "!"),
        "red" => ("bad", "✕"),
        _ => ("off", "–"),
    };
    html! { <span class={classes!("chip", "run-status", tone)}><span aria-hidden="true">{ glyph }</span>{ humanize(status) }</span> }
}

/// The numeric fields of the reports, in the order the newest report lists them.
pub fn metrics(rows: &[Value]) -> Vec<String> {
    rows.last()
        .and_then(Value::as_object)
        .map(|row| {
            row.iter()
                .filter(|(_, v)| v.is_u64() || v.is_i64())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// One bar per report (oldest first): `(date, value)` of `metric`, a missing value as 0.
pub fn series(rows: &[Value], metric: &str) -> Vec<(String, i64)> {
    rows.iter()
        .map(|row| {
            let date = row.get("date").map(text).unwrap_or_default();
            (date, row.get(metric).and_then(Value::as_i64).unwrap_or(0))
        })
        .collect()
}

/// The reports oldest first, whichever order they came in (dates sort as text).
fn oldest_first(rows: &[Value]) -> Vec<Value> {
    let date = |row: Option<&Value>| row.and_then(|r| r.get("date")).map(text);
    let mut rows = rows.to_vec();
    if date(rows.first()) > date(rows.last()) {
        rows.reverse();
    }
    rows
}

const CHART_W: i64 = 600;
const CHART_H: i64 = 120;

/// Bars of `series`, scaled to the largest; each bar's date and value in its title.
fn chart(metric: &str, series: &[(String, i64)]) -> Html {
    let max = series.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let count = series.len().max(1) as i64;
    let slot = CHART_W / count;
    let width = (slot - 2).max(1);
    let summary = format!(
        "{} by day: {}",
        humanize(metric),
        series
            .iter()
            .map(|(d, v)| format!("{d} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    html! {
        <svg class="chart" viewBox={format!("0 0 {CHART_W} {}", CHART_H + 2)} role="img" aria-label={summary}>
            { for series.iter().enumerate().map(|(i, (date, v))| {
                let h = (v * CHART_H / max).max(if *v > 0 { 1 } else { 0 });
                html! {
                    <rect x={(i as i64 * slot).to_string()} y={(CHART_H - h).to_string()}
                          width={width.to_string()} height={h.to_string()} class="bar">
                        <title>{ format!("{date}: {v}") }</title>
                    </rect>
                }
            }) }
            <line x1="0" y1={CHART_H.to_string()} x2={CHART_W.to_string()} y2={CHART_H.to_string()} class="axis" />
        </svg>
    }
}

#[component]
pub fn HygienePage() -> Html {
    let card = use_query(Refresh::never(), (), |_, _| api::hygiene::dashboard());
    let reports = use_query(Refresh::never(), (), |_, _| api::hygiene::reports());
    let alerts = use_query(Refresh::never(), (), |_, consistency| async move {
        api::hygiene::alerts(consistency.as_deref()).await
    });
    let schedules = use_query(Refresh::on(Feed::AgentRuns), (), |_, _| {
        api::hygiene::schedules()
    });
    let metric = use_state(|| None::<String>);
    let dismissing = use_state(|| None::<String>);
    let dismiss_failed = use_state(|| None::<ApiError>);

    let card_view = match &*card {
        status::Load::Failed(e) => failed(e, &card.reload),
        load => status::view(load, 2, &card.reload, |card| {
            html! {
                <>
                    <p>{ card_status(card.get("status").and_then(Value::as_str).unwrap_or("unknown")) }</p>
                    { facts(card, &["status"]) }
                </>
            }
        }),
    };

    let reports_view = match &*reports {
        status::Load::Failed(e) => failed(e, &reports.reload),
        load => status::view(load, 3, &reports.reload, |answer| {
            let rows = oldest_first(items(answer));
            let Some(today) = rows.last() else {
                return empty(
                    "No hygiene report yet.",
                    html! { <p class="muted">{ "The first is written when the hygiene agents first run." }</p> },
                );
            };
            let names = metrics(&rows);
            let chosen = (*metric)
                .clone()
                .filter(|m| names.contains(m))
                .or_else(|| names.first().cloned());
            let onchange = {
                let metric = metric.clone();
                Callback::from(move |e: Event| metric.set(Some(crate::infra::dom::value_of(&e))))
            };
            html! {
                <>
                    <h3>{ format!("Latest: {}", today.get("date").map(text).unwrap_or_default()) }</h3>
                    { facts(today, &["date"]) }
                    if let Some(chosen) = chosen {
                        <div class="field">
                            <label for="h-metric">{ "History of" }</label>
                            <select id="h-metric" {onchange}>
                                { for names.iter().map(|n| html! { <option value={n.clone()} selected={*n == chosen}>{ humanize(n) }</option> }) }
                            </select>
                        </div>
                        { chart(&chosen, &series(&rows, &chosen)) }
                    }
                </>
            }
        }),
    };

    let on_dismiss = {
        let (alerts, dismissing, dismiss_failed) =
            (alerts.clone(), dismissing.clone(), dismiss_failed.clone());
        Callback::from(move |id: String| {
            let (alerts, dismissing, dismiss_failed) =
                (alerts.clone(), dismissing.clone(), dismiss_failed.clone());
            dismissing.set(Some(id.clone()));
            dismiss_failed.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::hygiene::dismiss_alert(&id).await;
                dismissing.set(None);
                match answer {
                    Ok(written) => match written.consistency {
                        Some(token) => alerts.read_after(token),
                        None => alerts.reload.emit(()),
                    },
                    Err(error) => dismiss_failed.set(Some(error)),
                }
            });
        })
    };
    let alerts_view = match &*alerts {
        status::Load::Failed(e) => failed(e, &alerts.reload),
        load => status::view(load, 2, &alerts.reload, |answer| {
            let open: Vec<&Value> = items(answer)
                .iter()
                .filter(|a| {
                    a.get("dismissed_at").is_none_or(Value::is_null)
                        && a.get("dismissed").and_then(Value::as_bool) != Some(true)
                })
                .collect();
            if open.is_empty() {
                return empty("No open alerts.", html! {});
            }
            let now = now();
            html! {
                <ul class="alerts">
                    { for open.into_iter().map(|alert| {
                        let id = alert.get("id").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default();
                        let message = ["message", "title", "summary"].iter().find_map(|k| alert.get(*k).and_then(Value::as_str)).unwrap_or_default().to_string();
                        let severity = alert.get("severity").map(text);
                        let kind = ["code", "kind"].iter().find_map(|k| alert.get(*k).and_then(Value::as_str)).map(str::to_string);
                        let at = ["raised_at", "created_at", "at"].iter().find_map(|k| alert.get(*k).and_then(Value::as_str)).and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok());
                        let busy = dismissing.as_deref() == Some(id.as_str());
                        html! {
                            <li key={id.clone()} class="alert">
                                if let Some(severity) = severity { <span class="chip">{ severity }</span>{ " " } }
                                <strong>{ message }</strong>
                                if let Some(kind) = kind { { " " }<code>{ kind }</code> }
                                if let Some(at) = at { { " · " }<time datetime={at.to_rfc3339()} title={absolute(at)}>{ relative(now, at) }</time> }
                                { " " }
                                <button type="button" class="button" disabled={busy} onclick={on_dismiss.reform(move |_| id.clone())}>{ if busy { "Dismissing…" } else { "Dismiss" } }</button>
                            </li>
                        }
                    }) }
                </ul>
            }
        }),
    };

    let schedules_view = status::view(&*schedules, 3, &schedules.reload, |list: &Schedules| {
        if list.items.is_empty() {
            return empty("No schedules.", html! {});
        }
        let now = now();
        html! {
            <>
                if !list.scheduler_enabled {
                    <p class="muted">{ "This instance does not fire schedules; another instance on the same database may." }</p>
                }
                <div class="table-wrap" tabindex="0" role="region" aria-label="Schedules">
                    <table class="data">
                        <thead>
                            <tr>
                                <th scope="col">{ "Agent" }</th>
                                <th scope="col">{ "Cadence" }</th>
                                <th scope="col">{ "Last run" }</th>
                                <th scope="col">{ "Next run" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for list.items.iter().map(|s| html! {
                                <tr key={s.id.clone()}>
                                    <td>
                                        { &s.agent }
                                        if !s.enabled { { " " }<span class="chip">{ "disabled" }</span> }
                                        if s.agent_missing { { " " }<span class="chip">{ "agent missing" }</span> }
                                    </td>
                                    <td>{ &s.cadence }</td>
                                    <td>
                                        { match &s.last_run {
                                            None => html! { "never" },
                                            Some(run) => html! {
                                                <>
                                                    <Link<Route> to={Route::Run { id: run.run_id.clone() }}>
                                                        <time datetime={run.requested_at.to_rfc3339()} title={absolute(run.requested_at)}>{ relative(now, run.requested_at) }</time>
                                                    </Link<Route>>
                                                    { " " }
                                                    { run.status.map(run_status_badge).unwrap_or_default() }
                                                </>
                                            },
                                        } }
                                    </td>
                                    <td><time datetime={s.next_run_at.to_rfc3339()} title={absolute(s.next_run_at)}>{ relative(now, s.next_run_at) }</time></td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
            </>
        }
    });

    let part = |id: &str, title: &str, body: Html| {
        html! {
            <section aria-labelledby={id.to_string()}>
                <h2 id={id.to_string()}>{ title.to_string() }</h2>
                { body }
            </section>
        }
    };
    html! {
        <section class="page wide" aria-labelledby="hygiene-title">
            <header class="page-header">
                <h1 id="hygiene-title">{ "Data hygiene" }</h1>
                <p class="muted">
                    <Link<Route> to={Route::Duplicates}>{ "Review duplicates" }</Link<Route>>{ " · " }
                    <Link<Route> to={Route::ContactImport}>{ "Import contacts" }</Link<Route>>
                </p>
            </header>
            { part("h-card", "Status", card_view) }
            { part("h-report", "Daily report", reports_view) }
            { part("h-alerts", "Alerts", html! {
                <>
                    if let Some(error) = &*dismiss_failed { { error_view(error, None) } }
                    { alerts_view }
                </>
            }) }
            { part("h-schedules", "Schedules", schedules_view) }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn reports_give_their_numbers_oldest_first() {
        let answer = json!({"items": [
            {"date": "2026-11-30", "duplicates_found": 4, "sync_status": "not_connected", "invalid": 2},
            {"date": "2026-11-29", "duplicates_found": 7, "invalid": 1},
        ]});
        let rows = oldest_first(items(&answer));
        assert_eq!(metrics(&rows), vec!["duplicates_found", "invalid"]);
        assert_eq!(
            series(&rows, "duplicates_found"),
            vec![("2026-11-29".to_string(), 7), ("2026-11-30".to_string(), 4)]
        );
        assert_eq!(text(&json!("not_connected")), "Not connected");
        assert!(items(&json!({})).is_empty());
    }
}
