//! Queries over `duplicate_pairs`: one pair, and the review queue (filtered, by score,
//! with both contacts' summaries from the `contacts` read model).

use caseyos_domain::api::{DuplicatePairSummary, PairContact};
use caseyos_domain::duplicates::{DuplicatePairView, PairStatus};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::cursor;

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<DuplicatePairView>> {
    let row = sqlx::query("select doc from duplicate_pairs where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<DuplicatePairView>, _>("doc")?.0),
        None => None,
    })
}

/// Which pairs the queue shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairFilter {
    /// None: every status.
    pub statuses: Vec<PairStatus>,
    pub min_score: Option<f64>,
    /// Pairs with a reason of this code (`email.same`, `phone.same`, …).
    pub reason: Option<String>,
    /// Pairs this contact is in.
    pub contact: Option<Uuid>,
}

/// Where the next page starts: the last row's `(score, id)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairCursor {
    pub score: f64,
    pub id: Uuid,
}

impl PairCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str) -> Option<PairCursor> {
        let decoded: PairCursor = cursor::decode(raw)?;
        decoded.score.is_finite().then_some(decoded)
    }
}

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &PairFilter) {
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        qb.push(" and p.status = any(")
            .push_bind(statuses)
            .push(")");
    }
    if let Some(min) = filter.min_score {
        qb.push(" and p.score >= ").push_bind(min);
    }
    if let Some(code) = &filter.reason {
        qb.push(" and p.reasons @> ")
            .push_bind(Json(serde_json::json!([{ "code": code }])));
    }
    if let Some(contact) = filter.contact {
        qb.push(" and (p.a = ")
            .push_bind(contact)
            .push(" or p.b = ")
            .push_bind(contact)
            .push(")");
    }
}

fn contact_of(row: &PgRow, id: Uuid, side: &str) -> anyhow::Result<PairContact> {
    let text = |column: &str| -> anyhow::Result<Option<String>> {
        Ok(row
            .try_get::<Option<String>, _>(format!("{side}_{column}").as_str())?
            .filter(|v| !v.is_empty()))
    };
    Ok(PairContact {
        id,
        name: text("name")?,
        primary_email: text("email")?,
        company_name: text("company")?,
        status: text("status")?,
    })
}

/// A page of pairs, highest score first, the total matching the filter, and the cursor of
/// the next page.
pub async fn list(
    pool: &PgPool,
    filter: &PairFilter,
    limit: i64,
    cursor: Option<&PairCursor>,
) -> anyhow::Result<(Vec<DuplicatePairSummary>, i64, Option<PairCursor>)> {
    let mut count: QueryBuilder<Postgres> =
        QueryBuilder::new("select count(*) from duplicate_pairs p where true");
    push_filter(&mut count, filter);
    let total: i64 = count.build().fetch_one(pool).await?.try_get(0)?;

    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "select p.doc, \
           ca.name as a_name, ca.primary_email as a_email, ca.company_name as a_company, \
           ca.status as a_status, \
           cb.name as b_name, cb.primary_email as b_email, cb.company_name as b_company, \
           cb.status as b_status \
         from duplicate_pairs p \
         left join contacts ca on ca.id = p.a \
         left join contacts cb on cb.id = p.b \
         where true",
    );
    push_filter(&mut qb, filter);
    if let Some(cursor) = cursor {
        qb.push(" and (p.score < ")
            .push_bind(cursor.score)
            .push(" or (p.score = ")
            .push_bind(cursor.score)
            .push(" and p.id > ")
            .push_bind(cursor.id)
            .push("))");
    }
    qb.push(" order by p.score desc, p.id limit ")
        .push_bind(limit + 1);
    let rows = qb.build().fetch_all(pool).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let Json(pair): Json<DuplicatePairView> = row.try_get("doc")?;
        let decision = pair.decision.as_ref();
        items.push(DuplicatePairSummary {
            id: pair.id,
            status: pair.status,
            score: pair.finding.score,
            reasons: pair.finding.reasons.clone(),
            criteria_version: pair.finding.criteria_version,
            detected_at: pair.detected_at,
            found_at: pair.found_at,
            decided_at: decision.map(|d| d.at),
            decided_by: decision.map(|d| d.by.to_string()),
            merge_id: decision.and_then(|d| d.merge_id),
            primary_id: decision.and_then(|d| d.primary),
            a: contact_of(row, pair.finding.a, "a")?,
            b: contact_of(row, pair.finding.b, "b")?,
        });
    }
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|p| PairCursor {
            score: p.score,
            id: p.id,
        })
    } else {
        None
    };
    Ok((items, total, next))
}

/// Whether `contact` is in a pair still waiting for review.
pub async fn has_open_pair(pool: &PgPool, contact: Uuid) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from duplicate_pairs where status = 'open' and (a = $1 or b = $1))",
    )
    .bind(contact)
    .fetch_one(pool)
    .await?)
}
