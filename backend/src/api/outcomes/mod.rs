//! Outcomes over HTTP: what came of moves (recorded by the outcomes reactor from executions
//! and deal changes, by signals from replies, or by hand here), per move or contact.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    ErrorEnvelope, OutcomeListResponse, OutcomeResponse, RecordOutcomeRequest,
};
use caseyos_domain::kernel::{CrmId, EmailAddress};
use caseyos_domain::outcomes::{
    outcome_id, Outcome, OutcomeCommand, OutcomeSource, OutcomeSubject, RecordOutcome,
};
use caseyos_domain::queue::QueueItem;
use caseyos_projections::outcomes::{self as views, OutcomeFilter};
use caseyos_store::history::state_at;
use caseyos_store::now;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::commands::outcomes::company_domain;
use crate::http::consistency::ReadQuery;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::pagination::{limit, text_filter};
use crate::http::response::command_response;
use crate::state::AppState;

const OUTCOME_VIEWS: &[&str] = &["outcomes"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_outcomes))
        .routes(routes!(record_outcome))
}

/// The filters' longest values (the document's `maxLength`s below).
const MAX_CONTACT_FILTER: usize = 128;
const MAX_EMAIL_FILTER: usize = 320;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OutcomesQuery {
    /// Outcomes of this move.
    item: Option<Uuid>,
    /// Outcomes about this contact id.
    #[param(max_length = 128)]
    contact: Option<String>,
    /// Outcomes about this email address.
    #[param(max_length = 320)]
    email: Option<String>,
    /// At most this many, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Outcomes, newest first: of a move, about a contact or an address, or all.
#[utoipa::path(
    get,
    path = "/api/outcomes",
    tag = "outcomes",
    params(OutcomesQuery, ReadQuery),
    responses(
        (status = 200, description = "Outcomes", body = OutcomeListResponse),
        (status = 400, description = "A bad filter", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_outcomes(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<OutcomesQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<OutcomeListResponse>, ApiError> {
    let limit = limit(query.limit, 50, 200)?;
    read.settle(&state, OUTCOME_VIEWS).await?;
    let filter = OutcomeFilter {
        item_id: query.item,
        contact_id: text_filter(query.contact, "contact", MAX_CONTACT_FILTER)?,
        email: text_filter(query.email, "email", MAX_EMAIL_FILTER)?,
    };
    Ok(Json(OutcomeListResponse {
        items: views::list(&state.pool, &filter, limit).await?,
    }))
}

/// Record an outcome by hand. It counts toward the next moves' APS for that contact, its
/// company and the move's type, and a reply, booked meeting, bounce or unsubscribe ends the
/// contact's pending follow-ups.
#[utoipa::path(
    post,
    path = "/api/outcomes",
    tag = "outcomes",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = RecordOutcomeRequest, example = json!({"outcome_type": "meeting_held", "email": "dana@acme.io", "name": "Dana Lee", "summary": "held the demo"})),
    responses(
        (status = 201, description = "Recorded", body = OutcomeResponse),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 422, description = "`request.validation` naming the field: a bad value, a future `occurred_at`, or no one named (neither `contact_id` nor `email`, and a move without a contact)", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot record outcomes", body = ErrorEnvelope),
        (status = 404, description = "No such move (`queue.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn record_outcome(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<RecordOutcomeRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let at = now();
    let occurred_at = request.occurred_at.unwrap_or(at);
    if occurred_at > at {
        return Err(ApiError::field(
            "occurred_at",
            "an outcome happened already: not in the future",
        ));
    }
    let confidence = request.confidence.unwrap_or(100);
    if confidence > 100 {
        return Err(ApiError::field("confidence", "a percentage, 0 to 100"));
    }
    let email = match request.email.as_deref().filter(|e| !e.is_empty()) {
        Some(raw) => Some(EmailAddress::parse(raw).map_err(|m| ApiError::field("email", m))?),
        None => None,
    };
    let contact_id = match request.contact_id.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => Some(
            CrmId::parse(raw)
                .map_err(|m| ApiError::field("contact_id", m))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let (mut subject, action_type) = match request.item_id {
        Some(item_id) => {
            let item: QueueItem = state_at(&state.pool, &item_id.to_string(), i64::MAX).await?;
            let item = item
                .into_view()
                .ok_or_else(|| ApiError::not_found("queue.not_found", "queue item not found"))?;
            if !ctx.principal.may_act_for(&item.owner) {
                return Err(ApiError::forbidden("this move belongs to someone else"));
            }
            (
                crate::workers::outcomes::subject_of(&item, &[]),
                Some(item.action_type),
            )
        }
        None => (OutcomeSubject::default(), None),
    };
    if email.is_some() {
        subject.company_domain = email.as_ref().and_then(|e| company_domain(e.as_str()));
        subject.email = email;
    }
    if contact_id.is_some() {
        subject.contact_id = contact_id;
    }
    if let Some(name) = request
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        subject.name = Some(name.chars().take(200).collect());
    }
    if subject.contact_id.is_none() && subject.email.is_none() && subject.deal_id.is_none() {
        return Err(ApiError::field(
            "email",
            "name who it is about: item_id, contact_id or email",
        ));
    }
    let summary = request
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(500).collect())
        .unwrap_or_else(|| request.outcome_type.label().to_string());
    let key = format!("manual:{}", Uuid::now_v7());
    let id = outcome_id(&key);
    let command = OutcomeCommand::Record(Box::new(RecordOutcome {
        key,
        outcome_type: request.outcome_type,
        source: OutcomeSource::Manual,
        confidence,
        subject,
        item_id: request.item_id,
        action_type,
        execution_id: None,
        summary,
        occurred_at,
        by: ctx.principal.actor(),
        at,
    }));
    let answer = ctx
        .execute_once::<Outcome>(&state.pool, &request, async |meta| {
            Ok(state.bus.execute::<Outcome>(id, command, meta).await?)
        })
        .await?;
    Ok(command_response(
        StatusCode::CREATED,
        answer.replayed,
        None,
        OutcomeResponse {
            outcome: answer.view,
            consistency: answer.consistency,
        },
    ))
}
