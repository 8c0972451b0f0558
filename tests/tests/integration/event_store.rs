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

// -- Batches of new aggregates: one statement, a fallback for ids taken after all ---------

/// Every event of the aggregate type, in global order: (id, sequence, tx, position).
async fn all_events(pool: &PgPool, aggregate_type: &str) -> Vec<(String, i64, i64, i64)> {
    sqlx::query_as(
        "select aggregate_id, sequence, tx_id::text::bigint, global_position from events \
         where aggregate_type = $1 order by global_position",
    )
    .bind(aggregate_type)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_batch_of_a_thousand_new_aggregates_is_appended_in_one_statement_and_folds_back() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    // Snapshots every 2 events: each aggregate's second event crosses a boundary.
    let bus = bus(&pool, 2);
    let meta = CommandMeta::system("test");
    let commands: Vec<(Uuid, AddMany)> = (0..1000u32)
        .map(|n| (Uuid::now_v7(), AddMany(vec![n, n + 1])))
        .collect();
    let answers = bus
        .execute_new_many::<Tally>(commands.clone(), &meta)
        .await
        .unwrap();
    assert_eq!(answers.len(), 1000);
    let events = all_events(&pool, Tally::TYPE).await;
    assert_eq!(events.len(), 2000);
    // One statement: one transaction wrote every event...
    let first_tx = events[0].2;
    assert!(events.iter().all(|e| e.2 == first_tx), "one transaction");
    // ...in the order given, each aggregate's two events one after the other.
    for (n, ((id, command), answer)) in commands.iter().zip(&answers).enumerate() {
        let committed = answer.as_ref().unwrap();
        assert_eq!(committed.events, 2, "command {n}");
        assert_eq!(committed.state.values, command.0, "command {n}");
        assert_eq!(events[2 * n].0, id.to_string(), "command {n}");
        assert_eq!(
            (events[2 * n].1, events[2 * n + 1].1),
            (1, 2),
            "command {n}"
        );
        assert_eq!(
            committed.token.map(|t| t.position),
            Some(events[2 * n + 1].3),
            "the token of command {n} is its last event's position"
        );
        assert_eq!(
            folded::<Tally>(&pool, &id.to_string()).await,
            committed.state
        );
    }
    // Every event carries the command's metadata; each command has its own command id.
    let history = read_history::<Tally>(&pool, &commands[7].0.to_string())
        .await
        .unwrap();
    assert_eq!(json!(history[0].meta("actor")), json!("system:test"));
    assert_eq!(history[0].meta("command_id"), history[1].meta("command_id"));
    let other = read_history::<Tally>(&pool, &commands[8].0.to_string())
        .await
        .unwrap();
    assert_ne!(history[0].meta("command_id"), other[0].meta("command_id"));
    // The snapshot written after the batch is read by the next command's load.
    assert_eq!(
        snapshot_sequence(&pool, Tally::TYPE, &commands[3].0.to_string()).await,
        Some(2)
    );
    let next = bus
        .execute::<Tally>(commands[3].0, AddMany(vec![99]), &meta)
        .await
        .unwrap();
    assert_eq!(next.state.values, vec![3, 4, 99]);
}

#[tokio::test]
async fn a_batch_with_a_taken_id_runs_that_command_on_the_stored_state_and_batches_the_rest() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let bus = bus(&pool, 100);
    let meta = CommandMeta::system("test");
    let taken = Uuid::now_v7();
    bus.execute::<Tally>(taken, AddMany(vec![1]), &meta)
        .await
        .unwrap();
    let twice = Uuid::now_v7();
    let fresh: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    let mut commands: Vec<(Uuid, AddMany)> = fresh
        .iter()
        .enumerate()
        .map(|(n, id)| (*id, AddMany(vec![n as u32])))
        .collect();
    commands.insert(5, (taken, AddMany(vec![7])));
    commands.insert(9, (twice, AddMany(vec![10])));
    commands.push((twice, AddMany(vec![11])));
    let answers = bus
        .execute_new_many::<Tally>(commands.clone(), &meta)
        .await
        .unwrap();
    // The taken id was decided again on its stored state, the second command on `twice`
    // after the first.
    assert_eq!(answers[5].as_ref().unwrap().state.values, vec![1, 7]);
    assert_eq!(answers[9].as_ref().unwrap().state.values, vec![10]);
    assert_eq!(answers[22].as_ref().unwrap().state.values, vec![10, 11]);
    assert_eq!(
        folded::<Tally>(&pool, &taken.to_string()).await.values,
        vec![1, 7]
    );
    assert_eq!(
        folded::<Tally>(&pool, &twice.to_string()).await.values,
        vec![10, 11]
    );
    for (n, (id, command)) in commands.iter().enumerate() {
        if *id == taken || *id == twice {
            continue;
        }
        assert_eq!(
            answers[n].as_ref().unwrap().state.values,
            command.0,
            "command {n}"
        );
        assert_eq!(
            folded::<Tally>(&pool, &id.to_string()).await.values,
            command.0
        );
    }
    // The fresh ones and the first on `twice` went in one later statement together.
    let events = all_events(&pool, Tally::TYPE).await;
    let tx_of = |id: Uuid| {
        events
            .iter()
            .find(|e| e.0 == id.to_string() && e.1 == 1)
            .unwrap()
            .2
    };
    let batch_tx = tx_of(fresh[0]);
    assert!(fresh.iter().all(|id| tx_of(*id) == batch_tx));
    assert_eq!(tx_of(twice), batch_tx);
    assert_ne!(tx_of(taken), batch_tx);
    // Each aggregate's sequences run 1, 2, … in global order, with nothing written twice.
    assert_eq!(events.len(), 1 + 1 + 20 + 2);
    let mut last: std::collections::HashMap<&str, i64> = Default::default();
    for (id, sequence, _, _) in &events {
        let previous = last.insert(id.as_str(), *sequence).unwrap_or(0);
        assert_eq!(*sequence, previous + 1, "{id}");
    }
}

#[tokio::test]
async fn a_batch_imported_again_writes_nothing_and_answers_each_command_as_alone() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let bus = bus(&pool, 100);
    let meta = CommandMeta::system("test");
    let commands: Vec<(Uuid, QueueItemCommand)> = (0..50)
        .map(|n| {
            let id = Uuid::now_v7();
            (id, caseyos_tests::propose_command(id, &format!("Move {n}")))
        })
        .collect();
    let first = bus
        .execute_new_many::<QueueItem>(commands.clone(), &meta)
        .await
        .unwrap();
    assert!(first
        .iter()
        .all(|a| a.as_ref().is_ok_and(|c| c.events == 1)));
    let before = all_events(&pool, QueueItem::TYPE).await;
    let again = bus
        .execute_new_many::<QueueItem>(commands, &meta)
        .await
        .unwrap();
    for answer in &again {
        let error = answer.as_ref().unwrap_err();
        assert_eq!(error.code(), "queue.already_exists", "{error}");
    }
    assert_eq!(all_events(&pool, QueueItem::TYPE).await, before);
}
