//! Given/when/then for duplicate pairs.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;

type PairTest = Scenario<DuplicatePair>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn casey() -> Actor {
    Actor::user("casey")
}

fn finding(score: f64, fingerprints: [&str; 2]) -> Finding {
    Finding {
        a: Uuid::from_u128(1),
        b: Uuid::from_u128(2),
        score,
        reasons: vec![MatchReason {
            code: "phone.same".into(),
            detail: "+14155550100".into(),
        }],
        criteria_version: 1,
        fingerprints: fingerprints.map(String::from),
    }
}

fn detect(score: f64, fingerprints: [&str; 2]) -> DuplicatePairCommand {
    DuplicatePairCommand::Detect {
        finding: finding(score, fingerprints),
        run_id: None,
        by: Actor::agent("DuplicateWatcher"),
        at: t0(),
    }
}

fn detected() -> Vec<DuplicatePairEvent> {
    DuplicatePair::default()
        .decide(detect(0.9, ["f1", "f2"]))
        .unwrap()
}

fn then(
    mut events: Vec<DuplicatePairEvent>,
    command: DuplicatePairCommand,
) -> Vec<DuplicatePairEvent> {
    let mut state = DuplicatePair::default();
    for e in events.clone() {
        state.apply(e);
    }
    events.extend(state.decide(command).unwrap());
    events
}

fn state_of(events: &[DuplicatePairEvent]) -> DuplicatePair {
    let mut state = DuplicatePair::default();
    for e in events {
        state.apply(e.clone());
    }
    state
}

#[test]
fn a_pairs_id_is_the_same_whichever_order_its_contacts_come_in() {
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    assert_eq!(pair_id(a, b), pair_id(b, a));
    assert_ne!(pair_id(a, b), pair_id(a, Uuid::from_u128(3)));
}

#[test]
fn detecting_a_new_pair_opens_it() {
    let view = state_of(&detected()).pair.unwrap();
    assert_eq!(view.status, PairStatus::Open);
    assert_eq!(view.id, pair_id(Uuid::from_u128(1), Uuid::from_u128(2)));
}

#[test]
fn detecting_the_same_finding_again_records_nothing_and_a_new_score_rescores() {
    PairTest::given(detected())
        .when(detect(0.9, ["f1", "f2"]))
        .then_expect_events(vec![]);
    let events = PairTest::given(detected()).when(detect(0.95, ["f1", "f2"]));
    events.then_expect_events(vec![DuplicatePairEvent::DuplicatePairRescored(Box::new(
        DuplicatePairDetected {
            pair_id: pair_id(Uuid::from_u128(1), Uuid::from_u128(2)),
            finding: finding(0.95, ["f1", "f2"]),
            run_id: None,
            by: Actor::agent("DuplicateWatcher"),
            at: t0(),
        },
    ))]);
}

#[test]
fn a_pair_in_the_wrong_order_is_refused() {
    let mut backwards = finding(0.9, ["f1", "f2"]);
    std::mem::swap(&mut backwards.a, &mut backwards.b);
    PairTest::given_no_previous_events()
        .when(DuplicatePairCommand::Detect {
            finding: backwards,
            run_id: None,
            by: casey(),
            at: t0(),
        })
        .then_expect_error(DuplicateError::InvalidPair);
}

#[test]
fn not_a_duplicate_is_remembered_until_a_record_changes_in_a_matched_field() {
    let closed = then(
        detected(),
        DuplicatePairCommand::MarkNotDuplicate {
            by: casey(),
            at: t0(),
        },
    );
    assert_eq!(
        state_of(&closed).pair.unwrap().status,
        PairStatus::NotDuplicate
    );
    PairTest::given(closed.clone())
        .when(detect(0.97, ["f1", "f2"]))
        .then_expect_events(vec![]);
    let reopened = then(closed, detect(0.97, ["f1", "f2-changed"]));
    assert_eq!(state_of(&reopened).pair.unwrap().status, PairStatus::Open);
}

#[test]
fn a_merged_pair_is_never_reproposed_and_refuses_other_decisions() {
    let merged = then(
        detected(),
        DuplicatePairCommand::RecordMerge {
            merge_id: Uuid::from_u128(7),
            primary: Uuid::from_u128(1),
            by: casey(),
            at: t0(),
        },
    );
    PairTest::given(merged.clone())
        .when(detect(0.99, ["x", "y"]))
        .then_expect_events(vec![]);
    PairTest::given(merged.clone())
        .when(DuplicatePairCommand::MarkNotDuplicate {
            by: casey(),
            at: t0(),
        })
        .then_expect_error(DuplicateError::AlreadyMerged);
    PairTest::given(merged.clone())
        .when(DuplicatePairCommand::RecordMerge {
            merge_id: Uuid::from_u128(7),
            primary: Uuid::from_u128(1),
            by: casey(),
            at: t0(),
        })
        .then_expect_events(vec![]);
    PairTest::given(merged)
        .when(DuplicatePairCommand::RecordMerge {
            merge_id: Uuid::from_u128(8),
            primary: Uuid::from_u128(1),
            by: casey(),
            at: t0(),
        })
        .then_expect_error(DuplicateError::AlreadyMerged);
}

#[test]
fn a_merge_names_one_of_the_pairs_contacts_as_primary() {
    PairTest::given(detected())
        .when(DuplicatePairCommand::RecordMerge {
            merge_id: Uuid::from_u128(7),
            primary: Uuid::from_u128(3),
            by: casey(),
            at: t0(),
        })
        .then_expect_error(DuplicateError::InvalidPair);
}

#[test]
fn an_unmerged_pair_stays_closed_until_a_record_changes() {
    let merge = Uuid::from_u128(7);
    let merged = then(
        detected(),
        DuplicatePairCommand::RecordMerge {
            merge_id: merge,
            primary: Uuid::from_u128(1),
            by: casey(),
            at: t0(),
        },
    );
    let unmerged = then(
        merged,
        DuplicatePairCommand::RecordUnmerge {
            merge_id: merge,
            by: casey(),
            at: t0(),
        },
    );
    let view = state_of(&unmerged).pair.unwrap();
    assert_eq!(view.status, PairStatus::Unmerged);
    PairTest::given(unmerged.clone())
        .when(detect(0.9, ["f1", "f2"]))
        .then_expect_events(vec![]);
    // The merge's record repeated late (the merge reactor catching up after the unmerge)
    // does not merge the pair again.
    PairTest::given(unmerged.clone())
        .when(DuplicatePairCommand::RecordMerge {
            merge_id: merge,
            primary: Uuid::from_u128(1),
            by: casey(),
            at: t0(),
        })
        .then_expect_events(vec![]);
    PairTest::given(unmerged)
        .when(DuplicatePairCommand::RecordUnmerge {
            merge_id: merge,
            by: casey(),
            at: t0(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn deciding_an_unknown_pair_is_not_found() {
    PairTest::given_no_previous_events()
        .when(DuplicatePairCommand::Ignore {
            by: casey(),
            at: t0(),
        })
        .then_expect_error(DuplicateError::NotFound);
}
