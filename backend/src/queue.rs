//! `/api/queue`: Today's Moves over HTTP — propose, decide, snooze, edit (commands) and the
//! ranked, filtered and counted views (queries on the `queue` read models).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{
    ApproveQueueItemRequest, BulkDecisionRequest, BulkDecisionResponse, BulkItemResult,
    EditQueueItemRequest, ErrorEnvelope, ProposeQueueItemRequest, QueueCountsResponse,
    QueueItemResponse, QueueListResponse, QueueStatsResponse, RejectQueueItemRequest,
    SnoozeQueueItemRequest,
};
use caseyos_domain::queue::{
    ActionType, ApproveQueueItem, ContactRef, CrmId, EditQueueItem, ProposeQueueItem, QueueDomain,
    QueueItem, QueueItemCommand, QueueStatus, RecordRef, RejectQueueItem, SnoozeQueueItem, Source,
    Target,
};
use caseyos_projections::checkpoint::Checkpoint;
use caseyos_projections::queue::{self as views, Cursor, ListFilter, Sort};
use caseyos_projections::queue_stats::{self, StatsWindow};
use caseyos_projections::ConsistencyToken;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::commands::{
    check_same_request, idempotent, now, prior_events, queue_state_at, request_hash, CommandMeta,
    KeyLock,
};
use crate::config::parse_tz;
use crate::consistency::{read_token, settle, ReadQuery};
use crate::context::CommandContext;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The read models these queries depend on.
const QUEUE_VIEWS: &[&str] = &["queue"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;
const MAX_BULK: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose_queue_item, list_queue_items))
        .routes(routes!(todays_moves))
        .routes(routes!(queue_counts))
        .routes(routes!(queue_stats))
        .routes(routes!(get_queue_item))
        .routes(routes!(approve_queue_item))
        .routes(routes!(reject_queue_item))
        .routes(routes!(snooze_queue_item))
        .routes(routes!(edit_queue_item))
        .routes(routes!(bulk_approve_queue_items))
        .routes(routes!(bulk_reject_queue_items))
}

// ---------------------------------------------------------------------------------------
// Commands

/// A command's HTTP answer: 201 for a proposal, 200 otherwise; the same status and body
/// again for a replayed idempotent request, marked `Idempotent-Replayed: true`.
fn command_response(status: StatusCode, replayed: bool, body: QueueItemResponse) -> Response {
    let location = format!("/api/queue/{}", body.item.id);
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::CREATED {
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

fn item_response(
    item: QueueItem,
    token: Option<Checkpoint>,
) -> Result<QueueItemResponse, ApiError> {
    let item = item
        .item
        .ok_or_else(|| ApiError::internal("a command succeeded on an item that does not exist"))?;
    Ok(QueueItemResponse {
        item,
        consistency: ConsistencyToken(token.unwrap_or(Checkpoint::ZERO)).to_string(),
    })
}

/// Refuses callers who may not act on the item's owner (a missing item passes: the domain
/// answers it with `queue.not_found`).
fn owner_guard(principal: &Principal) -> impl Fn(&QueueItem) -> Result<(), ApiError> + '_ {
    move |item| match &item.item {
        Some(view) if !principal.may_act_for(&view.owner) => Err(ApiError::forbidden(
            "this move belongs to someone else; only they or an admin can act on it",
        )),
        _ => Ok(()),
    }
}

/// Runs one command on one item, honouring `Idempotency-Key`.
async fn run_item_command(
    state: &AppState,
    ctx: CommandContext,
    item_id: Uuid,
    body: serde_json::Value,
    command: QueueItemCommand,
) -> Result<(bool, QueueItemResponse), ApiError> {
    idempotent(
        &state.pool,
        &ctx,
        &body,
        async |meta| {
            let committed = state
                .bus
                .queue(item_id, command, meta, owner_guard(&ctx.principal))
                .await?;
            item_response(committed.state, committed.token)
        },
        async |last| {
            let item = queue_state_at(&state.pool, &last.aggregate_id, last.sequence).await?;
            item_response(item, Some(last.checkpoint()))
        },
    )
    .await
}

fn to_value<T: serde::Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
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
        (status = 422, description = "Invalid field or unknown action type", body = ErrorEnvelope),
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
    let body = to_value(&request);
    let target = target_of(&request)?;
    let command = QueueItemCommand::Propose(Box::new(ProposeQueueItem {
        id: Uuid::now_v7(),
        title: request.title,
        action_type,
        domain: request.domain,
        target,
        payload: request.payload.unwrap_or_else(|| serde_json::json!({})),
        owner,
        due_by: request.due_by,
        expires_at: request.expires_at,
        source: request.source.unwrap_or(Source::Manual),
        aps: request.aps.unwrap_or_default(),
        rationale: request.rationale,
        by: ctx.principal.actor(),
        at: now(),
    }));
    let id = match &command {
        QueueItemCommand::Propose(p) => p.id,
        _ => unreachable!("built above"),
    };
    let (replayed, response) = run_item_command(&state, ctx, id, body, command).await?;
    Ok(command_response(StatusCode::CREATED, replayed, response))
}

/// The target, with the `contact_id` / `deal_id` / `company_id` shorthands folded in.
fn target_of(request: &ProposeQueueItemRequest) -> Result<Target, ApiError> {
    let mut target = request.target.clone().unwrap_or_default();
    let crm = |field: &str, raw: &str| CrmId::parse(raw).map_err(|m| ApiError::field(field, m));
    if let Some(id) = &request.contact_id {
        let id = crm("contact_id", id)?;
        match &mut target.contact {
            Some(contact) if contact.id != id => {
                return Err(ApiError::field(
                    "contact_id",
                    "differs from target.contact.id",
                ))
            }
            Some(_) => {}
            None => {
                target.contact = Some(ContactRef {
                    id,
                    name: None,
                    email: None,
                })
            }
        }
    }
    for (field, raw, slot) in [
        ("deal_id", &request.deal_id, &mut target.deal),
        ("company_id", &request.company_id, &mut target.company),
    ] {
        if let Some(raw) = raw {
            let id = crm(field, raw)?;
            match slot {
                Some(record) if record.id != id => {
                    return Err(ApiError::field(field, "differs from the id in target"))
                }
                Some(_) => {}
                None => *slot = Some(RecordRef { id, name: None }),
            }
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
    let body = to_value(&request);
    let command = QueueItemCommand::Approve(ApproveQueueItem {
        note: request.note,
        by: ctx.principal.actor(),
        at: now(),
    });
    let (replayed, response) = run_item_command(&state, ctx, id, body, command).await?;
    Ok(command_response(StatusCode::OK, replayed, response))
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
    let body = to_value(&request);
    let command = QueueItemCommand::Reject(RejectQueueItem {
        reason: request.reason,
        by: ctx.principal.actor(),
        at: now(),
    });
    let (replayed, response) = run_item_command(&state, ctx, id, body, command).await?;
    Ok(command_response(StatusCode::OK, replayed, response))
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
    let body = to_value(&request);
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
                    let current = queue_state_at(&state.pool, &id.to_string(), i64::MAX).await?;
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
    let (replayed, response) = run_item_command(&state, ctx, id, body, command).await?;
    Ok(command_response(StatusCode::OK, replayed, response))
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
    let body = to_value(&request);
    let command = QueueItemCommand::Edit(EditQueueItem {
        title: request.title,
        payload: request.payload,
        due_by: request.due_by,
        owner: request.owner,
        rationale: request.rationale,
        aps: request.aps,
        by: Some(ctx.principal.actor()),
        at: Some(now()),
    });
    let (replayed, response) = run_item_command(&state, ctx, id, body, command).await?;
    Ok(command_response(StatusCode::OK, replayed, response))
}

#[derive(Clone, Copy)]
enum BulkDecision {
    Approve,
    Reject,
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
    let hash = request_hash(&ctx.method, &ctx.path, &to_value(&request));
    let mut meta: CommandMeta = ctx.meta.clone();
    meta.request_hash = Some(hash.clone());

    let lock = match &ctx.idempotency {
        Some(key) => Some(KeyLock::acquire(&state.pool, &meta.actor, key).await?),
        None => None,
    };
    let result = async {
        // Items this key already decided are answered from their events; the rest run.
        let mut done: HashMap<String, caseyos_projections::StoredEvent> = HashMap::new();
        if let Some(key) = &ctx.idempotency {
            let prior = prior_events(&state.pool, &meta.actor, key).await?;
            check_same_request(&prior, &hash)?;
            for event in prior {
                done.insert(event.aggregate_id.clone(), event);
            }
        }
        let mut results = Vec::with_capacity(request.ids.len());
        let mut newest: Option<Checkpoint> = None;
        for id in &request.ids {
            let outcome = match done.get(&id.to_string()) {
                Some(last) => {
                    let item =
                        queue_state_at(&state.pool, &last.aggregate_id, last.sequence).await?;
                    Ok((item, Some(last.checkpoint())))
                }
                None => {
                    let command = match decision {
                        BulkDecision::Approve => QueueItemCommand::Approve(ApproveQueueItem {
                            note: request.note.clone(),
                            by: ctx.principal.actor(),
                            at: now(),
                        }),
                        BulkDecision::Reject => QueueItemCommand::Reject(RejectQueueItem {
                            reason: request.reason.clone().unwrap_or_default(),
                            by: ctx.principal.actor(),
                            at: now(),
                        }),
                    };
                    state
                        .bus
                        .queue(*id, command, &meta, owner_guard(&ctx.principal))
                        .await
                        .map(|c| (c.state, c.token))
                        .map_err(ApiError::from)
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
    }
    .await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    Ok(Json(result?).into_response())
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

// ---------------------------------------------------------------------------------------
// Queries

/// Whose moves a query covers: the caller's own by default; `owner=NAME` for someone's,
/// `owner=*` for everyone's (operators may ask only for their own).
fn owner_scope(principal: &Principal, owner: Option<&str>) -> Result<Option<String>, ApiError> {
    match owner.map(str::trim) {
        None | Some("") | Some("me") => Ok(Some(principal.user.clone())),
        Some("*") | Some("all") => {
            if principal.role == Role::Operator {
                Err(ApiError::forbidden("operators see their own moves only"))
            } else {
                Ok(None)
            }
        }
        Some(owner) => {
            if principal.may_read_owner(owner) {
                Ok(Some(owner.to_string()))
            } else {
                Err(ApiError::forbidden("operators see their own moves only"))
            }
        }
    }
}

pub(crate) fn limit(raw: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "request.invalid_query",
            format!("limit must be between 1 and {max}"),
        )),
    }
}

/// Comma-separated values, each parsed, naming the parameter on failure.
pub(crate) fn parse_list<T>(
    raw: Option<&str>,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    let Some(raw) = raw else { return Ok(vec![]) };
    raw.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            parse(v).ok_or_else(|| {
                ApiError::bad_request(
                    "request.invalid_query",
                    format!("{name}: `{v}` is not a known value"),
                )
            })
        })
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TodayQuery {
    /// `sales`, `marketing` or `cs`.
    domain: Option<String>,
    /// Whose moves: yours by default, a name, or `*` for everyone's.
    owner: Option<String>,
    /// 1–100, default 50.
    limit: Option<i64>,
    /// A consistency token to wait for.
    after: Option<String>,
    /// `strong` (default) or `eventual`.
    consistency: Option<String>,
}

/// Today's Moves: pending moves and snoozed ones whose time has come, ranked by APS then
/// due time.
#[utoipa::path(
    get,
    path = "/api/queue/today",
    tag = "queue",
    params(TodayQuery),
    responses(
        (status = 200, description = "Ranked moves", body = QueueListResponse),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn todays_moves(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<TodayQuery>,
) -> Result<Json<QueueListResponse>, ApiError> {
    let owner = owner_scope(&principal, query.owner.as_deref())?;
    let domain = match query.domain.as_deref() {
        Some(raw) => Some(QueueDomain::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_query",
                "domain must be sales, marketing or cs",
            )
        })?),
        None => None,
    };
    let limit = limit(query.limit, 50, MAX_PAGE)?;
    settle(
        &state,
        query.after.as_deref(),
        query.consistency.as_deref(),
        QUEUE_VIEWS,
    )
    .await?;
    let items = views::today(&state.pool, owner.as_deref(), domain, now(), limit).await?;
    Ok(Json(QueueListResponse {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Comma-separated statuses: pending, snoozed, approved, rejected, expired.
    status: Option<String>,
    /// Comma-separated action types.
    action_type: Option<String>,
    /// Comma-separated domains.
    domain: Option<String>,
    /// Whose moves: yours by default, a name, or `*` for everyone's.
    owner: Option<String>,
    /// `aps`, `due_by`, `created_at` or `updated_at`; prefix `-` for descending. Default `-aps`.
    sort: Option<String>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1–100, default 25.
    limit: Option<i64>,
    after: Option<String>,
    consistency: Option<String>,
}

/// All moves, filtered, sorted and paginated (stable keyset cursors).
#[utoipa::path(
    get,
    path = "/api/queue",
    tag = "queue",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of moves", body = QueueListResponse),
        (status = 400, description = "Unknown filter value, sort or cursor", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_queue_items(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<QueueListResponse>, ApiError> {
    let filter = ListFilter {
        statuses: parse_list(query.status.as_deref(), "status", QueueStatus::parse)?,
        action_types: parse_list(query.action_type.as_deref(), "action_type", |v| {
            ActionType::parse(v).ok()
        })?,
        domains: parse_list(query.domain.as_deref(), "domain", QueueDomain::parse)?,
        owner: owner_scope(&principal, query.owner.as_deref())?,
    };
    let sort = match query.sort.as_deref() {
        Some(raw) => Sort::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_query",
                "sort must be aps, due_by, created_at or updated_at, optionally prefixed with -",
            )
        })?,
        None => Sort::default(),
    };
    let cursor = match query.cursor.as_deref() {
        Some(raw) => Some(
            Cursor::decode(raw, sort)
                .map_err(|e| ApiError::bad_request("queue.invalid_cursor", e.to_string()))?,
        ),
        None => None,
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    settle(
        &state,
        query.after.as_deref(),
        query.consistency.as_deref(),
        QUEUE_VIEWS,
    )
    .await?;
    let page = views::list(&state.pool, &filter, sort, cursor.as_ref(), limit).await?;
    Ok(Json(QueueListResponse {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
        total: page.total,
    }))
}

/// One move.
#[utoipa::path(
    get,
    path = "/api/queue/{id}",
    tag = "queue",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The move", body = QueueItemResponse),
        (status = 404, description = "No such move", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_queue_item(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<QueueItemResponse>, ApiError> {
    query.settle(&state, QUEUE_VIEWS).await?;
    let item = views::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("queue.not_found", "queue item not found"))?;
    if !principal.may_read_owner(&item.owner) {
        return Err(ApiError::forbidden("this move belongs to someone else"));
    }
    Ok(Json(QueueItemResponse {
        item,
        consistency: read_token(&state, QUEUE_VIEWS).await?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CountsQuery {
    owner: Option<String>,
    after: Option<String>,
    consistency: Option<String>,
}

/// Counts of moves by status.
#[utoipa::path(
    get,
    path = "/api/queue/counts",
    tag = "queue",
    params(CountsQuery),
    responses((status = 200, description = "Counts by status", body = QueueCountsResponse)),
    security(("bearer" = []))
)]
async fn queue_counts(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CountsQuery>,
) -> Result<Json<QueueCountsResponse>, ApiError> {
    let owner = owner_scope(&principal, query.owner.as_deref())?;
    settle(
        &state,
        query.after.as_deref(),
        query.consistency.as_deref(),
        QUEUE_VIEWS,
    )
    .await?;
    Ok(Json(views::counts(&state.pool, owner.as_deref()).await?))
}

/// Days the approval rate looks back over.
const APPROVAL_RATE_DAYS: i64 = 7;

/// Quick stats: open and snoozed moves, decisions since midnight in the caller's time
/// zone, and the approval rate of the last 7 days (whole percent; none without
/// decisions). Scoped by owner as `/api/queue/counts` is.
#[utoipa::path(
    get,
    path = "/api/queue/stats",
    tag = "queue",
    params(CountsQuery),
    responses(
        (status = 200, description = "The quick-stats bar", body = QueueStatsResponse),
        (status = 403, description = "Operators see their own moves only", body = ErrorEnvelope),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn queue_stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CountsQuery>,
) -> Result<Json<QueueStatsResponse>, ApiError> {
    let owner = owner_scope(&principal, query.owner.as_deref())?;
    settle(
        &state,
        query.after.as_deref(),
        query.consistency.as_deref(),
        QUEUE_VIEWS,
    )
    .await?;
    let now = now();
    let window = StatsWindow {
        now,
        today_from: start_of_local_day(now, state.config.timezone_of(&principal.user)),
        rate_from: now - chrono::Duration::days(APPROVAL_RATE_DAYS),
    };
    Ok(Json(
        queue_stats::stats(&state.pool, owner.as_deref(), window).await?,
    ))
}

/// The last local midnight in `tz` (where a clock change skips midnight, the day's first
/// instant).
fn start_of_local_day(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let day = now.with_timezone(&tz).date_naive();
    (0..24)
        .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
        .find_map(|local| tz.from_local_datetime(&local).earliest())
        .map_or(now, |start| start.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn today_starts_at_midnight_in_the_callers_time_zone() {
        // (now, zone, start of that local day)
        let table = [
            ("2026-03-10T15:00:00Z", "UTC", "2026-03-10T00:00:00Z"),
            (
                "2026-03-10T03:00:00Z",
                "America/New_York",
                "2026-03-09T04:00:00Z",
            ),
            (
                "2026-03-10T23:30:00Z",
                "Europe/Berlin",
                "2026-03-10T23:00:00Z",
            ),
            // America/Santiago skips from 00:00 to 01:00 on 2026-09-06.
            (
                "2026-09-06T12:00:00Z",
                "America/Santiago",
                "2026-09-06T04:00:00Z",
            ),
        ];
        for (now, zone, start) in table {
            let tz: Tz = zone.parse().unwrap();
            assert_eq!(
                start_of_local_day(utc(now), tz),
                utc(start),
                "{now} in {zone}"
            );
        }
    }
}
