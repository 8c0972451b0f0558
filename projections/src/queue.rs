//! Today's Moves read models — `queue_items` (detail, lists, today) and `queue_counters`
//! (counts by owner and status) — their projector and the queries that read them.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use caseyos_domain::api::QueueCountsResponse;
use caseyos_domain::queue::{
    ActionType, QueueDomain, QueueItem, QueueItemEvent, QueueItemView, QueueStatus,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::event::StoredEvent;
use crate::projector::{Projector, Tables};

const ITEMS: &str = "queue_items";
const COUNTERS: &str = "queue_counters";
/// Stands in for "no due time" so such items sort last; matches the rank index.
const NO_DUE_TIME: &str = "'9999-12-31 00:00:00+00'::timestamptz";

/// Writes `queue_items` and `queue_counters`.
pub struct QueueProjector;

#[async_trait]
impl Projector for QueueProjector {
    fn name(&self) -> &'static str {
        "queue"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[ITEMS, COUNTERS]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        let mut decoded = Vec::new();
        for event in events.iter().filter(|e| e.aggregate_type == "queue_item") {
            let id: Uuid = event.aggregate_id.parse()?;
            let payload = QueueItemEvent::decode(
                &event.event_type,
                &event.event_version,
                event.payload.clone(),
            )?;
            decoded.push((id, payload));
        }
        if decoded.is_empty() {
            return Ok(());
        }
        let items = tables.name(ITEMS);
        let counters = tables.name(COUNTERS);

        // Load the current state of every item the batch touches, fold, write back.
        let mut ids: Vec<Uuid> = decoded.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = sqlx::query(&format!("select doc from {items} where id = any($1)"))
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
        let mut states: HashMap<Uuid, QueueItem> = HashMap::with_capacity(ids.len());
        let mut before: HashMap<Uuid, (String, QueueStatus)> = HashMap::new();
        for row in rows {
            let Json(view): Json<QueueItemView> = row.try_get("doc")?;
            before.insert(view.id, (view.owner.clone(), view.status));
            states.insert(view.id, QueueItem { item: Some(view) });
        }
        for (id, event) in decoded {
            states.entry(id).or_default().apply(event);
        }

        let mut deltas: BTreeMap<(String, QueueStatus), i64> = BTreeMap::new();
        let mut rows = Rows::default();
        for (id, state) in &states {
            let Some(view) = &state.item else { continue };
            if let Some(old) = before.get(id) {
                *deltas.entry(old.clone()).or_default() -= 1;
            }
            *deltas.entry((view.owner.clone(), view.status)).or_default() += 1;
            rows.push(view)?;
        }
        rows.upsert(&mut *conn, &items).await?;

        deltas.retain(|_, delta| *delta != 0);
        if !deltas.is_empty() {
            let owners: Vec<&str> = deltas.keys().map(|(o, _)| o.as_str()).collect();
            let statuses: Vec<&str> = deltas.keys().map(|(_, s)| s.as_str()).collect();
            let counts: Vec<i64> = deltas.values().copied().collect();
            sqlx::query(&format!(
                "insert into {counters} (owner, status, count) \
                 select * from unnest($1::text[], $2::text[], $3::bigint[]) \
                 on conflict (owner, status) do update set count = {counters}.count + excluded.count"
            ))
            .bind(&owners)
            .bind(&statuses)
            .bind(&counts)
            .execute(&mut *conn)
            .await?;
            sqlx::query(&format!(
                "delete from {counters} where count = 0 and (owner, status) in \
                 (select * from unnest($1::text[], $2::text[]))"
            ))
            .bind(&owners)
            .bind(&statuses)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// `queue_items` rows in columns, written with one `unnest` upsert per batch (typed
/// arrays are far cheaper for PostgreSQL to read than one large JSON document).
#[derive(Default)]
struct Rows {
    id: Vec<Uuid>,
    status: Vec<&'static str>,
    owner: Vec<String>,
    action_type: Vec<&'static str>,
    domain: Vec<&'static str>,
    title: Vec<String>,
    aps_centi: Vec<i32>,
    due_by: Vec<Option<DateTime<Utc>>>,
    snoozed_until: Vec<Option<DateTime<Utc>>>,
    expires_at: Vec<Option<DateTime<Utc>>>,
    decided_at: Vec<Option<DateTime<Utc>>>,
    contact_id: Vec<Option<String>>,
    deal_id: Vec<Option<String>>,
    company_id: Vec<Option<String>>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    version: Vec<i64>,
    doc: Vec<String>,
}

impl Rows {
    fn push(&mut self, view: &QueueItemView) -> serde_json::Result<()> {
        self.id.push(view.id);
        self.status.push(view.status.as_str());
        self.owner.push(view.owner.clone());
        self.action_type.push(view.action_type.as_str());
        self.domain.push(view.domain.as_str());
        self.title.push(view.title.clone());
        self.aps_centi.push(i32::from(view.aps.score.centi()));
        self.due_by.push(view.due_by);
        self.snoozed_until.push(view.snoozed_until);
        self.expires_at.push(view.expires_at);
        self.decided_at.push(view.decision.as_ref().map(|d| d.at));
        self.contact_id.push(
            view.target
                .contact
                .as_ref()
                .map(|c| c.id.as_str().to_string()),
        );
        self.deal_id
            .push(view.target.deal.as_ref().map(|d| d.id.as_str().to_string()));
        self.company_id.push(
            view.target
                .company
                .as_ref()
                .map(|c| c.id.as_str().to_string()),
        );
        self.created_at.push(view.proposed_at);
        self.updated_at.push(view.updated_at);
        self.version.push(view.version as i64);
        self.doc.push(serde_json::to_string(view)?);
        Ok(())
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> sqlx::Result<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "insert into {table} (id, status, owner, action_type, domain, title, aps_centi, \
               due_by, snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc) \
             select id, status, owner, action_type, domain, title, aps_centi, due_by, \
               snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc::jsonb \
             from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::int4[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], \
               $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::timestamptz[], \
               $16::timestamptz[], $17::int8[], $18::text[]) \
               as r(id, status, owner, action_type, domain, title, aps_centi, due_by, \
               snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc) \
             on conflict (id) do update set status = excluded.status, owner = excluded.owner, \
               action_type = excluded.action_type, domain = excluded.domain, \
               title = excluded.title, aps_centi = excluded.aps_centi, \
               due_by = excluded.due_by, snoozed_until = excluded.snoozed_until, \
               expires_at = excluded.expires_at, decided_at = excluded.decided_at, \
               contact_id = excluded.contact_id, deal_id = excluded.deal_id, \
               company_id = excluded.company_id, created_at = excluded.created_at, \
               updated_at = excluded.updated_at, version = excluded.version, doc = excluded.doc"
        ))
        .bind(&self.id)
        .bind(&self.status)
        .bind(&self.owner)
        .bind(&self.action_type)
        .bind(&self.domain)
        .bind(&self.title)
        .bind(&self.aps_centi)
        .bind(&self.due_by)
        .bind(&self.snoozed_until)
        .bind(&self.expires_at)
        .bind(&self.decided_at)
        .bind(&self.contact_id)
        .bind(&self.deal_id)
        .bind(&self.company_id)
        .bind(&self.created_at)
        .bind(&self.updated_at)
        .bind(&self.version)
        .bind(&self.doc)
        .execute(conn)
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Queries

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

/// Today's Moves: pending items and snoozed ones whose time has come, by APS then due time.
pub async fn today(
    pool: &PgPool,
    owner: Option<&str>,
    domain: Option<QueueDomain>,
    now: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<QueueItemView>> {
    let rows = sqlx::query(&format!(
        "select doc from queue_items \
         where status in ('pending', 'snoozed') \
           and (status = 'pending' or snoozed_until <= $1) \
           and ($2::text is null or owner = $2) \
           and ($3::text is null or domain = $3) \
         order by aps_centi desc, coalesce(due_by, {NO_DUE_TIME}), id \
         limit $4"
    ))
    .bind(now)
    .bind(owner)
    .bind(domain.map(QueueDomain::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    docs(rows)
}

/// What a list may be filtered by; empty vectors mean "any".
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub statuses: Vec<QueueStatus>,
    pub action_types: Vec<ActionType>,
    pub domains: Vec<QueueDomain>,
    pub owner: Option<String>,
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
        let (descending, name) = match raw.trim().strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.trim()),
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
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serializes"))
    }

    pub fn decode(raw: &str, sort: Sort) -> Result<Cursor, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| CursorError::Malformed)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
        if cursor.key != sort.key || cursor.desc != sort.descending {
            return Err(CursorError::SortMismatch);
        }
        Ok(cursor)
    }
}

/// A page of the list.
pub struct Page {
    pub items: Vec<QueueItemView>,
    pub next: Option<Cursor>,
    pub total: i64,
}

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &ListFilter) {
    qb.push(" where true");
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
        match sort.key {
            SortKey::Aps => {
                qb.push_bind(cursor.value.as_i64().unwrap_or(0));
            }
            _ => {
                let at: DateTime<Utc> = serde_json::from_value(cursor.value.clone())?;
                qb.push_bind(at);
            }
        }
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
}
