//! Reading sync runs: the last runs of an object, and the sync's health at an instant
//! (the summary and the last hour's calls, judged by the domain's one rule).

use caseyos_domain::api::{SyncErrorView, SyncHealth, SyncRunRef};
use caseyos_domain::crm_sync::{
    failure_rate, sync_status, CrmSyncView, SyncObject, SyncThresholds, CALLS_WINDOW_SECS,
};
use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The last `limit` runs of `object`, newest first.
pub async fn recent_runs(
    pool: &PgPool,
    object: SyncObject,
    limit: i64,
) -> anyhow::Result<Vec<CrmSyncView>> {
    sqlx::query(
        "select doc from crm_sync_runs where object = $1 \
         order by started_at desc, id desc limit $2",
    )
    .bind(object.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok(row.try_get::<Json<CrmSyncView>, _>("doc")?.0))
    .collect()
}

/// The contacts sync's health at `now`; `connected` says whether HubSpot is configured
/// (the read model cannot know). The last hour's calls are those the runs recorded with an
/// instant in `(now - 1 h, now]`.
pub async fn sync_health(
    pool: &PgPool,
    now: DateTime<Utc>,
    connected: bool,
) -> anyhow::Result<SyncHealth> {
    let since = now - Duration::seconds(CALLS_WINDOW_SECS);
    let row = sqlx::query(
        "select \
           (select started_at from crm_sync_runs where object = $1 \
             order by started_at desc, id desc limit 1) as last_started_at, \
           good.id as good_id, good.finished_at as good_at, good.watermark, \
           bad.id as bad_id, bad.finished_at as bad_at, bad.code, bad.message, bad.retryable, \
           calls.calls, calls.failed_calls \
         from (select 1) as one \
         left join lateral (select id, finished_at, watermark from crm_sync_runs \
             where object = $1 and status = 'completed' \
             order by finished_at desc, id desc limit 1) as good on true \
         left join lateral (select id, finished_at, doc->'error'->>'code' as code, \
               doc->'error'->>'message' as message, \
               (doc->'error'->>'retryable')::boolean as retryable \
             from crm_sync_runs where object = $1 and status = 'failed' \
             order by finished_at desc, id desc limit 1) as bad on true \
         cross join lateral (select \
               coalesce(sum((tick->>'calls')::bigint), 0)::bigint as calls, \
               coalesce(sum((tick->>'failed_calls')::bigint), 0)::bigint as failed_calls \
             from crm_sync_runs as run \
             cross join lateral jsonb_array_elements(run.doc->'call_log') as tick \
             where run.object = $1 and run.updated_at > $2 \
               and (tick->>'at')::timestamptz > $2 and (tick->>'at')::timestamptz <= $3) \
           as calls",
    )
    .bind(SyncObject::Contacts.as_str())
    .bind(since)
    .bind(now)
    .fetch_one(pool)
    .await?;
    let count = |name: &str| -> anyhow::Result<u64> {
        Ok(u64::try_from(row.try_get::<i64, _>(name)?.max(0))?)
    };
    let calls = count("calls")?;
    let failed_calls = count("failed_calls")?;
    let last_good_sync = match (
        row.try_get::<Option<Uuid>, _>("good_id")?,
        row.try_get::<Option<DateTime<Utc>>, _>("good_at")?,
    ) {
        (Some(id), Some(at)) => Some(SyncRunRef { id, at }),
        _ => None,
    };
    let last_error = match (
        row.try_get::<Option<Uuid>, _>("bad_id")?,
        row.try_get::<Option<DateTime<Utc>>, _>("bad_at")?,
    ) {
        (Some(run_id), Some(at)) => Some(SyncErrorView {
            run_id,
            at,
            code: row
                .try_get::<Option<String>, _>("code")?
                .unwrap_or_default(),
            message: row
                .try_get::<Option<String>, _>("message")?
                .unwrap_or_default(),
            retryable: row
                .try_get::<Option<bool>, _>("retryable")?
                .unwrap_or(false),
        }),
        _ => None,
    };
    let seconds_since_last_good_sync = last_good_sync.map(|good| (now - good.at).num_seconds());
    Ok(SyncHealth {
        connected,
        status: sync_status(connected, seconds_since_last_good_sync, calls, failed_calls),
        seconds_since_last_good_sync,
        last_good_sync,
        last_started_at: row.try_get("last_started_at")?,
        calls_last_hour: calls,
        failed_calls_last_hour: failed_calls,
        failure_rate: failure_rate(calls, failed_calls),
        last_error,
        watermark: row.try_get("watermark")?,
        thresholds: SyncThresholds::RULES,
    })
}
