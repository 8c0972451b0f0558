//! After the run: is every acknowledged write in the event store, exactly once, and do the
//! read models agree with the events?

use std::collections::{BTreeMap, HashMap, HashSet};

use caseyos_domain::kernel::Checkpoint;
use sqlx::PgPool;

use super::load::{Ack, Unanswered, Write};

/// Problems listed in the report (all are counted).
const EXAMPLES_KEPT: usize = 20;

/// An event written under an `Idempotency-Key`.
#[derive(Debug, sqlx::FromRow)]
struct KeyedEvent {
    key: String,
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
    tx: i64,
    global_position: i64,
    command_id: Option<String>,
}

/// The outcome of looking up every acknowledged write.
#[derive(Clone, Debug, Default)]
pub struct AckCheck {
    /// Acknowledged writes by kind.
    pub acknowledged: BTreeMap<Write, u64>,
    /// Of them, the ones whose event is where their token says, of their kind, on their
    /// aggregate, under their key.
    pub found: u64,
    pub missing: u64,
    pub missing_examples: Vec<String>,
    /// Keys whose events were written by more than one command (a write applied twice).
    pub duplicated: u64,
    pub duplicated_examples: Vec<String>,
    /// Acknowledged after an attempt without an answer, and of those answered as replays.
    pub retried: u64,
    pub replayed: u64,
    /// Writes that got no answer in the end: with events under their key, and without.
    pub unanswered_committed: u64,
    pub unanswered_absent: u64,
}

/// Looks up every acknowledged write (and every unanswered one) in the events table.
///
/// An acknowledged write is found when an event at its token's `(tx_id, global_position)`
/// has its key, its aggregate type and id and the event type its command writes last.
/// Every event under one key must come from one command (`command_id`): otherwise a
/// retried write was applied twice.
pub async fn check_acks(
    pool: &PgPool,
    acks: &[Ack],
    unanswered: &[Unanswered],
) -> sqlx::Result<AckCheck> {
    let events: Vec<KeyedEvent> = sqlx::query_as(
        "select metadata ->> 'idempotency_key' as key, aggregate_type, aggregate_id, \
                event_type, tx_id::text::bigint as tx, global_position, \
                metadata ->> 'command_id' as command_id \
         from events where metadata ? 'idempotency_key'",
    )
    .fetch_all(pool)
    .await?;
    let mut by_key: HashMap<&str, Vec<&KeyedEvent>> = HashMap::new();
    for event in &events {
        by_key.entry(event.key.as_str()).or_default().push(event);
    }
    let mut check = AckCheck::default();
    for ack in acks {
        *check.acknowledged.entry(ack.write).or_default() += 1;
        check.retried += u64::from(ack.retried);
        check.replayed += u64::from(ack.replayed);
        let under_key = by_key.get(ack.key.as_str()).map_or(&[][..], Vec::as_slice);
        let at_token = under_key.iter().any(|e| {
            Checkpoint {
                tx_id: e.tx,
                position: e.global_position,
            } == ack.token
                && e.aggregate_type == ack.write.aggregate_type()
                && e.aggregate_id == ack.aggregate.to_string()
                && e.event_type == ack.write.event_type()
        });
        if at_token {
            check.found += 1;
        } else {
            check.missing += 1;
            if check.missing_examples.len() < EXAMPLES_KEPT {
                check.missing_examples.push(format!(
                    "{} of {} (key {}, token {}.{}): {} events under the key, none at the token",
                    ack.write.name(),
                    ack.aggregate,
                    ack.key,
                    ack.token.tx_id,
                    ack.token.position,
                    under_key.len()
                ));
            }
        }
    }
    for (key, events) in &by_key {
        let commands: HashSet<Option<&str>> =
            events.iter().map(|e| e.command_id.as_deref()).collect();
        if commands.len() > 1 {
            check.duplicated += 1;
            if check.duplicated_examples.len() < EXAMPLES_KEPT {
                check.duplicated_examples.push(format!(
                    "key {key}: {} events from {} commands",
                    events.len(),
                    commands.len()
                ));
            }
        }
    }
    for write in unanswered {
        if by_key.contains_key(write.key.as_str()) {
            check.unanswered_committed += 1;
        } else {
            check.unanswered_absent += 1;
        }
    }
    Ok(check)
}

/// The read models against the events, once the projections have caught up: one
/// `queue_items` row per proposed move, one `agent_runs` row per requested run.
#[derive(Clone, Debug, Default)]
pub struct ReadModelCheck {
    pub proposed: i64,
    pub queue_items: i64,
    pub requested_runs: i64,
    pub agent_runs: i64,
    /// Agent runs by status in the read model.
    pub run_statuses: BTreeMap<String, i64>,
}

impl ReadModelCheck {
    pub fn agrees(&self) -> bool {
        self.proposed == self.queue_items && self.requested_runs == self.agent_runs
    }
}

pub async fn check_read_models(pool: &PgPool) -> sqlx::Result<ReadModelCheck> {
    let events_of = |write: Write| async move {
        sqlx::query_scalar::<_, i64>("select count(*) from events where event_type = $1")
            .bind(write.event_type())
            .fetch_one(pool)
            .await
    };
    let rows = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
            .fetch_one(pool)
            .await
    };
    let run_statuses = sqlx::query_as::<_, (String, i64)>(
        "select status, count(*) from agent_runs group by status order by status",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    Ok(ReadModelCheck {
        proposed: events_of(Write::Propose).await?,
        queue_items: rows("queue_items").await?,
        requested_runs: events_of(Write::RunAgent).await?,
        agent_runs: rows("agent_runs").await?,
        run_statuses,
    })
}
