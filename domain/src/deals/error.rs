//! Why a deal command is refused, with the stable codes clients match on.

use super::types::DealStatus;
use crate::aggregate::{DomainError, RejectionKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DealError {
    #[error("deal not found")]
    NotFound,
    #[error("a deal with this id already exists")]
    AlreadyExists,
    /// A won or lost deal changes again only once reopened.
    #[error("this deal is {}; reopen it first", .0.as_str())]
    Closed(DealStatus),
    #[error("the pipeline has no stage {0}")]
    UnknownStage(String),
    #[error("stage {0} is not an open stage")]
    StageNotOpen(String),
    #[error("a reason is required to lose a deal")]
    LostReasonRequired,
    #[error("the pipeline given is not the deal's pipeline")]
    PipelineMismatch,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl DealError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        DealError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            DealError::NotFound => "deal.not_found",
            DealError::AlreadyExists => "deal.already_exists",
            DealError::Closed(_) => "deal.closed",
            DealError::UnknownStage(_) => "deal.unknown_stage",
            DealError::StageNotOpen(_) => "deal.stage_not_open",
            DealError::LostReasonRequired => "deal.lost_reason_required",
            DealError::PipelineMismatch => "deal.pipeline_mismatch",
            DealError::Invalid { .. } => "request.validation",
        }
    }
}

impl DomainError for DealError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            DealError::NotFound => RejectionKind::NotFound,
            // A stage the pipeline does not have, a closed one, or a lost stage's reason:
            // rules of the pipeline as it stands (it may change), not of the request's shape.
            DealError::AlreadyExists
            | DealError::Closed(_)
            | DealError::UnknownStage(_)
            | DealError::StageNotOpen(_)
            | DealError::LostReasonRequired => RejectionKind::Conflict,
            DealError::PipelineMismatch => RejectionKind::Invalid {
                field: "pipeline",
                message: "must be the deal's pipeline".into(),
            },
            DealError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}
