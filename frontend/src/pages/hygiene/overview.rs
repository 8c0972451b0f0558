//! Data hygiene: the dashboard's card (each check's value, light and thresholds, marked when
//! they are the defaults), the daily reports of the last 30 days with duplicates found per
//! day as a chart, and the open alerts with Dismiss. Every number is the server's.

use chrono::{Duration, NaiveDate};
use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api::{self, ApiError};
use crate::components::contacts::{at, items, list_table, page, part, str_at, text};
use crate::components::status::{self, empty, error_view};
use crate::hooks::{use_query, Refresh};
use crate::infra::format::humanize;
use crate::routes::{link, Route};

const CHECKS: &[(&str, &str)] = &[("Value", "value"), ("Light", "status"), ("Note", "note")];

const REPORTS: &[(&str, &str)] = &[
    ("Day", "date"),
    ("Duplicates found", "duplicates_found"),
    ("Merged", "merged"),
    ("Validated", "validated"),
    ("Invalid", "invalid"),
    ("Enriched", "enriched"),
    ("Stale", "stale"),
    ("Sync", "sync_status"),
];

const ALERTS: &[(&str, &str)] = &[
    ("Severity", "severity"),
    ("What", "message"),
    ("Raised at", "raised_at"),
];

/// A check's name, and "(default thresholds)" while nobody configured them.
fn check_lead(check: &Value) -> Html {
    let name = humanize(str_at(check, "name").unwrap_or_default());
    let default = at(check, "thresholds.default").as_bool() == Some(true);
    html! { <>{ name }if default { <span class="chip">{ "default thresholds" }</span> }</> }
}

/// `(day, duplicates found)` for each of the `days` days up to `last`, 0 on a day without a
/// report.
pub fn daily(reports: &[Value], last: NaiveDate, days: i64) -> Vec<(NaiveDate, i64)> {
    (0..days)
        .rev()
        .map(|back| {
            let day = last - Duration::days(back);
            let found = reports
                .iter()
                .find(|r| str_at(r, "date") == Some(&day.to_string()))
                .and_then(|r| r["duplicates_found"].as_i64())
                .unwrap_or(0);
            (day, found)
        })
        .collect()
}

/// Bars of `series` scaled to the largest, each with its day and count in its title; the
/// whole as one sentence for screen readers.
fn chart(series: &[(NaiveDate, i64)]) -> Html {
    const W: i64 = 600;
    const H: i64 = 100;
    let max = series.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let slot = W / (series.len() as i64).max(1);
    let label = format!(
        "Duplicate pairs found per day, {} to {}: {} in all",
        series
            .first()
            .map(|(d, _)| d.to_string())
            .unwrap_or_default(),
        series
            .last()
            .map(|(d, _)| d.to_string())
            .unwrap_or_default(),
        series.iter().map(|(_, n)| n).sum::<i64>()
    );
    html! {
        <figure>
        <svg class="chart" viewBox={format!("0 0 {W} {}", H + 2)} role="img" aria-label={label.clone()}>
            { for series.iter().enumerate().map(|(i, (day, n))| {
                let h = n * H / max;
                html! {
                    <rect class="bar" x={(i as i64 * slot).to_string()} y={(H - h).to_string()}
                          width={(slot - 2).max(1).to_string()} height={h.to_string()}>
                        <title>{ format!("{day}: {n}") }</title>
                    </rect>
                }
            }) }
            <line class="axis" x1="0" y1={H.to_string()} x2={W.to_string()} y2={H.to_string()} />
        </svg>
        <figcaption class="muted">{ label }</figcaption>
        </figure>
    }
}

#[hook]
pub fn use_hygiene_page() -> Html {
    let card = use_query(Refresh::never(), (), |_, c| async move {
        api::hygiene::dashboard(c.as_deref()).await
    });
    let reports = use_query(Refresh::never(), (), |_, c| async move {
        api::hygiene::reports(c.as_deref()).await
    });
    let alerts = use_query(Refresh::never(), (), |_, c| async move {
        api::hygiene::open_alerts(c.as_deref()).await
    });
    let failed = use_state(|| None::<ApiError>);

    let card_view = status::view(&*card, 3, &card.reload, |card| {
        html! {
            <>
                <p>{ "Overall: " }<strong>{ text(&card["status"]) }</strong></p>
                { list_table("Hygiene checks", items(&card["checks"]), CHECKS, Some(("Check", &check_lead))) }
            </>
        }
    });
    let reports_view = status::view(&*reports, 3, &reports.reload, |answer| {
        let rows = items(answer);
        let today = crate::infra::format::now().date_naive();
        if rows.is_empty() {
            return empty(
                "No hygiene activity in the last 30 days.",
                html! { <p class="muted">{ "Reports come from the hygiene agents' runs, merges and imports." }</p> },
            );
        }
        html! {
            <>
                { chart(&daily(rows, today, 30)) }
                { list_table("Daily reports, newest first", rows, REPORTS, None) }
            </>
        }
    });
    let dismiss = {
        let (alerts, failed) = (alerts.clone(), failed.clone());
        move |alert: &Value| {
            let id = str_at(alert, "id").unwrap_or_default().to_string();
            let (alerts, failed) = (alerts.clone(), failed.clone());
            let onclick = Callback::from(move |_: MouseEvent| {
                let (id, alerts, failed) = (id.clone(), alerts.clone(), failed.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    match api::hygiene::dismiss_alert(&id).await {
                        Ok(answer) => match api::contacts::consistency(&answer) {
                            Some(token) => alerts.read_after(token),
                            None => alerts.reload.emit(()),
                        },
                        Err(error) => failed.set(Some(error)),
                    }
                });
            });
            html! { <><strong>{ text(&alert["title"]) }</strong>{ " " }{ button("button", "Dismiss", false, onclick) }</> }
        }
    };
    let alerts_view = status::view(&*alerts, 2, &alerts.reload, |answer| {
        let rows = items(answer);
        if rows.is_empty() {
            return empty("No open alerts.", html! {});
        }
        list_table("Open alerts", rows, ALERTS, Some(("Alert", &dismiss)))
    });
    page(
        "hygiene-title",
        "Data hygiene",
        html! {
            <>
                { "Checks, daily reports and alerts from the hygiene agents, merges and imports. " }
                { link(Route::Duplicates, html! { "Review duplicates" }) }
            </>
        },
        html! {
            <>
                { part("Status", card_view) }
                { part("Daily reports", reports_view) }
                { part("Open alerts", html! { <>{ failed.as_ref().map(|e| error_view(e, None)).unwrap_or_default() }{ alerts_view }</> }) }
            </>
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_chart_has_a_bar_for_every_day_and_zero_on_days_without_a_report() {
        let reports = [
            json!({"date": "2026-11-30", "duplicates_found": 4}),
            json!({"date": "2026-11-28", "duplicates_found": 7}),
            json!({"date": "2026-10-01", "duplicates_found": 9}),
        ];
        let last = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(
            daily(&reports, last, 4),
            vec![(day(27), 0), (day(28), 7), (day(29), 0), (day(30), 4)]
        );
        assert_eq!(daily(&reports, last, 30).len(), 30);
        assert!(daily(&[], last, 0).is_empty());
    }
}
