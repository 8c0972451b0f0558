//! The signals read model — `signals` (`GET /api/signals`: newest first, by source, kind,
//! status and entity, each with what it produced) — its projector and the queries that
//! read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::signals::{Signal, SignalEvent, SignalView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const SIGNALS: &str = "signals";

/// Writes `signals`.
pub struct SignalsProjector;

impl RowProjector for SignalsProjector {
    const NAME: &'static str = "signals";
    const TABLES: &'static [&'static str] = &[SIGNALS];
    type Held = Signal;
    type Fold = SignalsFold;

    fn fold_over(window: Window<Signal>) -> SignalsFold {
        SignalsFold { window }
    }
}

/// The one fold of signal events into rows, live and in a rebuild.
pub struct SignalsFold {
    window: Window<Signal>,
}

#[async_trait]
impl RowFold for SignalsFold {
    type Aggregate = Signal;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, SignalEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<SignalView>(&mut *conn, &tables.name(SIGNALS), &missing).await?
            {
                self.window
                    .hold_stored(view.id, Signal { signal: Some(view) });
            }
        }
        for (id, event) in decoded {
            caseyos_domain::aggregate::Aggregate::apply(self.window.state(id), event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(SignalsWrite {
            held: self.window.take(keep, |s| s.signal.is_some()),
            how,
        })
    }
}

struct SignalsWrite {
    held: HashMap<Uuid, Held<Signal>>,
    how: Write,
}

/// The columns of `signals` both writers fill, in [`SignalRow`]'s order.
const SIGNAL_COLUMNS: &str = "id, source, dedup_key, kind, status, contact_id, contact_email, \
     deal_id, item_id, occurred_at, recorded_at, doc, created_at, updated_at, version";

/// `pending` until processed, then the outcome's status.
pub fn status_of(signal: &SignalView) -> &'static str {
    signal
        .processed
        .as_ref()
        .map_or(PENDING, |p| p.outcome.status.as_str())
}

#[async_trait]
impl RowsWrite for SignalsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let SignalsWrite { held, how } = *self;
        let table = tables.name(SIGNALS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(signal) = &state.signal else {
                continue;
            };
            if how == Write::Copy && !stored {
                copies.push(signal);
                continue;
            }
            let updated_at = signal
                .processed
                .as_ref()
                .map_or(signal.recorded_at, |p| p.at);
            sqlx::query(&format!(
                "insert into {table} ({SIGNAL_COLUMNS}) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 on conflict (id) do update set status = excluded.status, \
                   item_id = excluded.item_id, doc = excluded.doc, \
                   updated_at = excluded.updated_at, version = excluded.version"
            ))
            .bind(signal.id)
            .bind(signal.source.as_str())
            .bind(&signal.dedup_key)
            .bind(signal.kind.as_str())
            .bind(status_of(signal))
            .bind(signal.entities.contact_id)
            .bind(signal.entities.contact_email.as_ref().map(|e| e.as_str()))
            .bind(signal.entities.deal_id)
            .bind(signal.processed.as_ref().and_then(|p| p.outcome.item_id))
            .bind(signal.occurred_at)
            .bind(signal.recorded_at)
            .bind(Json(signal))
            .bind(signal.recorded_at)
            .bind(updated_at)
            .bind(signal.version as i64)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, SIGNAL_COLUMNS).await?;
            for signal in copies {
                let updated_at = signal
                    .processed
                    .as_ref()
                    .map_or(signal.recorded_at, |p| p.at);
                copy.row(&[
                    &signal.id,
                    &signal.source.as_str(),
                    &signal.dedup_key,
                    &signal.kind.as_str(),
                    &status_of(signal),
                    &signal.entities.contact_id,
                    &signal.entities.contact_email.as_ref().map(|e| e.as_str()),
                    &signal.entities.deal_id,
                    &signal.processed.as_ref().and_then(|p| p.outcome.item_id),
                    &signal.occurred_at,
                    &signal.recorded_at,
                    &Jsonb(signal),
                    &signal.recorded_at,
                    &updated_at,
                    &(signal.version as i64),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
