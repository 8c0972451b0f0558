//! Outcomes: the list and a manual record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::outcomes::{OutcomeType, OutcomeView};

/// Outcomes, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutcomeListResponse {
    pub items: Vec<OutcomeView>,
}

/// Record what came of a move by hand (a meeting held, a no-show, a positive call).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordOutcomeRequest {
    pub outcome_type: OutcomeType,
    /// The move it came of: its contact, company and type are taken from it.
    #[serde(default)]
    pub item_id: Option<Uuid>,
    /// Who it is about, when no move is named (or to name someone else).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 128))]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 200))]
    pub name: Option<String>,
    /// What happened, for people ("held the demo"); the type's phrase when absent.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 500))]
    pub summary: Option<String>,
    /// How sure, in percent (default 100).
    #[serde(default, deserialize_with = "crate::kernel::whole_opt")]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    pub confidence: Option<u8>,
    /// When it happened (default: now); never in the future.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
}

/// An outcome after it was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutcomeResponse {
    #[serde(flatten)]
    pub outcome: OutcomeView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}
