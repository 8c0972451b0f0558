//! The executor: follows the event log from its checkpoint (`reactor_checkpoints`) and carries
//! approved moves out in the world (DESIGN §4).
//!
//! - `QueueItemApproved`: the move's execution is requested with its plan (the exact email,
//!   meeting, task or stage change, built from the move and the read models), or fails at
//!   once as `execution.incomplete_move` when the move cannot become one.
//! - `ExecutionRequested` / `ExecutionRetryRequested`: the guardrails decide (kill switch,
//!   send mode, quotas, circuit breaker, quiet hours — read fresh, so an engaged kill switch
//!   stops anything not yet started); a block or a dry run is recorded with every check;
//!   otherwise the attempt is recorded as **started before the provider is called**, then its
//!   outcome. A start without an outcome (a crash, a kill -9 between the call and its record)
//!   is reconciled first — Gmail searched for the `Message-ID` CaseyOS set, HubSpot for the
//!   task's `caseyos_execution_id`, Calendar for the event's private property — and only
//!   what the provider does not have is sent again.
//! - `ExecutionRollbackRequested`: the draft deleted, the task deleted, the event cancelled.
//! - Blocks whose `retry_at` has come (quiet hours over, a quota freed) are retried.
//!
//! One instance runs it at a time (an advisory lock); its checkpoint advances after each
//! event's work, so a crash repeats a step (which decides nothing twice), never skips one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::Contact;
use caseyos_domain::deals::{Deal, DealCommand, MoveDeal};
use caseyos_domain::executions::guardrails::{self, Decision, GuardrailConfig, SendStats};
use caseyos_domain::executions::plan::{
    self, EmailPlan, MeetingPlan, MoveParts, Plan, PlanContext, TaskPlan,
};
use caseyos_domain::executions::settings::{ExecutionSettings, SETTINGS_ID};
use caseyos_domain::executions::{
    execution_id, ActionExecution, Effect, ExecutionCommand, ExecutionEvent, ExecutionFailure,
    ExecutionStatus, ExecutionView, RequestExecution, RequestPreview,
};
use caseyos_domain::kernel::{Actor, CrmId};
use caseyos_domain::queue::{QueueItem, QueueItemEvent};
use caseyos_projections::executions::ExecutionsProjector;
use caseyos_projections::projector::RowProjector;
use caseyos_store::event::StoredEvent;

use super::reactor::{self, failed, Reactor, Stop};
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::pipelines;

/// The reactor's name (its checkpoint row, its lock, its actor).
pub const NAME: &str = "executions";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_millis(250);
/// How long after a task's creation HubSpot's search is trusted to find it.
const SEARCH_SETTLE_SECS: i64 = 10;

/// A provider's ids for what it did (`gmail_message_id`, `hubspot_task_id`, …).
pub type ProviderIds = BTreeMap<String, String>;

/// Sends and drafts email (Gmail).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &EmailPlan) -> Result<ProviderIds, ExecutionFailure>;
    async fn draft(&self, email: &EmailPlan) -> Result<ProviderIds, ExecutionFailure>;
    async fn delete_draft(&self, draft_id: &str) -> Result<(), ExecutionFailure>;
    /// The sent message with this `Message-ID`, if one was sent.
    async fn find_sent(&self, message_id: &str) -> Result<Option<ProviderIds>, ExecutionFailure>;
    /// The draft with this `Message-ID`, if one exists.
    async fn find_draft(&self, message_id: &str) -> Result<Option<ProviderIds>, ExecutionFailure>;
}

/// Books meetings (Google Calendar).
#[async_trait]
pub trait Calendar: Send + Sync {
    /// Creates the event, keyed by `key` (a private property); `invite` mails attendees.
    async fn book(
        &self,
        meeting: &MeetingPlan,
        key: &str,
        invite: bool,
    ) -> Result<ProviderIds, ExecutionFailure>;
    async fn find(&self, key: &str) -> Result<Option<ProviderIds>, ExecutionFailure>;
    async fn cancel(&self, event_id: &str, invite: bool) -> Result<(), ExecutionFailure>;
}

/// Tasks and deal stages in the CRM (HubSpot).
#[async_trait]
pub trait CrmWork: Send + Sync {
    /// Creates the task with `key` as its external id.
    async fn create_task(
        &self,
        task: &TaskPlan,
        key: &str,
    ) -> Result<ProviderIds, ExecutionFailure>;
    async fn find_task(&self, key: &str) -> Result<Option<ProviderIds>, ExecutionFailure>;
    async fn complete_task(&self, task_id: &str) -> Result<ProviderIds, ExecutionFailure>;
    async fn delete_task(&self, task_id: &str) -> Result<(), ExecutionFailure>;
    async fn update_deal_stage(&self, deal_id: &str, stage: &str) -> Result<(), ExecutionFailure>;
}

/// The providers as connected now: each answers `connector.not_connected` when it is not.
#[async_trait]
pub trait Providers: Send + Sync {
    async fn mailer(&self) -> Result<Box<dyn Mailer>, ExecutionFailure>;
    async fn calendar(&self) -> Result<Box<dyn Calendar>, ExecutionFailure>;
    async fn crm(&self) -> Result<Box<dyn CrmWork>, ExecutionFailure>;
    /// The exact request the plan's effect would send (a dry run), without credentials.
    async fn preview(&self, plan: &Plan, effect: Effect, key: &str) -> RequestPreview;
}

/// How the executor decides: the guardrails' limits and the time zones.
#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    pub guardrails: GuardrailConfig,
    pub operator_tz: Tz,
    pub owner_zones: BTreeMap<String, Tz>,
    /// The domain of the `Message-ID`s CaseyOS writes.
    pub message_domain: String,
}

impl ExecutorConfig {
    pub fn from_config(config: &crate::config::Config) -> Self {
        ExecutorConfig {
            guardrails: config.guardrails.clone(),
            operator_tz: config.timezone_of(&config.operator),
            owner_zones: config
                .owner_timezones
                .keys()
                .map(|owner| (owner.clone(), config.timezone_of(owner)))
                .collect(),
            message_domain: config.message_id_domain.clone(),
        }
    }

    fn tz_of(&self, owner: &str) -> Tz {
        self.owner_zones
            .get(owner)
            .copied()
            .unwrap_or(self.operator_tz)
    }
}

/// The executor's parts.
#[derive(Clone)]
pub struct Executor {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub providers: Arc<dyn Providers>,
    pub config: Arc<ExecutorConfig>,
}

fn meta() -> CommandMeta {
    CommandMeta::system(NAME)
}

fn actor() -> Actor {
    Actor::system(NAME)
}

/// Runs the executor until shutdown: a pass every [`TICK`] on whichever instance holds its
/// lock.
pub fn spawn(
    executor: Executor,
    wake: reactor::Wake,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let pool = executor.pool.clone();
    reactor::spawn(pool, Arc::new(executor), TICK, wake, shutdown)
}

#[async_trait]
impl Reactor for Executor {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        self.handle_event(stored).await
    }

    async fn after(&self) -> anyhow::Result<()> {
        self.retry_due().await
    }
}

impl Executor {
    /// Passes until every committed event is handled (tests and the CLI).
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        reactor::run_once(&self.pool, self).await
    }

    /// Blocks whose time has come are asked again (by the executor, recorded as such).
    async fn retry_due(&self) -> anyhow::Result<()> {
        for id in caseyos_projections::executions::due_retries(&self.pool, now()).await? {
            match self
                .bus
                .execute::<ActionExecution>(
                    id,
                    ExecutionCommand::Retry {
                        by: actor(),
                        at: now(),
                    },
                    &meta(),
                )
                .await
            {
                Ok(_) | Err(CommandError::Rejected(_)) => {}
                Err(other) => return Err(anyhow::anyhow!("{other}")),
            }
        }
        Ok(())
    }

    async fn handle_event(&self, stored: &StoredEvent) -> Result<(), Stop> {
        if stored.aggregate_type == QueueItem::TYPE {
            if stored.event_type != "QueueItemApproved" {
                return Ok(());
            }
            let Ok(item_id) = stored.aggregate_id.parse::<Uuid>() else {
                return Ok(());
            };
            if let QueueItemEvent::QueueItemApproved(approved) =
                QueueItem::decode(stored.recorded()).map_err(failed)?
            {
                self.request(item_id, approved.approved_by).await?;
            }
            return Ok(());
        }
        if stored.aggregate_type != ActionExecution::TYPE {
            return Ok(());
        }
        let Ok(id) = stored.aggregate_id.parse::<Uuid>() else {
            return Ok(());
        };
        match ActionExecution::decode(stored.recorded()).map_err(failed)? {
            ExecutionEvent::ExecutionRequested(_) | ExecutionEvent::ExecutionRetryRequested(_) => {
                self.run(id).await
            }
            ExecutionEvent::ExecutionRollbackRequested(_) => self.roll_back(id).await,
            _ => Ok(()),
        }
    }

    async fn execution(&self, id: Uuid) -> Result<Option<ExecutionView>, Stop> {
        let state: ActionExecution = state_at(&self.pool, &id.to_string(), i64::MAX)
            .await
            .map_err(failed)?;
        Ok(state.into_view())
    }

    async fn command(&self, id: Uuid, command: ExecutionCommand) -> Result<(), Stop> {
        match self
            .bus
            .execute::<ActionExecution>(id, command, &meta())
            .await
        {
            Ok(_) => Ok(()),
            // A step another pass already took (a repeat after a crash).
            Err(CommandError::Rejected(refusal)) => {
                tracing::info!(execution = %id, code = %caseyos_domain::aggregate::DomainError::code(&refusal), "executor step refused");
                Ok(())
            }
            Err(other) => Err(failed(other)),
        }
    }

    /// The approved move becomes an execution with its plan.
    async fn request(&self, item_id: Uuid, approved_by: Actor) -> Result<(), Stop> {
        let item: QueueItem = state_at(&self.pool, &item_id.to_string(), i64::MAX)
            .await
            .map_err(failed)?;
        let Some(item) = item.into_view() else {
            return Ok(());
        };
        let id = execution_id(item_id);
        let contact = &item.target.contact;
        // The move's contact and deal as the CRM knows them.
        // A contact id that is not CaseyOS's is the CRM's own.
        let contact_crm_id = match contact
            .as_ref()
            .map(|c| (c.id.as_str(), c.id.as_str().parse::<Uuid>()))
        {
            Some((_, Ok(contact_id))) => {
                let state: Contact = state_at(&self.pool, &contact_id.to_string(), i64::MAX)
                    .await
                    .map_err(failed)?;
                state.into_view().and_then(|c| c.fields.crm_id)
            }
            Some((raw, Err(_))) => Some(raw.to_string()),
            None => None,
        };
        let contact_email = contact.as_ref().and_then(|c| c.email.clone());
        let deal_id = item
            .target
            .deal
            .as_ref()
            .and_then(|d| d.id.as_str().parse::<Uuid>().ok());
        let deal = match deal_id {
            Some(deal_id) => {
                let state: Deal = state_at(&self.pool, &deal_id.to_string(), i64::MAX)
                    .await
                    .map_err(failed)?;
                state.into_view()
            }
            None => None,
        };
        let context = PlanContext {
            execution_id: id,
            message_domain: self.config.message_domain.clone(),
            contact_crm_id,
            deal_id: deal.as_ref().map(|d| d.id),
            deal_crm_id: deal
                .as_ref()
                .and_then(|d| d.crm_id.as_ref().map(|c| c.as_str().to_string())),
            deal_summary: deal.as_ref().map(|d| {
                format!(
                    "Deal: {} — stage {}{}",
                    d.name,
                    d.stage.label,
                    d.close_date
                        .map(|c| format!(", closing {c}"))
                        .unwrap_or_default()
                )
            }),
            owner_time_zone: self.config.tz_of(&item.owner).name().to_string(),
            now: now(),
        };
        let plan = plan::plan(
            &MoveParts {
                action_type: item.action_type,
                title: &item.title,
                payload: &item.payload,
                contact_email: contact_email.as_ref(),
                rationale: item.rationale.as_deref(),
                due_by: item.due_by,
            },
            &context,
        )
        .map_err(|problem| problem.to_string());
        self.command(
            id,
            ExecutionCommand::Request(Box::new(RequestExecution {
                execution_id: id,
                item_id,
                action_type: item.action_type,
                title: item.title.clone(),
                owner: item.owner.clone(),
                plan,
                approved_by,
                by: actor(),
                at: now(),
            })),
        )
        .await
    }

    async fn settings(&self) -> Result<ExecutionSettings, Stop> {
        state_at(&self.pool, &SETTINGS_ID.to_string(), i64::MAX)
            .await
            .map_err(failed)
    }

    async fn stats(&self, view: &ExecutionView, recipients: &[String]) -> Result<SendStats, Stop> {
        // The send counts must include the last send.
        reactor::read_models_caught_up(
            &self.pool,
            &[ExecutionsProjector::NAME],
            reactor::READ_MODEL_WAIT,
            "the executions read model is behind; send counts would be stale",
        )
        .await?;
        let at = now();
        let local = at.with_timezone(&self.config.operator_tz).date_naive();
        let day_start = self
            .config
            .operator_tz
            .from_local_datetime(&local.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map_or(at, |t| t.with_timezone(&Utc));
        let window =
            chrono::Duration::minutes(i64::from(self.config.guardrails.breaker_window_minutes));
        caseyos_projections::executions::send_stats(
            &self.pool,
            recipients,
            at,
            day_start,
            at - window,
            view.id,
        )
        .await
        .map_err(failed)
    }

    /// One step of an execution: decide and start, or reconcile a start without an outcome.
    async fn run(&self, id: Uuid) -> Result<(), Stop> {
        let Some(view) = self.execution(id).await? else {
            return Ok(());
        };
        let Some(plan) = view.plan.clone() else {
            return Ok(());
        };
        match view.status {
            ExecutionStatus::Requested => {}
            ExecutionStatus::Executing => return self.resume(&view, &plan).await,
            _ => return Ok(()),
        }
        let settings = self.settings().await?.current();
        let recipients = plan.recipients();
        let stats = if plan.handler() == plan::Handler::Email
            && settings.send_mode == guardrails::SendMode::Send
            && !settings.kill_switch
        {
            self.stats(&view, &recipients).await?
        } else {
            SendStats::default()
        };
        let decision = guardrails::decide(&guardrails::GuardrailInput {
            handler: plan.handler(),
            recipients: &recipients,
            kill_switch: settings.kill_switch,
            send_mode: settings.send_mode,
            config: &self.config.guardrails,
            stats: &stats,
            now: now(),
            owner_tz: self.config.tz_of(&view.owner),
            operator_tz: self.config.operator_tz,
        });
        let key = id.to_string();
        match decision {
            Decision::Block {
                guardrail,
                reason,
                retry_at,
                checks,
            } => {
                self.command(
                    id,
                    ExecutionCommand::Block {
                        guardrail,
                        reason,
                        retry_at,
                        checks,
                        at: now(),
                    },
                )
                .await
            }
            Decision::DryRun { checks } => {
                let effect = Effect::of(plan.handler(), true).unwrap_or(Effect::TaskCreated);
                let request = self.providers.preview(&plan, effect, &key).await;
                self.command(
                    id,
                    ExecutionCommand::DryRun {
                        request,
                        checks,
                        at: now(),
                    },
                )
                .await
            }
            Decision::Proceed { live, checks } => {
                let Some(effect) = Effect::of(plan.handler(), live) else {
                    return Ok(());
                };
                self.command(
                    id,
                    ExecutionCommand::Start {
                        effect,
                        checks,
                        at: now(),
                    },
                )
                .await?;
                // Another pass may have started it first; act only on our own start.
                let Some(started) = self.execution(id).await? else {
                    return Ok(());
                };
                if started.status != ExecutionStatus::Executing
                    || started.attempts != view.attempts + 1
                {
                    return Ok(());
                }
                // A later attempt first asks whether an earlier one (a send that timed out,
                // a 5xx after which the provider may have acted) already did it.
                if started.attempts > 1 {
                    if let Ok(Some(ids)) = self.reconcile(&started, &plan, effect).await {
                        return self.finish(id, Ok(ids), true).await;
                    }
                }
                let outcome = self.call(&started, &plan, effect).await;
                self.finish(id, outcome, false).await
            }
        }
    }

    /// A start without an outcome: the provider is asked first; only what it does not have
    /// is sent again.
    async fn resume(&self, view: &ExecutionView, plan: &Plan) -> Result<(), Stop> {
        let Some(effect) = view.effect else {
            return Ok(());
        };
        // HubSpot's search trails its writes by a few seconds: a task created just before a
        // crash is looked for only once it can be found.
        if effect == Effect::TaskCreated {
            if let Some(started) = view.started_at {
                let settle = chrono::Duration::seconds(SEARCH_SETTLE_SECS) - (now() - started);
                if let Ok(wait) = settle.to_std() {
                    tokio::time::sleep(wait).await;
                }
            }
        }
        match self.reconcile(view, plan, effect).await {
            Ok(Some(ids)) => {
                tracing::info!(execution = %view.id, "reconciled: the provider has it");
                self.finish(view.id, Ok(ids), true).await
            }
            Ok(None) => {
                let outcome = self.call(view, plan, effect).await;
                self.finish(view.id, outcome, false).await
            }
            Err(failure) => self.finish(view.id, Err(failure), false).await,
        }
    }

    async fn finish(
        &self,
        id: Uuid,
        outcome: Result<ProviderIds, ExecutionFailure>,
        reconciled: bool,
    ) -> Result<(), Stop> {
        let command = match outcome {
            Ok(provider_ids) => ExecutionCommand::Succeed {
                provider_ids,
                reconciled,
                at: now(),
            },
            Err(failure) => ExecutionCommand::Fail { failure, at: now() },
        };
        self.command(id, command).await
    }

    async fn reconcile(
        &self,
        view: &ExecutionView,
        plan: &Plan,
        effect: Effect,
    ) -> Result<Option<ProviderIds>, ExecutionFailure> {
        let key = view.id.to_string();
        match (effect, plan) {
            (Effect::EmailSent, Plan::Email(email)) => {
                self.providers
                    .mailer()
                    .await?
                    .find_sent(&email.message_id)
                    .await
            }
            (Effect::DraftCreated, Plan::Email(email) | Plan::Draft(email)) => {
                self.providers
                    .mailer()
                    .await?
                    .find_draft(&email.message_id)
                    .await
            }
            (Effect::MeetingBooked | Effect::MeetingHeld, _) => {
                self.providers.calendar().await?.find(&key).await
            }
            (Effect::TaskCreated, _) => self.providers.crm().await?.find_task(&key).await,
            // Completing a task and moving a stage are the same when repeated.
            _ => Ok(None),
        }
    }

    async fn call(
        &self,
        view: &ExecutionView,
        plan: &Plan,
        effect: Effect,
    ) -> Result<ProviderIds, ExecutionFailure> {
        let key = view.id.to_string();
        match (effect, plan) {
            (Effect::EmailSent, Plan::Email(email)) => {
                self.providers.mailer().await?.send(email).await
            }
            (Effect::DraftCreated, Plan::Email(email) | Plan::Draft(email)) => {
                self.providers.mailer().await?.draft(email).await
            }
            (Effect::MeetingBooked | Effect::MeetingHeld, Plan::Meeting(meeting)) => {
                self.providers
                    .calendar()
                    .await?
                    .book(meeting, &key, effect == Effect::MeetingBooked)
                    .await
            }
            (Effect::TaskCreated, Plan::CrmTask(task)) => {
                self.providers.crm().await?.create_task(task, &key).await
            }
            (Effect::TaskCompleted, Plan::CompleteTask { task_id }) => {
                self.providers.crm().await?.complete_task(task_id).await
            }
            (
                Effect::DealStageChanged,
                Plan::DealStage {
                    deal_id,
                    stage,
                    crm_deal_id,
                },
            ) => {
                self.move_deal(*deal_id, stage, crm_deal_id.as_deref())
                    .await
            }
            _ => Err(ExecutionFailure {
                code: "execution.no_handler".into(),
                message: format!("no handler does {} with this plan", effect.as_str()),
                retryable: false,
            }),
        }
    }

    /// The deal moves in CaseyOS (the deal aggregate), then in HubSpot when it came from
    /// there and HubSpot is connected.
    async fn move_deal(
        &self,
        deal_id: Uuid,
        stage: &str,
        crm_deal_id: Option<&str>,
    ) -> Result<ProviderIds, ExecutionFailure> {
        let internal = |message: String| ExecutionFailure {
            code: "execution.internal".into(),
            message,
            retryable: true,
        };
        let deal: Deal = state_at(&self.pool, &deal_id.to_string(), i64::MAX)
            .await
            .map_err(|e| internal(e.to_string()))?;
        let view = deal.into_view().ok_or_else(|| ExecutionFailure {
            code: "deal.not_found".into(),
            message: "the move's deal no longer exists".into(),
            retryable: false,
        })?;
        let pipeline = pipelines::load(&self.pool, &view.pipeline)
            .await
            .map_err(|e| internal(e.to_string()))?
            .ok_or_else(|| {
                internal(format!(
                    "the deal's pipeline {} is gone",
                    view.pipeline.as_str()
                ))
            })?;
        let stage_id = CrmId::parse(stage).map_err(|m| ExecutionFailure {
            code: "deal.unknown_stage".into(),
            message: m.to_string(),
            retryable: false,
        })?;
        match self
            .bus
            .execute::<Deal>(
                deal_id,
                DealCommand::Move(Box::new(MoveDeal {
                    stage: stage_id,
                    lost_reason: None,
                    pipeline,
                    by: actor(),
                    at: now(),
                })),
                &meta(),
            )
            .await
        {
            Ok(_) => {}
            Err(CommandError::Rejected(refusal)) => {
                return Err(ExecutionFailure {
                    code: caseyos_domain::aggregate::DomainError::code(&refusal).to_string(),
                    message: refusal.to_string(),
                    retryable: false,
                })
            }
            Err(other) => return Err(internal(other.to_string())),
        }
        let mut ids = ProviderIds::from([("deal_id".to_string(), deal_id.to_string())]);
        if let Some(crm_deal_id) = crm_deal_id {
            self.providers
                .crm()
                .await?
                .update_deal_stage(crm_deal_id, stage)
                .await?;
            ids.insert("hubspot_deal_id".into(), crm_deal_id.to_string());
        }
        Ok(ids)
    }

    async fn roll_back(&self, id: Uuid) -> Result<(), Stop> {
        let Some(view) = self.execution(id).await? else {
            return Ok(());
        };
        let pending = view
            .rollback
            .as_ref()
            .is_some_and(|r| r.done.is_none() && r.failure.is_none());
        if view.status != ExecutionStatus::Succeeded || !pending {
            return Ok(());
        }
        let id_of = |name: &str| view.provider_ids.get(name).cloned().unwrap_or_default();
        let outcome: Result<String, ExecutionFailure> = match view.effect {
            Some(Effect::DraftCreated) => {
                let draft = id_of("gmail_draft_id");
                match self.providers.mailer().await {
                    Ok(mailer) => mailer
                        .delete_draft(&draft)
                        .await
                        .map(|()| format!("the Gmail draft {draft} was deleted")),
                    Err(e) => Err(e),
                }
            }
            Some(effect @ (Effect::MeetingBooked | Effect::MeetingHeld)) => {
                let event = id_of("calendar_event_id");
                match self.providers.calendar().await {
                    Ok(calendar) => calendar
                        .cancel(&event, effect == Effect::MeetingBooked)
                        .await
                        .map(|()| format!("the calendar event {event} was cancelled")),
                    Err(e) => Err(e),
                }
            }
            Some(Effect::TaskCreated) => {
                let task = id_of("hubspot_task_id");
                match self.providers.crm().await {
                    Ok(crm) => crm
                        .delete_task(&task)
                        .await
                        .map(|()| format!("the HubSpot task {task} was deleted")),
                    Err(e) => Err(e),
                }
            }
            other => Err(ExecutionFailure {
                code: "execution.cannot_roll_back".into(),
                message: other
                    .map(|e| e.rollback().err().unwrap_or("not undoable").to_string())
                    .unwrap_or_else(|| "nothing was done to undo".into()),
                retryable: false,
            }),
        };
        let command = match outcome {
            Ok(what) => ExecutionCommand::RolledBack { what, at: now() },
            Err(failure) => ExecutionCommand::RollbackFailed { failure, at: now() },
        };
        self.command(id, command).await
    }
}
