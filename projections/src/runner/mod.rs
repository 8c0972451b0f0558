//! The projection runner: one task per projector, one active instance per projector across
//! all backends (a Postgres advisory lock), woken by LISTEN/NOTIFY with polling as the
//! fallback, every batch applied together with its checkpoint in one transaction (which
//! also notifies `caseyos_projection`, for live updates).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caseyos_domain::api::LiveEvent;
use chrono::Utc;
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgPool, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use caseyos_store::advisory::advisory_key;
use caseyos_store::event::{self, StoredEvent};

use crate::projector::{Projector, Tables};

pub mod rebuild;
pub mod status;

/// The NOTIFY channel the command bus signals after its appends commit.
pub use caseyos_store::event::EVENTS_CHANNEL;

/// The NOTIFY channel a projector signals when a batch commits: the payload is a
/// [`LiveEvent`] as JSON, delivered to every backend instance (which fan it out to open
/// pages over server-sent events).
pub const PROJECTION_CHANNEL: &str = "caseyos_projection";

/// How the runner paces itself.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    pub batch_size: i64,
    /// Fallback poll when no notification arrives (and while the horizon is held back).
    pub poll_interval: Duration,
    /// How often the leader records that it is alive and checks its lock connection.
    pub heartbeat_interval: Duration,
    /// How often a standby tries to become leader.
    pub standby_retry: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            batch_size: 1000,
            poll_interval: Duration::from_millis(250),
            heartbeat_interval: Duration::from_secs(5),
            standby_retry: Duration::from_secs(2),
        }
    }
}

/// The pause after a failed batch before it is tried again.
const ERROR_BACKOFF: Duration = Duration::from_secs(2);

/// In-process figures about the projectors this instance leads.
#[derive(Default)]
pub struct ProjectionMetrics {
    inner: Mutex<HashMap<&'static str, ProjectorStats>>,
}

/// Lag samples kept per projector for quantiles.
pub const LAG_SAMPLES: usize = 200_000;

#[derive(Clone, Debug, Default)]
pub struct ProjectorStats {
    pub leader: bool,
    pub events_applied: u64,
    pub batches: u64,
    /// Times the projector read the log and found nothing it may apply yet (caught up, or
    /// held back below the horizon by an open transaction).
    pub idle_checks: u64,
    pub errors: u64,
    pub checkpoint: Checkpoint,
    /// Milliseconds from an event being recorded to its read-model change committing.
    pub lag_ms: VecDeque<f64>,
}

impl ProjectionMetrics {
    fn update(&self, name: &'static str, f: impl FnOnce(&mut ProjectorStats)) {
        let mut inner = self.inner.lock().expect("metrics lock");
        f(inner.entry(name).or_default());
    }

    pub fn snapshot(&self) -> Vec<(&'static str, ProjectorStats)> {
        let inner = self.inner.lock().expect("metrics lock");
        let mut all: Vec<_> = inner.iter().map(|(k, v)| (*k, v.clone())).collect();
        all.sort_by_key(|(k, _)| *k);
        all
    }

    /// The `q`-quantile (0..1) of recorded lag samples, if any.
    pub fn lag_quantile(&self, name: &str, q: f64) -> Option<f64> {
        let inner = self.inner.lock().expect("metrics lock");
        let stats = inner.get(name)?;
        quantile(stats.lag_ms.iter().copied().collect(), q)
    }

    /// Forgets lag samples (a benchmark phase starts).
    pub fn reset_lag(&self) {
        let mut inner = self.inner.lock().expect("metrics lock");
        for stats in inner.values_mut() {
            stats.lag_ms.clear();
        }
    }
}

/// The `q`-quantile of samples by nearest rank.
pub fn quantile(mut samples: Vec<f64>, q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    Some(samples[rank - 1])
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub applied: usize,
    pub checkpoint: Checkpoint,
}

/// Makes sure the projector has a checkpoint row.
pub async fn ensure_checkpoint(pool: &PgPool, name: &str) -> sqlx::Result<()> {
    sqlx::query("insert into projection_checkpoints (name) values ($1) on conflict do nothing")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

/// Locks a projector's checkpoint row for the rest of the transaction and reads it: live
/// batches and a rebuild's switch-over take turns on this lock.
pub async fn lock_checkpoint(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    name: &str,
) -> anyhow::Result<Checkpoint> {
    let row = sqlx::query(
        "select checkpoint_tx::text::bigint as tx, checkpoint_position \
         from projection_checkpoints where name = $1 for update",
    )
    .bind(name)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        anyhow::bail!("projector {name} has no checkpoint row");
    };
    Ok(Checkpoint {
        tx_id: row.try_get("tx")?,
        position: row.try_get("checkpoint_position")?,
    })
}

/// Locks a projector's checkpoint row for the rest of the transaction (see
/// [`lock_checkpoint`]) and reads the next `limit` events after it below the horizon (see
/// [`event::read_after`]), in one statement.
async fn lock_and_read(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    name: &str,
    limit: i64,
) -> anyhow::Result<(Checkpoint, Vec<StoredEvent>)> {
    let sql = format!(
        "with cp as (select checkpoint_tx, checkpoint_position from projection_checkpoints \
                     where name = $1 for update) \
         select cp.checkpoint_tx::text::bigint as from_tx, \
                cp.checkpoint_position as from_position, e.* \
         from cp left join lateral ( \
           select {columns} from events \
           where (tx_id, global_position) > (cp.checkpoint_tx, cp.checkpoint_position) \
             and {below} \
           order by tx_id, global_position \
           limit $2) e on true",
        columns = event::COLUMNS,
        below = event::BELOW_HORIZON,
    );
    let rows = sqlx::query(&sql)
        .bind(name)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
    let Some(first) = rows.first() else {
        anyhow::bail!("projector {name} has no checkpoint row");
    };
    let from = Checkpoint {
        tx_id: first.try_get("from_tx")?,
        position: first.try_get("from_position")?,
    };
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<Uuid>, _>("event_id")?.is_some() {
            events.push(StoredEvent::from_row(row)?);
        }
    }
    Ok((from, events))
}

/// Applies the next batch of events to the live tables and advances the checkpoint, in one
/// transaction. The checkpoint row is locked for the batch, so two instances (or a rebuild
/// switching over) never apply the same events twice. Returns 0 when caught up to the
/// horizon.
pub async fn run_batch(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
) -> anyhow::Result<(BatchOutcome, Vec<StoredEvent>)> {
    let mut tx = pool.begin().await?;
    let (from, events) = lock_and_read(&mut tx, projector.name(), batch_size).await?;
    let Some(last) = events.last() else {
        tx.rollback().await?;
        return Ok((
            BatchOutcome {
                applied: 0,
                checkpoint: from,
            },
            events,
        ));
    };
    let to = last.checkpoint();
    projector.apply(&mut tx, &Tables::LIVE, &events).await?;
    // The checkpoint advances with the batch, and pages hear of it on commit (so never of a
    // change they cannot read yet): one statement.
    let live = LiveEvent {
        projection: projector.name().to_string(),
        consistency: ConsistencyToken(to).to_string(),
    };
    sqlx::query(
        "with advanced as ( \
           update projection_checkpoints set checkpoint_tx = $2::text::xid8, \
             checkpoint_position = $3, events_processed = events_processed + $4, \
             last_event_at = $5, last_error = null, updated_at = now() \
           where name = $1) \
         select pg_notify($6, $7)",
    )
    .bind(projector.name())
    .bind(to.tx_id.to_string())
    .bind(to.position)
    .bind(events.len() as i64)
    .bind(last.recorded_at)
    .bind(PROJECTION_CHANNEL)
    .bind(serde_json::to_string(&live)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((
        BatchOutcome {
            applied: events.len(),
            checkpoint: to,
        },
        events,
    ))
}

/// A leader's hold on its projector: the connection that owns the advisory lock.
struct Leadership {
    lock_conn: sqlx::PgConnection,
    last_heartbeat: Option<Instant>,
}

/// Runs every projector until shutdown.
pub struct ProjectionRunner {
    pool: PgPool,
    projectors: Vec<Arc<dyn Projector>>,
    instance: String,
    config: RunnerConfig,
    metrics: Arc<ProjectionMetrics>,
    progress: watch::Sender<u64>,
    /// Ticks on every notification of new events: one LISTEN connection for all the
    /// projectors of this instance, not one each.
    wake: watch::Sender<u64>,
}

impl ProjectionRunner {
    pub fn new(pool: PgPool, projectors: Vec<Arc<dyn Projector>>, instance: String) -> Self {
        let (progress, _) = watch::channel(0);
        let (wake, _) = watch::channel(0);
        ProjectionRunner {
            pool,
            projectors,
            instance,
            config: RunnerConfig::default(),
            metrics: Arc::new(ProjectionMetrics::default()),
            progress,
            wake,
        }
    }

    pub fn with_config(mut self, config: RunnerConfig) -> Self {
        self.config = config;
        self
    }

    pub fn metrics(&self) -> Arc<ProjectionMetrics> {
        self.metrics.clone()
    }

    /// Ticks whenever the listener hears of new events: the reactors wake on it too.
    pub fn wake(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// Ticks whenever this instance commits a batch (read-your-writes waits on it).
    pub fn progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    pub fn spawn(self, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
        let shared = Arc::new(self);
        let mut tasks: Vec<JoinHandle<()>> = shared
            .projectors
            .clone()
            .into_iter()
            .map(|projector| {
                let runner = shared.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { runner.run(projector, shutdown).await })
            })
            .collect();
        let runner = shared.clone();
        tasks.push(tokio::spawn(async move { runner.listen(shutdown).await }));
        tasks
    }

    /// Listens for new events on one connection and wakes every projector; reconnects after
    /// a lost connection (the projectors poll meanwhile).
    async fn listen(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match PgListener::connect_with(&self.pool).await {
                Ok(mut listener) => match listener.listen(EVENTS_CHANNEL).await {
                    Ok(()) => loop {
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            notification = listener.recv() => match notification {
                                Ok(_) => self.wake.send_modify(|n| *n = n.wrapping_add(1)),
                                Err(error) => {
                                    tracing::warn!(error = %error, "the projections' listener lost its connection");
                                    break;
                                }
                            },
                        }
                    },
                    Err(error) => {
                        tracing::warn!(error = %error, "the projections' listener could not listen")
                    }
                },
                Err(error) => {
                    tracing::warn!(error = %error, "the projections' listener could not connect")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    async fn run(&self, projector: Arc<dyn Projector>, shutdown: CancellationToken) {
        let name = projector.name();
        let key = advisory_key(&format!("projection:{name}"));
        while !shutdown.is_cancelled() {
            match self.lead(projector.as_ref(), key, &shutdown).await {
                Ok(()) => {}
                Err(error) => {
                    tracing::warn!(projection.name = name, error = %error, "projector lost its lead");
                }
            }
            self.metrics.update(name, |s| s.leader = false);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.config.standby_retry) => {}
            }
        }
    }

    /// Tries to become the projector's leader and, if it does, projects until shutdown or
    /// until the lock connection is lost.
    async fn lead(
        &self,
        projector: &dyn Projector,
        key: i64,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let name = projector.name();
        let mut lock_conn = self.pool.acquire().await?.detach();
        let leader: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut lock_conn)
            .await?;
        if !leader {
            return Ok(());
        }
        tracing::info!(projection.name = name, instance = %self.instance, "projector leading");
        ensure_checkpoint(&self.pool, name).await?;
        self.metrics.update(name, |s| s.leader = true);
        let mut wake = self.wake.subscribe();
        let mut leadership = Leadership {
            lock_conn,
            last_heartbeat: None,
        };

        loop {
            if !self.drain(projector, &mut leadership).await? {
                // A failing batch (say, an event this version cannot read) is retried, never
                // skipped; back off so the log is not flooded.
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(ERROR_BACKOFF) => {}
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let mut lock_conn = leadership.lock_conn;
                    let _ = sqlx::query("select pg_advisory_unlock($1)").bind(key).execute(&mut lock_conn).await;
                    let _ = lock_conn.close().await;
                    return Ok(());
                }
                changed = wake.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep(self.config.poll_interval).await;
                    }
                }
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Records that this instance leads, at most once per heartbeat interval, after checking
    /// the lock connection: if it is gone, another instance may lead now, so step down.
    async fn heartbeat(&self, name: &str, leadership: &mut Leadership) -> anyhow::Result<()> {
        if leadership
            .last_heartbeat
            .is_some_and(|at| at.elapsed() < self.config.heartbeat_interval)
        {
            return Ok(());
        }
        sqlx::query("select 1")
            .execute(&mut leadership.lock_conn)
            .await?;
        sqlx::query(
            "update projection_checkpoints set leader = $2, leader_heartbeat_at = now() \
             where name = $1",
        )
        .bind(name)
        .bind(&self.instance)
        .execute(&self.pool)
        .await?;
        leadership.last_heartbeat = Some(Instant::now());
        Ok(())
    }

    /// Applies batches until caught up to the horizon, keeping the heartbeat going however
    /// long that takes. On a failed batch it records the error and returns false; the
    /// batch is retried later.
    async fn drain(
        &self,
        projector: &dyn Projector,
        leadership: &mut Leadership,
    ) -> anyhow::Result<bool> {
        let name = projector.name();
        loop {
            self.heartbeat(name, leadership).await?;
            let started = Instant::now();
            match run_batch(&self.pool, projector, self.config.batch_size).await {
                Ok((outcome, _)) if outcome.applied == 0 => {
                    self.metrics.update(name, |s| s.idle_checks += 1);
                    return Ok(true);
                }
                Ok((outcome, events)) => {
                    let now = Utc::now();
                    self.metrics.update(name, |s| {
                        s.events_applied += outcome.applied as u64;
                        s.batches += 1;
                        s.checkpoint = outcome.checkpoint;
                        for e in &events {
                            if s.lag_ms.len() == LAG_SAMPLES {
                                s.lag_ms.pop_front();
                            }
                            s.lag_ms.push_back(
                                (now - e.recorded_at).num_microseconds().unwrap_or(0) as f64
                                    / 1000.0,
                            );
                        }
                    });
                    self.progress.send_modify(|n| *n += 1);
                    tracing::debug!(
                        projection.name = name,
                        batch.events = outcome.applied,
                        duration_ms = started.elapsed().as_millis() as u64,
                        "projected batch"
                    );
                }
                Err(error) => {
                    self.metrics.update(name, |s| s.errors += 1);
                    tracing::error!(projection.name = name, error = %format!("{error:#}"), "projection batch failed");
                    let _ = sqlx::query(
                        "update projection_checkpoints set last_error = $2, updated_at = now() where name = $1",
                    )
                    .bind(name)
                    .bind(format!("{error:#}"))
                    .execute(&self.pool)
                    .await;
                    return Ok(false);
                }
            }
        }
    }
}

/// The checkpoints of the named projectors (missing rows count as zero).
pub async fn checkpoints(pool: &PgPool, names: &[&str]) -> sqlx::Result<Vec<Checkpoint>> {
    let rows = sqlx::query(
        "select name, checkpoint_tx::text::bigint as tx, checkpoint_position \
         from projection_checkpoints where name = any($1)",
    )
    .bind(names)
    .fetch_all(pool)
    .await?;
    let mut found: HashMap<String, Checkpoint> = HashMap::new();
    for row in rows {
        found.insert(
            row.try_get("name")?,
            Checkpoint {
                tx_id: row.try_get("tx")?,
                position: row.try_get("checkpoint_position")?,
            },
        );
    }
    Ok(names
        .iter()
        .map(|n| found.get(*n).copied().unwrap_or(Checkpoint::ZERO))
        .collect())
}

/// Which state of a read model a read saw: the checkpoint its projector had applied, and
/// when its checkpoint row last changed (a rebuild's switch-over can keep the checkpoint
/// and still change rows). Two reads with equal versions saw equal tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadVersion {
    pub checkpoint: Checkpoint,
    pub changed_at: Option<chrono::DateTime<Utc>>,
}

/// The versions of the named projectors' read models (missing rows count as zero) and the
/// log's head (see [`caseyos_store::event::head`]), in one statement: what a read decides
/// its wait on.
pub async fn versions_and_head(
    pool: &PgPool,
    names: &[&str],
) -> sqlx::Result<(Vec<ReadVersion>, Checkpoint)> {
    let rows = sqlx::query(
        "select c.checkpoint_tx::text::bigint as tx, c.checkpoint_position as position, \
                c.updated_at, h.tx as head_tx, h.global_position as head_position \
         from unnest($1::text[]) with ordinality as n(name, i) \
         left join projection_checkpoints c on c.name = n.name \
         left join (select tx_id::text::bigint as tx, global_position from events \
                    order by tx_id desc, global_position desc limit 1) h on true \
         order by n.i",
    )
    .bind(names)
    .fetch_all(pool)
    .await?;
    let checkpoint =
        |row: &sqlx::postgres::PgRow, tx: &str, position: &str| -> sqlx::Result<Checkpoint> {
            Ok(
                match (
                    row.try_get::<Option<i64>, _>(tx)?,
                    row.try_get::<Option<i64>, _>(position)?,
                ) {
                    (Some(tx_id), Some(position)) => Checkpoint { tx_id, position },
                    _ => Checkpoint::ZERO,
                },
            )
        };
    let head = match rows.first() {
        Some(row) => checkpoint(row, "head_tx", "head_position")?,
        // No projector named: the head alone.
        None => event::head(pool).await?,
    };
    let versions = rows
        .iter()
        .map(|row| {
            Ok(ReadVersion {
                checkpoint: checkpoint(row, "tx", "position")?,
                changed_at: row.try_get("updated_at")?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    Ok((versions, head))
}

/// Waits until every named projector has applied `token`, or `timeout` passes. Woken by
/// this instance's progress; polls the checkpoints for progress made by other instances.
pub async fn wait_for(
    pool: &PgPool,
    progress: &mut watch::Receiver<u64>,
    names: &[&str],
    token: Checkpoint,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if checkpoints(pool, names).await?.iter().all(|c| *c >= token) {
            return Ok(true);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let tick = left.min(Duration::from_millis(50));
        tokio::select! {
            changed = progress.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(tick).await;
                }
            }
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_keys_are_stable_and_distinct() {
        assert_eq!(
            advisory_key("projection:queue"),
            advisory_key("projection:queue")
        );
        assert_ne!(
            advisory_key("projection:queue"),
            advisory_key("projection:other")
        );
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(samples.clone(), 0.5), Some(50.0));
        assert_eq!(quantile(samples.clone(), 0.99), Some(99.0));
        assert_eq!(quantile(samples, 1.0), Some(100.0));
        assert_eq!(quantile(vec![], 0.5), None);
    }
}
