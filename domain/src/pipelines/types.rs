//! A pipeline: ordered stages, each with an integer probability and a kind. The one table
//! of stage probabilities CaseyOS has; deals, the forecast and the board read it from here.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::error::PipelineError;
use crate::kernel::{CrmId, Text};

/// Longest pipeline or stage label, in characters.
pub const MAX_LABEL_CHARS: usize = 256;
/// Most stages in one pipeline (HubSpot's limit).
pub const MAX_STAGES: usize = 100;
/// A probability's scale: whole percent, 0–100.
pub const MAX_PROBABILITY: u8 = 100;

/// Whether a deal in a stage is still being worked, won or lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }

    pub const fn is_closed(self) -> bool {
        !matches!(self, StageKind::Open)
    }
}

/// One stage of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Stage {
    /// The stage's id (HubSpot's internal name: `appointmentscheduled`).
    pub id: CrmId,
    pub label: String,
    /// Whole percent, 0–100: a won stage is 100, a lost one 0.
    #[serde(deserialize_with = "crate::kernel::whole")]
    pub probability: u8,
    pub kind: StageKind,
}

impl Stage {
    pub fn new(id: CrmId, label: Text, probability: u8, kind: StageKind) -> Self {
        Stage {
            id,
            label: label.into_string(),
            probability,
            kind,
        }
    }
}

/// Which way a deal moved along a pipeline: judged by the stages' order, never by names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StageDirection {
    Advanced,
    Regressed,
}

/// A pipeline: an id, a label and its stages in order. Built only through
/// [`Pipeline::new`] (JSON too is read through it), so a pipeline is always valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(try_from = "PipelineParts")]
pub struct Pipeline {
    id: CrmId,
    label: String,
    stages: Vec<Stage>,
}

/// A pipeline as read from JSON, before [`Pipeline::new`]'s checks.
#[derive(Deserialize)]
struct PipelineParts {
    id: CrmId,
    label: String,
    stages: Vec<Stage>,
}

impl TryFrom<PipelineParts> for Pipeline {
    type Error = String;

    fn try_from(parts: PipelineParts) -> Result<Self, String> {
        let label = Text::parse(&parts.label, MAX_LABEL_CHARS).map_err(|e| format!("label {e}"))?;
        Pipeline::new(parts.id, label, parts.stages).map_err(|e| e.to_string())
    }
}

impl Pipeline {
    /// The id of the pipeline a first start defines.
    pub const DEFAULT_ID: &'static str = "default";

    /// A valid pipeline: 1–[`MAX_STAGES`] stages with distinct ids, probabilities 0–100,
    /// at least one open, one won and one lost stage, won stages at 100 and lost ones at 0.
    pub fn new(id: CrmId, label: Text, stages: Vec<Stage>) -> Result<Self, PipelineError> {
        let invalid = |message: String| Err(PipelineError::invalid("stages", message));
        if stages.len() > MAX_STAGES {
            return invalid(format!("may hold at most {MAX_STAGES} stages"));
        }
        for (i, stage) in stages.iter().enumerate() {
            let id = stage.id.as_str();
            if stages[..i].iter().any(|s| s.id == stage.id) {
                return invalid(format!("has the stage id {id} more than once"));
            }
            if stage.label.trim().is_empty() || stage.label.chars().count() > MAX_LABEL_CHARS {
                return invalid(format!(
                    "{id}: a label must be 1–{MAX_LABEL_CHARS} characters"
                ));
            }
            if stage.probability > MAX_PROBABILITY {
                return invalid(format!("{id}: a probability must be 0–{MAX_PROBABILITY}"));
            }
            match stage.kind {
                StageKind::Won if stage.probability != MAX_PROBABILITY => {
                    return invalid(format!("{id}: a won stage has probability 100"))
                }
                StageKind::Lost if stage.probability != 0 => {
                    return invalid(format!("{id}: a lost stage has probability 0"))
                }
                _ => {}
            }
        }
        for kind in [StageKind::Open, StageKind::Won, StageKind::Lost] {
            if !stages.iter().any(|s| s.kind == kind) {
                return invalid(format!("needs at least one {} stage", kind.as_str()));
            }
        }
        Ok(Pipeline {
            id,
            label: label.into_string(),
            stages,
        })
    }

    /// The pipeline a first start defines until HubSpot or an admin says otherwise:
    /// HubSpot's default deal stages and probabilities.
    pub fn default_hubspot() -> Self {
        let stage = |id: &str, label: &str, probability, kind| Stage {
            id: CrmId::parse(id).expect("a valid stage id"),
            label: label.to_string(),
            probability,
            kind,
        };
        let stages = vec![
            stage(
                "appointmentscheduled",
                "Appointment scheduled",
                20,
                StageKind::Open,
            ),
            stage("qualifiedtobuy", "Qualified to buy", 40, StageKind::Open),
            stage(
                "presentationscheduled",
                "Presentation scheduled",
                60,
                StageKind::Open,
            ),
            stage(
                "decisionmakerboughtin",
                "Decision maker bought-in",
                80,
                StageKind::Open,
            ),
            stage("contractsent", "Contract sent", 90, StageKind::Open),
            stage("closedwon", "Closed won", 100, StageKind::Won),
            stage("closedlost", "Closed lost", 0, StageKind::Lost),
        ];
        Pipeline {
            id: CrmId::parse(Self::DEFAULT_ID).expect("a valid pipeline id"),
            label: "Sales pipeline".to_string(),
            stages,
        }
    }

    pub fn id(&self) -> &CrmId {
        &self.id
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// The stages in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    pub fn stage(&self, id: &CrmId) -> Option<&Stage> {
        self.stages.iter().find(|s| &s.id == id)
    }

    /// Where a stage stands in the order (0 first).
    pub fn position(&self, id: &CrmId) -> Option<usize> {
        self.stages.iter().position(|s| &s.id == id)
    }

    /// The first won stage (where "won" moves a deal).
    pub fn won_stage(&self) -> &Stage {
        self.first_of(StageKind::Won)
    }

    /// The first lost stage (where "lost" moves a deal).
    pub fn lost_stage(&self) -> &Stage {
        self.first_of(StageKind::Lost)
    }

    /// The first open stage.
    pub fn first_open_stage(&self) -> &Stage {
        self.first_of(StageKind::Open)
    }

    fn first_of(&self, kind: StageKind) -> &Stage {
        self.stages
            .iter()
            .find(|s| s.kind == kind)
            // `new` and `default_hubspot` guarantee one of each kind; a stored pipeline
            // was one of those.
            .unwrap_or(&self.stages[0])
    }

    /// How `from` compares with `to` in this pipeline's order; `None` when either is not
    /// one of its stages.
    pub fn compare(&self, from: &CrmId, to: &CrmId) -> Option<Ordering> {
        Some(self.position(from)?.cmp(&self.position(to)?))
    }

    /// Whether a move from `from` to `to` advanced or regressed the deal, by the stages'
    /// order; `None` for no move, or when either stage is not in this pipeline.
    pub fn direction(&self, from: &CrmId, to: &CrmId) -> Option<StageDirection> {
        match self.compare(from, to)? {
            Ordering::Less => Some(StageDirection::Advanced),
            Ordering::Greater => Some(StageDirection::Regressed),
            Ordering::Equal => None,
        }
    }
}
