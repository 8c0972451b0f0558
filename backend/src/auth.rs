//! Who is calling: bearer tokens for API clients (stored as SHA-256 hashes), the browser
//! session cookie (with CSRF protection), roles, and the rules of what each role may see
//! and do. Both resolve to the same [`Principal`], so handlers never care how a caller
//! signed in.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use caseyos_domain::queue::Actor;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// What a caller may do: one definition, shared with the SPA.
pub use caseyos_domain::api::Role;

/// The browser session cookie (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "caseyos_session";
/// The header a cookie-authenticated request that changes something must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user name: owner of their moves, recorded as the actor on their events.
    pub user: String,
    pub role: Role,
    /// The credential used, e.g. `token:ci-admin`.
    pub credential: String,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.clone())
    }

    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role; you are signed in as {}",
                self.role
            )))
        }
    }

    /// May this caller read moves owned by `owner`? Operators see their own; viewers and
    /// admins see everyone's.
    pub fn may_read_owner(&self, owner: &str) -> bool {
        self.role != Role::Operator || owner == self.user
    }

    /// May this caller decide or change moves owned by `owner`?
    pub fn may_act_for(&self, owner: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => owner == self.user,
            Role::Viewer => false,
        }
    }
}

/// 256 random bits as 43 characters of base64url: session ids, CSRF and sign-in link tokens.
pub fn random_secret() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new bearer token: `cos_` and 43 characters of base64url randomness (256 bits).
pub fn generate_token() -> String {
    format!("cos_{}", random_secret())
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named `{0}` already exists")]
    NameTaken(String),
    #[error("token name {0}")]
    InvalidName(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Stores a new token and returns it; only its hash is kept.
pub async fn create_token(
    pool: &PgPool,
    name: &str,
    user: &str,
    role: Role,
) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(TokenError::InvalidName(
            "must be 1–64 characters without spaces",
        ));
    }
    let user = caseyos_domain::queue::parse_owner(user).map_err(TokenError::InvalidName)?;
    let token = generate_token();
    let result = sqlx::query(
        "insert into api_tokens (id, name, user_name, role, token_hash, token_prefix) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(&user)
    .bind(role.as_str())
    .bind(hash_token(&token))
    .bind(&token[..8])
    .execute(pool)
    .await;
    match result {
        Ok(_) => Ok(token),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(TokenError::NameTaken(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Resolves a bearer token to its principal, if it is valid and not revoked.
pub async fn principal_for_token(pool: &PgPool, token: &str) -> sqlx::Result<Option<Principal>> {
    let row = sqlx::query(
        "select id, name, user_name, role, \
           (last_used_at is null or last_used_at < now() - interval '1 minute') as stale \
         from api_tokens where token_hash = $1 and revoked_at is null",
    )
    .bind(hash_token(token))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    if row.try_get::<bool, _>("stale")? {
        // Recorded at most once a minute, off the request path.
        let id: Uuid = row.try_get("id")?;
        let pool = pool.clone();
        tokio::spawn(async move {
            let _ = sqlx::query("update api_tokens set last_used_at = now() where id = $1")
                .bind(id)
                .execute(&pool)
                .await;
        });
    }
    Ok(Some(Principal {
        user: row.try_get("user_name")?,
        role,
        credential: format!("token:{}", row.try_get::<String, _>("name")?),
    }))
}

/// How a request proved who it is: a bearer token, or a browser session cookie (with the
/// session's details, for `/api/session`).
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub principal: Principal,
    pub session: Option<ActiveSession>,
}

/// A live browser session (see [`crate::sessions`]).
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub id_hash: Vec<u8>,
    pub csrf_token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The value of one cookie in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| key.trim() == name && !value.trim().is_empty())
        .map(|(_, value)| value.trim())
}

/// Methods that change nothing, so need no CSRF token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a cookie-authenticated request that changes something unless it carries the
/// session's CSRF token in `X-CSRF-Token`.
pub fn check_csrf(parts: &Parts, session: &ActiveSession) -> Result<(), ApiError> {
    if is_safe(&parts.method) {
        return Ok(());
    }
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if constant_time_eq(sent, session.csrf_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.csrf_failed",
            "requests signed in with the session cookie that change something must send the \
             session's csrf_token in the X-CSRF-Token header",
        ))
    }
}

/// Compares secrets without revealing, by timing, how much of them matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn missing_credentials() -> ApiError {
    ApiError::unauthorized(
        "auth.missing_credentials",
        "sign in, or send `Authorization: Bearer <token>`",
    )
}

/// The bearer token of an `Authorization` header.
async fn bearer(pool: &PgPool, header: &HeaderValue) -> Result<Principal, ApiError> {
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            let (scheme, rest) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "auth.invalid_credentials",
                "the Authorization header must be `Bearer <token>`",
            )
        })?;
    principal_for_token(pool, token).await?.ok_or_else(|| {
        ApiError::unauthorized("auth.invalid_token", "this token is unknown or revoked")
    })
}

/// Authenticates a request: the `Authorization` header when there is one, else the session
/// cookie (with CSRF protection for anything but GET, HEAD and OPTIONS).
pub(crate) async fn authenticate(
    parts: &Parts,
    state: &AppState,
) -> Result<Authenticated, ApiError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        return Ok(Authenticated {
            principal: bearer(&state.pool, header).await?,
            session: None,
        });
    }
    let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Err(missing_credentials());
    };
    let (principal, session) = crate::sessions::resolve(&state.pool, id)
        .await?
        .ok_or_else(crate::sessions::expired)?;
    check_csrf(parts, &session)?;
    Ok(Authenticated {
        principal,
        session: Some(session),
    })
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<Authenticated>() {
            return Ok(known.clone());
        }
        let authenticated = authenticate(parts, state).await?;
        parts.extensions.insert(authenticated.clone());
        Ok(authenticated)
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Authenticated::from_request_parts(parts, state)
            .await
            .map(|a| a.principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user: "casey".into(),
            role,
            credential: "token:t".into(),
        }
    }

    #[test]
    fn roles_are_ordered_and_required() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert!(principal(Role::Admin).require(Role::Operator).is_ok());
        let refused = principal(Role::Viewer).require(Role::Operator).unwrap_err();
        assert_eq!(refused.code, "auth.forbidden");
    }

    #[test]
    fn who_may_read_and_act_for_whom() {
        // (role, owner, may read, may act)
        let table = [
            (Role::Viewer, "casey", true, false),
            (Role::Viewer, "alex", true, false),
            (Role::Operator, "casey", true, true),
            (Role::Operator, "alex", false, false),
            (Role::Admin, "alex", true, true),
        ];
        for (role, owner, read, act) in table {
            let p = principal(role);
            assert_eq!(p.may_read_owner(owner), read, "{role} reads {owner}");
            assert_eq!(p.may_act_for(owner), act, "{role} acts for {owner}");
        }
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("cos_") && a.len() == 47, "{a}");
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 32);
    }

    #[test]
    fn roles_are_stored_by_the_names_the_database_accepts() {
        // The `role` columns check for exactly these names.
        for (role, name) in [
            (Role::Viewer, "viewer"),
            (Role::Operator, "operator"),
            (Role::Admin, "admin"),
        ] {
            assert_eq!(role.as_str(), name);
            assert_eq!(Role::parse(name), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), name);
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; caseyos_session=abc"),
        );
        headers.append(COOKIE, HeaderValue::from_static("other=1"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "other"), Some("1"));
        assert_eq!(cookie(&headers, "missing"), None);
        let mut empty = HeaderMap::new();
        empty.append(COOKIE, HeaderValue::from_static("caseyos_session="));
        assert_eq!(cookie(&empty, SESSION_COOKIE), None);
    }

    #[test]
    fn csrf_is_required_only_for_requests_that_change_something() {
        let session = ActiveSession {
            id_hash: vec![],
            csrf_token: "s3cret".into(),
            expires_at: chrono::Utc::now(),
        };
        let parts = |method: Method, csrf: Option<&str>| {
            let mut request = axum::http::Request::builder()
                .method(method)
                .uri("/api/queue");
            if let Some(csrf) = csrf {
                request = request.header(CSRF_HEADER, csrf);
            }
            request.body(()).unwrap().into_parts().0
        };
        // (method, header, allowed)
        let table = [
            (Method::GET, None, true),
            (Method::HEAD, None, true),
            (Method::OPTIONS, None, true),
            (Method::POST, None, false),
            (Method::POST, Some("wrong!"), false),
            (Method::POST, Some("s3cre"), false),
            (Method::POST, Some("s3cret"), true),
            (Method::DELETE, Some("s3cret"), true),
            (Method::DELETE, None, false),
        ];
        for (method, csrf, allowed) in table {
            let result = check_csrf(&parts(method.clone(), csrf), &session);
            assert_eq!(result.is_ok(), allowed, "{method} with {csrf:?}");
            if let Err(error) = result {
                assert_eq!(error.status, StatusCode::FORBIDDEN);
                assert_eq!(error.code, "auth.csrf_failed");
            }
        }
    }
}
