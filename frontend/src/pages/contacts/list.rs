//! Contacts: search over name, email and company (in the URL) and pages.

use serde_json::Value;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::contacts::{at, chips, items, list_table, page, str_at, text};
use crate::components::pager::pager;
use crate::components::status::{self, empty};
use crate::hooks::{use_filters, use_query, Refresh};
use crate::routes::contacts::ContactFilters;
use crate::routes::query::UrlQuery;
use crate::routes::Route;

/// A row's name, linked to its page, with its chips.
fn name_link(row: &Value) -> Html {
    let id = str_at(row, "id").unwrap_or_default().to_string();
    let name = ["name", "primary_email"]
        .iter()
        .filter_map(|k| str_at(row, k))
        .find(|s| !s.is_empty())
        .unwrap_or("(no name)")
        .to_string();
    html! { <><Link<Route> to={Route::Contact { id }}>{ name }</Link<Route>>{ chips(row) }</> }
}

#[component]
pub fn ContactsPage() -> Html {
    let filters = use_filters::<ContactFilters>(Route::Contacts);
    let list = use_query(
        Refresh::never(),
        filters.current.to_query(),
        |query, consistency| {
            let query = query.clone();
            async move { api::contacts::list(&query, consistency.as_deref()).await }
        },
    );
    let search = use_node_ref();
    let on_search = {
        let (set, search) = (filters.set(|f, v| f.q = v), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let q = search
                .cast::<web_sys::HtmlInputElement>()
                .map(|input| input.value())
                .filter(|q| !q.trim().is_empty());
            set.emit(q);
        })
    };

    let body = status::view(&*list, 6, &list.reload, |list| {
        let rows = items(list);
        if rows.is_empty() {
            return empty(
                "No contacts match.",
                html! { <p class="muted"><Link<Route> to={Route::ContactImport}>{ "Import a CSV file" }</Link<Route>>{ " to add some." }</p> },
            );
        }
        html! {
            <>
                <p class="muted">{ format!("{} contacts", text(at(list, "total"))) }</p>
                { list_table("Contacts", rows, &[("Email", "primary_email"), ("Company", "company_name"), ("Valid", "valid"), ("Findings", "issues"), ("Changed", "updated_at")], Some(("Name", &name_link))) }
                { pager(&filters, str_at(list, "next_cursor").map(str::to_string)) }
            </>
        }
    });

    page(
        "contacts-title",
        "Contacts",
        html! {
            <>
                <Link<Route> to={Route::ContactImport}>{ "Import a CSV file" }</Link<Route>>{ " · " }
                <Link<Route> to={Route::Duplicates}>{ "Review duplicates" }</Link<Route>>
            </>
        },
        html! {
            <>
                <form class="filters" role="search" aria-label="Search contacts" onsubmit={on_search}>
                    <div class="field">
                        <label for="c-q">{ "Search name, email or company" }</label>
                        <input id="c-q" ref={search} type="search" value={filters.current.q.clone().unwrap_or_default()} />
                    </div>
                    <button type="submit" class="button">{ "Search" }</button>
                </form>
                if filters.current.import_id.is_some() {
                    <p class="notice">
                        { "Only the contacts of one import. " }
                        <button type="button" class="button" onclick={filters.set(|f, v| f.import_id = v).reform(|_: MouseEvent| None)}>{ "Show every contact" }</button>
                    </p>
                }
                { body }
            </>
        },
    )
}
