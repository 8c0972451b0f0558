//! The session: signing in with a link or an API token, the current session, signing out.

use caseyos_domain::api::SignInRequest;
use gloo_net::http::Method;
use serde_json::Value;

use super::{get, json, post, request, ApiError, NO_BODY};

/// Signs in; the answer is the session (`SessionResponse`) as JSON.
pub async fn sign_in(body: &SignInRequest) -> Result<Value, ApiError> {
    post("/api/session", body).await
}

/// The current session (`SessionResponse`) as JSON.
pub async fn session() -> Result<Value, ApiError> {
    get("/api/session", "", None).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    request(
        Method::DELETE,
        "/api/session".into(),
        NO_BODY,
        json::from_str,
    )
    .await
}
