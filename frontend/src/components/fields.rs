//! The parts of a detail page's facts (`<dl class="fields">`): a label and its value.

use yew::prelude::*;

/// One fact: its label (`dt`) and value (`dd`).
pub fn field(label: &str, value: Html) -> Html {
    html! { <><dt>{ label }</dt><dd>{ value }</dd></> }
}
