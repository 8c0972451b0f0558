//! Agents and their runs: the registry with each agent's last runs, starting a run, the runs
//! (all, or one agent's), one run, the stats, and retrying, cancelling or dismissing a run.

use caseyos_domain::api::{
    AgentRunListResponse, AgentRunResponse, AgentRunStatsResponse, AgentsResponse,
    CancelAgentRunRequest, RunAgentRequest,
};

use super::{get, post, ApiError};

/// An agent name or run id as one path segment.
fn segment(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

/// The body of commands that take no arguments: `{}` (a JSON body either way).
#[derive(serde::Serialize)]
struct NoArguments {}

pub async fn agents(consistency: Option<&str>) -> Result<AgentsResponse, ApiError> {
    get("/api/agents", "", consistency).await
}

pub async fn run_agent(name: &str, input: serde_json::Value) -> Result<AgentRunResponse, ApiError> {
    post(
        &format!("/api/agents/{}/runs", segment(name)),
        &RunAgentRequest { input },
    )
    .await
}

/// A page of runs; `query` is the API query string (filters, cursor).
pub async fn runs(
    query: &str,
    consistency: Option<&str>,
) -> Result<AgentRunListResponse, ApiError> {
    get("/api/agent-runs", query, consistency).await
}

/// A page of one agent's runs; `query` as for [`runs`].
pub async fn runs_of_agent(
    name: &str,
    query: &str,
    consistency: Option<&str>,
) -> Result<AgentRunListResponse, ApiError> {
    get(
        &format!("/api/agents/{}/runs", segment(name)),
        query,
        consistency,
    )
    .await
}

pub async fn run(id: &str, consistency: Option<&str>) -> Result<AgentRunResponse, ApiError> {
    get(&format!("/api/agent-runs/{}", segment(id)), "", consistency).await
}

pub async fn stats(consistency: Option<&str>) -> Result<AgentRunStatsResponse, ApiError> {
    get("/api/agent-runs/stats", "", consistency).await
}

/// Starts a new run with the same input; the answer is the new run.
pub async fn retry(id: &str) -> Result<AgentRunResponse, ApiError> {
    post(
        &format!("/api/agent-runs/{}/retry", segment(id)),
        &NoArguments {},
    )
    .await
}

pub async fn cancel(id: &str, reason: Option<String>) -> Result<AgentRunResponse, ApiError> {
    post(
        &format!("/api/agent-runs/{}/cancel", segment(id)),
        &CancelAgentRunRequest { reason },
    )
    .await
}

pub async fn dismiss(id: &str) -> Result<AgentRunResponse, ApiError> {
    post(
        &format!("/api/agent-runs/{}/dismiss", segment(id)),
        &NoArguments {},
    )
    .await
}
