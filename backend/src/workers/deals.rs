//! The deal agents' `DealReader` over the deals read model, with the server's risk and
//! health settings.

use async_trait::async_trait;
use caseyos_agents::{DealReader, PipelineWeek};
use caseyos_domain::deals::{DealView, HealthConfig, RiskConfig};
use caseyos_domain::forecast::{ForecastConfig, Period, PeriodKind, WaterfallScope};
use caseyos_projections::forecast::{self as forecast, ForecastQuery};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Deals as the read model holds them.
pub struct DealModel {
    pool: PgPool,
    risk: RiskConfig,
    health: HealthConfig,
    forecast: ForecastConfig,
}

impl DealModel {
    pub fn new(
        pool: PgPool,
        risk: RiskConfig,
        health: HealthConfig,
        forecast: ForecastConfig,
    ) -> Self {
        DealModel {
            pool,
            risk,
            health,
            forecast,
        }
    }
}

#[async_trait]
impl DealReader for DealModel {
    async fn deal(&self, id: Uuid) -> Result<Option<DealView>, String> {
        caseyos_projections::deals::get(&self.pool, id)
            .await
            .map_err(|e| e.to_string())
    }

    async fn open_deals(&self, pipeline: Option<&str>) -> Result<Vec<DealView>, String> {
        caseyos_projections::deals::open(&self.pool, pipeline)
            .await
            .map_err(|e| e.to_string())
    }

    async fn week(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<PipelineWeek, String> {
        let failed = |e: anyhow::Error| format!("{e:#}");
        let changed = caseyos_projections::deals::changed_since(&self.pool, from)
            .await
            .map_err(failed)?;
        let within = |at: Option<DateTime<Utc>>| at.is_some_and(|at| from <= at && at <= to);
        let created = changed
            .iter()
            .filter(|d| within(Some(d.created_at)))
            .cloned()
            .collect();
        let closed = |status| {
            changed
                .iter()
                .filter(|d| d.status == status && within(d.closed_at))
                .cloned()
                .collect()
        };
        let query = ForecastQuery {
            period: Period::containing(
                to.date_naive(),
                PeriodKind::Quarter,
                &self.forecast.calendar,
            ),
            owner: None,
            config: self.forecast,
        };
        let now = forecast::now(&self.pool, &query, to)
            .await
            .map_err(|e| e.to_string())?;
        let changes = forecast::changes(&self.pool, &query, WaterfallScope::forecast(), from, to)
            .await
            .map_err(|e| e.to_string())?;
        Ok(PipelineWeek {
            created,
            won: closed(caseyos_domain::deals::DealStatus::Won),
            lost: closed(caseyos_domain::deals::DealStatus::Lost),
            open: caseyos_projections::deals::open(&self.pool, None)
                .await
                .map_err(failed)?,
            forecast: now,
            changes,
        })
    }

    fn risk(&self) -> &RiskConfig {
        &self.risk
    }

    fn health(&self) -> &HealthConfig {
        &self.health
    }
}
