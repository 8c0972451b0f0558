//! `/settings/connectors`: each connector (Gmail, Google Calendar, HubSpot, the LLM) with its
//! status, account, scopes, expiry (in the browser's time zone; "expiring" stands out), last
//! good call and last error; for admins, Connect (to the provider's consent, which comes back
//! here with `?connector=&result=&code=`), Disconnect (asked first; says whether the token
//! was revoked) and HubSpot's private-app token.

use caseyos_domain::api::Role;
use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api;
use crate::components::contacts::{at, items, list_table, page, str_at, text};
use crate::components::deals::when;
use crate::components::status::{self, error_view};
use crate::hooks::{confirm, use_action, use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::dom::value_of;
use crate::routes::query::query_value;
use crate::routes::use_location;

/// A connector's name as people read it.
pub fn label(name: &str) -> &str {
    match name {
        "gmail" => "Gmail",
        "google_calendar" => "Google Calendar",
        "hubspot" => "HubSpot",
        "llm" => "LLM",
        other => other,
    }
}

/// What the provider's consent screen sent back (`?connector=&result=&code=`), if anything.
pub fn callback_notice(query: &str) -> Option<(bool, String)> {
    let result = query_value(query, "result")?;
    let name = query_value(query, "connector").unwrap_or_default();
    let name = label(&name).to_string();
    Some(if result == "connected" {
        (true, format!("{name} is connected."))
    } else {
        let code = query_value(query, "code").unwrap_or_else(|| result.clone());
        (
            false,
            format!("Connecting {name} failed ({code}). Try again."),
        )
    })
}

/// The columns after the connector: (heading, path in a row).
const COLUMNS: &[(&str, &str)] = &[
    ("Account", "account"),
    ("Credential", "kind"),
    ("Scopes", "scopes"),
    ("Expires", "expires_at"),
    ("Last good call", "last_good_call_at"),
    ("Last error", "last_error.code"),
    ("Note", "note"),
];

#[hook]
pub fn use_connectors_page() -> Html {
    let app = use_app();
    let admin = app.session().is_some_and(|s| s.role == Role::Admin);
    let location = use_location();
    let list = use_query(Refresh::never(), (), |_, consistency| async move {
        api::connectors::list(consistency.as_deref()).await
    });
    let action = use_action();
    let said = use_state(Option::<String>::default);
    let token = use_state(String::new);
    let busy = *action.busy;

    let notice = callback_notice(location.query_str()).map(|(ok, words)| {
        html! {
            <p class={classes!("notice", (!ok).then_some("failed"))} role={if ok { "status" } else { "alert" }}>{ words }</p>
        }
    });

    let connect = |name: String| {
        let action = action.clone();
        Callback::from(move |_: MouseEvent| {
            let name = name.clone();
            action.run(
                async move { api::connectors::connect(&name).await },
                |answer| {
                    if let (Some(url), Some(window)) =
                        (str_at(&answer, "authorize_url"), web_sys::window())
                    {
                        let _ = window.location().assign(url);
                    }
                },
            );
        })
    };
    let disconnect = |name: String| {
        let (action, list, said) = (action.clone(), list.clone(), said.clone());
        Callback::from(move |_: MouseEvent| {
            if !confirm(&format!(
                "Disconnect {}? CaseyOS stops using it until it is connected again.",
                label(&name)
            )) {
                return;
            }
            let (name, list, said) = (name.clone(), list.clone(), said.clone());
            action.run(
                async move { api::connectors::disconnect(&name).await },
                move |answer: Value| {
                    let who = label(str_at(&answer, "name").unwrap_or_default()).to_string();
                    said.set(Some(if at(&answer, "revoked").as_bool() == Some(true) {
                        format!("{who} is disconnected, and its token was revoked at the provider.")
                    } else {
                        format!("{who} is disconnected; its token was not revoked at the provider ({}).", text(at(&answer, "reason")))
                    }));
                    list.reload.emit(());
                },
            );
        })
    };
    let save_token = {
        let (action, list, said, token) =
            (action.clone(), list.clone(), said.clone(), token.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (list, said, value) = (list.clone(), said.clone(), (*token).clone());
            token.set(String::new());
            action.run(api::connectors::hubspot_token(value), move |_| {
                said.set(Some(
                    "HubSpot is connected with the private app's token.".into(),
                ));
                list.reload.emit(());
            });
        })
    };

    // Each connector's name, status and (for admins) its buttons.
    let lead = |c: &Value| {
        let name = str_at(c, "name").unwrap_or_default().to_string();
        let state = str_at(c, "status").unwrap_or("not_connected");
        let way = |w: &str| text(at(c, "connect")).contains(w);
        html! {
            <>
                <strong>{ label(&name).to_string() }</strong>{ " " }
                <span class={classes!("chip", "connector-status", state.to_string())}>{ state.replace('_', " ") }</span>
                if admin {
                    <div class="actions">
                        if way("oauth") {
                            { button("button primary", "Connect", busy, connect(name.clone())) }
                        }
                        if state != "not_connected" {
                            { button("button danger", "Disconnect", busy, disconnect(name.clone())) }
                        }
                    </div>
                    if way("token") {
                        <form class="token-form" onsubmit={save_token.clone()}>
                            <label for="hubspot-token">{ "Private app token" }</label>
                            <input id="hubspot-token" class="input" type="password" autocomplete="off" required=true
                                value={(*token).clone()}
                                oninput={let token = token.clone(); move |e: InputEvent| token.set(value_of(&e))} />
                            <button class="button" type="submit" disabled={busy || token.is_empty()}>{ "Save token" }</button>
                        </form>
                    }
                }
            </>
        }
    };
    let cards = status::view(&*list, 4, &list.reload, |found| {
        // Instants in the browser's time zone; an expiring token says so.
        let rows: Vec<Value> = items(found)
            .iter()
            .map(|c| {
                let mut c = c.clone();
                let expiring = str_at(&c, "status") == Some("expiring");
                for key in ["expires_at", "last_good_call_at"] {
                    let shown = when(at(&c, key));
                    let shown = if expiring && key == "expires_at" {
                        format!("⚠ {shown} (expiring)")
                    } else {
                        shown
                    };
                    if let Some(fields) = c.as_object_mut() {
                        fields.insert(key.into(), Value::String(shown));
                    }
                }
                c
            })
            .collect();
        list_table("Each connector", &rows, COLUMNS, Some(("Connector", &lead)))
    });

    page(
        "connectors-title",
        "Connectors",
        html! { { if admin { "Connect the providers CaseyOS acts through." } else { "The providers CaseyOS acts through (an admin connects them)." } } },
        html! {
            <>
                { for notice }
                if let Some(words) = &*said {
                    <p class="notice" role="status">{ words.clone() }</p>
                }
                if let Some(error) = &*action.error {
                    { error_view(error, None) }
                }
                { cards }
            </>
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_consent_screens_answer_is_told() {
        // (query, notice)
        let table = [
            (
                "connector=gmail&result=connected",
                Some((true, "Gmail is connected.")),
            ),
            (
                "connector=hubspot&result=error&code=connector.denied",
                Some((
                    false,
                    "Connecting HubSpot failed (connector.denied). Try again.",
                )),
            ),
            ("", None),
            ("connector=gmail", None),
        ];
        for (query, expected) in table {
            let got = callback_notice(query);
            assert_eq!(
                got.as_ref().map(|(ok, s)| (*ok, s.as_str())),
                expected,
                "{query}"
            );
        }
    }
}
