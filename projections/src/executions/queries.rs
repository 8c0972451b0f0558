//! Queries over `executions`.

use caseyos_domain::executions::guardrails::SendStats;
use caseyos_domain::executions::{ExecutionStatus, ExecutionView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::cursor;

fn doc(row: &sqlx::postgres::PgRow) -> anyhow::Result<ExecutionView> {
    Ok(row.try_get::<Json<ExecutionView>, _>("doc")?.0)
}

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<ExecutionView>> {
    sqlx::query("select doc from executions where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(doc)
        .transpose()
}

/// The execution of a move, if it was approved.
pub async fn of_item(pool: &PgPool, item_id: Uuid) -> anyhow::Result<Option<ExecutionView>> {
    sqlx::query("select doc from executions where item_id = $1")
        .bind(item_id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(doc)
        .transpose()
}

/// Which executions a list shows (empty: any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecutionFilter {
    pub statuses: Vec<ExecutionStatus>,
    pub owner: Option<String>,
}

/// Where the next page starts: the last row's `(requested_at, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionCursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl ExecutionCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str) -> Option<ExecutionCursor> {
        let decoded: ExecutionCursor = cursor::decode(raw)?;
        cursor::instant(decoded.at)?;
        Some(decoded)
    }
}

/// A page, newest first, and the cursor of the next one.
pub async fn list(
    pool: &PgPool,
    filter: &ExecutionFilter,
    after: Option<&ExecutionCursor>,
    limit: i64,
) -> anyhow::Result<(Vec<ExecutionView>, Option<String>)> {
    let mut q =
        QueryBuilder::<Postgres>::new("select doc, requested_at, id from executions where true");
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        q.push(" and status = any(").push_bind(statuses).push(")");
    }
    if let Some(owner) = &filter.owner {
        q.push(" and owner = ").push_bind(owner.clone());
    }
    if let Some(after) = after {
        q.push(" and (requested_at, id) < (")
            .push_bind(after.at)
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    q.push(" order by requested_at desc, id desc limit ")
        .push_bind(limit + 1);
    let rows = q.build().fetch_all(pool).await?;
    let more = rows.len() as i64 > limit;
    let mut views = Vec::new();
    let mut next = None;
    for row in rows.iter().take(limit as usize) {
        views.push(doc(row)?);
        if more {
            next = Some(
                ExecutionCursor {
                    at: row.try_get("requested_at")?,
                    id: row.try_get("id")?,
                }
                .encode(),
            );
        }
    }
    Ok((views, next))
}

/// What the guardrails count for an email to `recipients` at `now`: each recipient's sends
/// in the last 7 days, the sends since `day_start`, and the sends and failed sends since
/// `window_start`. `except` is the execution being decided.
pub async fn send_stats(
    pool: &PgPool,
    recipients: &[String],
    now: DateTime<Utc>,
    day_start: DateTime<Utc>,
    window_start: DateTime<Utc>,
    except: Uuid,
) -> anyhow::Result<SendStats> {
    let week_ago = now - chrono::Duration::days(7);
    let rows = sqlx::query(
        "select r as recipient, array_agg(sent_at order by sent_at) as sends \
         from executions, unnest(recipients) as r \
         where sent_at > $1 and r = any($2) and id <> $3 group by r order by r",
    )
    .bind(week_ago)
    .bind(recipients)
    .bind(except)
    .fetch_all(pool)
    .await?;
    let recipient_sends = rows
        .iter()
        .map(|row| Ok((row.try_get("recipient")?, row.try_get("sends")?)))
        .collect::<anyhow::Result<Vec<(String, Vec<DateTime<Utc>>)>>>()?;
    let row = sqlx::query(
        "select count(*) filter (where sent_at >= $1) as today, \
                count(*) filter (where sent_at >= $2) as window_sent, \
                count(*) filter (where send_failed_at >= $2) as window_failed \
         from executions where (sent_at >= least($1, $2) or send_failed_at >= $2) and id <> $3",
    )
    .bind(day_start)
    .bind(window_start)
    .bind(except)
    .fetch_one(pool)
    .await?;
    let count = |name: &str| -> anyhow::Result<u32> { Ok(row.try_get::<i64, _>(name)? as u32) };
    let (sent, failed) = (count("window_sent")?, count("window_failed")?);
    Ok(SendStats {
        recipient_sends,
        sent_today: count("today")?,
        window_sends: sent + failed,
        window_failures: failed,
    })
}

/// Blocked executions whose `retry_at` has come.
pub async fn due_retries(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from executions where status = 'blocked' and retry_at <= $1 \
         order by retry_at, id limit 100",
    )
    .bind(now)
    .fetch_all(pool)
    .await?)
}

/// How many executions sent an email to `recipient` (ever).
pub async fn sends_to(pool: &PgPool, recipient: &str) -> anyhow::Result<u32> {
    let count: i64 = sqlx::query_scalar(
        "select count(*) from executions where sent_at is not null \
         and exists (select 1 from unnest(recipients) as r where lower(r) = lower($1))",
    )
    .bind(recipient)
    .fetch_one(pool)
    .await?;
    Ok(count as u32)
}

/// The latest execution that sent (or drafted) an email in this Gmail thread: what a reply
/// or a bounce in the thread answers when its headers do not name our `Message-ID`.
pub async fn email_of_gmail_thread(pool: &PgPool, thread_id: &str) -> anyhow::Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from executions where effect in ('email_sent', 'draft_created') \
           and doc -> 'provider_ids' ->> 'gmail_thread_id' = $1 \
         order by requested_at desc, id desc limit 1",
    )
    .bind(thread_id)
    .fetch_optional(pool)
    .await?)
}

/// Succeeded executions that put an event in the calendar (`meeting_booked`,
/// `meeting_held`), requested since `since`, newest first, at most `limit`.
pub async fn calendar_events_since(
    pool: &PgPool,
    since: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<ExecutionView>> {
    sqlx::query(
        "select doc from executions where status = 'succeeded' \
           and effect in ('meeting_booked', 'meeting_held') and requested_at >= $1 \
           and doc -> 'provider_ids' ? 'calendar_event_id' \
         order by requested_at desc, id desc limit $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(doc)
    .collect()
}
