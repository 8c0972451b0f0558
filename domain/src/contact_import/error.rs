//! Why an import command is refused, with the stable codes clients match on.

use crate::aggregate::{DomainError, RejectionKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactImportError {
    #[error("import not found")]
    NotFound,
    #[error("an import with this id already exists")]
    AlreadyExists,
    #[error("this import has finished")]
    Finished,
    #[error("this batch does not begin where the import's last batch ended")]
    OutOfOrder,
}

impl DomainError for ContactImportError {
    fn code(&self) -> &'static str {
        match self {
            ContactImportError::NotFound => "contact_import.not_found",
            ContactImportError::AlreadyExists => "contact_import.already_exists",
            ContactImportError::Finished => "contact_import.finished",
            ContactImportError::OutOfOrder => "contact_import.out_of_order",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ContactImportError::NotFound => RejectionKind::NotFound,
            _ => RejectionKind::Conflict,
        }
    }
}
