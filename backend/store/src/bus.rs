//! Executing commands: load the aggregate (from its snapshot), let a guard look at it,
//! decide, append the events with the command's metadata, retry optimistic-concurrency
//! conflicts with fresh state a bounded number of times, and hand back the new state and a
//! consistency token. One bus serves every [`Aggregate`].

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::{Aggregate, DomainError, Payload, RecordedEvent};
use caseyos_domain::kernel::{Actor, Checkpoint};
use rand::Rng;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::event;
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

    /// The metadata every event of the command carries (all values are strings).
    fn to_json(&self, command_id: Uuid) -> Value {
        let mut map = serde_json::Map::new();
        let mut put = |key: &str, value: String| {
            map.insert(key.to_string(), Value::String(value));
        };
        put("actor", self.actor.to_string());
        put("request_id", self.request_id.clone());
        put("correlation_id", self.correlation_id.clone());
        put("causation_id", self.causation_id.clone());
        put("command_id", command_id.to_string());
        if let Some(key) = &self.idempotency_key {
            put("idempotency_key", key.clone());
        }
        if let Some(hash) = &self.request_hash {
            put("request_hash", hash.clone());
        }
        Value::Object(map)
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

/// What one command of a batch came to.
pub type Outcome<A> = Result<Committed<A>, CommandError<<A as Aggregate>::Error>>;

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
    appended: Wake,
    recent: Recent,
}

/// Tells the projectors of every instance that events were committed: one
/// `pg_notify(EVENTS_CHANNEL)` at a time in a task of its own, however many appends
/// happened meanwhile. Not from inside the appending transaction: a transaction that
/// notifies holds PostgreSQL's notify lock until it ends, its commit flush included, which
/// made every command's commit wait for the one before it.
struct Wake(tokio::sync::mpsc::Sender<()>);

impl Wake {
    fn spawn(pool: PgPool) -> Wake {
        let (sender, mut woken) = tokio::sync::mpsc::channel::<()>(1);
        tokio::spawn(async move {
            // Ends when the bus is dropped.
            while woken.recv().await.is_some() {
                if let Err(error) = sqlx::query("select pg_notify($1, '')")
                    .bind(event::EVENTS_CHANNEL)
                    .execute(&pool)
                    .await
                {
                    // The projectors' poll picks the events up instead.
                    tracing::debug!(error = %error, "waking the projectors failed");
                }
            }
        });
        Wake(sender)
    }

    fn wake(&self) {
        // A wake already pending covers this append too.
        let _ = self.0.try_send(());
    }
}

impl CommandBus {
    /// A bus on `pool`; call it inside a Tokio runtime (it starts the task that wakes the
    /// projectors after appends).
    pub fn new(
        pool: PgPool,
        snapshot_every: usize,
        max_retries: u32,
        observer: Arc<dyn CommandObserver>,
    ) -> Self {
        CommandBus {
            appended: Wake::spawn(pool.clone()),
            recent: Recent::default(),
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
        self.observed(id, command, meta, guard, false).await
    }

    /// [`execute_guarded`](Self::execute_guarded) for an aggregate whose id the caller has
    /// just made up (a UUIDv7): the first attempt assumes it has no events and skips the
    /// load; an id that is taken after all is a conflict, retried with a load as usual.
    pub async fn execute_new<A: Aggregate>(
        &self,
        id: impl fmt::Display,
        command: A::Command,
        meta: &CommandMeta,
        guard: impl Fn(&A) -> Result<(), Refusal>,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        self.observed(id, command, meta, guard, true).await
    }

    async fn observed<A: Aggregate>(
        &self,
        id: impl fmt::Display,
        command: A::Command,
        meta: &CommandMeta,
        guard: impl Fn(&A) -> Result<(), Refusal>,
        new: bool,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        let name = A::command_name(&command);
        let result = self.run(&id.to_string(), command, meta, guard, new).await;
        self.observer.command(A::TYPE, name, outcome_of(&result));
        result
    }

    async fn run<A: Aggregate>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        meta: &CommandMeta,
        guard: impl Fn(&A) -> Result<(), Refusal>,
        new: bool,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        let command_id = Uuid::now_v7();
        let metadata = meta.to_json(command_id);
        // First on a guess, without loading: nothing for an id just made up, else the state a
        // command left in this instance. Only a decision that writes is taken on a guess, and
        // the append confirms it (a sequence taken since is a conflict); anything else is
        // decided again on the stored state.
        let guess = if new {
            Some(Loaded::empty())
        } else {
            self.recent.get::<A>(aggregate_id)
        };
        if let Some(guess) = guess {
            let events = match guard(&guess.state) {
                Ok(()) => guess.state.decide(command.clone()).unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            if !events.is_empty() {
                match self.commit(aggregate_id, guess, events, &metadata).await {
                    Ok(committed) => return Ok(committed),
                    Err(Append::Conflict) => self.recent.forget::<A>(aggregate_id),
                    Err(Append::Failed(error)) => return Err(CommandError::Store(error)),
                }
            }
        }
        for attempt in 0..=self.max_retries {
            let loaded = load::<A>(&self.pool, aggregate_id).await?;
            guard(&loaded.state).map_err(CommandError::Refused)?;
            let events = loaded
                .state
                .decide(command.clone())
                .map_err(CommandError::Rejected)?;
            if events.is_empty() {
                if loaded.sequence > 0 {
                    self.recent.put(aggregate_id, loaded.clone());
                }
                return Ok(Committed {
                    state: loaded.state,
                    events: 0,
                    token: loaded.last,
                });
            }
            match self.commit(aggregate_id, loaded, events, &metadata).await {
                Ok(committed) => return Ok(committed),
                Err(Append::Conflict) => {
                    self.observer.conflict_retry();
                    let backoff =
                        rand::thread_rng().gen_range(1..=4u64) * u64::from(attempt.min(8) + 1);
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                Err(Append::Failed(error)) => return Err(CommandError::Store(error)),
            }
        }
        Err(CommandError::Conflict)
    }

    /// Appends a decision's events after `loaded`; then wakes the projectors, writes a
    /// snapshot when the command crossed a multiple of `snapshot_every`, and remembers the
    /// new state as the next command's guess.
    async fn commit<A: Aggregate>(
        &self,
        aggregate_id: &str,
        loaded: Loaded<A>,
        events: Vec<A::Event>,
        metadata: &Value,
    ) -> Result<Committed<A>, Append> {
        let appending = Appending::<A> {
            aggregate_id,
            after: loaded.sequence,
            events: &events,
            metadata,
        };
        let token = append::<A>(&self.pool, &[appending]).await?[0];
        self.appended.wake();
        let state = self
            .after_append(aggregate_id, loaded.sequence, loaded.state, &events)
            .await;
        let last = loaded.sequence + events.len() as i64;
        self.recent.put(
            aggregate_id,
            Loaded {
                state: state.clone(),
                sequence: last,
                last: Some(token),
            },
        );
        Ok(Committed {
            state,
            events: events.len(),
            token: Some(token),
        })
    }

    /// The state after an append of `events` after `sequence`; writes a snapshot when they
    /// crossed a multiple of `snapshot_every`.
    async fn after_append<A: Aggregate>(
        &self,
        aggregate_id: &str,
        sequence: i64,
        mut state: A,
        events: &[A::Event],
    ) -> A {
        for event in events {
            state.apply(event.clone());
        }
        let last = sequence + events.len() as i64;
        let every = self.snapshot_every.max(1) as i64;
        if sequence / every != last / every {
            // A snapshot is only a shortcut for loading: if writing it fails, the next load
            // folds a few more events.
            if let Err(error) = save_snapshot(&self.pool, aggregate_id, last, &state).await {
                tracing::warn!(aggregate.type = A::TYPE, aggregate.id = aggregate_id, error = %error, "writing a snapshot failed");
            }
        }
        state
    }

    /// Runs many commands, each on its own aggregate of type `A` whose id the caller made up
    /// or expects to be new (a deterministic id of an imported record), with the events of
    /// all of them appended in **one statement** and one wake-up of the projectors.
    ///
    /// Each command is decided on the empty state. A batch statement is atomic: either
    /// every command in it has its events written or none has. When it meets a taken
    /// sequence (an id that has events after all), nothing of it is written; one look finds
    /// the ids that have events, their commands run one by one through the ordinary path of
    /// [`execute_new`](Self::execute_new) (a load and a decision on the stored state, so a
    /// record imported before yields what its command yields on its own, typically a
    /// rejection or a no-op), and the rest are appended again in one statement (after
    /// `max_retries` such conflicts, they too run one by one). A command whose decision on
    /// the empty state is a rejection or a no-op, and a second command on an id already in
    /// the batch, is never batched: it runs on its own after the batch, in the order given,
    /// so its answer comes from the stored state. So the batch as a whole is not
    /// all-or-nothing; each command is, as with [`execute`](Self::execute).
    ///
    /// The answer has one result per command, in the order given. `Err` only when a batch
    /// statement itself failed (not a conflict): then nothing of that statement was
    /// written, though an earlier round's may have been. Batched states are not remembered as guesses for later commands (an import
    /// would push out every interactive aggregate's). No guard: callers authorize the
    /// batch as a whole.
    pub async fn execute_new_many<A: Aggregate>(
        &self,
        commands: Vec<(Uuid, A::Command)>,
        meta: &CommandMeta,
    ) -> Result<Vec<Outcome<A>>, StoreError> {
        struct Decided<A: Aggregate> {
            index: usize,
            id: String,
            command: A::Command,
            events: Vec<A::Event>,
            metadata: Value,
        }
        let mut answers: Vec<Option<Outcome<A>>> = Vec::with_capacity(commands.len());
        let mut batched: Vec<Decided<A>> = Vec::with_capacity(commands.len());
        let mut alone: Vec<(usize, String, A::Command)> = Vec::new();
        let mut seen = std::collections::HashSet::with_capacity(commands.len());
        let empty = A::default();
        for (index, (id, command)) in commands.into_iter().enumerate() {
            answers.push(None);
            let id = id.to_string();
            if !seen.insert(id.clone()) {
                alone.push((index, id, command));
                continue;
            }
            match empty.decide(command.clone()) {
                Ok(events) if !events.is_empty() => batched.push(Decided {
                    index,
                    id,
                    command,
                    events,
                    metadata: meta.to_json(Uuid::now_v7()),
                }),
                _ => alone.push((index, id, command)),
            }
        }
        // Each round appends what is still batched in one statement. A conflict names no id:
        // one look finds the ids that have events by now, those run alone, and the rest
        // are batched again (a bounded number of times, then everything runs alone).
        let mut rounds = 0;
        while !batched.is_empty() {
            let appending: Vec<Appending<'_, A>> = batched
                .iter()
                .map(|d| Appending {
                    aggregate_id: &d.id,
                    after: 0,
                    events: &d.events,
                    metadata: &d.metadata,
                })
                .collect();
            match append::<A>(&self.pool, &appending).await {
                Ok(tokens) => {
                    drop(appending);
                    self.appended.wake();
                    for (decided, token) in std::mem::take(&mut batched).into_iter().zip(tokens) {
                        let state = self
                            .after_append(&decided.id, 0, A::default(), &decided.events)
                            .await;
                        self.observer
                            .command(A::TYPE, A::command_name(&decided.command), "ok");
                        answers[decided.index] = Some(Ok(Committed {
                            state,
                            events: decided.events.len(),
                            token: Some(token),
                        }));
                    }
                }
                Err(Append::Conflict) => {
                    drop(appending);
                    self.observer.conflict_retry();
                    rounds += 1;
                    let taken = if rounds > self.max_retries {
                        None
                    } else {
                        let ids: Vec<&str> = batched.iter().map(|d| d.id.as_str()).collect();
                        Some(existing::<A>(&self.pool, &ids).await?)
                    };
                    let (stay, go): (Vec<_>, Vec<_>) = std::mem::take(&mut batched)
                        .into_iter()
                        .partition(|d| taken.as_ref().is_some_and(|t| !t.contains(&d.id)));
                    batched = stay;
                    alone.extend(go.into_iter().map(|d| (d.index, d.id, d.command)));
                }
                Err(Append::Failed(error)) => return Err(error),
            }
        }
        alone.sort_by_key(|(index, _, _)| *index);
        for (index, id, command) in alone {
            answers[index] = Some(
                self.observed(&id, command, meta, |_: &A| Ok(()), true)
                    .await,
            );
        }
        answers
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| StoreError::EventStore("a command of the batch was not answered".into()))
    }
}

/// The states commands left in this instance, by aggregate: guesses for the next command
/// on the same aggregate, which its append confirms or refutes. Bounded: a full map is
/// emptied.
#[derive(Default)]
struct Recent {
    states: std::sync::Mutex<HashMap<RecentKey, Box<dyn Any + Send>>>,
}

/// An aggregate's type and id.
type RecentKey = (&'static str, String);

/// Aggregates whose last state is remembered at most.
const RECENT_CAPACITY: usize = 4096;

impl Recent {
    fn get<A: Aggregate>(&self, id: &str) -> Option<Loaded<A>> {
        let states = self.states.lock().expect("recent states lock");
        states
            .get(&(A::TYPE, id.to_string()))?
            .downcast_ref::<Loaded<A>>()
            .cloned()
    }

    fn put<A: Aggregate>(&self, id: &str, loaded: Loaded<A>) {
        let mut states = self.states.lock().expect("recent states lock");
        if states.len() >= RECENT_CAPACITY {
            states.clear();
        }
        states.insert((A::TYPE, id.to_string()), Box::new(loaded));
    }

    fn forget<A: Aggregate>(&self, id: &str) {
        let mut states = self.states.lock().expect("recent states lock");
        states.remove(&(A::TYPE, id.to_string()));
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
// The event store's two statements. The tables are postgres-es's (`events`, `snapshots`),
// read and written the way postgres-es does, with one statement for a load and one for an
// append instead of its five round trips; `store_compat` tests both ways round.

/// An aggregate as the bus loaded it.
#[derive(Clone)]
struct Loaded<A> {
    state: A,
    /// Its last sequence (0 for a new aggregate).
    sequence: i64,
    /// The position of its last event.
    last: Option<Checkpoint>,
}

impl<A: Default> Loaded<A> {
    /// An aggregate with no events.
    fn empty() -> Self {
        Loaded {
            state: A::default(),
            sequence: 0,
            last: None,
        }
    }
}

/// The snapshot (if any), the position of the last event, and the events after the
/// snapshot, in one statement.
const LOAD: &str = "\
    with s as (select last_sequence, payload from snapshots \
               where aggregate_type = $1 and aggregate_id = $2) \
    select 's' as kind, last_sequence as sequence, null::bigint as tx, \
           null::bigint as global_position, null::text as event_type, \
           null::text as event_version, payload::text as payload from s \
    union all \
    (select 'h', sequence, tx_id::text::bigint, global_position, null, null, null \
     from events where aggregate_type = $1 and aggregate_id = $2 \
     order by sequence desc limit 1) \
    union all \
    (select 'e', sequence, null, null, event_type, event_version, payload::text \
     from events where aggregate_type = $1 and aggregate_id = $2 \
       and sequence > coalesce((select last_sequence from s), 0) \
     order by sequence)";

/// One event after the snapshot, as the load read it (the payload as JSON text).
struct Tail {
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
}

async fn load<A: Aggregate>(pool: &PgPool, aggregate_id: &str) -> Result<Loaded<A>, StoreError> {
    let rows = sqlx::query(LOAD)
        .bind(A::TYPE)
        .bind(aggregate_id)
        .fetch_all(pool)
        .await?;
    let mut snapshot: Option<(i64, String)> = None;
    let mut last = None;
    let mut tail = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: &str = row.try_get("kind")?;
        let sequence: i64 = row.try_get("sequence")?;
        match kind {
            "s" => snapshot = Some((sequence, row.try_get("payload")?)),
            "h" => {
                last = Some(Checkpoint {
                    tx_id: row.try_get("tx")?,
                    position: row.try_get("global_position")?,
                })
            }
            _ => tail.push(Tail {
                sequence,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
            }),
        }
    }
    let from_snapshot = match &snapshot {
        None => Some((0, A::default())),
        // A snapshot this version cannot read (the aggregate's shape changed) is ignored:
        // the state is folded from every event instead.
        Some((sequence, payload)) => serde_json::from_str::<A>(payload)
            .ok()
            .map(|state| (*sequence, state)),
    };
    let Some((mut sequence, mut state)) = from_snapshot else {
        let all = event::read_history::<A>(pool, aggregate_id).await?;
        return Ok(Loaded {
            state: crate::history::state_of(&all)?,
            sequence: all.last().map_or(0, |e| e.sequence),
            last,
        });
    };
    for event in &tail {
        state.apply(A::decode(RecordedEvent {
            event_type: &event.event_type,
            event_version: &event.event_version,
            payload: Payload::Json(&event.payload),
        })?);
        sequence = event.sequence;
    }
    Ok(Loaded {
        state,
        sequence,
        last,
    })
}

/// Why an append did not happen.
enum Append {
    /// Another command appended to the aggregate since it was loaded.
    Conflict,
    Failed(StoreError),
}

/// One aggregate's part of an append: its events after its sequence `after`, with the
/// metadata of the command that decided them.
struct Appending<'a, A: Aggregate> {
    aggregate_id: &'a str,
    after: i64,
    events: &'a [A::Event],
    metadata: &'a Value,
}

/// Appends the events of one or many commands (each on its own aggregate of one type), all
/// in one statement — so atomically, without a transaction of several round trips — and
/// returns the position of each one's last event, in the order given. A sequence already
/// taken is a conflict: the primary key refuses the whole statement, so nothing of it is
/// written.
const APPEND: &str = "\
    insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                        payload, metadata) \
    select $1, e.aggregate_id, e.sequence, e.event_type, $2, e.payload, e.metadata \
    from unnest($3::text[], $4::bigint[], $5::text[], $6::jsonb[], $7::jsonb[]) \
         with ordinality as e(aggregate_id, sequence, event_type, payload, metadata, n) \
    order by e.n \
    returning aggregate_id, sequence, tx_id::text::bigint as tx, global_position";

async fn append<A: Aggregate>(
    pool: &PgPool,
    batch: &[Appending<'_, A>],
) -> Result<Vec<Checkpoint>, Append> {
    let count: usize = batch.iter().map(|a| a.events.len()).sum();
    let mut ids: Vec<&str> = Vec::with_capacity(count);
    let mut sequences: Vec<i64> = Vec::with_capacity(count);
    let mut types: Vec<&str> = Vec::with_capacity(count);
    let mut payloads: Vec<Json<&A::Event>> = Vec::with_capacity(count);
    let mut metadata: Vec<Json<&Value>> = Vec::with_capacity(count);
    for appending in batch {
        for (n, event) in appending.events.iter().enumerate() {
            ids.push(appending.aggregate_id);
            sequences.push(appending.after + 1 + n as i64);
            types.push(A::event_name(event));
            payloads.push(Json(event));
            metadata.push(Json(appending.metadata));
        }
    }
    let rows = sqlx::query(APPEND)
        .bind(A::TYPE)
        .bind(A::EVENT_VERSION)
        .bind(&ids)
        .bind(&sequences)
        .bind(&types)
        .bind(&payloads)
        .bind(&metadata)
        .fetch_all(pool)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => Append::Conflict,
            _ => Append::Failed(error.into()),
        })?;
    let failed = |e: sqlx::Error| Append::Failed(e.into());
    let mut positions: HashMap<(String, i64), Checkpoint> = HashMap::with_capacity(rows.len());
    for row in rows {
        let checkpoint = Checkpoint {
            tx_id: row.try_get("tx").map_err(failed)?,
            position: row.try_get("global_position").map_err(failed)?,
        };
        positions.insert(
            (
                row.try_get("aggregate_id").map_err(failed)?,
                row.try_get("sequence").map_err(failed)?,
            ),
            checkpoint,
        );
    }
    batch
        .iter()
        .map(|appending| {
            let last = appending.after + appending.events.len() as i64;
            positions
                .remove(&(appending.aggregate_id.to_string(), last))
                .ok_or_else(|| {
                    Append::Failed(StoreError::EventStore(
                        "the append did not return an aggregate's last event".into(),
                    ))
                })
        })
        .collect()
}

/// Which of these aggregates of type `A` have events.
async fn existing<A: Aggregate>(
    pool: &PgPool,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "select aggregate_id from events \
         where aggregate_type = $1 and aggregate_id = any($2) and sequence = 1",
    )
    .bind(A::TYPE)
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Records the state after `sequence` as the aggregate's snapshot, unless a newer one is
/// already there.
async fn save_snapshot<A: Aggregate>(
    pool: &PgPool,
    aggregate_id: &str,
    sequence: i64,
    state: &A,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, \
                                payload) \
         values ($1, $2, $3, 1, $4) \
         on conflict (aggregate_type, aggregate_id) do update \
           set last_sequence = excluded.last_sequence, \
               current_snapshot = snapshots.current_snapshot + 1, \
               payload = excluded.payload, created_at = now() \
           where snapshots.last_sequence < excluded.last_sequence",
    )
    .bind(A::TYPE)
    .bind(aggregate_id)
    .bind(sequence)
    .bind(Json(state))
    .execute(pool)
    .await?;
    Ok(())
}
