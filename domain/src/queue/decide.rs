//! Decide and apply: `proposed → edited* → approved | rejected | snoozed ⇄ pending |
//! expired`. Both are pure: time and actor come in with the command.

use serde_json::Value;

use super::aps::Aps;
use super::command::{EditQueueItem, ProposeQueueItem, QueueItemCommand};
use super::error::QueueError;
use super::event::*;
use super::state::{Decision, QueueItem, QueueItemView};
use super::types::{derive_title, QueueStatus, Source};
use crate::aggregate::{Aggregate, Ownership};
use crate::kernel::{Actor, ActorKind, EmailAddress, Text, UserName};

/// The system actor `caseyos demo seed` works as: its moves are demo data.
pub const DEMO_ACTOR: &str = "demo";

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// Longest rejection reason, approval note or rationale, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Largest payload, in bytes of compact JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

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
            .is_some_and(|to| EmailAddress::parse(to).is_ok());
        if !valid {
            return Err(QueueError::invalid("payload.to", "is not an email address"));
        }
    }
    Ok(())
}

/// A move's source must be true of its proposer: a person proposes manual moves only (an
/// agent run's or a signal's moves are proposed by the run or the signal's processor), and
/// only an agent proposes a move from an agent run.
fn check_source(source: &Source, by: &Actor) -> Result<(), QueueError> {
    match (by.kind, source) {
        (ActorKind::User, Source::Manual) => Ok(()),
        (ActorKind::User, _) => Err(QueueError::SourceNotAllowed(
            "must be manual: people propose manual moves only",
        )),
        (ActorKind::Agent, Source::AgentRun { .. }) => Ok(()),
        (_, Source::AgentRun { .. }) => Err(QueueError::SourceNotAllowed(
            "agent_run is for moves an agent run proposes",
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Decide and apply

impl Aggregate for QueueItem {
    const TYPE: &'static str = "queue_item";
    const EVENT_VERSION: &'static str = QUEUE_EVENT_VERSION;
    type Command = QueueItemCommand;
    type Event = QueueItemEvent;
    type Error = QueueError;
    type View = QueueItemView;

    fn command_name(command: &QueueItemCommand) -> &'static str {
        match command {
            QueueItemCommand::Propose(_) => "propose",
            QueueItemCommand::Edit(_) => "edit",
            QueueItemCommand::Approve(_) => "approve",
            QueueItemCommand::Reject(_) => "reject",
            QueueItemCommand::Snooze(_) => "snooze",
            QueueItemCommand::EndSnooze { .. } => "end_snooze",
            QueueItemCommand::Expire { .. } => "expire",
            QueueItemCommand::Unenroll { .. } => "unenroll",
        }
    }

    fn event_name(event: &QueueItemEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&QueueItemView> {
        self.item.as_ref()
    }

    fn into_view(self) -> Option<QueueItemView> {
        self.item
    }

    /// A move is its owner's; others learn it is someone else's.
    fn ownership(&self) -> Option<Ownership> {
        self.item.as_ref().map(|item| Ownership {
            owner: Actor::user(item.owner.clone()),
            disclosed: true,
        })
    }

    fn decide(&self, command: QueueItemCommand) -> Result<Vec<QueueItemEvent>, QueueError> {
        let cmd = match command {
            QueueItemCommand::Propose(propose) => {
                if self.item.is_some() {
                    return Err(QueueError::AlreadyProposed);
                }
                return proposed(*propose).map(|e| vec![e]);
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
                Ok(edited(item, edit)?.into_iter().collect())
            }
            QueueItemCommand::Approve(approve) => {
                if !item.status.is_open() {
                    return Err(QueueError::closed(item.status));
                }
                Ok(vec![QueueItemEvent::QueueItemApproved(QueueItemApproved {
                    approved_by: approve.by,
                    approved_at: approve.at,
                    note: approve.note.map(Text::into_string),
                })])
            }
            QueueItemCommand::Reject(reject) => {
                if !item.status.is_open() {
                    return Err(QueueError::closed(item.status));
                }
                Ok(vec![QueueItemEvent::QueueItemRejected(QueueItemRejected {
                    rejected_by: reject.by,
                    rejected_at: reject.at,
                    reason: reject.reason.into_string(),
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
                        reason: None,
                        by: None,
                    })]
                } else {
                    vec![]
                })
            }
            QueueItemCommand::Unenroll { reason, by, at } => Ok(if item.status.is_open() {
                vec![QueueItemEvent::QueueItemExpired(QueueItemExpired {
                    expired_at: at,
                    reason: Some(reason.into_string()),
                    by: Some(by),
                })]
            } else {
                vec![]
            }),
        }
    }

    /// Never fails: events are facts.
    fn apply(&mut self, event: QueueItemEvent) {
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
                draft: e.draft,
                // Moves the demo seeder proposed before the mark was recorded are demo data
                // all the same: it is the only proposer acting as `system:demo`.
                demo: e.demo || e.proposed_by == Actor::system(DEMO_ACTOR),
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
                    by: e.by.unwrap_or_else(|| Actor::system("expiry")),
                    at: e.expired_at,
                    reason: e.reason,
                    note: None,
                });
                item.updated_at = e.expired_at;
            }
        }
    }
}

fn proposed(cmd: ProposeQueueItem) -> Result<QueueItemEvent, QueueError> {
    let (title, title_derived) = match cmd.title {
        Some(title) => (title.into_string(), false),
        None => (derive_title(cmd.action_type, &cmd.target), true),
    };
    check_source(&cmd.source, &cmd.by)?;
    check_payload(&cmd.payload)?;
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
            owner: cmd.owner.into_string(),
            due_by: cmd.due_by,
            expires_at: cmd.expires_at,
            source: cmd.source,
            aps: {
                let aps = Aps::for_action(cmd.action_type, &cmd.aps);
                #[cfg(not(target_arch = "wasm32"))]
                let aps = aps.with_learned(cmd.learned);
                aps
            },
            rationale: cmd.rationale.map(Text::into_string),
            draft: cmd.draft,
            demo: cmd.demo,
            proposed_by: cmd.by,
            proposed_at: cmd.at,
        },
    )))
}

/// An edit event holding only what really changes; `None` when nothing does.
fn edited(item: &QueueItemView, cmd: EditQueueItem) -> Result<Option<QueueItemEvent>, QueueError> {
    let title = cmd
        .title
        .map(Text::into_string)
        .filter(|t| *t != item.title);
    if let Some(payload) = &cmd.payload {
        check_payload(payload)?;
    }
    let payload = cmd.payload.filter(|p| *p != item.payload);
    let due_by = cmd.due_by.filter(|d| *d != item.due_by);
    let owner = cmd
        .owner
        .map(UserName::into_string)
        .filter(|o| *o != item.owner);
    let rationale = cmd
        .rationale
        .map(|r| r.map(Text::into_string))
        .filter(|r| *r != item.rationale);
    let aps = cmd
        .aps
        .map(|overrides| item.aps.edited(item.action_type, &overrides))
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
