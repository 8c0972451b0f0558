//! Notifications and "what's up" over HTTP: what needs the caller now (derived from the
//! read models of what it is about; see `caseyos_projections::notifications`), and marking
//! notifications read or acknowledged (the `notification_receipt` aggregate, one per
//! notification and user). Changes reach open pages through `/api/events` (the
//! `notification_receipts` read model and those notifications are derived from).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use caseyos_domain::agent_run::AgentRun;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    ErrorEnvelope, MarkNotificationsRequest, MarkNotificationsResponse, NotificationListResponse,
    WhatsUpResponse,
};
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use caseyos_domain::notifications::{
    receipt_id, summary, NotificationKind, NotificationReceipt, Priority, ReceiptCommand,
};
use caseyos_projections::notifications::{
    self as views, shown, unread_counts, Audience, Shown, NOTIFICATION_VIEWS,
};
use caseyos_store::now;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::{answer_once, ReadQuery};
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::pagination::limit;
use crate::state::AppState;

/// How many notifications "what's up" names.
const TOP: usize = 5;
/// How long a what's-up answer is kept while nothing it reads changes.
const HOLD_SECS: i64 = 10;
/// The most ids one mark takes.
const MAX_MARKED: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(whats_up))
        .routes(routes!(list_notifications))
        .routes(routes!(mark_notifications_read))
        .routes(routes!(acknowledge_notifications))
}

fn audience(state: &AppState, principal: &Principal) -> Audience {
    Audience {
        user: principal.user.clone(),
        owner: principal.read_scope().map(|a| a.id),
        risk: state.config.deal_risk.clone(),
    }
}

/// Which notifications a list shows.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ShowParam {
    /// Not acknowledged, read or not (the default).
    #[default]
    Open,
    /// Neither read nor acknowledged.
    Unread,
    /// Acknowledged ones too.
    All,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NotificationsQuery {
    /// `open` (default: not acknowledged), `unread`, or `all`.
    #[param(inline)]
    show: Option<ShowParam>,
    /// Only this priority.
    priority: Option<Priority>,
    /// Only this kind.
    kind: Option<NotificationKind>,
    /// At most this many, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// What's up: the caller's unread notifications counted by priority, the five to look at
/// first (most important, then newest) and a one-line summary. Computed once per state of
/// what it reads, and at most 10 seconds apart (`as_of` says when). Overdue and stale moves,
/// replies that arrived, failed runs, open alerts (connectors about to expire or failing,
/// hygiene, sync) and deals at risk — each derived from the events it is about.
#[utoipa::path(
    get,
    path = "/api/whats-up",
    tag = "notifications",
    params(ReadQuery),
    responses(
        (status = 200, description = "What's up", body = WhatsUpResponse, example = json!({
            "counts": {"urgent": 0, "high": 0, "normal": 1, "low": 0},
            "total": 1,
            "top": [{
                "id": "7b0e3c9a-51f4-5f61-9a0e-2d4c8b1e6f20",
                "kind": "moves_stale",
                "priority": "normal",
                "title": "3 moves have waited over a day (casey)",
                "message": "3 pending moves of casey's undecided for more than 24 hours; the oldest since 2026-11-29T08:00:00Z.",
                "link": "/queue?status=pending",
                "source": null,
                "count": 3,
                "happened_at": "2026-12-01T08:00:00Z",
                "expires_at": null,
                "read_at": null,
                "acknowledged_at": null,
                "demo": false
            }],
            "summary": "1 notification (1 other). First: 3 moves have waited over a day (casey)",
            "as_of": "2026-12-01T09:00:00Z"
        })),
        (status = 400, description = "A bad `after` or `consistency`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn whats_up(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    read.settle(&state, NOTIFICATION_VIEWS).await?;
    // The bell asks on every change: computed once per state of what it reads (and at
    // most `HOLD_SECS` apart, since moves become overdue with the clock).
    let key = format!("whats-up|{}|{:?}", principal.user, principal.read_scope());
    answer_once(
        &state,
        &key,
        NOTIFICATION_VIEWS,
        Some(chrono::Duration::seconds(HOLD_SECS)),
        async {
            let at = now();
            let all = views::current(&state.pool, &audience(&state, &principal), at).await?;
            let counts = unread_counts(&all);
            let top: Vec<_> = all
                .into_iter()
                .filter(|n| shown(n, Shown::Unread))
                .take(TOP)
                .collect();
            Ok(WhatsUpResponse {
                total: counts.total(),
                summary: summary(&counts, top.first().map(|n| n.title.as_str())),
                counts,
                top,
                as_of: at,
            })
        },
    )
    .await
}

/// The caller's notifications, most important first, then newest: by default those not
/// acknowledged. `unread` counts the unread ones per priority whatever the filters.
#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "notifications",
    params(NotificationsQuery, ReadQuery),
    responses(
        (status = 200, description = "Notifications", body = NotificationListResponse, example = json!({
            "items": [{
                "id": "3c6f1a2e-9b4d-5e7a-8c1f-2d0b6a9e4f31",
                "kind": "run_failed",
                "priority": "high",
                "title": "DealAdvisor run failed",
                "message": "the provider answered 503 (llm.server_error). Retry it or dismiss it.",
                "link": "/runs/01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21",
                "source": {"aggregate_type": AgentRun::TYPE, "id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21"},
                "count": 1,
                "happened_at": "2026-12-01T08:40:00Z",
                "expires_at": "2026-12-08T08:40:00Z",
                "read_at": null,
                "acknowledged_at": null,
                "demo": false
            }],
            "unread": {"urgent": 0, "high": 1, "normal": 0, "low": 0},
            "as_of": "2026-12-01T09:00:00Z"
        })),
        (status = 400, description = "A bad filter (`request.invalid_query`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_notifications(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<NotificationsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<NotificationListResponse>, ApiError> {
    let limit = limit(query.limit, 50, 200)? as usize;
    read.settle(&state, NOTIFICATION_VIEWS).await?;
    let at = now();
    let all = views::current(&state.pool, &audience(&state, &principal), at).await?;
    let show = match query.show.unwrap_or_default() {
        ShowParam::Open => Shown::Open,
        ShowParam::Unread => Shown::Unread,
        ShowParam::All => Shown::All,
    };
    let unread = unread_counts(&all);
    let items = all
        .into_iter()
        .filter(|n| shown(n, show))
        .filter(|n| query.priority.is_none_or(|p| n.priority == p))
        .filter(|n| query.kind.is_none_or(|k| n.kind == k))
        .take(limit)
        .collect();
    Ok(Json(NotificationListResponse {
        items,
        unread,
        as_of: at,
    }))
}

/// Mark notifications read: the ids given, or every unread one the caller sees. Safe to
/// repeat (a notification read before is not marked again).
#[utoipa::path(
    post,
    path = "/api/notifications/read",
    tag = "notifications",
    request_body(content = MarkNotificationsRequest, example = json!({"ids": ["7b0e3c9a-51f4-5f61-9a0e-2d4c8b1e6f20"]})),
    responses(
        (status = 200, description = "Marked", body = MarkNotificationsResponse, example = json!({
            "marked": 1, "unread": {"urgent": 0, "high": 0, "normal": 2, "low": 0}, "consistency": "7731.42"})),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 404, description = "`notification.not_found`: an id that is none of the caller's current notifications (its cause may have ended); nothing was marked", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: more than 200 ids", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn mark_notifications_read(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<MarkNotificationsRequest>,
) -> Result<Json<MarkNotificationsResponse>, ApiError> {
    mark(&state, &ctx, request, false).await
}

/// Acknowledge notifications (dealt with: no longer counted or listed by default): the ids
/// given, or every open one the caller sees. Safe to repeat.
#[utoipa::path(
    post,
    path = "/api/notifications/acknowledge",
    tag = "notifications",
    request_body(content = MarkNotificationsRequest, example = json!({"ids": ["7b0e3c9a-51f4-5f61-9a0e-2d4c8b1e6f20"]})),
    responses(
        (status = 200, description = "Acknowledged", body = MarkNotificationsResponse, example = json!({
            "marked": 1, "unread": {"urgent": 0, "high": 0, "normal": 2, "low": 0}, "consistency": "7731.42"})),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 404, description = "`notification.not_found`: an id that is none of the caller's current notifications (its cause may have ended); nothing was marked", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: more than 200 ids", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn acknowledge_notifications(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<MarkNotificationsRequest>,
) -> Result<Json<MarkNotificationsResponse>, ApiError> {
    mark(&state, &ctx, request, true).await
}

/// One receipt command per notification named (or every one shown), after checking each is
/// the caller's now.
async fn mark(
    state: &AppState,
    ctx: &CommandContext,
    request: MarkNotificationsRequest,
    acknowledging: bool,
) -> Result<Json<MarkNotificationsResponse>, ApiError> {
    if request
        .ids
        .as_ref()
        .is_some_and(|ids| ids.len() > MAX_MARKED)
    {
        return Err(ApiError::field(
            "ids",
            format!("at most {MAX_MARKED} ids at a time"),
        ));
    }
    let user = ctx.principal.user.clone();
    let audience = audience(state, &ctx.principal);
    let mut all = views::current(&state.pool, &audience, now()).await?;
    let targets: Vec<Uuid> = match &request.ids {
        Some(ids) => {
            if let Some(unknown) = ids.iter().find(|id| !all.iter().any(|n| n.id == **id)) {
                return Err(ApiError::not_found(
                    "notification.not_found",
                    format!("{unknown} is none of your current notifications"),
                ));
            }
            ids.clone()
        }
        None => all
            .iter()
            .filter(|n| {
                shown(
                    n,
                    if acknowledging {
                        Shown::Open
                    } else {
                        Shown::Unread
                    },
                )
            })
            .map(|n| n.id)
            .collect(),
    };
    let mut marked = 0;
    let mut token: Option<Checkpoint> = None;
    for notification_id in targets {
        let at = now();
        let command = if acknowledging {
            ReceiptCommand::Acknowledge {
                notification_id,
                user: user.clone(),
                at,
            }
        } else {
            ReceiptCommand::Read {
                notification_id,
                user: user.clone(),
                at,
            }
        };
        let done = state
            .bus
            .execute::<NotificationReceipt>(receipt_id(notification_id, &user), command, &ctx.meta)
            .await?;
        if done.events > 0 {
            marked += 1;
        }
        token = token.max(done.token);
        if let (Some(n), Some(r)) = (
            all.iter_mut().find(|n| n.id == notification_id),
            done.state.receipt,
        ) {
            n.read_at = r.read_at;
            n.acknowledged_at = r.acknowledged_at;
        }
    }
    Ok(Json(MarkNotificationsResponse {
        marked,
        unread: unread_counts(&all),
        consistency: ConsistencyToken(token.unwrap_or(Checkpoint::ZERO)).to_string(),
    }))
}
