//! Contact events: a public contract. Never change a meaning; add a version and an
//! upcaster.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::{ContactField, ContactFields, FieldChange};
use super::merge::MergeSide;
use super::types::{ChangeSource, ContactSource};
use crate::hygiene::ValidationReport;
use crate::kernel::Actor;

/// The version every contact event is written with.
pub const CONTACT_EVENT_VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ContactEvent {
    ContactCreated(Box<ContactCreated>),
    ContactFieldsChanged(ContactFieldsChanged),
    ContactValidated(ContactValidated),
    ContactMergedInto(ContactMergedInto),
    ContactAbsorbed(Box<ContactAbsorbed>),
    ContactUnmerged(ContactUnmerged),
    ContactUnabsorbed(ContactUnabsorbed),
    ContactArchived(ContactArchived),
    ContactRestored(ContactRestored),
}

impl ContactEvent {
    /// The stored type name.
    pub const fn name(&self) -> &'static str {
        match self {
            ContactEvent::ContactCreated(_) => "ContactCreated",
            ContactEvent::ContactFieldsChanged(_) => "ContactFieldsChanged",
            ContactEvent::ContactValidated(_) => "ContactValidated",
            ContactEvent::ContactMergedInto(_) => "ContactMergedInto",
            ContactEvent::ContactAbsorbed(_) => "ContactAbsorbed",
            ContactEvent::ContactUnmerged(_) => "ContactUnmerged",
            ContactEvent::ContactUnabsorbed(_) => "ContactUnabsorbed",
            ContactEvent::ContactArchived(_) => "ContactArchived",
            ContactEvent::ContactRestored(_) => "ContactRestored",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactCreated {
    pub contact_id: Uuid,
    pub fields: ContactFields,
    pub source: ContactSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub demo: bool,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Fields that changed, each with its old and new value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactFieldsChanged {
    pub changes: Vec<FieldChange>,
    pub source: ChangeSource,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactValidated {
    pub report: ValidationReport,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// This contact was absorbed by `primary`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactMergedInto {
    pub primary: Uuid,
    pub merge_id: Uuid,
    pub choices: BTreeMap<ContactField, MergeSide>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// This contact absorbed `absorbed`: its fields changed as `changes` say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactAbsorbed {
    pub absorbed: Uuid,
    pub merge_id: Uuid,
    pub choices: BTreeMap<ContactField, MergeSide>,
    /// The absorbed contact's fields at the merge.
    pub absorbed_fields: ContactFields,
    pub changes: Vec<FieldChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// The merge into `primary` was undone: this contact is active again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactUnmerged {
    pub primary: Uuid,
    pub merge_id: Uuid,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// The merge that absorbed `absorbed` was undone here: `changes` restore the fields the
/// merge set and nobody edited since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactUnabsorbed {
    pub absorbed: Uuid,
    pub merge_id: Uuid,
    pub changes: Vec<FieldChange>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactArchived {
    pub reason: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactRestored {
    pub by: Actor,
    pub at: DateTime<Utc>,
}
