//! Audit replay and time travel: any registered aggregate's full history — each event with
//! its actor, time and request ids, and the state after it — and its state at any sequence
//! or instant. The same fold serves the API, `caseyos replay` and the determinism tests.

use caseyos_domain::aggregate::{fold, Aggregate, Ownership};
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

/// Which events of a history one answer holds: those after sequence `after` (0 for the
/// first page), at most `limit`.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub after: i64,
    pub limit: i64,
}

/// A page of an aggregate's history, and whose the aggregate is now (for who may read it).
#[derive(Clone, Debug)]
pub struct History {
    pub page: AuditResponse,
    pub ownership: Option<Ownership>,
}

/// A page of an aggregate's history up to `point`, with the state after each of its events
/// and the state at `point`.
///
/// The page's events are read with their metadata, and only they. The states come from one
/// fold of the aggregate's events from the first, streamed row by row (type, version and
/// the payload's JSON text only, decoded straight into each event): without past snapshots
/// nothing else yields the state before the page, and the fold also says whose the
/// aggregate is now. Only the page's states and the one at `point` are turned into JSON.
/// Memory and the answer stay bounded by the page, however long the history.
pub async fn history(
    pool: &PgPool,
    aggregate_type_name: &str,
    aggregate_id: &str,
    point: Point,
    page: Page,
) -> Result<History, HistoryError> {
    let kind = aggregate_type(aggregate_type_name)
        .ok_or_else(|| HistoryError::UnknownType(aggregate_type_name.to_string()))?;
    let point = Point::new(point.at, point.as_of)?;
    let not_found = || HistoryError::NotFound {
        aggregate_type: kind.name.to_string(),
        aggregate_id: aggregate_id.to_string(),
    };
    let total = event::last_sequence(pool, kind.name, aggregate_id)
        .await?
        .ok_or_else(not_found)?;
    let upto = match (point.at, point.as_of) {
        (Some(at), _) if !(0..=total).contains(&at) => {
            return Err(HistoryError::SequenceNotFound {
                aggregate_type: kind.name.to_string(),
                total,
            })
        }
        (Some(at), _) => at,
        (None, Some(as_of)) => {
            event::last_sequence_as_of(pool, kind.name, aggregate_id, as_of).await?
        }
        (None, None) => total,
    };

    let mut events = event::read_aggregate_page(
        pool,
        kind.name,
        aggregate_id,
        page.after,
        upto,
        page.limit + 1,
    )
    .await?;
    let next_cursor = if events.len() as i64 > page.limit {
        events.truncate(page.limit.max(0) as usize);
        events.last().map(|e| e.sequence.to_string())
    } else {
        None
    };
    let shown = events
        .first()
        .zip(events.last())
        .map(|(first, last)| first.sequence..=last.sequence);

    let mut replay = (kind.replay)();
    let mut states = Vec::with_capacity(events.len());
    let mut state = Value::Null;
    event::fold_aggregate(pool, kind.name, aggregate_id, |sequence, e| {
        replay.apply(e).map_err(StoreError::from)?;
        if shown.as_ref().is_some_and(|s| s.contains(&sequence)) {
            states.push(replay.state().map_err(StoreError::from)?);
        }
        if sequence == upto {
            state = replay.state().map_err(StoreError::from)?;
        }
        Ok::<_, HistoryError>(())
    })
    .await?;
    if states.len() != events.len() {
        return Err(StoreError::EventStore(format!(
            "{} {aggregate_id}: the fold met {} of the page's {} events",
            kind.name,
            states.len(),
            events.len()
        ))
        .into());
    }

    let entries = events
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
    Ok(History {
        page: AuditResponse {
            aggregate_type: kind.name.to_string(),
            aggregate_id: aggregate_id.to_string(),
            events: entries,
            sequence: upto,
            state,
            total_events: total,
            next_cursor,
        },
        ownership: replay.ownership(),
    })
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

/// The states of many aggregates of `A` now, folded from every event of theirs read in one
/// statement (for batches: an import's matched contacts). An id with no events is absent.
pub async fn states_of<A: Aggregate>(
    pool: &PgPool,
    aggregate_ids: &[String],
) -> Result<std::collections::HashMap<String, A>, StoreError> {
    use caseyos_domain::aggregate::{Payload, RecordedEvent};
    use sqlx::Row;
    let mut states: std::collections::HashMap<String, A> = std::collections::HashMap::new();
    if aggregate_ids.is_empty() {
        return Ok(states);
    }
    let rows = sqlx::query(
        "select aggregate_id, event_type, event_version, payload::text as payload from events \
         where aggregate_type = $1 and aggregate_id = any($2) order by aggregate_id, sequence",
    )
    .bind(A::TYPE)
    .bind(aggregate_ids)
    .fetch_all(pool)
    .await?;
    for row in rows {
        let id: String = row.try_get("aggregate_id")?;
        let event = A::decode(RecordedEvent {
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: Payload::Json(row.try_get("payload")?),
        })?;
        states.entry(id).or_default().apply(event);
    }
    Ok(states)
}
