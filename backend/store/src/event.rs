//! Events as stored, with the columns the event store adds to postgres-es's schema.

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool, Row};
use uuid::Uuid;

use caseyos_domain::aggregate::{Aggregate, DecodeError, RecordedEvent};
use caseyos_domain::kernel::Checkpoint;

/// The NOTIFY channel that tells projectors events were committed (the bus notifies it
/// after its appends).
pub const EVENTS_CHANNEL: &str = "caseyos_events";

/// One row of the `events` table.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub event_id: Uuid,
    pub global_position: i64,
    pub tx_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.global_position,
        }
    }

    /// A metadata value (all metadata values are strings).
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }

    /// The event as the domain's fold reads it.
    pub fn recorded(&self) -> RecordedEvent<'_> {
        RecordedEvent {
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
        }
    }

    /// The event decoded as one of `A`'s, or `None` when it belongs to another aggregate
    /// type.
    pub fn decode<A: Aggregate>(&self) -> Option<Result<A::Event, DecodeError>> {
        (self.aggregate_type == A::TYPE)
            .then(|| A::decode(&self.event_type, &self.event_version, self.payload.clone()))
    }

    /// A row read with [`COLUMNS`].
    pub fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(StoredEvent {
            event_id: row.try_get("event_id")?,
            global_position: row.try_get("global_position")?,
            tx_id: row.try_get("tx")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            recorded_at: row.try_get("recorded_at")?,
        })
    }
}

/// The columns [`StoredEvent::from_row`] reads, for selects from `events`.
pub const COLUMNS: &str = "event_id, global_position, tx_id::text::bigint as tx, aggregate_type, \
     aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at";

/// What keeps a read of the log gap-safe: only events of transactions below the snapshot
/// horizon, every transaction older than the oldest one still running having committed or
/// aborted, so no event can later appear behind what is read.
pub const BELOW_HORIZON: &str = "tx_id < pg_snapshot_xmin(pg_current_snapshot())";

/// The next events after `after` in global order, only below the snapshot horizon
/// ([`BELOW_HORIZON`]).
pub async fn read_after<'e>(
    executor: impl PgExecutor<'e>,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from events \
         where (tx_id, global_position) > ($1::text::xid8, $2) and {BELOW_HORIZON} \
         order by tx_id, global_position \
         limit $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter().map(StoredEvent::from_row).collect()
}

/// Every event of one aggregate of type `A`, in sequence order.
pub async fn read_history<'e, A: Aggregate>(
    executor: impl PgExecutor<'e>,
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    read_aggregate(executor, A::TYPE, aggregate_id).await
}

/// Every event of one aggregate, in sequence order.
pub async fn read_aggregate<'e>(
    executor: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from events where aggregate_type = $1 and aggregate_id = $2 \
         order by sequence"
    );
    let rows = sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_all(executor)
        .await?;
    rows.iter().map(StoredEvent::from_row).collect()
}

/// The last sequence of one aggregate (its number of events), or `None` when it has none.
pub async fn last_sequence<'e>(
    executor: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select max(sequence) from events where aggregate_type = $1 and aggregate_id = $2",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_one(executor)
    .await
}

/// The last sequence of one aggregate recorded at or before `at` (0 when none was).
pub async fn last_sequence_as_of<'e>(
    executor: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select coalesce(max(sequence), 0) from events \
         where aggregate_type = $1 and aggregate_id = $2 and recorded_at <= $3",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(at)
    .fetch_one(executor)
    .await
}

/// One page of an aggregate's events in sequence order: those after sequence `after` and
/// up to `upto`, at most `limit` (read with the primary key, so a page costs its own rows).
pub async fn read_aggregate_page<'e>(
    executor: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from events where aggregate_type = $1 and aggregate_id = $2 \
           and sequence > $3 and sequence <= $4 \
         order by sequence limit $5"
    );
    let rows = sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter().map(StoredEvent::from_row).collect()
}

/// What a fold needs of a stored event.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldableEvent {
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
}

impl FoldableEvent {
    /// The event as the domain's fold reads it.
    pub fn recorded(&self) -> RecordedEvent<'_> {
        RecordedEvent {
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
        }
    }
}

impl From<StoredEvent> for FoldableEvent {
    fn from(event: StoredEvent) -> Self {
        FoldableEvent {
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: event.payload,
        }
    }
}

/// Every event of one aggregate in sequence order, as a stream read row by row (type,
/// version and payload only), so a fold over a long history holds one event at a time.
pub fn stream_aggregate<'e>(
    pool: &'e PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> impl Stream<Item = Result<FoldableEvent, sqlx::Error>> + Send + Unpin + 'e {
    sqlx::query(
        "select sequence, event_type, event_version, payload from events \
         where aggregate_type = $1 and aggregate_id = $2 order by sequence",
    )
    .bind(aggregate_type.to_string())
    .bind(aggregate_id.to_string())
    .fetch(pool)
    .map(|row| {
        let row = row?;
        Ok(FoldableEvent {
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
        })
    })
}

/// The events written under one idempotency key, in global order.
pub async fn read_by_idempotency_key<'e>(
    executor: impl PgExecutor<'e>,
    key: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from events where metadata ->> 'idempotency_key' = $1 \
           and metadata ? 'idempotency_key' \
         order by tx_id, global_position"
    );
    let rows = sqlx::query(&sql).bind(key).fetch_all(executor).await?;
    rows.iter().map(StoredEvent::from_row).collect()
}

/// The last committed event in projection order: what a reader must wait for to see every
/// write committed before it asked.
pub async fn head<'e>(executor: impl PgExecutor<'e>) -> Result<Checkpoint, sqlx::Error> {
    let row = sqlx::query(
        "select tx_id::text::bigint as tx, global_position from events \
         order by tx_id desc, global_position desc limit 1",
    )
    .fetch_optional(executor)
    .await?;
    Ok(match row {
        Some(row) => Checkpoint {
            tx_id: row.try_get("tx")?,
            position: row.try_get("global_position")?,
        },
        None => Checkpoint::ZERO,
    })
}
