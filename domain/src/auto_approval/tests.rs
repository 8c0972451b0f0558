use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::icp::{icp_score, IcpScore};
use super::*;
use crate::aggregate::testing::Scenario;
use crate::aggregate::DomainError;
use crate::contacts::{
    ContactFields, ContactSource, ContactStatus, ContactView, LifecycleStage, Phone,
};
use crate::kernel::Actor;
use crate::queue::ActionType;

fn admin() -> Actor {
    Actor::user("ada")
}

fn at() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn rule_id() -> Uuid {
    Uuid::from_u128(7)
}

fn definition() -> RuleDefinition {
    RuleDefinition {
        name: "Replied before".into(),
        condition: RuleCondition::RepliedBefore { days_lookback: 90 },
        confidence: 95,
        priority: 1,
        enabled: true,
        action_types: default_action_types(),
    }
}

fn created() -> RuleEvent {
    RuleEvent::RuleCreated(RuleWritten {
        rule_id: rule_id(),
        definition: definition(),
        by: admin(),
        at: at(),
    })
}

fn create(definition: RuleDefinition) -> RuleCommand {
    RuleCommand::Create {
        rule_id: rule_id(),
        definition,
        by: admin(),
        at: at(),
    }
}

#[test]
fn creating_a_rule_records_its_definition() {
    Scenario::<AutoApprovalRule>::given_no_previous_events()
        .when(create(definition()))
        .then_expect_events(vec![created()]);
}

#[test]
fn creating_a_rule_twice_is_a_conflict() {
    Scenario::<AutoApprovalRule>::given(vec![created()])
        .when(create(definition()))
        .then_expect_error(RuleError::AlreadyExists);
}

#[test]
fn a_rule_with_a_bad_field_is_refused_naming_the_field() {
    let rows: Vec<(RuleDefinition, &str)> = vec![
        (
            RuleDefinition {
                name: "  ".into(),
                ..definition()
            },
            "name",
        ),
        (
            RuleDefinition {
                confidence: 101,
                ..definition()
            },
            "confidence",
        ),
        (
            RuleDefinition {
                priority: MAX_PRIORITY + 1,
                ..definition()
            },
            "priority",
        ),
        (
            RuleDefinition {
                action_types: vec![],
                ..definition()
            },
            "action_types",
        ),
        (
            RuleDefinition {
                condition: RuleCondition::RepliedBefore { days_lookback: 0 },
                ..definition()
            },
            "condition.days_lookback",
        ),
        (
            RuleDefinition {
                condition: RuleCondition::KnownGoodRecipient { min_sends: 0 },
                ..definition()
            },
            "condition.min_sends",
        ),
        (
            RuleDefinition {
                condition: RuleCondition::HighIcpScore {
                    min_score: 101,
                    require_domain_match: true,
                },
                ..definition()
            },
            "condition.min_score",
        ),
    ];
    for (bad, field) in rows {
        let error = Scenario::<AutoApprovalRule>::given_no_previous_events()
            .when(create(bad))
            .inspect_result()
            .unwrap_err();
        assert!(
            matches!(error, RuleError::Invalid { field: f, .. } if f == field),
            "{field}: {error:?}"
        );
        assert_eq!(error.code(), "request.validation");
    }
}

#[test]
fn updating_replaces_the_definition_and_an_identical_update_is_a_no_op() {
    let changed = RuleDefinition {
        priority: 5,
        action_types: vec![
            ActionType::FollowUp,
            ActionType::SendEmail,
            ActionType::FollowUp,
        ],
        ..definition()
    };
    let events = Scenario::<AutoApprovalRule>::given(vec![created()])
        .when(RuleCommand::Update {
            definition: changed,
            by: admin(),
            at: at(),
        })
        .inspect_result()
        .unwrap();
    let [RuleEvent::RuleUpdated(e)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(e.definition.priority, 5);
    assert_eq!(
        e.definition.action_types,
        vec![ActionType::SendEmail, ActionType::FollowUp]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    Scenario::<AutoApprovalRule>::given(vec![created()])
        .when(RuleCommand::Update {
            definition: definition(),
            by: admin(),
            at: at(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn enabling_disabling_and_deleting_are_events_and_a_deleted_rule_is_not_found() {
    let change = RuleChanged {
        by: admin(),
        at: at(),
    };
    Scenario::<AutoApprovalRule>::given(vec![created()])
        .when(RuleCommand::Enable {
            by: admin(),
            at: at(),
        })
        .then_expect_events(vec![]);
    Scenario::<AutoApprovalRule>::given(vec![created()])
        .when(RuleCommand::Disable {
            by: admin(),
            at: at(),
        })
        .then_expect_events(vec![RuleEvent::RuleDisabled(change.clone())]);
    let deleted = vec![created(), RuleEvent::RuleArchived(change.clone())];
    let mut state = AutoApprovalRule::default();
    for event in deleted.clone() {
        crate::aggregate::Aggregate::apply(&mut state, event);
    }
    let view = state.rule.unwrap();
    assert!(view.archived && !view.enabled);
    Scenario::<AutoApprovalRule>::given(deleted.clone())
        .when(RuleCommand::Delete {
            by: admin(),
            at: at(),
        })
        .then_expect_error(RuleError::NotFound);
    Scenario::<AutoApprovalRule>::given(deleted)
        .when(RuleCommand::Enable {
            by: admin(),
            at: at(),
        })
        .then_expect_error(RuleError::NotFound);
    Scenario::<AutoApprovalRule>::given_no_previous_events()
        .when(RuleCommand::Delete {
            by: admin(),
            at: at(),
        })
        .then_expect_error(RuleError::NotFound);
}

#[test]
fn the_seed_rules_are_the_three_kinds_disabled_in_priority_order() {
    let seeds = seed_rules();
    let kinds: Vec<_> = seeds
        .iter()
        .map(|(_, d)| (d.condition.kind(), d.priority, d.confidence, d.enabled))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("replied_before", 1, 95, false),
            ("known_good_recipient", 2, 90, false),
            ("high_icp_score", 3, 85, false),
        ]
    );
    assert!(seeds.iter().all(|(_, d)| d.problem().is_none()));
    assert_eq!(seed_rules()[0].0, seeds[0].0, "fixed ids");
    assert!(default_action_types().contains(&ActionType::SendEmail));
    assert!(!default_action_types().contains(&ActionType::CreateTask));
}

#[test]
fn a_condition_reads_its_defaults() {
    let read = |v: serde_json::Value| serde_json::from_value::<RuleCondition>(v).unwrap();
    assert_eq!(
        read(serde_json::json!({"kind": "replied_before"})),
        RuleCondition::RepliedBefore { days_lookback: 90 }
    );
    assert_eq!(
        read(serde_json::json!({"kind": "known_good_recipient"})),
        RuleCondition::KnownGoodRecipient { min_sends: 1 }
    );
    assert_eq!(
        read(serde_json::json!({"kind": "high_icp_score"})),
        RuleCondition::HighIcpScore {
            min_score: 90,
            require_domain_match: true
        }
    );
}

// --- the ICP score -------------------------------------------------------------------------

fn contact(fields: ContactFields) -> ContactView {
    ContactView {
        id: Uuid::from_u128(1),
        status: ContactStatus::Active,
        fields,
        source: ContactSource::Manual,
        import_id: None,
        demo: false,
        validation: None,
        merged_into: None,
        absorbed: vec![],
        unmerged: vec![],
        archived: None,
        created_by: admin(),
        created_at: at(),
        updated_at: at(),
        version: 1,
    }
}

fn phone() -> Phone {
    Phone {
        raw: "+1 415 555 0100".into(),
        e164: Some("+14155550100".into()),
    }
}

#[test]
fn the_icp_score_sums_its_parts_each_with_its_reason() {
    let rows: Vec<(ContactFields, u8)> = vec![
        (ContactFields::default(), 0),
        (
            ContactFields {
                job_title: Some("CEO".into()),
                lifecycle_stage: Some(LifecycleStage::Opportunity),
                company_domain: Some("acme.io".into()),
                phones: vec![phone()],
                ..Default::default()
            },
            40 + 20 + 15 + 10,
        ),
        (
            ContactFields {
                job_title: Some("VP Sales".into()),
                lifecycle_stage: Some(LifecycleStage::SalesQualifiedLead),
                company_domain: Some("gmail.com".into()),
                ..Default::default()
            },
            30 + 18,
        ),
        (
            ContactFields {
                job_title: Some("Intern".into()),
                lifecycle_stage: Some(LifecycleStage::Lead),
                ..Default::default()
            },
            5 + 6,
        ),
    ];
    for (fields, expected) in rows {
        let score = icp_score(&contact(fields.clone()));
        assert_eq!(score.score, expected, "{fields:?}: {score:?}");
        assert_eq!(
            score.parts.iter().map(|p| u32::from(p.points)).sum::<u32>(),
            u32::from(expected)
        );
        assert_eq!(score.parts.len(), 5);
    }
    let ceo = icp_score(&contact(ContactFields {
        job_title: Some("CEO".into()),
        company_domain: Some("gmail.com".into()),
        ..Default::default()
    }));
    let reasons: Vec<&str> = ceo.parts.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            "\"CEO\" is C-level, founder or owner",
            "no lifecycle stage",
            "gmail.com is free or throwaway mail",
            "not validated yet",
            "no phone number",
        ]
    );
}

#[test]
fn a_valid_report_scores_and_a_failed_one_does_not() {
    let mut view = contact(ContactFields::default());
    view.validation = Some(crate::contacts::Validation {
        report: crate::hygiene::ValidationReport {
            valid: true,
            issues: vec![],
            rules_version: 1,
        },
        by: admin(),
        at: at(),
    });
    assert_eq!(icp_score(&view).score, 15);
    view.validation.as_mut().unwrap().report.valid = false;
    assert_eq!(icp_score(&view).score, 0);
}

// --- evaluation ----------------------------------------------------------------------------

fn rule(id: u128, priority: u32, condition: RuleCondition) -> RuleView {
    RuleView {
        id: Uuid::from_u128(id),
        name: condition.kind().to_string(),
        condition,
        confidence: 90,
        priority,
        enabled: true,
        action_types: default_action_types(),
        created_by: admin(),
        created_at: at(),
        updated_by: admin(),
        updated_at: at(),
        archived: false,
        version: 1,
    }
}

fn recipient(email: &str) -> RecipientFacts {
    RecipientFacts {
        email: email.into(),
        last_reply_at: None,
        sends: 0,
        bad_outcome: None,
    }
}

fn facts(recipients: Vec<RecipientFacts>) -> Facts {
    Facts {
        action_type: ActionType::SendEmail,
        blockers: vec![],
        recipients,
        contact: None,
        now: at(),
    }
}

fn icp(score: u8, domain: &str) -> ContactFacts {
    ContactFacts {
        icp: IcpScore {
            score,
            parts: vec![],
        },
        company_domain: Some(domain.into()),
    }
}

fn replied() -> RuleView {
    rule(1, 1, RuleCondition::RepliedBefore { days_lookback: 90 })
}
fn known() -> RuleView {
    rule(2, 2, RuleCondition::KnownGoodRecipient { min_sends: 2 })
}
fn high() -> RuleView {
    rule(
        3,
        3,
        RuleCondition::HighIcpScore {
            min_score: 80,
            require_domain_match: true,
        },
    )
}

fn approved_by(decision: &AutoDecision) -> Option<&str> {
    match decision {
        AutoDecision::Approved { rule_name, .. } => Some(rule_name),
        AutoDecision::NeedsReview { .. } => None,
    }
}

#[test]
fn each_rule_matches_or_says_why_not() {
    let recent = RecipientFacts {
        last_reply_at: Some(at() - Duration::days(3)),
        ..recipient("dana@acme.io")
    };
    let old = RecipientFacts {
        last_reply_at: Some(at() - Duration::days(120)),
        ..recipient("dana@acme.io")
    };
    let sent = RecipientFacts {
        sends: 2,
        ..recipient("dana@acme.io")
    };
    let bounced = RecipientFacts {
        sends: 5,
        bad_outcome: Some("email_bounced".into()),
        ..recipient("dana@acme.io")
    };
    let with_contact = |r: RecipientFacts, c: ContactFacts| Facts {
        contact: Some(c),
        ..facts(vec![r])
    };
    let rows: Vec<(&str, RuleView, Facts, bool, &str)> = vec![
        (
            "recent reply",
            replied(),
            facts(vec![recent]),
            true,
            "dana@acme.io replied 3 days ago",
        ),
        (
            "old reply",
            replied(),
            facts(vec![old]),
            false,
            "dana@acme.io last replied 120 days ago, before the 90-day lookback",
        ),
        (
            "no reply",
            replied(),
            facts(vec![recipient("dana@acme.io")]),
            false,
            "dana@acme.io never replied",
        ),
        (
            "enough sends",
            known(),
            facts(vec![sent]),
            true,
            "dana@acme.io was sent 2 emails, none bounced",
        ),
        (
            "too few sends",
            known(),
            facts(vec![recipient("dana@acme.io")]),
            false,
            "dana@acme.io was sent 0 emails, fewer than 2",
        ),
        (
            "bounced",
            known(),
            facts(vec![bounced]),
            false,
            "dana@acme.io has an email_bounced outcome",
        ),
        (
            "high icp",
            high(),
            with_contact(recipient("dana@acme.io"), icp(85, "acme.io")),
            true,
            "ICP score 85 ≥ 80 (nothing scores)",
        ),
        (
            "low icp",
            high(),
            with_contact(recipient("dana@acme.io"), icp(40, "acme.io")),
            false,
            "ICP score 40 is below 80 (nothing scores)",
        ),
        (
            "other domain",
            high(),
            with_contact(recipient("dana@gmail.com"), icp(85, "acme.io")),
            false,
            "ICP score 85, but dana@gmail.com is not at acme.io",
        ),
        (
            "no contact",
            high(),
            facts(vec![recipient("dana@acme.io")]),
            false,
            "the move names no CaseyOS contact",
        ),
    ];
    for (name, rule, facts, matched, reason) in rows {
        let (decision, checks) = evaluate(&[rule], &facts);
        assert_eq!(checks.len(), 1, "{name}");
        assert_eq!(
            (checks[0].matched, checks[0].reason.as_str()),
            (matched, reason),
            "{name}"
        );
        assert_eq!(approved_by(&decision).is_some(), matched, "{name}");
    }
}

#[test]
fn rules_run_in_priority_order_and_the_first_match_approves() {
    let both = RecipientFacts {
        last_reply_at: Some(at() - Duration::days(1)),
        sends: 3,
        ..recipient("dana@acme.io")
    };
    let mut first = known();
    first.priority = 0;
    let (decision, checks) = evaluate(&[replied(), first], &facts(vec![both]));
    assert_eq!(approved_by(&decision), Some("known_good_recipient"));
    assert_eq!(
        checks.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
        vec!["known_good_recipient", "replied_before"]
    );
    assert!(matches!(
        decision,
        AutoDecision::Approved { confidence: 90, .. }
    ));
}

#[test]
fn every_recipient_must_match() {
    let dana = RecipientFacts {
        last_reply_at: Some(at()),
        ..recipient("dana@acme.io")
    };
    let (decision, checks) = evaluate(&[replied()], &facts(vec![dana, recipient("lee@acme.io")]));
    assert_eq!(approved_by(&decision), None);
    assert_eq!(checks[0].reason, "lee@acme.io never replied");
}

#[test]
fn blockers_disabled_rules_and_other_types_need_review() {
    let dana = RecipientFacts {
        last_reply_at: Some(at()),
        ..recipient("dana@acme.io")
    };
    let stopped = Facts {
        blockers: vec![STOPPED.into()],
        ..facts(vec![dana.clone()])
    };
    assert_eq!(
        evaluate(&[replied()], &stopped).0,
        AutoDecision::NeedsReview {
            reason: STOPPED.into()
        }
    );
    let mut off = replied();
    off.enabled = false;
    assert_eq!(
        evaluate(&[off], &facts(vec![dana.clone()])).0,
        AutoDecision::NeedsReview {
            reason: "no auto-approval rule is enabled".into()
        }
    );
    let task = Facts {
        action_type: ActionType::CreateTask,
        ..facts(vec![dana])
    };
    let (decision, checks) = evaluate(&[replied()], &task);
    assert_eq!(
        decision,
        AutoDecision::NeedsReview {
            reason: "no rule matched".into()
        }
    );
    assert_eq!(checks[0].reason, "it does not approve create_task moves");
}

#[test]
fn a_decision_is_recorded_once_per_move() {
    let item = Uuid::from_u128(42);
    let decide = Decide {
        item_id: item,
        decision: AutoDecision::NeedsReview {
            reason: "no rule matched".into(),
        },
        checks: vec![],
        by: Actor::system("auto-approval"),
        at: at(),
    };
    let events = Scenario::<AutoApprovalDecision>::given_no_previous_events()
        .when(decide.clone())
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 1);
    Scenario::<AutoApprovalDecision>::given(events.clone())
        .when(decide.clone())
        .then_expect_events(vec![]);
    Scenario::<AutoApprovalDecision>::given(events)
        .when(Decide {
            item_id: Uuid::from_u128(43),
            ..decide
        })
        .then_expect_error(DecisionError::WrongItem);
    assert_ne!(decision_id(item), item);
}

#[test]
fn a_moves_recipients_are_its_to_and_cc_or_its_contact() {
    use crate::executions::plan::move_recipients;
    use crate::kernel::EmailAddress;
    let dana = EmailAddress::parse("dana@acme.io").unwrap();
    let names = |people: Vec<EmailAddress>| -> Vec<String> {
        people.iter().map(|p| p.as_str().to_string()).collect()
    };
    let rows: Vec<(ActionType, serde_json::Value, Vec<&str>)> = vec![
        (
            ActionType::SendEmail,
            serde_json::json!({"to": "lee@acme.io", "cc": ["kim@acme.io"]}),
            vec!["lee@acme.io", "kim@acme.io"],
        ),
        (
            ActionType::FollowUp,
            serde_json::json!({}),
            vec!["dana@acme.io"],
        ),
        (
            ActionType::BookMeeting,
            serde_json::json!({"attendees": ["lee@acme.io"]}),
            vec!["lee@acme.io"],
        ),
        (
            ActionType::CreateTask,
            serde_json::json!({"to": "lee@acme.io"}),
            vec![],
        ),
    ];
    for (action_type, payload, expected) in rows {
        let people = move_recipients(action_type, &payload, Some(&dana)).unwrap();
        assert_eq!(names(people), expected, "{action_type:?}");
    }
    assert!(
        move_recipients(ActionType::SendEmail, &serde_json::json!({}), None)
            .unwrap()
            .is_empty()
    );
    assert!(move_recipients(
        ActionType::SendEmail,
        &serde_json::json!({"to": "not an address"}),
        None
    )
    .is_err());
}
