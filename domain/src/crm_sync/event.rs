//! Sync run events: a public contract. Never change a meaning; add a version and an
//! upcaster.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::state::{RateLimits, SyncCounts, SyncObject, SyncWindow};
use crate::kernel::Actor;

/// The version every sync run event is written with.
pub const CRM_SYNC_EVENT_VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CrmSyncEvent {
    CrmSyncStarted(CrmSyncStarted),
    CrmSyncProgressed(CrmSyncProgressed),
    CrmSyncCompleted(CrmSyncCompleted),
    CrmSyncFailed(CrmSyncFailed),
}

impl CrmSyncEvent {
    /// The stored type name.
    pub const fn name(&self) -> &'static str {
        match self {
            CrmSyncEvent::CrmSyncStarted(_) => "CrmSyncStarted",
            CrmSyncEvent::CrmSyncProgressed(_) => "CrmSyncProgressed",
            CrmSyncEvent::CrmSyncCompleted(_) => "CrmSyncCompleted",
            CrmSyncEvent::CrmSyncFailed(_) => "CrmSyncFailed",
        }
    }
}

/// A run started over the records of `object` modified in `[from, to)`; `from` is the
/// watermark the previous run left (or the configured start).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmSyncStarted {
    pub sync_id: Uuid,
    pub object: SyncObject,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A last-modified window was read to its end and each of its records handled: a run that
/// stops after this resumes at `window.to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmSyncProgressed {
    pub window: SyncWindow,
    pub fetched: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// The highest `lastmodifieddate` among the window's records.
    pub highest_modified_at: Option<DateTime<Utc>>,
    /// HubSpot calls since the run's previous event, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
    pub at: DateTime<Utc>,
}

/// The run read every window: its totals, and the watermark the next run starts from (the
/// highest `lastmodifieddate` seen, or `to` when it saw none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmSyncCompleted {
    pub counts: SyncCounts,
    pub watermark: DateTime<Utc>,
    /// Every HubSpot call of the run, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
    pub rate_limits: Option<RateLimits>,
    pub at: DateTime<Utc>,
}

/// The run stopped on an error; the next run starts where this one got to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmSyncFailed {
    pub code: String,
    /// No personal data: statuses, attempts, correlation ids.
    pub message: String,
    pub retryable: bool,
    /// Every HubSpot call of the run, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
    pub at: DateTime<Utc>,
}
