//! Why a contact command is refused, with the stable codes clients match on.

use crate::aggregate::{DomainError, RejectionKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("contact not found")]
    NotFound,
    #[error("a contact with this id already exists")]
    AlreadyExists,
    #[error("this contact is archived; restore it first")]
    Archived,
    #[error("this contact is merged into another; unmerge it first")]
    Merged,
    #[error("this contact is not merged into another")]
    NotMerged,
    #[error("a contact cannot be merged with itself")]
    MergeWithItself,
    #[error("this contact has no merge with that id")]
    MergeNotFound,
    /// The change would leave the contact with no name, email or phone (a state the request
    /// cannot show, so a conflict rather than a bad request).
    #[error("a contact needs a name, an email or a phone; this would leave it with none")]
    WouldBeEmpty,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl ContactError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ContactError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            ContactError::NotFound => "contact.not_found",
            ContactError::AlreadyExists => "contact.already_exists",
            ContactError::Archived => "contact.archived",
            ContactError::Merged => "contact.merged",
            ContactError::NotMerged => "contact.not_merged",
            ContactError::MergeWithItself => "contact.merge_with_itself",
            ContactError::MergeNotFound => "contact.merge_not_found",
            ContactError::WouldBeEmpty => "contact.would_be_empty",
            ContactError::Invalid { .. } => "request.validation",
        }
    }
}

impl DomainError for ContactError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ContactError::NotFound | ContactError::MergeNotFound => RejectionKind::NotFound,
            ContactError::AlreadyExists
            | ContactError::Archived
            | ContactError::Merged
            | ContactError::NotMerged
            | ContactError::WouldBeEmpty => RejectionKind::Conflict,
            ContactError::MergeWithItself => RejectionKind::Invalid {
                field: "primary",
                message: "must be another contact".into(),
            },
            ContactError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}
