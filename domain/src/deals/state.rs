//! The state of a deal: what the API shows and audit replay reconstructs.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::{ActivityCounts, ActivityStamp, DealSource, DealStatus};
use crate::kernel::{Actor, CrmId, Money};
use crate::pipelines::{ForecastCategory, ForecastChoice, Stage};

/// How many of the latest activities [`DealView::recent_activities`] keeps: enough for any
/// engagement window the health score uses (its points are full well below this many).
pub const RECENT_ACTIVITIES_KEPT: usize = 100;

/// The deal aggregate: `None` until created.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Deal {
    pub deal: Option<DealView>,
    /// Activities already logged (what makes logging one safe to retry).
    pub activity_ids: BTreeSet<Uuid>,
}

/// One deal, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DealView {
    pub id: Uuid,
    pub name: String,
    pub pipeline: CrmId,
    /// The current stage with its probability and kind, as the pipeline defined them when
    /// the deal entered it.
    pub stage: Stage,
    pub stage_entered_at: DateTime<Utc>,
    /// The open stage it was last in (where a reopen goes back to).
    pub last_open_stage: CrmId,
    pub status: DealStatus,
    pub amount: Option<Money>,
    /// The largest amount the deal has had (in the current amount's currency; a change of
    /// currency starts again). What "amount dropped" compares with.
    #[serde(default)]
    pub peak_amount: Option<Money>,
    pub close_date: Option<NaiveDate>,
    /// How many times the close date moved later.
    pub close_date_pushes: u32,
    pub owner: String,
    pub contacts: Vec<Uuid>,
    pub activity_counts: ActivityCounts,
    /// When the latest activity happened (not when it was recorded).
    pub last_activity_at: Option<DateTime<Utc>>,
    /// The latest activities by when they happened, newest first, at most
    /// [`RECENT_ACTIVITIES_KEPT`]: what engagement in a recent window is counted from.
    #[serde(default)]
    pub recent_activities: Vec<ActivityStamp>,
    pub next_step: Option<String>,
    pub next_step_set_at: Option<DateTime<Utc>>,
    /// The category the deal counts in: a person's choice while open, else its stage's.
    pub forecast_category: ForecastCategory,
    /// What was chosen (`auto` unless a person chose a category; kept through closing
    /// and reopening).
    pub forecast_choice: ForecastChoice,
    /// Whether `forecast_category` is a person's choice rather than derived.
    pub forecast_category_explicit: bool,
    pub lost_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub source: DealSource,
    pub crm_id: Option<CrmId>,
    /// Demo data from `caseyos demo seed`.
    #[serde(default)]
    pub demo: bool,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}

impl DealView {
    /// The stage's probability, whole percent.
    pub fn probability(&self) -> u8 {
        self.stage.probability
    }
}
