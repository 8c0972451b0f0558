//! Reads of `chat_sessions`: a user's chats, newest first, and one whole conversation.

use caseyos_domain::api::ChatSessionItem;
use caseyos_domain::chat::ChatSessionView;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// `owner`'s chats (not deleted), most recently changed first.
pub async fn list(pool: &PgPool, owner: &str, limit: i64) -> anyhow::Result<Vec<ChatSessionItem>> {
    let rows = sqlx::query(
        "select id, owner, title, messages, awaiting, created_at, updated_at from chat_sessions \
         where owner = $1 and not deleted order by updated_at desc, id limit $2",
    )
    .bind(owner)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ChatSessionItem {
                id: row.try_get("id")?,
                owner: row.try_get("owner")?,
                title: row.try_get("title")?,
                messages: u32::try_from(row.try_get::<i32, _>("messages")?).unwrap_or(0),
                awaiting: u32::try_from(row.try_get::<i32, _>("awaiting")?).unwrap_or(0),
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .collect()
}

/// One conversation, deleted or not.
pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<ChatSessionView>> {
    Ok(sqlx::query("select doc from chat_sessions where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|row| row.try_get::<Json<ChatSessionView>, _>("doc"))
        .transpose()?
        .map(|doc| doc.0))
}
