//! Pieces shared by the data tables.

use yew::prelude::*;

/// A table's head: a row of column headings.
pub fn head(headings: &[&str]) -> Html {
    html! { <thead><tr>{ for headings.iter().map(|heading| column(heading)) }</tr></thead> }
}

/// A column's heading.
pub fn column(heading: &str) -> Html {
    html! { <th scope="col">{ heading.to_string() }</th> }
}
