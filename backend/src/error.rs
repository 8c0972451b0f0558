//! One error type for the API, one JSON envelope, one place that maps errors to HTTP.
//!
//! Handlers return [`ApiError`]; its response carries the [`ErrorBody`] as an extension, and
//! [`envelope_middleware`] stamps the request id into it and logs server errors once.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caseyos_domain::agent_run::AgentRunError;
use caseyos_domain::api::{ErrorBody, ErrorEnvelope, FieldError};
use caseyos_domain::queue::QueueError;
use serde::de::DeserializeOwned;
use serde_json::json;
use tower_http::request_id::RequestId;

/// An error the API returns: status, stable code, message, optional details.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// What went wrong inside, for the log only (5xx).
    pub internal: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            internal: None,
        }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 422 naming the invalid fields.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{} {}", one.field, one.message),
            _ => format!("{} fields are invalid", fields.len()),
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.validation",
            message,
        )
        .with_details(json!({ "fields": fields }))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "auth.forbidden", message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 500 with an opaque body; the cause goes to the log with the request id.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut error = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; quote the request id if you report it",
        );
        error.internal = Some(cause.to_string());
        error
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.clone(),
            request_id: None,
            details: self.details.clone(),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::internal(format!("{error:#}"))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut => {
                ApiError::unavailable("service.busy", "the database is busy; retry shortly")
            }
            _ => ApiError::internal(error),
        }
    }
}

impl From<AgentRunError> for ApiError {
    fn from(error: AgentRunError) -> Self {
        let status = match error {
            AgentRunError::NotFound => StatusCode::NOT_FOUND,
            AgentRunError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        match &error {
            AgentRunError::Invalid { field, message } => ApiError::field(field, message.clone()),
            _ => ApiError::new(status, error.code(), error.to_string()),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(error: QueueError) -> Self {
        let status = match error {
            QueueError::NotFound => StatusCode::NOT_FOUND,
            QueueError::AlreadyProposed
            | QueueError::AlreadyApproved
            | QueueError::AlreadyRejected
            | QueueError::Expired => StatusCode::CONFLICT,
            QueueError::SnoozeInPast | QueueError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        match &error {
            QueueError::Invalid { field, message } => ApiError::field(field, message.clone()),
            QueueError::SnoozeInPast => ApiError::new(status, error.code(), error.to_string())
                .with_details(
                    json!({"fields": [{"field": "until", "message": "must be in the future"}]}),
                ),
            _ => ApiError::new(status, error.code(), error.to_string()),
        }
    }
}

/// Marks a response as an API error so the envelope middleware can complete it.
#[derive(Clone)]
struct PendingEnvelope {
    body: ErrorBody,
    internal: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (
            self.status,
            axum::Json(ErrorEnvelope {
                error: body.clone(),
            }),
        )
            .into_response();
        response.extensions_mut().insert(PendingEnvelope {
            body,
            internal: self.internal,
        });
        response
    }
}

/// Puts the request id into every error envelope and logs server errors once, here.
pub async fn envelope_middleware(request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map(str::to_string);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let Some(pending) = response.extensions_mut().remove::<PendingEnvelope>() else {
        return response;
    };
    let status = response.status();
    if status.is_server_error() {
        tracing::error!(
            request_id = request_id.as_deref().unwrap_or(""),
            http.method = %method,
            http.path = %path,
            http.status = status.as_u16(),
            error.code = %pending.body.code,
            error.cause = pending.internal.as_deref().unwrap_or(""),
            "request failed"
        );
    }
    let mut body = pending.body;
    body.request_id = request_id;
    let mut rebuilt = (status, axum::Json(ErrorEnvelope { error: body })).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            rebuilt.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rebuilt
}

/// JSON bodies with our envelope for every rejection: 400 for malformed JSON, 413 for
/// oversized bodies, 415 for other media types, 422 naming the field for unknown fields,
/// wrong types and missing fields. An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

fn json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" || media.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

/// Parses a JSON body into `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::bad_request(
                    "request.invalid_json",
                    format!("the body is not valid JSON: {inner}"),
                )
            }
            _ => {
                let message = strip_position(&inner.to_string());
                let field = if path == "." || path.is_empty() {
                    unknown_field_name(&message).unwrap_or_else(|| "body".to_string())
                } else {
                    path
                };
                ApiError::field(&field, message)
            }
        }
    })?;
    deserializer.end().map_err(|inner| {
        ApiError::bad_request(
            "request.invalid_json",
            format!("the body is not valid JSON: {inner}"),
        )
    })?;
    Ok(value)
}

/// serde's messages end in " at line 1 column 12"; people do not need that.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The field name in "unknown field `x`, expected ..." (reported at the parent's path).
fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_content_type(request.headers())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "request.too_large",
                        "the body is larger than this API accepts",
                    )
                } else {
                    ApiError::bad_request("request.unreadable_body", rejection.body_text())
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query strings with our envelope on rejection.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|query| ApiQuery(query.0))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let message = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                ApiError::bad_request("request.invalid_query", message)
            })
    }
}

/// Path parameters with our envelope on rejection (e.g. an id that is not a UUID).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| ApiPath(path.0))
            .map_err(|rejection| {
                ApiError::bad_request("request.invalid_path", rejection.body_text())
            })
    }
}

/// Falls back for unknown routes.
pub async fn route_not_found() -> ApiError {
    ApiError::not_found("route.not_found", "no such route")
}

/// Falls back for known routes called with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "route.method_not_allowed",
        "this route does not accept that method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        reason: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u8,
    }

    fn error_of(body: &str) -> ApiError {
        parse_json::<Body>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_errors_name_the_field_or_say_the_json_is_malformed() {
        let table = [
            ("{\"reason\": ", 400, "request.invalid_json", None),
            ("{\"reason\": 5}", 422, "request.validation", Some("reason")),
            (
                "{\"reason\": \"x\", \"extra\": 1}",
                422,
                "request.validation",
                Some("extra"),
            ),
            ("{}", 422, "request.validation", Some("body")),
            (
                "{\"reason\": \"x\", \"nested\": {\"count\": \"many\"}}",
                422,
                "request.validation",
                Some("nested.count"),
            ),
            (
                "{\"reason\": \"x\"} trailing",
                400,
                "request.invalid_json",
                None,
            ),
        ];
        for (body, status, code, field) in table {
            let error = error_of(body);
            assert_eq!(error.status.as_u16(), status, "{body}");
            assert_eq!(error.code, code, "{body}");
            if let Some(field) = field {
                assert_eq!(
                    error.details.unwrap()["fields"][0]["field"],
                    field,
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn an_empty_body_reads_as_an_empty_object() {
        #[derive(serde::Deserialize)]
        struct Optional {
            #[allow(dead_code)]
            note: Option<String>,
        }
        assert!(parse_json::<Optional>(b"").is_ok());
        assert!(parse_json::<Optional>(b"  \n").is_ok());
    }
}
