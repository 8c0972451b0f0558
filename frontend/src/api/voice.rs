//! Voice training: the samples (added by hand, rated, deleted) and the persona computed from
//! them, with its language-model summary. Answers read as JSON [`Value`]s.

use gloo_net::http::Method;
use serde_json::Value;

use super::contacts::segment;
use super::{get, object, send_value, text_or_null, ApiError};

/// The samples, newest first: `{items: [VoiceSample]}`.
pub async fn samples() -> Result<Value, ApiError> {
    get("/api/voice/samples", "", None).await
}

/// Adds a sample pasted by hand (`content`: 100 to 20,000 characters).
pub async fn add(content: String) -> Result<Value, ApiError> {
    let body = object(vec![
        ("content", Value::String(content)),
        ("source", Value::String("manual".into())),
    ]);
    send_value(Method::POST, "/api/voice/samples".into(), Some(body)).await
}

/// Rates a sample 1 to 5, with what to keep or change (`feedback`, none when empty).
pub async fn rate(id: String, rating: u8, feedback: Option<String>) -> Result<Value, ApiError> {
    let body = object(vec![
        ("rating", Value::from(rating)),
        ("feedback", text_or_null(feedback)),
    ]);
    let path = format!("{}/rating", sample(&id));
    send_value(Method::PUT, path, Some(body)).await
}

/// Deletes a sample (204).
pub async fn delete(id: String) -> Result<Value, ApiError> {
    send_value(Method::DELETE, sample(&id), None).await
}

/// The persona: tone, style, stats, phrases, word frequency, greeting, sign-off, summary.
pub async fn persona() -> Result<Value, ApiError> {
    get("/api/voice/persona", "", None).await
}

/// Writes a fresh summary with the language model (503 `llm.not_connected` without one).
pub async fn summarise() -> Result<Value, ApiError> {
    send_value(
        Method::POST,
        "/api/voice/persona/summary".into(),
        Some(object(vec![])),
    )
    .await
}

fn sample(id: &str) -> String {
    format!("/api/voice/samples/{}", segment(id))
}
