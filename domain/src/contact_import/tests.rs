//! Given events / when a command / then events or a rejection, one test per outcome.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;
use crate::kernel::{Actor, Text};

type ImportTest = Scenario<ContactImport>;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap() + Duration::seconds(secs)
}

fn at(offset: u64, line: u64) -> ResumePoint {
    ResumePoint {
        offset,
        line,
        after_cr: false,
    }
}

fn started() -> ContactImportEvent {
    ContactImportEvent::ContactImportStarted(ContactImportStarted {
        import_id: Uuid::from_u128(11),
        file_name: Some("contacts.csv".into()),
        size: 4096,
        by: Actor::user("casey"),
        at: t(0),
    })
}

fn counts(rows: u64, created: u64, failed: u64) -> ImportCounts {
    ImportCounts {
        rows,
        created,
        updated: 0,
        skipped: 0,
        failed,
    }
}

fn error(line: u64) -> ImportRowError {
    ImportRowError {
        line,
        message: "email: is not an email address".into(),
    }
}

fn progressed(resume: ResumePoint) -> ContactImportEvent {
    ContactImportEvent::ContactImportProgressed(ContactImportProgressed {
        counts: counts(3, 2, 1),
        errors: vec![error(3)],
        resume,
        at: t(1),
    })
}

fn record(from: ResumePoint, resume: ResumePoint) -> ContactImportCommand {
    ContactImportCommand::RecordProgress(RecordProgress {
        from,
        resume,
        counts: counts(3, 2, 1),
        errors: vec![error(3)],
        at: t(1),
    })
}

#[test]
fn starting_an_import_records_the_file() {
    ImportTest::given_no_previous_events()
        .when(ContactImportCommand::Start(StartImport {
            id: Uuid::from_u128(11),
            file_name: Some(Text::parse("contacts.csv", 200).unwrap()),
            size: 4096,
            by: Actor::user("casey"),
            at: t(0),
        }))
        .then_expect_events(vec![started()]);
}

#[test]
fn starting_an_import_twice_is_refused() {
    ImportTest::given(vec![started()])
        .when(ContactImportCommand::Start(StartImport {
            id: Uuid::from_u128(11),
            file_name: None,
            size: 1,
            by: Actor::user("casey"),
            at: t(0),
        }))
        .then_expect_error(ContactImportError::AlreadyExists);
}

#[test]
fn a_batch_from_the_last_resume_point_is_recorded_and_totals_add_up() {
    ImportTest::given(vec![started()])
        .when(record(ResumePoint::default(), at(100, 5)))
        .then_expect_events(vec![progressed(at(100, 5))]);
    let import = ImportTest::given(vec![started(), progressed(at(100, 5))])
        .when(record(at(100, 5), at(200, 9)))
        .state_after()
        .import
        .unwrap();
    assert_eq!(import.counts, counts(6, 4, 2));
    assert_eq!(import.errors, vec![error(3), error(3)]);
    assert_eq!(import.resume, at(200, 9));
    assert_eq!(import.status, ImportStatus::Running);
}

#[test]
fn a_batch_recorded_already_decides_nothing() {
    ImportTest::given(vec![started(), progressed(at(100, 5))])
        .when(record(ResumePoint::default(), at(100, 5)))
        .then_expect_events(vec![]);
}

#[test]
fn a_batch_that_does_not_begin_where_the_last_ended_is_refused() {
    ImportTest::given(vec![started(), progressed(at(100, 5))])
        .when(record(at(50, 3), at(200, 9)))
        .then_expect_error(ContactImportError::OutOfOrder);
}

#[test]
fn progress_on_an_unknown_or_finished_import_is_refused() {
    ImportTest::given_no_previous_events()
        .when(record(ResumePoint::default(), at(100, 5)))
        .then_expect_error(ContactImportError::NotFound);
    let completed = ContactImportEvent::ContactImportCompleted(ContactImportCompleted { at: t(2) });
    ImportTest::given(vec![started(), completed])
        .when(record(ResumePoint::default(), at(100, 5)))
        .then_expect_error(ContactImportError::Finished);
}

#[test]
fn completing_finishes_the_import_once() {
    let completed = ContactImportEvent::ContactImportCompleted(ContactImportCompleted { at: t(2) });
    ImportTest::given(vec![started()])
        .when(ContactImportCommand::Complete { at: t(2) })
        .then_expect_events(vec![completed.clone()]);
    ImportTest::given(vec![started(), completed])
        .when(ContactImportCommand::Complete { at: t(3) })
        .then_expect_events(vec![]);
}

#[test]
fn failing_records_the_error_and_a_completed_import_cannot_fail() {
    let fail = || ContactImportCommand::Fail {
        error: Text::parse("the header has no email column", 500).unwrap(),
        at: t(2),
    };
    let state = ImportTest::given(vec![started()])
        .when(fail())
        .state_after();
    let import = state.import.unwrap();
    assert_eq!(import.status, ImportStatus::Failed);
    assert_eq!(
        import.error.as_deref(),
        Some("the header has no email column")
    );
    assert_eq!(import.finished_at, Some(t(2)));
    let completed = ContactImportEvent::ContactImportCompleted(ContactImportCompleted { at: t(2) });
    ImportTest::given(vec![started(), completed])
        .when(fail())
        .then_expect_error(ContactImportError::Finished);
}

#[test]
fn the_state_keeps_only_the_first_errors_but_counts_every_failed_row() {
    let many = ContactImportEvent::ContactImportProgressed(ContactImportProgressed {
        counts: counts(1500, 0, 1500),
        errors: (1..=1500).map(error).collect(),
        resume: at(10_000, 1502),
        at: t(1),
    });
    let state = ImportTest::given(vec![started(), many]);
    let import = state.state().import.clone().unwrap();
    assert_eq!(import.counts.failed, 1500);
    assert_eq!(import.errors.len(), MAX_ERRORS_KEPT);
    assert_eq!(import.errors.last().map(|e| e.line), Some(1000));
}
