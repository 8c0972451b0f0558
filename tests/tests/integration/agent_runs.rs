//! Agent runs end to end on a real PostgreSQL: every agent through the API, validation,
//! idempotency, timeouts, cancel, retry, several workers, lost workers, the language-model
//! client against a local fake of the chat-completions API, and the CLI.

use std::time::{Duration, Instant};

use crate::support::process::{caseyos, http, run, Server};
use caseyos_tests::{spawn_app, spawn_app_with, status_and_json, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

async fn request_run(app: &TestApp, token: &str, agent: &str, input: Value) -> (u16, Value) {
    let response = app
        .post(
            &format!("/api/agents/{agent}/runs"),
            token,
            &json!({ "input": input }),
        )
        .send()
        .await
        .expect("request a run");
    status_and_json(response).await
}

async fn get_run(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = status_and_json(
        app.get(&format!("/api/agent-runs/{id}"), token)
            .send()
            .await
            .expect("get a run"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the run until `done` holds, failing after the guard.
async fn wait_for_run(
    app: &TestApp,
    token: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let run = get_run(app, token, id).await;
        if done(&run) {
            return run;
        }
        assert!(
            started.elapsed() < GUARD,
            "run {id} did not get there within {GUARD:?}: {run:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn finished(run: &Value) -> bool {
    matches!(
        run["status"].as_str(),
        Some("succeeded" | "failed" | "timed_out" | "cancelled")
    )
}

async fn event_types(app: &TestApp, id: &str) -> Vec<String> {
    caseyos_store::event::read_aggregate(&app.pool, "agent_run", id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[tokio::test]
async fn every_agent_in_the_registry_runs_end_to_end_with_its_example() {
    let app = spawn_app().await;
    let (status, agents) =
        status_and_json(app.get("/api/agents", &app.admin).send().await.unwrap()).await;
    assert_eq!(status, 200, "{agents}");
    let agents = agents["agents"].as_array().expect("agents").clone();
    assert_eq!(agents.len(), 12, "the first twelve agents are registered");
    let mut runs = Vec::new();
    for agent in &agents {
        for key in ["name", "domain", "description", "input_schema", "uses_llm"] {
            assert!(!agent[key].is_null(), "{key} missing on {agent}");
        }
        let name = agent["name"].as_str().unwrap();
        let (status, run) =
            request_run(&app, &app.admin, name, agent["example_input"].clone()).await;
        assert_eq!(status, 202, "{name}: {run}");
        assert_eq!(run["status"], "queued", "{name}");
        assert_eq!(run["agent"], name);
        runs.push((agent.clone(), run["id"].as_str().unwrap().to_string()));
    }
    for (agent, id) in runs {
        let name = agent["name"].as_str().unwrap();
        let run = wait_for_run(&app, &app.admin, &id, finished).await;
        assert_eq!(
            run["status"], "succeeded",
            "{name} did not succeed: {run:#}"
        );
        assert!(run["output"].is_object(), "{name} has no output: {run:#}");
        assert_eq!(run["attempts"].as_array().unwrap().len(), 1);
        assert!(run["duration_ms"].as_u64().is_some());
        if agent["uses_llm"] == true {
            assert_eq!(
                run["output"]["writer"], "offline",
                "{name} must mark offline writing: {run:#}"
            );
            assert_eq!(run["usage"]["calls"], 0);
        }
        let proposed = run["proposed_items"].as_array().unwrap();
        if agent["proposes_moves"] == true && name != "Nurturing" {
            assert!(!proposed.is_empty(), "{name} proposed nothing: {run:#}");
        }
        for item in proposed {
            let item_id = item.as_str().unwrap();
            let (status, moved) = status_and_json(
                app.get(&format!("/api/queue/{item_id}"), &app.admin)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, 200, "{moved}");
            assert_eq!(moved["item"]["source"]["kind"], "agent_run", "{moved}");
            assert_eq!(moved["item"]["source"]["run_id"], id.as_str());
            // The audit trail links the move to the run that caused it.
            let events = app.events_of(item_id).await;
            assert_eq!(events[0].meta("causation_id"), Some(id.as_str()));
            assert_eq!(
                events[0].meta("actor"),
                Some(format!("agent:{name}").as_str())
            );
        }
        // The run's own history comes from the audit API.
        let (status, audit) = status_and_json(
            app.get(&format!("/api/audit/agent_run/{id}"), &app.admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{audit}");
        let types: Vec<&str> = audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["AgentRunRequested", "AgentRunStarted", "AgentRunSucceeded"]
        );
        assert_eq!(audit["state"]["status"], "succeeded");
    }
    // Each agent's recent runs show on the registry, and its own history lists the run.
    let (_, agents) =
        status_and_json(app.get("/api/agents", &app.admin).send().await.unwrap()).await;
    for agent in agents["agents"].as_array().unwrap() {
        assert_eq!(agent["recent_runs"].as_array().unwrap().len(), 1, "{agent}");
    }
    let (status, page) = status_and_json(
        app.get("/api/agents/draft-writer/runs", &app.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["runs"].as_array().unwrap().len(), 1);
    assert_eq!(page["runs"][0]["agent"], "DraftWriter");
}

#[tokio::test]
async fn input_is_validated_against_the_schema_before_a_run_is_requested() {
    let app = spawn_app().await;
    let before = caseyos_tests::event_count(&app.pool).await;
    let (status, body) = request_run(&app, &app.admin, "Validation", json!({"subject": 5})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "request.validation");
    let fields = body["error"]["details"]["fields"].as_array().unwrap();
    assert!(
        fields[0]["field"].as_str().unwrap().starts_with("input"),
        "{body}"
    );
    let (status, body) = request_run(&app, &app.admin, "Validation", json!({"nope": 1})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = request_run(&app, &app.admin, "NoSuchAgent", json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "agent.not_found");
    let (status, body) = status_and_json(
        app.post(
            "/api/agents/Validation/runs",
            &app.admin,
            &json!({"input": [1, 2]}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    // Viewers read runs but request none.
    let viewer = app.token("vera", "viewer").await;
    let (status, _) = request_run(&app, &viewer, "Validation", json!({})).await;
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
    let send = |body: Value| {
        app.post("/api/agents/PersonaRouter/runs", &app.admin, &body)
            .header("idempotency-key", "run-once-1")
            .send()
    };
    let first = send(json!({"input": input})).await.unwrap();
    assert_eq!(first.status(), 202);
    let (_, first) = status_and_json(first).await;
    let second = send(json!({"input": input})).await.unwrap();
    assert_eq!(second.status(), 202);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let (_, second) = status_and_json(second).await;
    assert_eq!(first["id"], second["id"]);
    let id = first["id"].as_str().unwrap();
    assert_eq!(event_types(&app, id).await, ["AgentRunRequested"]);
    let (status, reused) =
        status_and_json(send(json!({"input": {"job_title": "CFO"}})).await.unwrap()).await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(reused["error"]["code"], "idempotency.key_reused");
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
    let (status, run) = request_run(
        &app,
        &app.admin,
        "Repurpose",
        json!({"content": CONTENT, "formats": ["linkedin"]}),
    )
    .await;
    assert_eq!(status, 202, "{run}");
    assert_eq!(run["timeout_ms"], 2000);
    let id = run["id"].as_str().unwrap();
    let run = wait_for_run(&app, &app.admin, id, finished).await;
    let waited = started.elapsed();
    assert_eq!(run["status"], "timed_out", "{run:#}");
    assert_eq!(run["error"]["code"], "agent.timed_out");
    assert_eq!(run["attempts"][0]["outcome"], "timed_out");
    assert!(run["duration_ms"].as_u64().unwrap() >= 2000, "{run:#}");
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
    let (_, run) = request_run(
        &app,
        &app.admin,
        "Repurpose",
        json!({"content": CONTENT, "formats": ["email"]}),
    )
    .await;
    let id = run["id"].as_str().unwrap().to_string();
    wait_for_run(&app, &app.admin, &id, |r| r["status"] == "running").await;
    let asked = Instant::now();
    let (status, cancelling) = status_and_json(
        app.post(
            &format!("/api/agent-runs/{id}/cancel"),
            &app.admin,
            &json!({"reason": "wrong piece of content"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{cancelling}");
    assert_eq!(cancelling["status"], "cancelling");
    let run = wait_for_run(&app, &app.admin, &id, finished).await;
    println!(
        "cancelled {} ms after the request",
        asked.elapsed().as_millis()
    );
    assert_eq!(run["status"], "cancelled", "{run:#}");
    assert_eq!(run["cancel_reason"], "wrong piece of content");
    assert_eq!(run["attempts"][0]["outcome"], "cancelled");
    // Cancelling a finished run is refused.
    let (status, body) = status_and_json(
        app.post(
            &format!("/api/agent-runs/{id}/cancel"),
            &app.admin,
            &json!({}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "agent_run.already_finished");

    // With no worker to run it, a queued run is cancelled by the request itself.
    let idle = spawn_app_with(|c| c.agent_workers = 0).await;
    let (_, run) = request_run(
        &idle,
        &idle.admin,
        "Validation",
        json!({"subject": "Hello there", "body": "x"}),
    )
    .await;
    let id = run["id"].as_str().unwrap();
    let (status, body) = status_and_json(
        idle.post(
            &format!("/api/agent-runs/{id}/cancel"),
            &idle.admin,
            &json!({}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    assert!(body["attempts"].as_array().unwrap().is_empty());
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
    let input = json!({"content": CONTENT, "formats": ["newsletter"]});
    let (_, run) = request_run(&app, &operator, "Repurpose", input.clone()).await;
    let id = run["id"].as_str().unwrap().to_string();
    let failed = wait_for_run(&app, &operator, &id, finished).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["error"]["code"], "llm.server_error");
    assert_eq!(failed["retryable"], true);
    assert_eq!(
        llm.received_requests().await.unwrap().len(),
        2,
        "one request and one retry"
    );
    let (_, stats) = status_and_json(
        app.get("/api/agent-runs/stats", &operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["failed"], 1, "{stats}");

    // Someone else's run is not theirs to retry.
    let other = app.token("otto", "operator").await;
    let (status, _) = status_and_json(
        app.post(&format!("/api/agent-runs/{id}/retry"), &other, &json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);

    let (status, retry) = status_and_json(
        app.post(
            &format!("/api/agent-runs/{id}/retry"),
            &operator,
            &json!({}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{retry}");
    assert_eq!(retry["retry_of"], id.as_str());
    assert_eq!(retry["input"], input, "a retry runs the same input");
    assert_ne!(retry["id"], id.as_str());
    let retry_id = retry["id"].as_str().unwrap().to_string();
    let original = wait_for_run(&app, &operator, &id, |r| {
        r["retried_by"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(original["retried_by"][0], retry_id.as_str());
    let (_, retries) = status_and_json(
        app.get(&format!("/api/agent-runs?retry_of={id}"), &operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(retries["runs"][0]["id"], retry_id.as_str());
    let retried = wait_for_run(&app, &operator, &retry_id, finished).await;
    assert_eq!(retried["status"], "failed");
    // Failed runs ask for attention until dismissed: the count and the list agree.
    let (_, stats) = status_and_json(
        app.get("/api/agent-runs/stats", &operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["failed"], 2, "{stats}");
    for run in [&retry_id, &id] {
        let (status, dismissed) = status_and_json(
            app.post(
                &format!("/api/agent-runs/{run}/dismiss"),
                &operator,
                &json!({}),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{dismissed}");
        assert!(dismissed["dismissed_at"].is_string());
        let (_, listed) = status_and_json(
            app.get(
                "/api/agent-runs?status=failed,timed_out&dismissed=false",
                &operator,
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        let (_, stats) = status_and_json(
            app.get("/api/agent-runs/stats", &operator)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            stats["failed"].as_u64().unwrap() as usize,
            listed["runs"].as_array().unwrap().len(),
            "{stats} {listed}"
        );
    }
    let (_, stats) = status_and_json(
        app.get("/api/agent-runs/stats", &operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["failed"], 0, "{stats}");
    assert_eq!(stats["failed_24h"], 2, "{stats}");
    // A succeeded run is not retried (run it again instead).
    let (_, ok) = request_run(
        &app,
        &operator,
        "PersonaRouter",
        json!({"job_title": "CMO"}),
    )
    .await;
    let ok_id = ok["id"].as_str().unwrap();
    wait_for_run(&app, &operator, ok_id, finished).await;
    let (status, body) = status_and_json(
        app.post(
            &format!("/api/agent-runs/{ok_id}/retry"),
            &operator,
            &json!({}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "agent_run.not_retryable");
}

#[tokio::test]
async fn the_language_model_writes_and_its_usage_is_recorded_on_the_run() {
    let llm = fake_llm(
        "Pipeline reviews fail when stages mean different things to different people.",
        Duration::ZERO,
    )
    .await;
    let app = spawn_app_with(|c| use_llm(c, &llm)).await;
    let (status, agents) =
        status_and_json(app.get("/api/agents", &app.admin).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let repurpose = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Repurpose")
        .unwrap()
        .clone();
    assert_eq!(repurpose["llm_configured"], true);
    let (_, run) = request_run(
        &app,
        &app.admin,
        "Repurpose",
        json!({"content": CONTENT, "formats": ["linkedin", "email"]}),
    )
    .await;
    let run = wait_for_run(&app, &app.admin, run["id"].as_str().unwrap(), finished).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["output"]["writer"], "llm");
    assert_eq!(run["usage"]["calls"], 2);
    assert_eq!(run["usage"]["total_tokens"], 400);
    assert_eq!(run["usage"]["model"], "fake-model-1");
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
    let mut config = caseyos_tests::test_config(&first.database_url);
    use_llm(&mut config, &llm);
    let second = caseyos_backend::Application::with_pool(config, first.pool.clone())
        .await
        .expect("a second instance");
    let second_shutdown = second.shutdown_token();
    let second_handle = tokio::spawn(second.run_until_stopped());

    let mut ids = Vec::new();
    for n in 0..RUNS {
        let (status, run) = request_run(
            &first,
            &first.admin,
            "Repurpose",
            json!({"content": format!("{CONTENT} Run {n}."), "formats": ["x_thread"]}),
        )
        .await;
        assert_eq!(status, 202, "{run}");
        ids.push(run["id"].as_str().unwrap().to_string());
    }
    let mut workers = std::collections::BTreeSet::new();
    for id in &ids {
        let run = wait_for_run(&first, &first.admin, id, finished).await;
        assert_eq!(run["status"], "succeeded", "{run:#}");
        let attempts = run["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{run:#}");
        workers.insert(
            attempts[0]["worker"]
                .as_str()
                .unwrap()
                .split('#')
                .next()
                .unwrap()
                .to_string(),
        );
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
    second_shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), second_handle).await;
}

#[tokio::test]
async fn a_worker_killed_mid_run_loses_the_run_to_another_which_finishes_it() {
    // The provider answers after 4 s: long enough to kill the first worker mid-call.
    let llm = fake_llm("Written after a while.", Duration::from_secs(4)).await;
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = caseyos_backend::auth::tokens::create_token(
        &pool,
        "kill-admin",
        "killer",
        caseyos_backend::auth::Role::Admin,
    )
    .await
    .unwrap();
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
    let client = http();
    let response = client
        .post(format!("{}/api/agents/Repurpose/runs", server.address))
        .bearer_auth(&token)
        .json(&json!({"input": {"content": CONTENT, "formats": ["linkedin"]}}))
        .send()
        .await
        .unwrap();
    let (status, run) = status_and_json(response).await;
    assert_eq!(status, 202, "{run}");
    let id = run["id"].as_str().unwrap().to_string();
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
    let app = caseyos_backend::Application::with_pool(config, pool.clone())
        .await
        .unwrap();
    let address = format!("http://{}", app.address());
    let shutdown = app.shutdown_token();
    let handle = tokio::spawn(app.run_until_stopped());
    let run = loop {
        let (_, run) = status_and_json(
            client
                .get(format!("{address}/api/agent-runs/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if finished(&run) {
            break run;
        }
        assert!(
            started.elapsed() < GUARD * 2,
            "the run was left unfinished: {run:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "finished {} ms after the first call: {}",
        started.elapsed().as_millis(),
        run["status"]
    );
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let attempts = run["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{run:#}");
    assert_eq!(attempts[0]["outcome"], "abandoned");
    assert_eq!(attempts[0]["error"]["code"], "agent.worker_lost");
    assert_eq!(attempts[1]["outcome"], "succeeded");
    assert_ne!(attempts[0]["worker"], attempts[1]["worker"]);
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
}

#[tokio::test]
async fn run_history_filters_by_agent_status_trigger_and_time_with_cursors() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for title in ["CMO", "VP Sales", "Event Manager", "CFO", "Head of Growth"] {
        let (_, run) = request_run(
            &app,
            &app.admin,
            "PersonaRouter",
            json!({"job_title": title}),
        )
        .await;
        ids.push(run["id"].as_str().unwrap().to_string());
    }
    let (_, other) = request_run(
        &app,
        &app.admin,
        "ClientHealth",
        json!({"client_name": "Acme", "engagement": 90, "payment": 100}),
    )
    .await;
    for id in ids
        .iter()
        .chain([other["id"].as_str().unwrap().to_string()].iter())
    {
        wait_for_run(&app, &app.admin, id, finished).await;
    }
    let page = |query: &str| {
        let app = &app;
        let query = query.to_string();
        async move {
            let (status, body) = status_and_json(
                app.get(&format!("/api/agent-runs?{query}"), &app.admin)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, 200, "{query}: {body}");
            body
        }
    };
    let first = page("agent=persona_router&limit=2").await;
    let runs = first["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], ids[4].as_str(), "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(&format!("agent=persona_router&limit=2&cursor={cursor}")).await;
    assert_eq!(second["runs"][0]["id"], ids[2].as_str());
    let third = page(&format!(
        "agent=persona_router&limit=2&cursor={}",
        second["next_cursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!(third["runs"].as_array().unwrap().len(), 1);
    assert!(third["next_cursor"].is_null());
    assert_eq!(
        page("status=succeeded").await["runs"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        page("status=failed,timed_out").await["runs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        page("trigger=api").await["runs"].as_array().unwrap().len(),
        6
    );
    assert_eq!(
        page("trigger=manual").await["runs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let query = format!("from={}", urlencode(&future));
    assert_eq!(page(&query).await["runs"].as_array().unwrap().len(), 0);
    let query = format!("to={}", urlencode(&future));
    assert_eq!(page(&query).await["runs"].as_array().unwrap().len(), 6);
    let (status, body) = status_and_json(
        app.get("/api/agent-runs?status=exploded", &app.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = status_and_json(
        app.get(&format!("/api/agent-runs/{}", Uuid::new_v4()), &app.admin)
            .send()
            .await
            .unwrap(),
    )
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
    assert!(listed.status.success(), "{}", listed.describe());
    for name in [
        "Validation",
        "DraftWriter",
        "PricingCalculator",
        "Repurpose",
    ] {
        assert!(listed.stdout.contains(name), "{}", listed.describe());
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
    assert!(finished_run.status.success(), "{}", finished_run.describe());
    let ended: Value = serde_json::from_str(&finished_run.stdout).expect("the run as JSON");
    assert_eq!(ended["status"], "succeeded", "{ended:#}");
    assert_eq!(ended["trigger"], "manual");
    assert!(
        ended["output"]["total_minor"].as_i64().unwrap() > 0,
        "{ended:#}"
    );

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
    assert!(
        refused.stderr.contains("input.subject"),
        "{}",
        refused.describe()
    );
}

#[tokio::test]
async fn rebuilding_the_runs_read_model_gives_the_live_rows_back() {
    use caseyos_projections::agent_runs::AgentRunsProjector;
    use caseyos_projections::rebuild::{fill_shadow, table_difference};

    let app = spawn_app_with(|c| c.agent_workers = 0).await;
    let mut last = String::new();
    for title in ["CMO", "VP Sales", "Events Lead"] {
        let (_, run) = request_run(
            &app,
            &app.admin,
            "PersonaRouter",
            json!({"job_title": title}),
        )
        .await;
        let id = run["id"].as_str().unwrap().to_string();
        let post = |what: &str| {
            app.post(
                &format!("/api/agent-runs/{id}/{what}"),
                &app.admin,
                &json!({}),
            )
            .send()
        };
        assert_eq!(post("cancel").await.unwrap().status(), 200);
        let (status, retry) = status_and_json(post("retry").await.unwrap()).await;
        assert_eq!(status, 202, "{retry}");
        assert_eq!(post("dismiss").await.unwrap().status(), 200);
        last = retry["id"].as_str().unwrap().to_string();
    }
    // Wait until the read model has everything (the last retry is listed).
    let (_, _) = status_and_json(
        app.get(&format!("/api/agent-runs/{last}"), &app.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    fill_shadow(&app.pool, &AgentRunsProjector, |_| {})
        .await
        .unwrap();
    let differences = table_difference(&app.pool, "agent_runs", "agent_runs__rebuild")
        .await
        .unwrap();
    assert_eq!(differences, 0, "the rebuilt rows equal the live ones");
    let linked: i64 = sqlx::query_scalar(
        "select count(*) from agent_runs__rebuild where jsonb_array_length(doc -> 'retried_by') = 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(linked, 3, "each original links its retry");
}
