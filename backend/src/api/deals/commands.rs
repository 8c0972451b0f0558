//! Commands on deals. Every one is safe to retry (`Idempotency-Key`; a repeated change
//! decides no events), checks the caller may act for the deal's owner, and answers with the
//! deal after it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::api::{
    CreateDealRequest, DealAmountRequest, DealCloseDateRequest, DealContactsRequest,
    DealForecastCategoryRequest, DealNextStepRequest, DealOwnerRequest, DealResponse,
    ErrorEnvelope, LogDealActivityRequest, LoseDealRequest, MoveDealRequest, ReopenDealRequest,
    WinDealRequest,
};
use caseyos_domain::deals::{
    CreateDeal, Deal, DealCommand, DealSource, LogActivity, LoseDeal, MoveDeal, ReopenDeal,
    WinDeal, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use caseyos_domain::kernel::{CrmId, Text, UserName};
use caseyos_domain::pipelines::{Pipeline, StageKind};
use caseyos_store::history::state_at;
use caseyos_store::{now, Refusal};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::commands::pipelines;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_deal))
        .routes(routes!(move_deal))
        .routes(routes!(change_amount))
        .routes(routes!(change_close_date))
        .routes(routes!(change_owner))
        .routes(routes!(associate_contacts))
        .routes(routes!(log_activity))
        .routes(routes!(set_next_step))
        .routes(routes!(set_forecast_category))
        .routes(routes!(win_deal))
        .routes(routes!(lose_deal))
        .routes(routes!(reopen_deal))
}

/// Refuses callers who may not act for the deal's owner.
fn owner_guard(principal: &Principal) -> impl Fn(&Deal) -> Result<(), Refusal> + '_ {
    move |deal| match &deal.deal {
        Some(view) if !principal.may_act_for(&view.owner) => Err(Refusal(
            "this deal belongs to someone else; only they or an admin can change it".into(),
        )),
        _ => Ok(()),
    }
}

/// Runs one command on one deal, honouring `Idempotency-Key`, and answers with the deal.
async fn run(
    state: &AppState,
    ctx: CommandContext,
    id: Uuid,
    request: &impl Serialize,
    command: DealCommand,
    created: bool,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let answer = ctx
        .execute_once::<Deal>(&state.pool, request, async |meta| {
            let guard = owner_guard(&ctx.principal);
            Ok(if created {
                state.bus.execute_new(id, command, meta, guard).await?
            } else {
                state.bus.execute_guarded(id, command, meta, guard).await?
            })
        })
        .await?;
    let (status, location) = if created {
        (StatusCode::CREATED, Some(format!("/api/deals/{id}")))
    } else {
        (StatusCode::OK, None)
    };
    Ok(command_response(
        status,
        answer.replayed,
        location,
        DealResponse {
            deal: answer.view,
            consistency: answer.consistency,
        },
    ))
}

/// Most contacts one association request names.
pub(crate) const MAX_CONTACTS_PER_REQUEST: usize = 100;

fn not_found() -> ApiError {
    ApiError::not_found("deal.not_found", "deal not found")
}

/// The pipeline `id` as the event store holds it; a 409 naming `field` when there is none.
async fn pipeline(state: &AppState, id: &CrmId, field: &str) -> Result<Pipeline, ApiError> {
    pipelines::load(&state.pool, id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "deal.unknown_pipeline",
            format!(
                "{field} names no pipeline ({}); see GET /api/pipelines",
                id.as_str()
            ),
        )
    })
}

/// The deal's pipeline as it stands now (what a command placing it in a stage checks
/// against); 404 when there is no such deal. Viewers are refused first.
async fn pipeline_of(
    state: &AppState,
    ctx: &CommandContext,
    id: Uuid,
) -> Result<Pipeline, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let deal: Deal = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
    let view = deal.deal.ok_or_else(not_found)?;
    pipelines::load(&state.pool, &view.pipeline)
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "the deal's pipeline {} is gone",
                view.pipeline.as_str()
            ))
        })
}

fn crm_id(field: &str, raw: &str) -> Result<CrmId, ApiError> {
    CrmId::parse(raw).map_err(|m| ApiError::field(field, m))
}

fn optional_text(field: &str, raw: Option<&str>) -> Result<Option<Text>, ApiError> {
    Text::parse_optional(raw, MAX_TEXT_CHARS).map_err(|m| ApiError::field(field, m))
}

/// Create a deal in an open stage of a pipeline.
#[utoipa::path(
    post,
    path = "/api/deals",
    tag = "deals",
    request_body = CreateDealRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created; `Location` is the deal", body = DealResponse),
        (status = 403, description = "Viewers cannot create deals; operators only their own", body = ErrorEnvelope),
        (status = 409, description = "A pipeline there is none of (`deal.unknown_pipeline`), a stage it does not have (`deal.unknown_stage`) or a closed one (`deal.stage_not_open`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid field (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn create_deal(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<CreateDealRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let name =
        Text::parse(&request.name, MAX_NAME_CHARS).map_err(|m| ApiError::field("name", m))?;
    let owner = match &request.owner {
        Some(owner) => UserName::parse(owner).map_err(|m| ApiError::field("owner", m))?,
        None => UserName::parse(&ctx.principal.user).map_err(|m| ApiError::field("owner", m))?,
    };
    if !ctx.principal.may_act_for(owner.as_str()) {
        return Err(ApiError::forbidden(
            "operators create deals for themselves only",
        ));
    }
    let pipeline_id = crm_id(
        "pipeline",
        request.pipeline.as_deref().unwrap_or(Pipeline::DEFAULT_ID),
    )?;
    let pipeline = pipeline(&state, &pipeline_id, "pipeline").await?;
    let stage = match &request.stage {
        Some(stage) => crm_id("stage", stage)?,
        None => pipeline
            .stages()
            .iter()
            .find(|s| s.kind == StageKind::Open)
            .map(|s| s.id.clone())
            .ok_or_else(|| ApiError::field("stage", "the pipeline has no open stage"))?,
    };
    let id = Uuid::now_v7();
    let command = DealCommand::Create(Box::new(CreateDeal {
        id,
        name,
        pipeline,
        stage,
        amount: request.amount,
        close_date: request.close_date,
        owner,
        source: DealSource::Manual,
        crm_id: None,
        demo: false,
        by: ctx.principal.actor(),
        at: now(),
    }));
    run(&state, ctx, id, &request, command, true).await
}

/// Move a deal to a stage of its pipeline (advanced or regressed by the stages' order). A
/// won stage wins it; a lost stage loses it and needs `lost_reason`.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/move",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = MoveDealRequest,
    responses(
        (status = 200, description = "Moved (or already there)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`): reopen it first; a stage its pipeline does not have (`deal.unknown_stage`); or a lost stage without `lost_reason` (`deal.lost_reason_required`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid field (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn move_deal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<MoveDealRequest>,
) -> Result<Response, ApiError> {
    let stage = crm_id("stage", &request.stage)?;
    let lost_reason = optional_text("lost_reason", request.lost_reason.as_deref())?;
    let pipeline = pipeline_of(&state, &ctx, id).await?;
    let command = DealCommand::Move(Box::new(MoveDeal {
        stage,
        lost_reason,
        pipeline,
        by: ctx.principal.actor(),
        at: now(),
    }));
    run(&state, ctx, id, &request, command, false).await
}

/// Change the amount (integer minor units with a currency); `null` clears it.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/amount",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DealAmountRequest,
    responses(
        (status = 200, description = "Changed (or already so)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
        (status = 422, description = "A negative amount", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn change_amount(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DealAmountRequest>,
) -> Result<Response, ApiError> {
    let command = DealCommand::ChangeAmount {
        amount: request.amount,
        by: ctx.principal.actor(),
        at: now(),
    };
    run(&state, ctx, id, &request, command, false).await
}

/// Change the close date; `null` clears it. A later date counts as a push.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/close-date",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DealCloseDateRequest,
    responses(
        (status = 200, description = "Changed (or already so)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn change_close_date(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DealCloseDateRequest>,
) -> Result<Response, ApiError> {
    let command = DealCommand::ChangeCloseDate {
        close_date: request.close_date,
        by: ctx.principal.actor(),
        at: now(),
    };
    run(&state, ctx, id, &request, command, false).await
}

/// Give the deal to another owner.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/owner",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DealOwnerRequest,
    responses(
        (status = 200, description = "Changed (or already so)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid owner name", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn change_owner(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DealOwnerRequest>,
) -> Result<Response, ApiError> {
    let owner = UserName::parse(&request.owner).map_err(|m| ApiError::field("owner", m))?;
    let command = DealCommand::ChangeOwner {
        owner,
        by: ctx.principal.actor(),
        at: now(),
    };
    run(&state, ctx, id, &request, command, false).await
}

/// Associate contacts (by contact id) with the deal; ones already associated are skipped.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/contacts",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DealContactsRequest,
    responses(
        (status = 200, description = "Associated (or already so)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
        (status = 422, description = "No contacts, or more than 100 (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn associate_contacts(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DealContactsRequest>,
) -> Result<Response, ApiError> {
    if request.contacts.len() > MAX_CONTACTS_PER_REQUEST {
        return Err(ApiError::field(
            "contacts",
            format!("at most {MAX_CONTACTS_PER_REQUEST} contacts at a time"),
        ));
    }
    let command = DealCommand::AssociateContacts {
        contacts: request.contacts.clone(),
        by: ctx.principal.actor(),
        at: now(),
    };
    run(&state, ctx, id, &request, command, false).await
}

/// Log an activity (email, call, meeting, note) with when it happened. Send your own `id`
/// to make a retry record nothing.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/activities",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = LogDealActivityRequest,
    responses(
        (status = 200, description = "Logged (or already logged under this `id`)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
        (status = 422, description = "`happened_at` in the future, or a summary too long", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn log_activity(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<LogDealActivityRequest>,
) -> Result<Response, ApiError> {
    let command = DealCommand::LogActivity(LogActivity {
        activity_id: request.id.unwrap_or_else(Uuid::now_v7),
        kind: request.kind,
        happened_at: request.happened_at,
        summary: optional_text("summary", request.summary.as_deref())?,
        by: ctx.principal.actor(),
        at: now(),
    });
    run(&state, ctx, id, &request, command, false).await
}

/// Set the next step; `null` or blank clears it.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/next-step",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DealNextStepRequest,
    responses(
        (status = 200, description = "Set (or already so)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
        (status = 422, description = "Too long", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_next_step(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DealNextStepRequest>,
) -> Result<Response, ApiError> {
    let command = DealCommand::SetNextStep {
        next_step: optional_text("next_step", request.next_step.as_deref())?,
        by: ctx.principal.actor(),
        at: now(),
    };
    run(&state, ctx, id, &request, command, false).await
}

/// Choose the forecast category (`pipeline`, `best_case`, `commit`, `omitted`; sticky when
/// the stage changes) or `auto` (derived from the stage).
#[utoipa::path(
    post,
    path = "/api/deals/{id}/forecast-category",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DealForecastCategoryRequest,
    responses(
        (status = 200, description = "Set (or already so)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is closed (`deal.closed`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_forecast_category(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<DealForecastCategoryRequest>,
) -> Result<Response, ApiError> {
    let command = DealCommand::SetForecastCategory {
        choice: request.category,
        by: ctx.principal.actor(),
        at: now(),
    };
    run(&state, ctx, id, &request, command, false).await
}

/// Win the deal: it moves to its pipeline's won stage.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/won",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<WinDealRequest>, description = "Empty, or `{}`"),
    responses(
        (status = 200, description = "Won (or already won)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is lost (`deal.closed`): reopen it first", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn win_deal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<WinDealRequest>,
) -> Result<Response, ApiError> {
    let pipeline = pipeline_of(&state, &ctx, id).await?;
    let command = DealCommand::Win(Box::new(WinDeal {
        pipeline,
        by: ctx.principal.actor(),
        at: now(),
    }));
    run(&state, ctx, id, &request, command, false).await
}

/// Lose the deal, with a reason: it moves to its pipeline's lost stage.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/lost",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = LoseDealRequest,
    responses(
        (status = 200, description = "Lost (or already lost)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The deal is won (`deal.closed`): reopen it first", body = ErrorEnvelope),
        (status = 422, description = "A blank or too long reason", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn lose_deal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<LoseDealRequest>,
) -> Result<Response, ApiError> {
    let reason =
        Text::parse(&request.reason, MAX_TEXT_CHARS).map_err(|m| ApiError::field("reason", m))?;
    let pipeline = pipeline_of(&state, &ctx, id).await?;
    let command = DealCommand::Lose(Box::new(LoseDeal {
        reason,
        pipeline,
        by: ctx.principal.actor(),
        at: now(),
    }));
    run(&state, ctx, id, &request, command, false).await
}

/// Reopen a won or lost deal into `stage`, or the open stage it closed from.
#[utoipa::path(
    post,
    path = "/api/deals/{id}/reopen",
    tag = "deals",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<ReopenDealRequest>, description = "Empty, `{}`, or the stage"),
    responses(
        (status = 200, description = "Reopened (or already open)", body = DealResponse),
        (status = 403, description = "Someone else's deal", body = ErrorEnvelope),
        (status = 404, description = "No such deal (`deal.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "A stage its pipeline does not have (`deal.unknown_stage`) or a closed one (`deal.stage_not_open`)", body = ErrorEnvelope),
        (status = 422, description = "An invalid field (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn reopen_deal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<ReopenDealRequest>,
) -> Result<Response, ApiError> {
    let stage = request
        .stage
        .as_deref()
        .map(|stage| crm_id("stage", stage))
        .transpose()?;
    let pipeline = pipeline_of(&state, &ctx, id).await?;
    let command = DealCommand::Reopen(Box::new(ReopenDeal {
        stage,
        pipeline,
        by: ctx.principal.actor(),
        at: now(),
    }));
    run(&state, ctx, id, &request, command, false).await
}
