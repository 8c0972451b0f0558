//! The duplicate review read model — `duplicate_pairs` (the review queue by score, a
//! contact's pairs, filters by status and reason) — its projector and the queries that read
//! it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::duplicates::{DuplicatePair, DuplicatePairEvent, DuplicatePairView};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const PAIRS: &str = "duplicate_pairs";

/// Writes `duplicate_pairs`.
pub struct DuplicatePairsProjector;

impl RowProjector for DuplicatePairsProjector {
    const NAME: &'static str = "duplicate_pairs";
    const TABLES: &'static [&'static str] = &[PAIRS];
    type Held = DuplicatePair;
    type Fold = PairsFold;

    fn fold_over(window: Window<DuplicatePair>) -> PairsFold {
        PairsFold { window }
    }
}

/// The one fold of duplicate pair events into rows, for a live batch and a rebuild alike.
pub struct PairsFold {
    window: Window<DuplicatePair>,
}

#[async_trait]
impl RowFold for PairsFold {
    type Aggregate = DuplicatePair;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, DuplicatePairEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in
                load_docs::<DuplicatePairView>(&mut *conn, &tables.name(PAIRS), &missing).await?
            {
                self.window
                    .hold_stored(view.id, DuplicatePair { pair: Some(view) });
            }
        }
        for (id, event) in decoded {
            self.window.state(id).apply(event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(PairsWrite {
            held: self.window.take(keep, |pair| pair.pair.is_some()),
            how,
        })
    }
}

struct PairsWrite {
    held: HashMap<Uuid, Held<DuplicatePair>>,
    how: Write,
}

#[async_trait]
impl RowsWrite for PairsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let PairsWrite { held, how } = *self;
        let pairs = tables.name(PAIRS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(pair) = &state.pair else { continue };
            let row = PairRow::of(pair);
            if how == Write::Copy && !stored {
                copies.push(row);
            } else {
                row.upsert(&mut *conn, &pairs).await?;
            }
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &pairs, PAIR_COLUMNS).await?;
            for row in &copies {
                row.copy(&mut copy).await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}

/// The columns of `duplicate_pairs` both writers fill, in [`PairRow`]'s order.
const PAIR_COLUMNS: &str = "id, a, b, status, score, reasons, criteria_version, run_id, \
     detected_at, found_at, decided_at, decided_by, merge_id, primary_id, doc, updated_at, \
     version";

/// One `duplicate_pairs` row, as the live upsert and a rebuild's COPY both write it.
struct PairRow<'a> {
    id: Uuid,
    a: Uuid,
    b: Uuid,
    status: &'static str,
    score: f64,
    reasons: serde_json::Value,
    criteria_version: i32,
    run_id: Option<Uuid>,
    detected_at: DateTime<Utc>,
    found_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
    merge_id: Option<Uuid>,
    primary_id: Option<Uuid>,
    doc: &'a DuplicatePairView,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl<'a> PairRow<'a> {
    fn of(pair: &'a DuplicatePairView) -> Self {
        let decision = pair.decision.as_ref();
        PairRow {
            id: pair.id,
            a: pair.finding.a,
            b: pair.finding.b,
            status: pair.status.as_str(),
            score: pair.finding.score,
            reasons: serde_json::to_value(&pair.finding.reasons)
                .unwrap_or(serde_json::Value::Array(Vec::new())),
            criteria_version: pair.finding.criteria_version as i32,
            run_id: pair.run_id,
            detected_at: pair.detected_at,
            found_at: pair.found_at,
            decided_at: decision.map(|d| d.at),
            decided_by: decision.map(|d| d.by.to_string()),
            merge_id: decision.and_then(|d| d.merge_id),
            primary_id: decision.and_then(|d| d.primary),
            doc: pair,
            updated_at: pair.updated_at,
            version: pair.version as i64,
        }
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "insert into {table} ({PAIR_COLUMNS}) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             on conflict (id) do update set status = excluded.status, score = excluded.score, \
               reasons = excluded.reasons, criteria_version = excluded.criteria_version, \
               run_id = excluded.run_id, found_at = excluded.found_at, \
               decided_at = excluded.decided_at, decided_by = excluded.decided_by, \
               merge_id = excluded.merge_id, primary_id = excluded.primary_id, \
               doc = excluded.doc, updated_at = excluded.updated_at, version = excluded.version"
        ))
        .bind(self.id)
        .bind(self.a)
        .bind(self.b)
        .bind(self.status)
        .bind(self.score)
        .bind(Json(&self.reasons))
        .bind(self.criteria_version)
        .bind(self.run_id)
        .bind(self.detected_at)
        .bind(self.found_at)
        .bind(self.decided_at)
        .bind(&self.decided_by)
        .bind(self.merge_id)
        .bind(self.primary_id)
        .bind(Json(self.doc))
        .bind(self.updated_at)
        .bind(self.version)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn copy(&self, copy: &mut CopyIn<'_>) -> anyhow::Result<()> {
        copy.row(&[
            &self.id,
            &self.a,
            &self.b,
            &self.status,
            &self.score,
            &Jsonb(&self.reasons),
            &self.criteria_version,
            &self.run_id,
            &self.detected_at,
            &self.found_at,
            &self.decided_at,
            &self.decided_by,
            &self.merge_id,
            &self.primary_id,
            &Jsonb(self.doc),
            &self.updated_at,
            &self.version,
        ])
        .await
    }
}
