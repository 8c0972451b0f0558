//! The CaseyOS single-page app: Today's Moves, the queue, each move's history, the agents and
//! their runs. Yew function components over one typed API client; DTOs come from
//! `caseyos-domain`.

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod agent_input;
mod api;
mod app_state;
mod components;
mod filters;
mod format;
mod keys;
mod live;
mod markdown;
mod pages;
mod routes;
mod theme;
mod timeline;
mod today_state;

use yew::prelude::*;
use yew_router::prelude::*;

use app_state::{AppContext, Auth, Session};
use components::layout::Layout;
use components::status::Skeleton;
use pages::agents::AgentsPage;
use pages::item::ItemPage;
use pages::queue::QueuePage;
use pages::run::RunPage;
use pages::runs::RunsPage;
use pages::sign_in::SignInPage;
use pages::today::TodayPage;
use pages::NotFoundPage;
use routes::Route;

/// Sends signed-out visitors to sign in, remembering where they were going.
#[component]
fn Guard(props: &GuardProps) -> Html {
    let app = app_state::use_app();
    let navigator = use_navigator();
    let location = use_location();
    {
        let auth = app.auth.clone();
        use_effect_with(auth, move |auth| {
            if let Auth::SignedOut { .. } = auth {
                let next = location
                    .map(|l| format!("{}{}", l.path(), l.query_str()))
                    .unwrap_or_else(|| "/".into());
                if let Some(nav) = navigator {
                    let _ = nav.push_with_query(&Route::SignIn, &[("next", next)]);
                }
            }
        });
    }
    match &app.auth {
        Auth::SignedIn(_) => html! { <Layout>{ props.children.clone() }</Layout> },
        _ => html! { <main id="main" class="page"><Skeleton rows={2} /></main> },
    }
}

#[derive(Properties, PartialEq)]
struct GuardProps {
    children: Html,
}

fn switch(route: Route) -> Html {
    match route {
        Route::SignIn => html! { <SignInPage /> },
        Route::Today => html! { <Guard><TodayPage /></Guard> },
        Route::Queue => html! { <Guard><QueuePage /></Guard> },
        Route::Item { id } => html! { <Guard><ItemPage id={id} /></Guard> },
        Route::Agents => html! { <Guard><AgentsPage /></Guard> },
        Route::Runs => html! { <Guard><RunsPage /></Guard> },
        Route::Run { id } => html! { <Guard><RunPage id={id} /></Guard> },
        Route::NotFound => html! { <Guard><NotFoundPage /></Guard> },
    }
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
                match api::session().await {
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
            <BrowserRouter>
                <Switch<Route> render={switch} />
            </BrowserRouter>
        </ContextProvider<AppContext>>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
