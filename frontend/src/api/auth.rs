//! The session: signing in with a link or an API token, the current session, signing out.

use caseyos_domain::api::{SessionResponse, SignInRequest};
use gloo_net::http::Method;

use super::{get, json, post, request, ApiError, NO_BODY};

pub async fn sign_in(body: &SignInRequest) -> Result<SessionResponse, ApiError> {
    post("/api/session", body).await
}

pub async fn session() -> Result<SessionResponse, ApiError> {
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
