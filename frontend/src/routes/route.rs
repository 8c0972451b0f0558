//! The pages and their paths: the [`Route`] enum, each route's path and the route of a path.

use super::query;

/// The pages, matched by hand ([`Route::recognize`]): yew_router's derive matched paths with a
/// general route recognizer (an NFA built at start-up), and its history brought gloo's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/` and `/dashboard`: the home after signing in.
    Dashboard,
    /// `/today`: Today's Moves (`t` from any page).
    Today,
    /// `/pipeline`: the board; `?pipeline=` when there are several.
    Pipeline,
    /// `/deals/:id`: `?as_of=` for the deal as it stood then.
    Deal { id: String },
    /// `/forecast`: `?period=&owner=&as_of=`.
    Forecast,
    /// `/queue`: filters, sort and page in the query (see [`queue::QueueFilters`]).
    Queue,
    /// `/queue/:id`
    Item { id: String },
    /// `/agents`
    Agents,
    /// `/runs`: filters and page in the query (see [`agent_runs::RunFilters`]).
    Runs,
    /// `/runs/:id`: `?after=` right after a write (see [`agent_runs::After`]).
    Run { id: String },
    /// `/contacts`: the search and page in the query (see
    /// [`ContactsQuery`](crate::pages::contacts::list::ContactsQuery)).
    Contacts,
    /// `/contacts/:id`
    Contact { id: String },
    /// `/contacts/import`: `?id=` once a file is uploaded.
    ContactImport,
    /// `/hygiene`: checks, daily reports, open alerts.
    Hygiene,
    /// `/hygiene/duplicates`: the open pairs, reviewed one by one.
    Duplicates,
    /// `/hygiene/duplicates/:id`: the same, that pair in the pane.
    Duplicate { id: String },
    /// `/signals`: `?source=&kind=&status=&cursor=`.
    Signals,
    /// `/settings/connectors`: `?connector=&result=&code=` back from a provider's consent.
    Connectors,
    /// `/settings/auto-approval`
    AutoApproval,
    /// `/chat`, and `/chat/:id` with that chat open.
    Chat { id: Option<String> },
    /// `/research`, and `/research/:id` with that research open.
    Research { id: Option<String> },
    /// `/voice`: voice training.
    Voice,
    /// `/sign-in`
    SignIn,
    /// `/404`, and any path that is no page.
    NotFound,
}

impl Route {
    /// The route's path (an id percent-encoded as one segment).
    pub fn to_path(&self) -> String {
        let fixed = match self {
            Route::Item { id } => return format!("/queue/{}", encode(id)),
            Route::Run { id } => return format!("/runs/{}", encode(id)),
            Route::Contact { id } => return format!("/contacts/{}", encode(id)),
            Route::Duplicate { id } => return format!("/hygiene/duplicates/{}", encode(id)),
            Route::Deal { id } => return format!("/deals/{}", encode(id)),
            Route::Chat { id: Some(id) } => return format!("/chat/{}", encode(id)),
            Route::Chat { id: None } => "/chat",
            Route::Research { id: Some(id) } => return format!("/research/{}", encode(id)),
            Route::Research { id: None } => "/research",
            Route::Voice => "/voice",
            Route::Dashboard => "/dashboard",
            Route::Today => "/today",
            Route::Pipeline => "/pipeline",
            Route::Forecast => "/forecast",
            Route::Queue => "/queue",
            Route::Agents => "/agents",
            Route::Runs => "/runs",
            Route::SignIn => "/sign-in",
            Route::Signals => "/signals",
            Route::Connectors => "/settings/connectors",
            Route::AutoApproval => "/settings/auto-approval",
            Route::ContactImport => "/contacts/import",
            Route::Duplicates => "/hygiene/duplicates",
            Route::Contacts => "/contacts",
            Route::Hygiene => "/hygiene",
            Route::NotFound => "/404",
        };
        fixed.to_string()
    }

    /// The page of a path, as yew_router's derived recognizer read it: one trailing `/` is
    /// ignored, `:id` is one non-empty segment (percent-decoded; not UTF-8 is no page),
    /// anything else is `NotFound`.
    pub fn recognize(pathname: &str) -> Self {
        let path = pathname.strip_suffix('/').unwrap_or(pathname);
        let segments: Vec<&str> = path
            .strip_prefix('/')
            .map_or_else(Vec::new, |p| p.split('/').collect());
        let one = |id: &str| (!id.is_empty()).then(|| decode(id)).flatten();
        let route = match segments.as_slice() {
            [] if path.is_empty() => Some(Route::Dashboard),
            ["dashboard"] => Some(Route::Dashboard),
            ["today"] => Some(Route::Today),
            ["pipeline"] => Some(Route::Pipeline),
            ["forecast"] => Some(Route::Forecast),
            ["deals", id] => one(id).map(|id| Route::Deal { id }),
            ["queue"] => Some(Route::Queue),
            ["queue", id] => one(id).map(|id| Route::Item { id }),
            ["agents"] => Some(Route::Agents),
            ["runs"] => Some(Route::Runs),
            ["runs", id] => one(id).map(|id| Route::Run { id }),
            ["sign-in"] => Some(Route::SignIn),
            ["signals"] => Some(Route::Signals),
            ["settings", "connectors"] => Some(Route::Connectors),
            ["settings", "auto-approval"] => Some(Route::AutoApproval),
            ["contacts"] => Some(Route::Contacts),
            ["hygiene"] => Some(Route::Hygiene),
            ["contacts", "import"] => Some(Route::ContactImport),
            ["contacts", id] => one(id).map(|id| Route::Contact { id }),
            ["hygiene", "duplicates"] => Some(Route::Duplicates),
            ["hygiene", "duplicates", id] => one(id).map(|id| Route::Duplicate { id }),
            ["chat"] => Some(Route::Chat { id: None }),
            ["chat", id] => one(id).map(|id| Route::Chat { id: Some(id) }),
            ["research"] => Some(Route::Research { id: None }),
            ["research", id] => one(id).map(|id| Route::Research { id: Some(id) }),
            ["voice"] => Some(Route::Voice),
            _ => None,
        };
        route.unwrap_or(Route::NotFound)
    }
}

/// A path segment: every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded.
fn encode(segment: &str) -> String {
    query::percent_encode(segment, b"")
}

/// A percent-encoded segment (`+` is a plus); `None` when the bytes are not UTF-8.
fn decode(segment: &str) -> Option<String> {
    String::from_utf8(query::percent_decode(segment, false)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn paths_are_recognized_as_the_derived_recognizer_did() {
        let item = |id: &str| Route::Item { id: id.into() };
        let run = |id: &str| Route::Run { id: id.into() };
        let table = [
            ("/", Route::Dashboard),
            ("", Route::Dashboard),
            ("/dashboard", Route::Dashboard),
            ("/today", Route::Today),
            ("/pipeline", Route::Pipeline),
            ("/forecast/", Route::Forecast),
            ("/deals/d-1", Route::Deal { id: "d-1".into() }),
            ("/deals", Route::NotFound),
            ("/queue", Route::Queue),
            ("/queue/", Route::Queue),
            ("/queue/abc", item("abc")),
            ("/queue/abc/", item("abc")),
            ("/queue/a%20b%2Fc", item("a b/c")),
            ("/queue/caf%C3%A9", item("café")),
            ("/queue/100%", item("100%")),
            ("/queue/a+b", item("a+b")),
            ("/queue/%FF", Route::NotFound),
            ("/queue/a/b", Route::NotFound),
            ("/queue//", Route::NotFound),
            ("/agents", Route::Agents),
            ("/runs", Route::Runs),
            ("/runs/r-1", run("r-1")),
            ("/sign-in", Route::SignIn),
            ("/404", Route::NotFound),
            ("/nope", Route::NotFound),
            ("/Queue", Route::NotFound),
            ("//", Route::NotFound),
            ("queue", Route::NotFound),
            ("/contacts", Route::Contacts),
            ("/contacts/", Route::Contacts),
            ("/contacts/import", Route::ContactImport),
            ("/contacts/c-1", Route::Contact { id: "c-1".into() }),
            ("/contacts/c-1/x", Route::NotFound),
            ("/hygiene", Route::Hygiene),
            ("/hygiene/x", Route::NotFound),
            ("/hygiene/duplicates/", Route::Duplicates),
            (
                "/hygiene/duplicates/p-1",
                Route::Duplicate { id: "p-1".into() },
            ),
            ("/hygiene/elsewhere/p-1", Route::NotFound),
            ("/signals", Route::Signals),
            ("/settings/connectors/", Route::Connectors),
            ("/settings", Route::NotFound),
            ("/settings/auto-approval", Route::AutoApproval),
            ("/chat", Route::Chat { id: None }),
            (
                "/chat/c-1/",
                Route::Chat {
                    id: Some("c-1".into()),
                },
            ),
            ("/chat/c-1/x", Route::NotFound),
            ("/research/", Route::Research { id: None }),
            (
                "/research/r-1",
                Route::Research {
                    id: Some("r-1".into()),
                },
            ),
            ("/research/r-1/x", Route::NotFound),
            ("/voice/", Route::Voice),
        ];
        for (path, route) in table {
            assert_eq!(Route::recognize(path), route, "{path:?}");
        }
    }

    #[wasm_bindgen_test]
    fn routes_write_their_paths_and_read_them_back() {
        let routes = [
            Route::Dashboard,
            Route::Today,
            Route::Pipeline,
            Route::Forecast,
            Route::Deal { id: "d/1".into() },
            Route::Queue,
            Route::Item {
                id: "a b/c?é".into(),
            },
            Route::Agents,
            Route::Runs,
            Route::Run {
                id: "0192-ab".into(),
            },
            Route::SignIn,
            Route::NotFound,
            Route::Contact { id: "c 1".into() },
            Route::ContactImport,
            Route::Duplicates,
            Route::Duplicate { id: "p-1".into() },
            Route::Contacts,
            Route::Hygiene,
            Route::Signals,
            Route::Connectors,
            Route::AutoApproval,
            Route::Chat { id: None },
            Route::Chat {
                id: Some("a b".into()),
            },
            Route::Research { id: None },
            Route::Research {
                id: Some("r/1".into()),
            },
            Route::Voice,
        ];
        for route in routes {
            let path = route.to_path();
            assert_eq!(Route::recognize(&path), route.clone(), "{path}");
        }
        assert_eq!(Route::Item { id: "a b".into() }.to_path(), "/queue/a%20b");
        assert_eq!(Route::Today.to_path(), "/today");
        assert_eq!(Route::NotFound.to_path(), "/404");
        assert_eq!(Route::Dashboard.to_path(), "/dashboard");
        assert_eq!(Route::Deal { id: "d 1".into() }.to_path(), "/deals/d%201");
    }
}
