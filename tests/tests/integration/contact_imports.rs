//! CSV imports of contacts: the upload answered at once, the worker importing the spooled
//! file batch by batch, rows that fail alone with their lines, re-imports that create
//! nothing, memory bounded by a batch whatever the file's size, and the CLI.

use std::sync::Arc;
use std::time::Duration;

use caseyos_backend::commands::contact_imports::{start_import, Spool, SPOOL_PIECE_BYTES};
use caseyos_backend::workers::contact_imports::{
    contact_id_for, ContactImports, ContactKey, RunEnd,
};
use caseyos_domain::api::ContactImportResponse;
use caseyos_domain::contact_import::{ContactImport, ImportStatus};
use caseyos_domain::contacts::Contact;
use caseyos_domain::kernel::Actor;
use caseyos_store::history::state_at;
use caseyos_store::CommandMeta;
use caseyos_tests::{dto, query_i64, TestApp};
use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::process::{caseyos, run};

/// POSTs a `text/csv` body: the answer's status and body.
async fn upload(app: &TestApp, csv: &str) -> (u16, Value) {
    caseyos_tests::send(
        app.request(
            Method::POST,
            "/api/contacts/imports?file_name=people.csv",
            Some(&app.admin),
        )
        .header("content-type", "text/csv")
        .body(csv.to_string()),
    )
    .await
}

/// Polls the import until it is no longer running.
async fn finished(app: &TestApp, id: Uuid) -> ContactImportResponse {
    for _ in 0..600 {
        let (status, body) = app
            .get_json(&format!("/api/contacts/imports/{id}"), &app.admin)
            .await;
        assert_eq!(status, 200, "{body}");
        let import: ContactImportResponse = dto(&body);
        if import.status != ImportStatus::Running {
            return import;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish within a minute");
}

/// Uploads and waits for the import to finish.
pub(crate) async fn import(app: &TestApp, csv: &str) -> ContactImportResponse {
    let (status, body) = upload(app, csv).await;
    assert_eq!(status, 202, "{body}");
    let started: ContactImportResponse = dto(&body);
    assert_eq!(started.status, ImportStatus::Running);
    assert_eq!((started.rows, started.created, started.failed), (0, 0, 0));
    assert!(started.errors.is_empty());
    finished(app, started.id).await
}

async fn contact(pool: &PgPool, key: ContactKey) -> Option<caseyos_domain::contacts::ContactView> {
    let id = contact_id_for(&key);
    state_at::<Contact>(pool, &id.to_string(), i64::MAX)
        .await
        .unwrap()
        .contact
}

fn email(e: &str) -> ContactKey {
    ContactKey::Email(e.into())
}

async fn contact_events(pool: &PgPool) -> i64 {
    query_i64(
        pool,
        "select count(*) from events where aggregate_type = 'contact'",
    )
    .await
}

const PEOPLE: &str = "\u{feff}E-mail,FirstName,surname,org,Title,hubspot_id,Lead Source\r\n\
ada@example.com,Ada,Lovelace,Analytical Engines,CTO,,webinar\r\n\
not-an-email,Bad,Row,Nowhere,,,\r\n\
grace@example.com,Grace,Hopper\r\n\
\"alan@example.com\",Alan,Turing,\"Bletchley\r\nPark\",,,\r\n\
,Crm,Only,Acme,,HS-42,\r\n\
ada@example.com,Ada,Lovelace,Analytical Engines,Countess,,\r\n";

#[tokio::test]
async fn an_upload_is_imported_with_each_malformed_row_failing_alone_by_its_line() {
    let app = caseyos_tests::spawn_app().await;
    let import = import(&app, PEOPLE).await;
    assert_eq!(import.status, ImportStatus::Completed, "{import:?}");
    assert_eq!(import.file_name.as_deref(), Some("people.csv"));
    assert_eq!(import.size, PEOPLE.len() as u64);
    // Seven records: Ada, a bad email, a short row, Alan (two physical lines), the
    // CRM-only row, and Ada again in the same batch (an update of the first).
    assert_eq!(
        (
            import.rows,
            import.created,
            import.updated,
            import.skipped,
            import.failed
        ),
        (6, 3, 1, 0, 2),
        "{import:?}"
    );
    let errors: Vec<(u64, &str)> = import
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (3, "E-mail: is not an email address"),
            (4, "the row has 3 fields, the header has 7"),
        ]
    );
    let ada = contact(&app.pool, email("ada@example.com")).await.unwrap();
    assert_eq!(ada.fields.first_name.as_deref(), Some("Ada"));
    assert_eq!(ada.fields.job_title.as_deref(), Some("Countess"));
    assert_eq!(
        ada.fields.custom.get("lead_source").map(String::as_str),
        Some("webinar")
    );
    assert_eq!(ada.import_id, Some(import.id));
    let alan = contact(&app.pool, email("alan@example.com")).await.unwrap();
    assert_eq!(
        alan.fields.company_name.as_deref(),
        Some("Bletchley\r\nPark")
    );
    let crm = contact(&app.pool, ContactKey::CrmId("HS-42".into()))
        .await
        .unwrap();
    assert_eq!(crm.fields.crm_id.as_deref(), Some("HS-42"));
    // Nothing of a failed row was written.
    assert!(contact(&app.pool, email("grace@example.com"))
        .await
        .is_none());
    assert_eq!(
        query_i64(
            &app.pool,
            "select count(distinct aggregate_id) from events where aggregate_type = 'contact'"
        )
        .await,
        3
    );
    // The spooled file is gone once the import finished.
    assert_eq!(
        query_i64(&app.pool, "select count(*) from contact_import_chunks").await,
        0
    );
}

#[tokio::test]
async fn importing_the_same_file_again_creates_nothing_and_a_changed_row_updates_only_its_field() {
    let app = caseyos_tests::spawn_app().await;
    let csv = "email,first_name,company,crm_id\n\
               a@example.com,Ann,Acme,\n\
               b@example.com,Bob,Beta,B-1\n\
               c@example.com,Cy,Gamma,\n";
    let first = import(&app, csv).await;
    assert_eq!((first.created, first.failed), (3, 0), "{first:?}");
    let events = contact_events(&app.pool).await;
    let again = import(&app, csv).await;
    assert_eq!(
        (again.rows, again.created, again.updated, again.skipped),
        (3, 0, 0, 3),
        "{again:?}"
    );
    assert_eq!(contact_events(&app.pool).await, events);
    // Matched on the CRM id first: Bob's new address becomes his primary, the old stays.
    let changed = "email,first_name,company,crm_id\n\
                   a@example.com,Ann,Acme Corp,\n\
                   bob@beta.io,Bob,Beta,B-1\n\
                   c@example.com,,,\n";
    let third = import(&app, changed).await;
    assert_eq!(
        (third.created, third.updated, third.skipped),
        (0, 2, 1),
        "{third:?}"
    );
    assert_eq!(contact_events(&app.pool).await, events + 2);
    let ann = contact(&app.pool, email("a@example.com")).await.unwrap();
    assert_eq!(ann.fields.company_name.as_deref(), Some("Acme Corp"));
    let bob = contact(&app.pool, ContactKey::CrmId("B-1".into()))
        .await
        .unwrap();
    assert_eq!(bob.fields.emails, vec!["bob@beta.io", "b@example.com"]);
    // Empty cells cleared nothing.
    let cy = contact(&app.pool, email("c@example.com")).await.unwrap();
    assert_eq!(cy.fields.first_name.as_deref(), Some("Cy"));
}

#[tokio::test]
async fn a_multipart_upload_is_imported_under_its_file_name() {
    let app = caseyos_tests::spawn_app().await;
    // A form as browsers send it: a text part, then the file.
    let boundary = "caseyos-boundary-7d1c";
    let form = format!(
        "--{boundary}\r\n\
         Content-Disposition: form-data; name=\"note\"\r\n\r\n\
         ignored\r\n\
         --{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"crm-export.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n\
         Email_Address,given_name\nz@example.com,Zoe\n\r\n\
         --{boundary}--\r\n"
    );
    let (status, body) = caseyos_tests::send(
        app.request(Method::POST, "/api/contacts/imports", Some(&app.admin))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(form),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let started: ContactImportResponse = dto(&body);
    let done = finished(&app, started.id).await;
    assert_eq!(done.file_name.as_deref(), Some("crm-export.csv"));
    assert_eq!((done.rows, done.created), (1, 1), "{done:?}");
}

#[tokio::test]
async fn uploads_that_cannot_be_imported_are_refused_and_leave_nothing_behind() {
    let app = caseyos_tests::spawn_app_with(|c| c.contact_import_max_bytes = 64).await;
    let big = format!("email\n{}", "x@example.com\n".repeat(10));
    caseyos_tests::assert_error(&upload(&app, &big).await, 413, "contact_import.too_large");
    caseyos_tests::assert_error(&upload(&app, "").await, 422, "contact_import.empty");
    let json =
        caseyos_tests::send(app.post("/api/contacts/imports", &app.admin, &serde_json::json!({})))
            .await;
    caseyos_tests::assert_error(&json, 415, "contact_import.unsupported_type");
    assert_eq!(
        query_i64(&app.pool, "select count(*) from contact_import_chunks").await,
        0
    );
    assert_eq!(
        query_i64(
            &app.pool,
            "select count(*) from events where aggregate_type = 'contact_import'"
        )
        .await,
        0
    );
    // A header the import cannot use fails the import, with the reason.
    let failed = import(&app, "name,company\nAda,Acme\n").await;
    assert_eq!(failed.status, ImportStatus::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("no email column"),
        "{failed:?}"
    );
}

/// `rows` generated contacts as CSV, one in 100 with a bad email.
fn generated(rows: usize) -> String {
    let mut csv = String::from("email,first_name,last_name,company,phone\n");
    for n in 0..rows {
        if n % 100 == 99 {
            csv.push_str(&format!("broken-{n},Bad,Row,Co,\n"));
        } else {
            csv.push_str(&format!(
                "person{n}@example{}.com,First{n},Last{n},\"Company {}, Inc\",+1 415 555 {:04}\n",
                n % 97,
                n % 1000,
                n % 10_000
            ));
        }
    }
    csv
}

/// Imports `csv` in this process through the spool and the worker: the import and the
/// most records the worker held at once.
async fn import_in_process(
    pool: &PgPool,
    csv: &str,
) -> (
    caseyos_domain::contact_import::ContactImportView,
    usize,
    usize,
) {
    let bus = Arc::new(caseyos_tests::command_bus(pool, 16));
    let mut spool = Spool::new(pool.clone(), u64::MAX);
    for piece in csv.as_bytes().chunks(10_000) {
        spool.write(piece).await.unwrap();
    }
    let spool_buffer = spool.buffer_capacity();
    let id = spool.import_id();
    let size = spool.finish().await.unwrap();
    let meta = CommandMeta::system("test");
    start_import(
        &bus,
        id,
        Some("generated.csv"),
        size,
        Actor::user("admin"),
        &meta,
    )
    .await
    .unwrap();
    let worker = ContactImports::new(pool.clone(), bus, "test");
    assert!(worker.claim(id).await.unwrap());
    let report = worker
        .run(id, &CancellationToken::new(), |_| {})
        .await
        .unwrap();
    assert_eq!(report.end, RunEnd::Finished);
    let import = state_at::<ContactImport>(pool, &id.to_string(), i64::MAX)
        .await
        .unwrap()
        .import
        .unwrap();
    (import, report.most_records_held, spool_buffer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_rows_import_holding_no_more_than_a_thousand_do() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let (small, small_held, small_buffer) = import_in_process(&pool, &generated(1_000)).await;
    assert_eq!(small.status, ImportStatus::Completed);
    assert_eq!(
        (small.counts.rows, small.counts.created, small.counts.failed),
        (1_000, 990, 10)
    );
    let (pool, _) = caseyos_tests::fresh_database().await;
    let (large, large_held, large_buffer) = import_in_process(&pool, &generated(100_000)).await;
    assert_eq!(large.status, ImportStatus::Completed);
    assert_eq!(
        (large.counts.rows, large.counts.created, large.counts.failed),
        (100_000, 99_000, 1_000)
    );
    assert_eq!(
        large.errors.len(),
        1_000,
        "the state keeps the first 1,000 errors"
    );
    assert_eq!(large.errors[0].line, 101);
    // Memory: the spool holds one piece, the worker a batch and what one piece completes —
    // the same for 100 times the rows.
    assert_eq!(
        (small_buffer, large_buffer),
        (SPOOL_PIECE_BYTES, SPOOL_PIECE_BYTES)
    );
    // A row here is about 80 bytes: a piece completes at most ~3,300 records.
    let bound = caseyos_backend::workers::contact_imports::BATCH_ROWS + SPOOL_PIECE_BYTES / 64;
    assert!(
        small_held <= bound,
        "{small_held} records held for 1,000 rows"
    );
    assert!(
        large_held <= bound,
        "{large_held} records held for 100,000 rows"
    );
    assert_eq!(
        query_i64(
            &pool,
            "select count(*) from events where aggregate_type = 'contact'"
        )
        .await,
        99_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_stopped_mid_file_is_resumed_after_its_last_batch() {
    let (pool, _) = caseyos_tests::fresh_database().await;
    let bus = Arc::new(caseyos_tests::command_bus(&pool, 16));
    let csv = generated(2_500);
    let mut spool = Spool::new(pool.clone(), u64::MAX);
    spool.write(csv.as_bytes()).await.unwrap();
    let id = spool.import_id();
    let size = spool.finish().await.unwrap();
    let meta = CommandMeta::system("test");
    start_import(&bus, id, None, size, Actor::user("admin"), &meta)
        .await
        .unwrap();
    // The first worker stops after its first batch (as at a shutdown).
    let first = ContactImports::new(pool.clone(), bus.clone(), "first").with_batch_rows(1_000);
    assert!(first.claim(id).await.unwrap());
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    let report = first
        .run(id, &stop, move |_| stopping.cancel())
        .await
        .unwrap();
    assert_eq!(report.end, RunEnd::Shutdown);
    let midway = state_at::<ContactImport>(&pool, &id.to_string(), i64::MAX)
        .await
        .unwrap()
        .import
        .unwrap();
    assert_eq!(midway.counts.rows, 1_000);
    // Another worker takes over and goes on from there: every row once.
    let second = ContactImports::new(pool.clone(), bus, "second").with_batch_rows(1_000);
    assert!(second.claim(id).await.unwrap());
    second
        .run(id, &CancellationToken::new(), |_| {})
        .await
        .unwrap();
    let done = state_at::<ContactImport>(&pool, &id.to_string(), i64::MAX)
        .await
        .unwrap()
        .import
        .unwrap();
    assert_eq!(done.status, ImportStatus::Completed);
    assert_eq!(
        (
            done.counts.rows,
            done.counts.created,
            done.counts.skipped,
            done.counts.failed
        ),
        (2_500, 2_475, 0, 25)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_imports_a_file_with_a_summary_and_again_creates_nothing() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let dir = std::env::temp_dir().join(format!("caseyos-import-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("people.csv");
    std::fs::write(&file, generated(300)).unwrap();
    let path = file.to_string_lossy().into_owned();
    let mut command = caseyos(Some(&url));
    command.args(["contacts", "import", &path]);
    let first = run(command, Duration::from_secs(120)).await;
    assert!(first.status.success(), "{}", first.stderr);
    assert!(
        first.stderr.contains("completed")
            && first.stderr.contains("297 created")
            && first.stderr.contains("3 failed"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains("line 101: email: is not an email address"),
        "{}",
        first.stderr
    );
    let mut command = caseyos(Some(&url));
    command.args(["contacts", "import", &path, "--json"]);
    let again = run(command, Duration::from_secs(120)).await;
    assert!(again.status.success(), "{}", again.stderr);
    let answer: ContactImportResponse = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!((answer.created, answer.skipped, answer.failed), (0, 297, 3));
    assert_eq!(
        query_i64(
            &pool,
            "select count(*) from events where aggregate_type = 'contact'"
        )
        .await,
        297
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_row_matches_a_contact_made_by_hand_on_its_email_and_updates_it() {
    use caseyos_domain::contacts::{ContactCommand, ContactSource, CreateContact, FieldEdit};
    use caseyos_domain::kernel::{EmailAddress, Text};
    let app = caseyos_tests::spawn_app().await;
    let id = Uuid::now_v7();
    let create = ContactCommand::Create(Box::new(CreateContact {
        id,
        fields: vec![
            FieldEdit::FirstName(Some(Text::parse("Dana", 100).unwrap())),
            FieldEdit::Emails(vec![EmailAddress::parse("dana@example.com").unwrap()]),
        ],
        source: ContactSource::Manual,
        import_id: None,
        demo: false,
        by: Actor::user("admin"),
        at: caseyos_store::now(),
    }));
    caseyos_tests::command_bus(&app.pool, 3)
        .execute::<Contact>(id, create, &CommandMeta::system("test"))
        .await
        .unwrap();
    // The import matches against the contacts read model: wait until it has her.
    for _ in 0..500 {
        let sql = format!("select count(*) from contacts where id = '{id}'");
        if query_i64(&app.pool, &sql).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let done = import(&app, "email,job_title\nDANA@example.com,VP Sales\n").await;
    assert_eq!((done.created, done.updated), (0, 1), "{done:?}");
    let dana = state_at::<Contact>(&app.pool, &id.to_string(), i64::MAX)
        .await
        .unwrap()
        .contact
        .unwrap();
    assert_eq!(dana.fields.job_title.as_deref(), Some("VP Sales"));
    assert_eq!(contact_events(&app.pool).await, 2);
}
