//! The deal agents' `DealReader` over the deals read model, with the server's risk and
//! health settings.

use async_trait::async_trait;
use caseyos_agents::DealReader;
use caseyos_domain::deals::{DealView, HealthConfig, RiskConfig};
use sqlx::PgPool;
use uuid::Uuid;

/// Deals as the read model holds them.
pub struct DealModel {
    pool: PgPool,
    risk: RiskConfig,
    health: HealthConfig,
}

impl DealModel {
    pub fn new(pool: PgPool, risk: RiskConfig, health: HealthConfig) -> Self {
        DealModel { pool, risk, health }
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

    fn risk(&self) -> &RiskConfig {
        &self.risk
    }

    fn health(&self) -> &HealthConfig {
        &self.health
    }
}
