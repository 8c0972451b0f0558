//! Queries over `contact_imports`: one import.

use caseyos_domain::contact_import::ContactImportView;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The import with this id, as its events left it.
pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<ContactImportView>> {
    let row = sqlx::query("select doc from contact_imports where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<ContactImportView>, _>("doc")?.0),
        None => None,
    })
}

/// Running imports, the longest running first (what the import worker picks up).
pub async fn running(pool: &PgPool, limit: i64) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from contact_imports where status = 'running' order by started_at limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
