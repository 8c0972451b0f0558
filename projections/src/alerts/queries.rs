//! Queries over `alerts`: one alert, filtered pages (most severe first, then newest), the
//! open ones of a kind.

use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertStatus, AlertView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::cursor;

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<AlertView>> {
    let row = sqlx::query("select doc from alerts where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<AlertView>, _>("doc")?.0),
        None => None,
    })
}

/// The ids of the open alerts of `kind`.
pub async fn open_of_kind(pool: &PgPool, kind: AlertKind) -> anyhow::Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("select id from alerts where kind = $1 and status = 'open' order by id")
            .bind(kind.as_str())
            .fetch_all(pool)
            .await?,
    )
}

/// Which alerts a list shows (each list empty: any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertFilter {
    pub statuses: Vec<AlertStatus>,
    pub kinds: Vec<AlertKind>,
    pub severities: Vec<AlertSeverity>,
}

/// Where the next page starts: the last row's `(severity_rank, raised_at, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCursor {
    pub rank: i16,
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl AlertCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str) -> Option<AlertCursor> {
        let decoded: AlertCursor = cursor::decode(raw)?;
        cursor::instant(decoded.at)?;
        Some(decoded)
    }
}

fn filtered<'a>(builder: &mut QueryBuilder<'a, Postgres>, filter: &'a AlertFilter) {
    builder.push(" where true");
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        builder
            .push(" and status = any(")
            .push_bind(statuses)
            .push(")");
    }
    if !filter.kinds.is_empty() {
        let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
        builder.push(" and kind = any(").push_bind(kinds).push(")");
    }
    if !filter.severities.is_empty() {
        let severities: Vec<&str> = filter.severities.iter().map(|s| s.as_str()).collect();
        builder
            .push(" and severity = any(")
            .push_bind(severities)
            .push(")");
    }
}

/// A page of alerts, most severe first, then newest, and the total over all pages.
pub async fn list(
    pool: &PgPool,
    filter: &AlertFilter,
    limit: i64,
    after: Option<&AlertCursor>,
) -> anyhow::Result<(Vec<AlertView>, Option<AlertCursor>, i64)> {
    let mut count = QueryBuilder::new("select count(*) from alerts");
    filtered(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;

    let mut page = QueryBuilder::new("select doc from alerts");
    filtered(&mut page, filter);
    if let Some(after) = after {
        page.push(" and (severity_rank > ")
            .push_bind(after.rank)
            .push(" or (severity_rank = ")
            .push_bind(after.rank)
            .push(" and (raised_at < ")
            .push_bind(after.at)
            .push(" or (raised_at = ")
            .push_bind(after.at)
            .push(" and id > ")
            .push_bind(after.id)
            .push("))))");
    }
    page.push(" order by severity_rank, raised_at desc, id limit ")
        .push_bind(limit + 1);
    let rows = page.build().fetch_all(pool).await?;
    let mut alerts = rows
        .iter()
        .map(|row| Ok(row.try_get::<Json<AlertView>, _>("doc")?.0))
        .collect::<anyhow::Result<Vec<AlertView>>>()?;
    let next = if alerts.len() as i64 > limit {
        alerts.truncate(limit as usize);
        alerts.last().map(|a| AlertCursor {
            rank: a.severity.rank(),
            at: a.raised_at,
            id: a.id,
        })
    } else {
        None
    };
    Ok((alerts, next, total))
}
