//! Auto-approval over HTTP against the real router, reactor and PostgreSQL: the seed rules
//! defined disabled on first start, rules CRUD for admins only, a move approved by
//! `replied_before` once enabled (the decision event with its reasons, the move approved by
//! `system:auto-approval`), the ICP computed by CaseyOS deciding high and low contacts,
//! priority order, and the emergency stop.

use std::time::Duration;

use caseyos_domain::api::{
    DecisionListResponse, GuardrailsResponse, RuleListResponse, RuleResponse,
};
use caseyos_domain::auto_approval::{decision_id, AutoDecision, DecisionView, RuleView};
use caseyos_domain::queue::QueueStatus;
use caseyos_tests::{assert_error, expect_dto, spawn_app, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// The rules as anyone signed in reads them.
async fn rules(app: &TestApp) -> Vec<RuleView> {
    app.get_ok::<RuleListResponse>("/api/auto-approval/rules", &app.admin)
        .await
        .items
}

async fn seed_rule(app: &TestApp, kind: &str) -> RuleView {
    rules(app)
        .await
        .into_iter()
        .find(|r| r.condition.kind() == kind)
        .expect("the seed rule")
}

async fn enable(app: &TestApp, id: Uuid) {
    let answer = app
        .post_json(
            &format!("/api/auto-approval/rules/{id}/enable"),
            &app.admin,
            &json!({}),
        )
        .await;
    let rule: RuleResponse = expect_dto(&answer, 200);
    assert!(rule.rule.enabled);
}

/// The decision on a move, once the reactor has made it (waits at most 20 s).
async fn decision(app: &TestApp, item: Uuid) -> DecisionView {
    for _ in 0..400 {
        let list: DecisionListResponse = app
            .get_ok(
                &format!("/api/auto-approval/decisions?item={item}"),
                &app.admin,
            )
            .await;
        if let Some(found) = list.items.into_iter().next() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no auto-approval decision on {item}");
}

/// The move once its status is no longer pending, or as it is after 10 s.
async fn item_after_decision(app: &TestApp, item: Uuid) -> caseyos_domain::queue::QueueItemView {
    for _ in 0..200 {
        let view = app.queue_item(item).await;
        if view.status != QueueStatus::Pending {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.queue_item(item).await
}

/// Proposes an email to `to` (about `contact`, when given) and returns its id.
async fn propose_email(app: &TestApp, to: &str, contact: Option<Uuid>) -> Uuid {
    let mut body = json!({
        "action_type": "send_email",
        "title": format!("Email {to}"),
        "owner": "admin",
        "payload": {"to": to, "subject": "Quick check-in", "body": "Hi!"},
    });
    if let Some(contact) = contact {
        body["target"] = json!({"contact": {"id": contact.to_string(), "email": to}});
    }
    app.propose(&app.admin, body).await.item.id
}

async fn record_reply(app: &TestApp, email: &str) {
    let (status, body) = app
        .post_json(
            "/api/outcomes",
            &app.admin,
            &json!({"outcome_type": "email_replied", "email": email}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn create_contact(app: &TestApp, body: Value) -> Uuid {
    let (status, answer) = app.post_json("/api/contacts", &app.admin, &body).await;
    assert_eq!(status, 201, "{answer}");
    answer["contact"]["id"].as_str().unwrap().parse().unwrap()
}

fn approved_by(view: &DecisionView) -> Option<&str> {
    match &view.decision {
        AutoDecision::Approved { rule_name, .. } => Some(rule_name),
        AutoDecision::NeedsReview { .. } => None,
    }
}

fn review_reason(view: &DecisionView) -> &str {
    match &view.decision {
        AutoDecision::NeedsReview { reason } => reason,
        AutoDecision::Approved { .. } => panic!("approved: {view:?}"),
    }
}

#[tokio::test]
async fn auto_approval_seed_rules_exist_disabled_after_first_start() {
    let app = spawn_app().await;
    let viewer = app.token("vic", "viewer").await;
    let list: RuleListResponse = app.get_ok("/api/auto-approval/rules", &viewer).await;
    let seen: Vec<(&str, u32, u8, bool, String)> = list
        .items
        .iter()
        .map(|r| {
            (
                r.condition.kind(),
                r.priority,
                r.confidence,
                r.enabled,
                r.created_by.to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "replied_before",
                1,
                95,
                false,
                "system:first-start".to_string()
            ),
            (
                "known_good_recipient",
                2,
                90,
                false,
                "system:first-start".to_string()
            ),
            (
                "high_icp_score",
                3,
                85,
                false,
                "system:first-start".to_string()
            ),
        ]
    );
    // A second instance on the same database defines nothing again.
    let other = app.another_instance(|_| {}).await;
    other.stop().await;
    assert_eq!(rules(&app).await.len(), 3);
    let (_, body) = app
        .get_json(
            &format!("/api/audit/auto_approval_rule/{}", list.items[0].id),
            &app.admin,
        )
        .await;
    assert_eq!(body["events"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["state"]["enabled"], false, "{body}");
}

#[tokio::test]
async fn auto_approval_rules_crud_is_for_admins_and_a_viewer_cannot_change_rules() {
    let app = spawn_app().await;
    let viewer = app.token("vic", "viewer").await;
    let operator = app.token("ola", "operator").await;
    let body = json!({
        "name": "Replied within 30 days",
        "condition": {"kind": "replied_before", "days_lookback": 30},
        "confidence": 95,
        "priority": 7,
    });
    for token in [&viewer, &operator] {
        let answer = app
            .post_json("/api/auto-approval/rules", token, &body)
            .await;
        assert_error(&answer, 403, "auth.forbidden");
    }
    let created: RuleResponse = expect_dto(
        &app.post_json("/api/auto-approval/rules", &app.admin, &body)
            .await,
        201,
    );
    let id = created.rule.id;
    assert!(!created.rule.enabled, "a new rule is off unless asked");
    assert_eq!(
        created.rule.action_types.len(),
        10,
        "every email type by default"
    );
    let one: RuleView = app
        .get_ok(&format!("/api/auto-approval/rules/{id}"), &viewer)
        .await;
    assert_eq!(one.name, "Replied within 30 days");

    let replaced = json!({
        "name": "Replied within 60 days",
        "condition": {"kind": "replied_before", "days_lookback": 60},
        "priority": 4,
        "enabled": true,
        "action_types": ["follow_up"],
    });
    for token in [&viewer, &operator] {
        let answer = caseyos_tests::send(
            app.request(
                reqwest::Method::PUT,
                &format!("/api/auto-approval/rules/{id}"),
                Some(token),
            )
            .json(&replaced),
        )
        .await;
        assert_error(&answer, 403, "auth.forbidden");
        let answer = app
            .post_json(
                &format!("/api/auto-approval/rules/{id}/disable"),
                token,
                &json!({}),
            )
            .await;
        assert_error(&answer, 403, "auth.forbidden");
        let answer = caseyos_tests::send(app.request(
            reqwest::Method::DELETE,
            &format!("/api/auto-approval/rules/{id}"),
            Some(token),
        ))
        .await;
        assert_error(&answer, 403, "auth.forbidden");
    }
    let answer = caseyos_tests::send(
        app.request(
            reqwest::Method::PUT,
            &format!("/api/auto-approval/rules/{id}"),
            Some(&app.admin),
        )
        .json(&replaced),
    )
    .await;
    let updated: RuleResponse = expect_dto(&answer, 200);
    assert_eq!(
        (
            updated.rule.priority,
            updated.rule.enabled,
            updated.rule.confidence
        ),
        (4, true, 90)
    );
    assert_eq!(updated.rule.updated_by.to_string(), "user:admin");
    let disabled: RuleResponse = expect_dto(
        &app.post_json(
            &format!("/api/auto-approval/rules/{id}/disable"),
            &app.admin,
            &json!({}),
        )
        .await,
        200,
    );
    assert!(!disabled.rule.enabled);

    // A bad field names it; an unknown id is 404.
    let bad = json!({"name": "x", "condition": {"kind": "replied_before", "days_lookback": 0}});
    let answer = app
        .post_json("/api/auto-approval/rules", &app.admin, &bad)
        .await;
    assert!(answer.0 == 400 || answer.0 == 422, "{answer:?}");
    let answer = app
        .post_json(
            &format!("/api/auto-approval/rules/{}/enable", Uuid::now_v7()),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_error(&answer, 404, "auto_approval.rule_not_found");

    let answer = caseyos_tests::send(app.request(
        reqwest::Method::DELETE,
        &format!("/api/auto-approval/rules/{id}"),
        Some(&app.admin),
    ))
    .await;
    let deleted: RuleResponse = expect_dto(&answer, 200);
    assert!(deleted.rule.archived);
    let answer = app
        .get_json(&format!("/api/auto-approval/rules/{id}"), &app.admin)
        .await;
    assert_error(&answer, 404, "auto_approval.rule_not_found");
    assert!(rules(&app).await.iter().all(|r| r.id != id));
    let events =
        caseyos_store::event::read_aggregate(&app.pool, "auto_approval_rule", &id.to_string())
            .await
            .unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        names,
        ["RuleCreated", "RuleUpdated", "RuleDisabled", "RuleArchived"]
    );

    // The document describes the condition's kinds as one of three.
    let (_, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    let condition = &doc["components"]["schemas"]["RuleCondition"];
    assert_eq!(
        condition["oneOf"].as_array().map(Vec::len),
        Some(3),
        "{condition}"
    );
}

#[tokio::test]
async fn auto_approval_approves_a_move_to_someone_who_replied_once_replied_before_is_enabled() {
    let app = spawn_app().await;
    record_reply(&app, "dana@acme.io").await;

    // Every rule is off from the start: the move needs review.
    let before = propose_email(&app, "dana@acme.io", None).await;
    let first = decision(&app, before).await;
    assert_eq!(review_reason(&first), "no auto-approval rule is enabled");
    assert_eq!(app.queue_item(before).await.status, QueueStatus::Pending);

    let rule = seed_rule(&app, "replied_before").await;
    enable(&app, rule.id).await;
    let item = propose_email(&app, "dana@acme.io", None).await;
    let decided = decision(&app, item).await;
    assert_eq!(approved_by(&decided), Some("Replied before"), "{decided:?}");
    assert!(
        matches!(decided.decision, AutoDecision::Approved { confidence: 95, rule_id, .. } if rule_id == rule.id)
    );
    assert_eq!(decided.checks[0].kind, "replied_before");
    assert!(decided.checks[0].matched);
    assert_eq!(decided.checks[0].reason, "dana@acme.io replied today");
    assert_eq!(decided.decided_by.to_string(), "system:auto-approval");

    let view = item_after_decision(&app, item).await;
    assert_eq!(view.status, QueueStatus::Approved);
    let approval = view.decision.expect("a decision");
    assert_eq!(approval.by.to_string(), "system:auto-approval");
    assert_eq!(
        approval.note.as_deref(),
        Some("auto-approved by the rule \"Replied before\" (95% confidence)")
    );
    // The decision is an event with its reasons.
    let events = caseyos_store::event::read_aggregate(
        &app.pool,
        "auto_approval_decision",
        &decision_id(item).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "AutoApprovalDecided");
    let payload = &events[0].payload["AutoApprovalDecided"];
    assert_eq!(payload["decision"]["outcome"], "approved");
    assert_eq!(payload["checks"][0]["matched"], true);

    // Someone who never replied, and a move with no recipient, need review.
    let stranger = propose_email(&app, "lee@elsewhere.io", None).await;
    let decided = decision(&app, stranger).await;
    assert_eq!(review_reason(&decided), "no rule matched");
    assert_eq!(decided.checks[0].reason, "lee@elsewhere.io never replied");
    let nobody = app
        .propose(
            &app.admin,
            json!({"action_type": "send_email", "title": "To nobody", "owner": "admin"}),
        )
        .await
        .item
        .id;
    assert_eq!(
        review_reason(&decision(&app, nobody).await),
        "the move names no recipient"
    );
    assert_eq!(app.queue_item(stranger).await.status, QueueStatus::Pending);
}

#[tokio::test]
async fn auto_approval_approves_a_high_icp_contact_and_leaves_a_low_one_for_review() {
    let app = spawn_app().await;
    let rule = seed_rule(&app, "high_icp_score").await;
    let body = json!({
        "name": rule.name,
        "condition": {"kind": "high_icp_score", "min_score": 70, "require_domain_match": true},
        "confidence": 85,
        "priority": 3,
        "enabled": true,
    });
    let answer = caseyos_tests::send(
        app.request(
            reqwest::Method::PUT,
            &format!("/api/auto-approval/rules/{}", rule.id),
            Some(&app.admin),
        )
        .json(&body),
    )
    .await;
    let _: RuleResponse = expect_dto(&answer, 200);

    // CEO (40) + opportunity (20) + a company domain (15) = 75.
    let ceo = create_contact(
        &app,
        json!({"first_name": "Dana", "email": "dana@acme.io", "job_title": "CEO",
               "company_domain": "acme.io", "lifecycle_stage": "opportunity"}),
    )
    .await;
    // Intern (5) + lead (6) = 11.
    let intern = create_contact(
        &app,
        json!({"first_name": "Lee", "email": "lee@gmail.com", "job_title": "Intern",
               "lifecycle_stage": "lead"}),
    )
    .await;
    let high = propose_email(&app, "dana@acme.io", Some(ceo)).await;
    let low = propose_email(&app, "lee@gmail.com", Some(intern)).await;

    let decided = decision(&app, high).await;
    assert_eq!(approved_by(&decided), Some("High ICP score"), "{decided:?}");
    assert!(
        decided.checks[0].reason.starts_with("ICP score 75 ≥ 70"),
        "{}",
        decided.checks[0].reason
    );
    assert_eq!(
        item_after_decision(&app, high).await.status,
        QueueStatus::Approved
    );

    let decided = decision(&app, low).await;
    assert_eq!(review_reason(&decided), "no rule matched");
    assert!(
        decided.checks[0]
            .reason
            .starts_with("ICP score 11 is below 70"),
        "{}",
        decided.checks[0].reason
    );
    assert_eq!(app.queue_item(low).await.status, QueueStatus::Pending);

    // The same high contact reached at another domain does not match the domain rule.
    let elsewhere = propose_email(&app, "dana@gmail.com", Some(ceo)).await;
    let decided = decision(&app, elsewhere).await;
    assert_eq!(
        decided.checks[0].reason,
        "ICP score 75, but dana@gmail.com is not at acme.io"
    );

    // An archived contact needs review whatever its score.
    let (status, body) = app
        .post_json(
            &format!("/api/contacts/{ceo}/archive"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let archived = propose_email(&app, "dana@acme.io", Some(ceo)).await;
    let decided = decision(&app, archived).await;
    assert_eq!(review_reason(&decided), "the move's contact is archived");
    assert!(decided.checks.is_empty());
    assert_eq!(app.queue_item(archived).await.status, QueueStatus::Pending);
}

#[tokio::test]
async fn auto_approval_runs_rules_in_priority_order() {
    let app = spawn_app().await;
    record_reply(&app, "dana@acme.io").await;
    for (name, priority) in [("Later", 20), ("First", 5)] {
        let body = json!({
            "name": name,
            "condition": {"kind": "replied_before"},
            "confidence": 80,
            "priority": priority,
            "enabled": true,
        });
        let _: RuleResponse = expect_dto(
            &app.post_json("/api/auto-approval/rules", &app.admin, &body)
                .await,
            201,
        );
    }
    let item = propose_email(&app, "dana@acme.io", None).await;
    let decided = decision(&app, item).await;
    assert_eq!(approved_by(&decided), Some("First"));
    let order: Vec<&str> = decided
        .checks
        .iter()
        .map(|c| c.rule_name.as_str())
        .collect();
    assert_eq!(order, ["First", "Later"]);
}

#[tokio::test]
async fn auto_approval_emergency_stop_turns_it_off_at_once_and_resuming_turns_it_back_on() {
    let app = spawn_app().await;
    record_reply(&app, "dana@acme.io").await;
    enable(&app, seed_rule(&app, "replied_before").await.id).await;

    let operator = app.token("ola", "operator").await;
    let stop = json!({"enabled": false, "reason": "a rule approved the wrong moves"});
    let answer = app
        .post_json("/api/admin/auto-approval", &operator, &stop)
        .await;
    assert_error(&answer, 403, "auth.forbidden");
    let answer = app
        .post_json("/api/admin/auto-approval", &app.admin, &stop)
        .await;
    let switches: GuardrailsResponse = expect_dto(&answer, 200);
    assert!(!switches.settings.auto_approval);
    assert_eq!(
        switches
            .settings
            .auto_approval_changed
            .and_then(|c| c.reason)
            .as_deref(),
        Some("a rule approved the wrong moves")
    );

    let stopped = propose_email(&app, "dana@acme.io", None).await;
    let decided = decision(&app, stopped).await;
    assert_eq!(review_reason(&decided), "auto-approval is stopped");
    assert_eq!(app.queue_item(stopped).await.status, QueueStatus::Pending);

    let answer = app
        .post_json(
            "/api/admin/auto-approval",
            &app.admin,
            &json!({"enabled": true}),
        )
        .await;
    let switches: GuardrailsResponse = expect_dto(&answer, 200);
    assert!(switches.settings.auto_approval);
    let resumed = propose_email(&app, "dana@acme.io", None).await;
    assert_eq!(
        approved_by(&decision(&app, resumed).await),
        Some("Replied before")
    );
    assert_eq!(
        item_after_decision(&app, resumed).await.status,
        QueueStatus::Approved
    );
}
