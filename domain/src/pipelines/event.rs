//! Pipeline events: a public contract. Never change a meaning; add a version and an
//! upcaster.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::types::Pipeline;
use crate::kernel::Actor;

/// The version every pipeline event is written with.
pub const PIPELINE_EVENT_VERSION: &str = "1";

/// Where a pipeline's definition came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PipelineSource {
    /// Defined in CaseyOS (an admin, or the first start's default).
    Local,
    /// Synced from HubSpot's pipelines API.
    Hubspot,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PipelineEvent {
    PipelineDefined(PipelineDefined),
    PipelineUpdated(PipelineUpdated),
}

impl PipelineEvent {
    /// The stored type name.
    pub const fn name(&self) -> &'static str {
        match self {
            PipelineEvent::PipelineDefined(_) => "PipelineDefined",
            PipelineEvent::PipelineUpdated(_) => "PipelineUpdated",
        }
    }
}

/// A pipeline was defined: its whole definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineDefined {
    pub pipeline: Pipeline,
    pub source: PipelineSource,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A pipeline's definition was replaced: the whole new definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineUpdated {
    pub pipeline: Pipeline,
    pub source: PipelineSource,
    pub by: Actor,
    pub at: DateTime<Utc>,
}
