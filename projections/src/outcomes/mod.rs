//! The outcomes read model — `outcomes` (one row per outcome: its type, impact and who it
//! is about) — its projector and the queries that read it: what APS learns from, a move's
//! and a contact's outcomes.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::outcomes::{Outcome, OutcomeEvent, OutcomeView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window, Write,
};

mod queries;

pub use queries::*;

const OUTCOMES: &str = "outcomes";

/// Writes `outcomes`.
pub struct OutcomesProjector;

impl RowProjector for OutcomesProjector {
    const NAME: &'static str = "outcomes";
    const TABLES: &'static [&'static str] = &[OUTCOMES];
    type Held = Outcome;
    type Fold = OutcomesFold;

    fn fold_over(window: Window<Outcome>) -> OutcomesFold {
        OutcomesFold { window }
    }
}

/// The one fold of outcome events into rows, live and in a rebuild.
pub struct OutcomesFold {
    window: Window<Outcome>,
}

#[async_trait]
impl RowFold for OutcomesFold {
    type Aggregate = Outcome;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, OutcomeEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        self.window
            .fold_docs(
                conn,
                &tables.name(OUTCOMES),
                decoded,
                in_flight,
                |v: OutcomeView| (v.id, Outcome { outcome: Some(v) }),
            )
            .await
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(OutcomesWrite {
            held: self.window.take(keep, |o| o.outcome.is_some()),
            how,
        })
    }
}

struct OutcomesWrite {
    held: HashMap<Uuid, Held<Outcome>>,
    how: Write,
}

/// The columns both writers fill.
const COLUMNS: &str = "id, outcome_type, source, impact_centi, contact_id, email, company_domain, \
                       deal_id, action_type, item_id, execution_id, occurred_at, doc, recorded_at";

#[async_trait]
impl RowsWrite for OutcomesWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let OutcomesWrite { held, how } = *self;
        let table = tables.name(OUTCOMES);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(o) = &state.outcome else { continue };
            if how == Write::Copy && !stored {
                copies.push(o);
                continue;
            }
            // An outcome is one fact: written once.
            sqlx::query(&format!(
                "insert into {table} ({COLUMNS}) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 on conflict (id) do nothing"
            ))
            .bind(o.id)
            .bind(o.outcome_type.as_str())
            .bind(o.source.as_str())
            .bind(o.impact_centi())
            .bind(o.subject.contact_id.as_deref())
            .bind(o.subject.email.as_ref().map(|e| e.as_str()))
            .bind(o.subject.company_domain.as_deref())
            .bind(o.subject.deal_id)
            .bind(o.action_type.map(|t| t.as_str()))
            .bind(o.item_id)
            .bind(o.execution_id)
            .bind(o.occurred_at)
            .bind(Json(o))
            .bind(o.recorded_at)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, COLUMNS).await?;
            for o in copies {
                copy.row(&[
                    &o.id,
                    &o.outcome_type.as_str(),
                    &o.source.as_str(),
                    &o.impact_centi(),
                    &o.subject.contact_id.as_deref(),
                    &o.subject.email.as_ref().map(|e| e.as_str()),
                    &o.subject.company_domain.as_deref(),
                    &o.subject.deal_id,
                    &o.action_type.map(|t| t.as_str()),
                    &o.item_id,
                    &o.execution_id,
                    &o.occurred_at,
                    &Jsonb(o),
                    &o.recorded_at,
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
