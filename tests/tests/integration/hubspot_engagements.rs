//! The HubSpot client's engagements against a local fake that asserts every request: tasks
//! and notes with their exact properties and v4 associations, the external id searched
//! before creating again, the property ensured once, completing and deleting tasks, a deal's
//! stage moved, and a create HubSpot may have acted on not sent twice.

use std::time::Duration;

use caseyos_backend::config::HubSpotConfig;
use caseyos_backend::connectors::hubspot::{
    HubSpotClient, NewNote, NewTask, TaskPriority, CRM_API_VERSION, EXTERNAL_ID_PROPERTY,
};
use caseyos_domain::kernel::CrmId;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "pat-na1-test-token";
const BEARER: &str = "Bearer pat-na1-test-token";

fn client(server: &MockServer) -> HubSpotClient {
    let mut config = HubSpotConfig::new(server.uri(), TOKEN);
    config.base_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    config.search_requests_per_second = 1_000;
    HubSpotClient::new(config).expect("a client")
}

fn objects(rest: &str) -> String {
    format!("/crm/objects/{CRM_API_VERSION}{rest}")
}

fn properties(rest: &str) -> String {
    format!("/crm/properties/{CRM_API_VERSION}{rest}")
}

fn id(raw: &str) -> CrmId {
    CrmId::parse(raw).expect("an id")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("a time")
        .with_timezone(&Utc)
}

/// An engagement as HubSpot answers it.
fn engagement(id: &str, properties: Value) -> Value {
    json!({
        "id": id,
        "properties": properties,
        "createdAt": "2026-11-30T19:00:00.000Z",
        "updatedAt": "2026-11-30T19:00:00.000Z",
        "archived": false
    })
}

fn task() -> NewTask {
    NewTask {
        subject: "Prepare for the Acme meeting".into(),
        body: Some("Deal context: stage Proposal, 12,000 USD".into()),
        priority: TaskPriority::High,
        due: at("2026-12-01T14:00:00Z"),
        owner_id: Some("64492917".into()),
        external_id: "exec-0193e1c2".into(),
        contact_ids: vec![id("101"), id("102")],
        deal_ids: vec![id("9001")],
    }
}

#[tokio::test]
async fn a_task_is_created_with_its_properties_associations_and_external_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(objects("/tasks")))
        .and(header("authorization", BEARER))
        .and(body_json(json!({
            "properties": {
                "hs_task_subject": "Prepare for the Acme meeting",
                "hs_task_body": "Deal context: stage Proposal, 12,000 USD",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
                "hs_timestamp": "1796133600000",
                "hubspot_owner_id": "64492917",
                "caseyos_execution_id": "exec-0193e1c2"
            },
            "associations": [
                {"to": {"id": "101"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]},
                {"to": {"id": "102"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]},
                {"to": {"id": "9001"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}]}
            ]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(engagement(
            "555",
            json!({"hs_task_status": "NOT_STARTED", "caseyos_execution_id": "exec-0193e1c2"}),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let created = client(&server).create_task(&task()).await.unwrap();

    assert_eq!(created.id, id("555"));
    assert_eq!(created.external_id(), Some("exec-0193e1c2"));
}

#[tokio::test]
async fn a_note_is_created_with_its_associations_and_external_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(objects("/notes")))
        .and(body_json(json!({
            "properties": {
                "hs_note_body": "Sent the proposal (CaseyOS)",
                "hs_timestamp": "1796065200000",
                "caseyos_execution_id": "exec-note-1"
            },
            "associations": [
                {"to": {"id": "101"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]},
                {"to": {"id": "9001"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}
            ]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(engagement(
            "777",
            json!({"caseyos_execution_id": "exec-note-1"}),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let note = client(&server)
        .create_note(&NewNote {
            body: "Sent the proposal (CaseyOS)".into(),
            timestamp: at("2026-11-30T19:00:00Z"),
            owner_id: None,
            external_id: "exec-note-1".into(),
            contact_ids: vec![id("101")],
            deal_ids: vec![id("9001")],
        })
        .await
        .unwrap();

    assert_eq!(note.id, id("777"));
}

#[tokio::test]
async fn tasks_and_notes_are_found_by_their_external_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(objects("/tasks/search")))
        .and(body_json(json!({
            "filterGroups": [{"filters": [
                {"propertyName": "caseyos_execution_id", "operator": "EQ", "value": "exec-0193e1c2"}
            ]}],
            "properties": ["hs_task_subject", "hs_task_status", "hs_timestamp", "caseyos_execution_id"],
            "limit": 1
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1,
            "results": [engagement("555", json!({"caseyos_execution_id": "exec-0193e1c2",
                                                  "hs_task_status": "NOT_STARTED"}))]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(objects("/notes/search")))
        .and(body_json(json!({
            "filterGroups": [{"filters": [
                {"propertyName": "caseyos_execution_id", "operator": "EQ", "value": "exec-none"}
            ]}],
            "properties": ["hs_timestamp", "caseyos_execution_id"],
            "limit": 1
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 0, "results": []})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let found = client
        .find_task_by_external_id("exec-0193e1c2")
        .await
        .unwrap()
        .expect("the task");
    assert_eq!(found.id, id("555"));
    assert_eq!(found.property("hs_task_status"), Some("NOT_STARTED"));
    assert_eq!(
        client.find_note_by_external_id("exec-none").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn the_external_id_property_is_created_once_when_missing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(properties("/tasks/caseyos_execution_id")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "status": "error", "category": "OBJECT_NOT_FOUND"
        })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(properties("/tasks")))
        .and(body_json(json!({
            "name": "caseyos_execution_id",
            "label": "CaseyOS execution id",
            "type": "string",
            "fieldType": "text",
            "groupName": "taskinformation",
            "description": "The CaseyOS execution that created this record; CaseyOS looks for it before creating again."
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "name": "caseyos_execution_id", "groupName": "taskinformation"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(properties("/tasks/caseyos_execution_id")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "caseyos_execution_id", "groupName": "taskinformation", "type": "string"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    assert!(
        client.ensure_task_external_id_property().await.unwrap(),
        "created"
    );
    assert!(
        !client.ensure_task_external_id_property().await.unwrap(),
        "already there: no second create"
    );
}

#[tokio::test]
async fn the_note_property_goes_in_the_group_of_the_note_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(properties("/notes/caseyos_execution_id")))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(properties("/notes/hs_note_body")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "hs_note_body", "groupName": "engagement_note_info", "type": "string"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(properties("/notes")))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "status": "error", "category": "CONFLICT"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let created = client(&server)
        .ensure_note_external_id_property()
        .await
        .unwrap();

    assert!(!created, "someone else created it first: a 409 is fine");
    let requests = server.received_requests().await.unwrap();
    let body: Value = requests[2].body_json().unwrap();
    assert_eq!(body["groupName"], "engagement_note_info");
    assert_eq!(body["name"], EXTERNAL_ID_PROPERTY);
}

#[tokio::test]
async fn a_task_is_completed_and_deleted_and_a_deal_moves_stage() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(objects("/tasks/555")))
        .and(body_json(
            json!({"properties": {"hs_task_status": "COMPLETED"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(engagement("555", json!({"hs_task_status": "COMPLETED"}))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(objects("/tasks/555")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(objects("/tasks/556")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "status": "error", "category": "OBJECT_NOT_FOUND", "correlationId": "c0ffee"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(objects("/deals/9001")))
        .and(body_json(
            json!({"properties": {"dealstage": "contractsent"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(engagement(
            "9001",
            json!({"dealstage": "contractsent", "pipeline": "default"}),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let completed = client.complete_task(&id("555")).await.unwrap();
    assert_eq!(completed.property("hs_task_status"), Some("COMPLETED"));
    client.delete_task(&id("555")).await.expect("deleted");
    let error = client.delete_task(&id("556")).await.unwrap_err();
    assert_eq!(error.code(), "hubspot.not_found");
    let deal = client
        .update_deal_stage(&id("9001"), "contractsent")
        .await
        .unwrap();
    assert_eq!(deal.stage(), Some("contractsent"));
}

#[tokio::test]
async fn a_task_create_hubspot_may_have_done_is_not_sent_again_but_a_429_is() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(objects("/tasks")))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(objects("/tasks")))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).create_task(&task()).await.unwrap_err();

    assert_eq!(error.code(), "hubspot.server_error");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "the 429 was sent again, the 502 was not"
    );
}
