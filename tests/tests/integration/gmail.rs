//! What comes back from Gmail and Calendar: the Gmail poller reads the mailbox's history from
//! the id it stored (a local fake asserts what we send), records replies as signals and
//! `email_replied` outcomes linked to our sent email, bounces as `email_bounced`, starts
//! again when the history is too old, wakes on a Pub/Sub push; the Calendar worker records
//! attendees' answers once.

use std::sync::Arc;
use std::time::Duration;

use crate::support::providers::{app_with, requests_to};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use caseyos_backend::config::GoogleConfig;
use caseyos_backend::workers::calendar_responses::CalendarResponses;
use caseyos_backend::workers::gmail_poller::{stored_history_id, GmailPoller};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::QueueItemResponse;
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::executions::{ExecutionStatus, ExecutionView};
use caseyos_domain::signals::{Signal, SignalSource};
use caseyos_tests::{assert_error, command_bus, dto, query_i64, settle_everything, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SEND: &str = "/gmail/v1/users/me/messages/send";
const HISTORY: &str = "/gmail/v1/users/me/history";
const PROFILE: &str = "/gmail/v1/users/me/profile";
const ACCOUNT: &str = "casey@example.com";

fn google(fake: &MockServer) -> GoogleConfig {
    let mut google = GoogleConfig::new(fake.uri(), fake.uri());
    google.base_backoff = Duration::from_millis(10);
    google.max_backoff = Duration::from_millis(20);
    google
}

fn poller(app: &TestApp, fake: &MockServer) -> GmailPoller {
    GmailPoller {
        pool: app.pool.clone(),
        bus: Arc::new(command_bus(&app.pool, 16)),
        credentials: app.credentials(),
        google: google(fake),
        message_domain: "caseyos.local".into(),
    }
}

fn query_of(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn send_mode(app: &TestApp, mode: &str) {
    let status = app
        .request(
            reqwest::Method::PUT,
            "/api/admin/send-mode",
            Some(&app.admin),
        )
        .json(&json!({ "mode": mode }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

/// Waits until the move's execution settles.
async fn settled(app: &TestApp, item: Uuid) -> ExecutionView {
    for _ in 0..1000 {
        let (_, body) = app
            .get_json(&format!("/api/queue/{item}"), &app.admin)
            .await;
        let answer: QueueItemResponse = dto(&body);
        if let Some(execution) = answer.execution {
            if !matches!(
                execution.status,
                ExecutionStatus::Requested | ExecutionStatus::Executing
            ) {
                return execution;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the execution of {item} did not settle");
}

/// Sends an email to Dana through the fake (Gmail message `m-1` in thread `t-1`); answers
/// the move and its execution.
async fn sent_email(app: &TestApp, fake: &MockServer) -> (Uuid, ExecutionView) {
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "m-1", "threadId": "t-1", "labelIds": ["SENT"]})),
        )
        .mount(fake)
        .await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(app, "send").await;
    let item = app
        .propose(
            &app.admin,
            json!({
                "action_type": "send_email",
                "owner": "admin",
                "target": {"contact": {"id": "c-dana", "name": "Dana Lee", "email": "dana@acme.io"}},
                "payload": {"to": "dana@acme.io", "subject": "Tuesday?", "body": "Shall we talk Tuesday?"},
            }),
        )
        .await
        .item;
    let (status, body) = app.queue_command(item.id, "approve", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let execution = settled(app, item.id).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    (item.id, execution)
}

async fn store_history(app: &TestApp, history_id: &str) {
    sqlx::query("insert into gmail_history (account, history_id) values ($1, $2)")
        .bind(ACCOUNT)
        .bind(history_id)
        .execute(&app.pool)
        .await
        .unwrap();
}

/// `history.list` from `start` answering `body`.
async fn history_from(fake: &MockServer, start: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .and(query_param("startHistoryId", start))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(fake)
        .await;
}

/// `messages.get` of `id` answering a metadata message with these headers.
async fn message(fake: &MockServer, id: &str, headers: Value, snippet: &str) {
    let millis = caseyos_store::now().timestamp_millis().to_string();
    Mock::given(method("GET"))
        .and(path(format!("/gmail/v1/users/me/messages/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": id, "threadId": "t-1", "labelIds": ["INBOX", "UNREAD"],
            "snippet": snippet, "historyId": "1", "internalDate": millis,
            "payload": {"mimeType": "text/plain", "headers": headers}
        })))
        .mount(fake)
        .await;
}

/// The outcomes of a move, once `wanted` of them are there.
async fn outcomes_of(app: &TestApp, item: Uuid, wanted: usize) -> Vec<Value> {
    for _ in 0..500 {
        let (_, body) = app
            .get_json(&format!("/api/outcomes?item={item}"), &app.admin)
            .await;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= wanted {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {wanted} outcomes of {item}");
}

async fn events_by(app: &TestApp, actor: &str) -> i64 {
    query_i64(
        &app.pool,
        &format!("select count(*) from events where metadata ->> 'actor' = 'system:{actor}'"),
    )
    .await
}

#[tokio::test]
async fn the_first_poll_stores_the_profiles_history_id_and_the_next_lists_from_it() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PROFILE))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"emailAddress": ACCOUNT, "messagesTotal": 9000, "threadsTotal": 4000, "historyId": "1000"}),
        ))
        .mount(&fake)
        .await;
    history_from(&fake, "1000", json!({"historyId": "1004"})).await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    let poller = poller(&app, &fake);

    let first = poller.poll().await.unwrap();
    assert!(first.started, "{first:?}");
    assert_eq!(first.history_id, "1000");
    assert_eq!(
        stored_history_id(&app.pool, ACCOUNT)
            .await
            .unwrap()
            .as_deref(),
        Some("1000")
    );
    assert!(
        requests_to(&fake, HISTORY).await.is_empty(),
        "the mailbox is not replayed"
    );

    let second = poller.poll().await.unwrap();
    assert!(!second.started && !second.reset, "{second:?}");
    assert_eq!(second.history_id, "1004");
    assert_eq!(
        stored_history_id(&app.pool, ACCOUNT)
            .await
            .unwrap()
            .as_deref(),
        Some("1004")
    );
    let listed = requests_to(&fake, HISTORY).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].headers.get("authorization").unwrap(),
        "Bearer gmail-token"
    );
    assert_eq!(
        query_of(&listed[0]),
        [
            ("startHistoryId".to_string(), "1000".to_string()),
            ("historyTypes".to_string(), "messageAdded".to_string()),
            ("maxResults".to_string(), "500".to_string()),
        ]
    );
    assert_eq!(requests_to(&fake, PROFILE).await.len(), 1);
}

#[tokio::test]
async fn a_reply_to_our_email_is_a_signal_and_an_email_replied_outcome_that_unenrolls_follow_ups_once(
) {
    let fake = MockServer::start().await;
    let app = app_with(&fake, |_| {}).await;
    let follow_up = app
        .propose(
            &app.admin,
            json!({
                "action_type": "follow_up",
                "owner": "admin",
                "target": {"contact": {"id": "c-dana", "name": "Dana Lee", "email": "dana@acme.io"}},
            }),
        )
        .await
        .item;
    let (item, execution) = sent_email(&app, &fake).await;
    store_history(&app, "2000").await;
    let added = json!({
        "history": [
            {"id": "2001", "messagesAdded": [{"message": {"id": "r-1", "threadId": "t-1", "labelIds": ["INBOX", "UNREAD"]}}]},
            {"id": "2002", "messagesAdded": [{"message": {"id": "m-1", "threadId": "t-1", "labelIds": ["SENT"]}}]}
        ],
        "historyId": "2005"
    });
    history_from(&fake, "2000", added.clone()).await;
    // Listed again from 2005 (as after a crash before the id was stored): nothing twice.
    history_from(&fake, "2005", added).await;
    let ours = format!("<{}@caseyos.local>", execution.id.simple());
    message(
        &fake,
        "r-1",
        json!([
            {"name": "From", "value": "Dana Lee <dana@acme.io>"},
            {"name": "To", "value": ACCOUNT},
            {"name": "Subject", "value": "Re: Tuesday?"},
            {"name": "Message-ID", "value": "<r-1@mail.acme.io>"},
            {"name": "In-Reply-To", "value": ours},
            {"name": "References", "value": ours}
        ]),
        "Tuesday works, can we schedule a call?",
    )
    .await;
    let poller = poller(&app, &fake);

    let poll = poller.poll().await.unwrap();
    assert_eq!(
        (poll.messages, poll.replies, poll.outcomes),
        (1, 1, 1),
        "{poll:?}"
    );
    assert_eq!(poll.history_id, "2005");
    assert!(
        requests_to(&fake, "/gmail/v1/users/me/messages/m-1")
            .await
            .is_empty(),
        "our own sent message is not read"
    );
    let read = requests_to(&fake, "/gmail/v1/users/me/messages/r-1").await;
    assert_eq!(
        read[0].headers.get("authorization").unwrap(),
        "Bearer gmail-token"
    );
    assert!(query_of(&read[0]).contains(&("format".into(), "metadata".into())));

    // The reply signal, keyed by the Gmail message.
    let signal = Signal::id_of(SignalSource::Gmail, "r-1");
    let signal_events =
        caseyos_store::event::read_aggregate(&app.pool, Signal::TYPE, &signal.to_string())
            .await
            .unwrap();
    let received = signal_events
        .iter()
        .filter(|e| e.event_type == "SignalReceived")
        .count();
    assert_eq!(received, 1, "one receipt (its processing may follow)");

    // `email_replied` for the move and its contact, linked to the execution.
    let outcomes = outcomes_of(&app, item, 2).await;
    let replied = outcomes
        .iter()
        .find(|o| o["outcome_type"] == "email_replied")
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    assert_eq!(replied["source"], "gmail");
    assert_eq!(replied["execution_id"], execution.id.to_string());
    assert_eq!(replied["subject"]["email"], "dana@acme.io");

    // Dana's pending follow-up ends.
    let mut status = Value::Null;
    for _ in 0..500 {
        let (_, body) = app
            .get_json(&format!("/api/queue/{}", follow_up.id), &app.admin)
            .await;
        status = body["item"]["status"].clone();
        if status == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, "expired");

    // A second poll lists the same message again and records nothing twice.
    settle_everything(&app.pool).await;
    let written = events_by(&app, "gmail_poller").await;
    assert_eq!(written, 2, "one signal and one outcome");
    let again = poller.poll().await.unwrap();
    assert_eq!((again.messages, again.replies), (1, 0), "{again:?}");
    settle_everything(&app.pool).await;
    assert_eq!(events_by(&app, "gmail_poller").await, written);
    let outcomes = outcomes_of(&app, item, 2).await;
    assert_eq!(
        outcomes.len(),
        2,
        "email_sent and one email_replied: {outcomes:?}"
    );
}

#[tokio::test]
async fn a_bounce_of_our_email_is_an_email_bounced_outcome_and_no_reply() {
    let fake = MockServer::start().await;
    let app = app_with(&fake, |_| {}).await;
    let (item, execution) = sent_email(&app, &fake).await;
    store_history(&app, "3000").await;
    history_from(
        &fake,
        "3000",
        json!({"history": [{"id": "3001", "messagesAdded": [{"message": {"id": "b-1", "threadId": "t-1", "labelIds": ["INBOX"]}}]}],
               "historyId": "3001"}),
    )
    .await;
    let ours = format!("<{}@caseyos.local>", execution.id.simple());
    message(
        &fake,
        "b-1",
        json!([
            {"name": "From", "value": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"},
            {"name": "To", "value": ACCOUNT},
            {"name": "Subject", "value": "Delivery Status Notification (Failure)"},
            {"name": "In-Reply-To", "value": ours},
            {"name": "References", "value": ours},
            {"name": "Content-Type", "value": "multipart/report; report-type=delivery-status; boundary=\"x\""},
            {"name": "X-Failed-Recipients", "value": "dana@acme.io"}
        ]),
        "Address not found",
    )
    .await;

    let poll = poller(&app, &fake).poll().await.unwrap();
    assert_eq!(
        (poll.messages, poll.replies, poll.outcomes),
        (1, 0, 1),
        "{poll:?}"
    );
    let outcomes = outcomes_of(&app, item, 2).await;
    let bounced = outcomes
        .iter()
        .find(|o| o["outcome_type"] == "email_bounced")
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    assert_eq!(bounced["execution_id"], execution.id.to_string());
    assert_eq!(bounced["subject"]["email"], "dana@acme.io");
    let signal = Signal::id_of(SignalSource::Gmail, "b-1");
    assert!(
        caseyos_store::event::read_aggregate(&app.pool, Signal::TYPE, &signal.to_string())
            .await
            .unwrap()
            .is_empty(),
        "a bounce is not a reply"
    );
}

#[tokio::test]
async fn an_expired_history_id_starts_again_from_the_profile_and_raises_an_alert() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .and(query_param("startHistoryId", "4000"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
        })))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path(PROFILE))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"emailAddress": ACCOUNT, "historyId": "9000"})),
        )
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    store_history(&app, "4000").await;

    let poll = poller(&app, &fake).poll().await.unwrap();
    assert!(poll.reset, "{poll:?}");
    assert_eq!(poll.history_id, "9000");
    assert_eq!(
        stored_history_id(&app.pool, ACCOUNT)
            .await
            .unwrap()
            .as_deref(),
        Some("9000")
    );
    let reset: i64 = query_i64(
        &app.pool,
        "select count(*) from gmail_history where reset_at is not null",
    )
    .await;
    assert_eq!(reset, 1);
    settle_everything(&app.pool).await;
    let (status, alerts) = app
        .get_json("/api/alerts?kind=connector.resynced", &app.admin)
        .await;
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(alerts["items"].as_array().unwrap().len(), 1, "{alerts}");
}

#[tokio::test]
async fn the_push_webhook_refuses_a_bad_token_and_a_good_one_wakes_the_poller() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PROFILE))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"emailAddress": ACCOUNT, "historyId": "7000"})),
        )
        .mount(&fake)
        .await;
    let app = app_with(&fake, |c| {
        c.gmail_push_token = Some("push-token-0123456789".into())
    })
    .await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    let data = STANDARD.encode(r#"{"emailAddress":"casey@example.com","historyId":123456}"#);
    let push = json!({
        "message": {"data": data, "messageId": "2070443601311540", "publishTime": "2026-12-01T09:00:00.000Z"},
        "subscription": "projects/caseyos/subscriptions/gmail-push"
    });
    let post = |query: &str| {
        app.client
            .post(format!("{}/api/webhooks/gmail{query}", app.address))
            .json(&push)
    };

    for query in ["", "?token=wrong-token-0123456789", "?token="] {
        let answer = caseyos_tests::send(post(query)).await;
        assert_error(&answer, 401, "webhook.bad_token");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        fake.received_requests().await.unwrap().is_empty(),
        "a refused push polls nothing"
    );

    let bad_body = app
        .client
        .post(format!(
            "{}/api/webhooks/gmail?token=push-token-0123456789",
            app.address
        ))
        .json(&json!({"message": {"data": "bm90IGpzb24="}}));
    assert_error(
        &caseyos_tests::send(bad_body).await,
        422,
        "request.validation",
    );

    let response = post("?token=push-token-0123456789").send().await.unwrap();
    assert_eq!(response.status(), 204);
    let mut stored = None;
    for _ in 0..500 {
        stored = stored_history_id(&app.pool, ACCOUNT).await.unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        stored.as_deref(),
        Some("7000"),
        "the woken poller stored the profile's id"
    );
    assert_eq!(
        requests_to(&fake, PROFILE).await[0]
            .headers
            .get("authorization")
            .unwrap(),
        "Bearer gmail-token"
    );

    // Without a configured token nothing is authenticated.
    let unconfigured = app_with(&fake, |_| {}).await;
    let answer = caseyos_tests::send(
        unconfigured
            .client
            .post(format!(
                "{}/api/webhooks/gmail?token=push-token-0123456789",
                unconfigured.address
            ))
            .json(&push),
    )
    .await;
    assert_error(&answer, 401, "connector.not_connected");
}

#[tokio::test]
async fn calendar_answers_to_a_booked_meeting_are_outcomes_once_per_attendee_and_answer() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calendars/primary/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "ev1", "htmlLink": "https://calendar.google.com/event?eid=ev1", "status": "confirmed"}),
        ))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/calendars/primary/events/ev1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "ev1", "status": "confirmed", "updated": "2026-12-01T10:00:00.000Z",
            "attendees": [
                {"email": ACCOUNT, "organizer": true, "self": true, "responseStatus": "accepted"},
                {"email": "dana@acme.io", "displayName": "Dana Lee", "responseStatus": "accepted"},
                {"email": "sam@acme.io", "responseStatus": "declined"},
                {"email": "kim@acme.io", "responseStatus": "tentative"},
                {"email": "lee@acme.io", "responseStatus": "needsAction"}
            ]
        })))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::GoogleCalendar, "calendar-token")
        .await;
    send_mode(&app, "send").await;
    let item = app
        .propose(
            &app.admin,
            json!({
                "action_type": "book_meeting",
                "owner": "admin",
                "target": {"contact": {"id": "c-dana", "name": "Dana Lee", "email": "dana@acme.io"}},
                "payload": {"attendees": ["dana@acme.io", "sam@acme.io", "kim@acme.io", "lee@acme.io"],
                            "start": "2026-12-10T15:00:00Z", "duration_minutes": 30,
                            "summary": "Acme kickoff"},
            }),
        )
        .await
        .item;
    app.queue_command(item.id, "approve", json!({})).await;
    let execution = settled(&app, item.id).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    assert_eq!(execution.provider_ids["calendar_event_id"], "ev1");
    settle_everything(&app.pool).await;

    let worker = CalendarResponses {
        pool: app.pool.clone(),
        bus: Arc::new(command_bus(&app.pool, 16)),
        credentials: app.credentials(),
        google: google(&fake),
    };
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.events, tick.answers), (1, 2), "{tick:?}");
    let read = requests_to(&fake, "/calendars/primary/events/ev1").await;
    assert_eq!(read[0].method.as_str(), "GET");
    assert_eq!(
        read[0].headers.get("authorization").unwrap(),
        "Bearer calendar-token"
    );

    let outcomes = outcomes_of(&app, item.id, 3).await;
    let of = |email: &str| {
        outcomes
            .iter()
            .filter(|o| o["source"] == "calendar" && o["subject"]["email"] == email)
            .map(|o| o["outcome_type"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("dana@acme.io"), ["positive_response"], "{outcomes:?}");
    assert_eq!(of("sam@acme.io"), ["negative_response"], "{outcomes:?}");
    assert!(of("kim@acme.io").is_empty() && of("lee@acme.io").is_empty());

    settle_everything(&app.pool).await;
    assert_eq!(events_by(&app, "calendar_responses").await, 2);
    worker.tick().await.unwrap();
    settle_everything(&app.pool).await;
    assert_eq!(
        events_by(&app, "calendar_responses").await,
        2,
        "the same answers record nothing again"
    );
}
