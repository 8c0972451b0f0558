//! What `caseyos projections status`, `/ready` and `/metrics` report about projectors.

use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::projector::Projector;

/// A projector is considered led while its leader's heartbeat is this recent.
pub const LEADER_STALE_AFTER_SECS: i64 = 15;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProjectionStatus {
    pub name: String,
    /// `live` (caught up), `catching_up`, `rebuilding`, `failing` (its last batch failed and
    /// is being retried), `stalled` (no live leader) or `new`.
    pub state: String,
    pub checkpoint: String,
    pub position: i64,
    pub events_processed: i64,
    /// Events after the checkpoint (including any not yet visible below the horizon).
    pub lag_events: i64,
    /// Age of the oldest event not yet applied, in seconds.
    pub lag_seconds: f64,
    pub leader: Option<String>,
    pub leader_heartbeat_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Status of every projector.
pub async fn projection_status(
    pool: &PgPool,
    projectors: &[std::sync::Arc<dyn Projector>],
) -> anyhow::Result<Vec<ProjectionStatus>> {
    let mut out = Vec::new();
    for projector in projectors {
        let name = projector.name();
        let row = sqlx::query(
            "select checkpoint_tx::text::bigint as tx, checkpoint_position, events_processed, \
               leader, leader_heartbeat_at, last_error, \
               coalesce(leader_heartbeat_at > now() - make_interval(secs => $2), false) as led \
             from projection_checkpoints where name = $1",
        )
        .bind(name)
        .bind(LEADER_STALE_AFTER_SECS as f64)
        .fetch_optional(pool)
        .await?;
        let rebuilding: bool =
            sqlx::query_scalar("select exists(select 1 from projection_rebuilds where name = $1)")
                .bind(name)
                .fetch_one(pool)
                .await?;
        let (checkpoint, processed, leader, heartbeat, last_error, led) = match &row {
            Some(row) => (
                Checkpoint {
                    tx_id: row.try_get("tx")?,
                    position: row.try_get("checkpoint_position")?,
                },
                row.try_get("events_processed")?,
                row.try_get("leader")?,
                row.try_get("leader_heartbeat_at")?,
                row.try_get("last_error")?,
                row.try_get("led")?,
            ),
            None => (Checkpoint::ZERO, 0, None, None, None, false),
        };
        let lag = sqlx::query(
            "select count(*) as n, \
               coalesce(extract(epoch from now() - min(recorded_at)), 0)::float8 as age \
             from events where (tx_id, global_position) > ($1::text::xid8, $2)",
        )
        .bind(checkpoint.tx_id.to_string())
        .bind(checkpoint.position)
        .fetch_one(pool)
        .await?;
        let lag_events: i64 = lag.try_get("n")?;
        let lag_seconds: f64 = lag.try_get("age")?;
        let state = if rebuilding {
            "rebuilding"
        } else if row.is_none() {
            "new"
        } else if !led {
            "stalled"
        } else if last_error.is_some() {
            "failing"
        } else if lag_events > 0 {
            "catching_up"
        } else {
            "live"
        };
        out.push(ProjectionStatus {
            name: name.to_string(),
            state: state.to_string(),
            checkpoint: ConsistencyToken(checkpoint).to_string(),
            position: checkpoint.position,
            events_processed: processed,
            lag_events,
            lag_seconds,
            leader,
            leader_heartbeat_at: heartbeat,
            last_error,
        });
    }
    Ok(out)
}

/// Seconds the oldest transaction holding an xid has been open: how long the projection
/// horizon has been held back.
pub async fn horizon_age_seconds(pool: &PgPool) -> sqlx::Result<f64> {
    sqlx::query_scalar(
        "select coalesce(extract(epoch from now() - min(xact_start)), 0)::float8 \
         from pg_stat_activity where backend_xid is not null",
    )
    .fetch_one(pool)
    .await
}
