//! Reading agents and runs: the registry with each agent's last runs, run history with
//! filters and cursors, one run, and the quick-stats numbers. Read models only.

use axum::extract::State;
use axum::Json;
use caseyos_agents::AgentSpec;
use caseyos_domain::agent_run::{RunStatus, RunTrigger};
use caseyos_domain::api::{
    AgentInfo, AgentRunListResponse, AgentRunResponse, AgentRunStatsResponse, AgentsResponse,
    ErrorEnvelope,
};
use caseyos_projections::agent_runs::{self as views, RunCursor, RunFilter};
use caseyos_store::now;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::{read_token, ReadQuery};
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit, parse_list, NOT_OUR_CURSOR};
use crate::state::AppState;

/// The read models these queries depend on.
const RUN_VIEWS: &[&str] = &["agent_runs"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;
/// Runs shown per agent on the Agents page.
const RECENT_RUNS: i64 = 10;

pub(super) fn agent_named(name: &str) -> Result<&'static AgentSpec, ApiError> {
    caseyos_agents::find(name).ok_or_else(|| {
        ApiError::not_found(
            "agent.not_found",
            format!("no agent named `{name}`; GET /api/agents lists them"),
        )
    })
}

/// What an unknown run, and another operator's, gets.
pub(super) fn run_not_found() -> ApiError {
    ApiError::not_found("agent_run.not_found", "agent run not found")
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents))
        .routes(routes!(list_runs_of_agent))
        .routes(routes!(list_agent_runs))
        .routes(routes!(agent_run_stats))
        .routes(routes!(get_agent_run))
}

/// The agents, each with its input schema and last runs (an operator's: their own).
#[utoipa::path(
    get,
    path = "/api/agents",
    tag = "agents",
    params(ReadQuery),
    responses((status = 200, description = "Every agent that can run", body = AgentsResponse)),
    security(("bearer" = []))
)]
async fn list_agents(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AgentsResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    let names: Vec<&str> = caseyos_agents::REGISTRY.iter().map(|s| s.name).collect();
    let scope = principal.read_scope();
    let mut recent =
        views::recent_by_agent(&state.pool, &names, RECENT_RUNS, scope.as_ref()).await?;
    let llm_configured = state.config.llm().is_some();
    let agents = caseyos_agents::REGISTRY
        .iter()
        .map(|spec| AgentInfo {
            name: spec.name.to_string(),
            domain: spec.domain,
            description: spec.description.to_string(),
            input_schema: spec.input_schema(),
            uses_llm: spec.uses_llm,
            llm_configured: spec.uses_llm && llm_configured,
            proposes_moves: spec.proposes_moves,
            timeout_secs: state.config.agent_timeout_ms(spec.name) / 1000,
            example_input: (spec.example)(),
            recent_runs: recent.remove(spec.name).unwrap_or_default(),
        })
        .collect();
    Ok(Json(AgentsResponse { agents }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RunsQuery {
    /// Agent name (on `/api/agent-runs`).
    agent: Option<String>,
    /// Comma-separated: queued, running, cancelling, succeeded, failed, timed_out, cancelled.
    status: Option<String>,
    /// Comma-separated: manual, api, schedule, agent.
    trigger: Option<String>,
    /// Requested at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Requested before (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// `true` for dismissed runs only, `false` to leave them out.
    dismissed: Option<bool>,
    /// Retries of this run.
    retry_of: Option<Uuid>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
}

/// A page of the runs `principal` may read (an operator's own; everyone's for viewers and
/// admins).
async fn runs_page(
    state: &AppState,
    principal: &Principal,
    agent: Option<String>,
    query: RunsQuery,
    read: ReadQuery,
) -> Result<AgentRunListResponse, ApiError> {
    let filter = RunFilter {
        agent,
        statuses: parse_list(query.status.as_deref(), "status", RunStatus::parse)?,
        triggers: parse_list(query.trigger.as_deref(), "trigger", RunTrigger::parse)?,
        from: query.from,
        to: query.to,
        dismissed: query.dismissed,
        retry_of: query.retry_of,
        requested_by: principal.read_scope(),
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| {
        RunCursor::decode(raw).ok_or(NOT_OUR_CURSOR)
    })?;
    read.settle(state, RUN_VIEWS).await?;
    let (runs, next) = views::list(&state.pool, &filter, limit, cursor.as_ref()).await?;
    Ok(AgentRunListResponse {
        runs,
        next_cursor: next.map(|c| c.encode()),
    })
}

/// Run history, newest first, with filters. Operators see the runs they requested;
/// viewers and admins everyone's.
#[utoipa::path(
    get,
    path = "/api/agent-runs",
    tag = "agents",
    params(RunsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of runs", body = AgentRunListResponse),
        (status = 400, description = "A bad filter or cursor", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_agent_runs(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(mut query): ApiQuery<RunsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<AgentRunListResponse>, ApiError> {
    let agent = match query.agent.take().filter(|a| !a.is_empty()) {
        // A filter naming no agent is a bad query, not a missing resource.
        Some(name) => Some(
            caseyos_agents::find(&name)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "request.invalid_query",
                        format!("agent: no agent is named `{name}`; GET /api/agents lists them"),
                    )
                })?
                .name
                .to_string(),
        ),
        None => None,
    };
    Ok(Json(
        runs_page(&state, &principal, agent, query, read).await?,
    ))
}

/// One agent's runs, newest first (an operator's: those they requested).
#[utoipa::path(
    get,
    path = "/api/agents/{name}/runs",
    tag = "agents",
    params(("name" = String, Path), RunsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of the agent's runs", body = AgentRunListResponse),
        (status = 404, description = "No such agent", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_runs_of_agent(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<RunsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<AgentRunListResponse>, ApiError> {
    let spec = agent_named(&name)?;
    Ok(Json(
        runs_page(&state, &principal, Some(spec.name.to_string()), query, read).await?,
    ))
}

/// One run: input, output, error, attempts, durations, usage and the moves it proposed.
/// Another operator's run does not exist for an operator (404, as for an unknown id).
#[utoipa::path(
    get,
    path = "/api/agent-runs/{id}",
    tag = "agents",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The run", body = AgentRunResponse),
        (status = 404, description = "No such run, or another operator's (`agent_run.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_agent_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AgentRunResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    let run = views::get(&state.pool, id)
        .await?
        .filter(|run| principal.may_read(&run.requested_by))
        .ok_or_else(run_not_found)?;
    Ok(Json(AgentRunResponse {
        run,
        consistency: read_token(&state, RUN_VIEWS).await?,
    }))
}

/// Failed runs awaiting attention, runs queued and running, and the last 24 hours'
/// outcomes — over the runs the caller may read (an operator's own).
#[utoipa::path(
    get,
    path = "/api/agent-runs/stats",
    tag = "agents",
    params(ReadQuery),
    responses((status = 200, description = "The numbers", body = AgentRunStatsResponse)),
    security(("bearer" = []))
)]
async fn agent_run_stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AgentRunStatsResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    let scope = principal.read_scope();
    Ok(Json(
        views::stats(&state.pool, now(), scope.as_ref()).await?,
    ))
}
