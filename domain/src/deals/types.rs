//! A deal's value types: where it came from, where it stands, the activities logged on it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::pipelines::StageKind;

/// Where a deal stands: open until won or lost; a closed deal changes again only once
/// reopened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    Open,
    Won,
    Lost,
}

impl DealStatus {
    pub const ALL: [DealStatus; 3] = [DealStatus::Open, DealStatus::Won, DealStatus::Lost];

    /// The status named `raw` (`open`, `won`, `lost`).
    pub fn parse(raw: &str) -> Option<Self> {
        DealStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            DealStatus::Open => "open",
            DealStatus::Won => "won",
            DealStatus::Lost => "lost",
        }
    }

    /// The status a deal in a stage of this kind has.
    pub const fn of(kind: StageKind) -> Self {
        match kind {
            StageKind::Open => DealStatus::Open,
            StageKind::Won => DealStatus::Won,
            StageKind::Lost => DealStatus::Lost,
        }
    }

    pub const fn is_open(self) -> bool {
        matches!(self, DealStatus::Open)
    }
}

/// Where a deal came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DealSource {
    Manual,
    Import,
    Hubspot,
}

/// What kind of activity was logged on a deal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Email,
    Call,
    Meeting,
    Note,
}

impl ActivityKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Email => "email",
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Note => "note",
        }
    }
}

/// One activity as the health score and risk flags need it: its kind and when it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivityStamp {
    pub kind: ActivityKind,
    pub happened_at: DateTime<Utc>,
}

/// How many activities of each kind were logged on a deal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivityCounts {
    pub email: u32,
    pub call: u32,
    pub meeting: u32,
    pub note: u32,
}

impl ActivityCounts {
    pub fn add(&mut self, kind: ActivityKind) {
        let count = match kind {
            ActivityKind::Email => &mut self.email,
            ActivityKind::Call => &mut self.call,
            ActivityKind::Meeting => &mut self.meeting,
            ActivityKind::Note => &mut self.note,
        };
        *count = count.saturating_add(1);
    }

    pub const fn total(&self) -> u32 {
        self.email
            .saturating_add(self.call)
            .saturating_add(self.meeting)
            .saturating_add(self.note)
    }
}
