//! Rebuilding a read model without downtime: fill shadow tables beside the live ones from
//! position zero, catch up, then switch over atomically and drop the old tables.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use sqlx::{Connection, PgPool, Postgres, Row, Transaction};

use caseyos_domain::kernel::Checkpoint;
use caseyos_store::event;

use crate::projector::{Fold, InFlight, Projector, Tables};
use crate::runner::{ensure_checkpoint, lock_checkpoint};

/// How far a rebuild has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RebuildProgress {
    pub events_processed: i64,
    /// About how many events the log held when the rebuild started (its highest position;
    /// the progress bar's length).
    pub events_total: i64,
    pub checkpoint: Checkpoint,
}

/// Rows per shadow batch: larger than the live runner's, the shadow has no readers.
const REBUILD_BATCH: i64 = 5000;

/// Secondary indexes built at once on the shadow tables (one per core of a small server).
const INDEX_BUILDS: usize = 2;

/// How a rebuild's in-memory fold takes in the log and how much it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoldLimits {
    /// Events folded at a time.
    pub page: usize,
    /// Rows held in memory before the half of them changed longest ago are written out.
    pub held_rows: usize,
}

impl Default for FoldLimits {
    fn default() -> Self {
        FoldLimits {
            page: 10_000,
            held_rows: 100_000,
        }
    }
}

async fn rebuild_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    name: &str,
) -> anyhow::Result<(Checkpoint, i64)> {
    let row = sqlx::query(
        "select checkpoint_tx::text::bigint as tx, checkpoint_position, events_processed \
         from projection_rebuilds where name = $1 for update",
    )
    .bind(name)
    .fetch_one(&mut **tx)
    .await?;
    Ok((
        Checkpoint {
            tx_id: row.try_get("tx")?,
            position: row.try_get("checkpoint_position")?,
        },
        row.try_get("events_processed")?,
    ))
}

/// Applies one shadow batch and advances the rebuild checkpoint. Returns how many events
/// it applied (0 when the shadow has caught up to the horizon).
async fn shadow_batch(
    tx: &mut Transaction<'_, Postgres>,
    projector: &dyn Projector,
) -> anyhow::Result<(usize, Checkpoint, i64)> {
    let (from, processed) = rebuild_checkpoint(tx, projector.name()).await?;
    let events = event::read_after(&mut **tx, from, REBUILD_BATCH).await?;
    let Some(last) = events.last() else {
        return Ok((0, from, processed));
    };
    let to = last.checkpoint();
    projector.apply(tx, &Tables::REBUILD, &events).await?;
    let processed = processed + events.len() as i64;
    save_rebuild_checkpoint(tx, projector.name(), to, processed).await?;
    Ok((events.len(), to, processed))
}

async fn save_rebuild_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    name: &str,
    to: Checkpoint,
    processed: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "update projection_rebuilds set checkpoint_tx = $2::text::xid8, checkpoint_position = $3, \
           events_processed = $4, updated_at = now() where name = $1",
    )
    .bind(name)
    .bind(to.tx_id.to_string())
    .bind(to.position)
    .bind(processed)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Fills the shadow tables with the projector's in-memory fold: the log below the horizon
/// read as one ordered stream and folded a page at a time; whenever the fold holds many
/// rows, and at the end, rows are taken out and written (new ones with COPY) in the
/// background while the fold goes on (one write at a time, in order), the last write with
/// the rebuild checkpoint.
async fn fold_shadow(
    pool: &PgPool,
    projector: &dyn Projector,
    mut fold: Box<dyn Fold>,
    fresh: bool,
    limits: FoldLimits,
    events_total: i64,
    on_progress: &mut impl FnMut(RebuildProgress),
) -> anyhow::Result<()> {
    let name = projector.name();
    let mut writer = pool.acquire().await?;
    let (mut saved, mut processed) = {
        let mut tx = writer.begin().await?;
        let found = rebuild_checkpoint(&mut tx, name).await?;
        tx.commit().await?;
        found
    };
    // The log streams in index order from the first row: the planner would rather sort it
    // all first (with every core, and a compiled plan), which holds the fold back until
    // the sort ends and leaves PostgreSQL no core to store what the fold writes meanwhile.
    let mut reader = pool.begin().await?;
    sqlx::query("set local enable_seqscan = off")
        .execute(&mut *reader)
        .await?;
    sqlx::query("set local jit = off")
        .execute(&mut *reader)
        .await?;
    let mut log = std::pin::pin!(event::stream_after(&mut *reader, saved));
    let mut page = Vec::with_capacity(limits.page);
    let mut folded = saved;
    let mut in_flight = InFlight::default();
    loop {
        let next = log.try_next().await?;
        let end = next.is_none();
        page.extend(next);
        if page.len() < limits.page && !end {
            continue;
        }
        if let Some(last) = page.last() {
            folded = last.checkpoint();
            processed += page.len() as i64;
            fold.apply(&mut writer, &Tables::REBUILD, &page, &mut in_flight)
                .await?;
            page.clear();
            on_progress(RebuildProgress {
                events_processed: processed,
                events_total: events_total.max(processed),
                checkpoint: folded,
            });
        }
        let full = fold.held() >= limits.held_rows;
        if full || (end && folded != saved) {
            // Over fresh tables, a full fold writes out the half of its rows changed
            // longest ago, and the checkpoint only with the last write, when every row is
            // out (an interrupted fold starts over: its checkpoint is still zero). Over
            // what an interrupted rebuild left, every write takes every row, checkpoint
            // and all.
            let partial = fresh && !end;
            let rows = fold.take(if partial { limits.held_rows / 2 } else { 0 });
            let (pool, from) = (pool.clone(), saved);
            in_flight
                .start(async move {
                    let mut tx = pool.begin().await?;
                    let (current, _) = rebuild_checkpoint(&mut tx, name).await?;
                    anyhow::ensure!(
                        current == from,
                        "another rebuild of {name} moved its checkpoint; stopping this one"
                    );
                    rows.write(&mut tx, &Tables::REBUILD).await?;
                    if !partial {
                        save_rebuild_checkpoint(&mut tx, name, folded, processed).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
                .await?;
            if !partial {
                saved = folded;
            }
        }
        if end {
            return in_flight.settle().await;
        }
    }
}

/// One index of a live table: its name, whether it backs the primary key, and its
/// definition.
struct LiveIndex {
    name: String,
    primary: bool,
    definition: String,
}

async fn live_indexes(
    executor: impl sqlx::PgExecutor<'_>,
    table: &str,
) -> anyhow::Result<Vec<LiveIndex>> {
    let rows = sqlx::query(
        "select c.relname as name, i.indisprimary as primary, \
           case when i.indisprimary \
             then (select pg_get_constraintdef(k.oid) from pg_constraint k \
                   where k.conindid = i.indexrelid and k.contype = 'p') \
             else pg_get_indexdef(i.indexrelid) end as definition \
         from pg_index i join pg_class c on c.oid = i.indexrelid \
         where i.indrelid = $1::regclass order by c.relname",
    )
    .bind(table)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LiveIndex {
                name: row.try_get("name")?,
                primary: row.try_get("primary")?,
                definition: row.try_get("definition")?,
            })
        })
        .collect()
}

/// Creates the shadow tables — with only their primary keys, so filling them does not
/// maintain every secondary index row by row — or finds the ones an interrupted rebuild
/// left (and resumes). Returns whether the shadow tables start empty.
async fn prepare(pool: &PgPool, projector: &dyn Projector) -> anyhow::Result<bool> {
    // A rebuild still at checkpoint zero has nothing worth keeping (an interrupted fold
    // may have written rows without one): it starts over.
    let resuming: bool = sqlx::query_scalar(
        "select exists(select 1 from projection_rebuilds where name = $1 \
           and (checkpoint_tx, checkpoint_position) > ('0'::xid8, 0))",
    )
    .bind(projector.name())
    .fetch_one(pool)
    .await?;
    let mut tx = pool.begin().await?;
    for table in projector.tables() {
        let shadow = Tables::REBUILD.name(table);
        let retired = Tables::RETIRED.name(table);
        sqlx::query(&format!("drop table if exists {retired}"))
            .execute(&mut *tx)
            .await?;
        if resuming {
            let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
                .bind(&shadow)
                .fetch_one(&mut *tx)
                .await?;
            if exists {
                continue;
            }
        }
        sqlx::query(&format!("drop table if exists {shadow}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "create table {shadow} (like {table} including all excluding indexes)"
        ))
        .execute(&mut *tx)
        .await?;
        for index in live_indexes(&mut *tx, table).await? {
            if index.primary {
                sqlx::query(&format!(
                    "alter table {shadow} add constraint {}__rebuild {}",
                    index.name, index.definition
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    if resuming {
        sqlx::query("update projection_rebuilds set updated_at = now() where name = $1")
            .bind(projector.name())
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "insert into projection_rebuilds (name) values ($1) on conflict (name) do update \
             set checkpoint_tx = '0', checkpoint_position = 0, events_processed = 0, updated_at = now()",
        )
        .bind(projector.name())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(!resuming)
}

/// Builds the live tables' secondary indexes on the filled shadow tables, named
/// `<live name>__rebuild` (renamed to the live names at the switch-over), two at a time.
async fn index_shadow(pool: &PgPool, projector: &dyn Projector) -> anyhow::Result<()> {
    let mut definitions = Vec::new();
    for table in projector.tables() {
        let shadow = Tables::REBUILD.name(table);
        for index in live_indexes(pool, table).await? {
            if index.primary {
                continue;
            }
            let shadow_name = format!("{}__rebuild", index.name);
            let definition = index
                .definition
                .replacen(
                    &format!("INDEX {} ON ", index.name),
                    &format!("INDEX IF NOT EXISTS {shadow_name} ON "),
                    1,
                )
                .replacen(
                    &format!(" ON public.{table} "),
                    &format!(" ON public.{shadow} "),
                    1,
                );
            anyhow::ensure!(
                definition.contains(&shadow_name) && definition.contains(&shadow),
                "cannot adapt index definition `{}` to the shadow table",
                index.definition
            );
            definitions.push(definition);
        }
    }
    futures::stream::iter(definitions)
        .map(|definition| async move { sqlx::query(&definition).execute(pool).await })
        .buffer_unordered(INDEX_BUILDS)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Fills the shadow tables until they have caught up to the horizon: with the projector's
/// in-memory fold when it has one, then batch by batch through its live path for what
/// arrived meanwhile.
pub async fn fill_shadow(
    pool: &PgPool,
    projector: &dyn Projector,
    on_progress: impl FnMut(RebuildProgress),
) -> anyhow::Result<RebuildProgress> {
    fill_shadow_with(pool, projector, FoldLimits::default(), on_progress).await
}

/// [`fill_shadow`] with the fold's limits given.
pub async fn fill_shadow_with(
    pool: &PgPool,
    projector: &dyn Projector,
    limits: FoldLimits,
    mut on_progress: impl FnMut(RebuildProgress),
) -> anyhow::Result<RebuildProgress> {
    let fresh = prepare(pool, projector).await?;
    // The highest position: about as many events as the log holds (never fewer), read from
    // an index where counting would read the whole log.
    let events_total: i64 =
        sqlx::query_scalar("select coalesce(max(global_position), 0) from events")
            .fetch_one(pool)
            .await?;
    if let Some(fold) = projector.fold(fresh) {
        fold_shadow(
            pool,
            projector,
            fold,
            fresh,
            limits,
            events_total,
            &mut on_progress,
        )
        .await?;
    }
    let mut indexed = false;
    loop {
        let mut tx = pool.begin().await?;
        let (applied, checkpoint, processed) = shadow_batch(&mut tx, projector).await?;
        tx.commit().await?;
        let progress = RebuildProgress {
            events_processed: processed,
            events_total: events_total.max(processed),
            checkpoint,
        };
        on_progress(progress);
        if applied == 0 {
            if indexed {
                return Ok(progress);
            }
            // Caught up: build the secondary indexes once, in bulk, then catch up on what
            // arrived meanwhile.
            index_shadow(pool, projector).await?;
            indexed = true;
        }
    }
}

/// Swaps the shadow tables in for the live ones, atomically. The live projector's
/// checkpoint row is locked first, so no live batch runs during the switch; the shadow is
/// brought up to (at least) the live checkpoint inside the same transaction.
pub async fn switch_over(pool: &PgPool, projector: &dyn Projector) -> anyhow::Result<Checkpoint> {
    ensure_checkpoint(pool, projector.name()).await?;
    let mut tx = pool.begin().await?;
    let live = lock_checkpoint(&mut tx, projector.name()).await?;
    let (mut shadow, mut processed) = rebuild_checkpoint(&mut tx, projector.name()).await?;
    while shadow < live {
        let (applied, checkpoint, total) = shadow_batch(&mut tx, projector).await?;
        if applied == 0 {
            anyhow::bail!(
                "the shadow of {} cannot reach the live checkpoint",
                projector.name()
            );
        }
        shadow = checkpoint;
        processed = total;
    }
    for table in projector.tables() {
        let shadow_table = Tables::REBUILD.name(table);
        let retired = Tables::RETIRED.name(table);
        let indexes = live_indexes(&mut *tx, table).await?;
        sqlx::query(&format!("alter table {table} rename to {retired}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("alter table {shadow_table} rename to {table}"))
            .execute(&mut *tx)
            .await?;
        // The new live table takes the old one's index names, so names never drift.
        for index in indexes {
            sqlx::query(&format!(
                "alter index {0} rename to {0}__retired",
                index.name
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "alter index {0}__rebuild rename to {0}",
                index.name
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    let now_at = shadow.max(live);
    sqlx::query(
        "update projection_checkpoints set checkpoint_tx = $2::text::xid8, \
           checkpoint_position = $3, events_processed = $4, last_error = null, updated_at = now() \
         where name = $1",
    )
    .bind(projector.name())
    .bind(now_at.tx_id.to_string())
    .bind(now_at.position)
    .bind(processed)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from projection_rebuilds where name = $1")
        .bind(projector.name())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    for table in projector.tables() {
        let retired = Tables::RETIRED.name(table);
        sqlx::query(&format!("drop table if exists {retired}"))
            .execute(pool)
            .await?;
        // Fresh statistics, so the planner does not misjudge a table it has never seen.
        sqlx::query(&format!("analyze {table}"))
            .execute(pool)
            .await?;
    }
    Ok(now_at)
}

/// A full rebuild: shadow, catch up, switch over.
pub async fn rebuild(
    pool: &PgPool,
    projector: Arc<dyn Projector>,
    on_progress: impl FnMut(RebuildProgress),
) -> anyhow::Result<RebuildProgress> {
    let mut progress = fill_shadow(pool, projector.as_ref(), on_progress).await?;
    progress.checkpoint = switch_over(pool, projector.as_ref()).await?;
    Ok(progress)
}

/// Rows in one table and not the other, both ways (0 means equal, row for row).
pub async fn table_difference(pool: &PgPool, a: &str, b: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!(
        "select count(*) from ((select * from {a} except all select * from {b}) \
         union all (select * from {b} except all select * from {a})) d"
    ))
    .fetch_one(pool)
    .await
}
