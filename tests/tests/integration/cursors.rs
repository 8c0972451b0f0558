//! Every cursor a client can send is either one this API issued or a 400
//! `request.invalid_cursor` — never a 500, whatever the bytes decode to.

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
