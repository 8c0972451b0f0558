//! Every page has a URL (deep links work; the server falls back to the app for them). List
//! pages keep their filters, sort and page in the URL's query, one query type per resource.

pub mod agent_runs;
pub mod query;
pub mod queue;
mod route;
pub mod router;

use yew::{Classes, Html};

pub use route::Route;
pub use router::{address_link, app_link, push, use_location, use_router, Location};

/// A plain link to the page `to`, showing `children`: one copy of a link's code for all of them.
pub fn link(to: Route, children: Html) -> Html {
    app_link(&to, None, Classes::new(), children)
}
