//! The deals read model — `deals` (one row per deal: typed columns for the list's filters
//! and sorts and the forecast's sums, the `DealView` as `doc`) — its projector and the
//! queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::deals::{Deal, DealEvent, DealView};
use caseyos_domain::forecast::ForecastDeal;
use chrono::NaiveDate;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const DEALS: &str = "deals";

/// Writes `deals`.
pub struct DealsProjector;

impl RowProjector for DealsProjector {
    const NAME: &'static str = "deals";
    const TABLES: &'static [&'static str] = &[DEALS];
    type Held = Deal;
    type Fold = DealsFold;

    fn fold_over(window: Window<Deal>) -> DealsFold {
        DealsFold { window }
    }
}

/// The one fold of deal events into rows, live and in a rebuild.
pub struct DealsFold {
    window: Window<Deal>,
}

#[async_trait]
impl RowFold for DealsFold {
    type Aggregate = Deal;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, DealEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<DealView>(&mut *conn, &tables.name(DEALS), &missing).await? {
                // The read model keeps the view; the activity ids that make logging safe
                // to retry live in the aggregate, not here.
                self.window.hold_stored(
                    view.id,
                    Deal {
                        deal: Some(view),
                        ..Deal::default()
                    },
                );
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
        Box::new(DealsWrite {
            held: self.window.take(keep, |d| d.deal.is_some()),
            how,
        })
    }
}

struct DealsWrite {
    held: HashMap<Uuid, Held<Deal>>,
    how: Write,
}

/// The columns of `deals` both writers fill, in [`DealRow::values`]' order.
const DEAL_COLUMNS: &str = "id, name, pipeline, stage, stage_label, status, owner, amount_minor, \
     currency, close_date, closed_on, forecast_date, probability, category, stage_entered_at, \
     last_activity_at, demo, doc, summary, created_at, updated_at, version";

/// One row of `deals`, from a deal's view.
struct DealRow<'a> {
    deal: &'a DealView,
    summary: DealView,
    currency: Option<&'static str>,
    closed_on: Option<NaiveDate>,
    forecast_date: Option<NaiveDate>,
    probability: i16,
    version: i64,
}

impl<'a> DealRow<'a> {
    fn of(deal: &'a DealView) -> Self {
        let forecast = ForecastDeal::from(deal);
        let mut summary = deal.clone();
        summary.recent_activities.truncate(1);
        DealRow {
            deal,
            summary,
            currency: deal.amount.map(|m| m.currency.code()),
            closed_on: forecast.closed_on,
            forecast_date: forecast.forecast_date(),
            probability: i16::from(deal.probability()),
            version: deal.version as i64,
        }
    }
}

#[async_trait]
impl RowsWrite for DealsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let DealsWrite { held, how } = *self;
        let table = tables.name(DEALS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(deal) = &state.deal else { continue };
            let row = DealRow::of(deal);
            if how == Write::Copy && !stored {
                copies.push(row);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({DEAL_COLUMNS}) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                         $16, $17, $18, $19, $20, $21, $22) \
                 on conflict (id) do update set name = excluded.name, \
                   pipeline = excluded.pipeline, stage = excluded.stage, \
                   stage_label = excluded.stage_label, \
                   status = excluded.status, owner = excluded.owner, \
                   amount_minor = excluded.amount_minor, currency = excluded.currency, \
                   close_date = excluded.close_date, closed_on = excluded.closed_on, \
                   forecast_date = excluded.forecast_date, \
                   probability = excluded.probability, category = excluded.category, \
                   stage_entered_at = excluded.stage_entered_at, \
                   last_activity_at = excluded.last_activity_at, demo = excluded.demo, \
                   doc = excluded.doc, summary = excluded.summary, \
                   updated_at = excluded.updated_at, \
                   version = excluded.version"
            ))
            .bind(deal.id)
            .bind(&deal.name)
            .bind(deal.pipeline.as_str())
            .bind(deal.stage.id.as_str())
            .bind(&deal.stage.label)
            .bind(deal.status.as_str())
            .bind(&deal.owner)
            .bind(deal.amount.map(|m| m.minor))
            .bind(row.currency)
            .bind(deal.close_date)
            .bind(row.closed_on)
            .bind(row.forecast_date)
            .bind(row.probability)
            .bind(deal.forecast_category.as_str())
            .bind(deal.stage_entered_at)
            .bind(deal.last_activity_at)
            .bind(deal.demo)
            .bind(Json(deal))
            .bind(Json(&row.summary))
            .bind(deal.created_at)
            .bind(deal.updated_at)
            .bind(row.version)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, DEAL_COLUMNS).await?;
            for row in copies {
                let deal = row.deal;
                copy.row(&[
                    &deal.id,
                    &deal.name,
                    &deal.pipeline.as_str(),
                    &deal.stage.id.as_str(),
                    &deal.stage.label,
                    &deal.status.as_str(),
                    &deal.owner,
                    &deal.amount.map(|m| m.minor),
                    &row.currency,
                    &deal.close_date,
                    &row.closed_on,
                    &row.forecast_date,
                    &row.probability,
                    &deal.forecast_category.as_str(),
                    &deal.stage_entered_at,
                    &deal.last_activity_at,
                    &deal.demo,
                    &Jsonb(deal),
                    &Jsonb(&row.summary),
                    &deal.created_at,
                    &deal.updated_at,
                    &row.version,
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
