//! Pipelines as the write side needs them: the first start's `default` pipeline, and a
//! pipeline loaded from the event store (so a command placing a deal in a stage checks it
//! against the definition as it stands, never a lagging read model).

use caseyos_domain::kernel::{Actor, CrmId};
use caseyos_domain::pipelines::{
    DefinePipeline, Pipeline, PipelineCommand, PipelineDefinition, PipelineError, PipelineSource,
};
use caseyos_store::bus::{CommandBus, CommandError, CommandMeta};
use caseyos_store::history::state_at;
use caseyos_store::{now, StoreError};
use sqlx::PgPool;

/// Who defines the default pipeline.
const FIRST_START: &str = "first-start";

/// Defines `default` with HubSpot's default stages unless a pipeline `default` exists
/// (whatever its stages: HubSpot or an admin may have changed it). Safe on every start and
/// on several instances at once.
pub async fn ensure_default(bus: &CommandBus) -> Result<(), CommandError<PipelineError>> {
    let pipeline = Pipeline::default_hubspot();
    let command = PipelineCommand::Define(DefinePipeline {
        pipeline: pipeline.clone(),
        source: PipelineSource::Local,
        by: Actor::system(FIRST_START),
        at: now(),
    });
    let id = PipelineDefinition::id_of(pipeline.id());
    match bus
        .execute::<PipelineDefinition>(id, command, &CommandMeta::system(FIRST_START))
        .await
    {
        Ok(_) | Err(CommandError::Rejected(PipelineError::AlreadyExists)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// The pipeline `id` as the event store holds it now; `None` when it was never defined.
pub async fn load(pool: &PgPool, id: &CrmId) -> Result<Option<Pipeline>, StoreError> {
    let state: PipelineDefinition =
        state_at(pool, &PipelineDefinition::id_of(id).to_string(), i64::MAX).await?;
    Ok(state.pipeline.map(|view| view.pipeline))
}
