//! Why a pipeline command is refused, with the stable codes clients match on.

use crate::aggregate::{DomainError, RejectionKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("pipeline not found")]
    NotFound,
    #[error("a different pipeline with this id already exists; update it instead")]
    AlreadyExists,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl PipelineError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        PipelineError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            PipelineError::NotFound => "pipeline.not_found",
            PipelineError::AlreadyExists => "pipeline.already_exists",
            PipelineError::Invalid { .. } => "request.validation",
        }
    }
}

impl DomainError for PipelineError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            PipelineError::NotFound => RejectionKind::NotFound,
            PipelineError::AlreadyExists => RejectionKind::Conflict,
            PipelineError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}
