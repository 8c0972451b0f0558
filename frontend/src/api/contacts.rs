//! Contacts: the list (search, page), one contact, undoing a merge; and CSV imports
//! (upload, progress).
//!
//! Answers are read as JSON [`Value`]s and shown field by field (`components::contacts`):
//! no reader of the SPA's own per answer, which keeps the wasm small (ARCHITECTURE.md, "The
//! SPA" → Size).

use serde::Serialize;
use serde_json::Value;

use super::{get, json, post, post_text, ApiError};

/// An id as one path segment.
pub(super) fn segment(id: &str) -> String {
    String::from(js_sys::encode_uri_component(id))
}

/// How far a write reached, when its answer says (`consistency`).
pub fn consistency(answer: &Value) -> Option<String> {
    answer
        .get("consistency")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A page of contacts; `query` is the API query string (search, cursor).
pub async fn list(query: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/contacts", query, consistency).await
}

/// A contact, whether the answer is the contact itself or `{"contact": …}` beside its
/// consistency token.
pub async fn contact(id: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    let answer: Value = get(&format!("/api/contacts/{}", segment(id)), "", consistency).await?;
    Ok(match answer.get("contact") {
        Some(contact) => contact.clone(),
        None => answer,
    })
}

/// What undoing a merge asks for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnmergeRequest {
    /// Create the absorbed record again in the CRM (HubSpot, whose merges are permanent).
    pub recreate_in_crm: bool,
}

/// Undoes the merge of the contact `id` (the one that was merged into another).
pub async fn unmerge(id: &str, request: &UnmergeRequest) -> Result<Value, ApiError> {
    post(&format!("/api/contacts/{}/unmerge", segment(id)), request).await
}

/// Uploads a CSV file's text; the answer is the import, just started (`id`, `status`,
/// `rows`, `created`, `updated`, `skipped`, `failed`, `errors`, `error`).
pub async fn start_import(csv: String) -> Result<Value, ApiError> {
    post_text(
        "/api/contacts/imports".into(),
        "text/csv",
        csv,
        json::from_str,
    )
    .await
}

pub async fn import(id: &str) -> Result<Value, ApiError> {
    get(&format!("/api/contacts/imports/{}", segment(id)), "", None).await
}
