//! Queries over `deals`: one deal, filtered and sorted pages, the open deals of the board
//! and the dashboard, and the deals a forecast period holds.

use caseyos_domain::api::ForecastDealRef;
use caseyos_domain::deals::{DealStatus, DealView};
use caseyos_domain::forecast::{DateRange, ForecastDeal};
use caseyos_domain::kernel::{Currency, Money};
use caseyos_domain::pipelines::ForecastCategory;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::cursor;

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<DealView>> {
    let row = sqlx::query("select doc from deals where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<DealView>, _>("doc")?.0),
        None => None,
    })
}

/// Whether the deal `id` is demo data (`caseyos demo seed`); an unknown deal is not.
pub async fn is_demo(pool: &PgPool, id: Uuid) -> anyhow::Result<bool> {
    let demo: Option<bool> = sqlx::query_scalar("select demo from deals where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(demo.unwrap_or(false))
}

/// The deals with these ids (absent ones left out), in no particular order.
pub async fn many(pool: &PgPool, ids: &[Uuid]) -> anyhow::Result<Vec<DealView>> {
    docs(
        sqlx::query("select doc from deals where id = any($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

fn docs(rows: Vec<sqlx::postgres::PgRow>) -> anyhow::Result<Vec<DealView>> {
    rows.iter()
        .map(|row| Ok(row.try_get::<Json<DealView>, _>("doc")?.0))
        .collect()
}

/// Which deals a list shows (each `None` or empty: any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DealFilter {
    pub pipeline: Option<String>,
    pub stages: Vec<String>,
    pub owner: Option<String>,
    pub statuses: Vec<DealStatus>,
    /// Close dates from and to (both included).
    pub close_from: Option<NaiveDate>,
    pub close_to: Option<NaiveDate>,
}

/// How a list is ordered; each has one direction, and ties go by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealSort {
    /// Most recently changed first (the default).
    #[default]
    Updated,
    /// Newest first.
    Created,
    /// Soonest close date first; deals without one last.
    CloseDate,
    /// Largest amount first; deals without one last.
    Amount,
}

impl DealSort {
    /// `-updated_at`, `-created_at`, `close_date`, `-amount` (the names without `-` too).
    pub fn parse(raw: &str) -> Option<DealSort> {
        Some(match raw.trim_start_matches('-') {
            "updated_at" => DealSort::Updated,
            "created_at" => DealSort::Created,
            "close_date" => DealSort::CloseDate,
            "amount" => DealSort::Amount,
            _ => return None,
        })
    }

    /// The sort column's SQL, its bind cast, and whether it descends.
    fn sql(self) -> (&'static str, &'static str, bool) {
        match self {
            DealSort::Updated => ("updated_at", "timestamptz", true),
            DealSort::Created => ("created_at", "timestamptz", true),
            DealSort::CloseDate => ("coalesce(close_date, date '9999-12-31')", "date", false),
            DealSort::Amount => (
                "coalesce(amount_minor, -9223372036854775808)",
                "bigint",
                true,
            ),
        }
    }

    /// A deal's sort value as a cursor holds it.
    fn value(self, deal: &DealView) -> Value {
        match self {
            DealSort::Updated => Value::String(deal.updated_at.to_rfc3339()),
            DealSort::Created => Value::String(deal.created_at.to_rfc3339()),
            DealSort::CloseDate => {
                Value::String(deal.close_date.unwrap_or_else(far_date).to_string())
            }
            DealSort::Amount => Value::from(deal.amount.map_or(i64::MIN, |m| m.minor)),
        }
    }
}

fn far_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Where the next page starts: the last row's sort value and id, opaque to clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealCursor {
    sort: DealSort,
    value: Value,
    id: Uuid,
}

impl DealCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    /// The cursor in `raw` if it is one of ours for this sort.
    pub fn decode(raw: &str, sort: DealSort) -> Option<DealCursor> {
        let decoded: DealCursor = cursor::decode(raw)?;
        (decoded.sort == sort && decoded.bound().is_some()).then_some(decoded)
    }

    /// The value typed for its sort; `None` when no row could hold it.
    fn bound(&self) -> Option<Bound> {
        match self.sort {
            DealSort::Updated | DealSort::Created => {
                let at: DateTime<Utc> = serde_json::from_value(self.value.clone()).ok()?;
                cursor::instant(at).map(Bound::At)
            }
            DealSort::CloseDate => {
                let date: NaiveDate = serde_json::from_value(self.value.clone()).ok()?;
                (date <= far_date()).then_some(Bound::Date(date))
            }
            DealSort::Amount => self.value.as_i64().map(Bound::Minor),
        }
    }

    /// Whether `deal` comes after this cursor in its sort.
    fn precedes(&self, deal: &DealView) -> bool {
        let Some(bound) = self.bound() else {
            return false;
        };
        let (_, _, descending) = self.sort.sql();
        let order = match (bound, self.sort) {
            (Bound::At(at), DealSort::Updated) => deal.updated_at.cmp(&at),
            (Bound::At(at), _) => deal.created_at.cmp(&at),
            (Bound::Date(date), _) => deal.close_date.unwrap_or(far_date()).cmp(&date),
            (Bound::Minor(minor), _) => deal.amount.map_or(i64::MIN, |m| m.minor).cmp(&minor),
        }
        .then(deal.id.cmp(&self.id));
        if descending {
            order.is_lt()
        } else {
            order.is_gt()
        }
    }
}

enum Bound {
    At(DateTime<Utc>),
    Date(NaiveDate),
    Minor(i64),
}

fn push_filter<'a>(qb: &mut QueryBuilder<'a, Postgres>, filter: &'a DealFilter) {
    qb.push(" where true");
    if let Some(pipeline) = &filter.pipeline {
        qb.push(" and pipeline = ").push_bind(pipeline);
    }
    if !filter.stages.is_empty() {
        qb.push(" and stage = any(")
            .push_bind(&filter.stages)
            .push(")");
    }
    if let Some(owner) = &filter.owner {
        qb.push(" and owner = ").push_bind(owner);
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        qb.push(" and status = any(").push_bind(statuses).push(")");
    }
    if let Some(from) = filter.close_from {
        qb.push(" and close_date >= ").push_bind(from);
    }
    if let Some(to) = filter.close_to {
        qb.push(" and close_date <= ").push_bind(to);
    }
}

/// A page of deals in `sort` order and the total over all pages. `keep`, when given, is a
/// rule on the deal itself (at risk now) applied after the filter: every matching row is
/// read once to apply it.
pub async fn list(
    pool: &PgPool,
    filter: &DealFilter,
    sort: DealSort,
    limit: i64,
    after: Option<&DealCursor>,
    keep: Option<&(dyn Fn(&DealView) -> bool + Sync)>,
) -> anyhow::Result<(Vec<DealView>, Option<DealCursor>, i64)> {
    let (column, cast, descending) = sort.sql();
    let direction = if descending { "desc" } else { "asc" };
    let (mut deals, total) = match keep {
        Some(keep) => {
            let mut all = QueryBuilder::new("select doc from deals");
            push_filter(&mut all, filter);
            all.push(format!(" order by {column} {direction}, id {direction}"));
            let mut deals = docs(all.build().fetch_all(pool).await?)?;
            deals.retain(|deal| keep(deal));
            let total = deals.len() as i64;
            if let Some(after) = after {
                deals.retain(|deal| after.precedes(deal));
            }
            deals.truncate(limit as usize + 1);
            (deals, total)
        }
        None => {
            let mut count = QueryBuilder::new("select count(*) from deals");
            push_filter(&mut count, filter);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            let mut page = QueryBuilder::new("select doc from deals");
            push_filter(&mut page, filter);
            if let Some(after) = after {
                let comparison = if descending { "<" } else { ">" };
                page.push(format!(" and ({column}, id) {comparison} ("));
                match after.bound() {
                    Some(Bound::At(at)) => page.push_bind(at),
                    Some(Bound::Date(date)) => page.push_bind(date),
                    Some(Bound::Minor(minor)) => page.push_bind(minor),
                    None => page.push("null"),
                };
                page.push(format!("::{cast}, "))
                    .push_bind(after.id)
                    .push(")");
            }
            page.push(format!(
                " order by {column} {direction}, id {direction} limit "
            ))
            .push_bind(limit + 1);
            (docs(page.build().fetch_all(pool).await?)?, total)
        }
    };
    let next = if deals.len() as i64 > limit {
        deals.truncate(limit as usize);
        deals.last().map(|deal| DealCursor {
            sort,
            value: sort.value(deal),
            id: deal.id,
        })
    } else {
        None
    };
    Ok((deals, next, total))
}

/// Every open deal (of one pipeline when given), largest first: the board's cards and the
/// dashboard's pipeline health.
pub async fn open(pool: &PgPool, pipeline: Option<&str>) -> anyhow::Result<Vec<DealView>> {
    docs(
        sqlx::query(
            "select doc from deals where status = 'open' and ($1::text is null or pipeline = $1) \
             order by coalesce(amount_minor, -1) desc, id",
        )
        .bind(pipeline)
        .fetch_all(pool)
        .await?,
    )
}

/// Every deal changed at or after `since` (created, closed or anything else), newest first.
pub async fn changed_since(pool: &PgPool, since: DateTime<Utc>) -> anyhow::Result<Vec<DealView>> {
    docs(
        sqlx::query("select doc from deals where updated_at >= $1 order by updated_at desc, id")
            .bind(since)
            .fetch_all(pool)
            .await?,
    )
}

/// Every open deal as its summary (the view with only its latest activity: all the risk
/// flags read), largest first — the dashboard's pipeline health.
pub async fn open_summaries(pool: &PgPool) -> anyhow::Result<Vec<DealView>> {
    sqlx::query(
        "select summary from deals where status = 'open' \
         order by coalesce(amount_minor, -1) desc, id",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok(row.try_get::<Json<DealView>, _>("summary")?.0))
    .collect()
}

/// The deals a forecast of `range` needs, read from the columns the projector wrote from
/// each deal's view (exactly what `ForecastDeal::from` and the deal's reference say): those
/// filed under a date in it, and open deals without a close date (which the forecast lists
/// as in no period).
pub async fn in_forecast(
    pool: &PgPool,
    range: &DateRange,
) -> anyhow::Result<Vec<(ForecastDeal, ForecastDealRef)>> {
    sqlx::query(
        "select id, name, owner, stage_label, status, amount_minor, currency, close_date, \
                closed_on, probability, category \
         from deals where forecast_date between $1 and $2 \
            or (status = 'open' and close_date is null) order by id",
    )
    .bind(range.first)
    .bind(range.last)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        let status: String = row.try_get("status")?;
        let status = DealStatus::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("a deal's status {status}"))?;
        let category: String = row.try_get("category")?;
        let category = ForecastCategory::parse(&category)
            .ok_or_else(|| anyhow::anyhow!("a deal's category {category}"))?;
        let minor: Option<i64> = row.try_get("amount_minor")?;
        let currency: Option<String> = row.try_get("currency")?;
        let amount = match (minor, currency.as_deref()) {
            (Some(minor), Some(code)) if code == Currency::Usd.code() => {
                Some(Money::new(minor, Currency::Usd))
            }
            (None, _) => None,
            (_, other) => anyhow::bail!("a deal's currency {other:?}"),
        };
        let probability: i16 = row.try_get("probability")?;
        let deal = ForecastDeal {
            id: row.try_get("id")?,
            owner: row.try_get("owner")?,
            status,
            amount,
            close_date: row.try_get("close_date")?,
            closed_on: row.try_get("closed_on")?,
            probability: u8::try_from(probability)?,
            category,
        };
        let reference = ForecastDealRef {
            id: deal.id,
            name: row.try_get("name")?,
            owner: deal.owner.clone(),
            stage: row.try_get("stage_label")?,
            status,
            amount,
            close_date: deal.close_date,
        };
        Ok((deal, reference))
    })
    .collect()
}
