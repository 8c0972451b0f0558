//! One page per route, grouped by the resource they show (`queue/`, `agent_runs/`), and
//! signing in.

pub mod agent_runs;
pub mod contacts;
pub mod hygiene;
pub mod queue;
pub mod sign_in;

use yew::prelude::*;
use yew_router::prelude::*;

use crate::routes::{link, Route};

#[component]
pub fn NotFoundPage() -> Html {
    html! {
        <section class="page">
            <h1>{ "Nothing here" }</h1>
            <p>{ "This address does not lead to a page. " }{ link(Route::Today, html! { "Back to Today's Moves" }) }</p>
        </section>
    }
}
