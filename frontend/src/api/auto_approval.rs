//! Auto-approval: its rules (list, save, turn on or off, delete) and the emergency stop.
//! Answers read as JSON [`Value`]s.

use gloo_net::http::Method;
use serde_json::Value;

use super::contacts::segment;
use super::{get, object, send_value, text_or_null, ApiError};

/// The rules that are not deleted, in the order they run.
pub async fn rules(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/auto-approval/rules", "", consistency).await
}

/// Creates a rule (`id` none) or replaces the rule `id` with `body` (a `RuleRequest`).
pub async fn save(id: Option<String>, body: Value) -> Result<Value, ApiError> {
    match id {
        Some(id) => {
            let path = format!("/api/auto-approval/rules/{}", segment(&id));
            send_value(Method::PUT, path, Some(body)).await
        }
        None => send_value(Method::POST, "/api/auto-approval/rules".into(), Some(body)).await,
    }
}

/// `enable`, `disable` (`POST`) or delete (`DELETE`, `command` empty) the rule `id`.
pub async fn command(id: &str, command: &str) -> Result<Value, ApiError> {
    let path = format!("/api/auto-approval/rules/{}", segment(id));
    match command {
        "" => send_value(Method::DELETE, path, None).await,
        _ => {
            send_value(
                Method::POST,
                format!("{path}/{command}"),
                Some(object(vec![])),
            )
            .await
        }
    }
}

/// Stops auto-approval (`enabled` false, with `reason`) or lets it run again; the answer is
/// the guardrails.
pub async fn switch(enabled: bool, reason: Option<String>) -> Result<Value, ApiError> {
    let body = object(vec![
        ("enabled", Value::Bool(enabled)),
        ("reason", text_or_null(reason)),
    ]);
    send_value(Method::POST, "/api/admin/auto-approval".into(), Some(body)).await
}
