//! Why a run command is refused, with the stable codes clients match on.

use crate::aggregate::{DomainError, RejectionKind};
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

impl DomainError for AgentRunError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            AgentRunError::NotFound => RejectionKind::NotFound,
            AgentRunError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
            _ => RejectionKind::Conflict,
        }
    }
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
