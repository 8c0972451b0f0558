//! The one typed API client: every endpoint is an async fn over one `request` function that
//! sends the session's CSRF token and maps the server's error envelope.

use std::cell::RefCell;

use caseyos_domain::api::{
    AgentRunListResponse, AgentRunResponse, AgentRunStatsResponse, AgentsResponse,
    ApproveQueueItemRequest, AuditResponse, BulkDecisionRequest, BulkDecisionResponse,
    CancelAgentRunRequest, EditQueueItemRequest, ErrorEnvelope, QueueItemResponse,
    QueueListResponse, QueueStatsResponse, RejectQueueItemRequest, RunAgentRequest,
    SessionResponse, SignInRequest, SnoozeQueueItemRequest,
};
use gloo_net::http::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remembers the session's CSRF token for state-changing requests.
pub fn set_csrf(token: &str) {
    CSRF.with(|csrf| *csrf.borrow_mut() = token.to_string());
}

/// An error as the server described it (or as the network failed).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// `field: message` for validation errors.
    pub fields: Vec<(String, String)>,
}

impl ApiError {
    fn network(message: impl Into<String>) -> Self {
        ApiError {
            status: 0,
            code: "network.unreachable".into(),
            message: message.into(),
            request_id: None,
            fields: vec![],
        }
    }

    /// The caller must sign in (again).
    pub fn needs_sign_in(&self) -> bool {
        self.status == 401
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// Maps a non-2xx body to an error, whatever it holds.
pub fn error_from(status: u16, body: &str) -> ApiError {
    match serde_json::from_str::<ErrorEnvelope>(body) {
        Ok(envelope) => {
            let fields = envelope
                .error
                .details
                .as_ref()
                .and_then(|d| d.get("fields"))
                .and_then(|f| f.as_array())
                .map(|fields| {
                    fields
                        .iter()
                        .filter_map(|f| {
                            Some((
                                f.get("field")?.as_str()?.to_string(),
                                f.get("message")?.as_str()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ApiError {
                status,
                code: envelope.error.code,
                message: envelope.error.message,
                request_id: envelope.error.request_id,
                fields,
            }
        }
        Err(_) => ApiError {
            status,
            code: format!("http.{status}"),
            message: format!("the server answered {status}"),
            request_id: None,
            fields: vec![],
        },
    }
}

async fn request<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiError> {
    let mut builder = RequestBuilder::new(path).method(method.clone());
    if !matches!(method, Method::GET | Method::HEAD) {
        let csrf = CSRF.with(|c| c.borrow().clone());
        if !csrf.is_empty() {
            builder = builder.header("X-CSRF-Token", &csrf);
        }
    }
    let request = match body {
        Some(body) => builder
            .json(body)
            .map_err(|e| ApiError::network(e.to_string()))?,
        None => builder
            .build()
            .map_err(|e| ApiError::network(e.to_string()))?,
    };
    let response = request
        .send()
        .await
        .map_err(|_| ApiError::network("CaseyOS cannot be reached; check the server"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        serde_json::from_str(&text)
            .map_err(|e| ApiError::network(format!("unexpected answer: {e}")))
    } else {
        Err(error_from(status, &text))
    }
}

const NO_BODY: Option<&()> = None;

/// `?after=<token>` when there is one.
fn after(token: Option<&str>) -> String {
    token
        .filter(|t| !t.is_empty())
        .map(|t| format!("after={}", js_sys::encode_uri_component(t)))
        .unwrap_or_default()
}

fn with_query(path: &str, parts: &[String]) -> String {
    let query: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

pub async fn sign_in(request_body: &SignInRequest) -> Result<SessionResponse, ApiError> {
    request(Method::POST, "/api/session", Some(request_body)).await
}

pub async fn session() -> Result<SessionResponse, ApiError> {
    request(Method::GET, "/api/session", NO_BODY).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    request(Method::DELETE, "/api/session", NO_BODY).await
}

pub async fn today(consistency: Option<&str>) -> Result<QueueListResponse, ApiError> {
    request(
        Method::GET,
        &with_query("/api/queue/today", &[after(consistency)]),
        NO_BODY,
    )
    .await
}

/// A page of the queue; `query` is the URL's own query string (filters, sort, cursor).
pub async fn list(query: &str, consistency: Option<&str>) -> Result<QueueListResponse, ApiError> {
    request(
        Method::GET,
        &with_query("/api/queue", &[query.to_string(), after(consistency)]),
        NO_BODY,
    )
    .await
}

pub async fn item(id: &str, consistency: Option<&str>) -> Result<QueueItemResponse, ApiError> {
    request(
        Method::GET,
        &with_query(&format!("/api/queue/{id}"), &[after(consistency)]),
        NO_BODY,
    )
    .await
}

pub async fn stats(consistency: Option<&str>) -> Result<QueueStatsResponse, ApiError> {
    request(
        Method::GET,
        &with_query("/api/queue/stats", &[after(consistency)]),
        NO_BODY,
    )
    .await
}

/// The history of one aggregate: `kind` is `queue_item` or `agent_run`.
pub async fn audit(kind: &str, id: &str) -> Result<AuditResponse, ApiError> {
    request(Method::GET, &format!("/api/audit/{kind}/{id}"), NO_BODY).await
}

pub async fn approve(id: &str, note: Option<String>) -> Result<QueueItemResponse, ApiError> {
    let body = ApproveQueueItemRequest { note };
    request(
        Method::POST,
        &format!("/api/queue/{id}/approve"),
        Some(&body),
    )
    .await
}

pub async fn reject(id: &str, reason: String) -> Result<QueueItemResponse, ApiError> {
    let body = RejectQueueItemRequest { reason };
    request(
        Method::POST,
        &format!("/api/queue/{id}/reject"),
        Some(&body),
    )
    .await
}

pub async fn snooze(
    id: &str,
    body: &SnoozeQueueItemRequest,
) -> Result<QueueItemResponse, ApiError> {
    request(Method::POST, &format!("/api/queue/{id}/snooze"), Some(body)).await
}

pub async fn edit(id: &str, body: &EditQueueItemRequest) -> Result<QueueItemResponse, ApiError> {
    request(Method::POST, &format!("/api/queue/{id}/edit"), Some(body)).await
}

pub async fn bulk_approve(ids: Vec<uuid::Uuid>) -> Result<BulkDecisionResponse, ApiError> {
    let body = BulkDecisionRequest {
        ids,
        ..BulkDecisionRequest::default()
    };
    request(Method::POST, "/api/queue/bulk/approve", Some(&body)).await
}

pub async fn bulk_reject(
    ids: Vec<uuid::Uuid>,
    reason: String,
) -> Result<BulkDecisionResponse, ApiError> {
    let body = BulkDecisionRequest {
        ids,
        reason: Some(reason),
        note: None,
    };
    request(Method::POST, "/api/queue/bulk/reject", Some(&body)).await
}

/// The body of commands that take no arguments: `{}` (a JSON body either way).
fn no_arguments() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn segment(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

pub async fn agents(consistency: Option<&str>) -> Result<AgentsResponse, ApiError> {
    request(
        Method::GET,
        &with_query("/api/agents", &[after(consistency)]),
        NO_BODY,
    )
    .await
}

pub async fn run_agent(name: &str, input: serde_json::Value) -> Result<AgentRunResponse, ApiError> {
    let body = RunAgentRequest { input };
    request(
        Method::POST,
        &format!("/api/agents/{}/runs", segment(name)),
        Some(&body),
    )
    .await
}

/// A page of runs; `query` is the API query string (filters, cursor).
pub async fn agent_runs(
    query: &str,
    consistency: Option<&str>,
) -> Result<AgentRunListResponse, ApiError> {
    request(
        Method::GET,
        &with_query("/api/agent-runs", &[query.to_string(), after(consistency)]),
        NO_BODY,
    )
    .await
}

/// A page of one agent's runs; `query` as for [`agent_runs`].
pub async fn runs_of_agent(
    name: &str,
    query: &str,
    consistency: Option<&str>,
) -> Result<AgentRunListResponse, ApiError> {
    request(
        Method::GET,
        &with_query(
            &format!("/api/agents/{}/runs", segment(name)),
            &[query.to_string(), after(consistency)],
        ),
        NO_BODY,
    )
    .await
}

pub async fn agent_run(id: &str, consistency: Option<&str>) -> Result<AgentRunResponse, ApiError> {
    request(
        Method::GET,
        &with_query(
            &format!("/api/agent-runs/{}", segment(id)),
            &[after(consistency)],
        ),
        NO_BODY,
    )
    .await
}

pub async fn run_stats(consistency: Option<&str>) -> Result<AgentRunStatsResponse, ApiError> {
    request(
        Method::GET,
        &with_query("/api/agent-runs/stats", &[after(consistency)]),
        NO_BODY,
    )
    .await
}

/// Starts a new run with the same input; the answer is the new run.
pub async fn retry_run(id: &str) -> Result<AgentRunResponse, ApiError> {
    request(
        Method::POST,
        &format!("/api/agent-runs/{}/retry", segment(id)),
        Some(&no_arguments()),
    )
    .await
}

pub async fn cancel_run(id: &str, reason: Option<String>) -> Result<AgentRunResponse, ApiError> {
    let body = CancelAgentRunRequest { reason };
    request(
        Method::POST,
        &format!("/api/agent-runs/{}/cancel", segment(id)),
        Some(&body),
    )
    .await
}

pub async fn dismiss_run(id: &str) -> Result<AgentRunResponse, ApiError> {
    request(
        Method::POST,
        &format!("/api/agent-runs/{}/dismiss", segment(id)),
        Some(&no_arguments()),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn envelopes_map_to_errors_with_their_fields() {
        let body = r#"{"error":{"code":"request.validation","message":"reason must not be empty",
            "request_id":"r-1","details":{"fields":[{"field":"reason","message":"must not be empty"}]}}}"#;
        let error = error_from(422, body);
        assert_eq!(error.code, "request.validation");
        assert_eq!(error.request_id.as_deref(), Some("r-1"));
        assert_eq!(
            error.fields,
            vec![("reason".to_string(), "must not be empty".to_string())]
        );
        assert!(!error.needs_sign_in());
    }

    #[wasm_bindgen_test]
    fn bodies_that_are_not_envelopes_still_give_an_error() {
        let error = error_from(502, "<html>bad gateway</html>");
        assert_eq!(error.code, "http.502");
        assert!(error_from(401, "{}").needs_sign_in());
    }
}
