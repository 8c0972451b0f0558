//! Deal events: a public contract. Never change a meaning; add a version and an upcaster.
//! Each carries what projections need (a stage change carries both stages with their
//! probabilities and kinds, and the forecast category after it), so no read model looks
//! anything up.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::{ActivityKind, DealSource};
use crate::kernel::{Actor, CrmId, Money};
use crate::pipelines::{ForecastCategory, ForecastChoice, Stage, StageDirection};

/// The version every deal event is written with.
pub const DEAL_EVENT_VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DealEvent {
    DealCreated(Box<DealCreated>),
    DealStageChanged(Box<DealStageChanged>),
    DealAmountChanged(DealAmountChanged),
    DealCloseDateChanged(DealCloseDateChanged),
    DealOwnerChanged(DealOwnerChanged),
    DealContactsAssociated(DealContactsAssociated),
    DealActivityLogged(DealActivityLogged),
    DealNextStepSet(DealNextStepSet),
    DealForecastCategorySet(DealForecastCategorySet),
    DealWon(DealWon),
    DealLost(DealLost),
    DealReopened(DealReopened),
}

impl DealEvent {
    /// The stored type name.
    pub const fn name(&self) -> &'static str {
        match self {
            DealEvent::DealCreated(_) => "DealCreated",
            DealEvent::DealStageChanged(_) => "DealStageChanged",
            DealEvent::DealAmountChanged(_) => "DealAmountChanged",
            DealEvent::DealCloseDateChanged(_) => "DealCloseDateChanged",
            DealEvent::DealOwnerChanged(_) => "DealOwnerChanged",
            DealEvent::DealContactsAssociated(_) => "DealContactsAssociated",
            DealEvent::DealActivityLogged(_) => "DealActivityLogged",
            DealEvent::DealNextStepSet(_) => "DealNextStepSet",
            DealEvent::DealForecastCategorySet(_) => "DealForecastCategorySet",
            DealEvent::DealWon(_) => "DealWon",
            DealEvent::DealLost(_) => "DealLost",
            DealEvent::DealReopened(_) => "DealReopened",
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealCreated {
    pub deal_id: Uuid,
    pub name: String,
    pub pipeline: CrmId,
    /// The (open) stage it starts in, as the pipeline defined it then.
    pub stage: Stage,
    pub amount: Option<Money>,
    pub close_date: Option<NaiveDate>,
    pub owner: String,
    /// Its forecast category (`auto`: derived from the stage).
    pub forecast_category: ForecastCategory,
    pub source: DealSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm_id: Option<CrmId>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub demo: bool,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// The deal moved from one stage to another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealStageChanged {
    pub from: Stage,
    pub to: Stage,
    /// By the pipeline's stage order; absent when the old stage is no longer in the
    /// pipeline, so the order cannot say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<StageDirection>,
    /// The deal's forecast category after the move.
    pub forecast_category: ForecastCategory,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealAmountChanged {
    pub old: Option<Money>,
    pub new: Option<Money>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealCloseDateChanged {
    pub old: Option<NaiveDate>,
    pub new: Option<NaiveDate>,
    /// The close date moved later than it was (a push).
    pub pushed: bool,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealOwnerChanged {
    pub old: String,
    pub new: String,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// Contacts newly associated with the deal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealContactsAssociated {
    pub contacts: Vec<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealActivityLogged {
    pub activity_id: Uuid,
    pub kind: ActivityKind,
    /// When it happened; `at` is when it was recorded.
    pub happened_at: DateTime<Utc>,
    pub summary: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealNextStepSet {
    /// `None`: cleared.
    pub next_step: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealForecastCategorySet {
    pub choice: ForecastChoice,
    /// The deal's category before and after.
    pub old: ForecastCategory,
    pub new: ForecastCategory,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// The deal was won (its stage change to the won stage comes just before).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealWon {
    pub stage: CrmId,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// The deal was lost (its stage change to the lost stage comes just before).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealLost {
    pub stage: CrmId,
    pub reason: String,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A won or lost deal is open again (its stage change back to an open stage comes just
/// after).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealReopened {
    pub by: Actor,
    pub at: DateTime<Utc>,
}
