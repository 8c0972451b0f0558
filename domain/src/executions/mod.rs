//! Executions: what happened when an approved move was carried out in the world (aggregate
//! `action_execution`, one per move, id [`execution_id`] of the move's id).
//!
//! `requested → executing → succeeded | failed | blocked | dry_run`, `succeeded →
//! rolled_back`; `manual` for moves done by hand until the operator marks them done. A
//! `failed` or `blocked` execution can be retried (a new attempt on the same execution;
//! failures are never cached for good). An attempt is recorded as started *before* the
//! provider is called, with the guardrails' checks; a start without an outcome (a crash, a
//! kill -9 between the call and its record) is reconciled with the provider before anything
//! is sent again.

pub mod guardrails;
pub mod plan;
pub mod settings;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, Ownership, RejectionKind};
use crate::kernel::Actor;
use crate::queue::ActionType;
use guardrails::{Guardrail, GuardrailCheck};
use plan::{Handler, Plan};

#[cfg(test)]
mod tests;

/// The version every execution event is written with.
pub const EXECUTION_EVENT_VERSION: &str = "1";

const EXECUTION_NAMESPACE: Uuid = Uuid::from_u128(0x6a0e_51c3_93d4_4f7e_b2a8_0c1d_7e95_3f21);

/// The execution of the move with this id.
pub fn execution_id(item_id: Uuid) -> Uuid {
    Uuid::new_v5(&EXECUTION_NAMESPACE, item_id.as_bytes())
}

/// Where an execution stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// Waiting for the executor.
    Requested,
    /// An attempt started and has no outcome yet.
    Executing,
    Succeeded,
    Failed,
    /// A guardrail held it back.
    Blocked,
    /// Send mode was `dry_run`: the request was recorded, not sent.
    DryRun,
    RolledBack,
    /// Done by hand: waits for the operator to mark it done.
    Manual,
}

impl ExecutionStatus {
    pub const ALL: &'static [ExecutionStatus] = &[
        ExecutionStatus::Requested,
        ExecutionStatus::Executing,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::Blocked,
        ExecutionStatus::DryRun,
        ExecutionStatus::RolledBack,
        ExecutionStatus::Manual,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Requested => "requested",
            ExecutionStatus::Executing => "executing",
            ExecutionStatus::Succeeded => "succeeded",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Blocked => "blocked",
            ExecutionStatus::DryRun => "dry_run",
            ExecutionStatus::RolledBack => "rolled_back",
            ExecutionStatus::Manual => "manual",
        }
    }

    pub fn parse(raw: &str) -> Option<ExecutionStatus> {
        ExecutionStatus::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == raw)
    }

    /// Whether a person may ask for another attempt.
    pub const fn retryable(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Failed | ExecutionStatus::Blocked | ExecutionStatus::DryRun
        )
    }
}

/// What the provider call became: a live send, a draft, a dry run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// An email sent (Gmail `messages.send`).
    EmailSent,
    /// A Gmail draft (`drafts.create`): the email plan under `draft_only`, or a draft move.
    DraftCreated,
    /// A calendar event with invitations mailed.
    MeetingBooked,
    /// A calendar event created without mailing invitations (`draft_only`).
    MeetingHeld,
    TaskCreated,
    TaskCompleted,
    DealStageChanged,
}

crate::kernel::unit_enum::read_unit_enum!(Effect {
    EmailSent = "email_sent",
    DraftCreated = "draft_created",
    MeetingBooked = "meeting_booked",
    MeetingHeld = "meeting_held",
    TaskCreated = "task_created",
    TaskCompleted = "task_completed",
    DealStageChanged = "deal_stage_changed",
});

impl Effect {
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::EmailSent => "email_sent",
            Effect::DraftCreated => "draft_created",
            Effect::MeetingBooked => "meeting_booked",
            Effect::MeetingHeld => "meeting_held",
            Effect::TaskCreated => "task_created",
            Effect::TaskCompleted => "task_completed",
            Effect::DealStageChanged => "deal_stage_changed",
        }
    }

    /// The effect of a plan when it goes ahead; `live` false under `draft_only`.
    pub const fn of(handler: Handler, live: bool) -> Option<Effect> {
        match handler {
            Handler::Email if live => Some(Effect::EmailSent),
            Handler::Email | Handler::Draft => Some(Effect::DraftCreated),
            Handler::Meeting if live => Some(Effect::MeetingBooked),
            Handler::Meeting => Some(Effect::MeetingHeld),
            Handler::CrmTask => Some(Effect::TaskCreated),
            Handler::CompleteTask => Some(Effect::TaskCompleted),
            Handler::DealStage => Some(Effect::DealStageChanged),
            Handler::ByHand => None,
        }
    }

    /// What rolling it back does, or why it cannot be.
    pub const fn rollback(self) -> Result<&'static str, &'static str> {
        match self {
            Effect::DraftCreated => Ok("delete the Gmail draft"),
            Effect::MeetingBooked | Effect::MeetingHeld => Ok("cancel the calendar event"),
            Effect::TaskCreated => Ok("delete the HubSpot task"),
            Effect::EmailSent => Err("a sent email cannot be unsent"),
            Effect::TaskCompleted => Err("HubSpot keeps a completed task completed; reopen it there"),
            Effect::DealStageChanged => Err("move the deal back to its stage yourself: a stage change is a new decision, not an undo"),
        }
    }
}

/// A failure, with the provider's or CaseyOS's stable code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ExecutionFailure {
    pub code: String,
    pub message: String,
    /// Whether the same attempt may work later without anyone changing anything.
    pub retryable: bool,
}

/// The exact HTTP request a dry run would have sent (no credentials).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RequestPreview {
    pub method: String,
    pub url: String,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub body: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExecutionCommand {
    /// The move was approved: execute it per this plan (or record why there is none).
    Request(Box<RequestExecution>),
    /// Record the guardrails' block.
    Block {
        guardrail: Guardrail,
        reason: String,
        retry_at: Option<DateTime<Utc>>,
        checks: Vec<GuardrailCheck>,
        at: DateTime<Utc>,
    },
    /// An attempt starts: recorded before the provider is called.
    Start {
        effect: Effect,
        checks: Vec<GuardrailCheck>,
        at: DateTime<Utc>,
    },
    Succeed {
        provider_ids: BTreeMap<String, String>,
        /// The outcome was found at the provider after a start without an outcome.
        reconciled: bool,
        at: DateTime<Utc>,
    },
    Fail {
        failure: ExecutionFailure,
        at: DateTime<Utc>,
    },
    DryRun {
        request: RequestPreview,
        checks: Vec<GuardrailCheck>,
        at: DateTime<Utc>,
    },
    /// A person (or the scheduler, once a block's `retry_at` passed) asks again.
    Retry {
        by: Actor,
        at: DateTime<Utc>,
    },
    /// A person asks to undo a succeeded execution.
    RequestRollback {
        by: Actor,
        at: DateTime<Utc>,
    },
    RolledBack {
        what: String,
        at: DateTime<Utc>,
    },
    RollbackFailed {
        failure: ExecutionFailure,
        at: DateTime<Utc>,
    },
    /// The operator did a by-hand move.
    CompleteByHand {
        note: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestExecution {
    pub execution_id: Uuid,
    pub item_id: Uuid,
    pub action_type: ActionType,
    pub title: String,
    pub owner: String,
    /// The plan, or why the move could not become one (`execution.incomplete_move`).
    pub plan: Result<Plan, String>,
    /// Who approved the move (a person, or an auto-approval rule).
    pub approved_by: Actor,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExecutionEvent {
    ExecutionRequested(Box<ExecutionRequested>),
    ExecutionBlocked(ExecutionBlocked),
    ExecutionStarted(ExecutionStarted),
    ExecutionSucceeded(ExecutionSucceeded),
    ExecutionFailed(ExecutionFailed),
    ExecutionDryRun(ExecutionDryRun),
    ExecutionRetryRequested(ExecutionRetryRequested),
    ExecutionRollbackRequested(ExecutionRetryRequested),
    ExecutionRolledBack(ExecutionRolledBack),
    ExecutionRollbackFailed(ExecutionFailed),
    ExecutionCompletedByHand(ExecutionCompletedByHand),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRequested {
    pub execution_id: Uuid,
    pub item_id: Uuid,
    pub action_type: ActionType,
    pub title: String,
    pub owner: String,
    /// Absent when the move could not become a plan (then a failure follows at once).
    pub plan: Option<Plan>,
    pub approved_by: Actor,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionBlocked {
    pub guardrail: Guardrail,
    pub reason: String,
    pub retry_at: Option<DateTime<Utc>>,
    pub checks: Vec<GuardrailCheck>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionStarted {
    pub attempt: u32,
    pub effect: Effect,
    pub checks: Vec<GuardrailCheck>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSucceeded {
    pub attempt: u32,
    pub provider_ids: BTreeMap<String, String>,
    pub reconciled: bool,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionFailed {
    pub attempt: u32,
    pub failure: ExecutionFailure,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionDryRun {
    pub request: RequestPreview,
    pub checks: Vec<GuardrailCheck>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRetryRequested {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRolledBack {
    pub what: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionCompletedByHand {
    pub note: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A block, as the view shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Block {
    pub guardrail: Guardrail,
    pub reason: String,
    /// When it is tried again by itself; absent when it needs a person.
    pub retry_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// A rollback, as the view shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Rollback {
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
    /// What was undone, once it was.
    pub done: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub failure: Option<ExecutionFailure>,
}

/// One execution as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ExecutionView {
    pub id: Uuid,
    pub item_id: Uuid,
    pub action_type: ActionType,
    pub title: String,
    pub owner: String,
    pub handler: Handler,
    pub status: ExecutionStatus,
    /// What CaseyOS does (absent when the move could not become a plan).
    pub plan: Option<Plan>,
    /// What the last attempt did (send, draft, …).
    pub effect: Option<Effect>,
    pub attempts: u32,
    /// The guardrails' last decision, check by check.
    pub checks: Vec<GuardrailCheck>,
    /// The provider's ids (`gmail_message_id`, `calendar_event_id`, `hubspot_task_id`, …).
    pub provider_ids: BTreeMap<String, String>,
    pub reconciled: bool,
    pub failure: Option<ExecutionFailure>,
    pub blocked: Option<Block>,
    /// The exact request a dry run would have sent.
    pub dry_run: Option<RequestPreview>,
    pub rollback: Option<Rollback>,
    /// Who approved the move: a person, or an auto-approval rule.
    pub approved_by: Actor,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub completed_by: Option<Actor>,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// The execution aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionExecution {
    pub execution: Option<ExecutionView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    #[error("execution not found")]
    NotFound,
    #[error("the execution is {0}; only a failed, blocked or dry-run execution can be retried")]
    NotRetryable(&'static str),
    #[error("the execution is {0}; only a succeeded execution can be rolled back")]
    NotRolledBack(&'static str),
    #[error("{0}")]
    CannotRollBack(&'static str),
    #[error("the execution is {0}; only a by-hand move waiting for you can be marked done")]
    NotManual(&'static str),
    #[error("the executor's step does not fit the execution's state ({0})")]
    OutOfOrder(&'static str),
}

impl DomainError for ExecutionError {
    fn code(&self) -> &'static str {
        match self {
            ExecutionError::NotFound => "execution.not_found",
            ExecutionError::NotRetryable(_) => "execution.not_retryable",
            ExecutionError::NotRolledBack(_) => "execution.not_succeeded",
            ExecutionError::CannotRollBack(_) => "execution.cannot_roll_back",
            ExecutionError::NotManual(_) => "execution.not_manual",
            ExecutionError::OutOfOrder(_) => "execution.out_of_order",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ExecutionError::NotFound => RejectionKind::NotFound,
            _ => RejectionKind::Conflict,
        }
    }
}

impl Aggregate for ActionExecution {
    const TYPE: &'static str = "action_execution";
    const EVENT_VERSION: &'static str = EXECUTION_EVENT_VERSION;
    type Command = ExecutionCommand;
    type Event = ExecutionEvent;
    type Error = ExecutionError;
    type View = ExecutionView;

    fn command_name(command: &ExecutionCommand) -> &'static str {
        match command {
            ExecutionCommand::Request(_) => "request",
            ExecutionCommand::Block { .. } => "block",
            ExecutionCommand::Start { .. } => "start",
            ExecutionCommand::Succeed { .. } => "succeed",
            ExecutionCommand::Fail { .. } => "fail",
            ExecutionCommand::DryRun { .. } => "dry_run",
            ExecutionCommand::Retry { .. } => "retry",
            ExecutionCommand::RequestRollback { .. } => "request_rollback",
            ExecutionCommand::RolledBack { .. } => "rolled_back",
            ExecutionCommand::RollbackFailed { .. } => "rollback_failed",
            ExecutionCommand::CompleteByHand { .. } => "complete_by_hand",
        }
    }

    fn event_name(event: &ExecutionEvent) -> &'static str {
        match event {
            ExecutionEvent::ExecutionRequested(_) => "ExecutionRequested",
            ExecutionEvent::ExecutionBlocked(_) => "ExecutionBlocked",
            ExecutionEvent::ExecutionStarted(_) => "ExecutionStarted",
            ExecutionEvent::ExecutionSucceeded(_) => "ExecutionSucceeded",
            ExecutionEvent::ExecutionFailed(_) => "ExecutionFailed",
            ExecutionEvent::ExecutionDryRun(_) => "ExecutionDryRun",
            ExecutionEvent::ExecutionRetryRequested(_) => "ExecutionRetryRequested",
            ExecutionEvent::ExecutionRollbackRequested(_) => "ExecutionRollbackRequested",
            ExecutionEvent::ExecutionRolledBack(_) => "ExecutionRolledBack",
            ExecutionEvent::ExecutionRollbackFailed(_) => "ExecutionRollbackFailed",
            ExecutionEvent::ExecutionCompletedByHand(_) => "ExecutionCompletedByHand",
        }
    }

    fn view(&self) -> Option<&ExecutionView> {
        self.execution.as_ref()
    }

    fn into_view(self) -> Option<ExecutionView> {
        self.execution
    }

    /// An execution is its move owner's, and shown to others as the move is.
    fn ownership(&self) -> Option<Ownership> {
        self.execution.as_ref().map(|e| Ownership {
            owner: Actor::user(e.owner.clone()),
            disclosed: true,
        })
    }

    fn decide(&self, command: ExecutionCommand) -> Result<Vec<ExecutionEvent>, ExecutionError> {
        use ExecutionStatus as S;
        if let ExecutionCommand::Request(request) = command {
            // One execution per move: a second approval's request changes nothing.
            if self.execution.is_some() {
                return Ok(Vec::new());
            }
            let request = *request;
            let at = request.at;
            let (plan, problem) = match request.plan {
                Ok(plan) => (Some(plan), None),
                Err(problem) => (None, Some(problem)),
            };
            let mut events = vec![ExecutionEvent::ExecutionRequested(Box::new(
                ExecutionRequested {
                    execution_id: request.execution_id,
                    item_id: request.item_id,
                    action_type: request.action_type,
                    title: request.title,
                    owner: request.owner,
                    plan,
                    approved_by: request.approved_by,
                    by: request.by,
                    at,
                },
            ))];
            if let Some(message) = problem {
                events.push(ExecutionEvent::ExecutionFailed(ExecutionFailed {
                    attempt: 0,
                    failure: ExecutionFailure {
                        code: "execution.incomplete_move".into(),
                        message,
                        retryable: false,
                    },
                    at,
                }));
            }
            return Ok(events);
        }
        let execution = self.execution.as_ref().ok_or(ExecutionError::NotFound)?;
        let status = execution.status;
        let attempt = execution.attempts;
        let event = match command {
            ExecutionCommand::Request(_) => unreachable!("handled above"),
            ExecutionCommand::Block {
                guardrail,
                reason,
                retry_at,
                checks,
                at,
            } => {
                if status != S::Requested {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionBlocked(ExecutionBlocked {
                    guardrail,
                    reason,
                    retry_at,
                    checks,
                    at,
                })
            }
            ExecutionCommand::Start { effect, checks, at } => {
                if status != S::Requested {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionStarted(ExecutionStarted {
                    attempt: attempt + 1,
                    effect,
                    checks,
                    at,
                })
            }
            ExecutionCommand::Succeed {
                provider_ids,
                reconciled,
                at,
            } => {
                if status != S::Executing {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionSucceeded(ExecutionSucceeded {
                    attempt,
                    provider_ids,
                    reconciled,
                    at,
                })
            }
            ExecutionCommand::Fail { failure, at } => {
                if !matches!(status, S::Executing | S::Requested) {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionFailed(ExecutionFailed {
                    attempt,
                    failure,
                    at,
                })
            }
            ExecutionCommand::DryRun {
                request,
                checks,
                at,
            } => {
                if status != S::Requested {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionDryRun(ExecutionDryRun {
                    request,
                    checks,
                    at,
                })
            }
            ExecutionCommand::Retry { by, at } => {
                if status == S::Requested {
                    return Ok(Vec::new());
                }
                if !status.retryable() || execution.plan.is_none() {
                    return Err(ExecutionError::NotRetryable(status.as_str()));
                }
                ExecutionEvent::ExecutionRetryRequested(ExecutionRetryRequested { by, at })
            }
            ExecutionCommand::RequestRollback { by, at } => {
                if execution
                    .rollback
                    .as_ref()
                    .is_some_and(|r| r.done.is_none() && r.failure.is_none())
                {
                    return Ok(Vec::new());
                }
                if status != S::Succeeded {
                    return Err(ExecutionError::NotRolledBack(status.as_str()));
                }
                let effect = execution.effect.ok_or(ExecutionError::CannotRollBack(
                    "a move done by hand is undone by hand",
                ))?;
                effect.rollback().map_err(ExecutionError::CannotRollBack)?;
                ExecutionEvent::ExecutionRollbackRequested(ExecutionRetryRequested { by, at })
            }
            ExecutionCommand::RolledBack { what, at } => {
                if status != S::Succeeded || execution.rollback.is_none() {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionRolledBack(ExecutionRolledBack { what, at })
            }
            ExecutionCommand::RollbackFailed { failure, at } => {
                if status != S::Succeeded || execution.rollback.is_none() {
                    return Err(ExecutionError::OutOfOrder(status.as_str()));
                }
                ExecutionEvent::ExecutionRollbackFailed(ExecutionFailed {
                    attempt,
                    failure,
                    at,
                })
            }
            ExecutionCommand::CompleteByHand { note, by, at } => {
                if status == S::Succeeded && execution.completed_by.is_some() {
                    return Ok(Vec::new());
                }
                if status != S::Manual {
                    return Err(ExecutionError::NotManual(status.as_str()));
                }
                ExecutionEvent::ExecutionCompletedByHand(ExecutionCompletedByHand { note, by, at })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: ExecutionEvent) {
        if let ExecutionEvent::ExecutionRequested(e) = event {
            let e = *e;
            let handler = e.action_type.handler();
            let manual = matches!(e.plan, Some(Plan::ByHand { .. }));
            self.execution = Some(ExecutionView {
                id: e.execution_id,
                item_id: e.item_id,
                action_type: e.action_type,
                title: e.title,
                owner: e.owner,
                handler,
                status: if manual {
                    ExecutionStatus::Manual
                } else {
                    ExecutionStatus::Requested
                },
                plan: e.plan,
                effect: None,
                attempts: 0,
                checks: Vec::new(),
                provider_ids: BTreeMap::new(),
                reconciled: false,
                failure: None,
                blocked: None,
                dry_run: None,
                rollback: None,
                approved_by: e.approved_by,
                requested_at: e.at,
                started_at: None,
                finished_at: None,
                completed_by: None,
                note: None,
                updated_at: e.at,
                version: 1,
            });
            return;
        }
        let Some(x) = self.execution.as_mut() else {
            return;
        };
        x.version += 1;
        match event {
            ExecutionEvent::ExecutionRequested(_) => {}
            ExecutionEvent::ExecutionBlocked(e) => {
                x.status = ExecutionStatus::Blocked;
                x.checks = e.checks;
                x.blocked = Some(Block {
                    guardrail: e.guardrail,
                    reason: e.reason,
                    retry_at: e.retry_at,
                    at: e.at,
                });
                x.finished_at = Some(e.at);
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionStarted(e) => {
                x.status = ExecutionStatus::Executing;
                x.attempts = e.attempt;
                x.effect = Some(e.effect);
                x.checks = e.checks;
                x.blocked = None;
                x.failure = None;
                x.dry_run = None;
                x.started_at = Some(e.at);
                x.finished_at = None;
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionSucceeded(e) => {
                x.status = ExecutionStatus::Succeeded;
                x.provider_ids = e.provider_ids;
                x.reconciled = e.reconciled;
                x.finished_at = Some(e.at);
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionFailed(e) => {
                x.status = ExecutionStatus::Failed;
                x.failure = Some(e.failure);
                x.finished_at = Some(e.at);
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionDryRun(e) => {
                x.status = ExecutionStatus::DryRun;
                x.checks = e.checks;
                x.dry_run = Some(e.request);
                x.finished_at = Some(e.at);
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionRetryRequested(e) => {
                x.status = ExecutionStatus::Requested;
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionRollbackRequested(e) => {
                x.rollback = Some(Rollback {
                    requested_by: e.by,
                    requested_at: e.at,
                    done: None,
                    done_at: None,
                    failure: None,
                });
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionRolledBack(e) => {
                x.status = ExecutionStatus::RolledBack;
                if let Some(r) = x.rollback.as_mut() {
                    r.done = Some(e.what);
                    r.done_at = Some(e.at);
                }
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionRollbackFailed(e) => {
                if let Some(r) = x.rollback.as_mut() {
                    r.failure = Some(e.failure);
                }
                x.updated_at = e.at;
            }
            ExecutionEvent::ExecutionCompletedByHand(e) => {
                x.status = ExecutionStatus::Succeeded;
                x.completed_by = Some(e.by);
                x.note = e.note;
                x.finished_at = Some(e.at);
                x.updated_at = e.at;
            }
        }
    }
}
