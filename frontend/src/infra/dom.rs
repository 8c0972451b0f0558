//! Form fields and forms: what an input, textarea or select holds after an event, and a
//! form's submit.

use yew::prelude::*;

/// The `value` of the field an event came from (an input, textarea or select).
pub fn value_of(event: &Event) -> String {
    event
        .target()
        .and_then(|field| js_sys::Reflect::get(&field, &"value".into()).ok())
        .and_then(|value| value.as_string())
        .unwrap_or_default()
}

/// Keeps `state` equal to what is typed in the field this listens to.
pub fn bind(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| state.set(value_of(&e)))
}

/// A form's submit handler: the browser does not submit the form (the app sends it); `read`
/// makes what `send` gets from the form's fields, or `None` while they do not read well.
pub fn on_submit<T: 'static>(
    send: &Callback<T>,
    read: impl Fn() -> Option<T> + 'static,
) -> Callback<SubmitEvent> {
    let send = send.clone();
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        if let Some(value) = read() {
            send.emit(value);
        }
    })
}
