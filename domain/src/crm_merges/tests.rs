//! Given/when/then for a merge's CRM calls.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;

type CrmTest = Scenario<CrmMerge>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn reactor() -> Actor {
    Actor::system("contact_merges")
}

fn request(kind: CrmCallKind) -> CrmMergeCommand {
    CrmMergeCommand::Request {
        kind,
        merge_id: Uuid::from_u128(9),
        primary: Uuid::from_u128(1),
        secondary: Uuid::from_u128(2),
        primary_crm_id: Some(CrmId::parse("101").unwrap()),
        secondary_crm_id: Some(CrmId::parse("202").unwrap()),
        by: reactor(),
        at: t0(),
    }
}

fn start(attempt: u32) -> CrmMergeCommand {
    CrmMergeCommand::Start {
        kind: CrmCallKind::Merge,
        attempt,
        by: reactor(),
        at: t0(),
    }
}

fn failure(retryable: bool) -> CrmFailure {
    CrmFailure {
        code: "hubspot.server_error".into(),
        message: "HubSpot answered 502".into(),
        retryable,
    }
}

fn fail(retryable: bool) -> CrmMergeCommand {
    CrmMergeCommand::Fail {
        kind: CrmCallKind::Merge,
        failure: failure(retryable),
        by: reactor(),
        at: t0(),
    }
}

fn succeed() -> CrmMergeCommand {
    CrmMergeCommand::Succeed {
        kind: CrmCallKind::Merge,
        result_crm_id: CrmId::parse("101").unwrap(),
        reconciled: false,
        by: reactor(),
        at: t0(),
    }
}

/// The events of these commands, in order, each decided on the state the ones before left.
fn events_of(commands: Vec<CrmMergeCommand>) -> Vec<CrmMergeEvent> {
    let mut state = CrmMerge::default();
    let mut events = Vec::new();
    for command in commands {
        for event in state.decide(command).unwrap() {
            state.apply(event.clone());
            events.push(event);
        }
    }
    events
}

#[test]
fn a_requested_merge_is_started_before_it_is_called() {
    CrmTest::given(events_of(vec![request(CrmCallKind::Merge)]))
        .when(start(1))
        .then_expect_events(vec![CrmMergeEvent::CrmMergeStarted(CrmCallStarted {
            attempt: 1,
            by: reactor(),
            at: t0(),
        })]);
}

#[test]
fn starting_an_attempt_already_started_decides_nothing_so_nobody_calls_twice() {
    CrmTest::given(events_of(vec![request(CrmCallKind::Merge), start(1)]))
        .when(start(1))
        .then_expect_events(vec![]);
}

#[test]
fn a_repeated_request_decides_nothing() {
    CrmTest::given(events_of(vec![request(CrmCallKind::Merge)]))
        .when(request(CrmCallKind::Merge))
        .then_expect_events(vec![]);
}

#[test]
fn a_started_attempt_cannot_be_skipped_it_must_be_reconciled() {
    let skip = CrmMergeCommand::Skip {
        kind: CrmCallKind::Merge,
        reason: "connector.not_connected".into(),
        by: reactor(),
        at: t0(),
    };
    CrmTest::given(events_of(vec![request(CrmCallKind::Merge), start(1)]))
        .when(skip)
        .then_expect_error(CrmMergeError::OutOfOrder(1));
}

#[test]
fn a_success_is_final_and_repeating_it_decides_nothing() {
    let given = events_of(vec![request(CrmCallKind::Merge), start(1), succeed()]);
    CrmTest::given(given.clone())
        .when(succeed())
        .then_expect_events(vec![]);
    CrmTest::given(given)
        .when(start(2))
        .then_expect_error(CrmMergeError::Finished);
}

#[test]
fn a_retryable_failure_allows_the_next_attempt_and_the_last_attempt_fails_for_good() {
    let mut commands = vec![request(CrmCallKind::Merge)];
    for attempt in 1..MAX_CRM_ATTEMPTS {
        commands.push(start(attempt));
        commands.push(fail(true));
    }
    commands.push(start(MAX_CRM_ATTEMPTS));
    let given = events_of(commands);
    let state = CrmTest::given(given).when(fail(true)).state_after();
    let call = state.merge.unwrap().merge.unwrap();
    assert_eq!(call.status, CrmCallStatus::Failed);
    assert!(call.finished(), "{call:?}");
    assert!(!call.failure.unwrap().retryable);
}

#[test]
fn a_recreation_is_its_own_call_beside_the_merge() {
    let state = CrmTest::given(events_of(vec![request(CrmCallKind::Merge)]))
        .when(request(CrmCallKind::Recreate))
        .state_after();
    let view = state.merge.unwrap();
    assert_eq!(view.merge.unwrap().status, CrmCallStatus::Requested);
    assert_eq!(view.recreate.unwrap().status, CrmCallStatus::Requested);
}

#[test]
fn a_request_naming_other_contacts_is_refused() {
    let mut other = request(CrmCallKind::Recreate);
    if let CrmMergeCommand::Request { secondary, .. } = &mut other {
        *secondary = Uuid::from_u128(3);
    }
    CrmTest::given(events_of(vec![request(CrmCallKind::Merge)]))
        .when(other)
        .then_expect_error(CrmMergeError::OtherContacts);
}
