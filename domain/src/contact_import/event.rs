//! Import events: a public contract. Never change a meaning; add a version and an upcaster.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::csv::ResumePoint;
use crate::kernel::Actor;

/// The version every import event is written with.
pub const CONTACT_IMPORT_EVENT_VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ContactImportEvent {
    ContactImportStarted(ContactImportStarted),
    ContactImportProgressed(ContactImportProgressed),
    ContactImportCompleted(ContactImportCompleted),
    ContactImportFailed(ContactImportFailed),
}

impl ContactImportEvent {
    /// The stored type name.
    pub const fn name(&self) -> &'static str {
        match self {
            ContactImportEvent::ContactImportStarted(_) => "ContactImportStarted",
            ContactImportEvent::ContactImportProgressed(_) => "ContactImportProgressed",
            ContactImportEvent::ContactImportCompleted(_) => "ContactImportCompleted",
            ContactImportEvent::ContactImportFailed(_) => "ContactImportFailed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactImportStarted {
    pub import_id: Uuid,
    pub file_name: Option<String>,
    /// The file's size in bytes.
    pub size: u64,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// One batch of rows done: its counts (not running totals) and failed rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactImportProgressed {
    pub counts: ImportCounts,
    pub errors: Vec<ImportRowError>,
    /// Where the next batch begins.
    pub resume: ResumePoint,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactImportCompleted {
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactImportFailed {
    pub error: String,
    pub at: DateTime<Utc>,
}

/// Rows by outcome. `rows` is every record read after the header; the other four add up
/// to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportCounts {
    pub rows: u64,
    /// New contacts.
    pub created: u64,
    /// Existing contacts (matched on CRM id, then email) whose fields changed.
    pub updated: u64,
    /// Rows that match a contact and change nothing.
    pub skipped: u64,
    /// Rows that could not be imported (see the errors).
    pub failed: u64,
}

impl ImportCounts {
    pub fn add(&mut self, other: &ImportCounts) {
        self.rows += other.rows;
        self.created += other.created;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.failed += other.failed;
    }
}

/// A row that failed: the physical line it starts on and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportRowError {
    #[cfg_attr(feature = "server", schema(example = 17))]
    pub line: u64,
    #[cfg_attr(feature = "server", schema(example = "email: is not an email address"))]
    pub message: String,
}
