//! Executions and the guardrails: the kill switch and send mode, an approved move's
//! execution (through its move), retrying, rolling back and completing one by hand, and the
//! outcomes of a move.
//!
//! Answers are read as JSON [`Value`]s and shown field by field (`components::executions`):
//! no reader of the SPA's own per answer (ARCHITECTURE.md, "The SPA" → Size).

use gloo_net::http::Method;
use serde_json::Value;

use super::contacts::segment;
use super::{get, object, send_value, text_or_null, ApiError};

/// The kill switch and send mode (with who changed them last), the limits, the time zone.
pub async fn guardrails(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/admin/guardrails", "", consistency).await
}

/// Engages (with `reason`) or releases the kill switch; the answer is the guardrails.
pub async fn kill_switch(engaged: bool, reason: Option<String>) -> Result<Value, ApiError> {
    let body = object(vec![
        ("engaged", Value::Bool(engaged)),
        ("reason", text_or_null(reason)),
    ]);
    send_value(Method::POST, "/api/admin/kill-switch".into(), Some(body)).await
}

/// Sets the send mode (`draft_only`, `send`, `dry_run`); the answer is the guardrails.
pub async fn send_mode(mode: &str) -> Result<Value, ApiError> {
    let body = object(vec![("mode", Value::String(mode.to_string()))]);
    send_value(Method::PUT, "/api/admin/send-mode".into(), Some(body)).await
}

/// The move `id` as JSON, its `execution` (`null` until approved) included.
pub async fn of_item(id: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get(&format!("/api/queue/{}", segment(id)), "", consistency).await
}

/// `POST /api/executions/{id}/{command}` (`retry`, `rollback`, `complete`) with `body`.
pub async fn command(id: &str, command: &str, body: Value) -> Result<Value, ApiError> {
    let path = format!("/api/executions/{}/{command}", segment(id));
    send_value(Method::POST, path, Some(body)).await
}

/// Outcomes, newest first: `filter` is one `name=value` (`item`, `contact` or `email`).
pub async fn outcomes(filter: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/outcomes", filter, consistency).await
}
