//! Signals: what came in (HubSpot, forms, replies), and what each became. Read as JSON.

use serde_json::Value;

use super::{get, ApiError};

/// A page of signals; `query` is the API query (source, kind, status, limit, cursor).
pub async fn list(query: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/signals", query, consistency).await
}
