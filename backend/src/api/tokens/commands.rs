//! Commands on API tokens: create one (the secret is shown once), revoke one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{
    CreateApiTokenRequest, CreatedApiTokenResponse, ErrorEnvelope, FieldError,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::queries::Admin;
use crate::auth::tokens::{issue_token, revoke_token_by_id, Lifetime, NewToken, TokenError};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_token))
        .routes(routes!(revoke_api_token))
}

/// The answer to a token that cannot be created.
fn refusal(error: TokenError) -> ApiError {
    let field = |field: &str, message: String| {
        ApiError::validation(vec![FieldError {
            field: field.into(),
            message,
        }])
    };
    match error {
        TokenError::NameTaken(_) => {
            ApiError::new(StatusCode::CONFLICT, "token.name_taken", error.to_string())
        }
        TokenError::InvalidName(message) => field("name", message.into()),
        TokenError::InvalidUser(message) => field("user", message.into()),
        TokenError::InvalidExpiry(message) => field("expires_in_days", message),
        TokenError::NotFound(_) => token_not_found(),
        TokenError::Database(e) => e.into(),
    }
}

fn token_not_found() -> ApiError {
    ApiError::not_found("token.not_found", "no API token has this id")
}

/// Create an API token. Its secret is in this answer only: CaseyOS stores just its
/// SHA-256.
#[utoipa::path(
    post,
    path = "/api/tokens",
    tag = "tokens",
    request_body = CreateApiTokenRequest,
    responses(
        (status = 201, description = "Created; `secret` is the bearer token, shown only now",
            body = CreatedApiTokenResponse),
        (status = 400, description = "`request.invalid_json`", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "`auth.forbidden`: only admins manage tokens", body = ErrorEnvelope),
        (status = 409, description = "`token.name_taken`: a token has this name", body = ErrorEnvelope),
        (status = 422, description = "`request.validation` naming `name`, `user`, `role` or \
            `expires_in_days`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn create_api_token(
    State(state): State<AppState>,
    Admin(principal): Admin,
    ApiJson(request): ApiJson<CreateApiTokenRequest>,
) -> Result<Response, ApiError> {
    let lifetime = request
        .expires_in_days
        .map(Lifetime::days)
        .transpose()
        .map_err(refusal)?;
    let new = NewToken {
        name: &request.name,
        user: &request.user,
        role: request.role,
        lifetime,
    };
    let issued = issue_token(&state.pool, new).await.map_err(refusal)?;
    tracing::info!(
        token.name = %issued.token.name,
        token.role = %issued.token.role,
        by = %principal.user,
        "API token created"
    );
    let body = CreatedApiTokenResponse {
        token: issued.token,
        secret: issued.secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revoke an API token: it authenticates nothing from now on, and the browser sessions
/// signed in with it end. Revoking a revoked token changes nothing and answers the same.
#[utoipa::path(
    delete,
    path = "/api/tokens/{id}",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "The token's id (`GET /api/tokens`)")),
    responses(
        (status = 204, description = "Revoked (now or before)"),
        (status = 400, description = "`request.invalid_path`: the id is not a UUID", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "`auth.forbidden`: only admins manage tokens", body = ErrorEnvelope),
        (status = 404, description = "`token.not_found`: no token has this id", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn revoke_api_token(
    State(state): State<AppState>,
    Admin(principal): Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let revoked = revoke_token_by_id(&state.pool, id)
        .await?
        .ok_or_else(token_not_found)?;
    // It stops working here at once; other instances re-check within a second.
    state.tokens.forget_all();
    if !revoked.already {
        tracing::info!(
            token.name = %revoked.token.name,
            sessions_ended = revoked.sessions_ended,
            by = %principal.user,
            "API token revoked"
        );
    }
    Ok(StatusCode::NO_CONTENT)
}
