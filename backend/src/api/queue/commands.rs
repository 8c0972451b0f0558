//! Commands on Today's Moves: propose, approve, reject, snooze, edit, and bulk decisions.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{
    ApproveQueueItemRequest, BulkDecisionRequest, BulkDecisionResponse, BulkItemResult,
    EditQueueItemRequest, ErrorEnvelope, ProposeQueueItemRequest, QueueItemResponse,
    RejectQueueItemRequest, SnoozeQueueItemRequest,
};
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken, CrmId, Text, UserName};
use caseyos_domain::queue::{
    ActionType, ApproveQueueItem, ContactRef, EditQueueItem, ProposeQueueItem, QueueItem,
    QueueItemCommand, QueueItemView, RecordRef, RejectQueueItem, SnoozeQueueItem, Source, Target,
    MAX_TEXT_CHARS, MAX_TITLE_CHARS,
};
use caseyos_store::history::state_at;
use caseyos_store::idempotency::keyed;
use caseyos_store::{now, Refusal, StoredEvent};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::config::parse_tz;
use crate::http::context::{Answer, CommandContext};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::response::command_response;
use crate::state::AppState;

const MAX_BULK: usize = 100;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose_queue_item))
        .routes(routes!(approve_queue_item))
        .routes(routes!(reject_queue_item))
        .routes(routes!(snooze_queue_item))
        .routes(routes!(edit_queue_item))
        .routes(routes!(bulk_approve_queue_items))
        .routes(routes!(bulk_reject_queue_items))
}

// ---------------------------------------------------------------------------------------
// Commands

/// A decided or changed move: 200 with the item (`created`: 201 with its `Location`).
fn item_command_response(created: bool, answer: Answer<QueueItemView>) -> Response {
    let location = format!("/api/queue/{}", answer.view.id);
    let body = QueueItemResponse {
        item: answer.view,
        execution: None,
        consistency: answer.consistency,
    };
    if created {
        command_response(StatusCode::CREATED, answer.replayed, Some(location), body)
    } else {
        command_response(StatusCode::OK, answer.replayed, None, body)
    }
}

/// Refuses callers who may not act on the item's owner (a missing item passes: the domain
/// answers it with `queue.not_found`).
fn owner_guard(principal: &Principal) -> impl Fn(&QueueItem) -> Result<(), Refusal> + '_ {
    move |item| match &item.item {
        Some(view) if !principal.may_act_for(&view.owner) => Err(Refusal(
            "this move belongs to someone else; only they or an admin can act on it".into(),
        )),
        _ => Ok(()),
    }
}

/// Runs one command on one item, honouring `Idempotency-Key`.
async fn run_item_command(
    state: &AppState,
    ctx: &CommandContext,
    item_id: Uuid,
    request: &impl Serialize,
    command: QueueItemCommand,
) -> Result<Answer<QueueItemView>, ApiError> {
    let new = matches!(command, QueueItemCommand::Propose(_));
    ctx.execute_once(&state.pool, request, async |meta| {
        let guard = owner_guard(&ctx.principal);
        Ok(if new {
            // The proposal's id was made up just now: no events to load.
            state.bus.execute_new(item_id, command, meta, guard).await?
        } else {
            state
                .bus
                .execute_guarded(item_id, command, meta, guard)
                .await?
        })
    })
    .await
}

/// Runs a decision on one item and answers with it.
async fn decide(
    state: &AppState,
    ctx: CommandContext,
    item_id: Uuid,
    request: &impl Serialize,
    command: QueueItemCommand,
) -> Result<Response, ApiError> {
    let answer = run_item_command(state, &ctx, item_id, request, command).await?;
    Ok(item_command_response(false, answer))
}

/// An optional note or rationale, parsed (blank is none), naming the field when invalid.
fn text_field(field: &str, raw: Option<&str>) -> Result<Option<Text>, ApiError> {
    Text::parse_optional(raw, MAX_TEXT_CHARS).map_err(|m| ApiError::field(field, m))
}

/// Propose a move.
#[utoipa::path(
    post,
    path = "/api/queue",
    tag = "queue",
    request_body = ProposeQueueItemRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Proposed", body = QueueItemResponse),
        (status = 422, description = "Invalid field (`request.validation`), unknown action type (`queue.unknown_action_type`), or a `source` other than manual (`queue.source_not_allowed`)", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot propose; operators only for themselves", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn propose_queue_item(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<ProposeQueueItemRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let action_type = ActionType::parse(&request.action_type).map_err(|e| {
        ApiError::field(
            "action_type",
            format!("{e}; see the ActionType schema for the list"),
        )
        .with_code("queue.unknown_action_type")
    })?;
    let owner = request
        .owner
        .clone()
        .unwrap_or_else(|| ctx.principal.user.clone());
    if !ctx.principal.may_act_for(owner.trim()) {
        return Err(ApiError::forbidden(
            "operators propose moves for themselves only",
        ));
    }
    let owner = UserName::parse(&owner).map_err(|m| ApiError::field("owner", m))?;
    let target = target_of(&request)?;
    let id = Uuid::now_v7();
    let title = Text::parse_optional(request.title.as_deref(), MAX_TITLE_CHARS)
        .map_err(|m| ApiError::field("title", m))?;
    let rationale = text_field("rationale", request.rationale.as_deref())?;
    let learned =
        crate::commands::outcomes::learned_for(&state.pool, &target, action_type, now()).await?;
    let command = QueueItemCommand::Propose(Box::new(ProposeQueueItem {
        id,
        title,
        action_type,
        domain: request.domain,
        target,
        payload: request
            .payload
            .clone()
            .unwrap_or_else(|| serde_json::json!({})),
        owner,
        due_by: request.due_by,
        expires_at: request.expires_at,
        source: request.source.clone().unwrap_or(Source::Manual),
        aps: request.aps.unwrap_or_default(),
        rationale,
        draft: None,
        demo: false,
        learned,
        by: ctx.principal.actor(),
        at: now(),
    }));
    let answer = run_item_command(&state, &ctx, id, &request, command).await?;
    Ok(item_command_response(true, answer))
}

/// The target, with the `contact_id` / `deal_id` / `company_id` shorthands folded in. A
/// shorthand and the record it stands for are not both given (which would win?).
fn target_of(request: &ProposeQueueItemRequest) -> Result<Target, ApiError> {
    let mut target = request.target.clone().unwrap_or_default();
    let crm = |field: &str, raw: &str| CrmId::parse(raw).map_err(|m| ApiError::field(field, m));
    let both = |field: &str, record: &str| {
        ApiError::field(field, format!("give {field} or target.{record}, not both"))
    };
    if let Some(raw) = &request.contact_id {
        if target.contact.is_some() {
            return Err(both("contact_id", "contact"));
        }
        target.contact = Some(ContactRef {
            id: crm("contact_id", raw)?,
            name: None,
            email: None,
        });
    }
    for (field, record, raw, slot) in [
        ("deal_id", "deal", &request.deal_id, &mut target.deal),
        (
            "company_id",
            "company",
            &request.company_id,
            &mut target.company,
        ),
    ] {
        if let Some(raw) = raw {
            if slot.is_some() {
                return Err(both(field, record));
            }
            *slot = Some(RecordRef {
                id: crm(field, raw)?,
                name: None,
            });
        }
    }
    Ok(target)
}

/// Approve a move. Approval records the decision; executing it comes later.
#[utoipa::path(
    post,
    path = "/api/queue/{id}/approve",
    tag = "queue",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<ApproveQueueItemRequest>, description = "Optional note"),
    responses(
        (status = 200, description = "Approved", body = QueueItemResponse),
        (status = 404, description = "No such move", body = ErrorEnvelope),
        (status = 409, description = "Already decided (`queue.already_approved`, `queue.already_rejected`, `queue.expired`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn approve_queue_item(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<ApproveQueueItemRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let command = QueueItemCommand::Approve(ApproveQueueItem {
        note: text_field("note", request.note.as_deref())?,
        by: ctx.principal.actor(),
        at: now(),
    });
    decide(&state, ctx, id, &request, command).await
}

/// Reject a move, with a reason.
#[utoipa::path(
    post,
    path = "/api/queue/{id}/reject",
    tag = "queue",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = RejectQueueItemRequest,
    responses(
        (status = 200, description = "Rejected", body = QueueItemResponse),
        (status = 404, description = "No such move", body = ErrorEnvelope),
        (status = 409, description = "Already decided", body = ErrorEnvelope),
        (status = 422, description = "Missing reason", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn reject_queue_item(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<RejectQueueItemRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let command = QueueItemCommand::Reject(RejectQueueItem {
        reason: Text::parse(&request.reason, MAX_TEXT_CHARS)
            .map_err(|m| ApiError::field("reason", m))?,
        by: ctx.principal.actor(),
        at: now(),
    });
    decide(&state, ctx, id, &request, command).await
}

/// Snooze a move with a preset (`1h`, `4h`, `tomorrow`, `next_monday`) in the owner's time
/// zone, or until an explicit time. It comes back to Today's Moves when due.
#[utoipa::path(
    post,
    path = "/api/queue/{id}/snooze",
    tag = "queue",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = SnoozeQueueItemRequest,
    responses(
        (status = 200, description = "Snoozed", body = QueueItemResponse),
        (status = 404, description = "No such move", body = ErrorEnvelope),
        (status = 409, description = "Already decided", body = ErrorEnvelope),
        (status = 422, description = "Neither or both of preset and until, a past time, or an unknown time zone", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn snooze_queue_item(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<SnoozeQueueItemRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let now = now();
    let until = match (request.preset, request.until) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "preset",
                "give either preset or until, not both",
            ))
        }
        (None, None) => return Err(ApiError::field("preset", "give a preset or an until time")),
        (None, Some(until)) => until,
        (Some(preset), None) => {
            let tz = match &request.timezone {
                Some(tz) => parse_tz(tz).map_err(|m| ApiError::field("timezone", m))?,
                None => {
                    // The owner's zone; the item's owner is read from the event store.
                    let current: QueueItem =
                        state_at(&state.pool, &id.to_string(), i64::MAX).await?;
                    let owner = current
                        .item
                        .as_ref()
                        .map_or(ctx.principal.user.as_str(), |i| i.owner.as_str());
                    state.config.timezone_of(owner)
                }
            };
            preset.resolve(now, tz)
        }
    };
    let command = QueueItemCommand::Snooze(SnoozeQueueItem {
        until,
        preset: request.preset,
        by: ctx.principal.actor(),
        at: now,
    });
    decide(&state, ctx, id, &request, command).await
}

/// Edit an open move: title, draft payload, due time, owner, rationale, APS inputs.
#[utoipa::path(
    post,
    path = "/api/queue/{id}/edit",
    tag = "queue",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = EditQueueItemRequest,
    responses(
        (status = 200, description = "Edited (or unchanged)", body = QueueItemResponse),
        (status = 404, description = "No such move", body = ErrorEnvelope),
        (status = 409, description = "Already decided", body = ErrorEnvelope),
        (status = 422, description = "Invalid field", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn edit_queue_item(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<EditQueueItemRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    if let Some(owner) = &request.owner {
        if !ctx.principal.may_act_for(owner.trim()) {
            return Err(ApiError::forbidden(
                "operators cannot hand moves to someone else",
            ));
        }
    }
    let owner = match &request.owner {
        Some(owner) => Some(UserName::parse(owner).map_err(|m| ApiError::field("owner", m))?),
        None => None,
    };
    let title = match &request.title {
        Some(title) => {
            Some(Text::parse(title, MAX_TITLE_CHARS).map_err(|m| ApiError::field("title", m))?)
        }
        None => None,
    };
    let rationale = match &request.rationale {
        Some(rationale) => Some(text_field("rationale", rationale.as_deref())?),
        None => None,
    };
    let command = QueueItemCommand::Edit(EditQueueItem {
        title,
        payload: request.payload.clone(),
        due_by: request.due_by,
        owner,
        rationale,
        aps: request.aps,
        by: Some(ctx.principal.actor()),
        at: Some(now()),
    });
    decide(&state, ctx, id, &request, command).await
}

#[derive(Clone, Copy)]
enum BulkDecision {
    Approve,
    Reject,
}

impl BulkDecision {
    /// The text the decision carries: an approval's note, a rejection's reason.
    fn text_field(self) -> &'static str {
        match self {
            BulkDecision::Approve => "note",
            BulkDecision::Reject => "reason",
        }
    }
}

async fn bulk_decide(
    state: &AppState,
    ctx: CommandContext,
    request: BulkDecisionRequest,
    decision: BulkDecision,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    if request.ids.is_empty() || request.ids.len() > MAX_BULK {
        return Err(ApiError::field(
            "ids",
            format!("must hold 1–{MAX_BULK} ids"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if !request.ids.iter().all(|id| seen.insert(*id)) {
        return Err(ApiError::field("ids", "must not repeat an id"));
    }
    if matches!(decision, BulkDecision::Reject)
        && request
            .reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(ApiError::field("reason", "must not be empty"));
    }
    // Each item answers for an invalid note or reason, as it answers for its own state.
    let note = Text::parse_optional(request.note.as_deref(), MAX_TEXT_CHARS);
    let reason = Text::parse(
        request.reason.as_deref().unwrap_or_default(),
        MAX_TEXT_CHARS,
    );
    let meta = ctx.meta_for(&request);
    // Items this key already decided are answered from their events; the rest run.
    let response = keyed(&state.pool, &meta, async |prior: Vec<StoredEvent>| {
        let done: HashMap<&str, &StoredEvent> = prior
            .iter()
            .map(|event| (event.aggregate_id.as_str(), event))
            .collect();
        let mut results = Vec::with_capacity(request.ids.len());
        let mut newest: Option<Checkpoint> = None;
        for id in &request.ids {
            let outcome = match done.get(id.to_string().as_str()) {
                Some(last) => state_at(&state.pool, &last.aggregate_id, last.sequence)
                    .await
                    .map(|item| (item, Some(last.checkpoint())))
                    .map_err(ApiError::from),
                None => {
                    let command = match decision {
                        BulkDecision::Approve => note.clone().map(|note| {
                            QueueItemCommand::Approve(ApproveQueueItem {
                                note,
                                by: ctx.principal.actor(),
                                at: now(),
                            })
                        }),
                        BulkDecision::Reject => reason.clone().map(|reason| {
                            QueueItemCommand::Reject(RejectQueueItem {
                                reason,
                                by: ctx.principal.actor(),
                                at: now(),
                            })
                        }),
                    };
                    match command {
                        Ok(command) => state
                            .bus
                            .execute_guarded(*id, command, &meta, owner_guard(&ctx.principal))
                            .await
                            .map(|c| (c.state, c.token))
                            .map_err(ApiError::from),
                        Err(message) => Err(ApiError::field(decision.text_field(), message)),
                    }
                }
            };
            results.push(match outcome {
                Ok((item, token)) => {
                    newest = newest.max(token);
                    BulkItemResult {
                        id: *id,
                        ok: true,
                        item: item.item,
                        error: None,
                    }
                }
                Err(error) if error.status.is_server_error() => return Err(error),
                Err(error) => BulkItemResult {
                    id: *id,
                    ok: false,
                    item: None,
                    error: Some(error.body()),
                },
            });
        }
        Ok(BulkDecisionResponse {
            results,
            consistency: newest.map(|c| ConsistencyToken(c).to_string()),
        })
    })
    .await?;
    Ok(Json(response).into_response())
}

/// Approve several moves. Each id gets its own result; one failing does not stop the rest.
#[utoipa::path(
    post,
    path = "/api/queue/bulk/approve",
    tag = "queue",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = BulkDecisionRequest,
    responses(
        (status = 200, description = "Per-item results", body = BulkDecisionResponse),
        (status = 422, description = "No ids, too many, or repeated", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn bulk_approve_queue_items(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<BulkDecisionRequest>,
) -> Result<Response, ApiError> {
    bulk_decide(&state, ctx, request, BulkDecision::Approve).await
}

/// Reject several moves with one reason.
#[utoipa::path(
    post,
    path = "/api/queue/bulk/reject",
    tag = "queue",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = BulkDecisionRequest,
    responses(
        (status = 200, description = "Per-item results", body = BulkDecisionResponse),
        (status = 422, description = "No ids, too many, repeated, or no reason", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn bulk_reject_queue_items(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<BulkDecisionRequest>,
) -> Result<Response, ApiError> {
    bulk_decide(&state, ctx, request, BulkDecision::Reject).await
}
