//! Deep research over HTTP: ask (a run of `StandardResearch` or `DeepResearch`, tracked
//! as every run, whose `research_session` shares its id), read the history, one research
//! with its progress and report, delete, export as Markdown.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use caseyos_domain::agent_run::RunTrigger;
use caseyos_domain::api::{
    ErrorEnvelope, ResearchListResponse, ResearchReadResponse, ResearchSessionResponse,
    ResearchSummary, StartResearchRequest,
};
use caseyos_domain::kernel::Text;
use caseyos_domain::research::{
    report_markdown, to_markdown, ResearchCommand, ResearchSession, ResearchSessionView,
    MAX_QUESTION_CHARS, MIN_QUESTION_CHARS,
};
use caseyos_projections::projector::RowProjector;
use caseyos_projections::research::{self as views, ResearchSessionsProjector};
use caseyos_store::{now, CommandError, Refusal};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::commands::agent_runs::request_run_with_id;
use crate::http::consistency::ReadQuery;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::limit;
use crate::http::response::{command_response, markdown_attachment, ExportQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_research, start_research))
        .routes(routes!(get_research, delete_research))
        .routes(routes!(export_research))
}

fn not_found() -> ApiError {
    ApiError::not_found("research.not_found", "research not found")
}

/// The research, if the caller may read it: its requester, or an admin.
async fn readable(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<ResearchSessionView, ApiError> {
    match views::get(&state.pool, id).await? {
        Some(s)
            if !s.deleted
                && (s.requested_by == principal.user || principal.role == Role::Admin) =>
        {
            Ok(s)
        }
        _ => Err(not_found()),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ResearchListQuery {
    /// At most this many, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Your researches, newest first (an admin's: everyone's).
#[utoipa::path(
    get,
    path = "/api/research",
    tag = "research",
    params(ResearchListQuery, ReadQuery),
    responses(
        (status = 200, description = "The history", body = ResearchListResponse, example = json!({
            "items": [{"id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21",
                "question": "What do we know about Northwind Logistics?", "depth": "standard",
                "status": "completed", "requested_by": "casey",
                "started_at": "2026-12-01T09:00:00Z", "finished_at": "2026-12-01T09:00:04Z",
                "source_count": 6}]
        })),
        (status = 400, description = "A bad limit (`request.invalid_query`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_research(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ResearchListQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ResearchListResponse>, ApiError> {
    let limit = limit(query.limit, 50, 200)?;
    read.settle(&state, &[ResearchSessionsProjector::NAME])
        .await?;
    let owner = (principal.role != Role::Admin).then_some(principal.user.as_str());
    let items = views::list(&state.pool, owner, limit).await?;
    Ok(Json(ResearchListResponse {
        items: items.iter().map(ResearchSummary::from).collect(),
    }))
}

/// Research a question: CaseyOS's own data (full-text search over contacts, deals, your
/// moves and runs, signals) and the web when a search provider is configured. The work is a
/// run of `StandardResearch` (or `DeepResearch` for `depth: deep`) with the research's id;
/// follow the research (or `/api/events`) to see its progress and report.
#[utoipa::path(
    post,
    path = "/api/research",
    tag = "research",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = StartResearchRequest, example = json!({
        "question": "What do we know about Northwind Logistics and its renewal?", "depth": "standard"})),
    responses(
        (status = 202, description = "Begun; its run is queued", body = ResearchSessionResponse, example = json!({
            "id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21", "run_id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21",
            "question": "What do we know about Northwind Logistics and its renewal?", "depth": "standard",
            "status": "running", "requested_by": "casey", "started_at": "2026-12-01T09:00:00Z",
            "finished_at": null, "progress": [], "report": null, "error": null, "deleted": false,
            "version": 1, "consistency": "1042.0"})),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot run research", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: a question shorter than 3 or longer than 500 characters, blank, or with control characters", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn start_research(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<StartResearchRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let question = Text::parse(&request.question, MAX_QUESTION_CHARS)
        .map_err(|m| ApiError::field("question", m))?;
    if request.question.chars().count() < MIN_QUESTION_CHARS {
        return Err(ApiError::field(
            "question",
            format!("must be at least {MIN_QUESTION_CHARS} characters"),
        ));
    }
    let depth = request.depth.unwrap_or_default();
    let spec = caseyos_agents::find(depth.agent())
        .ok_or_else(|| ApiError::internal(format!("{} is not registered", depth.agent())))?;
    let trigger = if ctx.principal.credential == "session" {
        RunTrigger::Manual
    } else {
        RunTrigger::Api
    };
    let id = Uuid::now_v7();
    let answer = ctx
        .execute_once(&state.pool, &request, async |meta| {
            request_run_with_id(
                &state.bus,
                &state.config,
                id,
                spec,
                json!({"question": question.as_str()}),
                trigger,
                None,
                ctx.principal.actor(),
                meta,
            )
            .await?;
            let begin = ResearchCommand::Begin {
                id,
                question: question.as_str().to_string(),
                depth,
                requested_by: ctx.principal.user.clone(),
                at: now(),
            };
            Ok(state
                .bus
                .execute::<ResearchSession>(id, begin, meta)
                .await?)
        })
        .await?;
    let location = format!("/api/research/{}", answer.view.id);
    let replayed = answer.replayed;
    Ok(command_response(
        StatusCode::ACCEPTED,
        replayed,
        Some(location),
        ResearchSessionResponse {
            session: answer.view,
            consistency: answer.consistency,
        },
    ))
}

/// One research: its question, its progress step by step, and its report — sections whose
/// sentences cite `[n]`, and the sources they resolve to — or why it failed.
#[utoipa::path(
    get,
    path = "/api/research/{id}",
    tag = "research",
    params(("id" = Uuid, Path, description = "The research's id (its run's)"), ReadQuery),
    responses(
        (status = 200, description = "The research, and its report as Markdown once written", body = ResearchReadResponse, example = json!({
            "id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21", "run_id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21",
            "question": "What do we know about Northwind Logistics?", "depth": "standard",
            "status": "completed", "requested_by": "casey", "started_at": "2026-12-01T09:00:00Z",
            "finished_at": "2026-12-01T09:00:04Z",
            "progress": [
                {"stage": "internal_search", "detail": "searching internal data: contacts, deals, moves, runs and signals", "at": "2026-12-01T09:00:01Z"},
                {"stage": "web_search", "detail": "no web search provider configured: internal sources only", "at": "2026-12-01T09:00:02Z"},
                {"stage": "synthesis", "detail": "synthesising 2 sources", "at": "2026-12-01T09:00:02Z"}],
            "report": {"title": "Research: What do we know about Northwind Logistics?",
                "sections": [{"heading": "Contacts", "body": "Dana Whitfield: VP of Sales at Northwind Logistics [1]."},
                             {"heading": "Deals", "body": "Northwind renewal: qualified to buy, closing 2027-03-31 [2]."}],
                "sources": [
                    {"n": 1, "kind": "internal", "title": "Dana Whitfield", "link": "/contacts/0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b0c", "snippet": "VP of Sales at Northwind Logistics", "record_type": "contact"},
                    {"n": 2, "kind": "internal", "title": "Northwind renewal", "link": "/deals/0193a0c4-2e3f-7a4b-9c5d-6e7f8a9b0c1d", "snippet": "qualified to buy, closing 2027-03-31", "record_type": "deal"}],
                "web": "not_configured", "writer": "offline", "model": null,
                "queries": ["What do we know about Northwind Logistics?"]},
            "error": null, "deleted": false, "version": 5,
            "report_markdown": "- Written by: offline: no language model configured\n- Web: not searched: no search provider configured (internal sources only)\n\n## Contacts\n\nDana Whitfield: VP of Sales at Northwind Logistics [1].\n\n## Deals\n\nNorthwind renewal: qualified to buy, closing 2027-03-31 [2].\n\n## Sources\n\n1. [Dana Whitfield](/contacts/0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b0c): VP of Sales at Northwind Logistics\n2. [Northwind renewal](/deals/0193a0c4-2e3f-7a4b-9c5d-6e7f8a9b0c1d): qualified to buy, closing 2027-03-31\n"})),
        (status = 400, description = "Not a research id", body = ErrorEnvelope),
        (status = 404, description = "No such research of yours (`research.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_research(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ResearchReadResponse>, ApiError> {
    read.settle(&state, &[ResearchSessionsProjector::NAME])
        .await?;
    let session = readable(&state, &principal, id).await?;
    Ok(Json(ResearchReadResponse {
        report_markdown: session.report.as_ref().map(report_markdown),
        session,
    }))
}

/// Delete a research (its events stay in the audit history; it is no longer listed or
/// read). Its run, if still going, goes on and is recorded nowhere.
#[utoipa::path(
    delete,
    path = "/api/research/{id}",
    tag = "research",
    params(("id" = Uuid, Path, description = "The research's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a research id", body = ErrorEnvelope),
        (status = 404, description = "No such research of yours (`research.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn delete_research(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let delete = ResearchCommand::Delete {
        by: ctx.principal.actor(),
        at: now(),
    };
    // Decided on the research itself (not its read model): its requester or an admin.
    let guard = |research: &ResearchSession| match &research.session {
        Some(s) if !ctx.principal.may_act_for(&s.requested_by) => {
            Err(Refusal("someone else's research".into()))
        }
        _ => Ok(()),
    };
    match state
        .bus
        .execute_guarded(id, delete, &ctx.meta, guard)
        .await
    {
        Ok(_) => {}
        Err(CommandError::Refused(_)) => return Err(not_found()),
        Err(other) => return Err(other.into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The research as Markdown: the question, the report's sections with their `[n]`
/// citations, and the numbered sources with their links.
#[utoipa::path(
    get,
    path = "/api/research/{id}/export",
    tag = "research",
    params(("id" = Uuid, Path, description = "The research's id"), ExportQuery),
    responses(
        (status = 200, description = "The research as Markdown", content_type = "text/markdown", body = String),
        (status = 400, description = "A format other than `md` (`request.invalid_query`), or not a research id", body = ErrorEnvelope),
        (status = 404, description = "No such research of yours (`research.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn export_research(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    query.check()?;
    let research = readable(&state, &principal, id).await?;
    Ok(markdown_attachment(
        &format!("research-{id}.md"),
        to_markdown(&research),
    ))
}
