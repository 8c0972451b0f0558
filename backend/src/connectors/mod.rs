//! Clients of external services: real HTTP clients whose base URL comes from `config.rs`,
//! and "not connected" (`connector.not_connected`) when a service is not configured —
//! never a silent fake. No HTTP server types here: a connector's errors carry stable codes
//! that `http/` maps, like any other error.
//!
//! Every client calls through [`call`]: one discipline of timeouts, bounded attempts,
//! exponential backoff, `Retry-After` and the rule that a call which is not idempotent (a
//! send, a create, a merge) is sent again only when the provider cannot have acted on it.
//! The providers: [`hubspot`] (CRM), [`gmail`] (with [`mime`], the messages it sends),
//! [`calendar`] (Google Calendar); [`google`] holds what the two Google clients share.

pub mod calendar;
pub mod call;
pub mod credentials;
pub mod gmail;
pub mod google;
pub mod hubspot;
pub mod mime;
pub mod oauth;
pub mod sealing;
pub mod slack;
pub mod web_search;

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The external service a call went to; the first part of its error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    HubSpot,
    Gmail,
    GoogleCalendar,
    Slack,
    /// Tavily: research's web search.
    Tavily,
}

impl Provider {
    /// The name people read (`Google Calendar`).
    pub fn name(self) -> &'static str {
        match self {
            Provider::HubSpot => "HubSpot",
            Provider::Gmail => "Gmail",
            Provider::GoogleCalendar => "Google Calendar",
            Provider::Slack => "Slack",
            Provider::Tavily => "Tavily",
        }
    }

    /// The name in codes and spans (`google_calendar`), as `GET /api/connectors` names it.
    pub fn key(self) -> &'static str {
        match self {
            Provider::HubSpot => "hubspot",
            Provider::Gmail => "gmail",
            Provider::GoogleCalendar => "google_calendar",
            Provider::Slack => "slack",
            Provider::Tavily => "tavily",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `<provider key>.<kind>` as a `&'static str`.
macro_rules! code {
    ($provider:expr, $kind:literal) => {
        match $provider {
            Provider::HubSpot => concat!("hubspot.", $kind),
            Provider::Gmail => concat!("gmail.", $kind),
            Provider::GoogleCalendar => concat!("google_calendar.", $kind),
            Provider::Slack => concat!("slack.", $kind),
            Provider::Tavily => concat!("tavily.", $kind),
        }
    };
}

/// Why a connector call failed. Each kind has a stable [`code`](ConnectorError::code),
/// `<provider>.<kind>` (`gmail.rate_limited`, `hubspot.not_found`); the messages name
/// statuses, attempts and the provider's error labels and correlation ids, never tokens,
/// addresses, property values or bodies.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    #[error("{connector} is not connected: no credentials are configured")]
    NotConnected { connector: &'static str },
    #[error("the {connector} client could not be set up: {reason}")]
    Misconfigured {
        connector: &'static str,
        reason: String,
    },
    #[error("{provider} refused the token ({status}{}); check the token and its scopes", correlation(.correlation_id))]
    Unauthorized {
        provider: Provider,
        status: u16,
        correlation_id: Option<String>,
    },
    #[error("{provider} is rate-limiting requests after {attempts} attempt(s){}{}", .policy.as_deref().map(|p| format!(" ({p})")).unwrap_or_default(), wait_note(*.retry_after))]
    RateLimited {
        provider: Provider,
        attempts: u32,
        /// What the last `Retry-After` asked for, when it was more than we wait.
        retry_after: Option<Duration>,
        /// The provider's name of the limit (HubSpot's `policyName`: `SECONDLY`, `DAILY`, …;
        /// Google's error `reason`: `userRateLimitExceeded`, …).
        policy: Option<String>,
    },
    #[error("{provider} has no such record (404{})", correlation(.correlation_id))]
    NotFound {
        provider: Provider,
        correlation_id: Option<String>,
    },
    #[error("{provider} says the record is gone (deleted or cancelled before)")]
    Gone { provider: Provider },
    #[error("{provider} already has a record with this id (409)")]
    Conflict { provider: Provider },
    #[error(
        "the Gmail history id is too old to list changes from; start again from the profile's"
    )]
    HistoryExpired,
    #[error("{provider} rejected the request ({status}{}{})", .category.as_deref().map(|c| format!(", {c}")).unwrap_or_default(), correlation(.correlation_id))]
    BadRequest {
        provider: Provider,
        status: u16,
        /// The provider's error label (HubSpot's `category`, Google's `reason` or
        /// `status`). Its `message` is not kept: it can quote values.
        category: Option<String>,
        correlation_id: Option<String>,
    },
    #[error("{provider} answered {status} after {attempts} attempt(s)")]
    ServerError {
        provider: Provider,
        status: u16,
        attempts: u32,
    },
    #[error("{provider} did not answer in time after {attempts} attempt(s)")]
    Timeout { provider: Provider, attempts: u32 },
    #[error("could not reach {provider} after {attempts} attempt(s): {reason}")]
    Transport {
        provider: Provider,
        attempts: u32,
        reason: String,
    },
    #[error("{provider}'s answer was unusable: {reason}")]
    UnexpectedResponse { provider: Provider, reason: String },
    #[error("more than {total} records were modified between {from} and {to}, more than HubSpot's search can page through, and the window cannot be split further")]
    SearchWindowTooDense {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        total: u64,
    },
    /// The provider refused the grant (`invalid_grant`: revoked, expired or reset): only
    /// connecting again helps.
    #[error("{connector} refused the stored grant (invalid_grant); connect it again")]
    InvalidGrant { connector: &'static str },
    /// The access token expired and there is no refresh token to renew it.
    #[error("the stored {connector} token expired and cannot be refreshed; connect it again")]
    Expired { connector: &'static str },
    /// An OAuth endpoint (token, userinfo, token info, revocation) failed.
    #[error("{connector}'s {endpoint} endpoint answered {status}{}", .error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    OAuth {
        connector: &'static str,
        endpoint: &'static str,
        /// 0 when there was no answer.
        status: u16,
        /// The OAuth `error` code it sent (`invalid_client`, …), never its description.
        error: Option<String>,
    },
    /// A stored credential did not open with this instance's credentials key.
    #[error("the stored {connector} credential cannot be read with this credentials key; connect it again")]
    Unreadable { connector: &'static str },
    /// The credential store (the database) failed.
    #[error("the {connector} credential could not be read or written: {reason}")]
    Storage {
        connector: &'static str,
        reason: String,
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
    /// The stable machine code, e.g. `hubspot.rate_limited`, `gmail.history_expired`.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectorError::NotConnected { .. } => "connector.not_connected",
            ConnectorError::Misconfigured { .. } => "connector.misconfigured",
            ConnectorError::Unauthorized { provider, .. } => code!(provider, "unauthorized"),
            ConnectorError::RateLimited { provider, .. } => code!(provider, "rate_limited"),
            ConnectorError::NotFound { provider, .. } => code!(provider, "not_found"),
            ConnectorError::Gone { provider } => code!(provider, "gone"),
            ConnectorError::Conflict { provider } => code!(provider, "conflict"),
            ConnectorError::HistoryExpired => "gmail.history_expired",
            ConnectorError::BadRequest { provider, .. } => code!(provider, "bad_request"),
            ConnectorError::ServerError { provider, .. } => code!(provider, "server_error"),
            ConnectorError::Timeout { provider, .. } => code!(provider, "timeout"),
            ConnectorError::Transport { provider, .. } => code!(provider, "transport"),
            ConnectorError::UnexpectedResponse { provider, .. } => {
                code!(provider, "unexpected_response")
            }
            ConnectorError::SearchWindowTooDense { .. } => "hubspot.search_window_too_dense",
            ConnectorError::InvalidGrant { .. } => "connector.invalid_grant",
            ConnectorError::Expired { .. } => "connector.token_expired",
            ConnectorError::OAuth { .. } => "connector.oauth_failed",
            ConnectorError::Unreadable { .. } => "connector.credentials_unreadable",
            ConnectorError::Storage { .. } => "connector.storage",
        }
    }

    /// Whether the same call may succeed later without anyone changing anything: throttling,
    /// the provider's own failures and the network. (A call that already retried these
    /// within its attempts reports them still retryable: a later attempt may get through.)
    /// Not a licence to resend: a send that timed out is retryable *after* the caller has
    /// looked for what the first attempt did.
    pub fn retryable(&self) -> bool {
        match self {
            ConnectorError::RateLimited { .. }
            | ConnectorError::ServerError { .. }
            | ConnectorError::Timeout { .. }
            | ConnectorError::Transport { .. }
            | ConnectorError::Storage { .. } => true,
            ConnectorError::OAuth { status, .. } => {
                *status == 0 || *status == 429 || *status >= 500
            }
            ConnectorError::InvalidGrant { .. }
            | ConnectorError::Expired { .. }
            | ConnectorError::Unreadable { .. } => false,
            ConnectorError::NotConnected { .. }
            | ConnectorError::Misconfigured { .. }
            | ConnectorError::Unauthorized { .. }
            | ConnectorError::NotFound { .. }
            | ConnectorError::Gone { .. }
            | ConnectorError::Conflict { .. }
            | ConnectorError::HistoryExpired
            | ConnectorError::BadRequest { .. }
            | ConnectorError::UnexpectedResponse { .. }
            | ConnectorError::SearchWindowTooDense { .. } => false,
        }
    }

    /// The provider the call went to, when the error came from one.
    pub fn provider(&self) -> Option<Provider> {
        match self {
            ConnectorError::Unauthorized { provider, .. }
            | ConnectorError::RateLimited { provider, .. }
            | ConnectorError::NotFound { provider, .. }
            | ConnectorError::Gone { provider }
            | ConnectorError::Conflict { provider }
            | ConnectorError::BadRequest { provider, .. }
            | ConnectorError::ServerError { provider, .. }
            | ConnectorError::Timeout { provider, .. }
            | ConnectorError::Transport { provider, .. }
            | ConnectorError::UnexpectedResponse { provider, .. } => Some(*provider),
            ConnectorError::HistoryExpired => Some(Provider::Gmail),
            ConnectorError::SearchWindowTooDense { .. } => Some(Provider::HubSpot),
            ConnectorError::NotConnected { .. }
            | ConnectorError::Misconfigured { .. }
            | ConnectorError::InvalidGrant { .. }
            | ConnectorError::Expired { .. }
            | ConnectorError::OAuth { .. }
            | ConnectorError::Unreadable { .. }
            | ConnectorError::Storage { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind a provider can answer, for `provider`.
    fn provider_errors(provider: Provider) -> Vec<(ConnectorError, &'static str, bool)> {
        vec![
            (
                ConnectorError::Unauthorized {
                    provider,
                    status: 401,
                    correlation_id: None,
                },
                "unauthorized",
                false,
            ),
            (
                ConnectorError::RateLimited {
                    provider,
                    attempts: 4,
                    retry_after: None,
                    policy: None,
                },
                "rate_limited",
                true,
            ),
            (
                ConnectorError::NotFound {
                    provider,
                    correlation_id: None,
                },
                "not_found",
                false,
            ),
            (ConnectorError::Gone { provider }, "gone", false),
            (ConnectorError::Conflict { provider }, "conflict", false),
            (
                ConnectorError::BadRequest {
                    provider,
                    status: 400,
                    category: None,
                    correlation_id: None,
                },
                "bad_request",
                false,
            ),
            (
                ConnectorError::ServerError {
                    provider,
                    status: 502,
                    attempts: 4,
                },
                "server_error",
                true,
            ),
            (
                ConnectorError::Timeout {
                    provider,
                    attempts: 4,
                },
                "timeout",
                true,
            ),
            (
                ConnectorError::Transport {
                    provider,
                    attempts: 4,
                    reason: "refused".into(),
                },
                "transport",
                true,
            ),
            (
                ConnectorError::UnexpectedResponse {
                    provider,
                    reason: "x".into(),
                },
                "unexpected_response",
                false,
            ),
        ]
    }

    #[test]
    fn every_error_has_its_stable_code_and_retryability() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        // (error, code, retryable)
        let mut table: Vec<(ConnectorError, String, bool)> = vec![
            (
                ConnectorError::NotConnected {
                    connector: "HubSpot",
                },
                "connector.not_connected".into(),
                false,
            ),
            (
                ConnectorError::Misconfigured {
                    connector: "HubSpot",
                    reason: "x".into(),
                },
                "connector.misconfigured".into(),
                false,
            ),
            (
                ConnectorError::HistoryExpired,
                "gmail.history_expired".into(),
                false,
            ),
            (
                ConnectorError::SearchWindowTooDense {
                    from: at,
                    to: at,
                    total: 10_001,
                },
                "hubspot.search_window_too_dense".into(),
                false,
            ),
            (
                ConnectorError::InvalidGrant { connector: "Gmail" },
                "connector.invalid_grant".into(),
                false,
            ),
            (
                ConnectorError::OAuth {
                    connector: "Gmail",
                    endpoint: "token",
                    status: 503,
                    error: None,
                },
                "connector.oauth_failed".into(),
                true,
            ),
            (
                ConnectorError::OAuth {
                    connector: "Gmail",
                    endpoint: "token",
                    status: 400,
                    error: Some("invalid_client".into()),
                },
                "connector.oauth_failed".into(),
                false,
            ),
            (
                ConnectorError::Expired { connector: "Gmail" },
                "connector.token_expired".into(),
                false,
            ),
            (
                ConnectorError::Unreadable { connector: "Gmail" },
                "connector.credentials_unreadable".into(),
                false,
            ),
            (
                ConnectorError::Storage {
                    connector: "Gmail",
                    reason: "x".into(),
                },
                "connector.storage".into(),
                true,
            ),
        ];
        for provider in [Provider::HubSpot, Provider::Gmail, Provider::GoogleCalendar] {
            for (error, kind, retryable) in provider_errors(provider) {
                table.push((error, format!("{}.{kind}", provider.key()), retryable));
            }
        }
        // Spot checks of the exact strings other code and the SPA compare with.
        let codes: Vec<&str> = table.iter().map(|(e, _, _)| e.code()).collect();
        for expected in [
            "hubspot.unauthorized",
            "hubspot.rate_limited",
            "hubspot.server_error",
            "gmail.rate_limited",
            "gmail.not_found",
            "google_calendar.not_found",
            "google_calendar.gone",
            "google_calendar.conflict",
        ] {
            assert!(
                codes.contains(&expected),
                "{expected} missing from {codes:?}"
            );
        }
        for (error, code, retryable) in table {
            assert_eq!(
                (error.code(), error.retryable()),
                (code.as_str(), retryable),
                "{error:?}"
            );
        }
    }

    #[test]
    fn messages_name_the_provider() {
        let error = ConnectorError::RateLimited {
            provider: Provider::Gmail,
            attempts: 2,
            retry_after: Some(Duration::from_secs(120)),
            policy: Some("userRateLimitExceeded".into()),
        };
        assert_eq!(
            error.to_string(),
            "Gmail is rate-limiting requests after 2 attempt(s) (userRateLimitExceeded); it asked to wait 120 s"
        );
        let error = ConnectorError::ServerError {
            provider: Provider::HubSpot,
            status: 500,
            attempts: 4,
        };
        assert_eq!(error.to_string(), "HubSpot answered 500 after 4 attempt(s)");
    }
}
