//! Deals, the forecast and the dashboard, shown from their JSON: money, basis points and
//! coverage written with integer arithmetic (no float formatting in the wasm), risk dots, the
//! "as of" control with its historical notice, and small SVG bar charts.

use caseyos_domain::kernel::instant::parse as instant;
use chrono::{Datelike, Local, TimeZone, Utc};
use serde_json::Value;
use yew::prelude::*;

use super::fields::button;

use super::contacts::{at, str_at};
use super::table::head;
use crate::infra::dom::value_of;
use crate::infra::format::{absolute, humanize, local_minutes, read_local_datetime};

/// Thousands separated by commas: 1234567 → "1,234,567".
fn grouped(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount in minor units (cents) as people read it: "$50,000", "$1,234.50", "€90",
/// "−$200", "5,000 CHF".
pub fn money_of(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "−" } else { "" };
    let minor = minor.unsigned_abs();
    let (whole, cents) = (grouped(minor / 100), minor % 100);
    let number = if cents == 0 {
        whole
    } else {
        format!("{whole}.{cents:02}")
    };
    match currency {
        "USD" => format!("{sign}${number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        other => format!("{sign}{number} {other}"),
    }
}

/// A money value (`{"minor", "currency"}`) as text; "—" when there is none.
pub fn money(value: &Value) -> String {
    match at(value, "minor").as_i64() {
        Some(minor) => money_of(minor, str_at(value, "currency").unwrap_or("USD")),
        None => "—".to_string(),
    }
}

/// The minor units of a money value (0 when there is none).
pub fn minor(value: &Value) -> i64 {
    at(value, "minor").as_i64().unwrap_or_default()
}

/// Basis points as a percentage to a tenth, rounded down: 8750 → "87.5%", 10000 → "100%".
pub fn percent_bp(bp: i64) -> String {
    let (whole, tenth) = (bp / 100, (bp % 100).abs() / 10);
    if tenth == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{tenth}%")
    }
}

/// Coverage in basis points (10,000 = 1.0×) as a multiple to a hundredth: 12500 → "1.25×".
pub fn coverage_bp(bp: i64) -> String {
    format!("{}.{:02}×", bp / 10_000, (bp % 10_000).abs() / 100)
}

/// A risk kind in words: `single_threaded` → "Single threaded".
pub fn risk_label(kind: &str) -> String {
    humanize(kind)
}

/// A deal's risk flags as dots, each with its kind in words for screen readers and as a
/// tooltip; "no risk flags" when there are none.
pub fn risk_dots(kinds: &[Value]) -> Html {
    if kinds.is_empty() {
        return html! { <span class="muted small">{ "no risk flags" }</span> };
    }
    html! {
        <ul class="risk-dots" aria-label="Risk flags">
            { for kinds.iter().filter_map(Value::as_str).map(|kind| {
                let label = risk_label(kind);
                html! {
                    <li class={classes!("risk-dot", kind.to_string())} title={label.clone()}>
                        <span class="visually-hidden">{ label }</span>
                    </li>
                }
            }) }
        </ul>
    }
}

/// An RFC 3339 instant in the browser's time zone, or the text as it is.
pub fn when(value: &Value) -> String {
    match value.as_str() {
        Some(text) => instant(text)
            .map(absolute)
            .unwrap_or_else(|| text.to_string()),
        None => "—".to_string(),
    }
}

/// A local date and time (`datetime-local`) as an RFC 3339 instant in UTC.
pub fn instant_of_local(value: &str) -> Option<String> {
    let local = Local
        .from_local_datetime(&read_local_datetime(value)?)
        .earliest()?;
    Some(
        local
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// Midnight (local time) of the last Monday before today — a week ago on a Monday — as an
/// RFC 3339 instant.
pub fn last_monday() -> Option<String> {
    let today = Local::now().date_naive();
    let back = match today.weekday().num_days_from_monday() {
        0 => 7,
        n => n,
    };
    let monday = today - chrono::Duration::days(i64::from(back));
    instant_of_local(&local_minutes(monday.and_hms_opt(0, 0, 0)?))
}

/// The "as of" control: a date and time (the page's `as_of`, empty for now), "Last Monday"
/// when `last_monday_button`, "Now" while historical; and, while historical, a notice that
/// says so with the answer's instant and log position. `on_change` gets the new instant
/// (RFC 3339), or `None` for now.
pub fn as_of_bar(
    as_of: Option<&str>,
    answer: Option<&Value>,
    last_monday_button: bool,
    on_change: &Callback<Option<String>>,
) -> Html {
    let shown = as_of
        .and_then(instant)
        .map(|at| local_minutes(at.with_timezone(&Local).naive_local()))
        .unwrap_or_default();
    let onchange = on_change.reform(|e: Event| instant_of_local(&value_of(&e)));
    html! {
        <div class="as-of">
            <div class="as-of-controls">
                <label for="as-of">{ "As of" }</label>
                <input id="as-of" type="datetime-local" value={shown} {onchange} />
                if last_monday_button {
                    { button("button", "Last Monday", false, on_change.reform(|_| last_monday())) }
                }
                if as_of.is_some() {
                    { button("button", "Now", false, on_change.reform(|_| None)) }
                }
            </div>
            if let (Some(_), Some(answer)) = (as_of, answer) {
                <p class="notice historical" role="status">
                    { format!("Historical view: as of {}, folded from the event log up to position {}. It does not update live; choose Now for today's.",
                        when(at(answer, "as_of")), crate::infra::format::json(at(answer, "position"))) }
                </p>
            }
        </div>
    }
}

/// A table of text in a scrollable region named `label`: `headings` (none when empty), a row
/// per entry of `rows` and a footer row `foot`, each row's first cell its heading. One copy
/// of a table's view for every such table (ARCHITECTURE.md, "The SPA" → Size).
pub fn text_table(
    label: &str,
    class: &'static str,
    headings: &[&str],
    rows: &[Vec<String>],
    foot: Option<Vec<String>>,
) -> Html {
    let row = |cells: &Vec<String>| {
        html! {
            <tr>
                { for cells.iter().enumerate().map(|(i, cell)| if i == 0 {
                    html! { <th scope="row">{ cell.clone() }</th> }
                } else {
                    html! { <td>{ cell.clone() }</td> }
                }) }
            </tr>
        }
    };
    html! {
        <div class="table-wrap" tabindex="0" role="region" aria-label={label.to_string()}>
            <table class={classes!("data", class)}>
                if !headings.is_empty() { { head(headings) } }
                <tbody>{ for rows.iter().map(row) }</tbody>
                if let Some(foot) = &foot { <tfoot>{ row(foot) }</tfoot> }
            </table>
        </div>
    }
}

/// One bar of a [`bars`] chart: its label, its value and the value as text.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub text: String,
}

/// A small horizontal bar chart as accessible SVG: the figure is named by `title`, and each
/// bar carries its label and value as text (and a `<title>`), so nothing is only a shape.
/// `line` draws a reference line (a quota) at that value, labelled.
pub fn bars(title: &str, rows: &[Bar], line: Option<(i64, String)>) -> Html {
    const W: i64 = 400;
    const LABEL: i64 = 120;
    const ROW: i64 = 22;
    let max = rows
        .iter()
        .map(|r| r.value)
        .chain(line.as_ref().map(|(v, _)| *v))
        .max()
        .unwrap_or(0)
        .max(1);
    let span = W - LABEL - 90;
    let height = ROW * rows.len() as i64 + if line.is_some() { 18 } else { 4 };
    let x = |v: i64| LABEL + v.max(0) * span / max;
    html! {
        <figure class="bar-chart">
            <svg class="chart" viewBox={format!("0 0 {W} {height}")} role="img" aria-label={title.to_string()}>
                <title>{ title.to_string() }</title>
                { for rows.iter().enumerate().map(|(i, r)| {
                    let y = i as i64 * ROW;
                    html! {
                        <g>
                            <title>{ format!("{}: {}", r.label, r.text) }</title>
                            <text class="label" x="0" y={(y + 15).to_string()}>{ r.label.clone() }</text>
                            <rect class="bar" x={LABEL.to_string()} y={(y + 3).to_string()}
                                  width={(x(r.value) - LABEL).max(1).to_string()} height={(ROW - 6).to_string()} />
                            <text class="value" x={(x(r.value) + 4).to_string()} y={(y + 15).to_string()}>{ r.text.clone() }</text>
                        </g>
                    }
                }) }
                if let Some((value, text)) = line {
                    <g class="quota">
                        <line x1={x(value).to_string()} y1="0" x2={x(value).to_string()} y2={(height - 14).to_string()} />
                        <text x={x(value).to_string()} y={(height - 2).to_string()} text-anchor="middle">{ text }</text>
                    </g>
                }
            </svg>
            <figcaption class="muted">{ title.to_string() }</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn money_and_ratios_are_written_with_integers() {
        // (minor, currency, text)
        let table = [
            (5_000_000, "USD", "$50,000"),
            (123_450, "USD", "$1,234.50"),
            (9_000, "EUR", "€90"),
            (-20_000, "USD", "−$200"),
            (500_000, "CHF", "5,000 CHF"),
            (0, "USD", "$0"),
            (100_000_000_000, "GBP", "£1,000,000,000"),
        ];
        for (minor, currency, text) in table {
            assert_eq!(money_of(minor, currency), text, "{minor} {currency}");
        }
        assert_eq!(money(&json!({"minor": 250, "currency": "USD"})), "$2.50");
        assert_eq!(money(&Value::Null), "—");
        assert_eq!(percent_bp(8750), "87.5%");
        assert_eq!(percent_bp(10000), "100%");
        assert_eq!(percent_bp(33), "0.3%");
        assert_eq!(coverage_bp(12500), "1.25×");
        assert_eq!(coverage_bp(30000), "3.00×");
        assert_eq!(risk_label("no_next_step"), "No next step");
    }

    #[wasm_bindgen_test]
    fn a_local_time_becomes_an_instant_and_last_monday_is_a_monday_before_today() {
        let instant = instant_of_local("2026-11-23T00:00").expect("an instant");
        let back = instant.parse::<chrono::DateTime<Utc>>().expect("RFC 3339");
        assert_eq!(
            back.with_timezone(&Local).naive_local(),
            read_local_datetime("2026-11-23T00:00").unwrap()
        );
        assert_eq!(instant_of_local("yesterday"), None);
        let monday = last_monday()
            .and_then(|m| m.parse::<chrono::DateTime<Utc>>().ok())
            .expect("last Monday")
            .with_timezone(&Local);
        assert_eq!(monday.weekday(), chrono::Weekday::Mon);
        let days = (Local::now().date_naive() - monday.date_naive()).num_days();
        assert!((1..=7).contains(&days), "{days} days ago");
    }
}
