//! The Queue: every move, filtered, sorted and paged — all of it in the URL.

use caseyos_domain::queue::{ActionType, QueueDomain, QueueStatus};
use yew::prelude::*;

use crate::api;
use crate::components::filter_select::{filter_select, with_any, SelectProps};
use crate::components::pager::pager;
use crate::components::queue::queue_card::{aps_badge, target_line};
use crate::components::status::{self, empty};
use crate::hooks::{use_filters, use_query, Refresh};
use crate::infra::format::{humanize, now, relative};
use crate::infra::live::Feed;
use crate::routes::query::UrlQuery;
use crate::routes::queue::QueueFilters;
use crate::routes::{app_link, Route};

const SORTS: &[(&str, &str)] = &[
    ("-aps", "Priority (APS)"),
    ("due_by", "Due soonest"),
    ("-created_at", "Newest"),
    ("created_at", "Oldest"),
    ("-updated_at", "Recently changed"),
];

#[hook]
pub fn use_queue_page() -> Html {
    let filters = use_filters::<QueueFilters>(Route::Queue);
    let page = use_query(
        Refresh::on(Feed::Queue),
        filters.current.to_query(),
        |query, consistency| {
            let query = query.clone();
            async move { api::queue::list(&query, consistency.as_deref()).await }
        },
    );
    let statuses = with_any(
        "Any status",
        QueueStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), humanize(s.as_str()))),
    );
    let types = with_any(
        "Any type",
        ActionType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), humanize(t.as_str()))),
    );
    let domains = with_any(
        "Any domain",
        QueueDomain::ALL
            .iter()
            .map(|d| (d.as_str().to_string(), humanize(d.as_str()))),
    );
    let owners = vec![
        (String::new(), "Mine".to_string()),
        ("*".to_string(), "Everyone's".to_string()),
    ];
    let sorts: Vec<(String, String)> = SORTS
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect();

    let body = status::view(&*page, 6, &page.reload, |list| {
        if list.items.is_empty() {
            return empty("No moves match these filters.", html! {});
        }
        let now = now();
        html! {
            <>
                <p class="muted" aria-live="polite">{ if list.total == 1 { "1 move".to_string() } else { format!("{} moves", list.total) } }</p>
                <ul class="rows">
                    { for list.items.iter().map(|item| html! {
                        <li class="row" key={item.id.to_string()}>
                            { aps_badge(&item.aps) }
                            <div class="row-main">
                                { app_link(&Route::Item { id: item.id.to_string() }, None, "card-title".into(), html! { &item.title }) }
                                <div class="meta">
                                    <span class={classes!("chip", item.status.as_str())}>{ item.status.as_str() }</span>
                                    <span>{ humanize(item.action_type.as_str()) }</span>
                                    { for target_line(item).map(|t| html! { <span>{ t }</span> }) }
                                    { for item.due_by.map(|d| html! { <span>{ format!("due {}", relative(now, d)) }</span> }) }
                                    <span class="muted">{ &item.owner }</span>
                                    <span class="muted">{ format!("changed {}", relative(now, item.updated_at)) }</span>
                                </div>
                            </div>
                        </li>
                    }) }
                </ul>
                { pager(&filters, list.next_cursor.clone()) }
            </>
        }
    });

    html! {
        <section class="page" aria-labelledby="queue-title">
            <header class="page-header">
                <h1 id="queue-title">{ "Queue" }</h1>
                <p class="muted">{ "Every move, decided or not. Filters live in the address, so a view can be shared." }</p>
            </header>
            <form class="filters" role="search" aria-label="Filter moves" onsubmit={|e: SubmitEvent| e.prevent_default()}>
                { filter_select(&yew::props!(SelectProps { id: "f-status", label: "Status", value: filters.current.status.clone(), options: statuses, on_change: filters.set(|f, v| f.status = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "f-type", label: "Type", value: filters.current.action_type.clone(), options: types, on_change: filters.set(|f, v| f.action_type = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "f-domain", label: "Domain", value: filters.current.domain.clone(), options: domains, on_change: filters.set(|f, v| f.domain = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "f-owner", label: "Owner", value: filters.current.owner.clone(), options: owners, on_change: filters.set(|f, v| f.owner = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "f-sort", label: "Sort", value: Some(filters.current.sort.clone().unwrap_or_else(|| "-aps".into())), options: sorts, on_change: filters.set(|f, v| f.sort = v) })) }
            </form>
            { body }
        </section>
    }
}
