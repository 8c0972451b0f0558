//! Agents and their runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::auth::Role;
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
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub requested_at: DateTime<Utc>,
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

/// What a user may do with a run as it stands: the server's rules (who may act on whose
/// run, and which statuses each command accepts), so the SPA offers only what the server
/// accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunActions {
    pub cancel: bool,
    pub retry: bool,
    pub dismiss: bool,
}

impl RunActions {
    /// For `user` signed in with `role`: nothing for viewers, their own runs for operators,
    /// every run for admins ([`Role::may_act`]).
    pub fn of(run: &AgentRunView, role: Role, user: &str) -> RunActions {
        let dismissed = run.dismissed_at.is_some();
        RunActions::of_parts(run.status, &run.requested_by, dismissed, role, user)
    }

    /// The same for a run known by its status, who requested it and whether it was
    /// dismissed (the SPA reads a run as JSON).
    pub fn of_parts(
        status: RunStatus,
        requested_by: &Actor,
        dismissed: bool,
        role: Role,
        user: &str,
    ) -> RunActions {
        if !role.may_act(user, requested_by) {
            return RunActions::default();
        }
        RunActions {
            cancel: status.may_cancel(),
            retry: status.may_retry(),
            dismiss: status.may_dismiss(dismissed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent_run::{AgentRun, AgentRunCommand, LlmUsage};
    use crate::aggregate::Aggregate;
    use chrono::TimeZone;

    fn run(status: RunStatus, dismissed: bool) -> AgentRunView {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        AgentRunView {
            id: Uuid::from_u128(1),
            agent: "PersonaRouter".into(),
            domain: AgentDomain::Sales,
            status,
            trigger: RunTrigger::Manual,
            requested_by: Actor::user("casey"),
            requested_at: at,
            input: serde_json::json!({}),
            output: None,
            text: None,
            error: None,
            retryable: None,
            attempts: vec![],
            max_attempts: 3,
            timeout_ms: 1000,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            usage: LlmUsage::default(),
            proposed_items: vec![],
            retry_of: None,
            retried_by: vec![],
            cancel_reason: None,
            cancelled_by: None,
            dismissed_at: dismissed.then_some(at),
            dismissed_by: None,
            updated_at: at,
            version: 1,
        }
    }

    #[test]
    fn the_actions_offered_are_the_commands_decide_accepts() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let by = Actor::user("casey");
        for &status in RunStatus::ALL {
            for dismissed in [false, true] {
                let view = run(status, dismissed);
                let actions = RunActions::of(&view, Role::Operator, "casey");
                let state = AgentRun { run: Some(view) };
                let cancel = AgentRunCommand::Cancel {
                    reason: None,
                    by: by.clone(),
                    at,
                };
                let dismiss = AgentRunCommand::Dismiss { by: by.clone(), at };
                let case = format!("{status:?}, dismissed {dismissed}");
                assert_eq!(
                    actions.cancel,
                    state.decide(cancel).is_ok(),
                    "cancel: {case}"
                );
                assert_eq!(
                    actions.dismiss,
                    state.decide(dismiss).is_ok(),
                    "dismiss: {case}"
                );
                assert_eq!(actions.retry, status.may_retry(), "retry: {case}");
            }
        }
    }

    #[test]
    fn only_those_who_may_act_on_the_run_are_offered_anything() {
        let failed = run(RunStatus::Failed, false);
        let all = RunActions {
            cancel: false,
            retry: true,
            dismiss: true,
        };
        // (role, user, offered) for a failed run casey requested
        let table = [
            (Role::Viewer, "casey", RunActions::default()),
            (Role::Operator, "casey", all),
            (Role::Operator, "alex", RunActions::default()),
            (Role::Admin, "alex", all),
        ];
        for (role, user, offered) in table {
            assert_eq!(
                RunActions::of(&failed, role, user),
                offered,
                "{role} {user}"
            );
        }
    }
}
