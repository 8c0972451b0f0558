//! What can be asked of a queue item. Commands carry parsed values; `decide` checks the
//! rules that depend on the item's state.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::aps::ApsOverrides;
use super::snooze::SnoozePreset;
use super::types::{ActionType, Draft, QueueDomain, Source, Target};
use crate::kernel::{Actor, Text, UserName};

#[derive(Clone, Debug, PartialEq)]
pub enum QueueItemCommand {
    Propose(Box<ProposeQueueItem>),
    Edit(EditQueueItem),
    Approve(ApproveQueueItem),
    Reject(RejectQueueItem),
    Snooze(SnoozeQueueItem),
    /// Bring a snoozed item back once its time has come (a scheduler's command).
    EndSnooze {
        at: DateTime<Utc>,
    },
    /// Expire an open item once its `expires_at` has passed (a scheduler's command).
    Expire {
        at: DateTime<Utc>,
    },
    /// End an open follow-up because its contact replied, booked a meeting, bounced or
    /// unsubscribed (as a HubSpot sequence unenrolls): expired, with the reason.
    Unenroll {
        reason: Text,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProposeQueueItem {
    pub id: Uuid,
    pub title: Option<Text>,
    pub action_type: ActionType,
    pub domain: Option<QueueDomain>,
    pub target: Target,
    pub payload: Value,
    pub owner: UserName,
    pub due_by: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Where the move came from. A person (`by` a user) proposes only `Manual` moves; an
    /// `AgentRun` move is proposed by an agent.
    pub source: Source,
    pub aps: ApsOverrides,
    pub rationale: Option<Text>,
    /// How the payload's draft was written, when software wrote it.
    pub draft: Option<Draft>,
    /// Demo data (`caseyos demo seed`), marked as such wherever the move is shown.
    pub demo: bool,
    /// What outcomes taught about this move's contact, company and type
    /// (`commands::outcomes::learned_for`): added to its APS with the reasons.
    #[cfg(not(target_arch = "wasm32"))]
    pub learned: Vec<super::aps::Learned>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// Changes to an open item. `None` leaves a field alone; `Some(None)` clears it. Text comes
/// parsed: a title at most `MAX_TITLE_CHARS`, reasons, notes and rationales at most
/// `MAX_TEXT_CHARS` characters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditQueueItem {
    pub title: Option<Text>,
    pub payload: Option<Value>,
    pub due_by: Option<Option<DateTime<Utc>>>,
    pub owner: Option<UserName>,
    pub rationale: Option<Option<Text>>,
    pub aps: Option<ApsOverrides>,
    pub by: Option<Actor>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApproveQueueItem {
    pub note: Option<Text>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RejectQueueItem {
    pub reason: Text,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SnoozeQueueItem {
    pub until: DateTime<Utc>,
    pub preset: Option<SnoozePreset>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}
