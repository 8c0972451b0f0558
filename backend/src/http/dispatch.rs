//! Requests of our own API made on a caller's behalf (the assistant's tool calls and slash
//! commands): the same router, the same handlers, the caller's own credentials — so the
//! assistant can do nothing that person could not, and every change is theirs in the
//! audit history, under an `Idempotency-Key` that makes a repeat harmless.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, Request};
use serde_json::Value;
use tower::ServiceExt;

use caseyos_store::CommandMeta;

use crate::auth::Principal;
use crate::http::auth::{Authenticated, CSRF_HEADER};
use crate::http::context::{CAUSATION_ID, CORRELATION_ID};
use crate::http::error::ApiError;
use crate::state::AppState;

/// The largest answer read back (a longer one is an error, not a truncated JSON).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The credentials a request came with — its bearer token, or its session cookie and CSRF
/// token — which go with every request made on its behalf (checked again each time); or,
/// for a caller our own code authenticated otherwise (a Slack user by Slack's signature
/// and `slack_users`), who it acts as.
#[derive(Clone, Debug, Default)]
pub struct CallerCredentials {
    headers: HeaderMap,
    acting: Option<Authenticated>,
}

impl CallerCredentials {
    /// A bearer token's credentials (the MCP server's).
    pub fn bearer(token: &str) -> Result<Self, ApiError> {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| crate::http::auth::invalid_token())?;
        headers.insert(header::AUTHORIZATION, value);
        Ok(CallerCredentials {
            headers,
            acting: None,
        })
    }

    /// Acting as `principal`, whom our own code authenticated (never from a request's
    /// headers: request extensions are not something a client can send).
    pub fn acting_as(principal: Principal) -> Self {
        CallerCredentials {
            headers: HeaderMap::new(),
            acting: Some(Authenticated {
                principal,
                session: None,
                token_expires_at: None,
            }),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallerCredentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut headers = HeaderMap::new();
        for name in [header::AUTHORIZATION, header::COOKIE] {
            if let Some(v) = parts.headers.get(&name) {
                headers.insert(name, v.clone());
            }
        }
        if let Some(v) = parts.headers.get(CSRF_HEADER) {
            headers.insert(CSRF_HEADER, v.clone());
        }
        Ok(CallerCredentials {
            headers,
            acting: None,
        })
    }
}

/// What our API answered: its status and JSON body (`null` when it had none).
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatched {
    pub status: u16,
    pub body: Value,
}

impl Dispatched {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A refusal in words, for people: `message (code, HTTP status)`.
    pub fn error_text(&self) -> String {
        let error = &self.body["error"];
        format!(
            "{} ({}, HTTP {})",
            error["message"].as_str().unwrap_or("no message"),
            error["code"].as_str().unwrap_or("error"),
            self.status
        )
    }
}

/// `N [reason]` of a command that decides the N-th of a list (`/approve 3`, `reject 2 not
/// now`): N counted from 1, and the rest, trimmed.
pub fn numbered(rest: &str) -> Option<(usize, &str)> {
    let (number, reason) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(n, r)| (n, r.trim()));
    number
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .map(|n| (n, reason))
}

/// `method path_and_query` with `body` as JSON, as the caller, through the API's router;
/// its events are correlated with `cause`'s and caused by its request.
pub async fn dispatch(
    state: &AppState,
    caller: &CallerCredentials,
    cause: &CommandMeta,
    method: Method,
    path_and_query: &str,
    body: Option<&Value>,
    idempotency_key: Option<&str>,
) -> Result<Dispatched, ApiError> {
    let router = state
        .api
        .get()
        .and_then(|api| api.router.upgrade())
        .and_then(|any| any.downcast::<axum::Router>().ok())
        .ok_or_else(|| ApiError::internal("the API's router is not running"))?;
    let mut request = Request::builder().method(method).uri(path_and_query);
    for (name, value) in &caller.headers {
        request = request.header(name, value);
    }
    if let Some(acting) = &caller.acting {
        request = request.extension(acting.clone());
    }
    request = request
        .header(CORRELATION_ID, cause.correlation_id.as_str())
        .header(CAUSATION_ID, cause.request_id.as_str());
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .map_err(|e| ApiError::internal(format!("building a request of our own API: {e}")))?;
    let response = router
        .as_ref()
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| ApiError::internal(format!("calling our own API: {e}")))?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
        .await
        .map_err(|e| ApiError::internal(format!("reading our own API's answer: {e}")))?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok(Dispatched { status, body })
}
