//! A list page's filter controls, each bound to one URL query field: a labelled select, and
//! a day.

use yew::prelude::*;

use crate::infra::dom::value_of;

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: Option<String>,
    /// `(value, label)`; an empty value means "any".
    pub options: Vec<(String, String)>,
    pub on_change: Callback<Option<String>>,
}

/// A labelled select for a list filter; choosing the empty value clears the filter.
pub fn filter_select(props: &SelectProps) -> Html {
    let onchange = changed(&props.on_change);
    let current = props.value.clone().unwrap_or_default();
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <select id={props.id.clone()} {onchange}>
                { for props.options.iter().map(|(value, label)| html! {
                    <option value={value.clone()} selected={*value == current}>{ label }</option>
                }) }
            </select>
        </div>
    }
}

/// A filter's change: its new value, `None` for none.
fn changed(on_change: &Callback<Option<String>>) -> Callback<Event> {
    on_change.reform(|e: Event| Some(value_of(&e)).filter(|v| !v.is_empty()))
}

/// A labelled date input for a `from`/`to` filter (an instant shows its day).
pub fn day_filter(
    id: &'static str,
    label: &'static str,
    value: Option<&str>,
    on_change: Callback<Option<String>>,
) -> Html {
    let day = value.map(|v| v.get(..10).unwrap_or(v)).unwrap_or_default();
    html! {
        <div class="field">
            <label for={id}>{ label }</label>
            <input {id} type="date" value={day.to_string()} onchange={changed(&on_change)} />
        </div>
    }
}

/// The options with an "any" choice first.
pub fn with_any(
    any: &str,
    values: impl Iterator<Item = (String, String)>,
) -> Vec<(String, String)> {
    std::iter::once((String::new(), any.to_string()))
        .chain(values)
        .collect()
}
