//! What command handlers answer with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use serde::Serialize;

use super::error::ApiError;

/// A command's HTTP answer: `status` and the body, with `Location` when the command
/// created the resource there; the same status and body again for a replayed idempotent
/// request, marked `Idempotent-Replayed: true`.
pub fn command_response<T: Serialize>(
    status: StatusCode,
    replayed: bool,
    location: Option<String>,
    body: T,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The view of an aggregate a command just changed, and the consistency token of its last
/// event (`0.0` when it has none).
pub fn committed_view<A: Aggregate>(
    state: &A,
    token: Option<Checkpoint>,
) -> Result<(A::View, String), ApiError> {
    let view = state.view().cloned().ok_or_else(|| {
        ApiError::internal(format!(
            "a command succeeded on a {} that does not exist",
            A::TYPE
        ))
    })?;
    Ok((
        view,
        ConsistencyToken(token.unwrap_or(Checkpoint::ZERO)).to_string(),
    ))
}
