//! The dialogs a decision needs: a reason to reject, a time to snooze, a draft to edit, a
//! confirmation for bulk decisions, a reason to cancel an agent run; and the runner that
//! sends a dialog's request.

use caseyos_domain::api::{EditQueueItemRequest, SnoozeQueueItemRequest};
use caseyos_domain::queue::{QueueItemView, SnoozePreset};
use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::modal::Modal;
use super::status::ErrorView;
use crate::api::ApiError;

/// Runs a dialog's request: its buttons are busy meanwhile; on success the dialog closes
/// and `done` gets the answer, otherwise the error shows in the dialog.
#[derive(Clone)]
pub struct DialogRunner {
    pub busy: UseStateHandle<bool>,
    pub error: UseStateHandle<Option<ApiError>>,
    pub close: Callback<()>,
    pub app: crate::app_state::AppContext,
}

impl DialogRunner {
    pub fn run<T: 'static>(
        &self,
        request: impl std::future::Future<Output = Result<T, ApiError>> + 'static,
        done: impl FnOnce(T) + 'static,
    ) {
        let (busy, error, close, app) = (
            self.busy.clone(),
            self.error.clone(),
            self.close.clone(),
            self.app.clone(),
        );
        busy.set(true);
        error.set(None);
        wasm_bindgen_futures::spawn_local(async move {
            match request.await {
                Ok(value) => {
                    close.emit(());
                    done(value);
                }
                Err(e) => {
                    app.check(&e);
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    }
}

#[derive(Properties, PartialEq)]
pub struct RejectProps {
    /// How many moves the reason applies to.
    #[prop_or(1)]
    pub count: usize,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_submit: Callback<String>,
    pub on_close: Callback<()>,
}

#[component]
pub fn RejectDialog(props: &RejectProps) -> Html {
    let reason = use_state(String::new);
    let oninput = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            reason.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let onsubmit = {
        let reason = reason.clone();
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !reason.trim().is_empty() {
                on_submit.emit((*reason).clone());
            }
        })
    };
    let title = if props.count == 1 {
        "Reject this move".to_string()
    } else {
        format!("Reject {} moves", props.count)
    };
    html! {
        <Modal title={title} on_close={props.on_close.clone()} role="alertdialog">
            <form {onsubmit}>
                <label for="reject-reason">{ "Why? (kept with the decision; rejecting is final)" }</label>
                <textarea id="reject-reason" rows="3" required=true value={(*reason).clone()} {oninput}
                          aria-describedby={props.error.as_ref().map(|_| "reject-error")} />
                if let Some(error) = &props.error {
                    <p id="reject-error" class="field-error" role="alert">{ &error.message }</p>
                }
                <div class="dialog-actions">
                    <button type="button" class="button" onclick={let c = props.on_close.clone(); move |_| c.emit(())}>{ "Cancel" }</button>
                    <button type="submit" class="button danger" disabled={props.busy || reason.trim().is_empty()}>
                        { if props.busy { "Rejecting…" } else { "Reject" } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[derive(Properties, PartialEq)]
pub struct SnoozeProps {
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_submit: Callback<SnoozeQueueItemRequest>,
    pub on_close: Callback<()>,
}

const PRESETS: &[(SnoozePreset, &str)] = &[
    (SnoozePreset::OneHour, "1 hour"),
    (SnoozePreset::FourHours, "4 hours"),
    (SnoozePreset::Tomorrow, "Tomorrow, 9:00"),
    (SnoozePreset::NextMonday, "Next Monday, 9:00"),
];

/// A `datetime-local` value (browser time) as an instant.
fn local_input_to_utc(value: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[component]
pub fn SnoozeDialog(props: &SnoozeProps) -> Html {
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
    let oninput = {
        let until = until.clone();
        Callback::from(move |e: InputEvent| {
            until.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onsubmit = {
        let until = until.clone();
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(at) = local_input_to_utc(&until) {
                on_submit.emit(SnoozeQueueItemRequest {
                    until: Some(at),
                    ..SnoozeQueueItemRequest::default()
                });
            }
        })
    };
    html! {
        <Modal title="Snooze until…" on_close={props.on_close.clone()}>
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
                <div class="dialog-actions">
                    <button type="button" class="button" onclick={let c = props.on_close.clone(); move |_| c.emit(())}>{ "Cancel" }</button>
                    <button type="submit" class="button primary" disabled={props.busy || local_input_to_utc(&until).is_none()}>
                        { if props.busy { "Snoozing…" } else { "Snooze" } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[derive(Properties, PartialEq)]
pub struct EditProps {
    pub item: QueueItemView,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_submit: Callback<EditQueueItemRequest>,
    pub on_close: Callback<()>,
}

fn payload_text(item: &QueueItemView, key: &str) -> String {
    item.payload
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Edits the title and, for drafts, the subject and body (other payload fields are kept).
#[component]
pub fn EditDialog(props: &EditProps) -> Html {
    let title = use_state(|| props.item.title.clone());
    let subject = use_state(|| payload_text(&props.item, "subject"));
    let body = use_state(|| payload_text(&props.item, "body"));
    let has_draft = props.item.payload.get("subject").is_some()
        || props.item.payload.get("body").is_some()
        || props.item.action_type.as_str().contains("email");
    let input = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            state.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onbody = {
        let body = body.clone();
        Callback::from(move |e: InputEvent| {
            body.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let onsubmit = {
        let (title, subject, body) = (title.clone(), subject.clone(), body.clone());
        let item = props.item.clone();
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
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
            on_submit.emit(EditQueueItemRequest {
                title: Some((*title).clone()),
                payload: (payload != item.payload).then_some(payload),
                ..EditQueueItemRequest::default()
            });
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
        <Modal title="Edit the move" on_close={props.on_close.clone()}>
            <form {onsubmit}>
                <label for="edit-title">{ "Title" }</label>
                <input id="edit-title" value={(*title).clone()} oninput={input(&title)} required=true />
                { for field_error("title") }
                if has_draft {
                    <label for="edit-subject">{ "Subject" }</label>
                    <input id="edit-subject" value={(*subject).clone()} oninput={input(&subject)} />
                    <label for="edit-body">{ "Body" }</label>
                    <textarea id="edit-body" rows="8" value={(*body).clone()} oninput={onbody} />
                    { for field_error("payload") }
                }
                if let Some(error) = props.error.as_ref().filter(|e| e.fields.is_empty()) {
                    <p class="field-error" role="alert">{ &error.message }</p>
                }
                <div class="dialog-actions">
                    <button type="button" class="button" onclick={let c = props.on_close.clone(); move |_| c.emit(())}>{ "Cancel" }</button>
                    <button type="submit" class="button primary" disabled={props.busy}>
                        { if props.busy { "Saving…" } else { "Save" } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfirmProps {
    pub title: AttrValue,
    pub message: AttrValue,
    pub confirm: AttrValue,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_confirm: Callback<()>,
    pub on_close: Callback<()>,
}

#[component]
pub fn ConfirmDialog(props: &ConfirmProps) -> Html {
    html! {
        <Modal title={props.title.clone()} on_close={props.on_close.clone()} role="alertdialog">
            <p>{ props.message.clone() }</p>
            if let Some(error) = &props.error {
                <ErrorView error={error.clone()} />
            }
            <div class="dialog-actions">
                <button type="button" class="button" onclick={let c = props.on_close.clone(); move |_| c.emit(())}>{ "Cancel" }</button>
                <button type="button" class="button primary" disabled={props.busy}
                        onclick={let c = props.on_confirm.clone(); move |_| c.emit(())}>{ props.confirm.clone() }</button>
            </div>
        </Modal>
    }
}

#[derive(Properties, PartialEq)]
pub struct CancelRunProps {
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    /// The reason, if one was given.
    pub on_submit: Callback<Option<String>>,
    pub on_close: Callback<()>,
}

/// Asks to stop a queued or running agent run, with an optional reason.
#[component]
pub fn CancelRunDialog(props: &CancelRunProps) -> Html {
    let reason = use_state(String::new);
    let oninput = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            reason.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let onsubmit = {
        let reason = reason.clone();
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let reason = reason.trim().to_string();
            on_submit.emit(Some(reason).filter(|r| !r.is_empty()));
        })
    };
    html! {
        <Modal title="Cancel this run?" on_close={props.on_close.clone()} role="alertdialog">
            <form {onsubmit}>
                <p>{ "A queued run will not start; a running one is asked to stop. This cannot be undone." }</p>
                <label for="cancel-reason">{ "Reason (optional, kept with the run)" }</label>
                <textarea id="cancel-reason" rows="3" maxlength="500" value={(*reason).clone()} {oninput}
                          aria-describedby={props.error.as_ref().map(|_| "cancel-error")} />
                if let Some(error) = &props.error {
                    <div id="cancel-error"><ErrorView error={error.clone()} /></div>
                }
                <div class="dialog-actions">
                    <button type="button" class="button" onclick={let c = props.on_close.clone(); move |_| c.emit(())}>{ "Keep running" }</button>
                    <button type="submit" class="button danger" disabled={props.busy}>
                        { if props.busy { "Cancelling…" } else { "Cancel run" } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}
