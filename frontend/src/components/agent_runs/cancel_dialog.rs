//! The dialog that cancels an agent run, with an optional reason.

pub use crate::components::modal::CancelRunProps;
use yew::prelude::*;

use crate::components::modal::{form_actions, modal, Submit};
use crate::components::status::error_view;
use crate::infra::dom::{bind, on_submit};

/// Asks to stop a queued or running agent run, with an optional reason.
#[hook]
pub fn use_cancel_run_dialog(props: &CancelRunProps) -> Html {
    let reason = use_state(String::new);
    let oninput = bind(&reason);
    let onsubmit = {
        let reason = reason.clone();
        on_submit(&props.on_submit, move || {
            let reason = reason.trim().to_string();
            Some(Some(reason).filter(|r| !r.is_empty()))
        })
    };
    html! {
        { modal("Cancel this run?".into(), &props.on_close, "alertdialog", html! { <>
            <form {onsubmit}>
                <p>{ "A queued run will not start; a running one is asked to stop. This cannot be undone." }</p>
                <label for="cancel-reason">{ "Reason (optional, kept with the run)" }</label>
                <textarea id="cancel-reason" rows="3" maxlength="500" value={(*reason).clone()} {oninput}
                          aria-describedby={props.error.as_ref().map(|_| "cancel-error")} />
                if let Some(error) = &props.error {
                    <div id="cancel-error">{ error_view(error, None) }</div>
                }
                { form_actions(html! {}, "Keep running", &props.on_close, Submit {
                    label: "Cancel run",
                    busy_label: "Cancelling…",
                    tone: "danger",
                    busy: props.busy,
                    blocked: false,
                }) }
            </form>
        </> }) }
    }
}
