//! Forecast categories: the human confidence layer, kept apart from the stage. A deal's
//! category is chosen by a person (sticky when the stage changes) or derived from its
//! stage (`auto`). Pure, table-tested.

use serde::{Deserialize, Serialize};

use super::types::{Stage, StageKind};

/// An open stage at or above this probability (percent) is `commit` under `auto`.
/// HubSpot's default pipeline puts "decision maker bought-in" (80) and "contract sent" (90)
/// there; practitioners expect commit to convert at 90–95%.
pub const COMMIT_MIN_PROBABILITY: u8 = 80;
/// An open stage at or above this probability (and below commit) is `best_case` under
/// `auto`: "presentation scheduled" (60) in the default pipeline. Below it, `pipeline`.
pub const BEST_CASE_MIN_PROBABILITY: u8 = 50;

/// Where a deal counts in the forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ForecastCategory {
    Pipeline,
    BestCase,
    Commit,
    ClosedWon,
    Omitted,
}

impl ForecastCategory {
    pub const ALL: [ForecastCategory; 5] = [
        ForecastCategory::Pipeline,
        ForecastCategory::BestCase,
        ForecastCategory::Commit,
        ForecastCategory::ClosedWon,
        ForecastCategory::Omitted,
    ];

    /// The category named `raw` (`best_case`, …).
    pub fn parse(raw: &str) -> Option<Self> {
        ForecastCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == raw)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ForecastCategory::Pipeline => "pipeline",
            ForecastCategory::BestCase => "best_case",
            ForecastCategory::Commit => "commit",
            ForecastCategory::ClosedWon => "closed_won",
            ForecastCategory::Omitted => "omitted",
        }
    }
}

/// What a person may choose for an open deal: a category, or `auto` (follow the stage).
/// `closed_won` is never chosen: winning the deal puts it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ForecastChoice {
    Auto,
    Pipeline,
    BestCase,
    Commit,
    Omitted,
}

impl ForecastChoice {
    /// The explicit category chosen; `None` for `auto`.
    pub const fn explicit(self) -> Option<ForecastCategory> {
        match self {
            ForecastChoice::Auto => None,
            ForecastChoice::Pipeline => Some(ForecastCategory::Pipeline),
            ForecastChoice::BestCase => Some(ForecastCategory::BestCase),
            ForecastChoice::Commit => Some(ForecastCategory::Commit),
            ForecastChoice::Omitted => Some(ForecastCategory::Omitted),
        }
    }
}

/// The category `auto` gives a deal in a stage of this kind and probability: won →
/// closed won, lost → omitted, open by [`COMMIT_MIN_PROBABILITY`] and
/// [`BEST_CASE_MIN_PROBABILITY`].
pub const fn auto_category(kind: StageKind, probability: u8) -> ForecastCategory {
    match kind {
        StageKind::Won => ForecastCategory::ClosedWon,
        StageKind::Lost => ForecastCategory::Omitted,
        StageKind::Open if probability >= COMMIT_MIN_PROBABILITY => ForecastCategory::Commit,
        StageKind::Open if probability >= BEST_CASE_MIN_PROBABILITY => ForecastCategory::BestCase,
        StageKind::Open => ForecastCategory::Pipeline,
    }
}

/// [`auto_category`] of a stage.
pub const fn stage_category(stage: &Stage) -> ForecastCategory {
    auto_category(stage.kind, stage.probability)
}

/// A deal's category: a closed deal's comes from its stage whatever was chosen (won is
/// closed won, lost is omitted); an open deal's is the explicit choice when there is one,
/// else its stage's.
pub const fn effective_category(
    kind: StageKind,
    probability: u8,
    explicit: Option<ForecastCategory>,
) -> ForecastCategory {
    match (kind, explicit) {
        (StageKind::Open, Some(chosen)) => chosen,
        _ => auto_category(kind, probability),
    }
}
