//! The dashboard: every widget in one answer (`GET /api/dashboard`) and each on its own
//! path. Every number is counted from events through the read models (or, with `as_of`,
//! folded from the log up to that instant); nothing is random or fixed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hygiene_reports::HygieneDashboardResponse;
use crate::deals::RiskKind;
use crate::kernel::{Actor, Money};
use crate::queue::QueueItemView;

/// The quick-stats bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DashboardStats {
    /// Moves waiting in Today's Moves (pending and due snoozes).
    pub pending_moves: i64,
    /// Open deals, their amounts' total and weighted total (reporting currency).
    pub open_deals: i64,
    pub open_total: Money,
    pub weighted_total: Money,
    /// Open deals with at least one risk flag.
    pub at_risk_deals: i64,
    /// Agent runs requested in the last 24 hours, and how many of them failed.
    pub agent_runs_24h: i64,
    pub agent_failures_24h: i64,
}

/// One agent's runs in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentActivity {
    pub agent: String,
    /// Runs requested in the window.
    pub runs: i64,
    pub succeeded: i64,
    /// Failed or timed out.
    pub failed: i64,
    /// succeeded × 10,000 / finished (succeeded + failed), rounded down; absent when none
    /// finished.
    pub success_basis_points: Option<i64>,
}

/// Agent performance over the last 24 hours, for small bar charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentPerformance {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Every agent that ran in the window, most runs first.
    pub agents: Vec<AgentActivity>,
    /// The agent with the most runs.
    pub most_active: Option<String>,
    /// The agent with the best success rate among those that finished a run.
    pub best_success_rate: Option<String>,
    /// The agent with the most failures (absent when none failed).
    pub most_failed: Option<String>,
}

/// One stage's column of the pipeline-health widget (and the board's header).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StageHealth {
    pub stage: String,
    pub label: String,
    pub probability: u8,
    pub count: i64,
    /// Σ amounts (reporting currency).
    pub total: Money,
    /// Σ amount × probability / 100.
    pub weighted: Money,
}

/// An at-risk deal and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AtRiskDeal {
    pub id: Uuid,
    pub name: String,
    pub owner: String,
    pub amount: Option<Money>,
    pub risks: Vec<RiskKind>,
}

/// One pipeline's open deals by stage, and its at-risk deals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PipelineHealth {
    pub pipeline: String,
    pub label: String,
    /// Its open stages in order.
    pub stages: Vec<StageHealth>,
    pub open_deals: i64,
    pub open_total: Money,
    pub weighted_total: Money,
    pub at_risk_count: i64,
    /// The largest at-risk deals, at most 10.
    pub at_risk: Vec<AtRiskDeal>,
}

/// One event of the activity feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivityEntry {
    pub position: i64,
    /// The context's aggregate type (`deal`, `queue_item`, …); `GET
    /// /api/audit/{aggregate_type}/{aggregate_id}` shows the whole history.
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub actor: Actor,
    pub recorded_at: DateTime<Utc>,
}

/// Whether an external service is connected, and when it last answered well.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectorState {
    /// `gmail`, `google_calendar`, `hubspot`, `llm`.
    pub name: String,
    /// `connected`, `not_connected`, `expiring` (its token expires within 24 hours and
    /// cannot be refreshed) or `error` (see `GET /api/connectors`).
    pub status: String,
    /// The last call known to have succeeded (a completed sync, an agent run that used the
    /// model, a call recorded by the connector); absent when none is recorded.
    pub last_good_call: Option<DateTime<Utc>>,
    /// When its access token expires (OAuth connectors), now — also on a dashboard as of
    /// an earlier instant.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Every widget of the dashboard, computed at one position of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DashboardResponse {
    /// The instant the dashboard stands for: now, or the `as_of` asked for.
    pub as_of: DateTime<Utc>,
    /// The event log position it was computed at.
    pub position: i64,
    pub stats: DashboardStats,
    /// The five highest-priority moves in Today's Moves (the caller's scope).
    pub top_moves: Vec<QueueItemView>,
    pub agents: AgentPerformance,
    /// One entry per pipeline, in definition order.
    pub pipelines: Vec<PipelineHealth>,
    /// The last 20 events across every context, newest first.
    pub activity: Vec<ActivityEntry>,
    /// The hygiene card; absent in a dashboard `as_of` an earlier instant (it is not
    /// folded from the log).
    pub hygiene: Option<HygieneDashboardResponse>,
    pub connectors: Vec<ConnectorState>,
}
