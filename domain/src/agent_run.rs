//! Agent runs: one execution of one agent, from request to a final, visible state.
//!
//! `queued → running (attempt n, worker) → succeeded | failed | timed_out | cancelled`,
//! with `cancelling` while a running agent is asked to stop, `queued` again when a worker
//! lost its lease and attempts remain, and `dismissed` as a mark on a finished run. A retry
//! is a new run whose `retry_of` names this one. Every step is an event, so the run's
//! history, its attempts and the UI all come from the log.
//!
//! [`AgentRun::decide`] and [`AgentRun::apply`] are pure; time, actor and worker come in
//! with the command.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::queue::Actor;

/// The version every agent run event is written with.
pub const AGENT_RUN_EVENT_VERSION: &str = "1";
/// The per-attempt time limit unless the agent's configuration says otherwise.
pub const DEFAULT_TIMEOUT_MS: u64 = 300_000;
/// How many times a run is started before a lost worker fails it.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 2;
/// Longest cancel reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The seven areas agents work in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentDomain {
    Sales,
    Content,
    Research,
    Fulfillment,
    Contracts,
    Ops,
    DataHygiene,
}

impl AgentDomain {
    pub const ALL: &'static [AgentDomain] = &[
        AgentDomain::Sales,
        AgentDomain::Content,
        AgentDomain::Research,
        AgentDomain::Fulfillment,
        AgentDomain::Contracts,
        AgentDomain::Ops,
        AgentDomain::DataHygiene,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AgentDomain::Sales => "sales",
            AgentDomain::Content => "content",
            AgentDomain::Research => "research",
            AgentDomain::Fulfillment => "fulfillment",
            AgentDomain::Contracts => "contracts",
            AgentDomain::Ops => "ops",
            AgentDomain::DataHygiene => "data_hygiene",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            AgentDomain::Sales => "Sales",
            AgentDomain::Content => "Content",
            AgentDomain::Research => "Research",
            AgentDomain::Fulfillment => "Fulfillment",
            AgentDomain::Contracts => "Contracts",
            AgentDomain::Ops => "Ops",
            AgentDomain::DataHygiene => "Data hygiene",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.as_str() == raw)
    }
}

/// What asked for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// A person, from the SPA or the CLI.
    Manual,
    /// A REST API client.
    Api,
    /// A stored schedule.
    Schedule,
    /// Another agent.
    Agent,
}

impl RunTrigger {
    pub const ALL: &'static [RunTrigger] = &[
        RunTrigger::Manual,
        RunTrigger::Api,
        RunTrigger::Schedule,
        RunTrigger::Agent,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Manual => "manual",
            RunTrigger::Api => "api",
            RunTrigger::Schedule => "schedule",
            RunTrigger::Agent => "agent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == raw)
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    Running,
    /// Running, asked to stop.
    Cancelling,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
}

impl RunStatus {
    pub const ALL: &'static [RunStatus] = &[
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Cancelling,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::TimedOut,
        RunStatus::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Cancelling => "cancelling",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed_out",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == raw)
    }

    /// Whether the run has ended (nothing will execute it again).
    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled
        )
    }

    /// Whether a worker holds (or held) the run.
    pub const fn is_active(self) -> bool {
        matches!(self, RunStatus::Running | RunStatus::Cancelling)
    }
}

/// Why a run or an attempt failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RunError {
    /// Stable machine code, e.g. `llm.rate_limited`, `agent.worker_lost`.
    pub code: String,
    pub message: String,
}

/// Language-model tokens a run used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LlmUsage {
    /// Completed chat-completion calls.
    pub calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// The model that answered (the provider's name for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl LlmUsage {
    pub fn is_empty(&self) -> bool {
        self.calls == 0
    }

    pub fn add(&mut self, other: &LlmUsage) {
        self.calls += other.calls;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
        if other.model.is_some() {
            self.model.clone_from(&other.model);
        }
    }
}

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    /// Its worker stopped answering (lease expired).
    Abandoned,
}

/// One start of the run on a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RunAttempt {
    pub attempt: u32,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub outcome: AttemptOutcome,
    pub error: Option<RunError>,
}

/// A run as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentRunView {
    pub id: Uuid,
    pub agent: String,
    pub domain: AgentDomain,
    pub status: RunStatus,
    pub trigger: RunTrigger,
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
    /// The input, as validated against the agent's schema.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub input: Value,
    /// The agent's result (JSON), once it succeeded.
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub output: Option<Value>,
    /// Text the agent produced for people (markdown), when it writes any.
    pub text: Option<String>,
    pub error: Option<RunError>,
    /// Whether running it again may succeed (a failed run).
    pub retryable: Option<bool>,
    pub attempts: Vec<RunAttempt>,
    pub max_attempts: u32,
    /// The per-attempt time limit.
    pub timeout_ms: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// From the first start to the end.
    pub duration_ms: Option<u64>,
    pub usage: LlmUsage,
    /// Moves the run proposed for Today's Moves.
    pub proposed_items: Vec<Uuid>,
    /// The run this one retries.
    pub retry_of: Option<Uuid>,
    /// The runs that retry this one (filled by the read model from their requests).
    #[serde(default)]
    pub retried_by: Vec<Uuid>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<Actor>,
    pub dismissed_at: Option<DateTime<Utc>>,
    pub dismissed_by: Option<Actor>,
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state.
    pub version: u64,
}

impl AgentRunView {
    /// The attempt currently running, if any.
    pub fn current_attempt(&self) -> Option<&RunAttempt> {
        self.attempts
            .last()
            .filter(|a| a.outcome == AttemptOutcome::Running)
    }
}

/// The aggregate: `None` until requested.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentRun {
    pub run: Option<AgentRunView>,
}

// ---------------------------------------------------------------------------------------
// Commands

#[derive(Clone, Debug, PartialEq)]
pub enum AgentRunCommand {
    Request(Box<RequestAgentRun>),
    /// A worker that holds the lease starts the next attempt.
    Start {
        attempt: u32,
        worker: String,
        at: DateTime<Utc>,
    },
    Succeed {
        attempt: u32,
        output: Value,
        text: Option<String>,
        proposed_items: Vec<Uuid>,
        usage: LlmUsage,
        at: DateTime<Utc>,
    },
    Fail {
        attempt: u32,
        error: RunError,
        retryable: bool,
        usage: LlmUsage,
        at: DateTime<Utc>,
    },
    TimeOut {
        attempt: u32,
        at: DateTime<Utc>,
    },
    /// A worker found the attempt's lease expired: the attempt is abandoned, and the run
    /// queued again, failed, timed out or cancelled as its state says.
    Abandon {
        attempt: u32,
        reason: String,
        at: DateTime<Utc>,
    },
    Cancel {
        reason: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// The worker stopped the agent after a cancel request.
    ConfirmCancel {
        attempt: u32,
        at: DateTime<Utc>,
    },
    Dismiss {
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestAgentRun {
    pub id: Uuid,
    pub agent: String,
    pub domain: AgentDomain,
    pub input: Value,
    pub trigger: RunTrigger,
    pub retry_of: Option<Uuid>,
    pub timeout_ms: u64,
    pub max_attempts: u32,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------
// Events

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AgentRunEvent {
    AgentRunRequested(Box<AgentRunRequested>),
    AgentRunStarted(AgentRunStarted),
    AgentRunSucceeded(Box<AgentRunSucceeded>),
    AgentRunFailed(AgentRunFailed),
    AgentRunTimedOut(AgentRunTimedOut),
    AgentRunAttemptAbandoned(AgentRunAttemptAbandoned),
    AgentRunCancelRequested(AgentRunCancelRequested),
    AgentRunCancelled(AgentRunCancelled),
    AgentRunDismissed(AgentRunDismissed),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunRequested {
    pub run_id: Uuid,
    pub agent: String,
    pub domain: AgentDomain,
    pub input: Value,
    pub trigger: RunTrigger,
    pub retry_of: Option<Uuid>,
    pub timeout_ms: u64,
    pub max_attempts: u32,
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunStarted {
    pub attempt: u32,
    pub worker: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunSucceeded {
    pub attempt: u32,
    pub output: Value,
    pub text: Option<String>,
    pub proposed_items: Vec<Uuid>,
    pub usage: LlmUsage,
    pub duration_ms: u64,
    pub finished_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunFailed {
    pub attempt: u32,
    pub error: RunError,
    pub retryable: bool,
    pub usage: LlmUsage,
    pub duration_ms: u64,
    pub finished_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunTimedOut {
    pub attempt: u32,
    pub timeout_ms: u64,
    pub duration_ms: u64,
    pub finished_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunAttemptAbandoned {
    pub attempt: u32,
    pub worker: String,
    pub reason: String,
    pub abandoned_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunCancelRequested {
    pub reason: Option<String>,
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunCancelled {
    /// The attempt that was stopped; `None` when the run never started.
    pub attempt: Option<u32>,
    pub reason: Option<String>,
    pub cancelled_by: Actor,
    pub cancelled_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRunDismissed {
    pub dismissed_by: Actor,
    pub dismissed_at: DateTime<Utc>,
}

/// A stored event this version of CaseyOS cannot read.
#[derive(Debug, thiserror::Error)]
pub enum AgentRunDecodeError {
    #[error("unknown agent run event version {event_type} v{version}")]
    UnknownVersion { event_type: String, version: String },
    #[error("malformed {event_type} payload: {source}")]
    Malformed {
        event_type: String,
        source: serde_json::Error,
    },
}

impl AgentRunEvent {
    /// Reads a stored event, upcasting older versions when there are any.
    pub fn decode(
        event_type: &str,
        version: &str,
        payload: Value,
    ) -> Result<Self, AgentRunDecodeError> {
        if version != AGENT_RUN_EVENT_VERSION {
            return Err(AgentRunDecodeError::UnknownVersion {
                event_type: event_type.to_string(),
                version: version.to_string(),
            });
        }
        serde_json::from_value(payload).map_err(|source| AgentRunDecodeError::Malformed {
            event_type: event_type.to_string(),
            source,
        })
    }

    pub const fn name(&self) -> &'static str {
        match self {
            AgentRunEvent::AgentRunRequested(_) => "AgentRunRequested",
            AgentRunEvent::AgentRunStarted(_) => "AgentRunStarted",
            AgentRunEvent::AgentRunSucceeded(_) => "AgentRunSucceeded",
            AgentRunEvent::AgentRunFailed(_) => "AgentRunFailed",
            AgentRunEvent::AgentRunTimedOut(_) => "AgentRunTimedOut",
            AgentRunEvent::AgentRunAttemptAbandoned(_) => "AgentRunAttemptAbandoned",
            AgentRunEvent::AgentRunCancelRequested(_) => "AgentRunCancelRequested",
            AgentRunEvent::AgentRunCancelled(_) => "AgentRunCancelled",
            AgentRunEvent::AgentRunDismissed(_) => "AgentRunDismissed",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rejections

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgentRunError {
    #[error("agent run not found")]
    NotFound,
    #[error("an agent run with this id already exists")]
    AlreadyRequested,
    #[error("this run has already finished ({0})")]
    AlreadyFinished(&'static str),
    #[error("attempt {attempt} is not the run's current attempt")]
    StaleAttempt { attempt: u32 },
    #[error("the run is {0}, not queued")]
    NotQueued(&'static str),
    #[error("only a finished run can be {0}")]
    NotFinished(&'static str),
    #[error("this run was already dismissed")]
    AlreadyDismissed,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl AgentRunError {
    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            AgentRunError::NotFound => "agent_run.not_found",
            AgentRunError::AlreadyRequested => "agent_run.already_exists",
            AgentRunError::AlreadyFinished(_) => "agent_run.already_finished",
            AgentRunError::StaleAttempt { .. } => "agent_run.stale_attempt",
            AgentRunError::NotQueued(_) => "agent_run.not_queued",
            AgentRunError::NotFinished(_) => "agent_run.not_finished",
            AgentRunError::AlreadyDismissed => "agent_run.already_dismissed",
            AgentRunError::Invalid { .. } => "request.validation",
        }
    }
}

fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Decide and apply

impl AgentRun {
    /// The events a command produces against the current state, or why it is refused.
    pub fn decide(&self, command: AgentRunCommand) -> Result<Vec<AgentRunEvent>, AgentRunError> {
        if let AgentRunCommand::Request(request) = command {
            if self.run.is_some() {
                return Err(AgentRunError::AlreadyRequested);
            }
            return Self::request(*request).map(|e| vec![e]);
        }
        let Some(run) = &self.run else {
            return Err(AgentRunError::NotFound);
        };
        match command {
            AgentRunCommand::Request(_) => unreachable!("handled above"),
            AgentRunCommand::Start {
                attempt,
                worker,
                at,
            } => {
                if run.status != RunStatus::Queued {
                    return Err(if run.status.is_finished() {
                        AgentRunError::AlreadyFinished(run.status.as_str())
                    } else {
                        AgentRunError::NotQueued(run.status.as_str())
                    });
                }
                let next = run.attempts.len() as u32 + 1;
                if attempt != next {
                    return Err(AgentRunError::StaleAttempt { attempt });
                }
                Ok(vec![AgentRunEvent::AgentRunStarted(AgentRunStarted {
                    attempt,
                    worker,
                    started_at: at,
                })])
            }
            AgentRunCommand::Succeed {
                attempt,
                output,
                text,
                proposed_items,
                usage,
                at,
            } => {
                let started = Self::running_attempt(run, attempt)?;
                Ok(vec![AgentRunEvent::AgentRunSucceeded(Box::new(
                    AgentRunSucceeded {
                        attempt,
                        output,
                        text,
                        proposed_items,
                        usage,
                        duration_ms: millis_between(started, at),
                        finished_at: at,
                    },
                ))])
            }
            AgentRunCommand::Fail {
                attempt,
                error,
                retryable,
                usage,
                at,
            } => {
                let started = Self::running_attempt(run, attempt)?;
                Ok(vec![AgentRunEvent::AgentRunFailed(AgentRunFailed {
                    attempt,
                    error,
                    retryable,
                    usage,
                    duration_ms: millis_between(started, at),
                    finished_at: at,
                })])
            }
            AgentRunCommand::TimeOut { attempt, at } => {
                let started = Self::running_attempt(run, attempt)?;
                Ok(vec![AgentRunEvent::AgentRunTimedOut(AgentRunTimedOut {
                    attempt,
                    timeout_ms: run.timeout_ms,
                    duration_ms: millis_between(started, at),
                    finished_at: at,
                })])
            }
            AgentRunCommand::Abandon {
                attempt,
                reason,
                at,
            } => {
                let started = Self::running_attempt(run, attempt)?;
                let worker = run
                    .current_attempt()
                    .map(|a| a.worker.clone())
                    .unwrap_or_default();
                let mut events = vec![AgentRunEvent::AgentRunAttemptAbandoned(
                    AgentRunAttemptAbandoned {
                        attempt,
                        worker: worker.clone(),
                        reason: reason.clone(),
                        abandoned_at: at,
                    },
                )];
                let elapsed = millis_between(started, at);
                if run.status == RunStatus::Cancelling {
                    events.push(AgentRunEvent::AgentRunCancelled(AgentRunCancelled {
                        attempt: Some(attempt),
                        reason: run.cancel_reason.clone(),
                        cancelled_by: run
                            .cancelled_by
                            .clone()
                            .unwrap_or_else(|| Actor::system("worker")),
                        cancelled_at: at,
                    }));
                } else if elapsed >= run.timeout_ms {
                    events.push(AgentRunEvent::AgentRunTimedOut(AgentRunTimedOut {
                        attempt,
                        timeout_ms: run.timeout_ms,
                        duration_ms: elapsed,
                        finished_at: at,
                    }));
                } else if attempt >= run.max_attempts {
                    events.push(AgentRunEvent::AgentRunFailed(AgentRunFailed {
                        attempt,
                        error: RunError {
                            code: "agent.worker_lost".into(),
                            message: format!(
                                "worker {worker} stopped answering during attempt {attempt} of \
                                 {} ({reason}); no attempts left",
                                run.max_attempts
                            ),
                        },
                        retryable: true,
                        usage: LlmUsage::default(),
                        duration_ms: elapsed,
                        finished_at: at,
                    }));
                }
                Ok(events)
            }
            AgentRunCommand::Cancel { reason, by, at } => {
                if run.status.is_finished() {
                    return Err(AgentRunError::AlreadyFinished(run.status.as_str()));
                }
                let reason = match reason.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(r) if r.chars().count() > MAX_REASON_CHARS => {
                        return Err(AgentRunError::Invalid {
                            field: "reason",
                            message: format!("must be at most {MAX_REASON_CHARS} characters"),
                        })
                    }
                    Some(r) => Some(r.to_string()),
                };
                match run.status {
                    RunStatus::Queued => {
                        Ok(vec![AgentRunEvent::AgentRunCancelled(AgentRunCancelled {
                            attempt: None,
                            reason,
                            cancelled_by: by,
                            cancelled_at: at,
                        })])
                    }
                    // Asking twice changes nothing.
                    RunStatus::Cancelling => Ok(vec![]),
                    _ => Ok(vec![AgentRunEvent::AgentRunCancelRequested(
                        AgentRunCancelRequested {
                            reason,
                            requested_by: by,
                            requested_at: at,
                        },
                    )]),
                }
            }
            AgentRunCommand::ConfirmCancel { attempt, at } => {
                if run.status != RunStatus::Cancelling {
                    return Err(AgentRunError::NotQueued(run.status.as_str()));
                }
                Self::running_attempt(run, attempt)?;
                Ok(vec![AgentRunEvent::AgentRunCancelled(AgentRunCancelled {
                    attempt: Some(attempt),
                    reason: run.cancel_reason.clone(),
                    cancelled_by: run
                        .cancelled_by
                        .clone()
                        .unwrap_or_else(|| Actor::system("worker")),
                    cancelled_at: at,
                })])
            }
            AgentRunCommand::Dismiss { by, at } => {
                if !run.status.is_finished() {
                    return Err(AgentRunError::NotFinished("dismissed"));
                }
                if run.dismissed_at.is_some() {
                    return Err(AgentRunError::AlreadyDismissed);
                }
                Ok(vec![AgentRunEvent::AgentRunDismissed(AgentRunDismissed {
                    dismissed_by: by,
                    dismissed_at: at,
                })])
            }
        }
    }

    /// The start time of `attempt` if it is the one running now.
    fn running_attempt(run: &AgentRunView, attempt: u32) -> Result<DateTime<Utc>, AgentRunError> {
        if run.status.is_finished() {
            return Err(AgentRunError::AlreadyFinished(run.status.as_str()));
        }
        match run.current_attempt() {
            Some(current) if current.attempt == attempt => Ok(current.started_at),
            _ => Err(AgentRunError::StaleAttempt { attempt }),
        }
    }

    fn request(request: RequestAgentRun) -> Result<AgentRunEvent, AgentRunError> {
        if request.agent.trim().is_empty() {
            return Err(AgentRunError::Invalid {
                field: "agent",
                message: "must not be empty".into(),
            });
        }
        if !request.input.is_object() {
            return Err(AgentRunError::Invalid {
                field: "input",
                message: "must be a JSON object".into(),
            });
        }
        if request.timeout_ms == 0 || request.max_attempts == 0 {
            return Err(AgentRunError::Invalid {
                field: "timeout_ms",
                message: "timeout and attempts must be positive".into(),
            });
        }
        Ok(AgentRunEvent::AgentRunRequested(Box::new(
            AgentRunRequested {
                run_id: request.id,
                agent: request.agent,
                domain: request.domain,
                input: request.input,
                trigger: request.trigger,
                retry_of: request.retry_of,
                timeout_ms: request.timeout_ms,
                max_attempts: request.max_attempts,
                requested_by: request.by,
                requested_at: request.at,
            },
        )))
    }

    /// Folds one event into the state. Never fails: events are facts.
    pub fn apply(&mut self, event: AgentRunEvent) {
        if let AgentRunEvent::AgentRunRequested(e) = event {
            let e = *e;
            self.run = Some(AgentRunView {
                id: e.run_id,
                agent: e.agent,
                domain: e.domain,
                status: RunStatus::Queued,
                trigger: e.trigger,
                requested_by: e.requested_by,
                requested_at: e.requested_at,
                input: e.input,
                output: None,
                text: None,
                error: None,
                retryable: None,
                attempts: Vec::new(),
                max_attempts: e.max_attempts,
                timeout_ms: e.timeout_ms,
                started_at: None,
                finished_at: None,
                duration_ms: None,
                usage: LlmUsage::default(),
                proposed_items: Vec::new(),
                retry_of: e.retry_of,
                retried_by: Vec::new(),
                cancel_reason: None,
                cancelled_by: None,
                dismissed_at: None,
                dismissed_by: None,
                updated_at: e.requested_at,
                version: 1,
            });
            return;
        }
        let Some(run) = self.run.as_mut() else {
            return;
        };
        run.version += 1;
        let finish = |run: &mut AgentRunView,
                      attempt: u32,
                      outcome: AttemptOutcome,
                      error: Option<RunError>,
                      at: DateTime<Utc>| {
            if let Some(a) = run.attempts.iter_mut().find(|a| a.attempt == attempt) {
                a.outcome = outcome;
                a.ended_at = Some(at);
                a.duration_ms = Some(millis_between(a.started_at, at));
                a.error = error;
            }
        };
        match event {
            AgentRunEvent::AgentRunRequested(_) => {}
            AgentRunEvent::AgentRunStarted(e) => {
                run.status = RunStatus::Running;
                run.started_at.get_or_insert(e.started_at);
                run.attempts.push(RunAttempt {
                    attempt: e.attempt,
                    worker: e.worker,
                    started_at: e.started_at,
                    ended_at: None,
                    duration_ms: None,
                    outcome: AttemptOutcome::Running,
                    error: None,
                });
                run.updated_at = e.started_at;
            }
            AgentRunEvent::AgentRunSucceeded(e) => {
                let e = *e;
                finish(
                    run,
                    e.attempt,
                    AttemptOutcome::Succeeded,
                    None,
                    e.finished_at,
                );
                run.status = RunStatus::Succeeded;
                run.output = Some(e.output);
                run.text = e.text;
                run.proposed_items = e.proposed_items;
                run.usage.add(&e.usage);
                Self::finished(run, e.finished_at);
            }
            AgentRunEvent::AgentRunFailed(e) => {
                finish(
                    run,
                    e.attempt,
                    AttemptOutcome::Failed,
                    Some(e.error.clone()),
                    e.finished_at,
                );
                // A lost worker's attempt stays "abandoned"; the run fails.
                if let Some(a) = run.attempts.iter_mut().find(|a| a.attempt == e.attempt) {
                    if e.error.code == "agent.worker_lost" {
                        a.outcome = AttemptOutcome::Abandoned;
                    }
                }
                run.status = RunStatus::Failed;
                run.error = Some(e.error);
                run.retryable = Some(e.retryable);
                run.usage.add(&e.usage);
                Self::finished(run, e.finished_at);
            }
            AgentRunEvent::AgentRunTimedOut(e) => {
                let error = RunError {
                    code: "agent.timed_out".into(),
                    message: format!(
                        "attempt {} ran longer than its {} s limit",
                        e.attempt,
                        e.timeout_ms.div_ceil(1000)
                    ),
                };
                finish(
                    run,
                    e.attempt,
                    AttemptOutcome::TimedOut,
                    Some(error.clone()),
                    e.finished_at,
                );
                run.status = RunStatus::TimedOut;
                run.error = Some(error);
                run.retryable = Some(true);
                Self::finished(run, e.finished_at);
            }
            AgentRunEvent::AgentRunAttemptAbandoned(e) => {
                finish(
                    run,
                    e.attempt,
                    AttemptOutcome::Abandoned,
                    Some(RunError {
                        code: "agent.worker_lost".into(),
                        message: format!("worker {} lost its lease: {}", e.worker, e.reason),
                    }),
                    e.abandoned_at,
                );
                run.status = RunStatus::Queued;
                run.updated_at = e.abandoned_at;
            }
            AgentRunEvent::AgentRunCancelRequested(e) => {
                run.status = RunStatus::Cancelling;
                run.cancel_reason = e.reason;
                run.cancelled_by = Some(e.requested_by);
                run.updated_at = e.requested_at;
            }
            AgentRunEvent::AgentRunCancelled(e) => {
                if let Some(attempt) = e.attempt {
                    finish(
                        run,
                        attempt,
                        AttemptOutcome::Cancelled,
                        None,
                        e.cancelled_at,
                    );
                }
                run.status = RunStatus::Cancelled;
                run.cancel_reason = e.reason;
                run.cancelled_by = Some(e.cancelled_by);
                Self::finished(run, e.cancelled_at);
            }
            AgentRunEvent::AgentRunDismissed(e) => {
                run.dismissed_at = Some(e.dismissed_at);
                run.dismissed_by = Some(e.dismissed_by);
                run.updated_at = e.dismissed_at;
            }
        }
    }

    fn finished(run: &mut AgentRunView, at: DateTime<Utc>) {
        run.finished_at = Some(at);
        run.duration_ms = run.started_at.map(|s| millis_between(s, at));
        run.updated_at = at;
    }
}

#[cfg(feature = "server")]
mod server {
    use cqrs_es::event_sink::EventSink;
    use cqrs_es::{Aggregate, DomainEvent};

    use super::*;

    impl DomainEvent for AgentRunEvent {
        fn event_type(&self) -> String {
            self.name().to_string()
        }

        fn event_version(&self) -> String {
            AGENT_RUN_EVENT_VERSION.to_string()
        }
    }

    impl Aggregate for AgentRun {
        const TYPE: &'static str = "agent_run";
        type Command = AgentRunCommand;
        type Event = AgentRunEvent;
        type Error = AgentRunError;
        type Services = ();

        async fn handle(
            &mut self,
            command: Self::Command,
            _services: &Self::Services,
            sink: &EventSink<Self>,
        ) -> Result<(), Self::Error> {
            for event in self.decide(command)? {
                sink.write(event, self).await;
            }
            Ok(())
        }

        fn apply(&mut self, event: Self::Event) {
            AgentRun::apply(self, event);
        }
    }
}

#[cfg(test)]
mod tests;
