//! What can be asked of a sync run.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::state::{RateLimits, SyncCounts, SyncObject, SyncWindow};
use crate::kernel::Actor;

#[derive(Clone, Debug, PartialEq)]
pub enum CrmSyncCommand {
    /// Start a run over the records of `object` modified in `[from, to)`.
    Start {
        /// The run's id (a UUIDv7 made when it starts).
        id: Uuid,
        object: SyncObject,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// A window was read to its end and every record in it handled.
    RecordProgress(RecordProgress),
    Complete(Complete),
    Fail(Fail),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordProgress {
    pub window: SyncWindow,
    /// What this window's records came to.
    pub counts: SyncCounts,
    /// The highest `lastmodifieddate` among the window's records.
    pub highest_modified_at: Option<DateTime<Utc>>,
    /// HubSpot calls since the run's previous record, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Complete {
    /// HubSpot calls since the run's previous record, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
    /// The last rate-limit headers HubSpot sent.
    pub rate_limits: Option<RateLimits>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fail {
    /// The error's stable code (`hubspot.server_error`).
    pub code: String,
    /// What went wrong, without personal data (statuses, attempts, correlation ids).
    pub message: String,
    /// Whether the next run may get through without anyone changing anything.
    pub retryable: bool,
    /// HubSpot calls since the run's previous record, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
    pub at: DateTime<Utc>,
}
