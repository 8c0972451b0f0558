//! Data hygiene: duplicate pairs (the open ones, one side by side, merging with a dry run,
//! not a duplicate, ignore), the daily reports, the dashboard card, alerts and schedules.
//!
//! Reports, the card and alerts are read as JSON and shown field by field: the page shows
//! every number the server sends, under the server's names.

use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::contacts::{ContactFields, ContactView};
use caseyos_domain::duplicates::{DuplicatePairView, MatchReason};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::contacts::Written;
use super::{get, post, ApiError};

/// One side of a listed pair.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PairContact {
    pub id: Uuid,
    pub name: Option<String>,
    pub primary_email: Option<String>,
}

impl PairContact {
    /// Its name, else its email, else its id.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.primary_email.clone())
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// A pair in the list.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PairSummary {
    pub id: Uuid,
    /// 0–1.
    pub score: f64,
    pub reasons: Vec<MatchReason>,
    pub a: PairContact,
    pub b: PairContact,
}

/// A page of duplicate pairs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PairList {
    pub items: Vec<PairSummary>,
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// One pair with both records (a record that is gone is `None`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PairDetail {
    pub pair: DuplicatePairView,
    /// The pair's `finding.a` and `finding.b`.
    pub a: Option<ContactView>,
    pub b: Option<ContactView>,
    /// What a merge does in the CRM (HubSpot merges are permanent), in words.
    #[serde(default)]
    pub crm_note: String,
}

/// An id as one path segment.
fn segment(id: &str) -> String {
    String::from(js_sys::encode_uri_component(id))
}

fn pair_path(id: &str, action: &str) -> String {
    format!("/api/hygiene/duplicates/{}{action}", segment(id))
}

/// Open pairs, highest score first; `query` is the API query string (cursor).
pub async fn duplicates(query: &str, consistency: Option<&str>) -> Result<PairList, ApiError> {
    get("/api/hygiene/duplicates", query, consistency).await
}

pub async fn duplicate(id: &str, consistency: Option<&str>) -> Result<PairDetail, ApiError> {
    get(&pair_path(id, ""), "", consistency).await
}

/// What a merge answers: the merged record (a dry run's preview), and how far a real one
/// reached.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Merged {
    pub merged: ContactFields,
    #[serde(default)]
    pub consistency: Option<String>,
}

/// Merges the pair as `request` says (a dry run writes nothing and answers the merged
/// record).
pub async fn merge(id: &str, request: Value) -> Result<Merged, ApiError> {
    post(&pair_path(id, "/merge"), &request).await
}

#[derive(Serialize)]
struct NoArguments {}

pub async fn not_duplicate(id: &str) -> Result<Written, ApiError> {
    post(&pair_path(id, "/not-duplicate"), &NoArguments {}).await
}

pub async fn ignore(id: &str) -> Result<Written, ApiError> {
    post(&pair_path(id, "/ignore"), &NoArguments {}).await
}

/// The daily hygiene reports (one row per date) as the server sends them.
pub async fn reports() -> Result<Value, ApiError> {
    get("/api/hygiene/reports", "", None).await
}

/// The dashboard card: its status (green, yellow, red) and thresholds.
pub async fn dashboard() -> Result<Value, ApiError> {
    get("/api/dashboard/hygiene", "", None).await
}

pub async fn alerts(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/alerts", "", consistency).await
}

pub async fn dismiss_alert(id: &str) -> Result<Written, ApiError> {
    post(
        &format!("/api/alerts/{}/dismiss", segment(id)),
        &NoArguments {},
    )
    .await
}

/// A schedule's last run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LastRun {
    pub run_id: String,
    pub status: Option<RunStatus>,
    pub requested_at: DateTime<Utc>,
}

/// A stored schedule.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Schedule {
    pub id: String,
    pub agent: String,
    pub cadence: String,
    pub enabled: bool,
    pub next_run_at: DateTime<Utc>,
    pub last_run: Option<LastRun>,
    #[serde(default)]
    pub agent_missing: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Schedules {
    pub items: Vec<Schedule>,
    /// Whether this instance fires schedules.
    #[serde(default = "yes")]
    pub scheduler_enabled: bool,
}

fn yes() -> bool {
    true
}

pub async fn schedules() -> Result<Schedules, ApiError> {
    get("/api/schedules", "", None).await
}
