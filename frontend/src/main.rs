//! The CaseyOS single-page app: the dashboard, the pipeline board, deals, the forecast, Today's Moves, the queue, each move's history, the agents and
//! their runs, contacts (import, duplicate review, unmerge), data hygiene, and the assistant
//! (chat, research, voice training, the notifications bell). Yew function
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
mod views;

use yew::functional::{Hook, HookContext};
use yew::prelude::*;

use components::layout::guarded;
use components::modal::{Hooked, HookedView, PageView};
use infra::app_state::{AppContext, Auth, Session};
use infra::{live, theme};
use pages::agent_runs::agents::use_agents_page;
use pages::agent_runs::run::{use_run_page, RunProps};
use pages::agent_runs::runs::use_runs_page;
use pages::auto_approval::use_auto_approval_page;
use pages::chat::{use_chat_page, ChatProps};
use pages::connectors::use_connectors_page;
use pages::contacts::contact::{use_contact_page, ContactProps};
use pages::contacts::import::use_import_page;
use pages::contacts::list::use_contacts_page;
use pages::deals::board::use_board_page;
use pages::deals::dashboard::use_dashboard_page;
use pages::deals::deal::{use_deal_page, DealProps};
use pages::deals::forecast::use_forecast_page;
use pages::hygiene::duplicates::{use_duplicates_page, DuplicatesProps};
use pages::hygiene::overview::use_hygiene_page;
use pages::not_found_page;
use pages::queue::item::{use_item_page, ItemProps};
use pages::queue::list::use_queue_page;
use pages::queue::today::use_today_page;
use pages::sign_in::use_sign_in_page;
use pages::signals::use_signals_page;
use pages::voice::use_voice_page;
use routes::{use_router, Route};

/// Talc rather than the default dlmalloc: about 3 KB less of the wasm (gzip), and faster by
/// talc's own benchmarks.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The page of `route` (not `/404`), as a hook of the view that shows it ([`HookedView`]).
struct PageOf(Route);

impl Hook for PageOf {
    type Output = Html;

    fn run(self, ctx: &mut HookContext) -> Html {
        let id = AttrValue::from;
        match self.0 {
            Route::SignIn => use_sign_in_page().run(ctx),
            Route::Dashboard => use_dashboard_page().run(ctx),
            Route::Today => use_today_page().run(ctx),
            Route::Pipeline => use_board_page().run(ctx),
            Route::Deal { id: deal } => use_deal_page(&DealProps { id: id(deal) }).run(ctx),
            Route::Forecast => use_forecast_page().run(ctx),
            Route::Queue => use_queue_page().run(ctx),
            Route::Item { id: item } => use_item_page(&ItemProps { id: id(item) }).run(ctx),
            Route::Agents => use_agents_page().run(ctx),
            Route::Runs => use_runs_page().run(ctx),
            Route::Run { id: run } => use_run_page(&RunProps { id: id(run) }).run(ctx),
            Route::Contacts => use_contacts_page().run(ctx),
            Route::Hygiene => use_hygiene_page().run(ctx),
            Route::Contact { id: contact } => {
                use_contact_page(&ContactProps { id: id(contact) }).run(ctx)
            }
            Route::ContactImport => use_import_page().run(ctx),
            Route::Duplicates => use_duplicates_page(&DuplicatesProps { id: None }).run(ctx),
            Route::Duplicate { id: pair } => {
                use_duplicates_page(&DuplicatesProps { id: Some(id(pair)) }).run(ctx)
            }
            Route::Signals => use_signals_page().run(ctx),
            Route::Connectors => use_connectors_page().run(ctx),
            Route::AutoApproval => use_auto_approval_page().run(ctx),
            Route::Chat { id: chat } => use_chat_page(&ChatProps {
                id: chat.map(id),
                research: false,
            })
            .run(ctx),
            Route::Research { id: research } => use_chat_page(&ChatProps {
                id: research.map(id),
                research: true,
            })
            .run(ctx),
            Route::Voice => use_voice_page().run(ctx),
            Route::NotFound => not_found_page(),
        }
    }
}

/// The page of `route`, run as a hook of the view that shows it.
fn page_of(route: &Route, ctx: &mut HookContext) -> Html {
    PageOf(route.clone()).run(ctx)
}

/// Which page a route shows: routes of one page share it (a pair of the duplicates page keeps
/// the page and its list), any other route is another page.
fn page_key(route: &Route) -> String {
    match route {
        Route::Duplicate { .. } => format!("{:?}", std::mem::discriminant(&Route::Duplicates)),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

fn switch(route: Route) -> Html {
    let signed_in_only = !matches!(route, Route::SignIn);
    if matches!(route, Route::NotFound) {
        return guarded(not_found_page());
    }
    let key = page_key(&route);
    // Every page is one view of `HookedView`, its hooks those of the route's page: one copy
    // of yew's component lifecycle for all pages (ARCHITECTURE.md, "The SPA" → Size). Keyed
    // by `page_key`, so that another page starts afresh.
    let page = html! { <HookedView {key} view={Hooked::Page(route, PageView(page_of))} /> };
    if signed_in_only {
        // Every other page is for the signed-in.
        guarded(page)
    } else {
        page
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
                match api::auth::session().await {
                    Ok(session) => auth.set(Auth::SignedIn(Session::from(session))),
                    Err(_) => auth.set(Auth::SignedOut { expired: false }),
                }
            });
        });
    }
    // Appearance applies before the first paint of a page.
    use_effect_with((), |_| theme::Appearance::load().apply());

    let routed = use_router(switch);
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
            { routed }
        </ContextProvider<AppContext>>
    }
}

fn main() {
    components::modal::set_views(views::run);
    yew::Renderer::<App>::new().render();
}
