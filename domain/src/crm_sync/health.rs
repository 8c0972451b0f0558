//! Sync health, one rule for the API and the SyncHealth agent: healthy at most
//! [`HEALTHY_SECS`] after the last good (completed) sync, degraded up to
//! [`DEGRADED_SECS`], unhealthy beyond that or when more than [`MAX_FAILED_PERCENT`]% of
//! the last hour's sync calls failed.

use serde::{Deserialize, Serialize};

/// At most this many seconds since the last good sync is healthy.
pub const HEALTHY_SECS: i64 = 300;
/// At most this many is degraded; beyond it, unhealthy.
pub const DEGRADED_SECS: i64 = 900;
/// More than this share (in percent) of the calls in [`CALLS_WINDOW_SECS`] failing is
/// unhealthy, whatever the lag.
pub const MAX_FAILED_PERCENT: u64 = 5;
/// The window the failed share is taken over: the last hour.
pub const CALLS_WINDOW_SECS: i64 = 3_600;

/// How the sync stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Healthy,
    Degraded,
    Unhealthy,
    /// No CRM is configured: nothing is synced.
    NotConnected,
    /// Connected, and no sync has completed yet (and the calls so far are not failing).
    NeverSynced,
}

impl SyncStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Healthy => "healthy",
            SyncStatus::Degraded => "degraded",
            SyncStatus::Unhealthy => "unhealthy",
            SyncStatus::NotConnected => "not_connected",
            SyncStatus::NeverSynced => "never_synced",
        }
    }
}

/// The thresholds [`sync_status`] applies, as the API shows them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncThresholds {
    /// [`HEALTHY_SECS`].
    pub healthy_secs: i64,
    /// [`DEGRADED_SECS`].
    pub degraded_secs: i64,
    /// [`MAX_FAILED_PERCENT`] as a fraction (0.05).
    pub max_failure_rate: f64,
}

impl SyncThresholds {
    pub const RULES: SyncThresholds = SyncThresholds {
        healthy_secs: HEALTHY_SECS,
        degraded_secs: DEGRADED_SECS,
        max_failure_rate: MAX_FAILED_PERCENT as f64 / 100.0,
    };
}

/// Whether more than [`MAX_FAILED_PERCENT`]% of `calls` failed (never with no calls).
pub fn too_many_failures(calls: u64, failed_calls: u64) -> bool {
    calls > 0 && failed_calls.saturating_mul(100) > MAX_FAILED_PERCENT.saturating_mul(calls)
}

/// The share of `calls` that failed, 0 with no calls.
pub fn failure_rate(calls: u64, failed_calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        failed_calls as f64 / calls as f64
    }
}

/// The sync's status: not connected without a CRM; unhealthy when too many of the last
/// hour's calls failed; never synced before the first completed sync; else by the seconds
/// since the last good sync.
pub fn sync_status(
    connected: bool,
    seconds_since_last_good_sync: Option<i64>,
    calls_last_hour: u64,
    failed_calls_last_hour: u64,
) -> SyncStatus {
    if !connected {
        return SyncStatus::NotConnected;
    }
    if too_many_failures(calls_last_hour, failed_calls_last_hour) {
        return SyncStatus::Unhealthy;
    }
    match seconds_since_last_good_sync {
        None => SyncStatus::NeverSynced,
        Some(lag) if lag <= HEALTHY_SECS => SyncStatus::Healthy,
        Some(lag) if lag <= DEGRADED_SECS => SyncStatus::Degraded,
        Some(_) => SyncStatus::Unhealthy,
    }
}
