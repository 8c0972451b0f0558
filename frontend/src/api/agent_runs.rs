//! Agents and their runs: the registry with each agent's last runs, starting a run, the runs
//! (all, or one agent's), one run, the stats, and retrying, cancelling or dismissing a run.

use caseyos_domain::agent_run::AgentRunView;
use caseyos_domain::api::{
    AgentRunListResponse, AgentRunResponse, AgentsResponse, CancelAgentRunRequest, RunAgentRequest,
};
use serde::Deserialize;

use super::{get, get_with, post_with, ApiError};

/// Reads an [`AgentRunResponse`] (the run's fields and `consistency` side by side in one
/// object) as the run, then the token, from the same text. Deserializing the type itself
/// would go through its `#[serde(flatten)]`, which buffers the object in serde's generic
/// content tree and brings a second deserializer of every field of a run into the wasm.
fn read_run(text: &str) -> serde_json::Result<AgentRunResponse> {
    #[derive(Deserialize)]
    struct Token {
        consistency: String,
    }
    let run: AgentRunView = super::json::from_str(text)?;
    let Token { consistency } = super::json::from_str(text)?;
    Ok(AgentRunResponse { run, consistency })
}

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
    post_with(
        &format!("/api/agents/{}/runs", segment(name)),
        &RunAgentRequest { input },
        read_run,
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
    get_with(
        &format!("/api/agent-runs/{}", segment(id)),
        "",
        consistency,
        read_run,
    )
    .await
}

/// The runs' counts (`failed`, `running`, `queued`, …) as JSON.
pub async fn stats(consistency: Option<&str>) -> Result<serde_json::Value, ApiError> {
    get("/api/agent-runs/stats", "", consistency).await
}

/// Starts a new run with the same input; the answer is the new run.
pub async fn retry(id: &str) -> Result<AgentRunResponse, ApiError> {
    post_with(
        &format!("/api/agent-runs/{}/retry", segment(id)),
        &NoArguments {},
        read_run,
    )
    .await
}

pub async fn cancel(id: &str, reason: Option<String>) -> Result<AgentRunResponse, ApiError> {
    post_with(
        &format!("/api/agent-runs/{}/cancel", segment(id)),
        &CancelAgentRunRequest { reason },
        read_run,
    )
    .await
}

pub async fn dismiss(id: &str) -> Result<AgentRunResponse, ApiError> {
    post_with(
        &format!("/api/agent-runs/{}/dismiss", segment(id)),
        &NoArguments {},
        read_run,
    )
    .await
}
