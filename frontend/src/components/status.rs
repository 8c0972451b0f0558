//! Loading, empty and error states, shared by every async view.

use yew::prelude::*;

use super::fields::button;

use crate::api::ApiError;

/// What an async view shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

/// An async view: `rows` placeholder rows while loading, the error with "Try again" (`retry`)
/// when it failed, and what `ready` makes of the value once it is there.
pub fn view<T>(
    load: &Load<T>,
    rows: usize,
    retry: &Callback<()>,
    ready: impl FnOnce(&T) -> Html,
) -> Html {
    match load {
        Load::Loading => skeleton(rows),
        Load::Failed(error) => error_view(error, Some(retry)),
        Load::Ready(value) => ready(value),
    }
}

/// Placeholder rows while a list loads.
pub fn skeleton(rows: usize) -> Html {
    html! {
        <div class="skeleton" aria-busy="true" aria-live="polite">
            <span class="visually-hidden">{ "Loading…" }</span>
            { for (0..rows).map(|_| html! { <div class="skeleton-row" aria-hidden="true"></div> }) }
        </div>
    }
}

/// The server's message and code, and a way to try again (`on_retry`).
pub fn error_view(error: &ApiError, on_retry: Option<&Callback<()>>) -> Html {
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
            if let Some(retry) = on_retry {
                { button("button", "Try again", false, retry.reform(|_| ())) }
            }
        </div>
    }
}

/// A list with nothing in it: `title`, and `more` to say.
pub fn empty(title: &str, more: Html) -> Html {
    html! {
        <div class="empty">
            <p><strong>{ title }</strong></p>
            { more }
        </div>
    }
}
