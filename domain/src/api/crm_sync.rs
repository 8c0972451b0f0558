//! The CRM sync's health and its runs (`GET /api/hygiene/sync`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crm_sync::{CrmSyncView, SyncStatus, SyncThresholds};

/// How the CRM sync stands at `now`, from the recorded runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncHealth {
    /// Whether a CRM (HubSpot) is configured.
    pub connected: bool,
    pub status: SyncStatus,
    /// `null` before the first completed sync.
    pub seconds_since_last_good_sync: Option<i64>,
    /// The last completed run.
    pub last_good_sync: Option<SyncRunRef>,
    /// When the last run started.
    pub last_started_at: Option<DateTime<Utc>>,
    /// HubSpot calls recorded in the hour before now, and how many of them failed.
    pub calls_last_hour: u64,
    pub failed_calls_last_hour: u64,
    /// `failed_calls_last_hour / calls_last_hour`, 0 with no calls.
    pub failure_rate: f64,
    /// The last failed run's error.
    pub last_error: Option<SyncErrorView>,
    /// Where the next sync starts: the last completed run's watermark.
    pub watermark: Option<DateTime<Utc>>,
    pub thresholds: SyncThresholds,
}

/// A run, by id and the instant it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncRunRef {
    pub id: Uuid,
    pub at: DateTime<Utc>,
}

/// A failed run's error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncErrorView {
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
    /// The stable code (`hubspot.server_error`).
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

/// `GET /api/hygiene/sync`: the health and the last runs, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncHealthResponse {
    pub health: SyncHealth,
    pub runs: Vec<CrmSyncView>,
}
