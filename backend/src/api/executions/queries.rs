//! Reading executions, the action types and the guardrails.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{
    ActionTypeInfo, ActionTypesResponse, ErrorEnvelope, ExecutionListResponse, GuardrailsResponse,
};
use caseyos_domain::executions::settings::{ExecutionSettings, SETTINGS_ID};
use caseyos_domain::executions::{ExecutionStatus, ExecutionView};
use caseyos_domain::queue::ActionType;
use caseyos_projections::executions::{self as views, ExecutionCursor, ExecutionFilter};
use caseyos_store::history::state_at;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit, parse_list, NOT_OUR_CURSOR};
use crate::state::AppState;

pub(super) const EXECUTION_VIEWS: &[&str] = &["executions"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_executions))
        .routes(routes!(get_execution))
        .routes(routes!(action_types))
        .routes(routes!(guardrails))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExecutionsQuery {
    /// Comma-separated: requested, executing, succeeded, failed, blocked, dry_run,
    /// rolled_back, manual (default: every status).
    status: Option<String>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
}

/// Executions, newest first: yours, or everyone's for admins and viewers who may read all.
#[utoipa::path(
    get,
    path = "/api/executions",
    tag = "executions",
    params(ExecutionsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of executions", body = ExecutionListResponse),
        (status = 400, description = "A bad filter or cursor", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_executions(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ExecutionsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ExecutionListResponse>, ApiError> {
    let filter = ExecutionFilter {
        statuses: parse_list(query.status.as_deref(), "status", ExecutionStatus::parse)?,
        owner: principal.read_scope().map(|a| a.id),
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| {
        ExecutionCursor::decode(raw).ok_or(NOT_OUR_CURSOR)
    })?;
    read.settle(&state, EXECUTION_VIEWS).await?;
    let (items, next_cursor) = views::list(&state.pool, &filter, cursor.as_ref(), limit).await?;
    Ok(Json(ExecutionListResponse { items, next_cursor }))
}

/// One execution: its plan, the guardrails' checks, the provider's ids, the dry-run request,
/// the failure, the rollback. Its history is at `/api/audit/action_execution/{id}`.
#[utoipa::path(
    get,
    path = "/api/executions/{id}",
    tag = "executions",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The execution", body = ExecutionView),
        (status = 403, description = "Someone else's move", body = ErrorEnvelope),
        (status = 404, description = "No such execution (`execution.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_execution(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ExecutionView>, ApiError> {
    read.settle(&state, EXECUTION_VIEWS).await?;
    let execution = views::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution.not_found", "execution not found"))?;
    if !principal.may_read_owner(&execution.owner) {
        return Err(ApiError::forbidden(
            "this execution belongs to someone else",
        ));
    }
    Ok(Json(execution))
}

/// Every action type and how it is executed: by a handler through a connector, or by hand
/// (it completes when the operator marks it done).
#[utoipa::path(
    get,
    path = "/api/actions/types",
    tag = "executions",
    responses((status = 200, description = "The action types", body = ActionTypesResponse)),
    security(("bearer" = []))
)]
async fn action_types(_principal: Principal) -> Json<ActionTypesResponse> {
    Json(ActionTypesResponse {
        items: ActionType::ALL
            .iter()
            .map(|t| {
                let handler = t.handler();
                ActionTypeInfo {
                    action_type: t.as_str().to_string(),
                    label: t.label().to_string(),
                    handler,
                    automated: handler != caseyos_domain::executions::plan::Handler::ByHand,
                    connector: handler.connector().map(str::to_string),
                    rollback: handler.rollback().map(str::to_string),
                }
            })
            .collect(),
    })
}

/// The guardrails: the kill switch and send mode (with who changed them last) and the
/// configured limits.
#[utoipa::path(
    get,
    path = "/api/admin/guardrails",
    tag = "executions",
    responses((status = 200, description = "The guardrails", body = GuardrailsResponse)),
    security(("bearer" = []))
)]
async fn guardrails(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<Json<GuardrailsResponse>, ApiError> {
    let settings: ExecutionSettings =
        state_at(&state.pool, &SETTINGS_ID.to_string(), i64::MAX).await?;
    Ok(Json(GuardrailsResponse {
        settings: settings.current(),
        limits: state.config.guardrails.clone(),
        time_zone: state.config.default_timezone.clone(),
    }))
}
