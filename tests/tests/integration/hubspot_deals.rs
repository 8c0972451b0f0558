//! HubSpot deal pipelines and deals, synced and by webhook, against a local HubSpot fake
//! that asserts what we send: pipelines into the `pipeline` aggregate (an invalid one
//! counted as failed), a deal created and then changed in HubSpot producing exactly the
//! commands whose values differ, a re-sync writing nothing; the webhook's v3 signature
//! (valid, tampered body, wrong secret, stale, ahead), signatures computed here from
//! HubSpot's definition; a duplicate `eventId` stored and processed once; a failed fetch left
//! pending and retried; the reactor in the server fetching and applying a deal.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use caseyos_backend::commands::deal_sync::{deal_id_for, DEFAULT_LOST_REASON};
use caseyos_backend::connectors::hubspot::{HubSpotClient, CRM_API_VERSION, DEAL_PROPERTIES};
use caseyos_backend::workers::hubspot_sync::{tick_deals, DealsTick};
use caseyos_backend::workers::hubspot_webhooks::{process_due, WebhookSettings};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::crm_sync::{CrmSyncView, SyncObject, SyncRunStatus};
use caseyos_domain::deals::{Deal, DealEvent};
use caseyos_domain::kernel::{CrmId, Money};
use caseyos_domain::pipelines::{PipelineDefinition, PipelineEvent, PipelineSource, StageKind};
use caseyos_store::event::read_history;
use caseyos_store::history::state_at;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use caseyos_tests::{command_bus, query_i64, send, spawn_app_with, TestApp};

use super::hubspot_sync::{at, client, counts, ran, settings, start, TOKEN};

const SECRET: &str = "hubspot-client-secret-for-tests";
const WEBHOOK: &str = "/api/webhooks/hubspot";

/// A deal as HubSpot answers it, last modified `minute` minutes after the start.
pub(super) fn deal(id: &str, stage: &str, amount: &str, minute: i64) -> Value {
    let modified = start() + chrono::Duration::minutes(minute);
    json!({
        "id": id,
        "properties": {
            "dealname": "Acme expansion",
            "amount": amount,
            "deal_currency_code": "USD",
            "dealstage": stage,
            "pipeline": "default",
            "closedate": "2026-12-31T00:00:00Z",
            "hubspot_owner_id": "77",
            "closed_lost_reason": null,
            "hs_lastmodifieddate": modified.to_rfc3339(),
        },
        "createdAt": "2025-12-01T10:00:00Z",
        "updatedAt": modified.to_rfc3339(),
        "archived": false
    })
}

/// HubSpot's default deal pipeline (its probabilities as metadata strings) and a pipeline
/// CaseyOS cannot take (a closed stage at 50%).
fn pipelines() -> Value {
    let stage = |id: &str, order: i64, probability: &str, closed: bool| {
        json!({"id": id, "label": id, "displayOrder": order, "archived": false,
               "metadata": {"probability": probability, "isClosed": closed.to_string()}})
    };
    json!({"results": [
        {"id": "default", "label": "Sales pipeline", "displayOrder": 0, "archived": false,
         "stages": [
            stage("appointmentscheduled", 0, "0.2", false),
            stage("qualifiedtobuy", 1, "0.4", false),
            stage("presentationscheduled", 2, "0.6", false),
            stage("decisionmakerboughtin", 3, "0.8", false),
            stage("contractsent", 4, "0.9", false),
            stage("closedwon", 5, "1.0", true),
            stage("closedlost", 6, "0.0", true),
         ]},
        {"id": "renewals", "label": "Renewals", "displayOrder": 1, "archived": false,
         "stages": [
            stage("open", 0, "0.5", false),
            stage("maybe", 1, "0.5", true),
         ]},
    ]})
}

/// The fake's deals: what searches page through and what reads by id answer.
#[derive(Clone, Default)]
pub(super) struct Deals {
    pub(super) searchable: Arc<Mutex<Vec<Value>>>,
    pub(super) readable: Arc<Mutex<Vec<Value>>>,
    /// Answer 500 to reads by id while set.
    failing: Arc<Mutex<bool>>,
}

struct Search(Deals);

impl Respond for Search {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
        let filters = &body["filterGroups"][0]["filters"];
        assert_eq!(filters[0]["propertyName"], "hs_lastmodifieddate", "{body}");
        assert_eq!(filters[1]["propertyName"], "hs_lastmodifieddate", "{body}");
        assert_eq!(
            body["sorts"],
            json!([{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}])
        );
        assert_eq!(body["properties"], json!(DEAL_PROPERTIES), "{body}");
        let millis = |v: &Value| v.as_str().unwrap().parse::<i64>().unwrap();
        let (from, to) = (millis(&filters[0]["value"]), millis(&filters[1]["value"]));
        let results: Vec<Value> = self
            .0
            .searchable
            .lock()
            .unwrap()
            .iter()
            .filter(|d| {
                let modified =
                    at(d["properties"]["hs_lastmodifieddate"].as_str().unwrap()).timestamp_millis();
                from <= modified && modified < to
            })
            .cloned()
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"total": results.len(), "results": results}))
    }
}

struct Read(Deals);

impl Respond for Read {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if *self.0.failing.lock().unwrap() {
            return ResponseTemplate::new(500).set_body_json(json!({"category": "INTERNAL"}));
        }
        let id = request.url.path().rsplit('/').next().unwrap().to_string();
        let found = self
            .0
            .readable
            .lock()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.as_str())
            .cloned();
        match found {
            Some(deal) => ResponseTemplate::new(200).set_body_json(deal),
            None => {
                ResponseTemplate::new(404).set_body_json(json!({"category": "OBJECT_NOT_FOUND"}))
            }
        }
    }
}

pub(super) async fn fake_hubspot() -> (MockServer, Deals) {
    let server = MockServer::start().await;
    let deals = Deals::default();
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("GET"))
        .and(path(format!("/crm/pipelines/{CRM_API_VERSION}/deals")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(pipelines()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/crm/owners/{CRM_API_VERSION}")))
        .and(query_param("limit", "100"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [
            {"id": "77", "email": "Dana@Example.com", "firstName": "Dana", "lastName": "Lee",
             "userId": 9586504, "archived": false},
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/crm/objects/{CRM_API_VERSION}/deals/search")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(Search(deals.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(format!(
            "^/crm/objects/{CRM_API_VERSION}/deals/[0-9]+$"
        )))
        .and(query_param(
            "properties",
            DEAL_PROPERTIES.join(",").as_str(),
        ))
        .and(header("authorization", bearer.as_str()))
        .respond_with(Read(deals.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/crm/objects/{CRM_API_VERSION}/contacts/search"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 0, "results": []})))
        .mount(&server)
        .await;
    (server, deals)
}

fn runs(tick: DealsTick) -> (CrmSyncView, CrmSyncView) {
    let deals = tick.deals.expect("the deals ran after the pipelines");
    (ran(tick.pipelines), ran(deals))
}

/// One deal sync (pipelines, then deals) with the test's client: its two runs.
pub(super) async fn sync_deals(
    app: &TestApp,
    client: &HubSpotClient,
) -> (CrmSyncView, CrmSyncView) {
    let bus = command_bus(&app.pool, 16);
    runs(
        tick_deals(&app.pool, &bus, client, &settings())
            .await
            .unwrap(),
    )
}

async fn deal_events(pool: &sqlx::PgPool, crm_id: &str) -> Vec<DealEvent> {
    let id = deal_id_for(&CrmId::parse(crm_id).unwrap());
    read_history::<Deal>(pool, &id.to_string())
        .await
        .expect("the deal's events")
        .iter()
        .map(|e| Deal::decode(e.recorded()).expect("a deal event"))
        .collect()
}

fn names(events: &[DealEvent]) -> Vec<&'static str> {
    events.iter().map(DealEvent::name).collect()
}

/// An app whose webhook checks signatures with [`SECRET`]; HubSpot itself (the token) is
/// connected only when `hubspot` is given, so without it no worker processes anything.
pub(super) async fn app_with_secret(hubspot: Option<&MockServer>) -> TestApp {
    let uri = hubspot.map(MockServer::uri);
    spawn_app_with(|config| {
        config.hubspot_client_secret = Some(SECRET.into());
        if let Some(uri) = uri {
            config.hubspot_token = Some(TOKEN.into());
            config.hubspot_base_url = uri;
        }
    })
    .await
}

/// HubSpot's v3 signature, from its definition: base64(HMAC-SHA256(secret, method + URI +
/// body + timestamp)).
fn sign(secret: &str, uri: &str, body: &str, timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("POST{uri}{body}{timestamp}").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Posts `body` to the webhook with the given timestamp and signature headers.
async fn deliver(
    app: &TestApp,
    body: &str,
    timestamp: Option<String>,
    signature: Option<String>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}{WEBHOOK}", app.address))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(timestamp) = timestamp {
        request = request.header("X-HubSpot-Request-Timestamp", timestamp);
    }
    if let Some(signature) = signature {
        request = request.header("X-HubSpot-Signature-v3", signature);
    }
    send(request).await
}

/// Posts `body` signed as HubSpot signs it, now.
pub(super) async fn deliver_signed(app: &TestApp, body: &str) -> (u16, Value) {
    let ts = now_ms().to_string();
    let uri = format!("{}{WEBHOOK}", app.address);
    deliver(
        app,
        body,
        Some(ts.clone()),
        Some(sign(SECRET, &uri, body, &ts)),
    )
    .await
}

pub(super) fn delivery(events: &[(i64, &str, &str)]) -> String {
    let events: Vec<Value> = events
        .iter()
        .map(|(event_id, kind, object_id)| {
            json!({"eventId": event_id, "subscriptionId": 2345, "portalId": 62515,
                   "appId": 54321, "occurredAt": 1764460800000_i64, "subscriptionType": kind,
                   "attemptNumber": 0, "objectId": object_id.parse::<i64>().unwrap(),
                   "propertyName": "dealstage", "propertyValue": "contractsent",
                   "changeSource": "CRM"})
        })
        .collect();
    serde_json::to_string(&events).unwrap()
}

async fn event_row(
    pool: &sqlx::PgPool,
    event_id: &str,
) -> (String, Option<String>, i32, Option<String>) {
    sqlx::query_as(
        "select status, outcome, attempts, last_error from hubspot_webhook_events where event_id = $1",
    )
    .bind(event_id)
    .fetch_one(pool)
    .await
    .expect("the stored event")
}

pub(super) fn quick() -> WebhookSettings {
    WebhookSettings {
        base_backoff: Duration::ZERO,
        ..WebhookSettings::default()
    }
}

#[tokio::test]
async fn hubspot_pipelines_define_the_pipeline_aggregate_and_one_we_cannot_take_is_counted_failed()
{
    let (server, _deals) = fake_hubspot().await;
    let app = app_with_secret(None).await;
    let client = client(&server);

    let (pipelines, deals) = sync_deals(&app, &client).await;
    assert_eq!(pipelines.object, SyncObject::Pipelines);
    assert_eq!(pipelines.status, SyncRunStatus::Completed, "{pipelines:?}");
    assert_eq!(
        pipelines.counts,
        counts(2, 0, 1, 0, 1),
        "default (the first start's) updated; renewals has a closed 50% stage"
    );
    assert_eq!(deals.object, SyncObject::Deals);
    assert_eq!(deals.status, SyncRunStatus::Completed, "{deals:?}");
    assert_eq!(deals.counts, counts(0, 0, 0, 0, 0));

    let default = PipelineDefinition::id_of(&CrmId::parse("default").unwrap()).to_string();
    let view = state_at::<PipelineDefinition>(&app.pool, &default, i64::MAX)
        .await
        .unwrap()
        .pipeline
        .expect("the default pipeline");
    assert_eq!(view.source, PipelineSource::Hubspot);
    let stages: Vec<(&str, u8, StageKind)> = view
        .pipeline
        .stages()
        .iter()
        .map(|s| (s.id.as_str(), s.probability, s.kind))
        .collect();
    assert_eq!(
        stages,
        [
            ("appointmentscheduled", 20, StageKind::Open),
            ("qualifiedtobuy", 40, StageKind::Open),
            ("presentationscheduled", 60, StageKind::Open),
            ("decisionmakerboughtin", 80, StageKind::Open),
            ("contractsent", 90, StageKind::Open),
            ("closedwon", 100, StageKind::Won),
            ("closedlost", 0, StageKind::Lost),
        ]
    );
    let history = read_history::<PipelineDefinition>(&app.pool, &default)
        .await
        .unwrap();
    let updated = history.last().expect("events").recorded();
    let PipelineEvent::PipelineUpdated(updated) = PipelineDefinition::decode(updated).unwrap()
    else {
        panic!("the first start's default, updated from HubSpot: {history:?}")
    };
    assert_eq!(updated.by.to_string(), "system:hubspot_sync");
    let renewals = PipelineDefinition::id_of(&CrmId::parse("renewals").unwrap()).to_string();
    let renewals = state_at::<PipelineDefinition>(&app.pool, &renewals, i64::MAX)
        .await
        .unwrap();
    assert!(renewals.pipeline.is_none(), "not defined: {renewals:?}");

    // Again: the pipelines are as HubSpot has them; nothing is written.
    let before = query_i64(
        &app.pool,
        "select count(*) from events where aggregate_type = 'pipeline'",
    )
    .await;
    let (again, _) = sync_deals(&app, &client).await;
    assert_eq!(again.counts, counts(2, 0, 0, 1, 1));
    let after = query_i64(
        &app.pool,
        "select count(*) from events where aggregate_type = 'pipeline'",
    )
    .await;
    assert_eq!((before, after), (2, 2), "the first start's and HubSpot's");
}

#[tokio::test]
async fn a_hubspot_deal_created_then_changed_produces_exactly_the_differing_commands_and_a_resync_writes_nothing(
) {
    let (server, deals) = fake_hubspot().await;
    let app = app_with_secret(None).await;
    let client = client(&server);
    *deals.searchable.lock().unwrap() = vec![deal("9001", "appointmentscheduled", "5000", 1)];

    let (_, first) = sync_deals(&app, &client).await;
    assert_eq!(first.counts, counts(1, 1, 0, 0, 0), "{first:?}");
    let events = deal_events(&app.pool, "9001").await;
    assert_eq!(names(&events), ["DealCreated"]);
    let DealEvent::DealCreated(created) = &events[0] else {
        unreachable!()
    };
    assert_eq!(created.name, "Acme expansion");
    assert_eq!(created.stage.id.as_str(), "appointmentscheduled");
    assert_eq!(created.stage.probability, 20);
    assert_eq!(created.amount, Some(Money::usd(500_000)));
    assert_eq!(created.close_date.unwrap().to_string(), "2026-12-31");
    assert_eq!(
        created.owner, "dana@example.com",
        "the owner's email, lower-case"
    );
    assert_eq!(created.crm_id.as_ref().unwrap().as_str(), "9001");
    assert_eq!(created.by.to_string(), "system:hubspot_sync");
    let recorded = Utc::now() - created.at;
    assert!(
        recorded < chrono::Duration::minutes(5),
        "at is the recording time, not HubSpot's: {}",
        created.at
    );

    // In HubSpot since: a new amount and a later stage; owner and close date as they were.
    *deals.searchable.lock().unwrap() = vec![deal("9001", "contractsent", "7500.5", 10)];
    let (_, second) = sync_deals(&app, &client).await;
    assert_eq!(second.counts, counts(1, 0, 1, 0, 0), "{second:?}");
    let events = deal_events(&app.pool, "9001").await;
    assert_eq!(
        names(&events),
        ["DealCreated", "DealAmountChanged", "DealStageChanged"]
    );
    let DealEvent::DealAmountChanged(amount) = &events[1] else {
        unreachable!()
    };
    assert_eq!(amount.new, Some(Money::usd(750_050)));

    // Nothing changed in HubSpot: the run reads the last deal again and writes nothing.
    let (_, third) = sync_deals(&app, &client).await;
    assert_eq!(third.counts, counts(1, 0, 0, 1, 0), "{third:?}");
    assert_eq!(deal_events(&app.pool, "9001").await.len(), 3);

    // Lost in HubSpot without a reason: the stage change and the loss, with our default.
    *deals.searchable.lock().unwrap() = vec![deal("9001", "closedlost", "7500.5", 20)];
    sync_deals(&app, &client).await;
    let events = deal_events(&app.pool, "9001").await;
    assert_eq!(names(&events[3..]), ["DealStageChanged", "DealLost"]);
    let DealEvent::DealLost(lost) = &events[4] else {
        unreachable!()
    };
    assert_eq!(lost.reason, DEFAULT_LOST_REASON);

    // Open again in HubSpot: reopened into that stage.
    *deals.searchable.lock().unwrap() = vec![deal("9001", "qualifiedtobuy", "7500.5", 30)];
    sync_deals(&app, &client).await;
    let events = deal_events(&app.pool, "9001").await;
    assert_eq!(names(&events[5..]), ["DealReopened", "DealStageChanged"]);

    // The audit shows the same history.
    let id = deal_id_for(&CrmId::parse("9001").unwrap());
    let (status, audit) = app
        .get_json(&format!("/api/audit/deal/{id}"), &app.admin)
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["total_events"], 7, "{audit}");
    assert_eq!(audit["state"]["stage"]["id"], "qualifiedtobuy", "{audit}");
}

#[tokio::test]
async fn a_deal_hubspot_already_closed_as_won_is_created_open_and_won() {
    let (server, deals) = fake_hubspot().await;
    let app = app_with_secret(None).await;
    let client = client(&server);
    *deals.searchable.lock().unwrap() = vec![deal("42", "closedwon", "1000", 1)];
    let (_, run) = sync_deals(&app, &client).await;
    assert_eq!(run.counts, counts(1, 1, 0, 0, 0));
    let events = deal_events(&app.pool, "42").await;
    assert_eq!(
        names(&events),
        ["DealCreated", "DealStageChanged", "DealWon"]
    );
    let DealEvent::DealCreated(created) = &events[0] else {
        unreachable!()
    };
    assert_eq!(
        created.stage.id.as_str(),
        "appointmentscheduled",
        "the first open stage"
    );
}

/// A delivery attempt and its answer: (body, timestamp, signature, status, code).
type Attempt<'a> = (&'a str, Option<String>, Option<String>, u16, &'a str);

#[tokio::test]
async fn webhook_signatures_are_hubspots_v3_and_anything_else_is_refused() {
    let app = app_with_secret(None).await;
    let body = delivery(&[(1, "deal.creation", "9001")]);
    let uri = format!("{}{WEBHOOK}", app.address);
    let ts = now_ms().to_string();
    let good = sign(SECRET, &uri, &body, &ts);
    let minutes = |m: i64| (now_ms() + m * 60_000).to_string();
    let (old, ahead) = (minutes(-6), minutes(6));
    let tampered = body.replace("9001", "9002");
    // (body, timestamp, signature, status, code)
    let table: Vec<Attempt> = vec![
        (
            &tampered,
            Some(ts.clone()),
            Some(good.clone()),
            401,
            "webhook.bad_signature",
        ),
        (
            &body,
            Some(ts.clone()),
            Some(sign("another-secret", &uri, &body, &ts)),
            401,
            "webhook.bad_signature",
        ),
        (
            &body,
            Some(ts.clone()),
            Some(sign(
                SECRET,
                "http://elsewhere.example/api/webhooks/hubspot",
                &body,
                &ts,
            )),
            401,
            "webhook.bad_signature",
        ),
        (&body, Some(ts.clone()), None, 401, "webhook.bad_signature"),
        (
            &body,
            None,
            Some(good.clone()),
            401,
            "webhook.bad_signature",
        ),
        (
            &body,
            Some(old.clone()),
            Some(sign(SECRET, &uri, &body, &old)),
            401,
            "webhook.stale",
        ),
        (
            &body,
            Some(ahead.clone()),
            Some(sign(SECRET, &uri, &body, &ahead)),
            401,
            "webhook.stale",
        ),
    ];
    for (i, (body, timestamp, signature, status, code)) in table.into_iter().enumerate() {
        let (got, answer) = deliver(&app, body, timestamp, signature).await;
        assert_eq!(got, status, "row {i}: {answer}");
        assert_eq!(answer["error"]["code"], code, "row {i}: {answer}");
    }
    assert_eq!(
        query_i64(&app.pool, "select count(*) from hubspot_webhook_events").await,
        0,
        "nothing refused was stored"
    );

    let (status, answer) = deliver(&app, &body, Some(ts), Some(good)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"received": 1, "stored": 1, "duplicates": 0}));

    // Signed but not a delivery.
    let (status, answer) = deliver_signed(&app, r#"{"eventId": 1}"#).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("request.validation")),
        "{answer}"
    );
    let (status, answer) = deliver_signed(&app, "[{").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("request.invalid_json")),
        "{answer}"
    );
}

#[tokio::test]
async fn without_a_client_secret_the_webhook_is_not_connected() {
    let app = spawn_app_with(|_| {}).await;
    let body = delivery(&[(1, "deal.creation", "9001")]);
    let (status, answer) = deliver_signed(&app, &body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error"]["code"], "connector.not_connected");
}

#[tokio::test]
async fn a_duplicate_event_id_is_stored_and_processed_once_and_unknown_types_are_ignored() {
    let (server, deals) = fake_hubspot().await;
    let app = app_with_secret(None).await;
    let bus = command_bus(&app.pool, 16);
    let client = client(&server);
    sync_deals(&app, &client).await;
    *deals.readable.lock().unwrap() = vec![deal("9001", "presentationscheduled", "2500", 1)];

    let body = delivery(&[
        (10, "deal.propertyChange", "9001"),
        (11, "contact.creation", "555"),
        (12, "deal.deletion", "9001"),
    ]);
    let (status, first) = deliver_signed(&app, &body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first, json!({"received": 3, "stored": 3, "duplicates": 0}));
    // HubSpot delivers again (it did not see the answer): stored once.
    let (status, again) = deliver_signed(&app, &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, json!({"received": 3, "stored": 0, "duplicates": 3}));
    assert_eq!(event_row(&app.pool, "11").await.0, "ignored");
    assert_eq!(
        event_row(&app.pool, "11").await.1.as_deref(),
        Some("unsupported_type")
    );
    assert_eq!(
        event_row(&app.pool, "12").await.1.as_deref(),
        Some("deletion")
    );

    assert_eq!(
        process_due(&app.pool, &bus, &client, &quick())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        process_due(&app.pool, &bus, &client, &quick())
            .await
            .unwrap(),
        0,
        "nothing left"
    );
    let (status, outcome, attempts, error) = event_row(&app.pool, "10").await;
    assert_eq!(
        (status.as_str(), outcome.as_deref(), attempts, error),
        ("processed", Some("created"), 1, None)
    );
    let events = deal_events(&app.pool, "9001").await;
    assert_eq!(names(&events), ["DealCreated"]);
    let DealEvent::DealCreated(created) = &events[0] else {
        unreachable!()
    };
    assert_eq!(created.stage.id.as_str(), "presentationscheduled");
    let reads = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/deals/9001"))
        .count();
    assert_eq!(reads, 1, "the deal was read once");
}

#[tokio::test]
async fn an_event_whose_fetch_failed_stays_pending_and_is_retried() {
    let (server, deals) = fake_hubspot().await;
    let app = app_with_secret(None).await;
    let bus = command_bus(&app.pool, 16);
    let client = client(&server);
    sync_deals(&app, &client).await;
    *deals.readable.lock().unwrap() = vec![deal("9001", "qualifiedtobuy", "100", 1)];
    *deals.failing.lock().unwrap() = true;

    let (status, answer) = deliver_signed(&app, &delivery(&[(20, "deal.creation", "9001")])).await;
    assert_eq!(status, 200, "{answer}");
    process_due(&app.pool, &bus, &client, &quick())
        .await
        .unwrap();
    let (status, outcome, attempts, error) = event_row(&app.pool, "20").await;
    assert_eq!(
        (status.as_str(), outcome, attempts, error.as_deref()),
        ("pending", None, 1, Some("hubspot.server_error"))
    );
    assert!(deal_events(&app.pool, "9001").await.is_empty());

    *deals.failing.lock().unwrap() = false;
    process_due(&app.pool, &bus, &client, &quick())
        .await
        .unwrap();
    let (status, outcome, attempts, error) = event_row(&app.pool, "20").await;
    assert_eq!(
        (status.as_str(), outcome.as_deref(), attempts, error),
        ("processed", Some("created"), 2, None)
    );
    assert_eq!(
        names(&deal_events(&app.pool, "9001").await),
        ["DealCreated"]
    );

    // A deal HubSpot no longer has: ignored.
    let (status, _) =
        deliver_signed(&app, &delivery(&[(21, "deal.propertyChange", "404404")])).await;
    assert_eq!(status, 200);
    process_due(&app.pool, &bus, &client, &quick())
        .await
        .unwrap();
    let (status, outcome, _, _) = event_row(&app.pool, "21").await;
    assert_eq!(
        (status.as_str(), outcome.as_deref()),
        ("ignored", Some("not_found"))
    );
}

#[tokio::test]
async fn the_server_fetches_and_applies_the_deal_a_webhook_names() {
    let (server, deals) = fake_hubspot().await;
    let app = app_with_secret(Some(&server)).await;
    // The server's own sync updates the first start's default pipeline from HubSpot first.
    let mut updated = 0;
    for _ in 0..200 {
        updated = query_i64(
            &app.pool,
            "select count(*) from events where event_type = 'PipelineUpdated'",
        )
        .await;
        if updated > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(updated, 1, "the default pipeline, as HubSpot has it");
    *deals.readable.lock().unwrap() = vec![deal("7007", "decisionmakerboughtin", "99.99", 1)];

    let (status, answer) = deliver_signed(&app, &delivery(&[(30, "deal.creation", "7007")])).await;
    assert_eq!(status, 200, "{answer}");
    let mut row = event_row(&app.pool, "30").await;
    for _ in 0..200 {
        if row.0 != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        row = event_row(&app.pool, "30").await;
    }
    assert_eq!(
        (row.0.as_str(), row.1.as_deref()),
        ("processed", Some("created")),
        "{row:?}"
    );
    let events = deal_events(&app.pool, "7007").await;
    let DealEvent::DealCreated(created) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(created.amount, Some(Money::usd(9_999)));
    assert_eq!(created.stage.id.as_str(), "decisionmakerboughtin");
}

#[tokio::test]
async fn without_the_owners_scope_deals_still_sync_their_owners_named_by_hubspot_id() {
    let (server, deals) = fake_hubspot().await;
    Mock::given(method("GET"))
        .and(path(format!("/crm/owners/{CRM_API_VERSION}")))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"category": "MISSING_SCOPES"})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let app = app_with_secret(None).await;
    let client = client(&server);
    *deals.searchable.lock().unwrap() = vec![deal("9001", "qualifiedtobuy", "10", 1)];
    let (_, run) = sync_deals(&app, &client).await;
    assert_eq!(run.counts, counts(1, 1, 0, 0, 0), "{run:?}");
    let DealEvent::DealCreated(created) = &deal_events(&app.pool, "9001").await[0] else {
        panic!("created")
    };
    assert_eq!(created.owner, "hubspot-owner-77");
}
