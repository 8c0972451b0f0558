//! Sign in with the link `caseyos serve` printed, or with an API token; then back to where
//! the user was going.

use caseyos_domain::api::SignInRequest;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::status::error_view;
use crate::infra::app_state::{use_app, Auth, Session};
use crate::infra::dom::{bind, on_submit};
use crate::infra::links::is_same_site_path;
use crate::routes::query::query_value;
use crate::routes::use_location;

/// Only paths on this site ([`is_same_site_path`]) are followed after signing in, and
/// never the sign-in page again.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_same_site_path(path) && !path.starts_with("/sign-in") => path.to_string(),
        _ => "/".to_string(),
    }
}

#[hook]
pub fn use_sign_in_page() -> Html {
    let app = use_app();
    let location = use_location();
    let next = query_value(location.query_str(), "next");
    let link = query_value(location.query_str(), "link");
    let token = use_state(String::new);
    let busy = use_state(bool::default);
    let error = use_state(Option::<ApiError>::default);
    let expired = matches!(app.auth, Auth::SignedOut { expired: true });

    let submit = {
        let (busy, error, app) = (busy.clone(), error.clone(), app.clone());
        let next = safe_next(next.as_deref());
        Callback::from(move |request: SignInRequest| {
            let (busy, error, app, next) = (busy.clone(), error.clone(), app.clone(), next.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::auth::sign_in(&request).await {
                    Ok(session) => {
                        app.set_auth.emit(Auth::SignedIn(Session::from(session)));
                        // A full navigation drops the one-time link from the history.
                        if let Some(window) = web_sys::window() {
                            let _ = window.location().replace(&next);
                        }
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    // A link in the address signs in by itself.
    {
        let submit = submit.clone();
        use_effect_with(link.clone(), move |link| {
            if let Some(link) = link.clone().filter(|l| !l.is_empty()) {
                submit.emit(SignInRequest {
                    link: Some(link),
                    token: None,
                });
            }
        });
    }

    let onsubmit = {
        let token = token.clone();
        on_submit(&submit, move || {
            Some(token.trim().to_string())
                .filter(|t| !t.is_empty())
                .map(|token| SignInRequest {
                    link: None,
                    token: Some(token),
                })
        })
    };
    let oninput = bind(&token);

    html! {
        <main id="main" class="sign-in">
            <div class="sign-in-card">
                <h1>{ "CaseyOS" }</h1>
                if expired {
                    <p class="notice" role="status">{ "Your session ended. Sign in again to pick up where you were." }</p>
                }
                if link.is_some() && *busy {
                    <p role="status">{ "Signing you in…" }</p>
                }
                { for error.as_ref().map(|e| error_view(e, None)) }
                <form {onsubmit}>
                    <p class="muted">{ "Open the sign-in link " }<code>{ "caseyos serve" }</code>{ " printed (or make one with " }<code>{ "caseyos signin-link" }</code>{ "), or paste an API token." }</p>
                    <label for="token">{ "API token" }</label>
                    <input id="token" type="password" autocomplete="off" value={(*token).clone()} {oninput} />
                    <button type="submit" class="button primary" disabled={*busy || token.trim().is_empty()}>
                        { if *busy { "Signing in…" } else { "Sign in" } }
                    </button>
                </form>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/queue/abc?x=1")), "/queue/abc?x=1");
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(Some("/sign-in?next=/")), "/");
        assert_eq!(safe_next(None), "/");
        // The two, and every other way off the site.
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/%09/evil.example")), "/");
        for next in crate::infra::links::MALICIOUS {
            assert_eq!(safe_next(Some(next)), "/", "{next:?}");
        }
    }

    /// `?next=` as the sign-in page reads it from its address (query-decoded).
    fn next_of(query: &str) -> Option<String> {
        let url = web_sys::Url::new(&format!("http://caseyos.test/sign-in?{query}")).unwrap();
        url.search_params().get("next")
    }

    #[wasm_bindgen_test]
    fn encoded_ways_off_the_site_are_refused_as_the_page_reads_them() {
        for query in [
            "next=%2F%09%2Fevil.example",
            "next=/%09/evil.example",
            "next=/%5Cevil.example",
            "next=%2F%2Fevil.example",
            "next=/%252F/evil.example",
            "next=/%0A/evil.example",
        ] {
            let next = next_of(query);
            assert_eq!(safe_next(next.as_deref()), "/", "{query} reads as {next:?}");
        }
        assert_eq!(
            safe_next(next_of("next=%2Fqueue%3Fowner%3DJane%2520Doe").as_deref()),
            "/queue?owner=Jane%20Doe"
        );
    }
}
