//! The router, written by hand rather than yew_router's (with gloo's history and
//! serde_urlencoded): the address is read from `window.location`, changed with the History
//! API, and every change — a link, a navigation from code, Back and Forward — ends in one
//! `popstate` event that the router ([`use_router`]) answers by showing the route of the new address.

use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use yew::prelude::*;

use super::agent_runs::RunFilters;
use super::query::UrlQuery;
use super::route::Route;
use crate::infra::links::is_same_site_path;

/// The address the app shows: its path, and its query without the `?`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Location {
    pub path: String,
    pub query: String,
}

impl Location {
    /// The browser's address now.
    pub fn current() -> Self {
        let location = web_sys::window().map(|w| w.location());
        let read = |f: fn(&web_sys::Location) -> Result<String, JsValue>| {
            location
                .as_ref()
                .and_then(|l| f(l).ok())
                .unwrap_or_default()
        };
        Location {
            path: read(web_sys::Location::pathname),
            query: read(web_sys::Location::search)
                .trim_start_matches('?')
                .to_string(),
        }
    }

    /// The query string, without the `?`.
    pub fn query_str(&self) -> &str {
        &self.query
    }

    /// The page this address shows.
    pub fn route(&self) -> Route {
        Route::recognize(&self.path)
    }
}

/// The address of `route` with `query` (`key=value&…`; none when empty).
pub fn href(route: &Route, query: &str) -> String {
    match query {
        "" => route.to_path(),
        query => format!("{}?{query}", route.to_path()),
    }
}

/// Goes to `url` (a path on this site with its query) as a new entry of the history, or in
/// place of the current one when `replace`, and shows its page.
pub fn go(url: &str, replace: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(history) = window.history() {
        let _ = if replace {
            history.replace_state_with_url(&JsValue::NULL, "", Some(url))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(url))
        };
    }
    if let Ok(event) = web_sys::Event::new("popstate") {
        let _ = window.dispatch_event(&event);
    }
}

/// Goes to the page of `route` with `query` (`key=value&…`, may be empty).
pub fn push(route: &Route, query: &str) {
    go(&href(route, query), false);
}

/// Where the app is: the router's address ([`use_router`]), or the browser's outside one (in tests).
#[hook]
pub fn use_location() -> Location {
    use_context::<Location>().unwrap_or_else(Location::current)
}

/// The app's one router, a hook of the app's: the view of `render` for the route of the
/// browser's address, again on every `popstate`; its descendants read the address with
/// [`use_location`]. (A hook rather than a component: one copy of yew's component
/// lifecycle less.)
#[hook]
pub fn use_router(render: fn(Route) -> Html) -> Html {
    let location = use_state(Location::current);
    {
        let location = location.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "popstate", move |_| {
                    location.set(Location::current())
                })
            });
            move || drop(listener)
        });
    }
    html! {
        <ContextProvider<Location> context={(*location).clone()}>
            { render(location.route()) }
        </ContextProvider<Location>>
    }
}

/// A link to the page `to` (with a run list's filters, `query`, the one query a link
/// carries), showing `children`. A plain function rather than a component (one copy of yew's
/// lifecycle less: ARCHITECTURE.md, "The SPA" → Size).
pub fn app_link(to: &Route, query: Option<&RunFilters>, classes: Classes, children: Html) -> Html {
    let href = href(to, &query.map(UrlQuery::to_query).unwrap_or_default());
    html! { <a class={classes} href={href.clone()} onclick={click_to(href)}>{ children }</a> }
}

/// A link's click: a plain one goes to `href` (a path on this site) without a reload; one
/// with a modifier key or another button is the browser's (a new tab, a download).
fn click_to(href: String) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        if e.button() == 0 && !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key()) {
            e.prevent_default();
            go(&href, false);
        }
    })
}

/// A link to an address the server gave (a notification's, a source's): a path on this site
/// as [`app_link`] goes, an `https://` or `http://` address in a new tab, anything else only
/// its `children`.
pub fn address_link(address: &str, children: Html) -> Html {
    let href = address.to_string();
    if is_same_site_path(address) {
        html! { <a href={href.clone()} onclick={click_to(href)}>{ children }</a> }
    } else if address.starts_with("https://") || address.starts_with("http://") {
        html! { <a {href} target="_blank" rel="noopener noreferrer">{ children }</a> }
    } else {
        children
    }
}
