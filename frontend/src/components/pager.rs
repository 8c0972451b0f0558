//! The pager under a list: back to the first page, and on to the next.

use yew::prelude::*;

use crate::hooks::Filters;
use crate::routes::query::UrlQuery;

/// First page (on a later page) and Next page (when the list has one, at `next`).
pub fn pager<Q: UrlQuery>(filters: &Filters<Q>, next: Option<String>) -> Html {
    html! {
        <nav class="pager" aria-label="Pages">
            if filters.current.is_paged() {
                <button class="button" onclick={filters.to_page(None)}>{ "First page" }</button>
            }
            if let Some(cursor) = next {
                <button class="button" onclick={filters.to_page(Some(cursor))}>{ "Next page" }</button>
            }
        </nav>
    }
}
