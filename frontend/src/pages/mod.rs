//! One page per route, grouped by the resource they show (`queue/`, `agent_runs/`), and
//! signing in.

pub mod agent_runs;
pub mod auto_approval;
pub mod chat;
pub mod connectors;
pub mod contacts;
pub mod deals;
pub mod hygiene;
pub mod queue;
pub mod sign_in;
pub mod signals;
pub mod voice;

use yew::prelude::*;

use crate::routes::{link, Route};

/// What `/404`, and any path that is no page, shows.
pub fn not_found_page() -> Html {
    html! {
        <section class="page">
            <h1>{ "Nothing here" }</h1>
            <p>{ "This address does not lead to a page. " }{ link(Route::Today, html! { "Back to Today's Moves" }) }</p>
        </section>
    }
}
