//! The event store's write path: the bus loads an aggregate in one statement and appends a
//! command's events in one more, on postgres-es's schema. These tests hold it to postgres-es
//! itself (the schema's reference implementation, through cqrs-es's own event store) in
//! both directions, and to the fold of every stored event across snapshots.

use std::sync::Arc;

use caseyos_domain::aggregate::{fold, Aggregate, DomainError, RejectionKind};
use caseyos_domain::kernel::Actor;
use caseyos_domain::queue::{
    ApproveQueueItem, EditQueueItem, QueueItem, QueueItemCommand, RejectQueueItem,
};
use caseyos_store::bus::Unobserved;
use caseyos_store::event::read_history;
use caseyos_store::{now, CommandBus, CommandMeta};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{DomainEvent, EventStore};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

// -- cqrs-es's view of any CaseyOS aggregate (serialized exactly as what it wraps) --------

#[derive(Clone, Default, Debug, Serialize, Deserialize)]
#[serde(transparent)]
struct Stored<A>(A);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent, bound = "")]
struct StoredEvent<A: Aggregate>(A::Event);

impl<A: Aggregate> DomainEvent for StoredEvent<A> {
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
    type Event = StoredEvent<A>;
    type Error = A::Error;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.0.decide(command)? {
            sink.write(StoredEvent(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.0.apply(event.0);
    }
}

/// postgres-es's event store for `A`, snapshotting every `every` events.
fn postgres_es<A: Aggregate>(
    pool: &PgPool,
    every: usize,
) -> PersistedEventStore<PostgresEventRepository, Stored<A>> {
    PersistedEventStore::new_snapshot_store(PostgresEventRepository::new(pool.clone()), every)
}

// -- An aggregate whose commands write several events --------------------------------------

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Tally {
    /// Every value added, in order.
    values: Vec<u32>,
}

#[derive(Clone, Debug)]
struct AddMany(Vec<u32>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Added {
    value: u32,
}

#[derive(Clone, Debug, PartialEq)]
struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}

impl std::error::Error for Never {}

impl DomainError for Never {
    fn code(&self) -> &'static str {
        "tally.never"
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::Conflict
    }
}

impl Aggregate for Tally {
    const TYPE: &'static str = "test_tally";
    const EVENT_VERSION: &'static str = "1";
    type Command = AddMany;
    type Event = Added;
    type Error = Never;
    type View = Tally;

    fn command_name(_: &AddMany) -> &'static str {
        "AddMany"
    }

    fn event_name(_: &Added) -> &'static str {
        "Added"
    }

    fn decide(&self, command: AddMany) -> Result<Vec<Added>, Never> {
        Ok(command.0.into_iter().map(|value| Added { value }).collect())
    }

    fn apply(&mut self, event: Added) {
        self.values.push(event.value);
    }

    fn view(&self) -> Option<&Tally> {
        Some(self)
    }

    fn into_view(self) -> Option<Tally> {
        Some(self)
    }
}

fn bus(pool: &PgPool, snapshot_every: usize) -> CommandBus {
    CommandBus::new(pool.clone(), snapshot_every, 3, Arc::new(Unobserved))
}

async fn folded<A: Aggregate>(pool: &PgPool, id: &str) -> A {
    let events = read_history::<A>(pool, id).await.unwrap();
    fold(events.iter().map(|e| e.recorded())).unwrap()
}

async fn snapshot_sequence(pool: &PgPool, aggregate_type: &str, id: &str) -> Option<i64> {
    sqlx::query_scalar(
        "select last_sequence from snapshots where aggregate_type = $1 and aggregate_id = $2",
    )
    .bind(aggregate_type)
    .bind(id)
    .fetch_optional(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn commands_of_several_events_across_snapshots_load_as_the_fold_of_every_event() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let bus = bus(&pool, 5);
    let meta = CommandMeta::system("test");
    let id = Uuid::now_v7().to_string();
    let mut expected = Vec::new();
    // 4 + 3 + 4 + 1 events: the snapshot boundaries 5 and 10 fall inside commands.
    for batch in [
        vec![1, 2, 3, 4],
        vec![5, 6, 7],
        vec![8, 9, 10, 11],
        vec![12],
    ] {
        expected.extend(batch.iter().copied());
        let committed = bus
            .execute::<Tally>(&id, AddMany(batch.clone()), &meta)
            .await
            .unwrap();
        assert_eq!(committed.events, batch.len());
        assert_eq!(committed.state.values, expected);
    }
    // The snapshot holds the state after the command that crossed the last boundary.
    assert_eq!(snapshot_sequence(&pool, Tally::TYPE, &id).await, Some(11));
    // A no-op command loads from the snapshot plus the tail: the fold of every event.
    let loaded = bus
        .execute::<Tally>(&id, AddMany(vec![]), &meta)
        .await
        .unwrap();
    assert_eq!(loaded.events, 0);
    assert_eq!(loaded.state.values, expected);
    assert_eq!(folded::<Tally>(&pool, &id).await, loaded.state);
    // Its token is the position of the last event.
    let last = read_history::<Tally>(&pool, &id).await.unwrap();
    assert_eq!(loaded.token, Some(last.last().unwrap().checkpoint()));
    // postgres-es reads the same aggregate to the same state.
    let context = postgres_es::<Tally>(&pool, 5)
        .load_aggregate(&id)
        .await
        .unwrap();
    assert_eq!(context.aggregate.0, loaded.state);
    assert_eq!(context.current_sequence, expected.len());
}

#[tokio::test]
async fn the_bus_and_postgres_es_read_and_continue_each_others_aggregates() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let bus = bus(&pool, 3);
    let meta = CommandMeta::system("test");
    let actor = Actor::user("admin");
    let id = Uuid::now_v7();
    let edit = |n: usize| {
        QueueItemCommand::Edit(EditQueueItem {
            title: Some(caseyos_domain::kernel::Text::parse(&format!("Edit {n}"), 200).unwrap()),
            by: Some(actor.clone()),
            at: Some(now()),
            ..EditQueueItem::default()
        })
    };
    let proposal = caseyos_tests::propose_command(id, "First");
    bus.execute::<QueueItem>(id, proposal, &meta).await.unwrap();
    for n in 1..=4 {
        bus.execute::<QueueItem>(id, edit(n), &meta).await.unwrap();
    }
    // postgres-es continues it (its own load, snapshot and commit)...
    let store = postgres_es::<QueueItem>(&pool, 3);
    for n in 5..=7 {
        let context = store.load_aggregate(&id.to_string()).await.unwrap();
        let events = context
            .aggregate
            .0
            .decide(edit(n))
            .unwrap()
            .into_iter()
            .map(StoredEvent)
            .collect();
        store
            .commit(events, context, Default::default())
            .await
            .unwrap();
    }
    // ...and the bus continues after it, reading its snapshot and events.
    let committed = bus.execute::<QueueItem>(id, edit(8), &meta).await.unwrap();
    assert_eq!(committed.events, 1);
    let state: QueueItem = folded(&pool, &id.to_string()).await;
    assert_eq!(committed.state, state);
    assert_eq!(state.item.as_ref().unwrap().title, "Edit 8");
    let history = read_history::<QueueItem>(&pool, &id.to_string())
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    assert_eq!(json!(history[8].meta("actor")), json!("system:test"));
}

#[tokio::test]
async fn a_new_aggregate_whose_id_is_taken_after_all_is_loaded_and_decided_again() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let bus = bus(&pool, 100);
    let meta = CommandMeta::system("test");
    let id = Uuid::now_v7().to_string();
    let first = bus
        .execute_new::<Tally>(&id, AddMany(vec![1, 2]), &meta, |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(first.state.values, vec![1, 2]);
    // The same id again as "new": the skipped load meets a taken sequence, so the bus
    // loads and decides on the real state.
    let second = bus
        .execute_new::<Tally>(&id, AddMany(vec![3]), &meta, |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(second.state.values, vec![1, 2, 3]);
    assert_eq!(folded::<Tally>(&pool, &id).await, second.state);
}

#[tokio::test]
async fn a_state_remembered_by_one_instance_is_never_decided_on_after_another_changed_it() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    // Two instances' buses on one database; each remembers what its own commands left.
    let (here, there) = (bus(&pool, 100), bus(&pool, 100));
    let meta = CommandMeta::system("test");
    let id = Uuid::now_v7().to_string();
    here.execute::<Tally>(&id, AddMany(vec![1]), &meta)
        .await
        .unwrap();
    there
        .execute::<Tally>(&id, AddMany(vec![2]), &meta)
        .await
        .unwrap();
    // `here` still remembers [1]: its append meets a taken sequence, so it decides again on
    // the stored state.
    let committed = here
        .execute::<Tally>(&id, AddMany(vec![3]), &meta)
        .await
        .unwrap();
    assert_eq!(committed.state.values, vec![1, 2, 3]);
    assert_eq!(folded::<Tally>(&pool, &id).await, committed.state);

    // A decision that would differ: a move rejected elsewhere is not approved here.
    let item = Uuid::now_v7();
    here.execute::<QueueItem>(
        item,
        caseyos_tests::propose_command(item, "Call Ada"),
        &meta,
    )
    .await
    .unwrap();
    let actor = Actor::user("admin");
    there
        .execute::<QueueItem>(
            item,
            QueueItemCommand::Reject(RejectQueueItem {
                reason: caseyos_domain::kernel::Text::parse("not now", 200).unwrap(),
                by: actor.clone(),
                at: now(),
            }),
            &meta,
        )
        .await
        .unwrap();
    let approving = here
        .execute::<QueueItem>(
            item,
            QueueItemCommand::Approve(ApproveQueueItem {
                note: None,
                by: actor,
                at: now(),
            }),
            &meta,
        )
        .await;
    let error = approving.expect_err("the move was rejected");
    assert_eq!(error.code(), "queue.already_rejected", "{error}");
    let state: QueueItem = folded(&pool, &item.to_string()).await;
    assert_eq!(
        state.item.unwrap().status,
        caseyos_domain::queue::QueueStatus::Rejected
    );
}
