//! The guardrails in the header: a banner for everyone while the kill switch is engaged or
//! auto-approval is stopped, the send mode, and for admins the switches themselves (engaging
//! the kill switch or stopping auto-approval asks first, with a reason) and the send mode's
//! choice.

use caseyos_domain::api::Role;
use serde_json::Value;
use yew::prelude::*;

use super::contacts::{at, str_at};
use super::status::{error_view, Load};
use crate::api;
use crate::hooks::{ask, confirm, use_action, use_query, Action, Query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::dom::value_of;

/// How often the guardrails are read again (another admin may flip them).
const GUARDRAILS_MS: u32 = 30_000;

/// The send modes: (name, label).
pub const SEND_MODES: [(&str, &str); 3] = [
    ("draft_only", "Draft only"),
    ("send", "Send"),
    ("dry_run", "Dry run"),
];

/// The guardrails as read, the admin's buttons' request, and whether the user is an admin
/// (a hook of the layout's rather than a component of its own: ARCHITECTURE.md, "The SPA" →
/// Size).
pub struct GuardrailsState {
    rails: Query<Value>,
    action: Action,
    admin: bool,
}

#[hook]
pub fn use_guardrails() -> GuardrailsState {
    let app = use_app();
    GuardrailsState {
        admin: app.session().is_some_and(|s| s.role == Role::Admin),
        rails: use_query(
            Refresh::never().every(GUARDRAILS_MS).keep_on_failure(),
            (),
            |_, consistency| async move { api::executions::guardrails(consistency.as_deref()).await },
        ),
        action: use_action(),
    }
}

/// The guardrails' part of the header.
pub fn guardrails(state: &GuardrailsState) -> Html {
    let GuardrailsState {
        rails,
        action,
        admin,
    } = state;
    let admin = *admin;
    let Load::Ready(value) = &**rails else {
        return html! {};
    };
    let engaged = at(value, "kill_switch").as_bool() == Some(true);
    let stopped = at(value, "auto_approval").as_bool() == Some(false);
    let mode = str_at(value, "send_mode").unwrap_or("draft_only");
    let label = SEND_MODES
        .iter()
        .find(|(name, _)| *name == mode)
        .map_or(mode, |(_, label)| label);
    let busy = *action.busy;

    let toggle = {
        let (action, rails) = (action.clone(), rails.clone());
        Callback::from(move |_| {
            let reason = if engaged {
                None
            } else {
                match ask("Engage the kill switch? Nothing is sent or written to a provider until it is released.\nReason (optional):") {
                    Some(reason) => Some(reason).filter(|r| !r.trim().is_empty()),
                    None => return,
                }
            };
            let rails = rails.clone();
            action.run(api::executions::kill_switch(!engaged, reason), move |v| {
                rails.set(v)
            });
        })
    };
    let toggle_auto = {
        let (action, rails) = (action.clone(), rails.clone());
        Callback::from(move |_| {
            let reason = if stopped {
                None
            } else {
                match ask("Stop auto-approval? Every proposed move then waits for a person.\nReason (optional):") {
                    Some(reason) => Some(reason).filter(|r| !r.trim().is_empty()),
                    None => return,
                }
            };
            let rails = rails.clone();
            action.run(api::auto_approval::switch(stopped, reason), move |v| {
                rails.set(v)
            });
        })
    };
    let choose = {
        let (action, rails, current) = (action.clone(), rails.clone(), mode.to_string());
        Callback::from(move |e: Event| {
            let next = value_of(&e);
            if next == "send"
                && !confirm("Send for real? Approved emails go out to their recipients.")
            {
                // Cancelled: the choice shows the mode in force again.
                if let Some(select) = e.target() {
                    let _ =
                        js_sys::Reflect::set(&select, &"value".into(), &current.as_str().into());
                }
                return;
            }
            let rails = rails.clone();
            action.run(
                async move { api::executions::send_mode(&next).await },
                move |v| rails.set(v),
            );
        })
    };

    html! {
        <div class="guardrails">
            if engaged {
                <p class="kill-switch-on" role="status">
                    <strong>{ "⛔ Kill switch engaged" }</strong>{ ": nothing is sent or written to a provider" }
                    { for str_at(value, "kill_switch_changed.reason").map(|r| format!(" ({r})")) }
                </p>
            }
            if stopped {
                <p class="kill-switch-on" role="status">
                    <strong>{ "Auto-approval stopped" }</strong>{ ": every proposed move waits for a person" }
                    { for str_at(value, "auto_approval_changed.reason").map(|r| format!(" ({r})")) }
                </p>
            }
            if admin {
                <button class="button" onclick={toggle_auto} disabled={busy}>
                    { if stopped { "Resume auto-approval" } else { "Stop auto-approval" } }
                </button>
                <button class={classes!("button", if engaged { "primary" } else { "danger" })}
                        onclick={toggle} disabled={busy}>
                    { if engaged { "Release kill switch" } else { "Engage kill switch" } }
                </button>
                <label class="send-mode">
                    { "Send mode " }
                    <select onchange={choose} disabled={busy}>
                        { for SEND_MODES.iter().map(|(name, label)| html! {
                            <option value={*name} selected={*name == mode}>{ *label }</option>
                        }) }
                    </select>
                </label>
            } else {
                <span class="chip send-mode">{ format!("Send mode: {label}") }</span>
            }
            if let Some(error) = &*action.error {
                { error_view(error, None) }
            }
        </div>
    }
}
