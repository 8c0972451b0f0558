//! Concurrency and idempotency: one aggregate under many writers, duplicate requests,
//! and a response lost after its events committed.

use caseyos_domain::api::QueueItemResponse;
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::{
    ApproveQueueItem, QueueItem, QueueItemCommand, QueueStatus, MAX_TEXT_CHARS,
};
use caseyos_store::idempotency::request_hash;
use caseyos_store::CommandMeta;
use caseyos_tests::{
    assert_error, command_bus, error_body, expect_dto, send, spawn_app, status_and_json, TestApp,
};
use futures::future::join_all;
use serde_json::{json, Value};

/// Proposes `body` as `token` with an `Idempotency-Key`: the answer.
async fn propose_with_key(app: &TestApp, token: &str, body: Value, key: &str) -> (u16, Value) {
    send(
        app.post("/api/queue", token, &body)
            .header("Idempotency-Key", key),
    )
    .await
}

#[tokio::test]
async fn sixteen_concurrent_approvals_write_exactly_one_approval_and_409_the_rest() {
    let app = spawn_app().await;
    let id = app.propose_simple("contended").await.item.id;
    let requests =
        (0..16).map(|i| app.queue_command(id, "approve", json!({"note": format!("client {i}")})));
    let mut ok = 0;
    let mut conflicts = 0;
    for (status, body) in join_all(requests).await {
        match status {
            200 => ok += 1,
            409 => {
                assert_eq!(error_body(&body).code, "queue.already_approved", "{body}");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 15));
    let approvals = app
        .events_of(id)
        .await
        .iter()
        .filter(|e| e.event_type == "QueueItemApproved")
        .count();
    assert_eq!(approvals, 1);
}

#[tokio::test]
async fn concurrent_edits_of_one_item_all_land_through_server_side_retries() {
    let app = spawn_app().await;
    let id = app.propose_simple("edited by many").await.item.id;
    let requests =
        (0..16).map(|i| app.queue_command_ok(id, "edit", json!({"payload": {"draft": i}})));
    join_all(requests).await;
    let events = app.events_of(id).await;
    assert_eq!(events.len(), 17, "one proposal and sixteen edits");
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=17).collect::<Vec<_>>());
}

#[tokio::test]
async fn concurrent_duplicate_idempotent_requests_write_one_set_of_events() {
    let app = spawn_app().await;
    let body = json!({"action_type": "book_meeting", "title": "exactly once"});
    let requests = (0..16).map(|_| {
        app.post("/api/queue", &app.admin, &body)
            .header("Idempotency-Key", "propose-once-1")
            .send()
    });
    let mut ids = std::collections::HashSet::new();
    let mut tokens = std::collections::HashSet::new();
    let mut replayed = 0;
    for response in join_all(requests).await {
        let response = response.unwrap();
        if response.headers().get("idempotent-replayed").is_some() {
            replayed += 1;
        }
        let proposed: QueueItemResponse = expect_dto(&status_and_json(response).await, 201);
        ids.insert(proposed.item.id);
        tokens.insert(proposed.consistency);
    }
    assert_eq!(ids.len(), 1, "every duplicate returns the same item");
    assert_eq!(tokens.len(), 1, "and the same consistency token");
    assert_eq!(replayed, 15);
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 1);

    // The same for a decision.
    let id = ids.into_iter().next().unwrap();
    let approvals = (0..16).map(|_| {
        send(
            app.post(&format!("/api/queue/{id}/approve"), &app.admin, &json!({}))
                .header("Idempotency-Key", "approve-once-1"),
        )
    });
    for answer in join_all(approvals).await {
        let approved: QueueItemResponse = expect_dto(&answer, 200);
        assert_eq!(approved.item.status, QueueStatus::Approved);
    }
    assert_eq!(app.events_of(id).await.len(), 2);
}

#[tokio::test]
async fn a_reused_key_with_a_different_request_is_422_and_writes_nothing() {
    let app = spawn_app().await;
    let one = json!({"action_type": "check_in", "title": "one"});
    let two = json!({"action_type": "check_in", "title": "two"});
    let (status, _) = propose_with_key(&app, &app.admin, one, "k-1").await;
    assert_eq!(status, 201);
    let reused = propose_with_key(&app, &app.admin, two.clone(), "k-1").await;
    assert_error(&reused, 422, "idempotency.key_reused");
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 1);

    // Key order and whitespace do not make a different request.
    let (status, _) = send(
        app.request(reqwest::Method::POST, "/api/queue", Some(&app.admin))
            .header("Idempotency-Key", "k-1")
            .header("content-type", "application/json")
            .body("{ \"title\" : \"one\", \"action_type\":\"check_in\" }"),
    )
    .await;
    assert_eq!(status, 201);

    // Keys are per caller: another user's same key is a separate request.
    let other = app.token("olga", "operator").await;
    let (status, body) = propose_with_key(&app, &other, two, "k-1").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 2);

    let empty_key =
        propose_with_key(&app, &app.admin, json!({"action_type": "check_in"}), "").await;
    assert_error(&empty_key, 400, "idempotency.invalid_key");
}

#[tokio::test]
async fn a_retry_after_a_lost_response_is_answered_from_the_committed_events() {
    let app = spawn_app().await;
    let id = app.propose_simple("lost response").await.item.id;
    let path = format!("/api/queue/{id}/approve");
    let body = json!({"note": "ship it"});

    // The server committed the approval, then died before answering: the events carry the
    // key and the request's hash, nothing else remembers the request.
    let bus = command_bus(&app.pool, 8);
    let mut meta = CommandMeta::system("test");
    meta.actor = Actor::user("admin");
    meta.idempotency_key = Some("approve-lost-1".into());
    meta.request_hash = Some(request_hash("POST", &path, &body));
    let committed = bus
        .execute::<QueueItem>(
            id,
            QueueItemCommand::Approve(ApproveQueueItem {
                note: Some(Text::parse("ship it", MAX_TEXT_CHARS).unwrap()),
                by: Actor::user("admin"),
                at: caseyos_store::now(),
            }),
            &meta,
        )
        .await
        .unwrap();

    // The client retries with the same key.
    let response = app
        .post(&path, &app.admin, &body)
        .header("Idempotency-Key", "approve-lost-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let answer: QueueItemResponse = expect_dto(&status_and_json(response).await, 200);
    assert_eq!(answer.item.status, QueueStatus::Approved);
    assert_eq!(
        answer.item.decision.and_then(|d| d.note).as_deref(),
        Some("ship it")
    );
    assert_eq!(
        answer.consistency,
        caseyos_domain::kernel::ConsistencyToken(committed.token.unwrap()).to_string()
    );
    assert_eq!(app.events_of(id).await.len(), 2, "no second approval");
}

#[tokio::test]
async fn bulk_requests_retried_with_their_key_decide_nothing_twice() {
    let app = spawn_app().await;
    let a = app.propose_simple("a").await.item.id;
    let b = app.propose_simple("b").await.item.id;
    let body = json!({"ids": [a, b], "reason": "not this quarter"});
    let reject = || {
        send(
            app.post("/api/queue/bulk/reject", &app.admin, &body)
                .header("Idempotency-Key", "bulk-1"),
        )
    };
    let (status, first) = reject().await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = reject().await;
    assert_eq!(status, 200);
    assert_eq!(first, second, "the retry answers exactly as the first time");
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 4);
}
