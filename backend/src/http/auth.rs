//! Authenticating requests: the `Authorization: Bearer` header, or the session cookie with
//! CSRF protection for anything that changes something. Both resolve to the same
//! [`Principal`], so handlers never care how a caller signed in.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::auth::sessions::{self, ActiveSession};
use crate::auth::token_cache;
use crate::auth::tokens::TokenCaller;
use crate::auth::Principal;
use crate::config::Config;
use crate::state::AppState;

/// The browser session cookie (HttpOnly, SameSite=Strict) when CaseyOS is served over
/// plain HTTP.
pub const SESSION_COOKIE: &str = "caseyos_session";
/// The session cookie when CaseyOS is served over HTTPS (its `public_url`): `Secure`, and
/// `__Host-` so the browser takes it only from this host, over HTTPS, for `Path=/` and with
/// no `Domain` — a sibling domain or a plain-HTTP answer cannot plant or replace it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-caseyos_session";

/// The session cookie's name: the `__Host-` one when served over HTTPS. Only that name is
/// read back, so a cookie set without `Secure` never counts as a session there.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.serves_https() {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// `Set-Cookie` for the session: `max_age` 0 clears it. `Secure` (and `__Host-`-named)
/// when served over HTTPS.
pub fn session_set_cookie(config: &Config, value: &str, max_age: i64) -> Option<HeaderValue> {
    let name = session_cookie_name(config);
    let secure = if config.serves_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// The header a cookie-authenticated request that changes something must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a request proved who it is: a bearer token, or a browser session cookie (with the
/// session's details, for `/api/session`).
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub principal: Principal,
    pub session: Option<ActiveSession>,
    /// For a bearer token: when it expires (absent: never).
    pub token_expires_at: Option<DateTime<Utc>>,
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
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn missing_credentials() -> ApiError {
    ApiError::unauthorized(
        "auth.missing_credentials",
        "sign in, or send `Authorization: Bearer <token>`",
    )
}

/// The bearer token of an `Authorization` header.
async fn bearer(state: &AppState, header: &HeaderValue) -> Result<TokenCaller, ApiError> {
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
    token_cache::caller(&state.tokens, &state.pool, token)
        .await?
        .ok_or_else(invalid_token)
}

/// The answer to a bearer token that is unknown, revoked or expired.
pub fn invalid_token() -> ApiError {
    ApiError::unauthorized(
        "auth.invalid_token",
        "this token is unknown, revoked or expired",
    )
}

/// Authenticates a request: the `Authorization` header when there is one, else the session
/// cookie (with CSRF protection for anything but GET, HEAD and OPTIONS).
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        let caller = bearer(state, header).await?;
        return Ok(Authenticated {
            principal: caller.principal,
            session: None,
            token_expires_at: caller.expires_at,
        });
    }
    let Some(id) = cookie(&parts.headers, session_cookie_name(&state.config)) else {
        return Err(missing_credentials());
    };
    let (principal, session) = sessions::resolve(&state.pool, id)
        .await?
        .ok_or_else(session_expired)?;
    check_csrf(parts, &session)?;
    Ok(Authenticated {
        principal,
        session: Some(session),
        token_expires_at: None,
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

/// The answer to a cookie naming no live session.
pub fn session_expired() -> ApiError {
    ApiError::unauthorized(
        "auth.session_expired",
        "your session has ended (signed out, older than 7 days, or its API token revoked or \
         expired); sign in again",
    )
}

#[cfg(test)]
mod tests {
    use axum::http::header::COOKIE;
    use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};

    use super::*;

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
    fn over_https_the_cookie_is_secure_and_host_prefixed() {
        // (public_url, cookie name, Secure)
        let table = [
            (None, "caseyos_session", false),
            (
                Some("http://caseyos.internal:8080"),
                "caseyos_session",
                false,
            ),
            (
                Some("https://caseyos.example"),
                "__Host-caseyos_session",
                true,
            ),
            (
                Some(" HTTPS://caseyos.example/"),
                "__Host-caseyos_session",
                true,
            ),
            (Some("httpsfoo://x"), "caseyos_session", false),
        ];
        for (url, name, secure) in table {
            let config = Config {
                public_url: url.map(str::to_string),
                ..Config::default()
            };
            assert_eq!(session_cookie_name(&config), name, "{url:?}");
            let set = session_set_cookie(&config, "abc", 60).unwrap();
            let set = set.to_str().unwrap();
            let attributes: Vec<&str> = set.split(';').map(str::trim).collect();
            assert_eq!(attributes[0], format!("{name}=abc"), "{url:?}");
            for expected in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
                assert!(attributes.contains(&expected), "{expected} in {set}");
            }
            assert_eq!(attributes.contains(&"Secure"), secure, "{set}");
            assert!(!set.contains("Domain"), "{set}");

            // Only the mode's own name is read back.
            let mut headers = HeaderMap::new();
            headers.append(
                COOKIE,
                HeaderValue::from_str(&format!("{name}=mine; other=1")).unwrap(),
            );
            assert_eq!(cookie(&headers, session_cookie_name(&config)), Some("mine"));
        }
        let https = Config {
            public_url: Some("https://caseyos.example".into()),
            ..Config::default()
        };
        let mut planted = HeaderMap::new();
        planted.append(COOKIE, HeaderValue::from_static("caseyos_session=planted"));
        assert_eq!(cookie(&planted, session_cookie_name(&https)), None);
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
