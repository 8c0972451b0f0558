//! Loading, empty and error states, shared by every async view.

use yew::prelude::*;

use crate::api::ApiError;

/// What an async view shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

#[derive(Properties, PartialEq)]
pub struct SkeletonProps {
    #[prop_or(3)]
    pub rows: usize,
}

/// Placeholder rows while a list loads.
#[component]
pub fn Skeleton(props: &SkeletonProps) -> Html {
    html! {
        <div class="skeleton" aria-busy="true" aria-live="polite">
            <span class="visually-hidden">{ "Loading…" }</span>
            { for (0..props.rows).map(|_| html! { <div class="skeleton-row" aria-hidden="true"></div> }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ErrorViewProps {
    pub error: ApiError,
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// The server's message and code, and a way to try again.
#[component]
pub fn ErrorView(props: &ErrorViewProps) -> Html {
    let error = &props.error;
    html! {
        <div class="error" role="alert">
            <p><strong>{ &error.message }</strong></p>
            <p class="muted">
                { "Code " }<code>{ &error.code }</code>
                { for error.request_id.as_ref().map(|id| html! { <>{ " · request " }<code>{ id }</code></> }) }
            </p>
            if !error.fields.is_empty() {
                <ul>{ for error.fields.iter().map(|(f, m)| html! { <li><code>{ f }</code>{ " " }{ m }</li> }) }</ul>
            }
            if let Some(retry) = &props.on_retry {
                <button class="button" onclick={let retry = retry.clone(); move |_| retry.emit(())}>{ "Try again" }</button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct EmptyProps {
    pub title: AttrValue,
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn Empty(props: &EmptyProps) -> Html {
    html! {
        <div class="empty">
            <p><strong>{ props.title.clone() }</strong></p>
            { props.children.clone() }
        </div>
    }
}
