//! Contacts: search over name, email and company, filters and sort — all in the URL — and
//! pages.

use caseyos_domain::contacts::{ContactSource, ContactStatus};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::contacts::chips;
use crate::components::filter_select::{filter_select, with_any, SelectProps};
use crate::components::pager::pager;
use crate::components::status::{self, empty};
use crate::hooks::{use_filters, use_query, Refresh};
use crate::infra::format::{absolute, now, relative};
use crate::routes::contacts::ContactFilters;
use crate::routes::query::UrlQuery;
use crate::routes::Route;

const SORTS: &[(&str, &str)] = &[
    ("", "The API's default"),
    ("name", "Name"),
    ("-updated_at", "Recently changed"),
    ("-created_at", "Newest"),
    ("created_at", "Oldest"),
    ("-last_contacted_at", "Last contacted"),
];

#[component]
pub fn ContactsPage() -> Html {
    let filters = use_filters::<ContactFilters>(Route::Contacts);
    let page = use_query(
        Refresh::never(),
        filters.current.to_query(),
        |query, consistency| {
            let query = query.clone();
            async move { api::contacts::list(&query, consistency.as_deref()).await }
        },
    );
    let statuses = with_any(
        "Any status",
        ContactStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.as_str().to_string())),
    );
    let sources = with_any(
        "Any source",
        [
            ContactSource::Manual,
            ContactSource::Import,
            ContactSource::Hubspot,
        ]
        .iter()
        .map(|s| (s.as_str().to_string(), s.as_str().to_string())),
    );
    let validity = vec![
        (String::new(), "Valid or not".to_string()),
        ("true".to_string(), "Valid".to_string()),
        ("false".to_string(), "Invalid".to_string()),
        ("unknown".to_string(), "Not validated".to_string()),
    ];
    let sorts: Vec<(String, String)> = SORTS
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect();
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

    let body = status::view(&*page, 6, &page.reload, |list| {
        if list.items.is_empty() {
            return empty(
                "No contacts match.",
                html! { <p class="muted"><Link<Route> to={Route::ContactImport}>{ "Import a CSV file" }</Link<Route>>{ " to add some." }</p> },
            );
        }
        let now = now();
        html! {
            <>
                <p class="muted">{ format!("{} contacts", list.total) }</p>
                <div class="table-wrap" tabindex="0" role="region" aria-label="Contacts">
                    <table class="data contacts">
                        <thead>
                            <tr>
                                <th scope="col">{ "Name" }</th>
                                <th scope="col">{ "Email" }</th>
                                <th scope="col">{ "Company" }</th>
                                <th scope="col">{ "Findings" }</th>
                                <th scope="col">{ "Changed" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for list.items.iter().map(|c| html! {
                                <tr key={c.id.to_string()}>
                                    <td>
                                        <Link<Route> to={Route::Contact { id: c.id.to_string() }}>
                                            { if c.name.is_empty() { c.primary_email.clone().unwrap_or_else(|| "(no name)".into()) } else { c.name.clone() } }
                                        </Link<Route>>
                                        { chips(c.status, c.demo) }
                                    </td>
                                    <td>{ c.primary_email.as_deref().unwrap_or("—") }</td>
                                    <td>{ c.company_name.as_deref().unwrap_or("—") }</td>
                                    <td>{ match c.valid {
                                        None => "not validated".to_string(),
                                        Some(valid) => format!("{} ({})", c.issues, if valid { "valid" } else { "invalid" }),
                                    } }</td>
                                    <td><time datetime={c.updated_at.to_rfc3339()} title={absolute(c.updated_at)}>{ relative(now, c.updated_at) }</time></td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
                { pager(&filters, list.next_cursor.clone()) }
            </>
        }
    });

    html! {
        <section class="page wide" aria-labelledby="contacts-title">
            <header class="page-header">
                <h1 id="contacts-title">{ "Contacts" }</h1>
                <p class="muted">
                    <Link<Route> to={Route::ContactImport}>{ "Import a CSV file" }</Link<Route>>{ " · " }
                    <Link<Route> to={Route::Duplicates}>{ "Review duplicates" }</Link<Route>>
                </p>
            </header>
            <form class="filters" role="search" aria-label="Search contacts" onsubmit={on_search}>
                <div class="field">
                    <label for="c-q">{ "Search name, email or company" }</label>
                    <input id="c-q" ref={search} type="search" value={filters.current.q.clone().unwrap_or_default()} />
                </div>
                <button type="submit" class="button">{ "Search" }</button>
                { filter_select(&yew::props!(SelectProps { id: "c-status", label: "Status", value: filters.current.status.clone(), options: statuses, on_change: filters.set(|f, v| f.status = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "c-source", label: "Source", value: filters.current.source.clone(), options: sources, on_change: filters.set(|f, v| f.source = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "c-valid", label: "Validation", value: filters.current.valid.clone(), options: validity, on_change: filters.set(|f, v| f.valid = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "c-sort", label: "Sort", value: filters.current.sort.clone(), options: sorts, on_change: filters.set(|f, v| f.sort = v) })) }
            </form>
            if filters.current.import_id.is_some() {
                <p class="notice">
                    { "Only the contacts of one import. " }
                    <button type="button" class="button" onclick={filters.set(|f, v| f.import_id = v).reform(|_: MouseEvent| None)}>{ "Show every contact" }</button>
                </p>
            }
            { body }
        </section>
    }
}
