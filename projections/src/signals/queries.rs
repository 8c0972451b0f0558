//! Queries over `signals`: one signal, and filtered pages (newest recorded first).

use caseyos_domain::signals::{OutcomeStatus, SignalKind, SignalSource, SignalView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::cursor;

/// The status of a signal not processed yet.
pub const PENDING: &str = "pending";

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<SignalView>> {
    let row = sqlx::query("select doc from signals where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<SignalView>, _>("doc")?.0),
        None => None,
    })
}

/// Where a signal's processing stands, for filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalState {
    /// Not processed yet.
    Pending,
    /// Processed, whatever it came to.
    Processed,
    /// Processed with this outcome.
    Outcome(OutcomeStatus),
}

/// The entity a signal is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignalEntity {
    /// A contact or a deal id.
    Id(Uuid),
    /// A contact's address (lower case).
    Email(String),
}

/// Which signals a list shows (each list empty: any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalFilter {
    pub sources: Vec<SignalSource>,
    pub kinds: Vec<SignalKind>,
    pub states: Vec<SignalState>,
    pub entity: Option<SignalEntity>,
}

/// Where the next page starts: the last row's `(recorded_at, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalCursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl SignalCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str) -> Option<SignalCursor> {
        let decoded: SignalCursor = cursor::decode(raw)?;
        cursor::instant(decoded.at)?;
        Some(decoded)
    }
}

fn filtered<'a>(builder: &mut QueryBuilder<'a, Postgres>, filter: &'a SignalFilter) {
    builder.push(" where true");
    if !filter.sources.is_empty() {
        let sources: Vec<&str> = filter.sources.iter().map(|s| s.as_str()).collect();
        builder
            .push(" and source = any(")
            .push_bind(sources)
            .push(")");
    }
    if !filter.kinds.is_empty() {
        let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
        builder.push(" and kind = any(").push_bind(kinds).push(")");
    }
    if !filter.states.is_empty() {
        let mut statuses: Vec<&str> = Vec::new();
        for state in &filter.states {
            match state {
                SignalState::Pending => statuses.push(PENDING),
                SignalState::Processed => {
                    statuses.extend(OutcomeStatus::ALL.iter().map(|s| s.as_str()))
                }
                SignalState::Outcome(status) => statuses.push(status.as_str()),
            }
        }
        builder
            .push(" and status = any(")
            .push_bind(statuses)
            .push(")");
    }
    match &filter.entity {
        Some(SignalEntity::Id(id)) => {
            builder
                .push(" and (contact_id = ")
                .push_bind(*id)
                .push(" or deal_id = ")
                .push_bind(*id)
                .push(")");
        }
        Some(SignalEntity::Email(email)) => {
            builder.push(" and contact_email = ").push_bind(email);
        }
        None => {}
    }
}

/// A page of signals, newest recorded first, and the total over all pages.
pub async fn list(
    pool: &PgPool,
    filter: &SignalFilter,
    limit: i64,
    after: Option<&SignalCursor>,
) -> anyhow::Result<(Vec<SignalView>, Option<SignalCursor>, i64)> {
    let mut count = QueryBuilder::new("select count(*) from signals");
    filtered(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;

    let mut page = QueryBuilder::new("select doc from signals");
    filtered(&mut page, filter);
    if let Some(after) = after {
        page.push(" and (recorded_at < ")
            .push_bind(after.at)
            .push(" or (recorded_at = ")
            .push_bind(after.at)
            .push(" and id > ")
            .push_bind(after.id)
            .push("))");
    }
    page.push(" order by recorded_at desc, id limit ")
        .push_bind(limit + 1);
    let rows = page.build().fetch_all(pool).await?;
    let mut signals = rows
        .iter()
        .map(|row| Ok(row.try_get::<Json<SignalView>, _>("doc")?.0))
        .collect::<anyhow::Result<Vec<SignalView>>>()?;
    let next = if signals.len() as i64 > limit {
        signals.truncate(limit as usize);
        signals.last().map(|s| SignalCursor {
            at: s.recorded_at,
            id: s.id,
        })
    } else {
        None
    };
    Ok((signals, next, total))
}
