//! The daily hygiene report and the dashboard's hygiene card.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One UTC day of data hygiene, every number counted from that day's events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HygieneReport {
    /// The UTC date (`2026-11-30`).
    pub date: NaiveDate,
    /// Duplicate pairs detected or reopened that day.
    pub duplicates_found: i64,
    /// Merges that day (contacts absorbed).
    pub merged: i64,
    /// Contacts whose validation was recorded that day.
    pub validated: i64,
    /// Of those, invalid at their last validation that day.
    pub invalid: i64,
    /// Contacts enriched that day.
    pub enriched: i64,
    /// Why `enriched` is what it is, when it is not a count of enrichments.
    pub enriched_note: Option<String>,
    /// Contacts untouched 90+ days, from the day's last DataDecay run (`null`: none ran).
    pub stale: Option<i64>,
    /// The active contacts that run rated.
    pub stale_of: Option<i64>,
    pub stale_run: Option<Uuid>,
    /// The sync's status from the day's last SyncHealth run (`healthy`, `degraded`,
    /// `unhealthy`, `not_connected`; `null`: none ran).
    pub sync_status: Option<String>,
    pub sync_run: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// Reports, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HygieneReportListResponse {
    pub items: Vec<HygieneReport>,
    /// Always absent: one answer holds the whole range asked for.
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// A traffic light.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HygieneStatus {
    Green,
    Yellow,
    Red,
}

/// One check on the card: its value, its light, and the thresholds that set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HygieneCheck {
    /// `open_duplicates`, `invalid_percent`, `stale_percent`, `sync_status`.
    pub name: String,
    /// A number, a status word, or `null` when nothing measured it yet.
    pub value: Value,
    pub status: HygieneStatus,
    /// `{"yellow": <at or above>, "red": <at or above>, "default": <true while nobody
    /// configured them>}` (for `sync_status`, the statuses).
    pub thresholds: Value,
    /// Why the value is what it is, when it needs saying.
    pub note: Option<String>,
}

/// The dashboard's hygiene card: the worst check's light.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HygieneDashboardResponse {
    pub status: HygieneStatus,
    pub checks: Vec<HygieneCheck>,
    /// Today's report (UTC), all zeros when nothing happened yet.
    pub report: HygieneReport,
}
