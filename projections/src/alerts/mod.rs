//! The alerts read model — `alerts` (the Hygiene page's alerts, open by default, most
//! severe first) — its projector and the queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::alerts::{Alert, AlertEvent, AlertView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use caseyos_store::StoredEvent;

use crate::projector::{
    apply_batch, fold_of, load_docs, CopyIn, Fold, Held, InFlight, Jsonb, Projector, RowFold,
    RowsWrite, Tables, Window, Write,
};

mod queries;

pub use queries::*;

const ALERTS: &str = "alerts";

/// Writes `alerts`.
pub struct AlertsProjector;

#[async_trait]
impl Projector for AlertsProjector {
    fn name(&self) -> &'static str {
        "alerts"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[ALERTS]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        apply_batch(
            AlertsFold {
                window: Window::live(),
            },
            conn,
            tables,
            events,
        )
        .await
    }

    fn fold(&self, fresh: bool) -> Option<Box<dyn Fold>> {
        fold_of(AlertsFold {
            window: Window::rebuild(fresh),
        })
    }
}

/// The one fold of alert events into rows, live and in a rebuild.
struct AlertsFold {
    window: Window<Alert>,
}

#[async_trait]
impl RowFold for AlertsFold {
    type Aggregate = Alert;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, AlertEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<AlertView>(&mut *conn, &tables.name(ALERTS), &missing).await? {
                self.window
                    .hold_stored(view.id, Alert { alert: Some(view) });
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
        Box::new(AlertsWrite {
            held: self.window.take(keep, |a| a.alert.is_some()),
            how,
        })
    }
}

struct AlertsWrite {
    held: HashMap<Uuid, Held<Alert>>,
    how: Write,
}

/// The columns of `alerts` both writers fill, in [`AlertRow::values`]' order.
const ALERT_COLUMNS: &str =
    "id, key, kind, severity, severity_rank, status, raised_at, doc, created_at, updated_at, version";

#[async_trait]
impl RowsWrite for AlertsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let AlertsWrite { held, how } = *self;
        let table = tables.name(ALERTS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(alert) = &state.alert else { continue };
            if how == Write::Copy && !stored {
                copies.push(alert);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({ALERT_COLUMNS}) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 on conflict (id) do update set severity = excluded.severity, \
                   severity_rank = excluded.severity_rank, status = excluded.status, \
                   raised_at = excluded.raised_at, doc = excluded.doc, \
                   updated_at = excluded.updated_at, version = excluded.version"
            ))
            .bind(alert.id)
            .bind(&alert.key)
            .bind(alert.kind.as_str())
            .bind(alert.severity.as_str())
            .bind(alert.severity.rank())
            .bind(alert.status.as_str())
            .bind(alert.raised_at)
            .bind(Json(alert))
            .bind(alert.raised_at)
            .bind(alert.updated_at)
            .bind(alert.version as i64)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, ALERT_COLUMNS).await?;
            for alert in copies {
                copy.row(&[
                    &alert.id,
                    &alert.key,
                    &alert.kind.as_str(),
                    &alert.severity.as_str(),
                    &alert.severity.rank(),
                    &alert.status.as_str(),
                    &alert.raised_at,
                    &Jsonb(alert),
                    &alert.raised_at,
                    &alert.updated_at,
                    &(alert.version as i64),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
