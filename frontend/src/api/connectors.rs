//! Connectors: their status, connecting one (OAuth: the address to send the browser to),
//! disconnecting one, and HubSpot's private-app token. Answers read as JSON [`Value`]s.

use gloo_net::http::Method;
use serde_json::Value;

use super::contacts::segment;
use super::{get, object, send_value, ApiError};

/// Every connector with its status, account, scopes, expiry and last error.
pub async fn list(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/connectors", "", consistency).await
}

/// Starts connecting `name`: `{authorize_url}`, where the browser goes next.
pub async fn connect(name: &str) -> Result<Value, ApiError> {
    let path = format!("/api/connectors/{}/connect", segment(name));
    send_value(Method::POST, path, Some(object(vec![]))).await
}

/// Disconnects `name`: `{name, revoked, reason}`.
pub async fn disconnect(name: &str) -> Result<Value, ApiError> {
    let path = format!("/api/connectors/{}", segment(name));
    send_value(Method::DELETE, path, None).await
}

/// Connects HubSpot with a private app's `token`.
pub async fn hubspot_token(token: String) -> Result<Value, ApiError> {
    let body = object(vec![("token", Value::String(token))]);
    send_value(
        Method::PUT,
        "/api/connectors/hubspot/token".into(),
        Some(body),
    )
    .await
}

/// One connector, as the list shows it (`llm`: whether a language model is connected).
pub async fn one(name: &'static str) -> Result<Value, ApiError> {
    get(&format!("/api/connectors/{name}"), "", None).await
}
