//! The forecast of a period: categories against quota as a chart, the owners' table (closed
//! won, commit, best case, pipeline, omitted, weighted, quota, attainment, coverage — "no
//! quota" where none is set), and the change waterfall from the "as of" instant (or a week
//! ago) to now, each row drillable to its deals and events. Period, owner and `as_of` live in
//! the URL; "Last Monday" is one click.

use chrono::{Datelike, Utc};
use serde_json::Value;
use yew::prelude::*;

use super::{as_of, deal_link, go_with};
use crate::api;
use crate::components::contacts::{at, items, page, part, str_at, text};
use crate::components::deals::{
    as_of_bar, bars, coverage_bp, minor, money, money_of, percent_bp, text_table, Bar,
};
use crate::components::status::{self, empty};
use crate::hooks::{use_query, Refresh};
use crate::infra::dom::value_of;
use crate::infra::format::humanize;
use crate::infra::live::Feed;
use crate::routes::query::{pair, query_value};
use crate::routes::{use_location, Route};

/// The categories in the chart and the table: (label, key in a row).
const CATEGORIES: [(&str, &str); 5] = [
    ("Closed won", "closed_won"),
    ("Commit", "commit"),
    ("Best case", "best_case"),
    ("Pipeline", "pipeline"),
    ("Omitted", "omitted"),
];

/// The periods to pick from: the quarters and months of last year, this year and next.
fn periods() -> Vec<String> {
    let year = Utc::now().year();
    let mut out = Vec::new();
    for y in year - 1..=year + 1 {
        out.extend((1..=4).map(|q| format!("{y}-Q{q}")));
        out.extend((1..=12).map(|m| format!("{y}-{m:02}")));
    }
    out
}

/// A forecast row's cells after its heading.
fn cells(heading: String, row: &Value) -> Vec<String> {
    let quota = at(row, "quota");
    let mut cells = vec![heading];
    cells.extend(
        CATEGORIES
            .iter()
            .map(|(_, key)| money(at(row, &format!("{key}.total")))),
    );
    cells.push(money(at(row, "weighted.total")));
    cells.push(if quota.is_null() {
        "no quota".to_string()
    } else {
        money(quota)
    });
    cells.push(
        at(row, "attainment.basis_points")
            .as_i64()
            .map(percent_bp)
            .unwrap_or_else(|| "—".into()),
    );
    cells.push(
        match (quota.is_null(), at(row, "coverage.basis_points").as_i64()) {
            (true, _) => "—".to_string(),
            (false, Some(bp)) => coverage_bp(bp),
            (false, None) => "quota met".to_string(),
        },
    );
    cells
}

fn owners_table(f: &Value) -> Html {
    let rows: Vec<Vec<String>> = items(at(f, "owners"))
        .iter()
        .map(|o| cells(text(at(o, "owner")), o))
        .collect();
    text_table(
        "The forecast by owner",
        "forecast-table",
        &[
            "Owner",
            "Closed won",
            "Commit",
            "Best case",
            "Pipeline",
            "Omitted",
            "Weighted",
            "Quota",
            "Attainment",
            "Coverage",
        ],
        &rows,
        Some(cells("Total".into(), at(f, "total"))),
    )
}

fn chart(f: &Value) -> Html {
    let total = at(f, "total");
    let mut rows: Vec<Bar> = CATEGORIES[..4]
        .iter()
        .map(|(label, key)| {
            let value = at(total, &format!("{key}.total"));
            Bar {
                label: label.to_string(),
                value: minor(value),
                text: money(value),
            }
        })
        .collect();
    let weighted = at(total, "weighted.total");
    rows.push(Bar {
        label: "Weighted".into(),
        value: minor(weighted),
        text: money(weighted),
    });
    let quota = at(total, "quota");
    let line = (!quota.is_null()).then(|| (minor(quota), format!("quota {}", money(quota))));
    let title = match &line {
        Some((_, q)) => format!("Categories against the {q}"),
        None => "Categories (no quota set for this period)".to_string(),
    };
    bars(&title, &rows, line)
}

/// The waterfall as SVG: the start, each movement floating from the running total, the end.
fn waterfall_chart(c: &Value, currency: &str) -> Html {
    const COL: i64 = 56;
    const H: i64 = 150;
    let start = minor(at(c, "start.total"));
    let mut steps: Vec<(String, i64, i64)> = vec![("Start".into(), 0, start)];
    let mut level = start;
    for m in items(at(c, "movements")) {
        let change = minor(at(m, "change"));
        steps.push((
            humanize(str_at(m, "kind").unwrap_or_default()),
            level,
            level + change,
        ));
        level += change;
    }
    steps.push(("End".into(), 0, minor(at(c, "end.total"))));
    let lo = steps
        .iter()
        .map(|(_, a, b)| (*a).min(*b))
        .min()
        .unwrap_or(0)
        .min(0);
    let hi = steps
        .iter()
        .map(|(_, a, b)| (*a).max(*b))
        .max()
        .unwrap_or(0)
        .max(lo + 1);
    let y = |v: i64| H - (v - lo) * H / (hi - lo);
    let width = COL * steps.len() as i64;
    let summary = format!(
        "Waterfall from {} to {} in {} steps",
        money(at(c, "start.total")),
        money(at(c, "end.total")),
        steps.len() - 2
    );
    html! {
        <figure class="waterfall">
            <svg class="chart" viewBox={format!("0 0 {width} {}", H + 16)} width={width.to_string()} height={(H + 16).to_string()} role="img" aria-label={summary.clone()}>
                <title>{ summary.clone() }</title>
                { for steps.iter().enumerate().map(|(i, (label, from, to))| {
                    let (top, bottom) = (y(*from.max(to)), y(*from.min(to)));
                    let tone = if i == 0 || i == steps.len() - 1 { "total" } else if to >= from { "up" } else { "down" };
                    let amount = if tone == "total" { money_of(*to, currency) } else { money_of(to - from, currency) };
                    html! {
                        <g class={classes!("step", tone)}>
                            <title>{ format!("{}. {label}: {amount}", i) }</title>
                            <rect x={(i as i64 * COL + 6).to_string()} y={top.to_string()} width={(COL - 12).to_string()} height={(bottom - top).max(1).to_string()} />
                            <text x={(i as i64 * COL + COL / 2).to_string()} y={(H + 13).to_string()} text-anchor="middle">{ i.to_string() }</text>
                        </g>
                    }
                }) }
                <line class="axis" x1="0" y1={y(0).to_string()} x2={width.to_string()} y2={y(0).to_string()} />
            </svg>
            <figcaption class="muted">{ format!("{summary}; the steps are numbered as in the table below (0 is the start).") }</figcaption>
        </figure>
    }
}

fn waterfall(c: &Value) -> Html {
    let currency = str_at(c, "config.currency").unwrap_or("USD");
    let names: Vec<(&str, &str)> = items(at(c, "deals"))
        .iter()
        .map(|d| {
            (
                str_at(d, "id").unwrap_or_default(),
                str_at(d, "name").unwrap_or("(no name)"),
            )
        })
        .collect();
    let name = |id: &str| {
        names
            .iter()
            .find(|(d, _)| *d == id)
            .map(|(_, n)| *n)
            .unwrap_or("(deal)")
    };
    let movements = items(at(c, "movements"));
    html! {
        <>
            <p class="muted">{ format!("From {} (position {}) to {} (position {}).",
                crate::components::deals::when(at(c, "from")), text(at(c, "from_position")),
                crate::components::deals::when(at(c, "to")), text(at(c, "to_position"))) }</p>
            { waterfall_chart(c, currency) }
            if movements.is_empty() { <p class="muted">{ "Nothing moved between the two instants." }</p> }
            <div class="table-wrap" tabindex="0" role="region" aria-label="The waterfall's steps">
                <table class="data waterfall-table">
                    <thead><tr><th scope="col">{ "#" }</th><th scope="col">{ "Step" }</th><th scope="col">{ "Change" }</th><th scope="col">{ "Deals and their events" }</th></tr></thead>
                    <tbody>
                        <tr><td>{ "0" }</td><th scope="row">{ "Start" }</th><td>{ money(at(c, "start.total")) }</td><td></td></tr>
                        { for movements.iter().enumerate().map(|(i, m)| html! {
                            <tr>
                                <td>{ (i + 1).to_string() }</td>
                                <th scope="row">{ humanize(str_at(m, "kind").unwrap_or_default()) }</th>
                                <td>{ money(at(m, "change")) }</td>
                                <td><details><summary>{ format!("{} deals", items(at(m, "deals")).len()) }</summary>
                                    <ul>
                                        { for items(at(m, "deals")).iter().map(|d| {
                                            let id = str_at(d, "deal").unwrap_or_default();
                                            html! {
                                                <li>
                                                    { deal_link(id, name(id)) }{ format!(" {} → {} ({}) · events ", money(at(d, "start")), money(at(d, "end")), money(at(d, "change"))) }
                                                    { for items(at(d, "events")).iter().map(|p| html! {
                                                        <>{ " " }<a href={format!("/deals/{}#event-{}", js_sys::encode_uri_component(id), text(p))}>{ format!("#{}", text(p)) }</a></>
                                                    }) }
                                                </li>
                                            }
                                        }) }
                                    </ul>
                                </details></td>
                            </tr>
                        }) }
                        <tr><td>{ (movements.len() + 1).to_string() }</td><th scope="row">{ "End" }</th><td>{ money(at(c, "end.total")) }</td><td></td></tr>
                    </tbody>
                </table>
            </div>
        </>
    }
}

#[hook]
pub fn use_forecast_page() -> Html {
    let location = use_location();
    let as_of = as_of(&location);
    let period = query_value(location.query_str(), "period");
    let owner = query_value(location.query_str(), "owner");
    let key = (period.clone(), owner.clone(), as_of.clone());
    let refresh = || {
        if as_of.is_some() {
            Refresh::never()
        } else {
            Refresh::on(Feed::Deals)
        }
    };
    let api_query = |key: &(Option<String>, Option<String>, Option<String>)| {
        let (period, owner, _) = key;
        [("period", period), ("owner", owner)]
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| pair(k, v)))
            .collect::<Vec<_>>()
    };
    let forecast = use_query(refresh(), key.clone(), move |key, c| {
        let mut query = api_query(key);
        if let Some(at) = &key.2 {
            query.push(pair("as_of", at));
        }
        let query = query.join("&");
        async move { api::deals::forecast(&query, c.as_deref()).await }
    });
    let changes = use_query(refresh(), key, move |key, c| {
        let mut query = api_query(key);
        let from = key.2.clone().unwrap_or_else(|| {
            (Utc::now() - chrono::Duration::days(7))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        query.push(pair("from", &from));
        let query = query.join("&");
        async move { api::deals::changes(&query, c.as_deref()).await }
    });

    let go = {
        let (period, owner) = (period.clone(), owner.clone());
        move |p: Option<String>, o: Option<String>, a: Option<String>| {
            go_with(
                &Route::Forecast,
                &[
                    ("period", p.or_else(|| period.clone()).as_deref()),
                    ("owner", o.or_else(|| owner.clone()).as_deref()),
                    ("as_of", a.as_deref()),
                ],
            )
        }
    };
    let on_as_of = {
        let go = go.clone();
        Callback::from(move |at: Option<String>| go(None, None, at))
    };
    let on_period = {
        let (go, as_of) = (go.clone(), as_of.clone());
        Callback::from(move |e: Event| go(Some(value_of(&e)), None, as_of.clone()))
    };
    let on_owner = {
        let (period, as_of) = (period.clone(), as_of.clone());
        Callback::from(move |e: Event| {
            let owner = value_of(&e);
            go_with(
                &Route::Forecast,
                &[
                    ("period", period.as_deref()),
                    ("owner", Some(&owner)),
                    ("as_of", as_of.as_deref()),
                ],
            )
        })
    };
    let answer = match &*forecast {
        status::Load::Ready(f) => Some(f),
        _ => None,
    };
    let shown_period = answer
        .and_then(|f| str_at(f, "period"))
        .map(str::to_string)
        .or(period.clone());
    let mut owners: Vec<String> = answer
        .map(|f| {
            items(at(f, "owners"))
                .iter()
                .map(|o| text(at(o, "owner")))
                .collect()
        })
        .unwrap_or_default();
    if let Some(o) = owner.as_ref().filter(|o| !owners.contains(o)) {
        owners.push(o.clone());
    }
    let since = if as_of.is_some() {
        "the \"as of\" instant"
    } else {
        "a week ago"
    };
    page(
        "forecast-title",
        "Forecast",
        html! { { "Per period and owner, against quota; every number is computed from the deals' events." } },
        html! {
            <>
                <div class="filters deal-filters">
                    <label for="period-pick">{ "Period " }</label>
                    <select id="period-pick" onchange={on_period}>
                        { for periods().into_iter().map(|p| html! { <option selected={shown_period.as_deref() == Some(p.as_str())} value={p.clone()}>{ p }</option> }) }
                    </select>
                    <label for="owner-pick">{ " Owner " }</label>
                    <select id="owner-pick" onchange={on_owner}>
                        <option value="" selected={owner.is_none()}>{ "Everyone" }</option>
                        { for owners.iter().map(|o| html! { <option selected={owner.as_deref() == Some(o.as_str())} value={o.clone()}>{ o.clone() }</option> }) }
                    </select>
                </div>
                { as_of_bar(as_of.as_deref(), answer, true, &on_as_of) }
                { status::view(&*forecast, 4, &forecast.reload, |f| html! {
                    <>
                        <p class="muted">{ format!("{}: {} to {}.", text(at(f, "period")), text(at(f, "range.first")), text(at(f, "range.last"))) }
                            if !items(at(f, "quota_missing_for")).is_empty() { { format!(" No quota for {}.", text(at(f, "quota_missing_for"))) } }
                        </p>
                        { part("Categories against quota", chart(f)) }
                        { part("By owner", if items(at(f, "owners")).is_empty() {
                            empty("No deals or quotas in this period", html! {})
                        } else { owners_table(f) }) }
                    </>
                }) }
                { part(&format!("What changed since {since}"), status::view(&*changes, 3, &changes.reload, waterfall)) }
            </>
        },
    )
}
