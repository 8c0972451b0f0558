//! Today's Moves over HTTP against the real router and a real PostgreSQL.

use caseyos_domain::api::{BulkDecisionResponse, QueueItemResponse, QueueListResponse};
use caseyos_domain::queue::aps::InputBasis;
use caseyos_domain::queue::{QueueDomain, QueueItemView, QueueStatus, Source};
use caseyos_tests::{
    assert_error, command_bus, dto, error_body, error_fields, error_of, expect_dto, spawn_app,
    TestApp,
};
use serde_json::json;

/// The titles of a list's items, in order.
fn titles(list: &QueueListResponse) -> Vec<&str> {
    list.items.iter().map(|i| i.title.as_str()).collect()
}

/// Today's Moves as admin.
async fn today(app: &TestApp) -> QueueListResponse {
    app.get_ok("/api/queue/today", &app.admin).await
}

#[tokio::test]
async fn proposing_returns_201_with_the_item_a_derived_title_and_a_consistency_token() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_json(
            "/api/queue",
            &app.admin,
            &json!({
                "action_type": "Send-Email",
                "target": {"contact": {"id": "101", "name": "Dana Lee", "email": "Dana@Acme.io"}},
                "payload": {"to": "dana@acme.io", "subject": "Hi", "body": "Hello Dana"},
                "due_by": "2026-11-25T10:00:00Z"
            }),
        )
        .await;
    assert_eq!(status, 201, "propose failed: {body}");
    // The wire format, raw: the typed view would accept what it normalises (the action
    // type's spelling, the email's case) and would not see the exact objects and decimals.
    let raw = &body["item"];
    assert_eq!(raw["action_type"], "send_email");
    assert_eq!(raw["aps"]["score"], 63.0);
    assert_eq!(raw["aps"]["inputs"]["revenue"], 0.6);
    assert_eq!(raw["target"]["contact"]["email"], "dana@acme.io");
    assert_eq!(raw["proposed_by"], json!({"kind": "user", "id": "admin"}));

    let QueueItemResponse {
        item, consistency, ..
    } = dto(&body);
    assert_eq!(item.title, "Send email — Dana Lee");
    assert_eq!(item.domain, QueueDomain::Sales);
    assert_eq!(item.status, QueueStatus::Pending);
    assert_eq!(item.owner, "admin");
    // Every input is the action type's default, and the reasoning says so.
    assert_eq!(
        item.aps.reasoning,
        "Revenue 60% (default for send email), Urgency 70% (default for send email), \
         Strategic 50% (default for send email), Effort↓ 80% (default for send email)"
    );
    assert_eq!(raw["aps"]["basis"]["revenue"], "default");
    assert_eq!(raw["draft"], serde_json::Value::Null);
    assert_eq!(raw["demo"], false);
    assert_eq!(item.source, Source::Manual);
    assert_eq!(item.version, 1);
    assert!(consistency.contains('.'), "{consistency}");

    // Read it back, waiting for exactly that write.
    let (status, read) = app
        .get_json(
            &format!("/api/queue/{}?after={consistency}", item.id),
            &app.admin,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["item"], *raw);
}

#[tokio::test]
async fn unknown_action_types_are_422_naming_the_field() {
    let app = spawn_app().await;
    let answer = app
        .post_json(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "launch_rocket"}),
        )
        .await;
    let error = assert_error(&answer, 422, "queue.unknown_action_type");
    assert_eq!(error_fields(&error)[0], "action_type");
    assert!(error.request_id.is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn today_ranks_open_moves_by_aps_then_due_time_and_leaves_out_decided_and_future_snoozes() {
    let app = spawn_app().await;
    // book_meeting 82, send_email 63 (two, different due times), manual_task 50.
    let mut ids = Vec::new();
    for (title, action, due) in [
        ("low", "manual_task", "2026-11-22T09:00:00Z"),
        ("email later", "send_email", "2026-11-23T09:00:00Z"),
        ("email sooner", "send_email", "2026-11-22T09:00:00Z"),
        ("meeting", "book_meeting", "2026-11-30T09:00:00Z"),
        ("decided", "book_meeting", "2026-11-22T09:00:00Z"),
        ("snoozed", "book_meeting", "2026-11-22T09:00:00Z"),
    ] {
        let body = json!({"title": title, "action_type": action, "due_by": due});
        ids.push(app.propose(&app.admin, body).await.item.id);
    }
    let (decided, snoozed) = (ids[4], ids[5]);
    app.queue_command_ok(decided, "approve", json!({})).await;
    app.queue_command_ok(snoozed, "snooze", json!({"preset": "4h"}))
        .await;

    assert_eq!(
        titles(&today(&app).await),
        vec!["meeting", "email sooner", "email later", "low"]
    );
}

#[tokio::test]
async fn a_due_snooze_comes_back_to_today() {
    let app = spawn_app().await;
    let id = app.propose_simple("wake me").await.item.id;
    // Five seconds: far enough that a loaded machine cannot pass `until` before the first
    // read, which is all the window has to hold.
    let until = chrono::Utc::now() + chrono::Duration::seconds(5);
    let snoozed = app
        .queue_command_ok(id, "snooze", json!({"until": until.to_rfc3339()}))
        .await;
    assert_eq!(snoozed.item.status, QueueStatus::Snoozed);
    assert_eq!(today(&app).await.items.len(), 0);
    sleep_past(until).await;
    let items = today(&app).await.items;
    assert_eq!(
        items.len(),
        1,
        "a due snooze is part of today even before the schedule runs"
    );
    assert_eq!(items[0].id, id);
}

#[tokio::test]
async fn deciding_twice_is_409_with_a_stable_code() {
    let app = spawn_app().await;
    let id = app.propose_simple("decide me").await.item.id;
    let approve = || app.queue_command(id, "approve", json!({"note": "go"}));
    let approved = expect_dto::<QueueItemResponse>(&approve().await, 200).item;
    assert_eq!(approved.status, QueueStatus::Approved);
    let decision = approved.decision.expect("a decision");
    assert_eq!(decision.note.as_deref(), Some("go"));
    assert_eq!(decision.by.id, "admin");

    assert_error(&approve().await, 409, "queue.already_approved");
    let reject = app
        .queue_command(id, "reject", json!({"reason": "no"}))
        .await;
    assert_error(&reject, 409, "queue.already_approved");
    assert_eq!(
        app.events_of(id).await.len(),
        2,
        "refused commands write nothing"
    );
}

#[tokio::test]
async fn rejecting_needs_a_reason_and_records_it() {
    let app = spawn_app().await;
    let id = app.propose_simple("reject me").await.item.id;
    let blank = app
        .queue_command(id, "reject", json!({"reason": "  "}))
        .await;
    assert_eq!(error_fields(&error_of(&blank, 422))[0], "reason");
    let rejected = app
        .queue_command_ok(id, "reject", json!({"reason": "Wrong person"}))
        .await
        .item;
    assert_eq!(rejected.status, QueueStatus::Rejected);
    assert_eq!(
        rejected.decision.and_then(|d| d.reason).as_deref(),
        Some("Wrong person")
    );
}

#[tokio::test]
async fn snoozing_with_a_preset_resolves_in_the_owners_time_zone() {
    let app = caseyos_tests::spawn_app_with(|c| {
        c.owner_timezones
            .insert("admin".into(), "Asia/Tokyo".into());
    })
    .await;
    let id = app.propose_simple("tomorrow please").await.item.id;
    let snoozed = app
        .queue_command_ok(id, "snooze", json!({"preset": "tomorrow"}))
        .await;
    let until = snoozed.item.snoozed_until.expect("snoozed_until");
    // 09:00 in Tokyo is 00:00 UTC.
    assert_eq!(until.format("%H:%M").to_string(), "00:00");

    for (body, field) in [
        (json!({}), "preset"),
        (
            json!({"preset": "4h", "until": "2030-01-01T00:00:00Z"}),
            "preset",
        ),
        (
            json!({"preset": "tomorrow", "timezone": "Mars/Olympus"}),
            "timezone",
        ),
        (json!({"until": "2001-01-01T00:00:00Z"}), "until"),
    ] {
        let (status, error) = app.queue_command(id, "snooze", body.clone()).await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error_fields(&error_body(&error))[0], field, "{body}");
    }
}

#[tokio::test]
async fn editing_changes_the_draft_and_rescores() {
    let app = spawn_app().await;
    let id = app.propose_simple("draft").await.item.id;
    let edited = app
        .queue_command_ok(
            id,
            "edit",
            json!({"payload": {"subject": "New subject"}, "aps": {"urgency": 1.0}, "due_by": null}),
        )
        .await
        .item;
    assert_eq!(edited.payload["subject"], "New subject");
    assert_eq!(edited.aps.score.as_f64(), 72.0);
    assert_eq!(edited.version, 2);
    let events = app.events_of(id).await;
    assert_eq!(events.last().unwrap().event_type, "QueueItemEdited");
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages_with_stable_cursors() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (i, action) in [
        "send_email",
        "book_meeting",
        "social_post",
        "cs_health_check",
        "send_email",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"title": format!("item {i}"), "action_type": action});
        ids.push(app.propose(&app.admin, body).await.item.id);
    }
    app.queue_command_ok(ids[0], "reject", json!({"reason": "x"}))
        .await;

    let pending: QueueListResponse = app
        .get_ok(
            "/api/queue?status=pending&domain=sales&sort=-aps",
            &app.admin,
        )
        .await;
    assert_eq!(titles(&pending), vec!["item 1", "item 4"]);
    assert_eq!(pending.total, 2);

    // Page through everything two at a time, oldest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/queue?sort=created_at&limit=2&cursor={c}"),
            None => "/api/queue?sort=created_at&limit=2".to_string(),
        };
        let page: QueueListResponse = app.get_ok(&path, &app.admin).await;
        assert_eq!(page.total, 5);
        seen.extend(page.items.iter().map(|item| item.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    for bad in [
        "/api/queue?sort=title",
        "/api/queue?status=done",
        "/api/queue?limit=0",
        "/api/queue?cursor=zzz",
    ] {
        let (status, body) = app.get_json(bad, &app.admin).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["code"].as_str().is_some(), "{bad}");
    }
}

#[tokio::test]
async fn counts_follow_every_transition() {
    let app = spawn_app().await;
    let a = app.propose_simple("a").await.item.id;
    let b = app.propose_simple("b").await.item.id;
    app.propose_simple("c").await;
    app.queue_command_ok(a, "approve", json!({})).await;
    app.queue_command_ok(b, "snooze", json!({"preset": "1h"}))
        .await;
    let (status, counts) = app.get_json("/api/queue/counts", &app.admin).await;
    assert_eq!(status, 200);
    // The whole body, raw: exactly these fields and no others.
    assert_eq!(
        counts,
        json!({"pending": 1, "snoozed": 1, "approved": 1, "rejected": 0, "expired": 0, "total": 3})
    );
}

#[tokio::test]
async fn bulk_approve_reports_each_item() {
    let app = spawn_app().await;
    let a = app.propose_simple("a").await.item.id;
    let b = app.propose_simple("b").await.item.id;
    app.queue_command_ok(b, "reject", json!({"reason": "no"}))
        .await;
    let missing = uuid::Uuid::new_v4();
    let answer = app
        .post_json(
            "/api/queue/bulk/approve",
            &app.admin,
            &json!({"ids": [a, b, missing]}),
        )
        .await;
    let bulk: BulkDecisionResponse = expect_dto(&answer, 200);
    let results = &bulk.results;
    let code = |i: usize| results[i].error.as_ref().map(|e| e.code.as_str());
    assert!(results[0].ok);
    assert_eq!(
        results[0].item.as_ref().map(|i| i.status),
        Some(QueueStatus::Approved)
    );
    assert!(!results[1].ok);
    assert_eq!(code(1), Some("queue.already_rejected"));
    assert_eq!(code(2), Some("queue.not_found"));
    assert!(bulk.consistency.is_some());

    let answer = app
        .post_json("/api/queue/bulk/reject", &app.admin, &json!({"ids": [a]}))
        .await;
    assert_eq!(error_fields(&error_of(&answer, 422))[0], "reason");
}

#[tokio::test]
async fn expired_moves_leave_today_through_the_schedule() {
    let app = spawn_app().await;
    // Far enough ahead that the proposal is valid however slow the machine is.
    let expires = chrono::Utc::now() + chrono::Duration::seconds(3);
    let id = app
        .propose(
            &app.admin,
            json!({"action_type": "check_in", "title": "soon gone", "expires_at": expires.to_rfc3339()}),
        )
        .await
        .item
        .id;
    sleep_past(expires).await;
    let bus = command_bus(&app.pool, 8);
    app.settle().await;
    let issued = caseyos_backend::workers::scheduler::tick(&app.pool, &bus)
        .await
        .unwrap();
    assert!(issued >= 1);
    let events = app.events_of(id).await;
    assert_eq!(events.last().unwrap().event_type, "QueueItemExpired");
    let approve = app.queue_command(id, "approve", json!({})).await;
    assert_error(&approve, 409, "queue.expired");
}

#[tokio::test]
async fn id_shorthands_and_the_seeds_aps_names_are_accepted() {
    let app = spawn_app().await;
    let item = app
        .propose(
            &app.admin,
            json!({
                "action_type": "review_deal",
                "deal_id": "d-77",
                "contact_id": "c-1",
                "aps_inputs": {"revenue_impact": 1.0, "strategic_value": 1.0, "urgency": 0.5, "effort": 0.5},
                "reasoning": "Big deal"
            }),
        )
        .await
        .item;
    let target = &item.target;
    assert_eq!(target.deal.as_ref().map(|d| d.id.as_str()), Some("d-77"));
    assert_eq!(target.contact.as_ref().map(|c| c.id.as_str()), Some("c-1"));
    assert_eq!(item.title, "Review deal — deal d-77");
    assert_eq!(item.aps.score.as_f64(), 80.0);
    assert_eq!(item.rationale.as_deref(), Some("Big deal"));

    let answer = app
        .post_json(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "review_deal", "deal_id": "no spaces"}),
        )
        .await;
    assert_eq!(error_fields(&error_of(&answer, 422))[0], "deal_id");
}

#[tokio::test]
async fn text_fields_are_parsed_at_the_edge_and_a_bad_one_writes_nothing() {
    let app = spawn_app().await;
    let id = app.propose_simple("a").await.item.id;
    let before = app.events_of(id).await.len();
    let long_title = "x".repeat(257);
    let long_text = "x".repeat(2001);
    // (path, body, the field named)
    let cases = [
        (
            format!("/api/queue/{id}/reject"),
            json!({"reason": "   "}),
            "reason",
        ),
        (
            format!("/api/queue/{id}/approve"),
            json!({"note": long_text}),
            "note",
        ),
        (
            format!("/api/queue/{id}/edit"),
            json!({"title": " "}),
            "title",
        ),
        (
            format!("/api/queue/{id}/edit"),
            json!({"rationale": long_text}),
            "rationale",
        ),
        (
            "/api/queue".to_string(),
            json!({"action_type": "check_in", "title": long_title}),
            "title",
        ),
    ];
    for (path, body, field) in cases {
        let answer = app.post_json(&path, &app.admin, &body).await;
        let error = assert_error(&answer, 422, "request.validation");
        assert_eq!(error_fields(&error), [field], "{path} {body}");
    }
    assert_eq!(app.events_of(id).await.len(), before);

    // A bulk decision answers for a bad reason item by item, as for an item's state.
    let answer = app
        .post_json(
            "/api/queue/bulk/reject",
            &app.admin,
            &json!({"ids": [id], "reason": long_text}),
        )
        .await;
    let bulk: BulkDecisionResponse = expect_dto(&answer, 200);
    let error = bulk.results[0].error.as_ref().expect("the item failed");
    assert_eq!(error.code, "request.validation");
    assert_eq!(error.message, "reason must be at most 2000 characters");
    assert_eq!(app.queue_item(id).await.status, QueueStatus::Pending);
}

#[tokio::test]
async fn assessed_aps_inputs_are_told_apart_from_the_action_types_defaults() {
    let app = spawn_app().await;
    let item = app
        .propose(
            &app.admin,
            json!({"action_type": "book_meeting", "aps": {"urgency": 0.95, "effort": 0.1}}),
        )
        .await
        .item;
    assert_eq!(
        item.aps.reasoning,
        "Revenue 90% (default for book meeting), Urgency 95%, \
         Strategic 80% (default for book meeting), Effort↓ 90%"
    );
    let basis = item.aps.basis.expect("a basis");
    assert_eq!(
        (basis.revenue, basis.urgency, basis.effort, basis.strategic),
        (
            InputBasis::Default,
            InputBasis::Assessed,
            InputBasis::Assessed,
            InputBasis::Default
        )
    );
    // Editing an input makes it assessed; the others keep their basis.
    let edited = app
        .queue_command_ok(item.id, "edit", json!({"aps": {"revenue": 0.9}}))
        .await
        .item;
    assert_eq!(
        edited.aps.reasoning,
        "Revenue 90%, Urgency 95%, Strategic 80% (default for book meeting), Effort↓ 90%"
    );
}

#[tokio::test]
async fn a_request_may_propose_only_manual_moves_and_the_document_says_so() {
    let app = spawn_app().await;
    let before = caseyos_tests::event_count(&app.pool).await;
    let claims = [
        json!({"kind": "agent_run", "run_id": "0192f000-0000-7000-8000-000000000001"}),
        json!({"kind": "signal", "provider": "hubspot", "signal_id": "deal-9"}),
    ];
    for source in claims {
        let answer = app
            .post_json(
                "/api/queue",
                &app.admin,
                &json!({"action_type": "send_email", "source": source}),
            )
            .await;
        let error = assert_error(&answer, 422, "queue.source_not_allowed");
        assert_eq!(error_fields(&error), ["source"], "{source}");
    }
    assert_eq!(
        caseyos_tests::event_count(&app.pool).await,
        before,
        "a refused proposal writes no event"
    );

    // Saying "manual" is what leaving it out means.
    let manual = app
        .propose(
            &app.admin,
            json!({"action_type": "send_email", "source": {"kind": "manual"}}),
        )
        .await
        .item;
    assert_eq!(manual.source, Source::Manual);

    let (status, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    assert_eq!(status, 200);
    let source = &doc["components"]["schemas"]["ProposeQueueItemRequest"]["properties"]["source"];
    assert_eq!(
        source["properties"]["kind"]["enum"],
        json!(["manual"]),
        "{source}"
    );
    assert_eq!(source["additionalProperties"], json!(false), "{source}");
    // The move's new fields are described, and every reference to them resolves.
    let schemas = &doc["components"]["schemas"];
    for name in ["Draft", "DraftOrigin", "ApsBasis", "InputBasis"] {
        assert!(schemas.get(name).is_some(), "{name} is described");
    }
    let view = &schemas["QueueItemView"]["properties"];
    assert!(
        view.get("draft").is_some() && view.get("demo").is_some(),
        "{view}"
    );
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(
            schemas.get(name).is_some(),
            "#/components/schemas/{name} resolves"
        );
    }
}

/// Proposes `n` moves for `token` with APS and due times that repeat, so the ranking has
/// ties on APS (broken by due time) and on both (broken by id).
async fn propose_ranked(app: &TestApp, token: &str, n: usize) -> Vec<QueueItemView> {
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let revenue = [0.2, 0.5, 0.9][i % 3];
        let mut body = json!({
            "title": format!("move {i}"),
            "action_type": "send_email",
            "aps": {"revenue": revenue},
        });
        if i % 4 != 0 {
            body["due_by"] = json!(format!("2026-12-{:02}T09:00:00Z", 1 + i % 5));
        }
        items.push(app.propose(token, body).await.item);
    }
    items
}

/// The order of Today's Moves: APS descending, then due time (none last), then id.
fn ranked(mut items: Vec<QueueItemView>) -> Vec<uuid::Uuid> {
    items.sort_by_key(|i| {
        (
            std::cmp::Reverse(i.aps.score),
            i.due_by.is_none(),
            i.due_by,
            i.id,
        )
    });
    items.into_iter().map(|i| i.id).collect()
}

#[tokio::test]
async fn today_counts_every_open_move_and_pages_through_them_in_rank_order() {
    let app = spawn_app().await;
    let olga = app.token("olga", "operator").await;
    let mine = propose_ranked(&app, &app.admin, 62).await;
    // Not in the admin's Today: decided, snoozed for later, and someone else's.
    app.queue_command_ok(mine[0].id, "approve", json!({})).await;
    app.queue_command_ok(mine[1].id, "snooze", json!({"preset": "tomorrow"}))
        .await;
    propose_ranked(&app, &olga, 3).await;
    let open = ranked(mine[2..].to_vec());
    assert_eq!(open.len(), 60);

    let first = today(&app).await;
    assert_eq!(first.items.len(), 50, "the default page is 50");
    assert_eq!(first.total, 60, "total counts every page");
    let cursor = first.next_cursor.clone().expect("a cursor to the rest");
    let second: QueueListResponse = app
        .get_ok(&format!("/api/queue/today?cursor={cursor}"), &app.admin)
        .await;
    assert_eq!((second.items.len(), second.total), (10, 60));
    assert_eq!(second.next_cursor, None, "the last page has no cursor");
    let read: Vec<uuid::Uuid> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|i| i.id)
        .collect();
    assert_eq!(
        read, open,
        "the pages continue in rank order, each move once"
    );

    // Any page size walks the same order.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=7&cursor={c}"),
            None => "?limit=7".to_string(),
        };
        let page: QueueListResponse = app
            .get_ok(&format!("/api/queue/today{query}"), &app.admin)
            .await;
        assert_eq!(page.total, 60);
        assert!(page.items.len() <= 7);
        walked.extend(page.items.iter().map(|i| i.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, open);

    // The operator's own Today counts only theirs.
    let theirs: QueueListResponse = app.get_ok("/api/queue/today", &olga).await;
    assert_eq!((theirs.items.len(), theirs.total), (3, 3));
    assert_eq!(theirs.next_cursor, None);
}

#[tokio::test]
async fn a_cursor_today_did_not_issue_is_a_400() {
    let app = spawn_app().await;
    propose_ranked(&app, &app.admin, 3).await;
    let list: QueueListResponse = app.get_ok("/api/queue?limit=1", &app.admin).await;
    let foreign = list.next_cursor.expect("a list cursor");
    for cursor in ["not-a-cursor", foreign.as_str()] {
        let answer = app
            .get_json(&format!("/api/queue/today?cursor={cursor}"), &app.admin)
            .await;
        assert_error(&answer, 400, "request.invalid_cursor");
    }
}

/// Waits until the clock has passed `at` (the condition these tests need), however long the
/// machine took to get here.
async fn sleep_past(at: chrono::DateTime<chrono::Utc>) {
    while chrono::Utc::now() <= at {
        let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left + std::time::Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn a_shorthand_id_and_the_target_record_it_stands_for_are_not_both_given() {
    let app = spawn_app().await;
    for (shorthand, record) in [
        ("contact_id", "contact"),
        ("deal_id", "deal"),
        ("company_id", "company"),
    ] {
        // Even when the ids agree: which one counts should never be a question.
        let body = json!({
            "action_type": "send_email",
            "title": "both",
            shorthand: "7",
            "target": {record: {"id": "7"}},
        });
        let answer = app.post_json("/api/queue", &app.admin, &body).await;
        assert_eq!(
            error_fields(&error_of(&answer, 422))[0],
            shorthand,
            "{body}"
        );
    }
    let one = json!({"action_type": "send_email", "title": "one", "deal_id": "7"});
    assert_eq!(
        app.propose(&app.admin, one)
            .await
            .item
            .target
            .deal
            .unwrap()
            .id
            .as_str(),
        "7"
    );
}
