//! The auto-approval reactor: follows the event log and decides every proposed move
//! (`QueueItemProposed`) against the enabled rules in priority order (DESIGN §4). The
//! decision is an event with every rule's check (`auto_approval_decision`, one per move);
//! an approval goes through the command bus as `QueueItemCommand::Approve` by
//! `system:auto-approval` with a note naming the rule, and the executor takes it from there
//! behind its guardrails. It never rejects.
//!
//! What it reads: the emergency stop (the `execution_settings` aggregate, fresh), the rules
//! and the facts (outcomes, executions, duplicates read models, waited for until they hold
//! everything committed before), the move and its contact (event store). A move with no
//! recipient, an open duplicate or an archived contact needs review.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::auto_approval::icp::icp_score;
use caseyos_domain::auto_approval::{
    decision_id, evaluate, AutoApprovalDecision, AutoDecision, ContactFacts, Decide, Facts,
    RecipientFacts, STOPPED,
};
use caseyos_domain::contacts::{Contact, ContactStatus, ContactView};
use caseyos_domain::executions::plan::move_recipients;
use caseyos_domain::executions::settings::{ExecutionSettings, SETTINGS_ID};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::{
    ApproveQueueItem, QueueItem, QueueItemCommand, QueueItemEvent, QueueItemView, QueueStatus,
    MAX_TEXT_CHARS,
};
use caseyos_projections::auto_approval::AutoApprovalRulesProjector;
use caseyos_projections::duplicates::DuplicatePairsProjector;
use caseyos_projections::executions::ExecutionsProjector;
use caseyos_projections::outcomes::OutcomesProjector;
use caseyos_projections::projector::RowProjector;
use caseyos_store::event::StoredEvent;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::reactor::{self, failed, Reactor, Stop};

/// The reactor's name (its checkpoint row, its lock, its actor: `system:auto-approval`).
pub const NAME: &str = "auto-approval";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_millis(250);

/// The reactor's parts.
pub struct AutoApproval {
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
        Arc::new(AutoApproval { pool, bus }),
        TICK,
        wake,
        shutdown,
    )
}

#[async_trait]
impl Reactor for AutoApproval {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        if stored.aggregate_type != QueueItem::TYPE || stored.event_type != "QueueItemProposed" {
            return Ok(());
        }
        let QueueItemEvent::QueueItemProposed(proposed) =
            QueueItem::decode(stored.recorded()).map_err(failed)?
        else {
            return Ok(());
        };
        let mut meta = CommandMeta::system(NAME);
        meta.causation_id = stored.event_id.to_string();
        self.decide(proposed.item_id, &meta).await
    }
}

fn actor() -> Actor {
    Actor::system(NAME)
}

impl AutoApproval {
    /// Passes until every committed event is handled (tests and the CLI).
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        reactor::run_once(&self.pool, self).await
    }

    /// Decides the move once (a repeat after a crash finds the decision and only carries out
    /// an approval that did not land).
    async fn decide(&self, item_id: Uuid, meta: &CommandMeta) -> Result<(), Stop> {
        let id = decision_id(item_id);
        let existing: AutoApprovalDecision = state_at(&self.pool, &id.to_string(), i64::MAX)
            .await
            .map_err(failed)?;
        let item: QueueItem = state_at(&self.pool, &item_id.to_string(), i64::MAX)
            .await
            .map_err(failed)?;
        let Some(item) = item.into_view() else {
            return Ok(());
        };
        let decision = match existing.into_view() {
            Some(done) => done.decision,
            None => {
                let (decision, checks) = self.evaluate(&item).await?;
                let command = Decide {
                    item_id,
                    decision: decision.clone(),
                    checks,
                    by: actor(),
                    at: now(),
                };
                self.bus
                    .execute::<AutoApprovalDecision>(id, command, meta)
                    .await
                    .map_err(failed)?;
                tracing::info!(
                    queue.item_id = %item_id,
                    auto_approval.approved = matches!(decision, AutoDecision::Approved { .. }),
                    "auto-approval decided"
                );
                decision
            }
        };
        if let AutoDecision::Approved {
            rule_name,
            confidence,
            ..
        } = decision
        {
            if item.status == QueueStatus::Pending {
                self.approve(item_id, &rule_name, confidence, meta).await?;
            }
        }
        Ok(())
    }

    async fn approve(
        &self,
        item_id: Uuid,
        rule_name: &str,
        confidence: u8,
        meta: &CommandMeta,
    ) -> Result<(), Stop> {
        let note = format!("auto-approved by the rule \"{rule_name}\" ({confidence}% confidence)");
        let note = Text::parse(&note, MAX_TEXT_CHARS).map_err(failed)?;
        let command = QueueItemCommand::Approve(ApproveQueueItem {
            note: Some(note),
            by: actor(),
            at: now(),
        });
        match self.bus.execute::<QueueItem>(item_id, command, meta).await {
            Ok(_) => Ok(()),
            // A person decided first (or snoozed it): theirs stands.
            Err(CommandError::Rejected(refusal)) => {
                tracing::info!(queue.item_id = %item_id, error = %refusal, "auto-approval found the move decided");
                Ok(())
            }
            Err(other) => Err(failed(other)),
        }
    }

    async fn evaluate(
        &self,
        item: &QueueItemView,
    ) -> Result<(AutoDecision, Vec<caseyos_domain::auto_approval::RuleCheck>), Stop> {
        let at = now();
        let settings: ExecutionSettings = state_at(&self.pool, &SETTINGS_ID.to_string(), i64::MAX)
            .await
            .map_err(failed)?;
        let mut facts = Facts {
            action_type: item.action_type,
            blockers: Vec::new(),
            recipients: Vec::new(),
            contact: None,
            now: at,
        };
        if !settings.current().auto_approval {
            facts.blockers.push(STOPPED.to_string());
            return Ok(evaluate(&[], &facts));
        }
        if item.status != QueueStatus::Pending {
            facts.blockers.push(format!(
                "the move was already {} when auto-approval looked at it",
                item.status.as_str()
            ));
            return Ok(evaluate(&[], &facts));
        }
        reactor::read_models_caught_up(
            &self.pool,
            &[
                AutoApprovalRulesProjector::NAME,
                OutcomesProjector::NAME,
                ExecutionsProjector::NAME,
                DuplicatePairsProjector::NAME,
            ],
            reactor::READ_MODEL_WAIT,
            "the read models auto-approval reads are behind",
        )
        .await?;
        let rules = caseyos_projections::auto_approval::rules_in_order(&self.pool, true)
            .await
            .map_err(failed)?;
        let contact = self.contact_of(item).await?;
        match &contact {
            Some(c) if c.status == ContactStatus::Archived => facts
                .blockers
                .push("the move's contact is archived".to_string()),
            Some(c) if c.status == ContactStatus::Merged => facts
                .blockers
                .push("the move's contact was merged into another".to_string()),
            Some(c) => {
                if caseyos_projections::duplicates::has_open_pair(&self.pool, c.id)
                    .await
                    .map_err(failed)?
                {
                    facts
                        .blockers
                        .push("the move's contact has an open duplicate to review".to_string());
                }
                facts.contact = Some(ContactFacts {
                    icp: icp_score(c),
                    company_domain: c.fields.company_domain.clone(),
                });
            }
            None => {}
        }
        let contact_email = item.target.contact.as_ref().and_then(|c| c.email.as_ref());
        match move_recipients(item.action_type, &item.payload, contact_email) {
            Ok(people) if people.is_empty() => facts
                .blockers
                .push("the move names no recipient".to_string()),
            Ok(people) => {
                for person in people {
                    let email = person.as_str().to_string();
                    let (last_reply_at, bad_outcome) =
                        caseyos_projections::outcomes::reply_and_bad_outcome(&self.pool, &email)
                            .await
                            .map_err(failed)?;
                    let sends = caseyos_projections::executions::sends_to(&self.pool, &email)
                        .await
                        .map_err(failed)?;
                    facts.recipients.push(RecipientFacts {
                        email,
                        last_reply_at,
                        sends,
                        bad_outcome,
                    });
                }
            }
            Err(problem) => facts.blockers.push(problem.to_string()),
        }
        Ok(evaluate(&rules, &facts))
    }

    /// The move's contact: CaseyOS's by id (event store), or the CRM's by its id.
    async fn contact_of(&self, item: &QueueItemView) -> Result<Option<ContactView>, Stop> {
        let Some(target) = &item.target.contact else {
            return Ok(None);
        };
        match target.id.as_str().parse::<Uuid>() {
            Ok(id) => {
                let state: Contact = state_at(&self.pool, &id.to_string(), i64::MAX)
                    .await
                    .map_err(failed)?;
                Ok(state.into_view())
            }
            Err(_) => Ok(caseyos_projections::contacts::find_by_crm_id(
                &self.pool,
                target.id.as_str(),
            )
            .await
            .map_err(failed)?
            .into_iter()
            .next()),
        }
    }
}
