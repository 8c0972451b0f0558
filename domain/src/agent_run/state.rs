//! The state of a run: what the API shows and audit replay reconstructs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::types::*;
use crate::kernel::Actor;

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
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
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
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
    pub started_at: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
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
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
    pub dismissed_at: Option<DateTime<Utc>>,
    pub dismissed_by: Option<Actor>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state.
    pub version: u64,
}

impl AgentRunView {
    /// Whether it may be dismissed: it has finished and nobody dismissed it yet.
    pub fn may_dismiss(&self) -> bool {
        self.status.may_dismiss(self.dismissed_at.is_some())
    }

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
