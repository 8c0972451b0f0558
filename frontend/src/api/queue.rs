//! The queue: Today's Moves, the list, one move, the stats, and the decisions on moves.

use caseyos_domain::api::{
    ApproveQueueItemRequest, BulkDecisionRequest, EditQueueItemRequest, QueueItemResponse,
    QueueListResponse, RejectQueueItemRequest, SnoozeQueueItemRequest,
};
use caseyos_domain::queue::QueueItemView;
use uuid::Uuid;

use super::{get, post, ApiError};

/// A page of Today's Moves: the first, or the one after `cursor` (a `next_cursor`).
pub async fn today(
    cursor: Option<&str>,
    consistency: Option<&str>,
) -> Result<QueueListResponse, ApiError> {
    let query = cursor
        .map(|c| format!("cursor={}", js_sys::encode_uri_component(c)))
        .unwrap_or_default();
    get("/api/queue/today", &query, consistency).await
}

/// The first `pages` pages of Today's Moves, read one after the other at `consistency`:
/// their moves in rank order, and how many moves there are over all pages.
pub async fn today_pages(
    pages: usize,
    consistency: Option<&str>,
) -> Result<(Vec<QueueItemView>, i64), ApiError> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total = 0;
    for _ in 0..pages.max(1) {
        let page = today(cursor.as_deref(), consistency).await?;
        items.extend(page.items);
        total = page.total;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok((items, total))
}

/// A page of the queue; `query` is the URL's own query string (filters, sort, cursor).
pub async fn list(query: &str, consistency: Option<&str>) -> Result<QueueListResponse, ApiError> {
    get("/api/queue", query, consistency).await
}

pub async fn item(id: &str, consistency: Option<&str>) -> Result<QueueItemResponse, ApiError> {
    get(&format!("/api/queue/{id}"), "", consistency).await
}

/// The queue's counts (`pending`, `decided_today`, `approval_rate_7d`, …) as JSON.
pub async fn stats(consistency: Option<&str>) -> Result<serde_json::Value, ApiError> {
    get("/api/queue/stats", "", consistency).await
}

pub async fn approve(id: Uuid, note: Option<String>) -> Result<QueueItemResponse, ApiError> {
    post(
        &format!("/api/queue/{id}/approve"),
        &ApproveQueueItemRequest { note },
    )
    .await
}

pub async fn reject(id: Uuid, reason: String) -> Result<QueueItemResponse, ApiError> {
    post(
        &format!("/api/queue/{id}/reject"),
        &RejectQueueItemRequest { reason },
    )
    .await
}

pub async fn snooze(
    id: Uuid,
    body: &SnoozeQueueItemRequest,
) -> Result<QueueItemResponse, ApiError> {
    post(&format!("/api/queue/{id}/snooze"), body).await
}

pub async fn edit(id: Uuid, body: &EditQueueItemRequest) -> Result<QueueItemResponse, ApiError> {
    post(&format!("/api/queue/{id}/edit"), body).await
}

/// Approves `ids`; the answer (`BulkDecisionResponse`) as JSON.
pub async fn bulk_approve(ids: Vec<Uuid>) -> Result<serde_json::Value, ApiError> {
    let body = BulkDecisionRequest {
        ids,
        ..BulkDecisionRequest::default()
    };
    post("/api/queue/bulk/approve", &body).await
}

/// Rejects `ids` with `reason`; the answer (`BulkDecisionResponse`) as JSON.
pub async fn bulk_reject(ids: Vec<Uuid>, reason: String) -> Result<serde_json::Value, ApiError> {
    let body = BulkDecisionRequest {
        ids,
        reason: Some(reason),
        note: None,
    };
    post("/api/queue/bulk/reject", &body).await
}
