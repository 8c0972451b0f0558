use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;
use crate::aggregate::Aggregate;
use crate::kernel::Actor;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + secs, 0).unwrap()
}

fn id() -> Uuid {
    Uuid::from_u128(7)
}

fn by() -> Actor {
    Actor::system("hubspot_sync")
}

fn start() -> CrmSyncCommand {
    CrmSyncCommand::Start {
        id: id(),
        object: SyncObject::Contacts,
        from: at(0),
        to: at(1_000),
        by: by(),
        at: at(1_000),
    }
}

fn started() -> CrmSyncEvent {
    CrmSyncEvent::CrmSyncStarted(CrmSyncStarted {
        sync_id: id(),
        object: SyncObject::Contacts,
        from: at(0),
        to: at(1_000),
        by: by(),
        at: at(1_000),
    })
}

fn counts(fetched: u64, created: u64, updated: u64, unchanged: u64, failed: u64) -> SyncCounts {
    SyncCounts {
        fetched,
        created,
        updated,
        unchanged,
        failed,
    }
}

fn progress(from: i64, to: i64, calls: u64) -> CrmSyncCommand {
    CrmSyncCommand::RecordProgress(RecordProgress {
        window: SyncWindow {
            from: at(from),
            to: at(to),
        },
        counts: counts(3, 2, 1, 0, 0),
        highest_modified_at: Some(at(to - 1)),
        calls,
        failed_calls: 0,
        at: at(1_001),
    })
}

fn progressed(from: i64, to: i64, calls: u64) -> CrmSyncEvent {
    CrmSyncEvent::CrmSyncProgressed(CrmSyncProgressed {
        window: SyncWindow {
            from: at(from),
            to: at(to),
        },
        fetched: 3,
        created: 2,
        updated: 1,
        unchanged: 0,
        failed: 0,
        highest_modified_at: Some(at(to - 1)),
        calls,
        failed_calls: 0,
        at: at(1_001),
    })
}

fn complete(calls: u64) -> CrmSyncCommand {
    CrmSyncCommand::Complete(Complete {
        calls,
        failed_calls: 0,
        rate_limits: None,
        at: at(1_002),
    })
}

fn fail() -> CrmSyncCommand {
    CrmSyncCommand::Fail(Fail {
        code: "hubspot.server_error".into(),
        message: "HubSpot answered 500 after 4 attempt(s)".into(),
        retryable: true,
        calls: 4,
        failed_calls: 4,
        at: at(1_003),
    })
}

fn failed(calls: u64, failed_calls: u64) -> CrmSyncEvent {
    CrmSyncEvent::CrmSyncFailed(CrmSyncFailed {
        code: "hubspot.server_error".into(),
        message: "HubSpot answered 500 after 4 attempt(s)".into(),
        retryable: true,
        calls,
        failed_calls,
        at: at(1_003),
    })
}

#[test]
fn starting_a_run_records_its_window() {
    Scenario::<CrmSync>::given_no_previous_events()
        .when(start())
        .then_expect_events(vec![started()]);
}

#[test]
fn starting_a_run_twice_is_refused() {
    Scenario::<CrmSync>::given(vec![started()])
        .when(start())
        .then_expect_error(CrmSyncError::AlreadyStarted);
}

#[test]
fn a_run_must_end_after_it_starts() {
    let command = CrmSyncCommand::Start {
        id: id(),
        object: SyncObject::Contacts,
        from: at(5),
        to: at(5),
        by: by(),
        at: at(5),
    };
    Scenario::<CrmSync>::given_no_previous_events()
        .when(command)
        .then_expect_error_message("to must be after from");
}

#[test]
fn a_finished_window_is_recorded_with_its_counts_and_calls() {
    Scenario::<CrmSync>::given(vec![started()])
        .when(progress(0, 500, 2))
        .then_expect_events(vec![progressed(0, 500, 2)]);
}

#[test]
fn a_window_recorded_again_after_a_resume_records_nothing() {
    Scenario::<CrmSync>::given(vec![started(), progressed(0, 500, 2)])
        .when(progress(0, 500, 2))
        .then_expect_events(vec![]);
}

#[test]
fn a_window_outside_the_run_is_refused() {
    Scenario::<CrmSync>::given(vec![started()])
        .when(progress(500, 2_000, 1))
        .then_expect_error_message("window must be a window inside the run's [from, to)");
}

#[test]
fn progress_on_a_run_never_started_is_refused() {
    Scenario::<CrmSync>::given_no_previous_events()
        .when(progress(0, 500, 1))
        .then_expect_error(CrmSyncError::NotFound);
}

#[test]
fn completing_sums_the_windows_and_takes_the_highest_modified_time_as_watermark() {
    Scenario::<CrmSync>::given(vec![
        started(),
        progressed(0, 500, 2),
        progressed(500, 1_000, 1),
    ])
    .when(complete(0))
    .then_expect_events(vec![CrmSyncEvent::CrmSyncCompleted(CrmSyncCompleted {
        counts: counts(6, 4, 2, 0, 0),
        watermark: at(999),
        calls: 3,
        failed_calls: 0,
        rate_limits: None,
        at: at(1_002),
    })]);
}

#[test]
fn a_run_that_saw_nothing_moves_the_watermark_to_its_end() {
    let run = Scenario::<CrmSync>::given(vec![started()])
        .when(complete(1))
        .state_after();
    let view = run.view().unwrap();
    assert_eq!(view.watermark, Some(at(1_000)));
    assert_eq!(view.next_from(), at(1_000));
    assert_eq!(
        view.call_log,
        vec![SyncCalls {
            at: at(1_002),
            calls: 1,
            failed_calls: 0
        }]
    );
}

#[test]
fn completing_twice_records_nothing_and_completing_a_failed_run_is_refused() {
    let completed = Scenario::<CrmSync>::given(vec![started()])
        .when(complete(0))
        .inspect_result()
        .unwrap();
    let mut history = vec![started()];
    history.extend(completed);
    Scenario::<CrmSync>::given(history)
        .when(complete(0))
        .then_expect_events(vec![]);
    Scenario::<CrmSync>::given(vec![started(), failed(4, 4)])
        .when(complete(0))
        .then_expect_error(CrmSyncError::Finished);
}

#[test]
fn failing_records_the_code_and_the_run_totals_and_the_next_run_starts_where_it_got_to() {
    let then = Scenario::<CrmSync>::given(vec![started(), progressed(0, 500, 2)]).when(fail());
    let run = then.state_after();
    let view = run.view().unwrap();
    assert_eq!(view.status, SyncRunStatus::Failed);
    assert_eq!((view.calls, view.failed_calls), (6, 4));
    assert_eq!(view.error.as_ref().unwrap().code, "hubspot.server_error");
    assert_eq!(view.next_from(), at(500));
    assert_eq!(view.call_log.len(), 2, "{:?}", view.call_log);
}

#[test]
fn failing_twice_records_nothing_and_failing_a_completed_run_is_refused() {
    Scenario::<CrmSync>::given(vec![started(), failed(4, 4)])
        .when(fail())
        .then_expect_events(vec![]);
    let completed = CrmSyncEvent::CrmSyncCompleted(CrmSyncCompleted {
        counts: SyncCounts::default(),
        watermark: at(1_000),
        calls: 1,
        failed_calls: 0,
        rate_limits: None,
        at: at(1_002),
    });
    Scenario::<CrmSync>::given(vec![started(), completed])
        .when(fail())
        .then_expect_error(CrmSyncError::Finished);
}

#[test]
fn a_long_failure_message_is_cut() {
    let long = CrmSyncCommand::Fail(Fail {
        code: "hubspot.transport".into(),
        message: "x".repeat(2 * MAX_MESSAGE_CHARS),
        retryable: true,
        calls: 0,
        failed_calls: 0,
        at: at(1_003),
    });
    let events = Scenario::<CrmSync>::given(vec![started()])
        .when(long)
        .inspect_result()
        .unwrap();
    let CrmSyncEvent::CrmSyncFailed(failed) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(failed.message.chars().count(), MAX_MESSAGE_CHARS);
}

#[test]
fn sync_status_follows_the_rules() {
    use SyncStatus::*;
    // (connected, seconds since the last good sync, calls last hour, failed, status)
    let table = [
        (false, Some(10), 10, 0, NotConnected),
        (false, None, 0, 0, NotConnected),
        (true, None, 0, 0, NeverSynced),
        (true, None, 10, 1, Unhealthy),
        (true, Some(0), 0, 0, Healthy),
        (true, Some(300), 100, 5, Healthy),
        (true, Some(301), 100, 5, Degraded),
        (true, Some(900), 0, 0, Degraded),
        (true, Some(901), 0, 0, Unhealthy),
        (true, Some(10), 100, 6, Unhealthy),
        (true, Some(10), 20, 1, Healthy),
        (true, Some(10), 19, 1, Unhealthy),
    ];
    for (connected, lag, calls, failed, status) in table {
        assert_eq!(
            sync_status(connected, lag, calls, failed),
            status,
            "connected {connected}, lag {lag:?}, {failed} of {calls} calls failed"
        );
    }
    assert_eq!(SyncThresholds::RULES.max_failure_rate, 0.05);
    assert_eq!(failure_rate(0, 0), 0.0);
    assert_eq!(failure_rate(20, 1), 0.05);
}
