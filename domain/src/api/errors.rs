//! The error envelope every failed request returns.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every error the API returns: `{"error": {"code", "message", "request_id", "details"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine code, e.g. `queue.already_approved`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The request id, also in the `x-request-id` response header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Structured details; validation errors carry `{"fields": [{"field", "message"}]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub details: Option<Value>,
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's path in the body, e.g. `target.contact.email`.
    pub field: String,
    pub message: String,
}
