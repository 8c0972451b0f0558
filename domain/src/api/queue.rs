//! Today's Moves: proposing, deciding, listing and counting moves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::errors::ErrorBody;
use crate::kernel::present;
use crate::queue::aps::ApsOverrides;
use crate::queue::{QueueDomain, QueueItemView, SnoozePreset, Source, Target};

/// Propose a move for Today's Moves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposeQueueItemRequest {
    /// Derived from the action type and target when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// One of the action types; see `ActionType`. Case and `-`/`_` are normalised.
    pub action_type: String,
    /// Defaults from the action type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<QueueDomain>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::object"
    )]
    pub target: Option<Target>,
    /// Shorthand for `target.contact.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// Shorthand for `target.deal.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<String>,
    /// Shorthand for `target.company.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// A JSON object, e.g. a draft email's `to`, `subject`, `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub payload: Option<Value>,
    /// Defaults to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Only `{"kind": "manual"}`, the default: people propose manual moves. Moves from
    /// agent runs and signals are proposed by CaseyOS itself; a request claiming another
    /// source is refused with 422 `queue.source_not_allowed` naming `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(schema_with = manual_source_schema))]
    pub source: Option<Source>,
    /// Overrides of the action type's default APS inputs, each clamped to [0, 1]
    /// (also accepted as `aps_inputs`).
    #[serde(
        default,
        alias = "aps_inputs",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::object"
    )]
    pub aps: Option<ApsOverrides>,
    /// Why this move matters (also accepted as `reasoning`).
    #[serde(default, alias = "reasoning", skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

/// The only source a request may give: `{"kind": "manual"}`.
#[cfg(feature = "server")]
fn manual_source_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};

    ObjectBuilder::new()
        .property(
            "kind",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["manual"])),
        )
        .required("kind")
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ))
        .description(Some(
            "Where the move came from: only `manual` (people propose manual moves).",
        ))
        .build()
}

/// Change an open move. Absent fields stay; `null` clears `due_by` and `rationale`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EditQueueItemRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub payload: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<DateTime<Utc>>))]
    pub due_by: Option<Option<DateTime<Utc>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub rationale: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::object"
    )]
    pub aps: Option<ApsOverrides>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveQueueItemRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectQueueItemRequest {
    /// Why the move is rejected (required).
    pub reason: String,
}

/// Snooze with a preset or an explicit time (exactly one of them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SnoozeQueueItemRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<SnoozePreset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// IANA time zone for `tomorrow` / `next_monday`; defaults to the owner's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Approve or reject several moves at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkDecisionRequest {
    /// 1–100 distinct item ids.
    pub ids: Vec<Uuid>,
    /// Required for bulk reject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Optional note for bulk approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A command's result: the item after it, and a token to read your own write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueItemResponse {
    pub item: QueueItemView,
    /// The approved move's execution (`null` until it is requested: before approval, and
    /// in a command's answer). The SPA does not read it yet.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(default)]
    pub execution: Option<crate::executions::ExecutionView>,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkDecisionResponse {
    /// One result per requested id, in request order.
    pub results: Vec<BulkItemResult>,
    /// Covers every successful decision in this batch.
    pub consistency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkItemResult {
    pub id: Uuid,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<QueueItemView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A page of queue items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueListResponse {
    pub items: Vec<QueueItemView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Items matching the filters, over all pages.
    pub total: i64,
}

/// Counts by status, for the caller's scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueCountsResponse {
    pub pending: i64,
    pub snoozed: i64,
    pub approved: i64,
    pub rejected: i64,
    pub expired: i64,
    pub total: i64,
}

/// The numbers of the quick-stats bar. Demo moves (`caseyos demo seed`, marked `demo` on
/// the move) count as open moves, but decisions on them are not the operator's work: the
/// decision counts and the approval rate leave them out, and `demo_decided_today` reports
/// them apart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueStatsResponse {
    /// Open moves in Today's Moves now (pending and due snoozes), demo moves included.
    pub pending: i64,
    /// How many of `pending` are demo moves.
    #[serde(default)]
    pub demo_pending: i64,
    /// Snoozed moves not yet due.
    pub snoozed: i64,
    /// Real (not demo) moves approved or rejected since midnight in the caller's time zone.
    pub decided_today: i64,
    pub approved_today: i64,
    pub rejected_today: i64,
    /// Demo moves approved or rejected since midnight in the caller's time zone.
    #[serde(default)]
    pub demo_decided_today: i64,
    /// Approved ÷ decided real moves over the last 7 days, in whole percent; none without
    /// decisions.
    pub approval_rate_7d: Option<i64>,
}
