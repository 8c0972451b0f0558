//! CSV imports of contacts: `POST /api/contacts/imports` and `GET /api/contacts/imports/{id}`
//! answer with the same shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contact_import::{ContactImportView, ImportRowError, ImportStatus};

/// An import's progress: rows read so far by outcome (`created + updated + skipped +
/// failed = rows`) and the failed rows with their line numbers (the first 1,000).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "id": "01938a6e-8a4b-7c1e-9a2f-3b4c5d6e7f80",
    "status": "running",
    "rows": 2000,
    "created": 1500,
    "updated": 300,
    "skipped": 199,
    "failed": 1,
    "errors": [{"line": 17, "message": "email: is not an email address"}],
    "file_name": "contacts.csv",
    "size": 183422,
    "error": null,
    "started_at": "2026-11-30T09:30:00Z",
    "finished_at": null
})))]
pub struct ContactImportResponse {
    pub id: Uuid,
    pub status: ImportStatus,
    /// Records read after the header.
    pub rows: u64,
    /// New contacts.
    pub created: u64,
    /// Existing contacts (matched on CRM id, then email) whose fields changed.
    pub updated: u64,
    /// Rows that matched a contact and changed nothing.
    pub skipped: u64,
    /// Rows that could not be imported.
    pub failed: u64,
    /// The failed rows, by the physical line each starts on (the first 1,000).
    pub errors: Vec<ImportRowError>,
    /// The uploaded file's name, when the upload named one.
    pub file_name: Option<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// Why the whole import failed (a header it cannot read), when it did.
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<ContactImportView> for ContactImportResponse {
    fn from(import: ContactImportView) -> Self {
        ContactImportResponse {
            id: import.id,
            status: import.status,
            rows: import.counts.rows,
            created: import.counts.created,
            updated: import.counts.updated,
            skipped: import.counts.skipped,
            failed: import.counts.failed,
            errors: import.errors,
            file_name: import.file_name,
            size: import.size,
            error: import.error,
            started_at: import.started_at,
            finished_at: import.finished_at,
        }
    }
}
