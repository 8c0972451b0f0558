//! The queue item aggregate: a proposed move awaiting a decision.
//!
//! `proposed → edited* → approved | rejected | snoozed ⇄ pending | expired`.
//! [`QueueItem::decide`] turns a command into events or a rejection; [`QueueItem::apply`]
//! folds an event into state. Both are pure: time and actor come in with the command.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::snooze::SnoozePreset;
use super::types::{
    derive_title, parse_owner, ActionType, Actor, QueueDomain, QueueStatus, Source, Target,
};
use crate::aps::{Aps, ApsOverrides};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// Longest rejection reason, approval note or rationale, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Largest payload, in bytes of compact JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// The state of one queue item, as the API shows it and as audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueueItemView {
    pub id: Uuid,
    pub title: String,
    pub action_type: ActionType,
    pub domain: QueueDomain,
    pub status: QueueStatus,
    pub owner: String,
    pub target: Target,
    /// What the move carries out, e.g. a draft email's `to`, `subject` and `body`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub payload: Value,
    pub due_by: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub aps: Aps,
    /// Why the proposer thinks this move matters.
    pub rationale: Option<String>,
    pub source: Source,
    pub decision: Option<Decision>,
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: Actor,
    pub updated_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}

/// How a move left the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Decision {
    pub outcome: QueueStatus,
    pub by: Actor,
    pub at: DateTime<Utc>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// A note left with an approval.
    pub note: Option<String>,
}

/// The aggregate: `None` until proposed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    pub item: Option<QueueItemView>,
}

// ---------------------------------------------------------------------------------------
// Commands

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
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProposeQueueItem {
    pub id: Uuid,
    pub title: Option<String>,
    pub action_type: ActionType,
    pub domain: Option<QueueDomain>,
    pub target: Target,
    pub payload: Value,
    pub owner: String,
    pub due_by: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub source: Source,
    pub aps: ApsOverrides,
    pub rationale: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// Changes to an open item. `None` leaves a field alone; `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditQueueItem {
    pub title: Option<String>,
    pub payload: Option<Value>,
    pub due_by: Option<Option<DateTime<Utc>>>,
    pub owner: Option<String>,
    pub rationale: Option<Option<String>>,
    pub aps: Option<ApsOverrides>,
    pub by: Option<Actor>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApproveQueueItem {
    pub note: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RejectQueueItem {
    pub reason: String,
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

// ---------------------------------------------------------------------------------------
// Events (a public contract: never change a meaning; add a version and an upcaster)

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

/// A stored event that cannot be read by this version of CaseyOS.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown queue item event version {event_type} v{version}")]
    UnknownVersion { event_type: String, version: String },
    #[error("malformed {event_type} payload: {source}")]
    Malformed {
        event_type: String,
        source: serde_json::Error,
    },
}

impl QueueItemEvent {
    /// Reads a stored event, upcasting older versions when there are any.
    pub fn decode(event_type: &str, version: &str, payload: Value) -> Result<Self, DecodeError> {
        if version != QUEUE_EVENT_VERSION {
            return Err(DecodeError::UnknownVersion {
                event_type: event_type.to_string(),
                version: version.to_string(),
            });
        }
        serde_json::from_value(payload).map_err(|source| DecodeError::Malformed {
            event_type: event_type.to_string(),
            source,
        })
    }

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
    pub proposed_by: Actor,
    pub proposed_at: DateTime<Utc>,
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
}

/// Deserializes a field that is present (possibly `null`) as `Some(..)`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

// ---------------------------------------------------------------------------------------
// Rejections

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("queue item not found")]
    NotFound,
    #[error("a queue item with this id already exists")]
    AlreadyProposed,
    #[error("this move was already approved")]
    AlreadyApproved,
    #[error("this move was already rejected")]
    AlreadyRejected,
    #[error("this move expired before it was decided")]
    Expired,
    #[error("the snooze time must be in the future")]
    SnoozeInPast,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl QueueError {
    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            QueueError::NotFound => "queue.not_found",
            QueueError::AlreadyProposed => "queue.already_exists",
            QueueError::AlreadyApproved => "queue.already_approved",
            QueueError::AlreadyRejected => "queue.already_rejected",
            QueueError::Expired => "queue.expired",
            QueueError::SnoozeInPast => "queue.snooze_in_past",
            QueueError::Invalid { .. } => "request.validation",
        }
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        QueueError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The rejection for a command that needs an open item, given the item's status.
    fn closed(status: QueueStatus) -> Self {
        match status {
            QueueStatus::Approved => QueueError::AlreadyApproved,
            QueueStatus::Rejected => QueueError::AlreadyRejected,
            _ => QueueError::Expired,
        }
    }
}

fn clean_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, QueueError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(QueueError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(QueueError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

fn clean_optional_text(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, QueueError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => clean_text(field, text, MAX_TEXT_CHARS).map(Some),
    }
}

fn check_payload(payload: &Value) -> Result<(), QueueError> {
    let Value::Object(fields) = payload else {
        return Err(QueueError::invalid("payload", "must be a JSON object"));
    };
    if serde_json::to_vec(payload).map_or(0, |b| b.len()) > MAX_PAYLOAD_BYTES {
        return Err(QueueError::invalid(
            "payload",
            format!("must be at most {MAX_PAYLOAD_BYTES} bytes of JSON"),
        ));
    }
    if let Some(to) = fields.get("to") {
        let valid = to
            .as_str()
            .is_some_and(|to| super::types::EmailAddress::parse(to).is_ok());
        if !valid {
            return Err(QueueError::invalid("payload.to", "is not an email address"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Decide and apply

impl QueueItem {
    /// The events a command produces against the current state, or why it is refused.
    pub fn decide(&self, command: QueueItemCommand) -> Result<Vec<QueueItemEvent>, QueueError> {
        let cmd = match command {
            QueueItemCommand::Propose(propose) => {
                if self.item.is_some() {
                    return Err(QueueError::AlreadyProposed);
                }
                return Self::propose(*propose).map(|e| vec![e]);
            }
            other => other,
        };
        let Some(item) = &self.item else {
            return Err(QueueError::NotFound);
        };
        match cmd {
            QueueItemCommand::Propose(_) => unreachable!("handled above"),
            QueueItemCommand::Edit(edit) => {
                if !item.status.is_open() {
                    return Err(QueueError::closed(item.status));
                }
                Ok(Self::edit(item, edit)?.into_iter().collect())
            }
            QueueItemCommand::Approve(approve) => {
                if !item.status.is_open() {
                    return Err(QueueError::closed(item.status));
                }
                Ok(vec![QueueItemEvent::QueueItemApproved(QueueItemApproved {
                    approved_by: approve.by,
                    approved_at: approve.at,
                    note: clean_optional_text("note", approve.note.as_deref())?,
                })])
            }
            QueueItemCommand::Reject(reject) => {
                if !item.status.is_open() {
                    return Err(QueueError::closed(item.status));
                }
                Ok(vec![QueueItemEvent::QueueItemRejected(QueueItemRejected {
                    rejected_by: reject.by,
                    rejected_at: reject.at,
                    reason: clean_text("reason", &reject.reason, MAX_TEXT_CHARS)?,
                })])
            }
            QueueItemCommand::Snooze(snooze) => {
                if !item.status.is_open() {
                    return Err(QueueError::closed(item.status));
                }
                if snooze.until <= snooze.at {
                    return Err(QueueError::SnoozeInPast);
                }
                Ok(vec![QueueItemEvent::QueueItemSnoozed(QueueItemSnoozed {
                    until: snooze.until,
                    preset: snooze.preset,
                    snoozed_by: snooze.by,
                    snoozed_at: snooze.at,
                })])
            }
            // Scheduler commands are no-ops when there is nothing (left) to do, so any
            // number of instances may issue them, any number of times.
            QueueItemCommand::EndSnooze { at } => {
                let due = item.status == QueueStatus::Snoozed
                    && item.snoozed_until.is_some_and(|until| until <= at);
                Ok(if due {
                    vec![QueueItemEvent::QueueItemSnoozeEnded(QueueItemSnoozeEnded {
                        ended_at: at,
                    })]
                } else {
                    vec![]
                })
            }
            QueueItemCommand::Expire { at } => {
                let due =
                    item.status.is_open() && item.expires_at.is_some_and(|expiry| expiry <= at);
                Ok(if due {
                    vec![QueueItemEvent::QueueItemExpired(QueueItemExpired {
                        expired_at: at,
                    })]
                } else {
                    vec![]
                })
            }
        }
    }

    fn propose(cmd: ProposeQueueItem) -> Result<QueueItemEvent, QueueError> {
        let (title, title_derived) = match cmd.title.as_deref().map(str::trim) {
            Some(title) if !title.is_empty() => {
                (clean_text("title", title, MAX_TITLE_CHARS)?, false)
            }
            _ => (derive_title(cmd.action_type, &cmd.target), true),
        };
        check_payload(&cmd.payload)?;
        let owner = parse_owner(&cmd.owner).map_err(|m| QueueError::invalid("owner", m))?;
        if let Some(expires_at) = cmd.expires_at {
            if expires_at <= cmd.at {
                return Err(QueueError::invalid("expires_at", "must be in the future"));
            }
        }
        Ok(QueueItemEvent::QueueItemProposed(Box::new(
            QueueItemProposed {
                item_id: cmd.id,
                title,
                title_derived,
                action_type: cmd.action_type,
                domain: cmd.domain.unwrap_or(cmd.action_type.default_domain()),
                target: cmd.target,
                payload: cmd.payload,
                owner,
                due_by: cmd.due_by,
                expires_at: cmd.expires_at,
                source: cmd.source,
                aps: Aps::for_action(cmd.action_type, &cmd.aps),
                rationale: clean_optional_text("rationale", cmd.rationale.as_deref())?,
                proposed_by: cmd.by,
                proposed_at: cmd.at,
            },
        )))
    }

    /// An edit event holding only what really changes; `None` when nothing does.
    fn edit(
        item: &QueueItemView,
        cmd: EditQueueItem,
    ) -> Result<Option<QueueItemEvent>, QueueError> {
        let title = match cmd.title {
            Some(title) => Some(clean_text("title", &title, MAX_TITLE_CHARS)?),
            None => None,
        }
        .filter(|t| *t != item.title);
        if let Some(payload) = &cmd.payload {
            check_payload(payload)?;
        }
        let payload = cmd.payload.filter(|p| *p != item.payload);
        let due_by = cmd.due_by.filter(|d| *d != item.due_by);
        let owner = match cmd.owner {
            Some(owner) => Some(parse_owner(&owner).map_err(|m| QueueError::invalid("owner", m))?),
            None => None,
        }
        .filter(|o| *o != item.owner);
        let rationale = match cmd.rationale {
            Some(r) => Some(clean_optional_text("rationale", r.as_deref())?),
            None => None,
        }
        .filter(|r| *r != item.rationale);
        let aps = cmd
            .aps
            .map(|overrides| Aps::compute(item.aps.inputs.with(&overrides)))
            .filter(|a| *a != item.aps);
        if title.is_none()
            && payload.is_none()
            && due_by.is_none()
            && owner.is_none()
            && rationale.is_none()
            && aps.is_none()
        {
            return Ok(None);
        }
        let (Some(by), Some(at)) = (cmd.by, cmd.at) else {
            return Err(QueueError::invalid("edit", "needs an actor and a time"));
        };
        Ok(Some(QueueItemEvent::QueueItemEdited(QueueItemEdited {
            title,
            payload,
            due_by,
            owner,
            rationale,
            aps,
            edited_by: by,
            edited_at: at,
        })))
    }

    /// Folds one event into the state. Never fails: events are facts.
    pub fn apply(&mut self, event: QueueItemEvent) {
        if let QueueItemEvent::QueueItemProposed(e) = event {
            let e = *e;
            self.item = Some(QueueItemView {
                id: e.item_id,
                title: e.title,
                action_type: e.action_type,
                domain: e.domain,
                status: QueueStatus::Pending,
                owner: e.owner,
                target: e.target,
                payload: e.payload,
                due_by: e.due_by,
                expires_at: e.expires_at,
                snoozed_until: None,
                aps: e.aps,
                rationale: e.rationale,
                source: e.source,
                decision: None,
                proposed_at: e.proposed_at,
                proposed_by: e.proposed_by,
                updated_at: e.proposed_at,
                version: 1,
            });
            return;
        }
        let Some(item) = self.item.as_mut() else {
            return;
        };
        item.version += 1;
        match event {
            QueueItemEvent::QueueItemProposed(_) => {}
            QueueItemEvent::QueueItemEdited(e) => {
                if let Some(title) = e.title {
                    item.title = title;
                }
                if let Some(payload) = e.payload {
                    item.payload = payload;
                }
                if let Some(due_by) = e.due_by {
                    item.due_by = due_by;
                }
                if let Some(owner) = e.owner {
                    item.owner = owner;
                }
                if let Some(rationale) = e.rationale {
                    item.rationale = rationale;
                }
                if let Some(aps) = e.aps {
                    item.aps = aps;
                }
                item.updated_at = e.edited_at;
            }
            QueueItemEvent::QueueItemApproved(e) => {
                item.status = QueueStatus::Approved;
                item.snoozed_until = None;
                item.decision = Some(Decision {
                    outcome: QueueStatus::Approved,
                    by: e.approved_by,
                    at: e.approved_at,
                    reason: None,
                    note: e.note,
                });
                item.updated_at = e.approved_at;
            }
            QueueItemEvent::QueueItemRejected(e) => {
                item.status = QueueStatus::Rejected;
                item.snoozed_until = None;
                item.decision = Some(Decision {
                    outcome: QueueStatus::Rejected,
                    by: e.rejected_by,
                    at: e.rejected_at,
                    reason: Some(e.reason),
                    note: None,
                });
                item.updated_at = e.rejected_at;
            }
            QueueItemEvent::QueueItemSnoozed(e) => {
                item.status = QueueStatus::Snoozed;
                item.snoozed_until = Some(e.until);
                item.updated_at = e.snoozed_at;
            }
            QueueItemEvent::QueueItemSnoozeEnded(e) => {
                item.status = QueueStatus::Pending;
                item.snoozed_until = None;
                item.updated_at = e.ended_at;
            }
            QueueItemEvent::QueueItemExpired(e) => {
                item.status = QueueStatus::Expired;
                item.snoozed_until = None;
                item.decision = Some(Decision {
                    outcome: QueueStatus::Expired,
                    by: Actor::system("expiry"),
                    at: e.expired_at,
                    reason: None,
                    note: None,
                });
                item.updated_at = e.expired_at;
            }
        }
    }
}

#[cfg(feature = "server")]
mod server {
    use cqrs_es::event_sink::EventSink;
    use cqrs_es::{Aggregate, DomainEvent};

    use super::*;

    impl DomainEvent for QueueItemEvent {
        fn event_type(&self) -> String {
            self.name().to_string()
        }

        fn event_version(&self) -> String {
            QUEUE_EVENT_VERSION.to_string()
        }
    }

    impl Aggregate for QueueItem {
        const TYPE: &'static str = "queue_item";
        type Command = QueueItemCommand;
        type Event = QueueItemEvent;
        type Error = QueueError;
        type Services = ();

        async fn handle(
            &mut self,
            command: Self::Command,
            _services: &Self::Services,
            sink: &EventSink<Self>,
        ) -> Result<(), Self::Error> {
            for event in self.decide(command)? {
                sink.write(event, self).await;
            }
            Ok(())
        }

        fn apply(&mut self, event: Self::Event) {
            QueueItem::apply(self, event);
        }
    }
}
