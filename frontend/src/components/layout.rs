//! The frame around every signed-in page: navigation with the queue badge, the quick-stats
//! bar (with failed, running and queued agent runs), appearance controls, sign-out (which
//! says so when it fails), and the global shortcuts (?, t for Today's Moves, Ctrl/⌘ K).

use super::modal::{modal, Hooked, HookedView};
use super::palette::PaletteProps;
pub use crate::components::modal::LayoutProps;
use serde_json::Value;
use yew::prelude::*;

use super::fields::button;

use super::guardrails::{guardrails, use_guardrails};
use super::notifications::use_bell;
use super::status::{error_view, skeleton, Load};
use crate::api::{self, ApiError};
use crate::hooks::{use_query, Refresh};
use crate::infra::app_state::{use_app, AppContext, Auth};
use crate::infra::keys::{on_shortcut, Shortcut, HELP};
use crate::infra::live::Feed;
use crate::infra::theme::{Appearance, Theme};
use crate::routes::agent_runs::RunFilters;
use crate::routes::query::pair;
use crate::routes::{app_link, push, use_location, Route};

/// `children` for the signed-in, in the frame ([`use_layout`]); signed-out visitors are sent
/// to sign in, remembering where they were going.
pub fn guarded(children: Html) -> Html {
    html! { <HookedView key="guard" view={Hooked::Guard(LayoutProps { children })} /> }
}

/// [`guarded`]'s hooks, as a view of [`HookedView`].
#[hook]
pub fn use_guard(props: &LayoutProps) -> Html {
    let app = use_app();
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
        Auth::SignedIn(_) => {
            let props = LayoutProps {
                children: props.children.clone(),
            };
            html! { <HookedView key="layout" view={Hooked::Layout(props)} /> }
        }
        _ => html! { <main id="main" class="page">{ skeleton(2) }</main> },
    }
}

/// How often the stats are read again, live updates or not.
const STATS_MS: u32 = 60_000;

/// The navigation's links before Today (which has the badge), in order.
const NAV_BEFORE: [(Route, &str); 1] = [(Route::Dashboard, "Dashboard")];

/// The navigation's links after Today, in order.
const NAV: [(Route, &str); 13] = [
    (Route::Pipeline, "Pipeline"),
    (Route::Forecast, "Forecast"),
    (Route::Queue, "Queue"),
    (Route::Agents, "Agents"),
    (Route::Runs, "Runs"),
    (Route::Contacts, "Contacts"),
    (Route::Hygiene, "Hygiene"),
    (Route::Signals, "Signals"),
    (Route::Chat { id: None }, "Chat"),
    (Route::Research { id: None }, "Research"),
    (Route::Voice, "Voice"),
    (Route::Connectors, "Connectors"),
    (Route::AutoApproval, "Auto-approval"),
];

/// A navigation link, marked as the current page when it leads to `current`'s page (any
/// chat's for Chat).
fn nav_link(to: &Route, label: &'static str, current: Option<&Route>) -> Html {
    html! {
        { app_link(to, None, "nav-link".into(), html! {
            <span aria-current={current.is_some_and(|c| std::mem::discriminant(c) == std::mem::discriminant(to)).then_some("page")}>{ label }</span>
        }) }
    }
}

/// One of the quick stats: its number in bold, then what it counts.
fn stat(value: String, what: &'static str) -> Html {
    html! { <span class="stat"><strong>{ value }</strong>{ what }</span> }
}

#[derive(Clone, Copy, PartialEq)]
enum Overlay {
    None,
    Help,
    Palette,
}

#[hook]
pub fn use_layout(props: &LayoutProps) -> Html {
    let app = use_app();
    let signing_out = use_sign_out();
    let rails = use_guardrails();
    let appearance = use_state(Appearance::load);
    let overlay = use_state(|| Overlay::None);
    let route = Some(use_location().route());
    let bell = use_bell();

    // Stats refresh when the queue moves, and every minute for "today" to roll over.
    let stats = use_query(
        Refresh::on(Feed::Queue).every(STATS_MS).keep_on_failure(),
        (),
        |_, consistency| async move { api::queue::stats(consistency.as_deref()).await },
    );
    // Run stats refresh when runs move (and every minute, should the live stream drop).
    let run_stats = use_query(
        Refresh::on(Feed::AgentRuns)
            .every(STATS_MS)
            .keep_on_failure(),
        (),
        |_, consistency| async move { api::agent_runs::stats(consistency.as_deref()).await },
    );

    {
        let appearance = *appearance;
        use_effect_with(appearance, |a| a.apply());
    }

    // ? opens the shortcuts, Ctrl/⌘ K the palette.
    {
        let overlay = overlay.clone();
        use_effect_with(*overlay, move |current| {
            let current = *current;
            let listener = on_shortcut(move |shortcut| match shortcut {
                Shortcut::Palette => {
                    overlay.set(if current == Overlay::Palette {
                        Overlay::None
                    } else {
                        Overlay::Palette
                    });
                    true
                }
                Shortcut::Help if current == Overlay::None => {
                    overlay.set(Overlay::Help);
                    true
                }
                Shortcut::Today if current == Overlay::None => {
                    push(&Route::Today, "");
                    true
                }
                _ => false,
            });
            move || drop(listener)
        });
    }

    // The button's name says what it shows (axe: label-content-name-mismatch).
    let (mark, theme) = match appearance.theme {
        Theme::System => ("◐ ", "Auto"),
        Theme::Light => ("☀ ", "Light"),
        Theme::Dark => ("☾ ", "Dark"),
    };
    let toggle_theme = {
        let appearance = appearance.clone();
        Callback::from(move |_| {
            appearance.set(Appearance {
                theme: appearance.theme.next(),
                ..*appearance
            })
        })
    };
    let toggle_contrast = {
        let appearance = appearance.clone();
        Callback::from(move |_| {
            appearance.set(Appearance {
                high_contrast: !appearance.high_contrast,
                ..*appearance
            })
        })
    };
    let close = {
        let overlay = overlay.clone();
        Callback::from(move |_| overlay.set(Overlay::None))
    };

    let count = |s: &Value, key: &str| s.get(key).and_then(Value::as_i64).unwrap_or(0);
    let pending = match &*stats {
        Load::Ready(s) => Some(count(s, "pending")),
        _ => None,
    };
    let current = |r: Route| (route.as_ref() == Some(&r)).then_some("page");
    let user = app
        .session()
        .map(|s| format!("{} ({})", s.user, s.role))
        .unwrap_or_default();
    html! {
        <>
            <a class="skip-link" href="#main">{ "Skip to content" }</a>
            <header class="top">
                <nav class="nav" aria-label="Main">
                    { app_link(&Route::Dashboard, None, "brand".into(), html! { "CaseyOS" }) }
                    { for NAV_BEFORE.iter().map(|(to, label)| nav_link(to, label, route.as_ref())) }
                    { app_link(&Route::Today, None, "nav-link".into(), html! { <>
                        <span aria-current={current(Route::Today)}>{ "Today" }</span>
                        if let Some(n) = pending {
                            <span class="badge" aria-label={format!("{n} waiting")}>{ n }</span>
                        }
                    </> }) }
                    { for NAV.iter().map(|(to, label)| nav_link(to, label, route.as_ref())) }
                </nav>
                <div class="tools">
                    { bell.button }
                    <button class="button ghost" onclick={let o = overlay.clone(); move |_| o.set(Overlay::Palette)}
                            aria-keyshortcuts="Control+K Meta+K">{ "Go to… ⌘K" }</button>
                    <button class="button ghost" onclick={toggle_theme} aria-label={format!("Theme: {theme}")}>
                        <span aria-hidden="true">{ mark }</span>{ theme }
                    </button>
                    <button class="button ghost" onclick={toggle_contrast} aria-pressed={appearance.high_contrast.to_string()}>
                        { "High contrast" }
                    </button>
                    <span class="user muted">{ user }</span>
                    { sign_out(&signing_out) }
                </div>
                { guardrails(&rails) }
                { bell.panel }
            </header>
            <section class="stats" aria-label="Quick stats">
                { match &*stats {
                    Load::Loading | Load::Failed(_) => html! { <span class="muted">{ "Loading stats…" }</span> },
                    Load::Ready(s) => html! {
                        <>
                            { stat(count(s, "pending").to_string(), " waiting") }
                            { stat(count(s, "decided_today").to_string(), " decided today") }
                            { stat(s.get("approval_rate_7d").and_then(Value::as_i64).map(|r| format!("{r}%")).unwrap_or_else(|| "—".into()), " approved (7 days)") }
                            { run_stats_view(&run_stats) }
                            <span class={classes!("live", app.live.connected.then_some("on"))}
                                  title={if app.live.connected { "Live updates on" } else { "Reconnecting…" }}>
                                { if app.live.connected { "● live" } else { "○ reconnecting" } }
                            </span>
                        </>
                    },
                } }
            </section>
            <main id="main" tabindex="-1">{ props.children.clone() }</main>
            { match *overlay {
                Overlay::None => html! {},
                Overlay::Palette => html! { <HookedView key="palette" view={Hooked::Palette(PaletteProps { on_close: close.clone() })} /> },
                Overlay::Help => html! {
                    { modal("Keyboard shortcuts".into(), &close, "dialog", html! { <>
                        <table class="shortcuts">
                            <tbody>
                                { for HELP.iter().map(|(k, what)| html! { <tr><th scope="row"><kbd>{ *k }</kbd></th><td>{ *what }</td></tr> }) }
                            </tbody>
                        </table>
                        <div class="dialog-actions">
                            { button("button", "Close", false, close.reform(|_| ())) }
                        </div>
                    </> }) }
                },
            } }
        </>
    }
}

/// The sign-out button's state: whether signing out runs, why it failed, and the click that
/// starts it.
struct SigningOut {
    busy: UseStateHandle<bool>,
    failed: UseStateHandle<Option<ApiError>>,
    onclick: Callback<MouseEvent>,
}

/// Signing out. The user counts as signed out only once the server has ended the session (or
/// says there is none); if signing out fails they stay signed in, and are told.
#[hook]
fn use_sign_out() -> SigningOut {
    let app = use_app();
    let busy = use_state(bool::default);
    let failed = use_state(Option::<ApiError>::default);
    let onclick = {
        let (app, busy, failed) = (app.clone(), busy.clone(), failed.clone());
        Callback::from(move |_| {
            let (app, busy, failed) = (app.clone(), busy.clone(), failed.clone());
            busy.set(true);
            failed.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::auth::sign_out().await {
                    // A 401: the server knows no session for this browser, so none is left.
                    Ok(()) => signed_out(&app),
                    Err(error) if error.needs_sign_in() => signed_out(&app),
                    Err(error) => {
                        busy.set(false);
                        failed.set(Some(error));
                    }
                }
            });
        })
    };
    SigningOut {
        busy,
        failed,
        onclick,
    }
}

/// The sign-out button, and why signing out failed if it did.
fn sign_out(state: &SigningOut) -> Html {
    let busy = *state.busy;
    html! {
        <>
            <button class="button ghost" onclick={state.onclick.clone()} disabled={busy}>
                { if busy { "Signing out…" } else { "Sign out" } }
            </button>
            if let Some(error) = &*state.failed {
                <div class="sign-out-failed">
                    <p role="status"><strong>{ "Signing out failed: you are still signed in." }</strong>{ " Try again." }</p>
                    { error_view(error, None) }
                </div>
            }
        </>
    }
}

fn signed_out(app: &AppContext) {
    app.set_auth.emit(Auth::SignedOut { expired: false });
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign("/sign-in");
    }
}

/// Failed runs nobody dealt with (a warning when there are any), runs running and runs
/// waiting for a worker — each a link to those runs. Counted over the runs the user may see
/// (an operator's own).
fn run_stats_view(stats: &Load<Value>) -> Html {
    let Load::Ready(stats) = stats else {
        return html! {};
    };
    let count = |key: &str| stats.get(key).and_then(Value::as_i64).unwrap_or(0);
    let (failed, running, queued) = (count("failed"), count("running"), count("queued"));
    let failed_runs = RunFilters {
        status: Some("failed,timed_out".into()),
        dismissed: Some("false".into()),
        ..RunFilters::default()
    };
    let with_status = |status: &str| RunFilters {
        status: Some(status.into()),
        ..RunFilters::default()
    };
    html! {
        <>
            { app_link(&Route::Runs, Some(&failed_runs), classes!("stat", "stat-link", (failed > 0).then_some("warn")), html! {
                <>
                    if failed > 0 { <span aria-hidden="true">{ "⚠ " }</span> }
                    <strong>{ failed }</strong>{ if failed == 1 { " failed run" } else { " failed runs" } }
                </>
            }) }
            if running > 0 {
                { app_link(&Route::Runs, Some(&with_status("running,cancelling")), "stat stat-link".into(), html! {
                    <><strong>{ running }</strong>{ " running" }</>
                }) }
            }
            if queued > 0 {
                { app_link(&Route::Runs, Some(&with_status("queued")), "stat stat-link".into(), html! {
                    <><strong>{ queued }</strong>{ " queued" }</>
                }) }
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use caseyos_domain::api::Role;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::infra::app_state::Session;
    use crate::infra::live::Live;
    use crate::test_support::{mount, FetchAnswers};

    #[derive(Properties, PartialEq)]
    struct HostProps {
        emitted: Rc<RefCell<Vec<Auth>>>,
    }

    /// The sign-out button on its own, inside the host's context.
    #[component]
    fn SignOut() -> Html {
        let state = use_sign_out();
        sign_out(&state)
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        let emitted = props.emitted.clone();
        let context = AppContext {
            auth: Auth::SignedIn(Session {
                user: "casey".into(),
                role: Role::Admin,
            }),
            set_auth: Callback::from(move |auth| emitted.borrow_mut().push(auth)),
            live: Live::default(),
        };
        html! {
            <ContextProvider<AppContext> {context}>
                <SignOut />
            </ContextProvider<AppContext>>
        }
    }

    /// Waits (at most 5 s, looking every 10 ms) until `selector` matches inside `root`.
    async fn appears(root: &web_sys::Element, selector: &str) -> web_sys::Element {
        for _ in 0..500 {
            if let Some(found) = root.query_selector(selector).unwrap() {
                return found;
            }
            gloo_timers::future::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!(
            "{selector} did not appear within 5 s: {}",
            root.inner_html()
        );
    }

    #[wasm_bindgen_test]
    async fn a_sign_out_that_fails_says_so_and_keeps_the_user_signed_in() {
        let _server = FetchAnswers::install(
            500,
            Some(
                r#"{"error":{"code":"internal","message":"something went wrong on our side","request_id":"r-7"}}"#,
            ),
        );
        let emitted = Rc::new(RefCell::new(Vec::new()));
        let root = mount::<Host>(HostProps {
            emitted: emitted.clone(),
        })
        .await;
        let button: web_sys::HtmlElement = root
            .query_selector("button")
            .unwrap()
            .unwrap()
            .unchecked_into();
        assert_eq!(button.text_content().unwrap(), "Sign out");
        button.click();

        let failed = appears(&root, ".sign-out-failed").await;
        let text = failed.text_content().unwrap();
        assert!(text.contains("you are still signed in"), "{text}");
        assert!(text.contains("something went wrong on our side"), "{text}");
        assert!(text.contains("r-7"), "{text}");
        assert!(failed.query_selector("[role=alert]").unwrap().is_some());
        assert!(
            emitted.borrow().is_empty(),
            "nobody was told the user signed out: {:?}",
            emitted.borrow()
        );
        let button = root.query_selector("button").unwrap().unwrap();
        assert!(!button.has_attribute("disabled"), "they can try again");
        assert_eq!(button.text_content().unwrap(), "Sign out");
    }
}

#[cfg(test)]
mod run_stats_tests {
    use super::*;
    use crate::test_support::mount;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[derive(Properties, PartialEq)]
    struct HostProps {
        stats: Value,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        html! {
            <>
                { run_stats_view(&Load::Ready(props.stats.clone())) }
            </>
        }
    }

    /// Each stat's words and where it leads.
    async fn stats_shown(stats: Value) -> Vec<(String, String)> {
        let root = mount::<Host>(HostProps { stats }).await;
        let links = root.query_selector_all("a.stat").unwrap();
        (0..links.length())
            .filter_map(|i| {
                let link: web_sys::Element = wasm_bindgen::JsCast::dyn_into(links.get(i)?).ok()?;
                Some((link.text_content()?, link.get_attribute("href")?))
            })
            .collect()
    }

    #[wasm_bindgen_test]
    async fn running_counts_running_runs_and_queued_ones_are_counted_apart() {
        let shown = stats_shown(serde_json::json!({"failed": 2, "queued": 3, "running": 1})).await;
        let words: Vec<&str> = shown.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, ["⚠ 2 failed runs", "1 running", "3 queued"]);
        assert!(
            shown[1].1.contains("status=running,cancelling"),
            "{shown:?}"
        );
        assert!(shown[2].1.contains("status=queued"), "{shown:?}");

        // Queued runs alone are not "running".
        let shown = stats_shown(serde_json::json!({"queued": 4, "failed": 0})).await;
        let words: Vec<&str> = shown.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, ["0 failed runs", "4 queued"]);
    }
}
