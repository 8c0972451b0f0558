//! The outcomes reactor: follows the event log and records what came of moves (DESIGN §4),
//! each outcome once under its key:
//!
//! - an execution's result: an email sent, a meeting booked, a task completed;
//! - a deal's change: created, a stage forward or back (by the pipeline's order, never by
//!   comparing names), won, lost;
//! - (signals of replies, bounces and unsubscribes are recorded where they arrive).
//!
//! And it **unenrolls**: an outcome that ends a contact's sequence (a reply, a booked
//! meeting, a bounce, an unsubscribe) expires that contact's pending follow-ups proposed
//! before it, with the reason, as HubSpot sequences do.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::deals::{Deal, DealEvent};
use caseyos_domain::executions::{ActionExecution, Effect, ExecutionEvent, ExecutionView};
use caseyos_domain::kernel::{Actor, EmailAddress, Text};
use caseyos_domain::outcomes::{
    outcome_id, Outcome, OutcomeCommand, OutcomeEvent, OutcomeSource, OutcomeSubject, OutcomeType,
    OutcomeView, RecordOutcome,
};
use caseyos_domain::pipelines::{StageDirection, StageKind};
use caseyos_domain::queue::{
    ActionType, QueueItem, QueueItemCommand, QueueItemView, MAX_TEXT_CHARS,
};
use caseyos_store::event::StoredEvent;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::reactor::{self, failed, Reactor, Stop};
use crate::commands::outcomes::company_domain;
use caseyos_projections::projector::RowProjector;
use caseyos_projections::queue::QueueProjector;

/// The reactor's name (its checkpoint row, its lock, its actor).
pub const NAME: &str = "outcomes";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_millis(500);

/// The move types a sequence-ending outcome expires.
pub const FOLLOW_UPS: &[ActionType] = &[
    ActionType::SendEmail,
    ActionType::FollowUp,
    ActionType::CheckIn,
    ActionType::EmailFollowUp,
    ActionType::ThreadBump,
];

/// The reactor's parts.
pub struct Outcomes {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
}

pub fn spawn(
    pool: PgPool,
    bus: Arc<CommandBus>,
    wake: reactor::Wake,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    reactor::spawn(
        pool.clone(),
        Arc::new(Outcomes { pool, bus }),
        TICK,
        wake,
        shutdown,
    )
}

#[async_trait]
impl Reactor for Outcomes {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        let Ok(id) = stored.aggregate_id.parse::<Uuid>() else {
            return Ok(());
        };
        if stored.aggregate_type == ActionExecution::TYPE {
            if let ExecutionEvent::ExecutionSucceeded(e) =
                ActionExecution::decode(stored.recorded()).map_err(failed)?
            {
                self.execution_succeeded(id, e.at).await?;
            }
        } else if stored.aggregate_type == Deal::TYPE {
            let event = Deal::decode(stored.recorded()).map_err(failed)?;
            self.deal_changed(id, stored.sequence, event).await?;
        } else if stored.aggregate_type == Outcome::TYPE {
            let OutcomeEvent::OutcomeRecorded(e) =
                Outcome::decode(stored.recorded()).map_err(failed)?;
            if e.outcome_type.unenrolls() {
                let state: Outcome = state_at(&self.pool, &id.to_string(), i64::MAX)
                    .await
                    .map_err(failed)?;
                if let Some(view) = state.into_view() {
                    self.unenroll(&view).await?;
                }
            }
        }
        Ok(())
    }
}

fn meta() -> CommandMeta {
    CommandMeta::system(NAME)
}

/// Records an outcome (once per key), by `by`.
pub async fn record(
    bus: &CommandBus,
    record: RecordOutcome,
    meta: &CommandMeta,
) -> Result<(), Stop> {
    let id = outcome_id(&record.key);
    match bus
        .execute::<Outcome>(id, OutcomeCommand::Record(Box::new(record)), meta)
        .await
    {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(refusal)) => {
            tracing::warn!(outcome = %id, error = %refusal, "an outcome was refused");
            Ok(())
        }
        Err(other) => Err(failed(other)),
    }
}

/// Records the outcome `outcome_type` of `execution` (once: keyed by the execution and the
/// type), about its move's contact, from `source`, recorded by the system actor `by`. An
/// execution whose move has no history records nothing.
pub async fn record_of_execution(
    pool: &PgPool,
    bus: &CommandBus,
    execution: &ExecutionView,
    outcome_type: OutcomeType,
    source: OutcomeSource,
    occurred_at: DateTime<Utc>,
    by: &'static str,
) -> Result<(), Stop> {
    let item: QueueItem = state_at(pool, &execution.item_id.to_string(), i64::MAX)
        .await
        .map_err(failed)?;
    let Some(item) = item.into_view() else {
        return Ok(());
    };
    let recipients = execution
        .plan
        .as_ref()
        .map(|p| p.recipients())
        .unwrap_or_default();
    let title = &item.title;
    let summary = match outcome_type {
        OutcomeType::EmailSent => format!("was emailed \"{title}\""),
        OutcomeType::MeetingBooked => format!("was invited to a meeting: {title}"),
        OutcomeType::EmailBounced => format!("bounced \"{title}\""),
        OutcomeType::EmailReplied => format!("replied to \"{title}\""),
        _ => format!("completed \"{title}\""),
    };
    record(
        bus,
        RecordOutcome {
            key: format!("execution:{}:{}", execution.id, outcome_type.as_str()),
            outcome_type,
            source,
            confidence: 100,
            subject: subject_of(&item, &recipients),
            item_id: Some(item.id),
            action_type: Some(item.action_type),
            execution_id: Some(execution.id),
            summary,
            occurred_at,
            by: Actor::system(by),
            at: now(),
        },
        &CommandMeta::system(by),
    )
    .await
}

/// Who a move is about, as outcomes name them.
pub fn subject_of(item: &QueueItemView, recipients: &[String]) -> OutcomeSubject {
    let contact = item.target.contact.as_ref();
    let email = contact
        .and_then(|c| c.email.clone())
        .or_else(|| recipients.first().and_then(|r| EmailAddress::parse(r).ok()));
    OutcomeSubject {
        contact_id: contact.map(|c| c.id.as_str().to_string()),
        company_domain: email.as_ref().and_then(|e| company_domain(e.as_str())),
        email,
        name: contact.and_then(|c| c.name.clone()),
        deal_id: item
            .target
            .deal
            .as_ref()
            .and_then(|d| d.id.as_str().parse().ok()),
    }
}

impl Outcomes {
    async fn execution_succeeded(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), Stop> {
        let state: ActionExecution = state_at(&self.pool, &id.to_string(), i64::MAX)
            .await
            .map_err(failed)?;
        let Some(execution) = state.into_view() else {
            return Ok(());
        };
        let outcome_type = match execution.effect {
            Some(Effect::EmailSent) => OutcomeType::EmailSent,
            Some(Effect::MeetingBooked) => OutcomeType::MeetingBooked,
            Some(Effect::TaskCompleted) => OutcomeType::TaskCompleted,
            _ => return Ok(()),
        };
        let source = OutcomeSource::System;
        record_of_execution(
            &self.pool,
            &self.bus,
            &execution,
            outcome_type,
            source,
            at,
            NAME,
        )
        .await
    }

    async fn deal_changed(&self, id: Uuid, sequence: i64, event: DealEvent) -> Result<(), Stop> {
        let (outcome_type, summary, at) = match &event {
            DealEvent::DealCreated(e) => (
                OutcomeType::DealCreated,
                format!("\"{}\" was created in {}", e.name, e.stage.label),
                e.at,
            ),
            // Into a won or lost stage: the win or loss is the outcome.
            DealEvent::DealStageChanged(e) if e.to.kind != StageKind::Open => return Ok(()),
            DealEvent::DealStageChanged(e) => match e.direction {
                Some(StageDirection::Advanced) => (
                    OutcomeType::DealStageAdvanced,
                    format!("advanced from {} to {}", e.from.label, e.to.label),
                    e.at,
                ),
                Some(StageDirection::Regressed) => (
                    OutcomeType::DealStageRegressed,
                    format!("moved back from {} to {}", e.from.label, e.to.label),
                    e.at,
                ),
                // An unknown order says nothing.
                None => return Ok(()),
            },
            DealEvent::DealWon(e) => (OutcomeType::DealWon, "was won".to_string(), e.at),
            DealEvent::DealLost(e) => (
                OutcomeType::DealLost,
                format!("was lost ({})", e.reason),
                e.at,
            ),
            _ => return Ok(()),
        };
        let deal: Deal = state_at(&self.pool, &id.to_string(), sequence)
            .await
            .map_err(failed)?;
        let name = deal.into_view().map(|d| d.name);
        record(
            &self.bus,
            RecordOutcome {
                key: format!("deal:{id}:{sequence}"),
                outcome_type,
                source: OutcomeSource::System,
                confidence: 100,
                subject: OutcomeSubject {
                    name: name.map(|n| format!("the deal {n}")),
                    deal_id: Some(id),
                    ..OutcomeSubject::default()
                },
                item_id: None,
                action_type: None,
                execution_id: None,
                summary,
                occurred_at: at,
                by: Actor::system(NAME),
                at: now(),
            },
            &meta(),
        )
        .await
    }

    /// Expires the contact's pending follow-ups proposed before the outcome.
    async fn unenroll(&self, outcome: &OutcomeView) -> Result<(), Stop> {
        let subject = &outcome.subject;
        if subject.contact_id.is_none() && subject.email.is_none() {
            return Ok(());
        }
        // The moves to end are found in the queue read model: it must hold every move
        // proposed before this outcome was handled (a follow-up proposed a moment before the
        // reply would be missed, and stay pending).
        reactor::read_models_caught_up(
            &self.pool,
            &[QueueProjector::NAME],
            reactor::READ_MODEL_WAIT,
            "the queue read model is behind; pending follow-ups would be missed",
        )
        .await?;
        let mut types: Vec<&str> = FOLLOW_UPS.iter().map(|t| t.as_str()).collect();
        if outcome.outcome_type == OutcomeType::MeetingBooked {
            types.push(ActionType::BookMeeting.as_str());
        }
        let rows = sqlx::query(
            "select id from queue_items where status in ('pending', 'snoozed') \
               and action_type = any($1) and created_at <= $2 \
               and ((contact_id is not null and contact_id = $3) \
                 or lower(doc #>> '{target,contact,email}') = lower($4))",
        )
        .bind(&types)
        .bind(outcome.occurred_at)
        .bind(subject.contact_id.as_deref())
        .bind(subject.email.as_ref().map(|e| e.as_str()))
        .fetch_all(&self.pool)
        .await
        .map_err(failed)?;
        let reason = Text::parse(
            &format!(
                "Unenrolled: {} {} on {} — pending follow-ups end (outcome {})",
                subject.who(),
                outcome.outcome_type.label(),
                outcome.occurred_at.format("%Y-%m-%d %H:%M UTC"),
                outcome.id
            ),
            MAX_TEXT_CHARS,
        )
        .map_err(failed)?;
        for row in rows {
            let item: Uuid = row.try_get("id").map_err(failed)?;
            match self
                .bus
                .execute::<QueueItem>(
                    item,
                    QueueItemCommand::Unenroll {
                        reason: reason.clone(),
                        by: Actor::system(NAME),
                        at: now(),
                    },
                    &meta(),
                )
                .await
            {
                Ok(_) | Err(CommandError::Rejected(_)) => {}
                Err(other) => return Err(failed(other)),
            }
        }
        Ok(())
    }
}

/// Passes until every committed event is handled (tests).
pub async fn run_once(pool: &PgPool, bus: Arc<CommandBus>) -> anyhow::Result<usize> {
    reactor::run_once(
        pool,
        &Outcomes {
            pool: pool.clone(),
            bus,
        },
    )
    .await
}
