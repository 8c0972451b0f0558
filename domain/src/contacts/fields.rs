//! A contact's fields, addressed one at a time: what edits, merges and unmerges change,
//! and what the per-field change events name.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::types::{LifecycleStage, Phone};

/// Every field of a contact, as stored in its events and shown by the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Lower-cased addresses; the first is the primary.
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub job_title: Option<String>,
    pub company_name: Option<String>,
    /// `acme.com`.
    pub company_domain: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    /// The user who owns the relationship.
    pub owner: Option<String>,
    /// The record's id in the CRM (HubSpot), when it has one.
    pub crm_id: Option<String>,
    /// When someone last contacted this person (an instant).
    pub last_contacted_at: Option<DateTime<Utc>>,
    /// Custom properties: `snake_case` keys, text values.
    pub custom: BTreeMap<String, String>,
}

/// One field of a contact: a named field, or `custom.<key>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ContactField {
    FirstName,
    LastName,
    Emails,
    Phones,
    JobTitle,
    CompanyName,
    CompanyDomain,
    LifecycleStage,
    Owner,
    CrmId,
    LastContactedAt,
    Custom(String),
}

impl ContactField {
    /// The named fields, in display order.
    pub const NAMED: &'static [ContactField] = &[
        ContactField::FirstName,
        ContactField::LastName,
        ContactField::Emails,
        ContactField::Phones,
        ContactField::JobTitle,
        ContactField::CompanyName,
        ContactField::CompanyDomain,
        ContactField::LifecycleStage,
        ContactField::Owner,
        ContactField::CrmId,
        ContactField::LastContactedAt,
    ];

    /// What a custom property's key may be.
    pub const CUSTOM_KEY_PATTERN: &'static str = "^[a-z0-9_]{1,64}$";

    pub fn name(&self) -> &str {
        match self {
            ContactField::FirstName => "first_name",
            ContactField::LastName => "last_name",
            ContactField::Emails => "emails",
            ContactField::Phones => "phones",
            ContactField::JobTitle => "job_title",
            ContactField::CompanyName => "company_name",
            ContactField::CompanyDomain => "company_domain",
            ContactField::LifecycleStage => "lifecycle_stage",
            ContactField::Owner => "owner",
            ContactField::CrmId => "crm_id",
            ContactField::LastContactedAt => "last_contacted_at",
            ContactField::Custom(_) => "custom",
        }
    }

    /// Whether a custom property key is acceptable (`^[a-z0-9_]{1,64}$`).
    pub fn custom_key_ok(key: &str) -> bool {
        (1..=64).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }

    /// The field named `raw`: `first_name`, …, or `custom.<key>`.
    pub fn parse(raw: &str) -> Result<ContactField, String> {
        if let Some(key) = raw.strip_prefix("custom.") {
            return if ContactField::custom_key_ok(key) {
                Ok(ContactField::Custom(key.to_string()))
            } else {
                Err(format!(
                    "custom property keys are 1–64 of a–z, 0–9 and _ (got {key:?})"
                ))
            };
        }
        ContactField::NAMED
            .iter()
            .find(|f| f.name() == raw)
            .cloned()
            .ok_or_else(|| format!("{raw:?} is not a contact field"))
    }

    /// Whether the field holds a list (emails, phones), which merges combine.
    pub fn is_list(&self) -> bool {
        matches!(self, ContactField::Emails | ContactField::Phones)
    }
}

impl fmt::Display for ContactField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactField::Custom(key) => write!(f, "custom.{key}"),
            named => f.write_str(named.name()),
        }
    }
}

impl From<ContactField> for String {
    fn from(field: ContactField) -> String {
        field.to_string()
    }
}

impl TryFrom<String> for ContactField {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        ContactField::parse(&raw)
    }
}

/// One field's change: its value before and after, as JSON (`null` when empty).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// `first_name`, …, or `custom.<key>`.
    #[cfg_attr(feature = "server", schema(value_type = String, example = "job_title"))]
    pub field: ContactField,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub old: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub new: Value,
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn read<T: serde::de::DeserializeOwned + Default>(value: Value) -> T {
    // Values come from events this code wrote; one that no longer reads is left empty.
    serde_json::from_value(value).unwrap_or_default()
}

impl ContactFields {
    /// The field's value as JSON: `null` for an empty optional field, `[]` for an empty list.
    pub fn get(&self, field: &ContactField) -> Value {
        match field {
            ContactField::FirstName => json(&self.first_name),
            ContactField::LastName => json(&self.last_name),
            ContactField::Emails => json(&self.emails),
            ContactField::Phones => json(&self.phones),
            ContactField::JobTitle => json(&self.job_title),
            ContactField::CompanyName => json(&self.company_name),
            ContactField::CompanyDomain => json(&self.company_domain),
            ContactField::LifecycleStage => json(&self.lifecycle_stage),
            ContactField::Owner => json(&self.owner),
            ContactField::CrmId => json(&self.crm_id),
            ContactField::LastContactedAt => json(&self.last_contacted_at),
            ContactField::Custom(key) => json(&self.custom.get(key)),
        }
    }

    /// Sets the field from a value [`ContactFields::get`] produced.
    pub fn set(&mut self, field: &ContactField, value: Value) {
        match field {
            ContactField::FirstName => self.first_name = read(value),
            ContactField::LastName => self.last_name = read(value),
            ContactField::Emails => self.emails = read(value),
            ContactField::Phones => self.phones = read(value),
            ContactField::JobTitle => self.job_title = read(value),
            ContactField::CompanyName => self.company_name = read(value),
            ContactField::CompanyDomain => self.company_domain = read(value),
            ContactField::LifecycleStage => self.lifecycle_stage = read(value),
            ContactField::Owner => self.owner = read(value),
            ContactField::CrmId => self.crm_id = read(value),
            ContactField::LastContactedAt => self.last_contacted_at = read(value),
            ContactField::Custom(key) => match read::<Option<String>>(value) {
                Some(text) => {
                    self.custom.insert(key.clone(), text);
                }
                None => {
                    self.custom.remove(key);
                }
            },
        }
    }

    /// Whether the field is empty (no value, an empty list).
    pub fn is_empty(&self, field: &ContactField) -> bool {
        match self.get(field) {
            Value::Null => true,
            Value::Array(items) => items.is_empty(),
            Value::String(text) => text.is_empty(),
            _ => false,
        }
    }

    /// Every field either of these contacts has: the named ones, then custom keys in order.
    pub fn fields_with(&self, other: &ContactFields) -> Vec<ContactField> {
        let mut fields = ContactField::NAMED.to_vec();
        let mut keys: Vec<&String> = self.custom.keys().chain(other.custom.keys()).collect();
        keys.sort();
        keys.dedup();
        fields.extend(keys.into_iter().map(|k| ContactField::Custom(k.clone())));
        fields
    }

    /// The primary email address.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }

    /// "First Last", or whichever part there is.
    pub fn display_name(&self) -> Option<String> {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Applies changes in order.
    pub fn apply(&mut self, changes: &[FieldChange]) {
        for change in changes {
            self.set(&change.field, change.new.clone());
        }
    }
}

/// The changes that turn `before` into `after`, field by field, in field order.
pub fn diff(before: &ContactFields, after: &ContactFields) -> Vec<FieldChange> {
    before
        .fields_with(after)
        .into_iter()
        .filter_map(|field| {
            let old = before.get(&field);
            let new = after.get(&field);
            (old != new).then_some(FieldChange { field, old, new })
        })
        .collect()
}
