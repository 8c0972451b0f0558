//! The state of an import: what the API shows and audit replay reconstructs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::csv::ResumePoint;
use super::event::{ImportCounts, ImportRowError};
use crate::kernel::Actor;

/// Per-row errors an import's state keeps (the first ones, by line); its events keep
/// every one, and `failed` counts every one.
pub const MAX_ERRORS_KEPT: usize = 1000;

/// The import aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactImport {
    pub import: Option<ContactImportView>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Running,
    Completed,
    Failed,
}

impl ImportStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Running => "running",
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<ImportStatus> {
        [
            ImportStatus::Running,
            ImportStatus::Completed,
            ImportStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// One import, as audit replay shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactImportView {
    pub id: Uuid,
    pub status: ImportStatus,
    pub file_name: Option<String>,
    pub size: u64,
    /// Totals over every batch so far.
    pub counts: ImportCounts,
    /// The first [`MAX_ERRORS_KEPT`] failed rows.
    pub errors: Vec<ImportRowError>,
    /// Where the next batch begins.
    pub resume: ResumePoint,
    /// Why it failed.
    pub error: Option<String>,
    pub started_by: Actor,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When its last event happened.
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}
