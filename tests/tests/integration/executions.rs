//! The loop from approval to the world: an approved move executes through Gmail, Calendar
//! and HubSpot (local fakes that assert what we send) behind the guardrails, each decision an
//! event; nothing is sent twice across retries; rollbacks undo what can be undone and say
//! what cannot; outcomes come back, change the next move's APS with a reason, and unenroll
//! a contact's pending follow-ups.

use std::time::Duration;

use crate::support::providers::{app_with, requests_to};
use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use caseyos_domain::api::QueueItemResponse;
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::executions::guardrails::Verdict;
use caseyos_domain::executions::{execution_id, ExecutionStatus, ExecutionView};
use caseyos_tests::{assert_error, dto, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SEND: &str = "/gmail/v1/users/me/messages/send";
const DRAFTS: &str = "/gmail/v1/users/me/drafts";
const MESSAGES: &str = "/gmail/v1/users/me/messages";

/// The RFC 2822 text a Gmail request carried (`raw`, or a draft's `message.raw`).
fn raw_of(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let raw = body["raw"]
        .as_str()
        .or_else(|| body["message"]["raw"].as_str())
        .expect("a raw message");
    String::from_utf8(URL_SAFE.decode(raw).unwrap()).unwrap()
}

async fn send_mode(app: &TestApp, mode: &str) {
    let (status, body) = app
        .request(
            reqwest::Method::PUT,
            "/api/admin/send-mode",
            Some(&app.admin),
        )
        .json(&json!({ "mode": mode }))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200, "{:?}", body.text().await);
}

async fn kill_switch(app: &TestApp, engaged: bool) -> Value {
    let (status, body) = app
        .post_json(
            "/api/admin/kill-switch",
            &app.admin,
            &json!({"engaged": engaged, "reason": "test"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Proposes an email to `to` for `admin` and approves it; answers the move's id.
async fn approve_email(app: &TestApp, action: &str, to: &str, subject: &str) -> Uuid {
    let item = app
        .propose(
            &app.admin,
            json!({
                "action_type": action,
                "owner": "admin",
                "target": {"contact": {"id": "c-dana", "name": "Dana Lee", "email": to}},
                "payload": {"to": to, "subject": subject, "body": "Hi Dana,\n\nShall we talk Tuesday?"},
            }),
        )
        .await
        .item;
    let (status, body) = app.queue_command(item.id, "approve", json!({})).await;
    assert_eq!(status, 200, "{body}");
    item.id
}

/// Waits until the move's execution settles (not requested, not executing).
async fn settled(app: &TestApp, item: Uuid) -> ExecutionView {
    for _ in 0..1000 {
        let (status, body) = app
            .get_json(&format!("/api/queue/{item}"), &app.admin)
            .await;
        assert_eq!(status, 200, "{body}");
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

/// Waits until the execution has this status.
async fn until_status(app: &TestApp, id: Uuid, wanted: ExecutionStatus) -> ExecutionView {
    for _ in 0..1000 {
        let (status, body) = app
            .get_json(&format!("/api/executions/{id}"), &app.admin)
            .await;
        if status == 200 {
            let view: ExecutionView = dto(&body);
            if view.status == wanted {
                return view;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("execution {id} never became {wanted:?}");
}

fn sent(id: &str, thread: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"id": id, "threadId": thread, "labelIds": ["SENT"]}))
}

#[tokio::test]
async fn an_approved_email_is_sent_once_through_gmail_with_our_message_id_and_cannot_be_unsent() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(sent("m-1", "t-1"))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "send").await;

    let item = approve_email(&app, "send_email", "dana@acme.io", "Tuesday?").await;
    let execution = settled(&app, item).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    assert_eq!(execution.id, execution_id(item));
    assert_eq!(execution.provider_ids["gmail_message_id"], "m-1");
    assert_eq!(execution.attempts, 1);
    let checks: Vec<_> = execution
        .checks
        .iter()
        .map(|c| c.guardrail.as_str())
        .collect();
    assert_eq!(
        checks,
        [
            "kill_switch",
            "send_mode",
            "recipient_quota",
            "daily_quota",
            "circuit_breaker",
            "quiet_hours"
        ]
    );

    let sends = requests_to(&fake, SEND).await;
    assert_eq!(sends.len(), 1);
    assert_eq!(
        sends[0].headers.get("authorization").unwrap(),
        "Bearer gmail-token"
    );
    let raw = raw_of(&sends[0]);
    assert!(raw.contains("To: dana@acme.io\r\n"), "{raw}");
    assert!(raw.contains("From: casey@example.com\r\n"), "{raw}");
    assert!(raw.contains("Subject: Tuesday?\r\n"), "{raw}");
    assert!(
        raw.contains(&format!(
            "Message-ID: <{}@caseyos.local>\r\n",
            execution.id.simple()
        )),
        "{raw}"
    );
    // The body, base64 in the message, with CRLF line ends.
    let body =
        base64::engine::general_purpose::STANDARD.encode("Hi Dana,\r\n\r\nShall we talk Tuesday?");
    assert!(raw.contains(&body), "{raw}");

    // The audit history tells the steps in order.
    let (status, audit) = app
        .get_json(
            &format!("/api/audit/action_execution/{}", execution.id),
            &app.admin,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    let types: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionRequested",
            "ExecutionStarted",
            "ExecutionSucceeded"
        ]
    );

    // A sent email cannot be unsent; nothing claims it was.
    let answer = app
        .post_json(
            &format!("/api/executions/{}/rollback", execution.id),
            &app.admin,
            &json!({}),
        )
        .await;
    let error = assert_error(&answer, 409, "execution.cannot_roll_back");
    assert!(
        error.message.contains("cannot be unsent"),
        "{}",
        error.message
    );

    // What came of it: an email_sent outcome for Dana.
    let mut outcomes = Value::Null;
    for _ in 0..500 {
        let (_, body) = app
            .get_json(&format!("/api/outcomes?item={item}"), &app.admin)
            .await;
        if !body["items"].as_array().unwrap().is_empty() {
            outcomes = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outcomes["items"][0]["outcome_type"], "email_sent");
    assert_eq!(outcomes["items"][0]["subject"]["email"], "dana@acme.io");

    // The sent email is a voice sample now, collected once, unrated.
    let origin = format!("execution:{}", execution.id);
    let mut samples = Vec::new();
    for _ in 0..500 {
        let (_, body) = app.get_json("/api/voice/samples", &app.admin).await;
        samples = body["items"].as_array().cloned().unwrap_or_default();
        if !samples.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(samples.len(), 1, "{samples:?}");
    assert_eq!(samples[0]["source"], "sent_email");
    assert_eq!(samples[0]["origin"], origin.as_str());
    assert_eq!(samples[0]["subject"], "Tuesday?");
    assert_eq!(samples[0]["content"], "Hi Dana,\n\nShall we talk Tuesday?");
    assert_eq!(samples[0]["rating"], Value::Null);
}

#[tokio::test]
async fn draft_only_is_the_start_a_draft_is_made_and_its_rollback_deletes_it() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(DRAFTS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "r-9", "message": {"id": "m-9", "threadId": "t-9"}})),
        )
        .mount(&fake)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{DRAFTS}/r-9")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    let (_, guardrails) = app.get_json("/api/admin/guardrails", &app.admin).await;
    assert_eq!(guardrails["send_mode"], "draft_only");

    let item = approve_email(&app, "follow_up", "dana@acme.io", "Following up").await;
    let execution = settled(&app, item).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    assert_eq!(execution.effect.map(|e| e.as_str()), Some("draft_created"));
    assert_eq!(
        execution.checks[1].verdict,
        Verdict::Adjust,
        "send mode adjusted it"
    );
    assert!(
        requests_to(&fake, SEND).await.is_empty(),
        "nothing was sent"
    );
    let raw = raw_of(&requests_to(&fake, DRAFTS).await[0]);
    assert!(
        raw.contains(&format!(
            "Message-ID: <{}.draft@caseyos.local>",
            execution.id.simple()
        )),
        "a draft has its own Message-ID: {raw}"
    );

    let (status, body) = app
        .post_json(
            &format!("/api/executions/{}/rollback", execution.id),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rolled = until_status(&app, execution.id, ExecutionStatus::RolledBack).await;
    assert_eq!(
        rolled.rollback.unwrap().done.as_deref(),
        Some("the Gmail draft r-9 was deleted")
    );
    let deletes: Vec<_> = fake
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
}

#[tokio::test]
async fn without_gmail_it_fails_not_connected_and_a_retry_after_connecting_sends() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(sent("m-2", "t-2"))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    send_mode(&app, "send").await;
    let item = approve_email(&app, "send_email", "dana@acme.io", "Hello").await;
    let failed = settled(&app, item).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    let failure = failed.failure.clone().unwrap();
    assert_eq!(failure.code, "connector.not_connected");
    assert!(requests_to(&fake, SEND).await.is_empty());

    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    let (status, body) = app
        .post_json(
            &format!("/api/executions/{}/retry", failed.id),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = until_status(&app, failed.id, ExecutionStatus::Succeeded).await;
    assert_eq!(done.attempts, 2);
    assert_eq!(requests_to(&fake, SEND).await.len(), 1);
}

#[tokio::test]
async fn a_send_gmail_may_have_made_is_found_by_its_message_id_and_never_sent_twice() {
    let fake = MockServer::start().await;
    // Gmail took the message but answered 503: the send is not repeated on its own.
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(503))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "send").await;
    let item = approve_email(&app, "send_email", "dana@acme.io", "Hello").await;
    let failed = settled(&app, item).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.failure.as_ref().unwrap().code, "gmail.server_error");
    assert!(failed.failure.as_ref().unwrap().retryable);
    assert_eq!(requests_to(&fake, SEND).await.len(), 1);

    // It had been sent: a search for our Message-ID finds it.
    let wanted = format!("rfc822msgid:{}@caseyos.local", failed.id.simple());
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("q", wanted.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"messages": [{"id": "m-3", "threadId": "t-3"}], "resultSizeEstimate": 1}),
        ))
        .mount(&fake)
        .await;
    let (status, body) = app
        .post_json(
            &format!("/api/executions/{}/retry", failed.id),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = until_status(&app, failed.id, ExecutionStatus::Succeeded).await;
    assert!(done.reconciled, "found, not resent");
    assert_eq!(done.provider_ids["gmail_message_id"], "m-3");
    assert_eq!(requests_to(&fake, SEND).await.len(), 1, "sent once in all");
}

#[tokio::test]
async fn the_kill_switch_blocks_with_its_reason_until_released_and_retried() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(sent("m-4", "t-4"))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "send").await;
    let engaged = kill_switch(&app, true).await;
    assert_eq!(engaged["kill_switch"], true);
    assert_eq!(engaged["kill_switch_changed"]["by"]["id"], "admin");

    let item = approve_email(&app, "send_email", "dana@acme.io", "Hello").await;
    let blocked = settled(&app, item).await;
    assert_eq!(blocked.status, ExecutionStatus::Blocked);
    let block = blocked.blocked.clone().unwrap();
    assert_eq!(block.guardrail.as_str(), "kill_switch");
    assert!(
        block.reason.contains("kill switch is engaged"),
        "{}",
        block.reason
    );
    assert_eq!(block.retry_at, None);
    assert!(requests_to(&fake, SEND).await.is_empty());

    // Viewers and operators cannot touch the switch.
    let operator = app.token("olly", "operator").await;
    let answer = app
        .post_json(
            "/api/admin/kill-switch",
            &operator,
            &json!({"engaged": false}),
        )
        .await;
    assert_eq!(answer.0, 403);

    kill_switch(&app, false).await;
    app.post_json(
        &format!("/api/executions/{}/retry", blocked.id),
        &app.admin,
        &json!({}),
    )
    .await;
    until_status(&app, blocked.id, ExecutionStatus::Succeeded).await;
    assert_eq!(requests_to(&fake, SEND).await.len(), 1);
}

#[tokio::test]
async fn quotas_the_breaker_and_quiet_hours_each_block_with_their_reason() {
    // Recipient quota 1 a week, daily quota 2.
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(sent("m-5", "t-5"))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |c| {
        c.guardrails.recipient_weekly_quota = 1;
        c.guardrails.daily_quota = 2;
    })
    .await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "send").await;
    let first = settled(
        &app,
        approve_email(&app, "send_email", "dana@acme.io", "1").await,
    )
    .await;
    assert_eq!(first.status, ExecutionStatus::Succeeded);
    let second = settled(
        &app,
        approve_email(&app, "send_email", "dana@acme.io", "2").await,
    )
    .await;
    assert_eq!(second.status, ExecutionStatus::Blocked);
    let block = second.blocked.unwrap();
    assert_eq!(block.guardrail.as_str(), "recipient_quota");
    assert!(block.reason.contains("dana@acme.io"), "{}", block.reason);
    let retry_at = block.retry_at.expect("when the week's send ages out");
    assert!(retry_at > caseyos_store::now() + chrono::Duration::days(6));
    let third = settled(
        &app,
        approve_email(&app, "send_email", "sam@acme.io", "3").await,
    )
    .await;
    assert_eq!(third.status, ExecutionStatus::Succeeded);
    let fourth = settled(
        &app,
        approve_email(&app, "send_email", "kim@acme.io", "4").await,
    )
    .await;
    assert_eq!(fourth.blocked.unwrap().guardrail.as_str(), "daily_quota");
    assert_eq!(requests_to(&fake, SEND).await.len(), 2);
    drop(app);

    // The breaker: 2 of 2 sends failed (over 10 % of at least 2).
    let failing = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": {"code": 400, "message": "Invalid To header", "status": "INVALID_ARGUMENT"}}),
        ))
        .mount(&failing)
        .await;
    let app = app_with(&failing, |c| c.guardrails.breaker_min_sends = 2).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "send").await;
    for to in ["a@acme.io", "b@acme.io"] {
        let failed = settled(&app, approve_email(&app, "send_email", to, "x").await).await;
        assert_eq!(failed.status, ExecutionStatus::Failed);
    }
    let open = settled(
        &app,
        approve_email(&app, "send_email", "c@acme.io", "x").await,
    )
    .await;
    let block = open.blocked.unwrap();
    assert_eq!(block.guardrail.as_str(), "circuit_breaker");
    assert!(
        block.reason.starts_with("2 of the last 2 sends"),
        "{}",
        block.reason
    );
    assert_eq!(requests_to(&failing, SEND).await.len(), 2);
    drop(app);

    // Quiet hours all day long in the owner's zone.
    let quiet = MockServer::start().await;
    let app = app_with(&quiet, |c| {
        c.guardrails.quiet_start = Some("00:00".into());
        c.guardrails.quiet_end = Some("23:59".into());
        c.owner_timezones
            .insert("admin".into(), "Europe/Berlin".into());
    })
    .await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "send").await;
    let held = settled(
        &app,
        approve_email(&app, "send_email", "dana@acme.io", "x").await,
    )
    .await;
    let block = held.blocked.unwrap();
    assert_eq!(block.guardrail.as_str(), "quiet_hours");
    assert!(block.reason.contains("Europe/Berlin"), "{}", block.reason);
    assert!(block.retry_at.is_some());
    assert!(requests_to(&quiet, SEND).await.is_empty());
}

#[tokio::test]
async fn a_dry_run_records_the_exact_request_and_sends_nothing() {
    let fake = MockServer::start().await;
    let app = app_with(&fake, |_| {}).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    send_mode(&app, "dry_run").await;
    let item = approve_email(&app, "send_email", "dana@acme.io", "Preview me").await;
    let execution = settled(&app, item).await;
    assert_eq!(execution.status, ExecutionStatus::DryRun);
    let request = execution.dry_run.unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, format!("{}{SEND}", fake.uri()));
    let raw = String::from_utf8(
        URL_SAFE
            .decode(request.body["raw"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(raw.contains("Subject: Preview me\r\n"), "{raw}");
    // The Gmail poller may read the mailbox meanwhile; nothing may be written.
    let writes: Vec<_> = fake
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method != wiremock::http::Method::GET)
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn tasks_go_to_hubspot_with_their_context_and_by_hand_moves_wait_for_the_operator() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/properties/2026-03/tasks/caseyos_execution_id"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"name": "caseyos_execution_id"})),
        )
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/objects/2026-03/tasks"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "901", "properties": {}, "createdAt": "2026-12-01T09:00:00Z",
            "updatedAt": "2026-12-01T09:00:00Z", "archived": false
        })))
        .mount(&fake)
        .await;
    let app = app_with(&fake, |c| c.hubspot_token = Some("pat-na1-test".into())).await;
    let item = app
        .propose(
            &app.admin,
            json!({
                "action_type": "review_deal",
                "owner": "admin",
                "target": {"contact": {"id": "4711", "name": "Dana Lee"}},
                "rationale": "The close date moved twice",
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
    assert_eq!(execution.provider_ids["hubspot_task_id"], "901");
    let creates = requests_to(&fake, "/crm/objects/2026-03/tasks").await;
    assert_eq!(creates.len(), 1);
    let body: Value = serde_json::from_slice(&creates[0].body).unwrap();
    assert_eq!(
        body["properties"]["caseyos_execution_id"],
        execution.id.to_string()
    );
    assert!(body["properties"]["hs_task_body"]
        .as_str()
        .unwrap()
        .contains("Why: The close date moved twice"));
    assert_eq!(body["associations"][0]["to"]["id"], "4711");
    assert_eq!(
        body["associations"][0]["types"][0]["associationTypeId"],
        204
    );

    // A social post is done by hand.
    let manual = app
        .propose(
            &app.admin,
            json!({"action_type": "social_post", "owner": "admin", "title": "Post the case study"}),
        )
        .await
        .item;
    app.queue_command(manual.id, "approve", json!({})).await;
    let waiting = settled(&app, manual.id).await;
    assert_eq!(waiting.status, ExecutionStatus::Manual);
    let (status, body) = app
        .post_json(
            &format!("/api/executions/{}/complete", waiting.id),
            &app.admin,
            &json!({"note": "posted on LinkedIn"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded");
    assert_eq!(body["note"], "posted on LinkedIn");

    let (_, types) = app.get_json("/api/actions/types", &app.admin).await;
    let of = |name: &str| {
        types["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["action_type"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(of("send_email")["automated"], true);
    assert_eq!(of("send_email")["connector"], "gmail");
    assert_eq!(of("social_post")["automated"], false);
    assert_eq!(of("review_deal")["handler"], "crm_task");
}

#[tokio::test]
async fn a_reply_raises_the_next_move_with_its_reason_and_unenrolls_pending_follow_ups() {
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
    let before = follow_up.aps.score.as_f64();

    let (status, body) = app
        .post_json(
            "/api/outcomes",
            &app.admin,
            &json!({"outcome_type": "email_replied", "email": "dana@acme.io", "name": "Dana Lee",
                    "summary": "replied to \"Following up\""}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["impact"], 8.0);

    // The pending follow-up ends, with the reason.
    let mut expired = Value::Null;
    for _ in 0..500 {
        let (_, item) = app
            .get_json(&format!("/api/queue/{}", follow_up.id), &app.admin)
            .await;
        if item["item"]["status"] == "expired" {
            expired = item;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reason = expired["item"]["decision"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.starts_with("Unenrolled: Dana Lee replied"),
        "{expired}"
    );
    assert_eq!(expired["item"]["decision"]["by"]["id"], "outcomes");

    // The next move for Dana ranks 8 points higher and says why (once the outcomes' read
    // model, which proposing reads, has the reply).
    app.settle().await;
    let next = app
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
    assert_eq!(next.aps.score.as_f64(), before + 8.0, "Dana's reply: +8");
    assert!(
        next.aps
            .reasoning
            .contains("+8: Dana Lee replied to \"Following up\" (today)"),
        "{}",
        next.aps.reasoning
    );
}

/// A `kill -9` of the server while Gmail holds the send: the restarted executor finds the
/// started execution without a result, searches Gmail for our Message-ID, and records the
/// send it finds instead of sending again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_a_send_never_sends_twice() {
    use crate::support::process::{caseyos, http, Server};
    use caseyos_tests::{
        admin_token, credentials_for, store_fake_credential, test_config, Api, Instance,
    };

    let fake = MockServer::start().await;
    // Gmail answers the send after 30 s: the server is killed long before.
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(sent("m-9", "t-9").set_delay(Duration::from_secs(30)))
        .mount(&fake)
        .await;
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = admin_token(&pool, "kill-admin", "admin").await;
    let mut config = test_config(&url);
    config.gmail_base_url = fake.uri();
    config.guardrails.quiet_start = None;
    config.guardrails.quiet_end = None;
    config.guardrails.quiet_weekends = false;
    let settings = std::env::temp_dir().join(format!("caseyos-kill-{}.toml", Uuid::new_v4()));
    std::fs::write(
        &settings,
        "[guardrails]\nquiet_start = \"\"\nquiet_end = \"\"\nquiet_weekends = false\n",
    )
    .unwrap();
    store_fake_credential(
        &credentials_for(&pool, &config),
        ConnectorName::Gmail,
        "gmail-token",
    )
    .await;

    let gmail = fake.uri();
    let mut server = Server::start(
        || {
            let mut command = caseyos(Some(&url));
            command
                .env("CASEYOS_GMAIL_BASE_URL", &gmail)
                .env(
                    "CASEYOS_CREDENTIALS_KEY",
                    caseyos_tests::TEST_CREDENTIALS_KEY,
                )
                .env("CASEYOS_CONFIG", &settings);
            command
        },
        Duration::from_secs(60),
    )
    .await;
    let api = Api::new(&server.address, &token);
    let mode = http()
        .put(format!("{}/api/admin/send-mode", server.address))
        .bearer_auth(&token)
        .json(&json!({"mode": "send"}))
        .send()
        .await
        .unwrap();
    assert_eq!(mode.status(), 200);
    let (status, proposed) = api
        .post_json(
            "/api/queue",
            &json!({
                "action_type": "send_email",
                "owner": "admin",
                "target": {"contact": {"id": "c-dana", "name": "Dana Lee", "email": "dana@acme.io"}},
                "payload": {"to": "dana@acme.io", "subject": "Tuesday?", "body": "Hi Dana"},
            }),
        )
        .await;
    assert_eq!(status, 201, "{proposed}");
    let item: Uuid = proposed["item"]["id"].as_str().unwrap().parse().unwrap();
    let (status, body) = api
        .post_json(&format!("/api/queue/{item}/approve"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    // Kill the process once Gmail holds the send.
    let waited = std::time::Instant::now();
    while requests_to(&fake, SEND).await.is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the executor never called Gmail\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    drop(server);
    std::fs::remove_file(&settings).ok();
    let id = execution_id(item);
    let types: Vec<String> = sqlx::query_scalar(
        "select event_type from events where aggregate_id = $1 order by sequence",
    )
    .bind(id.to_string())
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        types.last().map(String::as_str),
        Some("ExecutionStarted"),
        "killed between the call and its record: {types:?}"
    );

    // Gmail did take it: a search for our Message-ID finds it.
    let wanted = format!("rfc822msgid:{}@caseyos.local", id.simple());
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("q", wanted.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"messages": [{"id": "m-9", "threadId": "t-9"}], "resultSizeEstimate": 1}),
        ))
        .mount(&fake)
        .await;
    let instance = Instance::start(config, pool.clone()).await;
    let api = Api::new(&instance.address, &token);
    let done = loop {
        let (status, body) = api.get_json(&format!("/api/executions/{id}")).await;
        assert_eq!(status, 200, "{body}");
        let view: ExecutionView = dto(&body);
        if view.status == ExecutionStatus::Succeeded {
            break view;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "the restarted executor never settled it: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(done.reconciled, "found by its Message-ID: {done:?}");
    assert_eq!(done.provider_ids["gmail_message_id"], "m-9");
    assert_eq!(requests_to(&fake, SEND).await.len(), 1, "sent once in all");
    instance.stop().await;
}
