//! The log up to a position: what time travel folds (`?as_of=` on the dashboard, the
//! forecast and a deal) and what the activity feed lists. An instant names a position —
//! the last event recorded at or before it — and every answer is "the log folded up to
//! that position", the same a rebuild stopped there would give.

use caseyos_domain::aggregate::{Aggregate, Payload, RecordedEvent};
use caseyos_domain::kernel::Actor;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{PgExecutor, PgPool, Row};

use crate::StoreError;

/// The position of the last event recorded at or before `at` (0 before the first).
pub async fn position_as_of<'e>(
    executor: impl PgExecutor<'e>,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    // Backwards along the position index: recent instants stop after a few rows.
    let position: Option<i64> = sqlx::query_scalar(
        "select global_position from events where recorded_at <= $1 \
         order by global_position desc limit 1",
    )
    .bind(at)
    .fetch_optional(executor)
    .await?;
    Ok(position.unwrap_or(0))
}

/// The position of the last event in the log (0 when it is empty).
pub async fn head_position<'e>(executor: impl PgExecutor<'e>) -> Result<i64, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar("select max(global_position) from events")
        .fetch_one(executor)
        .await?;
    Ok(position.unwrap_or(0))
}

/// One event of the log with where and when it was recorded and by whom.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged<E> {
    pub position: i64,
    pub aggregate_id: String,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    /// From the event's metadata (CaseyOS itself when it names none).
    pub actor: Actor,
    pub event: E,
}

/// Every event of `A` at positions up to `upto`, in log order, decoded.
pub async fn of_type_upto<A: Aggregate>(
    pool: &PgPool,
    upto: i64,
) -> Result<Vec<Logged<A::Event>>, StoreError> {
    let mut rows = sqlx::query(
        "select global_position, aggregate_id, event_type, event_version, \
                payload::text as payload, metadata ->> 'actor' as actor, recorded_at \
         from events where aggregate_type = $1 and global_position <= $2 \
         order by global_position",
    )
    .bind(A::TYPE)
    .bind(upto)
    .fetch(pool);
    let mut events = Vec::new();
    while let Some(row) = rows.try_next().await? {
        let event_type: String = row.try_get("event_type")?;
        let version: String = row.try_get("event_version")?;
        let payload: String = row.try_get("payload")?;
        let event = A::decode(RecordedEvent {
            event_type: &event_type,
            event_version: &version,
            payload: Payload::Json(&payload),
        })?;
        let actor: Option<String> = row.try_get("actor")?;
        events.push(Logged {
            position: row.try_get("global_position")?,
            aggregate_id: row.try_get("aggregate_id")?,
            event_type,
            recorded_at: row.try_get("recorded_at")?,
            actor: actor
                .as_deref()
                .and_then(Actor::parse)
                .unwrap_or_else(|| Actor::system("caseyos")),
            event,
        });
    }
    Ok(events)
}

/// One entry of the activity feed: an event of any type, without its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
}

/// The last `limit` events at positions up to `upto`, newest first.
pub async fn latest<'e>(
    executor: impl PgExecutor<'e>,
    upto: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query(
        "select global_position, aggregate_type, aggregate_id, event_type, recorded_at, \
                metadata ->> 'actor' as actor \
         from events where global_position <= $1 order by global_position desc limit $2",
    )
    .bind(upto)
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let actor: Option<String> = row.try_get("actor")?;
        Ok(Entry {
            position: row.try_get("global_position")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            event_type: row.try_get("event_type")?,
            recorded_at: row.try_get("recorded_at")?,
            actor: actor
                .as_deref()
                .and_then(Actor::parse)
                .unwrap_or_else(|| Actor::system("caseyos")),
        })
    })
    .collect()
}
