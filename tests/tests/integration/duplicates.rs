//! Duplicate review: merge (with a dry run), not a duplicate, unmerge, the merge reactor
//! completing what a crash left half done, and the HubSpot push made exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use caseyos_backend::commands::contacts::{merge, unmerge, MergeTarget};
use caseyos_backend::config::HubSpotConfig;
use caseyos_backend::connectors::hubspot::{HubSpotClient, CRM_API_VERSION};
use caseyos_backend::workers::contact_merges::{self, CrmContacts};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::{
    ChangeSource, Contact, ContactCommand, ContactSource, ContactStatus, ContactView,
    CreateContact, EditContact, FieldEdit, MergeInto,
};
use caseyos_domain::crm_merges::{
    CrmCallKind, CrmCallStatus, CrmMerge, CrmMergeCommand, CrmMergeView,
};
use caseyos_domain::duplicates::{
    pair_id, DuplicatePair, DuplicatePairCommand, DuplicatePairView, Finding, MatchReason,
    PairStatus,
};
use caseyos_domain::kernel::{Actor, CrmId, EmailAddress, Text};
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandMeta};
use caseyos_tests::{command_bus, fresh_database, spawn_app, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn text(raw: &str) -> Option<Text> {
    Some(Text::parse(raw, 256).expect("text"))
}

fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).expect("an email")
}

fn meta() -> CommandMeta {
    CommandMeta::system("test")
}

/// Two contacts that are one person, and the pair a matcher found; `crm` gives them
/// HubSpot ids. Answers (lower id, higher id, pair id).
async fn a_pair(bus: &CommandBus, crm: Option<(&str, &str)>) -> (Uuid, Uuid, Uuid) {
    let mut ids = [Uuid::now_v7(), Uuid::now_v7()];
    ids.sort();
    let [a, b] = ids;
    let mut fields_a = vec![
        FieldEdit::FirstName(text("Ana")),
        FieldEdit::LastName(text("Lima")),
        FieldEdit::Emails(vec![email("ana@acme.com")]),
        FieldEdit::CompanyName(text("Acme")),
    ];
    let mut fields_b = vec![
        FieldEdit::FirstName(text("Ana")),
        FieldEdit::LastName(text("Lima")),
        FieldEdit::Emails(vec![email("ana.lima@example.com")]),
        FieldEdit::JobTitle(text("CTO")),
        FieldEdit::CompanyName(text("ACME Inc")),
    ];
    if let Some((crm_a, crm_b)) = crm {
        fields_a.push(FieldEdit::CrmId(Some(CrmId::parse(crm_a).unwrap())));
        fields_b.push(FieldEdit::CrmId(Some(CrmId::parse(crm_b).unwrap())));
    }
    for (id, fields) in [(a, fields_a), (b, fields_b)] {
        bus.execute::<Contact>(
            id,
            ContactCommand::Create(Box::new(CreateContact {
                id,
                fields,
                source: ContactSource::Manual,
                import_id: None,
                demo: false,
                by: Actor::user("casey"),
                at: now(),
            })),
            &meta(),
        )
        .await
        .expect("create a contact");
    }
    detect(bus, a, b, ["fa", "fb"]).await;
    (a, b, pair_id(a, b))
}

async fn detect(bus: &CommandBus, a: Uuid, b: Uuid, fingerprints: [&str; 2]) -> DuplicatePairView {
    bus.execute::<DuplicatePair>(
        pair_id(a, b),
        DuplicatePairCommand::Detect {
            finding: Finding {
                a,
                b,
                score: 0.91,
                reasons: vec![MatchReason {
                    code: "name.same".into(),
                    detail: "Ana Lima".into(),
                }],
                criteria_version: 1,
                fingerprints: fingerprints.map(String::from),
            },
            run_id: None,
            by: Actor::agent("DuplicateWatcher"),
            at: now(),
        },
        &meta(),
    )
    .await
    .expect("detect")
    .state
    .pair
    .expect("a pair")
}

async fn contact(pool: &PgPool, id: Uuid) -> ContactView {
    let state: Contact = state_at(pool, &id.to_string(), i64::MAX).await.unwrap();
    state.into_view().expect("the contact")
}

async fn pair(pool: &PgPool, id: Uuid) -> DuplicatePairView {
    let state: DuplicatePair = state_at(pool, &id.to_string(), i64::MAX).await.unwrap();
    state.into_view().expect("the pair")
}

async fn crm_of(pool: &PgPool, merge_id: Uuid) -> Option<CrmMergeView> {
    let state: CrmMerge = state_at(pool, &merge_id.to_string(), i64::MAX)
        .await
        .unwrap();
    state.into_view()
}

async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from events")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn bus_of(app: &TestApp) -> CommandBus {
    command_bus(&app.pool, 5)
}

#[tokio::test]
async fn merging_then_unmerging_returns_both_records_field_by_field_and_keeps_an_edit_made_to_the_primary_since(
) {
    let app = spawn_app().await;
    let bus = bus_of(&app);
    let (a, b, pair) = a_pair(&bus, None).await;
    let before_a = contact(&app.pool, a).await.fields;
    let before_b = contact(&app.pool, b).await.fields;

    // The primary keeps its name; company_name from the other (a per-field choice); the
    // empty job title is filled from the other; emails combine, the primary's first.
    let answer = app
        .post_json(
            &format!("/api/hygiene/duplicates/{pair}/merge"),
            &app.admin,
            &json!({"primary": a, "fields": {"company_name": b}}),
        )
        .await;
    assert_eq!(answer.0, 200, "{answer:?}");
    let body = answer.1;
    assert_eq!(body["dry_run"], false);
    let merge_id: Uuid = serde_json::from_value(body["merge_id"].clone()).unwrap();
    assert_eq!(body["primary"]["fields"]["company_name"], "ACME Inc");
    assert_eq!(body["primary"]["fields"]["job_title"], "CTO");
    assert_eq!(
        body["primary"]["fields"]["emails"],
        json!(["ana@acme.com", "ana.lima@example.com"])
    );
    assert_eq!(body["secondary"]["status"], "merged");
    assert_eq!(body["pair"]["status"], "merged");
    assert_eq!(body["choices"], json!({"company_name": "other"}));
    assert!(
        body["crm_note"].as_str().unwrap().contains("permanent"),
        "{body}"
    );

    // An edit to the primary after the merge.
    bus.execute::<Contact>(
        a,
        ContactCommand::Edit(EditContact {
            fields: vec![FieldEdit::JobTitle(text("VP Engineering"))],
            source: ChangeSource::Manual,
            by: Actor::user("casey"),
            at: now(),
        }),
        &meta(),
    )
    .await
    .unwrap();

    let answer = app
        .post_json(
            &format!("/api/contacts/{b}/unmerge"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(answer.0, 200, "{answer:?}");
    assert_eq!(answer.1["merge_id"], json!(merge_id));
    assert_eq!(answer.1["recreate_in_crm"], false);
    assert!(answer.1["crm_note"].as_str().unwrap().contains("permanent"));

    let after_a = contact(&app.pool, a).await;
    let after_b = contact(&app.pool, b).await;
    assert_eq!(after_b.status, ContactStatus::Active);
    assert_eq!(
        after_b.fields, before_b,
        "the absorbed contact is as it was"
    );
    let mut expected_a = before_a.clone();
    expected_a.job_title = Some("VP Engineering".into());
    assert_eq!(
        after_a.fields, expected_a,
        "the primary is as it was, with the edit made since kept"
    );
    assert_eq!(pair_status(&app, pair).await, PairStatus::Unmerged);

    // Unmerging again: it is not merged any more.
    let again = app
        .post_json(
            &format!("/api/contacts/{b}/unmerge"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(again.0, 409, "{again:?}");
    assert_eq!(again.1["error"]["code"], "contact.not_merged");
    app.stop().await;
}

async fn pair_status(app: &TestApp, id: Uuid) -> PairStatus {
    pair(&app.pool, id).await.status
}

#[tokio::test]
async fn a_dry_run_answers_the_merged_record_and_writes_nothing() {
    let app = spawn_app().await;
    let bus = bus_of(&app);
    let (a, b, pair) = a_pair(&bus, None).await;
    let events = event_count(&app.pool).await;
    let answer = app
        .post_json(
            &format!("/api/hygiene/duplicates/{pair}/merge"),
            &app.admin,
            &json!({"primary": b, "fields": {"emails": a, "first_name": b}, "dry_run": true}),
        )
        .await;
    assert_eq!(answer.0, 200, "{answer:?}");
    let body = &answer.1;
    assert_eq!(body["dry_run"], true);
    assert_eq!(body["merge_id"], Value::Null);
    assert_eq!(body["consistency"], Value::Null);
    // The per-field choice: a's emails first.
    assert_eq!(
        body["merged"]["emails"],
        json!(["ana@acme.com", "ana.lima@example.com"])
    );
    assert_eq!(body["merged"]["company_name"], "ACME Inc");
    let changed: Vec<&str> = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(changed, vec!["emails"], "{body}");
    assert_eq!(body["secondary"]["status"], "active");
    assert_eq!(
        event_count(&app.pool).await,
        events,
        "a dry run appends no event"
    );
    assert_eq!(pair_status(&app, pair).await, PairStatus::Open);
    app.stop().await;
}

#[tokio::test]
async fn a_merge_names_a_bad_field_and_refuses_a_merged_pair_or_an_archived_contact() {
    let app = spawn_app().await;
    let bus = bus_of(&app);
    let (a, b, pair) = a_pair(&bus, None).await;
    let url = format!("/api/hygiene/duplicates/{pair}/merge");
    let bad = app
        .post_json(
            &url,
            &app.admin,
            &json!({"primary": a, "fields": {"job_titel": b}}),
        )
        .await;
    assert_eq!(bad.0, 422, "{bad:?}");
    assert!(
        bad.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("job_titel"),
        "{bad:?}"
    );
    let stranger = Uuid::now_v7();
    let bad = app
        .post_json(
            &url,
            &app.admin,
            &json!({"primary": a, "fields": {"job_title": stranger}}),
        )
        .await;
    assert_eq!(bad.0, 422, "{bad:?}");
    let bad = app
        .post_json(&url, &app.admin, &json!({"primary": stranger}))
        .await;
    assert_eq!(bad.0, 422, "{bad:?}");
    assert_eq!(bad.1["error"]["details"]["fields"][0]["field"], "primary");

    let ok = app
        .post_json(&url, &app.admin, &json!({"primary": a}))
        .await;
    assert_eq!(ok.0, 200, "{ok:?}");
    let again = app
        .post_json(&url, &app.admin, &json!({"primary": a}))
        .await;
    assert_eq!(again.0, 409, "{again:?}");
    assert_eq!(again.1["error"]["code"], "duplicate.already_merged");

    let (c, d, other) = a_pair(&bus, None).await;
    bus.execute::<Contact>(
        d,
        ContactCommand::Archive {
            reason: None,
            by: Actor::user("casey"),
            at: now(),
        },
        &meta(),
    )
    .await
    .unwrap();
    let archived = app
        .post_json(
            &format!("/api/hygiene/duplicates/{other}/merge"),
            &app.admin,
            &json!({"primary": c}),
        )
        .await;
    assert_eq!(archived.0, 409, "{archived:?}");
    assert_eq!(archived.1["error"]["code"], "contact.archived");
    let missing = app
        .post_json(
            &format!("/api/hygiene/duplicates/{}/merge", Uuid::now_v7()),
            &app.admin,
            &json!({"primary": c}),
        )
        .await;
    assert_eq!(missing.0, 404, "{missing:?}");
    assert_eq!(missing.1["error"]["code"], "duplicate.not_found");
    app.stop().await;
}

#[tokio::test]
async fn a_repeated_merge_request_with_the_same_idempotency_key_is_answered_as_the_first() {
    let app = spawn_app().await;
    let bus = bus_of(&app);
    let (a, _, pair) = a_pair(&bus, None).await;
    let url = format!("{}/api/hygiene/duplicates/{pair}/merge", app.address);
    let send = || {
        app.client
            .post(&url)
            .bearer_auth(&app.admin)
            .header("idempotency-key", "merge-ana-1")
            .json(&json!({"primary": a}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let first: Value = first.json().await.unwrap();
    // The merge reactor completes the merge after the answer: count once it has.
    caseyos_tests::settle_everything(&app.pool).await;
    let events = event_count(&app.pool).await;
    let second = send().await.unwrap();
    assert_eq!(second.status().as_u16(), 200);
    assert_eq!(second.headers().get("idempotent-replayed").unwrap(), "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["merge_id"], first["merge_id"]);
    assert_eq!(second["primary"]["fields"], first["primary"]["fields"]);
    assert_eq!(
        event_count(&app.pool).await,
        events,
        "the repeat wrote nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn not_a_duplicate_is_remembered_until_a_fingerprint_changes_and_the_queue_shows_open_pairs()
{
    let app = spawn_app().await;
    let bus = bus_of(&app);
    let (a, b, pair) = a_pair(&bus, None).await;
    let (_, _, other) = a_pair(&bus, None).await;

    let list = app.get_json("/api/hygiene/duplicates", &app.admin).await;
    assert_eq!(list.0, 200, "{list:?}");
    assert_eq!(list.1["total"], 2, "{list:?}");
    assert_eq!(list.1["items"][0]["score"], 0.91);
    assert!(list.1["items"][0]["a"]["id"].is_string());

    let detail = app
        .get_json(&format!("/api/hygiene/duplicates/{pair}"), &app.admin)
        .await;
    assert_eq!(detail.0, 200, "{detail:?}");
    let differing: Vec<&str> = detail.1["differing_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(differing, vec!["emails", "job_title", "company_name"]);
    assert_eq!(
        detail.1["preview"]["primary"],
        json!(a),
        "the older contact by default"
    );
    assert_eq!(detail.1["preview"]["merged"]["job_title"], "CTO");
    assert_eq!(detail.1["a"]["id"], json!(a));
    assert_eq!(detail.1["b"]["id"], json!(b));

    let decided = app
        .post_json(
            &format!("/api/hygiene/duplicates/{pair}/not-duplicate"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(decided.0, 200, "{decided:?}");
    assert_eq!(decided.1["pair"]["status"], "not_duplicate");
    let ignored = app
        .post_json(
            &format!("/api/hygiene/duplicates/{other}/ignore"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(ignored.0, 200, "{ignored:?}");
    assert_eq!(ignored.1["pair"]["status"], "ignored");

    // Found again with the same fingerprints: stays closed.
    detect(&bus, a, b, ["fa", "fb"]).await;
    assert_eq!(pair_status(&app, pair).await, PairStatus::NotDuplicate);
    let list = app.get_json("/api/hygiene/duplicates", &app.admin).await;
    assert_eq!(list.1["total"], 0, "{list:?}");
    let closed = app
        .get_json(
            "/api/hygiene/duplicates?status=not_duplicate,ignored",
            &app.admin,
        )
        .await;
    assert_eq!(closed.1["total"], 2, "{closed:?}");

    // One of them changed in a field the criteria use: proposed again.
    detect(&bus, a, b, ["fa", "fb-changed"]).await;
    assert_eq!(pair_status(&app, pair).await, PairStatus::Open);
    let list = app
        .get_json(&format!("/api/hygiene/duplicates?contact={b}"), &app.admin)
        .await;
    assert_eq!(list.1["total"], 1, "{list:?}");
    assert_eq!(list.1["items"][0]["id"], json!(pair));
    app.stop().await;
}

/// A fresh database, its bus, and nothing running in the background: the reactor runs only
/// when a test runs it.
async fn quiet() -> (PgPool, CommandBus) {
    let (pool, _) = fresh_database().await;
    let bus = command_bus(&pool, 5);
    (pool, bus)
}

#[tokio::test]
async fn the_reactor_completes_a_merge_a_crash_left_half_done_and_records_that_hubspot_is_not_connected(
) {
    let (pool, bus) = quiet().await;
    let (a, b, pair) = a_pair(&bus, None).await;
    // Only the first half, as a crash right after it would leave it.
    let merge_id = Uuid::now_v7();
    bus.execute::<Contact>(
        b,
        ContactCommand::MergeInto(MergeInto {
            primary: a,
            merge_id,
            choices: BTreeMap::new(),
            pair_id: Some(pair),
            by: Actor::user("casey"),
            at: now(),
        }),
        &meta(),
    )
    .await
    .unwrap();
    assert!(contact(&pool, a).await.absorbed.is_empty());

    contact_merges::run_once(&pool, &bus, None).await.unwrap();

    let primary = contact(&pool, a).await;
    assert_eq!(primary.absorbed.len(), 1);
    assert_eq!(primary.absorbed[0].merge_id, merge_id);
    assert_eq!(primary.fields.job_title.as_deref(), Some("CTO"));
    let decided = self::pair(&pool, pair).await;
    assert_eq!(decided.status, PairStatus::Merged);
    assert_eq!(decided.decision.unwrap().merge_id, Some(merge_id));
    let crm = crm_of(&pool, merge_id).await.expect("the CRM side");
    let call = crm.merge.unwrap();
    assert_eq!(call.status, CrmCallStatus::Skipped);
    assert_eq!(call.skipped.as_deref(), Some("connector.not_connected"));

    // A second pass (a restart) changes nothing.
    let events = event_count(&pool).await;
    contact_merges::run_once(&pool, &bus, None).await.unwrap();
    assert_eq!(event_count(&pool).await, events);

    // The unmerge's halves are completed the same way.
    bus.execute::<Contact>(
        b,
        ContactCommand::Unmerge {
            merge_id,
            by: Actor::user("casey"),
            at: now(),
        },
        &meta(),
    )
    .await
    .unwrap();
    contact_merges::run_once(&pool, &bus, None).await.unwrap();
    assert!(contact(&pool, a).await.fields.job_title.is_none());
    assert_eq!(self::pair(&pool, pair).await.status, PairStatus::Unmerged);
}

fn hubspot(server: &MockServer) -> HubSpotClient {
    let mut config = HubSpotConfig::new(server.uri(), "pat-na1-test-token");
    config.base_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    HubSpotClient::new(config).expect("a client")
}

fn contacts_path(rest: &str) -> String {
    format!("/crm/objects/{CRM_API_VERSION}/contacts{rest}")
}

fn hubspot_contact(id: &str, merged: Option<&str>) -> Value {
    json!({
        "id": id,
        "properties": {"hs_merged_object_ids": merged},
        "createdAt": "2025-12-01T10:00:00Z",
        "updatedAt": "2026-11-30T10:00:00Z",
        "archived": false
    })
}

async fn merged_pair(bus: &CommandBus) -> (Uuid, Uuid, Uuid) {
    let (a, b, pair) = a_pair(bus, Some(("101", "202"))).await;
    let outcome = merge(
        bus,
        MergeTarget::Pair(pair),
        a,
        &BTreeMap::new(),
        false,
        &meta(),
    )
    .await
    .expect("merge");
    (a, b, outcome.merge_id.unwrap())
}

#[tokio::test]
async fn hubspot_sees_exactly_one_merge_under_retried_requests_and_reactor_restarts() {
    let (pool, bus) = quiet().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .and(body_json(
            json!({"primaryObjectId": "101", "objectIdToMerge": "202"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(hubspot_contact("101", Some("202"))))
        .expect(1)
        .mount(&server)
        .await;
    let client = hubspot(&server);
    let (a, b, merge_id) = merged_pair(&bus).await;

    // The request retried: refused, nothing new.
    let again = merge(
        &bus,
        MergeTarget::Pair(pair_id(a, b)),
        a,
        &BTreeMap::new(),
        false,
        &meta(),
    )
    .await;
    assert!(again.is_err(), "{again:?}");

    // Three passes: a first, a restart, another instance.
    for _ in 0..3 {
        contact_merges::run_once(&pool, &bus, Some(&client as &dyn CrmContacts))
            .await
            .unwrap();
    }
    let call = crm_of(&pool, merge_id).await.unwrap().merge.unwrap();
    assert_eq!(call.status, CrmCallStatus::Succeeded, "{call:?}");
    assert_eq!(call.attempts, 1);
    assert!(!call.reconciled);
    assert_eq!(call.result_crm_id.as_deref(), Some("101"));
    // The reactor's checkpoint ran past everything: resetting it (a lost checkpoint) still
    // sends nothing twice.
    sqlx::query("update reactor_checkpoints set checkpoint_tx = '0', checkpoint_position = 0")
        .execute(&pool)
        .await
        .unwrap();
    contact_merges::run_once(&pool, &bus, Some(&client as &dyn CrmContacts))
        .await
        .unwrap();
    server.verify().await;
    let merges: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/merge"))
        .collect();
    assert_eq!(merges.len(), 1);
    let body: Value = serde_json::from_slice(&merges[0].body).unwrap();
    assert_eq!(
        body,
        json!({"primaryObjectId": "101", "objectIdToMerge": "202"})
    );
}

/// Records the merge's push as started, as a reactor killed between the call and its
/// record leaves it.
async fn started_without_outcome(bus: &CommandBus, primary: Uuid, secondary: Uuid, merge_id: Uuid) {
    for command in [
        CrmMergeCommand::Request {
            kind: CrmCallKind::Merge,
            merge_id,
            primary,
            secondary,
            primary_crm_id: Some(CrmId::parse("101").unwrap()),
            secondary_crm_id: Some(CrmId::parse("202").unwrap()),
            by: Actor::system("contact_merges"),
            at: now(),
        },
        CrmMergeCommand::Start {
            kind: CrmCallKind::Merge,
            attempt: 1,
            by: Actor::system("contact_merges"),
            at: now(),
        },
    ] {
        bus.execute::<CrmMerge>(merge_id, command, &meta())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_kill_between_the_merge_call_and_its_record_is_reconciled_and_not_sent_again() {
    let (pool, bus) = quiet().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/batch/read")))
        .and(body_json(
            json!({"inputs": [{"id": "101"}], "properties": ["hs_merged_object_ids"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [hubspot_contact("101", Some("202"))]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .respond_with(ResponseTemplate::new(200).set_body_json(hubspot_contact("101", Some("202"))))
        .expect(0)
        .mount(&server)
        .await;
    let client = hubspot(&server);
    let (a, b, merge_id) = merged_pair(&bus).await;
    started_without_outcome(&bus, a, b, merge_id).await;

    contact_merges::run_once(&pool, &bus, Some(&client as &dyn CrmContacts))
        .await
        .unwrap();
    contact_merges::run_once(&pool, &bus, Some(&client as &dyn CrmContacts))
        .await
        .unwrap();
    let call = crm_of(&pool, merge_id).await.unwrap().merge.unwrap();
    assert_eq!(call.status, CrmCallStatus::Succeeded, "{call:?}");
    assert!(call.reconciled, "found by reading HubSpot");
    assert_eq!(call.attempts, 1);
    server.verify().await;
}

#[tokio::test]
async fn a_kill_before_hubspot_merged_is_reconciled_then_sent_exactly_once() {
    let (pool, bus) = quiet().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/batch/read")))
        .and(body_json(
            json!({"inputs": [{"id": "101"}], "properties": ["hs_merged_object_ids"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [hubspot_contact("101", None)]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .and(body_json(
            json!({"primaryObjectId": "101", "objectIdToMerge": "202"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(hubspot_contact("101", Some("202"))))
        .expect(1)
        .mount(&server)
        .await;
    let client = hubspot(&server);
    let (a, b, merge_id) = merged_pair(&bus).await;
    started_without_outcome(&bus, a, b, merge_id).await;

    for _ in 0..2 {
        contact_merges::run_once(&pool, &bus, Some(&client as &dyn CrmContacts))
            .await
            .unwrap();
    }
    let call = crm_of(&pool, merge_id).await.unwrap().merge.unwrap();
    assert_eq!(call.status, CrmCallStatus::Succeeded, "{call:?}");
    assert!(!call.reconciled);
    assert_eq!(
        call.attempts, 2,
        "the lost attempt, then the one that merged"
    );
    server.verify().await;
}

#[tokio::test]
async fn an_unmerge_re_creates_the_absorbed_contact_in_hubspot_only_when_asked_and_once() {
    let (pool, bus) = quiet().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .respond_with(ResponseTemplate::new(200).set_body_json(hubspot_contact("101", Some("202"))))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(contacts_path("")))
        .and(body_json(json!({"properties": {
            "email": "ana.lima@example.com", "firstname": "Ana", "lastname": "Lima",
            "jobtitle": "CTO", "company": "ACME Inc"
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(hubspot_contact("303", None)))
        .expect(1)
        .mount(&server)
        .await;
    let client = hubspot(&server);
    let crm = Some(&client as &dyn CrmContacts);

    // Asked: re-created once, and the contact takes the new id.
    let (_, b, merge_id) = merged_pair(&bus).await;
    contact_merges::run_once(&pool, &bus, crm).await.unwrap();
    let outcome = unmerge(&bus, b, true, &meta()).await.unwrap();
    assert!(outcome.recreate_in_crm);
    for _ in 0..2 {
        contact_merges::run_once(&pool, &bus, crm).await.unwrap();
    }
    let view = crm_of(&pool, merge_id).await.unwrap();
    let recreate = view.recreate.clone().unwrap();
    assert_eq!(recreate.status, CrmCallStatus::Succeeded, "{view:?}");
    assert_eq!(recreate.result_crm_id.as_deref(), Some("303"));
    assert_eq!(
        contact(&pool, b).await.fields.crm_id.as_deref(),
        Some("303")
    );

    // Not asked: HubSpot is left as it is.
    let (_, d, other) = merged_pair(&bus).await;
    contact_merges::run_once(&pool, &bus, crm).await.unwrap();
    unmerge(&bus, d, false, &meta()).await.unwrap();
    contact_merges::run_once(&pool, &bus, crm).await.unwrap();
    assert!(crm_of(&pool, other).await.unwrap().recreate.is_none());
    server.verify().await;
}

#[tokio::test]
async fn a_merge_of_contacts_without_hubspot_ids_is_skipped_and_the_pair_detail_says_so() {
    let app = spawn_app().await;
    let bus = bus_of(&app);
    let server = MockServer::start().await;
    let client = hubspot(&server);
    let (a, _, pair) = a_pair(&bus, None).await;
    let answer = app
        .post_json(
            &format!("/api/hygiene/duplicates/{pair}/merge"),
            &app.admin,
            &json!({"primary": a}),
        )
        .await;
    assert_eq!(answer.0, 200, "{answer:?}");
    contact_merges::run_once(&app.pool, &bus, Some(&client as &dyn CrmContacts))
        .await
        .unwrap();
    let detail = app
        .get_json(&format!("/api/hygiene/duplicates/{pair}"), &app.admin)
        .await;
    assert_eq!(detail.0, 200, "{detail:?}");
    assert_eq!(detail.1["pair"]["status"], "merged");
    let skipped = detail.1["crm"]["merge"]["skipped"].as_str();
    // Skipped here (no CRM ids), or by the server's own reactor when HubSpot is not
    // connected, whichever ran first.
    assert!(
        matches!(
            skipped,
            Some("crm.no_crm_id") | Some("connector.not_connected")
        ),
        "{detail:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    app.stop().await;
}

#[test]
fn the_contact_and_crm_merge_types_are_registered() {
    for name in [Contact::TYPE, CrmMerge::TYPE, DuplicatePair::TYPE] {
        assert!(
            caseyos_domain::registry::aggregate_type(name).is_some(),
            "{name}"
        );
    }
}

/// The server as a process, connected to the HubSpot fake at `hubspot`.
fn server_with_hubspot(url: &str, hubspot: &str) -> std::process::Command {
    let mut command = crate::support::process::caseyos(Some(url));
    command
        .env("CASEYOS_HUBSPOT_TOKEN", "pat-na1-test-token")
        .env("CASEYOS_HUBSPOT_BASE_URL", hubspot)
        .env("CASEYOS_HUBSPOT_SYNC_INTERVAL_SECS", "3600");
    command
}

/// Waits (bounded) until `ready` says yes.
async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, ready: impl Fn() -> F) {
    let started = std::time::Instant::now();
    while !ready().await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waited 60 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A real `kill -9` of the server while HubSpot's merge call is in flight: the restarted
/// server asks HubSpot whether the merge happened, finds that it did, and records it
/// without a second merge call.
#[tokio::test]
async fn killing_the_server_during_the_hubspot_merge_call_never_sends_it_twice() {
    use crate::support::process::Server;
    use caseyos_tests::{admin_token, Api};

    let hubspot = MockServer::start().await;
    // The merge answers after a minute: the process dies with the call in flight.
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .and(body_json(
            json!({"primaryObjectId": "101", "objectIdToMerge": "202"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(hubspot_contact("101", Some("202")))
                .set_delay(Duration::from_secs(60)),
        )
        .mount(&hubspot)
        .await;
    // What HubSpot says afterwards: the merge happened.
    Mock::given(method("POST"))
        .and(path(contacts_path("/batch/read")))
        .and(body_json(
            json!({"inputs": [{"id": "101"}], "properties": ["hs_merged_object_ids"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [hubspot_contact("101", Some("202"))]
        })))
        .mount(&hubspot)
        .await;

    let (pool, url) = fresh_database().await;
    let token = admin_token(&pool, "merge-admin", "merger").await;
    let start = || server_with_hubspot(&url, &hubspot.uri());
    let mut server = Server::start(start, Duration::from_secs(60)).await;
    let api = Api::new(&server.address, &token);

    // Two records of one person in HubSpot, a pair found by DuplicateWatcher, merged.
    let mut ids = BTreeMap::new();
    for (crm_id, email) in [("101", "dana@acme.io"), ("202", "dana.lee@acme.io")] {
        let (status, body) = api
            .post_json(
                "/api/contacts",
                &json!({"first_name": "Dana", "last_name": "Lee", "email": email,
                        "phones": ["+1 415 555 0100"], "company_name": "Acme", "crm_id": crm_id}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let contact = body.get("contact").unwrap_or(&body);
        ids.insert(crm_id, contact["id"].as_str().unwrap().to_string());
    }
    // DuplicateWatcher reads the contacts read model: run it once both are there.
    wait_until("both contacts in the read model", || async {
        api.get_json("/api/contacts").await.1["total"] == json!(2)
    })
    .await;
    let (status, run) = api
        .post_json("/api/agents/DuplicateWatcher/runs", &json!({"input": {}}))
        .await;
    assert_eq!(status, 202, "{run}");
    let pair = {
        let api = &api;
        let found = std::sync::Mutex::new(None);
        wait_until("DuplicateWatcher's pair", || async {
            let (_, pairs) = api.get_json("/api/hygiene/duplicates").await;
            let id = pairs["items"][0]["id"].as_str().map(str::to_string);
            let seen = id.is_some();
            *found.lock().unwrap() = id;
            seen
        })
        .await;
        found.into_inner().unwrap().unwrap()
    };
    let (status, merged) = api
        .post_json(
            &format!("/api/hygiene/duplicates/{pair}/merge"),
            &json!({"primary": ids["101"], "dry_run": false}),
        )
        .await;
    assert_eq!(status, 200, "{merged}");

    // The reactor calls HubSpot; the process is killed while the call is in flight.
    let merge_calls = || async {
        hubspot
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("/merge"))
            .count()
    };
    wait_until("the merge call to reach HubSpot", || async {
        merge_calls().await == 1
    })
    .await;
    server.kill();
    drop(server);
    let merge_id: Uuid = sqlx::query_scalar::<_, String>(
        "select aggregate_id from events where aggregate_type = 'crm_merge' limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap()
    .parse()
    .unwrap();
    let call = crm_of(&pool, merge_id).await.unwrap().merge.unwrap();
    assert_eq!(
        call.status,
        CrmCallStatus::Started,
        "killed between the call and its record: {call:?}"
    );

    // After a restart, the merge is found done in HubSpot and recorded; never sent again.
    let server = Server::start(start, Duration::from_secs(60)).await;
    wait_until("the merge to be recorded", || async {
        crm_of(&pool, merge_id)
            .await
            .and_then(|v| v.merge)
            .is_some_and(|c| c.status == CrmCallStatus::Succeeded)
    })
    .await;
    let call = crm_of(&pool, merge_id).await.unwrap().merge.unwrap();
    assert!(call.reconciled, "found by reading HubSpot: {call:?}");
    assert_eq!(call.attempts, 1, "{call:?}");
    assert_eq!(merge_calls().await, 1, "HubSpot saw one merge call");
    drop(server);
}
