//! Contacts: search over name, email and company (the search and the page live in the URL),
//! one page of the list as a table, and the same contacts as a CSV file.

use serde::Serialize;
use serde_json::Value;
use yew::prelude::*;

use crate::api;
use crate::components::contacts::{chips, items, list_table, page, text};
use crate::components::pager::pager;
use crate::components::status::{self, empty};
use crate::hooks::{use_filters, use_query, Refresh};
use crate::routes::query::UrlQuery;
use crate::routes::{link, Route};

/// The list's search and page, in the URL and passed to the API as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContactsQuery {
    /// Searches name, email and company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl UrlQuery for ContactsQuery {
    fn fields(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![("q", &mut self.q), ("cursor", &mut self.cursor)]
    }
}

/// The columns after the name: (heading, path in a row).
const COLUMNS: &[(&str, &str)] = &[
    ("Email", "primary_email"),
    ("Phone", "phone"),
    ("Company", "company_name"),
    ("Stage", "lifecycle_stage"),
    ("Owner", "owner"),
    ("Valid", "valid"),
];

/// A row's name, linked to its page, with its chips.
fn lead(row: &Value) -> Html {
    let id = row.get("id").map(text).unwrap_or_default();
    let label = match row.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => text(&row["primary_email"]),
    };
    html! { <>{ link(Route::Contact { id }, html! { label }) }{ chips(row) }</> }
}

#[hook]
pub fn use_contacts_page() -> Html {
    let filters = use_filters::<ContactsQuery>(Route::Contacts);
    let query = filters.current.to_query();
    let list = use_query(Refresh::never(), query.clone(), |query, consistency| {
        let query = query.clone();
        async move { api::contacts::list(&query, consistency.as_deref()).await }
    });
    let search = use_node_ref();
    let on_search = {
        let (set, search) = (filters.set(|f, q| f.q = q), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let q = search
                .cast::<web_sys::HtmlInputElement>()
                .map(|input| input.value())
                .filter(|q| !q.trim().is_empty());
            set.emit(q);
        })
    };
    let body = status::view(&*list, 6, &list.reload, |answer| {
        let rows = items(answer);
        if rows.is_empty() {
            return empty(
                "No contacts match.",
                html! { <p class="muted">{ link(Route::ContactImport, html! { "Import a CSV file" }) }{ " to add some." }</p> },
            );
        }
        let next = answer
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_string);
        html! {
            <>
                <p class="muted">{ format!("{} contacts", text(&answer["total"])) }</p>
                { list_table("Contacts on this page", rows, COLUMNS, Some(("Name", &lead))) }
                { pager(&filters, next) }
            </>
        }
    });
    // The same filters as a file (the export takes the list's filters, every page).
    let export = format!(
        "/api/contacts/export.csv?{}",
        filters.current.at_page(None).to_query()
    );
    page(
        "contacts-title",
        "Contacts",
        html! {
            <>
                { link(Route::ContactImport, html! { "Import a CSV file" }) }{ " · " }
                <a href={export} download="">{ "Export these as CSV" }</a>
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
                { body }
            </>
        },
    )
}
