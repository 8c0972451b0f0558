//! Why a queue command is refused, with the stable codes clients match on.

use super::types::QueueStatus;
use crate::aggregate::{DomainError, RejectionKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("queue item not found")]
    NotFound,
    #[error("a queue item with this id already exists")]
    AlreadyProposed,
    #[error("this move was already approved")]
    AlreadyApproved,
    #[error("this move was already rejected")]
    AlreadyRejected,
    #[error("this move expired before it was decided")]
    Expired,
    #[error("the snooze time must be in the future")]
    SnoozeInPast,
    /// A proposer claimed a source it cannot be: people propose manual moves only, and only
    /// an agent proposes a move sourced from an agent run.
    #[error("source {0}")]
    SourceNotAllowed(&'static str),
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl DomainError for QueueError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            QueueError::NotFound => RejectionKind::NotFound,
            QueueError::AlreadyProposed
            | QueueError::AlreadyApproved
            | QueueError::AlreadyRejected
            | QueueError::Expired => RejectionKind::Conflict,
            QueueError::SnoozeInPast => RejectionKind::Invalid {
                field: "until",
                message: "must be in the future".into(),
            },
            QueueError::SourceNotAllowed(message) => RejectionKind::Invalid {
                field: "source",
                message: (*message).into(),
            },
            QueueError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}

impl QueueError {
    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            QueueError::NotFound => "queue.not_found",
            QueueError::AlreadyProposed => "queue.already_exists",
            QueueError::AlreadyApproved => "queue.already_approved",
            QueueError::AlreadyRejected => "queue.already_rejected",
            QueueError::Expired => "queue.expired",
            QueueError::SnoozeInPast => "queue.snooze_in_past",
            QueueError::SourceNotAllowed(_) => "queue.source_not_allowed",
            QueueError::Invalid { .. } => "request.validation",
        }
    }

    pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        QueueError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The rejection for a command that needs an open item, given the item's status.
    pub(super) fn closed(status: QueueStatus) -> Self {
        match status {
            QueueStatus::Approved => QueueError::AlreadyApproved,
            QueueStatus::Rejected => QueueError::AlreadyRejected,
            _ => QueueError::Expired,
        }
    }
}
