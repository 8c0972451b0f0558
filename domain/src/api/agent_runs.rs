//! Agents and their runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::agent_run::{AgentDomain, AgentRunView, RunError, RunStatus, RunTrigger};
use crate::kernel::Actor;

/// An agent in the registry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentInfo {
    /// The name used in URLs, e.g. `DraftWriter` (matched ignoring case and `-`/`_`).
    pub name: String,
    pub domain: AgentDomain,
    pub description: String,
    /// JSON Schema of the run input.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub input_schema: Value,
    /// Whether it writes with a language model (an offline writer stands in without one).
    pub uses_llm: bool,
    /// Whether a language-model provider is configured for it now.
    pub llm_configured: bool,
    /// Whether its output may propose moves for Today's Moves.
    pub proposes_moves: bool,
    /// The per-attempt time limit, in seconds.
    pub timeout_secs: u64,
    /// A valid input, to start from.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub example_input: Value,
    /// Its last runs, newest first (at most 10).
    pub recent_runs: Vec<AgentRunSummary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentsResponse {
    pub agents: Vec<AgentInfo>,
}

/// Run an agent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunAgentRequest {
    /// Validated against the agent's `input_schema`.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub input: Value,
}

/// Cancel a queued or running run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelAgentRunRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A run (after a command, with a token to read your own write).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentRunResponse {
    #[serde(flatten)]
    pub run: AgentRunView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// A run in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentRunSummary {
    pub id: Uuid,
    pub agent: String,
    pub domain: AgentDomain,
    pub status: RunStatus,
    pub trigger: RunTrigger,
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub attempts: u32,
    pub error: Option<RunError>,
    pub retry_of: Option<Uuid>,
    pub dismissed: bool,
}

/// A page of runs, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentRunListResponse {
    pub runs: Vec<AgentRunSummary>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Runs that need attention and runs in flight, for the quick-stats bar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentRunStatsResponse {
    /// Failed or timed-out runs nobody dismissed (the list
    /// `?status=failed,timed_out&dismissed=false`).
    pub failed: i64,
    pub queued: i64,
    pub running: i64,
    /// Runs that finished in the last 24 hours, by outcome.
    pub succeeded_24h: i64,
    pub failed_24h: i64,
}
