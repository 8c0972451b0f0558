//! Auto-approval: its rules (list, one, create, replace, delete), the decisions on moves,
//! and the emergency stop.

use serde::{Deserialize, Serialize};

use crate::auto_approval::{DecisionView, RuleCondition, RuleView};
use crate::queue::ActionType;

fn default_confidence() -> u8 {
    90
}

fn default_priority() -> u32 {
    100
}

/// A rule to create (`POST`) or its full replacement (`PUT`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    /// 1 to 200 characters, not blank.
    #[cfg_attr(feature = "server", schema(max_length = 200))]
    pub name: String,
    /// What it checks: one of the three kinds, each with its parameters.
    pub condition: RuleCondition,
    /// How sure an approval by it is, in percent (default 90).
    #[serde(
        default = "default_confidence",
        deserialize_with = "crate::kernel::whole"
    )]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100, default = 90))]
    pub confidence: u8,
    /// Lower runs first (default 100).
    #[serde(
        default = "default_priority",
        deserialize_with = "crate::kernel::whole"
    )]
    #[cfg_attr(
        feature = "server",
        schema(minimum = 0, maximum = 10000, default = 100)
    )]
    pub priority: u32,
    /// Whether it runs (default false: a new rule is off until turned on).
    #[serde(default)]
    pub enabled: bool,
    /// The move types it may approve; absent or null: every type executed as an email.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(min_items = 1, max_items = 100))]
    pub action_types: Option<Vec<ActionType>>,
}

/// A rule after a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RuleResponse {
    #[serde(flatten)]
    pub rule: RuleView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// The rules that are not deleted, in the order they run (priority, then id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RuleListResponse {
    pub items: Vec<RuleView>,
}

/// Auto-approval decisions, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DecisionListResponse {
    pub items: Vec<DecisionView>,
}

/// The emergency stop (`enabled: false`) or its release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoApprovalSwitchRequest {
    pub enabled: bool,
    /// Why, at most 2000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub reason: Option<String>,
}
