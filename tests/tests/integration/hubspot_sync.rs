//! The HubSpot → CaseyOS contact sync against a local HubSpot fake that pages its contacts,
//! filters them by the window each search asks for and asserts the search body: contacts
//! created with source `hubspot`, the run recorded as started / progressed / completed with
//! its counts, a second run from the watermark creating nothing, a change in HubSpot as a
//! `ContactFieldsChanged` with source `hubspot`, a 500 mid-run recorded as a failure the
//! next run recovers from, and sync health from the read model and the API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use caseyos_backend::config::HubSpotConfig;
use caseyos_backend::connectors::hubspot::{HubSpotClient, CRM_API_VERSION};
use caseyos_backend::workers::hubspot_sync::{contact_id_for, tick, SyncSettings, Tick};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::{ChangeSource, Contact, ContactEvent, ContactSource};
use caseyos_domain::crm_sync::{CrmSync, CrmSyncEvent, CrmSyncView, SyncCounts, SyncRunStatus};
use caseyos_domain::kernel::CrmId;
use caseyos_store::event::read_history;
use caseyos_store::StoredEvent;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use caseyos_tests::{command_bus, query_i64, send, spawn_app, spawn_app_with};

pub(super) const TOKEN: &str = "pat-na1-sync-token";
/// Contacts per page the fake answers with (HubSpot decides a page's size; we ask 100).
const PAGE: usize = 3;

pub(super) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("a time")
        .with_timezone(&Utc)
}

/// Where the first run starts.
pub(super) fn start() -> DateTime<Utc> {
    at("2026-01-01T00:00:00Z")
}

/// A contact as HubSpot answers it, last modified `minute` minutes after the start.
fn contact(id: u32, first_name: &str, minute: i64) -> Value {
    let modified = start() + chrono::Duration::minutes(minute);
    json!({
        "id": id.to_string(),
        "properties": {
            "email": format!("person{id}@example.com"),
            "firstname": first_name,
            "lastname": "Lovelace",
            "phone": "+1 415 555 01{id:02}",
            "jobtitle": "VP Sales",
            "company": "Example Inc",
            "website": "https://www.example.com",
            "lifecyclestage": "lead",
            "lastmodifieddate": modified.to_rfc3339(),
            "notes_last_contacted": "1767323045678"
        },
        "createdAt": "2025-12-01T10:00:00Z",
        "updatedAt": modified.to_rfc3339(),
        "archived": false
    })
}

/// One search the fake answered: `[from, to)` in epoch milliseconds and its cursor.
type Search = (i64, i64, Option<String>);

/// A HubSpot search fake over a list of contacts.
#[derive(Clone, Default)]
struct FakeHubSpot {
    contacts: Arc<Mutex<Vec<Value>>>,
    /// Answer 500 to searches for this page cursor.
    fail_after: Arc<Mutex<Option<String>>>,
    searches: Arc<Mutex<Vec<Search>>>,
}

fn millis(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("epoch milliseconds as a string")
}

impl Respond for FakeHubSpot {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
        // The body a window search must send.
        let filters = &body["filterGroups"][0]["filters"];
        assert_eq!(filters[0]["propertyName"], "lastmodifieddate", "{body}");
        assert_eq!(filters[0]["operator"], "GTE", "{body}");
        assert_eq!(filters[1]["operator"], "LT", "{body}");
        assert_eq!(
            body["sorts"],
            json!([{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}])
        );
        assert_eq!(body["limit"], 100, "{body}");
        for property in ["email", "firstname", "phone", "lastmodifieddate"] {
            assert!(
                body["properties"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|v| v == property)),
                "{property} asked for: {body}"
            );
        }
        let (from, to) = (millis(&filters[0]["value"]), millis(&filters[1]["value"]));
        let after = body["after"].as_str().map(str::to_string);
        self.searches
            .lock()
            .unwrap()
            .push((from, to, after.clone()));
        if after.is_some() && *self.fail_after.lock().unwrap() == after {
            return ResponseTemplate::new(500).set_body_json(json!({"category": "INTERNAL"}));
        }
        let matching: Vec<Value> = self
            .contacts
            .lock()
            .unwrap()
            .iter()
            .filter(|c| {
                let modified =
                    at(c["properties"]["lastmodifieddate"].as_str().unwrap()).timestamp_millis();
                from <= modified && modified < to
            })
            .cloned()
            .collect();
        let offset: usize = after.as_deref().map_or(0, |a| a.parse().unwrap());
        let page: Vec<Value> = matching.iter().skip(offset).take(PAGE).cloned().collect();
        let next = offset + PAGE;
        let mut answer = json!({"total": matching.len(), "results": page});
        if next < matching.len() {
            answer["paging"] = json!({"next": {"after": next.to_string()}});
        }
        ResponseTemplate::new(200)
            .insert_header("X-HubSpot-RateLimit-Secondly", "10")
            .insert_header("X-HubSpot-RateLimit-Secondly-Remaining", "9")
            .set_body_json(answer)
    }
}

async fn fake_hubspot(contacts: Vec<Value>) -> (MockServer, FakeHubSpot) {
    let server = MockServer::start().await;
    let fake = FakeHubSpot::default();
    *fake.contacts.lock().unwrap() = contacts;
    Mock::given(method("POST"))
        .and(path(format!(
            "/crm/objects/{CRM_API_VERSION}/contacts/search"
        )))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

pub(super) fn client(server: &MockServer) -> HubSpotClient {
    let mut config = HubSpotConfig::new(server.uri(), TOKEN);
    config.base_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(10);
    config.max_attempts = 2;
    config.search_requests_per_second = 1_000;
    HubSpotClient::new(config).expect("a client")
}

pub(super) fn settings() -> SyncSettings {
    SyncSettings {
        interval: Duration::from_secs(300),
        start: start(),
    }
}

pub(super) fn ran(tick: Tick) -> CrmSyncView {
    match tick {
        Tick::Ran(run) => *run,
        other => panic!("expected a run, got {other:?}"),
    }
}

pub(super) fn counts(
    fetched: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
) -> SyncCounts {
    SyncCounts {
        fetched,
        created,
        updated,
        unchanged,
        failed,
    }
}

async fn run_events(pool: &sqlx::PgPool, run: &CrmSyncView) -> Vec<CrmSyncEvent> {
    read_history::<CrmSync>(pool, &run.id.to_string())
        .await
        .expect("the run's events")
        .iter()
        .map(|e: &StoredEvent| e.recorded())
        .map(|e| CrmSync::decode(e).expect("a sync event"))
        .collect()
}

async fn contact_events(pool: &sqlx::PgPool, crm_id: u32) -> Vec<ContactEvent> {
    let id = contact_id_for(&CrmId::parse(&crm_id.to_string()).unwrap());
    read_history::<Contact>(pool, &id.to_string())
        .await
        .expect("the contact's events")
        .iter()
        .map(|e| Contact::decode(e.recorded()).expect("a contact event"))
        .collect()
}

/// Waits (at most 10 s) until the `crm_sync` read model has applied the whole log.
async fn settle_sync(pool: &sqlx::PgPool) {
    let head = caseyos_store::event::head(pool).await.expect("the head");
    for _ in 0..1_000 {
        let at = caseyos_projections::runner::checkpoints(pool, &["crm_sync"])
            .await
            .expect("checkpoints");
        if at[0] >= head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the crm_sync read model did not catch up");
}

#[tokio::test]
async fn three_pages_of_hubspot_contacts_become_contacts_and_a_recorded_run_and_the_next_run_creates_nothing(
) {
    let app = spawn_app().await;
    let bus = command_bus(&app.pool, 16);
    let contacts: Vec<Value> = (1..=7).map(|i| contact(i, "Ada", i64::from(i))).collect();
    let (server, fake) = fake_hubspot(contacts).await;
    let client = client(&server);

    let first = ran(tick(&app.pool, &bus, &client, &settings()).await.unwrap());
    assert_eq!(first.status, SyncRunStatus::Completed, "{first:?}");
    assert_eq!(first.from, start());
    assert_eq!(first.counts, counts(7, 7, 0, 0, 0));
    assert_eq!(
        (first.calls, first.failed_calls),
        (3, 0),
        "three pages, three calls"
    );
    let last_modified = start() + chrono::Duration::minutes(7);
    assert_eq!(
        first.watermark,
        Some(last_modified),
        "the highest lastmodifieddate"
    );
    let events = run_events(&app.pool, &first).await;
    let names: Vec<&str> = events.iter().map(CrmSyncEvent::name).collect();
    assert_eq!(
        names,
        ["CrmSyncStarted", "CrmSyncProgressed", "CrmSyncCompleted"]
    );
    let CrmSyncEvent::CrmSyncProgressed(progressed) = &events[1] else {
        unreachable!()
    };
    assert_eq!(
        (progressed.fetched, progressed.created, progressed.calls),
        (7, 7, 3)
    );
    let CrmSyncEvent::CrmSyncCompleted(completed) = &events[2] else {
        unreachable!()
    };
    assert_eq!(completed.counts, counts(7, 7, 0, 0, 0));
    let limits = completed
        .rate_limits
        .as_ref()
        .expect("a rate-limit snapshot");
    assert_eq!(limits.secondly.remaining, Some(9));
    for i in 1..=7 {
        let events = contact_events(&app.pool, i).await;
        let ContactEvent::ContactCreated(created) = &events[0] else {
            panic!("contact {i}: {events:?}")
        };
        assert_eq!(created.source, ContactSource::Hubspot);
        assert_eq!(
            created.fields.crm_id.as_deref(),
            Some(i.to_string().as_str())
        );
        assert_eq!(created.fields.emails, [format!("person{i}@example.com")]);
        assert_eq!(
            created.fields.company_domain.as_deref(),
            Some("example.com")
        );
    }
    let searches = fake.searches.lock().unwrap().clone();
    assert_eq!(searches.len(), 3, "{searches:?}");
    assert_eq!(searches[0].0, start().timestamp_millis());
    assert_eq!(
        searches.iter().map(|s| s.2.clone()).collect::<Vec<_>>(),
        [None, Some("3".into()), Some("6".into())]
    );

    // The next run starts from the watermark: it reads the last contact again, creates
    // nothing.
    let second = ran(tick(&app.pool, &bus, &client, &settings()).await.unwrap());
    assert_eq!(second.from, last_modified);
    assert_eq!(second.counts, counts(1, 0, 0, 1, 0));
    assert_eq!(
        fake.searches.lock().unwrap()[3].0,
        last_modified.timestamp_millis()
    );
    let created: i64 = query_i64(
        &app.pool,
        "select count(*) from events where event_type = 'ContactCreated'",
    )
    .await;
    assert_eq!(created, 7);
}

#[tokio::test]
async fn a_contact_edited_in_hubspot_changes_its_fields_with_source_hubspot() {
    let app = spawn_app().await;
    let bus = command_bus(&app.pool, 16);
    let (server, fake) = fake_hubspot(vec![contact(1, "Ada", 1), contact(2, "Bob", 2)]).await;
    let client = client(&server);
    ran(tick(&app.pool, &bus, &client, &settings()).await.unwrap());

    // Contact 1 renamed in HubSpot since.
    fake.contacts.lock().unwrap()[0] = contact(1, "Augusta", 10);
    let run = ran(tick(&app.pool, &bus, &client, &settings()).await.unwrap());
    assert_eq!(run.counts, counts(2, 0, 1, 1, 0), "{run:?}");
    let events = contact_events(&app.pool, 1).await;
    let ContactEvent::ContactFieldsChanged(changed) = events.last().unwrap() else {
        panic!("{events:?}")
    };
    assert_eq!(changed.source, ChangeSource::Hubspot);
    assert_eq!(changed.changes.len(), 1, "{changed:?}");
    assert_eq!(changed.changes[0].field.name(), "first_name");
    assert_eq!(
        (&changed.changes[0].old, &changed.changes[0].new),
        (&json!("Ada"), &json!("Augusta"))
    );
    assert_eq!(contact_events(&app.pool, 2).await.len(), 1, "Bob untouched");
}

#[tokio::test]
async fn a_500_mid_run_is_recorded_as_a_failure_and_the_next_run_recovers() {
    let app = spawn_app().await;
    let bus = command_bus(&app.pool, 16);
    let contacts: Vec<Value> = (1..=7).map(|i| contact(i, "Ada", i64::from(i))).collect();
    let (server, fake) = fake_hubspot(contacts).await;
    let client = client(&server);
    *fake.fail_after.lock().unwrap() = Some("3".into());

    let failed = ran(tick(&app.pool, &bus, &client, &settings()).await.unwrap());
    assert_eq!(failed.status, SyncRunStatus::Failed);
    let error = failed.error.clone().expect("the error");
    assert_eq!(error.code, "hubspot.server_error");
    assert!(error.retryable);
    assert!(
        !error.message.contains('@'),
        "no addresses: {}",
        error.message
    );
    // The first page, then the second twice (max_attempts 2): both failed.
    assert_eq!((failed.calls, failed.failed_calls), (3, 2));
    let names: Vec<&str> = run_events(&app.pool, &failed)
        .await
        .iter()
        .map(CrmSyncEvent::name)
        .collect();
    assert_eq!(names, ["CrmSyncStarted", "CrmSyncFailed"]);

    settle_sync(&app.pool).await;
    let health = caseyos_projections::crm_sync::sync_health(&app.pool, caseyos_store::now(), true)
        .await
        .unwrap();
    assert_eq!(health.status.as_str(), "unhealthy", "{health:?}");
    assert_eq!(
        (health.calls_last_hour, health.failed_calls_last_hour),
        (3, 2)
    );
    assert_eq!(health.last_error.unwrap().code, "hubspot.server_error");
    assert!(health.last_good_sync.is_none());

    // HubSpot recovers: the next run starts where the failed one got to.
    *fake.fail_after.lock().unwrap() = None;
    let next = ran(tick(&app.pool, &bus, &client, &settings()).await.unwrap());
    assert_eq!(next.status, SyncRunStatus::Completed);
    assert_eq!(next.from, start());
    assert_eq!(
        next.counts,
        counts(7, 4, 0, 3, 0),
        "the first page was already in"
    );
    settle_sync(&app.pool).await;
    let health = caseyos_projections::crm_sync::sync_health(&app.pool, caseyos_store::now(), true)
        .await
        .unwrap();
    assert_eq!(health.last_good_sync.map(|g| g.id), Some(next.id));
    assert_eq!(health.watermark, next.watermark);
    assert_eq!(
        (health.calls_last_hour, health.failed_calls_last_hour),
        (6, 2)
    );
    // 2 of 6 calls in the last hour failed: more than 5%.
    assert_eq!(health.status.as_str(), "unhealthy");
}

#[tokio::test]
async fn without_a_hubspot_token_the_sync_api_says_not_connected() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/hygiene/sync", &app.admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["health"]["status"], "not_connected", "{body}");
    assert_eq!(body["health"]["connected"], false);
    assert_eq!(body["health"]["thresholds"]["healthy_secs"], 300);
    assert_eq!(body["health"]["thresholds"]["degraded_secs"], 900);
    assert_eq!(body["health"]["thresholds"]["max_failure_rate"], 0.05);
    assert_eq!(body["runs"], json!([]));
    let (status, _) = send(app.request(reqwest::Method::GET, "/api/hygiene/sync", None)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn with_a_hubspot_token_the_server_syncs_and_the_api_says_healthy() {
    let (server, fake) = fake_hubspot(Vec::new()).await;
    let uri = server.uri();
    let app = spawn_app_with(|config| {
        config.hubspot_token = Some(TOKEN.into());
        config.hubspot_base_url = uri;
    })
    .await;
    let mut body = Value::Null;
    for _ in 0..100 {
        let (status, answer) = app.get_json("/api/hygiene/sync", &app.admin).await;
        assert_eq!(status, 200, "{answer}");
        body = answer;
        if body["health"]["status"] == "healthy" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(body["health"]["status"], "healthy", "{body}");
    assert_eq!(body["health"]["connected"], true);
    assert_eq!(body["runs"][0]["status"], "completed", "{body}");
    assert_eq!(body["runs"][0]["counts"]["fetched"], 0);
    assert_eq!(body["health"]["calls_last_hour"], 1);
    assert_eq!(
        fake.searches.lock().unwrap()[0].0,
        0,
        "the first run starts at the epoch"
    );
}
