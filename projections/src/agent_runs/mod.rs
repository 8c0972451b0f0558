//! The agent runs read model — `agent_runs` (history, filters, the Agents page's recent
//! runs, the quick-stats numbers, and the work the workers pick up) — its projector and
//! the queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::agent_run::{AgentRun, AgentRunEvent, AgentRunView};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use caseyos_domain::aggregate::Aggregate;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const RUNS: &str = "agent_runs";

/// Writes `agent_runs`.
pub struct AgentRunsProjector;

impl RowProjector for AgentRunsProjector {
    const NAME: &'static str = "agent_runs";
    const TABLES: &'static [&'static str] = &[RUNS];
    type Held = AgentRun;
    type Fold = RunsFold;

    fn fold_over(window: Window<AgentRun>) -> RunsFold {
        RunsFold { window }
    }
}

/// The one fold of agent run events into rows, for a live batch and for a rebuild alike.
pub struct RunsFold {
    window: Window<AgentRun>,
}

#[async_trait]
impl RowFold for RunsFold {
    type Aggregate = AgentRun;

    /// Reads the rows these events change — the runs, and the originals of retries they
    /// request — and folds the events into them.
    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, AgentRunEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let touched = decoded.iter().flat_map(|(id, event)| {
            let original = match event {
                AgentRunEvent::AgentRunRequested(e) => e.retry_of,
                _ => None,
            };
            std::iter::once(*id).chain(original)
        });
        let missing = self.window.missing(touched);
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<AgentRunView>(&mut *conn, &tables.name(RUNS), &missing).await? {
                self.window
                    .hold_stored(view.id, AgentRun { run: Some(view) });
            }
        }
        for (id, event) in decoded {
            let retry = match &event {
                AgentRunEvent::AgentRunRequested(e) => e.retry_of,
                _ => None,
            };
            self.window.state(id).apply(event);
            // `retried_by` lives only in the read model, filled from the retries' requests.
            if let Some(original) = retry.and_then(|o| self.window.get_mut(&o)) {
                if let Some(run) = original.run.as_mut() {
                    if !run.retried_by.contains(&id) {
                        run.retried_by.push(id);
                    }
                }
            }
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(RunsWrite {
            held: self.window.take(keep, |run| run.run.is_some()),
            how,
        })
    }
}

/// Runs taken out of the fold, and how to write them.
struct RunsWrite {
    held: HashMap<Uuid, Held<AgentRun>>,
    how: Write,
}

#[async_trait]
impl RowsWrite for RunsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let RunsWrite { held, how } = *self;
        let runs = tables.name(RUNS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(run) = &state.run else { continue };
            let row = RunRow::of(run);
            if how == Write::Copy && !stored {
                copies.push(row);
            } else {
                row.upsert(&mut *conn, &runs).await?;
            }
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &runs, RUN_COLUMNS).await?;
            for row in &copies {
                row.copy(&mut copy).await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}

/// The columns of `agent_runs` both writers fill, in [`RunRow`]'s order.
const RUN_COLUMNS: &str = "id, agent, domain, status, trigger, requested_by, requested_at, \
     started_at, finished_at, duration_ms, attempts, error_code, retry_of, dismissed, \
     created_at, updated_at, version, doc";

/// One `agent_runs` row, as the live upsert and a rebuild's COPY both write it.
struct RunRow<'a> {
    id: Uuid,
    agent: &'a str,
    domain: &'static str,
    status: &'static str,
    trigger: &'static str,
    requested_by: String,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    duration_ms: Option<i64>,
    attempts: i32,
    error_code: Option<&'a str>,
    retry_of: Option<Uuid>,
    dismissed: bool,
    /// The row was created when the run was requested.
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    doc: &'a AgentRunView,
}

impl<'a> RunRow<'a> {
    fn of(run: &'a AgentRunView) -> Self {
        RunRow {
            id: run.id,
            agent: &run.agent,
            domain: run.domain.as_str(),
            status: run.status.as_str(),
            trigger: run.trigger.as_str(),
            requested_by: run.requested_by.to_string(),
            requested_at: run.requested_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            duration_ms: run.duration_ms.map(|d| d as i64),
            attempts: run.attempts.len() as i32,
            error_code: run.error.as_ref().map(|e| e.code.as_str()),
            retry_of: run.retry_of,
            dismissed: run.dismissed_at.is_some(),
            created_at: run.requested_at,
            updated_at: run.updated_at,
            version: run.version as i64,
            doc: run,
        }
    }

    /// Inserts the row, or updates what can change after a run is requested.
    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "insert into {table} ({RUN_COLUMNS}) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             on conflict (id) do update set status = excluded.status, \
               started_at = excluded.started_at, finished_at = excluded.finished_at, \
               duration_ms = excluded.duration_ms, attempts = excluded.attempts, \
               error_code = excluded.error_code, dismissed = excluded.dismissed, \
               updated_at = excluded.updated_at, version = excluded.version, doc = excluded.doc"
        ))
        .bind(self.id)
        .bind(self.agent)
        .bind(self.domain)
        .bind(self.status)
        .bind(self.trigger)
        .bind(&self.requested_by)
        .bind(self.requested_at)
        .bind(self.started_at)
        .bind(self.finished_at)
        .bind(self.duration_ms)
        .bind(self.attempts)
        .bind(self.error_code)
        .bind(self.retry_of)
        .bind(self.dismissed)
        .bind(self.created_at)
        .bind(self.updated_at)
        .bind(self.version)
        .bind(Json(self.doc))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn copy(&self, copy: &mut CopyIn<'_>) -> anyhow::Result<()> {
        copy.row(&[
            &self.id,
            &self.agent,
            &self.domain,
            &self.status,
            &self.trigger,
            &self.requested_by,
            &self.requested_at,
            &self.started_at,
            &self.finished_at,
            &self.duration_ms,
            &self.attempts,
            &self.error_code,
            &self.retry_of,
            &self.dismissed,
            &self.created_at,
            &self.updated_at,
            &self.version,
            &Jsonb(self.doc),
        ])
        .await
    }
}
