//! The executions read model — `executions` (one row per approved move's execution: its
//! status, effect, recipients and when it sent or failed) — its projector and the queries
//! that read it: an execution, a move's execution, lists, the guardrails' send counts and
//! the blocks whose time to retry has come.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::executions::{
    ActionExecution, Effect, ExecutionEvent, ExecutionStatus, ExecutionView,
};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window, Write,
};

mod queries;

pub use queries::*;

const EXECUTIONS: &str = "executions";

/// Writes `executions`.
pub struct ExecutionsProjector;

impl RowProjector for ExecutionsProjector {
    const NAME: &'static str = "executions";
    const TABLES: &'static [&'static str] = &[EXECUTIONS];
    type Held = ActionExecution;
    type Fold = ExecutionsFold;

    fn fold_over(window: Window<ActionExecution>) -> ExecutionsFold {
        ExecutionsFold { window }
    }
}

/// The one fold of execution events into rows, live and in a rebuild.
pub struct ExecutionsFold {
    window: Window<ActionExecution>,
}

#[async_trait]
impl RowFold for ExecutionsFold {
    type Aggregate = ActionExecution;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, ExecutionEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        self.window
            .fold_docs(
                conn,
                &tables.name(EXECUTIONS),
                decoded,
                in_flight,
                |v: ExecutionView| (v.id, ActionExecution { execution: Some(v) }),
            )
            .await
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(ExecutionsWrite {
            held: self.window.take(keep, |e| e.execution.is_some()),
            how,
        })
    }
}

struct ExecutionsWrite {
    held: HashMap<Uuid, Held<ActionExecution>>,
    how: Write,
}

/// The columns both writers fill, in [`Row::of`]'s order.
const COLUMNS: &str = "id, item_id, action_type, status, effect, owner, recipients, sent_at, \
                       send_failed_at, retry_at, requested_at, doc, updated_at, version";

/// The typed columns of one execution.
struct Row<'a> {
    view: &'a ExecutionView,
    effect: Option<&'static str>,
    recipients: Vec<String>,
    /// When it sent an email (the guardrails' counts).
    sent_at: Option<DateTime<Utc>>,
    /// When its email send failed (the circuit breaker).
    send_failed_at: Option<DateTime<Utc>>,
    retry_at: Option<DateTime<Utc>>,
}

impl<'a> Row<'a> {
    fn of(view: &'a ExecutionView) -> Self {
        let sending = view.effect == Some(Effect::EmailSent);
        let sent = matches!(
            view.status,
            ExecutionStatus::Succeeded | ExecutionStatus::RolledBack
        );
        Row {
            view,
            effect: view.effect.map(Effect::as_str),
            recipients: view
                .plan
                .as_ref()
                .map(|p| p.recipients())
                .unwrap_or_default(),
            sent_at: (sending && sent).then_some(view.finished_at).flatten(),
            send_failed_at: (sending && view.status == ExecutionStatus::Failed)
                .then_some(view.finished_at)
                .flatten(),
            retry_at: (view.status == ExecutionStatus::Blocked)
                .then(|| view.blocked.as_ref().and_then(|b| b.retry_at))
                .flatten(),
        }
    }
}

#[async_trait]
impl RowsWrite for ExecutionsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let ExecutionsWrite { held, how } = *self;
        let table = tables.name(EXECUTIONS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(view) = &state.execution else {
                continue;
            };
            let row = Row::of(view);
            if how == Write::Copy && !stored {
                copies.push(row);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({COLUMNS}) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 on conflict (id) do update set status = excluded.status, \
                   effect = excluded.effect, sent_at = excluded.sent_at, \
                   send_failed_at = excluded.send_failed_at, retry_at = excluded.retry_at, \
                   doc = excluded.doc, updated_at = excluded.updated_at, \
                   version = excluded.version"
            ))
            .bind(view.id)
            .bind(view.item_id)
            .bind(view.action_type.as_str())
            .bind(view.status.as_str())
            .bind(row.effect)
            .bind(&view.owner)
            .bind(&row.recipients)
            .bind(row.sent_at)
            .bind(row.send_failed_at)
            .bind(row.retry_at)
            .bind(view.requested_at)
            .bind(Json(view))
            .bind(view.updated_at)
            .bind(view.version as i64)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, COLUMNS).await?;
            for row in copies {
                let view = row.view;
                copy.row(&[
                    &view.id,
                    &view.item_id,
                    &view.action_type.as_str(),
                    &view.status.as_str(),
                    &row.effect,
                    &view.owner,
                    &row.recipients,
                    &row.sent_at,
                    &row.send_failed_at,
                    &row.retry_at,
                    &view.requested_at,
                    &Jsonb(view),
                    &view.updated_at,
                    &(view.version as i64),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
