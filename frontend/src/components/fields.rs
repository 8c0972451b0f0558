//! The parts of a detail page's facts (`<dl class="fields">`): a label and its value; a plain
//! button.

use yew::prelude::*;

/// One fact: its label (`dt`) and value (`dd`).
pub fn field(label: &str, value: Html) -> Html {
    html! { <><dt>{ label }</dt><dd>{ value }</dd></> }
}

/// A button (`class`: all its classes) that runs `onclick`, disabled while `disabled`: one
/// copy of a button's view for every plain button (ARCHITECTURE.md, "The SPA" → Size).
pub fn button(
    class: &'static str,
    label: &'static str,
    disabled: bool,
    onclick: Callback<MouseEvent>,
) -> Html {
    html! { <button type="button" {class} {disabled} {onclick}>{ label }</button> }
}
