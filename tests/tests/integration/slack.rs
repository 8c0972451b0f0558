//! Slack: slash commands and buttons verified with Slack's v0 signature and mapped to a
//! CaseyOS user before anything runs; notifications posted with `chat.postMessage` once,
//! against a local fake of Slack that checks what we send.

use caseyos_backend::workers::slack_notifications::SlackNotifications;
use caseyos_domain::alerts::{alert_id, Alert, AlertCommand, AlertKind, AlertSeverity, RaiseAlert};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::QueueStatus;
use caseyos_store::CommandMeta;
use caseyos_tests::{command_bus, spawn_app_with, TestApp};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "slack-signing-secret-0123456789";

fn sign(t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{t}:{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v0={hex}")
}

async fn app(hooks: &str) -> TestApp {
    let prefix = format!("{hooks}/");
    spawn_app_with(move |c| {
        c.slack_signing_secret = Some(SECRET.into());
        c.slack_response_url_prefix = prefix;
        c.slack_users.insert("U1".into(), "admin:admin".into());
        c.slack_users.insert("U2".into(), "vera:viewer".into());
    })
    .await
}

/// Posts `body` form-encoded to `/api/webhooks/slack/{what}`, signed at `t` (or not).
async fn post(
    app: &TestApp,
    what: &str,
    body: &str,
    signed: Option<(i64, String)>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/api/webhooks/slack/{what}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some((t, signature)) = signed {
        request = request
            .header("x-slack-request-timestamp", t.to_string())
            .header("x-slack-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn command(app: &TestApp, user: &str, text: &str) -> (u16, Value) {
    let body = format!(
        "command=%2Fcaseyos&user_id={user}&text={}&response_url=https%3A%2F%2Fhooks.example%2Fx",
        text.replace(' ', "+")
    );
    let t = Utc::now().timestamp();
    post(app, "commands", &body, Some((t, sign(t, &body)))).await
}

#[tokio::test]
async fn a_request_is_verified_then_mapped_before_anything_runs() {
    let app = app("http://127.0.0.1:9").await;
    let item = app.propose_simple("Call Dana").await.item;
    let body = "command=%2Fcaseyos&user_id=U1&text=approve+1";
    let t = Utc::now().timestamp();
    for (signed, why) in [
        (None, "unsigned"),
        (Some((t, sign(t, "another body"))), "another body"),
        (Some((t - 301, sign(t - 301, body))), "stale"),
        (
            Some((t, sign(t, body).replace("v0=", "v1="))),
            "another version",
        ),
    ] {
        let (status, answer) = post(&app, "commands", body, signed).await;
        assert_eq!(status, 401, "{why}: {answer}");
        assert_eq!(answer["error"]["code"], "webhook.bad_signature");
    }
    // Signed, but from a Slack user nobody linked: told so, nothing runs.
    let (status, answer) = command(&app, "U999", "approve 1").await;
    assert_eq!(status, 200);
    assert!(
        answer["text"].as_str().unwrap().contains("not linked"),
        "{answer}"
    );
    assert_eq!(app.queue_item(item.id).await.status, QueueStatus::Pending);
    // Without a signing secret nothing is taken.
    let closed = spawn_app_with(|_| {}).await;
    let (status, _) = post(&closed, "commands", body, Some((t, sign(t, body)))).await;
    assert_eq!(status, 401);
    closed.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn slash_commands_and_buttons_act_as_the_mapped_user_and_a_viewer_cannot_approve() {
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/actions/1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&hooks)
        .await;
    let app = app(&hooks.uri()).await;
    let first = app.propose_simple("Call Dana").await.item;
    let second = app.propose_simple("Email Bo").await.item;

    let (status, today) = command(&app, "U1", "today").await;
    assert_eq!(status, 200, "{today}");
    assert_eq!(today["response_type"], "ephemeral");
    let text = today["text"].as_str().unwrap();
    assert!(text.starts_with("Today's Moves:\n*1.* "), "{text}");
    let buttons = &today["blocks"][1]["elements"];
    assert_eq!(buttons[0]["action_id"], "approve");
    assert_eq!(buttons[1]["action_id"], "reject");
    let top = buttons[0]["value"].as_str().unwrap().to_string();
    let other = if top == first.id.to_string() {
        second.id
    } else {
        first.id
    };

    // A viewer's approval is refused by the same rules as in the app.
    let (_, refused) = command(&app, "U2", "approve 1").await;
    assert_eq!(
        refused["text"], "There is no move 1 in your Today's Moves.",
        "vera has no moves of her own"
    );

    let (_, approved) = command(&app, "U1", "approve 1").await;
    assert!(
        approved["text"].as_str().unwrap().starts_with("Approved: "),
        "{approved}"
    );
    assert_eq!(app.queue_item(&top).await.status, QueueStatus::Approved);
    let approval = app
        .events_of(&top)
        .await
        .into_iter()
        .find(|e| e.event_type == "QueueItemApproved")
        .unwrap();
    assert_eq!(approval.metadata["actor"], "user:admin");

    // The Reject button of the list, pressed by a viewer, then by the admin.
    let press = |user: &str| {
        let payload = json!({"type": "block_actions", "user": {"id": user},
            "actions": [{"action_id": "reject", "value": other.to_string()}],
            "response_url": format!("{}/actions/1", hooks.uri())});
        format!("payload={}", urlencode(&payload.to_string()))
    };
    let t = Utc::now().timestamp();
    let body = press("U2");
    let (status, answer) = post(&app, "interactions", &body, Some((t, sign(t, &body)))).await;
    assert_eq!(status, 200);
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .starts_with("Could not reject it:"),
        "{answer}"
    );
    assert_eq!(app.queue_item(other).await.status, QueueStatus::Pending);
    let body = press("U1");
    let (_, answer) = post(&app, "interactions", &body, Some((t, sign(t, &body)))).await;
    assert!(
        answer["text"].as_str().unwrap().starts_with("Rejected: "),
        "{answer}"
    );
    assert_eq!(app.queue_item(other).await.status, QueueStatus::Rejected);
    // The answers went to the interaction's response_url too.
    let posted = hooks.received_requests().await.unwrap();
    assert_eq!(posted.len(), 2);
    let last: Value = serde_json::from_slice(&posted[1].body).unwrap();
    assert_eq!(last["text"], answer["text"]);

    // Asked without a model: the assistant says so, at once.
    let (_, asked) = command(&app, "U1", "ask what's up?").await;
    assert!(
        asked["text"]
            .as_str()
            .unwrap()
            .starts_with("No language model is configured"),
        "{asked}"
    );
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn raise(app: &TestApp, key: &str, title: &str) {
    let text = |s: &str| Text::parse(s, 500).unwrap();
    command_bus(&app.pool, 16)
        .execute::<Alert>(
            alert_id(key),
            AlertCommand::Raise(Box::new(RaiseAlert {
                key: text(key),
                kind: AlertKind::ConnectorFailing,
                severity: AlertSeverity::High,
                title: text(title),
                message: text("Reconnect it."),
                subjects: Vec::new(),
                run_id: None,
                by: Actor::system("test"),
                at: Utc::now(),
            })),
            &CommandMeta::system("test"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn notifications_are_posted_to_their_channel_once() {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-test"))
        .and(body_partial_json(json!({"channel": "#ops"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "ts": "1764460800.000100"})),
        )
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(body_partial_json(json!({"channel": "#nowhere"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
        )
        .mount(&slack)
        .await;
    let app = spawn_app_with(|_| {}).await;
    raise(&app, "test:hubspot-failing", "HubSpot needs reconnecting").await;
    // The notifications' read models have the alert (a strong read waits for them).
    let up: Value = app.get_ok("/api/whats-up", &app.admin).await;
    assert_eq!(up["counts"]["high"], 1, "{up}");
    let mut config = caseyos_tests::test_config(&app.database_url);
    config.slack_bot_token = Some("xoxb-test".into());
    config.slack_base_url = format!("{}/api", slack.uri());
    let worker = |channel: &str| SlackNotifications {
        pool: app.pool.clone(),
        slack: config.slack().unwrap(),
        risk: config.deal_risk.clone(),
        channels: [("alert".to_string(), channel.to_string())].into(),
        public_url: "https://caseyos.example".into(),
    };
    let pass = worker("#ops").tick(Utc::now()).await.unwrap();
    assert_eq!((pass.posted, pass.failed), (1, 0));
    let sent = slack.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("HubSpot needs reconnecting: Reconnect it."),
        "{body}"
    );
    assert!(
        body["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("<https://caseyos.example/settings/connectors|Open in CaseyOS>"),
        "{body}"
    );
    // Once: the next pass posts nothing.
    let again = worker("#ops").tick(Utc::now()).await.unwrap();
    assert_eq!(again.posted, 0);
    assert_eq!(slack.received_requests().await.unwrap().len(), 1);
    let (status, ts): (String, Option<String>) =
        sqlx::query_as("select status, ts from slack_posts")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), ts.as_deref()),
        ("sent", Some("1764460800.000100"))
    );

    // Slack's refusal (HTTP 200, ok: false) is a failure with its reason, not a success.
    raise(&app, "test:gmail-failing", "Gmail needs reconnecting").await;
    let up: Value = app.get_ok("/api/whats-up", &app.admin).await;
    assert_eq!(up["counts"]["high"], 2, "{up}");
    let failed = worker("#nowhere").tick(Utc::now()).await.unwrap();
    assert_eq!((failed.posted, failed.failed), (0, 1));
    let (status, code): (String, Option<String>) =
        sqlx::query_as("select status, error_code from slack_posts where channel = '#nowhere'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("failed", Some("slack.bad_request"))
    );
    app.stop().await;
}
