//! Audit replay and time travel: any aggregate's full history — each event with its actor,
//! time and request ids, and the state after it — and its state at any sequence or instant.
//! The same fold serves the API, the CLI (`caseyos replay`) and the determinism test.

use axum::extract::State;
use axum::Json;
use caseyos_domain::agent_run::{AgentRun, AgentRunEvent};
use caseyos_domain::api::{AuditEntry, AuditResponse, ErrorEnvelope};
use caseyos_domain::queue::{QueueItem, QueueItemEvent};
use caseyos_projections::event::{self, StoredEvent};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::state::AppState;

/// Aggregate types that can be replayed.
pub const AGGREGATE_TYPES: &[&str] = &["queue_item", "agent_run"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_audit))
}

/// The state after each event, folded by the current code.
pub fn fold_states(aggregate_type: &str, events: &[StoredEvent]) -> Result<Vec<Value>, ApiError> {
    match aggregate_type {
        "queue_item" => {
            let mut item = QueueItem::default();
            events
                .iter()
                .map(|e| {
                    let decoded =
                        QueueItemEvent::decode(&e.event_type, &e.event_version, e.payload.clone())
                            .map_err(ApiError::internal)?;
                    item.apply(decoded);
                    serde_json::to_value(&item.item).map_err(ApiError::internal)
                })
                .collect()
        }
        "agent_run" => {
            let mut run = AgentRun::default();
            events
                .iter()
                .map(|e| {
                    let decoded =
                        AgentRunEvent::decode(&e.event_type, &e.event_version, e.payload.clone())
                            .map_err(ApiError::internal)?;
                    run.apply(decoded);
                    serde_json::to_value(&run.run).map_err(ApiError::internal)
                })
                .collect()
        }
        other => Err(ApiError::not_found(
            "audit.unknown_aggregate_type",
            format!(
                "`{other}` is not an aggregate type; known: {}",
                AGGREGATE_TYPES.join(", ")
            ),
        )),
    }
}

/// Where in the history to stop.
#[derive(Clone, Copy, Debug, Default)]
pub struct Point {
    pub at: Option<i64>,
    pub as_of: Option<DateTime<Utc>>,
}

/// An aggregate's history up to `point`, with the state there.
pub async fn history(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    point: Point,
) -> Result<AuditResponse, ApiError> {
    if !AGGREGATE_TYPES.contains(&aggregate_type) {
        fold_states(aggregate_type, &[])?;
    }
    if point.at.is_some() && point.as_of.is_some() {
        return Err(ApiError::bad_request(
            "audit.invalid_point",
            "give `at` or `as_of`, not both",
        ));
    }
    let events = event::read_aggregate(pool, aggregate_type, aggregate_id).await?;
    if events.is_empty() {
        return Err(ApiError::not_found(
            "audit.not_found",
            format!("no {aggregate_type} with id {aggregate_id}"),
        ));
    }
    let total = events.len() as i64;
    let states = fold_states(aggregate_type, &events)?;
    let entries: Vec<AuditEntry> = events
        .into_iter()
        .zip(states)
        .map(|(e, state_after)| AuditEntry {
            actor: e.meta("actor").map(str::to_string),
            request_id: e.meta("request_id").map(str::to_string),
            correlation_id: e.meta("correlation_id").map(str::to_string),
            causation_id: e.meta("causation_id").map(str::to_string),
            idempotency_key: e.meta("idempotency_key").map(str::to_string),
            sequence: e.sequence,
            event_id: e.event_id,
            global_position: e.global_position,
            event_type: e.event_type,
            event_version: e.event_version,
            recorded_at: e.recorded_at,
            metadata: e.metadata,
            payload: e.payload,
            state_after,
        })
        .collect();
    let state = entries
        .last()
        .map_or(Value::Null, |e| e.state_after.clone());
    let full = AuditResponse {
        aggregate_type: aggregate_type.to_string(),
        aggregate_id: aggregate_id.to_string(),
        sequence: entries.last().map_or(0, |e| e.sequence),
        state,
        events: entries,
        total_events: total,
    };
    at_point(full, point)
}

/// A full history cut back to `point` (its events up to there, and the state there).
pub fn at_point(mut history: AuditResponse, point: Point) -> Result<AuditResponse, ApiError> {
    let total = history.total_events;
    let keep = match (point.at, point.as_of) {
        (Some(at), _) => {
            if !(0..=total).contains(&at) {
                return Err(ApiError::not_found(
                    "audit.sequence_not_found",
                    format!("this {} has sequences 1–{total}", history.aggregate_type),
                ));
            }
            at as usize
        }
        (None, Some(as_of)) => history
            .events
            .iter()
            .take_while(|e| e.recorded_at <= as_of)
            .count(),
        (None, None) => return Ok(history),
    };
    history.events.truncate(keep);
    history.state = history
        .events
        .last()
        .map_or(Value::Null, |e| e.state_after.clone());
    history.sequence = history.events.last().map_or(0, |e| e.sequence);
    Ok(history)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The state after this sequence (0 = before the first event).
    at: Option<i64>,
    /// The state as it was at this instant (RFC 3339).
    as_of: Option<DateTime<Utc>>,
}

/// An aggregate's full history, each event with its metadata and the state after it; or
/// its state at a sequence (`at`) or instant (`as_of`).
#[utoipa::path(
    get,
    path = "/api/audit/{aggregate_type}/{aggregate_id}",
    tag = "audit",
    params(
        ("aggregate_type" = String, Path, description = "e.g. `queue_item`"),
        ("aggregate_id" = String, Path),
        AuditQuery
    ),
    responses(
        (status = 200, description = "History and state", body = AuditResponse),
        (status = 404, description = "Unknown type, id or sequence", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_audit(
    State(state): State<AppState>,
    ApiPath((aggregate_type, aggregate_id)): ApiPath<(String, String)>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditResponse>, ApiError> {
    let point = Point {
        at: query.at,
        as_of: query.as_of,
    };
    if point.at.is_some() && point.as_of.is_some() {
        return Err(ApiError::bad_request(
            "audit.invalid_point",
            "give `at` or `as_of`, not both",
        ));
    }
    // One read and fold: the full history gives the current owner (operators see their
    // own moves' histories only), then it is cut back to the requested point.
    let full = history(
        &state.pool,
        &aggregate_type,
        &aggregate_id,
        Point::default(),
    )
    .await?;
    if principal.role == Role::Operator {
        let owner = full.state.get("owner").and_then(Value::as_str);
        if owner.is_some_and(|o| o != principal.user) {
            return Err(ApiError::forbidden(
                "this history belongs to someone else's move",
            ));
        }
    }
    let response = at_point(full, point)?;
    Ok(Json(response))
}
