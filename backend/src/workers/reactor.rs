//! The one way a reactor follows the event log (DESIGN §4): from its checkpoint row in
//! `reactor_checkpoints`, under an advisory lock so one instance runs it at a time, event by
//! event in commit order, the checkpoint advanced after each batch's work. A step that must
//! wait ([`Stop::Hold`]) keeps the checkpoint at the last event handled and is tried again on
//! a later pass; a crash repeats some work (each step decides nothing twice), never skips any.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_domain::kernel::Checkpoint;
use caseyos_store::advisory::advisory_key;
use caseyos_store::event::{self, StoredEvent};
use sqlx::{PgPool, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Events read per batch.
const BATCH: i64 = 500;
/// How long [`run_once`] waits for the log's horizon to pass what was committed before it.
pub const CATCH_UP: Duration = Duration::from_secs(10);

/// Why a step stopped a pass.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// Something to wait for (a retryable provider failure, a read model behind): the
    /// checkpoint stays and a later pass tries again.
    #[error("held back: {0}")]
    Hold(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A `Stop::Failed` with this message.
pub fn failed(error: impl std::fmt::Display) -> Stop {
    Stop::Failed(anyhow::anyhow!("{error}"))
}

/// What a reactor does with the log.
#[async_trait]
pub trait Reactor: Send + Sync {
    /// Its checkpoint row's and lock's name.
    fn name(&self) -> &'static str;
    /// Work before a pass follows the log, under its lock (what holds for the whole pass).
    async fn prepare(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// One event's work.
    async fn handle(&self, event: &StoredEvent) -> Result<(), Stop>;
    /// Work after the log is followed, under the same lock (due retries, …).
    async fn after(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// How long a reactor's step waits for the read models it reads before it holds back.
pub const READ_MODEL_WAIT: Duration = Duration::from_secs(10);

/// Waits (at most `wait`) until the read models `names` have every event committed so far,
/// so a step that reads them sees what came before it; holds back with `behind` after that.
pub async fn read_models_caught_up(
    pool: &PgPool,
    names: &[&str],
    wait: Duration,
    behind: &str,
) -> Result<(), Stop> {
    let head = event::head(pool).await.map_err(failed)?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let at = caseyos_projections::runner::checkpoints(pool, names)
            .await
            .map_err(failed)?;
        if at.iter().all(|c| *c >= head) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Stop::Hold(behind.to_string()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ticks when events are committed: the projection runner's one listener
/// (`ProjectionRunner::wake`), so a reactor answers a new event at once instead of at its
/// next poll.
pub type Wake = watch::Receiver<u64>;

/// How long a woken reactor gathers further commits before its pass: under a stream of
/// commits each reactor passes at most this often, not once per commit.
const GATHER: Duration = Duration::from_millis(25);

/// Waits for `tick`, a wake or shutdown; false on shutdown. A wake during the last pass
/// counts: the pass that follows sees those events.
pub async fn idle(tick: Duration, wake: &mut Wake, shutdown: &CancellationToken) -> bool {
    let pause = tokio::select! {
        _ = shutdown.cancelled() => return false,
        _ = tokio::time::sleep(tick) => return true,
        // A closed channel: the runner is gone (shutting down); poll from now on.
        changed = wake.changed() => if changed.is_ok() { GATHER } else { tick },
    };
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(pause) => true,
    }
}

/// Runs `reactor` until shutdown on whichever instance holds its lock: a pass when events
/// are committed (`wake`), and every `tick` (held work, a lost listener).
pub fn spawn<R: Reactor + 'static>(
    pool: PgPool,
    reactor: Arc<R>,
    tick: Duration,
    mut wake: Wake,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = pass(&pool, reactor.as_ref(), false).await {
                tracing::warn!(reactor = reactor.name(), error = %format!("{error:#}"), "reactor pass failed");
            }
            if !idle(tick, &mut wake, &shutdown).await {
                break;
            }
        }
    })
}

/// Passes until every committed event is handled, the reactor's own writes included (or a
/// hold stops it), waiting for the lock if another pass holds it; the log's horizon can lag
/// the head while other transactions are open, so it waits for that too (at most
/// [`CATCH_UP`]). Returns how many events it handled. Tests and the CLI call this.
pub async fn run_once<R: Reactor + ?Sized>(pool: &PgPool, reactor: &R) -> anyhow::Result<usize> {
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let mut handled = 0;
    loop {
        handled += pass(pool, reactor, true).await?;
        let head = event::head(pool).await?;
        let row = sqlx::query(
            "select checkpoint_tx::text::bigint as tx, checkpoint_position, last_error \
             from reactor_checkpoints where name = $1",
        )
        .bind(reactor.name())
        .fetch_one(pool)
        .await?;
        let reached = (
            row.try_get::<i64, _>("tx")?,
            row.try_get::<i64, _>("checkpoint_position")?,
        ) >= (head.tx_id, head.position);
        let held = row.try_get::<Option<String>, _>("last_error")?.is_some();
        if reached || held || tokio::time::Instant::now() >= deadline {
            return Ok(handled);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `work` holding the advisory lock `name`: waiting for it (`wait`), or not at all
/// when another session holds it (`None`).
pub async fn locked<T>(
    pool: &PgPool,
    name: &str,
    wait: bool,
    work: impl AsyncFnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    let mut lock = pool.acquire().await?;
    let key = advisory_key(name);
    if wait {
        sqlx::query("select pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *lock)
            .await?;
    } else {
        let leader: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *lock)
            .await?;
        if !leader {
            return Ok(None);
        }
    }
    let result = work().await;
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *lock)
        .await?;
    result.map(Some)
}

/// One pass: the lock (waited for, or tried), the log followed, the after-work.
pub async fn pass<R: Reactor + ?Sized>(
    pool: &PgPool,
    reactor: &R,
    wait: bool,
) -> anyhow::Result<usize> {
    let lock = format!("reactor:{}", reactor.name());
    Ok(locked(pool, &lock, wait, async || {
        reactor.prepare().await?;
        let handled = follow(pool, reactor).await?;
        reactor.after().await?;
        Ok(handled)
    })
    .await?
    .unwrap_or(0))
}

async fn checkpoint(pool: &PgPool, name: &str) -> anyhow::Result<Checkpoint> {
    sqlx::query("insert into reactor_checkpoints (name) values ($1) on conflict do nothing")
        .bind(name)
        .execute(pool)
        .await?;
    let row = sqlx::query(
        "select checkpoint_tx::text::bigint as tx, checkpoint_position \
         from reactor_checkpoints where name = $1",
    )
    .bind(name)
    .fetch_one(pool)
    .await?;
    Ok(Checkpoint {
        tx_id: row.try_get("tx")?,
        position: row.try_get("checkpoint_position")?,
    })
}

async fn advance(
    pool: &PgPool,
    name: &str,
    to: Checkpoint,
    handled: usize,
    error: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "update reactor_checkpoints set checkpoint_tx = $2::text::xid8, \
           checkpoint_position = $3, events_processed = events_processed + $4, \
           last_error = $5, updated_at = now() where name = $1",
    )
    .bind(name)
    .bind(to.tx_id.to_string())
    .bind(to.position)
    .bind(handled as i64)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

async fn follow<R: Reactor + ?Sized>(pool: &PgPool, reactor: &R) -> anyhow::Result<usize> {
    let name = reactor.name();
    let mut from = checkpoint(pool, name).await?;
    let mut handled = 0;
    loop {
        let events = event::read_after(pool, from, BATCH).await?;
        if events.is_empty() {
            return Ok(handled);
        }
        let mut done = from;
        let mut count = 0;
        for stored in &events {
            match reactor.handle(stored).await {
                Ok(()) => {
                    done = stored.checkpoint();
                    count += 1;
                }
                Err(stop) => {
                    let message = stop.to_string();
                    advance(pool, name, done, count, Some(&message)).await?;
                    return match stop {
                        Stop::Hold(reason) => {
                            tracing::info!(reactor = name, reason = %reason, "reactor held back; retrying later");
                            Ok(handled + count)
                        }
                        Stop::Failed(error) => Err(error),
                    };
                }
            }
        }
        advance(pool, name, done, count, None).await?;
        handled += count;
        from = done;
    }
}
