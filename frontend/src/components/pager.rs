//! The pager under a list: back to the first page, and on to the next.

use yew::prelude::*;

use super::fields::button;

use crate::hooks::Filters;
use crate::routes::query::UrlQuery;

/// First page (on a later page) and Next page (when the list has one, at `next`).
pub fn pager<Q: UrlQuery>(filters: &Filters<Q>, next: Option<String>) -> Html {
    html! {
        <nav class="pager" aria-label="Pages">
            if filters.current.is_paged() {
                { button("button", "First page", false, filters.to_page(None)) }
            }
            if let Some(cursor) = next {
                { button("button", "Next page", false, filters.to_page(Some(cursor))) }
            }
        </nav>
    }
}
