//! One error type for the API, one JSON envelope, one place that maps errors to HTTP.
//!
//! Handlers return [`ApiError`]; its response carries the [`ErrorBody`] as an extension, and
//! [`envelope_middleware`] stamps the request id into it and logs server errors once.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caseyos_domain::aggregate::{DomainError, RejectionKind};
use caseyos_domain::api::{ErrorBody, ErrorEnvelope, FieldError};
use caseyos_store::history::HistoryError;
use caseyos_store::idempotency::IdempotencyError;
use caseyos_store::{CommandError, Refusal, StoreError};
use serde_json::json;
use tower_http::request_id::RequestId;

use crate::auth::Forbidden;
use crate::connectors::ConnectorError;

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

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

/// A domain rejection: 404 for a missing aggregate, 409 for a state that forbids the
/// command, 422 naming the field for an invalid value — each with the domain's own code.
impl<E: DomainError> From<CommandError<E>> for ApiError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(e) => rejection(&e),
            CommandError::Refused(Refusal(message)) => ApiError::forbidden(message),
            CommandError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "concurrency.conflict",
                "the item kept changing while we tried to apply this; retry",
            ),
            CommandError::Store(e) => e.into(),
        }
    }
}

/// The answer to a domain rejection.
pub fn rejection(error: &impl DomainError) -> ApiError {
    match error.kind() {
        RejectionKind::NotFound => ApiError::not_found(error.code(), error.to_string()),
        RejectionKind::Conflict => {
            ApiError::new(StatusCode::CONFLICT, error.code(), error.to_string())
        }
        RejectionKind::Invalid { field, message } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error.code(),
            error.to_string(),
        )
        .with_details(json!({ "fields": [FieldError { field: field.to_string(), message }] })),
    }
}

impl From<IdempotencyError> for ApiError {
    fn from(error: IdempotencyError) -> Self {
        let status = match error {
            IdempotencyError::InvalidKey => StatusCode::BAD_REQUEST,
            IdempotencyError::InProgress => StatusCode::CONFLICT,
            IdempotencyError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            IdempotencyError::Store(e) => return e.into(),
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

impl From<HistoryError> for ApiError {
    fn from(error: HistoryError) -> Self {
        let status = match error {
            HistoryError::InvalidPoint => StatusCode::BAD_REQUEST,
            HistoryError::UnknownType(_)
            | HistoryError::NotFound { .. }
            | HistoryError::SequenceNotFound { .. } => StatusCode::NOT_FOUND,
            HistoryError::Store(e) => return e.into(),
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

/// A connector's failure: 409 when it is not connected or not set up (the request needs a
/// connection first), 502 when the provider failed or refused, 500 when our own storage did.
impl From<ConnectorError> for ApiError {
    fn from(error: ConnectorError) -> Self {
        let status = match &error {
            ConnectorError::NotConnected { .. } | ConnectorError::Misconfigured { .. } => {
                StatusCode::CONFLICT
            }
            ConnectorError::Storage { .. } => return ApiError::internal(error),
            _ => StatusCode::BAD_GATEWAY,
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

impl From<Forbidden> for ApiError {
    fn from(Forbidden(message): Forbidden) -> Self {
        ApiError::forbidden(message)
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
