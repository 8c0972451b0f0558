//! `/api/pipelines`: the pipelines deals move through — listed from the `pipelines` read
//! model; defined and updated by admins (commands on the `pipeline` aggregate). HubSpot's
//! pipelines arrive through the sync as the same commands.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use caseyos_domain::api::{
    DefinePipelineRequest, ErrorEnvelope, PipelineListResponse, PipelineResponse,
    UpdatePipelineRequest,
};
use caseyos_domain::kernel::{CrmId, Text};
use caseyos_domain::pipelines::{
    DefinePipeline, Pipeline, PipelineCommand, PipelineDefinition, PipelineSource, Stage,
    MAX_LABEL_CHARS,
};
use caseyos_store::now;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::http::consistency::ReadQuery;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::response::command_response;
use crate::state::AppState;

const PIPELINE_VIEWS: &[&str] = &["pipelines"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pipelines, define_pipeline))
        .routes(routes!(update_pipeline))
}

/// Every pipeline with its stages in order (each with its probability and kind), in the
/// order they were defined.
#[utoipa::path(
    get,
    path = "/api/pipelines",
    tag = "deals",
    params(ReadQuery),
    responses((status = 200, description = "Every pipeline", body = PipelineListResponse)),
    security(("bearer" = []))
)]
async fn list_pipelines(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<PipelineListResponse>, ApiError> {
    read.settle(&state, PIPELINE_VIEWS).await?;
    let items = caseyos_projections::pipelines::all(&state.pool).await?;
    Ok(Json(PipelineListResponse {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// A pipeline from a request: 409 `pipeline.duplicate_stage_id` when two stages share an
/// id (a rule no schema can state), 422 for the rest of [`Pipeline::new`]'s rules.
fn pipeline(id: &str, label: &str, stages: Vec<Stage>) -> Result<Pipeline, ApiError> {
    let id = CrmId::parse(id).map_err(|m| ApiError::field("id", m))?;
    let label = Text::parse(label, MAX_LABEL_CHARS).map_err(|m| ApiError::field("label", m))?;
    if let Some((i, stage)) = stages
        .iter()
        .enumerate()
        .find(|(i, stage)| stages[..*i].iter().any(|s| s.id == stage.id))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "pipeline.duplicate_stage_id",
            format!(
                "stage {i} repeats the id {}: a pipeline's stage ids are distinct",
                stage.id.as_str()
            ),
        ));
    }
    Pipeline::new(id, label, stages).map_err(|e| ApiError::field("stages", e.to_string()))
}

async fn run(
    state: &AppState,
    ctx: CommandContext,
    request: &impl serde::Serialize,
    pipeline: Pipeline,
    update: bool,
) -> Result<Response, ApiError> {
    let id = PipelineDefinition::id_of(pipeline.id());
    let define = DefinePipeline {
        pipeline: pipeline.clone(),
        source: PipelineSource::Local,
        by: ctx.principal.actor(),
        at: now(),
    };
    let command = if update {
        PipelineCommand::Update(define)
    } else {
        PipelineCommand::Define(define)
    };
    let answer = ctx
        .execute_once::<PipelineDefinition>(&state.pool, request, async |meta| {
            Ok(state
                .bus
                .execute::<PipelineDefinition>(id, command, meta)
                .await?)
        })
        .await?;
    let (status, location) = if update {
        (StatusCode::OK, None)
    } else {
        (
            StatusCode::CREATED,
            Some(format!("/api/pipelines/{}", pipeline.id().as_str())),
        )
    };
    Ok(command_response(
        status,
        answer.replayed,
        location,
        PipelineResponse {
            pipeline: answer.view,
            consistency: answer.consistency,
        },
    ))
}

/// Define a pipeline (admins): ordered stages, each with an integer probability 0–100 and a
/// kind; at least one open, one won (at 100) and one lost (at 0) stage.
#[utoipa::path(
    post,
    path = "/api/pipelines",
    tag = "deals",
    request_body = DefinePipelineRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Defined (or already so)", body = PipelineResponse),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 409, description = "A different pipeline with this id exists (`pipeline.already_exists`): update it; or two stages share an id (`pipeline.duplicate_stage_id`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid pipeline (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn define_pipeline(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DefinePipelineRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let defined = pipeline(&request.id, &request.label, request.stages.clone())?;
    run(&state, ctx, &request, defined, false).await
}

/// Replace a pipeline's label and stages (admins). Deals keep the stage they are in as it
/// was defined when they entered it; their next move checks the new definition.
#[utoipa::path(
    put,
    path = "/api/pipelines/{id}",
    tag = "deals",
    request_body = UpdatePipelineRequest,
    params(("id" = String, Path, description = "The pipeline's id", pattern = "^[A-Za-z0-9_-]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Updated (or already so)", body = PipelineResponse),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 404, description = "No such pipeline (`pipeline.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "Two stages share an id (`pipeline.duplicate_stage_id`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid pipeline (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn update_pipeline(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<UpdatePipelineRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let updated = pipeline(&id, &request.label, request.stages.clone())?;
    run(&state, ctx, &request, updated, true).await
}
