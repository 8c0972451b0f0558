//! Notifications: the receipts' read model — `notification_receipts` (one row per
//! notification and user: read, acknowledged) — and, in [`queries`], the notifications
//! themselves, derived when asked from the read models of what they are about.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::notifications::{NotificationReceipt, ReceiptEvent, ReceiptView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window, Write,
};

mod queries;

pub use queries::*;

const RECEIPTS: &str = "notification_receipts";

/// Writes `notification_receipts`.
pub struct ReceiptsProjector;

impl RowProjector for ReceiptsProjector {
    const NAME: &'static str = "notification_receipts";
    const TABLES: &'static [&'static str] = &[RECEIPTS];
    type Held = NotificationReceipt;
    type Fold = ReceiptsFold;

    fn fold_over(window: Window<NotificationReceipt>) -> ReceiptsFold {
        ReceiptsFold { window }
    }
}

/// The one fold of receipt events into rows, live and in a rebuild.
pub struct ReceiptsFold {
    window: Window<NotificationReceipt>,
}

#[async_trait]
impl RowFold for ReceiptsFold {
    type Aggregate = NotificationReceipt;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, ReceiptEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        self.window
            .fold_docs(
                conn,
                &tables.name(RECEIPTS),
                decoded,
                in_flight,
                |v: ReceiptView| (v.id, NotificationReceipt { receipt: Some(v) }),
            )
            .await
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(ReceiptsWrite {
            held: self.window.take(keep, |r| r.receipt.is_some()),
            how,
        })
    }
}

struct ReceiptsWrite {
    held: HashMap<Uuid, Held<NotificationReceipt>>,
    how: Write,
}

/// The columns both writers fill.
const COLUMNS: &str =
    "id, notification_id, user_name, read_at, acknowledged_at, doc, updated_at, version";

#[async_trait]
impl RowsWrite for ReceiptsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let ReceiptsWrite { held, how } = *self;
        let table = tables.name(RECEIPTS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(r) = &state.receipt else { continue };
            if how == Write::Copy && !stored {
                copies.push(r);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (id) do update set read_at = excluded.read_at, \
                   acknowledged_at = excluded.acknowledged_at, doc = excluded.doc, \
                   updated_at = excluded.updated_at, version = excluded.version"
            ))
            .bind(r.id)
            .bind(r.notification_id)
            .bind(&r.user)
            .bind(r.read_at)
            .bind(r.acknowledged_at)
            .bind(Json(r))
            .bind(updated_at(r))
            .bind(r.version as i64)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, COLUMNS).await?;
            for r in copies {
                copy.row(&[
                    &r.id,
                    &r.notification_id,
                    &r.user,
                    &r.read_at,
                    &r.acknowledged_at,
                    &Jsonb(r),
                    &updated_at(r),
                    &(r.version as i64),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}

/// A receipt's last change: its acknowledgement, else its read.
fn updated_at(r: &ReceiptView) -> chrono::DateTime<chrono::Utc> {
    r.acknowledged_at
        .or(r.read_at)
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
}
