//! `/signals`: what came in (HubSpot deal events, replies, forms, rules), newest first, with
//! the source, kind and status filters and the page in the URL; each row says what the signal
//! became — a link to the move it proposed, or why nothing.

use serde_json::Value;
use yew::prelude::*;

use crate::api;
use crate::components::contacts::{at, items, list_table, page, str_at, text};
use crate::components::filter_select::{filter_select, with_any, SelectProps};
use crate::components::pager::pager;
use crate::components::status::{self, empty};
use crate::hooks::{use_filters, use_query, Refresh};
use crate::infra::format::humanize;
use crate::infra::live::Feed;
use crate::routes::query::UrlQuery;
use crate::routes::{link, Route};

/// The list's filters and page, in the URL and passed to the API as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalsQuery {
    pub source: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub cursor: Option<String>,
}

impl UrlQuery for SignalsQuery {
    fn fields(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![
            ("source", &mut self.source),
            ("kind", &mut self.kind),
            ("status", &mut self.status),
            ("cursor", &mut self.cursor),
        ]
    }
}

/// The columns after what a signal became: (heading, path in a row).
const COLUMNS: &[(&str, &str)] = &[
    ("Source", "source"),
    ("Kind", "kind"),
    ("Who", "entities.contact_email"),
    ("When", "occurred_at"),
];

const SOURCES: &[&str] = &["hubspot", "gmail", "form", "manual", "calendar", "rule"];
const KINDS: &[&str] = &[
    "deal_created",
    "deal_stage_changed",
    "deal_amount_changed",
    "reply_received",
    "form_submitted",
    "deal_stalled",
    "deal_closing_soon",
    "big_deal_moved",
    "lead_gone_cold",
];
const STATUSES: &[&str] = &["pending", "processed", "proposed", "skipped", "failed"];

/// The options of a filter: "any", then each value humanized.
fn options(any: &str, values: &[&str]) -> Vec<(String, String)> {
    with_any(any, values.iter().map(|v| (v.to_string(), humanize(v))))
}

/// What a signal became: the move it proposed (a link), or why nothing, or "waiting".
pub fn result(signal: &Value) -> Html {
    let processed = at(signal, "processed");
    if processed.is_null() {
        return html! { <span class="muted">{ "Waiting to be processed" }</span> };
    }
    let outcome = at(processed, "outcome");
    let status = str_at(outcome, "status").unwrap_or_default();
    match str_at(outcome, "item_id") {
        Some(id) if !id.is_empty() => {
            let title = str_at(outcome, "title").unwrap_or("the move").to_string();
            html! { <>{ "Proposed " }{ link(Route::Item { id: id.to_string() }, html! { title }) }</> }
        }
        _ => {
            let why = str_at(outcome, "message").unwrap_or_default();
            let code = str_at(outcome, "code")
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            html! { <span class={classes!((status == "failed").then_some("warn"))}>{ format!("{}: {why}{code}", humanize(status)) }</span> }
        }
    }
}

#[hook]
pub fn use_signals_page() -> Html {
    let filters = use_filters::<SignalsQuery>(Route::Signals);
    let query = filters.current.to_query();
    let list = use_query(Refresh::on(Feed::Queue), query, |query, consistency| {
        let query = query.clone();
        async move { api::signals::list(&query, consistency.as_deref()).await }
    });
    let current = &filters.current;
    let controls = html! {
        <div class="filters">
            { filter_select(&SelectProps { id: "signal-source".into(), label: "Source".into(), value: current.source.clone(),
                options: options("Any source", SOURCES), on_change: filters.set(|f, v| f.source = v) }) }
            { filter_select(&SelectProps { id: "signal-kind".into(), label: "Kind".into(), value: current.kind.clone(),
                options: options("Any kind", KINDS), on_change: filters.set(|f, v| f.kind = v) }) }
            { filter_select(&SelectProps { id: "signal-status".into(), label: "Status".into(), value: current.status.clone(),
                options: options("Any status", STATUSES), on_change: filters.set(|f, v| f.status = v) }) }
        </div>
    };
    let table = status::view(&*list, 5, &list.reload, |found| {
        let rows = items(found);
        if rows.is_empty() {
            return empty(
                "No signals",
                html! { <p class="muted">{ "HubSpot deal events, replies and forms show here as they come." }</p> },
            );
        }
        html! {
            <>
                <p class="muted">{ format!("{} signals", text(at(found, "total"))) }</p>
                { list_table("Signals", rows, COLUMNS, Some(("What it became", &result))) }
                { pager(&filters, str_at(found, "next_cursor").map(str::to_string)) }
            </>
        }
    });
    page(
        "signals-title",
        "Signals",
        html! { <>{ "What came in, and the move each became. " }{ link(Route::Today, html! { "Today's Moves" }) }</> },
        html! { <>{ controls }{ table }</> },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mount;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[derive(Properties, PartialEq)]
    struct HostProps {
        signal: Value,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        html! { <p>{ result(&props.signal) }</p> }
    }

    #[wasm_bindgen_test]
    async fn each_signal_says_what_it_became() {
        let proposed = json!({"processed": {"processor": "reply", "at": "2026-11-30T10:00:00Z",
            "outcome": {"status": "proposed", "item_id": "i-1", "title": "Answer Dana", "message": "proposed"}}});
        let skipped = json!({"processed": {"processor": "form", "at": "2026-11-30T10:00:00Z",
            "outcome": {"status": "skipped", "code": "signal.no_contact", "message": "no contact to follow up"}}});
        // (signal, text, link)
        let table = [
            (proposed, "Proposed Answer Dana", Some("/queue/i-1")),
            (
                skipped,
                "Skipped: no contact to follow up (signal.no_contact)",
                None,
            ),
            (json!({"processed": null}), "Waiting to be processed", None),
        ];
        for (signal, text, href) in table {
            let root = mount::<Host>(HostProps { signal }).await;
            assert_eq!(root.text_content().unwrap(), text);
            let link = root.query_selector("a").unwrap();
            assert_eq!(
                link.and_then(|a| a.get_attribute("href")).as_deref(),
                href,
                "{text}"
            );
        }
    }
}
