//! The state of a pipeline: what the API shows and audit replay reconstructs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::PipelineSource;
use super::types::Pipeline;
use crate::kernel::Actor;

/// The pipeline aggregate: `None` until defined.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineDefinition {
    pub pipeline: Option<PipelineView>,
}

/// One pipeline, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PipelineView {
    pub pipeline: Pipeline,
    pub source: PipelineSource,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}
