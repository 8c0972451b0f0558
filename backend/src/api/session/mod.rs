//! `/api/session`: browser sessions. Sign in with a one-time link (from `caseyos
//! signin-link` or the first run of `caseyos serve`) or an API token; see who is signed in;
//! sign out.
//!
//! A session is the `caseyos_session` cookie (`__Host-caseyos_session`, `Secure`, when
//! served over HTTPS) — 256 random bits, stored only as its SHA-256 — HttpOnly and
//! SameSite=Strict, with a CSRF token the SPA sends back as `X-CSRF-Token` on every request
//! that changes something. Sessions end 7 days after sign-in (or at sign-out, or when the
//! API token signed in with is revoked or expires); links work once, within 24 hours.

use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, SessionResponse, SignInRequest};
use chrono::{DateTime, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::sessions::{
    self, forget_expired, start_session, use_link, use_token, SESSION_MAX_AGE_SECS,
};
use crate::http::auth::{
    authenticate, cookie, invalid_token, session_cookie_name, session_set_cookie, Authenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in, get_session, sign_out))
}

/// `Set-Cookie` for the session: `max_age` 0 clears it.
fn session_cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    session_set_cookie(&state.config, value, max_age)
        .ok_or_else(|| ApiError::internal("a session cookie that is not a header value"))
}

fn invalid_sign_in_request() -> ApiError {
    let mut error = ApiError::validation(
        ["link", "token"]
            .into_iter()
            .map(|field| caseyos_domain::api::FieldError {
                field: field.into(),
                message: "give exactly one of link or token".into(),
            })
            .collect(),
    );
    error.message = "give exactly one of link (a sign-in link) or token (an API token)".into();
    error
}

/// Sign in: exchange a one-time sign-in link, or an API token, for a session cookie.
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "session",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in. The session is the `caseyos_session` cookie \
            (HttpOnly, SameSite=Strict, 7 days, or until the API token signed in with expires if \
            that is sooner); over HTTPS it is `__Host-caseyos_session` and `Secure`. Send \
            `csrf_token` as `X-CSRF-Token` with every request that changes something.",
            body = SessionResponse,
            headers(("Set-Cookie" = String, description = "`caseyos_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=604800`, or over HTTPS `__Host-caseyos_session=…; …; Secure`"))),
        (status = 401, description = "`auth.invalid_link` (unknown, used or expired link) or `auth.invalid_token` (unknown, revoked or expired token)", body = ErrorEnvelope),
        (status = 422, description = "Neither or both of link and token", body = ErrorEnvelope),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut tx = state.pool.begin().await?;
    let sign_in = match (given(&request.link), given(&request.token)) {
        (Some(link), None) => use_link(&mut tx, &link).await?.ok_or_else(|| {
            ApiError::unauthorized(
                "auth.invalid_link",
                "this sign-in link is unknown, used or expired; ask for a new one \
                 (caseyos signin-link)",
            )
        })?,
        (None, Some(token)) => use_token(&mut tx, &token)
            .await?
            .ok_or_else(invalid_token)?,
        _ => return Err(invalid_sign_in_request()),
    };
    let role = sign_in.role;
    let (id, session) = start_session(&mut tx, sign_in).await?;
    tx.commit().await?;
    tracing::info!(auth.role = %role, "session started");
    forget_expired(state.pool.clone());
    // Whole seconds, rounded up: a session of exactly 7 days is `Max-Age=604800`.
    let lasts_ms = (session.expires_at - Utc::now()).num_milliseconds();
    let lasts = (lasts_ms + 999)
        .div_euclid(1000)
        .clamp(0, SESSION_MAX_AGE_SECS);
    let cookie = session_cookie(&state, &id, lasts)?;
    Ok(([(SET_COOKIE, cookie)], Json(session)).into_response())
}

/// What a bearer token that never expires reports as its `expires_at`.
fn bearer_expiry() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Who is signed in. For the session cookie: the session, with its CSRF token. For a
/// bearer token: its user and role, an empty `csrf_token` (bearer requests need none) and
/// when the token expires — 9999-12-31T23:59:59Z for a token without an expiry.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "session",
    responses(
        (status = 200, description = "The caller's session", body = SessionResponse),
        (status = 401, description = "Not signed in, or `auth.session_expired`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_session(auth: Authenticated) -> Json<SessionResponse> {
    let Authenticated {
        principal,
        session,
        token_expires_at,
    } = auth;
    Json(match session {
        Some(session) => SessionResponse {
            user: principal.user,
            role: principal.role,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
        },
        None => SessionResponse {
            user: principal.user,
            role: principal.role,
            csrf_token: String::new(),
            expires_at: token_expires_at.unwrap_or_else(bearer_expiry),
        },
    })
}

/// Sign out: ends the cookie's session (it needs `X-CSRF-Token`) and clears the cookie.
/// Signing out is authenticated like every other request: a cookie that names no live
/// session (signed out already, expired, unknown) is a 401 `auth.session_expired` — and the
/// answer still clears it — so a 204 to a cookie always means its session ended here. With
/// a bearer token this ends nothing (revoke tokens with `DELETE /api/tokens/{id}` or
/// `caseyos token revoke`) and only clears any cookie.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out: the cookie's session has ended (or, for a \
            bearer token, nothing did); the cookie is cleared (`Max-Age=0`)",
            headers(("Set-Cookie" = String, description = "`caseyos_session=; …; Max-Age=0` (`__Host-caseyos_session` over HTTPS)"))),
        (status = 401, description = "`auth.missing_credentials` (no cookie, no token), \
            `auth.session_expired` (the cookie names no live session: already signed out, \
            expired or unknown; the cookie is cleared all the same), `auth.invalid_token` or \
            `auth.invalid_credentials`", body = ErrorEnvelope,
            headers(("Set-Cookie" = String, description = "`caseyos_session=; …; Max-Age=0` when a cookie was sent"))),
        (status = 403, description = "`auth.csrf_failed`: no or wrong `X-CSRF-Token`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn sign_out(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, _body) = request.into_parts();
    let cleared = session_cookie(&state, "", 0)?;
    let signed_in = match authenticate(&parts, &state).await {
        Ok(signed_in) => signed_in,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            let sent_cookie = cookie(&parts.headers, session_cookie_name(&state.config)).is_some();
            let mut response = error.into_response();
            if sent_cookie {
                response.headers_mut().insert(SET_COOKIE, cleared);
            }
            return Ok(response);
        }
        Err(error) => return Err(error),
    };
    if let Some(session) = signed_in.session {
        sessions::revoke(&state.pool, &session.id_hash).await?;
        tracing::info!("session ended");
    }
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cleared)]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_lives_as_long_as_the_session() {
        assert_eq!(SESSION_MAX_AGE_SECS, 604_800);
        assert_eq!(bearer_expiry().to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }
}
