//! Concurrency and idempotency: one aggregate under many writers, duplicate requests,
//! and a response lost after its events committed.

use std::sync::Arc;

use caseyos_backend::infra::metrics::Metrics;
use caseyos_domain::kernel::Actor;
use caseyos_domain::queue::{ApproveQueueItem, QueueItem, QueueItemCommand};
use caseyos_store::idempotency::request_hash;
use caseyos_store::{CommandBus, CommandMeta};
use caseyos_tests::{spawn_app, status_and_json};
use futures::future::join_all;
use serde_json::json;

#[tokio::test]
async fn sixteen_concurrent_approvals_write_exactly_one_approval_and_409_the_rest() {
    let app = spawn_app().await;
    let item = app.propose_simple("contended").await;
    let id = item["item"]["id"].as_str().unwrap().to_string();
    let requests = (0..16).map(|i| {
        app.post(
            &format!("/api/queue/{id}/approve"),
            &app.admin,
            &json!({"note": format!("client {i}")}),
        )
        .send()
    });
    let mut ok = 0;
    let mut conflicts = 0;
    for response in join_all(requests).await {
        let (status, body) = status_and_json(response.unwrap()).await;
        match status {
            200 => ok += 1,
            409 => {
                assert_eq!(body["error"]["code"], "queue.already_approved", "{body}");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 15));
    let approvals = app
        .events_of(&id)
        .await
        .iter()
        .filter(|e| e.event_type == "QueueItemApproved")
        .count();
    assert_eq!(approvals, 1);
}

#[tokio::test]
async fn concurrent_edits_of_one_item_all_land_through_server_side_retries() {
    let app = spawn_app().await;
    let item = app.propose_simple("edited by many").await;
    let id = item["item"]["id"].as_str().unwrap().to_string();
    let requests = (0..16).map(|i| {
        app.post(
            &format!("/api/queue/{id}/edit"),
            &app.admin,
            &json!({"payload": {"draft": i}}),
        )
        .send()
    });
    for response in join_all(requests).await {
        let (status, body) = status_and_json(response.unwrap()).await;
        assert_eq!(status, 200, "{body}");
    }
    let events = app.events_of(&id).await;
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
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 201, "{body}");
        ids.insert(body["item"]["id"].as_str().unwrap().to_string());
        tokens.insert(body["consistency"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "every duplicate returns the same item");
    assert_eq!(tokens.len(), 1, "and the same consistency token");
    assert_eq!(replayed, 15);
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 1);

    // The same for a decision.
    let id = ids.into_iter().next().unwrap();
    let approvals = (0..16).map(|_| {
        app.post(&format!("/api/queue/{id}/approve"), &app.admin, &json!({}))
            .header("Idempotency-Key", "approve-once-1")
            .send()
    });
    for response in join_all(approvals).await {
        let (status, body) = status_and_json(response.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["item"]["status"], "approved");
    }
    assert_eq!(app.events_of(&id).await.len(), 2);
}

#[tokio::test]
async fn a_reused_key_with_a_different_request_is_422_and_writes_nothing() {
    let app = spawn_app().await;
    let first = app
        .post(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "check_in", "title": "one"}),
        )
        .header("Idempotency-Key", "k-1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let (status, body) = status_and_json(
        app.post(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "check_in", "title": "two"}),
        )
        .header("Idempotency-Key", "k-1")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "idempotency.key_reused");
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 1);

    // Key order and whitespace do not make a different request.
    let (status, _) = status_and_json(
        app.request(reqwest::Method::POST, "/api/queue", Some(&app.admin))
            .header("Idempotency-Key", "k-1")
            .header("content-type", "application/json")
            .body("{ \"title\" : \"one\", \"action_type\":\"check_in\" }")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);

    // Keys are per caller: another user's same key is a separate request.
    let other = app.token("olga", "operator").await;
    let (status, body) = status_and_json(
        app.post(
            "/api/queue",
            &other,
            &json!({"action_type": "check_in", "title": "two"}),
        )
        .header("Idempotency-Key", "k-1")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 2);

    let (status, body) = status_and_json(
        app.post(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "check_in"}),
        )
        .header("Idempotency-Key", "")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "idempotency.invalid_key");
}

#[tokio::test]
async fn a_retry_after_a_lost_response_is_answered_from_the_committed_events() {
    let app = spawn_app().await;
    let item = app.propose_simple("lost response").await;
    let id = item["item"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/queue/{id}/approve");
    let body = json!({"note": "ship it"});

    // The server committed the approval, then died before answering: the events carry the
    // key and the request's hash, nothing else remembers the request.
    let bus = CommandBus::new(app.pool.clone(), 100, 8, Arc::new(Metrics::default()));
    let mut meta = CommandMeta::system("test");
    meta.actor = Actor::user("admin");
    meta.idempotency_key = Some("approve-lost-1".into());
    meta.request_hash = Some(request_hash("POST", &path, &body));
    let committed = bus
        .execute::<QueueItem>(
            id.parse::<uuid::Uuid>().unwrap(),
            QueueItemCommand::Approve(ApproveQueueItem {
                note: Some("ship it".into()),
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
    let (status, answer) = status_and_json(response).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["item"]["status"], "approved");
    assert_eq!(answer["item"]["decision"]["note"], "ship it");
    assert_eq!(
        answer["consistency"],
        caseyos_domain::kernel::ConsistencyToken(committed.token.unwrap()).to_string()
    );
    assert_eq!(app.events_of(&id).await.len(), 2, "no second approval");
}

#[tokio::test]
async fn bulk_requests_retried_with_their_key_decide_nothing_twice() {
    let app = spawn_app().await;
    let a = app.propose_simple("a").await["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.propose_simple("b").await["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"ids": [a, b], "reason": "not this quarter"});
    let send = || {
        app.post("/api/queue/bulk/reject", &app.admin, &body)
            .header("Idempotency-Key", "bulk-1")
            .send()
    };
    let (status, first) = status_and_json(send().await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = status_and_json(send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(first, second, "the retry answers exactly as the first time");
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 4);
}
