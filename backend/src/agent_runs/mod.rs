//! Agents and their runs over HTTP: the registry, requesting a run (validated against the
//! agent's input schema, idempotent), run history with filters and cursors, a run's
//! detail, retry / cancel / dismiss, and the numbers for the quick-stats bar. Runs are
//! executed by the [`worker`]s, never by the request that asked for them.

pub mod worker;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_agents::AgentSpec;
use caseyos_domain::agent_run::{
    AgentRun, AgentRunCommand, RequestAgentRun, RunStatus, RunTrigger,
};
use caseyos_domain::api::{
    AgentInfo, AgentRunListResponse, AgentRunResponse, AgentRunStatsResponse, AgentsResponse,
    CancelAgentRunRequest, ErrorEnvelope, RunAgentRequest,
};
use caseyos_domain::queue::Actor;
use caseyos_projections::agent_runs::{self as views, RunCursor, RunFilter};
use caseyos_projections::{Checkpoint, ConsistencyToken, StoredEvent};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::commands::{agent_run_state_at, idempotent, now, CommandBus, CommandMeta, Committed};
use crate::config::Config;
use crate::consistency::{read_token, settle, ReadQuery};
use crate::context::CommandContext;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::queue::{limit, parse_list};
use crate::state::AppState;

/// The read models these queries depend on.
pub const RUN_VIEWS: &[&str] = &["agent_runs"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;
/// Runs shown per agent on the Agents page.
const RECENT_RUNS: i64 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents))
        .routes(routes!(run_agent, list_runs_of_agent))
        .routes(routes!(list_agent_runs))
        .routes(routes!(agent_run_stats))
        .routes(routes!(get_agent_run))
        .routes(routes!(retry_agent_run))
        .routes(routes!(cancel_agent_run))
        .routes(routes!(dismiss_agent_run))
}

fn agent_named(name: &str) -> Result<&'static AgentSpec, ApiError> {
    caseyos_agents::find(name).ok_or_else(|| {
        ApiError::not_found(
            "agent.not_found",
            format!("no agent named `{name}`; GET /api/agents lists them"),
        )
    })
}

fn run_response(run: AgentRun, token: Option<Checkpoint>) -> Result<AgentRunResponse, ApiError> {
    let run = run
        .run
        .ok_or_else(|| ApiError::internal("a command succeeded on a run that does not exist"))?;
    Ok(AgentRunResponse {
        run,
        consistency: ConsistencyToken(token.unwrap_or(Checkpoint::ZERO)).to_string(),
    })
}

/// 202 with the run's address for a requested run; 200 otherwise. A replayed idempotent
/// request answers the same, marked `Idempotent-Replayed: true`.
fn command_response(status: StatusCode, replayed: bool, body: AgentRunResponse) -> Response {
    let location = format!("/api/agent-runs/{}", body.run.id);
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::ACCEPTED {
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Requests a run of `spec` (input already validated).
#[allow(clippy::too_many_arguments)]
pub async fn request_run(
    bus: &CommandBus,
    config: &Config,
    spec: &AgentSpec,
    input: Value,
    trigger: RunTrigger,
    retry_of: Option<Uuid>,
    by: Actor,
    meta: &CommandMeta,
) -> Result<Committed<AgentRun>, ApiError> {
    let command = AgentRunCommand::Request(Box::new(RequestAgentRun {
        id: Uuid::now_v7(),
        agent: spec.name.to_string(),
        domain: spec.domain,
        input,
        trigger,
        retry_of,
        timeout_ms: config.agent_timeout_ms(spec.name),
        max_attempts: config.agent_max_attempts,
        by,
        at: now(),
    }));
    let id = match &command {
        AgentRunCommand::Request(r) => r.id,
        _ => unreachable!("built above"),
    };
    Ok(bus.agent_run(id, command, meta, |_| Ok(())).await?)
}

/// The answer to a repeated keyed request: the run as the first request left it.
async fn replay(state: &AppState, last: &StoredEvent) -> Result<AgentRunResponse, ApiError> {
    let run = agent_run_state_at(&state.pool, &last.aggregate_id, last.sequence).await?;
    run_response(run, Some(last.checkpoint()))
}

/// Runs one command on one run, honouring `Idempotency-Key`.
async fn run_command(
    state: &AppState,
    ctx: &CommandContext,
    id: Uuid,
    body: Value,
    command: AgentRunCommand,
) -> Result<(bool, AgentRunResponse), ApiError> {
    let principal = ctx.principal.clone();
    idempotent(
        &state.pool,
        ctx,
        &body,
        async |meta| {
            let committed = state
                .bus
                .agent_run(id, command, meta, requester_guard(&principal))
                .await?;
            run_response(committed.state, committed.token)
        },
        async |last| replay(state, last).await,
    )
    .await
}

/// Operators act on the runs they requested; admins on all.
fn requester_guard(principal: &Principal) -> impl Fn(&AgentRun) -> Result<(), ApiError> + '_ {
    move |run| match &run.run {
        Some(view) if !may_act_on(principal, &view.requested_by) => Err(ApiError::forbidden(
            "this run was requested by someone else; only they or an admin can act on it",
        )),
        _ => Ok(()),
    }
}

fn may_act_on(principal: &Principal, requested_by: &Actor) -> bool {
    principal.role == Role::Admin
        || (principal.role == Role::Operator && requested_by == &principal.actor())
}

/// A session is a person at the SPA; a bearer token is an API client.
fn trigger_of(principal: &Principal) -> RunTrigger {
    if principal.credential == "session" {
        RunTrigger::Manual
    } else {
        RunTrigger::Api
    }
}

// ---------------------------------------------------------------------------------------
// Commands

/// Run an agent. The run is queued and picked up by a worker; poll the run (or follow
/// `/api/events`) to see it end.
#[utoipa::path(
    post,
    path = "/api/agents/{name}/runs",
    tag = "agents",
    params(("name" = String, Path, description = "Agent name, e.g. `DraftWriter`"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = RunAgentRequest,
    responses(
        (status = 202, description = "Requested; the run is queued", body = AgentRunResponse),
        (status = 404, description = "No such agent", body = ErrorEnvelope),
        (status = 422, description = "The input does not match the agent's schema", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot run agents", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn run_agent(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<RunAgentRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let spec = agent_named(&name)?;
    let input = match request.input {
        Value::Null => json!({}),
        input @ Value::Object(_) => input,
        _ => return Err(ApiError::field("input", "must be a JSON object")),
    };
    spec.validate(&input).map_err(ApiError::validation)?;
    let body = json!({ "input": input });
    let trigger = trigger_of(&ctx.principal);
    let by = ctx.principal.actor();
    let (replayed, response) = idempotent(
        &state.pool,
        &ctx,
        &body,
        async |meta| {
            let committed = request_run(
                &state.bus,
                &state.config,
                spec,
                input,
                trigger,
                None,
                by,
                meta,
            )
            .await?;
            run_response(committed.state, committed.token)
        },
        async |last| replay(&state, last).await,
    )
    .await?;
    Ok(command_response(StatusCode::ACCEPTED, replayed, response))
}

/// Run a finished run again: a new run with the same agent and input, linked by
/// `retry_of`.
#[utoipa::path(
    post,
    path = "/api/agent-runs/{id}/retry",
    tag = "agents",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 202, description = "The new run, queued", body = AgentRunResponse),
        (status = 404, description = "No such run", body = ErrorEnvelope),
        (status = 409, description = "The run has not finished, or it succeeded", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn retry_agent_run(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let body = json!({ "retry": id });
    let trigger = trigger_of(&ctx.principal);
    let (replayed, response) = idempotent(
        &state.pool,
        &ctx,
        &body,
        async |meta| {
            let original = agent_run_state_at(&state.pool, &id.to_string(), i64::MAX)
                .await?
                .run
                .ok_or_else(|| ApiError::not_found("agent_run.not_found", "agent run not found"))?;
            if !may_act_on(&ctx.principal, &original.requested_by) {
                return Err(ApiError::forbidden(
                    "this run was requested by someone else; only they or an admin can retry it",
                ));
            }
            if !matches!(
                original.status,
                RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled
            ) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "agent_run.not_retryable",
                    format!(
                        "only failed, timed-out or cancelled runs can be retried; this one is {}",
                        original.status.as_str()
                    ),
                ));
            }
            let spec = agent_named(&original.agent)?;
            spec.validate(&original.input).map_err(|fields| {
                ApiError::validation(fields).with_code("agent_run.input_no_longer_valid")
            })?;
            let committed = request_run(
                &state.bus,
                &state.config,
                spec,
                original.input,
                trigger,
                Some(id),
                ctx.principal.actor(),
                meta,
            )
            .await?;
            run_response(committed.state, committed.token)
        },
        async |last| replay(&state, last).await,
    )
    .await?;
    Ok(command_response(StatusCode::ACCEPTED, replayed, response))
}

/// Cancel a run: a queued run ends at once; a running one is asked to stop and ends as
/// `cancelled` when its worker stops it (`cancelling` until then).
#[utoipa::path(
    post,
    path = "/api/agent-runs/{id}/cancel",
    tag = "agents",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<CancelAgentRunRequest>, description = "Optional reason"),
    responses(
        (status = 200, description = "Cancelled, or cancelling", body = AgentRunResponse),
        (status = 404, description = "No such run", body = ErrorEnvelope),
        (status = 409, description = "The run has already finished", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn cancel_agent_run(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<CancelAgentRunRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let value = serde_json::to_value(&request).unwrap_or(Value::Null);
    let command = AgentRunCommand::Cancel {
        reason: request.reason,
        by: ctx.principal.actor(),
        at: now(),
    };
    let (replayed, response) = run_command(&state, &ctx, id, value, command).await?;
    Ok(command_response(StatusCode::OK, replayed, response))
}

/// Dismiss a finished run: it stays in the history but no longer asks for attention.
#[utoipa::path(
    post,
    path = "/api/agent-runs/{id}/dismiss",
    tag = "agents",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Dismissed", body = AgentRunResponse),
        (status = 404, description = "No such run", body = ErrorEnvelope),
        (status = 409, description = "Not finished, or already dismissed", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn dismiss_agent_run(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let command = AgentRunCommand::Dismiss {
        by: ctx.principal.actor(),
        at: now(),
    };
    let (replayed, response) = run_command(&state, &ctx, id, json!({}), command).await?;
    Ok(command_response(StatusCode::OK, replayed, response))
}

// ---------------------------------------------------------------------------------------
// Queries

/// The agents, each with its input schema and last runs.
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
    _principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AgentsResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    let mut recent = views::recent_by_agent(&state.pool, RECENT_RUNS).await?;
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
    /// 1–100, default 25.
    limit: Option<i64>,
    cursor: Option<String>,
    after: Option<String>,
    consistency: Option<String>,
}

async fn runs_page(
    state: &AppState,
    agent: Option<String>,
    query: RunsQuery,
) -> Result<AgentRunListResponse, ApiError> {
    let filter = RunFilter {
        agent,
        statuses: parse_list(query.status.as_deref(), "status", RunStatus::parse)?,
        triggers: parse_list(query.trigger.as_deref(), "trigger", RunTrigger::parse)?,
        from: query.from,
        to: query.to,
        dismissed: query.dismissed,
        retry_of: query.retry_of,
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => Some(RunCursor::decode(raw).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_cursor",
                "the cursor is not one this API issued",
            )
        })?),
        None => None,
    };
    settle(
        state,
        query.after.as_deref(),
        query.consistency.as_deref(),
        RUN_VIEWS,
    )
    .await?;
    let (runs, next) = views::list(&state.pool, &filter, limit, cursor.as_ref()).await?;
    Ok(AgentRunListResponse {
        runs,
        next_cursor: next.map(|c| c.encode()),
    })
}

/// Run history, newest first, with filters.
#[utoipa::path(
    get,
    path = "/api/agent-runs",
    tag = "agents",
    params(RunsQuery),
    responses(
        (status = 200, description = "A page of runs", body = AgentRunListResponse),
        (status = 400, description = "A bad filter or cursor", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_agent_runs(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(mut query): ApiQuery<RunsQuery>,
) -> Result<Json<AgentRunListResponse>, ApiError> {
    let agent = match query.agent.take().filter(|a| !a.trim().is_empty()) {
        Some(name) => Some(agent_named(&name)?.name.to_string()),
        None => None,
    };
    Ok(Json(runs_page(&state, agent, query).await?))
}

/// One agent's runs, newest first.
#[utoipa::path(
    get,
    path = "/api/agents/{name}/runs",
    tag = "agents",
    params(("name" = String, Path), RunsQuery),
    responses(
        (status = 200, description = "A page of the agent's runs", body = AgentRunListResponse),
        (status = 404, description = "No such agent", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_runs_of_agent(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<RunsQuery>,
) -> Result<Json<AgentRunListResponse>, ApiError> {
    let spec = agent_named(&name)?;
    Ok(Json(
        runs_page(&state, Some(spec.name.to_string()), query).await?,
    ))
}

/// One run: input, output, error, attempts, durations, usage and the moves it proposed.
#[utoipa::path(
    get,
    path = "/api/agent-runs/{id}",
    tag = "agents",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The run", body = AgentRunResponse),
        (status = 404, description = "No such run", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_agent_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AgentRunResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    let run = views::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent_run.not_found", "agent run not found"))?;
    Ok(Json(AgentRunResponse {
        run,
        consistency: read_token(&state, RUN_VIEWS).await?,
    }))
}

/// Failed runs awaiting attention and runs in flight.
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
    _principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AgentRunStatsResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    Ok(Json(views::stats(&state.pool, now()).await?))
}
