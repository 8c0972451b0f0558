//! Signals in → proposed moves (DESIGN §4), and the rule sweep that records `rule` signals.
//!
//! **The reactor** follows the event log from its checkpoint (`reactor_checkpoints`, name
//! `signals`). For each `SignalReceived` it runs the processor of the signal's kind
//! (`caseyos_domain::signals::processors`, pure) with what that processor may know — the
//! deal's pipeline (how a stage change is judged), the CaseyOS contact with the signal's
//! address, the operator who owns moves about no one's record — proposes the move through the
//! command bus (`Source::Signal`, the move's id derived from its rule, entity and UTC day),
//! and records `SignalProcessed` on the signal: `proposed` (the move's id and title),
//! `skipped` (why; `already_proposed` with the move of the same rule, entity and day that
//! exists already — the queue refuses a second proposal on an id with
//! `queue.already_exists`, which is how "at most one move per rule, entity and day" holds),
//! or `failed` (the queue refused the move). A proposal that exists because this very signal
//! proposed it before a crash counts as proposed. Every command is a no-op when repeated, so
//! the checkpoint advances after the work: a crash repeats some, never loses any. A store
//! failure holds the checkpoint and the pass is tried again on the next tick. One instance
//! runs it at a time (an advisory lock).
//!
//! **The sweep** runs at start and every `signal_sweep_interval_secs`: over the open deals
//! (`deal_stalled`, `deal_closing_soon`, `big_deal_moved`) and the contacts last contacted
//! 14–90 days ago (`lead_gone_cold`), it records a `rule` signal per finding with the dedup
//! key `rule|entity|UTC day`: a second sweep on the same day records nothing new.

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::ContactView;
use caseyos_domain::kernel::{Actor, ActorKind, CrmId, EmailAddress, Text, UserName};
use caseyos_domain::queue::{
    ProposeQueueItem, QueueError, QueueItem, QueueItemCommand, Source, MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
};
use caseyos_domain::signals::processors::{
    process, processor_of, ContactSnapshot, ProcessContext, Processed, Proposal, RulePayload,
};
use caseyos_domain::signals::rules::{self, DealState};
use caseyos_domain::signals::{
    OutcomeStatus, Signal, SignalCommand, SignalEntities, SignalEvent, SignalKind, SignalOutcome,
    SignalSource, SignalView,
};
use caseyos_store::event::StoredEvent;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::pipelines;
use crate::commands::signals::{deal_snapshot, record, NewSignal};
use crate::infra::metrics::Liveness;
use crate::workers::reactor::{self, Reactor, Stop};

/// The reactor's name (its checkpoint row and lock).
pub const NAME: &str = "signals";
/// Who records rule signals.
pub const RULES_ACTOR: &str = "signal_rules";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_secs(2);

/// How the signals worker runs.
#[derive(Clone, Debug)]
pub struct SignalSettings {
    /// Owner of moves about no one's record (`operator`).
    pub operator: String,
    /// Between two rule sweeps (`signal_sweep_interval_secs`).
    pub sweep_every: Duration,
}

/// Runs the reactor (a pass every [`TICK`]) and the sweep (at start, then every
/// `sweep_every`) until shutdown, supervised: started again if it panics.
pub fn spawn(
    pool: PgPool,
    bus: Arc<CommandBus>,
    settings: SignalSettings,
    wake: reactor::Wake,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let liveness = Arc::new(Liveness::default());
    liveness.set_configured(1);
    let stop = shutdown.clone();
    super::supervisor::supervise(NAME.to_string(), liveness, shutdown, move || {
        let (pool, bus, settings, stop, wake) = (
            pool.clone(),
            bus.clone(),
            settings.clone(),
            stop.clone(),
            wake.clone(),
        );
        async move { work(&pool, &bus, &settings, wake, &stop).await }
    })
}

async fn work(
    pool: &PgPool,
    bus: &CommandBus,
    settings: &SignalSettings,
    mut wake: reactor::Wake,
    stop: &CancellationToken,
) {
    let mut next_sweep = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_sweep {
            match sweep(pool, bus, now(), false).await {
                Ok(swept) => tracing::info!(
                    signals.recorded = swept.recorded,
                    signals.duplicates = swept.duplicates,
                    "signal rules swept"
                ),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "the signal rule sweep failed")
                }
            }
            next_sweep = tokio::time::Instant::now() + settings.sweep_every;
        }
        if let Err(error) = pass(pool, bus, &settings.operator, false).await {
            tracing::warn!(error = %format!("{error:#}"), "signal reactor pass failed");
        }
        let until_sweep = next_sweep.saturating_duration_since(tokio::time::Instant::now());
        if !reactor::idle(TICK.min(until_sweep), &mut wake, stop).await {
            return;
        }
    }
}

/// The reactor over borrowed parts.
struct Signals<'a> {
    pool: &'a PgPool,
    bus: &'a CommandBus,
    operator: &'a str,
}

#[async_trait::async_trait]
impl Reactor for Signals<'_> {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        Ok(handle(self.pool, self.bus, self.operator, stored).await?)
    }
}

/// Passes until every committed event is handled, its own writes included, waiting for the
/// lock if another pass holds it (see [`reactor::run_once`]). Returns how many events it
/// handled. Tests call this; the spawned loop makes single passes.
pub async fn run_once(pool: &PgPool, bus: &CommandBus, operator: &str) -> anyhow::Result<usize> {
    reactor::run_once(
        pool,
        &Signals {
            pool,
            bus,
            operator,
        },
    )
    .await
}

async fn pass(
    pool: &PgPool,
    bus: &CommandBus,
    operator: &str,
    wait: bool,
) -> anyhow::Result<usize> {
    reactor::pass(
        pool,
        &Signals {
            pool,
            bus,
            operator,
        },
        wait,
    )
    .await
}

async fn handle(
    pool: &PgPool,
    bus: &CommandBus,
    operator: &str,
    stored: &StoredEvent,
) -> anyhow::Result<()> {
    if stored.aggregate_type != Signal::TYPE {
        return Ok(());
    }
    let SignalEvent::SignalReceived(received) = Signal::decode(stored.recorded())? else {
        return Ok(());
    };
    let mut meta = CommandMeta::system(NAME);
    meta.causation_id = stored.event_id.to_string();
    if let Some(correlation) = stored.meta("correlation_id") {
        meta.correlation_id = correlation.to_string();
    }
    process_signal(pool, bus, operator, received.signal_id, &meta).await
}

/// Processes one signal unless it was processed already (a failed processing is tried
/// again), and records what it came to.
pub async fn process_signal(
    pool: &PgPool,
    bus: &CommandBus,
    operator: &str,
    id: Uuid,
    meta: &CommandMeta,
) -> anyhow::Result<()> {
    let state: Signal = state_at(pool, &id.to_string(), i64::MAX).await?;
    let Some(signal) = state.signal else {
        return Ok(());
    };
    if signal
        .processed
        .as_ref()
        .is_some_and(|p| p.outcome.status != OutcomeStatus::Failed)
    {
        return Ok(());
    }
    let pipeline = match signal
        .payload
        .get("pipeline")
        .and_then(|p| p.as_str())
        .and_then(|p| CrmId::parse(p).ok())
    {
        Some(id) if signal.kind == SignalKind::DealStageChanged => {
            pipelines::load(pool, &id).await?
        }
        _ => None,
    };
    let contact_view = contact_of(pool, &signal).await?;
    let contact = contact_view.as_ref().map(snapshot_of);
    // A move about demo data is demo data too (DESIGN: demo shown as demo).
    let demo = contact_view.as_ref().is_some_and(|c| c.demo)
        || match signal.entities.deal_id {
            Some(deal) => caseyos_projections::deals::is_demo(pool, deal).await?,
            None => false,
        };
    // A person's manual signal proposes the move to them.
    let operator = match (&signal.source, &signal.recorded_by) {
        (SignalSource::Manual, by) if by.kind == ActorKind::User => by.id.clone(),
        _ => operator.to_string(),
    };
    let ctx = ProcessContext {
        now: now(),
        operator: &operator,
        pipeline: pipeline.as_ref(),
        contact: contact.as_ref(),
    };
    let outcome = match process(&signal, &ctx) {
        Processed::Skip { code, message } => SignalOutcome::skipped(code, message, None),
        Processed::Propose(proposal) => {
            propose(bus, pool, &signal, &operator, *proposal, demo, meta).await?
        }
    };
    tracing::info!(
        signal.id = %signal.id,
        signal.kind = signal.kind.as_str(),
        signal.outcome = outcome.status.as_str(),
        "signal processed"
    );
    let mark = SignalCommand::MarkProcessed {
        processor: processor_of(signal.kind).to_string(),
        outcome,
        by: actor(),
        at: now(),
    };
    bus.execute::<Signal>(id, mark, meta)
        .await
        .map_err(|e| anyhow::anyhow!("recording a signal's processing: {e}"))?;
    Ok(())
}

fn actor() -> Actor {
    Actor::system(NAME)
}

/// The CaseyOS contact a signal is about: by id, else by address (not merged away first).
async fn contact_of(pool: &PgPool, signal: &SignalView) -> anyhow::Result<Option<ContactView>> {
    let view = match (&signal.entities.contact_id, &signal.entities.contact_email) {
        (Some(id), _) => caseyos_projections::contacts::get(pool, *id).await?,
        (None, Some(email)) => caseyos_projections::contacts::find_by_email(pool, email.as_str())
            .await?
            .into_iter()
            .next(),
        (None, None) => None,
    };
    Ok(view)
}

fn snapshot_of(contact: &ContactView) -> ContactSnapshot {
    ContactSnapshot {
        contact_id: contact.id,
        name: contact.fields.display_name(),
        email: contact
            .fields
            .primary_email()
            .and_then(|e| EmailAddress::parse(e).ok()),
        owner: contact.fields.owner.clone(),
    }
}

/// Text a person reads, made to fit: control characters as spaces, at most `max`
/// characters; `None` when nothing is left.
fn fit(raw: &str, max: usize) -> Option<Text> {
    let clean: String = raw
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .take(max)
        .collect();
    Text::parse(&clean, max).ok()
}

/// Proposes the move: what came of it.
async fn propose(
    bus: &CommandBus,
    pool: &PgPool,
    signal: &SignalView,
    operator: &str,
    proposal: Proposal,
    demo: bool,
    meta: &CommandMeta,
) -> anyhow::Result<SignalOutcome> {
    let owner = UserName::parse(&proposal.owner)
        .or_else(|_| UserName::parse(operator))
        .map_err(|e| anyhow::anyhow!("the operator is not a user name: {e}"))?;
    let source = Source::Signal {
        provider: signal.source.as_str().to_string(),
        signal_id: signal.id.to_string(),
    };
    let learned =
        crate::commands::outcomes::learned_for(pool, &proposal.target, proposal.action_type, now())
            .await?;
    let command = QueueItemCommand::Propose(Box::new(ProposeQueueItem {
        id: proposal.item_id,
        title: fit(&proposal.title, MAX_TITLE_CHARS),
        action_type: proposal.action_type,
        domain: None,
        target: proposal.target.clone(),
        payload: proposal.payload.clone(),
        owner,
        due_by: Some(proposal.due_by),
        expires_at: None,
        source: source.clone(),
        aps: proposal.aps,
        rationale: fit(&proposal.rationale(), MAX_TEXT_CHARS),
        draft: None,
        demo,
        learned,
        by: actor(),
        at: now(),
    }));
    let item_id = proposal.item_id;
    Ok(
        match bus
            .execute_new::<QueueItem>(item_id, command, meta, |_| Ok(()))
            .await
        {
            Ok(committed) => {
                let title = committed
                    .state
                    .item
                    .map_or(proposal.title.clone(), |item| item.title);
                SignalOutcome::proposed(item_id, title)
            }
            Err(CommandError::Rejected(QueueError::AlreadyProposed)) => {
                let existing: QueueItem = state_at(pool, &item_id.to_string(), i64::MAX).await?;
                match existing.item {
                    // This signal proposed it before (a crash before its processing was
                    // recorded).
                    Some(item) if item.source == source => {
                        SignalOutcome::proposed(item_id, item.title)
                    }
                    Some(item) => SignalOutcome::skipped(
                        "already_proposed",
                        format!(
                            "one move per rule, entity and day: {} already proposed \"{}\" today",
                            proposal.rule, item.title
                        ),
                        Some(item_id),
                    ),
                    None => SignalOutcome::failed(
                        "queue.already_exists",
                        "the move's id is taken but it has no history",
                    ),
                }
            }
            Err(CommandError::Rejected(error)) => {
                SignalOutcome::failed(error.code(), error.to_string())
            }
            Err(other) => return Err(anyhow::anyhow!("proposing a signal's move: {other}")),
        },
    )
}

/// What a sweep recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// New rule signals.
    pub recorded: usize,
    /// Findings already recorded today.
    pub duplicates: usize,
}

/// Evaluates the rules at `now` and records a `rule` signal per finding (dedup key
/// `rule|entity|UTC day`). With `wait` it waits for another instance's sweep to end;
/// without, it sweeps nothing while one runs.
pub async fn sweep(
    pool: &PgPool,
    bus: &CommandBus,
    now: DateTime<Utc>,
    wait: bool,
) -> anyhow::Result<Swept> {
    Ok(reactor::locked(pool, "sweep:signals", wait, async || {
        sweep_rules(pool, bus, now).await
    })
    .await?
    .unwrap_or_default())
}

async fn sweep_rules(pool: &PgPool, bus: &CommandBus, now: DateTime<Utc>) -> anyhow::Result<Swept> {
    let day = now.date_naive();
    let meta = CommandMeta::system(RULES_ACTOR);
    let mut findings: Vec<NewSignal> = Vec::new();
    for deal in caseyos_projections::deals::open(pool, None).await? {
        let state = DealState {
            open: deal.status.is_open(),
            amount: deal.amount,
            close_date: deal.close_date,
            updated_at: deal.updated_at,
        };
        for (kind, facts) in rules::deal_rules(&state, now) {
            let payload = RulePayload {
                facts,
                deal: Some(deal_snapshot(&deal, None)),
                contact: None,
            };
            findings.push(NewSignal {
                source: SignalSource::Rule,
                dedup_key: format!("{}|{}|{day}", kind.as_str(), deal.id),
                kind,
                payload: serde_json::to_value(payload)?,
                entities: SignalEntities {
                    deal_id: Some(deal.id),
                    ..SignalEntities::default()
                },
                occurred_at: now,
                by: Actor::system(RULES_ACTOR),
            });
        }
    }
    let midnight = |days_ago: i64| {
        (day - chrono::Duration::days(days_ago))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
    };
    if let (Some(from), Some(until)) = (
        midnight(rules::COLD_UNTIL_DAYS),
        midnight(rules::COLD_FROM_DAYS - 1),
    ) {
        for contact in
            caseyos_projections::contacts::last_contacted_between(pool, from, until).await?
        {
            let Some(last) = contact.fields.last_contacted_at else {
                continue;
            };
            let Some(facts) = rules::lead_gone_cold(last, now) else {
                continue;
            };
            let snapshot = snapshot_of(&contact);
            let kind = SignalKind::LeadGoneCold;
            findings.push(NewSignal {
                source: SignalSource::Rule,
                dedup_key: format!("{}|{}|{day}", kind.as_str(), contact.id),
                kind,
                entities: SignalEntities {
                    contact_id: Some(contact.id),
                    contact_email: snapshot.email.clone(),
                    deal_id: None,
                },
                payload: serde_json::to_value(RulePayload {
                    facts,
                    deal: None,
                    contact: Some(snapshot),
                })?,
                occurred_at: now,
                by: Actor::system(RULES_ACTOR),
            });
        }
    }
    let mut swept = Swept::default();
    for finding in findings {
        let recorded = record(bus, finding, &meta)
            .await
            .map_err(|e| anyhow::anyhow!("recording a rule signal: {e}"))?;
        if recorded.duplicate {
            swept.duplicates += 1;
        } else {
            swept.recorded += 1;
        }
    }
    Ok(swept)
}
