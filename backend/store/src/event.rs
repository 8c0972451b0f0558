//! Events as stored, with the columns the event store adds to postgres-es's schema.

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool, Row};
use uuid::Uuid;

use caseyos_domain::aggregate::{Aggregate, DecodeError, Payload, RecordedEvent};
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
            payload: Payload::Value(&self.payload),
        }
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

/// Events after the checkpoint `($1, $2)` in global order, only below the snapshot horizon:
/// every transaction older than the oldest one still running has committed or aborted, so
/// no event can later appear behind what such a read returns.
macro_rules! after_below_horizon {
    () => {
        concat!(
            "where (tx_id, global_position) > ($1::text::xid8, $2) and ",
            below_horizon!(),
            " order by tx_id, global_position"
        )
    };
}

/// Only events of transactions below the snapshot horizon (see [`after_below_horizon`]).
macro_rules! below_horizon {
    () => {
        "tx_id < pg_snapshot_xmin(pg_current_snapshot())"
    };
}

/// What keeps any read of the log gap-safe (for reads that compare with a checkpoint of
/// their own, as a projector batch does with its locked row).
pub const BELOW_HORIZON: &str = below_horizon!();

/// The next events after `after` in global order, only below the snapshot horizon.
pub async fn read_after<'e>(
    executor: impl PgExecutor<'e>,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from events {} limit $3",
        after_below_horizon!()
    );
    let rows = sqlx::query(&sql)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter().map(StoredEvent::from_row).collect()
}

/// An event as a projection folds it: where it stands in the global order, whose it is,
/// and its payload as the JSON text the database sent (no metadata).
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvent {
    pub tx_id: i64,
    pub global_position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
}

impl LogEvent {
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.global_position,
        }
    }
}

/// A stored event whichever columns were read: what decoding it needs.
pub trait Recorded {
    fn aggregate_type(&self) -> &str;
    fn aggregate_id(&self) -> &str;
    /// The event as the domain's fold reads it.
    fn recorded(&self) -> RecordedEvent<'_>;

    /// The event decoded as one of `A`'s, or `None` when it belongs to another aggregate
    /// type.
    fn decode<A: Aggregate>(&self) -> Option<Result<A::Event, DecodeError>> {
        (self.aggregate_type() == A::TYPE).then(|| A::decode(self.recorded()))
    }
}

impl Recorded for StoredEvent {
    fn aggregate_type(&self) -> &str {
        &self.aggregate_type
    }
    fn aggregate_id(&self) -> &str {
        &self.aggregate_id
    }
    fn recorded(&self) -> RecordedEvent<'_> {
        StoredEvent::recorded(self)
    }
}

impl Recorded for LogEvent {
    fn aggregate_type(&self) -> &str {
        &self.aggregate_type
    }
    fn aggregate_id(&self) -> &str {
        &self.aggregate_id
    }
    fn recorded(&self) -> RecordedEvent<'_> {
        RecordedEvent {
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: Payload::Json(&self.payload),
        }
    }
}

/// Every event after `after` below the snapshot horizon, in global order, as one stream
/// read row by row: one statement, so one horizon, however long the log (a rebuild reads
/// the whole log this way while it folds).
pub fn stream_after<'e>(
    executor: impl PgExecutor<'e> + 'e,
    after: Checkpoint,
) -> impl Stream<Item = Result<LogEvent, sqlx::Error>> + Send + 'e {
    const SQL: &str = concat!(
        "select tx_id::text::bigint as tx, global_position, aggregate_type, aggregate_id, \
           event_type, event_version, payload::text as payload from events ",
        after_below_horizon!()
    );
    sqlx::query(SQL)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .fetch(executor)
        .map(|row| {
            let row = row?;
            Ok(LogEvent {
                tx_id: row.try_get("tx")?,
                global_position: row.try_get("global_position")?,
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
            })
        })
}

/// Every event of one aggregate of type `A`, in sequence order.
pub async fn read_history<'e, A: Aggregate>(
    executor: impl PgExecutor<'e>,
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    read_aggregate(executor, A::TYPE, aggregate_id).await
}

/// The id of the aggregate of type `A` that recorded the latest event, if any (e.g. the
/// last CRM sync run, which a worker resumes when it did not finish).
pub async fn latest_aggregate_id<'e, A: Aggregate>(
    executor: impl PgExecutor<'e>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select aggregate_id from events where aggregate_type = $1 \
         order by global_position desc limit 1",
    )
    .bind(A::TYPE)
    .fetch_optional(executor)
    .await
}

/// The id of the aggregate of type `A` whose latest `event_type` event has `field` = `value`
/// in its payload (e.g. the last CRM sync run of one object, from its `CrmSyncStarted`).
pub async fn latest_aggregate_id_with<'e, A: Aggregate>(
    executor: impl PgExecutor<'e>,
    event_type: &str,
    field: &str,
    value: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select aggregate_id from events where aggregate_type = $1 and event_type = $2 \
           and payload -> $2 ->> $3 = $4 \
         order by global_position desc limit 1",
    )
    .bind(A::TYPE)
    .bind(event_type)
    .bind(field)
    .bind(value)
    .fetch_optional(executor)
    .await
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

/// Folds every event of one aggregate in sequence order into `fold`, read row by row
/// (sequence, type, version and the payload as JSON text only) and lent to it without a
/// copy, so a fold over a long history holds one event at a time.
pub async fn fold_aggregate<E: From<sqlx::Error>>(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    mut fold: impl FnMut(i64, RecordedEvent<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut rows = sqlx::query(
        "select sequence, event_type, event_version, payload::text from events \
         where aggregate_type = $1 and aggregate_id = $2 order by sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let event = RecordedEvent {
            event_type: row.try_get(1)?,
            event_version: row.try_get(2)?,
            payload: Payload::Json(row.try_get(3)?),
        };
        fold(row.try_get(0)?, event)?;
    }
    Ok(())
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
