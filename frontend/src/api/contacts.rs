//! Contacts: the list (search, filters, sort, page), one contact, archiving, restoring and
//! undoing a merge; and CSV imports (upload, progress).
//!
//! The answers are read with the SPA's own readers of the fields it shows (`caseyos-domain`
//! types where the domain has them, [`ContactView`] above all); anything else in an answer
//! is ignored.

use caseyos_domain::contacts::{ContactStatus, ContactView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get, get_with, post, post_text, ApiError};

/// A contact in the list (the parts of the API's row the list shows).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ContactRow {
    pub id: Uuid,
    pub status: ContactStatus,
    /// "First Last", empty when it has neither.
    pub name: String,
    pub primary_email: Option<String>,
    pub company_name: Option<String>,
    /// `None`: never validated.
    pub valid: Option<bool>,
    /// The last validation's number of findings.
    pub issues: i64,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub demo: bool,
}

/// A page of contacts.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ContactList {
    pub items: Vec<ContactRow>,
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// What a command answers that the SPA uses: how far its write reached, when it says.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Written {
    #[serde(default)]
    pub consistency: Option<String>,
}

/// A contact id as one path segment.
fn segment(id: &str) -> String {
    String::from(js_sys::encode_uri_component(id))
}

/// A contact, whether the answer is the contact itself or `{"contact": …}` beside its
/// consistency token.
fn read_contact(text: &str) -> serde_json::Result<ContactView> {
    #[derive(Deserialize)]
    struct Wrapped {
        contact: ContactView,
    }
    serde_json::from_str::<Wrapped>(text)
        .map(|w| w.contact)
        .or_else(|_| serde_json::from_str(text))
}

/// A page of contacts; `query` is the API query string (search, filters, sort, cursor).
pub async fn list(query: &str, consistency: Option<&str>) -> Result<ContactList, ApiError> {
    get("/api/contacts", query, consistency).await
}

pub async fn contact(id: &str, consistency: Option<&str>) -> Result<ContactView, ApiError> {
    get_with(
        &format!("/api/contacts/{}", segment(id)),
        "",
        consistency,
        read_contact,
    )
    .await
}

#[derive(Serialize)]
struct Reason {
    reason: Option<String>,
}

pub async fn archive(id: &str) -> Result<Written, ApiError> {
    post(
        &format!("/api/contacts/{}/archive", segment(id)),
        &Reason { reason: None },
    )
    .await
}

pub async fn restore(id: &str) -> Result<Written, ApiError> {
    post(
        &format!("/api/contacts/{}/restore", segment(id)),
        &Reason { reason: None },
    )
    .await
}

/// What undoing a merge asks for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnmergeRequest {
    /// Create the absorbed record again in the CRM (HubSpot, whose merges are permanent).
    pub recreate_in_crm: bool,
}

/// Undoes the merge of the contact `id` (the one that was merged into another).
pub async fn unmerge(id: &str, request: &UnmergeRequest) -> Result<Written, ApiError> {
    post(&format!("/api/contacts/{}/unmerge", segment(id)), request).await
}

/// Where an import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Running,
    Completed,
    Failed,
}

/// One row that could not be imported.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// An import's progress: rows read so far, by outcome, and the rows that failed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Import {
    pub id: String,
    pub status: ImportStatus,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    #[serde(default)]
    pub errors: Vec<RowError>,
    /// Why the whole import failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

/// Uploads a CSV file's text; the answer is the import, just started.
pub async fn start_import(csv: String) -> Result<Import, ApiError> {
    post_text("/api/contacts/imports".into(), "text/csv", csv, |text| {
        serde_json::from_str(text)
    })
    .await
}

pub async fn import(id: &str) -> Result<Import, ApiError> {
    get(&format!("/api/contacts/imports/{}", segment(id)), "", None).await
}
