//! `/api/audit`: any aggregate's history, a page at a time — each event with its actor,
//! time and request ids, and the state after it — and its state at any sequence or
//! instant. The fold lives in `caseyos_store::history`, shared with `caseyos replay`.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{AuditResponse, ErrorEnvelope};
use caseyos_store::history::{history, HistoryError, Page, Point};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::limit;
use crate::state::AppState;

/// Events per page unless `limit` says otherwise.
pub const DEFAULT_AUDIT_PAGE: i64 = 100;
/// The most events one page holds.
pub const MAX_AUDIT_PAGE: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The state after this sequence (0 = before the first event); the events shown end
    /// there.
    #[param(minimum = 0)]
    at: Option<i64>,
    /// The state as it was at this instant (RFC 3339); the events shown end there.
    as_of: Option<DateTime<Utc>>,
    /// The previous page's `next_cursor` (the sequence its last event had): this page
    /// holds the events after it. Absent for the first page.
    #[param(pattern = "^[0-9]{1,18}$", example = "100")]
    cursor: Option<String>,
    /// Events per page: 1–500, default 100.
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<i64>,
}

/// The sequence a cursor stands for.
fn after(cursor: Option<&str>) -> Result<i64, ApiError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_cursor",
                "the cursor is not one this API issued (a page's `next_cursor`)",
            )
        }),
    }
}

/// An aggregate's history a page at a time, oldest first: each event with its metadata
/// and the state after it, and the state at the requested point — the last event, a
/// sequence (`at`) or an instant (`as_of`). A page holds at most `limit` events (default
/// 100, at most 500); `next_cursor` reads the next. Operators read the histories of their
/// own moves and runs only: another operator's move is refused (403), another's run does
/// not exist for them (404).
#[utoipa::path(
    get,
    path = "/api/audit/{aggregate_type}/{aggregate_id}",
    tag = "audit",
    params(
        ("aggregate_type" = String, Path, description = "e.g. `queue_item`"),
        ("aggregate_id" = String, Path),
        AuditQuery
    ),
    responses(
        (status = 200, description = "A page of the history, and the state at the point", body = AuditResponse),
        (status = 400, description = "`limit` out of 1–500 (`request.invalid_query`), a cursor this API did not issue (`request.invalid_cursor`), or both `at` and `as_of` (`audit.invalid_point`)", body = ErrorEnvelope),
        (status = 403, description = "Someone else's move (operators)", body = ErrorEnvelope),
        (status = 404, description = "Unknown type, id or sequence; or someone else's run (operators)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_audit(
    State(state): State<AppState>,
    ApiPath((aggregate_type, aggregate_id)): ApiPath<(String, String)>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditResponse>, ApiError> {
    let point = Point::new(query.at, query.as_of)?;
    let page = Page {
        after: after(query.cursor.as_deref())?,
        limit: limit(query.limit, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE)?,
    };
    let found = history(&state.pool, &aggregate_type, &aggregate_id, point, page).await?;
    if let Some(ownership) = found.ownership {
        if !principal.may_read(&ownership.owner) {
            return Err(if ownership.disclosed {
                ApiError::forbidden("this history belongs to someone else")
            } else {
                // Exactly what an unknown id gets.
                HistoryError::NotFound {
                    aggregate_type: found.page.aggregate_type,
                    aggregate_id,
                }
                .into()
            });
        }
    }
    Ok(Json(found.page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_sequences_this_api_issued() {
        // (cursor, the sequence after which the page starts)
        let table = [
            (None, Some(0)),
            (Some(""), Some(0)),
            (Some("100"), Some(100)),
            (Some("0"), Some(0)),
            (Some("-1"), None),
            (Some("1e3"), None),
            (Some("eyJhdCI6MX0"), None),
            (Some("99999999999999999999"), None),
        ];
        for (cursor, expected) in table {
            let got = after(cursor);
            assert_eq!(got.as_ref().ok().copied(), expected, "{cursor:?}");
            if let Err(error) = got {
                assert_eq!(error.code, "request.invalid_cursor", "{cursor:?}");
            }
        }
    }
}
