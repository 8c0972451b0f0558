//! Queue item events: a public contract. Never change a meaning; add a version and an
//! upcaster.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::aps::Aps;
use super::snooze::SnoozePreset;
use super::types::{ActionType, Draft, QueueDomain, Source, Target};
use crate::kernel::{present, Actor};

/// The version every queue item event is written with.
pub const QUEUE_EVENT_VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QueueItemEvent {
    QueueItemProposed(Box<QueueItemProposed>),
    QueueItemEdited(QueueItemEdited),
    QueueItemApproved(QueueItemApproved),
    QueueItemRejected(QueueItemRejected),
    QueueItemSnoozed(QueueItemSnoozed),
    QueueItemSnoozeEnded(QueueItemSnoozeEnded),
    QueueItemExpired(QueueItemExpired),
}

impl QueueItemEvent {
    /// The stored type name.
    pub const fn name(&self) -> &'static str {
        match self {
            QueueItemEvent::QueueItemProposed(_) => "QueueItemProposed",
            QueueItemEvent::QueueItemEdited(_) => "QueueItemEdited",
            QueueItemEvent::QueueItemApproved(_) => "QueueItemApproved",
            QueueItemEvent::QueueItemRejected(_) => "QueueItemRejected",
            QueueItemEvent::QueueItemSnoozed(_) => "QueueItemSnoozed",
            QueueItemEvent::QueueItemSnoozeEnded(_) => "QueueItemSnoozeEnded",
            QueueItemEvent::QueueItemExpired(_) => "QueueItemExpired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemProposed {
    pub item_id: Uuid,
    pub title: String,
    /// True when the title was derived from the action type and target.
    pub title_derived: bool,
    pub action_type: ActionType,
    pub domain: QueueDomain,
    pub target: Target,
    pub payload: Value,
    pub owner: String,
    pub due_by: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub source: Source,
    pub aps: Aps,
    pub rationale: Option<String>,
    /// How the payload's draft was written; absent when a person wrote it, when there is
    /// none, and in events recorded before it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Draft>,
    /// Demo data; absent (false) in real moves and in events recorded before it was.
    #[serde(default, skip_serializing_if = "is_false")]
    pub demo: bool,
    pub proposed_by: Actor,
    pub proposed_at: DateTime<Utc>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Only the fields that changed are present; a present `null` clears the field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemEdited {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub due_by: Option<Option<DateTime<Utc>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub rationale: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aps: Option<Aps>,
    pub edited_by: Actor,
    pub edited_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemApproved {
    pub approved_by: Actor,
    pub approved_at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemRejected {
    pub rejected_by: Actor,
    pub rejected_at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemSnoozed {
    pub until: DateTime<Utc>,
    pub preset: Option<SnoozePreset>,
    pub snoozed_by: Actor,
    pub snoozed_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemSnoozeEnded {
    pub ended_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItemExpired {
    pub expired_at: DateTime<Utc>,
    /// Why, when it was not its expiry time: an unenrolment ("Dana replied").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who ended it, when not the expiry scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
}
