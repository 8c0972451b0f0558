//! The CaseyOS single-page app: the dashboard, the pipeline board, deals, the forecast, Today's Moves, the queue, each move's history, the agents and
//! their runs, contacts (import, duplicate review, unmerge) and data hygiene. Yew function
//! components over one typed API client; DTOs come from `caseyos-domain`.
//!
//! - [`routes`]: one `Route` enum (deep links) and each list route's query.
//! - [`api`]: one async fn per endpoint, a module per resource, over one request function.
//! - [`hooks`]: reading from the API (`use_query`, with live refresh), dialogs, URL filters.
//! - [`pages`] (one per route) and [`components`], each grouped by resource.
//! - [`infra`]: session and live-update state, keyboard, theme, formatting.

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod api;
mod components;
mod hooks;
mod infra;
mod pages;
mod routes;
#[cfg(test)]
mod test_support;

use yew::prelude::*;

use components::layout::Layout;
use components::status::skeleton;
use infra::app_state::{self, AppContext, Auth, Session};
use infra::{live, theme};
use pages::agent_runs::agents::AgentsPage;
use pages::agent_runs::run::RunPage;
use pages::agent_runs::runs::RunsPage;
use pages::contacts::contact::ContactPage;
use pages::contacts::import::ImportPage;
use pages::contacts::list::ContactsPage;
use pages::deals::board::BoardPage;
use pages::deals::dashboard::DashboardPage;
use pages::deals::deal::DealPage;
use pages::deals::forecast::ForecastPage;
use pages::hygiene::duplicates::DuplicatesPage;
use pages::hygiene::overview::HygienePage;
use pages::not_found_page;
use pages::queue::item::ItemPage;
use pages::queue::list::QueuePage;
use pages::queue::today::TodayPage;
use pages::sign_in::SignInPage;
use routes::query::pair;
use routes::{push, use_location, Route, Router};

/// Talc rather than the default dlmalloc: about 3 KB less of the wasm (gzip), and faster by
/// talc's own benchmarks.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Sends signed-out visitors to sign in, remembering where they were going.
#[component]
fn Guard(props: &GuardProps) -> Html {
    let app = app_state::use_app();
    let location = use_location();
    {
        let auth = app.auth.clone();
        use_effect_with(auth, move |auth| {
            if let Auth::SignedOut { .. } = auth {
                let next = match location.query_str() {
                    "" => location.path.clone(),
                    query => format!("{}?{query}", location.path),
                };
                push(&Route::SignIn, &pair("next", &next));
            }
        });
    }
    match &app.auth {
        Auth::SignedIn(_) => html! { <Layout>{ props.children.clone() }</Layout> },
        _ => html! { <main id="main" class="page">{ skeleton(2) }</main> },
    }
}

#[derive(Properties, PartialEq)]
struct GuardProps {
    children: Html,
}

fn switch(route: Route) -> Html {
    let page = match route {
        Route::SignIn => return html! { <SignInPage /> },
        Route::Dashboard => html! { <DashboardPage /> },
        Route::Today => html! { <TodayPage /> },
        Route::Pipeline => html! { <BoardPage /> },
        Route::Deal { id } => html! { <DealPage id={id} /> },
        Route::Forecast => html! { <ForecastPage /> },
        Route::Queue => html! { <QueuePage /> },
        Route::Item { id } => html! { <ItemPage id={id} /> },
        Route::Agents => html! { <AgentsPage /> },
        Route::Runs => html! { <RunsPage /> },
        Route::Run { id } => html! { <RunPage id={id} /> },
        Route::Contacts => html! { <ContactsPage /> },
        Route::Hygiene => html! { <HygienePage /> },
        Route::Contact { id } => html! { <ContactPage id={id} /> },
        Route::ContactImport => html! { <ImportPage /> },
        Route::Duplicates => html! { <DuplicatesPage /> },
        Route::Duplicate { id } => html! { <DuplicatesPage id={Some(AttrValue::from(id))} /> },
        Route::NotFound => not_found_page(),
    };
    // Every other page is for the signed-in.
    html! { <Guard>{ page }</Guard> }
}

#[component]
fn App() -> Html {
    let auth = use_state(|| Auth::Checking);
    let live = live::use_live(matches!(*auth, Auth::SignedIn(_)));

    // Does the browser already have a session?
    {
        let auth = auth.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::auth::session().await {
                    Ok(session) => auth.set(Auth::SignedIn(Session::from(session))),
                    Err(_) => auth.set(Auth::SignedOut { expired: false }),
                }
            });
        });
    }
    // Appearance applies before the first paint of a page.
    use_effect_with((), |_| theme::Appearance::load().apply());

    let context = AppContext {
        auth: (*auth).clone(),
        set_auth: {
            let auth = auth.clone();
            Callback::from(move |next| auth.set(next))
        },
        live,
    };
    html! {
        <ContextProvider<AppContext> context={context}>
            <Router render={switch as fn(Route) -> Html} />
        </ContextProvider<AppContext>>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
