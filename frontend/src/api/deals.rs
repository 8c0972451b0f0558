//! Pipelines, deals, the forecast and the dashboard: the board's deals, one deal now or as
//! of an instant, moving a deal to a stage, the forecast of a period and its change
//! waterfall, and every dashboard widget in one answer.
//!
//! Answers are read as JSON [`Value`]s and shown field by field (`components::deals`): no
//! reader of the SPA's own per answer (ARCHITECTURE.md, "The SPA" → Size).

use caseyos_domain::api::MoveDealRequest;
use serde_json::Value;

use super::contacts::segment;
use super::{get, post, ApiError};

/// `as_of=<instant>` when there is one.
fn as_of_query(as_of: Option<&str>) -> String {
    as_of
        .map(|at| crate::routes::query::pair("as_of", at))
        .unwrap_or_default()
}

/// Every pipeline with its stages (`items`).
pub async fn pipelines(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/pipelines", "", consistency).await
}

/// A page of deals; `query` is the API query (pipeline, status, sort, limit, cursor).
pub async fn deals(query: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/deals", query, consistency).await
}

/// One deal with its health and flags, now or as it stood at `as_of`.
pub async fn deal(
    id: &str,
    as_of: Option<&str>,
    consistency: Option<&str>,
) -> Result<Value, ApiError> {
    get(
        &format!("/api/deals/{}", segment(id)),
        &as_of_query(as_of),
        consistency,
    )
    .await
}

/// Moves the deal `id` to `stage` (a command); the answer is the deal and its consistency.
pub async fn move_to(id: &str, stage: &str) -> Result<Value, ApiError> {
    let request = MoveDealRequest {
        stage: stage.to_string(),
        lost_reason: None,
    };
    post(&format!("/api/deals/{}/move", segment(id)), &request).await
}

/// The forecast; `query` is the API query (period, owner, as_of).
pub async fn forecast(query: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/forecast", query, consistency).await
}

/// The change waterfall; `query` is the API query (period, owner, from, to).
pub async fn changes(query: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/forecast/changes", query, consistency).await
}

/// Every dashboard widget, now or as of an instant.
pub async fn dashboard(as_of: Option<&str>, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/dashboard", &as_of_query(as_of), consistency).await
}

/// Pipeline health: each pipeline's open stages with count, total and weighted.
pub async fn pipeline_health(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/dashboard/pipeline", "", consistency).await
}

/// The deal's history, oldest first (up to 500 events), up to `as_of` when given.
pub async fn history(
    id: &str,
    as_of: Option<&str>,
) -> Result<caseyos_domain::api::AuditResponse, ApiError> {
    let mut query = "limit=500".to_string();
    if let Some(at) = as_of {
        query = format!("{query}&{}", as_of_query(Some(at)));
    }
    get(&format!("/api/audit/deal/{}", segment(id)), &query, None).await
}
