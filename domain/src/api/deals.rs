//! Pipelines, deals and quotas: their requests, answers and lists.
//!
//! Lists have the queue's shape (`items`, `next_cursor`, `total`); money is
//! `{"minor": 5000000, "currency": "USD"}` everywhere.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::deals::{ActivityKind, DealHealth, DealView, RiskFlag, RiskKind};
use crate::kernel::Money;
use crate::pipelines::{ForecastChoice, PipelineView, Stage};
use crate::quotas::QuotaView;

/// Every pipeline, in the order they were defined (the first start's `default` first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PipelineListResponse {
    pub items: Vec<PipelineView>,
    /// Always absent: every pipeline fits one page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// Create a deal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "name": "Acme renewal", "pipeline": "default", "stage": "qualifiedtobuy",
    "amount": {"minor": 5000000, "currency": "USD"}, "close_date": "2026-12-15", "owner": "dana"
})))]
#[serde(deny_unknown_fields)]
pub struct CreateDealRequest {
    pub name: String,
    /// A pipeline's id (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// An open stage of the pipeline, by id (default: its first open stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The expected close date (a date, `YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_date: Option<NaiveDate>,
    /// The user who owns the deal (default: the caller; operators create their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Move a deal to a stage of its pipeline. A won stage wins it; a lost stage loses it and
/// needs `lost_reason`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"stage": "presentationscheduled"})))]
#[serde(deny_unknown_fields)]
pub struct MoveDealRequest {
    pub stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_reason: Option<String>,
}

/// Change the amount; `null` clears it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"amount": {"minor": 4200000, "currency": "USD"}})))]
#[serde(deny_unknown_fields)]
pub struct DealAmountRequest {
    pub amount: Option<Money>,
}

/// Change the close date; `null` clears it. A later date counts as a push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"close_date": "2027-01-31"})))]
#[serde(deny_unknown_fields)]
pub struct DealCloseDateRequest {
    pub close_date: Option<NaiveDate>,
}

/// Give the deal to another owner (admins only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"owner": "sam"})))]
#[serde(deny_unknown_fields)]
pub struct DealOwnerRequest {
    pub owner: String,
}

/// Log an activity: what kind, and when it happened (a past instant is data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "id": "0192f1d2-0000-7000-8000-000000000001", "kind": "call",
    "happened_at": "2026-11-27T15:30:00Z", "summary": "Walked through pricing with the CFO"
})))]
#[serde(deny_unknown_fields)]
pub struct LogDealActivityRequest {
    /// The activity's id, chosen by the caller so that sending it again records nothing
    /// (default: a new id, so a retry without `id` logs it twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub kind: ActivityKind,
    /// When it happened; not in the future.
    pub happened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Set the next step; `null` or blank clears it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"next_step": "Send the order form by Friday"})))]
#[serde(deny_unknown_fields)]
pub struct DealNextStepRequest {
    pub next_step: Option<String>,
}

/// Choose the forecast category (sticky through stage changes), or `auto` to derive it
/// from the stage again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"category": "commit"})))]
#[serde(deny_unknown_fields)]
pub struct DealForecastCategoryRequest {
    pub category: ForecastChoice,
}

/// Associate contacts (by contact id) with the deal; ones already associated are skipped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"contacts": ["0192f1d2-0000-7000-8000-0000000000aa"]})))]
#[serde(deny_unknown_fields)]
pub struct DealContactsRequest {
    pub contacts: Vec<Uuid>,
}

/// Win the deal (moves it to its pipeline's won stage).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WinDealRequest {}

/// Lose the deal, with a reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({"reason": "Chose a competitor on price"})))]
#[serde(deny_unknown_fields)]
pub struct LoseDealRequest {
    pub reason: String,
}

/// Reopen a won or lost deal, into `stage` or the open stage it closed from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReopenDealRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// A deal after a command, and a token to read your own write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DealResponse {
    pub deal: DealView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// One deal with what explains it: the health score's factors and the risk flags with
/// their evidence, computed at `as_of`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DealDetailResponse {
    pub deal: DealView,
    pub health: DealHealth,
    pub risks: Vec<RiskFlag>,
    /// The instant the answer stands for: now, or the `as_of` asked for.
    pub as_of: DateTime<Utc>,
    /// The event log position the deal was folded to (`0`: before its first event).
    pub position: i64,
}

/// A deal in a list or on the board: the deal, its score and the kinds of its flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DealListItem {
    pub deal: DealView,
    /// The health score 0–100; absent for a closed deal (not scored).
    pub score: Option<u8>,
    pub risks: Vec<RiskKind>,
}

/// A page of deals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DealListResponse {
    pub items: Vec<DealListItem>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Deals matching the filters, over all pages.
    pub total: i64,
}

/// Set an owner's quota for a period (admins only); setting it again replaces it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "owner": "dana", "period": "2026-Q4", "amount": {"minor": 25000000, "currency": "USD"}
})))]
#[serde(deny_unknown_fields)]
pub struct SetQuotaRequest {
    pub owner: String,
    /// `YYYY-MM` or `YYYY-QN` (a fiscal quarter).
    pub period: String,
    pub amount: Money,
}

/// A quota after it was set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuotaResponse {
    pub quota: QuotaView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// Quotas, by period then owner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuotaListResponse {
    pub items: Vec<QuotaView>,
    /// Always absent: the quotas asked for fit one page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// A pipeline after a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PipelineResponse {
    pub pipeline: PipelineView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// Define a pipeline (admins): its id, label and ordered stages. Stage ids are distinct;
/// at least one stage is open, one won (probability 100) and one lost (probability 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DefinePipelineRequest {
    /// The pipeline's id (HubSpot's, or one of your own: `renewals`).
    pub id: String,
    pub label: String,
    pub stages: Vec<Stage>,
}

/// Replace a pipeline's label and stages (admins); the same rules as defining one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePipelineRequest {
    pub label: String,
    pub stages: Vec<Stage>,
}
