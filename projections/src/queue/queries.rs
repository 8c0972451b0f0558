//! Queries over `queue_items` and `queue_counters`: one move, Today's Moves, filtered and
//! sorted pages with keyset cursors, counts, and the schedules' due work.

use caseyos_domain::api::QueueCountsResponse;
use caseyos_domain::queue::{ActionType, QueueDomain, QueueItemView, QueueStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use caseyos_domain::kernel::Checkpoint;

use crate::cursor;
use crate::runner::ReadVersion;

/// Stands in for "no due time" so such items sort last; matches the rank index.
const NO_DUE_TIME: &str = "'9999-12-31 00:00:00+00'::timestamptz";

fn docs(rows: Vec<sqlx::postgres::PgRow>) -> anyhow::Result<Vec<QueueItemView>> {
    rows.into_iter()
        .map(|row| Ok(row.try_get::<Json<QueueItemView>, _>("doc")?.0))
        .collect()
}

/// One item.
pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<QueueItemView>> {
    let row = sqlx::query("select doc from queue_items where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<QueueItemView>, _>("doc")?.0),
        None => None,
    })
}

/// Where a page of Today's Moves ends: the last move's rank (APS in hundredths, due time
/// with "none" as the far future) and id, opaque to clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TodayCursor {
    aps: i64,
    due: DateTime<Utc>,
    id: Uuid,
}

impl TodayCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str) -> Result<TodayCursor, CursorError> {
        cursor::decode(raw.trim()).ok_or(CursorError::Malformed)
    }
}

/// A page of Today's Moves.
pub struct TodayPage {
    pub items: Vec<QueueItemView>,
    pub next: Option<TodayCursor>,
    /// Moves in Today's Moves for the same owner and domain, over all pages.
    pub total: i64,
    /// The read model the page was read from (in the same statement, so exactly it).
    pub version: ReadVersion,
    /// The next time a snoozed move wakes: until then, the same version gives the same
    /// page.
    pub changes_at: Option<DateTime<Utc>>,
}

/// The moves of Today's Moves: pending, and snoozed ones whose time has come.
const TODAY_FILTER: &str = "status in ('pending', 'snoozed') \
     and (status = 'pending' or snoozed_until <= $1) \
     and ($2::text is null or owner = $2) \
     and ($3::text is null or domain = $3)";

/// Today's Moves: pending items and snoozed ones whose time has come, by APS then due time,
/// a page at a time (after `cursor`, when given) — with the total, the read model's
/// version and the next wake-up, all in one statement (one snapshot, one round trip).
pub async fn today(
    pool: &PgPool,
    owner: Option<&str>,
    domain: Option<QueueDomain>,
    now: DateTime<Utc>,
    cursor: Option<&TodayCursor>,
    limit: i64,
) -> anyhow::Result<TodayPage> {
    let domain = domain.map(QueueDomain::as_str);
    // Ranked by APS descending, then due time and id ascending: the page continues after
    // the cursor's move in that order.
    let after = if cursor.is_some() {
        format!(
            " and (aps_centi < $5 \
               or (aps_centi = $5 and (coalesce(due_by, {NO_DUE_TIME}), id) > ($6, $7)))"
        )
    } else {
        String::new()
    };
    let sql = format!(
        "with total as (select count(*) as n from queue_items where {TODAY_FILTER}), \
              wake as (select min(snoozed_until) as at from queue_items \
                       where status = 'snoozed' and snoozed_until > $1 \
                         and ($2::text is null or owner = $2) \
                         and ($3::text is null or domain = $3)), \
              version as (select checkpoint_tx::text::bigint as tx, checkpoint_position, \
                                 updated_at from projection_checkpoints where name = 'queue') \
         select page.doc, page.aps, page.due, total.n as total, wake.at as wake, \
                version.tx, version.checkpoint_position, version.updated_at \
         from total cross join wake left join version on true \
         left join lateral ( \
           select doc, aps_centi::bigint as aps, coalesce(due_by, {NO_DUE_TIME}) as due \
           from queue_items \
           where {TODAY_FILTER}{after} \
           order by aps_centi desc, coalesce(due_by, {NO_DUE_TIME}), id \
           limit $4) page on true"
    );
    let mut query = sqlx::query(&sql)
        .bind(now)
        .bind(owner)
        .bind(domain)
        .bind(limit + 1);
    if let Some(cursor) = cursor {
        query = query.bind(cursor.aps).bind(cursor.due).bind(cursor.id);
    }
    let rows = query.fetch_all(pool).await?;
    let first = rows
        .first()
        .ok_or_else(|| anyhow::anyhow!("the Today query returned no row"))?;
    let total: i64 = first.try_get("total")?;
    let changes_at: Option<DateTime<Utc>> = first.try_get("wake")?;
    let version = ReadVersion {
        checkpoint: Checkpoint {
            tx_id: first.try_get::<Option<i64>, _>("tx")?.unwrap_or(0),
            position: first
                .try_get::<Option<i64>, _>("checkpoint_position")?
                .unwrap_or(0),
        },
        changed_at: first.try_get("updated_at")?,
    };
    let mut page = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(Json(doc)) = row.try_get::<Option<Json<QueueItemView>>, _>("doc")? {
            page.push((doc, row.try_get::<i64, _>("aps")?, row.try_get("due")?));
        }
    }
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|(doc, aps, due)| TodayCursor {
            aps: *aps,
            due: *due,
            id: doc.id,
        })
    } else {
        None
    };
    Ok(TodayPage {
        items: page.into_iter().map(|(doc, _, _)| doc).collect(),
        next,
        total,
        version,
        changes_at,
    })
}

/// What a list may be filtered by; empty vectors mean "any".
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub statuses: Vec<QueueStatus>,
    pub action_types: Vec<ActionType>,
    pub domains: Vec<QueueDomain>,
    pub owner: Option<String>,
    /// Only moves about this deal (their target's deal id).
    pub deal: Option<String>,
}

/// A sort key of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    Aps,
    DueBy,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    fn expr(self) -> String {
        match self {
            SortKey::Aps => "aps_centi::bigint".into(),
            SortKey::DueBy => format!("coalesce(due_by, {NO_DUE_TIME})"),
            SortKey::CreatedAt => "created_at".into(),
            SortKey::UpdatedAt => "updated_at".into(),
        }
    }
}

/// `-aps` (the default), `due_by`, `-created_at`, ...: a key, descending when prefixed `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::Aps,
            descending: true,
        }
    }
}

impl Sort {
    pub fn parse(raw: &str) -> Option<Sort> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let key = match name {
            "aps" | "priority" => SortKey::Aps,
            "due_by" => SortKey::DueBy,
            "created_at" | "proposed_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => return None,
        };
        Some(Sort { key, descending })
    }
}

/// Where a page ends: the last row's sort value and id, opaque to clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    key: SortKey,
    desc: bool,
    value: Value,
    id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the cursor is not one this API issued")]
    Malformed,
    #[error("the cursor belongs to a different sort order")]
    SortMismatch,
}

impl Cursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str, sort: Sort) -> Result<Cursor, CursorError> {
        let cursor: Cursor = cursor::decode(raw.trim()).ok_or(CursorError::Malformed)?;
        if cursor.key != sort.key || cursor.desc != sort.descending {
            return Err(CursorError::SortMismatch);
        }
        cursor.bound().ok_or(CursorError::Malformed)?;
        Ok(cursor)
    }

    /// The last row's sort value, typed for its key: `None` when the value is not one
    /// this key's column could hold.
    fn bound(&self) -> Option<Bound> {
        match self.key {
            SortKey::Aps => self.value.as_i64().map(Bound::Aps),
            _ => serde_json::from_value(self.value.clone())
                .ok()
                .and_then(cursor::instant)
                .map(Bound::At),
        }
    }
}

/// A cursor's sort value, typed.
enum Bound {
    Aps(i64),
    At(DateTime<Utc>),
}

/// A page of the list.
pub struct Page {
    pub items: Vec<QueueItemView>,
    pub next: Option<Cursor>,
    pub total: i64,
}

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &ListFilter) {
    qb.push(" where true");
    if let Some(deal) = &filter.deal {
        // The move's `target.deal.id` (a JSON path: the target's field, not a type name).
        qb.push(" and doc #>> '{target,deal,id}' = ")
            .push_bind(deal.clone());
    }
    if !filter.statuses.is_empty() {
        qb.push(" and status = any(")
            .push_bind(
                filter
                    .statuses
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect::<Vec<_>>(),
            )
            .push(")");
    }
    if !filter.action_types.is_empty() {
        qb.push(" and action_type = any(")
            .push_bind(
                filter
                    .action_types
                    .iter()
                    .map(|t| t.as_str().to_string())
                    .collect::<Vec<_>>(),
            )
            .push(")");
    }
    if !filter.domains.is_empty() {
        qb.push(" and domain = any(")
            .push_bind(
                filter
                    .domains
                    .iter()
                    .map(|d| d.as_str().to_string())
                    .collect::<Vec<_>>(),
            )
            .push(")");
    }
    if let Some(owner) = &filter.owner {
        qb.push(" and owner = ").push_bind(owner.clone());
    }
}

/// A filtered, sorted page, keyset-paginated so pages stay stable under writes.
pub async fn list(
    pool: &PgPool,
    filter: &ListFilter,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: i64,
) -> anyhow::Result<Page> {
    let expr = sort.key.expr();
    let mut qb =
        QueryBuilder::<Postgres>::new(format!("select doc, {expr} as sort_value from queue_items"));
    push_filter(&mut qb, filter);
    if let Some(cursor) = cursor {
        let op = if sort.descending { "<" } else { ">" };
        qb.push(format_args!(" and ({expr}, id) {op} ("));
        match cursor.bound().ok_or(CursorError::Malformed)? {
            Bound::Aps(aps) => qb.push_bind(aps),
            Bound::At(at) => qb.push_bind(at),
        };
        qb.push(", ").push_bind(cursor.id).push(")");
    }
    let dir = if sort.descending { "desc" } else { "asc" };
    qb.push(format_args!(" order by {expr} {dir}, id {dir} limit "))
        .push_bind(limit + 1);
    let mut rows = qb.build().fetch_all(pool).await?;
    // The cursor holds the database's own sort value of the last row, so the next page
    // continues exactly where this one ended.
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        match rows.last() {
            Some(last) => {
                let value = match sort.key {
                    SortKey::Aps => json!(last.try_get::<i64, _>("sort_value")?),
                    _ => json!(last.try_get::<DateTime<Utc>, _>("sort_value")?),
                };
                let Json(doc): Json<QueueItemView> = last.try_get("doc")?;
                Some(Cursor {
                    key: sort.key,
                    desc: sort.descending,
                    value,
                    id: doc.id,
                })
            }
            None => None,
        }
    } else {
        None
    };
    let items = docs(rows)?;

    let mut count = QueryBuilder::<Postgres>::new("select count(*) from queue_items");
    push_filter(&mut count, filter);
    let total: i64 = count.build().fetch_one(pool).await?.try_get(0)?;
    Ok(Page { items, next, total })
}

/// One move as the CSV export reads it: its document.
#[derive(sqlx::FromRow)]
struct ExportDoc {
    doc: Json<QueueItemView>,
}

/// Every move the filter matches, in `sort`'s order, streamed (see
/// [`crate::export::rows`]): one statement, one snapshot, rows read as the consumer takes
/// them.
pub fn export(
    pool: PgPool,
    filter: ListFilter,
    sort: Sort,
) -> futures::stream::BoxStream<'static, anyhow::Result<QueueItemView>> {
    use futures::StreamExt;

    let expr = sort.key.expr();
    let dir = if sort.descending { "desc" } else { "asc" };
    let mut qb = QueryBuilder::<Postgres>::new("select doc from queue_items");
    push_filter(&mut qb, &filter);
    qb.push(format_args!(" order by {expr} {dir}, id {dir}"));
    crate::export::rows::<ExportDoc>(pool, qb)
        .map(|row| row.map(|r| r.doc.0))
        .boxed()
}

/// A move's cells in the order of `caseyos_domain::api::QUEUE_EXPORT_COLUMNS`.
pub fn csv_cells(item: &QueueItemView) -> Vec<String> {
    use caseyos_domain::queue::Source;

    use crate::export::csv_instant;

    let centi = item.aps.score.centi();
    let (source, decision) = (
        match &item.source {
            Source::Manual => "manual".to_string(),
            Source::AgentRun { run_id } => format!("agent_run:{run_id}"),
            Source::Signal { provider, .. } => format!("signal:{provider}"),
        },
        item.decision.as_ref(),
    );
    let target = &item.target;
    vec![
        item.id.to_string(),
        item.status.as_str().to_string(),
        item.title.clone(),
        item.action_type.as_str().to_string(),
        item.domain.as_str().to_string(),
        item.owner.clone(),
        format!("{}.{:02}", centi / 100, centi % 100),
        csv_instant(item.due_by),
        csv_instant(item.snoozed_until),
        csv_instant(item.expires_at),
        target
            .contact
            .as_ref()
            .map(|c| c.id.as_str().to_string())
            .unwrap_or_default(),
        target
            .deal
            .as_ref()
            .map(|d| d.id.as_str().to_string())
            .unwrap_or_default(),
        target
            .company
            .as_ref()
            .map(|c| c.id.as_str().to_string())
            .unwrap_or_default(),
        source,
        item.rationale.clone().unwrap_or_default(),
        decision.map(|d| d.by.to_string()).unwrap_or_default(),
        csv_instant(decision.map(|d| d.at)),
        decision
            .and_then(|d| d.reason.clone().or_else(|| d.note.clone()))
            .unwrap_or_default(),
        csv_instant(Some(item.proposed_at)),
        csv_instant(Some(item.updated_at)),
        item.demo.to_string(),
    ]
}

/// Counts by status, for one owner or everyone.
pub async fn counts(pool: &PgPool, owner: Option<&str>) -> anyhow::Result<QueueCountsResponse> {
    let rows = sqlx::query(
        "select status, sum(count)::bigint as n from queue_counters \
         where ($1::text is null or owner = $1) group by status",
    )
    .bind(owner)
    .fetch_all(pool)
    .await?;
    let mut counts = QueueCountsResponse::default();
    for row in rows {
        let n: i64 = row.try_get("n")?;
        let status: String = row.try_get("status")?;
        match QueueStatus::parse(&status) {
            Some(QueueStatus::Pending) => counts.pending = n,
            Some(QueueStatus::Snoozed) => counts.snoozed = n,
            Some(QueueStatus::Approved) => counts.approved = n,
            Some(QueueStatus::Rejected) => counts.rejected = n,
            Some(QueueStatus::Expired) => counts.expired = n,
            None => {}
        }
        counts.total += n;
    }
    Ok(counts)
}

/// Snoozed items whose time has come (for the wake-up schedule).
pub async fn due_snoozes(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from queue_items where status = 'snoozed' and snoozed_until <= $1 \
         order by snoozed_until limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Open items past their expiry (for the expiry schedule).
pub async fn due_expiries(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from queue_items where status in ('pending', 'snoozed') \
           and expires_at is not null and expires_at <= $1 order by expires_at limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_parse_with_an_optional_descending_prefix() {
        let table = [
            ("-aps", Some((SortKey::Aps, true))),
            ("priority", Some((SortKey::Aps, false))),
            ("due_by", Some((SortKey::DueBy, false))),
            ("-created_at", Some((SortKey::CreatedAt, true))),
            ("updated_at", Some((SortKey::UpdatedAt, false))),
            ("title", None),
            ("--aps", None),
        ];
        for (raw, expected) in table {
            assert_eq!(
                Sort::parse(raw).map(|s| (s.key, s.descending)),
                expected,
                "{raw}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_another_sort() {
        let sort = Sort::default();
        let cursor = Cursor {
            key: SortKey::Aps,
            desc: true,
            value: json!(6300),
            id: Uuid::from_u128(9),
        };
        assert_eq!(Cursor::decode(&cursor.encode(), sort), Ok(cursor.clone()));
        let other = Sort {
            key: SortKey::DueBy,
            descending: false,
        };
        assert_eq!(
            Cursor::decode(&cursor.encode(), other),
            Err(CursorError::SortMismatch)
        );
        assert_eq!(Cursor::decode("%%%", sort), Err(CursorError::Malformed));
    }

    #[test]
    fn todays_cursors_round_trip_and_refuse_anything_else() {
        let cursor = TodayCursor {
            aps: 6300,
            due: "9999-12-31T00:00:00Z".parse().unwrap(),
            id: Uuid::from_u128(9),
        };
        assert_eq!(TodayCursor::decode(&cursor.encode()), Ok(cursor));
        let list = Cursor {
            key: SortKey::Aps,
            desc: true,
            value: json!(6300),
            id: Uuid::from_u128(9),
        };
        for raw in ["%%%", "", list.encode().as_str()] {
            assert_eq!(
                TodayCursor::decode(raw),
                Err(CursorError::Malformed),
                "{raw}"
            );
        }
    }
}
