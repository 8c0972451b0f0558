//! What the deal agents read: deals from the deals read model, through a [`DealReader`]
//! the worker gives the run, and the risk and health settings the server runs with.

use async_trait::async_trait;
use caseyos_domain::api::{ForecastChangesResponse, ForecastResponse};
use caseyos_domain::deals::{DealView, HealthConfig, RiskConfig};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A week of the pipeline, for the digest.
#[derive(Clone, Debug)]
pub struct PipelineWeek {
    /// Deals created in the window.
    pub created: Vec<DealView>,
    /// Deals won or lost in the window.
    pub won: Vec<DealView>,
    pub lost: Vec<DealView>,
    /// Every open deal now.
    pub open: Vec<DealView>,
    /// The current fiscal quarter's forecast now, everyone's.
    pub forecast: ForecastResponse,
    /// How that forecast moved over the window.
    pub changes: ForecastChangesResponse,
}

/// The deals a run may read.
#[async_trait]
pub trait DealReader: Send + Sync {
    /// The deal with this id, if there is one.
    async fn deal(&self, id: Uuid) -> Result<Option<DealView>, String>;
    /// Every open deal (of one pipeline when given), largest first.
    async fn open_deals(&self, pipeline: Option<&str>) -> Result<Vec<DealView>, String>;
    /// The pipeline's week `[from, to]`.
    async fn week(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<PipelineWeek, String>;
    /// The risk flags' thresholds.
    fn risk(&self) -> &RiskConfig;
    /// The health score's settings.
    fn health(&self) -> &HealthConfig;
}

/// A reader for runs with no deals to read (the agents that do not use them).
#[derive(Default)]
pub struct NoDeals {
    risk: RiskConfig,
    health: HealthConfig,
}

/// The message of [`NoDeals`]'s answers.
pub const NO_DEALS: &str = "this run has no access to deals";

#[async_trait]
impl DealReader for NoDeals {
    async fn deal(&self, _id: Uuid) -> Result<Option<DealView>, String> {
        Err(NO_DEALS.into())
    }

    async fn open_deals(&self, _pipeline: Option<&str>) -> Result<Vec<DealView>, String> {
        Err(NO_DEALS.into())
    }

    async fn week(&self, _from: DateTime<Utc>, _to: DateTime<Utc>) -> Result<PipelineWeek, String> {
        Err(NO_DEALS.into())
    }

    fn risk(&self) -> &RiskConfig {
        &self.risk
    }

    fn health(&self) -> &HealthConfig {
        &self.health
    }
}

/// The error of a failed read (retryable: the read model may be back).
pub(crate) fn read_failed(message: String) -> crate::AgentError {
    crate::AgentError::new("agent.read_failed", message, true)
}

/// The deal `id`, or a clear `deal.not_found`.
pub(crate) async fn one(reader: &dyn DealReader, id: Uuid) -> Result<DealView, crate::AgentError> {
    reader
        .deal(id)
        .await
        .map_err(read_failed)?
        .ok_or_else(|| crate::AgentError::new("deal.not_found", format!("no deal {id}"), false))
}

/// The pipeline filter's schema: a pipeline id.
pub(crate) fn pipeline_schema() -> serde_json::Value {
    serde_json::json!({"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{1,64}$"})
}

/// Checks a pipeline filter: a pipeline id, when given.
pub(crate) fn check_pipeline(pipeline: &Option<String>) -> Vec<caseyos_domain::api::FieldError> {
    match pipeline {
        Some(p) if caseyos_domain::kernel::CrmId::parse(p).is_err() => {
            vec![crate::field_error(
                "pipeline",
                "must be a pipeline id (A–Z, a–z, 0–9, _ and -, 1–64)",
            )]
        }
        _ => Vec::new(),
    }
}

/// A deal id as inputs write it: a hyphenated UUID.
pub(crate) const DEAL_ID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The deal id in `raw` when it is a hyphenated UUID (what [`DEAL_ID_PATTERN`] accepts).
pub(crate) fn deal_id(raw: &str) -> Option<Uuid> {
    let hyphens = [8, 13, 18, 23];
    let shaped = raw.len() == 36
        && raw.char_indices().all(|(i, c)| {
            if hyphens.contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    shaped.then(|| Uuid::parse_str(raw).ok()).flatten()
}

/// The schema of a deal id field.
pub(crate) fn deal_id_schema() -> serde_json::Value {
    serde_json::json!({"pattern": DEAL_ID_PATTERN})
}

/// Checks a deal id field.
pub(crate) fn check_deal_id(raw: Option<&str>) -> Vec<caseyos_domain::api::FieldError> {
    match raw {
        Some(raw) if deal_id(raw).is_none() => {
            vec![crate::field_error(
                "deal_id",
                "must be a deal id (a UUID such as 0193a8c0-0000-7000-8000-0000000000d1)",
            )]
        }
        _ => Vec::new(),
    }
}
