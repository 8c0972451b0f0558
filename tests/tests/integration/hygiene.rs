//! The hygiene agents end to end on real contacts: ContactValidation and DuplicateWatcher
//! run through the API record validations on contacts and open duplicate pairs; a second
//! watch records nothing; a pair marked "not a duplicate" stays closed; DataDecay raises
//! one stale alert a day, which a person dismisses; the daily report and the dashboard
//! card count it all from the events.

use std::time::Duration;

use caseyos_domain::agent_run::{AgentRunView, RunStatus};
use caseyos_domain::api::{
    AlertListResponse, AlertResponse, HygieneDashboardResponse, HygieneReportListResponse,
};
use caseyos_domain::contacts::{
    Contact, ContactCommand, ContactSource, CreateContact, FieldEdit, Phone,
};
use caseyos_domain::duplicates::{pair_id, DuplicatePair, DuplicatePairCommand};
use caseyos_domain::kernel::{Actor, EmailAddress, Text};
use caseyos_store::event::read_history;
use caseyos_store::{now, CommandBus, CommandMeta};
use caseyos_tests::{command_bus, expect_dto, spawn_app, TestApp};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

const GUARD: Duration = Duration::from_secs(60);

struct Person<'a> {
    first: &'a str,
    last: &'a str,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    last_contacted_at: Option<DateTime<Utc>>,
}

async fn create(bus: &CommandBus, person: Person<'_>) -> Uuid {
    let id = Uuid::now_v7();
    let text = |t: &str| Some(Text::parse(t, 200).expect("text"));
    let mut fields = vec![
        FieldEdit::FirstName(text(person.first)),
        FieldEdit::LastName(text(person.last)),
    ];
    if let Some(email) = person.email {
        fields.push(FieldEdit::Emails(vec![
            EmailAddress::parse(email).expect("an address")
        ]));
    }
    if let Some(phone) = person.phone {
        fields.push(FieldEdit::Phones(vec![Phone {
            raw: phone.into(),
            e164: Some(phone.into()),
        }]));
    }
    if let Some(at) = person.last_contacted_at {
        fields.push(FieldEdit::LastContactedAt(Some(at)));
    }
    let command = ContactCommand::Create(Box::new(CreateContact {
        id,
        fields,
        source: ContactSource::Manual,
        import_id: None,
        demo: false,
        by: Actor::user("admin"),
        at: now(),
    }));
    bus.execute::<Contact>(id, command, &CommandMeta::system("test"))
        .await
        .expect("created");
    id
}

/// Runs `agent` on `input` through the API and waits until it succeeded.
async fn run(app: &TestApp, agent: &str, input: Value) -> AgentRunView {
    let answer = app
        .post_json(
            &format!("/api/agents/{agent}/runs"),
            &app.admin,
            &json!({"input": input}),
        )
        .await;
    assert_eq!(answer.0, 202, "{agent}: {}", answer.1);
    let id = answer.1["id"].as_str().expect("a run id").to_string();
    let run = app
        .wait_for_run(&app.admin, &id, GUARD, |run| run.status.is_finished())
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{agent}: {:?}", run.error);
    run
}

/// Waits until the contacts read model holds `n` contacts (the agents read it).
async fn contacts_projected(app: &TestApp, n: i64) {
    let started = std::time::Instant::now();
    loop {
        let count: i64 = sqlx::query_scalar("select count(*) from contacts")
            .fetch_one(&app.pool)
            .await
            .expect("count");
        if count >= n {
            return;
        }
        assert!(started.elapsed() < GUARD, "contacts never projected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn event_types<A: caseyos_domain::aggregate::Aggregate>(
    app: &TestApp,
    id: Uuid,
) -> Vec<String> {
    read_history::<A>(&app.pool, &id.to_string())
        .await
        .expect("history")
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[tokio::test]
async fn hygiene_agents_record_validations_pairs_alerts_and_the_days_report() {
    let app = spawn_app().await;
    let bus = command_bus(&app.pool, 16);
    let person = |first, last, email, phone| Person {
        first,
        last,
        email,
        phone,
        last_contacted_at: Some(now()),
    };
    let ada = create(
        &bus,
        person("Ada", "Lovelace", Some("ada@analytical.example"), None),
    )
    .await;
    let ada_again = create(
        &bus,
        person("Ada", "Lovelace", Some("ada@analytical.example"), None),
    )
    .await;
    let grace = create(
        &bus,
        person(
            "Grace",
            "Hopper",
            Some("grace@navy.example"),
            Some("+14155550100"),
        ),
    )
    .await;
    let grace_again = create(
        &bus,
        person(
            "Grace",
            "Hopper",
            Some("ghopper@cobol.example"),
            Some("+14155550100"),
        ),
    )
    .await;
    let unreachable = create(
        &bus,
        Person {
            first: "Nobody",
            last: "Reachable",
            email: None,
            phone: None,
            last_contacted_at: Some(now() - chrono::Duration::days(200)),
        },
    )
    .await;
    contacts_projected(&app, 5).await;

    // Validation: every contact once, the unreachable one invalid, as events on contacts.
    let validation = run(&app, "ContactValidation", json!({})).await;
    let out = validation.output.expect("an output");
    assert_eq!(out["checked"], 5, "{out}");
    assert_eq!(out["invalid"], 1, "{out}");
    assert_eq!(out["effects"]["validations"]["recorded"], 5, "{out}");
    for id in [ada, ada_again, grace, grace_again, unreachable] {
        let types = event_types::<Contact>(&app, id).await;
        assert_eq!(types, ["ContactCreated", "ContactValidated"], "{id}");
    }

    // Duplicates: the same address, and the same phone across two domains.
    let watch = run(&app, "DuplicateWatcher", json!({})).await;
    let out = watch.output.expect("an output");
    assert_eq!(out["contacts_scanned"], 5, "{out}");
    assert_eq!(out["new"], 2, "{out}");
    assert_eq!(out["effects"]["duplicate_pairs"]["recorded"], 2, "{out}");
    let ada_pair = pair_id(ada, ada_again);
    let grace_pair = pair_id(grace, grace_again);
    for pair in [ada_pair, grace_pair] {
        assert_eq!(
            event_types::<DuplicatePair>(&app, pair).await,
            ["DuplicatePairDetected"],
            "{pair}"
        );
    }

    // A second watch over the same contacts records nothing new.
    let again = run(&app, "DuplicateWatcher", json!({})).await;
    let out = again.output.expect("an output");
    assert_eq!(out["new"], 0, "{out}");
    assert_eq!(out["unchanged"], 2, "{out}");
    assert!(out.get("effects").is_none(), "no effects: {out}");

    // A pair marked "not a duplicate" is not proposed again while neither record changes.
    bus.execute::<DuplicatePair>(
        grace_pair,
        DuplicatePairCommand::MarkNotDuplicate {
            by: Actor::user("admin"),
            at: now(),
        },
        &CommandMeta::system("test"),
    )
    .await
    .expect("marked");
    let after_decision = run(&app, "DuplicateWatcher", json!({})).await;
    let out = after_decision.output.expect("an output");
    assert_eq!(out["kept_closed"], 1, "{out}");
    assert_eq!(out["reopened"], 0, "{out}");
    assert_eq!(
        event_types::<DuplicatePair>(&app, grace_pair).await,
        ["DuplicatePairDetected", "DuplicatePairMarkedNotDuplicate"]
    );

    // Decay: the contact untouched for 200 days raises one stale alert for today.
    let decay = run(&app, "DataDecay", json!({})).await;
    let out = decay.output.expect("an output");
    assert_eq!(out["stale_90_plus"], 1, "{out}");
    let alerts: AlertListResponse = app.get_ok("/api/alerts", &app.admin).await;
    assert_eq!(alerts.total, 1, "{alerts:?}");
    let alert = &alerts.items[0];
    assert_eq!(alert.kind.as_str(), "contact.stale");
    assert_eq!(alert.title, "1 contact untouched for 90+ days");
    assert_eq!(alert.raised_by_run, Some(decay.id));
    let dismissed = app
        .post_json(
            &format!("/api/alerts/{}/dismiss", alert.id),
            &app.admin,
            &json!({}),
        )
        .await;
    let dismissed: AlertResponse = expect_dto(&dismissed, 200);
    assert_eq!(dismissed.alert.status.as_str(), "dismissed");
    // The same day's run does not bring a dismissed alert back.
    run(&app, "DataDecay", json!({})).await;
    let open: AlertListResponse = app.get_ok("/api/alerts", &app.admin).await;
    assert_eq!(open.total, 0, "{open:?}");
    let all: AlertListResponse = app.get_ok("/api/alerts?status=all", &app.admin).await;
    assert_eq!(all.total, 1, "{all:?}");

    // Without HubSpot, SyncHealth says so and raises nothing.
    let sync = run(&app, "SyncHealth", json!({})).await;
    assert_eq!(sync.output.expect("an output")["status"], "not_connected");

    // The day's report counts it all from the events.
    let reports: HygieneReportListResponse = app.get_ok("/api/hygiene/reports", &app.admin).await;
    assert_eq!(reports.total, 1, "{reports:?}");
    let today = &reports.items[0];
    assert_eq!(today.date, now().date_naive());
    // (what, counted, expected)
    let table = [
        ("duplicates found", today.duplicates_found, 2),
        ("merged", today.merged, 0),
        ("validated", today.validated, 5),
        ("invalid", today.invalid, 1),
        ("enriched", today.enriched, 0),
        ("stale", today.stale.unwrap_or(-1), 1),
        ("stale of", today.stale_of.unwrap_or(-1), 5),
    ];
    for (what, counted, expected) in table {
        assert_eq!(counted, expected, "{what}: {today:?}");
    }
    assert_eq!(today.sync_status.as_deref(), Some("not_connected"));
    // Any range is answered: a long one with its newest 366 reports at most, one that ends
    // before it starts with none.
    let long: HygieneReportListResponse = app
        .get_ok("/api/hygiene/reports?from=2000-01-01", &app.admin)
        .await;
    assert_eq!(long.items, reports.items, "a long range");
    let backwards: HygieneReportListResponse = app
        .get_ok(
            "/api/hygiene/reports?from=2026-12-02&to=2026-12-01",
            &app.admin,
        )
        .await;
    assert_eq!(backwards.total, 0, "{backwards:?}");

    let card: HygieneDashboardResponse = app.get_ok("/api/dashboard/hygiene", &app.admin).await;
    let names: Vec<&str> = card.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "open_duplicates",
            "invalid_percent",
            "stale_percent",
            "sync_status"
        ]
    );
    assert_eq!(card.checks[0].value, json!(1), "one pair is still open");
    assert_eq!(card.checks[1].value, json!(20), "1 of 5 invalid");
    assert_eq!(
        card.checks[1].thresholds,
        json!({"yellow": 5, "red": 15, "default": true}),
        "thresholds nobody configured are marked as defaults"
    );
    assert_eq!(card.checks[2].value, json!(20), "1 of 5 stale");
    assert_eq!(
        serde_json::to_value(card.status).unwrap(),
        json!("red"),
        "20% invalid is past the red threshold"
    );
    assert_eq!(card.report, *today);
}
