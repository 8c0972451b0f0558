//! Queries over `contacts`: one contact, filtered and sorted pages with keyset cursors,
//! look-ups by CRM id, email and phone, and the streamed export.

use caseyos_domain::api::{ContactRow, ContactsQuery};
use caseyos_domain::contacts::{
    CompanyDomain, ContactSource, ContactStatus, ContactView, LifecycleStage,
};
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::{cursor, export};

/// One contact.
pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<ContactView>> {
    let row = sqlx::query("select doc from contacts where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<ContactView>, _>("doc")?.0),
        None => None,
    })
}

/// Which validation verdict a list asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// Validated, no blocking issue.
    Valid,
    /// Validated with a blocking issue.
    Invalid,
    /// Never validated.
    Unknown,
}

impl Validity {
    pub fn parse(raw: &str) -> Option<Validity> {
        match raw {
            "true" => Some(Validity::Valid),
            "false" => Some(Validity::Invalid),
            "unknown" | "null" => Some(Validity::Unknown),
            _ => None,
        }
    }
}

/// What a list or an export may be filtered by; empty vectors mean "any".
#[derive(Clone, Debug, Default)]
pub struct ContactFilter {
    /// Any status when empty (the API's default is `active`).
    pub statuses: Vec<ContactStatus>,
    pub lifecycle_stages: Vec<LifecycleStage>,
    pub sources: Vec<ContactSource>,
    pub owner: Option<String>,
    /// Normalised (`acme.com`).
    pub company_domain: Option<String>,
    pub valid: Option<Validity>,
    pub has_crm_id: Option<bool>,
    pub import_id: Option<Uuid>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
    /// Text in the name, any email or the company (case-insensitive).
    pub q: Option<String>,
}

/// A query parameter that is not one this API understands: its name and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct InvalidQuery {
    pub parameter: &'static str,
    pub message: String,
}

fn invalid(parameter: &'static str, message: impl Into<String>) -> InvalidQuery {
    InvalidQuery {
        parameter,
        message: message.into(),
    }
}

/// Comma-separated values, each parsed as written; empty means none.
fn list_of<T>(
    raw: Option<&str>,
    parameter: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, InvalidQuery> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(vec![]);
    };
    raw.split(',')
        .map(|v| parse(v).ok_or_else(|| invalid(parameter, format!("`{v}` is not a known value"))))
        .collect()
}

impl ContactFilter {
    /// The filter `GET /api/contacts` (and its export, and `caseyos contacts export`) asks
    /// for: `status` defaults to `active` (`all` for any), the rest to "any".
    pub fn from_query(query: &ContactsQuery) -> Result<ContactFilter, InvalidQuery> {
        let statuses = match query.status.as_deref().map(str::trim) {
            None | Some("") => vec![ContactStatus::Active],
            Some("all" | "*") => vec![],
            Some(raw) => list_of(Some(raw), "status", ContactStatus::parse)?,
        };
        let lifecycle_stages = list_of(query.lifecycle_stage.as_deref(), "lifecycle_stage", |v| {
            LifecycleStage::ALL
                .iter()
                .copied()
                .find(|s| s.as_str() == v)
        })?;
        let sources = list_of(query.source.as_deref(), "source", source_of)?;
        // A filter is lenient: text that is not a domain filters by itself (trimmed, lower
        // case), which no stored (normalised) domain equals.
        let company_domain = match query.company_domain.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(match CompanyDomain::parse(raw) {
                Ok(domain) => domain.as_str().to_string(),
                Err(_) => raw.to_lowercase(),
            }),
        };
        let valid = match query.valid.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                Validity::parse(raw)
                    .ok_or_else(|| invalid("valid", "must be true, false or unknown"))?,
            ),
        };
        let owner = query
            .owner
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_string);
        let q = query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_string);
        // An instant outside the years 1–9999 (which no row holds) is read as the nearest
        // one inside: the filter means the same and PostgreSQL gets an instant it stores.
        let clamp = |at: Option<DateTime<Utc>>| at.map(cursor::clamp_instant);
        Ok(ContactFilter {
            statuses,
            lifecycle_stages,
            sources,
            owner,
            company_domain,
            valid,
            has_crm_id: query.has_crm_id,
            import_id: query.import_id,
            created_from: clamp(query.created_from),
            created_to: clamp(query.created_to),
            updated_from: clamp(query.updated_from),
            updated_to: clamp(query.updated_to),
            q,
        })
    }
}

/// The sort a query asks for (`name` by default).
pub fn sort_of(query: &ContactsQuery) -> Result<Sort, InvalidQuery> {
    match query.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Sort::parse(raw).ok_or_else(|| {
            invalid(
                "sort",
                "must be name, created_at, updated_at or last_contacted_at, optionally prefixed with -",
            )
        }),
        None => Ok(Sort::default()),
    }
}

/// A sort key of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    Name,
    CreatedAt,
    UpdatedAt,
    LastContactedAt,
}

/// Stand in for "never contacted" so such contacts sort last in either direction.
const NEVER_LAST_ASC: &str = "'9999-12-31 00:00:00+00'::timestamptz";
const NEVER_LAST_DESC: &str = "'0001-01-01 00:00:00+00'::timestamptz";

/// `name` (the default), `-created_at`, ...: a key, descending when prefixed `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::Name,
            descending: false,
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
            "name" => SortKey::Name,
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            "last_contacted_at" => SortKey::LastContactedAt,
            _ => return None,
        };
        Some(Sort { key, descending })
    }

    fn expr(self) -> String {
        match self.key {
            SortKey::Name => "lower(name)".into(),
            SortKey::CreatedAt => "created_at".into(),
            SortKey::UpdatedAt => "updated_at".into(),
            SortKey::LastContactedAt => format!(
                "coalesce(last_contacted_at, {})",
                if self.descending {
                    NEVER_LAST_DESC
                } else {
                    NEVER_LAST_ASC
                }
            ),
        }
    }

    /// ` order by ... `, ties broken by id in the same direction.
    fn order_by(self) -> String {
        let dir = if self.descending { "desc" } else { "asc" };
        format!(" order by {} {dir}, id {dir}", self.expr())
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

/// A cursor's sort value, typed.
enum Bound {
    Name(String),
    At(DateTime<Utc>),
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

    fn bound(&self) -> Option<Bound> {
        match self.key {
            SortKey::Name => self
                .value
                .as_str()
                .filter(|s| !s.contains('\0'))
                .map(|s| Bound::Name(s.to_string())),
            _ => serde_json::from_value(self.value.clone())
                .ok()
                .and_then(cursor::instant)
                .map(Bound::At),
        }
    }
}

/// A page of the list.
pub struct Page {
    pub items: Vec<ContactRow>,
    pub next: Option<Cursor>,
    pub total: i64,
}

/// `%` and `_` in a search taken literally.
fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn strings<T: Copy>(values: &[T], name: fn(T) -> &'static str) -> Vec<String> {
    values.iter().map(|v| name(*v).to_string()).collect()
}

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &ContactFilter) {
    qb.push(" where true");
    if !filter.statuses.is_empty() {
        qb.push(" and status = any(")
            .push_bind(strings(&filter.statuses, ContactStatus::as_str))
            .push(")");
    }
    if !filter.lifecycle_stages.is_empty() {
        qb.push(" and lifecycle_stage = any(")
            .push_bind(strings(&filter.lifecycle_stages, LifecycleStage::as_str))
            .push(")");
    }
    if !filter.sources.is_empty() {
        qb.push(" and source = any(")
            .push_bind(strings(&filter.sources, ContactSource::as_str))
            .push(")");
    }
    if let Some(owner) = &filter.owner {
        qb.push(" and owner = ").push_bind(owner.clone());
    }
    if let Some(domain) = &filter.company_domain {
        qb.push(" and company_domain = ").push_bind(domain.clone());
    }
    match filter.valid {
        Some(Validity::Valid) => qb.push(" and valid"),
        Some(Validity::Invalid) => qb.push(" and not valid"),
        Some(Validity::Unknown) => qb.push(" and valid is null"),
        None => qb,
    };
    match filter.has_crm_id {
        Some(true) => qb.push(" and crm_id is not null"),
        Some(false) => qb.push(" and crm_id is null"),
        None => qb,
    };
    if let Some(import_id) = filter.import_id {
        qb.push(" and import_id = ").push_bind(import_id);
    }
    for (column, op, at) in [
        ("created_at", ">=", filter.created_from),
        ("created_at", "<", filter.created_to),
        ("updated_at", ">=", filter.updated_from),
        ("updated_at", "<", filter.updated_to),
    ] {
        if let Some(at) = at {
            qb.push(format_args!(" and {column} {op} ")).push_bind(at);
        }
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        qb.push(" and search like ")
            .push_bind(format!("%{}%", like_escape(&q.to_lowercase())));
    }
}

/// The columns of a list row.
const ROW_COLUMNS: &str = "id, status, name, primary_email, phone, company_name, \
     company_domain, job_title, lifecycle_stage, owner, crm_id, valid, issues, \
     last_contacted_at, updated_at, source, demo";

fn parsed<T>(raw: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> anyhow::Result<T> {
    parse(raw).ok_or_else(|| anyhow::anyhow!("the contacts table holds an unknown {what} {raw:?}"))
}

fn source_of(raw: &str) -> Option<ContactSource> {
    [
        ContactSource::Manual,
        ContactSource::Import,
        ContactSource::Hubspot,
    ]
    .into_iter()
    .find(|s| s.as_str() == raw)
}

fn row_of(row: &PgRow) -> anyhow::Result<ContactRow> {
    let status: String = row.try_get("status")?;
    let stage: Option<String> = row.try_get("lifecycle_stage")?;
    let source: String = row.try_get("source")?;
    Ok(ContactRow {
        id: row.try_get("id")?,
        status: parsed(&status, ContactStatus::parse, "status")?,
        name: row.try_get("name")?,
        primary_email: row.try_get("primary_email")?,
        phone: row.try_get("phone")?,
        company_name: row.try_get("company_name")?,
        company_domain: row.try_get("company_domain")?,
        job_title: row.try_get("job_title")?,
        lifecycle_stage: stage
            .map(|s| parsed(&s, LifecycleStage::parse, "lifecycle stage"))
            .transpose()?,
        owner: row.try_get("owner")?,
        crm_id: row.try_get("crm_id")?,
        valid: row.try_get("valid")?,
        issues: row.try_get("issues")?,
        last_contacted_at: row.try_get("last_contacted_at")?,
        updated_at: row.try_get("updated_at")?,
        source: parsed(&source, source_of, "source")?,
        demo: row.try_get("demo")?,
    })
}

/// A filtered, sorted page, keyset-paginated so pages stay stable under writes.
pub async fn list(
    pool: &PgPool,
    filter: &ContactFilter,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: i64,
) -> anyhow::Result<Page> {
    let expr = sort.expr();
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "select {ROW_COLUMNS}, {expr} as sort_value from contacts"
    ));
    push_filter(&mut qb, filter);
    if let Some(cursor) = cursor {
        let op = if sort.descending { "<" } else { ">" };
        qb.push(format_args!(" and ({expr}, id) {op} ("));
        match cursor.bound().ok_or(CursorError::Malformed)? {
            Bound::Name(name) => qb.push_bind(name),
            Bound::At(at) => qb.push_bind(at),
        };
        qb.push(", ").push_bind(cursor.id).push(")");
    }
    qb.push(sort.order_by())
        .push(" limit ")
        .push_bind(limit + 1);
    let mut rows = qb.build().fetch_all(pool).await?;
    // The cursor holds the database's own sort value of the last row, so the next page
    // continues exactly where this one ended.
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        match rows.last() {
            Some(last) => Some(Cursor {
                key: sort.key,
                desc: sort.descending,
                value: match sort.key {
                    SortKey::Name => json!(last.try_get::<String, _>("sort_value")?),
                    _ => json!(last.try_get::<DateTime<Utc>, _>("sort_value")?),
                },
                id: last.try_get("id")?,
            }),
            None => None,
        }
    } else {
        None
    };
    let items = rows.iter().map(row_of).collect::<anyhow::Result<_>>()?;

    let mut count = QueryBuilder::<Postgres>::new("select count(*) from contacts");
    push_filter(&mut count, filter);
    let total: i64 = count.build().fetch_one(pool).await?.try_get(0)?;
    Ok(Page { items, next, total })
}

/// Statuses in the order look-ups prefer them: a contact not merged away first.
const STATUS_RANK: &str = "case status when 'active' then 0 when 'archived' then 1 else 2 end";

fn docs(rows: Vec<PgRow>) -> anyhow::Result<Vec<ContactView>> {
    rows.into_iter()
        .map(|row| Ok(row.try_get::<Json<ContactView>, _>("doc")?.0))
        .collect()
}

/// The contacts (not merged away) with this CRM id: active ones first, then oldest first.
pub async fn find_by_crm_id(pool: &PgPool, crm_id: &str) -> anyhow::Result<Vec<ContactView>> {
    let rows = sqlx::query(&format!(
        "select doc from contacts where crm_id = $1 and status <> 'merged' \
         order by {STATUS_RANK}, created_at, id"
    ))
    .bind(crm_id)
    .fetch_all(pool)
    .await?;
    docs(rows)
}

/// The contacts with this address among any of their emails (lower-cased before the
/// look-up): not merged away first (active, then archived, then merged), then oldest first.
pub async fn find_by_email(pool: &PgPool, email: &str) -> anyhow::Result<Vec<ContactView>> {
    let rows = sqlx::query(&format!(
        "select doc from contacts where emails @> array[$1::text] \
         order by {STATUS_RANK}, created_at, id"
    ))
    .bind(email.trim().to_lowercase())
    .fetch_all(pool)
    .await?;
    docs(rows)
}

/// For a batch of import rows: the contacts (not merged away) with any of these CRM ids or
/// emails, as `(id, crm_id, emails)`, active ones first, then oldest first.
pub async fn find_by_keys(
    pool: &PgPool,
    crm_ids: &[String],
    emails: &[String],
) -> anyhow::Result<Vec<(Uuid, Option<String>, Vec<String>)>> {
    if crm_ids.is_empty() && emails.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "select id, crm_id, emails from contacts \
         where (crm_id = any($1) or emails && $2::text[]) and status <> 'merged' \
         order by {STATUS_RANK}, created_at, id"
    ))
    .bind(crm_ids)
    .bind(emails)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                row.try_get("crm_id")?,
                row.try_get("emails")?,
            ))
        })
        .collect()
}

/// The contacts with this phone among theirs (E.164, or the text as written for numbers
/// that did not parse): not merged away first, then oldest first.
pub async fn find_by_phone(pool: &PgPool, phone: &str) -> anyhow::Result<Vec<ContactView>> {
    let rows = sqlx::query(&format!(
        "select doc from contacts where phones @> array[$1::text] \
         order by {STATUS_RANK}, created_at, id"
    ))
    .bind(phone)
    .fetch_all(pool)
    .await?;
    docs(rows)
}

/// An active contact that already has one of these addresses or this CRM id, and which
/// of the two matched (`crm_id` before `email`): what a create refuses as a duplicate.
pub async fn find_active_duplicate(
    pool: &PgPool,
    emails: &[String],
    crm_id: Option<&str>,
) -> anyhow::Result<Option<(Uuid, &'static str)>> {
    if let Some(crm_id) = crm_id {
        let found: Option<Uuid> = sqlx::query_scalar(
            "select id from contacts where crm_id = $1 and status = 'active' \
             order by created_at, id limit 1",
        )
        .bind(crm_id)
        .fetch_optional(pool)
        .await?;
        if let Some(id) = found {
            return Ok(Some((id, "crm_id")));
        }
    }
    if !emails.is_empty() {
        let found: Option<Uuid> = sqlx::query_scalar(
            "select id from contacts where emails && $1::text[] and status = 'active' \
             order by created_at, id limit 1",
        )
        .bind(emails)
        .fetch_optional(pool)
        .await?;
        if let Some(id) = found {
            return Ok(Some((id, "email")));
        }
    }
    Ok(None)
}

/// One contact as the CSV export writes it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ContactExportRow {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Every address, the primary first.
    pub emails: Vec<String>,
    /// Every phone: E.164 where it parsed, else the text as written.
    pub phones: Vec<String>,
    pub job_title: Option<String>,
    pub company_name: Option<String>,
    pub company_domain: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub owner: Option<String>,
    pub crm_id: Option<String>,
    pub last_contacted_at: Option<DateTime<Utc>>,
    pub status: String,
    pub valid: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ContactExportRow {
    /// The row's cells in the order of `caseyos_domain::api::CONTACT_EXPORT_COLUMNS`.
    pub fn csv_cells(&self) -> Vec<String> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.id.to_string(),
            text(&self.first_name),
            text(&self.last_name),
            self.emails.first().cloned().unwrap_or_default(),
            self.emails.get(1..).unwrap_or_default().join(";"),
            self.phones.join(";"),
            text(&self.job_title),
            text(&self.company_name),
            text(&self.company_domain),
            text(&self.lifecycle_stage),
            text(&self.owner),
            text(&self.crm_id),
            export::csv_instant(self.last_contacted_at),
            self.status.clone(),
            self.valid.map(|v| v.to_string()).unwrap_or_default(),
            export::csv_instant(Some(self.created_at)),
            export::csv_instant(Some(self.updated_at)),
        ]
    }
}

/// Every contact the filter matches, in `sort`'s order, streamed (see [`export::rows`]):
/// one statement, one snapshot, rows read as the consumer takes them.
pub fn export(
    pool: PgPool,
    filter: ContactFilter,
    sort: Sort,
) -> BoxStream<'static, anyhow::Result<ContactExportRow>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "select id, first_name, last_name, emails, phones, job_title, company_name, \
         company_domain, lifecycle_stage, owner, crm_id, last_contacted_at, status, valid, \
         created_at, updated_at from contacts",
    );
    push_filter(&mut qb, &filter);
    qb.push(sort.order_by());
    export::rows(pool, qb)
}

/// Active contacts last contacted at or after `from` and before `until`, longest ago first
/// (what the "lead gone cold" rule sweeps).
pub async fn last_contacted_between(
    pool: &PgPool,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<Vec<ContactView>> {
    let rows = sqlx::query(
        "select doc from contacts where status = 'active' \
         and last_contacted_at >= $1 and last_contacted_at < $2 \
         order by last_contacted_at, id",
    )
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?;
    docs(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_parse_with_an_optional_descending_prefix() {
        let table = [
            ("name", Some((SortKey::Name, false))),
            ("-name", Some((SortKey::Name, true))),
            ("created_at", Some((SortKey::CreatedAt, false))),
            ("-updated_at", Some((SortKey::UpdatedAt, true))),
            ("-last_contacted_at", Some((SortKey::LastContactedAt, true))),
            ("email", None),
            ("--name", None),
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
    fn cursors_round_trip_and_refuse_another_sort_or_value() {
        let sort = Sort::default();
        let cursor = Cursor {
            key: SortKey::Name,
            desc: false,
            value: json!("dana lee"),
            id: Uuid::from_u128(9),
        };
        assert_eq!(Cursor::decode(&cursor.encode(), sort), Ok(cursor.clone()));
        let other = Sort::parse("-created_at").unwrap();
        assert_eq!(
            Cursor::decode(&cursor.encode(), other),
            Err(CursorError::SortMismatch)
        );
        let wrong_type = Cursor {
            key: SortKey::CreatedAt,
            desc: true,
            value: json!("dana"),
            id: Uuid::from_u128(9),
        };
        assert_eq!(
            Cursor::decode(&wrong_type.encode(), other),
            Err(CursorError::Malformed)
        );
        assert_eq!(Cursor::decode("%%%", sort), Err(CursorError::Malformed));
    }

    #[test]
    fn a_search_takes_percent_and_underscore_literally() {
        for (raw, expected) in [
            ("dana", "dana"),
            ("50%", "50\\%"),
            ("a_b", "a\\_b"),
            ("c:\\x", "c:\\\\x"),
        ] {
            assert_eq!(like_escape(raw), expected, "{raw}");
        }
    }
}
