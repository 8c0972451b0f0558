//! Reading alerts: filtered pages over the alerts read model.

use axum::extract::State;
use axum::Json;
use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertStatus};
use caseyos_domain::api::{AlertListResponse, ErrorEnvelope};
use caseyos_projections::alerts::{self as views, AlertCursor, AlertFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::pagination::{cursor, limit, parse_list, NOT_OUR_CURSOR};
use crate::state::AppState;

/// The read models these queries depend on.
pub(super) const ALERT_VIEWS: &[&str] = &["alerts"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_alerts))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AlertsQuery {
    /// Comma-separated: open, dismissed, resolved (default: open; `all` for every status).
    status: Option<String>,
    /// Comma-separated: contact.stale, duplicates.surge, sync.degraded, sync.unhealthy,
    /// connector.expiring, connector.failing, connector.resynced.
    kind: Option<String>,
    /// Comma-separated: urgent, high, normal, low.
    severity: Option<String>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
}

/// Alerts, most severe first, then newest; open ones unless `status` says otherwise.
#[utoipa::path(
    get,
    path = "/api/alerts",
    tag = "hygiene",
    params(AlertsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of alerts", body = AlertListResponse),
        (status = 400, description = "A bad filter or cursor", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_alerts(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<AlertsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<AlertListResponse>, ApiError> {
    let statuses = match query.status.as_deref() {
        None | Some("") => vec![AlertStatus::Open],
        Some("all") => Vec::new(),
        raw => parse_list(raw, "status", AlertStatus::parse)?,
    };
    let filter = AlertFilter {
        statuses,
        kinds: parse_list(query.kind.as_deref(), "kind", AlertKind::parse)?,
        severities: parse_list(query.severity.as_deref(), "severity", AlertSeverity::parse)?,
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| {
        AlertCursor::decode(raw).ok_or(NOT_OUR_CURSOR)
    })?;
    read.settle(&state, ALERT_VIEWS).await?;
    let (items, next, total) = views::list(&state.pool, &filter, limit, cursor.as_ref()).await?;
    Ok(Json(AlertListResponse {
        items,
        next_cursor: next.map(|c| c.encode()),
        total,
    }))
}
