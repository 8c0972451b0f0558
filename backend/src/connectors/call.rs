//! The one way every connector calls its provider: a reqwest client with the connect and
//! request timeouts of a [`CallPolicy`] and a bearer token, bounded attempts with
//! exponential backoff on 429, 5xx, timeouts and failed connections, `Retry-After` honoured
//! (seconds or an HTTP date) up to the policy's maximum, and [`Replay`]: a call that is not
//! idempotent (a send, a create, a merge) is sent again only when the provider cannot have
//! acted on it (a 429, a connection that was never made). A send that timed out or got a
//! 5xx is reported, not repeated: the caller reconciles (looks for what the first attempt
//! did) before it tries again.
//!
//! What differs per provider is a [`Hooks`] implementation: how a non-2xx answer reads
//! (each provider's error body), and for HubSpot its rate-limit budgets before each attempt.
//!
//! **Privacy.** Spans carry `connector.name`, `connector.operation`, `http.method`,
//! `http.status`, `duration_ms`, attempts and the error code; never the token, the URL's
//! query, ids searched for or bodies.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument;

use super::{ConnectorError, Provider};
use crate::config::CallPolicy;

/// Whether a call may be sent again after an attempt the provider may have acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Reads, searches, updates to a value, deletes: any retryable failure is retried.
    Safe,
    /// Sends, creates, merges: only when the provider cannot have acted (429, a refused
    /// connection).
    OnlyIfUnsent,
}

/// A failed attempt and what may follow it.
#[derive(Debug)]
pub struct Failure {
    pub error: ConnectorError,
    /// Worth another attempt within this call.
    pub transient: bool,
    /// The provider cannot have acted on the request.
    pub unsent: bool,
    /// What the provider's `Retry-After` asked for.
    pub retry_after: Option<Duration>,
}

/// A 2xx answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as `T`; a body that does not parse is `<provider>.unexpected_response`
    /// naming where, never what (serde's message can quote a value).
    pub fn json<T: DeserializeOwned>(&self, provider: Provider) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|e| ConnectorError::UnexpectedResponse {
            provider,
            reason: format!(
                "the {} answer did not parse ({:?} at line {} column {})",
                self.status,
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }
}

/// How calls went since a client was made: each HTTP request is a call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    pub calls: u64,
    /// Calls that did not answer 2xx (throttled, refused, failed, timed out).
    pub failures: u64,
    /// Calls that were repeats of a failed one.
    pub retries: u64,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The code of the last failure (`hubspot.rate_limited`, …).
    pub last_error: Option<&'static str>,
}

/// What differs per provider.
pub trait Hooks: Sync {
    /// Before each attempt (HubSpot waits out a spent budget here).
    fn before_attempt(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Every answer's headers, 2xx or not (HubSpot reads its rate-limit headers).
    fn observe(&self, _headers: &HeaderMap) {}
    /// A non-2xx answer as a failure.
    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8], attempts: u32) -> Failure;
    /// A retry is about to wait `asked` because `Retry-After` said so.
    fn waiting_retry_after(&self, _asked: Duration) {}
}

/// One request: what, where, and whether it may be repeated.
pub struct Request<'a> {
    /// For spans and logs (`messages.send`).
    pub operation: &'static str,
    pub method: Method,
    /// The whole URL without its query.
    pub url: reqwest::Url,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<&'a Value>,
    pub replay: Replay,
    /// This request's `Authorization` when the caller has no fixed token (a token that is
    /// refreshed: HubSpot through the stored credentials).
    pub authorization: Option<HeaderValue>,
}

/// A provider's HTTP client under the call discipline. One per API client; it keeps the
/// counters of its calls.
pub struct Caller {
    http: reqwest::Client,
    provider: Provider,
    policy: CallPolicy,
    stats: Mutex<CallStats>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("provider", &self.provider)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// `Authorization: Bearer <token>` (marked sensitive) on every request when a fixed
    /// `token` is given (otherwise each [`Request`] brings its own), `User-Agent:
    /// caseyos/<version>`, the policy's timeouts.
    pub fn new(
        provider: Provider,
        policy: CallPolicy,
        token: Option<&str>,
    ) -> Result<Self, ConnectorError> {
        let misconfigured = |reason: String| ConnectorError::Misconfigured {
            connector: provider.name(),
            reason,
        };
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            headers.insert(AUTHORIZATION, bearer(provider, token)?);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("caseyos/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .build()
            .map_err(|e| misconfigured(e.without_url().to_string()))?;
        Ok(Caller {
            http,
            provider,
            policy,
            stats: Mutex::new(CallStats::default()),
        })
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn policy(&self) -> &CallPolicy {
        &self.policy
    }

    pub fn stats(&self) -> CallStats {
        lock(&self.stats).clone()
    }

    /// One call: attempts until a 2xx, a failure that may not be repeated, or the last
    /// attempt.
    pub async fn call(
        &self,
        hooks: &impl Hooks,
        request: Request<'_>,
    ) -> Result<Answer, ConnectorError> {
        let span = tracing::info_span!(
            "connector.call",
            connector.name = self.provider.key(),
            connector.operation = request.operation,
            http.method = %request.method,
            http.status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            attempts = tracing::field::Empty,
            error.code = tracing::field::Empty,
        );
        async {
            let span = tracing::Span::current();
            let started = Instant::now();
            let max_attempts = self.policy.max_attempts.max(1);
            let mut attempt = 0;
            let result = loop {
                attempt += 1;
                hooks.before_attempt().await;
                let mut builder = self
                    .http
                    .request(request.method.clone(), request.url.clone());
                if !request.query.is_empty() {
                    builder = builder.query(request.query);
                }
                if let Some(body) = request.body {
                    builder = builder.json(body);
                }
                if let Some(authorization) = &request.authorization {
                    builder = builder.header(AUTHORIZATION, authorization.clone());
                }
                let failure = match exchange(builder).await {
                    Ok(answer) => {
                        hooks.observe(&answer.headers);
                        span.record("http.status", answer.status);
                        if (200..300).contains(&answer.status) {
                            self.count(attempt, None);
                            break Ok(answer);
                        }
                        hooks.classify(answer.status, &answer.headers, &answer.body, attempt)
                    }
                    Err(error) => transport_failure(self.provider, &error, attempt),
                };
                self.count(attempt, Some(failure.error.code()));
                let may_repeat = failure.transient
                    && attempt < max_attempts
                    && (request.replay == Replay::Safe || failure.unsent);
                if !may_repeat {
                    break Err(failure.error);
                }
                let wait = match failure.retry_after {
                    Some(asked) if asked > self.policy.max_retry_after => {
                        break Err(with_retry_after(failure.error, asked));
                    }
                    Some(asked) => {
                        hooks.waiting_retry_after(asked);
                        asked
                    }
                    None => backoff(&self.policy, attempt),
                };
                tracing::warn!(
                    connector.name = self.provider.key(),
                    connector.operation = request.operation,
                    attempt,
                    error.code = failure.error.code(),
                    wait_ms = millis(wait),
                    "connector call failed; retrying"
                );
                tokio::time::sleep(wait).await;
            };
            span.record("duration_ms", millis(started.elapsed()));
            span.record("attempts", attempt);
            if let Err(error) = &result {
                span.record("error.code", error.code());
            }
            result
        }
        .instrument(span)
        .await
    }

    fn count(&self, attempt: u32, failed: Option<&'static str>) {
        let mut stats = lock(&self.stats);
        stats.calls += 1;
        if attempt > 1 {
            stats.retries += 1;
        }
        match failed {
            None => stats.last_success_at = Some(Utc::now()),
            Some(code) => {
                stats.failures += 1;
                stats.last_failure_at = Some(Utc::now());
                stats.last_error = Some(code);
            }
        }
    }
}

/// `Bearer <token>`, marked sensitive (never shown in debug output).
pub fn bearer(provider: Provider, token: &str) -> Result<HeaderValue, ConnectorError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
        ConnectorError::Misconfigured {
            connector: provider.name(),
            reason: "the token must be printable ASCII".into(),
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A base URL checked and without its trailing `/`, for [`url`].
pub fn base_url(provider: Provider, raw: &str) -> Result<reqwest::Url, ConnectorError> {
    let misconfigured = |reason: &str| ConnectorError::Misconfigured {
        connector: provider.name(),
        reason: reason.into(),
    };
    let raw = raw.trim().trim_end_matches('/');
    if !(raw.starts_with("http://") || raw.starts_with("https://")) {
        return Err(misconfigured("the base URL must be an http(s) URL"));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| misconfigured("the base URL does not parse"))?;
    if url.cannot_be_a_base() || url.query().is_some() {
        return Err(misconfigured("the base URL cannot take a path"));
    }
    Ok(url)
}

/// `base` followed by `segments`, each percent-encoded as one path segment (an id holding
/// `/`, `@` or `#` stays one segment).
pub fn url(base: &reqwest::Url, segments: &[&str]) -> reqwest::Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// What `Retry-After` asks for: a number of seconds, or an HTTP date (then the time from
/// `now` to it, zero if it has passed). `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// `base · 2^(attempt-1)`, at most `max_backoff`.
pub fn backoff(policy: &CallPolicy, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    policy
        .base_backoff
        .saturating_mul(factor)
        .min(policy.max_backoff)
}

/// Sends and reads the whole answer.
async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok(Answer {
        status,
        headers,
        body: body.to_vec(),
    })
}

fn transport_failure(provider: Provider, error: &reqwest::Error, attempts: u32) -> Failure {
    if error.is_timeout() {
        return Failure {
            error: ConnectorError::Timeout { provider, attempts },
            transient: true,
            // The request may have arrived: only safe calls repeat it.
            unsent: false,
            retry_after: None,
        };
    }
    Failure {
        error: ConnectorError::Transport {
            provider,
            attempts,
            reason: error_chain(error),
        },
        transient: true,
        // A refused connection carried nothing to the provider.
        unsent: error.is_connect(),
        retry_after: None,
    }
}

/// The error and its causes, without the URL.
fn error_chain(error: &reqwest::Error) -> String {
    let mut reason = error_kind(error).to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read"
    } else if error.is_request() {
        "the request could not be sent"
    } else {
        "transport error"
    }
}

fn with_retry_after(error: ConnectorError, asked: Duration) -> ConnectorError {
    match error {
        ConnectorError::RateLimited {
            provider,
            attempts,
            policy,
            ..
        } => ConnectorError::RateLimited {
            provider,
            attempts,
            retry_after: Some(asked),
            policy,
        },
        other => other,
    }
}

/// A provider's error label, cut to a bounded length.
pub fn label(raw: Option<String>) -> Option<String> {
    const MAX_LABEL_CHARS: usize = 64;
    raw.map(|s| s.chars().take(MAX_LABEL_CHARS).collect())
}

pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The failures of a provider whose refusals are plain HTTP statuses: 429 (with its
/// `Retry-After`) and 5xx are transient, 401/403 a refused credential, the rest a bad request.
pub struct StatusHooks(pub Provider);

impl Hooks for StatusHooks {
    fn classify(&self, status: u16, headers: &HeaderMap, _body: &[u8], attempts: u32) -> Failure {
        let fail = |error, transient, unsent| Failure {
            error,
            transient,
            unsent,
            retry_after: None,
        };
        match status {
            429 => Failure {
                error: ConnectorError::RateLimited {
                    provider: self.0,
                    attempts,
                    retry_after: None,
                    policy: None,
                },
                transient: true,
                unsent: true,
                retry_after: retry_after(headers, Utc::now()),
            },
            401 | 403 => fail(
                ConnectorError::Unauthorized {
                    provider: self.0,
                    status,
                    correlation_id: None,
                },
                false,
                false,
            ),
            500..=599 => fail(
                ConnectorError::ServerError {
                    provider: self.0,
                    status,
                    attempts,
                },
                true,
                false,
            ),
            _ => fail(
                ConnectorError::BadRequest {
                    provider: self.0,
                    status,
                    category: None,
                    correlation_id: None,
                },
                false,
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(retry_after).unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:30Z")
            .unwrap()
            .with_timezone(&Utc);
        // (header, wait in seconds)
        let table = [
            ("120", Some(120)),
            (" 3 ", Some(3)),
            ("0", Some(0)),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(30)),
            ("Wed, 21 Oct 2015 07:28:00 +0000", Some(30)),
            // A date already past: no wait.
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(0)),
            ("-5", None),
            ("soon", None),
            ("", None),
        ];
        for (raw, wait) in table {
            assert_eq!(
                retry_after(&headers(raw), now).map(|d| d.as_secs()),
                wait,
                "{raw:?}"
            );
        }
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let policy = CallPolicy {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            max_attempts: 4,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(1),
        };
        // (attempt, wait ms)
        let table = [(1, 100), (2, 200), (3, 400), (4, 500), (40, 500)];
        for (attempt, wait) in table {
            assert_eq!(
                backoff(&policy, attempt).as_millis(),
                wait,
                "attempt {attempt}"
            );
        }
    }

    #[test]
    fn urls_keep_each_id_one_segment() {
        let base = base_url(
            Provider::GoogleCalendar,
            "https://www.googleapis.com/calendar/v3/",
        )
        .unwrap();
        // (segments, url)
        let table: [(&[&str], &str); 3] = [
            (
                &["calendars", "primary", "events"],
                "https://www.googleapis.com/calendar/v3/calendars/primary/events",
            ),
            (
                &["calendars", "ada@example.com", "events"],
                "https://www.googleapis.com/calendar/v3/calendars/ada@example.com/events",
            ),
            (
                &["calendars", "a/b#c?d", "events"],
                "https://www.googleapis.com/calendar/v3/calendars/a%2Fb%23c%3Fd/events",
            ),
        ];
        for (segments, expected) in table {
            assert_eq!(url(&base, segments).as_str(), expected, "{segments:?}");
        }
        assert!(base_url(Provider::Gmail, "gmail.googleapis.com").is_err());
    }
}
