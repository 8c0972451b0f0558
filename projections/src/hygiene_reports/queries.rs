//! Queries over the hygiene report: days in a range, one day, and what the dashboard card
//! counts now.

use caseyos_domain::api::HygieneReport;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Why `enriched` is 0: no event records an enrichment yet.
pub const ENRICHED_NOTE: &str = "No enrichment is executed yet: EnrichmentOrchestrator only plans, so no event records an enriched contact.";

const REPORT_COLUMNS: &str = "r.date, r.duplicates_found, r.merged, r.stale, r.stale_of, \
     r.stale_run, r.sync_status, r.sync_run, r.updated_at, \
     coalesce(v.validated, 0) as validated, coalesce(v.invalid, 0) as invalid";

const VALIDATION_COUNTS: &str = "(select date, count(*) as validated, \
       count(*) filter (where not valid) as invalid \
     from hygiene_report_validations where date between $1 and $2 group by date) v";

fn report_of(row: &PgRow) -> sqlx::Result<HygieneReport> {
    Ok(HygieneReport {
        date: row.try_get("date")?,
        duplicates_found: i64::from(row.try_get::<i32, _>("duplicates_found")?),
        merged: i64::from(row.try_get::<i32, _>("merged")?),
        validated: row.try_get("validated")?,
        invalid: row.try_get("invalid")?,
        enriched: 0,
        enriched_note: Some(ENRICHED_NOTE.to_string()),
        stale: row.try_get::<Option<i32>, _>("stale")?.map(i64::from),
        stale_of: row.try_get::<Option<i32>, _>("stale_of")?.map(i64::from),
        stale_run: row.try_get::<Option<Uuid>, _>("stale_run")?,
        sync_status: row.try_get("sync_status")?,
        sync_run: row.try_get("sync_run")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The reports of the days from `from` to `to` (inclusive) that have one, newest first, at
/// most `limit` of them.
pub async fn reports(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> anyhow::Result<Vec<HygieneReport>> {
    let rows = sqlx::query(&format!(
        "select {REPORT_COLUMNS} from hygiene_reports r left join {VALIDATION_COUNTS} \
         using (date) where r.date between $1 and $2 order by r.date desc limit $3"
    ))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(report_of).collect::<sqlx::Result<_>>()?)
}

/// The report of `date`: all zeros (and no runs) when nothing happened that day.
pub async fn report(
    pool: &PgPool,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<HygieneReport> {
    Ok(reports(pool, date, date, 1)
        .await?
        .into_iter()
        .next()
        .unwrap_or(HygieneReport {
            date,
            duplicates_found: 0,
            merged: 0,
            validated: 0,
            invalid: 0,
            enriched: 0,
            enriched_note: Some(ENRICHED_NOTE.to_string()),
            stale: None,
            stale_of: None,
            stale_run: None,
            sync_status: None,
            sync_run: None,
            updated_at: now,
        }))
}

/// What the dashboard card counts now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HygieneNow {
    pub open_duplicates: i64,
    pub active_contacts: i64,
    /// Active contacts with a validation, and of those the invalid ones.
    pub validated_contacts: i64,
    pub invalid_contacts: i64,
    /// The last DataDecay run's `(date, stale, of)`.
    pub stale: Option<(NaiveDate, i64, i64)>,
    /// The last SyncHealth run's `(date, status)`.
    pub sync: Option<(NaiveDate, String)>,
}

pub async fn now(pool: &PgPool) -> anyhow::Result<HygieneNow> {
    let row = sqlx::query(
        "select \
           (select count(*) from hygiene_pairs where status = 'open') as open_duplicates, \
           (select count(*) from hygiene_contacts where active) as active_contacts, \
           (select count(*) from hygiene_contacts where active and valid is not null) as validated, \
           (select count(*) from hygiene_contacts where active and valid = false) as invalid",
    )
    .fetch_one(pool)
    .await?;
    let stale = sqlx::query(
        "select date, stale, stale_of from hygiene_reports \
         where stale is not null and stale_of is not null order by date desc limit 1",
    )
    .fetch_optional(pool)
    .await?
    .map(|r| -> sqlx::Result<(NaiveDate, i64, i64)> {
        Ok((
            r.try_get("date")?,
            i64::from(r.try_get::<i32, _>("stale")?),
            i64::from(r.try_get::<i32, _>("stale_of")?),
        ))
    })
    .transpose()?;
    let sync = sqlx::query(
        "select date, sync_status from hygiene_reports \
         where sync_status is not null order by date desc limit 1",
    )
    .fetch_optional(pool)
    .await?
    .map(|r| -> sqlx::Result<(NaiveDate, String)> {
        Ok((r.try_get("date")?, r.try_get("sync_status")?))
    })
    .transpose()?;
    Ok(HygieneNow {
        open_duplicates: row.try_get("open_duplicates")?,
        active_contacts: row.try_get("active_contacts")?,
        validated_contacts: row.try_get("validated")?,
        invalid_contacts: row.try_get("invalid")?,
        stale,
        sync,
    })
}
