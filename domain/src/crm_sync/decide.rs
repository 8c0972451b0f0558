//! Decide and apply. Both are pure: time and actor come in with the command. Repeating a
//! command that already took effect (a resumed run recording a window again, a second
//! completion) decides no events.

use super::command::CrmSyncCommand;
use super::error::CrmSyncError;
use super::event::*;
use super::state::{CrmSync, CrmSyncView, SyncCalls, SyncCounts, SyncFailure, SyncRunStatus};
use crate::aggregate::Aggregate;

/// Longest failure message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

impl CrmSync {
    fn running(&self) -> Result<Option<&CrmSyncView>, CrmSyncError> {
        let run = self.run.as_ref().ok_or(CrmSyncError::NotFound)?;
        Ok((run.status == SyncRunStatus::Running).then_some(run))
    }
}

impl Aggregate for CrmSync {
    const TYPE: &'static str = "crm_sync";
    const EVENT_VERSION: &'static str = CRM_SYNC_EVENT_VERSION;
    type Command = CrmSyncCommand;
    type Event = CrmSyncEvent;
    type Error = CrmSyncError;
    type View = CrmSyncView;

    fn command_name(command: &CrmSyncCommand) -> &'static str {
        match command {
            CrmSyncCommand::Start { .. } => "start",
            CrmSyncCommand::RecordProgress(_) => "record_progress",
            CrmSyncCommand::Complete(_) => "complete",
            CrmSyncCommand::Fail(_) => "fail",
        }
    }

    fn event_name(event: &CrmSyncEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&CrmSyncView> {
        self.run.as_ref()
    }

    fn into_view(self) -> Option<CrmSyncView> {
        self.run
    }

    fn decide(&self, command: CrmSyncCommand) -> Result<Vec<CrmSyncEvent>, CrmSyncError> {
        let event = match command {
            CrmSyncCommand::Start {
                id,
                object,
                from,
                to,
                by,
                at,
            } => {
                if self.run.is_some() {
                    return Err(CrmSyncError::AlreadyStarted);
                }
                if to <= from {
                    return Err(CrmSyncError::invalid("to", "must be after from"));
                }
                CrmSyncEvent::CrmSyncStarted(CrmSyncStarted {
                    sync_id: id,
                    object,
                    from,
                    to,
                    by,
                    at,
                })
            }
            CrmSyncCommand::RecordProgress(progress) => {
                let Some(run) = self.running()? else {
                    return Err(CrmSyncError::Finished);
                };
                let window = progress.window;
                if window.to <= run.resume_from {
                    return Ok(Vec::new());
                }
                if window.from >= window.to || window.from < run.from || window.to > run.to {
                    return Err(CrmSyncError::invalid(
                        "window",
                        "must be a window inside the run's [from, to)",
                    ));
                }
                let counts = progress.counts;
                CrmSyncEvent::CrmSyncProgressed(CrmSyncProgressed {
                    window,
                    fetched: counts.fetched,
                    created: counts.created,
                    updated: counts.updated,
                    unchanged: counts.unchanged,
                    failed: counts.failed,
                    highest_modified_at: progress.highest_modified_at,
                    calls: progress.calls,
                    failed_calls: progress.failed_calls,
                    at: progress.at,
                })
            }
            CrmSyncCommand::Complete(complete) => {
                let run = match self.running()? {
                    Some(run) => run,
                    None if self.run.as_ref().map(|r| r.status)
                        == Some(SyncRunStatus::Completed) =>
                    {
                        return Ok(Vec::new())
                    }
                    None => return Err(CrmSyncError::Finished),
                };
                CrmSyncEvent::CrmSyncCompleted(CrmSyncCompleted {
                    counts: run.counts,
                    watermark: run.highest_modified_at.unwrap_or(run.to),
                    calls: run.calls + complete.calls,
                    failed_calls: run.failed_calls + complete.failed_calls,
                    rate_limits: complete.rate_limits,
                    at: complete.at,
                })
            }
            CrmSyncCommand::Fail(fail) => {
                let run = match self.running()? {
                    Some(run) => run,
                    None if self.run.as_ref().map(|r| r.status) == Some(SyncRunStatus::Failed) => {
                        return Ok(Vec::new())
                    }
                    None => return Err(CrmSyncError::Finished),
                };
                CrmSyncEvent::CrmSyncFailed(CrmSyncFailed {
                    code: fail.code,
                    message: fail.message.chars().take(MAX_MESSAGE_CHARS).collect(),
                    retryable: fail.retryable,
                    calls: run.calls + fail.calls,
                    failed_calls: run.failed_calls + fail.failed_calls,
                    at: fail.at,
                })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: CrmSyncEvent) {
        if let CrmSyncEvent::CrmSyncStarted(started) = event {
            self.run = Some(CrmSyncView {
                id: started.sync_id,
                object: started.object,
                status: SyncRunStatus::Running,
                from: started.from,
                to: started.to,
                resume_from: started.from,
                windows: 0,
                counts: SyncCounts::default(),
                highest_modified_at: None,
                watermark: None,
                calls: 0,
                failed_calls: 0,
                call_log: Vec::new(),
                rate_limits: None,
                error: None,
                started_by: started.by,
                started_at: started.at,
                finished_at: None,
                updated_at: started.at,
                version: 1,
            });
            return;
        }
        let Some(run) = self.run.as_mut() else {
            return;
        };
        run.version += 1;
        // The calls this event adds to the run's, at its instant.
        let (at, calls, failed_calls) = match event {
            CrmSyncEvent::CrmSyncStarted(_) => return,
            CrmSyncEvent::CrmSyncProgressed(p) => {
                run.windows += 1;
                run.resume_from = p.window.to;
                run.counts.add(&SyncCounts {
                    fetched: p.fetched,
                    created: p.created,
                    updated: p.updated,
                    unchanged: p.unchanged,
                    failed: p.failed,
                });
                run.highest_modified_at = run.highest_modified_at.max(p.highest_modified_at);
                (p.at, p.calls, p.failed_calls)
            }
            CrmSyncEvent::CrmSyncCompleted(c) => {
                run.status = SyncRunStatus::Completed;
                run.counts = c.counts;
                run.watermark = Some(c.watermark);
                run.rate_limits = c.rate_limits;
                run.finished_at = Some(c.at);
                (
                    c.at,
                    c.calls.saturating_sub(run.calls),
                    c.failed_calls.saturating_sub(run.failed_calls),
                )
            }
            CrmSyncEvent::CrmSyncFailed(f) => {
                run.status = SyncRunStatus::Failed;
                run.error = Some(SyncFailure {
                    code: f.code,
                    message: f.message,
                    retryable: f.retryable,
                });
                run.finished_at = Some(f.at);
                (
                    f.at,
                    f.calls.saturating_sub(run.calls),
                    f.failed_calls.saturating_sub(run.failed_calls),
                )
            }
        };
        run.calls += calls;
        run.failed_calls += failed_calls;
        if calls > 0 || failed_calls > 0 {
            run.call_log.push(SyncCalls {
                at,
                calls,
                failed_calls,
            });
        }
        run.updated_at = at;
    }
}
