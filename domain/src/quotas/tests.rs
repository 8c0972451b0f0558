//! Given/when/then for setting a quota: first set, replaced, repeated, refused.

use chrono::{DateTime, Utc};

use super::*;
use crate::aggregate::testing::Scenario;

type QuotaTest = Scenario<Quota>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn q4() -> Period {
    Period::parse("2026-Q4").unwrap()
}

fn set(owner: &str, minor: i64) -> QuotaCommand {
    QuotaCommand::Set {
        owner: UserName::parse(owner).unwrap(),
        period: q4(),
        amount: Money::usd(minor),
        by: Actor::user("admin"),
        at: t0(),
    }
}

fn was_set(owner: &str, minor: i64) -> QuotaEvent {
    QuotaEvent::QuotaSet(QuotaSet {
        owner: owner.into(),
        period: q4(),
        amount: Money::usd(minor),
        by: Actor::user("admin"),
        at: t0(),
    })
}

#[test]
fn a_first_quota_is_set() {
    QuotaTest::given_no_previous_events()
        .when(set("dana", 5_000_000))
        .then_expect_events(vec![was_set("dana", 5_000_000)]);
}

#[test]
fn a_new_amount_replaces_the_quota_and_the_same_amount_records_nothing() {
    QuotaTest::given(vec![was_set("dana", 5_000_000)])
        .when(set("dana", 6_000_000))
        .then_expect_events(vec![was_set("dana", 6_000_000)]);
    QuotaTest::given(vec![was_set("dana", 5_000_000)])
        .when(set("dana", 5_000_000))
        .then_expect_events(vec![]);
}

#[test]
fn a_negative_quota_is_refused() {
    QuotaTest::given_no_previous_events()
        .when(set("dana", -1))
        .then_expect_error(QuotaError::Invalid {
            field: "amount",
            message: "must not be negative".into(),
        });
}

#[test]
fn another_owners_quota_under_this_id_is_refused() {
    QuotaTest::given(vec![was_set("dana", 5_000_000)])
        .when(set("sam", 1))
        .then_expect_error(QuotaError::Invalid {
            field: "owner",
            message: "this quota belongs to another owner or period".into(),
        });
}

#[test]
fn the_id_names_the_owner_and_period() {
    assert_eq!(Quota::id_of("dana", q4()), Quota::id_of("dana", q4()));
    assert_ne!(Quota::id_of("dana", q4()), Quota::id_of("sam", q4()));
    let mut state = Quota::default();
    state.apply(was_set("dana", 1));
    let view = state.quota.unwrap();
    assert_eq!(view.id, Quota::id_of("dana", q4()));
    assert_eq!(view.version, 1);
}
