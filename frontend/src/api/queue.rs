//! The queue: Today's Moves, the list, one move, the stats, and the decisions on moves.

use caseyos_domain::api::{
    ApproveQueueItemRequest, BulkDecisionRequest, BulkDecisionResponse, EditQueueItemRequest,
    QueueItemResponse, QueueListResponse, QueueStatsResponse, RejectQueueItemRequest,
    SnoozeQueueItemRequest,
};
use uuid::Uuid;

use super::{get, post, ApiError};

pub async fn today(consistency: Option<&str>) -> Result<QueueListResponse, ApiError> {
    get("/api/queue/today", "", consistency).await
}

/// A page of the queue; `query` is the URL's own query string (filters, sort, cursor).
pub async fn list(query: &str, consistency: Option<&str>) -> Result<QueueListResponse, ApiError> {
    get("/api/queue", query, consistency).await
}

pub async fn item(id: &str, consistency: Option<&str>) -> Result<QueueItemResponse, ApiError> {
    get(&format!("/api/queue/{id}"), "", consistency).await
}

pub async fn stats(consistency: Option<&str>) -> Result<QueueStatsResponse, ApiError> {
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

pub async fn bulk_approve(ids: Vec<Uuid>) -> Result<BulkDecisionResponse, ApiError> {
    let body = BulkDecisionRequest {
        ids,
        ..BulkDecisionRequest::default()
    };
    post("/api/queue/bulk/approve", &body).await
}

pub async fn bulk_reject(ids: Vec<Uuid>, reason: String) -> Result<BulkDecisionResponse, ApiError> {
    let body = BulkDecisionRequest {
        ids,
        reason: Some(reason),
        note: None,
    };
    post("/api/queue/bulk/reject", &body).await
}
