//! The assistant's chat: the caller's chats, one chat, starting and deleting one, asking,
//! and confirming or rejecting a tool call that waits. Answers read as JSON [`Value`]s.

use gloo_net::http::Method;
use serde_json::Value;

use super::contacts::segment;
use super::{get, object, send_value, ApiError};

/// The caller's chats, most recently changed first: `{items}`.
pub async fn list(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/chat/sessions", "", consistency).await
}

/// One chat: its messages with their tool calls, and the summary.
pub async fn one(id: &str) -> Result<Value, ApiError> {
    get(&path(id), "", None).await
}

/// Starts an untitled chat (its first message names it).
pub async fn start() -> Result<Value, ApiError> {
    send_value(
        Method::POST,
        "/api/chat/sessions".into(),
        Some(object(vec![])),
    )
    .await
}

/// Deletes a chat (204).
pub async fn delete(id: String) -> Result<Value, ApiError> {
    send_value(Method::DELETE, path(&id), None).await
}

/// Confirms (`confirm`) or rejects a tool call that waits: the chat after it.
pub async fn decide(id: String, call: String, confirm: bool) -> Result<Value, ApiError> {
    let path = format!(
        "{}/tool-calls/{}/{}",
        path(&id),
        segment(&call),
        if confirm { "confirm" } else { "reject" }
    );
    send_value(Method::POST, path, Some(object(vec![]))).await
}

/// The address of a chat, and (with `/export?format=md` after it) of its Markdown.
pub fn path(id: &str) -> String {
    format!("/api/chat/sessions/{}", segment(id))
}

/// Asks the assistant `content` in chat `id`: the chat after the answer (the JSON answer;
/// the server can stream it as server-sent events, which the SPA does not read, to keep the
/// wasm within its budget).
pub async fn ask(id: String, content: String) -> Result<Value, ApiError> {
    let body = object(vec![("content", Value::String(content))]);
    send_value(Method::POST, format!("{}/messages", path(&id)), Some(body)).await
}
