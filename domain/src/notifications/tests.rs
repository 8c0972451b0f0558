//! Receipts: read and acknowledged once per user, and the what's-up summary.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::aggregate::testing::Scenario;

fn t0() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn note() -> Uuid {
    notification_id("run_failed:00000000-0000-0000-0000-000000000001")
}

fn read(user: &str, at: DateTime<Utc>) -> ReceiptCommand {
    ReceiptCommand::Read {
        notification_id: note(),
        user: user.into(),
        at,
    }
}

fn acknowledge(user: &str, at: DateTime<Utc>) -> ReceiptCommand {
    ReceiptCommand::Acknowledge {
        notification_id: note(),
        user: user.into(),
        at,
    }
}

fn marked(user: &str, at: DateTime<Utc>) -> ReceiptMarked {
    ReceiptMarked {
        notification_id: note(),
        user: user.into(),
        at,
    }
}

fn state(events: Vec<ReceiptEvent>) -> ReceiptView {
    let mut receipt = NotificationReceipt::default();
    for e in events {
        receipt.apply(e);
    }
    receipt.receipt.unwrap()
}

#[test]
fn reading_twice_records_one_read() {
    Scenario::<NotificationReceipt>::given_no_previous_events()
        .when(read("casey", t0()))
        .then_expect_events(vec![ReceiptEvent::NotificationRead(marked("casey", t0()))]);
    Scenario::<NotificationReceipt>::given(vec![ReceiptEvent::NotificationRead(marked(
        "casey",
        t0(),
    ))])
    .when(read("casey", t0() + Duration::minutes(5)))
    .then_expect_events(vec![]);
}

#[test]
fn acknowledging_reads_too_and_is_recorded_once() {
    let acked = vec![ReceiptEvent::NotificationAcknowledged(marked(
        "casey",
        t0(),
    ))];
    let view = state(acked.clone());
    assert_eq!(view.read_at, Some(t0()));
    assert_eq!(view.acknowledged_at, Some(t0()));
    assert_eq!(view.id, receipt_id(note(), "casey"));
    Scenario::<NotificationReceipt>::given(acked.clone())
        .when(acknowledge("casey", t0() + Duration::minutes(1)))
        .then_expect_events(vec![]);
    Scenario::<NotificationReceipt>::given(acked)
        .when(read("casey", t0() + Duration::minutes(1)))
        .then_expect_events(vec![]);
    // Read first, acknowledged later: the read keeps its time.
    let later = t0() + Duration::hours(1);
    let view = state(vec![
        ReceiptEvent::NotificationRead(marked("casey", t0())),
        ReceiptEvent::NotificationAcknowledged(marked("casey", later)),
    ]);
    assert_eq!(
        (view.read_at, view.acknowledged_at),
        (Some(t0()), Some(later))
    );
}

#[test]
fn a_receipt_is_one_users_of_one_notification() {
    Scenario::<NotificationReceipt>::given(vec![ReceiptEvent::NotificationRead(marked(
        "casey",
        t0(),
    ))])
    .when(read("alex", t0()))
    .then_expect_error(ReceiptError::WrongReceipt);
    assert_ne!(receipt_id(note(), "casey"), receipt_id(note(), "alex"));
    assert_eq!(
        state(vec![ReceiptEvent::NotificationRead(marked("casey", t0()))]).id,
        receipt_id(note(), "casey")
    );
}

#[test]
fn the_summary_says_all_clear_or_how_many_and_what_first() {
    assert_eq!(
        summary(&PriorityCounts::default(), None),
        "All clear: nothing needs you right now."
    );
    let mut counts = PriorityCounts::default();
    counts.add(Priority::Urgent);
    counts.add(Priority::High);
    counts.add(Priority::High);
    counts.add(Priority::Low);
    assert_eq!(
        summary(&counts, Some("Gmail's connection expires in 2 days")),
        "4 notifications (1 urgent, 2 high priority, 1 other). First: Gmail's connection expires in 2 days"
    );
    let mut one = PriorityCounts::default();
    one.add(Priority::Normal);
    assert_eq!(summary(&one, None), "1 notification (1 other).");
}

#[test]
fn priorities_order_by_the_seeds_weights() {
    let weights: Vec<u8> = Priority::ALL.iter().map(|p| p.weight()).collect();
    assert_eq!(weights, vec![100, 75, 50, 25]);
    let mut sorted = [
        Priority::Low,
        Priority::Urgent,
        Priority::Normal,
        Priority::High,
    ];
    sorted.sort();
    assert_eq!(sorted.to_vec(), Priority::ALL.to_vec());
}
