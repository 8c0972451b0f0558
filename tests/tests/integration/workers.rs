//! Supervised agent workers: a panicking agent fails its run (`agent.panicked`, retryable)
//! and its worker keeps working; `/ready` and `/metrics` report live workers; a worker whose
//! lease renewals fail stops its attempt before its lease ends, so another worker's attempt
//! is the only one that finishes.
//!
//! The agents here are the test's own, added beside the registry through
//! `Agents::with` (the production registry holds no such agent).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use caseyos_agents::{AgentFuture, Agents, Ctx, ExtraAgent, Outcome};
use caseyos_backend::commands::agent_runs::request_run;
use caseyos_domain::agent_run::{AgentRunView, AttemptOutcome, RunStatus, RunTrigger};
use caseyos_domain::kernel::Actor;
use caseyos_store::CommandMeta;
use caseyos_tests::{command_bus, spawn_app_with_agents, Instance, TestApp};
use serde_json::{json, Value};

/// How long a test waits for a run to get somewhere before failing (a hang guard).
const GUARD: Duration = Duration::from_secs(60);

fn panicking<'a>(input: &'a Value, _ctx: &'a Ctx<'a>) -> AgentFuture<'a> {
    Box::pin(async move {
        let name = input["name"].as_str().unwrap_or("nobody");
        panic!("the test agent panics on {name}");
    })
}

/// What each run of `Sleeper` did, by the `key` of its input: `started`, then `finished`
/// or `dropped` (its future was dropped before it finished).
static SLEEPER_LOG: Mutex<BTreeMap<String, Vec<&'static str>>> = Mutex::new(BTreeMap::new());

fn log(key: &str, what: &'static str) {
    SLEEPER_LOG
        .lock()
        .unwrap()
        .entry(key.to_string())
        .or_default()
        .push(what);
}

fn log_of(key: &str) -> Vec<&'static str> {
    SLEEPER_LOG
        .lock()
        .unwrap()
        .get(key)
        .cloned()
        .unwrap_or_default()
}

/// Logs `dropped` unless the run got to the end.
struct DropWitness {
    key: String,
    finished: bool,
}

impl Drop for DropWitness {
    fn drop(&mut self) {
        if !self.finished {
            log(&self.key, "dropped");
        }
    }
}

/// Sleeps `millis` on its first start for a `key` (and not at all on later ones), logging
/// what happened under `key`.
fn sleeper<'a>(input: &'a Value, _ctx: &'a Ctx<'a>) -> AgentFuture<'a> {
    Box::pin(async move {
        let key = input["key"].as_str().unwrap_or_default().to_string();
        let first = log_of(&key).is_empty();
        let millis = if first {
            input["millis"].as_u64().unwrap_or_default()
        } else {
            0
        };
        log(&key, "started");
        let mut witness = DropWitness {
            key: key.clone(),
            finished: false,
        };
        tokio::time::sleep(Duration::from_millis(millis)).await;
        witness.finished = true;
        log(&key, "finished");
        Ok(Outcome {
            output: json!({"slept_ms": millis}),
            ..Outcome::default()
        })
    })
}

fn test_agents() -> Agents {
    Agents::registry()
        .with(ExtraAgent::new(
            "Panicker",
            "Panics (a test agent).",
            panicking,
        ))
        .with(ExtraAgent::new(
            "Sleeper",
            "Sleeps (a test agent).",
            sleeper,
        ))
}

/// Requests a run of one of the test's agents straight through the command bus (the API
/// offers the registry's agents only).
async fn request_test_run(app: &TestApp, agent: &str, input: Value) -> uuid::Uuid {
    let agents = test_agents();
    let spec = agents.find(agent).expect("a test agent");
    let config = caseyos_tests::test_config(&app.database_url);
    let mut meta = CommandMeta::system("test");
    meta.actor = Actor::user("admin");
    let committed = request_run(
        &command_bus(&app.pool, 16),
        &config,
        spec,
        input,
        RunTrigger::Api,
        None,
        Actor::user("admin"),
        &meta,
    )
    .await
    .expect("request the run");
    committed.state.run.expect("the requested run").id
}

async fn finished(app: &TestApp, id: uuid::Uuid) -> AgentRunView {
    app.wait_for_run(&app.admin, id, GUARD, |run| run.status.is_finished())
        .await
}

async fn metrics_text(app: &TestApp) -> String {
    app.get("/metrics", &app.admin)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("the metrics")
}

#[tokio::test]
async fn an_agent_that_panics_fails_its_run_as_retryable_and_its_worker_keeps_working() {
    let app = spawn_app_with_agents(test_agents(), |c| c.agent_workers = 1).await;
    let id = request_test_run(&app, "Panicker", json!({"name": "Dana"})).await;

    let run = finished(&app, id).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:#?}");
    let error = run.error.clone().expect("the run's error");
    assert_eq!(error.code, "agent.panicked", "{run:#?}");
    assert!(
        error.message.contains("the test agent panics on Dana"),
        "{error:?}"
    );
    assert_eq!(run.retryable, Some(true));
    assert_eq!(run.attempts.len(), 1, "{run:#?}");
    assert_eq!(run.attempts[0].outcome, AttemptOutcome::Failed);

    // The one worker is still there: the next run is executed.
    let next = app
        .request_run_ok(&app.admin, "PersonaRouter", json!({"job_title": "CMO"}))
        .await;
    let next = finished(&app, next.id).await;
    assert_eq!(next.status, RunStatus::Succeeded, "{next:#?}");

    let (status, ready) = app.get_json("/ready", &app.admin).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready["agent_workers"],
        json!({"configured": 1, "live": 1}),
        "{ready}"
    );
    let text = metrics_text(&app).await;
    for line in [
        "caseyos_agent_workers_configured 1",
        "caseyos_agent_workers_live 1",
        "caseyos_agent_worker_restarts_total 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
}

#[tokio::test]
async fn a_worker_whose_lease_renewals_fail_stops_its_attempt_and_another_worker_finishes_the_run()
{
    // A lease of 4 s: a worker renews every 2/3 s and stops an attempt 2 s after its last
    // successful renewal, while no other worker may claim the run before 4 s have passed.
    let lease = |c: &mut caseyos_backend::Config| {
        c.agent_workers = 1;
        c.agent_lease_secs = 4;
    };
    let app = spawn_app_with_agents(test_agents(), lease).await;
    let key = uuid::Uuid::new_v4().to_string();
    // Its first attempt sleeps twice the lease, so a worker ignoring failed renewals would
    // finish it (and record that) instead of stopping it.
    let id = request_test_run(&app, "Sleeper", json!({"key": key, "millis": 8000})).await;

    let started = Instant::now();
    while log_of(&key).is_empty() {
        assert!(started.elapsed() < GUARD, "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let running = app
        .wait_for_run(&app.admin, id, GUARD, |run| run.attempts.len() == 1)
        .await;
    let first = running.attempts[0].worker.clone();
    assert!(!first.contains('\''), "{first}");
    // From now on the first worker's renewals fail; a new worker taking the lease over,
    // and its renewals, still work.
    sqlx::query(&format!(
        "create function refuse_renewals() returns trigger language plpgsql as $$ \
         begin \
           if old.worker = '{first}' and new.worker = old.worker then \
             raise exception 'renewals by % are refused by the test', old.worker; \
           end if; \
           return new; \
         end $$"
    ))
    .execute(&app.pool)
    .await
    .expect("create the trigger function");
    sqlx::query(
        "create trigger refuse_renewals before update on agent_run_leases \
         for each row execute function refuse_renewals()",
    )
    .execute(&app.pool)
    .await
    .expect("create the trigger");

    // The first worker stops its attempt while its lease still holds: no other worker
    // could have started one yet.
    while log_of(&key).len() < 2 {
        assert!(started.elapsed() < GUARD, "the first attempt never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(log_of(&key), ["started", "dropped"]);
    let lease_held: bool = sqlx::query_scalar(
        "select lease_until > now() from agent_run_leases where run_id = $1 and worker = $2",
    )
    .bind(id)
    .bind(&first)
    .fetch_one(&app.pool)
    .await
    .expect("the first worker's lease");
    assert!(lease_held, "the attempt ran on past its lease");

    // The only other worker is another instance's: it takes the run over once the lease
    // has expired and finishes it.
    let mut config = caseyos_tests::test_config(&app.database_url);
    lease(&mut config);
    let second = Instance::start_with_agents(config, app.pool.clone(), test_agents()).await;
    let run = finished(&app, id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.attempts.len(), 2, "{run:#?}");
    assert_eq!(run.attempts[0].worker, first);
    assert_eq!(
        run.attempts[0].outcome,
        AttemptOutcome::Abandoned,
        "the first worker recorded nothing for its attempt: {run:#?}"
    );
    assert_ne!(run.attempts[1].worker, first);
    assert_eq!(run.attempts[1].outcome, AttemptOutcome::Succeeded);
    assert_eq!(
        log_of(&key),
        ["started", "dropped", "started", "finished"],
        "{run:#?}"
    );
    second.stop().await;
}
