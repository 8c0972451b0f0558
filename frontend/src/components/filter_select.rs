//! A list page's filter control: a labelled select bound to one URL query field.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

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
#[component]
pub fn FilterSelect(props: &SelectProps) -> Html {
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            on_change.emit(Some(value).filter(|v| !v.is_empty()));
        })
    };
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

/// The options with an "any" choice first.
pub fn with_any(
    any: &str,
    values: impl Iterator<Item = (String, String)>,
) -> Vec<(String, String)> {
    std::iter::once((String::new(), any.to_string()))
        .chain(values)
        .collect()
}
