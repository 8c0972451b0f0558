//! The chat sessions' read model — `chat_sessions` (one row per conversation: its owner,
//! title, counts and the whole conversation as `doc`) — and the queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::chat::{ChatEvent, ChatSession, ChatSessionView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window, Write,
};

mod queries;

pub use queries::*;

const SESSIONS: &str = "chat_sessions";

/// Writes `chat_sessions`.
pub struct ChatSessionsProjector;

impl RowProjector for ChatSessionsProjector {
    const NAME: &'static str = "chat_sessions";
    const TABLES: &'static [&'static str] = &[SESSIONS];
    type Held = ChatSession;
    type Fold = ChatSessionsFold;

    fn fold_over(window: Window<ChatSession>) -> ChatSessionsFold {
        ChatSessionsFold { window }
    }
}

/// The one fold of chat events into rows, live and in a rebuild.
pub struct ChatSessionsFold {
    window: Window<ChatSession>,
}

#[async_trait]
impl RowFold for ChatSessionsFold {
    type Aggregate = ChatSession;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, ChatEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        self.window
            .fold_docs(
                conn,
                &tables.name(SESSIONS),
                decoded,
                in_flight,
                |v: ChatSessionView| (v.id, ChatSession { session: Some(v) }),
            )
            .await
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(ChatSessionsWrite {
            held: self.window.take(keep, |c| c.session.is_some()),
            how,
        })
    }
}

struct ChatSessionsWrite {
    held: HashMap<Uuid, Held<ChatSession>>,
    how: Write,
}

/// The columns both writers fill.
const COLUMNS: &str =
    "id, owner, title, deleted, messages, awaiting, created_at, updated_at, version, doc";

/// A count as the table keeps it.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[async_trait]
impl RowsWrite for ChatSessionsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let ChatSessionsWrite { held, how } = *self;
        let table = tables.name(SESSIONS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(c) = &state.session else { continue };
            if how == Write::Copy && !stored {
                copies.push(c);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({COLUMNS}) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 on conflict (id) do update set title = excluded.title, \
                   deleted = excluded.deleted, messages = excluded.messages, \
                   awaiting = excluded.awaiting, updated_at = excluded.updated_at, \
                   version = excluded.version, doc = excluded.doc"
            ))
            .bind(c.id)
            .bind(&c.owner)
            .bind(&c.title)
            .bind(c.deleted)
            .bind(count(c.messages.len()))
            .bind(count(c.awaiting().count()))
            .bind(c.created_at)
            .bind(c.updated_at)
            .bind(c.version as i64)
            .bind(Json(c))
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, COLUMNS).await?;
            for c in copies {
                copy.row(&[
                    &c.id,
                    &c.owner,
                    &c.title,
                    &c.deleted,
                    &count(c.messages.len()),
                    &count(c.awaiting().count()),
                    &c.created_at,
                    &c.updated_at,
                    &(c.version as i64),
                    &Jsonb(c),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
