//! Pipelines and deals: the dashboard (the home), the pipeline board, one deal and the
//! forecast. Each reads its answer as JSON and keeps `as_of` (and its other choices) in the
//! URL, so a historical view can be shared and reloaded.

pub mod board;
pub mod dashboard;
pub mod deal;
pub mod forecast;

use yew::prelude::*;

use crate::routes::query::{pair, query_value};
use crate::routes::{link, push, Location, Route};

/// The page's `as_of` (an RFC 3339 instant), if it shows the past.
pub fn as_of(location: &Location) -> Option<String> {
    query_value(location.query_str(), "as_of")
}

/// Goes to `route` with `pairs` (key, value; empty values left out).
pub fn go_with(route: &Route, pairs: &[(&str, Option<&str>)]) {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| value.filter(|v| !v.is_empty()).map(|v| pair(key, v)))
        .collect();
    push(route, &query.join("&"));
}

/// A link to the deal `id`, showing `name`.
pub fn deal_link(id: &str, name: &str) -> Html {
    link(
        Route::Deal { id: id.to_string() },
        html! { { name.to_string() } },
    )
}
