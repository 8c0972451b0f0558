//! Contacts over HTTP against the real router and a real PostgreSQL: create, read, list,
//! search, filter, sort and page; edit, archive, restore; the duplicate rule; the CSV
//! exports of contacts and of the queue; and the read model's rebuild.

use std::collections::HashMap;
use std::time::Duration;

use caseyos_domain::api::{
    AuditResponse, ContactListResponse, ContactResponse, CONTACT_EXPORT_COLUMNS,
    QUEUE_EXPORT_COLUMNS,
};
use caseyos_domain::contacts::{
    Contact, ContactCommand, ContactSource, ContactStatus, CreateContact, FieldEdit,
    LifecycleStage, Phone,
};
use caseyos_domain::kernel::{Actor, EmailAddress, Text};
use caseyos_projections::contacts::ContactsProjector;
use caseyos_projections::rebuild::{fill_shadow, fill_shadow_with, FoldLimits};
use caseyos_projections::Projector;
use caseyos_store::{now, CommandMeta};
use caseyos_tests::{assert_error, command_bus, dto, error_fields, expect_dto, spawn_app, TestApp};
use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// Waits until the contacts read model has applied every committed event.
async fn settle_contacts(pool: &PgPool) {
    let head = caseyos_store::event::head(pool).await.unwrap();
    for _ in 0..3000 {
        let checkpoints = caseyos_projections::runner::checkpoints(pool, &["contacts"])
            .await
            .unwrap();
        if checkpoints[0] >= head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the contacts projection did not catch up");
}

async fn create(app: &TestApp, body: Value) -> ContactResponse {
    let answer = app.post_json("/api/contacts", &app.admin, &body).await;
    expect_dto(&answer, 201)
}

async fn command(app: &TestApp, id: Uuid, what: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/contacts/{id}/{what}"), &app.admin, &body)
        .await
}

async fn list(app: &TestApp, query: &str) -> ContactListResponse {
    settle_contacts(&app.pool).await;
    app.get_ok(&format!("/api/contacts{query}"), &app.admin)
        .await
}

fn names(list: &ContactListResponse) -> Vec<&str> {
    list.items.iter().map(|c| c.name.as_str()).collect()
}

/// A small CSV reader (RFC 4180: quoted cells, doubled quotes, CRLF records).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        cell.is_empty() && record.is_empty(),
        "the file ends with CRLF"
    );
    records
}

/// A CSV export's records as maps by column, after checking the header and headers.
async fn export(app: &TestApp, path: &str, columns: &[&str]) -> Vec<HashMap<String, String>> {
    settle_contacts(&app.pool).await;
    let response = app.get(path, &app.admin).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    let disposition = header("content-disposition");
    let name = path.trim_start_matches("/api/").split('/').next().unwrap();
    let today = now().format("%Y-%m-%d").to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{name}-{today}.csv\"")
    );
    let text = response.text().await.unwrap();
    let mut records = parse_csv(&text);
    let head = records.remove(0);
    assert_eq!(head, columns, "the header");
    records
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), columns.len(), "{r:?}");
            columns.iter().map(|c| c.to_string()).zip(r).collect()
        })
        .collect()
}

#[tokio::test]
async fn creating_a_contact_returns_201_with_its_parsed_fields_and_reads_back() {
    let app = spawn_app().await;
    let answer = app
        .post_json(
            "/api/contacts",
            &app.admin,
            &json!({
                "first_name": "Dana",
                "last_name": "Lee",
                "emails": ["Dana@Acme.IO", "dana.lee@gmail.com"],
                "phones": ["(415) 555-0100", "ask reception"],
                "job_title": "VP Sales",
                "company_name": "Acme",
                "company_domain": "https://www.Acme.io/about",
                "lifecycle_stage": "salesqualifiedlead",
                "owner": "casey",
                "crm_id": "501",
                "last_contacted_at": "2026-11-02T09:30:00+01:00",
                "custom": {"lead_source": "webinar"}
            }),
        )
        .await;
    assert_eq!(answer.0, 201, "{}", answer.1);
    let ContactResponse {
        contact,
        consistency,
    } = dto(&answer.1);
    assert_eq!(contact.status, ContactStatus::Active);
    assert_eq!(contact.source, ContactSource::Manual);
    assert_eq!(
        contact.fields.emails,
        ["dana@acme.io", "dana.lee@gmail.com"]
    );
    assert_eq!(
        contact.fields.phones,
        [
            Phone {
                raw: "(415) 555-0100".into(),
                e164: Some("+14155550100".into())
            },
            Phone {
                raw: "ask reception".into(),
                e164: None
            }
        ]
    );
    assert_eq!(contact.fields.company_domain.as_deref(), Some("acme.io"));
    assert_eq!(
        contact.fields.lifecycle_stage,
        Some(LifecycleStage::SalesQualifiedLead)
    );
    assert_eq!(
        contact.fields.last_contacted_at,
        Some("2026-11-02T08:30:00Z".parse().unwrap())
    );
    assert_eq!(contact.created_by, Actor::user("admin"));

    let read: ContactResponse = app
        .get_ok(
            &format!("/api/contacts/{}?after={consistency}", contact.id),
            &app.admin,
        )
        .await;
    assert_eq!(read.contact, contact);
    // Viewers read contacts too: they are the team's.
    let viewer = app.token("vic", "viewer").await;
    let (status, _) = app
        .get_json(&format!("/api/contacts/{}", contact.id), &viewer)
        .await;
    assert_eq!(status, 200);

    let list = list(&app, "?q=dana").await;
    let row = &list.items[0];
    assert_eq!(row.name, "Dana Lee");
    assert_eq!(row.primary_email.as_deref(), Some("dana@acme.io"));
    assert_eq!(row.phone.as_deref(), Some("+14155550100"));
    assert_eq!(row.crm_id.as_deref(), Some("501"));
    assert_eq!((row.valid, row.issues), (None, 0));
}

#[tokio::test]
async fn a_missing_contact_is_404_and_invalid_fields_are_422_naming_each() {
    let app = spawn_app().await;
    let missing = Uuid::now_v7();
    let answer = app
        .get_json(&format!("/api/contacts/{missing}"), &app.admin)
        .await;
    assert_error(&answer, 404, "contact.not_found");
    let answer = command(&app, missing, "edit", json!({"job_title": "CRO"})).await;
    assert_error(&answer, 404, "contact.not_found");

    // (body, the fields named)
    let table = [
        (json!({"email": "dana"}), vec!["email"]),
        (
            json!({"emails": ["a@b.io", "nope"], "crm_id": "a b", "lifecycle_stage": "prospect"}),
            vec!["emails[1]", "lifecycle_stage", "crm_id"],
        ),
        (
            // The API takes stage values only; labels and `mql`/`sql` are for CSV files.
            json!({"first_name": "Dana", "lifecycle_stage": "SQL"}),
            vec!["lifecycle_stage"],
        ),
        (json!({"company_domain": "acme"}), vec!["company_domain"]),
        (json!({"custom": {"Bad Key": "x"}}), vec!["custom.Bad Key"]),
        (json!({"job_title": "CRO"}), vec!["fields"]),
    ];
    for (body, fields) in table {
        let answer = app.post_json("/api/contacts", &app.admin, &body).await;
        let error = assert_error(&answer, 422, "request.validation");
        assert_eq!(error_fields(&error), fields, "{body}");
    }
    let answer = app
        .post_json("/api/contacts", &app.admin, &json!({"nickname": "D"}))
        .await;
    assert_eq!(answer.0, 422, "unknown fields are refused: {}", answer.1);

    // Viewers read, never write.
    let viewer = app.token("vic", "viewer").await;
    let answer = app
        .post_json("/api/contacts", &viewer, &json!({"first_name": "Dana"}))
        .await;
    assert_error(&answer, 403, "auth.forbidden");
    let operator = app.token("olive", "operator").await;
    let answer = app
        .post_json("/api/contacts", &operator, &json!({"first_name": "Dana"}))
        .await;
    assert_eq!(answer.0, 201, "operators write: {}", answer.1);

    for query in ["?sort=email", "?status=gone", "?valid=maybe", "?limit=201"] {
        let answer = app
            .get_json(&format!("/api/contacts{query}"), &app.admin)
            .await;
        assert_error(&answer, 400, "request.invalid_query");
    }
    let answer = app
        .get_json("/api/contacts?cursor=nonsense", &app.admin)
        .await;
    assert_error(&answer, 400, "request.invalid_cursor");
}

#[tokio::test]
async fn lists_search_filter_sort_and_page_with_stable_cursors() {
    let app = spawn_app().await;
    for (first, last, email, company, stage, owner, crm) in [
        (
            "Dana",
            "Lee",
            "dana@acme.io",
            "Acme",
            "lead",
            "casey",
            Some("1"),
        ),
        (
            "Ari",
            "Stone",
            "ari@globex.com",
            "Globex",
            "customer",
            "casey",
            None,
        ),
        (
            "Bea",
            "Kim",
            "bea@acme.io",
            "Acme",
            "customer",
            "sam",
            Some("2"),
        ),
        ("Cy", "Ng", "cy@initech.com", "Initech", "lead", "sam", None),
        ("Eve", "Moss", "eve@100%.io", "Hooli", "lead", "casey", None),
    ] {
        let mut body = json!({
            "first_name": first, "last_name": last, "company_name": company,
            "lifecycle_stage": stage, "owner": owner, "crm_id": crm,
        });
        // An address with `%` is not one; the search must still take `%` literally.
        if !email.contains('%') {
            body["email"] = json!(email);
        }
        create(&app, body).await;
    }

    let all = list(&app, "").await;
    assert_eq!(
        names(&all),
        ["Ari Stone", "Bea Kim", "Cy Ng", "Dana Lee", "Eve Moss"]
    );
    assert_eq!(all.total, 5);
    assert_eq!(all.next_cursor, None);

    // (query, names in order)
    let table: &[(&str, &[&str])] = &[
        ("?q=ACME", &["Bea Kim", "Dana Lee"]),
        ("?q=globex.com", &["Ari Stone"]),
        ("?q=ng", &["Cy Ng"]),
        ("?q=%25", &[]),
        ("?q=a_", &[]),
        ("?lifecycle_stage=customer", &["Ari Stone", "Bea Kim"]),
        (
            "?lifecycle_stage=lead,customer&owner=sam",
            &["Bea Kim", "Cy Ng"],
        ),
        ("?has_crm_id=true", &["Bea Kim", "Dana Lee"]),
        (
            "?has_crm_id=false&sort=-name",
            &["Eve Moss", "Cy Ng", "Ari Stone"],
        ),
        (
            "?valid=unknown&owner=casey&sort=-name",
            &["Eve Moss", "Dana Lee", "Ari Stone"],
        ),
        ("?valid=true", &[]),
        ("?source=import", &[]),
        ("?company_domain=acme.io", &[]),
        // A filter is lenient: text that is no domain matches nothing, not a 400.
        ("?company_domain=%C2%B4", &[]),
        (
            "?sort=created_at",
            &["Dana Lee", "Ari Stone", "Bea Kim", "Cy Ng", "Eve Moss"],
        ),
        (
            "?sort=-created_at",
            &["Eve Moss", "Cy Ng", "Bea Kim", "Ari Stone", "Dana Lee"],
        ),
    ];
    for (query, expected) in table {
        let page = list(&app, query).await;
        assert_eq!(names(&page), *expected, "{query}");
        assert_eq!(page.total, expected.len() as i64, "{query}");
    }

    // Pages of two, each sort, add up to the whole list in the same order.
    for sort in [
        "name",
        "-name",
        "-created_at",
        "updated_at",
        "last_contacted_at",
    ] {
        let whole = list(&app, &format!("?sort={sort}")).await;
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("?sort={sort}&limit=2&cursor={c}"),
                None => format!("?sort={sort}&limit=2"),
            };
            let page = list(&app, &query).await;
            assert_eq!(page.total, 5);
            paged.extend(page.items.iter().map(|c| c.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let ids: Vec<Uuid> = whole.items.iter().map(|c| c.id).collect();
        assert_eq!(paged, ids, "{sort}");
        // A cursor of one sort is refused by another.
        if let Some(c) = list(&app, &format!("?sort={sort}&limit=1"))
            .await
            .next_cursor
        {
            let other = if sort == "created_at" {
                "name"
            } else {
                "created_at"
            };
            let answer = app
                .get_json(
                    &format!("/api/contacts?sort={other}&cursor={c}"),
                    &app.admin,
                )
                .await;
            assert_error(&answer, 400, "request.invalid_cursor");
        }
    }
}

#[tokio::test]
async fn contacts_never_contacted_sort_last_either_way() {
    let app = spawn_app().await;
    for (name, at) in [
        ("Never", None),
        ("Early", Some("2026-01-01T00:00:00Z")),
        ("Late", Some("2026-06-01T00:00:00Z")),
    ] {
        create(&app, json!({"first_name": name, "last_contacted_at": at})).await;
    }
    assert_eq!(
        names(&list(&app, "?sort=last_contacted_at").await),
        ["Early", "Late", "Never"]
    );
    assert_eq!(
        names(&list(&app, "?sort=-last_contacted_at").await),
        ["Late", "Early", "Never"]
    );
}

/// The field changes an audit entry's payload records (wherever the event keeps them).
fn changes_of(payload: &Value) -> Vec<Value> {
    match payload {
        Value::Object(map) => map
            .get("changes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| map.values().flat_map(changes_of).collect()),
        _ => vec![],
    }
}

#[tokio::test]
async fn an_edit_records_old_and_new_values_in_the_audit_and_null_clears() {
    let app = spawn_app().await;
    let contact = create(
        &app,
        json!({"first_name": "Dana", "email": "dana@acme.io", "job_title": "VP Sales", "phones": ["4155550100"]}),
    )
    .await
    .contact;
    let answer = command(
        &app,
        contact.id,
        "edit",
        json!({"job_title": "CRO", "phones": null, "custom": {"tier": "gold"}}),
    )
    .await;
    let edited: ContactResponse = expect_dto(&answer, 200);
    assert_eq!(edited.contact.fields.job_title.as_deref(), Some("CRO"));
    assert!(edited.contact.fields.phones.is_empty());
    assert_eq!(edited.contact.fields.first_name.as_deref(), Some("Dana"));
    assert_eq!(edited.contact.version, 2);

    // The same edit again changes nothing and records nothing.
    let again: ContactResponse = expect_dto(
        &command(&app, contact.id, "edit", json!({"job_title": "CRO"})).await,
        200,
    );
    assert_eq!(again.contact.version, 2);
    // An edit that would leave nothing to reach the person by is refused: a well-formed
    // request in conflict with what the contact holds.
    let answer = command(
        &app,
        contact.id,
        "edit",
        json!({"first_name": null, "emails": []}),
    )
    .await;
    assert_error(&answer, 409, "contact.would_be_empty");

    let audit: AuditResponse = app
        .get_ok(&format!("/api/audit/contact/{}", contact.id), &app.admin)
        .await;
    assert_eq!(audit.events.len(), 2);
    assert_eq!(audit.events[1].event_type, "ContactFieldsChanged");
    assert_eq!(audit.events[1].actor.as_deref(), Some("user:admin"));
    let changes = changes_of(&audit.events[1].payload);
    let change = |field: &str| {
        changes
            .iter()
            .find(|c| c["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("{field} changed: {changes:?}"))
    };
    assert_eq!(
        change("job_title"),
        json!({"field": "job_title", "old": "VP Sales", "new": "CRO"})
    );
    assert_eq!(
        change("phones"),
        json!({"field": "phones", "old": [{"raw": "4155550100", "e164": "+14155550100"}], "new": []})
    );
    assert_eq!(
        change("custom.tier"),
        json!({"field": "custom.tier", "old": null, "new": "gold"})
    );
    // Viewers read the audit too (contacts belong to no one in particular).
    let viewer = app.token("vic", "viewer").await;
    let (status, _) = app
        .get_json(&format!("/api/audit/contact/{}", contact.id), &viewer)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn archiving_takes_a_contact_out_of_the_list_and_restoring_brings_it_back() {
    let app = spawn_app().await;
    let dana = create(&app, json!({"first_name": "Dana"})).await.contact;
    create(&app, json!({"first_name": "Ari"})).await;

    let answer = command(&app, dana.id, "archive", json!({"reason": "Left Acme"})).await;
    let archived: ContactResponse = expect_dto(&answer, 200);
    assert_eq!(archived.contact.status, ContactStatus::Archived);
    assert_eq!(
        archived
            .contact
            .archived
            .as_ref()
            .and_then(|a| a.reason.as_deref()),
        Some("Left Acme")
    );
    assert_eq!(names(&list(&app, "").await), ["Ari"]);
    assert_eq!(names(&list(&app, "?status=archived").await), ["Dana"]);
    assert_eq!(names(&list(&app, "?status=all").await), ["Ari", "Dana"]);

    let answer = command(&app, dana.id, "edit", json!({"job_title": "CRO"})).await;
    assert_error(&answer, 409, "contact.archived");
    // Archiving again changes nothing.
    let again: ContactResponse =
        expect_dto(&command(&app, dana.id, "archive", json!({})).await, 200);
    assert_eq!(again.contact.version, archived.contact.version);

    let restored: ContactResponse =
        expect_dto(&command(&app, dana.id, "restore", json!({})).await, 200);
    assert_eq!(restored.contact.status, ContactStatus::Active);
    assert_eq!(restored.contact.archived, None);
    assert_eq!(names(&list(&app, "").await), ["Ari", "Dana"]);

    let viewer = app.token("vic", "viewer").await;
    let answer = app
        .post_json(
            &format!("/api/contacts/{}/archive", dana.id),
            &viewer,
            &json!({}),
        )
        .await;
    assert_error(&answer, 403, "auth.forbidden");
}

#[tokio::test]
async fn a_create_repeating_an_active_contacts_email_or_crm_id_is_409_naming_it() {
    let app = spawn_app().await;
    let dana = create(
        &app,
        json!({"first_name": "Dana", "emails": ["dana@acme.io", "dana@gmail.com"], "crm_id": "501"}),
    )
    .await
    .contact;
    settle_contacts(&app.pool).await;

    // (body, what matched)
    let table = [
        (
            json!({"first_name": "D", "email": "DANA@gmail.com"}),
            "email",
        ),
        (
            json!({"first_name": "D", "emails": ["x@y.io", "dana@acme.io"]}),
            "email",
        ),
        (json!({"first_name": "D", "crm_id": "501"}), "crm_id"),
    ];
    for (body, matched_on) in table {
        let answer = app.post_json("/api/contacts", &app.admin, &body).await;
        let error = assert_error(&answer, 409, "contact.duplicate");
        assert_eq!(
            error.details,
            Some(json!({"contact_id": dana.id, "matched_on": matched_on})),
            "{body}"
        );
    }
    // Asked for, it is created anyway (the duplicate review will see the pair).
    let answer = app
        .post_json(
            "/api/contacts",
            &app.admin,
            &json!({"first_name": "D", "email": "dana@acme.io", "allow_duplicate": true}),
        )
        .await;
    assert_eq!(answer.0, 201, "{}", answer.1);

    // An archived contact's address does not block a new one.
    let old = create(&app, json!({"first_name": "Old", "email": "old@acme.io"}))
        .await
        .contact;
    command(&app, old.id, "archive", json!({})).await;
    settle_contacts(&app.pool).await;
    let answer = app
        .post_json(
            "/api/contacts",
            &app.admin,
            &json!({"email": "old@acme.io"}),
        )
        .await;
    assert_eq!(answer.0, 201, "{}", answer.1);
}

#[tokio::test]
async fn the_contacts_export_is_csv_of_the_filtered_rows_with_formulas_defused() {
    let app = spawn_app().await;
    let dana = create(
        &app,
        json!({
            "first_name": "Dana", "last_name": "Lee, Jr.",
            "emails": ["dana@acme.io", "dana@gmail.com", "d@lee.me"],
            "phones": ["+1 415 555 0100", "+44 20 7183 8750"],
            "job_title": "=HYPERLINK(\"http://evil\")", "company_name": "Acme \"West\"",
            "company_domain": "acme.io", "lifecycle_stage": "customer", "owner": "casey",
            "crm_id": "501", "last_contacted_at": "2026-11-02T08:30:00Z"
        }),
    )
    .await
    .contact;
    create(
        &app,
        json!({"first_name": "Ari", "lifecycle_stage": "lead", "job_title": "@ops"}),
    )
    .await;
    let gone = create(&app, json!({"first_name": "Gone"})).await.contact;
    command(&app, gone.id, "archive", json!({})).await;

    let rows = export(&app, "/api/contacts/export.csv", CONTACT_EXPORT_COLUMNS).await;
    let firsts: Vec<&str> = rows.iter().map(|r| r["first_name"].as_str()).collect();
    assert_eq!(firsts, ["Ari", "Dana"], "active only, by name");
    let row = &rows[1];
    let expected = [
        ("id", dana.id.to_string()),
        ("last_name", "Lee, Jr.".into()),
        ("email", "dana@acme.io".into()),
        ("other_emails", "dana@gmail.com;d@lee.me".into()),
        ("phone", "+14155550100;+442071838750".into()),
        ("job_title", "'=HYPERLINK(\"http://evil\")".into()),
        ("company_name", "Acme \"West\"".into()),
        ("company_domain", "acme.io".into()),
        ("lifecycle_stage", "customer".into()),
        ("owner", "casey".into()),
        ("crm_id", "501".into()),
        ("last_contacted_at", "2026-11-02T08:30:00Z".into()),
        ("status", "active".into()),
        ("valid", "".into()),
    ];
    for (column, value) in expected {
        assert_eq!(row[column], value, "{column}");
    }
    assert_eq!(rows[0]["job_title"], "'@ops");

    // Every filter of the list applies.
    let leads = export(
        &app,
        "/api/contacts/export.csv?lifecycle_stage=lead",
        CONTACT_EXPORT_COLUMNS,
    )
    .await;
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["first_name"], "Ari");
    let archived = export(
        &app,
        "/api/contacts/export.csv?status=archived",
        CONTACT_EXPORT_COLUMNS,
    )
    .await;
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0]["status"], "archived");
    let searched = export(
        &app,
        "/api/contacts/export.csv?q=gmail&sort=-name",
        CONTACT_EXPORT_COLUMNS,
    )
    .await;
    assert_eq!(searched.len(), 1);
    for bad in ["status=gone", "limit=0", "limit=201"] {
        let answer = app
            .get_json(&format!("/api/contacts/export.csv?{bad}"), &app.admin)
            .await;
        assert_error(&answer, 400, "request.invalid_query");
        let answer = app
            .get_json(&format!("/api/queue/export.csv?{bad}"), &app.admin)
            .await;
        assert_error(&answer, 400, "request.invalid_query");
    }
}

#[tokio::test]
async fn the_queue_export_is_csv_of_the_moves_the_list_filters_select() {
    let app = spawn_app().await;
    let first = app
        .propose(
            &app.admin,
            json!({"action_type": "send_email", "title": "+Send, \"now\"", "contact_id": "c-1", "rationale": "She asked"}),
        )
        .await
        .item;
    let second = app.propose_simple("Second").await.item;
    app.queue_command_ok(second.id, "reject", json!({"reason": "Not now"}))
        .await;
    app.settle().await;

    let rows = export(
        &app,
        "/api/queue/export.csv?sort=created_at",
        QUEUE_EXPORT_COLUMNS,
    )
    .await;
    assert_eq!(rows.len(), 2);
    let row = &rows[0];
    assert_eq!(row["id"], first.id.to_string());
    assert_eq!(row["title"], "'+Send, \"now\"");
    assert_eq!(row["action_type"], "send_email");
    assert_eq!(row["status"], "pending");
    assert_eq!(row["owner"], "admin");
    assert_eq!(row["aps"], "63.00");
    assert_eq!(row["contact_id"], "c-1");
    assert_eq!(row["source"], "manual");
    assert_eq!(row["rationale"], "She asked");
    assert_eq!(rows[1]["status"], "rejected");
    assert_eq!(rows[1]["decided_by"], "user:admin");
    assert_eq!(rows[1]["decision_note"], "Not now");

    let rejected = export(
        &app,
        "/api/queue/export.csv?status=rejected",
        QUEUE_EXPORT_COLUMNS,
    )
    .await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["id"], second.id.to_string());
    // Operators export their own moves only, as they list them.
    let operator = app.token("olive", "operator").await;
    let answer = app
        .get_json("/api/queue/export.csv?owner=*", &operator)
        .await;
    assert_error(&answer, 403, "auth.forbidden");
}

/// `n` contacts created through the bus (as the API creates them), a few at a time.
async fn create_many(pool: &PgPool, n: usize) {
    let bus = command_bus(pool, 3);
    let meta = CommandMeta::system("test");
    let mut creates = futures::stream::iter(0..n)
        .map(|i| {
            let (bus, meta) = (&bus, &meta);
            async move {
                let id = Uuid::now_v7();
                let command = ContactCommand::Create(Box::new(CreateContact {
                    id,
                    fields: vec![
                        FieldEdit::FirstName(Some(
                            Text::parse(&format!("Person {i:05}"), 64).unwrap(),
                        )),
                        FieldEdit::Emails(vec![
                            EmailAddress::parse(&format!("p{i}@example.com")).unwrap()
                        ]),
                    ],
                    source: ContactSource::Import,
                    import_id: None,
                    demo: false,
                    by: Actor::user("admin"),
                    at: now(),
                }));
                bus.execute_new::<Contact>(id, command, meta, |_| Ok(()))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(16);
    while let Some(result) = creates.next().await {
        result.unwrap();
    }
}

#[tokio::test]
async fn a_five_thousand_contact_export_streams_every_row() {
    let app = spawn_app().await;
    create_many(&app.pool, 5000).await;
    settle_contacts(&app.pool).await;
    let response = app
        .get("/api/contacts/export.csv?source=import", &app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.content_length(),
        None,
        "the body is streamed (chunked), not sized up front"
    );
    let mut response = response;
    let mut text = String::new();
    let mut chunks = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        chunks += 1;
    }
    let records = parse_csv(&text);
    assert_eq!(records.len(), 5001, "the header and every contact");
    assert_eq!(records[1][1], "Person 00000");
    assert_eq!(records[5000][1], "Person 04999");
    assert!(chunks > 1, "the body came in {chunks} chunk(s)");
}

#[tokio::test]
async fn rebuilding_the_contacts_read_model_gives_the_same_rows() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let contact = create(
            &app,
            json!({"first_name": format!("P{i}"), "email": format!("p{i}@acme.io"), "phones": ["4155550100", "n/a"]}),
        )
        .await
        .contact;
        ids.push(contact.id);
    }
    for (i, id) in ids.iter().enumerate() {
        match i % 4 {
            0 => {
                command(
                    &app,
                    *id,
                    "edit",
                    json!({"job_title": "CRO", "emails": ["x@acme.io", "y@acme.io"]}),
                )
                .await;
            }
            1 => {
                command(&app, *id, "archive", json!({"reason": "gone"})).await;
            }
            2 => {
                command(&app, *id, "archive", json!({})).await;
                command(&app, *id, "restore", json!({})).await;
                command(&app, *id, "edit", json!({"custom": {"tier": "gold"}})).await;
            }
            _ => {}
        }
    }
    settle_contacts(&app.pool).await;
    let live = rows_as_text(&app.pool, "contacts").await;
    assert_eq!(live.len(), 12);
    fill_shadow(&app.pool, &ContactsProjector, |_| {})
        .await
        .unwrap();
    assert_eq!(rows_as_text(&app.pool, "contacts__rebuild").await, live);
    // Flushing after every few rows reads back and updates what an earlier flush wrote.
    sqlx::query("delete from projection_rebuilds where name = $1")
        .bind(ContactsProjector.name())
        .execute(&app.pool)
        .await
        .unwrap();
    let tiny = FoldLimits {
        page: 3,
        held_rows: 4,
    };
    fill_shadow_with(&app.pool, &ContactsProjector, tiny, |_| {})
        .await
        .unwrap();
    assert_eq!(rows_as_text(&app.pool, "contacts__rebuild").await, live);
}

/// Every row of `table` as PostgreSQL prints it, sorted.
async fn rows_as_text(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(&format!("select t::text from {table} t order by 1"))
        .fetch_all(pool)
        .await
        .unwrap()
}
