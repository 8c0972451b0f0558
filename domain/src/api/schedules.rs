//! Stored agent schedules (`GET /api/schedules`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::agent_run::RunStatus;

/// How a schedule's slots are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Every local day at `at` in `time_zone`.
    Daily,
    /// Every week on `weekday` at `at` in `time_zone`.
    Weekly,
    /// Every hour at `minute` past, UTC.
    Hourly,
    /// Every `every_secs` seconds, counted from the Unix epoch.
    Every,
}

/// A stored schedule: an agent, its input, a cadence, and its last and next run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ScheduleView {
    /// A stable name, e.g. `duplicate-watcher-daily`.
    pub id: String,
    /// The agent each run runs, e.g. `DuplicateWatcher`.
    pub agent: String,
    /// The input each run gets.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub input: Value,
    /// The cadence in words, e.g. `daily at 06:00 (UTC)`, `every 5 minutes`.
    pub cadence: String,
    pub kind: ScheduleKind,
    /// `daily` and `weekly`: the local time, `HH:MM`.
    pub at: Option<String>,
    /// `daily` and `weekly`: the IANA time zone of `at`.
    pub time_zone: Option<String>,
    /// `weekly`: the ISO weekday, 1 (Monday) to 7 (Sunday).
    #[serde(default)]
    pub weekday: Option<u32>,
    /// `hourly`: the minute past each hour (UTC).
    pub minute: Option<u32>,
    /// `every`: the period in seconds.
    pub every_secs: Option<u32>,
    /// A disabled schedule never fires.
    pub enabled: bool,
    /// The slot it fires next. In the past while it is due: it fires at the scheduler's
    /// next look (every 5 s), once, even when a downtime missed several slots.
    pub next_run_at: DateTime<Utc>,
    /// Its last run; `null` before the first.
    pub last_run: Option<ScheduleLastRun>,
    /// No agent of that name in this version of CaseyOS: the schedule stays due and fires
    /// (once) when an instance that has the agent runs.
    pub agent_missing: bool,
}

/// The last run a schedule started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ScheduleLastRun {
    /// The agent run (`GET /api/agent-runs/{id}`); derived from the schedule and the slot,
    /// so one slot is one run however many instances look.
    pub run_id: Uuid,
    /// From the runs read model; `null` until it has the run.
    pub status: Option<RunStatus>,
    /// When the run was requested.
    pub requested_at: DateTime<Utc>,
    /// The slot it ran for.
    pub slot_at: DateTime<Utc>,
    /// Slots that had come and were not run because a later one was (a downtime): 0
    /// normally.
    pub missed_slots: u64,
}

/// The schedules, in id order (one page: `next_cursor` is always `null`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "items": [{
        "id": "duplicate-watcher-daily",
        "agent": "DuplicateWatcher",
        "input": {},
        "cadence": "daily at 06:00 (UTC)",
        "kind": "daily",
        "at": "06:00",
        "time_zone": "UTC",
        "minute": null,
        "every_secs": null,
        "enabled": true,
        "next_run_at": "2026-12-02T06:00:00Z",
        "last_run": {
            "run_id": "4f6c2a8e-91b3-5d7e-a0c4-2b9e8f1d3a57",
            "status": "succeeded",
            "requested_at": "2026-12-01T06:00:02.113Z",
            "slot_at": "2026-12-01T06:00:00Z",
            "missed_slots": 0
        },
        "agent_missing": false
    }],
    "next_cursor": null,
    "total": 1,
    "scheduler_enabled": true
})))]
pub struct ScheduleListResponse {
    pub items: Vec<ScheduleView>,
    /// Always `null`: every schedule fits one page.
    pub next_cursor: Option<String>,
    pub total: i64,
    /// Whether this instance fires schedules (`CASEYOS_SCHEDULES_ENABLED`); another
    /// instance on the same database may.
    pub scheduler_enabled: bool,
}
