//! Why a sync run command is refused, with the stable codes clients match on.

use crate::aggregate::{DomainError, RejectionKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrmSyncError {
    #[error("sync run not found")]
    NotFound,
    #[error("this sync run has already started")]
    AlreadyStarted,
    #[error("this sync run has already finished")]
    Finished,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl CrmSyncError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CrmSyncError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            CrmSyncError::NotFound => "crm_sync.not_found",
            CrmSyncError::AlreadyStarted => "crm_sync.already_started",
            CrmSyncError::Finished => "crm_sync.finished",
            CrmSyncError::Invalid { .. } => "request.validation",
        }
    }
}

impl DomainError for CrmSyncError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            CrmSyncError::NotFound => RejectionKind::NotFound,
            CrmSyncError::AlreadyStarted | CrmSyncError::Finished => RejectionKind::Conflict,
            CrmSyncError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}
