//! Clients of external services: real HTTP clients whose base URL comes from `config.rs`,
//! and "not connected" (`connector.not_connected`) when a service is not configured —
//! never a silent fake. No HTTP server types here: a connector's errors carry stable codes
//! that `http/` maps, like any other error.

pub mod hubspot;

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Why a connector call failed. Each kind has a stable [`code`](ConnectorError::code); the
/// messages name statuses, attempts and HubSpot's correlation ids, never tokens, property
/// values or bodies.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    #[error("{connector} is not connected: no credentials are configured")]
    NotConnected { connector: &'static str },
    #[error("the {connector} client could not be set up: {reason}")]
    Misconfigured {
        connector: &'static str,
        reason: String,
    },
    #[error("HubSpot refused the token ({status}{}); check the private app's token and scopes", correlation(.correlation_id))]
    Unauthorized {
        status: u16,
        correlation_id: Option<String>,
    },
    #[error("HubSpot is rate-limiting requests (429{}) after {attempts} attempt(s){}", .policy.as_deref().map(|p| format!(", {p}")).unwrap_or_default(), wait_note(*.retry_after))]
    RateLimited {
        attempts: u32,
        /// What the last `Retry-After` asked for, when it was more than we wait.
        retry_after: Option<Duration>,
        /// HubSpot's `policyName` (`SECONDLY`, `TEN_SECONDLY_ROLLING`, `DAILY`, …).
        policy: Option<String>,
    },
    #[error("HubSpot has no such record (404{})", correlation(.correlation_id))]
    NotFound { correlation_id: Option<String> },
    #[error("HubSpot rejected the request ({status}{}{})", .category.as_deref().map(|c| format!(", {c}")).unwrap_or_default(), correlation(.correlation_id))]
    BadRequest {
        status: u16,
        /// HubSpot's error `category` (e.g. `VALIDATION_ERROR`). Its `message` is not kept:
        /// it can quote property values.
        category: Option<String>,
        correlation_id: Option<String>,
    },
    #[error("HubSpot answered {status} after {attempts} attempt(s)")]
    ServerError { status: u16, attempts: u32 },
    #[error("HubSpot did not answer in time after {attempts} attempt(s)")]
    Timeout { attempts: u32 },
    #[error("could not reach HubSpot after {attempts} attempt(s): {reason}")]
    Transport { attempts: u32, reason: String },
    #[error("HubSpot's answer was unusable: {reason}")]
    UnexpectedResponse { reason: String },
    #[error("more than {total} records were modified between {from} and {to}, more than HubSpot's search can page through, and the window cannot be split further")]
    SearchWindowTooDense {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        total: u64,
    },
}

fn correlation(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(", correlation id {id}"))
        .unwrap_or_default()
}

fn wait_note(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; it asked to wait {} s", d.as_secs()))
        .unwrap_or_default()
}

impl ConnectorError {
    /// The stable machine code, e.g. `hubspot.rate_limited`.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectorError::NotConnected { .. } => "connector.not_connected",
            ConnectorError::Misconfigured { .. } => "connector.misconfigured",
            ConnectorError::Unauthorized { .. } => "hubspot.unauthorized",
            ConnectorError::RateLimited { .. } => "hubspot.rate_limited",
            ConnectorError::NotFound { .. } => "hubspot.not_found",
            ConnectorError::BadRequest { .. } => "hubspot.bad_request",
            ConnectorError::ServerError { .. } => "hubspot.server_error",
            ConnectorError::Timeout { .. } => "hubspot.timeout",
            ConnectorError::Transport { .. } => "hubspot.transport",
            ConnectorError::UnexpectedResponse { .. } => "hubspot.unexpected_response",
            ConnectorError::SearchWindowTooDense { .. } => "hubspot.search_window_too_dense",
        }
    }

    /// Whether the same call may succeed later without anyone changing anything: throttling,
    /// HubSpot's own failures and the network. (A call that already retried these within
    /// its attempts reports them still retryable: a later sync may get through.)
    pub fn retryable(&self) -> bool {
        match self {
            ConnectorError::RateLimited { .. }
            | ConnectorError::ServerError { .. }
            | ConnectorError::Timeout { .. }
            | ConnectorError::Transport { .. } => true,
            ConnectorError::NotConnected { .. }
            | ConnectorError::Misconfigured { .. }
            | ConnectorError::Unauthorized { .. }
            | ConnectorError::NotFound { .. }
            | ConnectorError::BadRequest { .. }
            | ConnectorError::UnexpectedResponse { .. }
            | ConnectorError::SearchWindowTooDense { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_stable_code_and_retryability() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        // (error, code, retryable)
        let table = [
            (
                ConnectorError::NotConnected {
                    connector: "HubSpot",
                },
                "connector.not_connected",
                false,
            ),
            (
                ConnectorError::Misconfigured {
                    connector: "HubSpot",
                    reason: "x".into(),
                },
                "connector.misconfigured",
                false,
            ),
            (
                ConnectorError::Unauthorized {
                    status: 401,
                    correlation_id: None,
                },
                "hubspot.unauthorized",
                false,
            ),
            (
                ConnectorError::RateLimited {
                    attempts: 4,
                    retry_after: None,
                    policy: None,
                },
                "hubspot.rate_limited",
                true,
            ),
            (
                ConnectorError::NotFound {
                    correlation_id: None,
                },
                "hubspot.not_found",
                false,
            ),
            (
                ConnectorError::BadRequest {
                    status: 400,
                    category: None,
                    correlation_id: None,
                },
                "hubspot.bad_request",
                false,
            ),
            (
                ConnectorError::ServerError {
                    status: 502,
                    attempts: 4,
                },
                "hubspot.server_error",
                true,
            ),
            (
                ConnectorError::Timeout { attempts: 4 },
                "hubspot.timeout",
                true,
            ),
            (
                ConnectorError::Transport {
                    attempts: 4,
                    reason: "refused".into(),
                },
                "hubspot.transport",
                true,
            ),
            (
                ConnectorError::UnexpectedResponse { reason: "x".into() },
                "hubspot.unexpected_response",
                false,
            ),
            (
                ConnectorError::SearchWindowTooDense {
                    from: at,
                    to: at,
                    total: 10_001,
                },
                "hubspot.search_window_too_dense",
                false,
            ),
        ];
        for (error, code, retryable) in table {
            assert_eq!(
                (error.code(), error.retryable()),
                (code, retryable),
                "{error:?}"
            );
        }
    }
}
