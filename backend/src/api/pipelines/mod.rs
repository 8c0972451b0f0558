//! `/api/pipelines`: the pipelines deals move through — listed from the `pipelines` read
//! model; defined and updated by admins (commands on the `pipeline` aggregate). HubSpot's
//! pipelines arrive through the sync as the same commands.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, PipelineListResponse, PipelineResponse};
use caseyos_domain::pipelines::{
    DefinePipeline, Pipeline, PipelineCommand, PipelineDefinition, PipelineSource,
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

async fn run(
    state: &AppState,
    ctx: CommandContext,
    pipeline: Pipeline,
    update: bool,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
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
        .execute_once::<PipelineDefinition>(&state.pool, &pipeline, async |meta| {
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
    request_body = Pipeline,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Defined (or already so)", body = PipelineResponse),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 409, description = "A different pipeline with this id exists (`pipeline.already_exists`): update it", body = ErrorEnvelope),
        (status = 422, description = "An invalid pipeline (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn define_pipeline(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(pipeline): ApiJson<Pipeline>,
) -> Result<Response, ApiError> {
    run(&state, ctx, pipeline, false).await
}

/// Replace a pipeline's label and stages (admins). Deals keep the stage they are in as it
/// was defined when they entered it; their next move checks the new definition.
#[utoipa::path(
    put,
    path = "/api/pipelines/{id}",
    tag = "deals",
    request_body = Pipeline,
    params(("id" = String, Path, description = "The pipeline's id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Updated (or already so)", body = PipelineResponse),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 404, description = "No such pipeline (`pipeline.not_found`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid pipeline, or a body whose `id` is not the path's (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn update_pipeline(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ctx: CommandContext,
    ApiJson(pipeline): ApiJson<Pipeline>,
) -> Result<Response, ApiError> {
    if pipeline.id().as_str() != id {
        return Err(ApiError::field(
            "id",
            "must be the pipeline's id in the path",
        ));
    }
    run(&state, ctx, pipeline, true).await
}
