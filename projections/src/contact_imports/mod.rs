//! The contact imports read model — `contact_imports` (each import's status, counts and
//! first errors, and the running imports the import worker picks up) — its projector and
//! the queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::contact_import::{ContactImport, ContactImportEvent, ContactImportView};
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

const IMPORTS: &str = "contact_imports";

/// Writes `contact_imports`.
pub struct ContactImportsProjector;

impl RowProjector for ContactImportsProjector {
    const NAME: &'static str = "contact_imports";
    const TABLES: &'static [&'static str] = &[IMPORTS];
    type Held = ContactImport;
    type Fold = ImportsFold;

    fn fold_over(window: Window<ContactImport>) -> ImportsFold {
        ImportsFold { window }
    }
}

/// The one fold of import events into rows, for a live batch and for a rebuild alike.
pub struct ImportsFold {
    window: Window<ContactImport>,
}

#[async_trait]
impl RowFold for ImportsFold {
    type Aggregate = ContactImport;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, ContactImportEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            let table = tables.name(IMPORTS);
            for view in load_docs::<ContactImportView>(&mut *conn, &table, &missing).await? {
                self.window
                    .hold_stored(view.id, ContactImport { import: Some(view) });
            }
        }
        for (id, event) in decoded {
            caseyos_domain::aggregate::Aggregate::apply(self.window.state(id), event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(ImportsWrite {
            held: self.window.take(keep, |i| i.import.is_some()),
            how,
        })
    }
}

/// Imports taken out of the fold, and how to write them.
struct ImportsWrite {
    held: HashMap<Uuid, Held<ContactImport>>,
    how: Write,
}

#[async_trait]
impl RowsWrite for ImportsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let ImportsWrite { held, how } = *self;
        let table = tables.name(IMPORTS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(import) = &state.import else {
                continue;
            };
            let row = ImportRow::of(import);
            if how == Write::Copy && !stored {
                copies.push(row);
            } else {
                row.upsert(&mut *conn, &table).await?;
            }
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, IMPORT_COLUMNS).await?;
            for row in &copies {
                row.copy(&mut copy).await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}

/// The columns of `contact_imports` both writers fill, in [`ImportRow`]'s order.
const IMPORT_COLUMNS: &str =
    "id, status, started_by, started_at, finished_at, created_at, updated_at, version, doc";

/// One `contact_imports` row, as the live upsert and a rebuild's COPY both write it.
struct ImportRow<'a> {
    id: Uuid,
    status: &'static str,
    started_by: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// The row was created when the import started.
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    doc: &'a ContactImportView,
}

impl<'a> ImportRow<'a> {
    fn of(import: &'a ContactImportView) -> Self {
        ImportRow {
            id: import.id,
            status: import.status.as_str(),
            started_by: import.started_by.to_string(),
            started_at: import.started_at,
            finished_at: import.finished_at,
            created_at: import.started_at,
            updated_at: import.updated_at,
            version: import.version as i64,
            doc: import,
        }
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "insert into {table} ({IMPORT_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             on conflict (id) do update set status = excluded.status, \
               finished_at = excluded.finished_at, updated_at = excluded.updated_at, \
               version = excluded.version, doc = excluded.doc"
        ))
        .bind(self.id)
        .bind(self.status)
        .bind(&self.started_by)
        .bind(self.started_at)
        .bind(self.finished_at)
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
            &self.status,
            &self.started_by,
            &self.started_at,
            &self.finished_at,
            &self.created_at,
            &self.updated_at,
            &self.version,
            &Jsonb(self.doc),
        ])
        .await
    }
}
