//! Every page has a URL (deep links work; the server falls back to the app for them).

use yew_router::prelude::*;

#[derive(Clone, Debug, Routable, PartialEq, Eq)]
pub enum Route {
    #[at("/")]
    Today,
    #[at("/queue")]
    Queue,
    #[at("/queue/:id")]
    Item { id: String },
    #[at("/agents")]
    Agents,
    /// Filters and page in the query (see `filters::RunFilters`).
    #[at("/runs")]
    Runs,
    #[at("/runs/:id")]
    Run { id: String },
    #[at("/sign-in")]
    SignIn,
    #[not_found]
    #[at("/404")]
    NotFound,
}
