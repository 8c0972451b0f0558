//! The assistant's documents — chats and research — at their `base` ([`CHATS`] or
//! [`RESEARCH`]): the caller's, one, deleting one; starting a chat, asking in it, confirming or
//! rejecting a tool call that waits; starting a research. Answers read as JSON [`Value`]s.

use caseyos_domain::kernel::sse::{take_event, SseEvent};
use gloo_net::http::Method;
use js_sys::Uint8Array;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::ReadableStreamDefaultReader;

use super::contacts::segment;
use super::{error_from, get, json, object, open, send_value, ApiError};

/// Chats: `/api/chat/sessions`.
pub const CHATS: &str = "/api/chat/sessions";
/// Research: `/api/research`.
pub const RESEARCH: &str = "/api/research";

/// The caller's chats (most recently changed first) or research (newest first): `{items}`.
pub async fn list(base: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get(base, "", consistency).await
}

/// One chat (its messages with their tool calls, and the summary) or research (its
/// progress, its report and the report as Markdown).
pub async fn one(base: &str, id: &str) -> Result<Value, ApiError> {
    get(&path(base, id), "", None).await
}

/// Starts an untitled chat (its first message names it).
pub async fn start() -> Result<Value, ApiError> {
    send_value(Method::POST, CHATS.into(), Some(object(vec![]))).await
}

/// Deletes a chat or research (204).
pub async fn delete(base: &str, id: String) -> Result<Value, ApiError> {
    send_value(Method::DELETE, path(base, &id), None).await
}

/// The caller's preferences, stated in chats or set here: `{items: [{key, value, …}]}`.
pub async fn preferences() -> Result<Value, ApiError> {
    get(PREFERENCES, "", None).await
}

/// Sets preference `key` to `value`, or (`None`) forgets it: the preferences after.
pub async fn prefer(key: String, value: Option<String>) -> Result<Value, ApiError> {
    let path = format!("{PREFERENCES}/{}", segment(&key));
    match value {
        Some(value) => {
            let body = object(vec![("value", Value::String(value))]);
            send_value(Method::PUT, path, Some(body)).await
        }
        None => send_value(Method::DELETE, path, None).await,
    }
}

const PREFERENCES: &str = "/api/chat/preferences";

/// Researches `question` (3 to 500 characters), `deep` or standard: the research begun.
pub async fn research(question: String, deep: bool) -> Result<Value, ApiError> {
    let depth = if deep { "deep" } else { "standard" };
    let body = object(vec![
        ("question", Value::String(question)),
        ("depth", Value::String(depth.into())),
    ]);
    send_value(Method::POST, RESEARCH.into(), Some(body)).await
}

/// Confirms (`confirm`) or rejects a tool call that waits: the chat after it.
pub async fn decide(id: String, call: String, confirm: bool) -> Result<Value, ApiError> {
    let path = format!(
        "{}/tool-calls/{}/{}",
        path(CHATS, &id),
        segment(&call),
        if confirm { "confirm" } else { "reject" }
    );
    send_value(Method::POST, path, Some(object(vec![]))).await
}

/// The address of a chat or research, and (with `/export?format=md` after it) of its
/// Markdown.
pub fn path(base: &str, id: &str) -> String {
    format!("{base}/{}", segment(id))
}

/// Asks the assistant `content` in chat `id`, the answer streamed (server-sent events):
/// `on_event` gets each `message` as it is added — the question, then each of the
/// assistant's (with the tool calls it made) — and each `delta` (`{text}`: a piece of the
/// model's text as it writes it, before its message); the answer is the chat after it.
pub async fn ask(
    id: String,
    content: String,
    on_event: impl Fn(&str, Value),
) -> Result<Value, ApiError> {
    let body = object(vec![("content", Value::String(content))]).to_string();
    let path = format!("{}/messages", path(CHATS, &id));
    let body = Some(("application/json", body));
    let response = open(Method::POST, &path, body, "text/event-stream").await?;
    let stopped = || ApiError::network("the answer stopped before it ended; reload the chat");
    let reader: ReadableStreamDefaultReader = response
        .body()
        .ok_or_else(stopped)?
        .get_reader()
        .unchecked_into();
    let mut buffer = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| stopped())?;
        let field = |name: &str| js_sys::Reflect::get(&chunk, &name.into()).unwrap_or_default();
        if let Some(bytes) = field("value").dyn_ref::<Uint8Array>() {
            buffer.extend(bytes.to_vec());
        }
        while let Some(SseEvent { event, data }) = take_event(&mut buffer, &mut 0) {
            let value = json::from_str::<Value>(&data).unwrap_or_default();
            match event.as_str() {
                "done" => return Ok(value),
                "error" => return Err(error_from(500, &data)),
                other => on_event(other, value),
            }
        }
        if field("done").as_bool() != Some(false) {
            return Err(stopped());
        }
    }
}
