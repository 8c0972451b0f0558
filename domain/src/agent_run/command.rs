//! What can be asked of a run: by people (request, cancel, dismiss) and by workers (start,
//! succeed, fail, time out, abandon, confirm a cancel).

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::types::{AgentDomain, LlmUsage, RunError, RunTrigger};
use crate::kernel::{Actor, Text};

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
    /// Stop the run; the reason comes parsed (at most `MAX_REASON_CHARS` characters).
    Cancel {
        reason: Option<Text>,
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
