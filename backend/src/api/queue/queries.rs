//! Reading Today's Moves: the ranked list, filtered pages, one move, counts and the
//! quick-stats bar. Read models only.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{
    ErrorEnvelope, QueueCountsResponse, QueueItemResponse, QueueListResponse, QueueStatsResponse,
    QUEUE_EXPORT_COLUMNS,
};
use caseyos_domain::queue::{ActionType, QueueDomain, QueueStatus};
use caseyos_projections::export::csv_record;
use caseyos_projections::queue::stats::{self as queue_stats, StatsWindow};
use caseyos_projections::queue::{self as views, Cursor, ListFilter, Sort, TodayCursor};
use caseyos_store::now;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::http::consistency::{read_token, ReadQuery};
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit, parse_list};
use crate::http::response::csv_download;
use crate::state::AppState;

/// The read models these queries depend on.
const QUEUE_VIEWS: &[&str] = &["queue"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_queue_items))
        .routes(routes!(export_queue_items))
        .routes(routes!(todays_moves))
        .routes(routes!(queue_counts))
        .routes(routes!(queue_stats))
        .routes(routes!(get_queue_item))
}

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TodayQuery {
    /// `sales`, `marketing` or `cs`; empty or absent for every domain.
    #[param(pattern = r"^(sales|marketing|cs)?$")]
    domain: Option<String>,
    /// Whose moves: yours by default, a name, or `*` for everyone's.
    owner: Option<String>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
    /// The page size, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// Today's Moves: pending moves and snoozed ones whose time has come, ranked by APS then
/// due time, a page at a time. `total` counts every move in Today's Moves for the same owner
/// and domain; `next_cursor` reads the next page.
#[utoipa::path(
    get,
    path = "/api/queue/today",
    tag = "queue",
    params(TodayQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of ranked moves", body = QueueListResponse),
        (status = 400, description = "Unknown domain (`request.invalid_query`) or a cursor this endpoint did not issue (`request.invalid_cursor`)", body = ErrorEnvelope),
        (status = 403, description = "Operators see their own moves only", body = ErrorEnvelope),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn todays_moves(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<TodayQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    let owner = owner_scope(&principal, query.owner.as_deref())?;
    let domain = match query.domain.as_deref().filter(|d| !d.is_empty()) {
        Some(raw) => Some(
            QueueDomain::ALL
                .iter()
                .copied()
                .find(|d| d.as_str() == raw)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "request.invalid_query",
                        "domain must be sales, marketing or cs",
                    )
                })?,
        ),
        None => None,
    };
    let cursor = cursor(query.cursor.as_deref(), TodayCursor::decode)?;
    let limit = limit(query.limit, 50, MAX_PAGE)?;
    let version = read.settle_versioned(&state, QUEUE_VIEWS).await?;
    let now = now();
    // Everything the answer depends on besides the read model's version and the time.
    let key = format!(
        "today|{owner:?}|{domain:?}|{}|{limit}",
        query.cursor.as_deref().unwrap_or_default().trim()
    );
    if let Some(body) = version.and_then(|v| state.answers.get(&key, v, now)) {
        return Ok(json_bytes(Bytes::from_owner(body)));
    }
    let page = views::today(
        &state.pool,
        owner.as_deref(),
        domain,
        now,
        cursor.as_ref(),
        limit,
    )
    .await?;
    let body: Arc<[u8]> = serde_json::to_vec(&QueueListResponse {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
        total: page.total,
    })
    .map_err(|e| ApiError::internal(format!("serializing Today's Moves: {e}")))?
    .into();
    state
        .answers
        .put(key, page.version, page.changes_at, body.clone());
    Ok(json_bytes(Bytes::from_owner(body)))
}

/// A JSON body already serialized.
fn json_bytes(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Comma-separated statuses: pending, snoozed, approved, rejected, expired; empty or
    /// absent for any.
    status: Option<String>,
    /// Comma-separated action types (their canonical names, see `ActionType`); empty or
    /// absent for any.
    action_type: Option<String>,
    /// Comma-separated domains: sales, marketing, cs; empty or absent for any.
    domain: Option<String>,
    /// Whose moves: yours by default, a name, or `*` for everyone's.
    owner: Option<String>,
    /// Only moves about this deal (its id, as the move's `target.deal.id` holds it): a
    /// deal's recommended moves.
    #[param(pattern = r"^([A-Za-z0-9_-]{1,64})?$")]
    deal: Option<String>,
    /// `aps`, `due_by`, `created_at` or `updated_at`; prefix `-` for descending. Default `-aps`.
    #[param(pattern = r"^-?(aps|priority|due_by|created_at|proposed_at|updated_at)$")]
    sort: Option<String>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// The filter and sort a list (or its export) asks for.
fn list_filter(principal: &Principal, query: &ListQuery) -> Result<(ListFilter, Sort), ApiError> {
    let filter = ListFilter {
        statuses: parse_list(query.status.as_deref(), "status", |v| {
            QueueStatus::ALL.iter().copied().find(|s| s.as_str() == v)
        })?,
        action_types: parse_list(query.action_type.as_deref(), "action_type", |v| {
            ActionType::ALL.iter().copied().find(|t| t.as_str() == v)
        })?,
        domains: parse_list(query.domain.as_deref(), "domain", |v| {
            QueueDomain::ALL.iter().copied().find(|d| d.as_str() == v)
        })?,
        owner: owner_scope(principal, query.owner.as_deref())?,
        deal: match query.deal.as_deref().filter(|d| !d.is_empty()) {
            Some(raw) => Some(
                caseyos_domain::kernel::CrmId::parse(raw)
                    .map_err(|m| {
                        ApiError::bad_request("request.invalid_query", format!("deal: {m}"))
                    })?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        },
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
    Ok((filter, sort))
}

/// All moves, filtered, sorted and paginated (stable keyset cursors).
#[utoipa::path(
    get,
    path = "/api/queue",
    tag = "queue",
    params(ListQuery, ReadQuery),
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
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<QueueListResponse>, ApiError> {
    let (filter, sort) = list_filter(&principal, &query)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| Cursor::decode(raw, sort))?;
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    read.settle(&state, QUEUE_VIEWS).await?;
    let page = views::list(&state.pool, &filter, sort, cursor.as_ref(), limit).await?;
    Ok(Json(QueueListResponse {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
        total: page.total,
    }))
}

/// Every move the filters match, as CSV (`text/csv`, UTF-8, CRLF records, RFC 4180
/// quoting), streamed from the read model in the list's sort order. Takes every filter and
/// the sort of `GET /api/queue` (operators export their own moves only); `cursor` and
/// `limit` are not used (the file has every matching move; a `limit` out of 1–100 is
/// refused as by the list). Cells that a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-` or `@`) are prefixed with `'`.
#[utoipa::path(
    get,
    path = "/api/queue/export.csv",
    tag = "queue",
    params(ListQuery, ReadQuery),
    responses(
        (status = 200, description = "The moves as CSV (`Content-Disposition: attachment; filename=\"queue-<date>.csv\"`)",
         content_type = "text/csv", body = String,
         example = json!("id,status,title,action_type,domain,owner,aps,due_by,snoozed_until,expires_at,contact_id,deal_id,company_id,source,rationale,decided_by,decided_at,decision_note,created_at,updated_at,demo\r\n0193a8c0-0000-7000-8000-000000000001,pending,Send Dana the proposal,send_email,sales,casey,63.00,,,,c-101,,,manual,She asked for it,,,,2026-11-30T09:00:00Z,2026-11-30T09:00:00Z,false\r\n")),
        (status = 400, description = "Unknown filter value or sort, or a `limit` out of the list's range (`request.invalid_query`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "request.invalid_query", "message": "status: `gone` is not a known value", "request_id": "req-1"}})),
        (status = 403, description = "Operators see their own moves only (`auth.forbidden`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "auth.forbidden", "message": "operators see their own moves only", "request_id": "req-1"}})),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn export_queue_items(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    let (filter, sort) = list_filter(&principal, &query)?;
    // The file has every row, but a `limit` out of the list's range is refused as there.
    limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    read.settle(&state, QUEUE_VIEWS).await?;
    let records = views::export(state.pool.clone(), filter, sort)
        .map(|item| item.map(|item| csv_record(&views::csv_cells(&item))))
        .boxed();
    Ok(csv_download("queue", QUEUE_EXPORT_COLUMNS, records))
}

/// A move's page reads the move and its execution.
const ITEM_VIEWS: &[&str] = &["queue", "executions"];

/// One move, with its execution once it was approved.
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
    query.settle(&state, ITEM_VIEWS).await?;
    let item = views::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("queue.not_found", "queue item not found"))?;
    if !principal.may_read_owner(&item.owner) {
        return Err(ApiError::forbidden("this move belongs to someone else"));
    }
    let execution = caseyos_projections::executions::of_item(&state.pool, id).await?;
    Ok(Json(QueueItemResponse {
        item,
        execution,
        consistency: read_token(&state, QUEUE_VIEWS).await?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CountsQuery {
    owner: Option<String>,
}

/// Counts of moves by status.
#[utoipa::path(
    get,
    path = "/api/queue/counts",
    tag = "queue",
    params(CountsQuery, ReadQuery),
    responses((status = 200, description = "Counts by status", body = QueueCountsResponse)),
    security(("bearer" = []))
)]
async fn queue_counts(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CountsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<QueueCountsResponse>, ApiError> {
    let owner = owner_scope(&principal, query.owner.as_deref())?;
    read.settle(&state, QUEUE_VIEWS).await?;
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
    params(CountsQuery, ReadQuery),
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
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<QueueStatsResponse>, ApiError> {
    let owner = owner_scope(&principal, query.owner.as_deref())?;
    read.settle(&state, QUEUE_VIEWS).await?;
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
