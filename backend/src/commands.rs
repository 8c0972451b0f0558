//! Executing commands: load the aggregate (from its snapshot), decide, append the events
//! with the command's metadata, retry optimistic-concurrency conflicts with fresh state a
//! bounded number of times, and hand back the new state and a consistency token.
//!
//! Idempotency lives here too: events carry the request's idempotency key and a hash of
//! the request, so a retried request is answered from the events it already produced —
//! also after a crash between commit and response — and a key reused for a different
//! request is refused. A per-key advisory lock serialises concurrent duplicates.

use std::collections::HashMap;
use std::time::Duration;

use caseyos_domain::agent_run::{AgentRun, AgentRunCommand, AgentRunError, AgentRunEvent};
use caseyos_domain::queue::{Actor, QueueItem, QueueItemCommand, QueueItemEvent};
use caseyos_projections::checkpoint::Checkpoint;
use caseyos_projections::event::{self, StoredEvent};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Row};
use uuid::Uuid;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The time commands are stamped with: microsecond precision, as PostgreSQL stores it, so
/// an event's times and the read models' columns agree exactly.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Who issued a command and in answer to what; lands on every event it produces.
#[derive(Clone, Debug)]
pub struct CommandMeta {
    pub actor: Actor,
    pub request_id: String,
    pub correlation_id: String,
    pub causation_id: String,
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request the key was first used with.
    pub request_hash: Option<String>,
}

impl CommandMeta {
    /// Metadata for work CaseyOS does by itself (schedules, demo data).
    pub fn system(actor: &str) -> Self {
        let id = Uuid::now_v7().to_string();
        CommandMeta {
            actor: Actor::system(actor),
            request_id: id.clone(),
            correlation_id: id.clone(),
            causation_id: id,
            idempotency_key: None,
            request_hash: None,
        }
    }

    fn to_map(&self, command_id: Uuid) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("actor".to_string(), self.actor.to_string()),
            ("request_id".to_string(), self.request_id.clone()),
            ("correlation_id".to_string(), self.correlation_id.clone()),
            ("causation_id".to_string(), self.causation_id.clone()),
            ("command_id".to_string(), command_id.to_string()),
        ]);
        if let Some(key) = &self.idempotency_key {
            map.insert("idempotency_key".into(), key.clone());
        }
        if let Some(hash) = &self.request_hash {
            map.insert("request_hash".into(), hash.clone());
        }
        map
    }
}

/// The outcome of a command that was accepted.
#[derive(Debug)]
pub struct Committed<A> {
    /// The aggregate after the command.
    pub state: A,
    /// How many events it wrote (0 for a no-op).
    pub events: usize,
    /// The position of its last event (of the aggregate's latest when it wrote nothing).
    pub token: Option<Checkpoint>,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    #[error(transparent)]
    Rejected(E),
    #[error("the item changed concurrently too often; retry")]
    Conflict,
    #[error("refused: {}", .0.message)]
    Refused(ApiError),
    #[error("event store: {0}")]
    Store(String),
}

impl<E: std::error::Error + Into<ApiError>> From<CommandError<E>> for ApiError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(e) => e.into(),
            CommandError::Refused(e) => e,
            CommandError::Conflict => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "concurrency.conflict",
                "the item kept changing while we tried to apply this; retry",
            ),
            CommandError::Store(message) => ApiError::internal(message),
        }
    }
}

type Store<A> = PersistedEventStore<PostgresEventRepository, A>;

/// Runs commands against the event store.
pub struct CommandBus {
    pool: PgPool,
    queue: Store<QueueItem>,
    runs: Store<AgentRun>,
    max_retries: u32,
    metrics: std::sync::Arc<Metrics>,
}

impl CommandBus {
    pub fn new(
        pool: PgPool,
        snapshot_every: usize,
        max_retries: u32,
        metrics: std::sync::Arc<Metrics>,
    ) -> Self {
        let store = || PostgresEventRepository::new(pool.clone());
        CommandBus {
            queue: PersistedEventStore::new_snapshot_store(store(), snapshot_every),
            runs: PersistedEventStore::new_snapshot_store(store(), snapshot_every),
            pool,
            max_retries,
            metrics,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs a queue item command. `guard` sees the current state first and may refuse
    /// (authorization that depends on the item, such as its owner).
    pub async fn queue(
        &self,
        id: Uuid,
        command: QueueItemCommand,
        meta: &CommandMeta,
        guard: impl Fn(&QueueItem) -> Result<(), ApiError>,
    ) -> Result<Committed<QueueItem>, CommandError<caseyos_domain::queue::QueueError>> {
        let name = command_name(&command);
        let result = self
            .execute(&self.queue, &id.to_string(), command, meta, guard)
            .await;
        self.metrics
            .command(QueueItem::TYPE, name, outcome_of(&result));
        result
    }

    /// Runs an agent run command. `guard` sees the current state first and may refuse.
    pub async fn agent_run(
        &self,
        id: Uuid,
        command: AgentRunCommand,
        meta: &CommandMeta,
        guard: impl Fn(&AgentRun) -> Result<(), ApiError>,
    ) -> Result<Committed<AgentRun>, CommandError<AgentRunError>> {
        let name = run_command_name(&command);
        let result = self
            .execute(&self.runs, &id.to_string(), command, meta, guard)
            .await;
        self.metrics
            .command(AgentRun::TYPE, name, outcome_of(&result));
        result
    }

    async fn execute<A>(
        &self,
        store: &Store<A>,
        aggregate_id: &str,
        command: A::Command,
        meta: &CommandMeta,
        guard: impl Fn(&A) -> Result<(), ApiError>,
    ) -> Result<Committed<A>, CommandError<A::Error>>
    where
        A: Aggregate<Services = ()> + Clone + Send + Sync,
        A::Command: Clone,
    {
        let command_id = Uuid::now_v7();
        let metadata = meta.to_map(command_id);
        let store_error = |e: AggregateError<A::Error>| CommandError::Store(e.to_string());
        for attempt in 0..=self.max_retries {
            let context = store
                .load_aggregate(aggregate_id)
                .await
                .map_err(store_error)?;
            guard(&context.aggregate).map_err(CommandError::Refused)?;
            // Decide on a copy: cqrs-es applies events to the aggregate it is given while
            // handling, and applies them again when it writes a snapshot from the context.
            let mut working = context.aggregate.clone();
            let sink = EventSink::<A>::default();
            working
                .handle(command.clone(), &(), &sink)
                .await
                .map_err(CommandError::Rejected)?;
            let events = sink.collect().await;
            if events.is_empty() {
                let token = match context.current_sequence {
                    0 => None,
                    current => Some(self.position_of(A::TYPE, aggregate_id, current).await?),
                };
                return Ok(Committed {
                    state: working,
                    events: 0,
                    token,
                });
            }
            let count = events.len();
            let base_sequence = context.current_sequence;
            match store.commit(events, context, metadata.clone()).await {
                Ok(envelopes) => {
                    let last = envelopes.last().map_or(base_sequence, |e| e.sequence);
                    let token = self.position_of(A::TYPE, aggregate_id, last).await?;
                    return Ok(Committed {
                        state: working,
                        events: count,
                        token: Some(token),
                    });
                }
                Err(AggregateError::AggregateConflict) => {
                    // The write may have landed before the conflict was noticed (postgres-es
                    // checks the snapshot after committing): look for our command id.
                    if let Some(last) = self
                        .committed_sequence(A::TYPE, aggregate_id, base_sequence, command_id)
                        .await?
                    {
                        let token = self.position_of(A::TYPE, aggregate_id, last).await?;
                        return Ok(Committed {
                            state: working,
                            events: count,
                            token: Some(token),
                        });
                    }
                    self.metrics.conflict_retry();
                    let backoff =
                        rand::thread_rng().gen_range(1..=4u64) * u64::from(attempt.min(8) + 1);
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                Err(other) => return Err(store_error(other)),
            }
        }
        Err(CommandError::Conflict)
    }

    async fn position_of<E: std::error::Error>(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: usize,
    ) -> Result<Checkpoint, CommandError<E>> {
        let row = sqlx::query(
            "select tx_id::text::bigint as tx, global_position from events \
             where aggregate_type = $1 and aggregate_id = $2 and sequence = $3",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(sequence as i64)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| CommandError::Store(e.to_string()))?;
        Ok(Checkpoint {
            tx_id: row
                .try_get("tx")
                .map_err(|e| CommandError::Store(e.to_string()))?,
            position: row
                .try_get("global_position")
                .map_err(|e| CommandError::Store(e.to_string()))?,
        })
    }

    async fn committed_sequence<E: std::error::Error>(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after: usize,
        command_id: Uuid,
    ) -> Result<Option<usize>, CommandError<E>> {
        let sequence: Option<i64> = sqlx::query_scalar(
            "select max(sequence) from events where aggregate_type = $1 and aggregate_id = $2 \
             and sequence > $3 and metadata ->> 'command_id' = $4",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after as i64)
        .bind(command_id.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| CommandError::Store(e.to_string()))?;
        Ok(sequence.map(|s| s as usize))
    }
}

fn outcome_of<A, E: std::error::Error>(
    result: &Result<Committed<A>, CommandError<E>>,
) -> &'static str {
    match result {
        Ok(c) if c.events == 0 => "noop",
        Ok(_) => "ok",
        Err(CommandError::Rejected(_)) | Err(CommandError::Refused(_)) => "rejected",
        Err(CommandError::Conflict) => "conflict",
        Err(CommandError::Store(_)) => "error",
    }
}

fn run_command_name(command: &AgentRunCommand) -> &'static str {
    match command {
        AgentRunCommand::Request(_) => "request",
        AgentRunCommand::Start { .. } => "start",
        AgentRunCommand::Succeed { .. } => "succeed",
        AgentRunCommand::Fail { .. } => "fail",
        AgentRunCommand::TimeOut { .. } => "time_out",
        AgentRunCommand::Abandon { .. } => "abandon",
        AgentRunCommand::Cancel { .. } => "cancel",
        AgentRunCommand::ConfirmCancel { .. } => "confirm_cancel",
        AgentRunCommand::Dismiss { .. } => "dismiss",
    }
}

fn command_name(command: &QueueItemCommand) -> &'static str {
    match command {
        QueueItemCommand::Propose(_) => "propose",
        QueueItemCommand::Edit(_) => "edit",
        QueueItemCommand::Approve(_) => "approve",
        QueueItemCommand::Reject(_) => "reject",
        QueueItemCommand::Snooze(_) => "snooze",
        QueueItemCommand::EndSnooze { .. } => "end_snooze",
        QueueItemCommand::Expire { .. } => "expire",
    }
}

// ---------------------------------------------------------------------------------------
// Idempotency

/// A validated `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let key = raw.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::bad_request(
                "idempotency.invalid_key",
                "Idempotency-Key must be 1–255 visible ASCII characters",
            ));
        }
        Ok(IdempotencyKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hash of what a request asks for: method, path and the body's canonical JSON.
pub fn request_hash(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    // serde_json's maps are ordered by key, so this is canonical.
    hasher.update(serde_json::to_vec(body).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// Holds the per-key advisory lock while a keyed request runs; released on drop of the
/// connection at the latest (a crashed process releases it with its connection).
pub struct KeyLock {
    conn: Option<PoolConnection<Postgres>>,
    key: i64,
}

impl KeyLock {
    pub async fn acquire(
        pool: &PgPool,
        actor: &Actor,
        key: &IdempotencyKey,
    ) -> Result<KeyLock, ApiError> {
        let lock_key =
            caseyos_projections::runner::advisory_key(&format!("idem:{actor}:{}", key.as_str()));
        let mut conn = pool.acquire().await?;
        sqlx::query("set lock_timeout = '10s'")
            .execute(&mut *conn)
            .await?;
        let locked = sqlx::query("select pg_advisory_lock($1)")
            .bind(lock_key)
            .execute(&mut *conn)
            .await;
        sqlx::query("reset lock_timeout")
            .execute(&mut *conn)
            .await?;
        match locked {
            Ok(_) => Ok(KeyLock {
                conn: Some(conn),
                key: lock_key,
            }),
            Err(_) => Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "idempotency.in_progress",
                "a request with this Idempotency-Key is still being processed; retry",
            )),
        }
    }

    pub async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            if sqlx::query("select pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *conn)
                .await
                .is_err()
            {
                // Never return a connection that may still hold the lock to the pool.
                let _ = conn.detach();
            }
        }
    }
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Dropped without release (a panic or cancelled request): close the connection
            // so the session lock goes with it.
            drop(conn.detach());
        }
    }
}

/// Runs a command request at most once per `Idempotency-Key`: without a key it executes;
/// with one it serialises duplicates on the key's lock, answers a repeat from the events the
/// first request wrote (`replay` gets the last of them) and refuses a key reused for a
/// different request. The flag says whether the answer is a replay.
pub async fn idempotent<T>(
    pool: &PgPool,
    ctx: &crate::context::CommandContext,
    body: &serde_json::Value,
    execute: impl AsyncFnOnce(&CommandMeta) -> Result<T, ApiError>,
    replay: impl AsyncFnOnce(&StoredEvent) -> Result<T, ApiError>,
) -> Result<(bool, T), ApiError> {
    let hash = request_hash(&ctx.method, &ctx.path, body);
    let mut meta = ctx.meta.clone();
    meta.request_hash = Some(hash.clone());
    let Some(key) = &ctx.idempotency else {
        return Ok((false, execute(&meta).await?));
    };
    let lock = KeyLock::acquire(pool, &meta.actor, key).await?;
    let result = async {
        let prior = prior_events(pool, &meta.actor, key).await?;
        if let Some(last) = prior.last() {
            check_same_request(&prior, &hash)?;
            return Ok((true, replay(last).await?));
        }
        Ok((false, execute(&meta).await?))
    }
    .await;
    lock.release().await;
    result
}

/// Events already written under this key by this actor.
pub async fn prior_events(
    pool: &PgPool,
    actor: &Actor,
    key: &IdempotencyKey,
) -> Result<Vec<StoredEvent>, ApiError> {
    let actor = actor.to_string();
    Ok(event::read_by_idempotency_key(pool, key.as_str())
        .await?
        .into_iter()
        .filter(|e| e.meta("actor") == Some(actor.as_str()))
        .collect())
}

/// Refuses a key first used for a different request.
pub fn check_same_request(prior: &[StoredEvent], hash: &str) -> Result<(), ApiError> {
    if prior.iter().any(|e| e.meta("request_hash") != Some(hash)) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency.key_reused",
            "this Idempotency-Key was already used for a different request",
        ));
    }
    Ok(())
}

/// The state of an agent run right after `upto` (its sequence; `i64::MAX` for now), folded
/// from the store.
pub async fn agent_run_state_at(pool: &PgPool, id: &str, upto: i64) -> Result<AgentRun, ApiError> {
    let events = event::read_aggregate(pool, "agent_run", id).await?;
    fold_agent_run(events.into_iter().take_while(|e| e.sequence <= upto))
}

/// Folds an agent run's stored events into its state.
pub fn fold_agent_run(events: impl IntoIterator<Item = StoredEvent>) -> Result<AgentRun, ApiError> {
    let mut run = AgentRun::default();
    for e in events {
        let decoded = AgentRunEvent::decode(&e.event_type, &e.event_version, e.payload)
            .map_err(ApiError::internal)?;
        run.apply(decoded);
    }
    Ok(run)
}

/// The state of a queue item right after `upto` (its sequence), folded from the store.
pub async fn queue_state_at(pool: &PgPool, id: &str, upto: i64) -> Result<QueueItem, ApiError> {
    let mut item = QueueItem::default();
    for e in event::read_aggregate(pool, "queue_item", id).await? {
        if e.sequence > upto {
            break;
        }
        let decoded = QueueItemEvent::decode(&e.event_type, &e.event_version, e.payload)
            .map_err(ApiError::internal)?;
        item.apply(decoded);
    }
    Ok(item)
}
