//! Reading auto-approval rules and decisions.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{DecisionListResponse, ErrorEnvelope, RuleListResponse};
use caseyos_domain::auto_approval::RuleView;
use caseyos_projections::auto_approval as views;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::limit;
use crate::state::AppState;

const RULE_VIEWS: &[&str] = &["auto_approval_rules"];
const DECISION_VIEWS: &[&str] = &["auto_approval_decisions"];

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules))
        .routes(routes!(get_rule))
        .routes(routes!(list_decisions))
}

pub(super) fn rule_not_found() -> ApiError {
    ApiError::not_found(
        "auto_approval.rule_not_found",
        "auto-approval rule not found",
    )
}

/// The rules (not deleted) in the order they run: priority, then id. The seed's three
/// ship disabled.
#[utoipa::path(
    get,
    path = "/api/auto-approval/rules",
    tag = "auto-approval",
    params(ReadQuery),
    responses(
        (status = 200, description = "The rules", body = RuleListResponse),
        (status = 400, description = "A bad consistency token (`after`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_rules(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<RuleListResponse>, ApiError> {
    read.settle(&state, RULE_VIEWS).await?;
    Ok(Json(RuleListResponse {
        items: views::rules_in_order(&state.pool, false).await?,
    }))
}

/// One rule.
#[utoipa::path(
    get,
    path = "/api/auto-approval/rules/{id}",
    tag = "auto-approval",
    params(("id" = Uuid, Path, description = "The rule's id"), ReadQuery),
    responses(
        (status = 200, description = "The rule", body = RuleView),
        (status = 400, description = "`request.invalid_path`: the id is not a UUID", body = ErrorEnvelope),
        (status = 404, description = "No such rule, or it was deleted (`auto_approval.rule_not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_rule(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<RuleView>, ApiError> {
    read.settle(&state, RULE_VIEWS).await?;
    views::rule(&state.pool, id)
        .await?
        .filter(|r| !r.archived)
        .map(Json)
        .ok_or_else(rule_not_found)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DecisionsQuery {
    /// The decision on this move (at most one).
    item: Option<Uuid>,
    /// At most this many, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Auto-approval decisions, newest first: the move's (`?item=`) or all. Each says
/// approved by which rule or why it needs review, with every enabled rule's check.
#[utoipa::path(
    get,
    path = "/api/auto-approval/decisions",
    tag = "auto-approval",
    params(DecisionsQuery, ReadQuery),
    responses(
        (status = 200, description = "Decisions", body = DecisionListResponse),
        (status = 400, description = "A bad filter", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_decisions(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<DecisionsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DecisionListResponse>, ApiError> {
    let limit = limit(query.limit, 50, 200)?;
    read.settle(&state, DECISION_VIEWS).await?;
    Ok(Json(DecisionListResponse {
        items: views::decisions(&state.pool, query.item, limit).await?,
    }))
}
