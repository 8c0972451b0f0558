//! Audit replay and time travel: any registered aggregate's full history — each event with
//! its actor, time and request ids, and the state after it — and its state at any sequence
//! or instant. The same fold serves the API, `caseyos replay` and the determinism tests.

use caseyos_domain::aggregate::{fold, Aggregate};
use caseyos_domain::api::{AuditEntry, AuditResponse};
use caseyos_domain::registry::{aggregate_type, aggregate_type_names};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::event::{self, StoredEvent};
use crate::StoreError;

/// Why a history cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("`{0}` is not an aggregate type; known: {known}", known = aggregate_type_names().join(", "))]
    UnknownType(String),
    #[error("give `at` or `as_of`, not both")]
    InvalidPoint,
    #[error("no {aggregate_type} with id {aggregate_id}")]
    NotFound {
        aggregate_type: String,
        aggregate_id: String,
    },
    #[error("this {aggregate_type} has sequences 1–{total}")]
    SequenceNotFound { aggregate_type: String, total: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HistoryError {
    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            HistoryError::UnknownType(_) => "audit.unknown_aggregate_type",
            HistoryError::InvalidPoint => "audit.invalid_point",
            HistoryError::NotFound { .. } => "audit.not_found",
            HistoryError::SequenceNotFound { .. } => "audit.sequence_not_found",
            HistoryError::Store(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for HistoryError {
    fn from(error: sqlx::Error) -> Self {
        HistoryError::Store(error.into())
    }
}

/// Where in the history to stop.
#[derive(Clone, Copy, Debug, Default)]
pub struct Point {
    pub at: Option<i64>,
    pub as_of: Option<DateTime<Utc>>,
}

impl Point {
    /// `at` or `as_of`, not both.
    pub fn new(at: Option<i64>, as_of: Option<DateTime<Utc>>) -> Result<Self, HistoryError> {
        if at.is_some() && as_of.is_some() {
            return Err(HistoryError::InvalidPoint);
        }
        Ok(Point { at, as_of })
    }
}

/// An aggregate's history up to `point`, with the state there.
pub async fn history(
    pool: &PgPool,
    aggregate_type_name: &str,
    aggregate_id: &str,
    point: Point,
) -> Result<AuditResponse, HistoryError> {
    let kind = aggregate_type(aggregate_type_name)
        .ok_or_else(|| HistoryError::UnknownType(aggregate_type_name.to_string()))?;
    let point = Point::new(point.at, point.as_of)?;
    let events = event::read_aggregate(pool, kind.name, aggregate_id).await?;
    if events.is_empty() {
        return Err(HistoryError::NotFound {
            aggregate_type: kind.name.to_string(),
            aggregate_id: aggregate_id.to_string(),
        });
    }
    let total = events.len() as i64;
    let recorded: Vec<_> = events.iter().map(StoredEvent::recorded).collect();
    let states = (kind.states)(&recorded).map_err(StoreError::from)?;
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
        aggregate_type: kind.name.to_string(),
        aggregate_id: aggregate_id.to_string(),
        sequence: entries.last().map_or(0, |e| e.sequence),
        state,
        events: entries,
        total_events: total,
    };
    at_point(full, point)
}

/// A full history cut back to `point` (its events up to there, and the state there).
pub fn at_point(mut history: AuditResponse, point: Point) -> Result<AuditResponse, HistoryError> {
    let total = history.total_events;
    let keep = match (point.at, point.as_of) {
        (Some(at), _) => {
            if !(0..=total).contains(&at) {
                return Err(HistoryError::SequenceNotFound {
                    aggregate_type: history.aggregate_type,
                    total,
                });
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

/// The state of aggregate `A` right after `upto` (its sequence; `i64::MAX` for now),
/// folded from the store.
pub async fn state_at<A: Aggregate>(
    pool: &PgPool,
    aggregate_id: &str,
    upto: i64,
) -> Result<A, StoreError> {
    let events = event::read_history::<A>(pool, aggregate_id).await?;
    state_of(events.iter().take_while(|e| e.sequence <= upto))
}

/// Folds stored events of `A` into its state.
pub fn state_of<'a, A: Aggregate>(
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> Result<A, StoreError> {
    Ok(fold(events.into_iter().map(StoredEvent::recorded))?)
}
