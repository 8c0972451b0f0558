//! Agent runs end to end on a real PostgreSQL: every agent through the API, validation,
//! idempotency, timeouts, cancel, retry, several workers, lost workers, the language-model
//! client against a local fake of the chat-completions API, and the CLI.

use std::fmt::Display;
use std::time::{Duration, Instant};

use caseyos_domain::agent_run::{AgentRunView, AttemptOutcome, RunError, RunStatus, RunTrigger};
use caseyos_domain::api::{
    AgentRunListResponse, AgentRunResponse, AgentRunStatsResponse, AgentsResponse, AuditResponse,
};
use caseyos_domain::queue::{Draft, DraftOrigin, Source};
use caseyos_tests::{
    admin_token, assert_error, dto, error_fields, expect_dto, query_i64, spawn_app, spawn_app_with,
    status_and_json, Api, Instance, TestApp,
};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::process::{caseyos, run, Server};

/// How long a test waits for a run to reach a state before failing.
const GUARD: Duration = Duration::from_secs(60);

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "fake-model-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200}
    })
}

/// A fake OpenAI-compatible provider answering every chat completion with `content`
/// after `delay`.
async fn fake_llm(content: &str, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer test-key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(content))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

fn use_llm(config: &mut caseyos_backend::Config, server: &MockServer) {
    config.llm_base_url = Some(format!("{}/v1", server.uri()));
    config.llm_api_key = Some("test-key".into());
    config.llm_model = "fake-model-1".into();
}

const CONTENT: &str = "Most pipeline reviews fail for one reason: nobody agrees on what a stage \
means. When a deal moves from discovery to proposal, the buyer should have confirmed the \
problem, the budget and the people who decide. Write those exit criteria down, review them \
weekly, and forecast only what meets them.";

/// Waits until the run has finished (succeeded, failed, timed out or cancelled).
async fn finished(app: &TestApp, token: &str, id: impl Display) -> AgentRunView {
    app.wait_for_run(token, id, GUARD, |run| run.status.is_finished())
        .await
}

/// `POST /api/agent-runs/{id}/{what}` (`cancel`, `retry`, `dismiss`) as `token`.
async fn run_command(
    app: &TestApp,
    token: &str,
    id: impl Display,
    what: &str,
    body: Value,
) -> (u16, Value) {
    app.post_json(&format!("/api/agent-runs/{id}/{what}"), token, &body)
        .await
}

/// The run a command answered with, asserting its status.
#[track_caller]
fn run_of(answer: &(u16, Value), status: u16) -> AgentRunView {
    expect_dto::<AgentRunResponse>(answer, status).run
}

/// The code of an error, if any.
fn code(error: &Option<RunError>) -> Option<&str> {
    error.as_ref().map(|e| e.code.as_str())
}

/// A page of `GET /api/agent-runs?{query}` as admin.
async fn runs_page(app: &TestApp, query: &str) -> AgentRunListResponse {
    app.get_ok(&format!("/api/agent-runs?{query}"), &app.admin)
        .await
}

async fn event_types(app: &TestApp, id: impl Display) -> Vec<String> {
    caseyos_store::event::read_aggregate(&app.pool, "agent_run", &id.to_string())
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[tokio::test]
async fn every_agent_in_the_registry_runs_end_to_end_with_its_example() {
    let app = spawn_app().await;
    // A deal for the deal agents to read (DealAdvisor's example advises the one most in need).
    let (status, body) = app
        .post_json("/api/deals", &app.admin, &json!({"name": "Example deal"}))
        .await;
    assert_eq!(status, 201, "{body}");
    app.settle().await;
    let (status, body) = app.get_json("/api/agents", &app.admin).await;
    assert_eq!(status, 200, "{body}");
    // Raw: every agent carries these on the wire (a typed `input_schema` would take null).
    for agent in body["agents"].as_array().expect("agents") {
        for key in ["name", "domain", "description", "input_schema", "uses_llm"] {
            assert!(!agent[key].is_null(), "{key} missing on {agent}");
        }
    }
    let agents = dto::<AgentsResponse>(&body).agents;
    assert_eq!(
        agents.len(),
        23,
        "twelve agents, the five hygiene agents, the four deal agents and the two research \
         agents are registered"
    );
    let mut runs = Vec::new();
    for agent in &agents {
        let name = &agent.name;
        let answer = app
            .request_run(&app.admin, name, agent.example_input.clone())
            .await;
        assert_eq!(answer.0, 202, "{name}: {}", answer.1);
        let run = run_of(&answer, 202);
        assert_eq!(run.status, RunStatus::Queued, "{name}");
        assert_eq!(&run.agent, name);
        runs.push((agent, run.id));
    }
    for (agent, id) in runs {
        let name = &agent.name;
        let run = finished(&app, &app.admin, id).await;
        assert_eq!(
            run.status,
            RunStatus::Succeeded,
            "{name} did not succeed: {run:#?}"
        );
        let output = run.output.clone().unwrap_or_default();
        assert!(output.is_object(), "{name} has no output: {run:#?}");
        assert_eq!(run.attempts.len(), 1);
        assert!(run.duration_ms.is_some());
        if agent.uses_llm {
            assert_eq!(
                output["writer"], "offline",
                "{name} must mark offline writing: {run:#?}"
            );
            assert_eq!(run.usage.calls, 0);
        }
        if agent.proposes_moves && name != "Nurturing" {
            assert!(
                !run.proposed_items.is_empty(),
                "{name} proposed nothing: {run:#?}"
            );
        }
        for &item_id in &run.proposed_items {
            let moved = app.queue_item(item_id).await;
            assert_eq!(moved.source, Source::AgentRun { run_id: id }, "{moved:?}");
            // The audit trail links the move to the run that caused it.
            let events = app.events_of(item_id).await;
            assert_eq!(
                events[0].meta("causation_id"),
                Some(id.to_string().as_str())
            );
            assert_eq!(
                events[0].meta("actor"),
                Some(format!("agent:{name}").as_str())
            );
        }
        // The run's own history comes from the audit API.
        let audit: AuditResponse = app
            .get_ok(&format!("/api/audit/agent_run/{id}"), &app.admin)
            .await;
        let types: Vec<&str> = audit.events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            ["AgentRunRequested", "AgentRunStarted", "AgentRunSucceeded"]
        );
        assert_eq!(
            dto::<AgentRunView>(&audit.state).status,
            RunStatus::Succeeded
        );
    }
    // Each agent's recent runs show on the registry, and its own history lists the run.
    let registry: AgentsResponse = app.get_ok("/api/agents", &app.admin).await;
    for agent in &registry.agents {
        assert_eq!(agent.recent_runs.len(), 1, "{agent:?}");
    }
    let page: AgentRunListResponse = app
        .get_ok("/api/agents/draft-writer/runs", &app.admin)
        .await;
    assert_eq!(page.runs.len(), 1);
    assert_eq!(page.runs[0].agent, "DraftWriter");
}

#[tokio::test]
async fn input_is_validated_against_the_schema_before_a_run_is_requested() {
    let app = spawn_app().await;
    let before = caseyos_tests::event_count(&app.pool).await;
    let answer = app
        .request_run(&app.admin, "Validation", json!({"subject": 5}))
        .await;
    let error = assert_error(&answer, 422, "request.validation");
    assert!(error_fields(&error)[0].starts_with("input"), "{}", answer.1);
    let (status, body) = app
        .request_run(&app.admin, "Validation", json!({"nope": 1}))
        .await;
    assert_eq!(status, 422, "{body}");
    let unknown = app.request_run(&app.admin, "NoSuchAgent", json!({})).await;
    assert_error(&unknown, 404, "agent.not_found");
    let (status, body) = app
        .post_json(
            "/api/agents/Validation/runs",
            &app.admin,
            &json!({"input": [1, 2]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // Viewers read runs but request none.
    let viewer = app.token("vera", "viewer").await;
    let (status, _) = app.request_run(&viewer, "Validation", json!({})).await;
    assert_eq!(status, 403);
    assert_eq!(
        caseyos_tests::event_count(&app.pool).await,
        before,
        "nothing written"
    );
}

#[tokio::test]
async fn a_run_request_with_an_idempotency_key_is_answered_once() {
    let app = spawn_app_with(|c| c.agent_workers = 0).await;
    let input = json!({"job_title": "VP of Demand Generation"});
    let request = |body: Value| {
        app.post("/api/agents/PersonaRouter/runs", &app.admin, &body)
            .header("idempotency-key", "run-once-1")
            .send()
    };
    let first = request(json!({"input": input})).await.unwrap();
    assert_eq!(first.status(), 202);
    let first = run_of(&status_and_json(first).await, 202);
    let second = request(json!({"input": input})).await.unwrap();
    assert_eq!(second.status(), 202);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second = run_of(&status_and_json(second).await, 202);
    assert_eq!(first.id, second.id);
    assert_eq!(event_types(&app, first.id).await, ["AgentRunRequested"]);
    let reused = request(json!({"input": {"job_title": "CFO"}}))
        .await
        .unwrap();
    assert_error(
        &status_and_json(reused).await,
        422,
        "idempotency.key_reused",
    );
}

#[tokio::test]
async fn a_run_that_outlives_its_time_limit_times_out() {
    // A provider that never answers within the test.
    let llm = fake_llm("never seen", Duration::from_secs(600)).await;
    let app = spawn_app_with(|c| {
        use_llm(c, &llm);
        c.agent_timeouts.insert("Repurpose".into(), 2);
    })
    .await;
    let started = Instant::now();
    let run = app
        .request_run_ok(
            &app.admin,
            "Repurpose",
            json!({"content": CONTENT, "formats": ["linkedin"]}),
        )
        .await;
    assert_eq!(run.timeout_ms, 2000);
    let run = finished(&app, &app.admin, run.id).await;
    let waited = started.elapsed();
    assert_eq!(run.status, RunStatus::TimedOut, "{run:#?}");
    assert_eq!(code(&run.error), Some("agent.timed_out"));
    assert_eq!(run.attempts[0].outcome, AttemptOutcome::TimedOut);
    assert!(run.duration_ms.unwrap() >= 2000, "{run:#?}");
    assert!(waited >= Duration::from_secs(2));
    assert!(
        !llm.received_requests().await.unwrap().is_empty(),
        "the agent did call the provider"
    );
    println!("timed out after {} ms (limit 2000 ms)", waited.as_millis());
}

#[tokio::test]
async fn cancel_stops_a_running_agent_and_ends_a_queued_run_at_once() {
    let llm = fake_llm("slow", Duration::from_secs(600)).await;
    let app = spawn_app_with(|c| use_llm(c, &llm)).await;
    let id = app
        .request_run_ok(
            &app.admin,
            "Repurpose",
            json!({"content": CONTENT, "formats": ["email"]}),
        )
        .await
        .id;
    app.wait_for_run(&app.admin, id, GUARD, |r| r.status == RunStatus::Running)
        .await;
    let asked = Instant::now();
    let cancel = run_command(
        &app,
        &app.admin,
        id,
        "cancel",
        json!({"reason": "wrong piece of content"}),
    )
    .await;
    assert_eq!(run_of(&cancel, 200).status, RunStatus::Cancelling);
    let run = finished(&app, &app.admin, id).await;
    println!(
        "cancelled {} ms after the request",
        asked.elapsed().as_millis()
    );
    assert_eq!(run.status, RunStatus::Cancelled, "{run:#?}");
    assert_eq!(run.cancel_reason.as_deref(), Some("wrong piece of content"));
    assert_eq!(run.attempts[0].outcome, AttemptOutcome::Cancelled);
    // Cancelling a finished run is refused.
    let again = run_command(&app, &app.admin, id, "cancel", json!({})).await;
    assert_error(&again, 409, "agent_run.already_finished");

    // With no worker to run it, a queued run is cancelled by the request itself.
    let idle = spawn_app_with(|c| c.agent_workers = 0).await;
    let id = idle
        .request_run_ok(
            &idle.admin,
            "Validation",
            json!({"subject": "Hello there", "body": "x"}),
        )
        .await
        .id;
    let cancelled = run_of(
        &run_command(&idle, &idle.admin, id, "cancel", json!({})).await,
        200,
    );
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert!(cancelled.attempts.is_empty());
}

#[tokio::test]
async fn a_failed_run_keeps_its_error_and_a_retry_links_to_it() {
    // A provider that always fails.
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
        .mount(&llm)
        .await;
    let app = spawn_app_with(|c| {
        use_llm(c, &llm);
        c.llm_max_retries = 1;
    })
    .await;
    let operator = app.token("olive", "operator").await;
    let stats = || app.get_ok::<AgentRunStatsResponse>("/api/agent-runs/stats", &operator);
    let input = json!({"content": CONTENT, "formats": ["newsletter"]});
    let id = app
        .request_run_ok(&operator, "Repurpose", input.clone())
        .await
        .id;
    let failed = finished(&app, &operator, id).await;
    assert_eq!(failed.status, RunStatus::Failed, "{failed:#?}");
    assert_eq!(code(&failed.error), Some("llm.server_error"));
    assert_eq!(failed.retryable, Some(true));
    assert_eq!(
        llm.received_requests().await.unwrap().len(),
        2,
        "one request and one retry"
    );
    let now = stats().await;
    assert_eq!(now.failed, 1, "{now:?}");

    // Someone else's run is not theirs to retry: for them it does not exist.
    let other = app.token("otto", "operator").await;
    let refused = run_command(&app, &other, id, "retry", json!({})).await;
    assert_error(&refused, 404, "agent_run.not_found");

    let retry = run_of(
        &run_command(&app, &operator, id, "retry", json!({})).await,
        202,
    );
    assert_eq!(retry.retry_of, Some(id));
    assert_eq!(retry.input, input, "a retry runs the same input");
    assert_ne!(retry.id, id);
    let original = app
        .wait_for_run(&operator, id, GUARD, |r| !r.retried_by.is_empty())
        .await;
    assert_eq!(original.retried_by[0], retry.id);
    let retries: AgentRunListResponse = app
        .get_ok(&format!("/api/agent-runs?retry_of={id}"), &operator)
        .await;
    assert_eq!(retries.runs[0].id, retry.id);
    let retried = finished(&app, &operator, retry.id).await;
    assert_eq!(retried.status, RunStatus::Failed);
    // Failed runs ask for attention until dismissed: the count and the list agree.
    let now = stats().await;
    assert_eq!(now.failed, 2, "{now:?}");
    for run in [retry.id, id] {
        let dismissed = run_of(
            &run_command(&app, &operator, run, "dismiss", json!({})).await,
            200,
        );
        assert!(dismissed.dismissed_at.is_some());
        let listed: AgentRunListResponse = app
            .get_ok(
                "/api/agent-runs?status=failed,timed_out&dismissed=false",
                &operator,
            )
            .await;
        let now = stats().await;
        assert_eq!(now.failed as usize, listed.runs.len(), "{now:?} {listed:?}");
    }
    let now = stats().await;
    assert_eq!(now.failed, 0, "{now:?}");
    assert_eq!(now.failed_24h, 2, "{now:?}");
    // A succeeded run is not retried (run it again instead).
    let ok_id = app
        .request_run_ok(&operator, "PersonaRouter", json!({"job_title": "CMO"}))
        .await
        .id;
    finished(&app, &operator, ok_id).await;
    let refused = run_command(&app, &operator, ok_id, "retry", json!({})).await;
    assert_error(&refused, 409, "agent_run.not_retryable");
}

#[tokio::test]
async fn the_language_model_writes_and_its_usage_is_recorded_on_the_run() {
    let llm = fake_llm(
        "Pipeline reviews fail when stages mean different things to different people.",
        Duration::ZERO,
    )
    .await;
    let app = spawn_app_with(|c| use_llm(c, &llm)).await;
    let registry: AgentsResponse = app.get_ok("/api/agents", &app.admin).await;
    let repurpose = registry
        .agents
        .iter()
        .find(|a| a.name == "Repurpose")
        .unwrap();
    assert!(repurpose.llm_configured);
    let id = app
        .request_run_ok(
            &app.admin,
            "Repurpose",
            json!({"content": CONTENT, "formats": ["linkedin", "email"]}),
        )
        .await
        .id;
    let run = finished(&app, &app.admin, id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.output.clone().unwrap_or_default()["writer"], "llm");
    assert_eq!(run.usage.calls, 2);
    assert_eq!(run.usage.total_tokens, 400);
    assert_eq!(run.usage.model.as_deref(), Some("fake-model-1"));
    let requests = llm.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["model"], "fake-model-1");
    assert!(body["messages"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn two_instances_working_one_queue_never_execute_a_run_twice() {
    const RUNS: usize = 24;
    let llm = fake_llm("A short post.", Duration::from_millis(50)).await;
    let first = spawn_app_with(|c| use_llm(c, &llm)).await;
    let second = first.another_instance(|c| use_llm(c, &llm)).await;

    let mut ids = Vec::new();
    for n in 0..RUNS {
        let input = json!({"content": format!("{CONTENT} Run {n}."), "formats": ["x_thread"]});
        let run = first.request_run_ok(&first.admin, "Repurpose", input).await;
        ids.push(run.id);
    }
    let mut workers = std::collections::BTreeSet::new();
    for &id in &ids {
        let run = finished(&first, &first.admin, id).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
        assert_eq!(run.attempts.len(), 1, "{run:#?}");
        let worker = &run.attempts[0].worker;
        workers.insert(worker.split('#').next().unwrap().to_string());
        let started = event_types(&first, id)
            .await
            .iter()
            .filter(|t| *t == "AgentRunStarted")
            .count();
        assert_eq!(started, 1, "run {id} started {started} times");
    }
    assert_eq!(
        llm.received_requests().await.unwrap().len(),
        RUNS,
        "one provider call per run"
    );
    println!("{RUNS} runs executed by {} instances", workers.len());
    second.stop().await;
}

#[tokio::test]
async fn a_worker_killed_mid_run_loses_the_run_to_another_which_finishes_it() {
    // The provider answers after 4 s: long enough to kill the first worker mid-call.
    let llm = fake_llm("Written after a while.", Duration::from_secs(4)).await;
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = admin_token(&pool, "kill-admin", "killer").await;
    let llm_url = format!("{}/v1", llm.uri());
    let mut server = Server::start(
        || {
            let mut command = caseyos(Some(&url));
            command
                .env("CASEYOS_LLM_BASE_URL", &llm_url)
                .env("CASEYOS_LLM_API_KEY", "test-key")
                .env("CASEYOS_AGENT_LEASE_SECS", "2");
            command
        },
        Duration::from_secs(60),
    )
    .await;
    let input = json!({"input": {"content": CONTENT, "formats": ["linkedin"]}});
    let requested = Api::new(&server.address, &token)
        .post_json("/api/agents/Repurpose/runs", &input)
        .await;
    let id = run_of(&requested, 202).id;
    // Wait until the provider has the request, then kill the process holding the run.
    let started = Instant::now();
    while llm.received_requests().await.unwrap().is_empty() {
        assert!(
            started.elapsed() < GUARD,
            "the first worker never called the provider"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    drop(server);

    // Another instance takes over once the lease expires.
    let mut config = caseyos_tests::test_config(&url);
    config.llm_base_url = Some(llm_url.clone());
    config.llm_api_key = Some("test-key".into());
    config.agent_lease_secs = 2;
    let instance = Instance::start(config, pool.clone()).await;
    let api = Api::new(&instance.address, &token);
    let run = loop {
        let (status, body) = api.get_json(&format!("/api/agent-runs/{id}")).await;
        if status == 200 {
            let run = dto::<AgentRunResponse>(&body).run;
            if run.status.is_finished() {
                break run;
            }
        }
        assert!(
            started.elapsed() < GUARD * 2,
            "the run was left unfinished: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "finished {} ms after the first call: {}",
        started.elapsed().as_millis(),
        run.status.as_str()
    );
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    let attempts = &run.attempts;
    assert_eq!(attempts.len(), 2, "{run:#?}");
    assert_eq!(attempts[0].outcome, AttemptOutcome::Abandoned);
    assert_eq!(code(&attempts[0].error), Some("agent.worker_lost"));
    assert_eq!(attempts[1].outcome, AttemptOutcome::Succeeded);
    assert_ne!(attempts[0].worker, attempts[1].worker);
    instance.stop().await;
}

#[tokio::test]
async fn run_history_filters_by_agent_status_trigger_and_time_with_cursors() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for title in ["CMO", "VP Sales", "Event Manager", "CFO", "Head of Growth"] {
        let input = json!({"job_title": title});
        ids.push(
            app.request_run_ok(&app.admin, "PersonaRouter", input)
                .await
                .id,
        );
    }
    let other = app
        .request_run_ok(
            &app.admin,
            "ClientHealth",
            json!({"client_name": "Acme", "engagement": 90, "payment": 100}),
        )
        .await
        .id;
    for &id in ids.iter().chain([other].iter()) {
        finished(&app, &app.admin, id).await;
    }
    let first = runs_page(&app, "agent=persona_router&limit=2").await;
    assert_eq!(first.runs.len(), 2);
    assert_eq!(first.runs[0].id, ids[4], "newest first");
    let cursor = first.next_cursor.unwrap();
    let second = runs_page(
        &app,
        &format!("agent=persona_router&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(second.runs[0].id, ids[2]);
    let third = runs_page(
        &app,
        &format!(
            "agent=persona_router&limit=2&cursor={}",
            second.next_cursor.unwrap()
        ),
    )
    .await;
    assert_eq!(third.runs.len(), 1);
    assert!(third.next_cursor.is_none());
    assert_eq!(runs_page(&app, "status=succeeded").await.runs.len(), 6);
    assert_eq!(
        runs_page(&app, "status=failed,timed_out").await.runs.len(),
        0
    );
    assert_eq!(runs_page(&app, "trigger=api").await.runs.len(), 6);
    assert_eq!(runs_page(&app, "trigger=manual").await.runs.len(), 0);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let query = format!("from={}", urlencode(&future));
    assert_eq!(runs_page(&app, &query).await.runs.len(), 0);
    let query = format!("to={}", urlencode(&future));
    assert_eq!(runs_page(&app, &query).await.runs.len(), 6);
    let (status, body) = app
        .get_json("/api/agent-runs?status=exploded", &app.admin)
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = app
        .get_json(&format!("/api/agent-runs/{}", Uuid::new_v4()), &app.admin)
        .await;
    assert_eq!(status, 404);
}

fn urlencode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn the_cli_lists_agents_and_runs_one_to_its_end() {
    let (_pool, url) = caseyos_tests::fresh_database().await;
    let mut list = caseyos(Some(&url));
    list.args(["agents", "list"]);
    let listed = run(list, GUARD).await;
    listed.assert_success("");
    for name in [
        "Validation",
        "DraftWriter",
        "PricingCalculator",
        "Repurpose",
    ] {
        listed.assert_stdout_has(name, "");
    }
    let mut command = caseyos(Some(&url));
    command.args([
        "agents",
        "run",
        "pricing-calculator",
        "--input",
        r#"{"services": [{"service": "audit"}]}"#,
        "--wait",
        "--json",
    ]);
    let finished_run = run(command, GUARD).await;
    finished_run.assert_success("");
    let ended: AgentRunView = serde_json::from_str(&finished_run.stdout).expect("the run as JSON");
    assert_eq!(ended.status, RunStatus::Succeeded, "{ended:#?}");
    assert_eq!(ended.trigger, RunTrigger::Manual);
    let output = ended.output.clone().unwrap_or_default();
    assert!(output["total_minor"].as_i64().unwrap() > 0, "{ended:#?}");

    let mut bad = caseyos(Some(&url));
    bad.args([
        "agents",
        "run",
        "Validation",
        "--input",
        r#"{"subject": 1}"#,
    ]);
    let refused = run(bad, GUARD).await;
    assert!(!refused.status.success());
    refused.assert_stderr_has("input.subject", "");
}

#[tokio::test]
async fn rebuilding_the_runs_read_model_gives_the_live_rows_back() {
    use caseyos_projections::agent_runs::AgentRunsProjector;
    use caseyos_projections::rebuild::{fill_shadow, table_difference};

    let app = spawn_app_with(|c| c.agent_workers = 0).await;
    let mut last = Uuid::nil();
    for title in ["CMO", "VP Sales", "Events Lead"] {
        let id = app
            .request_run_ok(&app.admin, "PersonaRouter", json!({"job_title": title}))
            .await
            .id;
        let post = |what| run_command(&app, &app.admin, id, what, json!({}));
        assert_eq!(post("cancel").await.0, 200);
        let retry = run_of(&post("retry").await, 202);
        assert_eq!(post("dismiss").await.0, 200);
        last = retry.id;
    }
    // Wait until the read model has everything (the last retry is listed).
    app.get_json(&format!("/api/agent-runs/{last}"), &app.admin)
        .await;
    fill_shadow(&app.pool, &AgentRunsProjector, |_| {})
        .await
        .unwrap();
    let differences = table_difference(&app.pool, "agent_runs", "agent_runs__rebuild")
        .await
        .unwrap();
    assert_eq!(differences, 0, "the rebuilt rows equal the live ones");
    let linked = query_i64(
        &app.pool,
        "select count(*) from agent_runs__rebuild where jsonb_array_length(doc -> 'retried_by') = 1",
    )
    .await;
    assert_eq!(linked, 3, "each original links its retry");
}

#[tokio::test]
async fn a_move_says_whether_its_draft_came_from_the_offline_template_or_a_model() {
    // No provider: the offline template writes, and the move says so.
    let offline = spawn_app().await;
    let agents: AgentsResponse = offline.get_ok("/api/agents", &offline.admin).await;
    let example = agents
        .agents
        .iter()
        .find(|a| a.name == "DraftWriter")
        .map(|a| a.example_input.clone())
        .expect("DraftWriter is listed");
    let run = offline
        .request_run_ok(&offline.admin, "DraftWriter", example.clone())
        .await;
    let run = finished(&offline, &offline.admin, run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    let (status, body) = offline
        .get_json(
            &format!("/api/queue/{}", run.proposed_items[0]),
            &offline.admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["item"]["draft"], json!({"origin": "offline_template"}));

    // A model wrote it: the move names the model that answered.
    let llm = fake_llm(
        "Subject: Pipeline reviews\n\nDana,\n\nHow do you run pipeline reviews now that the SDR team has doubled?\n\nCasey",
        Duration::ZERO,
    )
    .await;
    let app = spawn_app_with(|c| use_llm(c, &llm)).await;
    let run = app.request_run_ok(&app.admin, "DraftWriter", example).await;
    let run = finished(&app, &app.admin, run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    let moved = app.queue_item(run.proposed_items[0]).await;
    assert_eq!(
        moved.draft,
        Some(Draft {
            origin: DraftOrigin::Llm,
            model: Some("fake-model-1".into()),
        })
    );
}
