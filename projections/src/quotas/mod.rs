//! The quotas read model — `quotas` (one row per owner and period) — its projector and
//! queries.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::forecast::Period;
use caseyos_domain::quotas::{Quota, QuotaEvent, QuotaView};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::projector::{
    load_docs, Held, InFlight, RowFold, RowProjector, RowsWrite, Tables, Window, Write,
};

const QUOTAS: &str = "quotas";

/// Writes `quotas`.
pub struct QuotasProjector;

impl RowProjector for QuotasProjector {
    const NAME: &'static str = "quotas";
    const TABLES: &'static [&'static str] = &[QUOTAS];
    type Held = Quota;
    type Fold = QuotasFold;

    fn fold_over(window: Window<Quota>) -> QuotasFold {
        QuotasFold { window }
    }
}

/// The one fold of quota events into rows, live and in a rebuild.
pub struct QuotasFold {
    window: Window<Quota>,
}

#[async_trait]
impl RowFold for QuotasFold {
    type Aggregate = Quota;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, QuotaEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<QuotaView>(&mut *conn, &tables.name(QUOTAS), &missing).await? {
                self.window
                    .hold_stored(view.id, Quota { quota: Some(view) });
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

    fn take(&mut self, keep: usize, _how: Write) -> Box<dyn RowsWrite> {
        Box::new(QuotasWrite {
            held: self.window.take(keep, |q| q.quota.is_some()),
        })
    }
}

/// Quotas are few (owners × periods): every row is upserted, in a rebuild too.
struct QuotasWrite {
    held: HashMap<Uuid, Held<Quota>>,
}

#[async_trait]
impl RowsWrite for QuotasWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let table = tables.name(QUOTAS);
        for Held { state, .. } in self.held.values() {
            let Some(quota) = &state.quota else { continue };
            sqlx::query(&format!(
                "insert into {table} \
                   (id, owner, period, amount_minor, currency, doc, updated_at, version) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (id) do update set amount_minor = excluded.amount_minor, \
                   currency = excluded.currency, doc = excluded.doc, \
                   updated_at = excluded.updated_at, version = excluded.version"
            ))
            .bind(quota.id)
            .bind(&quota.owner)
            .bind(quota.period.to_string())
            .bind(quota.amount.minor)
            .bind(quota.amount.currency.code())
            .bind(Json(quota))
            .bind(quota.set_at)
            .bind(quota.version as i64)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// The quotas of `period` (every period when `None`), optionally of one owner, by period
/// then owner.
pub async fn list(
    pool: &PgPool,
    period: Option<Period>,
    owner: Option<&str>,
) -> anyhow::Result<Vec<QuotaView>> {
    sqlx::query(
        "select doc from quotas where ($1::text is null or period = $1) \
         and ($2::text is null or owner = $2) order by period, owner",
    )
    .bind(period.map(|p| p.to_string()))
    .bind(owner)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok(row.try_get::<Json<QuotaView>, _>("doc")?.0))
    .collect()
}
