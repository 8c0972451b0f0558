//! Value types of agent runs: domains, triggers, statuses, errors, usage and attempts.

use crate::kernel::unit_enum::read_unit_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The seven areas agents work in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
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

read_unit_enum!(AgentDomain {
    Sales = "sales",
    Content = "content",
    Research = "research",
    Fulfillment = "fulfillment",
    Contracts = "contracts",
    Ops = "ops",
    DataHygiene = "data_hygiene",
});

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
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

read_unit_enum!(RunTrigger {
    Manual = "manual",
    Api = "api",
    Schedule = "schedule",
    Agent = "agent",
});

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
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

read_unit_enum!(RunStatus {
    Queued = "queued",
    Running = "running",
    Cancelling = "cancelling",
    Succeeded = "succeeded",
    Failed = "failed",
    TimedOut = "timed_out",
    Cancelled = "cancelled",
});

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

    /// Whether running it again may help: a failed, timed-out or cancelled run may be
    /// retried (a new run with the same input); a succeeded or unfinished one may not.
    pub const fn may_retry(self) -> bool {
        matches!(
            self,
            RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled
        )
    }

    /// Whether a cancel is accepted: the run has not finished (asking a cancelling run
    /// again changes nothing).
    pub const fn may_cancel(self) -> bool {
        !self.is_finished()
    }

    /// Whether a run in this status may be dismissed: it has finished and nobody dismissed
    /// it yet (`dismissed`).
    pub const fn may_dismiss(self, dismissed: bool) -> bool {
        self.is_finished() && !dismissed
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
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

read_unit_enum!(AttemptOutcome {
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    TimedOut = "timed_out",
    Cancelled = "cancelled",
    Abandoned = "abandoned",
});

/// One start of the run on a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RunAttempt {
    pub attempt: u32,
    pub worker: String,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub started_at: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub outcome: AttemptOutcome,
    pub error: Option<RunError>,
}
