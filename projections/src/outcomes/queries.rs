//! Queries over `outcomes`.

use caseyos_domain::outcomes::learning::LearningTarget;
use caseyos_domain::outcomes::OutcomeView;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

fn docs(rows: Vec<sqlx::postgres::PgRow>) -> anyhow::Result<Vec<OutcomeView>> {
    rows.iter()
        .map(|row| Ok(row.try_get::<Json<OutcomeView>, _>("doc")?.0))
        .collect()
}

/// The outcomes since `since` that teach something about a move for `target`: its
/// contact's, its company's and its action type's (at most the 1,000 most recent).
pub async fn for_learning(
    pool: &PgPool,
    target: &LearningTarget,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<OutcomeView>> {
    let rows = sqlx::query(
        "select doc from outcomes where occurred_at > $1 and ( \
           (contact_id is not null and contact_id = $2) \
           or (email is not null and lower(email) = lower($3)) \
           or (company_domain is not null and company_domain = $4) \
           or (action_type is not null and action_type = $5)) \
         order by occurred_at desc limit 1000",
    )
    .bind(since)
    .bind(target.contact_id.as_deref())
    .bind(target.email.as_deref())
    .bind(target.company_domain.as_deref())
    .bind(target.action_type.map(|t| t.as_str()))
    .fetch_all(pool)
    .await?;
    docs(rows)
}

/// Which outcomes a list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutcomeFilter {
    pub item_id: Option<Uuid>,
    pub contact_id: Option<String>,
    pub email: Option<String>,
}

/// Outcomes, newest first (at most `limit`).
pub async fn list(
    pool: &PgPool,
    filter: &OutcomeFilter,
    limit: i64,
) -> anyhow::Result<Vec<OutcomeView>> {
    let rows = sqlx::query(
        "select doc from outcomes where ($1::uuid is null or item_id = $1) \
           and ($2::text is null or contact_id = $2) \
           and ($3::text is null or lower(email) = lower($3)) \
         order by occurred_at desc, id desc limit $4",
    )
    .bind(filter.item_id)
    .bind(filter.contact_id.as_deref())
    .bind(filter.email.as_deref())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    docs(rows)
}

/// What auto-approval knows of an address from its outcomes: the last `email_replied`, and
/// the first bounce or unsubscribe recorded (its type), if any.
pub async fn reply_and_bad_outcome(
    pool: &PgPool,
    email: &str,
) -> anyhow::Result<(Option<DateTime<Utc>>, Option<String>)> {
    let row = sqlx::query(
        "select max(occurred_at) filter (where outcome_type = 'email_replied') as last_reply, \
                min(outcome_type) filter (where outcome_type in ('email_bounced', 'email_unsubscribed')) as bad \
         from outcomes where email is not null and lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("last_reply")?, row.try_get("bad")?))
}
