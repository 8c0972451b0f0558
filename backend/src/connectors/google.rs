//! What the Gmail and Google Calendar clients share: a [`Caller`] made from
//! [`GoogleConfig`] and the caller's access token, and how a Google error answer reads.
//!
//! Google's JSON APIs answer errors as `{"error": {"code", "message", "status",
//! "errors": [{"domain", "reason", "message"}]}}` ("Resolve errors" pages of the Gmail and
//! Calendar guides, developers.google.com/workspace/gmail/api/guides/handle-errors and
//! …/calendar/api/guides/errors): `429 rateLimitExceeded`, `403 userRateLimitExceeded` /
//! `rateLimitExceeded` (throttling: retried with backoff, the request was not acted on),
//! `403 dailyLimitExceeded` / `quotaExceeded` (not within a call), other `403`s
//! (permissions, scopes), `401 authError` (the token), `404 notFound`, `409 duplicate`, `410 deleted`, and
//! 500/502/503/504 (`backendError`: retried when the call is safe to repeat). The
//! `message` is not kept: it can quote the request.

use chrono::Utc;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::call::{self, label, Caller, Failure, Hooks};
use super::{ConnectorError, Provider};
use crate::config::GoogleConfig;

/// A Google API client's caller and base URL.
pub(crate) fn caller(
    provider: Provider,
    config: &GoogleConfig,
    base_url: &str,
    access_token: &str,
) -> Result<(Caller, reqwest::Url), ConnectorError> {
    if access_token.trim().is_empty() {
        return Err(ConnectorError::NotConnected {
            connector: provider.name(),
        });
    }
    let base = call::base_url(provider, base_url)?;
    let caller = Caller::new(provider, config.call_policy(), Some(access_token))?;
    Ok((caller, base))
}

#[derive(Default, Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Default, Deserialize)]
struct ErrorBody {
    status: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Default, Deserialize)]
struct ErrorItem {
    reason: Option<String>,
}

/// Google's part of a call: its error body. (No budgets before attempts.)
pub(crate) struct GoogleHooks(pub Provider);

impl Hooks for GoogleHooks {
    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8], attempts: u32) -> Failure {
        classify(self.0, status, headers, body, attempts)
    }
}

/// A non-2xx answer from a Google API.
pub(crate) fn classify(
    provider: Provider,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    attempts: u32,
) -> Failure {
    let envelope: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let reason = envelope.error.errors.into_iter().find_map(|e| e.reason);
    let reason = label(reason);
    let fail = |error, transient, unsent| Failure {
        error,
        transient,
        unsent,
        retry_after: None,
    };
    let throttled = |transient| Failure {
        error: ConnectorError::RateLimited {
            provider,
            attempts,
            retry_after: None,
            policy: reason.clone(),
        },
        transient,
        // Google refused it before acting on it.
        unsent: true,
        retry_after: call::retry_after(headers, Utc::now()),
    };
    match (status, reason.as_deref()) {
        (429, Some("dailyLimitExceeded" | "quotaExceeded")) => throttled(false),
        (429, _) => throttled(true),
        (403, Some("rateLimitExceeded" | "userRateLimitExceeded")) => throttled(true),
        (403, Some("dailyLimitExceeded" | "quotaExceeded")) => throttled(false),
        (401 | 403, _) => fail(
            ConnectorError::Unauthorized {
                provider,
                status,
                correlation_id: None,
            },
            false,
            false,
        ),
        (404, _) => fail(
            ConnectorError::NotFound {
                provider,
                correlation_id: None,
            },
            false,
            false,
        ),
        (410, _) => fail(ConnectorError::Gone { provider }, false, false),
        (409, _) => fail(ConnectorError::Conflict { provider }, false, false),
        (500 | 502 | 503 | 504, _) => fail(
            ConnectorError::ServerError {
                provider,
                status,
                attempts,
            },
            true,
            false,
        ),
        (500..=599, _) => fail(
            ConnectorError::ServerError {
                provider,
                status,
                attempts,
            },
            false,
            false,
        ),
        _ => fail(
            ConnectorError::BadRequest {
                provider,
                status,
                category: reason.or(label(envelope.error.status)),
                correlation_id: None,
            },
            false,
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_errors_read_as_codes_and_retry_rules() {
        let body = |reason: &str| {
            format!(r#"{{"error":{{"code":0,"message":"m","errors":[{{"reason":"{reason}"}}]}}}}"#)
        };
        // (status, body, code, transient, unsent)
        let table = [
            (
                429,
                body("rateLimitExceeded"),
                "gmail.rate_limited",
                true,
                true,
            ),
            (
                403,
                body("userRateLimitExceeded"),
                "gmail.rate_limited",
                true,
                true,
            ),
            (
                403,
                body("dailyLimitExceeded"),
                "gmail.rate_limited",
                false,
                true,
            ),
            (
                403,
                body("insufficientPermissions"),
                "gmail.unauthorized",
                false,
                false,
            ),
            (401, body("authError"), "gmail.unauthorized", false, false),
            (404, body("notFound"), "gmail.not_found", false, false),
            (410, body("deleted"), "gmail.gone", false, false),
            (409, body("duplicate"), "gmail.conflict", false, false),
            (503, body("backendError"), "gmail.server_error", true, false),
            (501, String::new(), "gmail.server_error", false, false),
            (
                400,
                body("invalidArgument"),
                "gmail.bad_request",
                false,
                false,
            ),
            (
                400,
                "not json".to_string(),
                "gmail.bad_request",
                false,
                false,
            ),
        ];
        for (status, body, code, transient, unsent) in table {
            let failure = classify(
                Provider::Gmail,
                status,
                &HeaderMap::new(),
                body.as_bytes(),
                1,
            );
            assert_eq!(
                (failure.error.code(), failure.transient, failure.unsent),
                (code, transient, unsent),
                "{status} {body}"
            );
        }
    }
}
