//! Executing commands: load the aggregate (from its snapshot), let a guard look at it,
//! decide, append the events with the command's metadata, retry optimistic-concurrency
//! conflicts with fresh state a bounded number of times, and hand back the new state and a
//! consistency token. One bus serves every [`Aggregate`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::{Aggregate, DomainError};
use caseyos_domain::kernel::{Actor, Checkpoint};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateError, DomainEvent, EventStore};
use postgres_es::PostgresEventRepository;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::StoreError;

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

/// A guard's refusal: the caller may not act on this aggregate (authorization that depends
/// on its state, such as its owner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The domain refused the command.
    #[error(transparent)]
    Rejected(E),
    /// The guard refused the caller.
    #[error("refused: {}", .0 .0)]
    Refused(Refusal),
    #[error("the aggregate changed concurrently too often; retry")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: DomainError> CommandError<E> {
    /// The stable machine code of the failure (the domain's own for a rejection).
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Rejected(e) => e.code(),
            CommandError::Refused(_) => "auth.forbidden",
            CommandError::Conflict => "concurrency.conflict",
            CommandError::Store(_) => "internal",
        }
    }
}

/// What the bus reports about each command (metrics).
pub trait CommandObserver: Send + Sync {
    /// `outcome` is `ok`, `noop`, `rejected`, `conflict` or `error`.
    fn command(&self, aggregate_type: &'static str, command: &'static str, outcome: &'static str);
    /// An optimistic-concurrency conflict that is about to be retried.
    fn conflict_retry(&self);
}

/// An observer that records nothing (one-off commands: the CLI, demo data, tests).
pub struct Unobserved;

impl CommandObserver for Unobserved {
    fn command(&self, _: &'static str, _: &'static str, _: &'static str) {}
    fn conflict_retry(&self) {}
}

/// Runs commands against the event store.
pub struct CommandBus {
    pool: PgPool,
    snapshot_every: usize,
    max_retries: u32,
    observer: Arc<dyn CommandObserver>,
}

impl CommandBus {
    pub fn new(
        pool: PgPool,
        snapshot_every: usize,
        max_retries: u32,
        observer: Arc<dyn CommandObserver>,
    ) -> Self {
        CommandBus {
            pool,
            snapshot_every,
            max_retries,
            observer,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs a command on the aggregate `A` with this id.
    pub async fn execute<A: Aggregate>(
        &self,
        id: impl fmt::Display,
        command: A::Command,
        meta: &CommandMeta,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        self.execute_guarded(id, command, meta, |_: &A| Ok(()))
            .await
    }

    /// Runs a command on the aggregate `A` with this id. `guard` sees the current state
    /// first and may refuse (authorization that depends on the aggregate, such as its
    /// owner).
    pub async fn execute_guarded<A: Aggregate>(
        &self,
        id: impl fmt::Display,
        command: A::Command,
        meta: &CommandMeta,
        guard: impl Fn(&A) -> Result<(), Refusal>,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        let name = A::command_name(&command);
        let result = self.run(&id.to_string(), command, meta, guard).await;
        self.observer.command(A::TYPE, name, outcome_of(&result));
        result
    }

    async fn run<A: Aggregate>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        meta: &CommandMeta,
        guard: impl Fn(&A) -> Result<(), Refusal>,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        let store: PersistedEventStore<PostgresEventRepository, Stored<A>> =
            PersistedEventStore::new_snapshot_store(
                PostgresEventRepository::new(self.pool.clone()),
                self.snapshot_every,
            );
        let command_id = Uuid::now_v7();
        let metadata = meta.to_map(command_id);
        let store_error = |e: AggregateError<A::Error>| {
            CommandError::Store(StoreError::EventStore(e.to_string()))
        };
        for attempt in 0..=self.max_retries {
            let context = store
                .load_aggregate(aggregate_id)
                .await
                .map_err(store_error)?;
            guard(&context.aggregate.0).map_err(CommandError::Refused)?;
            // Decide on a copy: cqrs-es applies events to the aggregate in the context again
            // when it writes a snapshot from it.
            let mut working = context.aggregate.0.clone();
            let events = working
                .decide(command.clone())
                .map_err(CommandError::Rejected)?;
            for event in &events {
                working.apply(event.clone());
            }
            if events.is_empty() {
                let token = match context.current_sequence {
                    0 => None,
                    current => Some(self.position_of::<A>(aggregate_id, current).await?),
                };
                return Ok(Committed {
                    state: working,
                    events: 0,
                    token,
                });
            }
            let count = events.len();
            let base_sequence = context.current_sequence;
            let events = events.into_iter().map(StoredEventOf).collect();
            match store.commit(events, context, metadata.clone()).await {
                Ok(envelopes) => {
                    let last = envelopes.last().map_or(base_sequence, |e| e.sequence);
                    let token = self.position_of::<A>(aggregate_id, last).await?;
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
                        .committed_sequence::<A>(aggregate_id, base_sequence, command_id)
                        .await?
                    {
                        let token = self.position_of::<A>(aggregate_id, last).await?;
                        return Ok(Committed {
                            state: working,
                            events: count,
                            token: Some(token),
                        });
                    }
                    self.observer.conflict_retry();
                    let backoff =
                        rand::thread_rng().gen_range(1..=4u64) * u64::from(attempt.min(8) + 1);
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                Err(other) => return Err(store_error(other)),
            }
        }
        Err(CommandError::Conflict)
    }

    async fn position_of<A: Aggregate>(
        &self,
        aggregate_id: &str,
        sequence: usize,
    ) -> Result<Checkpoint, StoreError> {
        let row = sqlx::query(
            "select tx_id::text::bigint as tx, global_position from events \
             where aggregate_type = $1 and aggregate_id = $2 and sequence = $3",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(sequence as i64)
        .fetch_one(&self.pool)
        .await?;
        Ok(Checkpoint {
            tx_id: row.try_get("tx")?,
            position: row.try_get("global_position")?,
        })
    }

    async fn committed_sequence<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after: usize,
        command_id: Uuid,
    ) -> Result<Option<usize>, StoreError> {
        let sequence: Option<i64> = sqlx::query_scalar(
            "select max(sequence) from events where aggregate_type = $1 and aggregate_id = $2 \
             and sequence > $3 and metadata ->> 'command_id' = $4",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(after as i64)
        .bind(command_id.to_string())
        .fetch_one(&self.pool)
        .await?;
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

// ---------------------------------------------------------------------------------------
// postgres-es speaks cqrs-es: one adapter serves every aggregate. Both wrappers serialize
// exactly as what they wrap, so stored events and snapshots are the domain's own JSON.

/// An aggregate as cqrs-es sees it.
#[derive(Clone, Default, Debug, Serialize, Deserialize)]
#[serde(transparent)]
struct Stored<A>(A);

/// An event of `A` as cqrs-es sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent, bound = "")]
struct StoredEventOf<A: Aggregate>(A::Event);

impl<A: Aggregate> DomainEvent for StoredEventOf<A> {
    fn event_type(&self) -> String {
        A::event_name(&self.0).to_string()
    }

    fn event_version(&self) -> String {
        A::EVENT_VERSION.to_string()
    }
}

impl<A: Aggregate> cqrs_es::Aggregate for Stored<A> {
    const TYPE: &'static str = A::TYPE;
    type Command = A::Command;
    type Event = StoredEventOf<A>;
    type Error = A::Error;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.0.decide(command)? {
            sink.write(StoredEventOf(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.0.apply(event.0);
    }
}
