//! The daily hygiene report — `hygiene_reports`, one row per UTC date — and what the
//! dashboard's hygiene card counts now (`hygiene_pairs`, `hygiene_contacts`), folded from
//! the events of contacts, duplicate pairs and the hygiene agents' runs.
//!
//! Per day: duplicate pairs detected or reopened, merges (contacts absorbed), contacts
//! validated and how many were invalid at their last validation that day, and from the
//! day's last successful DataDecay and SyncHealth runs, their outputs' stale count and sync
//! status. Nothing enriches contacts yet, so `enriched` is 0 and the report says why.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::agent_run::{AgentRun, AgentRunEvent};
use caseyos_domain::contacts::{Contact, ContactEvent};
use caseyos_domain::duplicates::{DuplicatePair, DuplicatePairEvent, PairStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use caseyos_store::StoredEvent;

use caseyos_store::event::{LogEvent, Recorded};

use crate::projector::{decode_batch, Fold, InFlight, Projector, RowsWrite, Tables};

mod queries;

pub use queries::*;

const REPORTS: &str = "hygiene_reports";
const VALIDATIONS: &str = "hygiene_report_validations";
const RUNS: &str = "hygiene_report_runs";
const PAIRS: &str = "hygiene_pairs";
const CONTACTS: &str = "hygiene_contacts";

/// The agent whose output gives a day's stale count.
pub const DECAY_AGENT: &str = "DataDecay";
/// The agent whose output gives a day's sync status.
pub const SYNC_AGENT: &str = "SyncHealth";

/// Writes the hygiene report's tables.
pub struct HygieneReportsProjector;

/// A DataDecay run's stale count, of how many contacts, the run, and when it finished.
type StaleReading = (Option<i32>, Option<i32>, Uuid, DateTime<Utc>);

/// A day's counts from one batch.
#[derive(Default)]
struct Day {
    duplicates_found: i32,
    merged: i32,
    /// `(count, of, run, at)` from the latest DataDecay run.
    stale: Option<StaleReading>,
    /// `(status, run, at)` from the latest SyncHealth run.
    sync: Option<(Option<String>, Uuid, DateTime<Utc>)>,
    first_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
}

impl Day {
    fn touch(&mut self, at: DateTime<Utc>) {
        self.first_at = Some(self.first_at.map_or(at, |f| f.min(at)));
        self.last_at = Some(self.last_at.map_or(at, |l| l.max(at)));
    }
}

/// What a batch changes of a contact's standing.
#[derive(Default, Clone, Copy)]
struct Standing {
    active: Option<bool>,
    valid: Option<bool>,
    first_at: Option<DateTime<Utc>>,
    at: Option<DateTime<Utc>>,
}

fn date_of(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

fn as_count(value: &Value) -> Option<i32> {
    value.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// What a batch (live) or many pages (a rebuild) change, held until written; every write
/// adds to or replaces what the tables hold in event order, so a rebuild that writes after
/// any page leaves the rows a live batch leaves.
#[derive(Default)]
struct Pending {
    days: HashMap<NaiveDate, Day>,
    /// `(valid at the last validation, first validation's time)` per day and contact.
    validations: HashMap<(NaiveDate, Uuid), (bool, DateTime<Utc>)>,
    standings: HashMap<Uuid, Standing>,
    /// `(status, first event's time, last event's time)` per pair.
    pairs: HashMap<Uuid, (PairStatus, DateTime<Utc>, DateTime<Utc>)>,
    new_runs: Vec<(Uuid, String, DateTime<Utc>)>,
}

impl Pending {
    fn len(&self) -> usize {
        self.days.len()
            + self.validations.len()
            + self.standings.len()
            + self.pairs.len()
            + self.new_runs.len()
    }

    /// Folds `events` in; the agent of a run is looked up in `tables` when an earlier
    /// write holds it (after `settle`).
    async fn absorb<E: Recorded>(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[E],
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        for (id, event) in decode_batch::<Contact>(events)? {
            let (active, valid, at) = match event {
                ContactEvent::ContactCreated(e) => (Some(true), None, e.at),
                ContactEvent::ContactValidated(e) => {
                    self.validations
                        .entry((date_of(e.at), id))
                        .and_modify(|v| v.0 = e.report.valid)
                        .or_insert((e.report.valid, e.at));
                    (None, Some(e.report.valid), e.at)
                }
                ContactEvent::ContactAbsorbed(e) => {
                    let day = self.days.entry(date_of(e.at)).or_default();
                    day.merged += 1;
                    day.touch(e.at);
                    continue;
                }
                ContactEvent::ContactMergedInto(e) => (Some(false), None, e.at),
                ContactEvent::ContactArchived(e) => (Some(false), None, e.at),
                ContactEvent::ContactUnmerged(e) => (Some(true), None, e.at),
                ContactEvent::ContactRestored(e) => (Some(true), None, e.at),
                ContactEvent::ContactFieldsChanged(_) | ContactEvent::ContactUnabsorbed(_) => {
                    continue
                }
            };
            let s = self.standings.entry(id).or_default();
            s.active = active.or(s.active);
            s.valid = valid.or(s.valid);
            s.first_at = Some(s.first_at.unwrap_or(at));
            s.at = Some(at);
        }

        for (id, event) in decode_batch::<DuplicatePair>(events)? {
            use DuplicatePairEvent as E;
            let (status, at, found) = match &event {
                E::DuplicatePairDetected(e) | E::DuplicatePairReopened(e) => {
                    (PairStatus::Open, e.at, true)
                }
                E::DuplicatePairRescored(e) => (PairStatus::Open, e.at, false),
                E::DuplicatePairMerged(e) => (PairStatus::Merged, e.at, false),
                E::DuplicatePairUnmerged(e) => (PairStatus::Unmerged, e.at, false),
                E::DuplicatePairMarkedNotDuplicate(e) => (PairStatus::NotDuplicate, e.at, false),
                E::DuplicatePairIgnored(e) => (PairStatus::Ignored, e.at, false),
            };
            if found {
                let day = self.days.entry(date_of(at)).or_default();
                day.duplicates_found += 1;
                day.touch(at);
            }
            self.pairs
                .entry(id)
                .and_modify(|p| {
                    p.0 = status;
                    p.2 = at;
                })
                .or_insert((status, at, at));
        }

        let mut outputs: Vec<(Uuid, DateTime<Utc>, Value)> = Vec::new();
        for (id, event) in decode_batch::<AgentRun>(events)? {
            match event {
                AgentRunEvent::AgentRunRequested(e)
                    if e.agent == DECAY_AGENT || e.agent == SYNC_AGENT =>
                {
                    self.new_runs.push((id, e.agent.clone(), e.requested_at));
                }
                AgentRunEvent::AgentRunSucceeded(e) => {
                    outputs.push((id, e.finished_at, e.output));
                }
                _ => {}
            }
        }
        if outputs.is_empty() {
            return Ok(());
        }
        let mut known: Vec<(Uuid, String)> = self
            .new_runs
            .iter()
            .map(|(id, agent, _)| (*id, agent.clone()))
            .collect();
        let unknown: Vec<Uuid> = outputs
            .iter()
            .map(|o| o.0)
            .filter(|id| !known.iter().any(|(k, _)| k == id))
            .collect();
        if !unknown.is_empty() {
            in_flight.settle().await?;
            let stored: Vec<(Uuid, String)> = sqlx::query_as(&format!(
                "select run_id, agent from {} where run_id = any($1)",
                tables.name(RUNS)
            ))
            .bind(&unknown)
            .fetch_all(&mut *conn)
            .await?;
            known.extend(stored);
        }
        for (run, at, output) in outputs {
            let Some((_, agent)) = known.iter().find(|(id, _)| *id == run) else {
                continue;
            };
            let day = self.days.entry(date_of(at)).or_default();
            day.touch(at);
            if agent == DECAY_AGENT {
                if day.stale.as_ref().is_none_or(|(_, _, _, last)| at >= *last) {
                    day.stale = Some((
                        as_count(&output["stale_90_plus"]),
                        as_count(&output["contacts"]),
                        run,
                        at,
                    ));
                }
            } else if day.sync.as_ref().is_none_or(|(_, _, last)| at >= *last) {
                let status = output["status"].as_str().map(str::to_string);
                day.sync = Some((status, run, at));
            }
        }
        Ok(())
    }

    async fn write(self, conn: &mut PgConnection, tables: &Tables) -> anyhow::Result<()> {
        if !self.new_runs.is_empty() {
            let ids: Vec<Uuid> = self.new_runs.iter().map(|r| r.0).collect();
            let agents: Vec<&str> = self.new_runs.iter().map(|r| r.1.as_str()).collect();
            let ats: Vec<DateTime<Utc>> = self.new_runs.iter().map(|r| r.2).collect();
            sqlx::query(&format!(
                "insert into {} (run_id, agent, created_at) \
                 select * from unnest($1::uuid[], $2::text[], $3::timestamptz[]) \
                 on conflict (run_id) do nothing",
                tables.name(RUNS)
            ))
            .bind(&ids)
            .bind(&agents)
            .bind(&ats)
            .execute(&mut *conn)
            .await?;
        }
        write_days(conn, &tables.name(REPORTS), self.days).await?;
        write_validations(conn, tables, self.validations).await?;
        write_pairs(conn, &tables.name(PAIRS), self.pairs).await?;
        write_standings(conn, &tables.name(CONTACTS), self.standings).await?;
        Ok(())
    }
}

#[async_trait]
impl Projector for HygieneReportsProjector {
    fn name(&self) -> &'static str {
        "hygiene_reports"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[REPORTS, VALIDATIONS, RUNS, PAIRS, CONTACTS]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        let mut pending = Pending::default();
        pending
            .absorb(conn, tables, events, &mut InFlight::default())
            .await?;
        pending.write(conn, tables).await
    }

    fn fold(&self, _fresh: bool) -> Option<Box<dyn Fold>> {
        Some(Box::new(ReportsFold(Pending::default())))
    }
}

/// A rebuild's fold: many pages held as one [`Pending`], written when taken.
struct ReportsFold(Pending);

#[async_trait]
impl Fold for ReportsFold {
    async fn apply(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[LogEvent],
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        self.0.absorb(conn, tables, events, in_flight).await
    }

    fn held(&self) -> usize {
        self.0.len()
    }

    /// Everything held (the counts are additive, so nothing is worth keeping back).
    fn take(&mut self, _keep: usize) -> Box<dyn RowsWrite> {
        Box::new(PendingWrite(std::mem::take(&mut self.0)))
    }
}

struct PendingWrite(Pending);

#[async_trait]
impl RowsWrite for PendingWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        self.0.write(conn, tables).await
    }
}

async fn write_days(
    conn: &mut PgConnection,
    table: &str,
    days: HashMap<NaiveDate, Day>,
) -> anyhow::Result<()> {
    for (date, day) in days {
        let (Some(first), Some(last)) = (day.first_at, day.last_at) else {
            continue;
        };
        let (stale, stale_of, stale_run, stale_at) = match day.stale {
            Some((count, of, run, at)) => (count, of, Some(run), Some(at)),
            None => (None, None, None, None),
        };
        let (sync_status, sync_run, sync_at) = match day.sync {
            Some((status, run, at)) => (status, Some(run), Some(at)),
            None => (None, None, None),
        };
        sqlx::query(&format!(
            "insert into {table} as r (date, duplicates_found, merged, stale, stale_of, \
               stale_run, stale_at, sync_status, sync_run, sync_at, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             on conflict (date) do update set \
               duplicates_found = r.duplicates_found + excluded.duplicates_found, \
               merged = r.merged + excluded.merged, \
               stale = case when excluded.stale_at is not null \
                 and (r.stale_at is null or excluded.stale_at >= r.stale_at) \
                 then excluded.stale else r.stale end, \
               stale_of = case when excluded.stale_at is not null \
                 and (r.stale_at is null or excluded.stale_at >= r.stale_at) \
                 then excluded.stale_of else r.stale_of end, \
               stale_run = case when excluded.stale_at is not null \
                 and (r.stale_at is null or excluded.stale_at >= r.stale_at) \
                 then excluded.stale_run else r.stale_run end, \
               stale_at = greatest(r.stale_at, excluded.stale_at), \
               sync_status = case when excluded.sync_at is not null \
                 and (r.sync_at is null or excluded.sync_at >= r.sync_at) \
                 then excluded.sync_status else r.sync_status end, \
               sync_run = case when excluded.sync_at is not null \
                 and (r.sync_at is null or excluded.sync_at >= r.sync_at) \
                 then excluded.sync_run else r.sync_run end, \
               sync_at = greatest(r.sync_at, excluded.sync_at), \
               created_at = least(r.created_at, excluded.created_at), \
               updated_at = greatest(r.updated_at, excluded.updated_at)"
        ))
        .bind(date)
        .bind(day.duplicates_found)
        .bind(day.merged)
        .bind(stale)
        .bind(stale_of)
        .bind(stale_run)
        .bind(stale_at)
        .bind(sync_status)
        .bind(sync_run)
        .bind(sync_at)
        .bind(first)
        .bind(last)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_validations(
    conn: &mut PgConnection,
    tables: &Tables,
    validations: HashMap<(NaiveDate, Uuid), (bool, DateTime<Utc>)>,
) -> anyhow::Result<()> {
    if validations.is_empty() {
        return Ok(());
    }
    let table = tables.name(VALIDATIONS);
    let reports = tables.name(REPORTS);
    let mut dates = Vec::with_capacity(validations.len());
    let mut ids = Vec::with_capacity(validations.len());
    let mut valid = Vec::with_capacity(validations.len());
    let mut ats = Vec::with_capacity(validations.len());
    for ((date, id), (ok, at)) in &validations {
        dates.push(*date);
        ids.push(*id);
        valid.push(*ok);
        ats.push(*at);
    }
    sqlx::query(&format!(
        "insert into {table} (date, contact_id, valid, created_at) \
         select * from unnest($1::date[], $2::uuid[], $3::bool[], $4::timestamptz[]) \
         on conflict (date, contact_id) do update set valid = excluded.valid"
    ))
    .bind(&dates)
    .bind(&ids)
    .bind(&valid)
    .bind(&ats)
    .execute(&mut *conn)
    .await?;
    // A day with validations has a report row, even when nothing else happened.
    let mut days: HashMap<NaiveDate, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for ((date, _), (_, at)) in &validations {
        let span = days.entry(*date).or_insert((*at, *at));
        span.0 = span.0.min(*at);
        span.1 = span.1.max(*at);
    }
    for (date, (first, last)) in days {
        sqlx::query(&format!(
            "insert into {reports} as r (date, duplicates_found, merged, created_at, updated_at) \
             values ($1, 0, 0, $2, $3) \
             on conflict (date) do update set \
               created_at = least(r.created_at, excluded.created_at), \
               updated_at = greatest(r.updated_at, excluded.updated_at)"
        ))
        .bind(date)
        .bind(first)
        .bind(last)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_pairs(
    conn: &mut PgConnection,
    table: &str,
    pairs: HashMap<Uuid, (PairStatus, DateTime<Utc>, DateTime<Utc>)>,
) -> anyhow::Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = pairs.keys().copied().collect();
    let statuses: Vec<&str> = ids.iter().map(|id| pairs[id].0.as_str()).collect();
    let firsts: Vec<DateTime<Utc>> = ids.iter().map(|id| pairs[id].1).collect();
    let ats: Vec<DateTime<Utc>> = ids.iter().map(|id| pairs[id].2).collect();
    sqlx::query(&format!(
        "insert into {table} (pair_id, status, created_at, updated_at) \
         select id, status, first, at \
           from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[]) \
           as t(id, status, first, at) \
         on conflict (pair_id) do update set status = excluded.status, \
           updated_at = excluded.updated_at"
    ))
    .bind(&ids)
    .bind(&statuses)
    .bind(&firsts)
    .bind(&ats)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn write_standings(
    conn: &mut PgConnection,
    table: &str,
    standings: HashMap<Uuid, Standing>,
) -> anyhow::Result<()> {
    let standings: Vec<(Uuid, Standing, DateTime<Utc>, DateTime<Utc>)> = standings
        .into_iter()
        .filter_map(|(id, s)| Some((id, s, s.first_at?, s.at?)))
        .collect();
    if standings.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = standings.iter().map(|s| s.0).collect();
    let active: Vec<Option<bool>> = standings.iter().map(|s| s.1.active).collect();
    let valid: Vec<Option<bool>> = standings.iter().map(|s| s.1.valid).collect();
    let firsts: Vec<DateTime<Utc>> = standings.iter().map(|s| s.2).collect();
    let ats: Vec<DateTime<Utc>> = standings.iter().map(|s| s.3).collect();
    // A contact's first event creates it, so the insert adds the new ones; the update then
    // sets what the batch changed (`null`: unchanged) on every one.
    sqlx::query(&format!(
        "insert into {table} (contact_id, active, valid, created_at, updated_at) \
         select id, coalesce(active, true), valid, first, at \
           from unnest($1::uuid[], $2::bool[], $3::bool[], $4::timestamptz[], \
                       $5::timestamptz[]) as t(id, active, valid, first, at) \
         on conflict (contact_id) do nothing"
    ))
    .bind(&ids)
    .bind(&active)
    .bind(&valid)
    .bind(&firsts)
    .bind(&ats)
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "update {table} c set active = coalesce(t.active, c.active), \
           valid = coalesce(t.valid, c.valid), updated_at = greatest(c.updated_at, t.at) \
         from unnest($1::uuid[], $2::bool[], $3::bool[], $4::timestamptz[]) \
           as t(id, active, valid, at) \
         where c.contact_id = t.id"
    ))
    .bind(&ids)
    .bind(&active)
    .bind(&valid)
    .bind(&ats)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
