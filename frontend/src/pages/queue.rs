//! The Queue: every move, filtered, sorted and paged — all of it in the URL.

use caseyos_domain::api::QueueListResponse;
use caseyos_domain::queue::{ActionType, QueueDomain, QueueStatus};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app_state::use_app;
use crate::components::filter_select::{with_any, FilterSelect};
use crate::components::queue_card::{target_line, ApsBadge};
use crate::components::status::{Empty, ErrorView, Load, Skeleton};
use crate::filters::QueueFilters;
use crate::format::{humanize, now, relative};
use crate::routes::Route;

const SORTS: &[(&str, &str)] = &[
    ("-aps", "Priority (APS)"),
    ("due_by", "Due soonest"),
    ("-created_at", "Newest"),
    ("created_at", "Oldest"),
    ("-updated_at", "Recently changed"),
];

#[component]
pub fn QueuePage() -> Html {
    let app = use_app();
    let location = use_location();
    let navigator = use_navigator();
    let filters = QueueFilters::from_query(
        &location
            .as_ref()
            .map(|l| l.query_str().to_string())
            .unwrap_or_default(),
    );
    let page = use_state(|| Load::<QueueListResponse>::Loading);
    let reload = use_state(|| 0u32);

    {
        let page = page.clone();
        let app = app.clone();
        let query = filters.to_query();
        let consistency = app.live.consistency.clone();
        use_effect_with((query, app.live.tick, *reload), move |(query, _, _)| {
            let query = query.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::list(&query, consistency.as_deref()).await {
                    Ok(list) => page.set(Load::Ready(list)),
                    Err(error) => {
                        app.check(&error);
                        page.set(Load::Failed(error));
                    }
                }
            });
        });
    }

    let go = {
        let navigator = navigator.clone();
        Callback::from(move |next: QueueFilters| {
            if let Some(nav) = &navigator {
                let _ = nav.push_with_query(&Route::Queue, &next);
            }
        })
    };
    let set = |apply: fn(&mut QueueFilters, Option<String>)| {
        let go = go.clone();
        let filters = filters.clone();
        Callback::from(move |value: Option<String>| {
            let mut next = filters.first_page();
            apply(&mut next, value);
            go.emit(next);
        })
    };

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

    let body = match &*page {
        Load::Loading => html! { <Skeleton rows={6} /> },
        Load::Failed(error) => {
            let reload = reload.clone();
            html! { <ErrorView error={error.clone()} on_retry={Callback::from(move |_| reload.set(*reload + 1))} /> }
        }
        Load::Ready(list) if list.items.is_empty() => html! {
            <Empty title="No moves match these filters." />
        },
        Load::Ready(list) => {
            let now = now();
            html! {
                <>
                    <p class="muted" aria-live="polite">{ if list.total == 1 { "1 move".to_string() } else { format!("{} moves", list.total) } }</p>
                    <ul class="rows">
                        { for list.items.iter().map(|item| html! {
                            <li class="row" key={item.id.to_string()}>
                                <ApsBadge item={item.clone()} />
                                <div class="row-main">
                                    <Link<Route> to={Route::Item { id: item.id.to_string() }} classes="card-title">{ &item.title }</Link<Route>>
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
                    <nav class="pager" aria-label="Pages">
                        if filters.cursor.is_some() {
                            <button class="button" onclick={let go = go.clone(); let f = filters.first_page(); move |_| go.emit(f.clone())}>{ "First page" }</button>
                        }
                        if let Some(cursor) = list.next_cursor.clone() {
                            <button class="button" onclick={let go = go.clone(); let f = filters.clone(); move |_| go.emit(QueueFilters { cursor: Some(cursor.clone()), ..f.clone() })}>{ "Next page" }</button>
                        }
                    </nav>
                </>
            }
        }
    };

    html! {
        <section class="page" aria-labelledby="queue-title">
            <header class="page-header">
                <h1 id="queue-title">{ "Queue" }</h1>
                <p class="muted">{ "Every move, decided or not. Filters live in the address, so a view can be shared." }</p>
            </header>
            <form class="filters" role="search" aria-label="Filter moves" onsubmit={|e: SubmitEvent| e.prevent_default()}>
                <FilterSelect id="f-status" label="Status" value={filters.status.clone()} options={statuses}
                    on_change={set(|f, v| f.status = v)} />
                <FilterSelect id="f-type" label="Type" value={filters.action_type.clone()} options={types}
                    on_change={set(|f, v| f.action_type = v)} />
                <FilterSelect id="f-domain" label="Domain" value={filters.domain.clone()} options={domains}
                    on_change={set(|f, v| f.domain = v)} />
                <FilterSelect id="f-owner" label="Owner" value={filters.owner.clone()} options={owners}
                    on_change={set(|f, v| f.owner = v)} />
                <FilterSelect id="f-sort" label="Sort" value={Some(filters.sort.clone().unwrap_or_else(|| "-aps".into()))} options={sorts}
                    on_change={set(|f, v| f.sort = v)} />
            </form>
            { body }
        </section>
    }
}
