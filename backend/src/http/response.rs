//! What command handlers answer with, and the headers every JSON answer carries.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
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

/// Every JSON answer (results and error envelopes alike) is `nosniff` and `no-store`:
/// it is one caller's data, for no cache to keep. A `Cache-Control` a handler chose stays,
/// and other answers (the web app's files, with their own caching) are left alone.
pub async fn json_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
        .unwrap_or(false);
    if is_json {
        let headers = response.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}
