//! What can be asked of a contact. Commands carry parsed values: `decide` checks rules of
//! state, never the shape of strings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fields::{ContactField, ContactFields};
use super::merge::MergeSide;
use super::types::{ChangeSource, CompanyDomain, ContactSource, LifecycleStage, Phone};
use crate::hygiene::ValidationReport;
use crate::kernel::{Actor, CrmId, EmailAddress, Text, UserName};

#[derive(Clone, Debug, PartialEq)]
pub enum ContactCommand {
    Create(Box<CreateContact>),
    Edit(EditContact),
    /// A validation's result (the ContactValidation agent's).
    RecordValidation {
        report: ValidationReport,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// This contact is absorbed by `primary` (the first half of a merge).
    MergeInto(MergeInto),
    /// This contact absorbs another (the second half of a merge).
    Absorb(Box<Absorb>),
    /// Undo `merge_id` on the absorbed contact: it is active again.
    Unmerge {
        merge_id: Uuid,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Undo `merge_id` on the primary: its pre-merge values come back where nobody edited
    /// them since.
    Unabsorb {
        merge_id: Uuid,
        by: Actor,
        at: DateTime<Utc>,
    },
    Archive {
        reason: Option<Text>,
        by: Actor,
        at: DateTime<Utc>,
    },
    Restore {
        by: Actor,
        at: DateTime<Utc>,
    },
}

/// A parsed value for one field.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldEdit {
    FirstName(Option<Text>),
    LastName(Option<Text>),
    /// The first is the primary address.
    Emails(Vec<EmailAddress>),
    Phones(Vec<Phone>),
    JobTitle(Option<Text>),
    CompanyName(Option<Text>),
    CompanyDomain(Option<CompanyDomain>),
    LifecycleStage(Option<LifecycleStage>),
    Owner(Option<UserName>),
    CrmId(Option<CrmId>),
    LastContactedAt(Option<DateTime<Utc>>),
    /// A custom property (its key already checked by [`ContactField::custom_key_ok`]);
    /// `None` removes it.
    Custom(String, Option<Text>),
}

impl FieldEdit {
    pub fn field(&self) -> ContactField {
        match self {
            FieldEdit::FirstName(_) => ContactField::FirstName,
            FieldEdit::LastName(_) => ContactField::LastName,
            FieldEdit::Emails(_) => ContactField::Emails,
            FieldEdit::Phones(_) => ContactField::Phones,
            FieldEdit::JobTitle(_) => ContactField::JobTitle,
            FieldEdit::CompanyName(_) => ContactField::CompanyName,
            FieldEdit::CompanyDomain(_) => ContactField::CompanyDomain,
            FieldEdit::LifecycleStage(_) => ContactField::LifecycleStage,
            FieldEdit::Owner(_) => ContactField::Owner,
            FieldEdit::CrmId(_) => ContactField::CrmId,
            FieldEdit::LastContactedAt(_) => ContactField::LastContactedAt,
            FieldEdit::Custom(key, _) => ContactField::Custom(key.clone()),
        }
    }

    /// Writes this value into `fields`. Emails and phones lose repeats (the first stays).
    pub fn apply_to(self, fields: &mut ContactFields) {
        let text = |t: Option<Text>| t.map(Text::into_string);
        match self {
            FieldEdit::FirstName(v) => fields.first_name = text(v),
            FieldEdit::LastName(v) => fields.last_name = text(v),
            FieldEdit::Emails(v) => {
                let mut emails: Vec<String> = Vec::with_capacity(v.len());
                for email in v {
                    if !emails.iter().any(|e| e == email.as_str()) {
                        emails.push(email.as_str().to_string());
                    }
                }
                fields.emails = emails;
            }
            FieldEdit::Phones(v) => {
                let mut phones: Vec<Phone> = Vec::with_capacity(v.len());
                for phone in v {
                    let same = |p: &Phone| match (&p.e164, &phone.e164) {
                        (Some(a), Some(b)) => a == b,
                        _ => p.raw == phone.raw,
                    };
                    if !phones.iter().any(same) {
                        phones.push(phone);
                    }
                }
                fields.phones = phones;
            }
            FieldEdit::JobTitle(v) => fields.job_title = text(v),
            FieldEdit::CompanyName(v) => fields.company_name = text(v),
            FieldEdit::CompanyDomain(v) => {
                fields.company_domain = v.map(|d| d.as_str().to_string())
            }
            FieldEdit::LifecycleStage(v) => fields.lifecycle_stage = v,
            FieldEdit::Owner(v) => fields.owner = v.map(UserName::into_string),
            FieldEdit::CrmId(v) => fields.crm_id = v.map(|id| id.as_str().to_string()),
            FieldEdit::LastContactedAt(v) => fields.last_contacted_at = v,
            FieldEdit::Custom(key, Some(value)) => {
                fields.custom.insert(key, value.into_string());
            }
            FieldEdit::Custom(key, None) => {
                fields.custom.remove(&key);
            }
        }
    }
}

/// The fields these edits give a new contact.
pub fn fields_of(edits: Vec<FieldEdit>) -> ContactFields {
    let mut fields = ContactFields::default();
    for edit in edits {
        edit.apply_to(&mut fields);
    }
    fields
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateContact {
    pub id: Uuid,
    pub fields: Vec<FieldEdit>,
    pub source: ContactSource,
    /// The CSV import it came from.
    pub import_id: Option<Uuid>,
    /// Demo data from `caseyos demo seed`.
    pub demo: bool,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EditContact {
    /// Only these fields change; the others stay as they are.
    pub fields: Vec<FieldEdit>,
    pub source: ChangeSource,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MergeInto {
    pub primary: Uuid,
    pub merge_id: Uuid,
    /// Per-field choices (fields not named follow the default rule, see `merge_fields`).
    pub choices: BTreeMap<ContactField, MergeSide>,
    /// The duplicate pair the merge resolved, when it came from review.
    pub pair_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Absorb {
    pub absorbed: Uuid,
    pub merge_id: Uuid,
    /// The absorbed contact's fields when it was merged (as its `MergedInto` left it).
    pub absorbed_fields: ContactFields,
    pub choices: BTreeMap<ContactField, MergeSide>,
    pub pair_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}
