//! Outcomes: recorded once, the seed's impacts, and what APS learns from them.

use chrono::{DateTime, Duration, Utc};

use super::learning::{learn, LearnedScope, LearningTarget};
use super::*;
use crate::aggregate::testing::Scenario;

fn t0() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn record(key: &str, outcome_type: OutcomeType, confidence: u8) -> OutcomeCommand {
    OutcomeCommand::Record(Box::new(RecordOutcome {
        key: key.into(),
        outcome_type,
        source: OutcomeSource::Gmail,
        confidence,
        subject: OutcomeSubject {
            contact_id: Some("c-1".into()),
            email: Some(EmailAddress::parse("dana@acme.io").unwrap()),
            name: Some("Dana Lee".into()),
            company_domain: Some("acme.io".into()),
            deal_id: None,
        },
        item_id: None,
        action_type: Some(ActionType::FollowUp),
        execution_id: None,
        summary: outcome_type.label().into(),
        occurred_at: t0(),
        by: Actor::system("outcomes"),
        at: t0(),
    }))
}

fn view(key: &str, outcome_type: OutcomeType, age_days: i64) -> OutcomeView {
    let events = Scenario::<Outcome>::given_no_previous_events()
        .when(record(key, outcome_type, 100))
        .inspect_result()
        .unwrap();
    let mut view = Scenario::<Outcome>::given(events)
        .state()
        .outcome
        .clone()
        .unwrap();
    view.occurred_at = t0() - Duration::days(age_days);
    view
}

#[test]
fn the_seeds_twenty_types_and_their_impacts() {
    assert_eq!(OutcomeType::ALL.len(), 20);
    let sum: i32 = OutcomeType::ALL.iter().map(|t| i32::from(t.impact())).sum();
    // 0+2+4+8-5-8 +10+9-4+1 +10+7-5+10-7 +3-2 +6-6-1
    assert_eq!(sum, 32);
    assert_eq!(OutcomeType::EmailReplied.impact(), 8);
    assert_eq!(OutcomeType::EmailUnsubscribed.impact(), -8);
    for t in OutcomeType::ALL {
        assert_eq!(OutcomeType::parse(t.as_str()), Some(*t));
    }
}

#[test]
fn an_outcome_is_recorded_once_with_impact_times_confidence() {
    let events = Scenario::<Outcome>::given_no_previous_events()
        .when(record(
            "gmail:m1:email_replied",
            OutcomeType::EmailReplied,
            50,
        ))
        .inspect_result()
        .unwrap();
    let OutcomeEvent::OutcomeRecorded(e) = &events[0];
    assert_eq!(e.impact_centi, 400);
    Scenario::<Outcome>::given(events)
        .when(record(
            "gmail:m1:email_replied",
            OutcomeType::EmailReplied,
            50,
        ))
        .then_expect_events(vec![]);
}

#[test]
fn a_reply_raises_the_next_move_for_that_contact_and_says_why() {
    let outcomes = vec![view("a", OutcomeType::EmailReplied, 0)];
    let target = LearningTarget {
        contact_id: Some("c-1".into()),
        email: None,
        company_domain: None,
        action_type: None,
    };
    let learned = learn(&target, &outcomes, t0());
    assert_eq!(learned.len(), 1);
    assert_eq!(learned[0].scope, LearnedScope::Contact);
    assert_eq!(learned[0].points_centi, 800);
    assert_eq!(
        learned[0].reason,
        "+8: Dana Lee replied to the email (today)"
    );
}

#[test]
fn learning_decays_over_thirty_days_and_is_bounded() {
    let target = LearningTarget {
        email: Some("DANA@acme.io".into()),
        ..LearningTarget::default()
    };
    // Fifteen days old: half the weight.
    let half = learn(&target, &[view("a", OutcomeType::EmailReplied, 15)], t0());
    assert_eq!(half[0].points_centi, 400);
    assert_eq!(
        half[0].reason,
        "+4: Dana Lee replied to the email (15 days ago)"
    );
    // Thirty days old: nothing.
    assert!(learn(&target, &[view("a", OutcomeType::EmailReplied, 30)], t0()).is_empty());
    // Five meetings booked today: +50, bounded to +20.
    let many: Vec<_> = (0..5)
        .map(|i| view(&format!("m{i}"), OutcomeType::MeetingBooked, 0))
        .collect();
    assert_eq!(learn(&target, &many, t0())[0].points_centi, 2000);
    // Two unsubscribes: −16.
    let bad: Vec<_> = (0..2)
        .map(|i| view(&format!("u{i}"), OutcomeType::EmailUnsubscribed, 0))
        .collect();
    assert_eq!(
        learn(&target, &bad, t0())[0].reason.split(':').next(),
        Some("-16")
    );
}

#[test]
fn company_and_action_type_learn_too_within_the_total_bound() {
    let mut colleague = view("b", OutcomeType::MeetingBooked, 0);
    colleague.subject.contact_id = Some("c-2".into());
    colleague.subject.email = Some(EmailAddress::parse("sam@acme.io").unwrap());
    colleague.subject.name = Some("Sam Roe".into());
    let target = LearningTarget {
        contact_id: Some("c-9".into()),
        email: Some("new@acme.io".into()),
        company_domain: Some("acme.io".into()),
        action_type: Some(ActionType::FollowUp),
    };
    let learned = learn(&target, &[colleague], t0());
    let scopes: Vec<_> = learned.iter().map(|l| (l.scope, l.points_centi)).collect();
    // The company at half the impact; the type's mean impact.
    assert_eq!(
        scopes,
        vec![
            (LearnedScope::Company, 500),
            (LearnedScope::ActionType, 1000)
        ]
    );
    assert!(learned[0]
        .reason
        .starts_with("+5: at acme.io, Sam Roe booked a meeting"));
}
