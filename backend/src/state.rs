//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use caseyos_projections::runner::ProjectionMetrics;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::commands::CommandBus;
use crate::config::Config;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub projection_metrics: Arc<ProjectionMetrics>,
    /// Ticks when this instance's projectors commit (read-your-writes waits on it).
    pub projection_progress: watch::Receiver<u64>,
}

impl AppState {
    pub fn consistency_timeout(&self) -> Duration {
        Duration::from_millis(self.config.consistency_timeout_ms)
    }
}
