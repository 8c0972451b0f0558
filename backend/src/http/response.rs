//! What command handlers answer with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

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
