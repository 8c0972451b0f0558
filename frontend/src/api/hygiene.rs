//! Data hygiene: duplicate pairs (the open ones, one side by side, merging with a dry run,
//! not a duplicate, ignore), the daily reports, the dashboard card, alerts and schedules.
//!
//! Reports, the card and alerts are read as JSON and shown field by field: the page shows
//! every number the server sends, under the server's names.

use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::contacts::{ContactFields, ContactView};
use caseyos_domain::duplicates::DuplicatePairView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::contacts::Written;
use super::{get, post, post_with, ApiError};

/// A page of duplicate pairs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PairList {
    pub items: Vec<DuplicatePairView>,
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// One pair with both records.
#[derive(Clone, Debug, PartialEq)]
pub struct PairDetail {
    pub pair: DuplicatePairView,
    /// The pair's `finding.a` and `finding.b`.
    pub a: ContactView,
    pub b: ContactView,
}

/// A pair with its records, whether the answer nests the pair (`{"pair", "a", "b"}`) or
/// holds its fields beside the records.
fn read_pair(text: &str) -> serde_json::Result<PairDetail> {
    #[derive(Deserialize)]
    struct Records {
        #[serde(alias = "contact_a")]
        a: ContactView,
        #[serde(alias = "contact_b")]
        b: ContactView,
        #[serde(default)]
        pair: Option<DuplicatePairView>,
    }
    let Records { a, b, pair } = serde_json::from_str(text)?;
    let pair = match pair {
        Some(pair) => pair,
        None => serde_json::from_str(text)?,
    };
    Ok(PairDetail { pair, a, b })
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
    super::get_with(&pair_path(id, ""), "", consistency, read_pair).await
}

/// The merged record a merge answers with (the dry run's preview), and how far a real one
/// reached.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    pub fields: Option<ContactFields>,
    pub consistency: Option<String>,
}

/// The merged record in a merge's answer: `merged`, `contact` or `primary` (a contact or
/// its fields), or the answer itself.
fn read_merged(text: &str) -> serde_json::Result<Merged> {
    let value: Value = serde_json::from_str(text)?;
    let consistency = value
        .get("consistency")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut record = &value;
    for key in ["merged", "contact", "primary", "fields"] {
        if let Some(inner) = record.get(key).filter(|v| v.is_object()) {
            record = inner;
        }
    }
    let fields = serde_json::from_value(record.clone()).ok();
    Ok(Merged {
        fields,
        consistency,
    })
}

/// Merges the pair as `request` says (a dry run writes nothing and answers the merged
/// record).
pub async fn merge(id: &str, request: Value) -> Result<Merged, ApiError> {
    post_with(&pair_path(id, "/merge"), &request, read_merged).await
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
