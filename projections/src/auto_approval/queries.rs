//! Queries over `auto_approval_rules` and `auto_approval_decisions`.

use caseyos_domain::auto_approval::{DecisionView, RuleView};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

fn rules(rows: Vec<sqlx::postgres::PgRow>) -> anyhow::Result<Vec<RuleView>> {
    rows.iter()
        .map(|row| Ok(row.try_get::<Json<RuleView>, _>("doc")?.0))
        .collect()
}

/// The rules that are not deleted, in the order they run (priority, then id); only the
/// enabled ones when `enabled_only`.
pub async fn rules_in_order(pool: &PgPool, enabled_only: bool) -> anyhow::Result<Vec<RuleView>> {
    let rows = sqlx::query(
        "select doc from auto_approval_rules where not archived and (enabled or not $1) \
         order by priority, id",
    )
    .bind(enabled_only)
    .fetch_all(pool)
    .await?;
    rules(rows)
}

/// One rule (deleted ones too).
pub async fn rule(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<RuleView>> {
    let rows = sqlx::query("select doc from auto_approval_rules where id = $1")
        .bind(id)
        .fetch_all(pool)
        .await?;
    Ok(rules(rows)?.into_iter().next())
}

/// Decisions, newest first: the move's (at most one) or all (at most `limit`).
pub async fn decisions(
    pool: &PgPool,
    item_id: Option<Uuid>,
    limit: i64,
) -> anyhow::Result<Vec<DecisionView>> {
    let rows = sqlx::query(
        "select doc from auto_approval_decisions where ($1::uuid is null or item_id = $1) \
         order by decided_at desc, id desc limit $2",
    )
    .bind(item_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<Json<DecisionView>, _>("doc")?.0))
        .collect()
}
