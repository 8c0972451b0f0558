//! `GET /api/audit/{type}/{id}` a page at a time: pages join into the whole history with no
//! gap and no repeat, the page size has a default and a maximum the API enforces with a
//! stable code, and the point-in-time views (`at`, `as_of`) page the same way.

use caseyos_domain::api::{AuditEntry, QueueItemResponse};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::{
    EditQueueItem, QueueItem, QueueItemCommand, QueueItemView, MAX_TITLE_CHARS,
};
use caseyos_store::{now, CommandMeta};
use caseyos_tests::{assert_error, command_bus, dto, spawn_app, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// A move with `edits` edits after its proposal: `edits + 1` events, the title after
/// sequence `n` being `title n` (the proposal's is `title 1`).
async fn move_with_history(app: &TestApp, edits: usize) -> Uuid {
    let proposed: QueueItemResponse = dto(&app
        .post_json(
            "/api/queue",
            &app.admin,
            &json!({"action_type": "check_in", "title": "title 1"}),
        )
        .await
        .1);
    let id = proposed.item.id;
    let bus = command_bus(&app.pool, 3);
    let meta = CommandMeta::system("test");
    for n in 2..=edits + 1 {
        let edit = QueueItemCommand::Edit(EditQueueItem {
            title: Some(Text::parse(&format!("title {n}"), MAX_TITLE_CHARS).unwrap()),
            by: Some(Actor::user("admin")),
            at: Some(now()),
            ..EditQueueItem::default()
        });
        bus.execute::<QueueItem>(id, edit, &meta).await.unwrap();
    }
    id
}

/// One page, as raw JSON (so the test reads exactly what a client gets).
async fn page(app: &TestApp, id: Uuid, query: &str) -> Value {
    let (status, body) = app
        .get_json(&format!("/api/audit/queue_item/{id}?{query}"), &app.admin)
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn events(page: &Value) -> Vec<AuditEntry> {
    serde_json::from_value(page["events"].clone()).expect("events")
}

fn sequences(entries: &[AuditEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.sequence).collect()
}

fn title_of(state: &Value) -> String {
    serde_json::from_value::<QueueItemView>(state.clone())
        .expect("a move")
        .title
}

/// Every page from the first, following `next_cursor`, with `query` on each.
async fn all_pages(app: &TestApp, id: Uuid, query: &str) -> Vec<Value> {
    let mut pages = vec![page(app, id, query).await];
    while let Some(cursor) = pages.last().unwrap()["next_cursor"].as_str() {
        let next = page(app, id, &format!("{query}&cursor={cursor}")).await;
        pages.push(next);
        assert!(pages.len() < 100, "the cursors never end");
    }
    pages
}

#[tokio::test]
async fn pages_join_into_the_whole_history_with_no_gap_or_repeat() {
    let app = spawn_app().await;
    let id = move_with_history(&app, 11).await; // 12 events

    let pages = all_pages(&app, id, "limit=5").await;
    let sizes: Vec<usize> = pages.iter().map(|p| events(p).len()).collect();
    assert_eq!(sizes, [5, 5, 2]);
    let cursors: Vec<&Value> = pages.iter().map(|p| &p["next_cursor"]).collect();
    assert_eq!(cursors, [&json!("5"), &json!("10"), &Value::Null]);
    let joined: Vec<AuditEntry> = pages.iter().flat_map(events).collect();
    assert_eq!(sequences(&joined), (1..=12).collect::<Vec<_>>());

    // The pages are the history read whole, entry for entry.
    let whole = page(&app, id, "limit=500").await;
    assert_eq!(whole["next_cursor"], Value::Null);
    assert_eq!(joined, events(&whole));
    for (n, entry) in joined.iter().enumerate() {
        assert_eq!(title_of(&entry.state_after), format!("title {}", n + 1));
    }
    // Every page states the aggregate as it is now, whichever events it holds.
    for p in &pages {
        assert_eq!(p["sequence"], 12);
        assert_eq!(p["total_events"], 12);
        assert_eq!(title_of(&p["state"]), "title 12");
    }
    // A cursor past the end is an empty last page.
    let past = page(&app, id, "cursor=12").await;
    assert!(events(&past).is_empty());
    assert_eq!(past["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_page_holds_100_events_unless_asked_and_at_most_500() {
    let app = spawn_app().await;
    let id = move_with_history(&app, 119).await; // 120 events

    let first = page(&app, id, "").await;
    assert_eq!(sequences(&events(&first)), (1..=100).collect::<Vec<_>>());
    assert_eq!(first["next_cursor"], "100");
    let second = page(&app, id, "cursor=100").await;
    assert_eq!(sequences(&events(&second)), (101..=120).collect::<Vec<_>>());
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(events(&page(&app, id, "limit=500").await).len(), 120);

    let path = |query: &str| format!("/api/audit/queue_item/{id}?{query}");
    for query in ["limit=0", "limit=501", "limit=-3"] {
        let answer = app.get_json(&path(query), &app.admin).await;
        let error = assert_error(&answer, 400, "request.invalid_query");
        assert!(
            error.message.contains("1 and 500"),
            "{query}: {}",
            error.message
        );
    }
    for query in ["cursor=abc", "cursor=-1", "cursor=99999999999999999999"] {
        let answer = app.get_json(&path(query), &app.admin).await;
        assert_error(&answer, 400, "request.invalid_cursor");
    }
}

#[tokio::test]
async fn a_point_in_time_pages_up_to_that_point() {
    let app = spawn_app().await;
    let id = move_with_history(&app, 11).await; // 12 events

    // At sequence 7: events 1–7 over two pages, the state at 7 on each.
    let pages = all_pages(&app, id, "at=7&limit=5").await;
    let sizes: Vec<usize> = pages.iter().map(|p| events(p).len()).collect();
    assert_eq!(sizes, [5, 2]);
    let joined: Vec<AuditEntry> = pages.iter().flat_map(events).collect();
    assert_eq!(sequences(&joined), (1..=7).collect::<Vec<_>>());
    for p in &pages {
        assert_eq!(p["sequence"], 7);
        assert_eq!(p["total_events"], 12);
        assert_eq!(title_of(&p["state"]), "title 7");
    }
    // At 0: before the first event.
    let before = page(&app, id, "at=0").await;
    assert!(events(&before).is_empty());
    assert_eq!(before["state"], Value::Null);

    // As of the instant of event 9: events 1–9, the state after 9.
    let whole = events(&page(&app, id, "limit=500").await);
    let instant = whole[8]
        .recorded_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let query = format!("as_of={}&limit=4", instant.replace('+', "%2B"));
    let pages = all_pages(&app, id, &query).await;
    let sizes: Vec<usize> = pages.iter().map(|p| events(p).len()).collect();
    assert_eq!(sizes, [4, 4, 1]);
    let joined: Vec<AuditEntry> = pages.iter().flat_map(events).collect();
    assert_eq!(sequences(&joined), (1..=9).collect::<Vec<_>>());
    assert_eq!(title_of(&pages[0]["state"]), "title 9");
}
