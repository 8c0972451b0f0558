//! Every page has a URL (deep links work; the server falls back to the app for them). List
//! pages keep their filters, sort and page in the URL's query, one query type per resource.

pub mod agent_runs;
pub mod query;
pub mod queue;

use yew_router::prelude::*;

#[derive(Clone, Debug, Routable, PartialEq, Eq)]
pub enum Route {
    #[at("/")]
    Today,
    /// Filters, sort and page in the query (see [`queue::QueueFilters`]).
    #[at("/queue")]
    Queue,
    #[at("/queue/:id")]
    Item { id: String },
    #[at("/agents")]
    Agents,
    /// Filters and page in the query (see [`agent_runs::RunFilters`]).
    #[at("/runs")]
    Runs,
    /// `?after=` right after a write (see [`agent_runs::After`]).
    #[at("/runs/:id")]
    Run { id: String },
    #[at("/sign-in")]
    SignIn,
    #[not_found]
    #[at("/404")]
    NotFound,
}
