//! What the assistant's pages (chat, research) share: a document's Export and Delete, and
//! the open record or "nothing open".

use yew::prelude::*;

use super::fields::button;

/// Export as Markdown (a download of `export`, the API's address) and Delete (`remove`).
pub fn export_delete(export: String, remove: &Callback<MouseEvent>, busy: bool) -> Html {
    html! {
        <div class="actions">
            <a class="button" href={export} download="">{ "Export Markdown" }</a>
            { button("button danger", "Delete", busy, remove.clone()) }
        </div>
    }
}

/// A page of the assistant: its title `title` (with `id`), a line `sub` under it, a form
/// `form` above the list, the list `side` (a navigation named `side_label`) and what is open.
pub fn split_page(
    id: &str,
    title: &str,
    sub: Html,
    side_label: &str,
    side: Html,
    open: Html,
) -> Html {
    html! {
        <section class="page wide" aria-labelledby={id.to_string()}>
            <header class="page-header">
                <h1 id={id.to_string()}>{ title.to_string() }</h1>
                { sub }
            </header>
            <div class="split">
                <nav class="side" aria-label={side_label.to_string()}>{ side }</nav>
                <div class="conversation">{ open }</div>
            </div>
        </section>
    }
}
