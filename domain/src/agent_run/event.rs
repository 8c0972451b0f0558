//! Agent run events: a public contract. Never change a meaning; add a version and an
//! upcaster.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::types::{AgentDomain, LlmUsage, RunError, RunTrigger};
use crate::kernel::Actor;

/// The version every agent run event is written with.
pub const AGENT_RUN_EVENT_VERSION: &str = "1";

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

impl AgentRunEvent {
    /// The stored type name.
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
