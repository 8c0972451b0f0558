//! The state of a contact: what the API shows and audit replay reconstructs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::{ContactField, ContactFields, FieldChange};
use super::merge::MergeSide;
use super::types::{ContactSource, ContactStatus};
use crate::hygiene::ValidationReport;
use crate::kernel::Actor;

/// The contact aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub contact: Option<ContactView>,
}

/// One contact, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactView {
    pub id: Uuid,
    pub status: ContactStatus,
    pub fields: ContactFields,
    pub source: ContactSource,
    /// The CSV import that created it.
    pub import_id: Option<Uuid>,
    /// Demo data from `caseyos demo seed`.
    #[serde(default)]
    pub demo: bool,
    /// The last validation's result, when it has been validated.
    pub validation: Option<Validation>,
    /// Set while it is merged into another contact.
    pub merged_into: Option<MergedInto>,
    /// The contacts it absorbed (unmerged ones too, with when).
    pub absorbed: Vec<Absorbed>,
    /// Merges of this contact into others that were undone.
    #[serde(default)]
    pub unmerged: Vec<Uuid>,
    pub archived: Option<Archived>,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Validation {
    pub report: ValidationReport,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MergedInto {
    pub primary: Uuid,
    pub merge_id: Uuid,
    #[cfg_attr(feature = "server", schema(value_type = BTreeMap<String, MergeSide>))]
    pub choices: BTreeMap<ContactField, MergeSide>,
    pub pair_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A contact this one absorbed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Absorbed {
    pub contact: Uuid,
    pub merge_id: Uuid,
    /// What the merge changed here (what an unmerge undoes where nobody edited since).
    pub changes: Vec<FieldChange>,
    pub pair_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
    /// When the merge was undone.
    pub unmerged_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Archived {
    pub reason: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}
