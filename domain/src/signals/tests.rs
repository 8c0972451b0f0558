//! Given/when/then for signals, and the processors' and rules' numbers.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use super::processors::*;
use super::rules::{self, DealState, Priority, RuleFacts};
use super::*;
use crate::aggregate::testing::Scenario;
use crate::kernel::{CrmId, Money};
use crate::pipelines::{Pipeline, Stage};
use crate::queue::aps::{Aps, ApsOverrides};
use crate::queue::ActionType;

type SignalTest = Scenario<Signal>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn record(source: SignalSource, key: &str, kind: SignalKind, payload: Value) -> SignalCommand {
    SignalCommand::Record(Box::new(RecordSignal {
        source,
        dedup_key: Text::parse(key, MAX_DEDUP_KEY_CHARS).unwrap(),
        kind,
        payload,
        entities: SignalEntities::default(),
        occurred_at: t0(),
        by: Actor::system("test"),
        at: t0(),
    }))
}

fn received(source: SignalSource, key: &str, kind: SignalKind, payload: Value) -> SignalEvent {
    SignalEvent::SignalReceived(Box::new(SignalReceived {
        signal_id: Signal::id_of(source, key),
        source,
        dedup_key: key.into(),
        kind,
        payload,
        entities: SignalEntities::default(),
        occurred_at: t0(),
        by: Actor::system("test"),
        at: t0(),
    }))
}

fn form_payload() -> Value {
    json!({"form": "demo", "fields": {"email": "dana@acme.io", "name": "Dana Lee"}})
}

fn view_of(source: SignalSource, key: &str, kind: SignalKind, payload: Value) -> SignalView {
    SignalTest::given(vec![received(source, key, kind, payload)])
        .state()
        .signal
        .clone()
        .unwrap()
}

fn ctx<'a>(pipeline: Option<&'a Pipeline>) -> ProcessContext<'a> {
    ProcessContext {
        now: t0(),
        operator: "casey",
        pipeline,
        contact: None,
    }
}

fn proposal(processed: Processed) -> Proposal {
    match processed {
        Processed::Propose(p) => *p,
        Processed::Skip { code, message } => panic!("skipped {code}: {message}"),
    }
}

fn score_of(p: &Proposal) -> f64 {
    Aps::for_action(p.action_type, &p.aps).score.as_f64()
}

#[test]
fn a_signals_id_is_derived_from_its_source_and_dedup_key() {
    let a = Signal::id_of(SignalSource::Hubspot, "100");
    assert_eq!(a, Signal::id_of(SignalSource::Hubspot, "100"));
    assert_ne!(a, Signal::id_of(SignalSource::Gmail, "100"));
    assert_ne!(a, Signal::id_of(SignalSource::Hubspot, "101"));
}

#[test]
fn recording_a_signal_records_it_once() {
    SignalTest::given_no_previous_events()
        .when(record(
            SignalSource::Form,
            "k1",
            SignalKind::FormSubmitted,
            form_payload(),
        ))
        .then_expect_events(vec![received(
            SignalSource::Form,
            "k1",
            SignalKind::FormSubmitted,
            form_payload(),
        )]);
    // The second receipt is decided on the stored state: a duplicate, nothing recorded.
    SignalTest::given(vec![received(
        SignalSource::Form,
        "k1",
        SignalKind::FormSubmitted,
        form_payload(),
    )])
    .when(record(
        SignalSource::Form,
        "k1",
        SignalKind::FormSubmitted,
        form_payload(),
    ))
    .then_expect_events(vec![]);
}

#[test]
fn a_payload_that_is_not_an_object_is_refused() {
    SignalTest::given_no_previous_events()
        .when(record(
            SignalSource::Manual,
            "k",
            SignalKind::Manual,
            json!([1]),
        ))
        .then_expect_error_message("payload must be a JSON object");
}

#[test]
fn processing_is_recorded_once_and_a_failure_may_be_recorded_again() {
    let given = || {
        received(
            SignalSource::Form,
            "k",
            SignalKind::FormSubmitted,
            form_payload(),
        )
    };
    let mark = |outcome: SignalOutcome| SignalCommand::MarkProcessed {
        processor: "form_follow_up".into(),
        outcome,
        by: Actor::system("signals"),
        at: t0(),
    };
    let processed = |outcome: SignalOutcome| {
        SignalEvent::SignalProcessed(SignalProcessed {
            processor: "form_follow_up".into(),
            outcome,
            by: Actor::system("signals"),
            at: t0(),
        })
    };
    let proposed = SignalOutcome::proposed(Uuid::from_u128(1), "Follow up");
    let failed = SignalOutcome::failed("internal", "the store failed");
    SignalTest::given_no_previous_events()
        .when(mark(proposed.clone()))
        .then_expect_error(SignalError::NotFound);
    SignalTest::given(vec![given()])
        .when(mark(proposed.clone()))
        .then_expect_events(vec![processed(proposed.clone())]);
    SignalTest::given(vec![given(), processed(proposed.clone())])
        .when(mark(SignalOutcome::skipped("x", "y", None)))
        .then_expect_events(vec![]);
    SignalTest::given(vec![given(), processed(failed.clone())])
        .when(mark(proposed.clone()))
        .then_expect_events(vec![processed(proposed)]);
    SignalTest::given(vec![given(), processed(failed.clone())])
        .when(mark(failed))
        .then_expect_events(vec![]);
}

#[test]
fn a_form_submission_becomes_a_follow_up_with_the_seeds_numbers_and_a_title() {
    let signal = view_of(
        SignalSource::Form,
        "k",
        SignalKind::FormSubmitted,
        form_payload(),
    );
    let p = proposal(process(&signal, &ctx(None)));
    assert_eq!(p.action_type, ActionType::EmailFollowUp);
    assert_eq!(p.title, "Follow up with Dana Lee (demo form)");
    // The seed's worked example: r .6, u .9, s .5, e .2 → 69.0.
    assert_eq!(score_of(&p), 69.0);
    assert_eq!(p.due_by, t0() + Duration::hours(2));
    assert_eq!(p.payload["to"], "dana@acme.io");
    assert_eq!(p.owner, "casey");
    assert_eq!(
        p.item_id,
        move_id("form.follow_up", "dana@acme.io", t0().date_naive())
    );
    assert!(
        p.rationale().contains("submitted the demo form"),
        "{}",
        p.rationale()
    );

    // Without a name the title names the address; revenue_potential is read.
    let signal = view_of(
        SignalSource::Form,
        "k2",
        SignalKind::FormSubmitted,
        json!({"form": "pricing", "fields": {"Email": "ops@acme.io", "revenue_potential": 1.0}}),
    );
    let p = proposal(process(&signal, &ctx(None)));
    assert_eq!(p.title, "Follow up with ops@acme.io (pricing form)");
    assert_eq!(score_of(&p), 85.0);
}

#[test]
fn a_form_submission_without_an_email_is_skipped_with_its_reason() {
    // (fields, reason)
    let table = [
        (json!({"name": "Dana"}), "missing_email"),
        (json!({"email": "  "}), "missing_email"),
        (json!({"email": "not an address"}), "invalid_email"),
    ];
    for (fields, code) in table {
        let signal = view_of(
            SignalSource::Form,
            "k",
            SignalKind::FormSubmitted,
            json!({"form": "demo", "fields": fields}),
        );
        match process(&signal, &ctx(None)) {
            Processed::Skip { code: got, .. } => assert_eq!(got, code, "{fields}"),
            other => panic!("{fields}: {other:?}"),
        }
    }
}

fn stage(id: &str) -> Stage {
    Pipeline::default_hubspot()
        .stage(&CrmId::parse(id).unwrap())
        .unwrap()
        .clone()
}

fn deal_payload(stage_id: &str, previous: Option<&str>, dollars: Option<i64>) -> Value {
    serde_json::to_value(DealSnapshot {
        deal_id: Uuid::from_u128(0xd1),
        name: "Acme".into(),
        owner: "casey".into(),
        pipeline: CrmId::parse("default").unwrap(),
        stage: stage(stage_id),
        previous_stage: previous.map(stage),
        amount: dollars.map(|d| Money::usd(d * 100)),
        previous_amount: None,
        close_date: None,
        crm_id: None,
    })
    .unwrap()
}

#[test]
fn revenue_follows_the_seeds_tiers_and_no_amount_is_thirty_percent() {
    // (dollars, revenue thousandths)
    let table = [
        (Some(150_000), 1000),
        (Some(100_000), 1000),
        (Some(50_000), 900),
        (Some(25_000), 800),
        (Some(10_000), 700),
        (Some(5_000), 600),
        (Some(4_999), 500),
        (Some(0), 300),
        (None, 300),
    ];
    for (dollars, expected) in table {
        let (revenue, _) = revenue_of(dollars.map(|d| Money::usd(d * 100)));
        assert_eq!(revenue, expected, "{dollars:?}");
    }
}

#[test]
fn stage_tables_follow_the_seed_and_other_pipelines_go_by_probability() {
    // (stage, urgency, strategic, due hours)
    let table = [
        ("appointmentscheduled", 900, 400, 8),
        ("qualifiedtobuy", 800, 500, 4),
        ("presentationscheduled", 850, 600, 4),
        ("decisionmakerboughtin", 900, 800, 1),
        ("contractsent", 950, 900, 1),
        ("closedwon", 300, 1000, 24),
        ("closedlost", 100, 200, 8),
    ];
    for (id, urgency, strategic, hours) in table {
        let (u, s, due) = stage_inputs(&stage(id));
        assert_eq!(
            (u, s, due),
            (urgency, strategic, Duration::hours(hours)),
            "{id}"
        );
    }
    let custom = Stage {
        id: CrmId::parse("review").unwrap(),
        label: "Review".into(),
        probability: 50,
        kind: crate::pipelines::StageKind::Open,
    };
    assert_eq!(stage_inputs(&custom), (750, 650, Duration::hours(4)));
}

#[test]
fn stage_changes_are_judged_by_the_pipelines_order_not_by_names() {
    let pipeline = Pipeline::default_hubspot();
    // (from, to, action, title)
    let table = [
        (
            "qualifiedtobuy",
            "contractsent",
            ActionType::DealProgression,
            "Progress Acme: now Contract sent",
        ),
        // "contractsent" < "qualifiedtobuy" as strings, yet it is an advance the other way.
        (
            "contractsent",
            "qualifiedtobuy",
            ActionType::ReviewDeal,
            "Review Acme: moved back to Qualified to buy",
        ),
        (
            "decisionmakerboughtin",
            "appointmentscheduled",
            ActionType::ReviewDeal,
            "Review Acme: moved back to Appointment scheduled",
        ),
        (
            "contractsent",
            "closedwon",
            ActionType::OnboardingKickoff,
            "Kick off onboarding for Acme",
        ),
        (
            "contractsent",
            "closedlost",
            ActionType::WinLossAnalysis,
            "Win/loss analysis for Acme",
        ),
    ];
    for (from, to, action, title) in table {
        let signal = view_of(
            SignalSource::Hubspot,
            "e1",
            SignalKind::DealStageChanged,
            deal_payload(to, Some(from), Some(60_000)),
        );
        let p = proposal(process(&signal, &ctx(Some(&pipeline))));
        assert_eq!(
            (p.action_type, p.title.as_str()),
            (action, title),
            "{from}→{to}"
        );
    }
    // Regressed: urgency at least 85% even in an early stage.
    let signal = view_of(
        SignalSource::Hubspot,
        "e1",
        SignalKind::DealStageChanged,
        deal_payload("qualifiedtobuy", Some("contractsent"), Some(60_000)),
    );
    let p = proposal(process(&signal, &ctx(Some(&pipeline))));
    assert_eq!(p.aps.urgency.unwrap().thousandths(), 850);
}

#[test]
fn a_stage_change_to_contract_sent_scores_from_the_tables_and_is_due_in_an_hour() {
    let pipeline = Pipeline::default_hubspot();
    let signal = view_of(
        SignalSource::Hubspot,
        "e1",
        SignalKind::DealStageChanged,
        deal_payload("contractsent", Some("qualifiedtobuy"), Some(60_000)),
    );
    let p = proposal(process(&signal, &ctx(Some(&pipeline))));
    // r .9 (≥ $50k), u .95, s .9, e .3 → 36 + 28.5 + 18 + 7 = 89.5.
    assert_eq!(score_of(&p), 89.5);
    assert_eq!(p.due_by, t0() + Duration::hours(1));
    assert_eq!(p.owner, "casey");
    assert_eq!(
        p.item_id,
        move_id(
            "hubspot.deal_stage_changed",
            &Uuid::from_u128(0xd1).to_string(),
            t0().date_naive()
        )
    );
    assert!(
        p.rationale()
            .contains("advanced from Qualified to buy to Contract sent"),
        "{}",
        p.rationale()
    );
}

#[test]
fn a_new_deal_is_an_outreach_due_in_four_hours() {
    let signal = view_of(
        SignalSource::Hubspot,
        "e2",
        SignalKind::DealCreated,
        deal_payload("appointmentscheduled", None, Some(50_000)),
    );
    let p = proposal(process(&signal, &ctx(None)));
    assert_eq!(p.action_type, ActionType::DealOutreach);
    // r .9, u .9, s .4, e .3 → 36 + 27 + 8 + 7 = 78.
    assert_eq!(score_of(&p), 78.0);
    assert_eq!(p.due_by, t0() + Duration::hours(4));
}

#[test]
fn replies_are_read_for_intent_as_whole_words_unsubscribe_first() {
    // (text, intent, meeting words, pricing words)
    let table = [
        (
            "Can we schedule a call Tuesday?",
            Intent::Meeting,
            true,
            false,
        ),
        ("Sometimes I wonder", Intent::Other, false, false),
        (
            "What is your pricing for the trial?",
            Intent::Pricing,
            false,
            true,
        ),
        ("Not interested, thanks", Intent::Unsubscribe, false, true),
        (
            "Please remove me from this list",
            Intent::Unsubscribe,
            false,
            false,
        ),
        ("UNSUBSCRIBE", Intent::Unsubscribe, false, false),
        (
            "Interested! Are you available for a demo?",
            Intent::Meeting,
            true,
            true,
        ),
        ("Thanks for the note", Intent::Other, false, false),
    ];
    for (text, intent, meeting, pricing) in table {
        assert_eq!(intent_of(text), (intent, meeting, pricing), "{text}");
    }
}

fn reply_payload(subject: &str, snippet: &str) -> Value {
    json!({"thread_id": "t1", "message_id": "m1", "from_email": "dana@acme.io",
           "subject": subject, "snippet": snippet})
}

#[test]
fn a_reply_becomes_the_move_its_intent_calls_for_with_the_seeds_urgency() {
    // (subject, snippet, action, urgency, due hours, APS)
    let table = [
        (
            "Re: intro",
            "Can we meet next week?",
            ActionType::BookMeeting,
            950,
            2,
            73.5,
        ),
        (
            "Re: intro",
            "Interested in a demo, what's the pricing?",
            ActionType::EmailFollowUp,
            950,
            2,
            73.5,
        ),
        (
            "Re: intro",
            "Interested, can we book a call about pricing?",
            ActionType::BookMeeting,
            950,
            2,
            73.5,
        ),
        (
            "Re: intro",
            "Got it.",
            ActionType::ThreadReply,
            850,
            2,
            70.5,
        ),
        (
            "Re: intro",
            "Please unsubscribe me",
            ActionType::UnsubscribeProcess,
            500,
            8,
            60.0,
        ),
    ];
    for (subject, snippet, action, urgency, hours, aps) in table {
        let signal = view_of(
            SignalSource::Gmail,
            "m1",
            SignalKind::ReplyReceived,
            reply_payload(subject, snippet),
        );
        let p = proposal(process(&signal, &ctx(None)));
        assert_eq!(p.action_type, action, "{snippet}");
        assert_eq!(p.aps.urgency.unwrap().thousandths(), urgency, "{snippet}");
        assert_eq!(p.due_by, t0() + Duration::hours(hours), "{snippet}");
        assert_eq!(score_of(&p), aps, "{snippet}");
        assert_eq!(p.payload["to"], "dana@acme.io");
    }
}

#[test]
fn rules_match_the_seeds_conditions_on_open_deals_only() {
    let now = t0();
    let deal = |days_unchanged: i64, dollars: i64, close_in: Option<i64>| DealState {
        open: true,
        amount: Some(Money::usd(dollars * 100)),
        close_date: close_in.map(|d| now.date_naive() + Duration::days(d)),
        updated_at: now - Duration::days(days_unchanged),
    };
    let kinds = |d: DealState| -> Vec<SignalKind> {
        rules::deal_rules(&d, now)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    };
    assert_eq!(kinds(deal(7, 1_000, None)), [SignalKind::DealStalled]);
    assert!(kinds(deal(6, 1_000, None)).is_empty());
    assert_eq!(
        kinds(deal(2, 1_000, Some(0))),
        [SignalKind::DealClosingSoon]
    );
    assert_eq!(
        kinds(deal(2, 1_000, Some(7))),
        [SignalKind::DealClosingSoon]
    );
    assert!(kinds(deal(2, 1_000, Some(8))).is_empty());
    assert!(kinds(deal(2, 1_000, Some(-1))).is_empty());
    assert_eq!(kinds(deal(1, 50_000, None)), [SignalKind::BigDealMoved]);
    assert!(kinds(deal(2, 50_000, None)).is_empty());
    assert!(kinds(deal(0, 49_999, None)).is_empty());
    assert_eq!(
        kinds(deal(10, 60_000, Some(3))),
        [SignalKind::DealStalled, SignalKind::DealClosingSoon]
    );
    let mut closed = deal(30, 60_000, Some(1));
    closed.open = false;
    assert!(kinds(closed).is_empty());
    // Lead gone cold: 14–90 days.
    for (days, cold) in [(13, false), (14, true), (90, true), (91, false)] {
        assert_eq!(
            rules::lead_gone_cold(now - Duration::days(days), now).is_some(),
            cold,
            "{days}"
        );
    }
}

#[test]
fn rules_score_with_the_seeds_priorities_and_bonuses() {
    let facts = |days: i64, dollars: Option<i64>, close: Option<i64>| RuleFacts {
        days,
        amount: dollars.map(|d| Money::usd(d * 100)),
        days_to_close: close,
    };
    // (kind, facts, priority, score)
    let table = [
        (
            SignalKind::DealStalled,
            facts(8, Some(60_000), None),
            Priority::Critical,
            100,
        ),
        (
            SignalKind::DealStalled,
            facts(8, Some(20_000), None),
            Priority::High,
            85,
        ),
        (
            SignalKind::DealStalled,
            facts(15, Some(2_000), None),
            Priority::High,
            85,
        ),
        (
            SignalKind::DealStalled,
            facts(8, Some(2_000), None),
            Priority::Medium,
            60,
        ),
        (
            SignalKind::DealStalled,
            facts(8, None, None),
            Priority::Medium,
            60,
        ),
        (
            SignalKind::DealClosingSoon,
            facts(5, Some(2_000), Some(5)),
            Priority::High,
            80,
        ),
        (
            SignalKind::DealClosingSoon,
            facts(2, Some(2_000), Some(2)),
            Priority::High,
            90,
        ),
        (
            SignalKind::DealClosingSoon,
            facts(6, Some(70_000), Some(6)),
            Priority::Critical,
            100,
        ),
        (
            SignalKind::BigDealMoved,
            facts(0, Some(50_000), None),
            Priority::High,
            90,
        ),
        (
            SignalKind::LeadGoneCold,
            facts(20, None, None),
            Priority::Low,
            40,
        ),
        (
            SignalKind::LeadGoneCold,
            facts(30, None, None),
            Priority::Medium,
            60,
        ),
    ];
    for (kind, facts, priority, score) in table {
        let scored = rules::score(kind, &facts).unwrap();
        assert_eq!(
            (scored.priority, scored.score),
            (priority, score),
            "{kind:?} {facts:?}"
        );
    }
    assert!(rules::score(SignalKind::FormSubmitted, &facts(1, None, None)).is_none());
    assert_eq!(Priority::Critical.due_in(), Duration::zero());
    assert_eq!(Priority::High.due_in(), Duration::days(1));
    assert_eq!(Priority::Medium.due_in(), Duration::days(3));
    assert_eq!(Priority::Low.due_in(), Duration::days(7));
}

#[test]
fn a_rule_signal_proposes_its_move_with_the_score_as_urgency() {
    let deal: DealSnapshot =
        serde_json::from_value(deal_payload("presentationscheduled", None, Some(60_000))).unwrap();
    let payload = |kind_days: i64| {
        serde_json::to_value(RulePayload {
            facts: RuleFacts {
                days: kind_days,
                amount: deal.amount,
                days_to_close: None,
            },
            deal: Some(deal.clone()),
            contact: None,
        })
        .unwrap()
    };
    let signal = view_of(
        SignalSource::Rule,
        "rule.deal_stalled|d|2026-11-30",
        SignalKind::DealStalled,
        payload(16),
    );
    let p = proposal(process(&signal, &ctx(None)));
    assert_eq!(p.action_type, ActionType::FollowUp);
    assert_eq!(p.title, "Follow up on Acme: no change for 16 days");
    // CRITICAL 95 + 10 (≥ $50k) + 5 (≥ 14 d) → 100 (capped): urgency 100%.
    assert_eq!(p.aps.urgency.unwrap().thousandths(), 1000);
    assert_eq!(p.due_by, t0());
    // r .9, u 1.0, s .6, e .5 (follow up's default) → 36 + 30 + 12 + 5 = 83.
    assert_eq!(score_of(&p), 83.0);
    assert!(p.rationale().contains("capped at 100"), "{}", p.rationale());

    let contact = ContactSnapshot {
        contact_id: Uuid::from_u128(0xc1),
        name: Some("Dana Lee".into()),
        email: None,
        owner: Some("alex".into()),
    };
    let cold = serde_json::to_value(RulePayload {
        facts: RuleFacts {
            days: 45,
            amount: None,
            days_to_close: None,
        },
        deal: None,
        contact: Some(contact),
    })
    .unwrap();
    let signal = view_of(SignalSource::Rule, "c", SignalKind::LeadGoneCold, cold);
    let p = proposal(process(&signal, &ctx(None)));
    assert_eq!(p.action_type, ActionType::CheckIn);
    assert_eq!(
        p.title,
        "Check in with Dana Lee: 45 days since the last contact"
    );
    assert_eq!(p.owner, "alex");
    assert_eq!(p.aps.urgency.unwrap().thousandths(), 600);
    assert_eq!(p.due_by, t0() + Duration::days(3));
}

#[test]
fn the_same_rule_entity_and_day_is_the_same_move() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    assert_eq!(
        move_id("rule.deal_stalled", "d", day),
        move_id("rule.deal_stalled", "d", day)
    );
    assert_ne!(
        move_id("rule.deal_stalled", "d", day),
        move_id("rule.deal_stalled", "d", day.succ_opt().unwrap())
    );
    assert_ne!(
        move_id("rule.deal_stalled", "d", day),
        move_id("rule.deal_closing_soon", "d", day)
    );
}

#[test]
fn a_manual_signal_proposes_its_title() {
    let signal = view_of(
        SignalSource::Manual,
        "k",
        SignalKind::Manual,
        json!({"title": "Call Dana about the renewal", "action_type": "check_in"}),
    );
    let p = proposal(process(&signal, &ctx(None)));
    assert_eq!(p.action_type, ActionType::CheckIn);
    assert_eq!(p.title, "Call Dana about the renewal");
    assert_eq!(score_of(&p), 46.0);
    assert_eq!(p.due_by, t0() + Duration::hours(24));
    let _ = ApsOverrides::default();
}
