//! Reading API tokens: a page of them, oldest first, without their secrets.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use caseyos_domain::api::{ApiTokenListResponse, ErrorEnvelope};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::tokens::list_tokens;
use crate::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::pagination::{cursor, limit, NOT_OUR_CURSOR};
use crate::state::AppState;

const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 50;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_api_tokens))
}

/// An admin caller. Extracted before the body, so others get their 403 whatever they sent.
pub(super) struct Admin(pub(super) Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require(Role::Admin)?;
        Ok(Admin(principal))
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TokensQuery {
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Every API token — active, expired and revoked — oldest first. Secrets are never
/// listed: only a token's first 8 characters (`prefix`).
#[utoipa::path(
    get,
    path = "/api/tokens",
    tag = "tokens",
    params(TokensQuery),
    responses(
        (status = 200, description = "A page of tokens", body = ApiTokenListResponse),
        (status = 400, description = "`request.invalid_query` (a limit outside 1–100) or \
            `request.invalid_cursor`", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "`auth.forbidden`: only admins manage tokens", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_api_tokens(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<TokensQuery>,
) -> Result<Json<ApiTokenListResponse>, ApiError> {
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let after = cursor(query.cursor.as_deref(), |raw| {
        Uuid::parse_str(raw).map_err(|_| NOT_OUR_CURSOR)
    })?;
    // One more than the page tells whether another page follows.
    let (mut items, total) = list_tokens(&state.pool, after, limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|t| t.id.to_string())
    } else {
        None
    };
    Ok(Json(ApiTokenListResponse {
        items,
        next_cursor,
        total,
    }))
}
