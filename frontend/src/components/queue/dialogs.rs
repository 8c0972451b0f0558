//! The dialogs a decision on a move needs: a reason to reject, a time to snooze, a draft to
//! edit. (Confirmations use [`ConfirmDialog`](crate::components::modal::ConfirmDialog).)

pub use crate::components::modal::EditProps;
pub use crate::components::modal::RejectProps;
pub use crate::components::modal::SnoozeProps;
use caseyos_domain::api::{EditQueueItemRequest, SnoozeQueueItemRequest};
use caseyos_domain::queue::{QueueItemView, SnoozePreset};
use chrono::{DateTime, Local, TimeZone, Utc};
use yew::prelude::*;

use crate::components::modal::{form_actions, modal, Submit};
use crate::infra::dom::{bind, on_submit};
use crate::infra::format::read_local_datetime;

#[hook]
pub fn use_reject_dialog(props: &RejectProps) -> Html {
    let reason = use_state(String::new);
    let oninput = bind(&reason);
    let onsubmit = {
        let reason = reason.clone();
        on_submit(&props.on_submit, move || {
            Some((*reason).clone()).filter(|r| !r.trim().is_empty())
        })
    };
    let title = if props.count == 1 {
        "Reject this move".to_string()
    } else {
        format!("Reject {} moves", props.count)
    };
    html! {
        { modal(title.into(), &props.on_close, "alertdialog", html! { <>
            <form {onsubmit}>
                <label for="reject-reason">{ "Why? (kept with the decision; rejecting is final)" }</label>
                <textarea id="reject-reason" rows="3" required=true value={(*reason).clone()} {oninput}
                          aria-describedby={props.error.as_ref().map(|_| "reject-error")} />
                if let Some(error) = &props.error {
                    <p id="reject-error" class="field-error" role="alert">{ &error.message }</p>
                }
                { form_actions(html! {}, "Cancel", &props.on_close, Submit {
                    label: "Reject",
                    busy_label: "Rejecting…",
                    tone: "danger",
                    busy: props.busy,
                    blocked: reason.trim().is_empty(),
                }) }
            </form>
        </> }) }
    }
}

const PRESETS: &[(SnoozePreset, &str)] = &[
    (SnoozePreset::OneHour, "1 hour"),
    (SnoozePreset::FourHours, "4 hours"),
    (SnoozePreset::Tomorrow, "Tomorrow, 9:00"),
    (SnoozePreset::NextMonday, "Next Monday, 9:00"),
];

/// A `datetime-local` value (browser time) as an instant.
fn local_input_to_utc(value: &str) -> Option<DateTime<Utc>> {
    let naive = read_local_datetime(value)?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[hook]
pub fn use_snooze_dialog(props: &SnoozeProps) -> Html {
    let until = use_state(String::new);
    let pick = |preset: SnoozePreset| {
        let on_submit = props.on_submit.clone();
        Callback::from(move |_| {
            on_submit.emit(SnoozeQueueItemRequest {
                preset: Some(preset),
                ..SnoozeQueueItemRequest::default()
            })
        })
    };
    let oninput = bind(&until);
    let onsubmit = {
        let until = until.clone();
        on_submit(&props.on_submit, move || {
            local_input_to_utc(&until).map(|at| SnoozeQueueItemRequest {
                until: Some(at),
                ..SnoozeQueueItemRequest::default()
            })
        })
    };
    html! {
        { modal("Snooze until…".into(), &props.on_close, "dialog", html! { <>
            <div class="preset-grid">
                { for PRESETS.iter().map(|(preset, label)| html! {
                    <button type="button" class="button" disabled={props.busy} onclick={pick(*preset)}>{ *label }</button>
                }) }
            </div>
            <form {onsubmit}>
                <label for="snooze-until">{ "Or a time of your choosing" }</label>
                <input id="snooze-until" type="datetime-local" value={(*until).clone()} {oninput} />
                if let Some(error) = &props.error {
                    <p class="field-error" role="alert">{ &error.message }</p>
                }
                { form_actions(html! {}, "Cancel", &props.on_close, Submit {
                    label: "Snooze",
                    busy_label: "Snoozing…",
                    tone: "primary",
                    busy: props.busy,
                    blocked: local_input_to_utc(&until).is_none(),
                }) }
            </form>
        </> }) }
    }
}

fn payload_text(item: &QueueItemView, key: &str) -> String {
    item.payload
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Edits the title and, for drafts, the subject and body (other payload fields are kept).
#[hook]
pub fn use_edit_dialog(props: &EditProps) -> Html {
    let title = use_state(|| props.item.title.clone());
    let subject = use_state(|| payload_text(&props.item, "subject"));
    let body = use_state(|| payload_text(&props.item, "body"));
    let has_draft = props.item.payload.get("subject").is_some()
        || props.item.payload.get("body").is_some()
        || props.item.action_type.as_str().contains("email");
    let onsubmit = {
        let (title, subject, body) = (title.clone(), subject.clone(), body.clone());
        let item = props.item.clone();
        on_submit(&props.on_submit, move || {
            let mut payload = item.payload.clone();
            if has_draft {
                if let Some(map) = payload.as_object_mut() {
                    map.insert(
                        "subject".into(),
                        serde_json::Value::String((*subject).clone()),
                    );
                    map.insert("body".into(), serde_json::Value::String((*body).clone()));
                }
            }
            Some(EditQueueItemRequest {
                title: Some((*title).clone()),
                payload: (payload != item.payload).then_some(payload),
                ..EditQueueItemRequest::default()
            })
        })
    };
    let field_error = |field: &str| {
        props
            .error
            .as_ref()
            .and_then(|e| {
                e.fields
                    .iter()
                    .find(|(f, _)| f == field || f.starts_with(&format!("{field}.")))
            })
            .map(|(_, m)| html! { <p class="field-error" role="alert">{ m }</p> })
    };
    html! {
        { modal("Edit the move".into(), &props.on_close, "dialog", html! { <>
            <form {onsubmit}>
                <label for="edit-title">{ "Title" }</label>
                <input id="edit-title" value={(*title).clone()} oninput={bind(&title)} required=true />
                { for field_error("title") }
                if has_draft {
                    <label for="edit-subject">{ "Subject" }</label>
                    <input id="edit-subject" value={(*subject).clone()} oninput={bind(&subject)} />
                    <label for="edit-body">{ "Body" }</label>
                    <textarea id="edit-body" rows="8" value={(*body).clone()} oninput={bind(&body)} />
                    { for field_error("payload") }
                }
                if let Some(error) = props.error.as_ref().filter(|e| e.fields.is_empty()) {
                    <p class="field-error" role="alert">{ &error.message }</p>
                }
                { form_actions(html! {}, "Cancel", &props.on_close, Submit {
                    label: "Save",
                    busy_label: "Saving…",
                    tone: "primary",
                    busy: props.busy,
                    blocked: false,
                }) }
            </form>
        </> }) }
    }
}
