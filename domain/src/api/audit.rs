//! Audit replay: an aggregate's history, event by event, with the state after each.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One event of an aggregate's history, with the state after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub sequence: i64,
    pub event_id: Uuid,
    pub global_position: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: DateTime<Utc>,
    /// `kind:id`, e.g. `user:casey`.
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// Everything recorded with the event: actor, request, correlation and causation ids,
    /// idempotency key, command id.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub metadata: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub payload: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub state_after: Value,
}

/// An aggregate's history and its state at the requested point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditResponse {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Events up to the requested point (all of them without `at` / `as_of`).
    pub events: Vec<AuditEntry>,
    /// The sequence the state is at.
    pub sequence: i64,
    /// The aggregate's state at `sequence`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub state: Value,
    /// Events recorded in total, including any after the requested point.
    pub total_events: i64,
}
