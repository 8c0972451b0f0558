//! Executions, action types and the guardrails' switches.

use serde::{Deserialize, Serialize};

use crate::executions::guardrails::{GuardrailConfig, SendMode};
use crate::executions::plan::Handler;
use crate::executions::settings::SettingsView;
use crate::executions::ExecutionView;

/// A page of executions, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ExecutionListResponse {
    pub items: Vec<ExecutionView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// An execution after a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ExecutionResponse {
    #[serde(flatten)]
    pub execution: ExecutionView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// Marking a by-hand move done.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteExecutionRequest {
    /// What was done, at most 2000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(example = "Posted on LinkedIn"))]
    pub note: Option<String>,
}

/// How one action type is executed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActionTypeInfo {
    /// The canonical name (`send_email`).
    pub action_type: String,
    pub label: String,
    pub handler: Handler,
    /// `false`: done by hand — it completes when the operator marks it done.
    pub automated: bool,
    /// The connector it needs (`gmail`, `google_calendar`, `hubspot`), if any.
    pub connector: Option<String>,
    /// What rolling it back does, if it can be.
    pub rollback: Option<String>,
}

/// Every action type and how it is executed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActionTypesResponse {
    pub items: Vec<ActionTypeInfo>,
}

/// Engage or release the kill switch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KillSwitchRequest {
    pub engaged: bool,
    /// Why, at most 2000 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Change the send mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendModeRequest {
    pub mode: SendMode,
}

/// The guardrails: the switches (from events) and the configured limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GuardrailsResponse {
    #[serde(flatten)]
    pub settings: SettingsView,
    /// The limits from configuration (`guardrails` in the config file).
    pub limits: GuardrailConfig,
    /// The operator's time zone: the daily quota's day.
    pub time_zone: String,
}
