//! Input made to break things gets a clear 4xx and changes nothing — never a 500: forged
//! cursors, consistency tokens naming no write, and U+0000, which PostgreSQL cannot store.

use caseyos_projections::cursor;
use caseyos_tests::{assert_error, spawn_app};
use serde_json::json;

/// Cursors that are not ours: not base64, not JSON, JSON of the wrong shape, values of the
/// wrong type for the sort, and instants PostgreSQL cannot represent.
fn forged_cursors(sort_key: &str) -> Vec<String> {
    let id = "0193a8c0-0000-7000-8000-000000000000";
    let mut forged = vec!["zzz".to_string(), cursor::encode(&json!({}))];
    for value in [
        json!("not a time"),
        json!(5),
        json!(1.5),
        json!(null),
        json!("-200000-01-01T00:00:00Z"),
        json!("+200000-01-01T00:00:00Z"),
    ] {
        if sort_key != "aps" || !value.is_i64() {
            forged.push(cursor::encode(
                &json!({"key": sort_key, "desc": true, "value": value, "id": id}),
            ));
        }
        forged.push(cursor::encode(&json!({"at": value, "id": id})));
    }
    forged.push(cursor::encode(
        &json!({"key": "aps", "desc": true, "value": "99", "id": id}),
    ));
    forged
}

#[tokio::test]
async fn forged_cursors_are_400_invalid_cursor_on_every_list() {
    let app = spawn_app().await;
    let lists = [
        ("/api/queue?sort=-created_at&cursor=", "created_at"),
        ("/api/queue?sort=-due_by&cursor=", "due_by"),
        ("/api/queue?cursor=", "aps"),
        ("/api/agent-runs?cursor=", "created_at"),
    ];
    for (list, key) in lists {
        for forged in forged_cursors(key) {
            let path = format!("{list}{forged}");
            let answer = app.get_json(&path, &app.admin).await;
            // The aps cursor with a string value, sent to a created_at list, is a sort
            // mismatch: still the same code.
            assert_eq!(answer.0, 400, "{path}: {}", answer.1);
            assert_error(&answer, 400, "request.invalid_cursor");
        }
    }
}

#[tokio::test]
async fn nul_characters_are_refused_at_the_edge_and_nothing_is_written() {
    let app = spawn_app().await;
    for (body, field) in [
        (
            json!({"action_type": "send_email", "title": "a\u{0}b"}),
            "title",
        ),
        (
            json!({"action_type": "send_email", "title": "t", "payload": {"body": ["ok", "x\u{0}"]}}),
            "payload.body.1",
        ),
        (
            json!({"action_type": "send_email", "title": "t", "payload": {"k\u{0}": 1}}),
            "payload",
        ),
    ] {
        let answer = app.post_json("/api/queue", &app.admin, &body).await;
        let error = assert_error(&answer, 422, "request.validation");
        assert_eq!(
            error.details.unwrap()["fields"][0]["field"],
            field,
            "{body}"
        );
    }
    let run = app
        .post_json(
            "/api/agents/PersonaRouter/runs",
            &app.admin,
            &json!({"input": {"job_title": "VP\u{0}"}}),
        )
        .await;
    assert_error(&run, 422, "request.validation");
    for path in ["/api/queue?owner=a%00b", "/api/agent-runs?agent=a%00"] {
        let answer = app.get_json(path, &app.admin).await;
        assert_error(&answer, 400, "request.invalid_query");
    }
    let events = caseyos_tests::event_count(&app.pool).await;
    assert_eq!(
        events, 0,
        "nothing was written (but the first start's default pipeline)"
    );
}
