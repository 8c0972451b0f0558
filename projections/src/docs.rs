//! Read models that are one aggregate's view per row: the `doc` column holds the view, and
//! the few columns their lists filter and sort by sit beside it (`owner`, `listed`, `at`).
//! A new such read model is a table of [`COLUMNS`], a [`DocRow`] view and a [`DocState`]
//! aggregate; the fold and the writes are these.

use std::collections::HashMap;
use std::marker::PhantomData;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{CopyIn, Held, InFlight, Jsonb, RowFold, RowsWrite, Tables, Window, Write};

/// The columns of a doc table, in order.
pub const COLUMNS: &str = "id, owner, listed, at, version, doc";

/// A view kept as a row of a doc table.
pub trait DocRow: Serialize + DeserializeOwned + Send + Sync + 'static {
    fn id(&self) -> Uuid;
    /// Whose it is.
    fn owner(&self) -> &str;
    /// Whether lists show it (deleted ones stay as rows, unlisted).
    fn listed(&self) -> bool;
    /// What lists sort by, newest first.
    fn at(&self) -> DateTime<Utc>;
    fn version(&self) -> u64;
}

/// An aggregate whose state is its view.
pub trait DocState: Aggregate<View: DocRow> + Send + 'static {
    fn of_view(view: Self::View) -> Self;
}

/// The fold of `A`'s events into the rows of `table`.
pub struct DocFold<A> {
    window: Window<A>,
    table: &'static str,
}

impl<A> DocFold<A> {
    pub fn new(window: Window<A>, table: &'static str) -> Self {
        DocFold { window, table }
    }
}

#[async_trait]
impl<A: DocState> RowFold for DocFold<A> {
    type Aggregate = A;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, A::Event)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        self.window
            .fold_docs(
                conn,
                &tables.name(self.table),
                decoded,
                in_flight,
                |v: A::View| (v.id(), A::of_view(v)),
            )
            .await
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(DocWrite::<A> {
            held: self.window.take(keep, |a| a.view().is_some()),
            how,
            table: self.table,
            kind: PhantomData,
        })
    }
}

struct DocWrite<A> {
    held: HashMap<Uuid, Held<A>>,
    how: Write,
    table: &'static str,
    kind: PhantomData<A>,
}

#[async_trait]
impl<A: DocState> RowsWrite for DocWrite<A> {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let table = tables.name(self.table);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in self.held.values() {
            let Some(row) = state.view() else { continue };
            if self.how == Write::Copy && !stored {
                copies.push(row);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({COLUMNS}) values ($1, $2, $3, $4, $5, $6) \
                 on conflict (id) do update set owner = excluded.owner, \
                   listed = excluded.listed, at = excluded.at, version = excluded.version, \
                   doc = excluded.doc"
            ))
            .bind(row.id())
            .bind(row.owner())
            .bind(row.listed())
            .bind(row.at())
            .bind(row.version() as i64)
            .bind(Json(row))
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, COLUMNS).await?;
            for row in copies {
                copy.row(&[
                    &row.id(),
                    &row.owner(),
                    &row.listed(),
                    &row.at(),
                    &(row.version() as i64),
                    &Jsonb(row),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
