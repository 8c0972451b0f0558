//! The `caseyos` command line as a real process: tokens, replay, projections, demo data,
//! migrations (DESIGN §5, §8).

use std::time::Duration;

use crate::support::process::{caseyos, http, run};
use caseyos_backend::auth::tokens::{create_token, principal_for_token};
use caseyos_backend::auth::Role;
use caseyos_backend::Application;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

/// The hang guard for one CLI run.
const GUARD: Duration = Duration::from_secs(120);

/// Runs `caseyos <args>` against `url`.
async fn cli(url: &str, args: &[&str]) -> crate::support::process::Finished {
    let mut command = caseyos(Some(url));
    command.args(args);
    run(command, GUARD).await
}

/// A server in this process on an existing database.
struct InProcess {
    address: String,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl InProcess {
    async fn start(pool: &PgPool, url: &str) -> InProcess {
        let app = Application::with_pool(caseyos_tests::test_config(url), pool.clone())
            .await
            .expect("build the application");
        let address = format!("http://{}", app.address());
        let shutdown = app.shutdown_token();
        let handle = tokio::spawn(app.run_until_stopped());
        InProcess {
            address,
            shutdown,
            handle: Some(handle),
        }
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// POSTs `body` and returns the answer, asserting its status.
async fn post(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
    expected: u16,
) -> Value {
    let response = http
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(status, expected, "POST {url}: {body}");
    body
}

/// Waits until the queue read model has applied every committed event.
async fn settle(pool: &PgPool) {
    let head = caseyos_store::event::head(pool).await.expect("the head");
    for _ in 0..3_000 {
        let checkpoints = caseyos_projections::runner::checkpoints(pool, &["queue"])
            .await
            .expect("checkpoints");
        if checkpoints[0] >= head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the queue projection did not catch up within 30 s");
}

async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from events")
        .fetch_one(pool)
        .await
        .expect("count events")
}

/// A table's rows as JSON, in a stable order.
async fn table_json(pool: &PgPool, table: &str, order: &str) -> Value {
    sqlx::query_scalar(&format!(
        "select coalesce(jsonb_agg(to_jsonb(t) order by {order}), '[]'::jsonb) from {table} t"
    ))
    .fetch_one(pool)
    .await
    .expect("read the table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_a_token_that_authenticates_with_its_role() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let created = cli(
        &url,
        &["token", "create", "--name", "ci", "--role", "viewer"],
    )
    .await;
    assert!(created.status.success(), "{}", created.describe());
    let token = created.stdout.trim();
    assert_eq!(
        created.stdout.lines().count(),
        1,
        "stdout is the token alone\n{}",
        created.describe()
    );
    assert!(token.starts_with("cos_"), "{}", created.describe());
    assert!(
        created.stderr.contains("ci") && created.stderr.contains("viewer"),
        "stderr says what was created\n{}",
        created.describe()
    );

    let principal = principal_for_token(&pool, token)
        .await
        .expect("look the token up")
        .expect("the token is valid");
    assert_eq!(principal.user, "ci");
    assert_eq!(principal.role, Role::Viewer);

    // Over HTTP: a viewer reads, and may not propose.
    let server = InProcess::start(&pool, &url).await;
    let http = http();
    let response = http
        .get(format!("{}/api/queue/counts", server.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("counts");
    assert_eq!(response.status(), 200, "the token authenticates");
    post(
        &http,
        format!("{}/api/queue", server.address),
        token,
        json!({"action_type": "send_email", "title": "not allowed"}),
        403,
    )
    .await;
    server.stop().await;

    let again = cli(
        &url,
        &["token", "create", "--name", "ci", "--role", "admin"],
    )
    .await;
    assert!(
        !again.status.success(),
        "a second token with the same name is refused\n{}",
        again.describe()
    );
    assert!(
        again.stderr.contains("a token named `ci` already exists"),
        "the refusal says why\n{}",
        again.describe()
    );
    assert!(
        !again.stdout.contains("cos_"),
        "no token is printed on failure\n{}",
        again.describe()
    );
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_prints_the_timeline_and_json_matches_the_audit_api() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = create_token(&pool, "replay-admin", "replayer", Role::Admin)
        .await
        .expect("an admin token");
    let server = InProcess::start(&pool, &url).await;
    let http = http();
    let proposed = post(
        &http,
        format!("{}/api/queue", server.address),
        &token,
        json!({"action_type": "send_email", "title": "replay me"}),
        201,
    )
    .await;
    let id = proposed["item"]["id"].as_str().expect("an id").to_string();
    post(
        &http,
        format!("{}/api/queue/{id}/approve", server.address),
        &token,
        json!({"note": "ship it"}),
        200,
    )
    .await;

    // The timeline: each event with its actor.
    let timeline = cli(&url, &["replay", "queue_item", &id]).await;
    assert!(timeline.status.success(), "{}", timeline.describe());
    for event_type in ["QueueItemProposed", "QueueItemApproved"] {
        assert!(
            timeline
                .stdout
                .lines()
                .any(|l| l.contains(event_type) && l.contains("by user:replayer")),
            "the timeline shows {event_type} by user:replayer\n{}",
            timeline.describe()
        );
    }
    assert!(
        timeline.stdout.contains("status: pending → approved"),
        "the timeline shows what changed\n{}",
        timeline.describe()
    );

    // --json is the audit API's answer.
    let replayed = cli(&url, &["replay", "queue_item", &id, "--json"]).await;
    assert!(replayed.status.success(), "{}", replayed.describe());
    let from_cli: Value = serde_json::from_str(&replayed.stdout)
        .unwrap_or_else(|e| panic!("--json prints JSON ({e})\n{}", replayed.describe()));
    let response = http
        .get(format!("{}/api/audit/queue_item/{id}", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the audit API");
    assert_eq!(response.status(), 200);
    let from_api: Value = response.json().await.expect("a JSON body");
    assert_eq!(from_cli, from_api, "replay --json equals the audit API");
    assert_eq!(from_cli["total_events"], 2);

    // --at 1: the state after the proposal.
    let at_one = cli(&url, &["replay", "queue_item", &id, "--at", "1"]).await;
    assert!(at_one.status.success(), "{}", at_one.describe());
    let (_, state) = at_one
        .stdout
        .split_once("State at #1:")
        .unwrap_or_else(|| panic!("--at 1 prints the state at #1\n{}", at_one.describe()));
    let state: Value = serde_json::from_str(state.trim())
        .unwrap_or_else(|e| panic!("the state is JSON ({e})\n{}", at_one.describe()));
    assert_eq!(state["status"], "pending", "{}", at_one.describe());
    assert!(
        !at_one.stdout.contains("QueueItemApproved"),
        "--at 1 stops before the approval\n{}",
        at_one.describe()
    );

    // An unknown id.
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = cli(&url, &["replay", "queue_item", &unknown]).await;
    assert!(
        !missing.status.success(),
        "an unknown id fails\n{}",
        missing.describe()
    );
    assert!(
        missing.stderr.contains("audit.not_found"),
        "stderr carries the error code\n{}",
        missing.describe()
    );
    server.stop().await;
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_status_and_rebuild_work_from_the_cli() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = create_token(&pool, "projections-admin", "casey", Role::Admin)
        .await
        .expect("an admin token");
    let server = InProcess::start(&pool, &url).await;
    let http = http();
    let mut ids = Vec::new();
    for (i, action) in [
        "send_email",
        "book_meeting",
        "check_in",
        "social_post",
        "send_email",
        "manual_task",
    ]
    .iter()
    .enumerate()
    {
        let body = post(
            &http,
            format!("{}/api/queue", server.address),
            &token,
            json!({"action_type": action, "title": format!("move {i}")}),
            201,
        )
        .await;
        ids.push(body["item"]["id"].as_str().expect("an id").to_string());
    }
    for id in &ids[..2] {
        post(
            &http,
            format!("{}/api/queue/{id}/approve", server.address),
            &token,
            json!({}),
            200,
        )
        .await;
    }
    post(
        &http,
        format!("{}/api/queue/{}/reject", server.address, ids[2]),
        &token,
        json!({"reason": "not now"}),
        200,
    )
    .await;
    post(
        &http,
        format!("{}/api/queue/{}/snooze", server.address, ids[3]),
        &token,
        json!({"preset": "4h"}),
        200,
    )
    .await;
    settle(&pool).await;
    let items_before = table_json(&pool, "queue_items", "id").await;
    let counters_before = table_json(&pool, "queue_counters", "owner, status").await;
    assert_eq!(items_before.as_array().map(Vec::len), Some(6));

    let status = cli(&url, &["projections", "status"]).await;
    assert!(status.status.success(), "{}", status.describe());
    assert!(
        status.stdout.lines().any(|l| l.starts_with("queue ")),
        "status lists the queue projection\n{}",
        status.describe()
    );
    let status_json = cli(&url, &["projections", "status", "--json"]).await;
    assert!(status_json.status.success(), "{}", status_json.describe());
    let statuses: Value = serde_json::from_str(&status_json.stdout)
        .unwrap_or_else(|e| panic!("status --json is JSON ({e})\n{}", status_json.describe()));
    let queue = statuses
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "queue"))
        .unwrap_or_else(|| panic!("status --json lists queue: {statuses}"));
    assert_eq!(queue["lag_events"], 0, "caught up: {queue}");

    let events = event_count(&pool).await;
    let rebuilt = cli(&url, &["projections", "rebuild", "queue"]).await;
    assert!(rebuilt.status.success(), "{}", rebuilt.describe());
    assert!(
        rebuilt.stdout.contains("events/s"),
        "rebuild reports its speed\n{}",
        rebuilt.describe()
    );
    assert!(
        rebuilt
            .stdout
            .contains(&format!("queue: rebuilt from {events} events")),
        "rebuild replays every event ({events})\n{}",
        rebuilt.describe()
    );
    let line = rebuilt
        .stdout
        .lines()
        .find(|l| l.contains("events/s"))
        .unwrap_or_default();
    println!("rebuild: {line}");

    assert_eq!(
        table_json(&pool, "queue_items", "id").await,
        items_before,
        "the rebuilt queue_items equals the live one row for row"
    );
    assert_eq!(
        table_json(&pool, "queue_counters", "owner, status").await,
        counters_before,
        "the rebuilt queue_counters equals the live one"
    );

    // The server still answers from the switched-over read model.
    let response = http
        .get(format!("{}/api/queue/counts?owner=*", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("counts");
    assert_eq!(response.status(), 200);
    let counts: Value = response.json().await.expect("a JSON body");
    assert_eq!(
        counts,
        json!({"pending": 2, "snoozed": 1, "approved": 2, "rejected": 1, "expired": 0, "total": 6})
    );

    let unknown = cli(&url, &["projections", "rebuild", "nonesuch"]).await;
    assert!(!unknown.status.success(), "{}", unknown.describe());
    assert!(
        unknown.stderr.contains("no projection named `nonesuch`"),
        "{}",
        unknown.describe()
    );
    server.stop().await;
    pool.close().await;
}

/// `(proposed, already there)` from the seed report line.
fn seed_numbers(stdout: &str) -> Option<(usize, usize)> {
    let line = stdout.lines().find(|l| l.starts_with("Demo queue for"))?;
    let number_before = |marker: &str| -> Option<usize> {
        let head = &line[..line.find(marker)?];
        head.split_whitespace().last()?.parse().ok()
    };
    Some((
        number_before(" moves proposed")?,
        number_before(" already there")?,
    ))
}

#[tokio::test]
async fn demo_seed_is_idempotent() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let first = cli(&url, &["demo", "seed"]).await;
    assert!(first.status.success(), "{}", first.describe());
    let (proposed, existing) = seed_numbers(&first.stdout)
        .unwrap_or_else(|| panic!("a seed report line\n{}", first.describe()));
    println!("first seed: {}", first.stdout.trim());
    assert!(proposed > 0, "the first seed proposes moves");
    assert_eq!(existing, 0);
    let events_after_first = event_count(&pool).await;
    assert!(events_after_first >= proposed as i64);

    let second = cli(&url, &["demo", "seed"]).await;
    assert!(second.status.success(), "{}", second.describe());
    println!("second seed: {}", second.stdout.trim());
    assert_eq!(
        seed_numbers(&second.stdout),
        Some((0, proposed)),
        "the second seed proposes nothing and finds every move\n{}",
        second.describe()
    );
    assert_eq!(
        event_count(&pool).await,
        events_after_first,
        "seeding again writes no event"
    );
    pool.close().await;
}

#[tokio::test]
async fn migrate_applies_the_schema_to_an_empty_database() {
    let name = format!("caseyos_test_empty_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&caseyos_tests::admin_url())
        .await
        .expect("PostgreSQL must run for the tests");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create an empty database");
    admin.close().await.ok();
    let url = caseyos_tests::database_url(&name);
    let pool = caseyos_tests::pool_for(&url).await;
    let exists = |pool: PgPool| async move {
        sqlx::query_scalar::<_, bool>("select to_regclass('public.events') is not null")
            .fetch_one(&pool)
            .await
            .expect("look for the events table")
    };
    assert!(!exists(pool.clone()).await, "the database starts empty");

    let migrated = cli(&url, &["migrate"]).await;
    assert!(migrated.status.success(), "{}", migrated.describe());
    assert!(
        migrated.stdout.contains("Migrations applied"),
        "{}",
        migrated.describe()
    );
    assert!(exists(pool.clone()).await, "the events table exists");
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations"))
        .expect("the migrations folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count() as i64;
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&pool)
        .await
        .expect("read _sqlx_migrations");
    assert_eq!(applied, migrations, "every migration is applied");

    let again = cli(&url, &["migrate"]).await;
    assert!(
        again.status.success(),
        "migrating twice is harmless\n{}",
        again.describe()
    );
    let applied_again: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("read _sqlx_migrations");
    assert_eq!(applied_again, migrations);
    pool.close().await;
}
