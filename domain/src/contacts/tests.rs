//! Given/when/then: every contact command, every outcome, every rejection; merge and
//! unmerge field by field.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;
use crate::aggregate::Aggregate;
use crate::hygiene::{Severity, ValidationIssue, ValidationReport};
use crate::kernel::{Actor, CrmId, EmailAddress, Text, UserName};

type ContactTest = Scenario<Contact>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn casey() -> Actor {
    Actor::user("casey")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn text(raw: &str) -> Option<Text> {
    Some(Text::parse(raw, MAX_NAME_CHARS).unwrap())
}

fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

fn phone(raw: &str, e164: &str) -> Phone {
    Phone {
        raw: raw.into(),
        e164: Some(e164.into()),
    }
}

fn dana_edits() -> Vec<FieldEdit> {
    vec![
        FieldEdit::FirstName(text("Dana")),
        FieldEdit::LastName(text("Lee")),
        FieldEdit::Emails(vec![email("dana@acme.io"), email("DANA@acme.io")]),
        FieldEdit::Phones(vec![phone("(415) 555-0100", "+14155550100")]),
        FieldEdit::CompanyName(text("Acme")),
        FieldEdit::CompanyDomain(Some(CompanyDomain::parse("acme.io").unwrap())),
        FieldEdit::LifecycleStage(Some(LifecycleStage::Lead)),
        FieldEdit::Owner(Some(UserName::parse("casey").unwrap())),
        FieldEdit::CrmId(Some(CrmId::parse("101").unwrap())),
        FieldEdit::Custom("tier".into(), text("gold")),
    ]
}

fn create(n: u128, fields: Vec<FieldEdit>) -> ContactCommand {
    ContactCommand::Create(Box::new(CreateContact {
        id: id(n),
        fields,
        source: ContactSource::Manual,
        import_id: None,
        demo: false,
        by: casey(),
        at: t0(),
    }))
}

/// The events of a command on a state (panics on a rejection).
fn events_of(state: &Contact, command: ContactCommand) -> Vec<ContactEvent> {
    state.decide(command).expect("accepted")
}

fn after(events: &[ContactEvent]) -> Contact {
    let mut state = Contact::default();
    for event in events {
        state.apply(event.clone());
    }
    state
}

fn created(n: u128, fields: Vec<FieldEdit>) -> Vec<ContactEvent> {
    events_of(&Contact::default(), create(n, fields))
}

fn edit(fields: Vec<FieldEdit>, minutes: i64) -> ContactCommand {
    ContactCommand::Edit(EditContact {
        fields,
        source: ChangeSource::Manual,
        by: casey(),
        at: t0() + Duration::minutes(minutes),
    })
}

#[test]
fn creating_records_the_parsed_fields_without_repeated_emails() {
    let events = created(1, dana_edits());
    let view = after(&events).contact.unwrap();
    assert_eq!(view.fields.emails, vec!["dana@acme.io".to_string()]);
    assert_eq!(view.fields.phones[0].e164.as_deref(), Some("+14155550100"));
    assert_eq!(
        view.fields.custom.get("tier").map(String::as_str),
        Some("gold")
    );
    assert_eq!(view.status, ContactStatus::Active);
    assert_eq!(view.version, 1);
    assert_eq!(view.source, ContactSource::Manual);
}

#[test]
fn creating_twice_is_refused_as_already_existing() {
    ContactTest::given(created(1, dana_edits()))
        .when(create(1, dana_edits()))
        .then_expect_error(ContactError::AlreadyExists);
}

#[test]
fn a_contact_without_name_email_or_phone_is_refused() {
    ContactTest::given_no_previous_events()
        .when(create(1, vec![FieldEdit::JobTitle(text("CEO"))]))
        .then_expect_error_message("fields a contact needs a name, an email or a phone");
}

#[test]
fn an_edit_that_would_leave_nothing_to_know_a_contact_by_is_a_conflict() {
    ContactTest::given(created(
        1,
        vec![FieldEdit::Emails(vec![email("dana@acme.io")])],
    ))
    .when(edit(vec![FieldEdit::Emails(vec![])], 5))
    .then_expect_error(ContactError::WouldBeEmpty);
}

#[test]
fn editing_records_old_and_new_values_of_changed_fields_only() {
    ContactTest::given(created(1, dana_edits()))
        .when(edit(
            vec![
                FieldEdit::JobTitle(text("VP Sales")),
                FieldEdit::FirstName(text("Dana")),
            ],
            5,
        ))
        .then_expect_events(vec![ContactEvent::ContactFieldsChanged(
            ContactFieldsChanged {
                changes: vec![FieldChange {
                    field: ContactField::JobTitle,
                    old: json!(null),
                    new: json!("VP Sales"),
                }],
                source: ChangeSource::Manual,
                by: casey(),
                at: t0() + Duration::minutes(5),
            },
        )]);
}

#[test]
fn an_edit_that_changes_nothing_records_nothing() {
    ContactTest::given(created(1, dana_edits()))
        .when(edit(vec![FieldEdit::FirstName(text("Dana"))], 5))
        .then_expect_events(vec![]);
}

#[test]
fn editing_an_unknown_contact_is_not_found() {
    ContactTest::given_no_previous_events()
        .when(edit(vec![FieldEdit::FirstName(text("Dana"))], 5))
        .then_expect_error(ContactError::NotFound);
}

#[test]
fn archived_contacts_refuse_edits_until_restored_and_both_repeat_safely() {
    let mut events = created(1, dana_edits());
    let archive = || ContactCommand::Archive {
        reason: text("left the company"),
        by: casey(),
        at: t0(),
    };
    events.extend(events_of(&after(&events), archive()));
    let archived = after(&events);
    assert_eq!(
        archived.contact.as_ref().unwrap().status,
        ContactStatus::Archived
    );
    assert_eq!(archived.decide(archive()), Ok(vec![]));
    assert_eq!(
        archived.decide(edit(vec![FieldEdit::FirstName(text("D"))], 1)),
        Err(ContactError::Archived)
    );
    let restore = || ContactCommand::Restore {
        by: casey(),
        at: t0(),
    };
    events.extend(events_of(&archived, restore()));
    let restored = after(&events);
    assert_eq!(
        restored.contact.as_ref().unwrap().status,
        ContactStatus::Active
    );
    assert_eq!(restored.decide(restore()), Ok(vec![]));
}

#[test]
fn a_validation_is_recorded_once_per_distinct_result() {
    let report = ValidationReport {
        valid: true,
        issues: vec![ValidationIssue {
            field: "emails".into(),
            code: "email.role".into(),
            severity: Severity::Info,
            message: "a role address".into(),
            suggestion: None,
        }],
        rules_version: 1,
    };
    let record = || ContactCommand::RecordValidation {
        report: report.clone(),
        by: Actor::agent("ContactValidation"),
        at: t0(),
    };
    let mut events = created(1, dana_edits());
    events.extend(events_of(&after(&events), record()));
    let state = after(&events);
    assert_eq!(
        state
            .contact
            .as_ref()
            .unwrap()
            .validation
            .as_ref()
            .unwrap()
            .report,
        report
    );
    assert_eq!(state.decide(record()), Ok(vec![]));
}

// ---------------------------------------------------------------------------------------
// Merge and unmerge

fn primary_edits() -> Vec<FieldEdit> {
    vec![
        FieldEdit::FirstName(text("Dana")),
        FieldEdit::LastName(text("Lee")),
        FieldEdit::Emails(vec![email("dana@acme.io")]),
        FieldEdit::JobTitle(text("VP Sales")),
        FieldEdit::Custom("tier".into(), text("gold")),
    ]
}

fn other_edits() -> Vec<FieldEdit> {
    vec![
        FieldEdit::FirstName(text("Danielle")),
        FieldEdit::LastName(text("Lee")),
        FieldEdit::Emails(vec![email("dana.lee@gmail.com"), email("dana@acme.io")]),
        FieldEdit::Phones(vec![phone("415 555 0100", "+14155550100")]),
        FieldEdit::JobTitle(text("Head of Sales")),
        FieldEdit::CompanyName(text("Acme")),
        FieldEdit::Custom("source".into(), text("webinar")),
    ]
}

#[test]
fn merging_keeps_the_primarys_values_fills_its_empty_fields_and_combines_lists() {
    let primary = after(&created(1, primary_edits())).contact.unwrap().fields;
    let other = after(&created(2, other_edits())).contact.unwrap().fields;
    let merged = merge_fields(&primary, &other, &BTreeMap::new());
    assert_eq!(merged.first_name.as_deref(), Some("Dana"), "primary wins");
    assert_eq!(
        merged.job_title.as_deref(),
        Some("VP Sales"),
        "primary wins"
    );
    assert_eq!(
        merged.company_name.as_deref(),
        Some("Acme"),
        "other fills empty"
    );
    assert_eq!(merged.phones.len(), 1, "other fills empty list");
    assert_eq!(
        merged.emails,
        vec!["dana@acme.io".to_string(), "dana.lee@gmail.com".to_string()],
        "primary's primary email first, then the other's new ones"
    );
    assert_eq!(merged.custom.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(
        merged.custom.get("source").map(String::as_str),
        Some("webinar")
    );
}

#[test]
fn a_per_field_choice_takes_the_other_value_even_over_a_filled_primary() {
    let primary = after(&created(1, primary_edits())).contact.unwrap().fields;
    let other = after(&created(2, other_edits())).contact.unwrap().fields;
    let choices = BTreeMap::from([
        (ContactField::JobTitle, MergeSide::Other),
        (ContactField::Emails, MergeSide::Other),
        (ContactField::Custom("tier".into()), MergeSide::Other),
    ]);
    let merged = merge_fields(&primary, &other, &choices);
    assert_eq!(merged.job_title.as_deref(), Some("Head of Sales"));
    assert_eq!(
        merged.emails[0], "dana.lee@gmail.com",
        "the other's primary first"
    );
    assert_eq!(merged.emails.len(), 2);
    assert_eq!(merged.custom.get("tier"), None, "the other side had none");
}

#[test]
fn last_contacted_at_merges_to_the_later_instant_without_a_choice() {
    let early = t0();
    let late = t0() + Duration::days(3);
    let a = ContactFields {
        last_contacted_at: Some(early),
        ..ContactFields::default()
    };
    let b = ContactFields {
        last_contacted_at: Some(late),
        ..ContactFields::default()
    };
    assert_eq!(
        merge_fields(&a, &b, &BTreeMap::new()).last_contacted_at,
        Some(late)
    );
    assert_eq!(
        merge_fields(&b, &a, &BTreeMap::new()).last_contacted_at,
        Some(late)
    );
    let keep = BTreeMap::from([(ContactField::LastContactedAt, MergeSide::Primary)]);
    assert_eq!(merge_fields(&a, &b, &keep).last_contacted_at, Some(early));
}

/// Runs a merge of contact 2 into contact 1 through both aggregates' commands.
fn merged_pair() -> (Vec<ContactEvent>, Vec<ContactEvent>, Uuid) {
    let merge_id = id(77);
    let choices = BTreeMap::from([(ContactField::JobTitle, MergeSide::Other)]);
    let mut primary = created(1, primary_edits());
    let mut other = created(2, other_edits());
    let other_fields = after(&other).contact.unwrap().fields;
    other.extend(events_of(
        &after(&other),
        ContactCommand::MergeInto(MergeInto {
            primary: id(1),
            merge_id,
            choices: choices.clone(),
            pair_id: Some(id(9)),
            by: casey(),
            at: t0(),
        }),
    ));
    primary.extend(events_of(
        &after(&primary),
        ContactCommand::Absorb(Box::new(Absorb {
            absorbed: id(2),
            merge_id,
            absorbed_fields: other_fields,
            choices,
            pair_id: Some(id(9)),
            by: casey(),
            at: t0(),
        })),
    ));
    (primary, other, merge_id)
}

#[test]
fn a_merge_is_events_on_both_contacts_and_repeating_either_half_changes_nothing() {
    let (primary, other, merge_id) = merged_pair();
    let p = after(&primary).contact.unwrap();
    let o = after(&other).contact.unwrap();
    assert_eq!(o.status, ContactStatus::Merged);
    assert_eq!(o.merged_into.as_ref().unwrap().primary, id(1));
    assert_eq!(p.absorbed.len(), 1);
    assert_eq!(p.fields.job_title.as_deref(), Some("Head of Sales"));
    assert_eq!(p.fields.company_name.as_deref(), Some("Acme"));

    let repeat_into = ContactCommand::MergeInto(MergeInto {
        primary: id(1),
        merge_id,
        choices: BTreeMap::new(),
        pair_id: None,
        by: casey(),
        at: t0(),
    });
    assert_eq!(after(&other).decide(repeat_into), Ok(vec![]));
    let repeat_absorb = ContactCommand::Absorb(Box::new(Absorb {
        absorbed: id(2),
        merge_id,
        absorbed_fields: o.fields.clone(),
        choices: BTreeMap::new(),
        pair_id: None,
        by: casey(),
        at: t0(),
    }));
    assert_eq!(after(&primary).decide(repeat_absorb), Ok(vec![]));
}

#[test]
fn a_merged_contact_refuses_edits_another_merge_and_archiving() {
    let (_, other, _) = merged_pair();
    let state = after(&other);
    assert_eq!(
        state.decide(edit(vec![FieldEdit::FirstName(text("X"))], 1)),
        Err(ContactError::Merged)
    );
    assert_eq!(
        state.decide(ContactCommand::MergeInto(MergeInto {
            primary: id(3),
            merge_id: id(78),
            choices: BTreeMap::new(),
            pair_id: None,
            by: casey(),
            at: t0(),
        })),
        Err(ContactError::Merged)
    );
    assert_eq!(
        state.decide(ContactCommand::Archive {
            reason: None,
            by: casey(),
            at: t0()
        }),
        Err(ContactError::Merged)
    );
}

#[test]
fn a_contact_cannot_be_merged_with_itself() {
    ContactTest::given(created(1, dana_edits()))
        .when(ContactCommand::MergeInto(MergeInto {
            primary: id(1),
            merge_id: id(5),
            choices: BTreeMap::new(),
            pair_id: None,
            by: casey(),
            at: t0(),
        }))
        .then_expect_error(ContactError::MergeWithItself);
}

#[test]
fn unmerging_returns_both_contacts_to_what_they_were_field_by_field() {
    let (mut primary, mut other, merge_id) = merged_pair();
    let primary_before = after(&created(1, primary_edits())).contact.unwrap().fields;
    let other_before = after(&created(2, other_edits())).contact.unwrap().fields;
    let unmerge = || ContactCommand::Unmerge {
        merge_id,
        by: casey(),
        at: t0() + Duration::hours(1),
    };
    let unabsorb = || ContactCommand::Unabsorb {
        merge_id,
        by: casey(),
        at: t0() + Duration::hours(1),
    };
    other.extend(events_of(&after(&other), unmerge()));
    primary.extend(events_of(&after(&primary), unabsorb()));
    let p = after(&primary).contact.unwrap();
    let o = after(&other).contact.unwrap();
    assert_eq!(p.fields, primary_before);
    assert_eq!(o.fields, other_before);
    assert_eq!(o.status, ContactStatus::Active);
    assert!(o.merged_into.is_none());
    assert!(p.absorbed[0].unmerged_at.is_some());
    // Both halves repeat safely.
    assert_eq!(after(&other).decide(unmerge()), Ok(vec![]));
    assert_eq!(after(&primary).decide(unabsorb()), Ok(vec![]));
}

#[test]
fn unmerging_keeps_edits_made_to_the_primary_since_the_merge() {
    let (mut primary, _, merge_id) = merged_pair();
    // After the merge: a new job title, and a third email.
    primary.extend(events_of(
        &after(&primary),
        edit(
            vec![
                FieldEdit::JobTitle(text("CRO")),
                FieldEdit::Emails(vec![
                    email("dana@acme.io"),
                    email("dana.lee@gmail.com"),
                    email("dana@newco.io"),
                ]),
            ],
            30,
        ),
    ));
    primary.extend(events_of(
        &after(&primary),
        ContactCommand::Unabsorb {
            merge_id,
            by: casey(),
            at: t0() + Duration::hours(1),
        },
    ));
    let p = after(&primary).contact.unwrap().fields;
    assert_eq!(p.job_title.as_deref(), Some("CRO"), "the edit since stays");
    assert_eq!(
        p.emails,
        vec!["dana@acme.io".to_string(), "dana@newco.io".to_string()],
        "the merge's address leaves, the later one stays"
    );
    assert_eq!(
        p.company_name, None,
        "a field the merge filled and nobody touched empties"
    );
    assert!(p.phones.is_empty());
    assert_eq!(p.custom.get("source"), None);
    assert_eq!(p.custom.get("tier").map(String::as_str), Some("gold"));
}

#[test]
fn unmerging_what_was_never_merged_is_refused() {
    ContactTest::given(created(1, dana_edits()))
        .when(ContactCommand::Unmerge {
            merge_id: id(5),
            by: casey(),
            at: t0(),
        })
        .then_expect_error(ContactError::NotMerged);
    ContactTest::given(created(1, dana_edits()))
        .when(ContactCommand::Unabsorb {
            merge_id: id(5),
            by: casey(),
            at: t0(),
        })
        .then_expect_error(ContactError::MergeNotFound);
}

#[test]
fn an_unmerged_contact_can_be_merged_again_under_a_new_merge() {
    let (_, mut other, merge_id) = merged_pair();
    other.extend(events_of(
        &after(&other),
        ContactCommand::Unmerge {
            merge_id,
            by: casey(),
            at: t0(),
        },
    ));
    let state = after(&other);
    let again = |merge: u128| {
        ContactCommand::MergeInto(MergeInto {
            primary: id(1),
            merge_id: id(merge),
            choices: BTreeMap::new(),
            pair_id: None,
            by: casey(),
            at: t0(),
        })
    };
    assert_eq!(
        state.decide(again(77)),
        Ok(vec![]),
        "the undone merge does not redo"
    );
    assert_eq!(state.decide(again(78)).map(|e| e.len()), Ok(1));
}

#[test]
fn field_names_read_and_write_as_the_api_spells_them() {
    for field in ContactField::NAMED {
        assert_eq!(ContactField::parse(&field.to_string()).as_ref(), Ok(field));
    }
    assert_eq!(
        ContactField::parse("custom.tier"),
        Ok(ContactField::Custom("tier".into()))
    );
    assert!(ContactField::parse("custom.Tier").is_err());
    assert!(ContactField::parse("nickname").is_err());
    let json = serde_json::to_value(BTreeMap::from([(
        ContactField::Custom("tier".into()),
        MergeSide::Other,
    )]))
    .unwrap();
    assert_eq!(json, json!({"custom.tier": "other"}));
}
