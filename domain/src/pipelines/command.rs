//! What can be asked of a pipeline. The pipeline comes parsed and checked
//! ([`Pipeline::new`]): `decide` checks rules of state only.

use chrono::{DateTime, Utc};

use super::event::PipelineSource;
use super::types::Pipeline;
use crate::kernel::Actor;

#[derive(Clone, Debug, PartialEq)]
pub enum PipelineCommand {
    /// Define a new pipeline (an admin, a first start, or a HubSpot sync).
    Define(DefinePipeline),
    /// Replace an existing pipeline's label and stages.
    Update(DefinePipeline),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DefinePipeline {
    pub pipeline: Pipeline,
    pub source: PipelineSource,
    pub by: Actor,
    pub at: DateTime<Utc>,
}
