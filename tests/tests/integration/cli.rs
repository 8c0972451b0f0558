//! The `caseyos` command line as a real process: tokens, replay, projections, demo data,
//! migrations (DESIGN §5, §8).

use std::time::Duration;

use caseyos_backend::auth::tokens::principal_for_token;
use caseyos_backend::auth::Role;
use caseyos_domain::api::{
    AuditResponse, QueueItemResponse, QueueListResponse, QueueStatsResponse,
};
use caseyos_domain::queue::{QueueItemEvent, QueueItemView, QueueStatus};
use caseyos_tests::{admin_token, dto, event_count, query_i64, settle, test_config, Api, Instance};
use serde_json::{json, Value};
use sqlx::{PgPool, Row};

use crate::support::process::{caseyos, run};

/// The hang guard for one CLI run.
const GUARD: Duration = Duration::from_secs(120);

/// Runs `caseyos <args>` against `url`.
async fn cli(url: &str, args: &[&str]) -> crate::support::process::Finished {
    let mut command = caseyos(Some(url));
    command.args(args);
    run(command, GUARD).await
}

/// A server in this process on an existing database.
async fn in_process(pool: &PgPool, url: &str) -> Instance {
    Instance::start(test_config(url), pool.clone()).await
}

/// A fresh database served in this process: its pool and URL, the server, and the API on
/// it as an admin (with a token named `token_name` for `user`).
async fn served(token_name: &str, user: &str) -> (PgPool, String, Instance, Api) {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = admin_token(&pool, token_name, user).await;
    let server = in_process(&pool, &url).await;
    let api = Api::new(&server.address, &token);
    (pool, url, server, api)
}

/// POSTs `body` to `path` and returns the answer, asserting its status.
async fn post(api: &Api, path: &str, body: Value, expected: u16) -> Value {
    let (status, answer) = api.post_json(path, &body).await;
    assert_eq!(status, expected, "POST {path}: {answer}");
    answer
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
    created.assert_success("");
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
    let server = in_process(&pool, &url).await;
    let api = Api::new(&server.address, token);
    let (status, _) = api.get_json("/api/queue/counts").await;
    assert_eq!(status, 200, "the token authenticates");
    post(
        &api,
        "/api/queue",
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
    again.assert_failure("a second token with the same name is refused");
    again.assert_stderr_has("a token named `ci` already exists", "the refusal says why");
    again.assert_stdout_lacks("cos_", "no token is printed on failure");
    pool.close().await;
}

/// The `caseyos token list` row of the token `name` (its second column), trimmed.
fn row_of(listed: &crate::support::process::Finished, name: &str) -> String {
    listed
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no row for {name}\n{}", listed.describe()))
        .trim_end()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_list_without_secrets_and_revoke_by_name_or_id_from_the_cli() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let expiring = cli(
        &url,
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "operator",
            "--user",
            "olga",
            "--expires-in",
            "90d",
        ],
    )
    .await;
    expiring.assert_success("");
    expiring.assert_stderr_has("it expires", "stderr says when it expires");
    let ci = expiring.stdout.trim().to_string();
    let lasting = cli(
        &url,
        &["token", "create", "--name", "laptop", "--role", "admin"],
    )
    .await;
    lasting.assert_success("");
    lasting.assert_stderr_has("until revoked", "stderr says it does not expire");
    let laptop = lasting.stdout.trim().to_string();

    for bad in ["5w", "0d", "3651d", "soon"] {
        let refused = cli(
            &url,
            &[
                "token",
                "create",
                "--name",
                "bad",
                "--role",
                "viewer",
                "--expires-in",
                bad,
            ],
        )
        .await;
        refused.assert_failure("a bad duration is refused");
        refused.assert_stderr_has("expiry", "the refusal names the expiry");
        refused.assert_stdout_lacks("cos_", "no token is printed on failure");
    }
    let stored: i64 = query_i64(&pool, "select count(*) from api_tokens").await;
    assert_eq!(stored, 2);
    let lifetime: bool = sqlx::query_scalar(
        "select expires_at - created_at = interval '90 days' from api_tokens where name = 'ci'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(lifetime);

    // A browser signed in with `ci`.
    let server = in_process(&pool, &url).await;
    let signed_in = reqwest::Client::new()
        .post(format!("{}/api/session", server.address))
        .json(&json!({ "token": ci }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    server.stop().await;

    let listed = cli(&url, &["token", "list"]).await;
    listed.assert_success("");
    let header = listed.stdout.lines().next().unwrap_or_default();
    for column in [
        "ID",
        "NAME",
        "USER",
        "ROLE",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "REVOKED",
    ] {
        assert!(header.contains(column), "{column}\n{}", listed.describe());
    }
    let row = |name: &str| row_of(&listed, name);
    assert!(row("ci").contains("olga") && row("ci").contains("operator"));
    assert!(row("laptop").contains("never"), "{}", row("laptop"));
    for secret in [&ci, &laptop] {
        listed.assert_stdout_lacks(&secret[4..], "no secret is listed");
    }
    let json = cli(&url, &["token", "list", "--json"]).await;
    json.assert_success("");
    let items: Vec<caseyos_domain::api::ApiTokenView> =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}\n{}", json.describe()));
    assert_eq!(
        items.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["ci", "laptop"]
    );
    assert!(!json.stdout.contains(&ci[4..]) && !json.stdout.contains(&laptop[4..]));

    let revoked = cli(&url, &["token", "revoke", "ci"]).await;
    revoked.assert_success("");
    revoked.assert_stdout_has("revoked; 1 browser session(s)", "it says what ended");
    assert!(principal_for_token(&pool, &ci).await.unwrap().is_none());
    let live_sessions = query_i64(
        &pool,
        "select count(*) from sessions where revoked_at is null",
    )
    .await;
    assert_eq!(live_sessions, 0);

    let again = cli(&url, &["token", "revoke", "ci"]).await;
    again.assert_success("revoking a revoked token is no error");
    again.assert_stdout_has("already revoked", "it says nothing changed");

    let by_id = items
        .iter()
        .find(|t| t.name == "laptop")
        .unwrap()
        .id
        .to_string();
    cli(&url, &["token", "revoke", &by_id])
        .await
        .assert_success("by id");
    assert!(principal_for_token(&pool, &laptop).await.unwrap().is_none());

    let unknown = cli(&url, &["token", "revoke", "nope"]).await;
    unknown.assert_failure("an unknown token is an error");
    unknown.assert_stderr_has("no token is named or numbered `nope`", "it says which");
    let after = cli(&url, &["token", "list"]).await;
    for name in ["ci", "laptop"] {
        let row = row_of(&after, name);
        assert!(
            !row.ends_with(" -"),
            "{name} shows when it was revoked: {row}"
        );
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_prints_the_timeline_and_json_matches_the_audit_api() {
    let (pool, url, server, api) = served("replay-admin", "replayer").await;
    let proposed = post(
        &api,
        "/api/queue",
        json!({"action_type": "send_email", "title": "replay me"}),
        201,
    )
    .await;
    let id = dto::<QueueItemResponse>(&proposed).item.id.to_string();
    post(
        &api,
        &format!("/api/queue/{id}/approve"),
        json!({"note": "ship it"}),
        200,
    )
    .await;

    // The timeline: each event with its actor.
    let timeline = cli(&url, &["replay", "queue_item", &id]).await;
    timeline.assert_success("");
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
    timeline.assert_stdout_has(
        "status: pending → approved",
        "the timeline shows what changed",
    );

    // --json is the audit API's answer.
    let replayed = cli(&url, &["replay", "queue_item", &id, "--json"]).await;
    replayed.assert_success("");
    let from_cli: Value = serde_json::from_str(&replayed.stdout)
        .unwrap_or_else(|e| panic!("--json prints JSON ({e})\n{}", replayed.describe()));
    let (status, from_api) = api.get_json(&format!("/api/audit/queue_item/{id}")).await;
    assert_eq!(status, 200);
    // Raw: the same JSON, field for field.
    assert_eq!(from_cli, from_api, "replay --json equals the audit API");
    assert_eq!(dto::<AuditResponse>(&from_cli).total_events, 2);

    // --at 1: the state after the proposal.
    let at_one = cli(&url, &["replay", "queue_item", &id, "--at", "1"]).await;
    at_one.assert_success("");
    let (_, state) = at_one
        .stdout
        .split_once("State at #1:")
        .unwrap_or_else(|| panic!("--at 1 prints the state at #1\n{}", at_one.describe()));
    let state: Value = serde_json::from_str(state.trim())
        .unwrap_or_else(|e| panic!("the state is JSON ({e})\n{}", at_one.describe()));
    assert_eq!(
        dto::<QueueItemView>(&state).status,
        QueueStatus::Pending,
        "{}",
        at_one.describe()
    );
    at_one.assert_stdout_lacks("QueueItemApproved", "--at 1 stops before the approval");

    // An unknown id.
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = cli(&url, &["replay", "queue_item", &unknown]).await;
    missing.assert_failure("an unknown id fails");
    missing.assert_stderr_has("audit.not_found", "stderr carries the error code");
    server.stop().await;
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_status_and_rebuild_work_from_the_cli() {
    let (pool, url, server, api) = served("projections-admin", "casey").await;
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
        let body = json!({"action_type": action, "title": format!("move {i}")});
        let proposed = post(&api, "/api/queue", body, 201).await;
        ids.push(dto::<QueueItemResponse>(&proposed).item.id);
    }
    let decisions = [
        (ids[0], "approve", json!({})),
        (ids[1], "approve", json!({})),
        (ids[2], "reject", json!({"reason": "not now"})),
        (ids[3], "snooze", json!({"preset": "4h"})),
    ];
    for (id, what, body) in decisions {
        post(&api, &format!("/api/queue/{id}/{what}"), body, 200).await;
    }
    settle(&pool, Duration::from_secs(30)).await;
    // The reactors answer the approvals (executions, decisions); the log stops moving first.
    caseyos_tests::settle_everything(&pool).await;
    let items_before = table_json(&pool, "queue_items", "id").await;
    let counters_before = table_json(&pool, "queue_counters", "owner, status").await;
    assert_eq!(items_before.as_array().map(Vec::len), Some(6));

    let status = cli(&url, &["projections", "status"]).await;
    status.assert_success("");
    assert!(
        status.stdout.lines().any(|l| l.starts_with("queue ")),
        "status lists the queue projection\n{}",
        status.describe()
    );
    let status_json = cli(&url, &["projections", "status", "--json"]).await;
    status_json.assert_success("");
    let statuses: Value = serde_json::from_str(&status_json.stdout)
        .unwrap_or_else(|e| panic!("status --json is JSON ({e})\n{}", status_json.describe()));
    let queue = statuses
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "queue"))
        .unwrap_or_else(|| panic!("status --json lists queue: {statuses}"));
    assert_eq!(queue["lag_events"], 0, "caught up: {queue}");

    // Every event in the log, the first start's own included: a rebuild reads them all.
    let events = caseyos_tests::query_i64(&pool, "select count(*) from events").await;
    let rebuilt = cli(&url, &["projections", "rebuild", "queue"]).await;
    rebuilt.assert_success("");
    rebuilt.assert_stdout_has("events/s", "rebuild reports its speed");
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
    let (status, counts) = api.get_json("/api/queue/counts?owner=*").await;
    assert_eq!(status, 200);
    // The whole body, raw: exactly these fields and no others.
    assert_eq!(
        counts,
        json!({"pending": 2, "snoozed": 1, "approved": 2, "rejected": 1, "expired": 0, "total": 6})
    );

    let unknown = cli(&url, &["projections", "rebuild", "nonesuch"]).await;
    unknown.assert_failure("");
    unknown.assert_stderr_has("no projection named `nonesuch`", "");
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
    first.assert_success("");
    let (proposed, existing) = seed_numbers(&first.stdout)
        .unwrap_or_else(|| panic!("a seed report line\n{}", first.describe()));
    println!("first seed: {}", first.stdout.trim());
    assert!(proposed > 0, "the first seed proposes moves");
    assert_eq!(existing, 0);
    let events_after_first = event_count(&pool).await;
    assert!(events_after_first >= proposed as i64);

    let second = cli(&url, &["demo", "seed"]).await;
    second.assert_success("");
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
async fn demo_data_is_decided_by_system_demo_at_its_real_time_marked_and_kept_out_of_the_stats() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let started: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&pool)
        .await
        .expect("the database's time");
    let seeded = cli(&url, &["demo", "seed"]).await;
    seeded.assert_success("");

    // Every demo command is made by system:demo, never by the operator, and each records
    // the time it really ran: none before the seed started, none after it was stored.
    let rows = sqlx::query(
        "select metadata ->> 'actor' as actor, payload, recorded_at from events \
         where aggregate_type = 'queue_item' order by global_position",
    )
    .fetch_all(&pool)
    .await
    .expect("read the events");
    assert!(!rows.is_empty());
    let (mut decisions, mut snoozes) = (0, 0);
    for row in &rows {
        let actor: String = row.get("actor");
        assert_eq!(actor, "system:demo");
        let recorded_at: chrono::DateTime<chrono::Utc> = row.get("recorded_at");
        let payload: Value = row.get("payload");
        let event: QueueItemEvent = serde_json::from_value(payload).expect("a queue event");
        let (by, at) = match &event {
            QueueItemEvent::QueueItemProposed(e) => {
                assert!(e.demo, "{e:?}");
                (&e.proposed_by, e.proposed_at)
            }
            QueueItemEvent::QueueItemSnoozed(e) => {
                snoozes += 1;
                assert!(e.until > e.snoozed_at, "{e:?}");
                (&e.snoozed_by, e.snoozed_at)
            }
            QueueItemEvent::QueueItemApproved(e) => {
                decisions += 1;
                (&e.approved_by, e.approved_at)
            }
            QueueItemEvent::QueueItemRejected(e) => {
                decisions += 1;
                (&e.rejected_by, e.rejected_at)
            }
            other => panic!("the demo does not {other:?}"),
        };
        assert_eq!(by.to_string(), "system:demo", "{event:?}");
        assert!(
            at >= started && at <= recorded_at,
            "{event:?} claims {at}, the seed started at {started} and it was stored at {recorded_at}"
        );
    }
    assert_eq!((decisions, snoozes), (2, 2));

    // The operator sees demo moves marked, and their own stats hold no demo decision.
    let token = admin_token(&pool, "operator", "casey").await;
    let server = in_process(&pool, &url).await;
    let api = Api::new(&server.address, &token);
    let (status, list) = api.get_json("/api/queue?limit=100&owner=casey").await;
    assert_eq!(status, 200, "{list}");
    let list: QueueListResponse = dto(&list);
    assert!(list.items.len() >= 18, "{}", list.items.len());
    assert!(
        list.items.iter().all(|i| i.demo),
        "every demo move is marked"
    );
    let (status, stats) = api.get_json("/api/queue/stats").await;
    assert_eq!(status, 200, "{stats}");
    let stats: QueueStatsResponse = dto(&stats);
    assert_eq!(
        (
            stats.decided_today,
            stats.approved_today,
            stats.rejected_today
        ),
        (0, 0, 0),
        "{stats:?}"
    );
    assert_eq!(stats.approval_rate_7d, None, "{stats:?}");
    assert_eq!(stats.demo_decided_today, 2, "{stats:?}");
    assert!(
        // Every pending move is about demo data, the signal rules' own moves included.
        stats.pending > 0 && stats.demo_pending == stats.pending,
        "{stats:?}"
    );

    // A decision of the operator's own counts as theirs.
    let (status, own) = api
        .post_json(
            "/api/queue",
            &json!({"action_type": "check_in", "title": "a real move"}),
        )
        .await;
    assert_eq!(status, 201, "{own}");
    let id = own["item"]["id"].as_str().expect("an id").to_string();
    let (status, approved) = api
        .post_json(&format!("/api/queue/{id}/approve"), &json!({}))
        .await;
    assert_eq!(status, 200, "{approved}");
    let (_, stats) = api.get_json("/api/queue/stats").await;
    let stats: QueueStatsResponse = dto(&stats);
    assert_eq!(
        (
            stats.decided_today,
            stats.approval_rate_7d,
            stats.demo_decided_today
        ),
        (1, Some(100), 2),
        "{stats:?}"
    );
    server.stop().await;
    pool.close().await;
}

#[tokio::test]
async fn migrate_applies_the_schema_to_an_empty_database() {
    let (_, url) = caseyos_tests::empty_database("caseyos_test_empty").await;
    let pool = caseyos_tests::pool_for(&url).await;
    let exists = |pool: PgPool| async move {
        sqlx::query_scalar::<_, bool>("select to_regclass('public.events') is not null")
            .fetch_one(&pool)
            .await
            .expect("look for the events table")
    };
    assert!(!exists(pool.clone()).await, "the database starts empty");

    let migrated = cli(&url, &["migrate"]).await;
    migrated.assert_success("");
    migrated.assert_stdout_has("Migrations applied", "");
    assert!(exists(pool.clone()).await, "the events table exists");
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations"))
        .expect("the migrations folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count() as i64;
    let applied = query_i64(&pool, "select count(*) from _sqlx_migrations where success").await;
    assert_eq!(applied, migrations, "every migration is applied");

    let again = cli(&url, &["migrate"]).await;
    again.assert_success("migrating twice is harmless");
    let applied_again = query_i64(&pool, "select count(*) from _sqlx_migrations").await;
    assert_eq!(applied_again, migrations);
    pool.close().await;
}

#[tokio::test]
async fn demo_deals_have_months_of_activity_as_data_and_every_event_recorded_at_its_real_time() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let started: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&pool)
        .await
        .expect("the database's time");
    let seeded = cli(&url, &["demo", "seed"]).await;
    seeded.assert_success("");
    assert!(
        seeded.stdout.contains("Demo deals: 15 created"),
        "{}",
        seeded.stdout
    );
    let rows = sqlx::query(
        "select aggregate_type, metadata ->> 'actor' as actor, payload, recorded_at from events \
         where aggregate_type in ('deal', 'quota') order by global_position",
    )
    .fetch_all(&pool)
    .await
    .expect("read the events");
    let finished = chrono::Utc::now();
    let mut oldest_activity = finished;
    let mut created = 0;
    for row in &rows {
        let actor: String = row.get("actor");
        assert_eq!(actor, "system:demo");
        let recorded_at: chrono::DateTime<chrono::Utc> = row.get("recorded_at");
        assert!(started <= recorded_at && recorded_at <= finished);
        let payload: Value = row.get("payload");
        if let Some(deal) = payload.get("DealCreated") {
            assert_eq!(deal["demo"], true, "{deal}");
            created += 1;
        }
        if let Some(logged) = payload.get("DealActivityLogged") {
            let happened: chrono::DateTime<chrono::Utc> =
                serde_json::from_value(logged["happened_at"].clone()).unwrap();
            oldest_activity = oldest_activity.min(happened);
        }
    }
    assert_eq!(created, 15, "every demo deal is marked demo");
    assert!(
        finished - oldest_activity > chrono::Duration::days(90),
        "months of activity, as data: the oldest happened {oldest_activity}"
    );
    let quotas: i64 =
        sqlx::query_scalar("select count(*) from events where aggregate_type = 'quota'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(quotas, 3);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_is_engaged_and_released_from_the_cli_as_the_api_shows_it() {
    let (_pool, url, _server, api) = served("ops", "admin").await;

    let engaged = cli(
        &url,
        &[
            "kill-switch",
            "engage",
            "--reason",
            "a bad template went out",
            "--json",
        ],
    )
    .await;
    engaged.assert_success("");
    let printed: Value = serde_json::from_str(&engaged.stdout).expect("--json prints JSON");
    assert_eq!(printed["kill_switch"], true, "{}", engaged.describe());

    // The running server reads the same switch: recorded with the operator and the reason.
    let (status, guardrails) = api.get_json("/api/admin/guardrails").await;
    assert_eq!(status, 200, "{guardrails}");
    let settings = &guardrails;
    assert_eq!(settings["kill_switch"], true, "{guardrails}");
    assert_eq!(settings["kill_switch_changed"]["by"]["id"], "casey");
    assert_eq!(
        settings["kill_switch_changed"]["reason"],
        "a bad template went out"
    );

    let again = cli(&url, &["kill-switch", "engage"]).await;
    again.assert_success("");
    assert!(
        again.stdout.contains("ENGAGED") && again.stdout.contains("nothing changed"),
        "engaging twice changes nothing and says so\n{}",
        again.describe()
    );
    let (_, audit) = api
        .get_json(&format!(
            "/api/audit/execution_settings/{}",
            caseyos_domain::executions::settings::SETTINGS_ID
        ))
        .await;
    assert_eq!(audit["total_events"], 1, "one change recorded: {audit}");

    let status_line = cli(&url, &["kill-switch", "status"]).await;
    status_line.assert_success("");
    assert!(
        status_line.stdout.contains("ENGAGED")
            && status_line.stdout.contains("a bad template went out")
            && status_line.stdout.contains("Send mode: draft_only"),
        "{}",
        status_line.describe()
    );

    let released = cli(&url, &["kill-switch", "release", "--json"]).await;
    released.assert_success("");
    let printed: Value = serde_json::from_str(&released.stdout).expect("--json prints JSON");
    assert_eq!(printed["kill_switch"], false, "{}", released.describe());
    let (_, guardrails) = api.get_json("/api/admin/guardrails").await;
    assert_eq!(guardrails["kill_switch"], false, "{guardrails}");

    let too_long = "x".repeat(2001);
    let refused = cli(&url, &["kill-switch", "engage", "--reason", &too_long]).await;
    refused.assert_failure("a reason over 2,000 characters is refused");
    assert!(
        refused.stderr.contains("--reason"),
        "{}",
        refused.describe()
    );
}
