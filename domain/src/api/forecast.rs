//! The forecast of a period and its change waterfall between two instants.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::deals::DealStatus;
use crate::forecast::{
    Bucket, DateRange, ForecastConfig, ForecastRow, MovementKind, OwnerRow, Period, WaterfallScope,
};
use crate::kernel::{Actor, Money};

/// A deal a forecast or waterfall names, with what a reader needs to recognise it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ForecastDealRef {
    pub id: Uuid,
    pub name: String,
    pub owner: String,
    pub stage: String,
    pub status: DealStatus,
    pub amount: Option<Money>,
    pub close_date: Option<NaiveDate>,
}

/// The forecast of one period: per owner and in total, closed won, commit, best case,
/// pipeline, omitted, weighted (Σ amount × stage probability / 100), quota, attainment and
/// coverage. Every number lists its deals (`deals` names them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ForecastResponse {
    /// `2026-11` or `2026-Q4`.
    #[cfg_attr(feature = "server", schema(value_type = String, example = "2026-Q4"))]
    pub period: Period,
    pub range: DateRange,
    /// The instant the forecast stands for: now, or the `as_of` asked for.
    pub as_of: DateTime<Utc>,
    /// The event log position it was computed at: every event up to it, none after.
    pub position: i64,
    pub config: ForecastConfig,
    pub total: ForecastRow,
    /// One row per owner with a deal in the period or a quota for it, by owner name.
    pub owners: Vec<OwnerRow>,
    /// Owners with deals in the period but no quota for it.
    pub quota_missing_for: Vec<String>,
    /// Deals in the period without an amount (counted with 0).
    pub without_amount: Vec<Uuid>,
    /// Deals in the period in another currency (in no number).
    pub other_currency: Vec<Uuid>,
    /// Open deals without a close date (in no period).
    pub without_close_date: Vec<Uuid>,
    /// Every deal named above.
    pub deals: Vec<ForecastDealRef>,
}

/// One event a waterfall row was computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChangeEvent {
    /// Its position in the event log (`GET /api/audit/deal/{deal}` shows it in full).
    pub position: i64,
    pub deal: Uuid,
    /// The stored event type (`DealStageChanged`).
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
}

/// One deal of a waterfall row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChangedDeal {
    pub deal: Uuid,
    /// What it counted for at `from` (0 when it did not count).
    pub start: Money,
    /// What it counts for at `to`.
    pub end: Money,
    /// end − start.
    pub change: Money,
    /// The log positions of its events between the instants (in `events`).
    pub events: Vec<i64>,
}

/// One row of the waterfall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChangeRow {
    pub kind: MovementKind,
    /// Σ of its deals' changes.
    pub change: Money,
    pub deals: Vec<ChangedDeal>,
}

/// How the forecast moved between two instants, from events, in Gong's vocabulary:
/// `start.total + Σ movements[].change = end.total`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ForecastChangesResponse {
    #[cfg_attr(feature = "server", schema(value_type = String, example = "2026-Q4"))]
    pub period: Period,
    pub range: DateRange,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The log positions the two instants stand at.
    pub from_position: i64,
    pub to_position: i64,
    pub scope: WaterfallScope,
    pub config: ForecastConfig,
    pub start: Bucket,
    /// In the order of `kind`'s values; only rows with deals.
    pub movements: Vec<ChangeRow>,
    pub end: Bucket,
    /// Every event a row names.
    pub events: Vec<ChangeEvent>,
    /// Every deal a row or bucket names.
    pub deals: Vec<ForecastDealRef>,
}
