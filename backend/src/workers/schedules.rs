//! Stored agent schedules (the `schedules` table): each fires as an ordinary agent run with
//! trigger `schedule`, once per slot across all instances, and catches up after downtime.
//!
//! - **Once.** A tick claims one due row at a time with `for update skip locked`, requests
//!   the run, and moves the row's `next_due_at` past now in the same transaction; another
//!   instance skips the locked row and, once it is committed, no longer sees it due. The
//!   run's id is derived from the schedule's id and the slot (UUIDv5), so a retry after a
//!   crash between the request and the row's commit finds the run already there (the run
//!   aggregate refuses a second request) and only moves the row on: one slot, one run.
//! - **Catch-up.** A row whose slots came while no instance ran fires once, for the latest
//!   slot that has come, not once per missed slot (a run per missed SyncHealth check would
//!   only report stale news). `last_slots_due` keeps how many had come (`missed_slots` in
//!   the API is that minus one); the log says so too.
//! - **Unknown agents.** A row whose agent this version does not have is left due (and
//!   warned about once per instance): an instance that has the agent fires it (once).
//! - **Defaults.** [`DEFAULTS`] are inserted at start-up when absent; a default daily row's
//!   time zone follows `schedule_time_zone`. `schedules_enabled = false` stops this
//!   instance from firing anything (the rows and the API stay).
//!
//! Each run's requester is `system:scheduler`; its owner (whose moves it proposes) is the
//! configured operator, as for every run CaseyOS starts itself.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caseyos_agents::Agents;
use caseyos_domain::agent_run::{AgentRunError, RunTrigger};
use caseyos_domain::kernel::Actor;
use caseyos_domain::schedule::{Cadence, Firing};
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Row};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::agent_runs::request_run_with_id;
use crate::config::Config;

/// The longest a worker waits between looks (it wakes earlier for a slot due sooner).
pub const TICK: Duration = Duration::from_secs(5);
/// Rows fired per tick at most (the rest on the next).
const BATCH: usize = 100;
/// Namespace of schedule run ids (`Uuid::new_v5(SCHEDULE_RUNS, "<id>@<slot>")`).
pub const SCHEDULE_RUNS: Uuid = Uuid::from_u128(0x6a1f_3c2e_8b47_4d19_9e05_7c3b_2a61_f0d8);

/// A default schedule's cadence (daily ones in the configured time zone).
#[derive(Clone, Copy, Debug)]
pub enum DefaultCadence {
    Daily(&'static str),
    /// The ISO weekday (1 Monday … 7 Sunday) and the local time.
    Weekly(u8, &'static str),
    Hourly(u32),
    Every(u32),
}

/// A schedule CaseyOS ships with.
#[derive(Clone, Copy, Debug)]
pub struct DefaultSchedule {
    pub id: &'static str,
    pub agent: &'static str,
    pub cadence: DefaultCadence,
    /// Whose time zone a daily or weekly default keeps.
    pub zone: DefaultZone,
}

/// The time zone a default schedule's local time is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultZone {
    /// `schedule_time_zone` (the hygiene agents' mornings).
    Schedules,
    /// The operator's own (`owner_timezones`, else `default_timezone`): the digest is theirs.
    Operator,
}

/// The schedules inserted at start-up when absent (issue 11's hygiene agents). Their input
/// is `{}`: each agent works on what changed since its last run.
pub const DEFAULTS: &[DefaultSchedule] = &[
    DefaultSchedule {
        id: "duplicate-watcher-daily",
        agent: "DuplicateWatcher",
        cadence: DefaultCadence::Daily("06:00"),
        zone: DefaultZone::Schedules,
    },
    DefaultSchedule {
        id: "contact-validation-daily",
        agent: "ContactValidation",
        cadence: DefaultCadence::Daily("06:30"),
        zone: DefaultZone::Schedules,
    },
    DefaultSchedule {
        id: "enrichment-hourly",
        agent: "EnrichmentOrchestrator",
        cadence: DefaultCadence::Hourly(0),
        zone: DefaultZone::Schedules,
    },
    // Default: after the morning's validation, so the day's report sees both.
    DefaultSchedule {
        id: "data-decay-daily",
        agent: "DataDecay",
        cadence: DefaultCadence::Daily("07:00"),
        zone: DefaultZone::Schedules,
    },
    DefaultSchedule {
        id: "sync-health-5m",
        agent: "SyncHealth",
        cadence: DefaultCadence::Every(300),
        zone: DefaultZone::Schedules,
    },
    // Issue 12: the weekly pipeline digest, Sunday evening in the operator's time zone.
    DefaultSchedule {
        id: "pipeline-digest-weekly",
        agent: "PipelineDigest",
        cadence: DefaultCadence::Weekly(7, "20:00"),
        zone: DefaultZone::Operator,
    },
];

impl DefaultSchedule {
    fn cadence(&self, time_zone: &str) -> anyhow::Result<Cadence> {
        Ok(match self.cadence {
            DefaultCadence::Daily(at) => Cadence::daily(at, time_zone)?,
            DefaultCadence::Weekly(weekday, at) => {
                Cadence::weekly(i64::from(weekday), at, time_zone)?
            }
            DefaultCadence::Hourly(minute) => Cadence::hourly(i64::from(minute))?,
            DefaultCadence::Every(secs) => Cadence::every(i64::from(secs))?,
        })
    }
}

/// A stored schedule with its last run's state from the runs read model.
#[derive(Clone, Debug)]
pub struct ScheduleRow {
    pub id: String,
    pub agent: String,
    pub input: Value,
    pub kind: String,
    pub at: Option<String>,
    pub time_zone: Option<String>,
    pub weekday: Option<i16>,
    pub minute: Option<i32>,
    pub every_secs: Option<i32>,
    pub enabled: bool,
    pub next_due_at: DateTime<Utc>,
    pub last_fired_at: Option<DateTime<Utc>>,
    pub last_slot_at: Option<DateTime<Utc>>,
    pub last_run_id: Option<Uuid>,
    pub last_slots_due: Option<i64>,
    /// The last run's status in the read model (`None` until it has the run).
    pub last_run_status: Option<String>,
    pub last_run_requested_at: Option<DateTime<Utc>>,
}

impl ScheduleRow {
    pub fn cadence(&self) -> Result<Cadence, caseyos_domain::schedule::CadenceError> {
        Cadence::from_parts(
            &self.kind,
            self.at.as_deref(),
            self.time_zone.as_deref(),
            self.weekday.map(i64::from),
            self.minute.map(i64::from),
            self.every_secs.map(i64::from),
        )
    }
}

const COLUMNS: &str = "s.id, s.agent, s.input, s.kind, s.at, s.time_zone, s.weekday, s.minute, \
     s.every_secs, s.enabled, s.next_due_at, s.last_fired_at, s.last_slot_at, s.last_run_id, \
     s.last_slots_due";

fn row_of(row: &sqlx::postgres::PgRow, with_run: bool) -> sqlx::Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: row.try_get("id")?,
        agent: row.try_get("agent")?,
        input: row.try_get("input")?,
        kind: row.try_get("kind")?,
        at: row.try_get("at")?,
        time_zone: row.try_get("time_zone")?,
        weekday: row.try_get("weekday")?,
        minute: row.try_get("minute")?,
        every_secs: row.try_get("every_secs")?,
        enabled: row.try_get("enabled")?,
        next_due_at: row.try_get("next_due_at")?,
        last_fired_at: row.try_get("last_fired_at")?,
        last_slot_at: row.try_get("last_slot_at")?,
        last_run_id: row.try_get("last_run_id")?,
        last_slots_due: row.try_get("last_slots_due")?,
        last_run_status: if with_run {
            row.try_get("run_status")?
        } else {
            None
        },
        last_run_requested_at: if with_run {
            row.try_get("run_requested_at")?
        } else {
            None
        },
    })
}

/// Every schedule, in id order, with its last run's status from the runs read model.
pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<ScheduleRow>> {
    let sql = format!(
        "select {COLUMNS}, r.status as run_status, r.requested_at as run_requested_at \
         from schedules s left join agent_runs r on r.id = s.last_run_id \
         order by s.id"
    );
    sqlx::query(&sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| row_of(row, true))
        .collect()
}

/// Inserts the [`DEFAULTS`] that are absent, due at their first slot after `at`; a default
/// daily row in another time zone than `time_zone` moves to it (its next slot recomputed
/// unless it is already due, so a missed slot is still caught up).
pub async fn ensure_defaults(
    pool: &PgPool,
    schedules_time_zone: &str,
    operator_time_zone: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    for default in DEFAULTS {
        let time_zone = match default.zone {
            DefaultZone::Schedules => schedules_time_zone,
            DefaultZone::Operator => operator_time_zone,
        };
        let cadence = default.cadence(time_zone)?;
        let (spec_at, spec_tz, weekday, minute, every) = match default.cadence {
            DefaultCadence::Daily(hhmm) => (Some(hhmm), Some(time_zone), None, None, None),
            DefaultCadence::Weekly(day, hhmm) => (
                Some(hhmm),
                Some(time_zone),
                Some(i16::from(day)),
                None,
                None,
            ),
            DefaultCadence::Hourly(m) => (None, None, None, Some(m as i32), None),
            DefaultCadence::Every(s) => (None, None, None, None, Some(s as i32)),
        };
        let next = cadence.next_after(at);
        sqlx::query(
            "insert into schedules (id, agent, input, kind, at, time_zone, weekday, minute, \
                                    every_secs, next_due_at) \
             values ($1, $2, '{}'::jsonb, $3, $4, $5, $6, $7, $8, $9) \
             on conflict (id) do nothing",
        )
        .bind(default.id)
        .bind(default.agent)
        .bind(cadence.kind())
        .bind(spec_at)
        .bind(spec_tz)
        .bind(weekday)
        .bind(minute)
        .bind(every)
        .bind(next)
        .execute(pool)
        .await?;
        if let DefaultCadence::Daily(_) | DefaultCadence::Weekly(..) = default.cadence {
            sqlx::query(
                "update schedules set time_zone = $2, \
                     next_due_at = case when next_due_at > $4 then $3 else next_due_at end, \
                     updated_at = now() \
                 where id = $1 and kind in ('daily', 'weekly') \
                   and time_zone is distinct from $2",
            )
            .bind(default.id)
            .bind(time_zone)
            .bind(next)
            .bind(at)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// One schedule fired by a tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    pub schedule: String,
    pub run_id: Uuid,
    pub slot: DateTime<Utc>,
    /// Slots that had come (more than 1 after a downtime).
    pub slots_due: u64,
    /// The run existed already (a retry after a crash): nothing new was requested.
    pub existed: bool,
}

/// The run id of a schedule's slot: the same on every instance.
pub fn run_id_of(schedule: &str, slot: DateTime<Utc>) -> Uuid {
    Uuid::new_v5(
        &SCHEDULE_RUNS,
        format!("{schedule}@{}", slot.to_rfc3339()).as_bytes(),
    )
}

/// Fires due schedules as agent runs (one instance per row at a time; see the module).
pub struct Scheduler {
    pool: PgPool,
    bus: Arc<CommandBus>,
    config: Arc<Config>,
    agents: Agents,
    /// Schedules already warned about on this instance (unknown agent, bad row).
    warned: Mutex<HashSet<String>>,
}

impl Scheduler {
    pub fn new(pool: PgPool, bus: Arc<CommandBus>, config: Arc<Config>, agents: Agents) -> Self {
        Scheduler {
            pool,
            bus,
            config,
            agents,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Looks every [`TICK`] (sooner when a slot is due sooner) until `shutdown`.
    pub fn spawn(self: Arc<Self>, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let pause = match self.tick(now()).await {
                    Ok(_) => self.pause().await,
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "schedules tick failed; the next retries");
                        TICK
                    }
                };
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        })
    }

    /// Until the next slot of an enabled row (at most [`TICK`]).
    async fn pause(&self) -> Duration {
        let next: Option<DateTime<Utc>> = sqlx::query_scalar(
            "select min(next_due_at) from schedules where enabled and next_due_at > now()",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap_or(None);
        next.and_then(|next| (next - now()).to_std().ok())
            .map_or(TICK, |wait| wait.clamp(Duration::from_millis(20), TICK))
    }

    /// Fires every schedule due at `at` (at most [`BATCH`]), each in its own transaction.
    pub async fn tick(&self, at: DateTime<Utc>) -> anyhow::Result<Vec<Fired>> {
        let mut fired = Vec::new();
        // Rows this tick leaves due (unknown agent, unreadable cadence).
        let mut left: Vec<String> = Vec::new();
        while fired.len() < BATCH {
            let mut tx = self.pool.begin().await?;
            let sql = format!(
                "select {COLUMNS} from schedules s \
                 where s.enabled and s.next_due_at <= $1 and s.id <> all($2) \
                 order by s.next_due_at, s.id limit 1 \
                 for update skip locked"
            );
            let Some(row) = sqlx::query(&sql)
                .bind(at)
                .bind(&left)
                .fetch_optional(&mut *tx)
                .await?
            else {
                break;
            };
            let row = row_of(&row, false)?;
            let Some(spec) = self.agents.find(&row.agent) else {
                self.warn_once(&row.id, || {
                    tracing::warn!(
                        schedule = %row.id,
                        agent = %row.agent,
                        "this schedule's agent is not in this version of CaseyOS; it stays due \
                         until an instance that has it fires it"
                    )
                });
                left.push(row.id);
                continue;
            };
            let cadence = match row.cadence() {
                Ok(cadence) => cadence,
                Err(error) => {
                    self.warn_once(&row.id, || {
                        tracing::warn!(schedule = %row.id, error = %error, "this schedule's cadence is unreadable; it does not fire")
                    });
                    left.push(row.id);
                    continue;
                }
            };
            if let Err(errors) = spec.validate(&row.input) {
                self.warn_once(&row.id, || {
                    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                    tracing::warn!(schedule = %row.id, agent = spec.name, fields = ?fields, "this schedule's input is not valid for its agent; it does not fire")
                });
                left.push(row.id);
                continue;
            }
            let Some(Firing {
                slot,
                slots_due,
                next_due,
            }) = cadence.firing(row.next_due_at, at)
            else {
                left.push(row.id);
                continue;
            };
            let run_id = run_id_of(&row.id, slot);
            let mut meta = CommandMeta::system("scheduler");
            meta.correlation_id = format!("schedule:{}@{}", row.id, slot.to_rfc3339());
            let existed = match request_run_with_id(
                &self.bus,
                &self.config,
                run_id,
                spec,
                row.input.clone(),
                RunTrigger::Schedule,
                None,
                Actor::system("scheduler"),
                &meta,
            )
            .await
            {
                Ok(_) => false,
                Err(CommandError::Rejected(AgentRunError::AlreadyRequested)) => true,
                Err(error) => {
                    // The row stays due (the transaction rolls back); the next tick retries
                    // the same slot, so the run id is the same.
                    return Err(anyhow::anyhow!(
                        "requesting the run of schedule {}: {error}",
                        row.id
                    ));
                }
            };
            sqlx::query(
                "update schedules set next_due_at = $2, last_fired_at = $3, last_slot_at = $4, \
                     last_run_id = $5, last_slots_due = $6, updated_at = now() \
                 where id = $1",
            )
            .bind(&row.id)
            .bind(next_due)
            .bind(at)
            .bind(slot)
            .bind(run_id)
            .bind(i64::try_from(slots_due).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            if slots_due > 1 {
                tracing::info!(
                    schedule = %row.id,
                    agent = spec.name,
                    agent_run.id = %run_id,
                    slot = %slot,
                    missed_slots = slots_due - 1,
                    "schedule caught up after downtime: one run for the latest slot"
                );
            } else {
                tracing::info!(schedule = %row.id, agent = spec.name, agent_run.id = %run_id, slot = %slot, existed, "schedule fired");
            }
            fired.push(Fired {
                schedule: row.id,
                run_id,
                slot,
                slots_due,
                existed,
            });
        }
        Ok(fired)
    }

    fn warn_once(&self, schedule: &str, warn: impl FnOnce()) {
        let first = self
            .warned
            .lock()
            .map(|mut warned| warned.insert(schedule.to_string()))
            .unwrap_or(true);
        if first {
            warn();
        }
    }
}
