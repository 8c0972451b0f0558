//! Today's Moves over HTTP against the real router and a real PostgreSQL.

use caseyos_tests::{spawn_app, status_and_json};
use serde_json::{json, Value};

#[tokio::test]
async fn proposing_returns_201_with_the_item_a_derived_title_and_a_consistency_token() {
    let app = spawn_app().await;
    let body = app
        .propose(
            &app.admin,
            json!({
                "action_type": "Send-Email",
                "target": {"contact": {"id": "101", "name": "Dana Lee", "email": "Dana@Acme.io"}},
                "payload": {"to": "dana@acme.io", "subject": "Hi", "body": "Hello Dana"},
                "due_by": "2026-11-25T10:00:00Z"
            }),
        )
        .await;
    let item = &body["item"];
    assert_eq!(item["title"], "Send email — Dana Lee");
    assert_eq!(item["action_type"], "send_email");
    assert_eq!(item["domain"], "sales");
    assert_eq!(item["status"], "pending");
    assert_eq!(item["owner"], "admin");
    assert_eq!(item["aps"]["score"], 63.0);
    assert_eq!(item["aps"]["inputs"]["revenue"], 0.6);
    assert_eq!(
        item["aps"]["reasoning"],
        "Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%"
    );
    assert_eq!(item["target"]["contact"]["email"], "dana@acme.io");
    assert_eq!(item["source"]["kind"], "manual");
    assert_eq!(item["proposed_by"], json!({"kind": "user", "id": "admin"}));
    assert_eq!(item["version"], 1);
    let token = body["consistency"].as_str().unwrap();
    assert!(token.contains('.'), "{token}");

    // Read it back, waiting for exactly that write.
    let id = item["id"].as_str().unwrap();
    let response = app
        .get(&format!("/api/queue/{id}?after={token}"), &app.admin)
        .send()
        .await
        .unwrap();
    let (status, read) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(read["item"], *item);
}

#[tokio::test]
async fn unknown_action_types_are_422_naming_the_field() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "launch_rocket"}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "queue.unknown_action_type");
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"],
        "action_type"
    );
    assert!(body["error"]["request_id"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn today_ranks_open_moves_by_aps_then_due_time_and_leaves_out_decided_and_future_snoozes() {
    let app = spawn_app().await;
    let make = |title: &str, action: &str, due: &str| json!({"title": title, "action_type": action, "due_by": due});
    // book_meeting 82, send_email 63 (two, different due times), manual_task 50.
    let low = app
        .propose(
            &app.admin,
            make("low", "manual_task", "2026-11-22T09:00:00Z"),
        )
        .await;
    let later = app
        .propose(
            &app.admin,
            make("email later", "send_email", "2026-11-23T09:00:00Z"),
        )
        .await;
    let sooner = app
        .propose(
            &app.admin,
            make("email sooner", "send_email", "2026-11-22T09:00:00Z"),
        )
        .await;
    let top = app
        .propose(
            &app.admin,
            make("meeting", "book_meeting", "2026-11-30T09:00:00Z"),
        )
        .await;
    let decided = app
        .propose(
            &app.admin,
            make("decided", "book_meeting", "2026-11-22T09:00:00Z"),
        )
        .await;
    let snoozed = app
        .propose(
            &app.admin,
            make("snoozed", "book_meeting", "2026-11-22T09:00:00Z"),
        )
        .await;
    let id = |v: &Value| v["item"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/queue/{}/approve", id(&decided)),
        &app.admin,
        &json!({}),
    )
    .send()
    .await
    .unwrap();
    let snooze = app
        .post(
            &format!("/api/queue/{}/snooze", id(&snoozed)),
            &app.admin,
            &json!({"preset": "4h"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(snooze.status(), 200);

    let (status, body) = status_and_json(
        app.get("/api/queue/today", &app.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let titles: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec!["meeting", "email sooner", "email later", "low"]
    );
    let _ = (low, later, sooner, top);
}

#[tokio::test]
async fn a_due_snooze_comes_back_to_today() {
    let app = spawn_app().await;
    let item = app.propose_simple("wake me").await;
    let id = item["item"]["id"].as_str().unwrap();
    let until = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let response = app
        .post(
            &format!("/api/queue/{id}/snooze"),
            &app.admin,
            &json!({"until": until}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["item"]["status"], "snoozed");
    let today = |app: &caseyos_tests::TestApp| {
        let request = app.get("/api/queue/today", &app.admin);
        async move { status_and_json(request.send().await.unwrap()).await.1 }
    };
    assert_eq!(today(&app).await["items"].as_array().unwrap().len(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let items = today(&app).await["items"].as_array().unwrap().clone();
    assert_eq!(
        items.len(),
        1,
        "a due snooze is part of today even before the schedule runs"
    );
    assert_eq!(items[0]["id"], id);
}

#[tokio::test]
async fn deciding_twice_is_409_with_a_stable_code() {
    let app = spawn_app().await;
    let item = app.propose_simple("decide me").await;
    let id = item["item"]["id"].as_str().unwrap();
    let approve = || {
        app.post(
            &format!("/api/queue/{id}/approve"),
            &app.admin,
            &json!({"note": "go"}),
        )
        .send()
    };
    let (status, body) = status_and_json(approve().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["item"]["status"], "approved");
    assert_eq!(body["item"]["decision"]["note"], "go");
    assert_eq!(body["item"]["decision"]["by"]["id"], "admin");

    let (status, body) = status_and_json(approve().await.unwrap()).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "queue.already_approved");

    let reject = app
        .post(
            &format!("/api/queue/{id}/reject"),
            &app.admin,
            &json!({"reason": "no"}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(reject).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "queue.already_approved");
    assert_eq!(
        app.events_of(id).await.len(),
        2,
        "refused commands write nothing"
    );
}

#[tokio::test]
async fn rejecting_needs_a_reason_and_records_it() {
    let app = spawn_app().await;
    let item = app.propose_simple("reject me").await;
    let id = item["item"]["id"].as_str().unwrap();
    let (status, body) = status_and_json(
        app.post(
            &format!("/api/queue/{id}/reject"),
            &app.admin,
            &json!({"reason": "  "}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "reason");
    let (status, body) = status_and_json(
        app.post(
            &format!("/api/queue/{id}/reject"),
            &app.admin,
            &json!({"reason": "Wrong person"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["item"]["status"], "rejected");
    assert_eq!(body["item"]["decision"]["reason"], "Wrong person");
}

#[tokio::test]
async fn snoozing_with_a_preset_resolves_in_the_owners_time_zone() {
    let app = caseyos_tests::spawn_app_with(|c| {
        c.owner_timezones
            .insert("admin".into(), "Asia/Tokyo".into());
    })
    .await;
    let item = app.propose_simple("tomorrow please").await;
    let id = item["item"]["id"].as_str().unwrap();
    let (status, body) = status_and_json(
        app.post(
            &format!("/api/queue/{id}/snooze"),
            &app.admin,
            &json!({"preset": "tomorrow"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let until: chrono::DateTime<chrono::Utc> = body["item"]["snoozed_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
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
        let (status, error) = status_and_json(
            app.post(&format!("/api/queue/{id}/snooze"), &app.admin, &body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(
            error["error"]["details"]["fields"][0]["field"], field,
            "{body}"
        );
    }
}

#[tokio::test]
async fn editing_changes_the_draft_and_rescores() {
    let app = spawn_app().await;
    let item = app.propose_simple("draft").await;
    let id = item["item"]["id"].as_str().unwrap();
    let (status, body) = status_and_json(
        app.post(
            &format!("/api/queue/{id}/edit"),
            &app.admin,
            &json!({"payload": {"subject": "New subject"}, "aps": {"urgency": 1.0}, "due_by": null}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["item"]["payload"]["subject"], "New subject");
    assert_eq!(body["item"]["aps"]["score"], 72.0);
    assert_eq!(body["item"]["version"], 2);
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
        let body = app
            .propose(
                &app.admin,
                json!({"title": format!("item {i}"), "action_type": action}),
            )
            .await;
        ids.push(body["item"]["id"].as_str().unwrap().to_string());
    }
    app.post(
        &format!("/api/queue/{}/reject", ids[0]),
        &app.admin,
        &json!({"reason": "x"}),
    )
    .send()
    .await
    .unwrap();

    let (_, body) = status_and_json(
        app.get(
            "/api/queue?status=pending&domain=sales&sort=-aps",
            &app.admin,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let titles: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["item 1", "item 4"]);
    assert_eq!(body["total"], 2);

    // Page through everything two at a time, oldest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/queue?sort=created_at&limit=2&cursor={c}"),
            None => "/api/queue?sort=created_at&limit=2".to_string(),
        };
        let (status, page) =
            status_and_json(app.get(&path, &app.admin).send().await.unwrap()).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 5);
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
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
        let (status, body) = status_and_json(app.get(bad, &app.admin).send().await.unwrap()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["code"].as_str().is_some(), "{bad}");
    }
}

#[tokio::test]
async fn counts_follow_every_transition() {
    let app = spawn_app().await;
    let a = app.propose_simple("a").await;
    let b = app.propose_simple("b").await;
    app.propose_simple("c").await;
    let id = |v: &Value| v["item"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/queue/{}/approve", id(&a)),
        &app.admin,
        &json!({}),
    )
    .send()
    .await
    .unwrap();
    app.post(
        &format!("/api/queue/{}/snooze", id(&b)),
        &app.admin,
        &json!({"preset": "1h"}),
    )
    .send()
    .await
    .unwrap();
    let (status, counts) = status_and_json(
        app.get("/api/queue/counts", &app.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        counts,
        json!({"pending": 1, "snoozed": 1, "approved": 1, "rejected": 0, "expired": 0, "total": 3})
    );
}

#[tokio::test]
async fn bulk_approve_reports_each_item() {
    let app = spawn_app().await;
    let a = app.propose_simple("a").await["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.propose_simple("b").await["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/api/queue/{b}/reject"),
        &app.admin,
        &json!({"reason": "no"}),
    )
    .send()
    .await
    .unwrap();
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = status_and_json(
        app.post(
            "/api/queue/bulk/approve",
            &app.admin,
            &json!({"ids": [a, b, missing]}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[0]["item"]["status"], "approved");
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "queue.already_rejected");
    assert_eq!(results[2]["error"]["code"], "queue.not_found");
    assert!(body["consistency"].as_str().is_some());

    let (status, body) = status_and_json(
        app.post("/api/queue/bulk/reject", &app.admin, &json!({"ids": [a]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "reason");
}

#[tokio::test]
async fn expired_moves_leave_today_through_the_schedule() {
    let app = spawn_app().await;
    let expires = (chrono::Utc::now() + chrono::Duration::milliseconds(300)).to_rfc3339();
    let body = app
        .propose(
            &app.admin,
            json!({"action_type": "check_in", "title": "soon gone", "expires_at": expires}),
        )
        .await;
    let id = body["item"]["id"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let bus = caseyos_store::CommandBus::new(
        app.pool.clone(),
        100,
        8,
        std::sync::Arc::new(caseyos_backend::infra::metrics::Metrics::default()),
    );
    app.settle().await;
    let issued = caseyos_backend::workers::scheduler::tick(&app.pool, &bus)
        .await
        .unwrap();
    assert!(issued >= 1);
    let events = app.events_of(id).await;
    assert_eq!(events.last().unwrap().event_type, "QueueItemExpired");
    let (status, body) = status_and_json(
        app.post(&format!("/api/queue/{id}/approve"), &app.admin, &json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "queue.expired");
}

#[tokio::test]
async fn id_shorthands_and_the_seeds_aps_names_are_accepted() {
    let app = spawn_app().await;
    let body = app
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
        .await;
    let item = &body["item"];
    assert_eq!(item["target"]["deal"]["id"], "d-77");
    assert_eq!(item["target"]["contact"]["id"], "c-1");
    assert_eq!(item["title"], "Review deal — deal d-77");
    assert_eq!(item["aps"]["score"], 80.0);
    assert_eq!(item["rationale"], "Big deal");

    let (status, error) = status_and_json(
        app.post(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "review_deal", "deal_id": "no spaces"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["details"]["fields"][0]["field"], "deal_id");
}
