//! `/api/dashboard`: every widget in one answer, and each on its own path — now (live
//! over the read models) or as of an instant (folded from the log up to it).

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{
    ActivityEntry, AgentPerformance, ConnectorState, DashboardResponse, DashboardStats,
    PipelineHealth,
};
use caseyos_domain::queue::QueueItemView;
use caseyos_projections::dashboard::{self as model, Settings, Widgets};
use caseyos_store::now;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::hygiene_reports::{hygiene_card, REPORT_VIEWS};
use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(dashboard_stats))
        .routes(routes!(dashboard_top_moves))
        .routes(routes!(dashboard_agents))
        .routes(routes!(dashboard_pipelines))
        .routes(routes!(dashboard_activity))
        .routes(routes!(dashboard_connectors))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DashboardParams {
    /// The dashboard as it stood at this instant (RFC 3339): folded from the log up to the
    /// position of the last event recorded at or before it.
    as_of: Option<DateTime<Utc>>,
}

/// The widgets at one position of the log, and that position and instant.
async fn widgets(
    state: &AppState,
    principal: &Principal,
    params: &DashboardParams,
    read: &ReadQuery,
) -> Result<(Widgets, DateTime<Utc>, i64), ApiError> {
    let settings = Settings {
        risk: state.config.deal_risk.clone(),
        currency: state.config.forecast().currency,
        owner: principal.read_scope().map(|a| a.id),
        hubspot_connected: state.config.hubspot().is_some(),
        llm_connected: state.config.llm_base_url.is_some(),
    };
    // Also with `as_of`: its parameters are checked the same way (waiting costs little).
    read.settle(state, model::DASHBOARD_VIEWS).await?;
    let (at, (inputs, position)) = match params.as_of {
        Some(at) => (at, model::inputs_as_of(&state.pool, &settings, at).await?),
        None => {
            let at = now();
            (at, model::inputs_now(&state.pool, &settings, at).await?)
        }
    };
    Ok((model::widgets(inputs, &settings, at), at, position))
}

/// Every widget of the dashboard in one answer: quick stats, the top five moves, agent
/// performance over 24 hours, pipeline health, the activity feed, the hygiene card and
/// the connectors — now, or as of an instant (without the hygiene card, which is not
/// folded from the log).
#[utoipa::path(
    get,
    path = "/api/dashboard",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "The dashboard", body = DashboardResponse)),
    security(("bearer" = []))
)]
async fn dashboard(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DashboardResponse>, ApiError> {
    let (widgets, as_of, position) = widgets(&state, &principal, &params, &read).await?;
    let hygiene = match params.as_of {
        Some(_) => None,
        None => {
            read.settle(&state, REPORT_VIEWS).await?;
            Some(hygiene_card(&state).await?)
        }
    };
    Ok(Json(DashboardResponse {
        as_of,
        position,
        stats: widgets.stats,
        top_moves: widgets.top_moves,
        agents: widgets.agents,
        pipelines: widgets.pipelines,
        activity: widgets.activity,
        hygiene,
        connectors: widgets.connectors,
    }))
}

/// The quick-stats bar.
#[utoipa::path(
    get,
    path = "/api/dashboard/stats",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "The quick stats", body = DashboardStats)),
    security(("bearer" = []))
)]
async fn dashboard_stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DashboardStats>, ApiError> {
    Ok(Json(
        widgets(&state, &principal, &params, &read).await?.0.stats,
    ))
}

/// The five highest-priority moves of Today's Moves (the caller's).
#[utoipa::path(
    get,
    path = "/api/dashboard/top-moves",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "The top moves", body = Vec<QueueItemView>)),
    security(("bearer" = []))
)]
async fn dashboard_top_moves(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<Vec<QueueItemView>>, ApiError> {
    Ok(Json(
        widgets(&state, &principal, &params, &read)
            .await?
            .0
            .top_moves,
    ))
}

/// Agent performance over the last 24 hours.
#[utoipa::path(
    get,
    path = "/api/dashboard/agents",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "Agent performance", body = AgentPerformance)),
    security(("bearer" = []))
)]
async fn dashboard_agents(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<AgentPerformance>, ApiError> {
    Ok(Json(
        widgets(&state, &principal, &params, &read).await?.0.agents,
    ))
}

/// Pipeline health: each pipeline's open deals by stage and its at-risk deals.
#[utoipa::path(
    get,
    path = "/api/dashboard/pipeline",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "Pipeline health", body = Vec<PipelineHealth>)),
    security(("bearer" = []))
)]
async fn dashboard_pipelines(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<Vec<PipelineHealth>>, ApiError> {
    Ok(Json(
        widgets(&state, &principal, &params, &read)
            .await?
            .0
            .pipelines,
    ))
}

/// The last 20 events across every context, newest first.
#[utoipa::path(
    get,
    path = "/api/dashboard/activity",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "The activity feed", body = Vec<ActivityEntry>)),
    security(("bearer" = []))
)]
async fn dashboard_activity(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<Vec<ActivityEntry>>, ApiError> {
    Ok(Json(
        widgets(&state, &principal, &params, &read)
            .await?
            .0
            .activity,
    ))
}

/// The connectors: HubSpot and the LLM, connected or not, and their last good call.
#[utoipa::path(
    get,
    path = "/api/dashboard/connectors",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "The connectors", body = Vec<ConnectorState>)),
    security(("bearer" = []))
)]
async fn dashboard_connectors(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<Vec<ConnectorState>>, ApiError> {
    Ok(Json(
        widgets(&state, &principal, &params, &read)
            .await?
            .0
            .connectors,
    ))
}
