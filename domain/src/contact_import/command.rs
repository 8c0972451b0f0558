//! What can be asked of an import. Its worker records each batch's counts and errors with
//! the point the next batch starts from.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::csv::ResumePoint;
use super::event::{ImportCounts, ImportRowError};
use crate::kernel::{Actor, Text};

#[derive(Clone, Debug, PartialEq)]
pub enum ContactImportCommand {
    /// The file is spooled: the import begins.
    Start(StartImport),
    /// A batch of rows is done.
    RecordProgress(RecordProgress),
    /// Every row is done.
    Complete { at: DateTime<Utc> },
    /// The file cannot be imported (its header, a lost upload).
    Fail { error: Text, at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct StartImport {
    pub id: Uuid,
    /// The uploaded file's name, when the upload named one.
    pub file_name: Option<Text>,
    /// Its size in bytes.
    pub size: u64,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordProgress {
    /// Where the batch began: the import's last resume point.
    pub from: ResumePoint,
    /// Where the next batch begins.
    pub resume: ResumePoint,
    /// The batch's rows.
    pub counts: ImportCounts,
    /// The batch's failed rows.
    pub errors: Vec<ImportRowError>,
    pub at: DateTime<Utc>,
}
