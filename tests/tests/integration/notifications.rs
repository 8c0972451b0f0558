//! Notifications and "what's up": derived from the events they are about (overdue and
//! stale moves, replies, failed runs, alerts, deals at risk), read and acknowledged per user
//! as events, each user seeing what their role lets them read.

use std::time::Duration;

use caseyos_agents::{AgentError, AgentFuture, Agents, Ctx, ExtraAgent};
use caseyos_backend::commands::agent_runs::request_run;
use caseyos_domain::agent_run::RunTrigger;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::alerts::{alert_id, Alert, AlertCommand, AlertKind, AlertSeverity, RaiseAlert};
use caseyos_domain::api::{
    DealResponse, MarkNotificationsResponse, NotificationListResponse, WhatsUpResponse,
};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::notifications::{NotificationKind, NotificationReceipt, Priority};
use caseyos_store::CommandMeta;
use caseyos_tests::{command_bus, dto, spawn_app_with_agents, TestApp};
use chrono::Utc;
use serde_json::{json, Value};

const GUARD: Duration = Duration::from_secs(60);

fn breaker<'a>(_input: &'a Value, _ctx: &'a Ctx<'a>) -> AgentFuture<'a> {
    Box::pin(async move { Err(AgentError::new("test.broken", "broken on purpose", false)) })
}

async fn app() -> TestApp {
    let agents = Agents::registry().with(ExtraAgent::new(
        "Breaker",
        "Fails at once (a test agent).",
        breaker,
    ));
    spawn_app_with_agents(agents, |_| {}).await
}

async fn whats_up(app: &TestApp, token: &str) -> WhatsUpResponse {
    app.get_ok("/api/whats-up?consistency=strong", token).await
}

async fn list(app: &TestApp, token: &str, query: &str) -> NotificationListResponse {
    app.get_ok(
        &format!("/api/notifications?consistency=strong&{query}"),
        token,
    )
    .await
}

async fn mark(app: &TestApp, token: &str, what: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/notifications/{what}"), token, &body)
        .await
}

/// A run of the failing test agent, requested by `user`, waited for until it failed.
async fn failed_run(app: &TestApp, user: &str) -> uuid::Uuid {
    let agents = Agents::registry().with(ExtraAgent::new("Breaker", "Fails.", breaker));
    let spec = agents.find("Breaker").expect("the test agent");
    let config = caseyos_tests::test_config(&app.database_url);
    let mut meta = CommandMeta::system("test");
    meta.actor = Actor::user(user);
    let id = request_run(
        &command_bus(&app.pool, 16),
        &config,
        spec,
        json!({}),
        RunTrigger::Api,
        None,
        Actor::user(user),
        &meta,
    )
    .await
    .expect("request the run")
    .state
    .run
    .expect("the run")
    .id;
    app.wait_for_run(&app.admin, id, GUARD, |run| run.status.is_finished())
        .await;
    id
}

async fn raise_alert(app: &TestApp, key: &str, severity: AlertSeverity, title: &str) {
    let text = |s: &str| Text::parse(s, 500).unwrap();
    command_bus(&app.pool, 16)
        .execute::<Alert>(
            alert_id(key),
            AlertCommand::Raise(Box::new(RaiseAlert {
                key: text(key),
                kind: AlertKind::ConnectorExpiring,
                severity,
                title: text(title),
                message: text("Reconnect it before it expires."),
                subjects: Vec::new(),
                run_id: None,
                by: Actor::system("test"),
                at: Utc::now(),
            })),
            &CommandMeta::system("test"),
        )
        .await
        .expect("raise the alert");
}

#[tokio::test]
async fn whats_up_counts_each_cause_by_priority_and_names_the_five_first() {
    let app = app().await;
    let empty = whats_up(&app, &app.admin).await;
    assert_eq!(empty.total, 0, "{empty:?}");
    assert!(empty.top.is_empty());
    assert_eq!(empty.summary, "All clear: nothing needs you right now.");

    // A reply to a move, a failed run, an urgent alert, a deal past its close date and an
    // overdue move.
    let replied = app.propose_simple("Intro to Bo").await.item;
    let (status, body) = app
        .post_json(
            "/api/outcomes",
            &app.admin,
            &json!({"outcome_type": "email_replied", "item_id": replied.id,
                    "email": "bo@acme.io", "summary": "replied: sounds good, Tuesday?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let run = failed_run(&app, "admin").await;
    raise_alert(
        &app,
        "test:gmail-expiring",
        AlertSeverity::Urgent,
        "Gmail's access expires soon",
    )
    .await;
    let (status, body) = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "Acme renewal", "stage": "appointmentscheduled",
                    "amount": {"minor": 1_200_000, "currency": "USD"},
                    "close_date": "2026-01-15", "owner": "admin"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let deal = dto::<DealResponse>(&body).deal.id;
    let (status, body) = app
        .post_json(
            &format!("/api/deals/{deal}/next-step"),
            &app.admin,
            &json!({"next_step": "Send the renewal quote"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Proposed last, due a second later: the newest cause.
    let due = Utc::now() + chrono::Duration::seconds(1);
    let overdue = app
        .propose(
            &app.admin,
            json!({"action_type": "send_email", "title": "Follow up with Dana", "owner": "admin",
                   "due_by": due}),
        )
        .await
        .item;
    while Utc::now() <= due {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let up = whats_up(&app, &app.admin).await;
    let kinds: Vec<NotificationKind> = up.top.iter().map(|n| n.kind).collect();
    assert_eq!(up.counts.urgent, 1, "{up:#?}");
    assert_eq!(
        up.counts.high, 4,
        "overdue move, reply, failed run, the deal (two flags): {up:#?}"
    );
    assert_eq!(up.total, 5);
    // Urgent first, then the newest cause first.
    assert_eq!(
        kinds,
        vec![
            NotificationKind::Alert,
            NotificationKind::MoveOverdue,
            NotificationKind::DealAtRisk,
            NotificationKind::RunFailed,
            NotificationKind::ReplyReceived,
        ]
    );
    assert_eq!(
        up.summary,
        "5 notifications (1 urgent, 4 high priority). First: Gmail's access expires soon"
    );
    // Each names its source and where to act on it.
    let find = |kind| up.top.iter().find(|n| n.kind == kind).unwrap();
    let o = find(NotificationKind::MoveOverdue);
    assert_eq!(o.link, format!("/queue/{}", overdue.id));
    assert_eq!(o.source.as_ref().unwrap().aggregate_type, "queue_item");
    assert_eq!(o.happened_at.timestamp(), due.timestamp());
    let r = find(NotificationKind::ReplyReceived);
    assert_eq!(r.title, "Reply from bo@acme.io");
    assert_eq!(r.message, "replied: sounds good, Tuesday?");
    assert_eq!(r.link, format!("/queue/{}", replied.id));
    assert_eq!(r.source.as_ref().unwrap().aggregate_type, "outcome");
    assert!(r.expires_at.is_some());
    let f = find(NotificationKind::RunFailed);
    assert_eq!(f.link, format!("/runs/{run}"));
    assert!(
        f.message.contains("broken on purpose (test.broken)"),
        "{}",
        f.message
    );
    let d = find(NotificationKind::DealAtRisk);
    assert_eq!(d.link, format!("/deals/{deal}"));
    assert_eq!(d.title, "Acme renewal is at risk");
    assert!(
        d.message.starts_with("close date has passed"),
        "{}",
        d.message
    );
    // The same notification has the same id on every read.
    let again = whats_up(&app, &app.admin).await;
    assert_eq!(
        again.top.iter().map(|n| n.id).collect::<Vec<_>>(),
        up.top.iter().map(|n| n.id).collect::<Vec<_>>()
    );

    // A notification ends with its cause: the move approved, the alert resolved.
    app.queue_command_ok(overdue.id, "approve", json!({})).await;
    command_bus(&app.pool, 16)
        .execute::<Alert>(
            alert_id("test:gmail-expiring"),
            AlertCommand::Resolve {
                run_id: None,
                by: Actor::system("test"),
                at: Utc::now(),
            },
            &CommandMeta::system("test"),
        )
        .await
        .unwrap();
    let after = whats_up(&app, &app.admin).await;
    assert_eq!(
        (after.counts.urgent, after.counts.high),
        (0, 3),
        "{after:#?}"
    );
    assert!(after
        .top
        .iter()
        .all(|n| n.kind != NotificationKind::MoveOverdue));
    app.stop().await;
}

#[tokio::test]
async fn read_and_acknowledged_are_each_users_own_events() {
    let app = app().await;
    let viewer = app.token("vera", "viewer").await;
    failed_run(&app, "admin").await;
    raise_alert(
        &app,
        "test:hubspot-failing",
        AlertSeverity::High,
        "HubSpot needs reconnecting",
    )
    .await;

    let mine = list(&app, &app.admin, "").await;
    assert_eq!(mine.items.len(), 2, "{mine:#?}");
    assert_eq!(mine.unread.high, 2);
    let first = mine.items[0].id;

    // Read one: still listed (read), no longer counted; the viewer's count is unchanged.
    let (status, body) = mark(&app, &app.admin, "read", json!({"ids": [first]})).await;
    assert_eq!(status, 200, "{body}");
    let marked: MarkNotificationsResponse = dto(&body);
    assert_eq!(marked.marked, 1);
    assert_eq!(marked.unread.high, 1);
    let (_, again) = mark(&app, &app.admin, "read", json!({"ids": [first]})).await;
    assert_eq!(again["marked"], 0, "a second read marks nothing: {again}");
    let receipts = caseyos_store::event::read_aggregate(
        &app.pool,
        NotificationReceipt::TYPE,
        &caseyos_domain::notifications::receipt_id(first, "admin").to_string(),
    )
    .await
    .unwrap();
    let types: Vec<_> = receipts.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, vec!["NotificationRead"], "one event");
    let now_mine = list(&app, &app.admin, "").await;
    assert_eq!(now_mine.items.len(), 2);
    assert!(now_mine
        .items
        .iter()
        .find(|n| n.id == first)
        .unwrap()
        .read_at
        .is_some());
    assert_eq!(list(&app, &app.admin, "show=unread").await.items.len(), 1);
    assert_eq!(whats_up(&app, &viewer).await.total, 2, "vera's are her own");

    // Acknowledge everything open: gone from the default list, kept under show=all.
    let (status, body) = mark(&app, &app.admin, "acknowledge", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["marked"], 2);
    assert_eq!(whats_up(&app, &app.admin).await.total, 0);
    assert!(list(&app, &app.admin, "").await.items.is_empty());
    let all = list(&app, &app.admin, "show=all").await;
    assert_eq!(all.items.len(), 2);
    assert!(all.items.iter().all(|n| n.acknowledged_at.is_some()));

    // A viewer marks their own.
    let (status, body) = mark(&app, &viewer, "read", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["marked"], 2);

    // What is not one of the caller's notifications now is refused, nothing marked.
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = mark(
        &app,
        &viewer,
        "acknowledge",
        json!({"ids": [all.items[0].id, unknown]}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "notification.not_found");
    assert_eq!(whats_up(&app, &viewer).await.total, 0);
    assert_eq!(
        list(&app, &viewer, "show=open").await.items.len(),
        2,
        "none acknowledged"
    );
    let (status, body) = mark(&app, &viewer, "read", json!({"ids": vec![unknown; 201]})).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app
        .get_json("/api/notifications?show=everything", &viewer)
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .get_json("/api/notifications?priority=critical", &viewer)
        .await;
    assert_eq!(status, 400);
    let high = list(&app, &viewer, "priority=high&kind=alert").await;
    assert_eq!(high.items.len(), 1);
    assert_eq!(high.items[0].priority, Priority::High);
    app.stop().await;
}

#[tokio::test]
async fn an_operator_hears_of_their_own_moves_and_runs_and_stale_moves_are_counted_per_owner() {
    let app = app().await;
    let olive = app.token("olive", "operator").await;
    for (owner, title) in [
        ("olive", "Call Ana"),
        ("olive", "Email Bo"),
        ("admin", "Ping Cy"),
    ] {
        app.propose(
            &app.admin,
            json!({"action_type": "send_email", "title": title, "owner": owner}),
        )
        .await;
    }
    failed_run(&app, "admin").await;
    app.settle().await;
    // Two days old (the read model's row forced; the events keep their real times).
    sqlx::query("update queue_items set created_at = created_at - interval '2 days'")
        .execute(&app.pool)
        .await
        .unwrap();

    let theirs = list(&app, &olive, "").await;
    assert_eq!(
        theirs.items.len(),
        1,
        "olive's stale moves only: {theirs:#?}"
    );
    let stale = &theirs.items[0];
    assert_eq!(stale.kind, NotificationKind::MovesStale);
    assert_eq!(stale.count, 2);
    assert_eq!(stale.title, "2 moves have waited over a day (olive)");
    assert!(stale.source.is_none());

    let everyone = list(&app, &app.admin, "").await;
    let kinds: Vec<_> = everyone.items.iter().map(|n| (n.kind, n.count)).collect();
    assert_eq!(
        kinds,
        vec![
            (NotificationKind::RunFailed, 1),
            (NotificationKind::MovesStale, 1),
            (NotificationKind::MovesStale, 2),
        ],
        "{everyone:#?}"
    );
    app.stop().await;
}
