//! Data hygiene: duplicate pairs (the open ones, one side by side, merging with a dry run,
//! not a duplicate, ignore); the dashboard's hygiene card, the daily reports and the open
//! alerts.
//!
//! Answers are read as JSON [`Value`]s and shown field by field.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::contacts::segment;
use super::{get, post, ApiError};

/// One side of a listed pair.
#[derive(Clone, Debug, PartialEq)]
pub struct PairContact {
    pub id: Uuid,
    /// Its name, else its email, else its id.
    pub label: String,
}

/// A pair in the list.
#[derive(Clone, Debug, PartialEq)]
pub struct PairSummary {
    pub id: Uuid,
    /// 0–1.
    pub score: f64,
    /// Why they match, in words.
    pub reasons: Vec<String>,
    pub a: PairContact,
    pub b: PairContact,
}

fn uuid(value: &Value) -> Option<Uuid> {
    Uuid::parse_str(value.as_str()?).ok()
}

impl PairContact {
    fn read(side: &Value) -> Option<PairContact> {
        let id = uuid(side.get("id")?)?;
        let label = ["name", "primary_email"]
            .iter()
            .filter_map(|k| side.get(*k).and_then(Value::as_str))
            .find(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| id.to_string());
        Some(PairContact { id, label })
    }
}

impl PairSummary {
    /// A row of the list's `items`.
    pub fn read(row: &Value) -> Option<PairSummary> {
        let reasons = row
            .get("reasons")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|r| r.get("detail").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(PairSummary {
            id: uuid(row.get("id")?)?,
            score: row.get("score").and_then(Value::as_f64).unwrap_or(0.0),
            reasons,
            a: PairContact::read(row.get("a")?)?,
            b: PairContact::read(row.get("b")?)?,
        })
    }
}

fn pair_path(id: &str, action: &str) -> String {
    format!("/api/hygiene/duplicates/{}{action}", segment(id))
}

/// Open pairs, highest score first (`items`, `total`).
pub async fn duplicates(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/hygiene/duplicates", "", consistency).await
}

/// One pair: `pair` (with `finding`), the records `a` and `b` (`null` when gone) and
/// `crm_note`.
pub async fn duplicate(id: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get(&pair_path(id, ""), "", consistency).await
}

/// Merges the pair as `request` says; the answer has the merged record's `merged` fields
/// (a dry run writes nothing) and, for a real one, how far it reached.
pub async fn merge(id: &str, request: Value) -> Result<Value, ApiError> {
    post(&pair_path(id, "/merge"), &request).await
}

#[derive(Serialize)]
struct NoArguments {}

/// Marks the pair not a duplicate, or (`ignore`) ignores it.
pub async fn decide(id: &str, ignore: bool) -> Result<Value, ApiError> {
    let action = if ignore { "/ignore" } else { "/not-duplicate" };
    post(&pair_path(id, action), &NoArguments {}).await
}

/// The hygiene card: `status`, `checks` (each with `value`, `status`, `thresholds`, `note`)
/// and today's `report`.
pub async fn dashboard(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/dashboard/hygiene", "", consistency).await
}

/// The daily reports of the last 30 days (days with activity), newest first.
pub async fn reports(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/hygiene/reports", "", consistency).await
}

/// The open alerts.
pub async fn open_alerts(consistency: Option<&str>) -> Result<Value, ApiError> {
    get("/api/alerts", "status=open", consistency).await
}

/// Dismisses an open alert.
pub async fn dismiss_alert(id: &str) -> Result<Value, ApiError> {
    post(
        &format!("/api/alerts/{}/dismiss", segment(id)),
        &NoArguments {},
    )
    .await
}
