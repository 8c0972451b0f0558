//! The alerts read model — `alerts` (the Hygiene page's alerts, open by default, most
//! severe first) — its projector and the queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::alerts::{Alert, AlertEvent, AlertView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const ALERTS: &str = "alerts";

/// Writes `alerts`.
pub struct AlertsProjector;

impl RowProjector for AlertsProjector {
    const NAME: &'static str = "alerts";
    const TABLES: &'static [&'static str] = &[ALERTS];
    type Held = Alert;
    type Fold = AlertsFold;

    fn fold_over(window: Window<Alert>) -> AlertsFold {
        AlertsFold { window }
    }
}

/// The one fold of alert events into rows, live and in a rebuild.
pub struct AlertsFold {
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
