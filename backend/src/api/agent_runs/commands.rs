//! Commands on agent runs: request a run, retry, cancel, dismiss.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::agent_run::{
    AgentRun, AgentRunCommand, AgentRunView, RunTrigger, MAX_REASON_CHARS,
};
use caseyos_domain::api::{
    AgentRunResponse, CancelAgentRunRequest, ErrorEnvelope, RunAgentRequest,
};
use caseyos_domain::kernel::Text;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandError, CommandMeta, Committed, Refusal};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::queries::{agent_named, run_not_found};
use crate::auth::{Principal, Role};
use crate::commands::agent_runs::request_run;
use crate::http::context::{Answer, CommandContext};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_agent))
        .routes(routes!(retry_agent_run))
        .routes(routes!(cancel_agent_run))
        .routes(routes!(dismiss_agent_run))
}

fn run_response(answer: Answer<AgentRunView>) -> AgentRunResponse {
    AgentRunResponse {
        run: answer.view,
        consistency: answer.consistency,
    }
}

/// Requests a run at most once per `Idempotency-Key` and answers 202 with its address.
async fn request_once(
    state: &AppState,
    ctx: &CommandContext,
    request: &Value,
    execute: impl AsyncFnOnce(&CommandMeta) -> Result<Committed<AgentRun>, ApiError>,
) -> Result<Response, ApiError> {
    let answer = ctx.execute_once(&state.pool, request, execute).await?;
    let location = format!("/api/agent-runs/{}", answer.view.id);
    let replayed = answer.replayed;
    let body = run_response(answer);
    Ok(command_response(
        StatusCode::ACCEPTED,
        replayed,
        Some(location),
        body,
    ))
}

/// Runs one command on one run, honouring `Idempotency-Key`, and answers 200 with it.
async fn run_command(
    state: &AppState,
    ctx: &CommandContext,
    id: Uuid,
    request: &impl Serialize,
    command: AgentRunCommand,
) -> Result<Response, ApiError> {
    let answer = ctx
        .execute_once(&state.pool, request, async |meta| {
            let guard = requester_guard(&ctx.principal);
            match state.bus.execute_guarded(id, command, meta, guard).await {
                Ok(committed) => Ok(committed),
                // Only operators get here (viewers were refused, admins pass): the run is
                // someone else's, which for them is no run at all.
                Err(CommandError::Refused(_)) => Err(run_not_found()),
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    let replayed = answer.replayed;
    Ok(command_response(
        StatusCode::OK,
        replayed,
        None,
        run_response(answer),
    ))
}

/// Operators act on the runs they requested, admins on all ([`Principal::may_act`], the
/// rule the SPA's buttons follow through `RunActions`).
fn requester_guard(principal: &Principal) -> impl Fn(&AgentRun) -> Result<(), Refusal> + '_ {
    move |run| match &run.run {
        Some(view) if !principal.may_act(&view.requested_by) => Err(Refusal(
            "this run was requested by someone else; only they or an admin can act on it".into(),
        )),
        _ => Ok(()),
    }
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
    request_once(&state, &ctx, &body, async |meta| {
        let run = request_run(
            &state.bus,
            &state.config,
            spec,
            input,
            trigger,
            None,
            by,
            meta,
        );
        Ok(run.await?)
    })
    .await
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
        (status = 403, description = "Viewers cannot retry runs", body = ErrorEnvelope),
        (status = 404, description = "No such run, or another operator's (`agent_run.not_found`)", body = ErrorEnvelope),
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
    request_once(&state, &ctx, &body, async |meta| {
        // Another operator's run does not exist for an operator.
        let original = state_at::<AgentRun>(&state.pool, &id.to_string(), i64::MAX)
            .await?
            .run
            .filter(|run| ctx.principal.may_act(&run.requested_by))
            .ok_or_else(run_not_found)?;
        if !original.status.may_retry() {
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
        let by = ctx.principal.actor();
        let run = request_run(
            &state.bus,
            &state.config,
            spec,
            original.input,
            trigger,
            Some(id),
            by,
            meta,
        );
        Ok(run.await?)
    })
    .await
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
        (status = 403, description = "Viewers cannot cancel runs", body = ErrorEnvelope),
        (status = 404, description = "No such run, or another operator's (`agent_run.not_found`)", body = ErrorEnvelope),
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
    let command = AgentRunCommand::Cancel {
        reason: Text::parse_optional(request.reason.as_deref(), MAX_REASON_CHARS)
            .map_err(|m| ApiError::field("reason", m))?,
        by: ctx.principal.actor(),
        at: now(),
    };
    run_command(&state, &ctx, id, &request, command).await
}

/// Dismiss a finished run: it stays in the history but no longer asks for attention.
#[utoipa::path(
    post,
    path = "/api/agent-runs/{id}/dismiss",
    tag = "agents",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Dismissed", body = AgentRunResponse),
        (status = 403, description = "Viewers cannot dismiss runs", body = ErrorEnvelope),
        (status = 404, description = "No such run, or another operator's (`agent_run.not_found`)", body = ErrorEnvelope),
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
    run_command(&state, &ctx, id, &json!({}), command).await
}
