//! How long a deal has been in its stage, and how long a stage typically takes: what the
//! health score's "age in stage" factor and the "stalled in stage" flag share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::DealView;
use crate::kernel::CrmId;

/// Default typical days for a stage no entry names.
pub const DEFAULT_TYPICAL_STAGE_DAYS: u32 = 30;

/// Default typical days per stage of HubSpot's default pipeline. CaseyOS's own defaults
/// (no published benchmark): early stages move in two to three weeks, the decision takes
/// longest, a sent contract should come back within two weeks.
pub const DEFAULT_HUBSPOT_STAGE_DAYS: [(&str, u32); 5] = [
    ("appointmentscheduled", 14),
    ("qualifiedtobuy", 21),
    ("presentationscheduled", 21),
    ("decisionmakerboughtin", 30),
    ("contractsent", 14),
];

/// Typical days in a stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StageDays {
    pub stage: CrmId,
    pub days: u32,
}

/// How long each stage typically takes, in whole days; stages not named take `otherwise`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TypicalStageDays {
    pub stages: Vec<StageDays>,
    pub otherwise: u32,
}

/// Defaults: [`DEFAULT_HUBSPOT_STAGE_DAYS`], otherwise [`DEFAULT_TYPICAL_STAGE_DAYS`].
impl Default for TypicalStageDays {
    fn default() -> Self {
        TypicalStageDays {
            stages: DEFAULT_HUBSPOT_STAGE_DAYS
                .iter()
                .map(|(stage, days)| StageDays {
                    stage: CrmId::parse(stage).expect("a valid stage id"),
                    days: *days,
                })
                .collect(),
            otherwise: DEFAULT_TYPICAL_STAGE_DAYS,
        }
    }
}

/// A stage's typical days, and whether they were named for it or are the `otherwise` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypicalDays {
    pub days: u32,
    pub named: bool,
}

impl TypicalStageDays {
    pub fn of(&self, stage: &CrmId) -> TypicalDays {
        match self.stages.iter().find(|s| &s.stage == stage) {
            Some(s) => TypicalDays {
                days: s.days,
                named: true,
            },
            None => TypicalDays {
                days: self.otherwise,
                named: false,
            },
        }
    }
}

/// Whole days from `from` to `now`, rounded down; 0 when `from` is later than `now`.
pub fn whole_days(from: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    u32::try_from((now - from).num_days().max(0)).unwrap_or(u32::MAX)
}

/// Whole days the deal has been in its current stage at `now`.
pub fn days_in_stage(view: &DealView, now: DateTime<Utc>) -> u32 {
    whole_days(view.stage_entered_at, now)
}

/// The event that put the deal in its current stage: its creation when it has not moved.
pub fn stage_entry_event(view: &DealView) -> &'static str {
    if view.stage_entered_at == view.created_at {
        "DealCreated"
    } else {
        "DealStageChanged"
    }
}
