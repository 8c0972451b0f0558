//! Agents and their runs: the registry with each agent's last runs, starting a run, the runs
//! (all, or one agent's), one run, the stats, and retrying, cancelling or dismissing a run.

use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::api::{AgentRunListResponse, AgentsResponse};
use gloo_net::http::Method;
use serde_json::Value;
use uuid::Uuid;

use super::{get, object, send_value, text_or_null, ApiError};

/// What the SPA follows of a run it read: its id, status and consistency token. (One run is
/// read as JSON, its fields and `consistency` side by side: a typed reader of a run would
/// be several KB of the wasm for the one page that shows a run.)
#[derive(Clone, Debug, PartialEq)]
pub struct RunState {
    pub id: Uuid,
    pub status: RunStatus,
    pub consistency: String,
}

impl RunState {
    /// Of a run read as JSON; `None` when it is no run.
    pub fn of(run: &Value) -> Option<RunState> {
        let text = |key: &str| run.get(key).and_then(Value::as_str);
        Some(RunState {
            id: Uuid::parse_str(text("id")?).ok()?,
            status: RunStatus::named(text("status")?)?,
            consistency: text("consistency").unwrap_or_default().to_string(),
        })
    }
}

/// An agent name or run id as one path segment.
fn segment(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

pub async fn agents(consistency: Option<&str>) -> Result<AgentsResponse, ApiError> {
    get("/api/agents", "", consistency).await
}

/// Starts a run of agent `name` with `input`: the run (a run is read as JSON: its fields and
/// `consistency` side by side).
pub async fn run_agent(name: &str, input: Value) -> Result<Value, ApiError> {
    let path = format!("/api/agents/{}/runs", segment(name));
    send_value(Method::POST, path, Some(object(vec![("input", input)]))).await
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

/// One run, with `consistency`.
pub async fn run(id: &str, consistency: Option<&str>) -> Result<Value, ApiError> {
    get(&format!("/api/agent-runs/{}", segment(id)), "", consistency).await
}

/// The runs' counts (`failed`, `running`, `queued`, …) as JSON.
pub async fn stats(consistency: Option<&str>) -> Result<serde_json::Value, ApiError> {
    get("/api/agent-runs/stats", "", consistency).await
}

/// Starts a new run with the same input; the answer is the new run.
pub async fn retry(id: &str) -> Result<Value, ApiError> {
    command(id, "retry", vec![]).await
}

/// Cancels a run (`reason`, if any, is recorded): the run as it now is.
pub async fn cancel(id: &str, reason: Option<String>) -> Result<Value, ApiError> {
    command(id, "cancel", vec![("reason", text_or_null(reason))]).await
}

/// Dismisses a finished run: the run as it now is.
pub async fn dismiss(id: &str) -> Result<Value, ApiError> {
    command(id, "dismiss", vec![]).await
}

/// Sends command `verb` on run `id` with the fields `body`.
async fn command(
    id: &str,
    verb: &str,
    body: Vec<(&'static str, Value)>,
) -> Result<Value, ApiError> {
    let path = format!("/api/agent-runs/{}/{verb}", segment(id));
    send_value(Method::POST, path, Some(object(body))).await
}

#[cfg(test)]
mod tests {
    use caseyos_domain::agent_run::RunStatus;
    use caseyos_domain::api::AgentRunResponse;
    use serde_json::{json, Value};
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::RunState;
    use crate::test_support::agent_run;

    #[wasm_bindgen_test]
    fn a_run_as_the_server_writes_it_gives_its_id_status_and_token() {
        let response = AgentRunResponse {
            run: agent_run(RunStatus::Failed, "casey"),
            consistency: "7.0".into(),
        };
        let text = serde_json::to_string(&response).unwrap();
        let read: Value = crate::api::json::from_str(&text).unwrap();
        assert_eq!(
            RunState::of(&read),
            Some(RunState {
                id: response.run.id,
                status: RunStatus::Failed,
                consistency: "7.0".into(),
            })
        );
        for not_a_run in [
            json!({}),
            json!({"id": "x", "status": "failed"}),
            json!({"id": response.run.id.to_string(), "status": "lost"}),
        ] {
            assert_eq!(RunState::of(&not_a_run), None, "{not_a_run}");
        }
    }
}
