//! The state of a queue item: what the API shows and audit replay reconstructs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::aps::Aps;
use super::types::{ActionType, Draft, QueueDomain, QueueStatus, Source, Target};
use crate::kernel::Actor;

/// The state of one queue item, as the API shows it and as audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueItemView {
    pub id: Uuid,
    pub title: String,
    pub action_type: ActionType,
    pub domain: QueueDomain,
    pub status: QueueStatus,
    pub owner: String,
    pub target: Target,
    /// What the move carries out, e.g. a draft email's `to`, `subject` and `body`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub payload: Value,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
    pub due_by: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
    pub expires_at: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "crate::kernel::instant::de_opt")
    )]
    pub snoozed_until: Option<DateTime<Utc>>,
    pub aps: Aps,
    /// Why the proposer thinks this move matters.
    pub rationale: Option<String>,
    pub source: Source,
    /// How the payload's draft was written: by a language model or filled in from a
    /// template. `null` when a person wrote it or there is none.
    #[serde(default)]
    pub draft: Option<Draft>,
    /// Demo data from `caseyos demo seed`: shown with a "Demo" mark and kept out of the
    /// decision stats.
    #[serde(default)]
    pub demo: bool,
    pub decision: Option<Decision>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: Actor,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}

/// How a move left the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Decision {
    pub outcome: QueueStatus,
    pub by: Actor,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub at: DateTime<Utc>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// A note left with an approval.
    pub note: Option<String>,
}

/// The aggregate: `None` until proposed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    pub item: Option<QueueItemView>,
}
