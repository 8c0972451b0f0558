//! The CRM sync runs read model — `crm_sync_runs`, one row per run — its projector and the
//! queries behind sync health.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::crm_sync::{CrmSync, CrmSyncEvent, CrmSyncView};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const RUNS: &str = "crm_sync_runs";

/// Writes `crm_sync_runs`.
pub struct CrmSyncProjector;

impl RowProjector for CrmSyncProjector {
    const NAME: &'static str = "crm_sync";
    const TABLES: &'static [&'static str] = &[RUNS];
    type Held = CrmSync;
    type Fold = SyncFold;

    fn fold_over(window: Window<CrmSync>) -> SyncFold {
        SyncFold { window }
    }
}

/// The one fold of sync run events into rows, for a live batch and a rebuild alike.
pub struct SyncFold {
    window: Window<CrmSync>,
}

#[async_trait]
impl RowFold for SyncFold {
    type Aggregate = CrmSync;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, CrmSyncEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<CrmSyncView>(&mut *conn, &tables.name(RUNS), &missing).await? {
                self.window
                    .hold_stored(view.id, CrmSync { run: Some(view) });
            }
        }
        for (id, event) in decoded {
            use caseyos_domain::aggregate::Aggregate;
            self.window.state(id).apply(event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(SyncWrite {
            held: self.window.take(keep, |run| run.run.is_some()),
            how,
        })
    }
}

struct SyncWrite {
    held: HashMap<Uuid, Held<CrmSync>>,
    how: Write,
}

#[async_trait]
impl RowsWrite for SyncWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let SyncWrite { held, how } = *self;
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

/// The columns of `crm_sync_runs` both writers fill, in [`RunRow`]'s order.
const RUN_COLUMNS: &str = "id, object, status, from_at, to_at, next_from, watermark, \
     started_at, finished_at, calls, failed_calls, error_code, created_at, updated_at, \
     version, doc";

/// One `crm_sync_runs` row, as the live upsert and a rebuild's COPY both write it.
struct RunRow<'a> {
    id: Uuid,
    object: &'static str,
    status: &'static str,
    from_at: DateTime<Utc>,
    to_at: DateTime<Utc>,
    next_from: DateTime<Utc>,
    watermark: Option<DateTime<Utc>>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    calls: i64,
    failed_calls: i64,
    error_code: Option<&'a str>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    doc: &'a CrmSyncView,
}

impl<'a> RunRow<'a> {
    fn of(run: &'a CrmSyncView) -> Self {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        RunRow {
            id: run.id,
            object: run.object.as_str(),
            status: run.status.as_str(),
            from_at: run.from,
            to_at: run.to,
            next_from: run.next_from(),
            watermark: run.watermark,
            started_at: run.started_at,
            finished_at: run.finished_at,
            calls: count(run.calls),
            failed_calls: count(run.failed_calls),
            error_code: run.error.as_ref().map(|e| e.code.as_str()),
            created_at: run.started_at,
            updated_at: run.updated_at,
            version: count(run.version),
            doc: run,
        }
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "insert into {table} ({RUN_COLUMNS}) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             on conflict (id) do update set status = excluded.status, \
               next_from = excluded.next_from, watermark = excluded.watermark, \
               finished_at = excluded.finished_at, calls = excluded.calls, \
               failed_calls = excluded.failed_calls, error_code = excluded.error_code, \
               updated_at = excluded.updated_at, version = excluded.version, doc = excluded.doc"
        ))
        .bind(self.id)
        .bind(self.object)
        .bind(self.status)
        .bind(self.from_at)
        .bind(self.to_at)
        .bind(self.next_from)
        .bind(self.watermark)
        .bind(self.started_at)
        .bind(self.finished_at)
        .bind(self.calls)
        .bind(self.failed_calls)
        .bind(self.error_code)
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
            &self.object,
            &self.status,
            &self.from_at,
            &self.to_at,
            &self.next_from,
            &self.watermark,
            &self.started_at,
            &self.finished_at,
            &self.calls,
            &self.failed_calls,
            &self.error_code,
            &self.created_at,
            &self.updated_at,
            &self.version,
            &Jsonb(self.doc),
        ])
        .await
    }
}
