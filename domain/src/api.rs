//! Request and response bodies of the JSON API, shared by the server and the SPA.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::agent_run::{AgentDomain, AgentRunView, RunError, RunStatus, RunTrigger};
use crate::aps::ApsOverrides;
use crate::queue::{Actor, QueueDomain, QueueItemView, SnoozePreset, Source, Target};

/// Every error the API returns: `{"error": {"code", "message", "request_id", "details"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine code, e.g. `queue.already_approved`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The request id, also in the `x-request-id` response header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Structured details; validation errors carry `{"fields": [{"field", "message"}]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub details: Option<Value>,
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's path in the body, e.g. `target.contact.email`.
    pub field: String,
    pub message: String,
}

/// Propose a move for Today's Moves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposeQueueItemRequest {
    /// Derived from the action type and target when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// One of the action types; see `ActionType`. Case and `-`/`_` are normalised.
    pub action_type: String,
    /// Defaults from the action type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<QueueDomain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// Shorthand for `target.contact.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// Shorthand for `target.deal.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<String>,
    /// Shorthand for `target.company.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// A JSON object, e.g. a draft email's `to`, `subject`, `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub payload: Option<Value>,
    /// Defaults to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Defaults to `{"kind": "manual"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Overrides of the action type's default APS inputs, each clamped to [0, 1]
    /// (also accepted as `aps_inputs`).
    #[serde(default, alias = "aps_inputs", skip_serializing_if = "Option::is_none")]
    pub aps: Option<ApsOverrides>,
    /// Why this move matters (also accepted as `reasoning`).
    #[serde(default, alias = "reasoning", skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

/// Change an open move. Absent fields stay; `null` clears `due_by` and `rationale`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EditQueueItemRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub payload: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<DateTime<Utc>>))]
    pub due_by: Option<Option<DateTime<Utc>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub rationale: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aps: Option<ApsOverrides>,
}

fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveQueueItemRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectQueueItemRequest {
    /// Why the move is rejected (required).
    pub reason: String,
}

/// Snooze with a preset or an explicit time (exactly one of them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SnoozeQueueItemRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<SnoozePreset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// IANA time zone for `tomorrow` / `next_monday`; defaults to the owner's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Approve or reject several moves at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkDecisionRequest {
    /// 1–100 distinct item ids.
    pub ids: Vec<Uuid>,
    /// Required for bulk reject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Optional note for bulk approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A command's result: the item after it, and a token to read your own write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueItemResponse {
    pub item: QueueItemView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkDecisionResponse {
    /// One result per requested id, in request order.
    pub results: Vec<BulkItemResult>,
    /// Covers every successful decision in this batch.
    pub consistency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkItemResult {
    pub id: Uuid,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<QueueItemView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A page of queue items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueListResponse {
    pub items: Vec<QueueItemView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Items matching the filters, over all pages.
    pub total: i64,
}

/// Counts by status, for the caller's scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueCountsResponse {
    pub pending: i64,
    pub snoozed: i64,
    pub approved: i64,
    pub rejected: i64,
    pub expired: i64,
    pub total: i64,
}

/// One event of an aggregate's history, with the state after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub sequence: i64,
    pub event_id: Uuid,
    pub global_position: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: DateTime<Utc>,
    /// `kind:id`, e.g. `user:casey`.
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// Everything recorded with the event: actor, request, correlation and causation ids,
    /// idempotency key, command id.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub metadata: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub payload: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub state_after: Value,
}

/// An aggregate's history and its state at the requested point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditResponse {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Events up to the requested point (all of them without `at` / `as_of`).
    pub events: Vec<AuditEntry>,
    /// The sequence the state is at.
    pub sequence: i64,
    /// The aggregate's state at `sequence`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub state: Value,
    /// Events recorded in total, including any after the requested point.
    pub total_events: i64,
}

/// What a signed-in user may do, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, decides nothing.
    Viewer,
    /// Proposes and decides their own moves.
    Operator,
    /// Everything, for every owner.
    Admin,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Role> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sign in for a browser session: with the one-time link `caseyos serve` prints (or
/// `caseyos signin-link` creates), or with an API token. Exactly one of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The signed-in session. The session itself is an HttpOnly cookie; state-changing requests
/// made with it must send `csrf_token` in the `X-CSRF-Token` header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionResponse {
    pub user: String,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// The numbers of the quick-stats bar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueStatsResponse {
    /// Open moves in Today's Moves now (pending and due snoozes).
    pub pending: i64,
    /// Snoozed moves not yet due.
    pub snoozed: i64,
    /// Moves approved or rejected since midnight in the caller's time zone.
    pub decided_today: i64,
    pub approved_today: i64,
    pub rejected_today: i64,
    /// Approved ÷ decided over the last 7 days, in whole percent; none without decisions.
    pub approval_rate_7d: Option<i64>,
}

/// A server-sent event telling open pages that a read model moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LiveEvent {
    /// The read model that changed, e.g. `queue`.
    pub projection: String,
    /// Its new checkpoint: pass as `?after=` to read at least this state.
    pub consistency: String,
}

// ---------------------------------------------------------------------------------------
// Agents and their runs

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
