//! Signals in → proposed moves: the signed form webhook (valid, tampered, stale, unknown
//! form — the last three the same 401), a submission becoming a follow-up move with APS and
//! reasons, concurrent duplicate receipts landing once, one move per rule, entity and day
//! (two submissions of one address, two sweeps of one day), a HubSpot stage change through
//! the signed webhook becoming a signal and a move, manual signals, and `GET /api/signals`
//! showing what each produced.

use std::time::Duration;

use caseyos_backend::workers::hubspot_webhooks::process_due;
use caseyos_backend::workers::signals::{run_once, sweep};
use caseyos_domain::api::{FormSubmissionResponse, SignalListResponse, SignalResponse};
use caseyos_domain::queue::{ActionType, QueueItemView, Source};
use caseyos_domain::signals::{OutcomeStatus, Signal, SignalSource, SignalView};
use caseyos_store::CommandBus;
use chrono::Utc;
use futures::stream::{FuturesUnordered, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use caseyos_tests::{command_bus, expect_dto, query_i64, send, spawn_app_with, TestApp};

use super::hubspot_deals::{
    app_with_secret, deal, deliver_signed, delivery, fake_hubspot, quick, sync_deals,
};
use super::hubspot_sync::client;

const FORM_SECRET: &str = "demo-form-secret-0123456789";

async fn app() -> TestApp {
    spawn_app_with(|config| {
        config
            .form_secrets
            .insert("demo".into(), FORM_SECRET.into());
        // Sweeps run when a test asks.
        config.signal_sweep_interval_secs = 86_400;
    })
    .await
}

fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

async fn submit(app: &TestApp, form: &str, body: &str, signature: Option<String>) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/api/webhooks/forms/{form}", app.address))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("X-CaseyOS-Signature", signature);
    }
    send(request).await
}

async fn submit_signed(app: &TestApp, body: &str) -> FormSubmissionResponse {
    let sig = signature(FORM_SECRET, Utc::now().timestamp(), body);
    expect_dto(&submit(app, "demo", body, Some(sig)).await, 200)
}

/// Processes every signal recorded so far, then waits until the read models caught up.
async fn process(app: &TestApp, bus: &CommandBus) {
    run_once(&app.pool, bus, "casey").await.expect("a pass");
    settle(app).await;
}

async fn settle(app: &TestApp) {
    let head = caseyos_store::event::head(&app.pool).await.unwrap();
    let views = ["signals", "queue", "deals", "contacts"];
    for _ in 0..500 {
        let checkpoints = caseyos_projections::runner::checkpoints(&app.pool, &views)
            .await
            .unwrap();
        if checkpoints.iter().all(|c| *c >= head) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the read models did not catch up");
}

async fn signal(app: &TestApp, id: Uuid) -> SignalView {
    app.get_ok(&format!("/api/signals/{id}"), &app.admin).await
}

async fn item(app: &TestApp, id: Uuid) -> QueueItemView {
    app.queue_item(id).await
}

async fn received(app: &TestApp, id: Uuid) -> i64 {
    sqlx::query_scalar(
        "select count(*) from events where aggregate_type = 'signal' and aggregate_id = $1 \
         and event_type = 'SignalReceived'",
    )
    .bind(id.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_signed_form_submission_becomes_a_follow_up_move_with_aps_and_reasons() {
    let app = app().await;
    let bus = command_bus(&app.pool, 16);
    let body = r#"{"email":"dana@acme.io","name":"Dana Lee","company":"Acme"}"#;
    let answer = submit_signed(&app, body).await;
    assert!(!answer.duplicate);
    process(&app, &bus).await;

    let signal = signal(&app, answer.signal_id).await;
    assert_eq!(signal.source, SignalSource::Form);
    let processed = signal.processed.expect("processed");
    assert_eq!(processed.processor, "form_follow_up");
    assert_eq!(processed.outcome.status, OutcomeStatus::Proposed);
    let item_id = processed.outcome.item_id.expect("the move");
    assert_eq!(
        processed.outcome.title.as_deref(),
        Some("Follow up with Dana Lee (demo form)")
    );

    let item = item(&app, item_id).await;
    assert_eq!(item.action_type, ActionType::EmailFollowUp);
    assert_eq!(item.title, "Follow up with Dana Lee (demo form)");
    // The seed's form signal: r .6, u .9, s .5, e .2 → 69.
    assert_eq!(item.aps.score.as_f64(), 69.0);
    assert!(item.due_by.is_some());
    assert_eq!(item.payload["to"], "dana@acme.io");
    assert_eq!(
        item.source,
        Source::Signal {
            provider: "form".into(),
            signal_id: answer.signal_id.to_string()
        }
    );
    let rationale = item.rationale.expect("reasons");
    assert!(
        rationale.contains("Dana Lee submitted the demo form"),
        "{rationale}"
    );
    assert!(rationale.contains("Urgency 90%"), "{rationale}");

    // The audit shows the signal's history.
    let (status, audit) = app
        .get_json(
            &format!("/api/audit/signal/{}", answer.signal_id),
            &app.admin,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert!(audit.to_string().contains("SignalProcessed"), "{audit}");
}

#[tokio::test]
async fn unknown_forms_tampered_bodies_and_stale_signatures_get_the_same_401() {
    let app = app().await;
    let body = r#"{"email":"dana@acme.io"}"#;
    let now = Utc::now().timestamp();
    let refusals = [
        (
            "demo",
            r#"{"email":"eve@evil.io"}"#.to_string(),
            Some(signature(FORM_SECRET, now, body)),
        ),
        (
            "demo",
            body.to_string(),
            Some(signature("another-secret-0123456789", now, body)),
        ),
        (
            "demo",
            body.to_string(),
            Some(signature(FORM_SECRET, now - 360, body)),
        ),
        (
            "demo",
            body.to_string(),
            Some(signature(FORM_SECRET, now + 360, body)),
        ),
        ("demo", body.to_string(), None),
        ("demo", body.to_string(), Some("t=,v1=".into())),
        (
            "pricing",
            body.to_string(),
            Some(signature(FORM_SECRET, now, body)),
        ),
        (
            "no such form!",
            body.to_string(),
            Some(signature(FORM_SECRET, now, body)),
        ),
    ];
    let mut answers = Vec::new();
    for (form, body, signature) in refusals {
        let (status, answer) = submit(&app, form, &body, signature).await;
        assert_eq!(status, 401, "{form} {answer}");
        answers.push((
            answer["error"]["code"].clone(),
            answer["error"]["message"].clone(),
        ));
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "every refusal alike: {answers:?}"
    );
    assert_eq!(answers[0].0, "webhook.bad_signature");
    assert_eq!(
        query_i64(
            &app.pool,
            "select count(*) from events where aggregate_type = 'signal'"
        )
        .await,
        0
    );
    // Within the window it is taken.
    let sig = signature(FORM_SECRET, now - 299, body);
    let (status, answer) = submit(&app, "demo", body, Some(sig)).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn twenty_concurrent_identical_receipts_record_one_signal() {
    let app = app().await;
    let body = r#"{"email":"dana@acme.io","name":"Dana Lee"}"#;
    let sig = signature(FORM_SECRET, Utc::now().timestamp(), body);
    let answers: Vec<(u16, Value)> = (0..20)
        .map(|_| submit(&app, "demo", body, Some(sig.clone())))
        .collect::<FuturesUnordered<_>>()
        .collect()
        .await;
    let answers: Vec<FormSubmissionResponse> = answers.iter().map(|a| expect_dto(a, 200)).collect();
    let id = answers[0].signal_id;
    assert!(answers.iter().all(|a| a.signal_id == id));
    assert_eq!(
        answers.iter().filter(|a| !a.duplicate).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(received(&app, id).await, 1);

    // The same at the command bus, for a manual signal's dedup key.
    let bus = command_bus(&app.pool, 16);
    let request = json!({"title": "Call Dana", "dedup_key": "call-dana"});
    let answers: Vec<(u16, Value)> = (0..20)
        .map(|_| app.post_json("/api/signals", &app.admin, &request))
        .collect::<FuturesUnordered<_>>()
        .collect()
        .await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let duplicates = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, duplicates), (1, 19), "{answers:?}");
    let manual = Signal::id_of(SignalSource::Manual, "call-dana");
    assert_eq!(received(&app, manual).await, 1);
    process(&app, &bus).await;
    assert_eq!(
        query_i64(&app.pool, "select count(*) from queue_items").await,
        2,
        "one move each"
    );
}

#[tokio::test]
async fn one_move_per_rule_entity_and_day_and_the_list_shows_what_each_signal_produced() {
    let app = app().await;
    let bus = command_bus(&app.pool, 16);
    let first = submit_signed(&app, r#"{"email":"dana@acme.io","message":"demo please"}"#).await;
    let second = submit_signed(&app, r#"{"email":"dana@acme.io","message":"and pricing"}"#).await;
    let nameless = submit_signed(&app, r#"{"name":"No Address"}"#).await;
    assert_ne!(first.signal_id, second.signal_id);
    process(&app, &bus).await;

    let first = signal(&app, first.signal_id)
        .await
        .processed
        .unwrap()
        .outcome;
    let second = signal(&app, second.signal_id)
        .await
        .processed
        .unwrap()
        .outcome;
    assert_eq!(first.status, OutcomeStatus::Proposed);
    assert_eq!(second.status, OutcomeStatus::Skipped);
    assert_eq!(second.code.as_deref(), Some("already_proposed"));
    assert_eq!(second.item_id, first.item_id, "the move that covers it");

    let list: SignalListResponse = app.get_ok("/api/signals?source=form", &app.admin).await;
    assert_eq!(list.total, 3);
    let outcomes: Vec<(Option<String>, Option<String>)> = list
        .items
        .iter()
        .map(|s| {
            let o = &s.processed.as_ref().expect("processed").outcome;
            (o.code.clone(), o.title.clone())
        })
        .collect();
    assert!(
        outcomes.contains(&(Some("missing_email".into()), None)),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&(None, Some("Follow up with dana@acme.io (demo form)".into()))),
        "{outcomes:?}"
    );
    let skipped: SignalListResponse = app
        .get_ok(
            "/api/signals?status=skipped&entity=dana@acme.io",
            &app.admin,
        )
        .await;
    assert_eq!(skipped.total, 1);
    let pending: SignalListResponse = app.get_ok("/api/signals?status=pending", &app.admin).await;
    assert_eq!(pending.total, 0);
    let page: SignalListResponse = app.get_ok("/api/signals?limit=2", &app.admin).await;
    assert_eq!(page.items.len(), 2);
    let cursor = page.next_cursor.expect("a second page");
    let rest: SignalListResponse = app
        .get_ok(&format!("/api/signals?limit=2&cursor={cursor}"), &app.admin)
        .await;
    assert_eq!(rest.items.len(), 1);
    let (status, _) = app.get_json("/api/signals?status=bogus", &app.admin).await;
    assert_eq!(status, 400);
    let nobody: SignalListResponse = app.get_ok("/api/signals?entity=nobody", &app.admin).await;
    assert_eq!(nobody.total, 0);
    let _ = nameless;
}

#[tokio::test]
async fn two_sweeps_of_one_day_record_each_finding_once_and_propose_one_move_each() {
    let app = app().await;
    let bus = command_bus(&app.pool, 16);
    let today = Utc::now().date_naive();
    let deal: Value = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "Globex renewal", "amount": {"minor": 6_000_000, "currency": "USD"},
                    "close_date": (today + chrono::Duration::days(10)).to_string()}),
        )
        .await
        .1;
    let deal_id: Uuid = serde_json::from_value(deal["deal"]["id"].clone()).expect("a deal");
    let (status, contact) = app
        .post_json(
            "/api/contacts",
            &app.admin,
            &json!({"first_name": "Ola", "last_name": "Nordmann", "emails": ["ola@globex.io"],
                    "last_contacted_at": (Utc::now() - chrono::Duration::days(20)).to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    settle(&app).await;

    // Eight days from now the deal has not changed for 8 days and closes in 2.
    let later = Utc::now() + chrono::Duration::days(8);
    let first = sweep(&app.pool, &bus, later, true).await.unwrap();
    let again = sweep(&app.pool, &bus, later + chrono::Duration::minutes(5), true)
        .await
        .unwrap();
    // Deal stalled, closing soon; the contact is then 28 days cold.
    assert_eq!((first.recorded, first.duplicates), (3, 0), "{first:?}");
    assert_eq!((again.recorded, again.duplicates), (0, 3), "{again:?}");
    process(&app, &bus).await;

    let rules: SignalListResponse = app.get_ok("/api/signals?source=rule", &app.admin).await;
    assert_eq!(rules.total, 3);
    let moves: Vec<QueueItemView> = {
        let mut moves = Vec::new();
        for s in &rules.items {
            let outcome = &s.processed.as_ref().expect("processed").outcome;
            assert_eq!(outcome.status, OutcomeStatus::Proposed, "{outcome:?}");
            moves.push(item(&app, outcome.item_id.unwrap()).await);
        }
        moves
    };
    let stalled = moves
        .iter()
        .find(|m| m.action_type == ActionType::FollowUp)
        .expect("the stalled deal's follow-up");
    assert_eq!(
        stalled.title,
        "Follow up on Globex renewal: no change for 8 days"
    );
    // CRITICAL (≥ $50k): 95 + 10 → 100 as urgency; r .9, s (appointment scheduled) .4,
    // e .5 → 36 + 30 + 8 + 5 = 79.
    assert_eq!(stalled.aps.score.as_f64(), 79.0);
    assert!(stalled
        .rationale
        .as_deref()
        .unwrap_or_default()
        .contains("CRITICAL"));
    assert_eq!(
        stalled.target.deal.as_ref().unwrap().id.as_str(),
        deal_id.to_string()
    );
    assert!(moves
        .iter()
        .any(|m| m.title == "Review Globex renewal: closes in 2 days"));
    assert!(moves.iter().any(|m| m.action_type == ActionType::CheckIn
        && m.title.starts_with("Check in with Ola Nordmann")));
    assert_eq!(
        query_i64(&app.pool, "select count(*) from queue_items").await,
        3
    );
}

#[tokio::test]
async fn a_hubspot_stage_change_through_the_signed_webhook_becomes_a_signal_and_a_move() {
    let (server, deals) = fake_hubspot().await;
    let app = app_with_secret(None).await;
    let bus = command_bus(&app.pool, 16);
    let client = client(&server);
    *deals.searchable.lock().unwrap() = vec![deal("9001", "qualifiedtobuy", "60000", 1)];
    sync_deals(&app, &client).await;
    *deals.readable.lock().unwrap() = vec![deal("9001", "contractsent", "60000", 2)];

    let (status, answer) =
        deliver_signed(&app, &delivery(&[(20, "deal.propertyChange", "9001")])).await;
    assert_eq!(status, 200, "{answer}");
    process_due(&app.pool, &bus, &client, &quick())
        .await
        .unwrap();
    // One signal per HubSpot eventId.
    let id = Signal::id_of(SignalSource::Hubspot, "20");
    assert_eq!(received(&app, id).await, 1);
    process(&app, &bus).await;

    let signal = signal(&app, id).await;
    assert_eq!(signal.kind.as_str(), "deal_stage_changed");
    assert_eq!(signal.payload["previous_stage"]["id"], "qualifiedtobuy");
    let outcome = signal.processed.expect("processed").outcome;
    assert_eq!(outcome.status, OutcomeStatus::Proposed, "{outcome:?}");
    let item = item(&app, outcome.item_id.unwrap()).await;
    assert_eq!(item.action_type, ActionType::DealProgression);
    // r .9 ($60k), u .95, s .9 (contract sent), e .3 → 89.5.
    assert_eq!(item.aps.score.as_f64(), 89.5);
    let rationale = item.rationale.unwrap_or_default();
    assert!(rationale.contains("advanced from"), "{rationale}");
    assert_eq!(
        item.source,
        Source::Signal {
            provider: "hubspot".into(),
            signal_id: id.to_string()
        }
    );
}

#[tokio::test]
async fn a_manual_signal_needs_an_operator_and_proposes_its_title_to_its_author() {
    let app = app().await;
    let bus = command_bus(&app.pool, 16);
    let viewer = app.token("vera", "viewer").await;
    let (status, _) = app
        .post_json("/api/signals", &viewer, &json!({"title": "Call Dana"}))
        .await;
    assert_eq!(status, 403);
    let (status, answer) = app
        .post_json("/api/signals", &app.admin, &json!({"title": "  "}))
        .await;
    assert_eq!(status, 422, "{answer}");
    let created: SignalResponse = expect_dto(
        &app.post_json(
            "/api/signals",
            &app.admin,
            &json!({"title": "Call Dana about the renewal", "action_type": "check_in",
                    "contact_email": "dana@acme.io"}),
        )
        .await,
        201,
    );
    assert!(!created.duplicate);
    process(&app, &bus).await;
    let outcome = signal(&app, created.signal.id)
        .await
        .processed
        .unwrap()
        .outcome;
    let item = item(&app, outcome.item_id.expect("a move")).await;
    assert_eq!(item.title, "Call Dana about the renewal");
    assert_eq!(item.action_type, ActionType::CheckIn);
    assert_eq!(item.owner, created.signal.recorded_by.id);
    assert_eq!(item.aps.score.as_f64(), 46.0);
}
