//! The one client for OpenAI-compatible chat-completion APIs (OpenAI, Gemini, xAI and
//! local servers all speak it).
//!
//! One call is `POST {base_url}/chat/completions`. Rate limits (429), transient server
//! errors (500/502/503/504), timeouts and refused connections are retried with exponential
//! backoff and jitter, honouring `Retry-After` up to a cap; everything else fails at once
//! with a stable error code. Answers are read up to a size cap (2 MiB by default; a larger
//! answer is `llm.response_too_large`). The API key, prompts and answers are never logged.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use caseyos_domain::agent_run::LlmUsage;
use caseyos_domain::kernel::sse::take_event;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::AgentError;

/// Sampling temperature: low, so drafts are steady from run to run.
pub const TEMPERATURE: f64 = 0.2;
/// Whole request (connect, send, read the answer).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_BASE_BACKOFF: Duration = Duration::from_millis(500);
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(20);
/// A `Retry-After` longer than this ends the call instead of sleeping through it.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The largest answer read from a provider (2 MiB). An answer is bounded by `max_tokens`
/// (a few thousand tokens, tens of KiB), so anything near this is not a chat completion;
/// reading stops past it.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;
/// How much of a provider's error message a `llm.bad_request` error keeps.
const MAX_PROVIDER_MESSAGE_CHARS: usize = 300;

/// Where and how to reach the provider. Build it with [`LlmConfig::new`] and shorten the
/// timings where needed (tests do).
#[derive(Clone)]
pub struct LlmConfig {
    /// The API root, e.g. `https://api.openai.com/v1`; a trailing `/` is ignored.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <key>` when set (local servers often need none).
    pub api_key: Option<String>,
    pub model: String,
    /// Limit on one whole attempt.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for retryable failures only.
    pub max_retries: u32,
    /// The first retry waits about this long; each further one twice as long.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one fails the call at once.
    pub max_retry_after: Duration,
    /// The largest response body read; a larger successful answer fails the call with
    /// `llm.response_too_large`, and a larger error body is read only this far.
    pub max_response_bytes: usize,
}

impl LlmConfig {
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<String>,
        model: impl Into<String>,
    ) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            api_key,
            model: model.into(),
            timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            base_backoff: DEFAULT_BASE_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// Debug output names whether a key is set, never the key.
impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("base_backoff", &self.base_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    /// `system` or `user`.
    pub role: &'static str,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: &str) -> Self {
        ChatMessage {
            role: "system",
            content: content.to_string(),
        }
    }

    pub fn user(content: &str) -> Self {
        ChatMessage {
            role: "user",
            content: content.to_string(),
        }
    }
}

/// The model's answer and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The answer's text (empty when the model only called tools).
    pub text: String,
    /// The tools the model called ([`LlmClient::chat_with_tools`] only).
    pub tool_calls: Vec<ToolCall>,
    /// One call, the tokens the provider reported and the model that answered.
    pub usage: LlmUsage,
}

/// Why a chat call failed. Each kind has a stable [`code`](LlmError::code).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("the provider is rate-limiting requests (429) after {attempts} attempt(s){}", wait_note(*.retry_after))]
    RateLimited {
        attempts: u32,
        /// What the last `Retry-After` asked for, when it was more than we wait.
        retry_after: Option<Duration>,
    },
    #[error("the provider answered {status} after {attempts} attempt(s){}", wait_note(*.retry_after))]
    ServerError {
        status: u16,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    #[error("the provider did not answer in time after {attempts} attempt(s)")]
    Timeout { attempts: u32 },
    #[error("could not reach the provider after {attempts} attempt(s): {reason}")]
    Unreachable { attempts: u32, reason: String },
    #[error("the provider refused the API key ({status}); check the key and the model's access")]
    Unauthorized { status: u16 },
    #[error("the provider rejected the request ({status}){}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    BadRequest {
        status: u16,
        /// The provider's `error.message`, shortened.
        message: Option<String>,
    },
    #[error("the provider's answer was unusable: {reason}")]
    MalformedResponse { reason: &'static str },
    #[error("the provider's answer is larger than {limit_bytes} bytes; reading stopped there")]
    ResponseTooLarge { limit_bytes: usize },
    #[error("the language-model client is misconfigured: {reason}")]
    Misconfigured { reason: String },
}

fn wait_note(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; it asked to wait {} s", d.as_secs()))
        .unwrap_or_default()
}

impl LlmError {
    /// The stable machine code, e.g. `llm.rate_limited`.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::RateLimited { .. } => "llm.rate_limited",
            LlmError::ServerError { .. } => "llm.server_error",
            LlmError::Timeout { .. } => "llm.timeout",
            LlmError::Unreachable { .. } => "llm.unreachable",
            LlmError::Unauthorized { .. } => "llm.unauthorized",
            LlmError::BadRequest { .. } => "llm.bad_request",
            LlmError::MalformedResponse { .. } => "llm.malformed_response",
            LlmError::ResponseTooLarge { .. } => "llm.response_too_large",
            LlmError::Misconfigured { .. } => "llm.misconfigured",
        }
    }

    /// Whether running the agent again later may succeed. A malformed answer is not retried
    /// within a call, but a new run may well get a good one. An answer past the size cap is
    /// not: no chat completion within `max_tokens` comes near it, so the endpoint is not
    /// answering as a chat-completions API.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::RateLimited { .. }
            | LlmError::ServerError { .. }
            | LlmError::Timeout { .. }
            | LlmError::Unreachable { .. }
            | LlmError::MalformedResponse { .. } => true,
            LlmError::Unauthorized { .. }
            | LlmError::ResponseTooLarge { .. }
            | LlmError::BadRequest { .. }
            | LlmError::Misconfigured { .. } => false,
        }
    }

    pub fn into_agent_error(self) -> AgentError {
        AgentError::new(self.code(), self.to_string(), self.retryable())
    }
}

/// How the client treats an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusClass {
    Success,
    RateLimited,
    /// 500, 502, 503, 504: retried.
    TransientServer,
    /// Other 5xx: reported at once.
    Server,
    Unauthorized,
    BadRequest,
}

fn classify(status: StatusCode) -> StatusClass {
    match status.as_u16() {
        200..=299 => StatusClass::Success,
        429 => StatusClass::RateLimited,
        500 | 502 | 503 | 504 => StatusClass::TransientServer,
        401 | 403 => StatusClass::Unauthorized,
        500..=599 => StatusClass::Server,
        _ => StatusClass::BadRequest,
    }
}

/// The delay a `Retry-After` value asks for: delta-seconds or an HTTP-date (IMF-fixdate).
/// A date in the past means "now".
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (when.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The wait before retry number `retry` (1-based): `base · 2^(retry−1)` capped at `max`,
/// of which the upper half is jitter drawn from `random`.
fn backoff(base: Duration, max: Duration, retry: u32, random: u64) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let full = base.saturating_mul(factor).min(max);
    let half = full / 2;
    let span_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(random % span_ms.saturating_add(1))
}

/// A random number from the standard library's per-instance hash keys.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    hasher.finish()
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a serde_json::Value,
    /// The functions the model may call (OpenAI's `tools`), when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a [serde_json::Value]>,
    max_tokens: u32,
    temperature: f64,
    /// The answer as server-sent chunks ([`LlmClient::chat_streaming`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    /// With `stream`: the usage in the last chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// What is told each piece of an answer's text as the model writes it.
pub type OnText<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// The most tool calls one streamed answer may hold (a chunk's `index` beyond is refused).
const MAX_STREAMED_CALLS: usize = 64;

/// A streamed answer as its chunks (OpenAI's `chat.completion.chunk`) come: the text and
/// each tool call put together from their pieces, the model and the usage.
#[derive(Default)]
struct Streamed {
    model: Option<String>,
    text: String,
    /// (id, name, arguments) by the chunks' `index`.
    calls: Vec<(String, String, String)>,
    usage: Option<serde_json::Value>,
}

impl Streamed {
    /// Takes one chunk; its text goes to `on_text` too.
    fn take(&mut self, chunk: &serde_json::Value, on_text: OnText) -> Result<(), LlmError> {
        if chunk.get("error").is_some() {
            return Err(LlmError::MalformedResponse {
                reason: "the stream ended with an error",
            });
        }
        if let Some(model) = chunk["model"].as_str() {
            self.model = Some(model.to_string());
        }
        if chunk["usage"].is_object() {
            self.usage = Some(chunk["usage"].clone());
        }
        let delta = &chunk["choices"][0]["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            self.text.push_str(text);
            on_text(text);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap_or(0) as usize;
            if index >= MAX_STREAMED_CALLS {
                return Err(LlmError::MalformedResponse {
                    reason: "the stream holds too many tool calls",
                });
            }
            if self.calls.len() <= index {
                self.calls.resize_with(index + 1, Default::default);
            }
            let (id, name, arguments) = &mut self.calls[index];
            if let Some(given) = call["id"].as_str() {
                *id = given.to_string();
            }
            let function = &call["function"];
            name.push_str(function["name"].as_str().unwrap_or_default());
            arguments.push_str(function["arguments"].as_str().unwrap_or_default());
        }
        Ok(())
    }

    /// The answer as one chat completion would have said it.
    fn into_body(self) -> Vec<u8> {
        let calls: Vec<serde_json::Value> = self
            .calls
            .into_iter()
            .map(|(id, name, arguments)| {
                serde_json::json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": arguments}})
            })
            .collect();
        serde_json::json!({
            "model": self.model,
            "choices": [{"message": {"role": "assistant", "content": self.text, "tool_calls": calls}}],
            "usage": self.usage,
        })
        .to_string()
        .into_bytes()
    }
}

/// Reads a streamed answer (server-sent events, `data: {chunk}` … `data: [DONE]`) no
/// further than `cap` bytes: the answer put together as one completion's body.
async fn read_stream(
    mut response: reqwest::Response,
    cap: usize,
    on_text: OnText<'_>,
) -> Result<Result<Capped, LlmError>, reqwest::Error> {
    let mut streamed = Streamed::default();
    let (mut pending, mut read, mut ended) = (Vec::new(), 0usize, false);
    while !ended {
        match response.chunk().await? {
            Some(chunk) => {
                read += chunk.len();
                if read > cap {
                    return Ok(Ok(Capped {
                        bytes: Vec::new(),
                        truncated: true,
                    }));
                }
                // Lines may end with `\r\n`.
                pending.extend(chunk.iter().filter(|b| **b != b'\r'));
            }
            // What remains is the last event, its empty line missing; some providers end
            // without `[DONE]`.
            None => {
                pending.extend_from_slice(b"\n\n");
                ended = true;
            }
        }
        while let Some(event) = take_event(&mut pending, &mut 0) {
            let data = event.data.trim();
            if data == "[DONE]" {
                ended = true;
                break;
            }
            let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else {
                return Ok(Err(LlmError::MalformedResponse {
                    reason: "a chunk of the stream is not JSON",
                }));
            };
            if let Err(error) = streamed.take(&value, on_text) {
                return Ok(Err(error));
            }
        }
    }
    Ok(Ok(Capped {
        bytes: streamed.into_body(),
        truncated: false,
    }))
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<AnswerMessage>,
}

#[derive(Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<AnswerToolCall>,
}

#[derive(Deserialize)]
struct AnswerToolCall {
    id: String,
    function: AnswerFunction,
}

#[derive(Deserialize)]
struct AnswerFunction {
    name: String,
    /// The arguments as the model wrote them: JSON text, not yet checked.
    #[serde(default)]
    arguments: String,
}

/// A call of one of the offered tools, as the model asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's id, quoted back with the call's result.
    pub id: String,
    pub name: String,
    /// JSON text as the model wrote it (it may be malformed: check it).
    pub arguments: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// Reads a successful body into a completion.
fn parse_completion(body: &[u8], configured_model: &str) -> Result<Completion, LlmError> {
    let response: ChatResponse =
        serde_json::from_slice(body).map_err(|_| LlmError::MalformedResponse {
            reason: "the body is not a chat-completion JSON object",
        })?;
    let first = response
        .choices
        .into_iter()
        .next()
        .ok_or(LlmError::MalformedResponse {
            reason: "it has no choices",
        })?;
    let message = first.message.ok_or(LlmError::MalformedResponse {
        reason: "its first choice has no message",
    })?;
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .into_iter()
        .map(|c| ToolCall {
            id: c.id,
            name: c.function.name,
            arguments: c.function.arguments,
        })
        .collect();
    let text = message.content.unwrap_or_default();
    if text.trim().is_empty() && tool_calls.is_empty() {
        return Err(LlmError::MalformedResponse {
            reason: "its first choice has no message content",
        });
    }
    let usage = response.usage.unwrap_or_default();
    Ok(Completion {
        text,
        tool_calls,
        usage: LlmUsage {
            calls: 1,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: if usage.total_tokens == 0 {
                usage.prompt_tokens + usage.completion_tokens
            } else {
                usage.total_tokens
            },
            model: Some(
                response
                    .model
                    .unwrap_or_else(|| configured_model.to_string()),
            ),
        },
    })
}

/// The provider's `error.message` (or a plain-string `error`), shortened.
fn provider_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value
        .pointer("/error/message")
        .or_else(|| value.get("error").filter(|e| e.is_string()))
        .or_else(|| value.get("message"))?
        .as_str()?
        .trim();
    if message.is_empty() {
        return None;
    }
    let mut short: String = message.chars().take(MAX_PROVIDER_MESSAGE_CHARS).collect();
    if short.len() < message.len() {
        short.push('…');
    }
    Some(short)
}

/// How one attempt failed, and whether another may help.
struct Failure {
    error: LlmError,
    transient: bool,
    retry_after: Option<Duration>,
}

/// A client for one provider and model. Cheap to share: it holds a connection pool.
pub struct LlmClient {
    config: LlmConfig,
    endpoint: Url,
    http: reqwest::Client,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let root = config.base_url.trim().trim_end_matches('/');
        let endpoint = Url::parse(&format!("{root}/chat/completions"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| LlmError::Misconfigured {
                reason: "the base URL must be an http(s) URL".into(),
            })?;
        if config.model.trim().is_empty() {
            return Err(LlmError::Misconfigured {
                reason: "no model is set".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| LlmError::Misconfigured {
                reason: e.without_url().to_string(),
            })?;
        Ok(LlmClient {
            config,
            endpoint,
            http,
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Asks for a completion of `messages`, retrying what may pass on its own.
    pub async fn chat(
        &self,
        messages: &[ChatMessage],
        max_tokens: u32,
    ) -> Result<Completion, LlmError> {
        let messages = serde_json::to_value(messages).map_err(|e| LlmError::Misconfigured {
            reason: e.to_string(),
        })?;
        self.complete(&messages, None, max_tokens, None).await
    }

    /// Asks for the next turn of a conversation in OpenAI's shape (`messages` with the
    /// roles `system`, `user`, `assistant` — with its `tool_calls` — and `tool`), offering
    /// `tools` (`{"type": "function", "function": {name, description, parameters}}`): the
    /// answer is text, tool calls, or both.
    pub async fn chat_with_tools(
        &self,
        messages: &serde_json::Value,
        tools: &[serde_json::Value],
        max_tokens: u32,
    ) -> Result<Completion, LlmError> {
        self.complete(
            messages,
            Some(tools).filter(|t| !t.is_empty()),
            max_tokens,
            None,
        )
        .await
    }

    /// [`chat_with_tools`](Self::chat_with_tools), the answer streamed: `on_text` is told each
    /// piece of its text as the model writes it (a provider that answers all at once tells
    /// none). Once a piece was told, a failure is not retried (the pieces would come twice).
    pub async fn chat_streaming(
        &self,
        messages: &serde_json::Value,
        tools: &[serde_json::Value],
        max_tokens: u32,
        on_text: OnText<'_>,
    ) -> Result<Completion, LlmError> {
        let tools = Some(tools).filter(|t| !t.is_empty());
        self.complete(messages, tools, max_tokens, Some(on_text))
            .await
    }

    async fn complete(
        &self,
        messages: &serde_json::Value,
        tools: Option<&[serde_json::Value]>,
        max_tokens: u32,
        on_text: Option<OnText<'_>>,
    ) -> Result<Completion, LlmError> {
        let mut request = ChatRequest {
            model: &self.config.model,
            messages,
            tools,
            max_tokens,
            temperature: TEMPERATURE,
            stream: on_text.is_some(),
            stream_options: on_text.map(|_| StreamOptions {
                include_usage: true,
            }),
        };
        let told = std::sync::atomic::AtomicBool::new(false);
        let tell = |text: &str| {
            told.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(on_text) = on_text {
                on_text(text);
            }
        };
        let attempts = self.config.max_retries.saturating_add(1);
        let mut attempt = 1;
        loop {
            let span = tracing::info_span!(
                "llm.chat",
                llm.model = %self.config.model,
                llm.attempt = attempt,
                http.status_code = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
                llm.total_tokens = tracing::field::Empty,
            );
            let failure = match self
                .attempt(&request, attempt, &tell)
                .instrument(span)
                .await
            {
                Ok(completion) => return Ok(completion),
                Err(failure) => failure,
            };
            let told = told.load(std::sync::atomic::Ordering::Relaxed);
            // A provider that refuses `stream_options` (not every OpenAI-compatible one
            // knows it) is asked again without it, at once: the answer streams all the same,
            // without the usage.
            if matches!(failure.error, LlmError::BadRequest { .. })
                && request.stream_options.take().is_some()
            {
                tracing::warn!(llm.model = %self.config.model, "stream_options refused; asking without");
                continue;
            }
            if !failure.transient || attempt >= attempts || told {
                return Err(failure.error);
            }
            let wait = match failure.retry_after {
                Some(asked) if asked > self.config.max_retry_after => {
                    return Err(with_retry_after(failure.error, asked));
                }
                Some(asked) => asked,
                None => backoff(
                    self.config.base_backoff,
                    self.config.max_backoff,
                    attempt,
                    random_u64(),
                ),
            };
            tracing::warn!(
                llm.model = %self.config.model,
                llm.attempt = attempt,
                error.code = failure.error.code(),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "llm call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        request: &ChatRequest<'_>,
        attempt: u32,
        on_text: OnText<'_>,
    ) -> Result<Completion, Failure> {
        let span = tracing::Span::current();
        let started = Instant::now();
        let mut builder = self.http.post(self.endpoint.clone()).json(request);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let result = async {
            let response = builder.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let streamed = request.stream
                && status.is_success()
                && headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/event-stream"));
            let body = if streamed {
                read_stream(response, self.config.max_response_bytes, on_text).await?
            } else {
                Ok(read_capped(response, self.config.max_response_bytes).await?)
            };
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        let (status, headers, body) = result.map_err(|e| transport_failure(&e, attempt))?;
        span.record("http.status_code", status.as_u16());
        let body = body.map_err(|error| Failure {
            error,
            transient: false,
            retry_after: None,
        })?;
        let outcome = self.read(status, &headers, &body, attempt);
        if let Ok(completion) = &outcome {
            span.record("llm.total_tokens", completion.usage.total_tokens);
        }
        outcome
    }

    fn read(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &Capped,
        attempts: u32,
    ) -> Result<Completion, Failure> {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let code = status.as_u16();
        let (error, transient) = match classify(status) {
            StatusClass::Success if body.truncated => {
                return Err(Failure {
                    error: LlmError::ResponseTooLarge {
                        limit_bytes: self.config.max_response_bytes,
                    },
                    transient: false,
                    retry_after: None,
                })
            }
            StatusClass::Success => {
                return parse_completion(&body.bytes, &self.config.model).map_err(|error| Failure {
                    error,
                    transient: false,
                    retry_after: None,
                })
            }
            StatusClass::RateLimited => (
                LlmError::RateLimited {
                    attempts,
                    retry_after: None,
                },
                true,
            ),
            StatusClass::TransientServer => (
                LlmError::ServerError {
                    status: code,
                    attempts,
                    retry_after: None,
                },
                true,
            ),
            StatusClass::Server => (
                LlmError::ServerError {
                    status: code,
                    attempts,
                    retry_after: None,
                },
                false,
            ),
            StatusClass::Unauthorized => (LlmError::Unauthorized { status: code }, false),
            StatusClass::BadRequest => (
                LlmError::BadRequest {
                    status: code,
                    message: provider_message(&body.bytes),
                },
                false,
            ),
        };
        Err(Failure {
            error,
            transient,
            retry_after,
        })
    }
}

/// A response body read no further than a cap.
struct Capped {
    bytes: Vec<u8>,
    /// The body is longer than the cap; the rest was never read.
    truncated: bool,
}

/// Reads at most `cap` bytes of `response`'s body, chunk by chunk; a body announced (by its
/// `Content-Length`) as longer is not read at all.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Capped, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Ok(Capped {
            bytes: Vec::new(),
            truncated: true,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Capped {
                bytes,
                truncated: true,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Capped {
        bytes,
        truncated: false,
    })
}

/// The error to report when the provider asked for a longer wait than we honour.
fn with_retry_after(error: LlmError, asked: Duration) -> LlmError {
    match error {
        LlmError::RateLimited { attempts, .. } => LlmError::RateLimited {
            attempts,
            retry_after: Some(asked),
        },
        LlmError::ServerError {
            status, attempts, ..
        } => LlmError::ServerError {
            status,
            attempts,
            retry_after: Some(asked),
        },
        other => other,
    }
}

/// A failure below HTTP: timeouts and connection trouble are worth another attempt.
fn transport_failure(error: &reqwest::Error, attempts: u32) -> Failure {
    let error = if error.is_timeout() {
        LlmError::Timeout { attempts }
    } else {
        LlmError::Unreachable {
            attempts,
            reason: root_cause(error),
        }
    };
    Failure {
        error,
        transient: true,
        retry_after: None,
    }
}

/// The innermost cause of a transport error, without the URL.
fn root_cause(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    let text = source.to_string();
    if text.is_empty() {
        "connection failed".into()
    } else {
        text
    }
}

/// Pieces for building a [`Ctx`](crate::Ctx) in tests, offline or against a fake provider.
#[cfg(test)]
pub(crate) mod testing {
    use async_trait::async_trait;
    use caseyos_domain::queue::QueueItemView;
    use chrono::{DateTime, TimeZone, Utc};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::{LlmClient, LlmConfig};
    use crate::{Ctx, QueueReader, VoiceProfile, Writer};

    /// A queue with no open moves.
    pub struct NoMoves;

    #[async_trait]
    impl QueueReader for NoMoves {
        async fn open_moves(
            &self,
            _owner: &str,
            _limit: i64,
        ) -> Result<Vec<QueueItemView>, String> {
            Ok(Vec::new())
        }
    }

    /// Owns what a [`Ctx`] borrows.
    pub struct Harness {
        pub voice: VoiceProfile,
        pub writer: Writer,
        pub now: DateTime<Utc>,
        queue: NoMoves,
    }

    /// 2026-03-02 09:00 UTC, a Monday.
    pub fn fixed_now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .expect("a valid date")
    }

    impl Harness {
        pub fn offline() -> Self {
            Harness {
                voice: VoiceProfile::default(),
                writer: Writer::Offline,
                now: fixed_now(),
                queue: NoMoves,
            }
        }

        /// A writer asking the fake provider at `base_url`, without retries.
        pub fn llm(base_url: &str) -> Self {
            let mut config = LlmConfig::new(base_url, Some("sk-test".into()), "test-model");
            config.max_retries = 0;
            let client = LlmClient::new(config).expect("a valid test config");
            Harness {
                writer: Writer::Llm(Box::new(client)),
                ..Harness::offline()
            }
        }

        /// A fake provider that answers `text` to exactly one chat call, and a harness
        /// writing with it. Keep the server: dropping it checks that one call was made.
        pub async fn answering(text: &str) -> (MockServer, Harness) {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path("/chat/completions"))
                .respond_with(ResponseTemplate::new(200).set_body_json(completion_body(text)))
                .expect(1)
                .mount(&server)
                .await;
            let harness = Harness::llm(&server.uri());
            (server, harness)
        }

        pub fn ctx(&self) -> Ctx<'_> {
            Ctx::new(
                "owner@example.com",
                self.now,
                &self.voice,
                &self.writer,
                &self.queue,
            )
        }
    }

    /// A fake provider that gives `response` to every request.
    pub async fn fake_provider(response: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .mount(&server)
            .await;
        server
    }

    /// The system and user messages of the first chat call `server` received.
    pub async fn first_prompt(server: &MockServer) -> (String, String) {
        let sent = server.received_requests().await.expect("recorded");
        let body: serde_json::Value = sent[0].body_json().expect("json");
        let content = |i: usize| {
            body["messages"][i]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        (content(0), content(1))
    }

    /// A chat-completion body answering `text`.
    pub fn completion_body(text: &str) -> serde_json::Value {
        serde_json::json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "test-model-2026",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200}
        })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{completion_body, fake_provider};
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;
    use wiremock::matchers::{body_partial_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn fast_config(server: &MockServer) -> LlmConfig {
        let mut config = LlmConfig::new(
            format!("{}/v1/", server.uri()),
            Some("sk-secret-123".into()),
            "gpt-test",
        );
        config.max_retries = 2;
        config.base_backoff = Duration::from_millis(10);
        config.max_backoff = Duration::from_millis(40);
        config.timeout = Duration::from_secs(5);
        config
    }

    fn client(config: LlmConfig) -> LlmClient {
        LlmClient::new(config).expect("valid config")
    }

    fn messages() -> Vec<ChatMessage> {
        vec![
            ChatMessage::system("Write briefly."),
            ChatMessage::user("Draft a note to Dana."),
        ]
    }

    async fn requests_seen(server: &MockServer) -> usize {
        server.received_requests().await.map_or(0, |r| r.len())
    }

    #[tokio::test]
    async fn a_successful_call_sends_the_openai_request_and_reports_usage() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(header("authorization", "Bearer sk-secret-123"))
            .and(body_partial_json(json!({
                "model": "gpt-test",
                "max_tokens": 300,
                "temperature": 0.2,
                "messages": [
                    {"role": "system", "content": "Write briefly."},
                    {"role": "user", "content": "Draft a note to Dana."}
                ]
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion_body("Hello Dana")))
            .expect(1)
            .mount(&server)
            .await;

        let completion = client(fast_config(&server))
            .chat(&messages(), 300)
            .await
            .expect("completion");

        assert_eq!(completion.text, "Hello Dana");
        assert_eq!(
            completion.usage,
            LlmUsage {
                calls: 1,
                prompt_tokens: 120,
                completion_tokens: 80,
                total_tokens: 200,
                model: Some("test-model-2026".into()),
            }
        );
        let sent = server.received_requests().await.expect("recording on");
        let body: serde_json::Value = sent[0].body_json().expect("json body");
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            sent[0]
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }

    /// An OpenAI chunk stream: each of `chunks` as `data:`, then `[DONE]`.
    fn stream_body(chunks: &[serde_json::Value]) -> String {
        let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        body.push_str("data: [DONE]\n\n");
        body
    }

    fn delta(delta: serde_json::Value) -> serde_json::Value {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-test-0613",
               "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
    }

    #[tokio::test]
    async fn a_streamed_answer_tells_its_text_as_it_comes_and_puts_tool_calls_together() {
        let server = MockServer::start().await;
        let chunks = [
            delta(json!({"role": "assistant", "content": ""})),
            delta(json!({"content": "Your top"})),
            delta(json!({"content": " move: café"})),
            delta(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "todays_moves", "arguments": "{\"lim"}}]}),
            ),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "it\": 5}"}}]})),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "call_2", "type": "function",
                "function": {"name": "list_deals", "arguments": "{}"}}]}),
            ),
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-test-0613",
                   "choices": [],
                   "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59}}),
        ];
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_partial_json(
                json!({"stream": true, "stream_options": {"include_usage": true}}),
            ))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(stream_body(&chunks), "text/event-stream"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let told = std::sync::Mutex::new(Vec::<String>::new());
        let on_text = |t: &str| told.lock().unwrap().push(t.to_string());
        let messages = serde_json::to_value(messages()).unwrap();
        let tools = [json!({"type": "function", "function": {"name": "todays_moves"}})];
        let completion = client(fast_config(&server))
            .chat_streaming(&messages, &tools, 300, &on_text)
            .await
            .expect("completion");

        assert_eq!(*told.lock().unwrap(), ["Your top", " move: café"]);
        assert_eq!(completion.text, "Your top move: café");
        assert_eq!(
            completion.tool_calls,
            [
                ToolCall {
                    id: "call_1".into(),
                    name: "todays_moves".into(),
                    arguments: "{\"limit\": 5}".into()
                },
                ToolCall {
                    id: "call_2".into(),
                    name: "list_deals".into(),
                    arguments: "{}".into()
                },
            ]
        );
        assert_eq!(
            (
                completion.usage.total_tokens,
                completion.usage.model.as_deref()
            ),
            (59, Some("gpt-test-0613"))
        );
        let sent = server.received_requests().await.expect("recording on");
        assert_eq!(
            sent[0].body_json::<serde_json::Value>().unwrap()["stream"],
            true
        );
    }

    #[tokio::test]
    async fn a_provider_that_does_not_stream_answers_whole_and_a_broken_or_too_long_stream_fails() {
        // Asked to stream, it answers in one JSON body: read as such, nothing told.
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion_body("Whole")))
            .mount(&server)
            .await;
        let told = std::sync::Mutex::new(Vec::<String>::new());
        let on_text = |t: &str| told.lock().unwrap().push(t.to_string());
        let messages = serde_json::to_value(messages()).unwrap();
        let client_of = |server: &MockServer| client(fast_config(server));
        let whole = client_of(&server)
            .chat_streaming(&messages, &[], 10, &on_text)
            .await
            .expect("completion");
        assert_eq!(whole.text, "Whole");
        assert!(told.lock().unwrap().is_empty());
        let body: serde_json::Value = server.received_requests().await.unwrap()[0]
            .body_json()
            .unwrap();
        assert!(body.get("tools").is_none(), "{body}");

        // A chunk that is not JSON after some text: an error (what was told stays told).
        let cut = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                format!(
                    "data: {}\n\ndata: {{not json\n\n",
                    delta(json!({"content": "Half"}))
                ),
                "text/event-stream",
            ))
            .mount(&cut)
            .await;
        let error = client_of(&cut)
            .chat_streaming(&messages, &[], 10, &on_text)
            .await
            .expect_err("a broken stream");
        assert_eq!(error.code(), "llm.malformed_response");
        assert_eq!(*told.lock().unwrap(), ["Half"]);
        assert_eq!(requests_seen(&cut).await, 1);

        // A streamed answer longer than the cap is refused.
        let long = MockServer::start().await;
        let chunks: Vec<_> = (0..200)
            .map(|_| delta(json!({"content": "word "})))
            .collect();
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(stream_body(&chunks), "text/event-stream"),
            )
            .mount(&long)
            .await;
        let mut config = fast_config(&long);
        config.max_response_bytes = 4_096;
        let error = client(config)
            .chat_streaming(&messages, &[], 10, &|_| {})
            .await
            .expect_err("too long");
        assert_eq!(error.code(), "llm.response_too_large");
    }

    #[tokio::test]
    async fn a_provider_that_refuses_stream_options_is_asked_again_without_them() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_partial_json(json!({"stream_options": {"include_usage": true}})))
            .respond_with(ResponseTemplate::new(400).set_body_json(
                json!({"error": {"message": "Unrecognized request argument supplied: stream_options"}}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let chunks = [
            delta(json!({"content": "Hello"})),
            delta(json!({"content": " Dana"})),
        ];
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(stream_body(&chunks), "text/event-stream"),
            )
            .mount(&server)
            .await;
        let told = std::sync::Mutex::new(Vec::<String>::new());
        let on_text = |t: &str| told.lock().unwrap().push(t.to_string());
        let messages = serde_json::to_value(messages()).unwrap();
        let completion = client(fast_config(&server))
            .chat_streaming(&messages, &[], 10, &on_text)
            .await
            .expect("completion");
        assert_eq!(completion.text, "Hello Dana");
        assert_eq!(*told.lock().unwrap(), ["Hello", " Dana"]);
        let sent = server.received_requests().await.unwrap();
        assert_eq!(sent.len(), 2);
        let again: serde_json::Value = sent[1].body_json().unwrap();
        assert_eq!(
            (again["stream"].clone(), again.get("stream_options")),
            (json!(true), None)
        );

        // A request refused for another reason is refused once more, then said.
        let refusing = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_json(json!({"error": {"message": "bad model"}})),
            )
            .mount(&refusing)
            .await;
        let error = client(fast_config(&refusing))
            .chat_streaming(&messages, &[], 10, &|_| {})
            .await
            .expect_err("refused");
        assert_eq!(error.code(), "llm.bad_request");
        assert_eq!(requests_seen(&refusing).await, 2);
    }

    #[tokio::test]
    async fn a_stream_cut_off_after_some_text_is_not_asked_again() {
        // A provider that sends one piece of text, then drops the connection mid-body: a
        // transport failure, which would be retried had nothing been told yet.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = vec![0u8; 65_536];
                let _ = socket.read(&mut request).await;
                let chunk = format!("data: {}\n\n", delta(json!({"content": "Half"})));
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                            transfer-encoding: chunked\r\n\r\n";
                let body = format!("{:x}\r\n{chunk}\r\n", chunk.len());
                let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                let _ = socket.flush().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                drop(socket);
            }
        });
        let mut config = LlmConfig::new(format!("http://{address}/v1"), None, "gpt-test");
        config.max_retries = 2;
        config.base_backoff = Duration::from_millis(10);
        let told = std::sync::Mutex::new(Vec::<String>::new());
        let on_text = |t: &str| told.lock().unwrap().push(t.to_string());
        let messages = serde_json::to_value(messages()).unwrap();
        let error = client(config)
            .chat_streaming(&messages, &[], 10, &on_text)
            .await
            .expect_err("the stream was cut");
        assert_eq!(error.code(), "llm.unreachable", "{error}");
        assert_eq!(*told.lock().unwrap(), ["Half"]);
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_a_key_no_authorization_header_is_sent() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion_body("ok")))
            .mount(&server)
            .await;
        let mut config = fast_config(&server);
        config.api_key = None;

        client(config)
            .chat(&messages(), 10)
            .await
            .expect("completion");

        let sent = server.received_requests().await.expect("recording on");
        assert!(sent[0].headers.get("authorization").is_none());
    }

    #[tokio::test]
    async fn a_429_with_retry_after_waits_that_long_then_succeeds() {
        let server = fake_provider(
            ResponseTemplate::new(200).set_body_json(completion_body("after the wait")),
        )
        .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;

        let started = Instant::now();
        let completion = client(fast_config(&server)).chat(&messages(), 10).await;

        assert_eq!(completion.map(|c| c.text), Ok("after the wait".to_string()));
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert_eq!(requests_seen(&server).await, 2);
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_cap_fails_as_rate_limited_without_waiting() {
        let server =
            fake_provider(ResponseTemplate::new(429).insert_header("Retry-After", "120")).await;

        let error = client(fast_config(&server))
            .chat(&messages(), 10)
            .await
            .unwrap_err();

        assert_eq!(error.code(), "llm.rate_limited");
        assert!(error.to_string().contains("120 s"), "{error}");
        assert_eq!(requests_seen(&server).await, 1);
    }

    #[tokio::test]
    async fn a_500_is_retried_and_the_next_answer_is_used() {
        let server =
            fake_provider(ResponseTemplate::new(200).set_body_json(completion_body("second time")))
                .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;

        let completion = client(fast_config(&server)).chat(&messages(), 10).await;

        assert_eq!(completion.map(|c| c.text), Ok("second time".to_string()));
        assert_eq!(requests_seen(&server).await, 2);
    }

    #[tokio::test]
    async fn a_server_that_keeps_failing_gives_server_error_after_every_retry() {
        let server = fake_provider(ResponseTemplate::new(503)).await;
        let config = fast_config(&server);
        let expected_requests = config.max_retries as usize + 1;

        let error = client(config).chat(&messages(), 10).await.unwrap_err();

        assert_eq!(error.code(), "llm.server_error");
        assert!(error.retryable());
        assert_eq!(requests_seen(&server).await, expected_requests);
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_malformed_and_not_retried() {
        let server =
            fake_provider(ResponseTemplate::new(200).set_body_string("<html>gateway</html>")).await;

        let error = client(fast_config(&server))
            .chat(&messages(), 10)
            .await
            .unwrap_err();

        assert_eq!(error.code(), "llm.malformed_response");
        assert!(error.clone().into_agent_error().retryable);
        assert_eq!(requests_seen(&server).await, 1);
    }

    #[tokio::test]
    async fn an_answer_beyond_the_size_cap_fails_as_too_large_and_is_not_retried() {
        // Valid JSON, one byte over 2 MiB: it would parse if it were read whole.
        let filler = 2 * 1024 * 1024;
        let body = completion_body(&"x".repeat(filler)).to_string();
        assert!(body.len() > 2 * 1024 * 1024);
        let server = fake_provider(ResponseTemplate::new(200).set_body_string(body)).await;

        let error = client(fast_config(&server))
            .chat(&messages(), 10)
            .await
            .unwrap_err();

        assert_eq!(error.code(), "llm.response_too_large");
        assert!(error.to_string().contains("2097152 bytes"), "{error}");
        assert!(!error.retryable());
        assert_eq!(requests_seen(&server).await, 1);
    }

    #[tokio::test]
    async fn a_configured_size_cap_is_enforced_and_an_answer_within_it_is_read() {
        let text = "y".repeat(4000);
        let server =
            fake_provider(ResponseTemplate::new(200).set_body_json(completion_body(&text))).await;
        let mut config = fast_config(&server);
        config.max_response_bytes = 1024;
        let error = client(config).chat(&messages(), 10).await.unwrap_err();
        assert_eq!(error, LlmError::ResponseTooLarge { limit_bytes: 1024 });

        let mut config = fast_config(&server);
        config.max_response_bytes = 8 * 1024;
        let completion = client(config).chat(&messages(), 10).await;
        assert_eq!(completion.map(|c| c.text), Ok(text));
    }

    #[tokio::test]
    async fn a_chunked_answer_without_a_length_is_read_only_up_to_the_cap() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A provider that streams 1 KiB chunks without announcing a length; it stops
        // writing once the client hangs up.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buffer).await.expect("read the request");
                request.extend_from_slice(&buffer[..n]);
            }
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            socket
                .write_all(head.as_bytes())
                .await
                .expect("write the head");
            let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
            for _ in 0..1024 {
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        let mut config = LlmConfig::new(format!("http://{address}/v1"), None, "m");
        config.max_retries = 0;
        config.max_response_bytes = 8 * 1024;

        let error = client(config).chat(&messages(), 10).await.unwrap_err();

        assert_eq!(
            error,
            LlmError::ResponseTooLarge {
                limit_bytes: 8 * 1024
            }
        );
    }

    #[tokio::test]
    async fn a_large_error_body_is_read_up_to_the_cap_and_keeps_its_status() {
        let server =
            fake_provider(ResponseTemplate::new(400).set_body_string("e".repeat(64 * 1024))).await;
        let mut config = fast_config(&server);
        config.max_response_bytes = 1024;

        let error = client(config).chat(&messages(), 10).await.unwrap_err();

        assert_eq!(
            error,
            LlmError::BadRequest {
                status: 400,
                message: None
            }
        );
    }

    #[tokio::test]
    async fn an_answer_without_choices_is_malformed() {
        let server = fake_provider(
            ResponseTemplate::new(200).set_body_json(json!({"model": "m", "choices": []})),
        )
        .await;

        let error = client(fast_config(&server))
            .chat(&messages(), 10)
            .await
            .unwrap_err();

        assert_eq!(
            error,
            LlmError::MalformedResponse {
                reason: "it has no choices"
            }
        );
        assert_eq!(requests_seen(&server).await, 1);
    }

    #[tokio::test]
    async fn a_401_is_unauthorized_after_one_request_and_never_shows_the_key() {
        let server = fake_provider(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Incorrect API key"}})),
        )
        .await;

        let error = client(fast_config(&server))
            .chat(&messages(), 10)
            .await
            .unwrap_err()
            .into_agent_error();

        assert_eq!(error.code, "llm.unauthorized");
        assert!(!error.retryable);
        assert!(!error.message.contains("sk-secret-123"));
        assert_eq!(requests_seen(&server).await, 1);
    }

    #[tokio::test]
    async fn a_400_is_a_bad_request_carrying_the_providers_message() {
        let server = fake_provider(ResponseTemplate::new(400).set_body_json(
                json!({"error": {"message": "max_tokens is too large for this model", "type": "invalid_request_error"}}),
            )).await;

        let error = client(fast_config(&server))
            .chat(&messages(), 999_999)
            .await
            .unwrap_err();

        assert_eq!(error.code(), "llm.bad_request");
        assert!(!error.retryable());
        assert!(
            error.to_string().contains("max_tokens is too large"),
            "{error}"
        );
        assert_eq!(requests_seen(&server).await, 1);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let server = fake_provider(
            ResponseTemplate::new(200)
                .set_body_json(completion_body("too late"))
                .set_delay(Duration::from_secs(30)),
        )
        .await;
        let mut config = fast_config(&server);
        config.timeout = Duration::from_millis(200);
        config.max_retries = 1;

        let error = client(config).chat(&messages(), 10).await.unwrap_err();

        assert_eq!(error.code(), "llm.timeout");
        assert!(error.retryable());
        assert_eq!(requests_seen(&server).await, 2);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let mut config = LlmConfig::new(format!("http://127.0.0.1:{port}/v1"), None, "m");
        config.max_retries = 1;
        config.base_backoff = Duration::from_millis(1);

        let error = client(config).chat(&messages(), 10).await.unwrap_err();

        assert_eq!(error.code(), "llm.unreachable");
        assert!(error.retryable());
    }

    #[test]
    fn a_config_must_name_an_http_url_and_a_model() {
        let table = [
            ("http://localhost:11434/v1", "llama", true),
            ("https://api.openai.com/v1/", "gpt-4o-mini", true),
            ("ftp://example.com", "m", false),
            ("not a url", "m", false),
            ("https://api.openai.com/v1", " ", false),
        ];
        for (base_url, model, ok) in table {
            let result = LlmClient::new(LlmConfig::new(base_url, None, model));
            assert_eq!(result.is_ok(), ok, "{base_url} / {model:?}");
        }
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let config = LlmConfig::new("http://x.test", None, "m");
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert_eq!(config.max_retries, 3);
        assert_eq!(config.base_backoff, Duration::from_millis(500));
        assert_eq!(config.max_backoff, Duration::from_secs(20));
        assert_eq!(config.max_retry_after, Duration::from_secs(60));
        assert_eq!(config.max_response_bytes, 2 * 1024 * 1024);
    }

    #[test]
    fn debug_output_never_shows_the_api_key() {
        let config = LlmConfig::new("http://x.test", Some("sk-very-secret".into()), "m");
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-very-secret"));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn statuses_are_classified_by_what_retrying_can_do() {
        let table = [
            (200, StatusClass::Success),
            (201, StatusClass::Success),
            (429, StatusClass::RateLimited),
            (500, StatusClass::TransientServer),
            (502, StatusClass::TransientServer),
            (503, StatusClass::TransientServer),
            (504, StatusClass::TransientServer),
            (501, StatusClass::Server),
            (505, StatusClass::Server),
            (401, StatusClass::Unauthorized),
            (403, StatusClass::Unauthorized),
            (400, StatusClass::BadRequest),
            (404, StatusClass::BadRequest),
            (422, StatusClass::BadRequest),
        ];
        for (status, expected) in table {
            let status = StatusCode::from_u16(status).expect("status");
            assert_eq!(classify(status), expected, "{status}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .expect("date");
        let table = [
            ("1", Some(Duration::from_secs(1))),
            (" 30 ", Some(Duration::from_secs(30))),
            ("0", Some(Duration::ZERO)),
            (
                "Mon, 02 Mar 2026 09:00:45 GMT",
                Some(Duration::from_secs(45)),
            ),
            ("Mon, 02 Mar 2026 08:00:00 GMT", Some(Duration::ZERO)),
            ("-5", None),
            ("soon", None),
            ("", None),
        ];
        for (value, expected) in table {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_in_the_upper_half_and_stops_at_the_cap() {
        let base = Duration::from_millis(500);
        let max = Duration::from_secs(20);
        let table = [
            (1, 250, 500),
            (2, 500, 1_000),
            (3, 1_000, 2_000),
            (6, 8_000, 16_000),
            (7, 10_000, 20_000),
            (40, 10_000, 20_000),
        ];
        for (retry, low_ms, high_ms) in table {
            for random in [0, 1, 7_919, u64::MAX] {
                let wait = backoff(base, max, retry, random).as_millis();
                assert!(
                    (low_ms..=high_ms).contains(&wait),
                    "retry {retry}, random {random}: {wait} ms"
                );
            }
        }
    }

    #[test]
    fn provider_messages_are_read_from_the_usual_shapes() {
        let table = [
            (r#"{"error":{"message":"bad model"}}"#, Some("bad model")),
            (r#"{"error":"quota exceeded"}"#, Some("quota exceeded")),
            (r#"{"message":"nope"}"#, Some("nope")),
            (r#"{"error":{"message":"  "}}"#, None),
            ("not json", None),
        ];
        for (body, expected) in table {
            assert_eq!(
                provider_message(body.as_bytes()).as_deref(),
                expected,
                "{body}"
            );
        }
    }
}
