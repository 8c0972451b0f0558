//! The HubSpot client against a local fake that asserts every request: the date-versioned
//! paths, the bearer token, the user agent, the exact JSON bodies, paging, splitting windows
//! past the search cap, batch chunks, retries (429, 5xx), budgets from the rate-limit
//! headers, errors that must not be retried, and the merge sent once.

use std::time::Duration;

use caseyos_backend::config::{Config, HubSpotConfig};
use caseyos_backend::connectors::hubspot::{
    HubSpotClient, Window, CONTACT_PROPERTIES, CRM_API_VERSION,
};
use caseyos_domain::kernel::CrmId;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "pat-na1-test-token";
const BEARER: &str = "Bearer pat-na1-test-token";
const USER_AGENT: &str = concat!("caseyos/", env!("CARGO_PKG_VERSION"));

fn contacts_path(rest: &str) -> String {
    format!("/crm/objects/{CRM_API_VERSION}/contacts{rest}")
}

/// A client of `server` with short backoffs and a search limit the tests do not feel.
fn client(server: &MockServer) -> HubSpotClient {
    client_with(server, |_| {})
}

fn client_with(server: &MockServer, change: impl FnOnce(&mut HubSpotConfig)) -> HubSpotClient {
    let mut config = HubSpotConfig::new(server.uri(), TOKEN);
    config.base_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    config.search_requests_per_second = 1_000;
    change(&mut config);
    HubSpotClient::new(config).expect("a client")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("a time")
        .with_timezone(&Utc)
}

fn ms(rfc3339: &str) -> String {
    at(rfc3339).timestamp_millis().to_string()
}

fn id(raw: &str) -> CrmId {
    CrmId::parse(raw).expect("an id")
}

/// A contact as HubSpot answers it.
fn contact(id: &str) -> Value {
    json!({
        "id": id,
        "properties": {
            "email": format!("person{id}@example.com"),
            "firstname": "Ada",
            "lastname": null,
            "website": "https://www.Example.com/team",
            "lastmodifieddate": "2026-01-02T03:04:05.678Z",
            "notes_last_contacted": "1767323045678",
            "hs_object_id": id
        },
        "createdAt": "2025-12-01T10:00:00Z",
        "updatedAt": "2026-01-02T03:04:05.678Z",
        "archived": false
    })
}

/// The body a search of contacts modified in `[from, to)` sends.
fn search_body(from: &str, to: &str, after: Option<&str>) -> Value {
    let mut body = json!({
        "filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": ms(from)},
            {"propertyName": "lastmodifieddate", "operator": "LT", "value": ms(to)}
        ]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": CONTACT_PROPERTIES,
        "limit": 100
    });
    if let Some(after) = after {
        body["after"] = json!(after);
    }
    body
}

/// Every request the fake received, asserting the headers every call carries.
async fn received(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.expect("recording is on");
    for request in &requests {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        assert_eq!(
            header("authorization").as_deref(),
            Some(BEARER),
            "{}",
            request.url
        );
        assert_eq!(
            header("user-agent").as_deref(),
            Some(USER_AGENT),
            "{}",
            request.url
        );
    }
    requests
}

/// The `[from, to)` a search request asked for, in epoch milliseconds.
fn window_of(request: &Request) -> (i64, i64) {
    let body: Value = request.body_json().expect("a JSON body");
    let filters = &body["filterGroups"][0]["filters"];
    let bound = |i: usize| {
        filters[i]["value"]
            .as_str()
            .and_then(|v| v.parse::<i64>().ok())
            .expect("a millisecond bound")
    };
    (bound(0), bound(1))
}

#[tokio::test]
async fn without_a_token_hubspot_is_not_connected_and_no_client_exists() {
    let error = HubSpotClient::from_config(&Config::default()).unwrap_err();
    assert_eq!(error.code(), "connector.not_connected");
    assert!(!error.retryable());
}

#[tokio::test]
async fn a_search_sends_the_versioned_path_the_token_and_the_window_and_reads_typed_contacts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/search")))
        .and(header("authorization", BEARER))
        .and(header("content-type", "application/json"))
        .and(body_json(search_body(
            "2026-01-01T00:00:00Z",
            "2026-01-02T00:00:00Z",
            None,
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1,
            "results": [contact("101")]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .search_contacts_modified(
            at("2026-01-01T00:00:00Z"),
            at("2026-01-02T00:00:00Z"),
            None,
            CONTACT_PROPERTIES,
        )
        .await
        .expect("a page");

    assert_eq!(page.total, 1);
    assert_eq!(page.next_after, None);
    let contact = &page.results[0];
    assert_eq!(contact.id, id("101"));
    assert_eq!(contact.email(), Some("person101@example.com"));
    assert_eq!(contact.first_name(), Some("Ada"));
    assert_eq!(contact.last_name(), None, "null is unset");
    assert_eq!(contact.domain().as_deref(), Some("example.com"));
    assert_eq!(contact.created_at, at("2025-12-01T10:00:00Z"));
    assert_eq!(contact.updated_at, at("2026-01-02T03:04:05.678Z"));
    assert_eq!(
        contact.last_modified_at(),
        Some(at("2026-01-02T03:04:05.678Z")),
        "a `Z` timestamp"
    );
    assert_eq!(
        contact.last_contacted_at(),
        Some(at("2026-01-02T03:04:05.678Z")),
        "a millisecond epoch string"
    );
    assert!(!contact.archived);
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_window_is_read_page_by_page_with_the_after_cursor() {
    let server = MockServer::start().await;
    let (from, to) = ("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z");
    Mock::given(method("POST"))
        .and(path(contacts_path("/search")))
        .and(body_json(search_body(from, to, None)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 3,
            "results": [contact("1"), contact("2")],
            "paging": {"next": {"after": "2", "link": "?after=2"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/search")))
        .and(body_json(search_body(from, to, Some("2"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 3,
            "results": [contact("3")]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let mut walker = client.contacts_modified(at(from), at(to), CONTACT_PROPERTIES);
    let first = walker.next_page().await.unwrap().expect("a first page");
    assert!(!first.window_done);
    let second = walker.next_page().await.unwrap().expect("a second page");
    assert!(second.window_done);
    assert_eq!(
        second.window,
        Window {
            from: at(from),
            to: at(to)
        }
    );
    assert_eq!(walker.next_page().await.unwrap(), None);

    let ids: Vec<&str> = first
        .records
        .iter()
        .chain(&second.records)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_window_past_the_search_cap_is_split_in_halves_until_every_half_can_be_paged() {
    let server = MockServer::start().await;
    let t0 = at("2026-01-01T00:00:00Z").timestamp_millis();
    // (window from, to in ms after t0) → (total, the ids answered)
    let answer = move |(from, to): (i64, i64)| match (from - t0, to - t0) {
        (0, 4_000) => (15_000, vec![]),
        (0, 2_000) => (2, vec!["a1", "a2"]),
        (2_000, 4_000) => (12_000, vec![]),
        (2_000, 3_000) => (1, vec!["b1"]),
        (3_000, 4_000) => (1, vec!["c1"]),
        other => panic!("no window {other:?} should be asked"),
    };
    Mock::given(method("POST"))
        .and(path(contacts_path("/search")))
        .and(header("authorization", BEARER))
        .respond_with(move |request: &Request| {
            let (total, ids) = answer(window_of(request));
            let results: Vec<Value> = ids.into_iter().map(contact).collect();
            let mut body = json!({"total": total, "results": results});
            if total > 10_000 {
                // HubSpot would page on; the client must not follow.
                body["paging"] = json!({"next": {"after": "100"}});
            }
            ResponseTemplate::new(200).set_body_json(body)
        })
        .expect(5)
        .mount(&server)
        .await;

    let client = client(&server);
    let from = at("2026-01-01T00:00:00Z");
    let to = at("2026-01-01T00:00:04Z");
    let mut walker = client.contacts_modified(from, to, CONTACT_PROPERTIES);
    let mut contacts = Vec::new();
    let mut windows_done = Vec::new();
    while let Some(page) = walker.next_page().await.expect("every record read") {
        if page.window_done {
            windows_done.push((page.window.from, page.window.to));
        }
        contacts.extend(page.records);
    }
    assert_eq!(walker.splits(), 2);

    let ids: Vec<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "b1", "c1"], "oldest windows first");
    let second = |s: u32| from + chrono::TimeDelta::seconds(s.into());
    assert_eq!(
        windows_done,
        [
            (second(0), second(2)),
            (second(2), second(3)),
            (second(3), second(4))
        ],
        "each half is done in order, so a watermark can follow"
    );
    let requests = received(&server).await;
    let asked: Vec<(i64, i64)> = requests
        .iter()
        .map(|r| {
            let (from, to) = window_of(r);
            (from - t0, to - t0)
        })
        .collect();
    assert_eq!(
        asked,
        [
            (0, 4_000),
            (0, 2_000),
            (2_000, 4_000),
            (2_000, 3_000),
            (3_000, 4_000)
        ]
    );
    for request in requests {
        let body: Value = request.body_json().unwrap();
        assert_eq!(
            body.get("after"),
            None,
            "no window was paged past its first page"
        );
    }
}

#[tokio::test]
async fn a_window_too_full_at_the_narrowest_width_is_an_error_naming_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/search")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 20_000, "results": []})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = client_with(&server, |c| c.min_search_window = Duration::from_secs(1));

    let error = client
        .contacts_modified_between(
            at("2026-01-01T00:00:00Z"),
            at("2026-01-01T00:00:02Z"),
            CONTACT_PROPERTIES,
        )
        .await
        .unwrap_err();

    assert_eq!(error.code(), "hubspot.search_window_too_dense");
    assert!(!error.retryable());
    let shown = error.to_string();
    assert!(
        shown.contains("2026-01-01 00:00:00 UTC") && shown.contains("2026-01-01 00:00:01 UTC"),
        "{shown}"
    );
}

#[tokio::test]
async fn batch_reads_send_one_call_per_hundred_ids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/batch/read")))
        .and(header("authorization", BEARER))
        .respond_with(|request: &Request| {
            let body: Value = request.body_json().unwrap();
            let results: Vec<Value> = body["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|input| contact(input["id"].as_str().unwrap()))
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "COMPLETE", "results": results}))
        })
        .expect(3)
        .mount(&server)
        .await;
    let ids: Vec<CrmId> = (1..=250).map(|n| id(&n.to_string())).collect();

    let contacts = client(&server)
        .batch_read_contacts(&ids, &["email", "firstname"])
        .await
        .expect("contacts");

    assert_eq!(contacts.len(), 250);
    assert_eq!(
        contacts.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        ids
    );
    let requests = received(&server).await;
    let chunks: Vec<Vec<String>> = requests
        .iter()
        .map(|r| {
            let body: Value = r.body_json().unwrap();
            assert_eq!(body["properties"], json!(["email", "firstname"]));
            body["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        chunks.iter().map(Vec::len).collect::<Vec<_>>(),
        [100, 100, 50]
    );
    assert_eq!(chunks[0][0], "1");
    assert_eq!(chunks[2][49], "250");
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds_in_exactly_two_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(contacts_path("")))
        .and(query_param("limit", "1"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"status": "error", "policyName": "TEN_SECONDLY_ROLLING",
                                      "message": "You have reached your ten_secondly_rolling limit."})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(contacts_path("")))
        .and(query_param("limit", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [contact("1")]})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    client.check().await.expect("the retry succeeds");

    assert_eq!(received(&server).await.len(), 2);
    let health = client.health();
    assert_eq!(health.rate_limits.retry_after_waits, 1);
    assert_eq!(
        health.rate_limits.retry_after_waited_ms, 1_000,
        "what Retry-After asked"
    );
    assert_eq!(
        (
            health.calls.calls,
            health.calls.failures,
            health.calls.retries
        ),
        (2, 1, 1)
    );
    assert!(health.calls.last_success_at.is_some());
    assert_eq!(health.calls.last_error, Some("hubspot.rate_limited"));
}

#[tokio::test]
async fn server_errors_back_off_and_fail_after_the_bounded_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/search")))
        .respond_with(ResponseTemplate::new(503).set_body_string("unavailable"))
        .expect(4)
        .mount(&server)
        .await;
    let client = client(&server);

    let error = client
        .search_contacts_modified(
            at("2026-01-01T00:00:00Z"),
            at("2026-01-02T00:00:00Z"),
            None,
            CONTACT_PROPERTIES,
        )
        .await
        .unwrap_err();

    assert_eq!(error.code(), "hubspot.server_error");
    assert!(error.retryable(), "a later sync may get through");
    assert_eq!(error.to_string(), "HubSpot answered 503 after 4 attempt(s)");
    assert_eq!(received(&server).await.len(), 4);
    let calls = client.health().calls;
    assert_eq!((calls.calls, calls.failures, calls.retries), (4, 4, 3));
    assert_eq!(calls.last_success_at, None);
}

#[tokio::test]
async fn a_spent_rate_limit_budget_makes_the_next_call_wait_out_its_window() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(contacts_path("")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": []}))
                .insert_header("X-HubSpot-RateLimit-Secondly", "10")
                .insert_header("X-HubSpot-RateLimit-Secondly-Remaining", "9")
                .insert_header("X-HubSpot-RateLimit-Daily", "250000")
                .insert_header("X-HubSpot-RateLimit-Daily-Remaining", "249000")
                .insert_header("X-HubSpot-RateLimit-Max", "150")
                .insert_header("X-HubSpot-RateLimit-Remaining", "0")
                .insert_header("X-HubSpot-RateLimit-Interval-Milliseconds", "200"),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);

    client.check().await.unwrap();
    let limits = client.health().rate_limits;
    assert_eq!(
        (limits.secondly.max, limits.secondly.remaining),
        (Some(10), Some(9))
    );
    assert_eq!(
        (limits.daily.max, limits.daily.remaining),
        (Some(250_000), Some(249_000))
    );
    assert_eq!(
        (
            limits.interval.max,
            limits.interval.remaining,
            limits.interval_ms
        ),
        (Some(150), Some(0), Some(200))
    );
    assert!(limits.observed_at.is_some());
    assert_eq!(limits.budget_waits, 0, "nothing waited yet");

    client.check().await.unwrap();
    let limits = client.health().rate_limits;
    assert_eq!(
        limits.budget_waits, 1,
        "the second call waited for the spent budget"
    );
    assert!(
        limits.budget_waited_ms <= 200,
        "{}",
        limits.budget_waited_ms
    );
}

#[tokio::test]
async fn searches_are_spaced_to_the_search_apis_own_rate() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/crm/objects/{CRM_API_VERSION}/companies/search"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 0, "results": []})))
        .expect(3)
        .mount(&server)
        .await;
    // HubSpot's own limit: 4 searches a second.
    let client = client_with(&server, |c| c.search_requests_per_second = 4);

    // Sent at once, so each takes its slot when it starts, however long the fake takes.
    let searches = (0..3).map(|_| client.search_companies_by_domain("acme.io"));
    for found in futures::future::join_all(searches).await {
        assert_eq!(found.unwrap(), None);
    }

    let limits = client.health().rate_limits;
    assert_eq!(
        limits.search_waits, 2,
        "the second and third search waited for a slot"
    );
    assert_eq!(limits.budget_waits, 0);
}

#[tokio::test]
async fn an_unauthorized_token_fails_at_once_without_a_retry() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(contacts_path("")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "status": "error",
            "message": "Authentication credentials not found.",
            "correlationId": "c0ffee00-0000-4000-8000-000000000001",
            "category": "INVALID_AUTHENTICATION"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).check().await.unwrap_err();

    assert_eq!(error.code(), "hubspot.unauthorized");
    assert!(!error.retryable());
    assert!(
        error
            .to_string()
            .contains("c0ffee00-0000-4000-8000-000000000001"),
        "{error}"
    );
    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_merge_sends_its_body_once_and_answers_the_merged_record_with_its_new_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .and(header("authorization", BEARER))
        .and(body_json(
            json!({"primaryObjectId": "101", "objectIdToMerge": "202"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(contact("303")))
        .expect(1)
        .mount(&server)
        .await;

    let merged = client(&server)
        .merge_contacts(&id("101"), &id("202"))
        .await
        .expect("merged");

    assert_eq!(merged.id, id("303"), "HubSpot's id for the merged record");
    assert_eq!(merged.email(), Some("person303@example.com"));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_merge_that_hubspot_may_have_done_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .merge_contacts(&id("101"), &id("202"))
        .await
        .unwrap_err();

    assert_eq!(error.code(), "hubspot.server_error");
    assert_eq!(
        received(&server).await.len(),
        1,
        "a 502 may follow a done merge"
    );
}

#[tokio::test]
async fn a_company_is_found_by_its_domain() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/crm/objects/{CRM_API_VERSION}/companies/search"
        )))
        .and(header("authorization", BEARER))
        .and(body_json(json!({
            "filterGroups": [{"filters": [
                {"propertyName": "domain", "operator": "EQ", "value": "acme.io"}
            ]}],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "properties": caseyos_backend::connectors::hubspot::COMPANY_PROPERTIES,
            "limit": 1
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1,
            "results": [{
                "id": "9001",
                "properties": {"name": "Acme", "domain": "acme.io", "numberofemployees": "42",
                               "industry": null},
                "createdAt": "2024-05-06T07:08:09.010Z",
                "updatedAt": "2026-02-03T04:05:06Z",
                "archived": false
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let company = client(&server)
        .search_companies_by_domain("https://www.ACME.io/pricing")
        .await
        .unwrap()
        .expect("a company");

    assert_eq!(company.id, id("9001"));
    assert_eq!(company.name(), Some("Acme"));
    assert_eq!(company.domain().as_deref(), Some("acme.io"));
    assert_eq!(company.number_of_employees(), Some(42));
    assert_eq!(company.industry(), None);
    assert_eq!(company.created_at, at("2024-05-06T07:08:09.010Z"));
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_is_unexpected_and_quotes_no_values() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(contacts_path("/merge")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1", "properties": {"email": "secret@example.com"},
            "createdAt": "not a time", "updatedAt": "2026-01-01T00:00:00Z"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .merge_contacts(&id("1"), &id("2"))
        .await
        .unwrap_err();

    assert_eq!(error.code(), "hubspot.unexpected_response");
    assert!(!error.to_string().contains("secret@"), "{error}");
}
