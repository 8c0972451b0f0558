//! Given/when/then for alerts.

use chrono::{DateTime, Utc};

use super::*;
use crate::aggregate::testing::Scenario;

type AlertTest = Scenario<Alert>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn key() -> &'static str {
    "contact.stale/2026-11-30"
}

fn raise(key: &str) -> AlertCommand {
    AlertCommand::Raise(Box::new(RaiseAlert {
        key: Text::parse(key, MAX_ALERT_KEY_CHARS).unwrap(),
        kind: AlertKind::ContactStale,
        severity: AlertSeverity::Normal,
        title: Text::parse("12 contacts untouched for 90+ days", MAX_ALERT_TITLE_CHARS).unwrap(),
        message: Text::parse("Ada Lovelace (400 days), …", MAX_ALERT_MESSAGE_CHARS).unwrap(),
        subjects: vec![AlertSubject::Contact(Uuid::from_u128(7))],
        run_id: Some(Uuid::from_u128(99)),
        by: Actor::agent("DataDecay"),
        at: t0(),
    }))
}

fn raised() -> AlertEvent {
    AlertEvent::AlertRaised(Box::new(AlertRaised {
        alert_id: alert_id(key()),
        key: key().into(),
        kind: AlertKind::ContactStale,
        severity: AlertSeverity::Normal,
        title: "12 contacts untouched for 90+ days".into(),
        message: "Ada Lovelace (400 days), …".into(),
        subjects: vec![AlertSubject::Contact(Uuid::from_u128(7))],
        run_id: Some(Uuid::from_u128(99)),
        by: Actor::agent("DataDecay"),
        at: t0(),
    }))
}

fn dismissed() -> AlertEvent {
    AlertEvent::AlertDismissed(AlertDismissed {
        by: Actor::user("casey"),
        at: t0(),
    })
}

fn resolved() -> AlertEvent {
    AlertEvent::AlertResolved(AlertResolved {
        run_id: None,
        by: Actor::agent("SyncHealth"),
        at: t0(),
    })
}

fn resolve() -> AlertCommand {
    AlertCommand::Resolve {
        run_id: None,
        by: Actor::agent("SyncHealth"),
        at: t0(),
    }
}

fn dismiss() -> AlertCommand {
    AlertCommand::Dismiss {
        by: Actor::user("casey"),
        at: t0(),
    }
}

#[test]
fn an_alerts_id_is_derived_from_its_key() {
    assert_eq!(alert_id(key()), alert_id("contact.stale/2026-11-30"));
    assert_ne!(alert_id(key()), alert_id("contact.stale/2026-12-01"));
}

#[test]
fn raising_a_new_alert_opens_it() {
    AlertTest::given_no_previous_events()
        .when(raise(key()))
        .then_expect_events(vec![raised()]);
}

#[test]
fn raising_an_open_alert_again_records_nothing() {
    AlertTest::given(vec![raised()])
        .when(raise(key()))
        .then_expect_events(vec![]);
}

#[test]
fn a_dismissed_alert_is_not_raised_again_under_the_same_key() {
    AlertTest::given(vec![raised(), dismissed()])
        .when(raise(key()))
        .then_expect_events(vec![]);
}

#[test]
fn a_resolved_alert_whose_condition_comes_back_is_raised_again() {
    AlertTest::given(vec![raised(), resolved()])
        .when(raise(key()))
        .then_expect_events(vec![raised()]);
}

#[test]
fn a_key_naming_another_alert_is_refused() {
    AlertTest::given(vec![raised()])
        .when(raise("contact.stale/2026-12-01"))
        .then_expect_error(AlertError::WrongKey);
}

#[test]
fn dismissing_an_open_alert_dismisses_it_and_twice_records_nothing() {
    AlertTest::given(vec![raised()])
        .when(dismiss())
        .then_expect_events(vec![dismissed()]);
    AlertTest::given(vec![raised(), dismissed()])
        .when(dismiss())
        .then_expect_events(vec![]);
}

#[test]
fn dismissing_a_missing_or_resolved_alert_is_refused() {
    AlertTest::given_no_previous_events()
        .when(dismiss())
        .then_expect_error(AlertError::NotFound);
    AlertTest::given(vec![raised(), resolved()])
        .when(dismiss())
        .then_expect_error(AlertError::AlreadyResolved);
}

#[test]
fn resolving_closes_an_open_alert_only() {
    AlertTest::given(vec![raised()])
        .when(resolve())
        .then_expect_events(vec![resolved()]);
    AlertTest::given(vec![raised(), dismissed()])
        .when(resolve())
        .then_expect_events(vec![]);
    AlertTest::given(vec![raised(), resolved()])
        .when(resolve())
        .then_expect_events(vec![]);
    AlertTest::given_no_previous_events()
        .when(resolve())
        .then_expect_error(AlertError::NotFound);
}

#[test]
fn the_view_follows_raise_dismiss_and_a_raise_after_resolve() {
    let mut alert = Alert::default();
    alert.apply(raised());
    let view = alert.alert.clone().unwrap();
    assert_eq!(view.status, AlertStatus::Open);
    assert_eq!(view.raised_by_run, Some(Uuid::from_u128(99)));
    assert_eq!(view.version, 1);
    alert.apply(resolved());
    assert_eq!(alert.alert.as_ref().unwrap().status, AlertStatus::Resolved);
    alert.apply(raised());
    let view = alert.alert.unwrap();
    assert_eq!(view.status, AlertStatus::Open);
    assert_eq!(view.resolved, None);
    assert_eq!(view.version, 3);
}

#[test]
fn kinds_severities_and_statuses_read_back_what_they_write() {
    for kind in AlertKind::ALL {
        assert_eq!(AlertKind::parse(kind.as_str()), Some(*kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::json!(kind.as_str())
        );
    }
    for severity in AlertSeverity::ALL {
        assert_eq!(AlertSeverity::parse(severity.as_str()), Some(*severity));
    }
    for status in AlertStatus::ALL {
        assert_eq!(AlertStatus::parse(status.as_str()), Some(*status));
    }
    assert_eq!(
        serde_json::to_value(AlertSubject::Contact(Uuid::from_u128(1))).unwrap(),
        serde_json::json!({"type": "contact", "id": Uuid::from_u128(1)})
    );
}
