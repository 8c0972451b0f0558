//! `/api/audit`: any aggregate's full history — each event with its actor, time and
//! request ids, and the state after it — and its state at any sequence or instant. The
//! fold lives in `caseyos_store::history`, shared with `caseyos replay`.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{AuditResponse, ErrorEnvelope};
use caseyos_store::history::{at_point, history, Point};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The state after this sequence (0 = before the first event).
    at: Option<i64>,
    /// The state as it was at this instant (RFC 3339).
    as_of: Option<DateTime<Utc>>,
}

/// An aggregate's full history, each event with its metadata and the state after it; or
/// its state at a sequence (`at`) or instant (`as_of`).
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
        (status = 200, description = "History and state", body = AuditResponse),
        (status = 404, description = "Unknown type, id or sequence", body = ErrorEnvelope),
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
    // One read and fold: the full history gives the current owner (operators see their
    // own moves' histories only), then it is cut back to the requested point.
    let full = history(
        &state.pool,
        &aggregate_type,
        &aggregate_id,
        Point::default(),
    )
    .await?;
    if principal.role == Role::Operator {
        let owner = full.state.get("owner").and_then(Value::as_str);
        if owner.is_some_and(|o| o != principal.user) {
            return Err(ApiError::forbidden(
                "this history belongs to someone else's move",
            ));
        }
    }
    let response = at_point(full, point)?;
    Ok(Json(response))
}
