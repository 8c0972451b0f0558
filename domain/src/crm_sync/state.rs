//! The state of a sync run: what the API shows and audit replay reconstructs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::Actor;

/// The CRM object a run syncs. A `pipelines` run reads every deal pipeline (the list has no
/// last-modified filter) over one window; a `deals` run follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyncObject {
    Contacts,
    Pipelines,
    Deals,
}

impl SyncObject {
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncObject::Contacts => "contacts",
            SyncObject::Pipelines => "pipelines",
            SyncObject::Deals => "deals",
        }
    }
}

/// A last-modified window, `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// What a run's records came to: read from the CRM, created, updated, already as the CRM
/// has them (or archived or merged here, which a sync leaves alone), and failed alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncCounts {
    pub fetched: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
}

impl SyncCounts {
    pub fn add(&mut self, other: &SyncCounts) {
        self.fetched += other.fetched;
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
    }
}

/// A budget the CRM reported: its size and what was left of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RateBudget {
    pub max: Option<u64>,
    pub remaining: Option<u64>,
}

/// The CRM's rate-limit headers as a run last saw them, and how long the client waited on
/// them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RateLimits {
    /// `X-HubSpot-RateLimit-Secondly` / `-Secondly-Remaining`.
    pub secondly: RateBudget,
    /// `X-HubSpot-RateLimit-Daily` / `-Daily-Remaining` (absent for OAuth calls).
    pub daily: RateBudget,
    /// `X-HubSpot-RateLimit-Max` / `-Remaining` over `interval_ms`: the burst budget.
    pub interval: RateBudget,
    pub interval_ms: Option<u64>,
    /// When the answer carrying these headers arrived.
    pub observed_at: Option<DateTime<Utc>>,
    /// Calls that waited for a spent budget or the search limit, or after a `429`, and how
    /// long in all.
    pub waits: u64,
    pub waited_ms: u64,
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyncRunStatus {
    Running,
    Completed,
    Failed,
}

impl SyncRunStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncRunStatus::Running => "running",
            SyncRunStatus::Completed => "completed",
            SyncRunStatus::Failed => "failed",
        }
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncFailure {
    /// The stable code (`hubspot.server_error`).
    pub code: String,
    /// No personal data.
    pub message: String,
    pub retryable: bool,
}

/// HubSpot calls recorded by one event, at its instant: what "the last hour's calls" sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncCalls {
    pub at: DateTime<Utc>,
    pub calls: u64,
    pub failed_calls: u64,
}

/// The sync run aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CrmSync {
    pub run: Option<CrmSyncView>,
}

/// One sync run, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CrmSyncView {
    pub id: Uuid,
    pub object: SyncObject,
    pub status: SyncRunStatus,
    /// The watermark it started from.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Where it resumes (or where the next run starts after a failure): the end of its last
    /// finished window, `from` before the first.
    pub resume_from: DateTime<Utc>,
    /// Windows finished.
    pub windows: u64,
    /// Totals so far.
    pub counts: SyncCounts,
    /// The highest `lastmodifieddate` seen so far.
    pub highest_modified_at: Option<DateTime<Utc>>,
    /// Where the next run starts, once completed.
    pub watermark: Option<DateTime<Utc>>,
    /// HubSpot calls so far, and how many failed.
    pub calls: u64,
    pub failed_calls: u64,
    /// The calls each event recorded, with its instant.
    pub call_log: Vec<SyncCalls>,
    pub rate_limits: Option<RateLimits>,
    pub error: Option<SyncFailure>,
    pub started_by: Actor,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}

impl CrmSyncView {
    /// Where the run after this one starts: the watermark of a completed run, else where
    /// this one got to.
    pub fn next_from(&self) -> DateTime<Utc> {
        self.watermark.unwrap_or(self.resume_from)
    }
}
