//! Changing auto-approval rules (admins): create, replace, turn on or off, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::api::{ErrorEnvelope, RuleRequest, RuleResponse};
use caseyos_domain::auto_approval::{
    default_action_types, AutoApprovalRule, RuleCommand, RuleDefinition, MAX_RULE_NAME_CHARS,
};
use caseyos_domain::kernel::Text;
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
        .routes(routes!(create_rule))
        .routes(routes!(replace_rule, delete_rule))
        .routes(routes!(enable_rule))
        .routes(routes!(disable_rule))
}

fn definition(request: &RuleRequest) -> Result<RuleDefinition, ApiError> {
    let name =
        Text::parse(&request.name, MAX_RULE_NAME_CHARS).map_err(|m| ApiError::field("name", m))?;
    Ok(RuleDefinition {
        name: name.into_string(),
        condition: request.condition.clone(),
        confidence: request.confidence,
        priority: request.priority,
        enabled: request.enabled,
        action_types: request
            .action_types
            .clone()
            .unwrap_or_else(default_action_types),
    })
}

/// Runs a rule command as an admin and answers with the rule.
async fn execute(
    state: &AppState,
    ctx: CommandContext,
    id: Uuid,
    request: &impl Serialize,
    command: RuleCommand,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let answer = ctx
        .execute_once::<AutoApprovalRule>(&state.pool, request, async |meta| {
            Ok(state
                .bus
                .execute::<AutoApprovalRule>(id, command, meta)
                .await?)
        })
        .await?;
    Ok(command_response(
        status,
        answer.replayed,
        None,
        RuleResponse {
            rule: answer.view,
            consistency: answer.consistency,
        },
    ))
}

/// Create a rule (admins). It is off unless `enabled` says otherwise; rules run in
/// priority order and the first that matches approves the move.
#[utoipa::path(
    post,
    path = "/api/auto-approval/rules",
    tag = "auto-approval",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = RuleRequest, example = json!({"name": "Replied within 30 days", "condition": {"kind": "replied_before", "days_lookback": 30}, "confidence": 95, "priority": 1, "enabled": true})),
    responses(
        (status = 201, description = "Created", body = RuleResponse),
        (status = 400, description = "A bad field (`request.validation`)", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn create_rule(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<RuleRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let id = Uuid::now_v7();
    let command = RuleCommand::Create {
        rule_id: id,
        definition: definition(&request)?,
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(&state, ctx, id, &request, command, StatusCode::CREATED).await
}

/// Replace a rule's definition (admins), `enabled` included; the same definition changes
/// nothing.
#[utoipa::path(
    put,
    path = "/api/auto-approval/rules/{id}",
    tag = "auto-approval",
    params(("id" = Uuid, Path, description = "The rule's id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = RuleRequest, example = json!({"name": "High ICP score", "condition": {"kind": "high_icp_score", "min_score": 80, "require_domain_match": true}, "confidence": 85, "priority": 3, "enabled": true, "action_types": ["send_email", "follow_up"]})),
    responses(
        (status = 200, description = "Replaced (or already so)", body = RuleResponse),
        (status = 400, description = "A bad field or a path that is not a UUID", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 404, description = "No such rule, or it was deleted (`auto_approval.rule_not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn replace_rule(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<RuleRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let command = RuleCommand::Update {
        definition: definition(&request)?,
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(&state, ctx, id, &request, command, StatusCode::OK).await
}

/// Delete a rule (admins): it is archived — it runs no more and leaves the list, and the
/// decisions that name it keep their reasons.
#[utoipa::path(
    delete,
    path = "/api/auto-approval/rules/{id}",
    tag = "auto-approval",
    params(("id" = Uuid, Path, description = "The rule's id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Deleted: the rule as archived", body = RuleResponse),
        (status = 400, description = "`request.invalid_path`: the id is not a UUID", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 404, description = "No such rule, or it was deleted already (`auto_approval.rule_not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn delete_rule(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let command = RuleCommand::Delete {
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(
        &state,
        ctx,
        id,
        &json!({"delete": id}),
        command,
        StatusCode::OK,
    )
    .await
}

/// Turn a rule on (admins).
#[utoipa::path(
    post,
    path = "/api/auto-approval/rules/{id}/enable",
    tag = "auto-approval",
    params(("id" = Uuid, Path, description = "The rule's id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "On (now or before)", body = RuleResponse),
        (status = 400, description = "`request.invalid_path`: the id is not a UUID", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 404, description = "No such rule, or it was deleted (`auto_approval.rule_not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn enable_rule(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let command = RuleCommand::Enable {
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(
        &state,
        ctx,
        id,
        &json!({"enable": id}),
        command,
        StatusCode::OK,
    )
    .await
}

/// Turn a rule off (admins).
#[utoipa::path(
    post,
    path = "/api/auto-approval/rules/{id}/disable",
    tag = "auto-approval",
    params(("id" = Uuid, Path, description = "The rule's id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Off (now or before)", body = RuleResponse),
        (status = 400, description = "`request.invalid_path`: the id is not a UUID", body = ErrorEnvelope),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 404, description = "No such rule, or it was deleted (`auto_approval.rule_not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn disable_rule(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let command = RuleCommand::Disable {
        by: ctx.principal.actor(),
        at: now(),
    };
    execute(
        &state,
        ctx,
        id,
        &json!({"disable": id}),
        command,
        StatusCode::OK,
    )
    .await
}
