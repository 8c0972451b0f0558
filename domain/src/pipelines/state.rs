//! The state of a pipeline: what the API shows and audit replay reconstructs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::event::PipelineSource;
use super::types::Pipeline;
use crate::kernel::{Actor, CrmId};

/// The namespace of pipeline aggregate ids: `uuid v5(namespace, pipeline id)`.
const PIPELINE_NAMESPACE: Uuid = Uuid::from_u128(0x3f0b_52c4_1d7e_4a96_b2e8_6c15_9d40_a7e3);

/// The pipeline aggregate: `None` until defined.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineDefinition {
    pub pipeline: Option<PipelineView>,
}

impl PipelineDefinition {
    /// The aggregate id of the pipeline `pipeline` (`default`, a HubSpot pipeline id): the
    /// same pipeline id always names the same aggregate.
    pub fn id_of(pipeline: &CrmId) -> Uuid {
        Uuid::new_v5(&PIPELINE_NAMESPACE, pipeline.as_str().as_bytes())
    }
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
