//! Notifications and "what's up": the bell's count and list, marking read and acknowledging.
//! Answers read as JSON [`Value`]s.

use gloo_net::http::Method;
use serde_json::Value;

use super::{get, object, send_value, ApiError};

/// What's up: `{total, counts, top, summary, as_of}`.
pub async fn whats_up(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/whats-up", "", consistency).await
}

/// The open notifications (not acknowledged), most important first: `{items, unread, as_of}`.
pub async fn list(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/notifications", "show=open", consistency).await
}

/// Marks `id` read (`acknowledge`: acknowledged): `{marked, unread, consistency}`.
pub async fn mark(id: String, acknowledge: bool) -> Result<Value, ApiError> {
    let path = if acknowledge {
        "/api/notifications/acknowledge"
    } else {
        "/api/notifications/read"
    };
    let ids = Value::Array(vec![Value::String(id)]);
    send_value(Method::POST, path.into(), Some(object(vec![("ids", ids)]))).await
}
