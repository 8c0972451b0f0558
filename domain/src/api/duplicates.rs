//! Duplicate review: the queue of pairs, one pair side by side, merge (with a dry run),
//! not a duplicate, ignore, and unmerge.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contacts::{ContactFields, ContactView, FieldChange, MergeSide};
use crate::crm_merges::CrmMergeView;
use crate::duplicates::{DuplicatePairView, MatchReason, PairStatus};

/// One of a pair's contacts, as the review queue shows it (from the contacts read model;
/// `null` fields when it has none, or the contact is not in the read model yet).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PairContact {
    pub id: Uuid,
    /// "First Last".
    pub name: Option<String>,
    pub primary_email: Option<String>,
    pub company_name: Option<String>,
    /// `active`, `archived` or `merged`.
    pub status: Option<String>,
}

/// A pair in the review queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DuplicatePairSummary {
    pub id: Uuid,
    pub status: PairStatus,
    /// 0–1, higher is likelier the same person.
    pub score: f64,
    pub reasons: Vec<MatchReason>,
    pub criteria_version: u32,
    pub detected_at: DateTime<Utc>,
    pub found_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub merge_id: Option<Uuid>,
    pub primary_id: Option<Uuid>,
    /// The contact with the lower id.
    pub a: PairContact,
    pub b: PairContact,
}

/// A page of the review queue (the queue's list shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DuplicatePairListResponse {
    pub items: Vec<DuplicatePairSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Pairs matching the filters, all pages together.
    pub total: i64,
}

/// What a merge makes of the primary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MergePreview {
    /// The contact that stays.
    pub primary: Uuid,
    /// The contact it absorbs.
    pub secondary: Uuid,
    /// The primary's fields after the merge.
    pub merged: ContactFields,
    /// The primary's fields the merge changes, old and new.
    pub changes: Vec<FieldChange>,
}

/// One pair side by side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DuplicatePairDetailResponse {
    pub pair: DuplicatePairView,
    /// Both full records (`null` when a contact does not exist any more).
    pub a: Option<ContactView>,
    pub b: Option<ContactView>,
    /// The fields whose values differ between the two (`first_name`, …, `custom.<key>`).
    pub differing_fields: Vec<String>,
    /// The default merge (primary wins, the other fills empty fields — HubSpot's rule)
    /// into the contact created first; `null` when either contact cannot be merged.
    pub preview: Option<MergePreview>,
    /// The merge's push to HubSpot, once merged: requested, started, succeeded, failed or
    /// skipped (`connector.not_connected` when HubSpot is not connected).
    pub crm: Option<CrmMergeView>,
    /// HubSpot merges are permanent; said before anyone confirms a merge.
    pub crm_note: String,
}

/// Merge a pair: `{"primary": "<contact id>", "fields": {"<field>": "<contact id whose
/// value wins>"}, "dry_run": false}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergePairRequest {
    /// The contact that stays: one of the pair's two.
    pub primary: Uuid,
    /// Per-field choices: a field (`first_name`, `last_name`, `emails`, `phones`,
    /// `job_title`, `company_name`, `company_domain`, `lifecycle_stage`, `owner`, `crm_id`,
    /// `last_contacted_at`, `custom.<key>`) and the id of the contact whose value wins.
    /// Fields not named: the primary's value wins and the other fills empty fields; emails
    /// and phones are combined; `last_contacted_at` is the later of the two.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "server", schema(value_type = BTreeMap<String, Uuid>))]
    pub fields: BTreeMap<String, Uuid>,
    /// `true`: answer the merged record and the changes, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A merge's answer: for a dry run what it would do; otherwise what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MergePairResponse {
    pub dry_run: bool,
    /// The merge's id (`null` for a dry run): unmerge names it, the HubSpot push is keyed
    /// by it (`GET /api/audit/crm_merge/{merge_id}`).
    pub merge_id: Option<Uuid>,
    pub pair_id: Uuid,
    /// The primary after the merge (as it is, for a dry run).
    pub primary: ContactView,
    /// The absorbed contact after the merge (status `merged`), as it is for a dry run.
    pub secondary: ContactView,
    /// The primary's fields after the merge.
    pub merged: ContactFields,
    /// The primary's fields the merge changes, old and new.
    pub changes: Vec<FieldChange>,
    /// The per-field choices it used.
    #[cfg_attr(feature = "server", schema(value_type = BTreeMap<String, MergeSide>))]
    pub choices: BTreeMap<String, MergeSide>,
    pub pair: Option<DuplicatePairView>,
    /// HubSpot merges are permanent: the merge is pushed to HubSpot once, when HubSpot is
    /// connected and both contacts have a HubSpot id.
    pub crm_note: String,
    /// For `?after=` on reads (`null` for a dry run).
    pub consistency: Option<String>,
}

/// A decision on a pair (not a duplicate, ignore).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DuplicatePairResponse {
    pub pair: DuplicatePairView,
    pub consistency: String,
}

/// Undo a merge; optionally re-create the absorbed contact in HubSpot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnmergeContactRequest {
    /// HubSpot merges are permanent. `true`: create the absorbed contact in HubSpot again,
    /// as a new record with a new id (once, after HubSpot merged it). Default `false`:
    /// HubSpot keeps the merged record as it is.
    #[serde(default)]
    pub recreate_in_crm: bool,
}

/// What an unmerge did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UnmergeContactResponse {
    pub merge_id: Uuid,
    /// The absorbed contact, active again with its own fields.
    pub absorbed: ContactView,
    /// The primary, with the values the merge set taken back where nobody edited them
    /// since.
    pub primary: ContactView,
    pub pair: Option<DuplicatePairView>,
    /// Whether the absorbed contact will be re-created in HubSpot.
    pub recreate_in_crm: bool,
    /// What happens in HubSpot, in plain words: its merges are permanent.
    pub crm_note: String,
    pub consistency: String,
}
