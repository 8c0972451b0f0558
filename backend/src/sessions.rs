//! `/api/session`: browser sessions. Sign in with a one-time link (from `caseyos
//! signin-link` or the first run of `caseyos serve`) or an API token; see who is signed in;
//! sign out.
//!
//! A session is the `caseyos_session` cookie — 256 random bits, stored only as its SHA-256 —
//! HttpOnly and SameSite=Strict, with a CSRF token the SPA sends back as `X-CSRF-Token` on
//! every request that changes something. Sessions end 7 days after sign-in (or at sign-out);
//! links work once, within 24 hours.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, SessionResponse, SignInRequest};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{
    self, check_csrf, cookie, hash_token, random_secret, ActiveSession, Authenticated, Principal,
    Role, SESSION_COOKIE,
};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// Days a session lasts from sign-in.
pub const SESSION_DAYS: i32 = 7;
/// The cookie's `Max-Age`: the same 7 days, in seconds.
pub const SESSION_MAX_AGE_SECS: i64 = SESSION_DAYS as i64 * 24 * 60 * 60;
/// Hours a sign-in link stays usable.
pub const LINK_HOURS: i32 = 24;
/// Expired sessions and links are kept this long (for the record), then deleted.
const KEEP_EXPIRED_DAYS: i32 = 30;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in, get_session, sign_out))
}

/// Stores a one-time sign-in link for `user` and returns its token (only its hash is kept).
pub async fn create_sign_in_link(pool: &PgPool, user: &str, role: Role) -> anyhow::Result<String> {
    let user = caseyos_domain::queue::parse_owner(user)
        .map_err(|message| anyhow::anyhow!("user name {message}"))?;
    let token = random_secret();
    sqlx::query(
        "insert into sign_in_links (token_hash, user_name, role, expires_at) \
         values ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(hash_token(&token))
    .bind(&user)
    .bind(role.as_str())
    .bind(LINK_HOURS)
    .execute(pool)
    .await?;
    Ok(token)
}

/// The address a person opens to sign in with a link: the SPA's sign-in page.
pub fn sign_in_url(public_url: &str, token: &str) -> String {
    format!("{}/sign-in?link={token}", public_url.trim_end_matches('/'))
}

/// Uses a link up, if it is known, unused and unexpired: who it signs in, as what.
async fn use_link(conn: &mut PgConnection, link: &str) -> sqlx::Result<Option<SignIn>> {
    let row = sqlx::query(
        "update sign_in_links set used_at = now() \
         where token_hash = $1 and used_at is null and expires_at > now() \
         returning user_name, role",
    )
    .bind(hash_token(link))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    Ok(match Role::parse(&role) {
        Some(role) => Some(SignIn {
            user: row.try_get("user_name")?,
            role,
            api_token_id: None,
        }),
        None => None,
    })
}

/// Who signs in, as what, and with which API token (if one).
struct SignIn {
    user: String,
    role: Role,
    api_token_id: Option<Uuid>,
}

/// A valid API token's user, role and id; signing in with it counts as using it.
async fn use_token(conn: &mut PgConnection, token: &str) -> sqlx::Result<Option<SignIn>> {
    let row = sqlx::query(
        "update api_tokens set last_used_at = now() \
         where token_hash = $1 and revoked_at is null \
         returning id, user_name, role",
    )
    .bind(hash_token(token))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    Ok(match Role::parse(&role) {
        Some(role) => Some(SignIn {
            user: row.try_get("user_name")?,
            role,
            api_token_id: Some(row.try_get("id")?),
        }),
        None => None,
    })
}

/// Starts a session; returns the cookie value and what the SPA is told.
async fn start_session(
    conn: &mut PgConnection,
    sign_in: SignIn,
) -> sqlx::Result<(String, SessionResponse)> {
    let id = random_secret();
    let csrf_token = random_secret();
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into sessions \
           (id_hash, user_name, role, csrf_token, expires_at, last_seen_at, api_token_id) \
         values ($1, $2, $3, $4, now() + make_interval(days => $5), now(), $6) \
         returning expires_at",
    )
    .bind(hash_token(&id))
    .bind(&sign_in.user)
    .bind(sign_in.role.as_str())
    .bind(&csrf_token)
    .bind(SESSION_DAYS)
    .bind(sign_in.api_token_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        id,
        SessionResponse {
            user: sign_in.user,
            role: sign_in.role,
            csrf_token,
            expires_at,
        },
    ))
}

/// The live session a cookie names, if any (unknown, expired and revoked ones are not, nor
/// ones started with an API token revoked since). Records `last_seen_at` at most once a
/// minute, off the request path.
pub(crate) async fn resolve(
    pool: &PgPool,
    id: &str,
) -> sqlx::Result<Option<(Principal, ActiveSession)>> {
    let id_hash = hash_token(id);
    let row = sqlx::query(
        "select s.user_name, s.role, s.csrf_token, s.expires_at, \
           (s.last_seen_at is null or s.last_seen_at < now() - interval '1 minute') as stale \
         from sessions s left join api_tokens t on t.id = s.api_token_id \
         where s.id_hash = $1 and s.revoked_at is null and s.expires_at > now() \
           and t.revoked_at is null",
    )
    .bind(&id_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    if row.try_get::<bool, _>("stale")? {
        let pool = pool.clone();
        let id_hash = id_hash.clone();
        tokio::spawn(async move {
            let _ = sqlx::query("update sessions set last_seen_at = now() where id_hash = $1")
                .bind(id_hash)
                .execute(&pool)
                .await;
        });
    }
    Ok(Some((
        Principal {
            user: row.try_get("user_name")?,
            role,
            credential: "session".into(),
        },
        ActiveSession {
            id_hash,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        },
    )))
}

/// The answer to a cookie naming no live session.
pub(crate) fn expired() -> ApiError {
    ApiError::unauthorized(
        "auth.session_expired",
        "your session has ended (signed out, or older than 7 days); sign in again",
    )
}

/// `Set-Cookie` for the session: `max_age` 0 clears it. `Secure` when the public URL is
/// HTTPS.
fn session_cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https"));
    let cookie = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).map_err(ApiError::internal)
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
            (HttpOnly, SameSite=Strict, 7 days); send `csrf_token` as `X-CSRF-Token` with every \
            request that changes something.", body = SessionResponse,
            headers(("Set-Cookie" = String, description = "`caseyos_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=604800` (+ `Secure` over HTTPS)"))),
        (status = 401, description = "`auth.invalid_link` (unknown, used or expired link) or `auth.invalid_token`", body = ErrorEnvelope),
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
        (None, Some(token)) => use_token(&mut tx, &token).await?.ok_or_else(|| {
            ApiError::unauthorized("auth.invalid_token", "this token is unknown or revoked")
        })?,
        _ => return Err(invalid_sign_in_request()),
    };
    let role = sign_in.role;
    let (id, session) = start_session(&mut tx, sign_in).await?;
    tx.commit().await?;
    tracing::info!(auth.role = %role, "session started");
    forget_expired(state.pool.clone());
    let cookie = session_cookie(&state, &id, SESSION_MAX_AGE_SECS)?;
    Ok(([(SET_COOKIE, cookie)], Json(session)).into_response())
}

/// Deletes sessions and links long expired, off the request path.
fn forget_expired(pool: PgPool) {
    tokio::spawn(async move {
        for table in ["sessions", "sign_in_links"] {
            let _ = sqlx::query(&format!(
                "delete from {table} where expires_at < now() - make_interval(days => $1)"
            ))
            .bind(KEEP_EXPIRED_DAYS)
            .execute(&pool)
            .await;
        }
    });
}

/// Bearer callers have no expiry: their `expires_at` reads 9999-12-31T23:59:59Z.
fn bearer_expiry() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Who is signed in. For the session cookie: the session, with its CSRF token. For a
/// bearer token: its user and role, an empty `csrf_token` (bearer requests need none) and
/// `expires_at` 9999-12-31T23:59:59Z (tokens do not expire; they are revoked).
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
    let Authenticated { principal, session } = auth;
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
            expires_at: bearer_expiry(),
        },
    })
}

/// Sign out: ends the cookie's session (it needs `X-CSRF-Token`) and clears the cookie. A
/// session that has already ended just has its cookie cleared. Bearer tokens are not
/// revoked here (`caseyos token`); for them this only clears any cookie.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared (`Max-Age=0`)",
            headers(("Set-Cookie" = String, description = "`caseyos_session=; …; Max-Age=0`"))),
        (status = 401, description = "No credentials, or an invalid token", body = ErrorEnvelope),
        (status = 403, description = "`auth.csrf_failed`: no or wrong `X-CSRF-Token`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn sign_out(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, _body) = request.into_parts();
    if parts.headers.contains_key(AUTHORIZATION) {
        auth::authenticate(&parts, &state).await?;
    } else {
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(auth::missing_credentials)?;
        if let Some((_, session)) = resolve(&state.pool, id).await? {
            check_csrf(&parts, &session)?;
            sqlx::query(
                "update sessions set revoked_at = now() where id_hash = $1 and revoked_at is null",
            )
            .bind(&session.id_hash)
            .execute(&state.pool)
            .await?;
            tracing::info!("session ended");
        }
    }
    let cleared = session_cookie(&state, "", 0)?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cleared)]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_urls_point_at_the_spa_sign_in_page() {
        assert_eq!(
            sign_in_url("http://127.0.0.1:8080/", "abc_-1"),
            "http://127.0.0.1:8080/sign-in?link=abc_-1"
        );
        assert_eq!(
            sign_in_url("https://caseyos.example", "t"),
            "https://caseyos.example/sign-in?link=t"
        );
    }

    #[test]
    fn the_cookie_lives_as_long_as_the_session() {
        assert_eq!(SESSION_MAX_AGE_SECS, 604_800);
        assert_eq!(bearer_expiry().to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }
}
