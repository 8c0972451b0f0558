//! Authentication on every route, role rules, and the one error envelope.

use caseyos_domain::api::QueueListResponse;
use caseyos_tests::{error_body, header, send, spawn_app, status_and_json, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Every documented route with its path parameters filled in.
async fn documented_routes(app: &TestApp) -> Vec<(Method, String)> {
    let (status, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    assert_eq!(status, 200);
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{aggregate_type}", "queue_item")
            .replace("{aggregate_id}", &uuid::Uuid::new_v4().to_string());
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push((method, concrete.clone()));
        }
    }
    assert!(
        routes.len() >= 15,
        "the document lists every route: {routes:?}"
    );
    routes
}

#[tokio::test]
async fn every_route_but_health_requires_authentication() {
    let app = spawn_app().await;
    for (method, path) in documented_routes(&app).await {
        for token in [None, Some("cos_not-a-real-token")] {
            let mut request = app.request(method.clone(), &path, token);
            if method == Method::POST {
                request = request.json(&json!({}));
            }
            let (status, body) = send(request).await;
            if path == "/health" {
                assert_eq!(status, 200, "{method} {path}");
                continue;
            }
            if method == Method::POST && path == "/api/session" {
                // Signing in is the one other public route; with no link or token it refuses.
                assert!(
                    status == 422 || status == 401,
                    "{method} {path} with {token:?}: {body}"
                );
                continue;
            }
            if path == "/api/connectors/oauth/callback" {
                // The provider's redirect: the single-use state authenticates it, and
                // without one the person is sent back to the connectors page with the error
                // (asked again here without following the redirect).
                let _ = (status, body);
                let response = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(format!("{}{path}", app.address))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 303, "{method} {path}");
                continue;
            }
            if path == "/api/webhooks/hubspot" || path == "/api/webhooks/gmail" {
                // Authenticated by HubSpot's signature, not by our credentials: without a
                // configured client secret nothing can be verified.
                assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
                assert_eq!(error_body(&body).code, "connector.not_connected");
                continue;
            }
            if path.starts_with("/api/webhooks/forms/") || path.starts_with("/api/webhooks/slack/")
            {
                // Authenticated by the form's (or Slack's) own signature: none is configured
                // here, so every request is refused as unsigned.
                assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
                assert_eq!(error_body(&body).code, "webhook.bad_signature");
                continue;
            }
            assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
            let expected = if token.is_some() {
                "auth.invalid_token"
            } else {
                "auth.missing_credentials"
            };
            assert_eq!(error_body(&body).code, expected, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn viewers_read_but_cannot_propose_or_decide() {
    let app = spawn_app().await;
    let viewer = app.token("vera", "viewer").await;
    let id = app.propose_simple("for viewing").await.item.id;

    let everyone: QueueListResponse = app.get_ok("/api/queue?owner=*", &viewer).await;
    assert_eq!(everyone.total, 1);
    let (status, _) = app.get_json(&format!("/api/queue/{id}"), &viewer).await;
    assert_eq!(status, 200);

    let mutations = [
        (
            "/api/queue".to_string(),
            json!({"action_type": "send_email"}),
        ),
        (format!("/api/queue/{id}/approve"), json!({})),
        (format!("/api/queue/{id}/reject"), json!({"reason": "x"})),
        (format!("/api/queue/{id}/snooze"), json!({"preset": "1h"})),
        (format!("/api/queue/{id}/edit"), json!({"title": "x"})),
        ("/api/queue/bulk/approve".to_string(), json!({"ids": [id]})),
        (
            "/api/queue/bulk/reject".to_string(),
            json!({"ids": [id], "reason": "x"}),
        ),
    ];
    for (path, body) in mutations {
        let (status, error) = app.post_json(&path, &viewer, &body).await;
        assert_eq!(status, 403, "{path}: {error}");
        assert_eq!(error_body(&error).code, "auth.forbidden", "{path}");
    }
    assert_eq!(app.events_of(id).await.len(), 1, "nothing was written");
}

#[tokio::test]
async fn operators_see_and_decide_only_their_own_moves() {
    let app = spawn_app().await;
    let olga = app.token("olga", "operator").await;
    let mine = app
        .propose(&olga, json!({"action_type": "check_in", "title": "mine"}))
        .await
        .item;
    assert_eq!(mine.owner, "olga");
    let theirs_id = app.propose_simple("admin's").await.item.id;

    // Proposing for someone else is refused.
    let (status, _) = app
        .post_json(
            "/api/queue",
            &olga,
            &json!({"action_type": "check_in", "owner": "admin"}),
        )
        .await;
    assert_eq!(status, 403);

    // Lists default to their own moves; asking for others' is refused.
    let today: QueueListResponse = app.get_ok("/api/queue/today", &olga).await;
    let titles: Vec<&str> = today.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, vec!["mine"]);
    for path in [
        "/api/queue?owner=*",
        "/api/queue/today?owner=admin",
        "/api/queue/counts?owner=all",
        &format!("/api/queue/{theirs_id}"),
        &format!("/api/audit/queue_item/{theirs_id}"),
    ] {
        let (status, _) = app.get_json(path, &olga).await;
        assert_eq!(status, 403, "{path}");
    }
    let approve = |id| send(app.post(&format!("/api/queue/{id}/approve"), &olga, &json!({})));
    let (status, body) = approve(theirs_id).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(app.events_of(theirs_id).await.len(), 1);

    // Their own they can decide.
    let (status, _) = approve(mine.id).await;
    assert_eq!(status, 200);
    // Admins see everyone's with owner=*.
    let everyone: QueueListResponse = app.get_ok("/api/queue?owner=*", &app.admin).await;
    assert_eq!(everyone.total, 2);
}

async fn error_for(app: &TestApp, request: reqwest::RequestBuilder) -> (u16, Value, String) {
    let response = request.send().await.unwrap();
    let request_id = header(&response, "x-request-id");
    let (status, body) = status_and_json(response).await;
    let _ = app;
    (status, body, request_id)
}

#[tokio::test]
async fn bad_bodies_get_the_envelope_with_a_stable_code_and_the_field() {
    let app = spawn_app().await;
    let raw = |body: &str| {
        app.request(Method::POST, "/api/queue", Some(&app.admin))
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    // (body, status, code, field)
    let table: Vec<(String, u16, &str, Option<&str>)> = vec![
        (
            "{\"action_type\": ".into(),
            400,
            "request.invalid_json",
            None,
        ),
        ("not json".into(), 400, "request.invalid_json", None),
        (
            "{\"action_type\": \"send_email\", \"colour\": \"red\"}".into(),
            422,
            "request.validation",
            Some("colour"),
        ),
        (
            "{\"action_type\": 42}".into(),
            422,
            "request.validation",
            Some("action_type"),
        ),
        (
            "{\"action_type\": \"send_email\", \"due_by\": \"tomorrow\"}".into(),
            422,
            "request.validation",
            Some("due_by"),
        ),
        (
            "{\"action_type\": \"send_email\", \"aps\": {\"urgency\": \"high\"}}".into(),
            422,
            "request.validation",
            Some("aps.urgency"),
        ),
        (
            "{\"action_type\": \"send_email\", \"target\": {\"contact\": {\"id\": \"a b\"}}}"
                .into(),
            422,
            "request.validation",
            Some("target.contact.id"),
        ),
        (
            "{\"action_type\": \"send_email\", \"domain\": \"finance\"}".into(),
            422,
            "request.validation",
            Some("domain"),
        ),
        ("{}".into(), 422, "request.validation", Some("action_type")),
    ];
    for (body, status, code, field) in table {
        let (got, envelope, request_id) = error_for(&app, raw(&body)).await;
        assert_eq!(got, status, "{body}: {envelope}");
        assert_eq!(envelope["error"]["code"], code, "{body}");
        assert!(envelope["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        assert_eq!(
            envelope["error"]["request_id"],
            request_id.as_str(),
            "{body}"
        );
        if let Some(field) = field {
            assert_eq!(
                envelope["error"]["details"]["fields"][0]["field"], field,
                "{body}: {envelope}"
            );
        }
    }

    let oversized = format!(
        "{{\"action_type\": \"send_email\", \"title\": \"{}\"}}",
        "x".repeat(5 * 1024 * 1024)
    );
    let (status, envelope, _) = error_for(&app, raw(&oversized)).await;
    assert_eq!(status, 413);
    assert_eq!(envelope["error"]["code"], "request.too_large");

    let (status, envelope, _) = error_for(
        &app,
        app.request(Method::POST, "/api/queue", Some(&app.admin))
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(envelope["error"]["code"], "request.unsupported_media_type");
    assert_eq!(
        caseyos_tests::event_count(&app.pool).await,
        0,
        "no bad request wrote anything"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_same_envelope() {
    let app = spawn_app().await;
    let (status, body, request_id) = error_for(&app, app.get("/api/nowhere", &app.admin)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "route.not_found");
    assert_eq!(body["error"]["request_id"], request_id.as_str());

    let (status, body, _) = error_for(
        &app,
        app.request(Method::DELETE, "/api/queue", Some(&app.admin)),
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "route.method_not_allowed");

    let (status, body, _) = error_for(&app, app.get("/api/queue/not-a-uuid", &app.admin)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["code"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn json_answers_are_nosniff_and_never_stored_by_a_cache() {
    let app = spawn_app().await;
    let json_body = json!({"action_type": "check_in", "title": "headers"});
    for (what, request) in [
        ("a read", app.get("/api/queue/today", &app.admin)),
        ("a command", app.post("/api/queue", &app.admin, &json_body)),
        ("the document", app.get("/api/openapi.json", &app.admin)),
        ("a refusal", app.request(Method::GET, "/api/queue", None)),
        (
            "a bad body",
            app.post("/api/queue", &app.admin, &json!({"x": 1})),
        ),
        ("no route", app.get("/api/nowhere", &app.admin)),
        ("health", app.request(Method::GET, "/health", None)),
        (
            "a sign-in",
            app.request(Method::POST, "/api/session", None)
                .json(&json!({"link": "x"})),
        ),
    ] {
        let response = request.send().await.unwrap();
        assert!(
            header(&response, "content-type").starts_with("application/json"),
            "{what}: {}",
            header(&response, "content-type")
        );
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{what}"
        );
        assert_eq!(header(&response, "cache-control"), "no-store", "{what}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_queue_contract() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    for path in [
        "/api/queue",
        "/api/queue/today",
        "/api/queue/{id}",
        "/api/queue/{id}/approve",
        "/api/queue/{id}/reject",
        "/api/queue/{id}/snooze",
        "/api/queue/{id}/edit",
        "/api/queue/bulk/approve",
        "/api/queue/bulk/reject",
        "/api/audit/{aggregate_type}/{aggregate_id}",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let action_types = &doc["components"]["schemas"]["ActionType"]["enum"];
    assert!(action_types
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "send_email"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn ready_and_metrics_report_the_projections() {
    let app = spawn_app().await;
    app.propose_simple("for metrics").await;
    app.settle().await;
    let mut ready = (0, Value::Null);
    for _ in 0..50 {
        ready = app.get_json("/ready", &app.admin).await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 200, "{}", ready.1);
    assert_eq!(ready.1["database"], "ok");
    assert_eq!(ready.1["projections"][0]["name"], "queue");
    // The lag gauge is sampled: wait (bounded) for a sample after the reactors' answers.
    let mut text = app.metrics_text().await;
    for _ in 0..100 {
        if text.contains("caseyos_projection_lag_events{projection=\"queue\"} 0") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = app.metrics_text().await;
    }
    for family in [
        "caseyos_http_requests_total{method=\"POST\",route=\"/api/queue\",status=\"201\"} 1",
        "caseyos_commands_total{aggregate=\"queue_item\",command=\"propose\",outcome=\"ok\"} 1",
        "caseyos_projection_lag_events{projection=\"queue\"} 0",
        "caseyos_projection_horizon_age_seconds",
        "caseyos_projection_leader{projection=\"queue\"} 1",
    ] {
        assert!(text.contains(family), "missing `{family}` in\n{text}");
    }
}
