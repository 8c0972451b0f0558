//! Decide and apply: `queued → running (attempt n, worker) → succeeded | failed | timed_out |
//! cancelled`. Both are pure: time, actor and worker come in with the command.

use chrono::{DateTime, Utc};

use super::command::*;
use super::error::AgentRunError;
use super::event::*;
use super::state::{AgentRun, AgentRunView};
use super::types::*;
use crate::aggregate::{Aggregate, Ownership};
use crate::kernel::{Actor, Text};

fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Decide and apply

impl Aggregate for AgentRun {
    const TYPE: &'static str = "agent_run";
    const EVENT_VERSION: &'static str = AGENT_RUN_EVENT_VERSION;
    type Command = AgentRunCommand;
    type Event = AgentRunEvent;
    type Error = AgentRunError;
    type View = AgentRunView;

    fn command_name(command: &AgentRunCommand) -> &'static str {
        match command {
            AgentRunCommand::Request(_) => "request",
            AgentRunCommand::Start { .. } => "start",
            AgentRunCommand::Succeed { .. } => "succeed",
            AgentRunCommand::Fail { .. } => "fail",
            AgentRunCommand::TimeOut { .. } => "time_out",
            AgentRunCommand::Abandon { .. } => "abandon",
            AgentRunCommand::Cancel { .. } => "cancel",
            AgentRunCommand::ConfirmCancel { .. } => "confirm_cancel",
            AgentRunCommand::Dismiss { .. } => "dismiss",
        }
    }

    fn event_name(event: &AgentRunEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&AgentRunView> {
        self.run.as_ref()
    }

    fn into_view(self) -> Option<AgentRunView> {
        self.run
    }

    /// A run is its requester's; to others it does not exist.
    fn ownership(&self) -> Option<Ownership> {
        self.run.as_ref().map(|run| Ownership {
            owner: run.requested_by.clone(),
            disclosed: false,
        })
    }

    fn decide(&self, command: AgentRunCommand) -> Result<Vec<AgentRunEvent>, AgentRunError> {
        if let AgentRunCommand::Request(request) = command {
            if self.run.is_some() {
                return Err(AgentRunError::AlreadyRequested);
            }
            return requested(*request).map(|e| vec![e]);
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
                let started = running_attempt(run, attempt)?;
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
                let started = running_attempt(run, attempt)?;
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
                let started = running_attempt(run, attempt)?;
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
                let started = running_attempt(run, attempt)?;
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
                    events.push(cancel_confirmed(run, attempt, at));
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
                if !run.status.may_cancel() {
                    return Err(AgentRunError::AlreadyFinished(run.status.as_str()));
                }
                let reason = reason.map(Text::into_string);
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
                running_attempt(run, attempt)?;
                Ok(vec![cancel_confirmed(run, attempt, at)])
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

    /// Never fails: events are facts.
    fn apply(&mut self, event: AgentRunEvent) {
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
                finished(run, e.finished_at);
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
                finished(run, e.finished_at);
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
                finished(run, e.finished_at);
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
                finished(run, e.cancelled_at);
            }
            AgentRunEvent::AgentRunDismissed(e) => {
                run.dismissed_at = Some(e.dismissed_at);
                run.dismissed_by = Some(e.dismissed_by);
                run.updated_at = e.dismissed_at;
            }
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

fn requested(request: RequestAgentRun) -> Result<AgentRunEvent, AgentRunError> {
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

fn finished(run: &mut AgentRunView, at: DateTime<Utc>) {
    run.finished_at = Some(at);
    run.duration_ms = run.started_at.map(|s| millis_between(s, at));
    run.updated_at = at;
}

/// A running attempt stopped after a cancel request: cancelled by whoever asked.
fn cancel_confirmed(run: &AgentRunView, attempt: u32, at: DateTime<Utc>) -> AgentRunEvent {
    AgentRunEvent::AgentRunCancelled(AgentRunCancelled {
        attempt: Some(attempt),
        reason: run.cancel_reason.clone(),
        cancelled_by: run
            .cancelled_by
            .clone()
            .unwrap_or_else(|| Actor::system("worker")),
        cancelled_at: at,
    })
}
