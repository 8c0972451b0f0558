//! Reading signals: filtered pages and one signal, from the signals read model.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, SignalListResponse};
use caseyos_domain::signals::{OutcomeStatus, SignalKind, SignalSource, SignalView};
use caseyos_projections::signals::{
    self as views, SignalCursor, SignalEntity, SignalFilter, SignalState,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit, parse_list, NOT_OUR_CURSOR};
use crate::state::AppState;

/// The read models these queries depend on.
pub(super) const SIGNAL_VIEWS: &[&str] = &["signals"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_signals))
        .routes(routes!(get_signal))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SignalsQuery {
    /// Comma-separated: hubspot, gmail, form, manual, calendar, rule.
    source: Option<String>,
    /// Comma-separated: deal_created, deal_stage_changed, deal_amount_changed,
    /// reply_received, form_submitted, deal_stalled, deal_closing_soon, big_deal_moved,
    /// lead_gone_cold, manual.
    kind: Option<String>,
    /// Comma-separated: pending (not processed yet), processed (any outcome), proposed,
    /// skipped, failed.
    status: Option<String>,
    /// A contact's or deal's id, or a contact's email address: the signals about it
    /// (a value that is neither matches none).
    entity: Option<String>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
}

/// The values `status` takes (the document's filter pattern).
pub const STATUS_FILTERS: &[&str] = &["pending", "processed", "proposed", "skipped", "failed"];

fn state_of(raw: &str) -> Option<SignalState> {
    match raw {
        "pending" => Some(SignalState::Pending),
        "processed" => Some(SignalState::Processed),
        other => OutcomeStatus::parse(other).map(SignalState::Outcome),
    }
}

/// A contact's or deal's id; anything else is read as a contact's address (lower case), so
/// a value that is neither simply matches no signal.
fn entity_of(raw: &str) -> SignalEntity {
    match Uuid::try_parse(raw) {
        Ok(id) => SignalEntity::Id(id),
        Err(_) => SignalEntity::Email(raw.trim().to_lowercase()),
    }
}

/// Signals, newest first, each with what its processing produced (`processed.outcome`:
/// the proposed move's `item_id` and `title`, or the reason nothing was proposed).
#[utoipa::path(
    get,
    path = "/api/signals",
    tag = "signals",
    params(SignalsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of signals", body = SignalListResponse),
        (status = 400, description = "A bad filter or cursor", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_signals(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<SignalsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<SignalListResponse>, ApiError> {
    let filter = SignalFilter {
        sources: parse_list(query.source.as_deref(), "source", SignalSource::parse)?,
        kinds: parse_list(query.kind.as_deref(), "kind", SignalKind::parse)?,
        states: parse_list(query.status.as_deref(), "status", state_of)?,
        entity: query
            .entity
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(entity_of),
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| {
        SignalCursor::decode(raw).ok_or(NOT_OUR_CURSOR)
    })?;
    read.settle(&state, SIGNAL_VIEWS).await?;
    let (items, next, total) = views::list(&state.pool, &filter, limit, cursor.as_ref()).await?;
    Ok(Json(SignalListResponse {
        items,
        next_cursor: next.map(|c| c.encode()),
        total,
    }))
}

/// One signal with what its processing produced.
#[utoipa::path(
    get,
    path = "/api/signals/{id}",
    tag = "signals",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The signal", body = SignalView),
        (status = 404, description = "No such signal (`signal.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_signal(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<SignalView>, ApiError> {
    read.settle(&state, SIGNAL_VIEWS).await?;
    views::get(&state.pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("signal.not_found", "no such signal"))
}
