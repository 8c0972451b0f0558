//! Read models: the gap-safe global order, exactly-once application, rebuild equals live,
//! deterministic replay, snapshots and read-your-writes.

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{AuditResponse, QueueItemResponse};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::{
    EditQueueItem, QueueItem, QueueItemCommand, QueueItemView, QueueStatus, MAX_TITLE_CHARS,
};
use caseyos_projections::all_projectors;
use caseyos_projections::queue::QueueProjector;
use caseyos_projections::rebuild::{
    fill_shadow, fill_shadow_with, switch_over, table_difference, FoldLimits,
};
use caseyos_projections::runner::{ensure_checkpoint, run_batch};
use caseyos_store::{now, CommandMeta};
use caseyos_tests::{
    assert_error, command_bus, dto, error_body, expect_dto, fresh_database, query_i64, send,
    spawn_app, spawn_app_with, status_and_json, Api, TestApp,
};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

fn propose(id: Uuid, title: &str) -> QueueItemCommand {
    caseyos_tests::propose_command(id, title)
}

/// Inserts a proposal event by hand inside `tx`, as postgres-es would.
async fn insert_proposal(conn: &mut PgConnection, id: Uuid, title: &str) {
    let events = QueueItem::default().decide(propose(id, title)).unwrap();
    let payload = serde_json::to_value(&events[0]).unwrap();
    sqlx::query(
        "insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         values ('queue_item', $1, 1, 'QueueItemProposed', '1', $2, '{\"actor\": \"user:admin\"}')",
    )
    .bind(id.to_string())
    .bind(payload)
    .execute(conn)
    .await
    .unwrap();
}

/// `caseyos_projection_idle_checks_total` of the queue projection, from `/metrics`.
async fn idle_checks(app: &TestApp) -> u64 {
    let metrics = app.metrics_text().await;
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix("caseyos_projection_idle_checks_total{projection=\"queue\"} ")
        })
        .map_or(0, |n| n.parse().unwrap())
}

async fn has_item(pool: &PgPool, id: Uuid) -> bool {
    sqlx::query_scalar("select exists(select 1 from queue_items where id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_transaction_held_open_while_later_events_commit_skips_no_event() {
    let app = spawn_app().await;
    let mut slow = PgConnection::connect(&app.database_url).await.unwrap();
    sqlx::query("begin").execute(&mut slow).await.unwrap();
    let held = Uuid::now_v7();
    // Inserted first: its global position is lower than the next event's...
    insert_proposal(&mut slow, held, "held open").await;

    // ...which commits first.
    let later_id = app.propose_simple("committed later").await.item.id;
    let positions: Vec<i64> = sqlx::query_scalar(
        "select global_position from events where aggregate_type = 'queue_item' \
         order by global_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(positions.len(), 1, "only the later event is visible yet");

    // While the older transaction is open, the projector must not pass it. Watched until
    // the projector has read the log twice more after the later event committed (a read
    // that began before this point cannot be one of them): each read saw the later event
    // and found nothing it may apply below the horizon.
    let checks = idle_checks(&app).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while idle_checks(&app).await < checks + 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the projector never looked again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !has_item(&app.pool, later_id).await,
        "the projector waited below the horizon"
    );

    sqlx::query("commit").execute(&mut slow).await.unwrap();
    app.settle().await;
    assert!(
        has_item(&app.pool, held).await,
        "the held event was not skipped"
    );
    assert!(has_item(&app.pool, later_id).await);
    let held_position: i64 =
        sqlx::query_scalar("select global_position from events where aggregate_id = $1")
            .bind(held.to_string())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        held_position < positions[0],
        "the held event really was behind the later one"
    );
}

/// A varied history: proposals, approvals, rejections, snoozes and edits.
async fn make_history(app: &TestApp, items: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..items {
        let action = [
            "send_email",
            "book_meeting",
            "social_post",
            "renewal_outreach",
        ][i % 4];
        let owner = if i % 3 == 0 { "admin" } else { "casey" };
        let id = app
            .propose(
                &app.admin,
                json!({"action_type": action, "title": format!("item {i}"), "owner": owner}),
            )
            .await
            .item
            .id;
        let (what, body) = match i % 5 {
            0 => ("approve", json!({})),
            1 => ("reject", json!({"reason": "no"})),
            2 => ("snooze", json!({"preset": "tomorrow"})),
            3 => (
                "edit",
                json!({"title": format!("edited {i}"), "aps": {"revenue": 0.9}}),
            ),
            _ => {
                ids.push(id);
                continue;
            }
        };
        app.queue_command_ok(id, what, body).await;
        ids.push(id);
    }
    app.settle().await;
    ids
}

/// Builds the queue read model afresh from the whole log beside the live one, and asserts
/// its tables equal the live tables row for row.
async fn assert_a_fresh_build_equals_live(pool: &PgPool) {
    fill_shadow(pool, &QueueProjector, |_| {}).await.unwrap();
    for table in ["queue_items", "queue_counters"] {
        let rebuilt = format!("{table}__rebuild");
        assert_eq!(
            table_difference(pool, table, &rebuilt).await.unwrap(),
            0,
            "{table}"
        );
    }
}

/// A page as long as any history these tests write.
const ALL_EVENTS: caseyos_store::history::Page = caseyos_store::history::Page {
    after: 0,
    limit: 500,
};

/// The status of a queue item's state (as the audit API shows it).
fn status_of(state: &Value) -> QueueStatus {
    dto::<QueueItemView>(state).status
}

#[tokio::test]
async fn rebuild_equals_live_row_for_row() {
    let app = spawn_app().await;
    make_history(&app, 40).await;
    assert_a_fresh_build_equals_live(&app.pool).await;

    sqlx::query("create table queue_items_before as select * from queue_items")
        .execute(&app.pool)
        .await
        .unwrap();
    switch_over(&app.pool, &QueueProjector).await.unwrap();
    assert_eq!(
        table_difference(&app.pool, "queue_items", "queue_items_before")
            .await
            .unwrap(),
        0
    );
    let leftovers = query_i64(
        &app.pool,
        "select count(*) from pg_tables where tablename like 'queue_%\\_\\_%' escape '\\'",
    )
    .await;
    assert_eq!(leftovers, 0, "shadow and retired tables are gone");
}

#[tokio::test]
async fn rebuilding_while_commands_keep_arriving_serves_reads_throughout_and_converges() {
    let app = spawn_app().await;
    make_history(&app, 20).await;
    let writer = {
        let api = Api::new(&app.address, &app.admin);
        tokio::spawn(async move {
            for i in 0..60 {
                let body =
                    json!({"action_type": "check_in", "title": format!("during rebuild {i}")});
                let (status, _) = api.post_json("/api/queue", &body).await;
                assert_eq!(status, 201);
            }
        })
    };
    let reader = {
        let api = Api::new(&app.address, &app.admin);
        tokio::spawn(async move {
            let mut failures = 0;
            for _ in 0..60 {
                let (status, _) = api
                    .get_json("/api/queue?owner=*&consistency=eventual")
                    .await;
                if status != 200 {
                    failures += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            failures
        })
    };
    caseyos_projections::rebuild::rebuild(&app.pool, Arc::new(QueueProjector), |_| {})
        .await
        .unwrap();
    writer.await.unwrap();
    assert_eq!(
        reader.await.unwrap(),
        0,
        "reads never failed during the rebuild"
    );
    app.settle().await;

    // The live tables after the switch equal a fresh build from the whole log.
    assert_a_fresh_build_equals_live(&app.pool).await;
    let items = query_i64(&app.pool, "select count(*) from queue_items").await;
    assert_eq!(items, 80);
}

#[tokio::test]
async fn batches_racing_on_one_projector_never_apply_an_event_twice() {
    let (pool, _) = fresh_database().await;
    let bus = Arc::new(command_bus(&pool, 16));
    ensure_checkpoint(&pool, "queue").await.unwrap();
    let meta = CommandMeta::system("test");

    let writers = (0..4).map(|w| {
        let bus = bus.clone();
        let meta = meta.clone();
        tokio::spawn(async move {
            for i in 0..50 {
                let id = Uuid::now_v7();
                bus.execute::<QueueItem>(id, propose(id, &format!("w{w} i{i}")), &meta)
                    .await
                    .unwrap();
            }
        })
    });
    let projectors = (0..4).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut idle_rounds = 0;
            while idle_rounds < 50 {
                let (outcome, _) = run_batch(&pool, &QueueProjector, 7).await.unwrap();
                if outcome.applied == 0 {
                    idle_rounds += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                } else {
                    idle_rounds = 0;
                }
            }
        })
    });
    let writers: Vec<_> = writers.collect();
    let projectors: Vec<_> = projectors.collect();
    for w in writers {
        w.await.unwrap();
    }
    for p in projectors {
        p.await.unwrap();
    }
    // Drain to the head of the log. A batch that applies nothing is not the end: another
    // test's open transaction anywhere in the cluster can hold the horizon back a while.
    let head = caseyos_store::event::head(&pool).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (outcome, _) = run_batch(&pool, &QueueProjector, 100).await.unwrap();
        if outcome.checkpoint >= head {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reached the head"
        );
        if outcome.applied == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let processed = query_i64(
        &pool,
        "select events_processed from projection_checkpoints where name = 'queue'",
    )
    .await;
    assert_eq!(processed, 200, "each event applied exactly once");
    let counted = query_i64(&pool, "select sum(count)::bigint from queue_counters").await;
    assert_eq!(counted, 200, "a double application would double-count");
}

#[tokio::test]
async fn replay_is_deterministic_the_fold_equals_the_read_model_and_the_event_store() {
    let app = spawn_app().await;
    let ids = make_history(&app, 15).await;
    for uuid in ids {
        let id = uuid.to_string();
        let history = caseyos_store::history::history(
            &app.pool,
            "queue_item",
            &id,
            Default::default(),
            ALL_EVENTS,
        )
        .await
        .unwrap()
        .page;
        let doc: Value = sqlx::query_scalar("select doc from queue_items where id = $1")
            .bind(uuid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(history.state, doc, "replay of {id} equals its read model");
        // Raw: the API shows exactly the replayed state.
        let (_, api) = app.get_json(&format!("/api/queue/{id}"), &app.admin).await;
        assert_eq!(api["item"], history.state);
        // Every prefix folds to the state recorded after that event.
        for entry in &history.events {
            let at = caseyos_store::history::history(
                &app.pool,
                "queue_item",
                &id,
                caseyos_store::history::Point {
                    at: Some(entry.sequence),
                    as_of: None,
                },
                ALL_EVENTS,
            )
            .await
            .unwrap()
            .page;
            assert_eq!(at.state, entry.state_after);
        }
    }
}

#[tokio::test]
async fn the_audit_api_shows_who_did_what_and_travels_in_time() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "follow_up", "title": "audited"}),
        )
        .header("X-Correlation-Id", "campaign-42")
        .header("Idempotency-Key", "audit-1")
        .send()
        .await
        .unwrap();
    let id = expect_dto::<QueueItemResponse>(&status_and_json(response).await, 201)
        .item
        .id;
    app.queue_command_ok(id, "snooze", json!({"preset": "1h"}))
        .await;
    app.queue_command_ok(id, "approve", json!({})).await;

    let audit = |query: String| {
        let (app, path) = (&app, format!("/api/audit/queue_item/{id}{query}"));
        async move { app.get_ok::<AuditResponse>(&path, &app.admin).await }
    };
    let all = audit(String::new()).await;
    let types: Vec<&str> = all.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec!["QueueItemProposed", "QueueItemSnoozed", "QueueItemApproved"]
    );
    let statuses: Vec<QueueStatus> = all
        .events
        .iter()
        .map(|e| status_of(&e.state_after))
        .collect();
    assert_eq!(
        statuses,
        vec![
            QueueStatus::Pending,
            QueueStatus::Snoozed,
            QueueStatus::Approved
        ]
    );
    let first = &all.events[0];
    assert_eq!(first.actor.as_deref(), Some("user:admin"));
    assert_eq!(first.correlation_id.as_deref(), Some("campaign-42"));
    assert_eq!(first.idempotency_key.as_deref(), Some("audit-1"));
    assert!(first.request_id.as_deref().is_some_and(|r| !r.is_empty()));
    assert_eq!(status_of(&all.state), QueueStatus::Approved);
    assert_eq!(all.total_events, 3);

    let at1 = audit("?at=1".into()).await;
    assert_eq!(status_of(&at1.state), QueueStatus::Pending);
    assert_eq!(at1.events.len(), 1);
    // An instant between the snooze's and the approval's recording times, from the
    // events themselves rather than from the test's clock.
    let (snoozed_at, approved_at) = (all.events[1].recorded_at, all.events[2].recorded_at);
    assert!(approved_at - snoozed_at >= chrono::Duration::microseconds(2));
    let between = snoozed_at + (approved_at - snoozed_at) / 2;
    let as_of = between.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let then = audit(format!("?as_of={}", as_of.replace('+', "%2B"))).await;
    assert_eq!(status_of(&then.state), QueueStatus::Snoozed);

    for (path, code) in [
        (
            format!("/api/audit/contract/{id}"),
            "audit.unknown_aggregate_type",
        ),
        (
            format!("/api/audit/queue_item/{}", Uuid::new_v4()),
            "audit.not_found",
        ),
        (
            format!("/api/audit/queue_item/{id}?at=9"),
            "audit.sequence_not_found",
        ),
    ] {
        let (status, body) = app.get_json(&path, &app.admin).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(error_body(&body).code, code, "{path}");
    }
}

#[tokio::test]
async fn snapshots_hold_the_state_once_and_loading_from_them_is_exact() {
    let (pool, _) = fresh_database().await;
    let bus = command_bus(&pool, 8);
    let meta = CommandMeta::system("test");
    let id = Uuid::now_v7();
    bus.execute::<QueueItem>(id, propose(id, "title 0"), &meta)
        .await
        .unwrap();
    for i in 1..250 {
        let edit = QueueItemCommand::Edit(EditQueueItem {
            title: Some(Text::parse(&format!("title {i}"), MAX_TITLE_CHARS).unwrap()),
            by: Some(Actor::user("admin")),
            at: Some(now()),
            ..EditQueueItem::default()
        });
        let committed = bus.execute::<QueueItem>(id, edit, &meta).await.unwrap();
        assert_eq!(committed.state.item.unwrap().version, i as u64 + 1);
    }
    let (last_sequence, payload): (i64, Value) =
        sqlx::query_as("select last_sequence, payload from snapshots where aggregate_id = $1")
            .bind(id.to_string())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(last_sequence, 200);
    // The snapshot equals the fold of its first 200 events (applied once, not twice).
    let history = caseyos_store::history::history(
        &pool,
        "queue_item",
        &id.to_string(),
        caseyos_store::history::Point {
            at: Some(200),
            as_of: None,
        },
        ALL_EVENTS,
    )
    .await
    .unwrap()
    .page;
    assert_eq!(payload["item"], history.state);
    assert_eq!(payload["item"]["version"], 200);
}

#[tokio::test]
async fn queries_wait_for_a_token_and_time_out_with_a_clear_code() {
    // Generous: the snapshot horizon is cluster-wide, so other tests' open transactions
    // (one of them holds one on purpose) can delay any projector for a moment.
    let app = spawn_app_with(|c| c.consistency_timeout_ms = 2000).await;
    let token = app.propose_simple("token").await.consistency;
    let today = |after: &str| send(app.get(&format!("/api/queue/today?after={after}"), &app.admin));
    let (status, _) = today(&token).await;
    assert_eq!(status, 200);

    // A committed write the projector cannot reach yet: an older transaction holds the
    // horizon below it.
    let mut slow = PgConnection::connect(&app.database_url).await.unwrap();
    sqlx::query("begin").execute(&mut slow).await.unwrap();
    insert_proposal(&mut slow, Uuid::now_v7(), "held open").await;
    let held_back = app.propose_simple("held back").await.consistency;
    let not_yet = today(&held_back).await;
    assert_error(&not_yet, 503, "consistency.timeout");
    sqlx::query("commit").execute(&mut slow).await.unwrap();
    assert_eq!(today(&held_back).await.0, 200);

    // A token past the log's head names no write at all: no wait, a client error.
    assert_error(
        &today("999999999.999999999").await,
        400,
        "consistency.unknown_token",
    );
    assert_error(&today("soon").await, 400, "consistency.invalid_token");
}

#[tokio::test]
async fn an_unreadable_event_stops_the_projector_visibly_instead_of_being_skipped() {
    let app = spawn_app().await;
    let poison = Uuid::now_v7();
    sqlx::query(
        "insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         values ('queue_item', $1, 1, 'QueueItemProposed', '99', '{}', '{}')",
    )
    .bind(poison.to_string())
    .execute(&app.pool)
    .await
    .unwrap();
    let after_id = app.propose_simple("behind the poison").await.item.id;

    // Other projectors may be briefly without a leader while the app starts: wait for the
    // queue projector's own state.
    let queue_state = |ready: &(u16, Value)| {
        ready.1["error"]["details"]["projections"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == "queue").cloned())
            .unwrap_or(Value::Null)
    };
    let mut ready = (0, Value::Null);
    for _ in 0..60 {
        ready = app.get_json("/ready", &app.admin).await;
        if ready.0 == 503 && queue_state(&ready)["state"] == "failing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 503, "{}", ready.1);
    assert_eq!(error_body(&ready.1).code, "service.not_ready");
    let projection = &queue_state(&ready);
    assert_eq!(projection["state"], "failing", "{}", ready.1);
    assert!(
        projection["last_error"]
            .as_str()
            .unwrap()
            .contains("version"),
        "{projection}"
    );
    assert!(
        !has_item(&app.pool, after_id).await,
        "nothing behind the unreadable event is applied"
    );
}

/// Every row of `table` as PostgreSQL prints it — every column, exactly — sorted.
async fn rows_as_text(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(&format!("select t::text from {table} t order by 1"))
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Three CRM sync runs through the bus: one completed after two windows, one failed after
/// one, one still running.
async fn sync_history(pool: &PgPool) {
    use caseyos_domain::crm_sync::{
        Complete, CrmSync, CrmSyncCommand, Fail, RecordProgress, SyncCounts, SyncObject, SyncWindow,
    };
    let bus = command_bus(pool, 16);
    let meta = CommandMeta::system("hubspot_sync");
    let t = |secs: i64| chrono::DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap();
    for (run, windows, end) in [(0, 2, "complete"), (1, 1, "fail"), (2, 1, "running")] {
        let id = Uuid::now_v7();
        let base = run * 1_000;
        let start = CrmSyncCommand::Start {
            id,
            object: SyncObject::Contacts,
            from: t(base),
            to: t(base + 1_000),
            by: Actor::system("hubspot_sync"),
            at: t(base + 1_000),
        };
        let mut commands = vec![start];
        for w in 0..windows {
            commands.push(CrmSyncCommand::RecordProgress(RecordProgress {
                window: SyncWindow {
                    from: t(base + w * 500),
                    to: t(base + (w + 1) * 500),
                },
                counts: SyncCounts {
                    fetched: 3,
                    created: 2,
                    updated: 1,
                    unchanged: 0,
                    failed: 0,
                },
                highest_modified_at: Some(t(base + (w + 1) * 500 - 1)),
                calls: 2,
                failed_calls: 0,
                at: t(base + 1_001),
            }));
        }
        match end {
            "complete" => commands.push(CrmSyncCommand::Complete(Complete {
                calls: 0,
                failed_calls: 0,
                rate_limits: None,
                at: t(base + 1_002),
            })),
            "fail" => commands.push(CrmSyncCommand::Fail(Fail {
                code: "hubspot.server_error".into(),
                message: "HubSpot answered 500 after 4 attempt(s)".into(),
                retryable: true,
                calls: 2,
                failed_calls: 2,
                at: t(base + 1_002),
            })),
            _ => {}
        }
        for command in commands {
            bus.execute::<CrmSync>(id, command, &meta).await.unwrap();
        }
    }
}

/// Contacts validated (one invalid), a duplicate pair found and closed, an alert raised and
/// dismissed, a SyncHealth run requested: rows for the alerts and hygiene read models.
async fn hygiene_history(app: &TestApp) {
    use caseyos_domain::alerts::{
        Alert, AlertCommand, AlertKind, AlertSeverity, AlertSubject, RaiseAlert,
    };
    use caseyos_domain::contacts::{
        Contact, ContactCommand, ContactSource, CreateContact, FieldEdit,
    };
    use caseyos_domain::duplicates::{pair_id, DuplicatePair, DuplicatePairCommand, Finding};
    use caseyos_domain::hygiene::ValidationReport;
    use caseyos_domain::kernel::EmailAddress;

    let bus = command_bus(&app.pool, 16);
    let meta = CommandMeta::system("test");
    let mut ids = [Uuid::now_v7(), Uuid::now_v7()];
    ids.sort();
    for (n, id) in ids.iter().enumerate() {
        let create = ContactCommand::Create(Box::new(CreateContact {
            id: *id,
            fields: vec![
                FieldEdit::FirstName(Some(Text::parse("Ada", 50).unwrap())),
                FieldEdit::Emails(vec![EmailAddress::parse("ada@analytical.example").unwrap()]),
            ],
            source: ContactSource::Manual,
            import_id: None,
            demo: false,
            by: Actor::user("admin"),
            at: now(),
        }));
        bus.execute::<Contact>(*id, create, &meta).await.unwrap();
        let validate = ContactCommand::RecordValidation {
            report: ValidationReport {
                valid: n == 0,
                issues: Vec::new(),
                rules_version: 1,
            },
            by: Actor::agent("ContactValidation"),
            at: now(),
        };
        bus.execute::<Contact>(*id, validate, &meta).await.unwrap();
    }
    let pair = pair_id(ids[0], ids[1]);
    let detect = DuplicatePairCommand::Detect {
        finding: Finding {
            a: ids[0],
            b: ids[1],
            score: 1.0,
            reasons: Vec::new(),
            criteria_version: 1,
            fingerprints: ["a".into(), "b".into()],
        },
        run_id: None,
        by: Actor::agent("DuplicateWatcher"),
        at: now(),
    };
    bus.execute::<DuplicatePair>(pair, detect, &meta)
        .await
        .unwrap();
    let decide = DuplicatePairCommand::MarkNotDuplicate {
        by: Actor::user("admin"),
        at: now(),
    };
    bus.execute::<DuplicatePair>(pair, decide, &meta)
        .await
        .unwrap();
    let key = "contact.stale/2026-11-30";
    let raise = AlertCommand::Raise(Box::new(RaiseAlert {
        key: Text::parse(key, 200).unwrap(),
        kind: AlertKind::ContactStale,
        severity: AlertSeverity::Normal,
        title: Text::parse("2 contacts untouched for 90+ days", 200).unwrap(),
        message: Text::parse("Ada (120 days), Ada (100 days).", 200).unwrap(),
        subjects: ids.iter().map(|id| AlertSubject::Contact(*id)).collect(),
        run_id: None,
        by: Actor::agent("DataDecay"),
        at: now(),
    }));
    let alert = caseyos_domain::alerts::alert_id(key);
    bus.execute::<Alert>(alert, raise, &meta).await.unwrap();
    let dismiss = AlertCommand::Dismiss {
        by: Actor::user("admin"),
        at: now(),
    };
    bus.execute::<Alert>(alert, dismiss, &meta).await.unwrap();
    app.request_run_ok(&app.admin, "SyncHealth", json!({}))
        .await;
}

#[tokio::test]
async fn a_rebuild_fold_writes_the_live_rows_byte_for_byte() {
    let app = spawn_app_with(|c| c.agent_workers = 0).await;
    // Proposed, approved, rejected, snoozed, edited and pending moves...
    make_history(&app, 30).await;
    // ...and runs requested, cancelled, retried (linked from their originals), dismissed.
    for title in ["CMO", "VP Sales", "Events Lead"] {
        let id = app
            .request_run_ok(&app.admin, "PersonaRouter", json!({"job_title": title}))
            .await
            .id;
        for what in ["cancel", "retry", "dismiss"] {
            let (status, body) = app
                .post_json(
                    &format!("/api/agent-runs/{id}/{what}"),
                    &app.admin,
                    &json!({}),
                )
                .await;
            assert!(status < 300, "{what}: {status} {body}");
        }
    }
    // Contacts created, edited, archived and restored.
    for i in 0..5 {
        let (status, body) = app
            .post_json(
                "/api/contacts",
                &app.admin,
                &json!({"first_name": format!("C{i}"), "email": format!("c{i}@acme.io"), "phones": ["4155550100", "n/a"]}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["contact"]["id"].as_str().unwrap().to_string();
        let steps = [
            (
                "edit",
                json!({"job_title": "CRO", "emails": ["x@acme.io", "y@acme.io"]}),
            ),
            ("archive", json!({"reason": "gone"})),
            ("restore", json!({})),
        ];
        for (what, body) in steps.into_iter().take(i % 4) {
            let (status, answer) = app
                .post_json(&format!("/api/contacts/{id}/{what}"), &app.admin, &body)
                .await;
            assert_eq!(status, 200, "{what}: {answer}");
        }
    }
    // A move edited after a snooze, then approved: several events per row across flushes.
    let id = app.propose_simple("long-lived").await.item.id;
    app.queue_command_ok(id, "snooze", json!({"preset": "tomorrow"}))
        .await;
    app.queue_command_ok(id, "edit", json!({"title": "long-lived, edited"}))
        .await;
    app.queue_command_ok(id, "approve", json!({})).await;
    // Duplicate pairs: found, marked not a duplicate, found again changed (reopened).
    let bus = command_bus(&app.pool, 5);
    for n in 0..5u128 {
        let (a, b) = (Uuid::from_u128(2 * n + 1), Uuid::from_u128(2 * n + 2));
        let pair = caseyos_domain::duplicates::pair_id(a, b);
        let detect = |fingerprint: &str| caseyos_domain::duplicates::DuplicatePairCommand::Detect {
            finding: caseyos_domain::duplicates::Finding {
                a,
                b,
                score: 0.5 + n as f64 / 10.0,
                reasons: vec![caseyos_domain::duplicates::MatchReason {
                    code: "phone.same".into(),
                    detail: "+14155550100".into(),
                }],
                criteria_version: 1,
                fingerprints: ["fa".into(), fingerprint.into()],
            },
            run_id: None,
            by: Actor::agent("DuplicateWatcher"),
            at: now(),
        };
        let meta = CommandMeta::system("test");
        bus.execute::<caseyos_domain::duplicates::DuplicatePair>(pair, detect("fb"), &meta)
            .await
            .unwrap();
        if n % 2 == 0 {
            bus.execute::<caseyos_domain::duplicates::DuplicatePair>(
                pair,
                caseyos_domain::duplicates::DuplicatePairCommand::MarkNotDuplicate {
                    by: Actor::user("casey"),
                    at: now(),
                },
                &meta,
            )
            .await
            .unwrap();
            bus.execute::<caseyos_domain::duplicates::DuplicatePair>(pair, detect("fb2"), &meta)
                .await
                .unwrap();
        }
    }
    // CRM sync runs: completed after two windows, failed, and one still running.
    sync_history(&app.pool).await;
    hygiene_history(&app).await;
    // A CSV import with a row that fails alone.
    let imported = crate::contact_imports::import(
        &app,
        "email,first_name,last_name\nrow.one@example.com,Row,One\nnot-an-email,Bad,Row\n",
    )
    .await;
    assert_eq!((imported.created, imported.failed), (1, 1), "{imported:?}");
    // Deals with several events each (won, lost, reopened, changed) and a quota; the
    // default pipeline is the first start's.
    let deals = crate::deals::q4_fixture(&app).await;
    for (what, body) in [
        ("reopen", json!({})),
        ("amount", json!({"amount": {"minor": 1, "currency": "USD"}})),
        ("move", json!({"stage": "contractsent"})),
    ] {
        let (status, answer) = app
            .post_json(
                &format!("/api/deals/{}/{what}", deals[5]),
                &app.admin,
                &body,
            )
            .await;
        assert_eq!(status, 200, "{what}: {answer}");
    }
    // Signals: processed ones (moves proposed) and one recorded after.
    for key in ["rebuild-1", "rebuild-2", "rebuild-3"] {
        if key == "rebuild-3" {
            caseyos_backend::workers::signals::run_once(&app.pool, &bus, "casey")
                .await
                .unwrap();
        }
        let (status, answer) = app
            .post_json(
                "/api/signals",
                &app.admin,
                &json!({"title": format!("Follow up {key}"), "dedup_key": key}),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    // A chat (offline: its answer and a slash command's tool call) and notifications read
    // and acknowledged.
    let (status, chat) = app
        .post_json(
            "/api/chat/sessions",
            &app.admin,
            &json!({"title": "Rebuild"}),
        )
        .await;
    assert_eq!(status, 201, "{chat}");
    for content in ["What's up?", "/today"] {
        let (status, answer) = app
            .post_json(
                &format!(
                    "/api/chat/sessions/{}/messages",
                    chat["id"].as_str().unwrap()
                ),
                &app.admin,
                &json!({ "content": content }),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    for what in ["read", "acknowledge"] {
        let (status, answer) = app
            .post_json(
                &format!("/api/notifications/{what}"),
                &app.admin,
                &json!({}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    // Researches begun (this app runs no agents: they stay running), one deleted; voice
    // samples pasted, rated and one removed.
    for (question, delete) in [("Rebuild research", true), ("Another research", false)] {
        let (status, research) = app
            .post_json(
                "/api/research",
                &app.admin,
                &json!({ "question": question }),
            )
            .await;
        assert_eq!(status, 202, "{research}");
        if delete {
            let id = research["id"].as_str().unwrap();
            let response = app
                .request(
                    reqwest::Method::DELETE,
                    &format!("/api/research/{id}"),
                    Some(&app.admin),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 204);
        }
    }
    for (n, rating) in [(1, Some(5)), (2, None), (3, Some(2))] {
        let content = format!("Sample {n}: {}", "A line of how Casey writes. ".repeat(5));
        let (status, sample) = app
            .post_json(
                "/api/voice/samples",
                &app.admin,
                &json!({ "content": content, "rating": rating }),
            )
            .await;
        assert_eq!(status, 201, "{sample}");
        if n == 3 {
            let response = app
                .request(
                    reqwest::Method::DELETE,
                    &format!("/api/voice/samples/{}", sample["id"].as_str().unwrap()),
                    Some(&app.admin),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 204);
        }
    }
    // The reactors' answers (executions of the approved moves, outcomes of the deals'
    // changes, auto-approval decisions) are in before the rebuild.
    caseyos_tests::settle_everything(&app.pool).await;

    // The default limits fold everything at once; the tiny ones flush after every few
    // rows, so later events read rows an earlier flush wrote and update them.
    let tiny = FoldLimits {
        page: 3,
        held_rows: 4,
    };
    for limits in [FoldLimits::default(), tiny] {
        for projector in all_projectors() {
            let name = projector.name();
            assert!(
                projector.fold(true).is_some(),
                "{name} rebuilds with a fold"
            );
            sqlx::query("delete from projection_rebuilds where name = $1")
                .bind(name)
                .execute(&app.pool)
                .await
                .unwrap();
            fill_shadow_with(&app.pool, projector.as_ref(), limits, |_| {})
                .await
                .unwrap();
            for table in projector.tables() {
                let live = rows_as_text(&app.pool, table).await;
                assert!(!live.is_empty(), "{table} has rows");
                let rebuilt = rows_as_text(&app.pool, &format!("{table}__rebuild")).await;
                assert_eq!(rebuilt, live, "{table}, {limits:?}");
            }
        }
    }
    let linked = query_i64(
        &app.pool,
        "select count(*) from agent_runs__rebuild where jsonb_array_length(doc -> 'retried_by') = 1",
    )
    .await;
    assert_eq!(linked, 3, "each original links its retry");

    // A rebuild that resumes over the rows it left folds the events after its checkpoint
    // into them: moves decided and edited since, a run retried again.
    let pending: Vec<Uuid> = sqlx::query_scalar(
        "select id from queue_items where status in ('pending', 'snoozed') order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(pending.len() >= 2, "{pending:?}");
    app.queue_command_ok(pending[0], "approve", json!({})).await;
    app.queue_command_ok(pending[1], "edit", json!({"title": "edited after"}))
        .await;
    let retried: Uuid = sqlx::query_scalar(
        "select id from agent_runs where retry_of is not null order by id limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (status, body) = app
        .post_json(
            &format!("/api/agent-runs/{retried}/cancel"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert!(status < 300, "cancel: {status} {body}");
    caseyos_tests::settle_everything(&app.pool).await;
    for projector in all_projectors() {
        fill_shadow_with(&app.pool, projector.as_ref(), tiny, |_| {})
            .await
            .unwrap();
        for table in projector.tables() {
            let live = rows_as_text(&app.pool, table).await;
            let rebuilt = rows_as_text(&app.pool, &format!("{table}__rebuild")).await;
            assert_eq!(rebuilt, live, "{table}, resumed");
        }
    }
}
