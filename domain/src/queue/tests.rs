//! Given/when/then: every queue command, every outcome, every rejection.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::aps::{Aps, ApsOverrides, Fraction};
use super::*;
use crate::aggregate::testing::Scenario;
use crate::aggregate::Aggregate;
use crate::kernel::{Actor, CrmId, Text, UserName};

type QueueTest = Scenario<QueueItem>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Text as a handler parses it.
fn text(raw: &str) -> Text {
    Text::parse(raw, MAX_TEXT_CHARS).unwrap()
}

fn casey() -> Actor {
    Actor::user("casey")
}

fn item_id() -> Uuid {
    Uuid::from_u128(0x42)
}

fn propose_cmd() -> ProposeQueueItem {
    ProposeQueueItem {
        id: item_id(),
        title: None,
        action_type: ActionType::SendEmail,
        domain: None,
        target: Target {
            contact: Some(ContactRef {
                id: CrmId::parse("101").unwrap(),
                name: Some("Dana Lee".into()),
                email: None,
            }),
            ..Target::default()
        },
        payload: json!({"to": "dana@acme.io", "subject": "Hello", "body": "Hi Dana"}),
        owner: UserName::parse("casey").unwrap(),
        due_by: Some(t0() + Duration::hours(2)),
        expires_at: None,
        source: Source::Manual,
        aps: ApsOverrides::default(),
        rationale: Some(text("Replied yesterday")),
        draft: None,
        demo: false,
        learned: Vec::new(),
        by: casey(),
        at: t0(),
    }
}

fn proposed() -> QueueItemEvent {
    QueueItemEvent::QueueItemProposed(Box::new(QueueItemProposed {
        item_id: item_id(),
        title: "Send email — Dana Lee".into(),
        title_derived: true,
        action_type: ActionType::SendEmail,
        domain: QueueDomain::Sales,
        target: propose_cmd().target,
        payload: json!({"to": "dana@acme.io", "subject": "Hello", "body": "Hi Dana"}),
        owner: "casey".into(),
        due_by: Some(t0() + Duration::hours(2)),
        expires_at: None,
        source: Source::Manual,
        aps: Aps::for_action(ActionType::SendEmail, &ApsOverrides::default()),
        rationale: Some("Replied yesterday".into()),
        draft: None,
        demo: false,
        proposed_by: casey(),
        proposed_at: t0(),
    }))
}

fn approved() -> QueueItemEvent {
    QueueItemEvent::QueueItemApproved(QueueItemApproved {
        approved_by: casey(),
        approved_at: t0(),
        note: None,
    })
}

fn rejected() -> QueueItemEvent {
    QueueItemEvent::QueueItemRejected(QueueItemRejected {
        rejected_by: casey(),
        rejected_at: t0(),
        reason: "Not now".into(),
    })
}

fn snoozed(until: DateTime<Utc>) -> QueueItemEvent {
    QueueItemEvent::QueueItemSnoozed(QueueItemSnoozed {
        until,
        preset: None,
        snoozed_by: casey(),
        snoozed_at: t0(),
    })
}

fn expired() -> QueueItemEvent {
    QueueItemEvent::QueueItemExpired(QueueItemExpired {
        expired_at: t0(),
        reason: None,
        by: None,
    })
}

fn approve() -> QueueItemCommand {
    QueueItemCommand::Approve(ApproveQueueItem {
        note: None,
        by: casey(),
        at: t0(),
    })
}

fn reject(reason: &str) -> QueueItemCommand {
    QueueItemCommand::Reject(RejectQueueItem {
        reason: text(reason),
        by: casey(),
        at: t0(),
    })
}

fn snooze(until: DateTime<Utc>) -> QueueItemCommand {
    QueueItemCommand::Snooze(SnoozeQueueItem {
        until,
        preset: None,
        by: casey(),
        at: t0(),
    })
}

fn edit(change: impl FnOnce(&mut EditQueueItem)) -> QueueItemCommand {
    let mut cmd = EditQueueItem {
        by: Some(casey()),
        at: Some(t0()),
        ..EditQueueItem::default()
    };
    change(&mut cmd);
    QueueItemCommand::Edit(cmd)
}

// --- propose ------------------------------------------------------------------------

#[test]
fn proposing_a_move_derives_its_title_domain_and_aps() {
    QueueTest::given_no_previous_events()
        .when(QueueItemCommand::Propose(Box::new(propose_cmd())))
        .then_expect_events(vec![proposed()]);
}

#[test]
fn proposing_with_a_title_keeps_it() {
    let mut cmd = propose_cmd();
    cmd.title = Some(Text::parse("  Email Dana about pricing ", MAX_TITLE_CHARS).unwrap());
    let events = QueueTest::given_no_previous_events()
        .when(QueueItemCommand::Propose(Box::new(cmd)))
        .inspect_result()
        .unwrap();
    let QueueItemEvent::QueueItemProposed(e) = &events[0] else {
        panic!("expected a proposal, got {events:?}");
    };
    assert_eq!(e.title, "Email Dana about pricing");
    assert!(!e.title_derived);
}

#[test]
fn proposing_with_aps_overrides_scores_with_them() {
    let mut cmd = propose_cmd();
    cmd.aps.revenue = Fraction::from_f64_clamped(1.0);
    let events = QueueTest::given_no_previous_events()
        .when(QueueItemCommand::Propose(Box::new(cmd)))
        .inspect_result()
        .unwrap();
    let QueueItemEvent::QueueItemProposed(e) = &events[0] else {
        panic!("expected a proposal");
    };
    assert_eq!(e.aps.score.as_f64(), 79.0);
}

#[test]
fn proposing_the_same_id_twice_is_rejected() {
    QueueTest::given(vec![proposed()])
        .when(QueueItemCommand::Propose(Box::new(propose_cmd())))
        .then_expect_error(QueueError::AlreadyProposed);
}

#[test]
fn proposing_with_invalid_fields_names_the_field() {
    type Mutation = Box<dyn Fn(&mut ProposeQueueItem)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("payload", Box::new(|c| c.payload = json!([1, 2]))),
        (
            "payload.to",
            Box::new(|c| c.payload = json!({"to": "not-an-email"})),
        ),
        (
            "expires_at",
            Box::new(|c| c.expires_at = Some(t0() - Duration::minutes(1))),
        ),
    ];
    for (field, mutate) in cases {
        let mut cmd = propose_cmd();
        mutate(&mut cmd);
        let err = QueueTest::given_no_previous_events()
            .when(QueueItemCommand::Propose(Box::new(cmd)))
            .inspect_result()
            .unwrap_err();
        match err {
            QueueError::Invalid { field: f, .. } => assert_eq!(f, field),
            other => panic!("{field}: expected a field error, got {other:?}"),
        }
    }
}

#[test]
fn a_person_proposes_manual_moves_only() {
    let run = Source::AgentRun {
        run_id: Uuid::from_u128(7),
    };
    let signal = Source::Signal {
        provider: "hubspot".into(),
        signal_id: "deal-9".into(),
    };
    for source in [run, signal] {
        let mut cmd = propose_cmd();
        cmd.source = source.clone();
        let error = QueueTest::given_no_previous_events()
            .when(QueueItemCommand::Propose(Box::new(cmd)))
            .inspect_result()
            .unwrap_err();
        assert_eq!(
            error,
            QueueError::SourceNotAllowed("must be manual: people propose manual moves only"),
            "{source:?}"
        );
        assert_eq!(error.code(), "queue.source_not_allowed");
        assert!(matches!(
            crate::aggregate::DomainError::kind(&error),
            crate::aggregate::RejectionKind::Invalid {
                field: "source",
                ..
            }
        ));
    }
}

#[test]
fn only_an_agent_proposes_a_move_from_an_agent_run() {
    let run = Source::AgentRun {
        run_id: Uuid::from_u128(7),
    };
    // (proposer, accepted)
    let table = [
        (Actor::agent("DraftWriter"), true),
        (Actor::system("scheduler"), false),
    ];
    for (by, accepted) in table {
        let mut cmd = propose_cmd();
        cmd.source = run.clone();
        cmd.by = by.clone();
        let result = QueueTest::given_no_previous_events()
            .when(QueueItemCommand::Propose(Box::new(cmd)))
            .inspect_result();
        assert_eq!(result.is_ok(), accepted, "{by}: {result:?}");
    }
    // CaseyOS itself may record a signal's move.
    let mut cmd = propose_cmd();
    cmd.source = Source::Signal {
        provider: "hubspot".into(),
        signal_id: "deal-9".into(),
    };
    cmd.by = Actor::system("signals");
    assert!(QueueTest::given_no_previous_events()
        .when(QueueItemCommand::Propose(Box::new(cmd)))
        .inspect_result()
        .is_ok());
}

#[test]
fn a_drafts_origin_and_the_demo_mark_are_recorded_and_shown() {
    let mut cmd = propose_cmd();
    cmd.draft = Some(Draft::offline_template());
    cmd.demo = true;
    let events = QueueTest::given_no_previous_events()
        .when(QueueItemCommand::Propose(Box::new(cmd)))
        .inspect_result()
        .unwrap();
    let QueueItemEvent::QueueItemProposed(e) = &events[0] else {
        panic!("expected a proposal, got {events:?}");
    };
    assert_eq!(e.draft, Some(Draft::offline_template()));
    assert!(e.demo);
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        json["QueueItemProposed"]["draft"],
        json!({"origin": "offline_template"})
    );
    assert_eq!(json["QueueItemProposed"]["demo"], json!(true));

    let mut item = QueueItem::default();
    item.apply(events[0].clone());
    let view = item.item.unwrap();
    assert_eq!(view.draft, Some(Draft::offline_template()));
    assert!(view.demo);
    assert_eq!(
        view.draft.unwrap().label(),
        "Offline template — not written by a model"
    );
    assert_eq!(
        Draft::llm(Some("gpt-4o".into())).label(),
        "Written by a model (gpt-4o)"
    );
}

#[test]
fn a_proposal_recorded_before_drafts_demo_and_aps_basis_decodes_with_none_of_them() {
    // The shape of `QueueItemProposed` as version 1 wrote it before these fields.
    let recorded = json!({"QueueItemProposed": {
        "item_id": item_id(),
        "title": "Send email — Dana Lee",
        "title_derived": true,
        "action_type": "send_email",
        "domain": "sales",
        "target": {"contact": {"id": "101", "name": "Dana Lee"}},
        "payload": {"to": "dana@acme.io"},
        "owner": "casey",
        "due_by": null,
        "expires_at": null,
        "source": {"kind": "manual"},
        "aps": {
            "score": 63.0,
            "inputs": {"revenue": 0.6, "urgency": 0.7, "effort": 0.2, "strategic": 0.5},
            "reasoning": "Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%"
        },
        "rationale": null,
        "proposed_by": {"kind": "user", "id": "casey"},
        "proposed_at": t0(),
    }});
    let event: QueueItemEvent = serde_json::from_value(recorded).expect("the old shape decodes");
    let QueueItemEvent::QueueItemProposed(e) = &event else {
        panic!("expected a proposal");
    };
    assert_eq!((e.draft.as_ref(), e.demo, e.aps.basis), (None, false, None));
    let mut item = QueueItem::default();
    item.apply(event);
    let view = item.item.unwrap();
    assert_eq!((view.draft, view.demo), (None, false));
    assert_eq!(
        view.aps.reasoning,
        "Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%"
    );

    // A stored view (a read model's document) from before decodes the same way.
    let mut doc = serde_json::to_value(propose_view()).unwrap();
    let fields = doc.as_object_mut().unwrap();
    fields.remove("draft");
    fields.remove("demo");
    let back: QueueItemView = serde_json::from_value(doc).expect("the old view decodes");
    assert_eq!((back.draft, back.demo), (None, false));
}

#[test]
fn moves_the_demo_seeder_proposed_before_the_mark_was_recorded_are_demo_moves() {
    let mut old = proposed();
    if let QueueItemEvent::QueueItemProposed(e) = &mut old {
        e.proposed_by = Actor::system(DEMO_ACTOR);
        e.source = Source::Signal {
            provider: "demo".into(),
            signal_id: "reply-dana-pricing".into(),
        };
    }
    let mut item = QueueItem::default();
    item.apply(old);
    assert!(item.item.unwrap().demo);
}

fn propose_view() -> QueueItemView {
    let mut item = QueueItem::default();
    item.apply(proposed());
    item.item.unwrap()
}

#[test]
fn commands_on_a_missing_item_are_not_found() {
    for cmd in [
        approve(),
        reject("no"),
        snooze(t0() + Duration::hours(1)),
        edit(|e| e.title = Some(text("x"))),
    ] {
        QueueTest::given_no_previous_events()
            .when(cmd)
            .then_expect_error(QueueError::NotFound);
    }
}

// --- approve ------------------------------------------------------------------------

#[test]
fn approving_a_pending_move_records_who_and_when() {
    QueueTest::given(vec![proposed()])
        .when(approve())
        .then_expect_events(vec![approved()]);
}

#[test]
fn approving_a_snoozed_move_is_allowed() {
    QueueTest::given(vec![proposed(), snoozed(t0() + Duration::hours(4))])
        .when(approve())
        .then_expect_events(vec![approved()]);
}

#[test]
fn approving_twice_is_rejected_with_already_approved() {
    QueueTest::given(vec![proposed(), approved()])
        .when(approve())
        .then_expect_error(QueueError::AlreadyApproved);
}

#[test]
fn approving_a_rejected_move_is_rejected() {
    QueueTest::given(vec![proposed(), rejected()])
        .when(approve())
        .then_expect_error(QueueError::AlreadyRejected);
}

#[test]
fn approving_an_expired_move_is_rejected() {
    QueueTest::given(vec![proposed(), expired()])
        .when(approve())
        .then_expect_error(QueueError::Expired);
}

// --- reject -------------------------------------------------------------------------

#[test]
fn rejecting_records_the_reason() {
    QueueTest::given(vec![proposed()])
        .when(reject("  Not now "))
        .then_expect_events(vec![rejected()]);
}

#[test]
fn text_that_breaks_the_queues_limits_cannot_reach_a_command() {
    // Handlers parse titles, reasons, notes and rationales into `Text` with these limits;
    // a blank reason or an over-long title is refused there, naming the field.
    assert_eq!(
        Text::parse("   ", MAX_TEXT_CHARS),
        Err("must not be empty".to_string())
    );
    assert!(Text::parse(&"x".repeat(MAX_TITLE_CHARS), MAX_TITLE_CHARS).is_ok());
    assert_eq!(
        Text::parse(&"x".repeat(MAX_TITLE_CHARS + 1), MAX_TITLE_CHARS),
        Err(format!("must be at most {MAX_TITLE_CHARS} characters"))
    );
    assert!(Text::parse(&"x".repeat(MAX_TEXT_CHARS + 1), MAX_TEXT_CHARS).is_err());
}

#[test]
fn rejecting_an_approved_move_is_rejected() {
    QueueTest::given(vec![proposed(), approved()])
        .when(reject("changed my mind"))
        .then_expect_error(QueueError::AlreadyApproved);
}

#[test]
fn rejecting_twice_is_rejected() {
    QueueTest::given(vec![proposed(), rejected()])
        .when(reject("again"))
        .then_expect_error(QueueError::AlreadyRejected);
}

// --- snooze -------------------------------------------------------------------------

#[test]
fn snoozing_a_pending_move_records_until_when() {
    let until = t0() + Duration::hours(4);
    QueueTest::given(vec![proposed()])
        .when(snooze(until))
        .then_expect_events(vec![snoozed(until)]);
}

#[test]
fn snoozing_again_moves_the_wake_up_time() {
    let later = t0() + Duration::days(1);
    QueueTest::given(vec![proposed(), snoozed(t0() + Duration::hours(1))])
        .when(snooze(later))
        .then_expect_events(vec![snoozed(later)]);
}

#[test]
fn snoozing_into_the_past_is_rejected() {
    QueueTest::given(vec![proposed()])
        .when(snooze(t0()))
        .then_expect_error(QueueError::SnoozeInPast);
}

#[test]
fn snoozing_a_decided_move_is_rejected() {
    QueueTest::given(vec![proposed(), rejected()])
        .when(snooze(t0() + Duration::hours(1)))
        .then_expect_error(QueueError::AlreadyRejected);
}

#[test]
fn a_due_snooze_ends_and_the_move_is_pending_again() {
    let until = t0() - Duration::minutes(5);
    QueueTest::given(vec![proposed(), snoozed(until)])
        .when(QueueItemCommand::EndSnooze { at: t0() })
        .then_expect_events(vec![QueueItemEvent::QueueItemSnoozeEnded(
            QueueItemSnoozeEnded { ended_at: t0() },
        )]);
}

#[test]
fn ending_a_snooze_that_is_not_due_or_not_snoozed_does_nothing() {
    QueueTest::given(vec![proposed(), snoozed(t0() + Duration::hours(1))])
        .when(QueueItemCommand::EndSnooze { at: t0() })
        .then_expect_events(vec![]);
    QueueTest::given(vec![proposed()])
        .when(QueueItemCommand::EndSnooze { at: t0() })
        .then_expect_events(vec![]);
}

// --- expire -------------------------------------------------------------------------

#[test]
fn an_open_move_past_its_expiry_expires() {
    let mut with_expiry = propose_cmd();
    with_expiry.expires_at = Some(t0() + Duration::hours(1));
    let proposal = QueueItem::default()
        .decide(QueueItemCommand::Propose(Box::new(with_expiry)))
        .unwrap();
    QueueTest::given(proposal.clone())
        .when(QueueItemCommand::Expire {
            at: t0() + Duration::hours(1),
        })
        .then_expect_events(vec![QueueItemEvent::QueueItemExpired(QueueItemExpired {
            expired_at: t0() + Duration::hours(1),
            reason: None,
            by: None,
        })]);
    QueueTest::given(proposal)
        .when(QueueItemCommand::Expire { at: t0() })
        .then_expect_events(vec![]);
}

#[test]
fn a_decided_or_expiry_less_move_never_expires() {
    QueueTest::given(vec![proposed()])
        .when(QueueItemCommand::Expire {
            at: t0() + Duration::days(365),
        })
        .then_expect_events(vec![]);
    QueueTest::given(vec![proposed(), approved()])
        .when(QueueItemCommand::Expire {
            at: t0() + Duration::days(365),
        })
        .then_expect_events(vec![]);
}

// --- edit ---------------------------------------------------------------------------

#[test]
fn editing_records_only_what_changed() {
    QueueTest::given(vec![proposed()])
        .when(edit(|e| {
            e.title = Some(text("Send email — Dana Lee")); // unchanged
            e.payload =
                Some(json!({"to": "dana@acme.io", "subject": "Pricing", "body": "Hi Dana"}));
            e.due_by = Some(None);
        }))
        .then_expect_events(vec![QueueItemEvent::QueueItemEdited(QueueItemEdited {
            title: None,
            payload: Some(json!({"to": "dana@acme.io", "subject": "Pricing", "body": "Hi Dana"})),
            due_by: Some(None),
            owner: None,
            rationale: None,
            aps: None,
            edited_by: casey(),
            edited_at: t0(),
        })]);
}

#[test]
fn editing_aps_inputs_rescores_from_the_current_inputs() {
    let events = QueueTest::given(vec![proposed()])
        .when(edit(|e| {
            e.aps = Some(ApsOverrides {
                urgency: Fraction::from_f64_clamped(1.0),
                ..ApsOverrides::default()
            })
        }))
        .inspect_result()
        .unwrap();
    let QueueItemEvent::QueueItemEdited(e) = &events[0] else {
        panic!("expected an edit");
    };
    assert_eq!(e.aps.as_ref().unwrap().score.as_f64(), 72.0);
}

#[test]
fn an_edit_that_changes_nothing_writes_nothing() {
    QueueTest::given(vec![proposed()])
        .when(edit(|e| e.owner = Some(UserName::parse("casey").unwrap())))
        .then_expect_events(vec![]);
}

#[test]
fn editing_a_decided_move_is_rejected() {
    QueueTest::given(vec![proposed(), approved()])
        .when(edit(|e| e.title = Some(text("New"))))
        .then_expect_error(QueueError::AlreadyApproved);
}

// --- fold ---------------------------------------------------------------------------

#[test]
fn folding_the_lifecycle_yields_the_expected_state() {
    let mut item = QueueItem::default();
    let until = t0() + Duration::hours(4);
    for event in [proposed(), snoozed(until)] {
        item.apply(event);
    }
    let view = item.item.clone().unwrap();
    assert_eq!(view.status, QueueStatus::Snoozed);
    assert_eq!(view.snoozed_until, Some(until));
    assert_eq!(view.version, 2);
    item.apply(rejected());
    let view = item.item.unwrap();
    assert_eq!(view.status, QueueStatus::Rejected);
    assert_eq!(view.snoozed_until, None);
    assert_eq!(view.decision.unwrap().reason.as_deref(), Some("Not now"));
    assert_eq!(view.version, 3);
}

#[test]
fn events_round_trip_through_json_unchanged() {
    for event in [proposed(), approved(), rejected(), snoozed(t0()), expired()] {
        let json = serde_json::to_value(&event).unwrap();
        let back: QueueItemEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
    let edit = QueueItemEvent::QueueItemEdited(QueueItemEdited {
        title: None,
        payload: None,
        due_by: Some(None),
        owner: None,
        rationale: Some(None),
        aps: None,
        edited_by: casey(),
        edited_at: t0(),
    });
    let json = serde_json::to_value(&edit).unwrap();
    assert_eq!(json["QueueItemEdited"]["due_by"], serde_json::Value::Null);
    assert!(json["QueueItemEdited"].get("title").is_none());
    assert_eq!(
        serde_json::from_value::<QueueItemEvent>(json).unwrap(),
        edit
    );
}
