//! What a projector is: a named fold of events into tables it alone writes.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_store::event::{LogEvent, Recorded};
use caseyos_store::StoredEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::encode::IsNull;
use sqlx::postgres::{PgArgumentBuffer, PgCopyIn};
use sqlx::types::Json;
use sqlx::{Encode, PgConnection, Postgres, Row};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Physical names of a projector's tables: the live ones, or a rebuild's shadow copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    suffix: &'static str,
}

impl Tables {
    /// The live tables queries read.
    pub const LIVE: Tables = Tables { suffix: "" };
    /// The shadow tables a rebuild fills beside the live ones.
    pub const REBUILD: Tables = Tables {
        suffix: "__rebuild",
    };
    /// Where live tables go for the moment of a switch-over.
    pub const RETIRED: Tables = Tables {
        suffix: "__retired",
    };

    /// The physical name of one of the projector's tables.
    pub fn name(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }
}

/// A read model's writer. `apply` receives events in global order, inside the transaction
/// that also advances the projector's checkpoint.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Stable name, used for the checkpoint and on the CLI.
    fn name(&self) -> &'static str;

    /// The live tables this projector owns (created by migrations).
    fn tables(&self) -> &'static [&'static str];

    /// Folds a batch of events (any aggregate types; ignore the foreign ones).
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()>;

    /// A fold of many batches in memory for a rebuild, its new rows written with COPY;
    /// `fresh` when the shadow tables start empty (not a resumed rebuild). `None` (the
    /// default): a rebuild applies batches through [`Projector::apply`].
    fn fold(&self, _fresh: bool) -> Option<Box<dyn Fold>> {
        None
    }
}

/// A projector's fold of many batches held in memory: what a rebuild uses instead of
/// [`Projector::apply`], with the same fold and the same rows.
#[async_trait]
pub trait Fold: Send {
    /// Folds events (in global order; any aggregate types) into the rows held in memory,
    /// first reading from `tables` the rows they change that an earlier write wrote (after
    /// waiting for a write `in_flight`, whose rows cannot be read before it commits).
    async fn apply(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[LogEvent],
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()>;

    /// How many rows it holds.
    fn held(&self) -> usize;

    /// Takes out the rows it holds but the `keep` it changed last, as their write: rows new
    /// to the tables with COPY, rows read back from them as the live path writes them.
    fn take(&mut self, keep: usize) -> Box<dyn RowsWrite>;
}

/// Rows taken out of a fold, ready to be written.
#[async_trait]
pub trait RowsWrite: Send {
    async fn write(self: Box<Self>, conn: &mut PgConnection, tables: &Tables)
        -> anyhow::Result<()>;
}

/// The write of a fold's rows still running beside the fold (a rebuild folds on while
/// PostgreSQL stores what it took out); its rows are read only once it has committed.
#[derive(Default)]
pub struct InFlight(Option<JoinHandle<anyhow::Result<()>>>);

impl InFlight {
    /// Waits for the write in flight, if any, and returns its outcome.
    pub async fn settle(&mut self) -> anyhow::Result<()> {
        match self.0.take() {
            Some(write) => write.await?,
            None => Ok(()),
        }
    }

    /// Waits for the write in flight, then lets `write` run in the background.
    pub async fn start(
        &mut self,
        write: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.settle().await?;
        self.0 = Some(tokio::spawn(write));
        Ok(())
    }
}

impl Drop for InFlight {
    /// A write nobody waits for any more (the fold failed) stops and rolls back.
    fn drop(&mut self) {
        if let Some(write) = self.0.take() {
            write.abort();
        }
    }
}

/// One read model's fold of its aggregate's events into rows held in a [`Window`], written
/// once per read model: [`apply_batch`] runs it for a live batch, [`fold_of`] makes it a
/// rebuild's [`Fold`].
#[async_trait]
pub trait RowFold: Send + 'static {
    type Aggregate: Aggregate;

    /// Reads the rows these events change that `tables` may hold (after the write in
    /// flight, if any) and folds the events into them.
    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, <Self::Aggregate as Aggregate>::Event)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()>;

    /// How many rows it holds.
    fn held(&self) -> usize;

    /// Takes out the rows it holds but the `keep` changed last, to be written `how`.
    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite>;
}

/// A read model that is one [`RowFold`] over a [`Window`]: its name and tables are its own,
/// the rest of its [`Projector`] (a live batch over a live window, a rebuild over a
/// rebuild's window) is the same for all such read models.
pub trait RowProjector: Send + Sync + 'static {
    /// The projector's name (its checkpoint's).
    const NAME: &'static str;
    /// The tables it writes.
    const TABLES: &'static [&'static str];
    /// What each row is while held.
    type Held: Default + Send + 'static;
    /// The fold of its events into rows.
    type Fold: RowFold;

    /// The fold over `window`.
    fn fold_over(window: Window<Self::Held>) -> Self::Fold;
}

#[async_trait]
impl<P: RowProjector> Projector for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        P::TABLES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        apply_batch(P::fold_over(Window::live()), conn, tables, events).await
    }

    fn fold(&self, fresh: bool) -> Option<Box<dyn Fold>> {
        fold_of(P::fold_over(Window::rebuild(fresh)))
    }
}

/// Applies one live batch with a fold over a live window: reads the rows the batch
/// changes, folds, upserts them.
pub async fn apply_batch<F: RowFold>(
    mut fold: F,
    conn: &mut PgConnection,
    tables: &Tables,
    events: &[StoredEvent],
) -> anyhow::Result<()> {
    let decoded = decode_batch::<F::Aggregate>(events)?;
    if decoded.is_empty() {
        return Ok(());
    }
    fold.fold(conn, tables, decoded, &mut InFlight::default())
        .await?;
    fold.take(0, Write::Upsert).write(conn, tables).await
}

/// A fold over a rebuild's window, as the [`Fold`] a rebuild runs.
pub fn fold_of<F: RowFold>(fold: F) -> Option<Box<dyn Fold>> {
    Some(Box::new(Folding(fold)))
}

struct Folding<F>(F);

#[async_trait]
impl<F: RowFold> Fold for Folding<F> {
    async fn apply(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[LogEvent],
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let decoded = decode_batch::<F::Aggregate>(events)?;
        self.0.fold(conn, tables, decoded, in_flight).await
    }

    fn held(&self) -> usize {
        self.0.held()
    }

    fn take(&mut self, keep: usize) -> Box<dyn RowsWrite> {
        self.0.take(keep, Write::Copy)
    }
}

/// How a fold writes the rows it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// Every row with an upsert (a live batch).
    Upsert,
    /// Rows new to the table with COPY, the others with an upsert (a rebuild).
    Copy,
}

/// One row a fold holds: its state, whether the table already has the row, and when the
/// fold last changed it (a count of changes).
#[derive(Debug, Default)]
pub struct Held<S> {
    pub state: S,
    pub stored: bool,
    changed: u64,
}

/// The rows a fold holds in memory, by id. A live batch holds the rows it touches, each
/// read from the table first; a rebuild holds many batches' rows until it flushes them,
/// and reads back only those an earlier flush wrote.
pub struct Window<S> {
    held: HashMap<Uuid, Held<S>>,
    /// Changes made so far (what `Held::changed` counts).
    changes: u64,
    /// Ids whose rows the table has and the window does not hold; `None` when that is not
    /// known, so every row not held is looked for in the table.
    stored: Option<HashSet<Uuid>>,
}

impl<S: Default> Window<S> {
    /// One live batch's window: any row may be in the table.
    pub fn live() -> Self {
        Window {
            held: HashMap::new(),
            changes: 0,
            stored: None,
        }
    }

    /// A rebuild's window: over empty tables when `fresh`, else over what an interrupted
    /// rebuild left.
    pub fn rebuild(fresh: bool) -> Self {
        Window {
            held: HashMap::new(),
            changes: 0,
            stored: fresh.then(HashSet::new),
        }
    }

    /// Of `ids`, those to read from the table before folding (sorted, once each): not
    /// held, and perhaps in the table.
    pub fn missing(&self, ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
        let mut missing: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| !self.held.contains_key(id))
            .filter(|id| self.stored.as_ref().is_none_or(|s| s.contains(id)))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Holds a row read from the table.
    pub fn hold_stored(&mut self, id: Uuid, state: S) {
        self.held.insert(
            id,
            Held {
                state,
                stored: true,
                changed: self.changes,
            },
        );
    }

    /// The state of a row, to change, held from now on (a new row when neither held nor
    /// read).
    pub fn state(&mut self, id: Uuid) -> &mut S {
        self.changes += 1;
        let held = self.held.entry(id).or_default();
        held.changed = self.changes;
        &mut held.state
    }

    /// The state of a row, to change, if held.
    pub fn get_mut(&mut self, id: &Uuid) -> Option<&mut S> {
        self.changes += 1;
        let held = self.held.get_mut(id)?;
        held.changed = self.changes;
        Some(&mut held.state)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Takes the held rows out to write them, but the `keep` changed last (a rebuild keeps
    /// what is likely to change again: a move proposed lately and decided soon); `written`
    /// says which ones the table has afterwards.
    pub fn take(&mut self, keep: usize, written: impl Fn(&S) -> bool) -> HashMap<Uuid, Held<S>> {
        let held = if keep == 0 || self.held.len() <= keep {
            if keep == 0 {
                std::mem::take(&mut self.held)
            } else {
                HashMap::new()
            }
        } else {
            let mut changed: Vec<u64> = self.held.values().map(|h| h.changed).collect();
            let cut = changed.len() - keep;
            let (_, &mut oldest_kept, _) = changed.select_nth_unstable(cut);
            self.held
                .extract_if(|_, h| h.changed < oldest_kept)
                .collect()
        };
        if let Some(stored) = self.stored.as_mut() {
            stored.extend(
                held.iter()
                    .filter(|(_, h)| written(&h.state))
                    .map(|(id, _)| *id),
            );
        }
        held
    }
}

/// A `COPY <table> (<columns>) from stdin (format binary)` in progress: each value is
/// encoded by sqlx exactly as it is when bound to a query, so a copied row and an
/// inserted one hold the same bytes.
pub struct CopyIn<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buffer: PgArgumentBuffer,
    rows: u64,
}

/// Bytes sent to the server at a time.
const COPY_SEND_BYTES: usize = 1 << 20;

impl<'c> CopyIn<'c> {
    pub async fn start(
        conn: &'c mut PgConnection,
        table: &str,
        columns: &str,
    ) -> anyhow::Result<CopyIn<'c>> {
        let copy = conn
            .copy_in_raw(&format!(
                "copy {table} ({columns}) from stdin (format binary)"
            ))
            .await?;
        let mut buffer = PgArgumentBuffer::default();
        // Signature, flags, header extension length.
        buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buffer.extend_from_slice(&0i32.to_be_bytes());
        buffer.extend_from_slice(&0i32.to_be_bytes());
        Ok(CopyIn {
            copy,
            buffer,
            rows: 0,
        })
    }

    /// Adds one row: its values in the order of the columns.
    pub async fn row(&mut self, values: &[&dyn CopyValue<'_>]) -> anyhow::Result<()> {
        self.buffer
            .extend_from_slice(&i16::try_from(values.len())?.to_be_bytes());
        for value in values {
            let start = self.buffer.len();
            self.buffer.extend_from_slice(&[0; 4]);
            let length = match value.encode(&mut self.buffer).map_err(anyhow::Error::msg)? {
                IsNull::Yes => -1,
                IsNull::No => i32::try_from(self.buffer.len() - start - 4)?,
            };
            self.buffer[start..start + 4].copy_from_slice(&length.to_be_bytes());
        }
        self.rows += 1;
        if self.buffer.len() >= COPY_SEND_BYTES {
            self.copy.send(self.buffer.as_slice()).await?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Ends the COPY; returns the rows copied.
    pub async fn finish(mut self) -> anyhow::Result<u64> {
        self.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        self.copy.send(self.buffer.as_slice()).await?;
        let copied = self.copy.finish().await?;
        anyhow::ensure!(copied == self.rows, "copied {copied} of {} rows", self.rows);
        Ok(copied)
    }
}

/// A value as a `jsonb` column holds it, encoded as sqlx encodes `Json<T>` (the jsonb
/// version, then the JSON text) without noting a parameter type, which a COPY has none of.
pub struct Jsonb<'a, T>(pub &'a T);

impl<T: Serialize + Sync> CopyValue<'_> for Jsonb<'_, T> {
    fn encode(&self, buffer: &mut PgArgumentBuffer) -> Result<IsNull, sqlx::error::BoxDynError> {
        buffer.push(1);
        serde_json::to_writer(&mut **buffer, self.0)?;
        Ok(IsNull::No)
    }
}

/// A value [`CopyIn`] can write: anything sqlx can bind for PostgreSQL.
pub trait CopyValue<'q>: Sync {
    fn encode(&self, buffer: &mut PgArgumentBuffer) -> Result<IsNull, sqlx::error::BoxDynError>;
}

impl<'q, T: Encode<'q, Postgres> + Sync> CopyValue<'q> for T {
    fn encode(&self, buffer: &mut PgArgumentBuffer) -> Result<IsNull, sqlx::error::BoxDynError> {
        self.encode_by_ref(buffer)
    }
}

/// The batch's events of aggregate type `A`, decoded, with their aggregate ids.
pub fn decode_batch<A: Aggregate>(
    events: &[impl Recorded],
) -> anyhow::Result<Vec<(Uuid, A::Event)>> {
    events
        .iter()
        .filter_map(|event| Some((event, event.decode::<A>()?)))
        .map(|(event, decoded)| Ok((event.aggregate_id().parse()?, decoded?)))
        .collect()
}

impl<A: Aggregate> Window<A> {
    /// The fold of a read model whose rows keep the aggregate's view as their `doc`: the
    /// aggregates of `decoded` not held yet are read from `table` (once the writes in
    /// flight settle) and held as `held` makes them, then each event is applied.
    pub async fn fold_docs<V: DeserializeOwned>(
        &mut self,
        conn: &mut PgConnection,
        table: &str,
        decoded: Vec<(Uuid, A::Event)>,
        in_flight: &mut InFlight,
        held: impl Fn(V) -> (Uuid, A),
    ) -> anyhow::Result<()> {
        let missing = self.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<V>(&mut *conn, table, &missing).await? {
                let (id, state) = held(view);
                self.hold_stored(id, state);
            }
        }
        for (id, event) in decoded {
            self.state(id).apply(event);
        }
        Ok(())
    }
}

/// The JSON documents (`doc` column) of the rows with these ids in `table`.
pub async fn load_docs<T: DeserializeOwned>(
    conn: &mut PgConnection,
    table: &str,
    ids: &[Uuid],
) -> anyhow::Result<Vec<T>> {
    sqlx::query(&format!("select doc from {table} where id = any($1)"))
        .bind(ids)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| Ok(row.try_get::<Json<T>, _>("doc")?.0))
        .collect()
}
