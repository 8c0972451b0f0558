//! Commands on executions (retry, rollback, marking a by-hand move done) and on the
//! guardrails' switches (kill switch, send mode: admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    AutoApprovalSwitchRequest, CompleteExecutionRequest, ErrorEnvelope, ExecutionResponse,
    GuardrailsResponse, KillSwitchRequest, SendModeRequest,
};
use caseyos_domain::executions::settings::{ExecutionSettings, SettingsCommand, SETTINGS_ID};
use caseyos_domain::executions::{ActionExecution, ExecutionCommand};
use caseyos_domain::kernel::Text;
use caseyos_domain::queue::MAX_TEXT_CHARS;
use caseyos_store::history::state_at;
use caseyos_store::now;
use serde::Serialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Role;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(retry_execution))
        .routes(routes!(roll_back_execution))
        .routes(routes!(complete_execution))
        .routes(routes!(set_kill_switch))
        .routes(routes!(set_send_mode))
        .routes(routes!(set_auto_approval))
}

/// Runs a command on an execution the caller may act for.
async fn execute(
    state: &AppState,
    ctx: CommandContext,
    id: Uuid,
    request: &impl Serialize,
    command: ExecutionCommand,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let current: ActionExecution = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
    let owner = current
        .view()
        .map(|e| e.owner.clone())
        .ok_or_else(|| ApiError::not_found("execution.not_found", "execution not found"))?;
    if !ctx.principal.may_act_for(&owner) {
        return Err(ApiError::forbidden(
            "this execution belongs to someone else",
        ));
    }
    let answer = ctx
        .execute_once::<ActionExecution>(&state.pool, request, async |meta| {
            Ok(state
                .bus
                .execute::<ActionExecution>(id, command, meta)
                .await?)
        })
        .await?;
    Ok(command_response(
        StatusCode::OK,
        answer.replayed,
        None,
        ExecutionResponse {
            execution: answer.view,
            consistency: answer.consistency,
        },
    ))
}

/// Try a failed, blocked or dry-run execution again: the guardrails decide afresh, and a
/// provider that may have acted on an earlier attempt is asked before anything is resent.
#[utoipa::path(
    post,
    path = "/api/executions/{id}/retry",
    tag = "executions",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Requested again (or already waiting)", body = ExecutionResponse),
        (status = 403, description = "Viewers, or someone else's move", body = ErrorEnvelope),
        (status = 404, description = "No such execution (`execution.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "It succeeded, is running, or has no plan (`execution.not_retryable`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn retry_execution(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let command = ExecutionCommand::Retry {
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(&state, ctx, id, &json!({"retry": id}), command).await
}

/// Undo a succeeded execution where the provider allows it: a draft is deleted, a task
/// deleted, a calendar event cancelled. A sent email cannot be unsent: that is a 409
/// `execution.cannot_roll_back`, and nothing is reported as undone that was not.
#[utoipa::path(
    post,
    path = "/api/executions/{id}/rollback",
    tag = "executions",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "The rollback is requested; the executor does it and records the result", body = ExecutionResponse),
        (status = 403, description = "Viewers, or someone else's move", body = ErrorEnvelope),
        (status = 404, description = "No such execution (`execution.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "Not succeeded (`execution.not_succeeded`), or not undoable (`execution.cannot_roll_back`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn roll_back_execution(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let command = ExecutionCommand::RequestRollback {
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(&state, ctx, id, &json!({"rollback": id}), command).await
}

/// Mark a by-hand move done.
#[utoipa::path(
    post,
    path = "/api/executions/{id}/complete",
    tag = "executions",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = CompleteExecutionRequest, example = json!({"note": "posted the case study on LinkedIn"})),
    responses(
        (status = 200, description = "Done (or already done)", body = ExecutionResponse),
        (status = 400, description = "A note too long", body = ErrorEnvelope),
        (status = 403, description = "Viewers, or someone else's move", body = ErrorEnvelope),
        (status = 404, description = "No such execution (`execution.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "Not a by-hand move waiting for you (`execution.not_manual`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn complete_execution(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<CompleteExecutionRequest>,
) -> Result<Response, ApiError> {
    let note = Text::parse_optional(request.note.as_deref(), MAX_TEXT_CHARS)
        .map_err(|m| ApiError::field("note", m))?;
    let command = ExecutionCommand::CompleteByHand {
        note: note.map(Text::into_string),
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(&state, ctx, id, &request, command).await
}

async fn settings_command(
    state: &AppState,
    ctx: CommandContext,
    request: &impl Serialize,
    command: SettingsCommand,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let answer = ctx
        .execute_once::<ExecutionSettings>(&state.pool, request, async |meta| {
            Ok(state
                .bus
                .execute::<ExecutionSettings>(SETTINGS_ID, command, meta)
                .await?)
        })
        .await?;
    Ok(command_response(
        StatusCode::OK,
        answer.replayed,
        None,
        GuardrailsResponse {
            settings: answer.view,
            limits: state.config.guardrails.clone(),
            time_zone: state.config.default_timezone.clone(),
        },
    ))
}

/// Engage or release the global kill switch: while engaged nothing executes — executions
/// not yet started are blocked with the reason, and stay blocked until retried.
#[utoipa::path(
    post,
    path = "/api/admin/kill-switch",
    tag = "executions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = KillSwitchRequest, example = json!({"engaged": true, "reason": "a bad template went out"})),
    responses(
        (status = 200, description = "The guardrails after the change", body = GuardrailsResponse),
        (status = 400, description = "A reason too long", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_kill_switch(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<KillSwitchRequest>,
) -> Result<Response, ApiError> {
    let reason = Text::parse_optional(request.reason.as_deref(), MAX_TEXT_CHARS)
        .map_err(|m| ApiError::field("reason", m))?;
    let command = SettingsCommand::SetKillSwitch {
        engaged: request.engaged,
        reason: reason.map(Text::into_string),
        by: ctx.principal.actor(),
        at: now(),
    };
    settings_command(&state, ctx, &request, command).await
}

/// Change the send mode: `draft_only` (the start: emails become Gmail drafts), `send`, or
/// `dry_run` (nothing leaves; each execution records the exact request).
#[utoipa::path(
    put,
    path = "/api/admin/send-mode",
    tag = "executions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = SendModeRequest, example = json!({"mode": "send"})),
    responses(
        (status = 200, description = "The guardrails after the change", body = GuardrailsResponse),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_send_mode(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<SendModeRequest>,
) -> Result<Response, ApiError> {
    let command = SettingsCommand::SetSendMode {
        mode: request.mode,
        by: ctx.principal.actor(),
        at: now(),
    };
    settings_command(&state, ctx, &request, command).await
}

/// The emergency stop of auto-approval (`{"enabled": false}`) and its release: while it is
/// stopped, every proposed move is decided `needs_review` with the reason "auto-approval is
/// stopped", whatever the rules say. It starts on, with the seed's rules disabled.
#[utoipa::path(
    post,
    path = "/api/admin/auto-approval",
    tag = "auto-approval",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = AutoApprovalSwitchRequest, example = json!({"enabled": false, "reason": "a rule approved moves it should not have"})),
    responses(
        (status = 200, description = "The switches after the change (`settings.auto_approval`)", body = GuardrailsResponse),
        (status = 400, description = "A reason too long", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_auto_approval(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<AutoApprovalSwitchRequest>,
) -> Result<Response, ApiError> {
    let reason = Text::parse_optional(request.reason.as_deref(), MAX_TEXT_CHARS)
        .map_err(|m| ApiError::field("reason", m))?;
    let command = SettingsCommand::SetAutoApproval {
        enabled: request.enabled,
        reason: reason.map(Text::into_string),
        by: ctx.principal.actor(),
        at: now(),
    };
    settings_command(&state, ctx, &request, command).await
}
